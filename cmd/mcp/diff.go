package main

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"mcp.dev/mcp/diff"
	"mcp.dev/mcp/internal/object"
	"mcp.dev/mcp/render"
)

// Output formats of mcp diff.
const (
	outputText     = "text"
	outputMarkdown = "markdown"
	outputJSON     = "json"
)

func newDiffCmd() *cobra.Command {
	var (
		src      sourceOptions
		clusters clusterOptions
		against  string
		output   string
		exitCode bool
	)
	cmd := &cobra.Command{
		Use:   "diff [--against REF]",
		Short: "Show what applying would change on each cluster",
		Long: `diff prints, per cluster, the objects that would be created (+), updated (~)
or deleted (-), with the changed fields of each update. Objects that exist
but that mcp never applied (no managed-by label, not in its inventory) are
adopted (> ... — adopt), with the fields applying changes. A Namespace that
prune would delete but that still holds objects mcp does not manage is kept
(! ... — kept: N unmanaged objects inside). Secret values are never shown.

Without --against it compares the desired state with what each cluster
holds: the server answers a dry-run of every object that may have changed,
so defaults the server fills in never show as changes. Nothing is written.

With --against REF it needs no cluster access: it renders the desired state
at git REF and at the source and shows what a pull request changes.`,
		Example: `  # what mcp apply would change on every cluster
  mcp diff --dir . --credentials-dir /etc/mcp/clusters

  # what the checked-out branch changes compared with main
  mcp diff --dir . --against main

  # as a pull-request comment; exit 2 when anything changes
  mcp diff --dir . --against origin/main --output markdown --exit-code`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			write, err := planWriter(output, isTerminal(cmd.OutOrStdout()))
			if err != nil {
				return err
			}
			var plan diff.Plan
			if against != "" {
				clusters.offline = true
				plan, err = planAgainst(cmd.Context(), &src, &clusters, against, cmd.ErrOrStderr())
			} else {
				plan, err = planLive(cmd.Context(), &src, &clusters)
			}
			if err != nil {
				return err
			}
			if err := write(cmd.OutOrStdout(), plan); err != nil {
				return err
			}
			// A cluster that failed to render has no trustworthy plan:
			// that is an error, whatever the other clusters show.
			if err := plan.Err(); err != nil {
				return err
			}
			if exitCode && plan.HasChanges() {
				return errChanges
			}
			return nil
		},
	}
	src.addFlags(cmd.Flags())
	clusters.addFlags(cmd.Flags())
	clusters.addConnectFlags(cmd.Flags())
	cmd.Flags().StringVar(&against, "against", "", "git ref (branch, tag or commit) to diff the source against, without cluster access (default: diff against the live clusters)")
	cmd.Flags().StringVar(&output, "output", outputText, "output format: text, markdown (a pull-request comment) or json")
	cmd.Flags().BoolVar(&exitCode, "exit-code", false, "exit 2 when there are changes")
	return cmd
}

// planWriter returns the writer of an output format; colour is for text
// on a terminal only.
func planWriter(format string, color bool) (func(io.Writer, diff.Plan) error, error) {
	switch format {
	case outputText:
		return func(w io.Writer, p diff.Plan) error {
			return diff.WriteText(w, p, diff.TextOptions{Color: color})
		}, nil
	case outputMarkdown:
		return diff.WriteMarkdown, nil
	case outputJSON:
		return diff.WriteJSON, nil
	}
	return nil, fmt.Errorf("--output %q: want text, markdown or json", format)
}

// planAgainst renders the source and git ref against and diffs each
// cluster of the source: ref is the before, the source the after.
func planAgainst(ctx context.Context, src *sourceOptions, clusters *clusterOptions, against string, stderr io.Writer) (diff.Plan, error) {
	after, err := renderFleet(ctx, src, clusters)
	if err != nil {
		return diff.Plan{}, err
	}
	snap, cleanup, err := src.snapshotAt(ctx, against)
	if err != nil {
		return diff.Plan{}, err
	}
	defer cleanup()
	// All clusters at ref: a cluster the change adds is not there, and
	// naming it in Options.Clusters would fail the whole render.
	opts, err := clusters.renderOptions()
	if err != nil {
		return diff.Plan{}, err
	}
	opts.Clusters = nil
	before, err := render.Render(ctx, snap, opts)
	if err != nil {
		return diff.Plan{}, fmt.Errorf("rendering %s: %w", against, err)
	}

	var plan diff.Plan
	for _, a := range after.Clusters {
		b, _ := before.Cluster(a.Cluster.Name)
		plan.Clusters = append(plan.Clusters, clusterPlan(a, b, against))
	}
	for _, b := range before.Clusters {
		_, kept := after.Cluster(b.Cluster.Name)
		limited := len(clusters.clusters) > 0 && !slices.Contains(clusters.clusters, b.Cluster.Name)
		if !kept && !limited {
			// mcp stops managing a cluster removed from the repo; it
			// deletes nothing there, so there is no plan to show.
			fmt.Fprintf(stderr, "note: cluster %s is removed at the source: mcp stops managing it and deletes nothing on it\n", b.Cluster.Name)
		}
	}
	return plan, nil
}

// clusterPlan diffs one cluster; before is nil for a cluster the change adds.
func clusterPlan(after render.ClusterState, before *render.ClusterState, against string) diff.ClusterPlan {
	name := after.Cluster.Name
	switch {
	case after.Err != nil:
		return diff.ClusterPlan{Cluster: name, Err: after.Err}
	case before != nil && before.Err != nil:
		return diff.ClusterPlan{Cluster: name, Err: fmt.Errorf("does not render at %s, so there is nothing to diff against: %w", against, before.Err)}
	}
	var beforeObjs []render.Object
	if before != nil {
		beforeObjs = before.Objects
	}
	p := diff.NewClusterPlan(name, objs(beforeObjs), objs(after.Objects))
	// Where each object is declared: the source for creates and updates,
	// ref for deletes.
	where := map[object.Key]render.Object{}
	for _, o := range beforeObjs {
		where[o.Key()] = o
	}
	for _, o := range after.Objects {
		where[o.Key()] = o
	}
	for i := range p.Changes {
		if o, ok := where[p.Changes[i].Key]; ok {
			p.Changes[i].File, p.Changes[i].Placement = o.File, o.Placement
		}
	}
	for _, o := range append(slices.Clone(beforeObjs), after.Objects...) {
		if o.Sealed && !slices.Contains(p.Undecrypted, o.File) {
			p.Undecrypted = append(p.Undecrypted, o.File)
		}
	}
	slices.Sort(p.Undecrypted)
	return p
}

func objs(os []render.Object) []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, len(os))
	for i, o := range os {
		out[i] = o.Obj
	}
	return out
}
