package apply

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"mcp.dev/mcp/diff"
	"mcp.dev/mcp/internal/object"
)

func unknownKind(it *item) {
	it.err = fmt.Errorf("ConfigMap: %w", ErrUnknownKind)
	it.gvr = schema.GroupVersionResource{}
}

func unmapped(it *item) {
	it.err = errors.New("discovery: connection refused")
	it.gvr = schema.GroupVersionResource{}
}

func movedPlacement(it *item) { it.placement = "moved" }

// entries is an inventory of the ConfigMaps named, as testItem makes
// them (placement web).
func entries(names ...string) inventory { return entriesOf("web", names...) }

func entriesOf(placement string, names ...string) inventory {
	inv := inventory{}
	for _, n := range names {
		k := object.Key{Kind: "ConfigMap", Namespace: "web", Name: n}
		inv[k] = entry{Key: k, Version: "v1", Placement: placement}
	}
	return inv
}

// TestInventoryBefore: what Apply records before it touches any object.
func TestInventoryBefore(t *testing.T) {
	tests := map[string]struct {
		items []*item
		read  inventory
		want  inventory
	}{
		"a desired object joins": {
			items: []*item{testItem(t, "a")}, read: entries(), want: entries("a"),
		},
		"a desired object's placement is today's": {
			items: []*item{testItem(t, "a", movedPlacement)}, read: entries("a"),
			want: entriesOf("moved", "a"),
		},
		"no longer desired: stays until the prune": {
			items: []*item{testItem(t, "a", onCluster, inventoryOnly)}, read: entries("a"), want: entries("a"),
		},
		"no longer desired: the entry read is kept": {
			items: []*item{testItem(t, "a", onCluster, inventoryOnly)}, read: entriesOf("old", "a"), want: entriesOf("old", "a"),
		},
		"a kind the cluster does not serve": {
			items: []*item{testItem(t, "a", unknownKind)}, read: entries(), want: entries(),
		},
		"a kind whose mapping failed": {
			items: []*item{testItem(t, "a", unmapped)}, read: entries(), want: entries(),
		},
		"a kind of a CRD of the same apply": {
			items: []*item{testItem(t, "a", pendingKind)}, read: entries(), want: entries("a"),
		},
		"refused by the dry-run: the apply tries it": {
			items: []*item{testItem(t, "a", onCluster, failed)}, read: entries(), want: entries("a"),
		},
		"a nil inventory read": {
			items: []*item{testItem(t, "a")}, want: entries("a"),
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			read := maps.Clone(tc.read)
			if got := inventoryBefore(tc.items, tc.read); !got.equal(tc.want) {
				t.Fatalf("inventory = %v, want %v", got.sorted(), tc.want.sorted())
			}
			if !read.equal(tc.read) {
				t.Fatalf("the inventory read changed to %v", tc.read.sorted())
			}
		})
	}
}

