package apply

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"mcp.dev/mcp/internal/object"
)

// TestScopeOfAKindDefinedInTheSameApply: a cluster-scoped kind whose CRD
// comes in the same apply is cluster-scoped to render (object.Scopes),
// to apply while the cluster does not serve it yet (the same Scopes), and
// to apply once the REST mapper answers: the object keeps one key, is
// created without a namespace, and the next plan finds it unchanged.
func TestScopeOfAKindDefinedInTheSameApply(t *testing.T) {
	desired := objects(t, `---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.scope.example.com}
spec:
  group: scope.example.com
  scope: Cluster
  names: {plural: gadgets, singular: gadget, kind: Gadget, listKind: GadgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
---
apiVersion: scope.example.com/v1
kind: Gadget
metadata: {name: g, namespace: stray}
spec: {size: 1}
`)
	gk := schema.GroupKind{Group: "scope.example.com", Kind: "Gadget"}
	scopes := object.ScopesOf(desired, func(o Object) *unstructured.Unstructured { return o.Obj })
	renders, known := scopes.Namespaced(gk)
	if renders || !known {
		t.Fatalf("render's answer: namespaced %v, known %v; want cluster-scoped", renders, known)
	}
	want := object.Key{Group: gk.Group, Kind: gk.Kind, Name: "g"}

	// gadget is the plan's item of the Gadget, with how it was mapped.
	gadget := func(p *Plan) *item {
		t.Helper()
		for _, it := range p.items {
			if it.gvk.GroupKind() == gk {
				if it.err != nil {
					t.Fatalf("plan: %v", it.err)
				}
				return it
			}
		}
		t.Fatal("no Gadget in the plan")
		return nil
	}
	opts := testOptions(t)
	a, _ := newApplier(t, "eu", opts)
	p := plan(t, a, desired)
	if it := gadget(p); !it.pending || it.namespaced != renders || it.key != want {
		t.Fatalf("before the CRD: pending %v, namespaced %v, key %v; want pending, namespaced %v, key %v",
			it.pending, it.namespaced, it.key, renders, want)
	}
	if ch, ok := changeOf(p, want); !ok || ch.Action.String() != "create" {
		t.Fatalf("plan %v: want create %v", changes(p), want)
	}
	if r := applyOK(t, a, desired); r.Created != 2 {
		t.Fatalf("created %d, want the CRD and the Gadget", r.Created)
	}
	g, err := dyn(t, "eu").Resource(schema.GroupVersionResource{Group: gk.Group, Version: "v1", Resource: "gadgets"}).
		Get(context.Background(), "g", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the Gadget is not cluster-scoped on the cluster: %v", err)
	}
	if g.GetNamespace() != "" {
		t.Fatalf("the Gadget has namespace %q", g.GetNamespace())
	}

	b, _ := newApplier(t, "eu", opts)
	p = plan(t, b, desired)
	if it := gadget(p); it.pending || it.namespaced != renders || it.key != want {
		t.Fatalf("served: pending %v, namespaced %v, key %v; want the REST mapper to agree with render (namespaced %v, key %v)",
			it.pending, it.namespaced, it.key, renders, want)
	}
	requireUnchanged(t, p)
}
