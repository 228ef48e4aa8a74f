package server

import (
	"sync"
	"time"
)

// throttle runs fn at most once per interval. The first call after a
// quiet interval runs fn at once; calls within the interval after a run
// are not dropped but merged into one run when the interval ends. So a
// flood of calls costs one run per interval, and a call that comes after
// a run started is always followed by another run.
type throttle struct {
	interval time.Duration
	fn       func()

	mu      sync.Mutex
	last    time.Time   // when fn last ran; zero before the first run
	pending *time.Timer // the merged run to come, nil when none
	stopped bool
}

func newThrottle(interval time.Duration, fn func()) *throttle {
	return &throttle{interval: interval, fn: fn}
}

// call runs fn now, or makes sure it runs when the interval ends.
func (t *throttle) call() {
	t.mu.Lock()
	if t.pending != nil || t.stopped {
		t.mu.Unlock()
		return
	}
	if wait := t.interval - time.Since(t.last); !t.last.IsZero() && wait > 0 {
		t.pending = time.AfterFunc(wait, t.run)
		t.mu.Unlock()
		return
	}
	t.last = time.Now()
	t.mu.Unlock()
	t.fn()
}

// run is the merged run at the end of an interval.
func (t *throttle) run() {
	t.mu.Lock()
	t.pending = nil
	if t.stopped {
		t.mu.Unlock()
		return
	}
	t.last = time.Now()
	t.mu.Unlock()
	t.fn()
}

// stop drops a pending run; later calls do nothing.
func (t *throttle) stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stopped = true
	if t.pending != nil {
		t.pending.Stop()
		t.pending = nil
	}
}
