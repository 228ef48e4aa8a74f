package apply

import (
	"maps"

	"mcp.dev/mcp/diff"
)

// inInventory: a desired object belongs in the inventory once mcp may
// have applied it: its kind is served (it has a resource) or defined by a
// CRD of the same apply. One whose kind the cluster does not know
// (ErrUnknownKind) or could not map has neither.
func inInventory(it *item) bool {
	return it.src.declared() && (it.gvr.Resource != "" || it.pending)
}

// entryOf is the inventory entry of a desired object.
func entryOf(it *item) entry {
	return entry{Key: it.key, Version: it.gvk.Version, Placement: it.placement}
}

// inventoryBefore is the inventory Apply records before it touches any
// object: the one read, with every desired object it may apply, so that
// a crash mid-apply leaves nothing behind that prune would not find. It
// is read itself when that holds them all already, as on a no-op
// reconcile: nothing is copied then.
func inventoryBefore(items []*item, read inventory) inventory {
	missing := 0
	for _, it := range items {
		if inInventory(it) && read[it.key] != entryOf(it) {
			missing++
		}
	}
	if missing == 0 {
		return read
	}
	inv := make(inventory, len(read)+missing)
	maps.Copy(inv, read)
	for _, it := range items {
		if inInventory(it) {
			inv[it.key] = entryOf(it)
		}
	}
	return inv
}

// inventoryAfter is what mcp manages once Apply is done: the desired
// objects, and the objects of the inventory read that are still on the
// cluster and still mcp's, that is all but the pruned, the gone and the
// orphaned. An object whose prune failed, or was never tried, stays. It
// is read itself when nothing came or went.
func inventoryAfter(items []*item, read inventory, outcomes map[*item]*outcome) inventory {
	same, n := true, 0
	for _, it := range items {
		e, ok := kept(it, read, outcomes)
		if ok {
			n++
		}
		r, was := read[it.key]
		same = same && ok == was && r == e
	}
	if same && n == len(read) {
		return read
	}
	inv := make(inventory, n)
	for _, it := range items {
		if e, ok := kept(it, read, outcomes); ok {
			inv[it.key] = e
		}
	}
	return inv
}

// kept is an item's entry in the inventory after Apply, if it has one.
func kept(it *item, read inventory, outcomes map[*item]*outcome) (entry, bool) {
	switch {
	case it.src.declared():
		if inInventory(it) {
			return entryOf(it), true
		}
	case it.gone || it.orphan:
	case it.action == diff.Delete && outcomes[it] != nil && outcomes[it].done:
	default:
		e, ok := read[it.key]
		return e, ok
	}
	return entry{}, false
}
