package onboard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// ErrUnverified means the operator's kubeconfig does not verify the
// server: mcp's would not either.
var ErrUnverified = errors.New("unverified server")

// Options say what Add does.
type Options struct {
	// RBAC is the rights the ServiceAccount gets.
	RBAC RBAC
	// Rotate replaces the token Secret with a new one: the old token stops
	// working at once.
	Rotate bool
	// DryRun plans and changes nothing.
	DryRun bool
	// TokenTimeout bounds the wait for the token controller to fill in the
	// token Secret.
	TokenTimeout time.Duration
}

// DefaultOptions are cluster-admin rights, no rotation, a 60 s wait.
func DefaultOptions() Options { return Options{TokenTimeout: 60 * time.Second} }

// Action is what a step does to one object.
type Action string

// The actions, as printed.
const (
	Create  Action = "+"
	Update  Action = "~"
	Replace Action = "±"
	Delete  Action = "-"
	Keep    Action = "="
)

// Step is one object Add or Revoke touches (or, in a dry run, would).
type Step struct {
	Action Action
	// Object is "Kind namespace/name".
	Object string
}

func (s Step) String() string { return string(s.Action) + " " + s.Object }

// Result is what Add did.
type Result struct {
	Steps []Step
	// Version is the server's Kubernetes version, without the "v":
	// "1.35.4".
	Version string
	// Credential reaches the cluster as the ServiceAccount; its token is
	// empty in a dry run.
	Credential Credential
}

// Changed reports whether any step changes the cluster.
func (r *Result) Changed() bool {
	return slices.ContainsFunc(r.Steps, func(s Step) bool { return s.Action != Keep })
}

// clients are the connections of one run.
type clients struct {
	dyn  dynamic.Interface
	kube kubernetes.Interface
}

func connect(cfg *rest.Config) (*clients, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &clients{dyn: dyn, kube: kube}, nil
}

// ServerVersion asks the cluster of cfg its version ("1.35.4"): the
// first request of every command, so that an unreachable server is told
// as such.
func ServerVersion(cfg *rest.Config) (string, error) {
	c, err := connect(cfg)
	if err != nil {
		return "", err
	}
	v, err := c.kube.Discovery().ServerVersion()
	if err != nil {
		return "", fmt.Errorf("cannot reach %s: %w", cfg.Host, err)
	}
	return trimV(v.GitVersion), nil
}

// planned is one object of the plan with its live copy.
type planned struct {
	want
	live   *unstructured.Unstructured
	action Action
}

// Add makes the ServiceAccount, its rights and its token in the cluster
// of cfg (the operator's own credentials) and returns the credential
// that reaches the cluster as it. Objects that exist as wanted are kept;
// labelled RBAC objects of another RBAC choice are deleted. Before it
// creates anything it asks the server whether the operator may do it all;
// when a step fails, what this run created is deleted again.
func Add(ctx context.Context, cfg *rest.Config, opts Options) (*Result, error) {
	if cfg.Insecure {
		// The written kubeconfig would skip verification too, for good.
		return nil, fmt.Errorf("%w: the kubeconfig does not verify the server's certificate; give its CA (certificate-authority-data) so that mcp can", ErrUnverified)
	}
	version, err := ServerVersion(cfg)
	if err != nil {
		return nil, err
	}
	c, err := connect(cfg)
	if err != nil {
		return nil, err
	}
	plan, stale, err := c.plan(ctx, opts)
	if err != nil {
		return nil, err
	}
	tokens, err := c.tokens(ctx)
	if err != nil {
		return nil, err
	}
	// A token Secret outlives a deleted ServiceAccount only until the
	// token controller sees it: a new ServiceAccount gets a new token.
	newSA := slices.ContainsFunc(plan, func(p planned) bool { return p.gvr == serviceAccountGVR && p.action == Create })
	var keep *unstructured.Unstructured
	if len(tokens) > 0 && !opts.Rotate && !newSA {
		keep, tokens = tokens[0], tokens[1:]
	}
	res := &Result{Version: version, Credential: credentialOf(cfg)}
	for _, p := range plan {
		res.Steps = append(res.Steps, Step{p.action, p.ref()})
	}
	if keep != nil {
		res.Steps = append(res.Steps, Step{Keep, ref("Secret", Namespace, keep.GetName())})
	} else {
		res.Steps = append(res.Steps, Step{Create, ref("Secret", Namespace, TokenSecretPrefix+"*")})
		plan = append(plan, planned{want: tokenSecret(), action: Create})
	}
	// Old tokens (and, on a rotation, the current one) go once the new
	// one works.
	stale = append(stale, tokens...)
	for _, s := range stale {
		res.Steps = append(res.Steps, Step{Delete, ref(s.GetKind(), s.GetNamespace(), s.GetName())})
	}
	if err := c.mayDo(ctx, plan, stale); err != nil {
		return nil, err
	}
	if opts.DryRun {
		return res, nil
	}
	var created []want
	rollback := func(err error) error {
		if rerr := c.deleteAll(created); rerr != nil {
			return fmt.Errorf("%w; rolling back: %w", err, rerr)
		}
		return err
	}
	for _, p := range plan {
		made, err := c.ensure(ctx, p)
		if made != nil {
			created = append(created, want{gvr: p.gvr, obj: made})
		}
		if err != nil {
			return nil, rollback(err)
		}
		if p.gvr == secretGVR {
			keep = made
		}
	}
	token, err := c.waitToken(ctx, keep.GetName(), opts.TokenTimeout)
	if err != nil {
		return nil, rollback(err)
	}
	for _, s := range stale {
		if err := c.deleteObj(ctx, s); err != nil {
			return nil, rollback(err)
		}
	}
	res.Credential.Token = token
	return res, nil
}

