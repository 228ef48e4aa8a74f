package object

import (
	"maps"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// WithMetadata returns a copy of u that shares everything but its top
// level and its metadata with u, for setting a name, namespace, labels or
// annotations (each Set of unstructured replaces the map it sets). A
// desired object is never changed in place once rendered: one cluster's
// objects may share their spec with another's, and a deep copy of every
// object would double the memory a render or a plan holds.
func WithMetadata(u *unstructured.Unstructured) *unstructured.Unstructured {
	out := &unstructured.Unstructured{Object: maps.Clone(u.Object)}
	if out.Object == nil {
		out.Object = map[string]any{}
	}
	if md, ok := u.Object["metadata"].(map[string]any); ok {
		out.Object["metadata"] = maps.Clone(md)
	}
	return out
}
