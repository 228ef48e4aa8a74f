package main

import (
	"context"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"mcp.dev/mcp/internal/chartserver"
	"mcp.dev/mcp/internal/testenv"
)

// TestApplyRemoteChart: apply fetches a chart of a chart repository with
// basic auth into the cache and applies it; render works offline from
// the cache and says what is not in it; a new version in the range shows
// in diff --fetch-charts; a wrong password fails the cluster and applies
// nothing.
func TestApplyRemoteChart(t *testing.T) {
	env, err := testenv.Start(context.Background(), testenv.Options{Clusters: []string{"eu"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Stop)
	charts := chartserver.NewHTTPRepo(t)
	charts.Publish("app", "1.0.0")
	charts.Publish("app", "1.1.0")
	host := strings.TrimPrefix(charts.Server.URL, "https://")

	repo, creds, cache := t.TempDir(), t.TempDir(), t.TempDir()
	writeFile := func(p, data string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(filepath.Join(repo, "mcp.yaml"), `apiVersion: mcp.dev/v1alpha1
kind: Cluster
metadata: {name: eu}
---
apiVersion: mcp.dev/v1alpha1
kind: Placement
metadata: {name: app}
spec:
  clusters: [eu]
  chart: {repo: "`+charts.Server.URL+`", name: app, version: 1.x, values: {message: from-mcp}}
`)
	kc, err := os.ReadFile(env.Cluster("eu").Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(filepath.Join(creds, "eu"), string(kc))
	writeFile(filepath.Join(creds, "charts", host, "username"), chartserver.User)
	writeFile(filepath.Join(creds, "charts", host, "password"), chartserver.Password)
	writeFile(filepath.Join(creds, "charts", host, "ca.crt"), string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: charts.Server.Certificate().Raw})))
	common := []string{"--dir", repo, "--credentials-dir", creds, "--cache-dir", cache}

	// Offline, with nothing fetched yet: render says what it lacks.
	code, out, errOut := mcp(t, append([]string{"render", "--cluster", "eu"}, common...)...)
	if code != exitError || !strings.Contains(errOut, "app 1.x is not in the chart cache") || !strings.Contains(errOut, "--fetch-charts") {
		t.Fatalf("render before any fetch: exit %d\n%s\n%s", code, out, errOut)
	}

	code, out, errOut = mcp(t, append([]string{"apply"}, common...)...)
	if code != exitOK || !strings.Contains(out, "+ ConfigMap default/app") {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	cs, err := kubernetes.NewForConfig(env.Cluster("eu").RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	liveVersion := func() string {
		t.Helper()
		cm, err := cs.CoreV1().ConfigMaps("default").Get(context.Background(), "app", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if cm.Data["message"] != "from-mcp" || cm.Annotations["mcp.dev/chart"] != "app@"+cm.Data["version"] {
			t.Errorf("live ConfigMap: %v %v", cm.Data, cm.Annotations)
		}
		return cm.Data["version"]
	}
	if v := liveVersion(); v != "1.1.0" {
		t.Fatalf("applied version %s, want 1.1.0", v)
	}

	// Offline from the cache now.
	code, out, errOut = mcp(t, append([]string{"render", "--cluster", "eu"}, common...)...)
	if code != exitOK || !strings.Contains(out, `version: 1.1.0`) || !strings.Contains(out, "(chart app@1.1.0, placement app)") {
		t.Fatalf("render from the cache: exit %d\n%s\n%s", code, out, errOut)
	}

	// A new version in the range: the diff shows it once fetched.
	charts.Publish("app", "1.2.0")
	code, out, errOut = mcp(t, append([]string{"diff", "--fetch-charts"}, common...)...)
	if code != exitOK || !strings.Contains(out, `data.version: "1.1.0" → "1.2.0"`) || !strings.Contains(out, `"app@1.1.0" → "app@1.2.0"`) {
		t.Fatalf("diff --fetch-charts after 1.2.0: exit %d\n%s\n%s", code, out, errOut)
	}

	// A wrong password: a clear error, nothing applied, no password shown.
	writeFile(filepath.Join(creds, "charts", host, "password"), "not-the-password")
	code, out, errOut = mcp(t, append([]string{"apply"}, common...)...)
	if code != exitError || !strings.Contains(errOut, "placement app") || !strings.Contains(errOut, "were refused") {
		t.Fatalf("apply with a wrong password: exit %d\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, "not-the-password") || strings.Contains(out+errOut, chartserver.Password) {
		t.Fatal("a password was printed")
	}
	if v := liveVersion(); v != "1.1.0" {
		t.Errorf("after the refused fetch the cluster has %s, want 1.1.0 untouched", v)
	}
}

// TestChartDependencyFetched: a chart of the repo whose dependency is
// not vendored in charts/ gets it from its chart repository at the
// version Chart.lock pins, fetched by apply (or --fetch-charts) into the
// cache; an offline render says what it lacks and how to get it.
func TestChartDependencyFetched(t *testing.T) {
	env, err := testenv.Start(context.Background(), testenv.Options{Clusters: []string{"eu"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Stop)
	charts := chartserver.NewHTTPRepo(t)
	charts.Publish("app", "1.0.0")
	charts.Publish("app", "1.1.0") // in the range, not what the lock pins
	host := strings.TrimPrefix(charts.Server.URL, "https://")

	repo, creds, cache := t.TempDir(), t.TempDir(), t.TempDir()
	files := map[string]string{
		"mcp.yaml": `apiVersion: mcp.dev/v1alpha1
kind: Cluster
metadata: {name: eu}
---
apiVersion: mcp.dev/v1alpha1
kind: Placement
metadata: {name: stack}
spec:
  clusters: [eu]
  chart: {path: stack, values: {app: {message: via-parent}}}
`,
		"stack/Chart.yaml":        "apiVersion: v2\nname: stack\nversion: 0.1.0\ndependencies:\n- {name: app, version: 1.x, repository: \"" + charts.Server.URL + "\"}\n",
		"stack/Chart.lock":        "dependencies:\n- {name: app, version: 1.0.0, repository: \"" + charts.Server.URL + "\"}\ndigest: sha256:0000000000000000000000000000000000000000000000000000000000000000\ngenerated: \"2026-11-01T00:00:00Z\"\n",
		"stack/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: parent}\ndata: {parent: \"yes\"}\n",
	}
	kc, err := os.ReadFile(env.Cluster("eu").Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for p, data := range map[string]string{
		filepath.Join(creds, "eu"):                       string(kc),
		filepath.Join(creds, "charts", host, "username"): chartserver.User,
		filepath.Join(creds, "charts", host, "password"): chartserver.Password,
		filepath.Join(creds, "charts", host, "ca.crt"):   string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: charts.Server.Certificate().Raw})),
	} {
		files[p] = data
	}
	for p, data := range files {
		if !filepath.IsAbs(p) {
			p = filepath.Join(repo, p)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	common := []string{"--dir", repo, "--credentials-dir", creds, "--cache-dir", cache}

	code, out, errOut := mcp(t, append([]string{"render", "--cluster", "eu"}, common...)...)
	if code != exitError || !strings.Contains(errOut, "dependency "+charts.Server.URL+"/app 1.0.0 is neither vendored in charts/ nor in the chart cache") ||
		!strings.Contains(errOut, "stack/Chart.yaml") || !strings.Contains(errOut, "--fetch-charts") {
		t.Fatalf("render before any fetch: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = mcp(t, append([]string{"apply"}, common...)...)
	if code != exitOK || !strings.Contains(out, "+ ConfigMap default/parent") || !strings.Contains(out, "+ ConfigMap default/stack") {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, errOut)
	}
	cs, err := kubernetes.NewForConfig(env.Cluster("eu").RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	cm, err := cs.CoreV1().ConfigMaps("default").Get(context.Background(), "stack", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Data["version"] != "1.0.0" || cm.Data["message"] != "via-parent" {
		t.Errorf("the dependency's ConfigMap: %v, want version 1.0.0 (the lock's) and the parent's value", cm.Data)
	}
	// Offline from the cache now, and unchanged.
	code, out, errOut = mcp(t, append([]string{"diff", "--exit-code"}, common...)...)
	if code != exitOK {
		t.Errorf("live diff from the cache after apply: exit %d\n%s\n%s", code, out, errOut)
	}
}
