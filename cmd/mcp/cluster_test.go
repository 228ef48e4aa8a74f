package main

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/yaml"

	"mcp.dev/mcp/internal/testenv"
)

// onboardRepo is a git repo with a Placement of prod clusters and a
// Cluster "taken" defined in a file of its own.
func onboardRepo(t *testing.T) (string, *git.Repository) {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"placements.yaml": "apiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata: {name: web}\nspec: {path: apps/web, clusterSelector: {matchLabels: {env: prod}}, namespace: web}\n",
		"apps/web/web.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: web}\n---\n" +
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {greeting: \"${greeting}\"}\n",
		"other.yaml": "apiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata: {name: taken}\n",
	}
	for name, content := range files {
		writeFile(t, filepath.Join(dir, name), content)
	}
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, _ := repo.Worktree()
	if err := wt.AddGlob("."); err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "test", Email: "test@example.com", When: time.Now()}
	if _, err := wt.Commit("fleet", &git.CommitOptions{Author: sig}); err != nil {
		t.Fatal(err)
	}
	return dir, repo
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// kubeconfigAs writes a kubeconfig of the cluster's server and CA with
// the token of a ServiceAccount of namespace default that holds only
// rules (the TokenRequest API).
func kubeconfigAs(t *testing.T, c *testenv.Cluster, name string, rules ...rbacv1.PolicyRule) string {
	t.Helper()
	ctx := context.Background()
	kube := kubernetes.NewForConfigOrDie(c.RESTConfig())
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "default"}}
	cr := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "test-" + name}, Rules: rules}
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "test-" + name},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: cr.Name},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: "default"}},
	}
	_, err1 := kube.CoreV1().ServiceAccounts("default").Create(ctx, sa, metav1.CreateOptions{})
	_, err2 := kube.RbacV1().ClusterRoles().Create(ctx, cr, metav1.CreateOptions{})
	_, err3 := kube.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{})
	tr, err4 := kube.CoreV1().ServiceAccounts("default").CreateToken(ctx, name, &authnv1.TokenRequest{}, metav1.CreateOptions{})
	for _, err := range []error{err1, err2, err3, err4} {
		if err != nil {
			t.Fatal(err)
		}
	}
	cfg, err := clientcmd.LoadFromFile(c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.AuthInfos[c.Name].Token = tr.Status.Token
	path := filepath.Join(t.TempDir(), name)
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// captureStderr sends the process's stderr (logs, client-go's klog) to a
// file until the test ends, and returns a function reading it.
func captureStderr(t *testing.T) func() string {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = f
	t.Cleanup(func() { os.Stderr = old; f.Close() })
	return func() string {
		data, _ := os.ReadFile(f.Name())
		return string(data)
	}
}

// fleetState is what the cluster and the repo hold of an onboarding:
// namespaces, ServiceAccounts and bindings of mcp, the repo's files,
// branches and head, the credentials directory.
func fleetState(t *testing.T, kube kubernetes.Interface, dir string, repo *git.Repository, creds string) string {
	t.Helper()
	ctx := context.Background()
	var out []string
	if _, err := kube.CoreV1().Namespaces().Get(ctx, "mcp-system", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		out = append(out, "namespace mcp-system")
	}
	crbs, err := kube.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{LabelSelector: "app.kubernetes.io/managed-by=mcp"})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range crbs.Items {
		out = append(out, "clusterrolebinding "+b.Name)
	}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			out = append(out, "file "+p)
		}
		return nil
	})
	refs, _ := repo.References()
	refs.ForEach(func(r *plumbing.Reference) error {
		out = append(out, "ref "+r.Name().String()+" "+r.Hash().String())
		return nil
	})
	entries, _ := os.ReadDir(creds)
	for _, e := range entries {
		out = append(out, "credential "+e.Name())
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

func TestClusterCommands(t *testing.T) {
	ctx := context.Background()
	env, err := testenv.Start(ctx, testenv.Options{Clusters: []string{"eu"}, TokenController: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Stop)
	eu := env.Cluster("eu")
	kube := kubernetes.NewForConfigOrDie(eu.RESTConfig())
	dir, repo := onboardRepo(t)
	creds := filepath.Join(t.TempDir(), "creds")
	logs := captureStderr(t)
	var printed []string // every output a token must not be in
	run := func(args ...string) (int, string, string) {
		t.Helper()
		code, out, errOut := mcp(t, append(args, "--log-level", "debug")...)
		printed = append(printed, out, errOut)
		return code, out, errOut
	}
	add := []string{"cluster", "add", "eu", "--kubeconfig", eu.Kubeconfig, "--labels", "env=prod", "--vars", "greeting=hi",
		"--credentials-dir", creds, "--dir", dir}

	// Bad input: each a clear error, nothing left in the cluster or repo.
	empty := fleetState(t, kube, dir, repo, creds)
	unreachable := filepath.Join(t.TempDir(), "down")
	cfg, _ := clientcmd.LoadFromFile(eu.Kubeconfig)
	cfg.Clusters["eu"].Server = "https://127.0.0.1:1"
	if err := clientcmd.WriteToFile(*cfg, unreachable); err != nil {
		t.Fatal(err)
	}
	reader := kubeconfigAs(t, eu, "reader", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"get", "list"}})
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"not a DNS label":     {args: []string{"cluster", "add", "EU_1", "--kubeconfig", eu.Kubeconfig, "--dir", dir, "--credentials-dir", creds}, want: `cluster name "EU_1" is not a DNS label`},
		"name taken":          {args: []string{"cluster", "add", "taken", "--kubeconfig", eu.Kubeconfig, "--dir", dir, "--credentials-dir", creds, "--commit"}, want: "cluster taken is already taken: other.yaml:1 defines it"},
		"no such context":     {args: append(slices.Clone(add), "--context", "nope", "--commit"), want: "--context nope: " + eu.Kubeconfig + " has no such context (it has: eu)"},
		"unreachable":         {args: append(slices.Clone(add), "--kubeconfig", unreachable, "--commit"), want: "cluster eu: cannot reach https://127.0.0.1:1"},
		"insufficient rights": {args: append(slices.Clone(add), "--kubeconfig", reader, "--commit"), want: "insufficient rights: may not create serviceaccounts in namespace mcp-system"},
		"bad label":           {args: append(slices.Clone(add), "--labels", "env=pr od"), want: `--labels "env=pr od"`},
		"bad rbac":            {args: append(slices.Clone(add), "--rbac", "namespaced:"), want: `--rbac "namespaced:"`},
	} {
		code, out, errOut := run(tc.args...)
		if code != exitError || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d, want an error %q\n%s\n%s", name, code, tc.want, out, errOut)
		}
		if got := fleetState(t, kube, dir, repo, creds); got != empty {
			t.Errorf("%s left something behind:\n%s\nwant:\n%s", name, got, empty)
		}
	}
	// A dry run says what it would do, and does nothing.
	code, out, errOut := run(append(slices.Clone(add), "--dry-run", "--commit")...)
	if code != exitOK || !strings.Contains(out, "+ ServiceAccount mcp-system/mcp") || !strings.Contains(out, "would write "+filepath.Join(dir, "clusters/eu.yaml")) {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := fleetState(t, kube, dir, repo, creds); got != empty {
		t.Fatalf("the dry run changed something:\n%s", got)
	}

	// add: the access, the credential, the document, the commit.
	code, out, errOut = run(append(slices.Clone(add), "--commit")...)
	if code != exitOK || !strings.Contains(out, "+ ClusterRoleBinding mcp-cluster-admin") || !strings.Contains(out, "on branch add-cluster-eu") {
		t.Fatalf("add: exit %d\n%s\n%s", code, out, errOut)
	}
	token1 := checkCredential(t, filepath.Join(creds, "eu"), eu)
	doc, _ := os.ReadFile(filepath.Join(dir, "clusters/eu.yaml"))
	for _, want := range []string{"name: eu", "env: prod", "greeting: hi", "kubernetesVersion: 1.35"} {
		if !strings.Contains(string(doc), want) {
			t.Fatalf("clusters/eu.yaml lacks %q:\n%s", want, doc)
		}
	}
	head := checkCommit(t, repo, "add-cluster-eu", "clusters/eu.yaml")

	// The written kubeconfig alone reconciles the cluster.
	apply := []string{"apply", "--dir", dir, "--credentials-dir", creds, "--cluster", "eu"}
	code, out, errOut = run(apply...)
	if code != exitOK || !strings.Contains(out, "cluster eu: 2 created") {
		t.Fatalf("apply with the written kubeconfig: exit %d\n%s\n%s", code, out, errOut)
	}

	// add again changes nothing.
	before := fleetState(t, kube, dir, repo, creds)
	code, out, errOut = run(append(slices.Clone(add), "--commit")...)
	if code != exitOK || regexp.MustCompile(`(?m)^  [-+~±] `).MatchString(out) || strings.Count(out, "\n  = ") != 4 || strings.Contains(out, "committed") || strings.Count(out, "unchanged:") != 2 {
		t.Fatalf("add again: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := fleetState(t, kube, dir, repo, creds); got != before || checkCredential(t, filepath.Join(creds, "eu"), eu) != token1 {
		t.Fatalf("add again changed the fleet:\n%s\nwas:\n%s", got, before)
	}

	// check: reachable, rights suffice, the token does not expire.
	checkArgs := []string{"cluster", "check", "eu", "--dir", dir, "--credentials-dir", creds}
	code, out, errOut = run(checkArgs...)
	if code != exitOK || !strings.Contains(out, "reachable at "+eu.URL) || !strings.Contains(out, "does not expire") || !strings.Contains(out, "rights suffice for the 2 objects") {
		t.Fatalf("check: exit %d\n%s\n%s", code, out, errOut)
	}

	// --rotate: a new token in the kubeconfig; the old one is refused.
	code, out, errOut = run(append(slices.Clone(add), "--rotate")...)
	if code != exitOK || !strings.Contains(out, "+ Secret mcp-system/mcp-token-*") || !strings.Contains(out, "wrote "+filepath.Join(creds, "eu")) {
		t.Fatalf("add --rotate: exit %d\n%s\n%s", code, out, errOut)
	}
	token2 := checkCredential(t, filepath.Join(creds, "eu"), eu)
	old := rest.CopyConfig(eu.RESTConfig())
	old.BearerToken = token1
	testenv.Eventually(t, 30*time.Second, "the rotated-out token is refused", func() bool {
		_, err := kubernetes.NewForConfigOrDie(old).CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
		return apierrors.IsUnauthorized(err) && token2 != token1
	})
	if code, out, errOut = run(checkArgs...); code != exitOK {
		t.Fatalf("check after a rotation: exit %d\n%s\n%s", code, out, errOut)
	}

	// Namespaced rights: a cluster-scoped object placed there fails,
	// clearly, through mcp apply; check reports the missing right.
	code, out, errOut = run(append(slices.Clone(add), "--rbac", "namespaced:web")...)
	if code != exitOK || !strings.Contains(out, "- ClusterRoleBinding mcp-cluster-admin") || !strings.Contains(out, "+ RoleBinding web/mcp") {
		t.Fatalf("add --rbac namespaced:web: exit %d\n%s\n%s", code, out, errOut)
	}
	writeFile(t, filepath.Join(dir, "apps/web/reader.yaml"), "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: web-reader}\nrules: []\n")
	code, out, errOut = run(apply...)
	if code != exitError || !strings.Contains(errOut, "ClusterRole web-reader") || !strings.Contains(errOut, "forbidden") {
		t.Fatalf("apply of a ClusterRole with namespaced rights: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = run(checkArgs...)
	if code != exitError || !strings.Contains(out, "1 of 3 fail the dry run") || !strings.Contains(errOut, "web-reader") || !strings.Contains(errOut, "forbidden") {
		t.Fatalf("check with namespaced rights: exit %d\n%s\n%s", code, out, errOut)
	}
	os.Remove(filepath.Join(dir, "apps/web/reader.yaml"))

	// rm refuses while the placement selects the cluster; --force removes
	// the document; without --revoke the access stays.
	before = fleetState(t, kube, dir, repo, creds)
	code, out, errOut = run("cluster", "rm", "eu", "--dir", dir, "--commit")
	if code != exitError || !strings.Contains(errOut, "placements still select it: web (placements.yaml:1)") {
		t.Fatalf("rm of a selected cluster: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := fleetState(t, kube, dir, repo, creds); got != before {
		t.Fatalf("a refused rm changed the fleet:\n%s", got)
	}
	code, out, errOut = run("cluster", "rm", "eu", "--dir", dir, "--commit", "--force")
	if code != exitOK || !strings.Contains(out, "on branch remove-cluster-eu") {
		t.Fatalf("rm --force: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "clusters/eu.yaml")); !os.IsNotExist(err) {
		t.Fatalf("rm left clusters/eu.yaml: %v", err)
	}
	if h := checkCommit(t, repo, "remove-cluster-eu", "clusters/eu.yaml"); h == head {
		t.Fatal("rm committed nothing")
	}
	if _, err := kube.CoreV1().ServiceAccounts("mcp-system").Get(ctx, "mcp", metav1.GetOptions{}); err != nil {
		t.Fatalf("rm without --revoke deleted the ServiceAccount: %v", err)
	}

	// --output secret: the kubeconfig as a Secret manifest on stdout, the
	// only place a token is printed.
	code, out, errOut = mcp(t, append(slices.Clone(add), "--output", "secret")...)
	printed = append(printed, errOut)
	if code != exitOK || strings.Contains(errOut, token2) {
		t.Fatalf("add --output secret: exit %d\n%s", code, errOut)
	}
	var secret corev1.Secret
	if err := yaml.Unmarshal([]byte(out), &secret); err != nil || secret.Name != "mcp-clusters" || secret.Namespace != "mcp-system" {
		t.Fatalf("add --output secret printed %v:\n%s", err, out)
	}
	if kc, err := clientcmd.Load(secret.Data["eu"]); err != nil || kc.AuthInfos["eu"].Token != token2 {
		t.Fatalf("the Secret's kubeconfig: %v", err)
	}
	if b64 := base64.StdEncoding.EncodeToString(secret.Data["eu"]); !strings.Contains(out, b64) {
		t.Fatal("the Secret's data is not the base64 of the kubeconfig")
	}

	// rm --dry-run --revoke: what would go, and nothing goes.
	before = fleetState(t, kube, dir, repo, creds)
	code, out, errOut = run("cluster", "rm", "eu", "--dir", dir, "--force", "--revoke", "--kubeconfig", eu.Kubeconfig, "--dry-run")
	if code != exitOK || !strings.Contains(out, "- ServiceAccount mcp-system/mcp") || !strings.Contains(out, "would remove") {
		t.Fatalf("rm --dry-run: exit %d\n%s\n%s", code, out, errOut)
	}
	if got := fleetState(t, kube, dir, repo, creds); got != before {
		t.Fatalf("rm --dry-run changed the fleet:\n%s", got)
	}
	if _, err := kube.CoreV1().ServiceAccounts("mcp-system").Get(ctx, "mcp", metav1.GetOptions{}); err != nil {
		t.Fatalf("rm --dry-run deleted the ServiceAccount: %v", err)
	}

	// rm --revoke: the access goes, the credential stops working.
	code, out, errOut = run("cluster", "rm", "eu", "--dir", dir, "--force", "--revoke", "--kubeconfig", eu.Kubeconfig)
	if code != exitOK || !strings.Contains(out, "- ServiceAccount mcp-system/mcp") || !strings.Contains(out, "- ClusterRoleBinding mcp-cluster-admin") {
		t.Fatalf("rm --revoke: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, err := kube.CoreV1().ServiceAccounts("mcp-system").Get(ctx, "mcp", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("rm --revoke left the ServiceAccount: %v", err)
	}
	written, err := clientcmd.BuildConfigFromFlags("", filepath.Join(creds, "eu"))
	if err != nil {
		t.Fatal(err)
	}
	asMCP := kubernetes.NewForConfigOrDie(written)
	testenv.Eventually(t, 30*time.Second, "the revoked credential is refused", func() bool {
		_, err := asMCP.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
		return apierrors.IsUnauthorized(err)
	})

	// No token anywhere but the Secret manifest asked for.
	all := strings.Join(printed, "\n") + logs()
	if !strings.Contains(logs(), "cluster add: access set up") || !strings.Contains(logs(), "cluster rm: access revoked") {
		t.Fatalf("the logs were not captured:\n%s", logs())
	}
	if strings.Contains(all, token1) || strings.Contains(all, token2) {
		t.Fatal("a token was printed or logged")
	}
}

// checkCredential checks the written kubeconfig (0600, one context,
// server, CA and token only) and returns its token.
func checkCredential(t *testing.T, path string, c *testenv.Cluster) string {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v, mode %v", path, err, fi.Mode())
	}
	kc, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(kc.Contexts) != 1 || len(kc.AuthInfos) != 1 || len(kc.Clusters) != 1 || kc.CurrentContext != "eu" {
		t.Fatalf("%s: not one context: %+v", path, kc.Contexts)
	}
	cl, ai := kc.Clusters["eu"], kc.AuthInfos["eu"]
	want := &clientcmdapi.AuthInfo{Token: ai.Token, Extensions: ai.Extensions}
	if cl.Server != c.URL || len(cl.CertificateAuthorityData) == 0 || ai.Token == "" || !equalAuth(ai, want) {
		t.Fatalf("%s: server %s, CA %d bytes, auth beyond a token: %v", path, cl.Server, len(cl.CertificateAuthorityData), !equalAuth(ai, want))
	}
	return ai.Token
}

func equalAuth(a, b *clientcmdapi.AuthInfo) bool {
	return a.Exec == nil && a.AuthProvider == nil && a.ClientCertificate == "" && len(a.ClientCertificateData) == 0 &&
		a.ClientKey == "" && len(a.ClientKeyData) == 0 && a.Username == "" && a.Password == "" && a.TokenFile == "" && a.Token == b.Token
}

// checkCommit checks that branch is checked out, its last commit changes
// file alone, and the work tree is clean; it returns the commit.
func checkCommit(t *testing.T, repo *git.Repository, branch, file string) string {
	t.Helper()
	head, err := repo.Head()
	if err != nil || head.Name().Short() != branch {
		t.Fatalf("HEAD is %v (%v), want branch %s", head, err, branch)
	}
	c, _ := repo.CommitObject(head.Hash())
	parent, _ := c.Parent(0)
	changes, err := parent.Patch(c)
	if err != nil {
		t.Fatal(err)
	}
	stats := changes.Stats()
	if len(stats) != 1 || stats[0].Name != file {
		t.Fatalf("the commit on %s changes %v, want %s alone", branch, stats, file)
	}
	return head.Hash().String()
}
