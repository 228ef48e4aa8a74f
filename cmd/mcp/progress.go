package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"mcp.dev/mcp/apply"
)

// progress shows how far a long apply is, on stderr. On a terminal one
// line is redrawn in place with every cluster's objects done/total and
// current wave; otherwise a plain line is written whenever a cluster
// starts a new wave or phase, so that logs stay readable.
type progress struct {
	w    io.Writer
	tty  bool
	mu   sync.Mutex
	last map[string]apply.Progress
	drew time.Time
}

// redrawEvery limits terminal redraws; objects finish far faster.
const redrawEvery = 100 * time.Millisecond

func newProgress(w io.Writer, tty bool) *progress {
	return &progress{w: w, tty: tty, last: map[string]apply.Progress{}}
}

func (p *progress) update(u apply.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	prev, seen := p.last[u.Cluster]
	p.last[u.Cluster] = u
	if !p.tty {
		if !seen || prev.Wave != u.Wave || prev.Phase != u.Phase {
			fmt.Fprintf(p.w, "cluster %s: %s wave %d (%d/%d objects done)\n", u.Cluster, u.Phase, u.Wave, u.Done, u.Total)
		}
		return
	}
	if time.Since(p.drew) < redrawEvery && u.Done != u.Total {
		return
	}
	p.drew = time.Now()
	names := make([]string, 0, len(p.last))
	for n := range p.last {
		names = append(names, n)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, n := range names {
		s := p.last[n]
		parts[i] = fmt.Sprintf("%s %d/%d %s wave %d", n, s.Done, s.Total, s.Phase, s.Wave)
	}
	fmt.Fprintf(p.w, "\r\x1b[K%s", strings.Join(parts, " · "))
}

// finish ends the progress line on a terminal.
func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && len(p.last) > 0 {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}
