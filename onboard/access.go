package onboard

import (
	"context"
	"errors"
	"fmt"

	authv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// ErrForbidden means the credentials may not do what a step needs.
var ErrForbidden = errors.New("insufficient rights")

// Right is one verb on one resource, in a namespace or cluster-wide.
type Right struct {
	Verb      string
	Resource  schema.GroupVersionResource
	Namespace string
}

func (r Right) String() string {
	res := r.Resource.Resource
	if r.Resource.Group != "" {
		res += "." + r.Resource.Group
	}
	if r.Namespace == "" {
		return r.Verb + " " + res + " (cluster-wide)"
	}
	return r.Verb + " " + res + " in namespace " + r.Namespace
}

// mayDo asks the server, before anything is changed, whether the
// operator may do every step of the plan, and names every right missing.
func (c *clients) mayDo(ctx context.Context, plan []planned, stale []*unstructured.Unstructured) error {
	var rights []Right
	for _, p := range plan {
		ns := p.obj.GetNamespace()
		switch p.action {
		case Create:
			rights = append(rights, Right{"create", p.gvr, ns})
		case Update:
			rights = append(rights, Right{"update", p.gvr, ns})
		case Replace:
			rights = append(rights, Right{"delete", p.gvr, ns}, Right{"create", p.gvr, ns})
		}
	}
	for _, s := range stale {
		rights = append(rights, Right{"delete", gvrOf(s.GetKind()), s.GetNamespace()})
	}
	return c.refuse(ctx, rights)
}

// mayRead asks whether the operator may read what the plan reads; when
// not, it names those rights and the create rights a first run needs.
func (c *clients) mayRead(ctx context.Context, ws []want) error {
	var rights []Right
	for _, w := range ws {
		rights = append(rights, Right{"get", w.gvr, w.obj.GetNamespace()})
	}
	for _, gvr := range rbacGVRs {
		rights = append(rights, Right{"list", gvr, ""})
	}
	rights = append(rights, Right{"list", secretGVR, Namespace})
	missing, err := c.missing(ctx, rights)
	if err != nil || len(missing) == 0 {
		return err
	}
	for _, w := range ws {
		rights = append(rights, Right{"create", w.gvr, w.obj.GetNamespace()})
	}
	return c.refuse(ctx, rights)
}

// refuse fails with every right of rights the operator lacks.
func (c *clients) refuse(ctx context.Context, rights []Right) error {
	missing, err := c.missing(ctx, rights)
	if err != nil {
		return err
	}
	if len(missing) == 0 {
		return nil
	}
	errs := make([]error, len(missing))
	for i, r := range missing {
		errs[i] = fmt.Errorf("%w: may not %s", ErrForbidden, r)
	}
	return fmt.Errorf("the kubeconfig's credentials cannot set up mcp's access; nothing was changed:\n%w", errors.Join(errs...))
}

// Missing returns the rights of want that the credentials of c lack,
// asked with SelfSubjectAccessReviews (which every authenticated user may
// make).
func (c *clients) missing(ctx context.Context, want []Right) ([]Right, error) {
	var out []Right
	seen := map[Right]bool{}
	for _, r := range want {
		if seen[r] {
			continue
		}
		seen[r] = true
		review := &authv1.SelfSubjectAccessReview{Spec: authv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authv1.ResourceAttributes{
				Verb: r.Verb, Group: r.Resource.Group, Version: r.Resource.Version,
				Resource: r.Resource.Resource, Namespace: r.Namespace,
			},
		}}
		got, err := c.kube.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
		if err != nil {
			return nil, fmt.Errorf("ask whether the credentials may %s: %w", r, err)
		}
		if !got.Status.Allowed {
			out = append(out, r)
		}
	}
	return out, nil
}
