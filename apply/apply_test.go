package apply

import (
	"context"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"mcp.dev/mcp/diff"
	"mcp.dev/mcp/internal/object"
)

var (
	cmGVR     = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	deployGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
)

func TestCreateUpdatePrune(t *testing.T) {
	ctx := context.Background()
	a, _ := newApplier(t, "eu", testOptions(t))
	desired := objects(t, namespace("crud")+configMaps("crud", 3))

	p := plan(t, a, desired)
	if got, want := changes(p), []string{"create ConfigMap crud/cm-000", "create ConfigMap crud/cm-001", "create ConfigMap crud/cm-002", "create Namespace crud"}; !slices.Equal(got, want) {
		t.Fatalf("first plan:\n got %q\nwant %q", got, want)
	}
	r := a.Apply(ctx, p)
	if err := r.Failures(); err != nil {
		t.Fatal(err)
	}
	if r.Created != 4 || r.Managed != 4 {
		t.Fatalf("created %d, managed %d; want 4, 4", r.Created, r.Managed)
	}
	cm, err := dyn(t, "eu").Resource(cmGVR).Namespace("crud").Get(ctx, "cm-001", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm.GetLabels()[object.ManagedByLabel] != "mcp" || cm.GetAnnotations()[object.PlacementAnnotation] != "test" || cm.GetAnnotations()[AppliedHashAnnotation] == "" {
		t.Fatalf("labels %v, annotations %v", cm.GetLabels(), cm.GetAnnotations())
	}

	// Change one, drop one.
	desired = objects(t, namespace("crud")+configMaps("crud", 2))
	desired[2].Obj.Object["data"] = map[string]any{"i": "changed"}
	p = plan(t, a, desired)
	if got, want := changes(p), []string{"update ConfigMap crud/cm-001", "delete ConfigMap crud/cm-002"}; !slices.Equal(got, want) {
		t.Fatalf("second plan:\n got %q\nwant %q", got, want)
	}
	ch, _ := changeOf(p, object.Key{Kind: "ConfigMap", Namespace: "crud", Name: "cm-001"})
	if len(ch.Fields) != 1 || ch.Fields[0].Path != "data.i" || ch.Fields[0].Old != "1" || ch.Fields[0].New != "changed" {
		t.Fatalf("fields of the update: %+v", ch.Fields)
	}
	r = a.Apply(ctx, p)
	if err := r.Failures(); err != nil {
		t.Fatal(err)
	}
	if r.Updated != 1 || r.Deleted != 1 || r.Managed != 3 {
		t.Fatalf("updated %d, deleted %d, managed %d; want 1, 1, 3", r.Updated, r.Deleted, r.Managed)
	}
	if _, err := dyn(t, "eu").Resource(cmGVR).Namespace("crud").Get(ctx, "cm-002", metav1.GetOptions{}); err == nil {
		t.Fatal("cm-002 was not pruned")
	}
	requireUnchanged(t, plan(t, a, desired))
}

const deployment = `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: drift}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports: [{containerPort: 80}]
        resources:
          requests: {cpu: 1000m, memory: 64Mi}
          limits: {cpu: 2, memory: 0.5Gi}
`

func TestDriftByHand(t *testing.T) {
	ctx := context.Background()
	a, _ := newApplier(t, "eu", testOptions(t))
	desired := objects(t, namespace("drift")+deployment)
	applyOK(t, a, desired)
	requireUnchanged(t, plan(t, a, desired))

	// Someone scales by hand, as another field manager.
	patch := []byte(`{"spec":{"replicas":5}}`)
	if _, err := dyn(t, "eu").Resource(deployGVR).Namespace("drift").Patch(ctx, "web", types.MergePatchType, patch,
		metav1.PatchOptions{FieldManager: "kubectl-scale"}); err != nil {
		t.Fatal(err)
	}
	p := plan(t, a, desired)
	ch, _ := changeOf(p, object.Key{Group: "apps", Kind: "Deployment", Namespace: "drift", Name: "web"})
	if ch.Action != diff.Update || len(ch.Fields) != 1 || ch.Fields[0].Path != "spec.replicas" {
		t.Fatalf("drift: %s %+v; want update of spec.replicas", ch.Action, ch.Fields)
	}
	if old, _ := ch.Fields[0].Old.(int64); old != 5 {
		t.Fatalf("old replicas %v, want 5", ch.Fields[0].Old)
	}
	r := a.Apply(ctx, p)
	if err := r.Failures(); err != nil {
		t.Fatal(err)
	}
	if r.Updated != 1 || len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "kubectl-scale") {
		t.Fatalf("updated %d, warnings %q; want 1 and a conflict with kubectl-scale", r.Updated, r.Warnings)
	}
	live, err := dyn(t, "eu").Resource(deployGVR).Namespace("drift").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n, _, _ := unstructured.NestedInt64(live.Object, "spec", "replicas"); n != 2 {
		t.Fatalf("replicas %d after apply, want 2", n)
	}
	requireUnchanged(t, plan(t, a, desired))
}

// TestSecondManagerLeftAlone: fields another manager owns and mcp does not
// set stay as they are, and are no change.
func TestSecondManagerLeftAlone(t *testing.T) {
	ctx := context.Background()
	a, _ := newApplier(t, "eu", testOptions(t))
	desired := objects(t, namespace("second")+configMaps("second", 1))
	applyOK(t, a, desired)

	other := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "cm-000", "namespace": "second", "labels": map[string]any{"team": "x"}},
		"data":     map[string]any{"extra": "theirs"},
	}}
	if _, err := dyn(t, "eu").Resource(cmGVR).Namespace("second").Apply(ctx, "cm-000", other, metav1.ApplyOptions{FieldManager: "other"}); err != nil {
		t.Fatal(err)
	}
	requireUnchanged(t, plan(t, a, desired))
	desired[1].Obj.Object["data"] = map[string]any{"i": "new"}
	applyOK(t, a, desired)
	live, err := dyn(t, "eu").Resource(cmGVR).Namespace("second").Get(ctx, "cm-000", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data, _, _ := unstructured.NestedStringMap(live.Object, "data")
	if data["extra"] != "theirs" || data["i"] != "new" || live.GetLabels()["team"] != "x" {
		t.Fatalf("data %v, labels %v: the other manager's fields must stay", data, live.GetLabels())
	}
}
