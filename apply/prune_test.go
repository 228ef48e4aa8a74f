package apply

import (
	"context"
	"errors"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"mcp.dev/mcp/internal/object"
)

func countLive(t *testing.T, cluster, ns string) int {
	t.Helper()
	l, err := dyn(t, cluster).Resource(cmGVR).Namespace(ns).List(context.Background(), metav1.ListOptions{LabelSelector: object.ManagedByLabel + "=mcp"})
	if err != nil {
		t.Fatal(err)
	}
	return len(l.Items)
}

func TestMassPruneGuard(t *testing.T) {
	ctx := context.Background()
	opts := testOptions(t)
	a, _ := newApplier(t, "eu", opts)
	applyOK(t, a, objects(t, namespace("guard")+configMaps("guard", 30)))

	// 24 of 31 would go: refused, nothing deleted, the rest still applied.
	fewer := objects(t, namespace("guard")+configMaps("guard", 6))
	fewer[1].Obj.Object["data"] = map[string]any{"i": "still applied"}
	p := plan(t, a, fewer)
	if !errors.Is(p.PruneErr, ErrMassPrune) {
		t.Fatalf("plan PruneErr = %v, want ErrMassPrune", p.PruneErr)
	}
	r := a.Apply(ctx, p)
	if !errors.Is(r.Err, ErrMassPrune) || r.Deleted != 0 || r.Updated != 1 {
		t.Fatalf("apply: err %v, deleted %d, updated %d", r.Err, r.Deleted, r.Updated)
	}
	if n := countLive(t, "eu", "guard"); n != 30 {
		t.Fatalf("%d ConfigMaps left, want all 30", n)
	}
	if r.Managed != 31 {
		t.Fatalf("managed %d, want 31: refused deletions stay in the inventory", r.Managed)
	}

	// An empty desired state never prunes, whatever the options say.
	allow := opts
	allow.AllowMassPrune = true
	b, _ := newApplier(t, "eu", allow)
	p = plan(t, b, nil)
	if r := b.Apply(ctx, p); !errors.Is(r.Err, ErrEmptyDesired) || r.Deleted != 0 {
		t.Fatalf("empty desired: err %v, deleted %d", r.Err, r.Deleted)
	}

	// Allowed: 24 of 31 deleted.
	r = b.Apply(ctx, plan(t, b, fewer))
	if r.Err != nil || r.Deleted != 24 {
		t.Fatalf("allowed mass prune: err %v, deleted %d, want 24", r.Err, r.Deleted)
	}
	if n := countLive(t, "eu", "guard"); n != 6 {
		t.Fatalf("%d ConfigMaps left, want 6", n)
	}
}

// TestInventoryAcrossRestart: a new Applier (another process, another
// replica) prunes from the inventory on the cluster, and never deletes an
// object that is not in it, even one carrying mcp's label.
func TestInventoryAcrossRestart(t *testing.T) {
	ctx := context.Background()
	opts := testOptions(t)
	a, _ := newApplier(t, "us", opts)
	applyOK(t, a, objects(t, namespace("restart")+configMaps("restart", 4)))

	stranger := objects(t, `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "not-ours", "namespace": "restart"}}`)[0]
	if _, err := dyn(t, "us").Resource(cmGVR).Namespace("restart").Create(ctx, stranger.Obj, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	b, _ := newApplier(t, "us", opts)
	p := plan(t, b, objects(t, namespace("restart")+configMaps("restart", 2)))
	if got := changes(p); len(got) != 2 || got[0] != "delete ConfigMap restart/cm-002" || got[1] != "delete ConfigMap restart/cm-003" {
		t.Fatalf("changes %q", got)
	}
	if r := b.Apply(ctx, p); r.Failures() != nil || r.Deleted != 2 || r.Managed != 3 {
		t.Fatalf("apply: %v, deleted %d, managed %d", r.Failures(), r.Deleted, r.Managed)
	}
	if _, err := dyn(t, "us").Resource(cmGVR).Namespace("restart").Get(ctx, "not-ours", metav1.GetOptions{}); err != nil {
		t.Fatalf("an object outside the inventory was touched: %v", err)
	}
	// The inventory was rewritten: a third Applier has nothing to prune.
	c, _ := newApplier(t, "us", opts)
	requireUnchanged(t, plan(t, c, objects(t, namespace("restart")+configMaps("restart", 2))))
}

// TestNoPrune: with Prune off, or for a placement that does not prune,
// objects that are no longer desired stay on the cluster.
func TestNoPrune(t *testing.T) {
	ctx := context.Background()
	opts := testOptions(t)
	a, _ := newApplier(t, "us", opts)
	applyOK(t, a, objects(t, namespace("noprune")+configMaps("noprune", 3)))

	off := opts
	off.Prune = false
	b, _ := newApplier(t, "us", off)
	p := plan(t, b, objects(t, namespace("noprune")+configMaps("noprune", 2)))
	if got := changes(p); len(got) != 0 {
		t.Fatalf("prune off: changes %q", got)
	}
	if r := b.Apply(ctx, p); r.Managed != 4 {
		t.Fatalf("prune off: managed %d, want 4 (kept for a later prune)", r.Managed)
	}
	p, err := a.Plan(ctx, objects(t, namespace("noprune")+configMaps("noprune", 2)), []string{"test"})
	if err != nil {
		t.Fatal(err)
	}
	// The plan shows what happens: the object is orphaned, not deleted.
	if got, want := changes(p), []string{"orphan ConfigMap noprune/cm-002"}; !slices.Equal(got, want) {
		t.Fatalf("placement without prune: changes %q, want %q", got, want)
	}
	if s := p.Changes.Summary(); s.Delete != 0 || s.Orphan != 1 {
		t.Fatalf("placement without prune: summary %+v, want 0 deletes, 1 orphan", s)
	}
	if r := a.Apply(ctx, p); r.Deleted != 0 || r.Managed != 3 {
		t.Fatalf("placement without prune: deleted %d, managed %d; want 0, 3 (orphaned)", r.Deleted, r.Managed)
	}
	if n := countLive(t, "us", "noprune"); n != 3 {
		t.Fatalf("%d ConfigMaps left, want 3", n)
	}
}
