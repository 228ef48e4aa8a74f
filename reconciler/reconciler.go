package reconciler

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"mcp.dev/mcp/apply"
	"mcp.dev/mcp/diff"
	"mcp.dev/mcp/internal/target"
	"mcp.dev/mcp/reconciler/status"
	"mcp.dev/mcp/reconciler/statusgit"
	"mcp.dev/mcp/render"
	"mcp.dev/mcp/source"
)

// ClusterApplier reconciles one cluster to its desired state: plan, apply,
// prune, and say what happened, Status and Message included (apply's
// one reconcile, see FleetApplier). It is declared here, where it is
// consumed.
type ClusterApplier interface {
	Reconcile(ctx context.Context, desired Desired) apply.Result
}

// forgetter is a ClusterApplier that keeps state per cluster, released
// when this process stops reconciling the cluster.
type forgetter interface {
	Forget(cluster string)
}

// Desired is one cluster's desired state at one revision.
type Desired struct {
	render.ClusterState
	// Objects are the cluster's objects as apply takes them, compact
	// (apply.Object.Compact): a worker holds them from one revision to
	// the next. They stand for ClusterState.Objects, which is left nil.
	Objects []apply.Object
	// NoPrune names placements whose objects are never pruned.
	NoPrune []string
	// Charts are the charts of the objects, one per placement.
	Charts []status.Chart
}

// desiredOf is the desired state of each cluster of fleet, in its order.
// Nothing keeps the fleet's own objects: they are garbage once compact.
func desiredOf(fleet *render.Fleet) []Desired {
	out := make([]Desired, len(fleet.Clusters))
	for i, cs := range fleet.Clusters {
		out[i] = Desired{ClusterState: cs, Objects: target.Objects(cs), NoPrune: target.NoPrune(fleet, cs.Cluster.Name), Charts: chartsOf(cs)}
		out[i].ClusterState.Objects = nil
	}
	return out
}

// Options configure the loop; DefaultOptions gives SPEC's defaults.
type Options struct {
	// Interval between checks of the source.
	Interval time.Duration
	// DriftInterval between re-checks of a cluster whose desired state did
	// not change, to find and heal hand-made changes.
	DriftInterval time.Duration
	// MaxBackoff caps the wait before retrying a failed cluster or source.
	MaxBackoff time.Duration
	// UnreachableRetry caps the wait before retrying a cluster that was
	// Unreachable, so that one whose apiserver comes back is reconciled
	// (and Synced) again soon, whatever MaxBackoff is. A retry costs one
	// refused connection while the cluster is down. 0: MaxBackoff alone.
	UnreachableRetry time.Duration
	// ProgressingInterval is how soon a Progressing cluster (a wave waits
	// for the waves before it to become healthy) is reconciled again; it
	// does not grow, and a new revision or a shutdown need not wait for it.
	ProgressingInterval time.Duration
	// ReconcileTimeout bounds one reconcile of one cluster. Each request
	// has its own timeout, but a cluster behind a slow or blackholed
	// network can fail them one after another; this frees the worker (and
	// its slot of Concurrency) for the next try with backoff. 0: no bound.
	ReconcileTimeout time.Duration
	// Concurrency is how many clusters are reconciled at once.
	Concurrency int
	// Render says what to render (credentials dir, cluster filter).
	Render render.Options
	// Capabilities, if set, is asked after a new revision rendered for
	// what the clusters that receive charts report (version, API
	// versions); when that differs from what the render used, the
	// revision is rendered again with it, so that charts render for the
	// clusters they go to.
	Capabilities func(context.Context, *render.Fleet) map[string]render.Capabilities
	// Status writes status files back to git; nil writes none.
	Status statusgit.Writer
	// StatusPath is the directory of the status files on the status branch.
	StatusPath string
	// Report, if set, is called after every cluster reconcile (mcp run
	// --dir prints each plan and result with it).
	Report func(status.Cluster, *diff.ClusterPlan)
	// Owns, if set, says which clusters this replica reconciles when
	// several share the fleet; the others are left to their owners. It is
	// asked at every check of the source, so ownership can move.
	Owns func(cluster string) bool
}

