package reconciler

import (
	"context"
	"slices"
	"strings"
	"time"

	"mcp.dev/mcp/apply"
	"mcp.dev/mcp/diff"
	"mcp.dev/mcp/internal/target"
	"mcp.dev/mcp/reconciler/status"
	"mcp.dev/mcp/render"
)

// FleetApplier reconciles clusters with apply.Pool: one connection per
// cluster kept between rounds, the cluster reached as access allows.
type FleetApplier struct {
	pool   *apply.Pool
	access render.Access
}

// NewFleetApplier returns a ClusterApplier over apply that reaches
// clusters as access allows.
func NewFleetApplier(opts apply.Options, access render.Access) *FleetApplier {
	return &FleetApplier{pool: apply.NewPool(opts), access: access}
}

// Reconcile is apply's one reconcile of the cluster (apply.Pool.Reconcile).
func (f *FleetApplier) Reconcile(ctx context.Context, d Desired) apply.Result {
	t := target.For(d.ClusterState, d.NoPrune, f.access)
	t.Objects = d.Objects
	return f.pool.Reconcile(ctx, t)
}

// Forget drops what is kept of a cluster this process no longer
// reconciles (removed from the repo, or handed to another replica): its
// connection, discovery cache and drift watch.
func (f *FleetApplier) Forget(cluster string) { f.pool.Forget(cluster) }

// WatchDrift watches the objects of the cluster, following its connection
// when a changed kubeconfig replaces it, until ctx is done.
func (f *FleetApplier) WatchDrift(ctx context.Context, cluster string, drifted func()) {
	f.pool.WatchDrift(ctx, cluster, drifted)
}

// maxUnhealthy bounds the objects not healthy that a status lists (their
// counts are complete): a first apply of thousands of objects must not
// make a status file of thousands of lines.
const maxUnhealthy = 50

// statusOf is what the status says of a reconcile: apply's status and
// message, the counts, and the objects that failed or drifted. A plan
// that was not applied changed nothing, so only its managed and failed
// objects are counted.
func statusOf(cluster string, r apply.Result) status.Cluster {
	st := status.Cluster{Name: cluster, Result: r.Status, Message: r.Message,
		Summary: status.Summary{Managed: r.Managed, Failed: r.Failed}}
	if r.Plan != nil && !r.PlannedOnly() {
		st.Summary = r.Counts
		st.Summary.Unchanged = 0 // not in the status: what is read back from its file equals what was written
	}
	for _, ch := range r.Drift() {
		st.Objects = append(st.Objects, status.Object{
			Kind: ch.Key.Kind, Namespace: ch.Key.Namespace, Name: ch.Key.Name, File: ch.File,
			Drifted: true, Error: "would " + ch.Action.String(),
		})
	}
	for _, e := range r.Errors {
		st.Objects = append(st.Objects, status.Object{Kind: e.Key.Kind, Namespace: e.Key.Namespace, Name: e.Key.Name, File: e.Source, Error: e.Op + ": " + e.Err.Error()})
	}
	h := r.Health
	st.Health, st.HealthCounts = h.State, status.HealthCounts{Healthy: h.Healthy, Progressing: h.Progressing, Degraded: h.Degraded}
	for _, u := range h.Unhealthy[:min(len(h.Unhealthy), maxUnhealthy)] {
		st.Unhealthy = append(st.Unhealthy, status.Unhealthy{Kind: u.Key.Kind, Namespace: u.Key.Namespace, Name: u.Key.Name,
			File: u.Source, Status: u.Status, Message: u.Message, Since: u.Since.UTC().Truncate(time.Second)})
	}
	return st
}

// chartsOf lists the charts of a cluster's desired state, one per
// placement, with the version each resolved to.
func chartsOf(cs render.ClusterState) []status.Chart {
	var out []status.Chart
	for _, o := range cs.Objects {
		name, version, ok := strings.Cut(o.Chart, "@")
		if !ok {
			continue
		}
		c := status.Chart{Placement: o.Placement, Name: name, Version: version}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b status.Chart) int {
		return strings.Compare(a.Placement+"\x00"+a.Name, b.Placement+"\x00"+b.Name)
	})
	return out
}

// planOf is the plan a reconcile made (or, planning only, would carry
// out); nil when none was made.
func planOf(r apply.Result) *diff.ClusterPlan {
	if r.Plan == nil {
		return nil
	}
	// A copy: a pointer into the Plan would keep all of it (its items,
	// their live objects, the inventory) for as long as the status
	// store shows the plan.
	changes := r.Plan.Changes
	return &changes
}
