package reconciler

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"mcp.dev/mcp/apply"
	"mcp.dev/mcp/internal/gitserver"
	"mcp.dev/mcp/internal/testenv"
	"mcp.dev/mcp/reconciler/server"
	"mcp.dev/mcp/reconciler/status"
	"mcp.dev/mcp/reconciler/statusgit"
	"mcp.dev/mcp/render"
	"mcp.dev/mcp/source/git"
)

// env holds two real control planes for the tests of this package that
// reconcile for real.
var env *testenv.Env

func TestMain(m *testing.M) {
	testenv.Main(m, &env, testenv.Options{Clusters: []string{"aws-eu", "gcp-us"}})
}

const token = "e2e-t0ken-not-for-logs"

// fleetFiles is a config repo of both clusters: a namespace per test and a
// ConfigMap that says which cluster it is on.
func fleetFiles(ns, value string) map[string]string {
	return map[string]string{
		"clusters/aws-eu.yaml": "apiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata:\n  name: aws-eu\n  labels: {cloud: aws}\n",
		"clusters/gcp-us.yaml": "apiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata:\n  name: gcp-us\n  labels: {cloud: gcp}\n",
		"placements.yaml":      "apiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata:\n  name: base\nspec:\n  path: apps/base\n  clusterSelector: {}\n  namespace: " + ns + "\n",
		"apps/base/ns.yaml":    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + ns + "\n",
		"apps/base/cm.yaml":    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hello\ndata:\n  cluster: ${cluster.name}\n  value: \"" + value + "\"\n",
	}
}

// daemon is a running reconciler against a real git server and the test
// clusters, with its HTTP server.
type daemon struct {
	repo   *gitserver.Repo
	git    *gitserver.HTTP
	ns     string
	store  *status.Store
	url    string
	cancel context.CancelFunc
	done   chan error
	fetch  *atomic.Int32
}

func startDaemon(t *testing.T, statusBranch string, edit func(*Options)) *daemon {
	t.Helper()
	root := gitserver.NewRoot(t)
	repo := root.Init("fleet")
	ns := "e2e-" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	if len(ns) > 50 {
		ns = ns[:50]
	}
	repo.Commit("main", "fleet", fleetFiles(ns, "one"))
	srv := gitserver.NewHTTP(t, root, "mcp", token)
	pw := t.TempDir() + "/token"
	os.WriteFile(pw, []byte(token+"\n"), 0o600)

	gopts := git.DefaultOptions()
	gopts.URL, gopts.Username, gopts.PasswordFile, gopts.CacheDir = srv.RepoURL("fleet"), "mcp", pw, t.TempDir()
	src, err := git.New(gopts)
	if err != nil {
		t.Fatal(err)
	}
	sopts := git.DefaultStatusOptions()
	sopts.Branch = statusBranch
	opts := DefaultOptions()
	opts.Interval = 200 * time.Millisecond
	opts.DriftInterval = time.Hour
	opts.MaxBackoff = 2 * time.Second
	opts.Render.CredentialsDir = env.KubeconfigDir
	opts.Status = src.StatusWriter(sopts)
	if edit != nil {
		edit(&opts)
	}
	aopts := apply.DefaultOptions()
	aopts.Timeout = 30 * time.Second
	aopts.Inventory = "inv-" + ns // tests share the clusters, not inventories
	store, metrics := status.NewStore(), status.NewMetrics()
	r := New(src, NewFleetApplier(aopts, render.Access{CredentialsDir: opts.Render.CredentialsDir}), store, metrics, opts)
	var fetches atomic.Int32
	hs := server.New(server.Options{WebhookSecret: []byte("hook")}, store, metrics, func() { fetches.Add(1); r.Trigger() })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &daemon{repo: repo, git: srv, ns: ns, store: store, url: "http://" + l.Addr().String(), cancel: cancel, done: make(chan error, 1), fetch: &fetches}
	go hs.Serve(ctx, l)
	go func() { d.done <- r.Run(ctx) }()
	t.Cleanup(d.stop)
	return d
}

func (d *daemon) stop() {
	d.cancel()
	<-d.done
	d.done <- nil // a second stop returns at once
}

