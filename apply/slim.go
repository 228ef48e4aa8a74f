package apply

import (
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"mcp.dev/mcp/internal/object"
)

// slimmer judges live objects while their LIST streams in. One that the
// fast path finds unchanged (it carries the hash of today's desired object
// and holds every desired field) gets its health judged from the whole
// object, and its item a slim copy (slim) instead of the object; the LIST
// keeps nothing of it. A no-op plan of thousands of objects then holds
// none of their contents, and the whole objects are garbage as soon as
// they are decoded.
//
// The verdict and the slim copy are the item's own (item.verdict,
// item.live), set by the LIST of the item's kind alone; they stand only
// if that LIST ends well, so an item whose LIST failed part way loses
// them (getMissing).
type slimmer struct {
	desired map[object.Key]*item // read only while the LISTs run

	mu     sync.Mutex
	copies map[string]*unstructured.Unstructured // slim copies, by content
}

// newSlimmer returns the slimmer of a plan's desired items; nil (keep
// everything whole) without the fast path.
func newSlimmer(items []*item, fastPath bool) *slimmer {
	if !fastPath {
		return nil
	}
	s := &slimmer{desired: make(map[object.Key]*item, len(items)), copies: map[string]*unstructured.Unstructured{}}
	for _, it := range items {
		if it.src.declared() && it.err == nil && !it.pending {
			s.desired[it.key] = it
		}
	}
	return s
}

// keep returns what the LIST keeps of a listed object: all of it, or
// nothing when it is unchanged and its item got its verdict and slim copy.
func (s *slimmer) keep(u *unstructured.Unstructured) *unstructured.Unstructured {
	if s == nil {
		return u
	}
	it := s.desired[object.KeyOf(u)]
	if it == nil || !unchanged(it.body, u, it.hash) {
		return u
	}
	v := healthOf(u)
	it.verdict, it.live = &v, s.slim(u) // only this LIST writes them: the item is of its kind
	return nil
}

// slim is what a plan reads of an unchanged live object: that it is
// there, its managed-by label (listed objects carry it, so none of them
// is being adopted) and mcp's annotations but the applied hash, which is
// the desired object's: that is why the object is unchanged. A
// placement's objects mostly carry the same, and share one copy: it names
// no object, since a plan reads neither the name nor the UID of an
// unchanged object (its key is its item's).
func (s *slimmer) slim(u *unstructured.Unstructured) *unstructured.Unstructured {
	label := object.Label(u, object.ManagedByLabel)
	meta, _ := u.Object["metadata"].(map[string]any)
	all, _ := meta["annotations"].(map[string]any)
	ann := map[string]string{}
	for k, v := range all {
		if str, ok := v.(string); ok && strings.HasPrefix(k, "mcp.dev/") && k != AppliedHashAnnotation {
			ann[k] = str
		}
	}
	apiVersion, kind := u.GetAPIVersion(), u.GetKind()
	key := object.ContentKey(append([]string{apiVersion, kind, label}, object.SortedPairs(ann)...)...)
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.copies[key]; ok {
		return c
	}
	md := map[string]any{}
	if label != "" {
		md["labels"] = map[string]any{object.ManagedByLabel: label}
	}
	if len(ann) > 0 {
		annotations := make(map[string]any, len(ann))
		for k, v := range ann {
			annotations[k] = v
		}
		md["annotations"] = annotations
	}
	c := &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind, "metadata": md}}
	s.copies[key] = c
	return c
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
