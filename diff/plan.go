package diff

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"mcp.dev/mcp/internal/object"
)

// FieldChange is one changed field of an updated object.
type FieldChange struct {
	// Path addresses the field: "spec.replicas",
	// "spec.template.spec.containers[name=web].image", "data.password",
	// `metadata.annotations["mcp.dev/wave"]`. Elements of lists of maps that
	// all carry a distinct name are addressed by it, other elements by index.
	Path string
	// Old and New are the values before and after; nil means the field is
	// absent on that side. Both are always nil when Sensitive.
	Old, New any
	// Sensitive marks a Secret value: it is never stored, only that it changed.
	Sensitive bool
}

// Change is what applying would do to one object.
type Change struct {
	Key    object.Key
	Action Action
	// Fields lists the changed fields of an Update or Adopt, sorted by
	// path, and the refused immutable fields of a Replace; it is empty for
	// the other actions, so a created Secret shows no values.
	Fields []FieldChange
	// File is where the object is declared, if the caller knows it.
	File string
	// Placement is the Placement that placed the object, if known.
	Placement string
	// Wave is the object's apply wave (annotation mcp.dev/wave, default 0):
	// the desired object's, or for a deletion the live or earlier one.
	Wave int
	// Reason says why the action is what it is, where a plan must say so:
	// "kept: 2 unmanaged objects inside" for Keep. Empty for most changes.
	Reason string
}

// ClusterPlan is the plan for one cluster. Err is set when the plan could
// not be made (for example the desired state did not render); Changes are
// then incomplete and must not be applied.
type ClusterPlan struct {
	Cluster string
	Changes []Change
	Err     error
	// Leaves is set when the cluster's Cluster document is gone: mcp stops
	// reconciling the cluster and deletes nothing on it. Changes is then
	// empty, and Remaining counts the objects mcp managed there, which stay
	// as they are, no longer reconciled.
	Leaves    bool
	Remaining int
	// Undecrypted are the SOPS-encrypted files whose values were compared
	// as ciphertexts, without a key: a value whose ciphertext changed
	// shows as changed, whether its plain text did or not.
	Undecrypted []string
}

// undecryptedNote is the note of a plan with Undecrypted files.
func undecryptedNote(c ClusterPlan) string {
	if len(c.Undecrypted) == 0 {
		return ""
	}
	files := make([]string, len(c.Undecrypted))
	for i, f := range c.Undecrypted {
		files[i] = clean(f)
	}
	return "note: values not decrypted (no age key), compared by ciphertext: " + strings.Join(files, ", ")
}

// Summary counts the changes of one cluster by action.
type Summary struct {
	Create    int `json:"create"`
	Update    int `json:"update"`
	Delete    int `json:"delete"`
	Adopt     int `json:"adopt"`
	Keep      int `json:"keep"`
	Orphan    int `json:"orphan"`
	Replace   int `json:"replace"`
	Unchanged int `json:"unchanged"`
}

// Summary counts c's changes by action.
func (c ClusterPlan) Summary() Summary {
	var s Summary
	for _, ch := range c.Changes {
		switch ch.Action {
		case Create:
			s.Create++
		case Update:
			s.Update++
		case Delete:
			s.Delete++
		case Adopt:
			s.Adopt++
		case Keep:
			s.Keep++
		case Orphan:
			s.Orphan++
		case Replace:
			s.Replace++
		default:
			s.Unchanged++
		}
	}
	return s
}

// Count returns how many of c's changes have action a.
func (c ClusterPlan) Count(a Action) int {
	n := 0
	for _, ch := range c.Changes {
		if ch.Action == a {
			n++
		}
	}
	return n
}

// HasChanges reports whether applying c would change anything, or the
// cluster leaves mcp's management.
func (c ClusterPlan) HasChanges() bool {
	return c.Leaves || slices.ContainsFunc(c.Changes, func(ch Change) bool { return ch.Action.IsChange() })
}

// shown reports whether a plan lists ch without ShowUnchanged: every
// change, and the objects kept for a reason.
func shown(ch Change) bool { return ch.Action != Unchanged }

// Plan is what applying would do to each cluster of a fleet.
type Plan struct {
	Clusters []ClusterPlan
	// Warnings are the render's problems that did not stop it (a
	// Placement that selects no cluster, a field a newer server may
	// know); a pull request's reviewers see them with its plan.
	Warnings []string
}

// HasChanges reports whether applying p would change any cluster. Clusters
// whose plan failed count as unchanged; callers check Err separately.
func (p Plan) HasChanges() bool {
	return slices.ContainsFunc(p.Clusters, ClusterPlan.HasChanges)
}

// Err joins the errors of all clusters, nil when every plan was made.
func (p Plan) Err() error {
	var errs []error
	for _, c := range p.Clusters {
		if c.Err != nil {
			errs = append(errs, fmt.Errorf("cluster %s: %w", c.Cluster, c.Err))
		}
	}
	return errors.Join(errs...)
}

// NewClusterPlan pairs before and after objects by key: only in after is a
// Create, only in before a Delete, in both an Update or Unchanged. Changes
// are sorted by key. An object listed twice on one side is an error of the
// plan; the last one listed is used.
func NewClusterPlan(cluster string, before, after []*unstructured.Unstructured) ClusterPlan {
	var errs []error
	index := func(side string, objs []*unstructured.Unstructured) map[object.Key]*unstructured.Unstructured {
		objs = slices.DeleteFunc(slices.Clone(objs), func(u *unstructured.Unstructured) bool { return u == nil })
		for _, d := range object.Duplicates(objs, object.KeyOf) {
			errs = append(errs, fmt.Errorf("%s: %s listed twice", side, object.KeyOf(d[1])))
		}
		m := make(map[object.Key]*unstructured.Unstructured, len(objs))
		for _, u := range objs {
			m[object.KeyOf(u)] = u
		}
		return m
	}
	b, a := index("before", before), index("after", after)

	keys := make([]object.Key, 0, len(a)+len(b))
	for k := range b {
		keys = append(keys, k)
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, object.Compare)

	p := ClusterPlan{Cluster: cluster, Changes: make([]Change, 0, len(keys)), Err: errors.Join(errs...)}
	for _, k := range keys {
		p.Changes = append(p.Changes, ChangeFor(k, b[k], a[k]))
	}
	return p
}

// ChangeFor compares one object before and after (either may be nil);
// Placement is taken from the objects' annotation. Only an update
// normalizes them, to compare; the change keeps no copy of either.
func ChangeFor(key object.Key, before, after *unstructured.Unstructured) Change {
	ch := Change{Key: key}
	switch {
	case before == nil && after == nil:
		ch.Action = Unchanged
	case before == nil:
		ch.Action = Create
	case after == nil:
		ch.Action = Delete
	default:
		ch.Fields = Compare(before, after)
		if len(ch.Fields) > 0 {
			ch.Action = Update
		}
	}
	for _, u := range []*unstructured.Unstructured{after, before} {
		if u != nil && ch.Placement == "" {
			ch.Placement = object.Annotation(u, object.PlacementAnnotation)
		}
	}
	// The wave an object is applied in is the desired one; a deletion
	// keeps the wave it had.
	if u := cmp.Or(after, before); u != nil {
		ch.Wave, _ = strconv.Atoi(object.Annotation(u, object.WaveAnnotation))
	}
	return ch
}
