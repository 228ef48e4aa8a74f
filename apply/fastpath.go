package apply

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"mcp.dev/mcp/diff"
	"mcp.dev/mcp/internal/object"
)

// AppliedHashAnnotation holds a hash of the desired object mcp last
// applied. An object whose live copy carries the hash of today's desired
// object, and holds every desired field with an equal value, is unchanged
// without asking the server for a dry-run.
const AppliedHashAnnotation = "mcp.dev/applied-hash"

// withHash returns a copy of desired carrying the applied-hash annotation.
func withHash(desired *unstructured.Unstructured, hash string) *unstructured.Unstructured {
	out := object.WithMetadata(desired)
	ann := out.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[AppliedHashAnnotation] = hash
	out.SetAnnotations(ann)
	return out
}

// stripHash returns u without the applied-hash annotation (a copy when
// it had one): the hash is mcp's bookkeeping, never a change to show.
func stripHash(u *unstructured.Unstructured) *unstructured.Unstructured {
	if u == nil {
		return nil
	}
	ann := u.GetAnnotations()
	if _, ok := ann[AppliedHashAnnotation]; !ok {
		return u
	}
	out := object.WithMetadata(u)
	delete(ann, AppliedHashAnnotation)
	if len(ann) == 0 {
		unstructured.RemoveNestedField(out.Object, "metadata", "annotations")
	} else {
		out.SetAnnotations(ann)
	}
	return out
}

// unchanged is the fast path: live was applied from this very desired
// object (same hash) and still holds every desired field with an equal
// value. Fields the server added (defaults, status, clusterIP) and fields
// of other managers do not matter; a field changed by hand does. The
// desired object is compact (Object.Compact), decoded only when live
// carries its hash.
func unchanged(desired []byte, live *unstructured.Unstructured, hash string) bool {
	if object.Annotation(live, AppliedHashAnnotation) != hash {
		return false
	}
	return contains(live, decodeJSON(desired))
}

// contains reports whether every field of desired is in live with an equal
// value. It projects live onto the shape of desired and lets diff.Compare
// judge, so that equal quantities ("1000m" and "1") and numbers (1 and
// 1.0) are equal here exactly as they are in a plan.
//
// Only desired is normalized: projecting live onto its shape already
// leaves out what normalizing live would drop (status, server-owned
// metadata), and copying a live object with its managedFields for each
// of thousands of objects was most of a no-op reconcile's work.
func contains(live, desired *unstructured.Unstructured) bool {
	d := diff.Normalize(desired) // a Secret's stringData becomes data, as stored
	// live projected onto normalized desired holds none of what
	// normalizing drops: neither needs another copy.
	projected, _ := project(live.Object, d.Object).(map[string]any)
	return len(diff.CompareNormalized(d, &unstructured.Unstructured{Object: projected})) == 0
}

// project returns the part of live that has the shape of desired: maps
// keep only desired's keys, lists of equal length are projected element by
// element, and anything else is live's own value (a list of another length
// then differs, as it should).
func project(live, desired any) any {
	switch d := desired.(type) {
	case map[string]any:
		l, ok := live.(map[string]any)
		if !ok {
			return live
		}
		out := make(map[string]any, len(d))
		for k, dv := range d {
			if lv, ok := l[k]; ok {
				out[k] = project(lv, dv)
			} else if empty(dv) {
				// The server drops some empty fields ("annotations: {}");
				// the dry-run would agree that nothing changes.
				out[k] = dv
			}
		}
		return out
	case []any:
		l, ok := live.([]any)
		if !ok || len(l) != len(d) {
			return live
		}
		out := make([]any, len(d))
		for i := range d {
			out[i] = project(l[i], d[i])
		}
		return out
	default:
		return live
	}
}

// empty reports an empty map, an empty list or null.
func empty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	return false
}
