package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"mcp.dev/mcp/render"
)

func newRenderCmd() *cobra.Command {
	var (
		src      sourceOptions
		clusters clusterOptions
	)
	cmd := &cobra.Command{
		Use:   "render --cluster NAME",
		Short: "Print the rendered desired manifests of a cluster",
		Long: `render prints the objects mcp would apply to one cluster as a YAML stream,
"---" between documents, in a stable order, each headed by a comment naming
the file and Placement it came from. It needs no cluster access.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			clusters.offline = true
			if len(clusters.clusters) != 1 {
				return errors.New("render needs exactly one --cluster NAME")
			}
			fleet, err := renderFleet(cmd.Context(), &src, &clusters)
			if err != nil {
				return err
			}
			c, ok := fleet.Cluster(clusters.clusters[0])
			if !ok {
				return fmt.Errorf("cluster %s: not rendered", clusters.clusters[0])
			}
			if c.Err != nil {
				return c.Err
			}
			for _, o := range c.Objects {
				if o.Sealed {
					fmt.Fprintf(cmd.ErrOrStderr(), "note: %s: not decrypted (no age key in <credentials-dir>/sops/): its Secret values are ciphertexts\n", o.Source())
				}
			}
			out, err := render.Marshal(c.Objects)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	src.addFlags(cmd.Flags())
	clusters.addFlags(cmd.Flags())
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
	return render.Render(ctx, snap, opts)
}
