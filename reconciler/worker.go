package reconciler

import (
	"context"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"mcp.dev/mcp/apply"
	"mcp.dev/mcp/reconciler/status"
)

// worker reconciles one cluster: when its desired state changes, when a
// drift check is due, and after a failure with backoff. Its state is its
// own, so a down cluster never delays the others.
type worker struct {
	r    *Reconciler
	name string

	mu       sync.Mutex
	desired  Desired
	revision string         // of desired
	applied  string         // revision last applied; kept while unreachable
	charts   []status.Chart // the charts of that revision

	// logged is the status of the last reconcile logged at info level,
	// and when; see quiet.
	logged   status.Cluster
	loggedAt time.Time

	kick   chan struct{}
	drift  chan struct{} // the cluster's objects were changed by someone else
	cancel context.CancelFunc
	done   chan struct{}
}

func newWorker(r *Reconciler, name string) *worker {
	return &worker{r: r, name: name, kick: make(chan struct{}, 1), drift: make(chan struct{}, 1), done: make(chan struct{})}
}

// setDesired hands the worker a new desired state and wakes it; the
// revision it already has is not handed again.
func (w *worker) setDesired(d Desired, revision string) {
	w.mu.Lock()
	same := w.revision == revision
	w.desired, w.revision = d, revision
	w.mu.Unlock()
	if same {
		return
	}
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

func (w *worker) start(parent context.Context) {
	ctx, cancel := context.WithCancel(parent)
	w.cancel = cancel
	go w.run(ctx)
}

// stop ends the worker and waits for it.
func (w *worker) stop() {
	w.cancel()
	<-w.done
}

// wait waits for the worker to end after its context was cancelled.
func (w *worker) wait() { <-w.done }

func (w *worker) run(ctx context.Context) {
	defer close(w.done)
	var watch sync.WaitGroup // the drift watch, ended by ctx
	defer watch.Wait()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	failures := 0
	var last time.Time // end of the last reconcile
	watching := false
	unreachable := false // the last reconcile found the cluster Unreachable
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.kick:
		case <-timer.C:
		case <-w.drift:
			if unreachable {
				// The watch keeps failing while the cluster is down;
				// the retry below is already timed.
				continue
			}
			// An object that never passes the fast path (a field the
			// server rewrites) would otherwise be reconciled on every
			// event a controller causes.
			if gap := time.Until(last.Add(minDriftGap)); gap > 0 {
				timer.Reset(gap)
				continue
			}
		}
		select {
		case w.r.sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		w.r.busy.Add(1)
		st := w.reconcile(ctx)
		if w.r.busy.Add(-1) == 0 {
			releaseMemory()
		}
		<-w.r.sem
		if ctx.Err() != nil {
			return
		}
		last = time.Now()
		if !watching {
			watching = w.watchDrift(ctx, &watch)
		}
		next := w.r.opts.DriftInterval
		switch st.Result {
		case apply.Failed, apply.Unreachable:
			failures++
			next = min(backoff(failures), w.r.opts.MaxBackoff)
		case apply.Progressing:
			failures = 0
			if next = w.r.opts.ProgressingInterval; next <= 0 {
				next = DefaultOptions().ProgressingInterval
			}
		default:
			failures = 0
		}
		unreachable = st.Result == apply.Unreachable
		if unreachable && w.r.opts.UnreachableRetry > 0 {
			// A cluster that comes back is Synced again within this.
			next = min(next, w.r.opts.UnreachableRetry)
		}
		timer.Reset(next)
	}
}

// releaseMemory returns the heap that no reconcile uses any more to the
// operating system, when the last one running ends. A plan of thousands
// of objects takes tens of MB for a moment; the runtime gives it back
// only slowly, and the next plan, a drift heal moments later, would take
// more on top. It costs one collection per burst of reconciles.
func releaseMemory() { debug.FreeOSMemory() }

// reconcile is one reconcile of the cluster: apply's reconcile of the
// desired state, bounded in time, then the revision it leaves the cluster
// at and the status recorded.
func (w *worker) reconcile(ctx context.Context) status.Cluster {
	w.mu.Lock()
	d, rev := w.desired, w.revision
	w.mu.Unlock()

	start := time.Now()
	var res apply.Result
	if d.Err != nil {
		// The revision did not render for this cluster: it keeps its last
		// good state, and the status says why.
		res = apply.NotRendered(apply.Target{Name: w.name, Paused: d.Cluster.Paused, RenderErr: d.Err})
	} else {
		rctx, cancel := ctx, context.CancelFunc(func() {})
		if t := w.r.opts.ReconcileTimeout; t > 0 {
			rctx, cancel = context.WithTimeout(ctx, t)
		}
		res = w.r.applier.Reconcile(rctx, d)
		cancel()
	}
	if ctx.Err() != nil {
		// Shutting down: an abandoned apply is not an outcome to report.
		return status.Cluster{Name: w.name}
	}
	// The revision moves on only when the cluster holds it: not when it
	// could not be reached or rendered, nor when a dry run or a paused
	// cluster left a difference unapplied (Drifted).
	applied := rev
	w.mu.Lock()
	if res.Status == apply.Unreachable || res.Status == apply.Drifted || d.Err != nil {
		applied = w.applied
	} else {
		w.applied, w.charts = rev, d.Charts
	}
	charts := w.charts
	w.mu.Unlock()
	st := statusOf(w.name, res)
	st.Revision, st.Since, st.Charts = applied, time.Now().UTC().Truncate(time.Second), charts
	plan := planOf(res)
	w.r.store.SetLabels(w.name, d.Cluster.Labels)
	w.r.store.SetPlan(w.name, plan, rev)
	stored, changed := w.r.store.Update(st)
	w.r.metrics.Observe(stored, time.Since(start).Seconds())
	if changed && w.r.status != nil {
		w.r.status.Mark(w.name)
	}
	// A cluster that waits for a wave is looked at every few seconds:
	// only a change of its outcome is news.
	quiet := !changed && st.Result == apply.Progressing
	level := slog.LevelInfo
	if w.quiet(st) || quiet {
		level = slog.LevelDebug
	}
	slog.Log(ctx, level, "reconciled", "cluster", w.name, "result", st.Result, "revision", rev,
		"created", st.Summary.Created, "updated", st.Summary.Updated, "deleted", st.Summary.Deleted,
		"failed", st.Summary.Failed, "managed", st.Summary.Managed, "took", time.Since(start).Round(time.Millisecond), "message", st.Message)
	if w.r.opts.Report != nil && !quiet {
		w.r.opts.Report(stored, plan)
	}
	return stored
}

// failureLogGap is how often a cluster that keeps failing the same way is
// logged at info level; its retries in between are logged at debug level,
// so that a dead cluster does not fill the log.
const failureLogGap = time.Minute

// quiet reports whether the reconcile that ended in st repeats a failure
// logged less than failureLogGap ago (same result, revision and failed
// objects; the message may differ); it records when one is logged.
func (w *worker) quiet(st status.Cluster) bool {
	failed := st.Result == apply.Failed || st.Result == apply.Unreachable
	if failed && status.SameRecord(w.logged, st) && time.Since(w.loggedAt) < failureLogGap {
		return true
	}
	w.logged, w.loggedAt = st, time.Now()
	return false
}
