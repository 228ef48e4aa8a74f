package apply

import (
	"context"
	"slices"

	"golang.org/x/sync/errgroup"

	"mcp.dev/mcp/diff"
	"mcp.dev/mcp/internal/object"
)

// ApplyAll reconciles every target (Pool.Settle: until no wave waits), at most
// opts.Concurrency at once. One cluster's failure (unreachable, render
// failed) never cancels or delays the others: each gets its own Result, in
// the order of targets. Paused targets and opts.DryRun are planned only.
func ApplyAll(ctx context.Context, targets []Target, opts Options) []Result {
	pool := NewPool(opts)
	results := make([]Result, len(targets))
	var g errgroup.Group // not WithContext: a failure must not cancel the others
	g.SetLimit(pool.opts.Concurrency)
	for i, t := range targets {
		g.Go(func() error {
			results[i] = pool.Settle(ctx, t) // each goroutine writes its own slot
			pool.Forget(t.Name)              // one round: nothing to keep
			return nil
		})
	}
	_ = g.Wait()
	return results
}

// DiffAll plans every target without writing anything: ApplyAll with DryRun.
func DiffAll(ctx context.Context, targets []Target, opts Options) []Result {
	opts.DryRun = true
	return ApplyAll(ctx, targets, opts)
}

// Settle reconciles t until it is no longer Progressing: a wave waits for
// the waves before it to become healthy, and each wave's timeout bounds
// the wait. A dry run or a paused cluster never waits. The result is the
// last reconcile's, with what the earlier ones did added (settled).
func (p *Pool) Settle(ctx context.Context, t Target) Result {
	r := p.Reconcile(ctx, t)
	for r.Status == Progressing && sleep(ctx, p.opts.RecheckInterval) {
		r = settled(r, p.Reconcile(ctx, t))
	}
	return r
}

// settled is next, the result of a reconcile after those that made prev,
// with prev's changes added: its counts, warnings, and the changes of its
// plan, so that what the rounds did together is reported once.
func settled(prev, next Result) Result {
	changed := prev.Created + prev.Updated
	next.Created += prev.Created
	next.Updated += prev.Updated
	next.Deleted += prev.Deleted
	next.Unchanged = max(0, next.Unchanged-changed) // what earlier rounds changed is unchanged now
	next.Warnings = append(slices.Clip(prev.Warnings), next.Warnings...)
	switch {
	case prev.Plan == nil:
	case next.Plan == nil:
		next.Plan = prev.Plan
	default:
		merged := *next.Plan
		seen := map[object.Key]bool{}
		merged.Changes.Changes = nil
		for _, ch := range prev.Plan.Changes.Changes {
			seen[ch.Key] = true
			merged.Changes.Changes = append(merged.Changes.Changes, ch)
		}
		for _, ch := range next.Plan.Changes.Changes {
			if !seen[ch.Key] {
				merged.Changes.Changes = append(merged.Changes.Changes, ch)
			}
		}
		slices.SortFunc(merged.Changes.Changes, func(x, y diff.Change) int { return object.Compare(x.Key, y.Key) })
		next.Plan = &merged
	}
	return next
}
