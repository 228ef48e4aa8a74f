package apply

import (
	"context"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"mcp.dev/mcp/diff"
	"mcp.dev/mcp/internal/object"
)

// need is what an item of a plan needs before its change is known. A
// plan is decided in three phases: classifyItems (pure), the server
// dry-run of the items that need one (I/O, passed in), and settle (pure),
// which turns the need and the server's answer into the item's change.
type need int

const (
	// needFailed: the item could not be planned (its err); nothing to decide.
	needFailed need = iota
	// needUnchanged: the fast path found the live object unchanged.
	needUnchanged
	// needCreate: its kind (a CRD of the same apply) or its namespace is
	// created by an earlier step of the apply; no dry-run is possible and
	// the object is new.
	needCreate
	// needDryRun: the server's dry-run says what changes.
	needDryRun
	// needAdopt: the object exists but mcp never applied it; the dry-run
	// says what changes, and the change is an adoption.
	needAdopt
	// needDelete: in the inventory only; pruned.
	needDelete
	// needOrphan: in the inventory only, and its placement does not
	// prune: it stays on the cluster and leaves the inventory.
	needOrphan
	// needGone: in the inventory only, and no longer on the cluster.
	needGone
	// needPruneOff: in the inventory only, and pruning is off: kept.
	needPruneOff
)

var needNames = [...]string{"failed", "unchanged", "new", "dry-run", "adopt", "delete", "orphan", "gone", "prune-off"}

func (n need) String() string { return needNames[n] }

// needsDryRun: the server's answer decides the item's change.
func (n need) needsDryRun() bool { return n == needDryRun || n == needAdopt }

// classifyItems says what every item of a plan needs (needs[i] is
// items[i]'s) from the items with their live copies, the inventory read,
// the desired namespaces the cluster does not hold yet, and the options.
// It asks nothing of the cluster.
func classifyItems(items []*item, inv inventory, newNamespaces map[string]bool, opts Options) []need {
	needs := make([]need, len(items))
	for i, it := range items {
		needs[i] = needOf(it, inv, newNamespaces, opts)
	}
	return needs
}

func needOf(it *item, inv inventory, newNamespaces map[string]bool, opts Options) need {
	switch {
	case it.err != nil:
		return needFailed
	case !it.src.declared():
		switch {
		case it.live == nil:
			return needGone
		case it.orphan:
			return needOrphan
		case !opts.Prune:
			return needPruneOff
		}
		return needDelete
	case it.pending || (it.namespaced && newNamespaces[it.key.Namespace]):
		return needCreate
	case adopting(it, inv):
		// Never the fast path: the plan must say that applying takes it over.
		return needAdopt
	case it.live != nil && !opts.NoFastPath && (it.verdict != nil || unchanged(it.body, it.live, it.hash)):
		// A verdict: the LIST found it unchanged and kept it slim.
		return needUnchanged
	}
	return needDryRun
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
	return !tracked && object.Label(it.live, object.ManagedByLabel) != object.ManagedByValue
}

// dryRunFunc asks the server what applying an item would make of it.
type dryRunFunc func(ctx context.Context, it *item) (*unstructured.Unstructured, error)

// dryRunAll asks dryRun about every item that needs it, at most limit at
// a time, and settles each with the answer; each goroutine writes only
// its own item. The other items are left alone.
func dryRunAll(ctx context.Context, items []*item, needs []need, limit int, dryRun dryRunFunc) {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(limit)
	for i, it := range items {
		if !needs[i].needsDryRun() {
			continue
		}
		g.Go(func() error {
			after, err := dryRun(gctx, it)
			settle(it, needs[i], after, err)
			return nil
		})
	}
	_ = g.Wait() // goroutines never fail: a refusal is the item's
}

// settle sets an item's change from its need and, for the needs that ask
// the server, the dry-run's answer: after, or the server's refusal err.
func settle(it *item, n need, after *unstructured.Unstructured, err error) {
	switch n {
	case needFailed:
	case needUnchanged:
		it.setUnchanged() // with a current hash: the fast path checked it
	case needCreate:
		it.setChange(nil, it.object())
	case needDryRun, needAdopt:
		adopt := n == needAdopt
		if err != nil {
			it.refused(err, adopt) // a replace, when immutable fields allow it
			return
		}
		it.setChange(it.live, after)
		if adopt {
			it.change.Action, it.action = diff.Adopt, diff.Adopt
		}
		it.reapply = it.action == diff.Unchanged && staleHash(it)
	case needGone:
		it.gone, it.action = true, diff.Unchanged
	case needOrphan:
		// The plan says so, instead of a delete.
		it.setChange(it.live, nil)
		it.change.Fields = nil
		it.change.Action, it.action = diff.Orphan, diff.Orphan
	case needPruneOff:
		it.action = diff.Unchanged
	case needDelete:
		it.setChange(it.live, nil)
	}
}

// staleHash: the live object does not carry the hash of today's desired
// object. An unchanged one is then applied silently, so that the fast
// path works next time.
func staleHash(it *item) bool {
	return object.Annotation(it.live, AppliedHashAnnotation) != it.hash
}
