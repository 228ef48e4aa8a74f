package object

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func crd(group, kind, scope string) *unstructured.Unstructured {
	spec := map[string]any{"group": group, "names": map[string]any{"kind": kind, "plural": "xs"}}
	if scope != "" {
		spec["scope"] = scope
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
		"metadata": map[string]any{"name": "xs." + group}, "spec": spec,
	}}
}

func TestScopes(t *testing.T) {
	objs := []*unstructured.Unstructured{
		crd("example.com", "Gadget", "Cluster"),
		crd("example.com", "Widget", "Namespaced"),
		crd("example.com", "Thing", ""),                     // no scope: the API's default, Namespaced
		crd("example.com", "", "Cluster"),                   // no kind: defines nothing
		crd("storage.k8s.io", "StorageClass", "Namespaced"), // a CRD overrides the table
		{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "c"},
			"spec": map[string]any{"group": "example.com", "names": map[string]any{"kind": "Fake"}, "scope": "Cluster"}}},
		nil,
	}
	s := ScopesOf(objs, func(u *unstructured.Unstructured) *unstructured.Unstructured { return u })
	tests := map[string]struct {
		gk                     schema.GroupKind
		namespaced, known, def bool
	}{
		"built-in cluster-scoped": {gk: schema.GroupKind{Kind: "Namespace"}, known: true},
		"built-in in a group":     {gk: schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}, known: true},
		"built-in namespaced":     {gk: schema.GroupKind{Kind: "ConfigMap"}, namespaced: true},
		"same kind, other group":  {gk: schema.GroupKind{Group: "example.com", Kind: "Namespace"}, namespaced: true},
		"CRD, cluster-scoped":     {gk: schema.GroupKind{Group: "example.com", Kind: "Gadget"}, known: true, def: true},
		"CRD, namespaced":         {gk: schema.GroupKind{Group: "example.com", Kind: "Widget"}, namespaced: true, known: true, def: true},
		"CRD without a scope":     {gk: schema.GroupKind{Group: "example.com", Kind: "Thing"}, namespaced: true, known: true, def: true},
		"CRD without a kind":      {gk: schema.GroupKind{Group: "example.com"}, namespaced: true},
		"CRD over the table":      {gk: schema.GroupKind{Group: "storage.k8s.io", Kind: "StorageClass"}, namespaced: true, known: true, def: true},
		"not a CRD":               {gk: schema.GroupKind{Group: "example.com", Kind: "Fake"}, namespaced: true},
		"unknown custom kind":     {gk: schema.GroupKind{Group: "other.example.com", Kind: "Gadget"}, namespaced: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			namespaced, known := s.Namespaced(tc.gk)
			if namespaced != tc.namespaced || known != tc.known {
				t.Errorf("Namespaced(%v) = %v, %v; want %v, %v", tc.gk, namespaced, known, tc.namespaced, tc.known)
			}
			if got := s.Defined(tc.gk); got != tc.def {
				t.Errorf("Defined(%v) = %v, want %v", tc.gk, got, tc.def)
			}
		})
	}
}

// TestScopesWithoutObjects: the table alone, as for a render without CRDs.
func TestScopesWithoutObjects(t *testing.T) {
	var s Scopes
	if n, k := s.Namespaced(schema.GroupKind{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}); n || !k {
		t.Errorf("CustomResourceDefinition: namespaced %v, known %v", n, k)
	}
	if n, k := s.Namespaced(schema.GroupKind{Group: "apps", Kind: "Deployment"}); !n || k {
		t.Errorf("Deployment: namespaced %v, known %v", n, k)
	}
}
