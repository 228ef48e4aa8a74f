package dashboard

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/chromedp/chromedp"

	"mcp.dev/mcp/apply"
	"mcp.dev/mcp/reconciler"
	"mcp.dev/mcp/reconciler/server"
	"mcp.dev/mcp/reconciler/status"
	"mcp.dev/mcp/render"
	"mcp.dev/mcp/source/dir"
)

const hostileValue = `"><img src=x onerror=alert(1)>`

// fleet writes a config repo of both test clusters to root: a namespace
// and a ConfigMap on each.
func fleet(t *testing.T, root string, pauseEU bool) {
	t.Helper()
	eu := "apiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata:\n  name: aws-eu\n  labels: {cloud: aws, region: eu-west-1, env: prod}\n"
	if pauseEU {
		eu += "spec:\n  paused: true\n"
	}
	files := map[string]string{
		"clusters/aws-eu.yaml": eu,
		"clusters/gcp-us.yaml": "apiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata:\n  name: gcp-us\n  labels: {cloud: gcp, region: us-east1, env: dev}\n",
		"placements.yaml":      "apiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata:\n  name: base\nspec:\n  path: apps/base\n  clusterSelector: {}\n  namespace: dash\n",
		"apps/base/ns.yaml":    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: dash\n",
		"apps/base/cm.yaml":    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hello\ndata:\n  value: one\n",
	}
	for name, data := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// startMCP wires what mcp run --dir wires: a watched directory, the loop
// over the real clusters, and the HTTP server with the dashboard.
func startMCP(t *testing.T, root string) (url string, store *status.Store) {
	t.Helper()
	src, err := dir.New(dir.Options{Dir: root, Debounce: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	opts := reconciler.DefaultOptions()
	opts.Interval = time.Second
	opts.DriftInterval = time.Second // hand-made changes show within a second
	opts.MaxBackoff = time.Second
	opts.Render.CredentialsDir = env.KubeconfigDir
	aopts := apply.DefaultOptions()
	aopts.Timeout = 20 * time.Second
	store, metrics := status.NewStore(), status.NewMetrics()
	store.SetSource(status.SourceInfo{URL: src.String()})
	r := reconciler.New(src, reconciler.NewFleetApplier(aopts, render.Access{CredentialsDir: env.KubeconfigDir}), store, metrics, opts)
	srv := server.New(server.Options{Dashboard: New(store, DefaultOptions())}, store, metrics, r.Trigger)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served, ran := make(chan error, 1), make(chan error, 1)
	go func() { served <- srv.Serve(ctx, l) }()
	go func() { ran <- r.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-ran; <-served })
	return "http://" + l.Addr().String(), store
}

// row is a script expression: the result the overview shows for cluster.
func row(cluster string) string {
	return `document.querySelector('tr[data-cluster="` + cluster + `"]')?.dataset.result`
}

// waitStore waits until the Store says cluster has result, and returns when.
func waitStore(t *testing.T, store *status.Store, cluster string, result apply.Status) time.Time {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		for _, c := range store.Snapshot().Clusters {
			if c.Name == cluster && c.Result == result {
				return time.Now()
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never became %s: %+v", cluster, result, store.Snapshot().Clusters)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestBrowserFollowsTheFleet watches the dashboard in chromium while real
// clusters converge, go away, come back and drift.
func TestBrowserFollowsTheFleet(t *testing.T) {
	root := t.TempDir()
	fleet(t, root, false)
	url, store := startMCP(t, root)
	b := newBrowser(t)

	// 1. Every cluster converges and is listed with its labels and source.
	b.do(t, chromedp.Navigate(url+"/"))
	b.waitJS(t, "both clusters Synced", row("aws-eu")+` === 'Synced' && `+row("gcp-us")+` === 'Synced'`, 90*time.Second)
	b.waitJS(t, "the live indicator", `document.getElementById('live').textContent === 'Live'`, 5*time.Second)
	text := eval[string](t, b, `document.getElementById('main').innerText`)
	for _, want := range []string{"2 clusters", "region=eu-west-1", "env=dev", "Synced", root, "Fresh"} {
		if !strings.Contains(text, want) {
			t.Fatalf("overview lacks %q:\n%s", want, text)
		}
	}
	b.do(t, chromedp.Evaluate[chromedp.Void](`window.notReloaded = true`))

	// 2. gcp-us's apiserver stops: it turns Unreachable on the open page
	// within a couple of seconds of mcp noticing, and back when it returns.
	us := env.Cluster("gcp-us")
	us.StopAPIServer()
	restarted := false
	t.Cleanup(func() {
		if !restarted {
			us.StartAPIServer(context.Background())
		}
	})
	noticed := waitStore(t, store, "gcp-us", apply.Unreachable)
	b.waitJS(t, "gcp-us Unreachable", row("gcp-us")+` === 'Unreachable'`, 3*time.Second)
	t.Logf("Unreachable shown %v after mcp noticed", time.Since(noticed).Round(time.Millisecond))
	if !strings.Contains(eval[string](t, b, `document.querySelector('tr[data-cluster="gcp-us"]').innerText`), "Unreachable") {
		t.Fatal("Unreachable is not written out in the row")
	}
	b.screenshot(t, "dashboard-overview")
	if err := us.StartAPIServer(context.Background()); err != nil {
		t.Fatal(err)
	}
	restarted = true
	waitStore(t, store, "gcp-us", apply.Synced)
	b.waitJS(t, "gcp-us Synced again", row("gcp-us")+` === 'Synced'`, 3*time.Second)

	// 3. aws-eu is paused in the repo, then its ConfigMap is edited by
	// hand to markup: it turns Drifted, and its page shows the field-level
	// diff with the markup as text.
	fleet(t, root, true)
	b.waitJS(t, "aws-eu Paused", row("aws-eu")+` === 'Paused'`, 30*time.Second)
	cs, err := kubernetes.NewForConfig(env.Cluster("aws-eu").RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	setValue := func(v string) {
		t.Helper()
		cms := cs.CoreV1().ConfigMaps("dash")
		cm, err := cms.Get(context.Background(), "hello", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cm.Data["value"] = v
		if _, err := cms.Update(context.Background(), cm, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
			t.Fatal(err)
		}
	}
	setValue(hostileValue)
	b.waitJS(t, "aws-eu Drifted", row("aws-eu")+` === 'Drifted'`, 30*time.Second)
	if !eval[bool](t, b, `window.notReloaded === true`) {
		t.Fatal("the overview reloaded instead of updating in place")
	}

	// With the keyboard: focus the cluster's link and press Enter.
	b.do(t, chromedp.Focus(chromedp.CSS(`a[data-key="cluster-aws-eu"]`)), chromedp.KeyEvent("\r"))
	b.waitJS(t, "the cluster page", `location.pathname === '/clusters/aws-eu' && document.querySelector('#result')?.dataset.result === 'Drifted'`, 10*time.Second)
	b.waitJS(t, "the drifted field", `[...document.querySelectorAll('#plan .field')].some(f => f.querySelector('.path').textContent === 'data.value')`, 10*time.Second)
	old := eval[string](t, b, `document.querySelector('#plan .field .old').textContent`)
	if want := `"\"><img src=x onerror=alert(1)>"`; old != want {
		t.Fatalf("live value reads %q, want %q", old, want)
	}
	if n := eval[int](t, b, `document.querySelectorAll('main img, [onerror]').length`); n != 0 {
		t.Fatalf("%d elements made from a ConfigMap value", n)
	}
	if !strings.Contains(eval[string](t, b, `document.getElementById('drifted').innerText`), "ConfigMap dash/hello") {
		t.Fatal("the drifted object is not listed")
	}
	b.screenshot(t, "dashboard-cluster-drifted")

	// The drift is undone by hand: the open cluster page follows.
	b.do(t, chromedp.Evaluate[chromedp.Void](`window.notReloaded = true`))
	setValue("one")
	b.waitJS(t, "aws-eu Paused again", `document.querySelector('#result')?.dataset.result === 'Paused'`, 30*time.Second)
	if !eval[bool](t, b, `window.notReloaded === true && document.querySelectorAll('#plan .field').length === 0`) {
		t.Fatal("the cluster page reloaded, or still shows the old plan")
	}
	b.checkClean(t)
}
