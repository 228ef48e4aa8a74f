package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"mcp.dev/mcp/diff"
	"mcp.dev/mcp/internal/object"
	"mcp.dev/mcp/internal/target"
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
		warn     warningOptions
	)
	cmd := &cobra.Command{
		Use:   "diff [--against REF]",
		Short: "Show what applying would change on each cluster",
		Long: `diff prints, per cluster, the objects that would be created (+), updated (~)
or deleted (-), with the changed fields of each update. Objects that exist
but that mcp never applied (no managed-by label, not in its inventory) are
adopted (> ... — adopt), with the fields applying changes. A Namespace that
prune would delete but that still holds objects mcp does not manage is kept
(! ... — kept: N unmanaged objects inside). An object no longer desired
whose Placement says prune: false is orphaned (< ... — orphan): it stays on
the cluster as it is and mcp stops managing it. A cluster whose Cluster
document is gone leaves management: mcp deletes nothing there and stops
reconciling it. When any object has a wave (mcp.dev/wave), each change
shows its wave. Secret values are never shown.

Without --against it compares the desired state with what each cluster
holds: the server answers a dry-run of every object that may have changed,
so defaults the server fills in never show as changes. A change the server
refuses because it touches immutable fields (a Job's template, a Service's
clusterIP) is replaced (-/+ ... — replace): deleted and created anew, for
Jobs and objects annotated mcp.dev/replace: on-immutable; for others it is
an error naming the fields. Nothing is written.

With --against REF it needs no cluster access: it renders the desired state
at git REF and at the source and shows what a pull request changes.

--output markdown is a pull-request comment: a summary table, then one
section per group of clusters with the same plan. It stays under 60,000
characters however large the fleet: what does not fit is left out, and the
comment says so. --output json is always the full plan; CI jobs save it.

With --exit-code the exit code is 2 when anything changes: an object to
create, update, delete, replace, adopt or orphan, or a cluster that leaves.`,
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
			var (
				plan     diff.Plan
				warnings []string
			)
			if against != "" {
				clusters.offline = true
				plan, warnings, err = planAgainst(cmd.Context(), &src, &clusters, against)
			} else {
				plan, warnings, err = planLive(cmd.Context(), &src, &clusters)
			}
			if err != nil {
				return err
			}
			warnErr := warn.report(cmd.ErrOrStderr(), warnings)
			plan.Warnings = warnings
			if err := write(cmd.OutOrStdout(), plan); err != nil {
				return err
			}
			// A cluster that failed to render has no trustworthy plan:
			// that is an error, whatever the other clusters show.
			if err := errors.Join(plan.Err(), warnErr); err != nil {
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
	clusters.addChartFlags(cmd.Flags())
	clusters.addConnectFlags(cmd.Flags())
	cmd.Flags().StringVar(&against, "against", "", "git ref (branch, tag or commit) to diff the source against, without cluster access (default: diff against the live clusters)")
	cmd.Flags().StringVar(&output, "output", outputText, "output format: text, markdown (a pull-request comment) or json")
	cmd.Flags().BoolVar(&exitCode, "exit-code", false, "exit 2 when there are changes (also orphans and clusters that leave)")
	warn.addFlags(cmd.Flags())
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
// cluster of the source: ref is the before, the source the after. The
// warnings are those of the source.
func planAgainst(ctx context.Context, src *sourceOptions, clusters *clusterOptions, against string) (diff.Plan, []string, error) {
	after, err := renderFleet(ctx, src, clusters)
	if err != nil {
		return diff.Plan{}, nil, err
	}
	snap, cleanup, err := src.snapshotAt(ctx, against)
	if err != nil {
		return diff.Plan{}, nil, err
	}
	defer cleanup()
	// All clusters at ref: a cluster the change adds is not there, and
	// naming it in Options.Clusters would fail the whole render.
	opts, err := clusters.renderOptions()
	if err != nil {
		return diff.Plan{}, nil, err
	}
	opts.Clusters = nil
	before, err := renderSnapshot(ctx, snap, src, clusters, opts)
	if err != nil {
		return diff.Plan{}, nil, fmt.Errorf("rendering %s: %w", against, err)
	}

	var plan diff.Plan
	for _, a := range after.Clusters {
		b, _ := before.Cluster(a.Cluster.Name)
		plan.Clusters = append(plan.Clusters, clusterPlan(a, b, against, after))
	}
	for _, b := range before.Clusters {
		_, kept := after.Cluster(b.Cluster.Name)
		limited := len(clusters.clusters) > 0 && !slices.Contains(clusters.clusters, b.Cluster.Name)
		if !kept && !limited {
			// mcp stops managing a cluster removed from the repo and
			// deletes nothing on it; the plan says so.
			plan.Clusters = append(plan.Clusters, diff.ClusterPlan{Cluster: b.Cluster.Name, Leaves: true, Remaining: len(b.Objects)})
		}
	}
	slices.SortFunc(plan.Clusters, func(x, y diff.ClusterPlan) int { return strings.Compare(x.Cluster, y.Cluster) })
	return plan, after.Warnings, nil
}

// clusterPlan diffs one cluster; before is nil for a cluster the change
// adds. fleet is the source's fleet, which decides what is pruned: the
// objects of a Placement with prune: false that still selects the cluster
// are orphaned, every other object no longer desired is deleted.
func clusterPlan(after render.ClusterState, before *render.ClusterState, against string, fleet *render.Fleet) diff.ClusterPlan {
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
	noPrune := target.NoPrune(fleet, name)
	for i := range p.Changes {
		ch := &p.Changes[i]
		if o, ok := where[ch.Key]; ok {
			ch.File, ch.Placement, ch.Wave = o.File, o.Placement, o.Wave
		}
		if ch.Action == diff.Delete {
			ch.Action, ch.Reason = deletion(ch.Placement, noPrune, fleet, name)
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

// deletion is what becomes of an object of placement that cluster no
// longer desires, and why, as apply decides it: orphaned when a placement
// that selects the cluster says prune: false, else deleted.
func deletion(placement string, noPrune []string, fleet *render.Fleet, cluster string) (diff.Action, string) {
	if slices.Contains(noPrune, placement) {
		return diff.Orphan, ""
	}
	i := slices.IndexFunc(fleet.Placements, func(p render.Placement) bool { return p.Name == placement })
	switch {
	case placement == "":
		return diff.Delete, ""
	case i < 0:
		return diff.Delete, fmt.Sprintf("placement %s is removed", placement)
	case !slices.Contains(fleet.Placements[i].Selected, cluster):
		return diff.Delete, fmt.Sprintf("placement %s no longer selects this cluster", placement)
	}
	return diff.Delete, ""
}

func objs(os []render.Object) []*unstructured.Unstructured {
	out := make([]*unstructured.Unstructured, len(os))
	for i, o := range os {
		out[i] = o.Obj
	}
	return out
}
