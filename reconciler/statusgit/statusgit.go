package statusgit

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"mcp.dev/mcp/reconciler/status"
)

// Writer writes status files back to git (SPEC section 5). The git source
// provides it; it is declared here, where it is consumed.
type Writer interface {
	// WriteStatus commits files (path on the status branch → content) in
	// one commit with message and pushes it, retrying on top of a moved
	// branch head.
	WriteStatus(ctx context.Context, files map[string][]byte, message string) error
	// OnlyStatusChanged reports whether every change from one source
	// revision to the next is below the status path, which happens when the
	// status branch is the source branch: such a commit starts no reconcile.
	OnlyStatusChanged(ctx context.Context, from, to string) bool
}

// statusReader is implemented by status writers that can read back the
// files on the status branch (the git one): a restarted mcp finds there
// what it last wrote and does not rewrite a file whose outcome is the same.
type statusReader interface {
	ReadStatus(ctx context.Context) (map[string][]byte, error)
}

// Quiet is how long the status loop waits for more clusters to finish
// before it commits, so that a round of many clusters is one commit.
const Quiet = time.Second

// finalFlush bounds the last status write on shutdown; Kubernetes gives a
// pod 30 seconds between SIGTERM and SIGKILL.
const finalFlush = 10 * time.Second

// maxHold bounds how long a status change waits for busy clusters.
const maxHold = 30 * time.Second

// Loop batches status changes into one commit per round.
type Loop struct {
	w          Writer
	dir        string
	store      *status.Store
	metrics    *status.Metrics
	maxBackoff time.Duration

	mu      sync.Mutex
	pending map[string]bool
	wake    chan struct{}
	// written is what the branch holds, by cluster: read at the first
	// flush, then what each flush wrote; nil until read.
	written map[string]status.Cluster
	// flushed are the clusters flushed since the start.
	flushed map[string]bool
}

// New returns the status loop that writes the files of store's clusters
// below dir with w, retrying a failed write at most maxBackoff apart.
func New(w Writer, dir string, store *status.Store, metrics *status.Metrics, maxBackoff time.Duration) *Loop {
	return &Loop{w: w, dir: dir, store: store, metrics: metrics, maxBackoff: maxBackoff,
		pending: map[string]bool{}, flushed: map[string]bool{}, wake: make(chan struct{}, 1)}
}

// Mark records that a cluster's outcome changed; it never blocks.
func (s *Loop) Mark(cluster string) {
	s.mu.Lock()
	s.pending[cluster] = true
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run commits status changes until ctx is done, then the last of them.
// idle reports whether no cluster is being reconciled.
func (s *Loop) Run(ctx context.Context, idle func() bool) {
	failures := 0
	for {
		select {
		case <-ctx.Done():
			// Write what is pending before the process ends, but within
			// the grace period a SIGTERM gives.
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), finalFlush)
			s.flush(final)
			cancel()
			return
		case <-s.wake:
		}
		// A round ends when no cluster is busy for a moment (or after
		// maxHold, so one stuck cluster does not hold back the others).
		s.settle(ctx, idle)
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

// settle waits until no cluster is busy for a moment, at most maxHold,
// or until ctx is done.
func (s *Loop) settle(ctx context.Context, idle func() bool) {
	held := time.Now()
	for time.Since(held) < maxHold {
		select {
		case <-ctx.Done():
			return
		case <-time.After(Quiet):
		}
		if idle() {
			return
		}
	}
}

func (s *Loop) kick() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// flush commits the pending clusters' files in one commit.
func (s *Loop) flush(ctx context.Context) error {
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
	if err := s.readWritten(ctx); err != nil {
		s.mu.Lock()
		for _, n := range names {
			s.pending[n] = true
		}
		s.mu.Unlock()
		return err
	}
	fleet := s.store.Snapshot()
	files := map[string][]byte{}
	wrote := map[string]status.Cluster{}
	var lines []string
	for _, c := range fleet.Clusters {
		if !slices.Contains(names, c.Name) {
			continue
		}
		prev, ok := s.written[c.Name]
		first := !s.flushed[c.Name]
		s.flushed[c.Name] = true
		switch {
		case ok && first && status.SameOutcome(prev, c) && s.store.Restore(prev, c):
			continue // the branch already says this, with its own since
		case ok && status.SameRecord(prev, c):
			// Only the text changed (a port, a time in an error): the
			// latest is on /status, the history need not hold each one.
			continue
		}
		data, err := status.MarshalFile(c)
		if err != nil {
			return err
		}
		files[path.Join(s.dir, c.Name+".yaml")] = data
		wrote[c.Name] = c
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
	maps.Copy(s.written, wrote)
	s.metrics.StatusCommits.Inc()
	slog.Info("status committed", "clusters", len(files))
	return nil
}

// readWritten reads the status files on the branch once, the first time
// anything is to be written.
func (s *Loop) readWritten(ctx context.Context) error {
	if s.written != nil {
		return nil
	}
	r, ok := s.w.(statusReader)
	if !ok {
		s.written = map[string]status.Cluster{}
		return nil
	}
	files, err := r.ReadStatus(ctx)
	if err != nil {
		return fmt.Errorf("read status branch: %w", err)
	}
	s.written = map[string]status.Cluster{}
	for p, data := range files {
		st, err := status.UnmarshalFile(data)
		if err != nil || path.Join(s.dir, st.Name+".yaml") != p {
			continue // not a file of ours: it is rewritten when its cluster is
		}
		s.written[st.Name] = st
	}
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

// backoff is the wait before retry number n: 1s, 2s, 4s, ... (callers cap
// it), as the loop waits before retrying a cluster.
func backoff(n int) time.Duration {
	return time.Second << (min(n, 12) - 1)
}
