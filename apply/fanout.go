package apply

import (
	"context"

	"golang.org/x/sync/errgroup"
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
// the wait. A dry run or a paused cluster never waits.
func (p *Pool) Settle(ctx context.Context, t Target) Result {
	r := p.Reconcile(ctx, t)
	for r.Status == Progressing && sleep(ctx, p.opts.RecheckInterval) {
		r = p.Reconcile(ctx, t)
	}
	return r
}
