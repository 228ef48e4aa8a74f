package object

import "cmp"

// Class is the place of an object within its wave (SPEC section 1):
// Namespaces first, then CustomResourceDefinitions, other cluster-scoped
// objects, namespaced objects.
type Class int

// The classes, in apply order.
const (
	ClassNamespace Class = iota
	ClassCRD
	ClassClusterScoped
	ClassNamespaced
)

// ClassOf is the class of the object k; namespaced says whether its kind
// lives in namespaces.
func ClassOf(k Key, namespaced bool) Class {
	switch {
	case k.Group == "" && k.Kind == "Namespace":
		return ClassNamespace
	case k.Group == "apiextensions.k8s.io" && k.Kind == "CustomResourceDefinition":
		return ClassCRD
	case !namespaced:
		return ClassClusterScoped
	}
	return ClassNamespaced
}

// Placed is an object as the apply order sees it.
type Placed struct {
	Key        Key
	Wave       int
	Namespaced bool
}

// CompareApply orders objects as mcp applies them, a total order: by
// wave, then class (Namespaces, CRDs, other cluster-scoped, namespaced),
// then key. apply uses it; render prints in it.
func CompareApply(a, b Placed) int {
	return cmp.Or(
		cmp.Compare(a.Wave, b.Wave),
		cmp.Compare(ClassOf(a.Key, a.Namespaced), ClassOf(b.Key, b.Namespaced)),
		Compare(a.Key, b.Key),
	)
}
