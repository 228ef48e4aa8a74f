package apply

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"
)

// ApplyAll reconciles every target, at most opts.Concurrency at once. One
// cluster's failure (unreachable, render failed) never cancels or delays
// the others: each gets its own Result, in the order of targets. Paused
// targets and opts.DryRun are planned only.
func ApplyAll(ctx context.Context, targets []Target, opts ApplyOptions) []Result {
	opts = opts.withDefaults()
	results := make([]Result, len(targets))
	var g errgroup.Group // not WithContext: a failure must not cancel the others
	g.SetLimit(opts.Concurrency)
	for i, t := range targets {
		g.Go(func() error {
			results[i] = applyOne(ctx, t, opts) // each goroutine writes its own slot
			return nil
		})
	}
	_ = g.Wait()
	return results
}

// DiffAll plans every target without writing anything: ApplyAll with DryRun.
func DiffAll(ctx context.Context, targets []Target, opts ApplyOptions) []Result {
	opts.DryRun = true
	return ApplyAll(ctx, targets, opts)
}

func applyOne(ctx context.Context, t Target, opts ApplyOptions) Result {
	r := Result{Cluster: t.Name, Paused: t.Paused}
	if t.RenderErr != nil {
		r.Err = fmt.Errorf("cluster %s: %w: %w", t.Name, ErrRender, t.RenderErr)
		return r
	}
	cfg, err := RESTConfig(t)
	if err != nil {
		r.Err = err
		return r
	}
	if t.Paused {
		opts.DryRun = true
	}
	a, err := NewApplier(t.Name, cfg, opts)
	if err != nil {
		r.Err = err
		return r
	}
	p, err := a.Plan(ctx, t.Objects, t.NoPrune)
	if err != nil {
		r.Err = err
		return r
	}
	res := a.Apply(ctx, p)
	res.Paused = t.Paused
	return res
}
