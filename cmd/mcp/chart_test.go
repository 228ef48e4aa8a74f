package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	gitobject "github.com/go-git/go-git/v5/plumbing/object"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"mcp.dev/mcp/internal/testenv"
)

// chartGitRepo writes a git repo whose placement web renders the webstack
// chart of testdata/charts into namespace web of cluster eu, and commits
// it. edit, when set, changes the repo for a second commit.
func chartGitRepo(t *testing.T, env *testenv.Env, edits ...func(dir string)) (repo, creds string) {
	t.Helper()
	repo, creds = t.TempDir(), t.TempDir()
	if err := os.CopyFS(filepath.Join(repo, "charts", "webstack"), os.DirFS(filepath.Join("..", "..", "testdata", "charts", "webstack"))); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"mcp.yaml": `apiVersion: mcp.dev/v1alpha1
kind: Cluster
metadata: {name: eu, labels: {env: prod}}
spec: {kubernetesVersion: "1.30.0", vars: {greeting: hello from eu}}
---
apiVersion: mcp.dev/v1alpha1
kind: Placement
metadata: {name: namespaces}
spec: {path: namespaces, clusterSelector: {matchLabels: {env: prod}}}
---
apiVersion: mcp.dev/v1alpha1
kind: Placement
metadata: {name: web}
spec:
  clusterSelector: {matchLabels: {env: prod}}
  namespace: web
  chart:
    path: charts/webstack
    valuesFiles: [values/web.yaml]
    values: {migrations: {enabled: false}, cache: {enabled: false}}
`,
		"namespaces/web.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: web}\n",
		"values/web.yaml":     "replicaCount: 2\ngreeting: ${var.greeting}\n",
	}
	for name, data := range files {
		p := filepath.Join(repo, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	kc, err := os.ReadFile(env.Cluster("eu").Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(creds, "eu"), kc, 0o600); err != nil {
		t.Fatal(err)
	}
	g, err := git.PlainInit(repo, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := g.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	commit := func(msg string) {
		if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
			t.Fatal(err)
		}
		sig := &gitobject.Signature{Name: "test", Email: "test@localhost", When: time.Now()}
		if _, err := wt.Commit(msg, &git.CommitOptions{Author: sig}); err != nil {
			t.Fatal(err)
		}
	}
	commit("webstack")
	for _, edit := range edits {
		edit(repo)
		commit("change")
	}
	return repo, creds
}

func replaceIn(t *testing.T, file, old, new string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s does not hold %q", file, old)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestApplyChart applies a chart to a real API server, then shows a
// values change and a chart version bump of a later commit as field
// changes of the rendered objects.
func TestApplyChart(t *testing.T) {
	env, err := testenv.Start(context.Background(), testenv.Options{Clusters: []string{"eu"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Stop)
	repo, creds := chartGitRepo(t, env)
	cs, err := kubernetes.NewForConfig(env.Cluster("eu").RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	// The post-install hook (wave 1) waits for the chart's Deployment to
	// be ready; the test bed has no controllers, so the test rolls it out.
	rolledOut := rollOutWhenCreated(t, cs, "web", "web-webstack")
	code, out, errOut := mcp(t, "apply", "--dir", repo, "--credentials-dir", creds, "--wave-timeout", "1m")
	if code != exitOK || !strings.Contains(out, "+ apps/Deployment web/web-webstack") || !strings.Contains(out, "+ example.com/Widget web/web-webstack") {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	if err := <-rolledOut; err != nil {
		t.Fatal(err)
	}
	d, err := cs.AppsV1().Deployments("web").Get(context.Background(), "web-webstack", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Annotations["mcp.dev/chart"]; got != "webstack@1.2.0" {
		t.Errorf("live Deployment: annotation mcp.dev/chart = %q", got)
	}
	if got := d.Spec.Template.Spec.Containers[0].Env[0].Value; got != "hello from eu" || *d.Spec.Replicas != 2 {
		t.Errorf("live Deployment: greeting %q, replicas %d", got, *d.Spec.Replicas)
	}
	// apply renders for the version the cluster reports, not spec.kubernetesVersion.
	if got := d.Spec.Template.Spec.Containers[0].Env[1].Value; got != "v1.35.4" {
		t.Errorf("live Deployment: KUBE_VERSION %q, want the API server's v1.35.4", got)
	}

	// A live diff and mcp run render for the version the cluster reports
	// too: the cluster holds what they render.
	code, out, errOut = mcp(t, "diff", "--dir", repo, "--credentials-dir", creds, "--exit-code")
	if code != exitOK {
		t.Errorf("live diff after apply: exit %d, want no change:\n%s\n%s", code, out, errOut)
	}
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(t.Context())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		root := newRootCmd()
		root.SetArgs([]string{"run", "--dir", repo, "--credentials-dir", creds, "--dry-run", "--listen", addr, "--interval", "200ms"})
		root.SetOut(&bytes.Buffer{})
		root.ExecuteContext(ctx)
	}()
	st := waitStatus(t, addr, &bytes.Buffer{}, "eu Synced in a dry run: nothing differs", func(st runStatus) bool {
		return len(st.Clusters) == 1 && st.Clusters[0].Result == "Synced"
	})
	// /status names the chart and the version it resolved to; so does the
	// dashboard's page of the cluster.
	if c := st.Clusters[0].Charts; len(c) != 1 || c[0].Placement != "web" || c[0].Name != "webstack" || c[0].Version != "1.2.0" {
		t.Errorf("/status charts of eu: %+v, want webstack 1.2.0 of placement web", c)
	}
	if _, page := testenv.Get(t, "http://"+addr+"/clusters/eu"); !strings.Contains(page, "<code>webstack@1.2.0</code>") {
		t.Errorf("the dashboard's page of eu does not show the chart:\n%.2000s", page)
	}
	cancel()
	<-stopped

	// A pull request raising the replicas and bumping the chart.
	changed, _ := chartGitRepo(t, env, func(dir string) {
		replaceIn(t, filepath.Join(dir, "values", "web.yaml"), "replicaCount: 2", "replicaCount: 4")
		replaceIn(t, filepath.Join(dir, "charts", "webstack", "Chart.yaml"), "version: 1.2.0", "version: 1.3.0")
	})
	code, out, errOut = mcp(t, "diff", "--dir", changed, "--credentials-dir", t.TempDir(), "--against", "HEAD~1")
	for _, want := range []string{
		"~ apps/Deployment web/web-webstack",
		"spec.replicas: 2 → 4",
		`metadata.annotations["mcp.dev/chart"]: "webstack@1.2.0" → "webstack@1.3.0"`,
		`metadata.labels["helm.sh/chart"]: "webstack-1.2.0" → "webstack-1.3.0"`,
	} {
		if code != exitOK || !strings.Contains(out, want) {
			t.Errorf("diff --against: exit %d, output lacks %q:\n%s\n%s", code, want, out, errOut)
		}
	}
}

// rollOutWhenCreated plays the Deployment controller: once the Deployment
// exists, its generation is rolled out and available. The channel says
// when that is done, or why it could not be.
func rollOutWhenCreated(t *testing.T, cs kubernetes.Interface, ns, name string) <-chan error {
	done := make(chan error, 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	go func() {
		deps := cs.AppsV1().Deployments(ns)
		for {
			d, err := deps.Get(ctx, name, metav1.GetOptions{})
			if err == nil {
				now := metav1.Now()
				d.Status = appsv1.DeploymentStatus{
					ObservedGeneration: d.Generation, Replicas: *d.Spec.Replicas, UpdatedReplicas: *d.Spec.Replicas,
					ReadyReplicas: *d.Spec.Replicas, AvailableReplicas: *d.Spec.Replicas,
					Conditions: []appsv1.DeploymentCondition{
						{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable", LastUpdateTime: now, LastTransitionTime: now},
						{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable", LastUpdateTime: now, LastTransitionTime: now},
					},
				}
				_, err = deps.UpdateStatus(ctx, d, metav1.UpdateOptions{})
				done <- err
				return
			}
			select {
			case <-ctx.Done():
				done <- fmt.Errorf("deployment %s/%s: %w", ns, name, err)
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	return done
}
