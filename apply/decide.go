package apply

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"mcp.dev/mcp/diff"
	"mcp.dev/mcp/internal/object"
)

// decide sets the action of every item: it classifies them
// (classifyItems), asks the server for a dry-run of those that need one,
// and settles each (settle). Desired objects that pass the fast path cost
// no request; the others are applied with dryRun=All and the server's
// answer is compared with the live object, so that defaults the server
// adds never show as changes. A desired object that exists but that mcp
// never applied is adopted.
func (a *Applier) decide(ctx context.Context, p *Plan) {
	needs := classifyItems(p.items, p.inventory, p.newNamespaces, a.opts)
	for i, it := range p.items {
		if !needs[i].needsDryRun() {
			settle(it, needs[i], nil, nil)
		}
	}
	dryRunAll(ctx, p.items, needs, a.opts.ObjectConcurrency, func(ctx context.Context, it *item) (*unstructured.Unstructured, error) {
		return a.ssa(ctx, it, true, true)
	})
}

// setChange compares before and after without mcp's hash annotation and
// records the change with where the object came from.
func (it *item) setChange(before, after *unstructured.Unstructured) {
	ch := diff.ChangeFor(it.key, stripHash(before), stripHash(after))
	ch.File = it.src.Source
	if ch.Placement == "" {
		ch.Placement = it.placement
	}
	ch.Wave = waveOf(it)
	it.change, it.action = ch, ch.Action
}

// setUnchanged records an object the fast path found unchanged. Its
// change carries no copies of the object: a no-op reconcile of thousands
// of objects would otherwise copy and normalize each of them twice, only
// to find them equal, and a kept plan would hold them all.
func (it *item) setUnchanged() {
	placement := object.Annotation(it.live, object.PlacementAnnotation)
	if placement == "" {
		placement = it.placement
	}
	it.change = diff.Change{Key: it.key, Action: diff.Unchanged, File: it.src.Source, Placement: placement, Wave: waveOf(it)}
	it.action = diff.Unchanged
}

// guard sets p.PruneErr when the plan's deletions must not happen: the
// desired state is empty, or they are a mass prune.
func (a *Applier) guard(p *Plan) {
	deletes := 0
	for _, it := range p.items {
		if it.err == nil && it.action == diff.Delete {
			deletes++
		}
	}
	switch {
	case deletes == 0:
	case p.empty:
		p.PruneErr = fmt.Errorf("cluster %s: %w (%d in the inventory)", a.cluster, ErrEmptyDesired, len(p.inventory))
	case !a.opts.AllowMassPrune && deletes > MassPruneMin && 2*deletes > len(p.inventory):
		p.PruneErr = fmt.Errorf("cluster %s: %w: %d of %d managed objects would be deleted (allow with --allow-mass-prune)",
			a.cluster, ErrMassPrune, deletes, len(p.inventory))
	}
}

// ssa sends the desired object with its hash as a server-side apply.
func (a *Applier) ssa(ctx context.Context, it *item, dryRun, force bool) (*unstructured.Unstructured, error) {
	opts := metav1.ApplyOptions{FieldManager: a.opts.FieldManager, Force: force}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	desired := it.object()
	u, err := a.resource(it).Apply(ctx, it.key.Name, withHash(desired, it.hash), opts)
	return u, redactSecret(err, desired)
}
