package apply

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"mcp.dev/mcp/internal/object"
)

// applyGates applies toApply gate by gate (dependency depth, then wave;
// see gate), each gate in SPEC order (applyOrder). A gate is followed by
// the next only once every desired object of it is healthy; when one is
// not, the gates after it are left for a later reconcile, r.Waiting says
// which gate waits for which objects, and stopped is true. An object of
// the gate that failed stops the gates after it as well.
//
// The reconcile does not wait in place: the worker of mcp run, and
// ApplyAll, reconcile a Progressing cluster again soon, so that a new
// revision or a shutdown is never held up by a slow rollout. Health is
// judged from the copies the reconcile holds, the apply's answer or the
// plan's LIST, at no cost of its own; the next reconcile's LIST sees what
// the controllers did meanwhile.
func (a *Applier) applyGates(ctx context.Context, r *Result, p *Plan, toApply []*item, outcomes map[*item]*outcome,
	report func(wave int, phase string), done *atomic.Int64) (stopped bool) {
	gs := gates(p.items)
	for i, g := range gs {
		var todo []*item
		later := false
		for _, it := range toApply {
			switch c := gateOf(it).compare(g); {
			case c == 0:
				todo = append(todo, it)
			case c > 0:
				later = true
			}
		}
		for _, s := range applyOrder(todo) {
			report(s.wave, "apply")
			a.applyStep(ctx, s, outcomes, done, func() { report(s.wave, "apply") })
			if s.class == classCRD {
				a.waitEstablished(ctx, s.items, outcomes)
				a.c.refresh() // their kinds are served now
			}
		}
		if !later {
			break // what comes after is applied already: nothing waits
		}
		var members []*item
		failed := false
		for _, it := range p.items {
			if it.src.declared() && gateOf(it) == g {
				members = append(members, it)
				failed = failed || outcomes[it].err != nil || it.err != nil && !outcomes[it].done
			}
		}
		if failed {
			return true
		}
		now := time.Now()
		h := a.judge(members, func(it *item) verdict { return healthSeen(it, outcomes) }, now)
		if h.State == Healthy {
			continue
		}
		r.Waiting = a.wait(p, g, gs[i+1], members, h.Unhealthy, now)
		if h.State == Degraded {
			// A failed object does not get better by waiting: the gate
			// fails now, naming the objects that failed.
			r.Waiting.Failed, r.Waiting.Expired = true, true
			r.Waiting.Objects = slices.DeleteFunc(r.Waiting.Objects, func(u Unhealthy) bool { return u.Status != status.FailedStatus.String() })
		}
		if r.Waiting.Expired {
			a.expire(r.Waiting, members, outcomes)
		}
		report(g.wave, "awaiting health of")
		return true
	}
	a.waitKey = ""
	return false
}

// expire fails the objects of a gate that were not healthy in time.
func (a *Applier) expire(w *Waiting, members []*item, outcomes map[*item]*outcome) {
	byKey := make(map[object.Key]*item, len(members))
	for _, it := range members {
		byKey[it.key] = it
	}
	for _, u := range w.Objects {
		it := byKey[u.Key]
		err := fmt.Errorf("%w after %s (%s waits for it): %s: %s", ErrUnhealthy, w.Timeout, w.Next, u.Status, u.Message)
		if w.Failed {
			err = fmt.Errorf("%w: it failed (%s waits for it): %s", ErrUnhealthy, w.Next, u.Message)
		}
		outcomes[it].err = &ObjectError{Key: it.key, Source: it.src.Source, Op: "wait", Err: err}
	}
}
