package apply

import (
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"mcp.dev/mcp/internal/object"
)

// slimmer judges live objects while their LIST streams in. One that the
// fast path finds unchanged (it carries the hash of today's desired object
// and holds every desired field) is kept as its metadata only, with its
// health judged from the whole object first. A no-op plan of thousands of
// objects then holds none of their contents, and the whole objects are
// garbage as soon as they are decoded.
//
// The verdict is the item's own (item.verdict), set by the LIST of the
// item's kind alone; it stands only with the slim copy, so an item whose
// copy the plan does not take (its LIST failed part way) loses it.
type slimmer struct {
	desired map[object.Key]*item // read only while the LISTs run
	shared  object.SharedMaps    // labels and annotations of slim copies
}

// newSlimmer returns the slimmer of a plan's desired items; nil (keep
// everything whole) without the fast path.
func newSlimmer(items []*item, fastPath bool) *slimmer {
	if !fastPath {
		return nil
	}
	s := &slimmer{desired: make(map[object.Key]*item, len(items))}
	for _, it := range items {
		if it.src.declared() && it.err == nil && !it.pending {
			s.desired[it.key] = it
		}
	}
	return s
}

// keep returns what a plan keeps of a listed object: its slim copy when
// it is unchanged, else all of it.
func (s *slimmer) keep(u *unstructured.Unstructured) *unstructured.Unstructured {
	if s == nil {
		return u
	}
	k := object.KeyOf(u)
	it := s.desired[k]
	if it == nil || !unchangedJSON(it.body, u, it.hash) {
		return u
	}
	v := healthOf(u)
	it.verdict = &v // only this LIST writes it: the item is of its kind
	return s.slim(u)
}

// slim is what a plan reads of an unchanged live object: its name and
// UID, the managed-by label (listed objects carry it, so none of them is
// being adopted) and mcp's annotations but the applied hash, which is the
// desired object's: that is why the object is unchanged. The labels and
// annotations kept are maps shared with the other slim copies that have
// the same: a placement's objects share one.
func (s *slimmer) slim(u *unstructured.Unstructured) *unstructured.Unstructured {
	md := map[string]any{"name": u.GetName(), "uid": string(u.GetUID())}
	if ns := u.GetNamespace(); ns != "" {
		md["namespace"] = ns
	}
	if v := object.Label(u, object.ManagedByLabel); v != "" {
		md["labels"] = s.shared.Get(map[string]string{object.ManagedByLabel: v})
	}
	meta, _ := u.Object["metadata"].(map[string]any)
	all, _ := meta["annotations"].(map[string]any)
	ann := map[string]string{}
	for k, v := range all {
		if str, ok := v.(string); ok && strings.HasPrefix(k, "mcp.dev/") && k != AppliedHashAnnotation {
			ann[k] = str
		}
	}
	if len(ann) > 0 {
		md["annotations"] = s.shared.Get(ann)
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": u.Object["apiVersion"],
		"kind":       u.Object["kind"],
		"metadata":   md,
	}}
}

// seenOf is the verdict on an object an apply returned; nil for none.
func seenOf(u *unstructured.Unstructured) *verdict {
	if u == nil {
		return nil
	}
	v := healthOf(u)
	return &v
}

// healthSeen is the health of a desired object as this reconcile saw it
// last: the apply's answer, else the plan's live copy (judged whole while
// its LIST streamed in, when it was kept slim).
func healthSeen(it *item, outcomes map[*item]*outcome) verdict {
	if o := outcomes[it]; o != nil && o.seen != nil {
		return *o.seen
	}
	if it.verdict != nil {
		return *it.verdict
	}
	return healthOf(it.live)
}
