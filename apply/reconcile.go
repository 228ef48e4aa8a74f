package apply

import (
	"context"
	"errors"
	"os"
	"sync"
	"time"

	"k8s.io/client-go/rest"
)

// Reconcile reconciles one cluster once with a connection of its own:
// what mcp apply and mcp diff do for each cluster. See Pool.Reconcile.
func Reconcile(ctx context.Context, t Target, opts Options) Result {
	return NewPool(opts).Reconcile(ctx, t)
}

// Pool reconciles clusters, keeping one Applier per cluster between
// reconciles so that discovery is cached and a reconcile that changes
// nothing costs a few LISTs. A cluster whose kubeconfig changed (a Secret
// mounted again) gets a new connection at its next reconcile.
type Pool struct {
	opts Options

	mu       sync.Mutex
	appliers map[string]*pooled
}

// pooled is a cluster's Applier and what its connection was made from.
type pooled struct {
	mu  sync.Mutex // reconciles of one cluster run one at a time
	ref connRef
	a   *Applier
	// stopWatch ends the drift watch of a; set and called under Pool.mu.
	stopWatch context.CancelFunc
}

// connRef is what an Applier's connection was made from. The file's size
// and modification time are part of it, so that a rotated kubeconfig
// makes a new connection.
type connRef struct {
	path, context string
	inCluster     bool
	config        *rest.Config
	size          int64
	modified      time.Time
}

// NewPool returns a Pool whose Appliers have opts.
func NewPool(opts Options) *Pool {
	return &Pool{opts: opts.withDefaults(), appliers: map[string]*pooled{}}
}

// Reconcile is one reconcile of one cluster, and the one way mcp
// reconciles a cluster: report a cluster that did not render or may not
// be reached without touching it; plan; apply the plan unless the cluster
// is paused or the options say DryRun (then the plan is the result, and
// the prune guard is reported, not enforced); and classify what happened
// (Classify) into r.Status and r.Message. A ctx that runs out of time
// makes the cluster Unreachable. Reconciles of one cluster run one at a
// time.
func (p *Pool) Reconcile(ctx context.Context, t Target) Result {
	bound := timeBound(ctx)
	r := p.reconcile(ctx, t)
	r.Cluster, r.Paused = t.Name, t.Paused
	if bound > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		r.TimedOut = bound
	}
	r.Status, r.Message = Classify(r)
	return r
}

// NotRendered is the result of a cluster whose desired state did not
// render (t.RenderErr): reported, never reached. Callers that do not
// hand such a cluster to Reconcile report it with this.
func NotRendered(t Target) Result {
	r := Result{Cluster: t.Name, Paused: t.Paused, Err: &RenderError{Cluster: t.Name, Err: t.RenderErr}}
	r.Status, r.Message = Classify(r)
	return r
}

func (p *Pool) reconcile(ctx context.Context, t Target) Result {
	switch {
	case t.RenderErr != nil:
		return NotRendered(t)
	case t.AccessErr != nil:
		return Result{Err: t.AccessErr}
	}
	pa, err := p.applier(t)
	if err != nil {
		return Result{Err: err}
	}
	pa.mu.Lock()
	defer pa.mu.Unlock()
	plan, err := pa.a.Plan(ctx, t.Objects, t.NoPrune)
	if err != nil {
		return Result{Err: err}
	}
	if t.Paused || p.opts.DryRun {
		return pa.a.planned(plan)
	}
	return pa.a.Apply(ctx, plan)
}

// applier returns the cluster's Applier, made anew when what its
// connection is made from changed.
func (p *Pool) applier(t Target) (*pooled, error) {
	ref := connRef{path: t.Kubeconfig, context: t.Context, inCluster: t.InCluster, config: t.Config}
	if t.Config == nil && !t.InCluster {
		if fi, err := os.Stat(t.Kubeconfig); err == nil {
			ref.size, ref.modified = fi.Size(), fi.ModTime()
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	old, ok := p.appliers[t.Name]
	if ok && old.ref == ref {
		return old, nil
	}
	cfg, err := RESTConfig(t)
	if err != nil {
		return nil, err
	}
	a, err := NewApplier(t.Name, cfg, p.opts)
	if err != nil {
		return nil, err
	}
	if ok && old.stopWatch != nil {
		old.stopWatch() // the watch moves to the new Applier
	}
	pa := &pooled{ref: ref, a: a}
	p.appliers[t.Name] = pa
	return pa, nil
}

// Forget drops what is kept of a cluster that is no longer reconciled
// (removed from the repo, or handed to another replica): its connection,
// discovery cache and drift watch.
func (p *Pool) Forget(cluster string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if pa, ok := p.appliers[cluster]; ok {
		if pa.stopWatch != nil {
			pa.stopWatch()
		}
		delete(p.appliers, cluster)
	}
}

// Len is the number of clusters whose connection is kept.
func (p *Pool) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.appliers)
}

// WatchDrift watches the objects of the cluster's Applier (see
// Applier.WatchDrift), following it when a changed kubeconfig replaces
// it, until ctx is done. Before the cluster's first Applier is made it
// looks again every second.
func (p *Pool) WatchDrift(ctx context.Context, cluster string, drifted func()) {
	for ctx.Err() == nil {
		wctx, cancel := context.WithCancel(ctx)
		p.mu.Lock()
		pa := p.appliers[cluster]
		if pa != nil {
			pa.stopWatch = cancel
		}
		p.mu.Unlock()
		if pa == nil {
			cancel()
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		pa.a.WatchDrift(wctx, drifted)
		cancel()
	}
}

// planned is the result of a plan that is not applied.
func (a *Applier) planned(p *Plan) Result {
	r := Result{Cluster: a.cluster, Plan: p, DryRun: a.opts.DryRun}
	r.countPlan()
	r.Err = p.PruneErr
	a.forgetHealth(p)
	r.Health = a.judge(healthItems(p, nil), func(it *item) verdict { return healthSeen(it, nil) }, time.Now())
	return r
}
