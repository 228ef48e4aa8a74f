package reconciler

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"mcp.dev/mcp/apply"
	"mcp.dev/mcp/render"
)

// FleetApplier reconciles clusters with the apply package. It keeps one
// apply.Applier per cluster between rounds, so that discovery is cached
// and a no-op round costs a few LISTs per cluster.
type FleetApplier struct {
	opts   apply.ApplyOptions
	access render.Access

	mu       sync.Mutex
	appliers map[string]*clusterApplier
}

// clusterApplier is a cluster's Applier and the target it was made for;
// a changed kubeconfig reference makes a new one.
type clusterApplier struct {
	mu  sync.Mutex // Plan and Apply of one cluster run one at a time
	ref kubeconfigRef
	a   *apply.Applier
	// stopWatch ends the drift watch of a; set and called under
	// FleetApplier.mu.
	stopWatch context.CancelFunc
}

// kubeconfigRef is what an Applier's connection was made from. The file's
// size and modification time are part of it, so that a rotated kubeconfig
// (a Secret mounted again) makes a new connection.
type kubeconfigRef struct {
	path, context string
	inCluster     bool
	size          int64
	modified      time.Time
}

// NewFleetApplier returns a ClusterApplier over apply that reaches
// clusters as access allows.
func NewFleetApplier(opts apply.ApplyOptions, access render.Access) *FleetApplier {
	return &FleetApplier{opts: opts, access: access, appliers: map[string]*clusterApplier{}}
}

// Reconcile plans the cluster and applies the plan (only plans it with
// dryRun or a paused cluster) and says what happened.
func (f *FleetApplier) Reconcile(ctx context.Context, d Desired, dryRun bool) Outcome {
	cs := d.ClusterState
	ca, err := f.applier(cs)
	if err != nil {
		return Outcome{Result: Failed, Message: err.Error()}
	}
	ca.mu.Lock()
	defer ca.mu.Unlock()
	plan, err := ca.a.Plan(ctx, Objects(cs), d.NoPrune)
	if err != nil {
		return Outcome{Result: resultOf(err), Message: err.Error()}
	}
	if dryRun || cs.Cluster.Paused {
		return planOutcome(plan, cs.Cluster.Paused)
	}
	res := ca.a.Apply(ctx, plan)
	return resultOutcome(res)
}

