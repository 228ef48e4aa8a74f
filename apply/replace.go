package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"mcp.dev/mcp/diff"
	"mcp.dev/mcp/internal/object"
)

// ImmutableError is a change the server refuses because it touches fields
// that cannot change once set, on an object that may not be replaced.
type ImmutableError struct {
	// Fields are the refused fields, as the server names them.
	Fields []string
	// Adopting: the object exists but mcp never applied it; mcp does not
	// delete such an object to replace it, whatever its annotation.
	Adopting bool
	Err      error
}

func (e *ImmutableError) Error() string {
	if e.Adopting {
		return fmt.Sprintf("immutable %s cannot change in place, and mcp does not replace an object it never applied: %v",
			strings.Join(e.Fields, ", "), e.Err)
	}
	return fmt.Sprintf("immutable %s cannot change in place (annotation %s: %s deletes and creates the object instead): %v",
		strings.Join(e.Fields, ", "), object.ReplaceAnnotation, object.ReplaceOnImmutable, e.Err)
}

func (e *ImmutableError) Unwrap() error { return e.Err }

// immutableMarks are what the apiserver's validation says of a field that
// cannot change once set.
var immutableMarks = []string{
	"field is immutable",                                // Job template, Deployment selector, ConfigMap data when immutable, ...
	"may not change once set",                           // Service clusterIP(s)
	"updates to statefulset spec for fields other than", // StatefulSet volumeClaimTemplates, selector, ...
}

// immutableFields returns the fields err refuses to change, when it is an
// Invalid error every cause of which is an immutable field; a change with
// other errors would fail after a replace too.
func immutableFields(err error) ([]string, bool) {
	var status apierrors.APIStatus
	if !apierrors.IsInvalid(err) || !errors.As(err, &status) {
		return nil, false
	}
	details := status.Status().Details
	if details == nil || len(details.Causes) == 0 {
		return nil, false
	}
	var fields []string
	for _, c := range details.Causes {
		if !slices.ContainsFunc(immutableMarks, func(m string) bool { return strings.Contains(c.Message, m) }) {
			return nil, false
		}
		if c.Field != "" && !slices.Contains(fields, c.Field) {
			fields = append(fields, c.Field)
		}
	}
	return fields, len(fields) > 0
}

// replaceable: the object's changes to immutable fields are carried out
// by deleting and creating it, as its annotation mcp.dev/replace says,
// by default for Jobs (whose template is immutable and which are meant to
// run again when it changes).
func replaceable(it *item) bool {
	switch it.desiredAnnotation(object.ReplaceAnnotation) {
	case object.ReplaceOnImmutable:
		return true
	case object.ReplaceDisabled:
		return false
	}
	return it.gvk.Group == "batch" && it.gvk.Kind == "Job"
}

// refused judges a dry-run the server refused: a replace when the refusal
// is of immutable fields and the object may be replaced, else an error
// that names the fields and the annotation that would allow it. An
// object being adopted is never replaced: deleting what mcp never applied
// must not be the first thing it does to it.
func (it *item) refused(err error, adopt bool) {
	fields, ok := immutableFields(err)
	switch {
	case !ok || it.live == nil:
		it.err = err
	case replaceable(it) && !adopt:
		it.setReplace(fields)
	default:
		it.err = &ImmutableError{Fields: fields, Adopting: adopt, Err: err}
	}
}

// setReplace records a replacement: the refused fields with their live
// and desired values (a Secret's never), and why.
func (it *item) setReplace(fields []string) {
	desired := it.object()
	ch := diff.ChangeFor(it.key, stripHash(it.live), stripHash(desired))
	ch.File, ch.Wave = it.src.Source, waveOf(it)
	if ch.Placement == "" {
		ch.Placement = it.placement
	}
	ch.Action, ch.Fields = diff.Replace, nil
	secret := it.key.Group == "" && it.key.Kind == "Secret"
	for _, f := range fields {
		fc := diff.FieldChange{Path: f, Sensitive: secret}
		if !secret {
			fc.Old, _ = valueAt(it.live.Object, f)
			var ok bool
			if fc.New, ok = valueAt(desired.Object, f); !ok && aliases[f] != "" {
				fc.New, _ = valueAt(desired.Object, aliases[f])
			}
		}
		ch.Fields = append(ch.Fields, fc)
	}
	ch.Reason = "replace: delete and create (immutable " + strings.Join(fields, ", ") + ")"
	it.change, it.action = ch, diff.Replace
}

// aliases are the fields a desired object sets for a field the server
// names in its refusal: a Service's clusterIP is its first clusterIPs.
var aliases = map[string]string{"spec.clusterIPs[0]": "spec.clusterIP"}

// valueAt is the value at a field path of the apiserver's errors
// ("spec.selector", "spec.clusterIPs[0]").
func valueAt(obj map[string]any, path string) (any, bool) {
	var cur any = obj
	for _, part := range strings.Split(path, ".") {
		name, index, indexed := strings.Cut(strings.TrimSuffix(part, "]"), "[")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[name]; !ok {
			return nil, false
		}
		if indexed {
			i, err := strconv.Atoi(index)
			l, ok := cur.([]any)
			if err != nil || !ok || i < 0 || i >= len(l) {
				return nil, false
			}
			cur = l[i]
		}
	}
	return cur, true
}

// replace deletes the live object the plan saw and creates the desired
// one anew. The delete propagates in the background: the object itself is
// gone at once, and what it owned (a Job's pods, a Deployment's
// ReplicaSets) is removed by the garbage collector afterwards, owned as it
// is by the old object's UID. Foreground propagation would keep the object
// until the garbage collector has removed its dependents, and forever on
// an apiserver without one. The wait for it to be gone (other finalizers)
// is bounded by Options.Timeout. The object stays in the inventory
// throughout: if the create fails, the next reconcile creates it.
func (a *Applier) replace(ctx context.Context, it *item) (*unstructured.Unstructured, error) {
	background := metav1.DeletePropagationBackground
	uid := it.live.GetUID()
	err := a.resource(it).Delete(ctx, it.key.Name, metav1.DeleteOptions{
		PropagationPolicy: &background,
		// Only the object the plan saw: one re-created meanwhile is left.
		Preconditions: &metav1.Preconditions{UID: &uid},
	})
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("replace: delete: %w", err)
	}
	if err := a.waitGone(ctx, it, uid); err != nil {
		return nil, fmt.Errorf("replace: %w", err)
	}
	u, err := a.ssa(ctx, it, false, true)
	if err != nil {
		return nil, fmt.Errorf("replace: deleted, but not created again: %w", err)
	}
	return u, nil
}

// waitGone waits until the object with uid no longer exists, at most
// Options.Timeout.
func (a *Applier) waitGone(ctx context.Context, it *item, uid types.UID) error {
	ctx, cancel := context.WithTimeout(ctx, a.opts.Timeout)
	defer cancel()
	for wait := 50 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		u, err := a.resource(it).Get(ctx, it.key.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			return nil
		case err == nil && u.GetUID() != uid:
			return nil
		case err != nil && ctx.Err() == nil:
			return fmt.Errorf("wait for the deletion: %w", err)
		}
		select {
		case <-ctx.Done():
			var finalizers []string
			if u != nil {
				finalizers = u.GetFinalizers()
			}
			return fmt.Errorf("still being deleted after %s (finalizers %v)", a.opts.Timeout, finalizers)
		case <-time.After(wait):
		}
	}
}
