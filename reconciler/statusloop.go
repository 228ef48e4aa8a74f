package reconciler

import (
	"context"
	"fmt"
	"log/slog"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
)

// StatusWriter writes status files back to git (SPEC section 5). The git
// source provides it; it is declared here, where it is consumed.
type StatusWriter interface {
	// WriteStatus commits files (path on the status branch → content) in
	// one commit with message and pushes it, retrying on top of a moved
	// branch head.
	WriteStatus(ctx context.Context, files map[string][]byte, message string) error
	// OnlyStatusChanged reports whether every change from one source
	// revision to the next is below the status path, which happens when the
	// status branch is the source branch: such a commit starts no reconcile.
	OnlyStatusChanged(ctx context.Context, from, to string) bool
}

// quiet is how long the status loop waits for more clusters to finish
// before it commits, so that a round of many clusters is one commit.
const quiet = time.Second

// maxHold bounds how long a status change waits for busy clusters.
const maxHold = 30 * time.Second

// statusLoop batches status changes into one commit per round.
type statusLoop struct {
	w          StatusWriter
	dir        string
	store      *Store
	metrics    *Metrics
	maxBackoff time.Duration

	mu      sync.Mutex
	pending map[string]bool
	wake    chan struct{}
}

func newStatusLoop(w StatusWriter, dir string, store *Store, metrics *Metrics, maxBackoff time.Duration) *statusLoop {
	return &statusLoop{w: w, dir: dir, store: store, metrics: metrics, maxBackoff: maxBackoff,
		pending: map[string]bool{}, wake: make(chan struct{}, 1)}
}

// mark records that a cluster's outcome changed.
func (s *statusLoop) mark(cluster string) {
	s.mu.Lock()
	s.pending[cluster] = true
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *statusLoop) run(ctx context.Context, r *Reconciler) {
	failures := 0
	for {
		select {
		case <-ctx.Done():
			// Write what is pending before the process ends.
			s.flush(context.WithoutCancel(ctx))
			return
		case <-s.wake:
		}
		// A round ends when no cluster is busy for a moment (or after
		// maxHold, so one stuck cluster does not hold back the others).
		held := time.Now()
		for time.Since(held) < maxHold {
			time.Sleep(quiet)
			if r.idle() {
				break
			}
		}
		if err := s.flush(ctx); err != nil {
			if ctx.Err() != nil {
				continue // shutting down: the pending files are written below
			}
			failures++
			slog.Error("status not written; will retry", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(min(backoff(failures), s.maxBackoff)):
				s.kick()
			}
			continue
		}
		failures = 0
	}
}

func (s *statusLoop) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// flush commits the pending clusters' files in one commit.
func (s *statusLoop) flush(ctx context.Context) error {
	s.mu.Lock()
	names := make([]string, 0, len(s.pending))
	for n := range s.pending {
		names = append(names, n)
	}
	clear(s.pending)
	s.mu.Unlock()
	if len(names) == 0 {
		return nil
	}
	slices.Sort(names)
	fleet := s.store.Snapshot()
	files := map[string][]byte{}
	var lines []string
	for _, c := range fleet.Clusters {
		if !slices.Contains(names, c.Name) {
			continue
		}
		data, err := MarshalStatusFile(c)
		if err != nil {
			return err
		}
		files[path.Join(s.dir, c.Name+".yaml")] = data
		lines = append(lines, fmt.Sprintf("%s: %s", c.Name, c.Result))
	}
	if len(files) == 0 {
		return nil
	}
	msg := fmt.Sprintf("status: %d %s at %s\n\n%s\n", len(files), plural(len(files), "cluster"), short(fleet.Revision), strings.Join(lines, "\n"))
	if err := s.w.WriteStatus(ctx, files, msg); err != nil {
		s.mu.Lock()
		for _, n := range names {
			s.pending[n] = true
		}
		s.mu.Unlock()
		return err
	}
	s.metrics.StatusCommits.Inc()
	slog.Info("status committed", "clusters", len(files))
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}