// waitFor waits until every cluster has result at revision rev.
func (d *daemon) waitFor(t *testing.T, rev string, results map[string]apply.Status) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		fs := d.store.Snapshot()
		ok := len(fs.Clusters) == len(results)
		for _, c := range fs.Clusters {
			if c.Result != results[c.Name] || (rev != "" && c.Result == apply.Synced && c.Revision != rev) {
				ok = false
			}
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("clusters did not reach %v at %.8s: %+v", results, rev, fs.Clusters)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func clientset(t *testing.T, name string) *kubernetes.Clientset {
	t.Helper()
	cs, err := kubernetes.NewForConfig(env.Cluster(name).RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func configValue(t *testing.T, cluster, ns string) string {
	t.Helper()
	cm, err := clientset(t, cluster).CoreV1().ConfigMaps(ns).Get(context.Background(), "hello", metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return ""
	}
	if err != nil {
		return "error: " + err.Error()
	}
	if cm.Data["cluster"] != cluster {
		t.Fatalf("%s: data.cluster = %q", cluster, cm.Data["cluster"])
	}
	return cm.Data["value"]
}

func statusCommits(t *testing.T, repo *gitserver.Repo, branch string) int {
	t.Helper()
	out, err := exec.Command("git", "-C", repo.Dir, "log", "--format=%an", branch).Output()
	if err != nil {
		return 0
	}
	return strings.Count(string(out), "mcp\n")
}

func webhook(t *testing.T, d *daemon) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, d.url+"/webhook", strings.NewReader(`{}`))
	req.Header.Set("X-Gitlab-Token", "hook")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("webhook: %s", resp.Status)
	}
}

func TestRunConvergesWritesStatusAndSurvivesAnOutage(t *testing.T) {
	d := startDaemon(t, "mcp-status", func(o *Options) { o.Interval = time.Hour }) // only the webhook wakes it
	ns := d.ns
	rev1, _ := d.repo.Rev("main")
	d.waitFor(t, rev1, map[string]apply.Status{"aws-eu": apply.Synced, "gcp-us": apply.Synced})
	for _, c := range []string{"aws-eu", "gcp-us"} {
		if got := configValue(t, c, ns); got != "one" {
			t.Fatalf("%s: value %q after the first round", c, got)
		}
	}
	waitCommits(t, d.repo, "mcp-status", 1)

	// A push and a webhook: every cluster converges, one status commit.
	files := fleetFiles(ns, "two")
	rev2 := d.repo.Commit("main", "two", files)
	webhook(t, d)
	d.waitFor(t, rev2, map[string]apply.Status{"aws-eu": apply.Synced, "gcp-us": apply.Synced})
	if got := configValue(t, "gcp-us", ns); got != "two" {
		t.Fatalf("gcp-us: value %q after the push", got)
	}
	waitCommits(t, d.repo, "mcp-status", 2)
	status := d.repo.File("mcp-status", "status/gcp-us.yaml")
	if !strings.Contains(status, "revision: "+rev2) || !strings.Contains(status, "result: Synced") {
		t.Fatalf("status file:\n%s", status)
	}

	// One cluster goes away: it is Unreachable, the other converges.
	us := env.Cluster("gcp-us")
	us.StopAPIServer()
	restarted := false
	defer func() {
		if !restarted {
			us.StartAPIServer(context.Background())
		}
	}()
	rev3 := d.repo.Commit("main", "three", fleetFiles(ns, "three"))
	webhook(t, d)
	// aws-eu at the new revision (gcp-us may turn Unreachable before the
	// webhook's revision reaches aws-eu: its drift watch notices at once).
	d.waitFor(t, rev3, map[string]apply.Status{"aws-eu": apply.Synced, "gcp-us": apply.Unreachable})
	if got := configValue(t, "aws-eu", ns); got != "three" {
		t.Fatalf("aws-eu did not converge while gcp-us was down: %q", got)
	}
	if st := d.store.Snapshot(); st.Clusters[1].Revision != rev2 {
		t.Fatalf("unreachable gcp-us reports revision %.8s, want the last applied %.8s", st.Clusters[1].Revision, rev2)
	}

	// It comes back and converges on its own (backoff retry).
	if err := us.StartAPIServer(context.Background()); err != nil {
		t.Fatal(err)
	}
	restarted = true
	d.waitFor(t, rev3, map[string]apply.Status{"aws-eu": apply.Synced, "gcp-us": apply.Synced})
	if got := configValue(t, "gcp-us", ns); got != "three" {
		t.Fatalf("gcp-us after recovery: %q", got)
	}
	if strings.Contains(d.repo.File("mcp-status", "status/aws-eu.yaml"), token) {
		t.Fatal("token in a status file")
	}
}

