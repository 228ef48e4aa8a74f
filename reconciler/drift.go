package reconciler

import (
	"context"
	"sync"
	"time"
)

// minDriftGap is the least time between the end of a reconcile and one
// started by a drift event: a burst of edits is healed by one reconcile,
// and well within two seconds of the first.
const minDriftGap = 250 * time.Millisecond

// DriftWatcher is a ClusterApplier that can tell, between reconciles,
// that a cluster's objects were changed or deleted by someone else. The
// worker then reconciles at once instead of at the next drift interval.
type DriftWatcher interface {
	// WatchDrift calls drifted on each such change until ctx is done. It
	// is started after the cluster's first reconcile.
	WatchDrift(ctx context.Context, cluster string, drifted func())
}

// watchDrift starts the drift watch of the cluster in wg if the applier
// has one; it reports whether it did. The watch ends with ctx.
func (w *worker) watchDrift(ctx context.Context, wg *sync.WaitGroup) bool {
	dw, ok := w.r.applier.(DriftWatcher)
	if !ok {
		return false
	}
	wg.Go(func() { dw.WatchDrift(ctx, w.name, w.drifted) })
	return true
}

// drifted wakes the worker for a reconcile; it never blocks, and events
// that come while one is pending are one reconcile.
func (w *worker) drifted() {
	select {
	case w.drift <- struct{}{}:
	default:
	}
}
