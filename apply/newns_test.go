package apply

import (
	"errors"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"mcp.dev/mcp/internal/object"
)

// TestNewNamespaces: only a desired, plannable Namespace the cluster does
// not hold is new.
func TestNewNamespaces(t *testing.T) {
	desired := Object{Obj: &unstructured.Unstructured{}}
	ns := func(name string) object.Key { return object.Key{Kind: "Namespace", Name: name} }
	items := []*item{
		{src: desired, key: ns("fresh")},
		{src: desired, key: ns("there"), live: &unstructured.Unstructured{}},
		{src: desired, key: ns("refused"), err: errors.New("forbidden")},
		{key: ns("pruned")}, // in the inventory only
		{src: desired, key: object.Key{Kind: "ConfigMap", Namespace: "fresh", Name: "cm"}},
		{src: desired, key: object.Key{Group: "example.com", Kind: "Namespace", Name: "custom"}},
	}
	got := newNamespaces(items)
	if len(got) != 1 || !got["fresh"] {
		t.Fatalf("newNamespaces = %v, want fresh only", got)
	}
}
