package apply

import (
	"cmp"
	"slices"
	"strconv"

	"mcp.dev/mcp/internal/object"
)

// class is the place of an object within its wave (SPEC section 1).
type class = object.Class

const classCRD = object.ClassCRD

func classOf(k object.Key, namespaced bool) class { return object.ClassOf(k, namespaced) }

// step is a set of objects that may be applied at the same time.
type step struct {
	wave  int
	class class
	items []*item
}

// waveOf is the object's wave: the rendered one for desired objects, the
// live annotation for objects only in the inventory.
func waveOf(it *item) int {
	if it.src.declared() {
		return it.src.Wave
	}
	if it.live != nil {
		if w, err := strconv.Atoi(object.Annotation(it.live, object.WaveAnnotation)); err == nil {
			return w
		}
	}
	return 0
}

// applyOrder sorts items into steps in SPEC order (object.CompareApply):
// by wave, then Namespaces, CRDs, other cluster-scoped objects, namespaced
// objects. Within a step the items are sorted by key; a step is applied
// concurrently, steps one after another.
func applyOrder(items []*item) []step {
	sorted := slices.Clone(items)
	slices.SortStableFunc(sorted, func(a, b *item) int {
		return object.CompareApply(placed(a), placed(b))
	})
	return group(sorted)
}

func placed(it *item) object.Placed {
	return object.Placed{Key: it.key, Wave: waveOf(it), Namespaced: it.namespaced}
}

// deleteOrder is the reverse of applyOrder: the last wave first,
// namespaced objects before cluster-scoped ones, CRDs and Namespaces last,
// so that nothing is deleted before what lives in it or depends on it.
func deleteOrder(items []*item) []step {
	sorted := slices.Clone(items)
	slices.SortStableFunc(sorted, func(a, b *item) int {
		return cmp.Or(
			cmp.Compare(waveOf(b), waveOf(a)),
			cmp.Compare(classOf(b.key, b.namespaced), classOf(a.key, a.namespaced)),
			object.Compare(a.key, b.key),
		)
	})
	return group(sorted)
}

// group cuts sorted items into steps of equal wave and class.
func group(sorted []*item) []step {
	var steps []step
	for _, it := range sorted {
		w, c := waveOf(it), classOf(it.key, it.namespaced)
		if n := len(steps); n > 0 && steps[n-1].wave == w && steps[n-1].class == c {
			steps[n-1].items = append(steps[n-1].items, it)
			continue
		}
		steps = append(steps, step{wave: w, class: c, items: []*item{it}})
	}
	return steps
}