// plan reads what exists of the desired objects and which labelled RBAC
// objects are no longer wanted.
func (c *clients) plan(ctx context.Context, opts Options) ([]planned, []*unstructured.Unstructured, error) {
	ws := desired(opts.RBAC)
	if err := c.mayRead(ctx, ws); err != nil {
		return nil, nil, err
	}
	out := make([]planned, 0, len(ws))
	wanted := map[string]bool{}
	for _, w := range ws {
		wanted[w.gvr.Resource+"/"+w.obj.GetNamespace()+"/"+w.obj.GetName()] = true
		live, err := c.dyn.Resource(w.gvr).Namespace(w.obj.GetNamespace()).Get(ctx, w.obj.GetName(), metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			out = append(out, planned{want: w, action: Create})
			continue
		case err != nil:
			return nil, nil, fmt.Errorf("read %s: %w", w.ref(), err)
		}
		if live.GetDeletionTimestamp() != nil {
			return nil, nil, fmt.Errorf("%s is being deleted: run again once it is gone", w.ref())
		}
		p := planned{want: w, live: live, action: Keep}
		for _, f := range w.compare {
			if !equality.Semantic.DeepEqual(w.obj.Object[f], live.Object[f]) {
				p.action = Update
				if f == w.immutable {
					p.action = Replace
					break
				}
			}
		}
		if w.gvr == secretGVR && opts.Rotate {
			p.action = Replace
		}
		out = append(out, p)
	}
	var stale []*unstructured.Unstructured
	for _, gvr := range rbacGVRs {
		list, err := c.dyn.Resource(gvr).List(ctx, metav1.ListOptions{LabelSelector: accessSelector})
		if err != nil {
			return nil, nil, fmt.Errorf("list %s: %w", gvr.Resource, err)
		}
		for i := range list.Items {
			u := &list.Items[i]
			if !wanted[gvr.Resource+"/"+u.GetNamespace()+"/"+u.GetName()] {
				u.SetAPIVersion(gvr.GroupVersion().String())
				u.SetKind(kindOf(gvr.Resource))
				stale = append(stale, u)
			}
		}
	}
	return out, stale, nil
}

func kindOf(resource string) string {
	return map[string]string{
		"clusterroles": "ClusterRole", "clusterrolebindings": "ClusterRoleBinding",
		"roles": "Role", "rolebindings": "RoleBinding",
		"namespaces": "Namespace", "serviceaccounts": "ServiceAccount", "secrets": "Secret",
	}[resource]
}

