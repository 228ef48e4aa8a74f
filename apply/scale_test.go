package apply

import (
	"context"
	"testing"
)

// TestNoOpCost: a reconcile that changes nothing costs requests per kind,
// not per object; one change costs one dry-run and one apply more.
func TestNoOpCost(t *testing.T) {
	const n = 200
	opts := testOptions(t)
	first, firstCount := newApplier(t, "eu", opts)
	desired := objects(t, namespace("scale")+configMaps("scale", n))
	applyOK(t, first, desired)
	// A first apply into a new namespace: one apply per object, no GET or
	// dry-run of objects that cannot exist yet.
	t.Logf("first apply of %d objects: %d requests", len(desired), firstCount.n.Load())
	if got := firstCount.n.Load(); got > int64(len(desired))+15 {
		t.Fatalf("first apply of %d objects cost %d requests", len(desired), got)
	}

	// A new Applier, as after a restart: discovery is read again.
	a, count := newApplier(t, "eu", opts)
	r := applyOK(t, a, desired)
	noop := count.n.Load()
	t.Logf("no-op reconcile of %d objects: %d requests", len(desired), noop)
	if r.Unchanged != len(desired) || r.Created+r.Updated+r.Deleted != 0 {
		t.Fatalf("no-op reconcile: %+v", r)
	}
	if noop >= 15 {
		t.Fatalf("no-op reconcile of %d objects cost %d requests, want < 15", len(desired), noop)
	}

	// Same Applier, one object changed.
	desired[7].Obj.Object["data"] = map[string]any{"i": "changed"}
	count.n.Store(0)
	r = applyOK(t, a, desired)
	one := count.n.Load()
	t.Logf("reconcile of %d objects with one change: %d requests", len(desired), one)
	if r.Updated != 1 || one > 6 {
		t.Fatalf("one change: updated %d with %d requests, want 1 with at most 6", r.Updated, one)
	}

	// A stale hash (as if applied by an older mcp) is refreshed silently.
	live := objects(t, configMaps("scale", 1))[0]
	live.Obj.SetAnnotations(map[string]string{AppliedHashAnnotation: "old", "mcp.dev/placement": "test"})
	if _, err := dyn(t, "eu").Resource(cmGVR).Namespace("scale").Apply(context.Background(), "cm-000", live.Obj,
		metavOpts(opts.FieldManager)); err != nil {
		t.Fatal(err)
	}
	r = applyOK(t, a, desired)
	if r.Unchanged != len(desired) {
		t.Fatalf("stale hash: %+v, want all unchanged", r)
	}
	count.n.Store(0)
	applyOK(t, a, desired)
	if got := count.n.Load(); got > 3 {
		t.Fatalf("after the hash was refreshed a no-op cost %d requests", got)
	}
}
