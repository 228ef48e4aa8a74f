package apply

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"mcp.dev/mcp/diff"
	"mcp.dev/mcp/internal/object"
)

// TestPlanKeepsUnchangedObjectsSlim: a plan keeps only the metadata of
// the live objects its LIST found unchanged, with their health judged from
// the whole object; a changed object is kept whole.
func TestPlanKeepsUnchangedObjectsSlim(t *testing.T) {
	a, _ := newApplier(t, "eu", testOptions(t))
	// No controller runs: kstatus finds 0 of the Deployment's 2 replicas;
	// its metadata alone would say 0 of 1 (the default).
	desired := objects(t, namespace("slim")+configMaps("slim", 2)+`---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: slim}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: example.invalid/web:1}]}
`)
	applyOK(t, a, desired)

	cm := object.Key{Kind: "ConfigMap", Namespace: "slim", Name: "cm-000"}
	if _, err := dyn(t, "eu").Resource(cmGVR).Namespace("slim").Apply(context.Background(), "cm-000",
		&unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": "cm-000", "namespace": "slim"}, "data": map[string]any{"i": "by hand"}}},
		metavOpts("someone")); err != nil {
		t.Fatal(err)
	}

	p := plan(t, a, desired)
	if ch, _ := changeOf(p, cm); ch.Action != diff.Update {
		t.Fatalf("the ConfigMap changed by hand: %v", ch.Action)
	}
	var slim int
	for _, it := range p.items {
		_, hasData := it.live.Object["data"]
		_, hasSpec := it.live.Object["spec"]
		switch {
		case it.key == cm:
			if !hasData || it.verdict != nil {
				t.Errorf("%s changed, yet kept slim: %v", it.key, it.live.Object)
			}
		case it.action == diff.Unchanged:
			if hasData || hasSpec || it.verdict == nil {
				t.Errorf("%s unchanged, yet kept whole (or without a verdict): %v", it.key, it.live.Object)
			}
			slim++
		}
	}
	if slim != 3 { // the Namespace, cm-001, the Deployment
		t.Errorf("%d objects kept slim, want 3", slim)
	}
	// A slim copy keeps what a plan reads (TestSlimCopiesAreShared).
	for _, it := range p.items {
		if it.verdict == nil {
			continue
		}
		md := it.live.Object["metadata"].(map[string]any)
		l, _ := md["labels"].(map[string]any)
		a, _ := md["annotations"].(map[string]any)
		if len(md) != 2 || len(l) != 1 || l[object.ManagedByLabel] != object.ManagedByValue || a[object.PlacementAnnotation] == nil || a[AppliedHashAnnotation] != nil {
			t.Errorf("%s kept slim as %v", it.key, md)
		}
	}
	r := a.Apply(context.Background(), p)
	if r.Health.State != HealthProgressing || len(r.Health.Unhealthy) != 1 || r.Health.Unhealthy[0].Key.Name != "web" ||
		r.Health.Unhealthy[0].Status != status.InProgressStatus.String() || r.Health.Unhealthy[0].Message != "Replicas: 0/2" {
		t.Fatalf("health %+v, want the Deployment in progress with 0 of 2 replicas", r.Health)
	}
}

// TestPartialListDropsVerdicts: a verdict the slimmer gave while a LIST
// streamed in stands only with its slim copy. When that LIST fails part
// way, the object is read whole with a GET, and is judged from that.
func TestPartialListDropsVerdicts(t *testing.T) {
	a, _ := newApplier(t, "eu", testOptions(t))
	desired := objects(t, namespace("partial")+configMaps("partial", 1))
	applyOK(t, a, desired)

	p := &Plan{inventory: inventory{}}
	if err := a.mapDesired(p, desired); err != nil {
		t.Fatal(err)
	}
	var cm *item
	for _, it := range p.items {
		if it.key.Kind == "ConfigMap" {
			cm = it
		}
	}
	cm.verdict = &verdict{status: status.CurrentStatus} // given before the LIST broke off
	ls := liveSet{
		objs:   map[object.Key]*unstructured.Unstructured{},
		failed: map[schema.GroupVersionResource]error{cm.gvr: errors.New("list configmaps: connection reset")},
	}
	a.getMissing(context.Background(), p, ls, func(it *item) bool { return it == cm }, nil)
	if cm.err != nil || cm.live == nil || cm.live.Object["data"] == nil {
		t.Fatalf("not read whole: err %v, live %v", cm.err, cm.live)
	}
	if cm.verdict != nil {
		t.Errorf("the verdict of a slim copy the plan did not take is still there: %+v", *cm.verdict)
	}
}

// TestSlimCopiesAreShared: unchanged objects of one kind that carry the
// same label and mcp annotations share one slim copy; any difference
// makes another.
func TestSlimCopiesAreShared(t *testing.T) {
	live := func(name, placement string) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{
				"name": name, "namespace": "web", "uid": "uid-" + name,
				"labels":      map[string]any{object.ManagedByLabel: object.ManagedByValue, "app": "web"},
				"annotations": map[string]any{object.PlacementAnnotation: placement, AppliedHashAnnotation: "h-" + name, "note": "x"},
			},
			"data": map[string]any{"k": name},
		}}
	}
	s := newSlimmer(nil, true)
	a, b, c := s.slim(live("a", "web")), s.slim(live("b", "web")), s.slim(live("c", "other"))
	if a != b {
		t.Errorf("two ConfigMaps of placement web: two slim copies")
	}
	if a == c {
		t.Errorf("ConfigMaps of two placements: one slim copy")
	}
	want := map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{
		"labels":      map[string]any{object.ManagedByLabel: object.ManagedByValue},
		"annotations": map[string]any{object.PlacementAnnotation: "web"},
	}}
	if diff := cmp.Diff(want, a.Object); diff != "" {
		t.Errorf("slim copy (-want +got):\n%s", diff)
	}
}