// DefaultOptions are SPEC section 3's defaults.
func DefaultOptions() Options {
	return Options{
		Interval:      30 * time.Second,
		DriftInterval: 5 * time.Minute,
		MaxBackoff:    5 * time.Minute,
		// A down cluster is noticed within seconds (its drift watch
		// fails) and, once back, Synced again within this.
		UnreachableRetry: 10 * time.Second,
		// Often enough that a wave follows its predecessor within seconds;
		// a Progressing reconcile costs the plan's LISTs.
		ProgressingInterval: 3 * time.Second,
		// Well above a first apply of thousands of objects at the client's
		// rate limit, well below "stuck forever".
		ReconcileTimeout: 15 * time.Minute,
		Concurrency:      8,
		StatusPath:       "status",
	}
}

// Reconciler is the loop of mcp run.
type Reconciler struct {
	opts    Options
	src     source.Source
	applier ClusterApplier
	store   *status.Store
	metrics *status.Metrics

	wake    chan struct{} // a webhook or a file change: check the source now
	sem     chan struct{} // bounds clusters reconciled at once
	busy    atomic.Int32  // clusters being reconciled now
	workers map[string]*worker
	status  *statusgit.Loop
	// lastRev is the revision last rendered; a status-only commit on the
	// same branch keeps it (see sameContent).
	lastRev string
	// fleet is the desired state of every cluster last dispatched, at
	// revision, and owned the clusters it was dispatched to, so that a
	// change of ownership alone re-dispatches it.
	fleet    []Desired
	revision string
	owned    map[string]bool
}

// New returns a Reconciler; Run starts it.
func New(src source.Source, applier ClusterApplier, store *status.Store, metrics *status.Metrics, opts Options) *Reconciler {
	if opts.Concurrency < 1 {
		opts.Concurrency = 1
	}
	r := &Reconciler{
		opts: opts, src: src, applier: applier, store: store, metrics: metrics,
		wake:    make(chan struct{}, 1),
		sem:     make(chan struct{}, opts.Concurrency),
		workers: map[string]*worker{},
	}
	if opts.Status != nil {
		r.status = statusgit.New(opts.Status, opts.StatusPath, store, metrics, opts.MaxBackoff)
	}
	return r
}

// Trigger asks for a check of the source now; it never blocks. Triggers
// during a check are merged into one check after it; after a failed check
// the next one waits for its backoff.
func (r *Reconciler) Trigger() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run checks the source every interval (or when triggered), renders each
// new revision and hands every cluster its desired state, until ctx is
// done. Clusters are reconciled by workers of their own, so one slow or
// unreachable cluster never delays the others.
func (r *Reconciler) Run(ctx context.Context) error {
	// Run owns every goroutine it starts and waits for them before it
	// returns: the watch of the source, the status loop and the workers.
	var wg sync.WaitGroup
	if w, ok := r.src.(source.Watcher); ok {
		events, err := w.Watch(ctx)
		if err != nil {
			return err
		}
		wg.Go(func() {
			for range events { // closed when ctx is done
				r.Trigger()
			}
		})
	}
	if r.status != nil {
		wg.Go(func() { r.status.Run(ctx, r.idle) })
	}
	failures := 0
	for {
		// 1. check the source; 2. render; 3. hand out the desired states.
		wait, wake := r.opts.Interval, r.wake
		if err := r.poll(ctx); err != nil {
			failures++
			wait = min(backoff(failures), r.opts.Interval)
			// A failing source is retried on its backoff, however often
			// it is triggered; a trigger meanwhile stays in r.wake.
			wake = nil
		} else {
			failures = 0
		}
		select {
		case <-ctx.Done():
			for _, w := range r.workers {
				w.wait()
			}
			wg.Wait()
			return nil
		case <-wake:
		case <-time.After(wait):
			if wake == nil {
				// The retry serves a trigger that came during the backoff.
				select {
				case <-r.wake:
				default:
				}
			}
		}
	}
}

