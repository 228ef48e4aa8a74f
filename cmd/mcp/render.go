package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/spf13/cobra"

	"mcp.dev/mcp/render"
	"mcp.dev/mcp/source"
)

func newRenderCmd() *cobra.Command {
	var (
		src      sourceOptions
		clusters clusterOptions
		warn     warningOptions
	)
	cmd := &cobra.Command{
		Use:   "render --cluster NAME",
		Short: "Print the rendered desired manifests of clusters",
		Long: `render prints the objects mcp would apply to a cluster as a YAML stream,
"---" between documents, each headed by a comment naming the file and
Placement it came from. Objects come in the order mcp applies them: by wave
(annotation mcp.dev/wave), then Namespaces, CustomResourceDefinitions, other
cluster-scoped objects, namespaced objects, then by kind, namespace and
name. When any object has a wave other than 0, each object's wave is
printed too ("# wave: N"). It needs no cluster access.

--cluster may be repeated: the clusters follow one another in the order
given, the first document of each headed by a "# Cluster: NAME" comment.`,
		Example: `  mcp render --dir . --cluster aws-eu-prod
  mcp render --dir . --cluster aws-eu-prod --cluster gcp-us-prod`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			clusters.offline = true
			if len(clusters.clusters) == 0 {
				return errors.New("render needs a --cluster NAME (repeatable)")
			}
			fleet, err := renderFleet(cmd.Context(), &src, &clusters)
			if err != nil {
				return err
			}
			warnErr := warn.report(cmd.ErrOrStderr(), fleet.Warnings)
			var (
				errs    []error
				done    []string
				written bool
			)
			for _, name := range clusters.clusters {
				if slices.Contains(done, name) {
					continue
				}
				done = append(done, name)
				c, ok := fleet.Cluster(name)
				if !ok {
					errs = append(errs, fmt.Errorf("cluster %s: not rendered", name))
					continue
				}
				if c.Err != nil {
					errs = append(errs, c.Err)
					continue
				}
				for _, o := range c.Objects {
					if o.Sealed {
						fmt.Fprintf(cmd.ErrOrStderr(), "note: %s: not decrypted (no age key in <credentials-dir>/sops/): its Secret values are ciphertexts\n", o.Source())
					}
				}
				out, err := render.Marshal(render.ApplyOrder(c.Objects))
				if err != nil {
					return err
				}
				if len(clusters.clusters) > 1 {
					head := "# Cluster: " + name + "\n"
					if written {
						head = "---\n" + head
					}
					out = append([]byte(head), out...)
				}
				written = true
				if _, err := cmd.OutOrStdout().Write(out); err != nil {
					return err
				}
			}
			return errors.Join(append(errs, warnErr)...)
		},
	}
	src.addFlags(cmd.Flags())
	clusters.addOfflineFlags(cmd.Flags())
	clusters.addChartFlags(cmd.Flags())
	cmd.Flags().Lookup("cluster").Usage = "the cluster to render (repeatable)"
	warn.addFlags(cmd.Flags())
	return cmd
}

// renderFleet fetches the source once and renders the clusters of the flags.
func renderFleet(ctx context.Context, src *sourceOptions, clusters *clusterOptions) (*render.Fleet, error) {
	s, err := src.open(ctx)
	if err != nil {
		return nil, err
	}
	snap, _, err := s.Fetch(ctx)
	if err != nil {
		return nil, err
	}
	opts, err := clusters.renderOptions()
	if err != nil {
		return nil, err
	}
	return renderSnapshot(ctx, snap, src, clusters, opts)
}

// renderSnapshot reads snap once, to fetch its remote charts when the
// command fetches them (withCharts) and to render it.
func renderSnapshot(ctx context.Context, snap source.Snapshot, src *sourceOptions, clusters *clusterOptions, opts render.Options) (*render.Fleet, error) {
	loaded, err := render.Load(ctx, snap)
	if err != nil {
		return nil, err
	}
	defer loaded.Close()
	withCharts(ctx, loaded, src, clusters, &opts)
	return renderQuietly(ctx, loaded, opts)
}

// renderQuietly renders with os.Stderr pointing nowhere: kustomize prints
// its deprecation warnings there, unattributed, while the render reports
// each as a warning naming the kustomization. Only the commands that run
// once do this; nothing else writes to stderr while they render.
func renderQuietly(ctx context.Context, loaded *render.Loaded, opts render.Options) (*render.Fleet, error) {
	if devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
		stderr := os.Stderr
		os.Stderr = devNull
		defer func() {
			os.Stderr = stderr
			devNull.Close()
		}()
	}
	return loaded.Render(ctx, opts)
}
