package apply

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"mcp.dev/mcp/diff"
)

// outcome is what happened to one object during Apply.
type outcome struct {
	done    bool // applied or deleted
	err     *ObjectError
	warning string
	// seen is the health of the object as the apply (or, with Wait, the
	// last poll) returned it: only the verdict is kept, not the object.
	seen *verdict
}

// Apply carries out p, made by Plan on this Applier: it records the
// inventory, applies in SPEC order wave by wave (see applyGates), prunes
// once every wave is applied, records the inventory again and, with
// Wait, waits for the applied objects to become healthy. One object's
// failure never stops the others of its wave. With DryRun nothing is
// written.
func (a *Applier) Apply(ctx context.Context, p *Plan) Result {
	if a.opts.DryRun {
		return a.planned(p)
	}
	r := Result{Cluster: a.cluster, Plan: p, Applied: true}
	outcomes := make(map[*item]*outcome, len(p.items))
	for _, it := range p.items {
		outcomes[it] = &outcome{}
	}

	// 1. Record every desired object before touching any, so that a crash
	//    mid-apply leaves nothing behind that prune would not find.
	inv := inventoryBefore(p.items, p.inventory)
	if !inv.equal(p.inventory) {
		shards, err := a.writeInventory(ctx, inv, p.shards)
		p.shards = shards
		if err != nil {
			r.Err = fmt.Errorf("cluster %s: %w", a.cluster, err)
			r.countPlan()
			r.Applied = false
			return r
		}
	}

	// 2. Apply, step by step.
	var toApply, toDelete []*item
	for _, it := range p.items {
		switch {
		case it.src.declared() && a.shouldApply(it):
			toApply = append(toApply, it)
		case !it.src.declared() && it.err == nil && it.action == diff.Delete:
			toDelete = append(toDelete, it)
		}
	}
	total := len(toApply)
	if a.opts.Prune && p.PruneErr == nil {
		total += len(toDelete)
	}
	var done atomic.Int64
	report := func(wave int, phase string) {
		if a.opts.Progress != nil {
			a.opts.Progress(Progress{Cluster: a.cluster, Done: int(done.Load()), Total: total, Wave: wave, Phase: phase})
		}
	}
	stopped := a.applyGates(ctx, &r, p, toApply, outcomes, report, &done)

	// 3. Prune, unless the guard tripped or a wave is still waited for.
	switch {
	case p.PruneErr != nil:
		r.Err = p.PruneErr
	case a.opts.Prune && !stopped:
		for _, s := range deleteOrder(toDelete) {
			report(s.wave, "prune")
			a.deleteStep(ctx, s, outcomes, &done, func() { report(s.wave, "prune") })
		}
	}

	// 4. Record what mcp now manages: the desired objects and whatever
	//    could not be pruned.
	final := inventoryAfter(p.items, p.inventory, outcomes)
	if !final.equal(inv) {
		shards, err := a.writeInventory(ctx, final, p.shards)
		p.shards = shards
		if err != nil {
			r.Err = errors.Join(r.Err, fmt.Errorf("cluster %s: %w", a.cluster, err))
		}
	}
	p.inventory = final
	r.Managed = len(final)

	// 5. Health: with Wait, wait for the applied objects; then judge
	//    every desired object from the freshest copy at hand.
	if a.opts.Wait && !stopped {
		report(0, "wait")
		a.waitHealthy(ctx, toApply, outcomes)
	}
	a.forgetHealth(p)
	r.Health = a.judge(healthItems(p, outcomes), func(it *item) verdict { return healthSeen(it, outcomes) }, time.Now())
	tally(&r, p.items, outcomes)
	return r
}

// shouldApply: a change, a stale hash, or an object the dry-run refused
// (it may pass now that earlier steps ran, and its error is then the
// apply's own).
func (a *Applier) shouldApply(it *item) bool {
	var immutable *ImmutableError
	if it.err != nil {
		return apierrors.ReasonForError(it.err) != metav1.StatusReasonUnknown && !errors.As(it.err, &immutable)
	}
	return it.action == diff.Create || it.action == diff.Update || it.action == diff.Adopt || it.action == diff.Replace || it.reapply
}

func (a *Applier) applyStep(ctx context.Context, s step, outcomes map[*item]*outcome, done *atomic.Int64, tick func()) {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(a.opts.ObjectConcurrency)
	for _, it := range s.items {
		o := outcomes[it] // each goroutine writes only its own outcome
		g.Go(func() error {
			defer func() { done.Add(1); tick() }()
			if it.pending {
				m, err := a.c.mapping(it.gvk)
				if err != nil {
					o.err = &ObjectError{Key: it.key, Source: it.src.Source, Op: "apply", Err: err}
					return nil
				}
				it.gvr, it.namespaced = m.Resource, m.Scope.Name() == meta.RESTScopeNameNamespace
			}
			if it.action == diff.Replace {
				u, err := a.replace(ctx, it)
				o.done, o.seen = err == nil, seenOf(u)
				if err != nil {
					o.err = &ObjectError{Key: it.key, Source: it.src.Source, Op: "apply", Err: err}
				}
				return nil
			}
			u, err := a.ssa(ctx, it, false, false)
			if apierrors.IsConflict(err) {
				// Another manager owns some of these fields: take them
				// (mcp is the source of truth) and say whose they were.
				o.warning = fmt.Sprintf("%s (%s): took over fields: %v", it.key, it.src.Source, err)
				u, err = a.ssa(ctx, it, false, true)
			}
			if err != nil {
				o.err = &ObjectError{Key: it.key, Source: it.src.Source, Op: "apply", Err: err}
				return nil
			}
			o.done, o.seen = true, seenOf(u)
			return nil
		})
	}
	_ = g.Wait() // goroutines never fail: errors are per object
}

func (a *Applier) deleteStep(ctx context.Context, s step, outcomes map[*item]*outcome, done *atomic.Int64, tick func()) {
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(a.opts.ObjectConcurrency)
	background := metav1.DeletePropagationBackground
	for _, it := range s.items {
		o := outcomes[it]
		g.Go(func() error {
			defer func() { done.Add(1); tick() }()
			opts := metav1.DeleteOptions{PropagationPolicy: &background}
			if it.live != nil {
				// Only the object mcp saw: one re-created under the same
				// name since then is not mcp's to delete (409 Conflict).
				uid := it.live.GetUID()
				opts.Preconditions = &metav1.Preconditions{UID: &uid}
			}
			err := a.resource(it).Delete(ctx, it.key.Name, opts)
			if err != nil && !apierrors.IsNotFound(err) && !(it.live != nil && apierrors.IsConflict(err)) {
				o.err = &ObjectError{Key: it.key, Op: "delete", Err: err}
				return nil
			}
			o.done = true
			return nil
		})
	}
	_ = g.Wait()
}