// poll is one check of the source: fetch (cheap when the head did not
// move), render a new revision, and dispatch it to the cluster workers.
func (r *Reconciler) poll(ctx context.Context) error {
	snap, changed, err := r.src.Fetch(ctx)
	r.store.SourceChecked(time.Now().UTC(), err)
	if err != nil {
		r.metrics.SourceFetchTotal.WithLabelValues("error").Inc()
		r.metrics.SourceStale.Set(1)
		slog.Error("source check failed; serving the last good revision", "err", err, "revision", r.lastRev)
		return err
	}
	r.metrics.SourceStale.Set(0)
	if !changed {
		r.metrics.SourceFetchTotal.WithLabelValues("unchanged").Inc()
		r.rebalance(ctx)
		return nil
	}
	r.metrics.SourceFetchTotal.WithLabelValues("changed").Inc()
	if r.lastRev != "" && r.opts.Status != nil && r.opts.Status.OnlyStatusChanged(ctx, r.lastRev, snap.Revision) {
		slog.Debug("only status files changed; nothing to reconcile", "revision", snap.Revision)
		r.rebalance(ctx)
		return nil
	}
	fleet, err := r.render(ctx, snap)
	if err != nil {
		// Nothing is applied from a revision that did not render: every
		// cluster keeps its last good state.
		slog.Error("revision did not render; nothing applied", "revision", snap.Revision, "err", err)
		return nil
	}
	for _, w := range fleet.Warnings {
		slog.Warn(w, "revision", snap.Revision)
	}
	slog.Info("new revision", "revision", snap.Revision, "clusters", len(fleet.Clusters), "objects", fleet.ObjectCount())
	r.lastRev = snap.Revision
	r.store.SetRevision(snap.Revision)
	r.dispatch(ctx, desiredOf(fleet), snap.Revision)
	return nil
}

// render renders snap, again with the clusters' capabilities when they
// changed (Options.Capabilities).
func (r *Reconciler) render(ctx context.Context, snap source.Snapshot) (*render.Fleet, error) {
	fleet, err := render.Render(ctx, snap, r.opts.Render)
	if err != nil || r.opts.Capabilities == nil {
		return fleet, err
	}
	caps := r.opts.Capabilities(ctx, fleet)
	if maps.EqualFunc(caps, r.opts.Render.Capabilities, sameCapabilities) {
		return fleet, nil
	}
	r.opts.Render.Capabilities = caps
	return render.Render(ctx, snap, r.opts.Render)
}

func sameCapabilities(a, b render.Capabilities) bool {
	return a.KubeVersion == b.KubeVersion && slices.Equal(a.APIVersions, b.APIVersions)
}

// dispatch gives every cluster worker its new desired state, starting
// workers for new clusters and stopping those of removed ones.
func (r *Reconciler) dispatch(ctx context.Context, fleet []Desired, revision string) {
	r.fleet, r.revision = fleet, revision
	r.owned = r.ownedOf(fleet)
	seen := map[string]bool{}
	for _, d := range fleet {
		name := d.Cluster.Name
		if !r.owned[name] {
			continue // another replica's
		}
		seen[name] = true
		w, ok := r.workers[name]
		if !ok {
			w = newWorker(r, name)
			r.workers[name] = w
			w.start(ctx)
		}
		w.setDesired(d, revision)
	}
	for name, w := range r.workers {
		if !seen[name] {
			// A cluster removed from the repo is left as it is: mcp stops
			// managing it but does not prune it.
			w.stop()
			delete(r.workers, name)
			// Its series would otherwise go on saying what this replica
			// last saw, next to its new owner's.
			r.metrics.Forget(name)
			if f, ok := r.applier.(forgetter); ok {
				f.Forget(name)
			}
		}
	}
	r.store.Remove(func(name string) bool { return seen[name] })
}

// ownedOf returns the clusters of fleet this replica reconciles.
func (r *Reconciler) ownedOf(fleet []Desired) map[string]bool {
	owned := make(map[string]bool, len(fleet))
	for _, d := range fleet {
		if r.opts.Owns == nil || r.opts.Owns(d.Cluster.Name) {
			owned[d.Cluster.Name] = true
		}
	}
	return owned
}

// rebalance re-dispatches the last fleet when the clusters this replica
// owns changed: new ones start, lost ones stop.
func (r *Reconciler) rebalance(ctx context.Context) {
	if r.fleet == nil || r.opts.Owns == nil || maps.Equal(r.owned, r.ownedOf(r.fleet)) {
		return
	}
	slog.Info("cluster ownership changed", "owned", len(r.ownedOf(r.fleet)))
	r.dispatch(ctx, r.fleet, r.revision)
}

// idle reports whether no cluster is being reconciled.
func (r *Reconciler) idle() bool { return r.busy.Load() == 0 }

// backoff is the wait before retry number n: 1s, 2s, 4s, ... (callers cap it).
func backoff(n int) time.Duration {
	if n > 12 {
		n = 12
	}
	return time.Second << (n - 1)
}
