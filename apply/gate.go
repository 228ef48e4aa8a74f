package apply

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"mcp.dev/mcp/internal/object"
)

// gate is a set of desired objects the objects after it wait for: those
// of one dependency depth (the Placements they depend on come first) and
// one wave. Gates are applied in order, depth first, then wave.
type gate struct{ depth, wave int }

func gateOf(it *item) gate { return gate{depth: it.src.Depth, wave: waveOf(it)} }

func (g gate) compare(o gate) int {
	return cmp.Or(cmp.Compare(g.depth, o.depth), cmp.Compare(g.wave, o.wave))
}

// String names the gate in messages: "wave 1", or "wave 1 of dependency
// level 2" when Placements depend on others.
func (g gate) String() string {
	if g.depth == 0 {
		return fmt.Sprintf("wave %d", g.wave)
	}
	return fmt.Sprintf("wave %d of dependency level %d", g.wave, g.depth)
}

// gates are the gates of the desired objects, in apply order.
func gates(items []*item) []gate {
	var out []gate
	for _, it := range items {
		if it.src.declared() && !slices.Contains(out, gateOf(it)) {
			out = append(out, gateOf(it))
		}
	}
	slices.SortFunc(out, gate.compare)
	return out
}

// Waiting is a gate whose objects are not healthy yet: the gates after it
// are not applied.
type Waiting struct {
	// Gate names the depth and wave that is waited for ("wave 0").
	Gate string
	// Next names the gate that waits.
	Next string
	// Since is when the wait for this gate of this desired state began;
	// Timeout is how long it may last (Options.WaveTimeout, or longer by
	// the annotation mcp.dev/wave-timeout of one of its objects).
	Since   time.Time
	Timeout time.Duration
	// Expired: the gate was not healthy within Timeout; its objects that
	// were not ready failed.
	Expired bool
	// Failed: an object of the gate failed (kstatus Failed: a Job that
	// failed, a rollout past its progress deadline). The gates after it
	// are not applied, without waiting for Timeout; Expired is set too.
	Failed bool
	// Objects are the objects of the gate that are not healthy.
	Objects []Unhealthy
}

// String says who waits for what, naming the first objects not ready.
func (w *Waiting) String() string {
	const show = 3
	var names []string
	for _, o := range w.Objects[:min(show, len(w.Objects))] {
		names = append(names, o.String())
	}
	list := strings.Join(names, "; ")
	if len(w.Objects) > show {
		list += fmt.Sprintf("; and %d more", len(w.Objects)-show)
	}
	switch {
	case w.Failed:
		return fmt.Sprintf("%s failed (%s not applied): %s", w.Gate, w.Next, list)
	case w.Expired:
		return fmt.Sprintf("%s not healthy after %s (%s not applied): %s", w.Gate, w.Timeout, w.Next, list)
	}
	return fmt.Sprintf("%s waits for %d objects of %s to be healthy: %s", w.Next, len(w.Objects), w.Gate, list)
}

// gateTimeout is how long g may take to become healthy: the options'
// WaveTimeout, or the longest mcp.dev/wave-timeout of its objects.
func (a *Applier) gateTimeout(items []*item) time.Duration {
	d := a.opts.WaveTimeout
	for _, it := range items {
		if t, err := time.ParseDuration(it.desiredAnnotation(object.WaveTimeoutAnnotation)); err == nil && t > d {
			d = t // none ("") does not parse
		}
	}
	return d
}

// waitKey identifies what is waited for: the desired state (every desired
// object's key and hash) and the gate. A new revision, or any change of a
// desired object, starts the wait anew.
func waitKey(p *Plan, g gate) string {
	h := sha256.New()
	for _, it := range p.items {
		if it.src.declared() {
			fmt.Fprintf(h, "%s\x00%s\x00", it.key, it.hash)
		}
	}
	fmt.Fprintf(h, "%d\x00%d", g.depth, g.wave)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// wait records that gate g of p is not healthy and says since when it
// waits, and whether it waited too long.
func (a *Applier) wait(p *Plan, g, next gate, items []*item, notReady []Unhealthy, now time.Time) *Waiting {
	key := waitKey(p, g)
	if a.waitKey != key {
		a.waitKey, a.waitSince = key, now
	}
	w := &Waiting{Gate: g.String(), Next: next.String(), Since: a.waitSince, Timeout: a.gateTimeout(items), Objects: notReady}
	w.Expired = now.Sub(w.Since) >= w.Timeout
	return w
}
