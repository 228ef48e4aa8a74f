// Package object holds what several packages share about Kubernetes
// objects: the key that identifies one object on a cluster, the order
// objects are applied in, and whether a kind is namespaced (Scopes).
//
//	k := object.KeyOf(u) // {Group: "apps", Kind: "Deployment", Namespace: "web", Name: "web"}
//	fmt.Println(k)       // apps/Deployment web/web
package object

import (
	"cmp"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The label and annotations mcp puts on every object it applies (SPEC
// section 2), and the one that orders applies (SPEC section 1).
const (
	// ManagedByLabel marks every object mcp applies, value ManagedByValue;
	// live objects are listed by it.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	ManagedByValue = "mcp"
	// PlacementAnnotation names the Placement that put an object on a cluster.
	PlacementAnnotation = "mcp.dev/placement"
	// WaveAnnotation orders applies: lower waves first (integer, default 0).
	WaveAnnotation = "mcp.dev/wave"
	// WaveTimeoutAnnotation extends how long the object's wave may take to
	// become healthy (a Go duration, "90s").
	WaveTimeoutAnnotation = "mcp.dev/wave-timeout"
	// ReplaceAnnotation says what mcp does when the server refuses a change
	// because it touches immutable fields: ReplaceOnImmutable deletes the
	// object and creates it anew (the default for batch/v1 Jobs),
	// ReplaceDisabled never does (the default for every other kind).
	ReplaceAnnotation  = "mcp.dev/replace"
	ReplaceOnImmutable = "on-immutable"
	ReplaceDisabled    = "disabled"
	// SystemNamespace is mcp's own namespace in every cluster: its
	// inventories live there, and the repo may not place objects in it.
	SystemNamespace = "mcp-system"
)

// Key identifies one object on one cluster. The API version is not part of
// it: apps/v1 and apps/v1beta1 Deployments of one name are the same object.
type Key struct {
	Group     string
	Kind      string
	Namespace string // "" for cluster-scoped objects
	Name      string
}

// KeyOf returns the key of u.
func KeyOf(u *unstructured.Unstructured) Key {
	gvk := u.GroupVersionKind()
	return Key{Group: gvk.Group, Kind: gvk.Kind, Namespace: u.GetNamespace(), Name: u.GetName()}
}

// String is the short form used in messages: "apps/Deployment web/web",
// "Namespace web" (the core group and an empty namespace are left out).
func (k Key) String() string {
	s := k.Kind
	if k.Group != "" {
		s = k.Group + "/" + s
	}
	if k.Namespace != "" {
		return s + " " + k.Namespace + "/" + k.Name
	}
	return s + " " + k.Name
}

// Compare orders keys by group, kind, namespace and name; it gives the
// stable order of printed plans and rendered streams.
func Compare(a, b Key) int {
	return cmp.Or(
		cmp.Compare(a.Group, b.Group),
		cmp.Compare(a.Kind, b.Kind),
		cmp.Compare(a.Namespace, b.Namespace),
		cmp.Compare(a.Name, b.Name),
	)
}

// Duplicates returns every item whose key an earlier item has, paired with
// the latest earlier item of that key, in the order of items. It is the
// one judge of "the same object twice": in a render, in a plan's desired
// objects and in a diff.
func Duplicates[T any](items []T, key func(T) Key) [][2]T {
	var out [][2]T
	last := make(map[Key]T, len(items))
	for _, it := range items {
		k := key(it)
		if prev, ok := last[k]; ok {
			out = append(out, [2]T{prev, it})
		}
		last[k] = it
	}
	return out
}

// Annotation is u's annotation key, "" when it has none. Unlike
// u.GetAnnotations, it copies nothing: for thousands of objects per plan,
// those copies were most of what reading one annotation cost.
func Annotation(u *unstructured.Unstructured, key string) string {
	s, _, _ := unstructured.NestedString(u.Object, "metadata", "annotations", key)
	return s
}

// Label is u's label key, "" when it has none, copying nothing.
func Label(u *unstructured.Unstructured, key string) string {
	s, _, _ := unstructured.NestedString(u.Object, "metadata", "labels", key)
	return s
}