func waitCommits(t *testing.T, repo *gitserver.Repo, branch string, want int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for statusCommits(t, repo, branch) < want {
		if time.Now().After(deadline) {
			t.Fatalf("%d status commits on %s, want %d", statusCommits(t, repo, branch), branch, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2 * statusgit.Quiet) // and no more than that
	if got := statusCommits(t, repo, branch); got != want {
		t.Fatalf("%d status commits on %s, want exactly %d", got, branch, want)
	}
}

func TestRunOnTheStatusBranchDoesNotLoop(t *testing.T) {
	d := startDaemon(t, "main", nil)
	rev1, _ := d.repo.Rev("main")
	d.waitFor(t, rev1, map[string]apply.Status{"aws-eu": apply.Synced, "gcp-us": apply.Synced})
	waitCommits(t, d.repo, "main", 1)
	// Many polls later (every 200ms), still one status commit, and the
	// clusters still report the config revision, not the status commit.
	time.Sleep(2 * time.Second)
	if got := statusCommits(t, d.repo, "main"); got != 1 {
		t.Fatalf("%d status commits: the status commit started new rounds", got)
	}
	if st := d.store.Snapshot(); st.Revision != rev1 {
		t.Fatalf("revision %.8s, want the config commit %.8s", st.Revision, rev1)
	}
}

func TestRunHealsDrift(t *testing.T) {
	d := startDaemon(t, "mcp-status", func(o *Options) { o.DriftInterval = 500 * time.Millisecond })
	ns := d.ns
	rev1, _ := d.repo.Rev("main")
	d.waitFor(t, rev1, map[string]apply.Status{"aws-eu": apply.Synced, "gcp-us": apply.Synced})
	cms := clientset(t, "aws-eu").CoreV1().ConfigMaps(ns)
	cm, err := cms.Get(context.Background(), "hello", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Data["value"] = "edited by hand"
	if _, err := cms.Update(context.Background(), cm, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for configValue(t, "aws-eu", ns) != "one" {
		if time.Now().After(deadline) {
			t.Fatal("hand-made drift not healed")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestRunKeepsServingWhileGitIsDown(t *testing.T) {
	d := startDaemon(t, "mcp-status", nil)
	rev1, _ := d.repo.Rev("main")
	d.waitFor(t, rev1, map[string]apply.Status{"aws-eu": apply.Synced, "gcp-us": apply.Synced})
	d.git.Stop()
	// A few polls fail: still ready, the source is reported stale.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(get200(t, d.url+"/metrics"), "mcp_source_stale 1") {
		if time.Now().After(deadline) {
			t.Fatal("source never reported stale while git is down")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if body := get200(t, d.url+"/readyz"); body != "ok" {
		t.Fatalf("readyz while git is down: %q", body)
	}
	// It comes back with a new commit: picked up without a restart.
	rev2 := d.repo.Commit("main", "two", fleetFiles(d.ns, "two"))
	d.git.Start()
	d.waitFor(t, rev2, map[string]apply.Status{"aws-eu": apply.Synced, "gcp-us": apply.Synced})
	if got := configValue(t, "aws-eu", d.ns); got != "two" {
		t.Fatalf("value %q after git came back", got)
	}
	if !strings.Contains(get200(t, d.url+"/metrics"), "mcp_source_stale 0") {
		t.Fatal("source still stale after recovery")
	}
}

// get200 GETs url and returns its body; anything but 200 fails the test.
func get200(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return string(body)
}
