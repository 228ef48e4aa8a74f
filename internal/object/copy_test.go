package object

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestWithMetadataLeavesTheOriginalAlone(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "a", "namespace": "x", "labels": map[string]any{"k": "v"}},
		"data":     map[string]any{"key": "value"},
	}}
	c := WithMetadata(u)
	c.SetNamespace("y")
	c.SetLabels(map[string]string{"k": "changed"})
	c.SetAnnotations(map[string]string{"a": "b"})
	c.Object["kind"] = "Secret"
	if u.GetNamespace() != "x" || u.GetLabels()["k"] != "v" || u.GetAnnotations() != nil || u.GetKind() != "ConfigMap" {
		t.Fatalf("original changed: %v", u.Object)
	}
	if c.GetNamespace() != "y" || c.GetLabels()["k"] != "changed" || c.GetName() != "a" {
		t.Fatalf("copy: %v", c.Object)
	}
	if (&unstructured.Unstructured{}).Object != nil && WithMetadata(&unstructured.Unstructured{}).Object == nil {
		t.Fatal("nil object")
	}
}