// TestInventoryAfter: what mcp manages once Apply is done, from the
// items and what happened to them.
func TestInventoryAfter(t *testing.T) {
	kept := func(it *item) { it.action = diff.Keep }
	pruneOff := func(it *item) { it.action = diff.Unchanged }
	gone := func(it *item) { it.gone, it.action = true, diff.Unchanged }
	done := &outcome{done: true}
	failedDelete := &outcome{err: &ObjectError{Op: "delete", Err: errors.New("forbidden")}}
	tests := map[string]struct {
		it   *item
		o    *outcome
		read inventory
		want inventory
	}{
		"applied":                           {it: testItem(t, "a", onCluster), o: done, read: entries(), want: entries("a")},
		"not applied (a wave waits)":        {it: testItem(t, "a"), o: &outcome{}, read: entries(), want: entries("a")},
		"its apply failed":                  {it: testItem(t, "a"), o: &outcome{err: &ObjectError{Op: "apply"}}, read: entries(), want: entries("a")},
		"moved to another placement":        {it: testItem(t, "a", onCluster, movedPlacement), o: done, read: entries("a"), want: entriesOf("moved", "a")},
		"a kind the cluster does not serve": {it: testItem(t, "a", unknownKind), o: &outcome{}, read: entries(), want: entries()},
		"pruned":                            {it: testItem(t, "a", onCluster, inventoryOnly), o: done, read: entries("a"), want: entries()},
		"its prune failed":                  {it: testItem(t, "a", onCluster, inventoryOnly), o: failedDelete, read: entries("a"), want: entries("a")},
		"prune not tried (guard, waves)":    {it: testItem(t, "a", onCluster, inventoryOnly), o: &outcome{}, read: entries("a"), want: entries("a")},
		"no outcome":                        {it: testItem(t, "a", onCluster, inventoryOnly), read: entries("a"), want: entries("a")},
		"gone from the cluster":             {it: testItem(t, "a", inventoryOnly, gone), o: &outcome{}, read: entries("a"), want: entries()},
		"orphaned":                          {it: testItem(t, "a", onCluster, inventoryOnly, orphaned), o: &outcome{}, read: entries("a"), want: entries()},
		"a Namespace kept":                  {it: testItem(t, "a", onCluster, inventoryOnly, kept), o: &outcome{}, read: entries("a"), want: entries("a")},
		"prune off":                         {it: testItem(t, "a", onCluster, inventoryOnly, pruneOff), o: &outcome{}, read: entries("a"), want: entries("a")},
		"inventory only, not planned":       {it: testItem(t, "a", inventoryOnly, failed), o: &outcome{}, read: entries("a"), want: entries("a")},
		"inventory only, no longer read":    {it: testItem(t, "a", onCluster, inventoryOnly, pruneOff), o: &outcome{}, read: entries(), want: entries()},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			outcomes := map[*item]*outcome{}
			if tc.o != nil {
				outcomes[tc.it] = tc.o
			}
			if got := inventoryAfter([]*item{tc.it}, tc.read, outcomes); !got.equal(tc.want) {
				t.Fatalf("inventory = %v, want %v", got.sorted(), tc.want.sorted())
			}
		})
	}
}

// TestInventoryUnchangedIsRead: when nothing comes or goes, as on a
// no-op reconcile, both inventories are the one read, not copies of it;
// an entry of the inventory read that no item stands for (its kind went
// with its CRD) still leaves.
func TestInventoryUnchangedIsRead(t *testing.T) {
	same := func(a, b inventory) bool {
		return reflect.ValueOf(a).UnsafePointer() == reflect.ValueOf(b).UnsafePointer()
	}
	items := []*item{testItem(t, "a", onCluster), testItem(t, "b", onCluster)}
	read := entries("a", "b")
	if got := inventoryBefore(items, read); !same(got, read) {
		t.Errorf("before: a copy %v of the inventory read", got.sorted())
	}
	if got := inventoryAfter(items, read, map[*item]*outcome{}); !same(got, read) {
		t.Errorf("after: a copy %v of the inventory read", got.sorted())
	}

	withStray := entries("a", "b", "stray")
	if got := inventoryAfter(items, withStray, map[*item]*outcome{}); same(got, withStray) || !got.equal(read) {
		t.Errorf("after, with an entry no item stands for: %v, want %v", got.sorted(), read.sorted())
	}
	moved := []*item{testItem(t, "a", onCluster, movedPlacement), testItem(t, "b", onCluster)}
	want := entries("b")
	maps.Copy(want, entriesOf("moved", "a"))
	for _, f := range []func([]*item, inventory) inventory{
		inventoryBefore,
		func(items []*item, read inventory) inventory { return inventoryAfter(items, read, nil) },
	} {
		if got := f(moved, read); same(got, read) || !got.equal(want) || !read.equal(entries("a", "b")) {
			t.Errorf("a moved placement: %v, want %v; read %v", got.sorted(), want.sorted(), read.sorted())
		}
	}
}