// applier returns the cluster's Applier, made anew when its kubeconfig
// reference changed.
func (f *FleetApplier) applier(cs render.ClusterState) (*clusterApplier, error) {
	c := cs.Cluster
	path, err := c.KubeconfigPath(f.access)
	if err != nil {
		return nil, err
	}
	ref := kubeconfigRef{path: path, context: c.Kubeconfig.Context, inCluster: c.InCluster}
	if fi, err := os.Stat(path); err == nil && !c.InCluster {
		ref.size, ref.modified = fi.Size(), fi.ModTime()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	old, ok := f.appliers[c.Name]
	if ok && old.ref == ref {
		return old, nil
	}
	cfg, err := apply.RESTConfig(apply.Target{Name: c.Name, Kubeconfig: path, Context: c.Kubeconfig.Context, InCluster: c.InCluster})
	if err != nil {
		return nil, err
	}
	a, err := apply.NewApplier(c.Name, cfg, f.opts)
	if err != nil {
		return nil, err
	}
	if ok && old.stopWatch != nil {
		old.stopWatch() // the watch moves to the new Applier
	}
	ca := &clusterApplier{ref: ref, a: a}
	f.appliers[c.Name] = ca
	return ca, nil
}

// Forget drops what is kept of a cluster this process no longer
// reconciles (removed from the repo, or handed to another replica): its
// connection, discovery cache and drift watch.
func (f *FleetApplier) Forget(cluster string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ca, ok := f.appliers[cluster]; ok {
		if ca.stopWatch != nil {
			ca.stopWatch()
		}
		delete(f.appliers, cluster)
	}
}

// NoPrune names the placements of the fleet that select cluster and say
// spec.prune: false: their objects are never pruned from it.
func NoPrune(fleet *render.Fleet, cluster string) []string {
	var names []string
	for _, p := range fleet.Placements {
		if !p.Prune && slices.Contains(p.Selected, cluster) {
			names = append(names, p.Name)
		}
	}
	return names
}

// Objects converts a cluster's rendered objects for apply.
func Objects(cs render.ClusterState) []apply.Object {
	objs := make([]apply.Object, len(cs.Objects))
	for i, o := range cs.Objects {
		objs[i] = apply.Object{Obj: o.Obj, Source: o.Source(), Placement: o.Placement, Wave: o.Wave}
	}
	return objs
}

// planOutcome reports a plan that was not applied: what differs is drift.
func planOutcome(p *apply.Plan, paused bool) Outcome {
	out := Outcome{Result: Synced, Plan: &p.Changes, Summary: Summary{Managed: p.Managed}}
	if paused {
		out.Result = Paused
	}
	for _, ch := range p.Changes.Changes {
		if !ch.Action.IsChange() {
			continue // kept objects are a decision, not drift
		}
		out.Result = Drifted
		out.Objects = append(out.Objects, ObjectStatus{
			Kind: ch.Key.Kind, Namespace: ch.Key.Namespace, Name: ch.Key.Name, File: ch.File,
			Drifted: true, Error: "would " + ch.Action.String(),
		})
	}
	for _, e := range p.Errors {
		out.Objects = append(out.Objects, objectError(e))
	}
	out.Summary.Failed = len(p.Errors)
	if n := len(out.Objects); n > 0 {
		out.Message = fmt.Sprintf("%d objects differ from the desired state (not applied)", n-len(p.Errors))
	}
	if len(p.Errors) > 0 {
		out.Result = Failed
		out.Message = fmt.Sprintf("%d objects cannot be applied", len(p.Errors))
	}
	if p.PruneErr != nil {
		// A real apply would stop here: say so while only planning.
		out.Message = strings.TrimPrefix(out.Message+"; ", "; ") + p.PruneErr.Error()
	}
	return out
}

// resultOutcome reports an applied plan.
func resultOutcome(r apply.Result) Outcome {
	out := Outcome{
		Result: Synced,
		Summary: Summary{
			Managed: r.Managed, Created: r.Created, Updated: r.Updated, Deleted: r.Deleted, Failed: r.Failed,
		},
	}
	if r.Plan != nil {
		out.Plan = &r.Plan.Changes
	}
	for _, e := range r.Errors {
		out.Objects = append(out.Objects, objectError(e))
	}
	switch {
	case r.Err != nil:
		out.Result, out.Message = resultOf(r.Err), r.Err.Error()
	case r.Failed > 0 && allUnreachable(r.Errors):
		// The cluster went away in the middle of the apply: it is not the
		// objects that failed, and the revision was not applied.
		out.Result, out.Message = Unreachable, fmt.Sprintf("cluster stopped answering during the apply: %d of %d objects not applied: %v", r.Failed, r.Managed, r.Errors[0].Err)
	case r.Failed > 0:
		out.Result, out.Message = Failed, fmt.Sprintf("%d of %d objects failed", r.Failed, r.Managed)
	}
	return out
}

func objectError(e *apply.ObjectError) ObjectStatus {
	return ObjectStatus{Kind: e.Key.Kind, Namespace: e.Key.Namespace, Name: e.Key.Name, File: e.Source, Error: e.Op + ": " + e.Err.Error()}
}

func allUnreachable(errs []*apply.ObjectError) bool {
	for _, e := range errs {
		if !isUnreachable(e.Err) {
			return false
		}
	}
	return len(errs) > 0
}

// resultOf tells an unreachable cluster from one that answered with an
// error.
func resultOf(err error) Result {
	if isUnreachable(err) {
		return Unreachable
	}
	return Failed
}

func isUnreachable(err error) bool {
	var netErr net.Error
	var urlErr *url.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH),
		errors.Is(err, context.DeadlineExceeded):
		return true
	case errors.As(err, &urlErr), errors.As(err, &netErr):
		return true
	case apierrors.IsServiceUnavailable(err), apierrors.IsTimeout(err), apierrors.IsServerTimeout(err):
		return true
	}
	return false
}