// ensure makes the live object what p wants; made is the object it
// created, if it did (so that a rollback deletes it).
func (c *clients) ensure(ctx context.Context, p planned) (made *unstructured.Unstructured, err error) {
	r := c.dyn.Resource(p.gvr).Namespace(p.obj.GetNamespace())
	switch p.action {
	case Keep:
		return nil, nil
	case Update:
		u := p.live.DeepCopy()
		for _, f := range p.compare {
			u.Object[f] = p.obj.Object[f]
		}
		if _, err := r.Update(ctx, u, metav1.UpdateOptions{FieldManager: fieldManager}); err != nil {
			return nil, fmt.Errorf("update %s: %w", p.ref(), err)
		}
		return nil, nil
	case Replace:
		if err := c.deleteObj(ctx, p.live); err != nil {
			return nil, err
		}
	}
	made, err = r.Create(ctx, p.obj, metav1.CreateOptions{FieldManager: fieldManager})
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", p.ref(), err)
	}
	made.SetKind(p.obj.GetKind())
	return made, nil
}

// tokens are the token Secrets of earlier runs, newest first.
func (c *clients) tokens(ctx context.Context) ([]*unstructured.Unstructured, error) {
	list, err := c.dyn.Resource(secretGVR).Namespace(Namespace).List(ctx, metav1.ListOptions{LabelSelector: accessSelector})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list Secrets in %s: %w", Namespace, err)
	}
	var out []*unstructured.Unstructured
	for i := range list.Items {
		u := &list.Items[i]
		if u.Object["type"] == "kubernetes.io/service-account-token" && u.GetDeletionTimestamp() == nil {
			u.SetKind("Secret")
			out = append(out, u)
		}
	}
	slices.SortFunc(out, func(a, b *unstructured.Unstructured) int {
		if c := b.GetCreationTimestamp().Compare(a.GetCreationTimestamp().Time); c != 0 {
			return c
		}
		return strings.Compare(a.GetName(), b.GetName())
	})
	return out, nil
}

// fieldManager names mcp's onboarding in managedFields.
const fieldManager = "mcp-cluster-add"

func (c *clients) deleteObj(ctx context.Context, u *unstructured.Unstructured) error {
	gvr := gvrOf(u.GetKind())
	err := c.dyn.Resource(gvr).Namespace(u.GetNamespace()).Delete(ctx, u.GetName(), metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete %s: %w", ref(u.GetKind(), u.GetNamespace(), u.GetName()), err)
	}
	return nil
}

func gvrOf(kind string) schema.GroupVersionResource {
	for _, gvr := range []schema.GroupVersionResource{namespaceGVR, serviceAccountGVR, secretGVR, clusterRoleGVR, clusterRoleBindingGVR, roleGVR, roleBindingGVR} {
		if kindOf(gvr.Resource) == kind {
			return gvr
		}
	}
	return schema.GroupVersionResource{}
}

// deleteAll deletes, newest first, the objects a failed run created. It
// runs on its own context: the run's may be what ended.
func (c *clients) deleteAll(created []want) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	for _, w := range slices.Backward(created) {
		errs = append(errs, c.deleteObj(ctx, w.obj))
	}
	// A namespace takes a moment to go; a run again right away would
	// find it terminating.
	for _, w := range created {
		for w.gvr == namespaceGVR && ctx.Err() == nil {
			_, err := c.dyn.Resource(namespaceGVR).Get(ctx, w.obj.GetName(), metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return errors.Join(errs...)
}

// waitToken waits until the token controller has filled in the token of
// the Secret name and returns it.
func (c *clients) waitToken(ctx context.Context, name string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		s, err := c.kube.CoreV1().Secrets(Namespace).Get(ctx, name, metav1.GetOptions{})
		if err == nil && len(s.Data["token"]) > 0 {
			return string(s.Data["token"]), nil
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return "", fmt.Errorf("read Secret %s/%s: %w", Namespace, name, err)
			}
			return "", fmt.Errorf("Secret %s/%s: no token after %s: is kube-controller-manager's token controller running?", Namespace, name, timeout)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func trimV(v string) string {
	if len(v) > 0 && v[0] == 'v' {
		return v[1:]
	}
	return v
}
