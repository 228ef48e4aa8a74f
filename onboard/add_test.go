package onboard

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// asCredential is a client acting with the written kubeconfig alone.
func asCredential(t *testing.T, c Credential) kubernetes.Interface {
	t.Helper()
	kc, err := c.Kubeconfig("x")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.RESTConfigFromKubeConfig(kc)
	if err != nil {
		t.Fatal(err)
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return kube
}

// canCreate asks, as the credential, whether it may create resource in ns.
func canCreate(t *testing.T, kube kubernetes.Interface, group, resource, ns string) bool {
	t.Helper()
	c := &clients{kube: kube}
	missing, err := c.missing(context.Background(), []Right{{Verb: "create", Resource: gvr(group, resource), Namespace: ns}})
	if err != nil {
		t.Fatal(err)
	}
	return len(missing) == 0
}

func actions(steps []Step) map[Action]int {
	out := map[Action]int{}
	for _, s := range steps {
		out[s.Action]++
	}
	return out
}

// accessObjects lists what Add leaves in the cluster, by its labels.
func accessObjects(t *testing.T) []string {
	t.Helper()
	cfg, _ := admin(t)
	c, err := connect(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, g := range append(slices.Clone(rbacGVRs), namespaceGVR, serviceAccountGVR, secretGVR) {
		list, err := c.dyn.Resource(g).List(context.Background(), metav1.ListOptions{LabelSelector: accessSelector})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range list.Items {
			if u.GetDeletionTimestamp() == nil {
				out = append(out, g.Resource+" "+u.GetNamespace()+"/"+u.GetName())
			}
		}
	}
	slices.Sort(out)
	return out
}

// The whole life of mcp's access: add, add again, rotate, another RBAC
// choice, revoke. Tests of this package share one cluster, so it runs as
// one test.
func TestAddRotateRestrictRevoke(t *testing.T) {
	ctx := context.Background()
	cfg, kube := admin(t)
	opts := DefaultOptions()

	// A kubeconfig that does not verify the server is refused: the
	// written one would not either.
	unverified := rest.CopyConfig(cfg)
	unverified.CAData = nil
	unverified.Insecure = true
	if _, err := Add(ctx, unverified, opts); !errors.Is(err, ErrUnverified) {
		t.Fatalf("add with an unverified server: %v", err)
	}

	// Insufficient rights first, while the cluster holds nothing of mcp:
	// an identity that may only read namespaces is told what it lacks,
	// and nothing is created.
	reader := restricted(t, "reader", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"get", "list"}})
	_, err := Add(ctx, reader, opts)
	if !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "may not create serviceaccounts in namespace mcp-system") {
		t.Fatalf("add without rights: %v", err)
	}
	if got := accessObjects(t); len(got) != 0 {
		t.Fatalf("a refused add left %v", got)
	}
	// An identity that may create all the kinds but may not grant
	// cluster-admin (RBAC's escalation check) fails after it created the
	// namespace and the ServiceAccount: both are deleted again.
	partial := restricted(t, "partial",
		rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"namespaces", "serviceaccounts", "secrets"}, Verbs: []string{"get", "list", "create", "delete"}},
		rbacv1.PolicyRule{APIGroups: []string{"rbac.authorization.k8s.io"}, Resources: []string{"clusterrolebindings", "clusterroles", "roles", "rolebindings"}, Verbs: []string{"get", "list", "create", "delete"}},
	)
	_, err = Add(ctx, partial, opts)
	if err == nil || !strings.Contains(err.Error(), "create ClusterRoleBinding mcp-cluster-admin") {
		t.Fatalf("add that cannot bind cluster-admin: %v", err)
	}
	if _, err := kube.CoreV1().Namespaces().Get(ctx, Namespace, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("the rollback left namespace %s: %v", Namespace, err)
	}
	if got := accessObjects(t); len(got) != 0 {
		t.Fatalf("a failed add left %v", got)
	}

	// cluster-admin.
	res, err := Add(ctx, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Version != strings.TrimPrefix(mustVersion(t, kube), "v") || res.Credential.Token == "" || !res.Changed() {
		t.Fatalf("add: version %q, changed %v", res.Version, res.Changed())
	}
	if a := actions(res.Steps); a[Create] != 4 || a[Keep] != 0 || len(res.Steps) != 4 {
		t.Fatalf("first add: %v", res.Steps)
	}
	as := asCredential(t, res.Credential)
	if !canCreate(t, as, "rbac.authorization.k8s.io", "clusterroles", "") {
		t.Fatal("the cluster-admin credential may not create a ClusterRole")
	}
	if strings.Contains(res.Credential.String(), res.Credential.Token) || strings.Contains(fmtV(res.Credential), res.Credential.Token) {
		t.Fatal("a Credential prints its token")
	}

	// Again: nothing changes, same token.
	again, err := Add(ctx, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if again.Changed() || again.Credential.Token != res.Credential.Token {
		t.Fatalf("second add changed %v (same token: %v)", again.Steps, again.Credential.Token == res.Credential.Token)
	}

	// Rotate: a new token; the old one stops working.
	opts.Rotate = true
	rotated, err := Add(ctx, cfg, opts)
	opts.Rotate = false
	if err != nil {
		t.Fatal(err)
	}
	if rotated.Credential.Token == res.Credential.Token {
		t.Fatal("rotate kept the token")
	}
	refused(t, as, "the rotated-out token")
	as = asCredential(t, rotated.Credential)

	// Namespaced: the cluster-admin binding goes, the rights shrink to
	// the namespaces named (created when missing).
	opts.RBAC, err = ParseRBAC("namespaced:web,api")
	if err != nil {
		t.Fatal(err)
	}
	dry := opts
	dry.DryRun = true
	planned, err := Add(ctx, cfg, dry)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kube.CoreV1().Namespaces().Get(ctx, "web", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("a dry run created namespace web: %v", err)
	}
	ns, err := Add(ctx, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(stepStrings(planned.Steps), stepStrings(ns.Steps)) || !slices.Contains(stepStrings(ns.Steps), "- ClusterRoleBinding mcp-cluster-admin") {
		t.Fatalf("dry run %v, run %v", planned.Steps, ns.Steps)
	}
	if ns.Credential.Token != rotated.Credential.Token {
		t.Fatal("another RBAC choice changed the token")
	}
	switch {
	case canCreate(t, as, "rbac.authorization.k8s.io", "clusterroles", ""):
		t.Fatal("a namespaced credential may create ClusterRoles")
	case canCreate(t, as, "", "configmaps", "default"):
		t.Fatal("a namespaced credential may create in a namespace not named")
	case !canCreate(t, as, "apps", "deployments", "web") || !canCreate(t, as, "", "configmaps", "mcp-system"):
		t.Fatal("a namespaced credential may not create in its namespaces")
	}
	if again, err := Add(ctx, cfg, opts); err != nil || again.Changed() {
		t.Fatalf("namespaced add again: %v %v", again.Steps, err)
	}

	// Revoke: token, RBAC, ServiceAccount go; namespaces stay.
	steps, err := Revoke(ctx, cfg, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) != 10 {
		t.Fatalf("revoke: %v", steps)
	}
	refused(t, as, "a revoked token")
	want := []string{"namespaces /api", "namespaces /mcp-system", "namespaces /web"}
	if got := accessObjects(t); !slices.Equal(got, want) {
		t.Fatalf("after revoke: %v, want %v", got, want)
	}
}

func stepStrings(steps []Step) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = s.String()
	}
	return out
}

func mustVersion(t *testing.T, kube kubernetes.Interface) string {
	t.Helper()
	v, err := kube.Discovery().ServerVersion()
	if err != nil {
		t.Fatal(err)
	}
	return v.GitVersion
}

// refused waits until the server refuses the credential of kube: the
// apiserver reads token Secrets through a cache, so a deleted one is
// refused within moments, not at once.
func refused(t *testing.T, kube kubernetes.Interface, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := kube.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{})
		if apierrors.IsUnauthorized(err) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still works: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
