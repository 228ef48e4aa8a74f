package apply

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"mcp.dev/mcp/diff"
	"mcp.dev/mcp/internal/object"
)

// decide sets the action of every item. Desired objects that pass the
// fast path cost no request; the others are applied with dryRun=All and
// the server's answer is compared with the live object, so that defaults
// the server adds never show as changes. A desired object that exists but
// that mcp never applied is adopted.
func (a *Applier) decide(ctx context.Context, p *Plan) {
	newNamespaces := newNamespaces(p.items)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(a.opts.ObjectConcurrency)
	for _, it := range p.items {
		if it.err != nil {
			continue
		}
		switch {
		case it.src.Obj == nil:
			a.decideInventoryOnly(it)
		case it.pending || (it.namespaced && newNamespaces[it.key.Namespace]):
			// Not servable before an earlier step of the apply (CRD,
			// namespace): no dry-run possible, the object is new.
			it.setChange(nil, it.desired)
		case it.live != nil && !a.opts.NoFastPath && !adopting(it, p.inventory) && (it.verdict != nil || unchanged(it.desired, it.live, it.hash)):
			// A verdict: the LIST found it unchanged and kept it slim.
			it.setUnchanged()
		default:
			g.Go(func() error {
				after, err := a.ssa(gctx, it, true, true)
				if err != nil {
					it.refused(err, adopting(it, p.inventory)) // a replace, when immutable fields allow it
					return nil
				}
				it.setChange(it.live, after)
				if adopting(it, p.inventory) {
					it.change.Action, it.action = diff.Adopt, diff.Adopt
				}
				return nil
			})
		}
	}
	_ = g.Wait()
	for _, it := range p.items {
		if it.err == nil && it.src.Obj != nil && it.action == diff.Unchanged {
			it.reapply = it.live.GetAnnotations()[AppliedHashAnnotation] != it.hash
		}
	}
}

// adopting: a desired object exists, yet mcp never applied it: it has
// neither mcp's managed-by label nor a place in the inventory. Made by
// hand, by another tool, or by an mcp with another inventory that removed
// the label; applying takes it over, and the plan must say so. An object
// in the inventory whose label was removed is mcp's already (an update).
func adopting(it *item, inv inventory) bool {
	if it.live == nil {
		return false
	}
	_, tracked := inv[it.key]
	return !tracked && it.live.GetLabels()[object.ManagedByLabel] != object.ManagedByValue
}

func (a *Applier) decideInventoryOnly(it *item) {
	switch {
	case it.live == nil:
		it.gone, it.action = true, diff.Unchanged
	case it.orphan:
		// Its placement does not prune: it stays as it is, and leaves
		// the inventory. The plan says so, instead of a delete.
		it.setChange(it.live, nil)
		it.change.Fields = nil
		it.change.Action, it.action = diff.Orphan, diff.Orphan
	case !a.opts.Prune:
		it.action = diff.Unchanged
	default:
		it.setChange(it.live, nil)
	}
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
	placement := it.live.GetAnnotations()[object.PlacementAnnotation]
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
	u, err := a.resource(it).Apply(ctx, it.key.Name, withHash(it.desired, it.hash), opts)
	return u, redactSecret(err, it.src.Obj)
}
