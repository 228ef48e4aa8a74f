package reconciler

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"mcp.dev/mcp/apply"
	"mcp.dev/mcp/diff"
	"mcp.dev/mcp/internal/faultproxy"
	"mcp.dev/mcp/internal/object"
	"mcp.dev/mcp/reconciler/status"
	"mcp.dev/mcp/reconciler/statusgit"
)

// Fault tests of mcp run against the real git server and apiservers of
// e2e_test.go: a cluster dying mid-apply, a slow and flaky network, a
// status branch that keeps moving.

// manyPlacement adds to files a placement "many" of the gcp clusters with
// ConfigMaps cm-<from> .. cm-<to-1> in ns.
func manyPlacement(files map[string]string, ns string, from, to int) map[string]string {
	files = maps.Clone(files)
	files["many.yaml"] = "apiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata:\n  name: many\nspec:\n  path: apps/many\n  clusterSelector: {matchLabels: {cloud: gcp}}\n  namespace: " + ns + "\n"
	var b strings.Builder
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\ndata: {i: \"%d\"}\n", i, i)
	}
	files["apps/many/cms.yaml"] = b.String()
	return files
}

// proxied writes a credentials directory where cluster's kubeconfig points
// at a fault proxy in front of its apiserver; the other clusters' are
// copied as they are.
func proxied(t *testing.T, cluster string) (creds string, p *faultproxy.Proxy) {
	t.Helper()
	creds = t.TempDir()
	for _, c := range env.Clusters {
		cfg, err := clientcmd.LoadFromFile(c.Kubeconfig)
		if err != nil {
			t.Fatal(err)
		}
		if c.Name == cluster {
			u, err := url.Parse(c.URL)
			if err != nil {
				t.Fatal(err)
			}
			p = faultproxy.New(t, u.Host)
			for _, cl := range cfg.Clusters {
				// The serving certificate is for 127.0.0.1, whatever the port.
				cl.Server = "https://" + p.Addr
			}
		}
		if err := clientcmd.WriteToFile(*cfg, filepath.Join(creds, c.Name)); err != nil {
			t.Fatal(err)
		}
	}
	return creds, p
}

// liveManaged lists the names of the ConfigMaps mcp manages in ns.
func liveManaged(t *testing.T, cluster, ns string) []string {
	t.Helper()
	list, err := clientset(t, cluster).CoreV1().ConfigMaps(ns).List(context.Background(),
		metav1.ListOptions{LabelSelector: object.ManagedByLabel + "=" + object.ManagedByValue})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, cm := range list.Items {
		names = append(names, cm.Name)
	}
	slices.Sort(names)
	return names
}

// inventoryOf reads inventory name on cluster as "Kind namespace/name"
// lines, sorted, the way the next reconcile reads it.
func inventoryOf(t *testing.T, cluster, name string) []string {
	t.Helper()
	opts := apply.DefaultOptions()
	opts.Inventory = name
	a, err := apply.NewApplier(cluster, env.Cluster(cluster).RESTConfig(), opts)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := a.Inventory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, k := range keys {
		lines = append(lines, k.Kind+" "+k.Namespace+"/"+k.Name)
	}
	slices.Sort(lines)
	return lines
}

func cmNames(from, to int) []string {
	var names []string
	for i := from; i < to; i++ {
		names = append(names, fmt.Sprintf("cm-%d", i))
	}
	return names
}

// TestAPIServerDiesMidApply kills gcp-us's apiserver while hundreds of
// ConfigMaps are being applied to it (and 20 pruned): aws-eu converges all
// the same, and once gcp-us is back it converges without a restart of mcp,
// its inventory and its live objects exactly the desired set, a ConfigMap
// mcp never managed untouched.
func TestAPIServerDiesMidApply(t *testing.T) {
	// A slow link to gcp-us (10ms per chunk) keeps the apply going long
	// enough to be cut in the middle.
	creds, link := proxied(t, "gcp-us")
	d := startDaemon(t, "mcp-status", func(o *Options) {
		o.Interval = time.Hour // only the webhook wakes it
		o.Render.CredentialsDir = creds
	})
	ns := d.ns
	rev1 := d.repo.Commit("main", "many", manyPlacement(fleetFiles(ns, "one"), ns, 0, 100))
	webhook(t, d)
	d.waitFor(t, rev1, map[string]apply.Status{"aws-eu": apply.Synced, "gcp-us": apply.Synced})
	us := clientset(t, "gcp-us")
	handMade, err := us.CoreV1().ConfigMaps(ns).Create(context.Background(),
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "hand-made", Namespace: ns}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}

	link.SetLatency(10 * time.Millisecond)
	rev2 := d.repo.Commit("main", "more", manyPlacement(fleetFiles(ns, "two"), ns, 20, 320))
	webhook(t, d)
	// Kill the apiserver once the apply is under way, well before its end.
	deadline := time.Now().Add(60 * time.Second)
	for {
		n := len(liveManaged(t, "gcp-us", ns))
		if n > 110 { // 101 of rev1 and at least ten new ones
			if n >= 321 {
				t.Fatalf("the apply ended before the apiserver could be killed (%d objects)", n)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the apply of rev2 never started: %d objects", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	c := env.Cluster("gcp-us")
	c.StopAPIServer()
	restarted := false
	defer func() {
		if !restarted {
			c.StartAPIServer(context.Background())
		}
	}()

	// The rest of the fleet is unaffected.
	deadline = time.Now().Add(60 * time.Second)
	for {
		st := d.store.Snapshot()
		if len(st.Clusters) == 2 && st.Clusters[0].Result == apply.Synced && st.Clusters[0].Revision == rev2 &&
			st.Clusters[1].Result == apply.Unreachable {
			if st.Clusters[1].Revision != rev1 {
				t.Errorf("gcp-us, cut off mid-apply, reports revision %.8s, want the last applied %.8s", st.Clusters[1].Revision, rev1)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("aws-eu did not converge while gcp-us was down: %+v", st.Clusters)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := configValue(t, "aws-eu", ns); got != "two" {
		t.Fatalf("aws-eu: value %q", got)
	}

	if err := c.StartAPIServer(context.Background()); err != nil {
		t.Fatal(err)
	}
	restarted = true
	link.SetLatency(0)
	d.waitFor(t, rev2, map[string]apply.Status{"aws-eu": apply.Synced, "gcp-us": apply.Synced})

	want := append([]string{"hello"}, cmNames(20, 320)...)
	slices.Sort(want)
	if got := liveManaged(t, "gcp-us", ns); !slices.Equal(got, want) {
		t.Errorf("live managed ConfigMaps: %d, want %d; missing %v, extra %v", len(got), len(want), minus(want, got), minus(got, want))
	}
	var wantInv []string
	for _, n := range want {
		wantInv = append(wantInv, "ConfigMap "+ns+"/"+n)
	}
	wantInv = append(wantInv, "Namespace /"+ns)
	slices.Sort(wantInv)
	if got := inventoryOf(t, "gcp-us", "inv-"+ns); !slices.Equal(got, wantInv) {
		t.Errorf("gcp-us inventory: %d entries, want %d; missing %v, extra %v", len(got), len(wantInv), minus(wantInv, got), minus(got, wantInv))
	}
	if got, want := inventoryOf(t, "aws-eu", "inv-"+ns), []string{"ConfigMap " + ns + "/hello", "Namespace /" + ns}; !slices.Equal(got, want) {
		t.Errorf("aws-eu inventory %v, want %v", got, want)
	}
	if _, err := us.CoreV1().ConfigMaps(ns).Get(context.Background(), handMade.Name, metav1.GetOptions{}); err != nil {
		t.Errorf("a ConfigMap mcp never managed: %v", err)
	}
}

// minus is what of a is not in b.
func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// reports records every cluster reconcile the loop reports, with its time.
type reports struct {
	mu  sync.Mutex
	all []report
}

type report struct {
	at      time.Time
	cluster string
	result  apply.Status
	message string
}

func (r *reports) add(st status.Cluster, _ *diff.ClusterPlan) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.all = append(r.all, report{at: time.Now(), cluster: st.Name, result: st.Result, message: st.Message})
}

// of returns cluster's reports since t.
func (r *reports) of(cluster string, since time.Time) []report {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []report
	for _, x := range r.all {
		if x.cluster == cluster && !x.at.Before(since) {
			out = append(out, x)
		}
	}
	return out
}

// TestSlowFlakyNetworkToOneCluster puts a fault proxy between mcp and
// gcp-us. Latency and reset connections are retried until gcp-us
// converges; a blackholed link is cut off by the reconcile timeout and
// retried with growing backoff, while aws-eu keeps its pace; once the link
// heals, gcp-us converges without a restart.
func TestSlowFlakyNetworkToOneCluster(t *testing.T) {
	const timeout = 2 * time.Second
	creds, link := proxied(t, "gcp-us")
	link.SetLatency(20 * time.Millisecond)
	link.ResetEvery(15)
	var rec reports
	d := startDaemon(t, "mcp-status", func(o *Options) {
		o.Render.CredentialsDir = creds
		o.ReconcileTimeout = timeout
		o.DriftInterval = 200 * time.Millisecond // aws-eu's pace
		o.MaxBackoff = 4 * time.Second
		o.Report = rec.add
	})
	rev1, _ := d.repo.Rev("main")
	// A few connections are cut with requests in flight; then the link
	// stays slow but stops resetting (a reconcile needing more chunks
	// than ResetEvery would otherwise never get through).
	deadline := time.Now().Add(20 * time.Second)
	for link.Resets() < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	link.ResetEvery(0)
	d.waitFor(t, rev1, map[string]apply.Status{"aws-eu": apply.Synced, "gcp-us": apply.Synced})
	t.Logf("flaky phase: %d connections, %d reset", link.Connections(), link.Resets())
	if link.Resets() == 0 {
		t.Fatal("no connection was reset: the flaky phase tested nothing")
	}

	// The link to gcp-us goes dead; a new revision arrives.
	link.SetLatency(0)
	link.ResetEvery(0)
	link.Blackhole(true)
	start := time.Now()
	rev2 := d.repo.Commit("main", "two", fleetFiles(d.ns, "two"))
	webhook(t, d)
	time.Sleep(10 * time.Second)
	end := time.Now()

	// aws-eu converged and kept reconciling at its own pace.
	if got := configValue(t, "aws-eu", d.ns); got != "two" {
		t.Fatalf("aws-eu: value %q while gcp-us was blackholed", got)
	}
	eu := rec.of("aws-eu", start)
	if len(eu) < 10 {
		t.Errorf("aws-eu reconciled %d times in 10s with a drift interval of 200ms", len(eu))
	}
	for i := 1; i < len(eu); i++ {
		if gap := eu[i].at.Sub(eu[i-1].at); gap > time.Second {
			t.Errorf("aws-eu waited %s between two reconciles while gcp-us was blackholed", gap)
		}
	}
	// gcp-us: each try cut off at the timeout, then retried with backoff,
	// never in a tight loop.
	us := rec.of("gcp-us", start)
	// A drift check already under way when the link died may still end
	// Synced (every 200ms one starts): it is not a try on the dead link.
	for len(us) > 0 && us[0].result == apply.Synced && us[0].at.Sub(start) < time.Second {
		us = us[1:]
	}
	if len(us) == 0 {
		t.Fatalf("gcp-us never reported in 10s: a blackholed cluster held its worker")
	}
	for _, r := range us {
		if r.result != apply.Unreachable {
			t.Errorf("gcp-us while blackholed: %s %q, want Unreachable", r.result, r.message)
		}
	}
	if !strings.Contains(us[0].message, "reconcile took longer than 2s") {
		t.Errorf("gcp-us message %q does not say it timed out", us[0].message)
	}
	// timeout + 1s, timeout + 2s, timeout + 4s, ...: at most 4 in 10s.
	if len(us) > 4 {
		t.Errorf("gcp-us tried %d times in 10s: no backoff", len(us))
	}
	for i := 2; i < len(us); i++ {
		if us[i].at.Sub(us[i-1].at) < us[i-1].at.Sub(us[i-2].at)-200*time.Millisecond {
			t.Errorf("gcp-us retries came faster: %s after %s", us[i].at.Sub(us[i-1].at), us[i-1].at.Sub(us[i-2].at))
		}
	}
	if st := d.store.Snapshot(); st.Clusters[1].Revision != rev1 {
		t.Errorf("gcp-us reports revision %.8s while unreachable, want the last applied %.8s", st.Clusters[1].Revision, rev1)
	}
	t.Logf("blackholed for %s: aws-eu %d reconciles, gcp-us %d tries", end.Sub(start).Round(time.Second), len(eu), len(us))

	// The link heals: gcp-us converges on its own.
	link.Blackhole(false)
	d.waitFor(t, rev2, map[string]apply.Status{"aws-eu": apply.Synced, "gcp-us": apply.Synced})
	if got := configValue(t, "gcp-us", d.ns); got != "two" {
		t.Fatalf("gcp-us after the link healed: %q", got)
	}
}

// gatedStatus holds status writes until open is closed, and counts the
// writes and their errors; the writes themselves go to the real writer.
type gatedStatus struct {
	statusgit.Writer
	open chan struct{}

	mu   sync.Mutex
	errs []error
}

func (g *gatedStatus) WriteStatus(ctx context.Context, files map[string][]byte, msg string) error {
	select {
	case <-g.open:
	case <-ctx.Done():
		return ctx.Err()
	}
	err := g.Writer.WriteStatus(ctx, files, msg)
	g.mu.Lock()
	g.errs = append(g.errs, err)
	g.mu.Unlock()
	return err
}

func (g *gatedStatus) results() []error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.errs)
}

// TestStatusPushRejectedRoundAfterRound: another writer moves the status
// branch before each of mcp's first seven pushes. The first round gives
// up after the writer's five attempts, the loop keeps the clusters pending
// and writes them next round, on top of the other writer's commits: one
// status commit, nothing lost, nothing doubled.
func TestStatusPushRejectedRoundAfterRound(t *testing.T) {
	gate := &gatedStatus{open: make(chan struct{})}
	d := startDaemon(t, "mcp-status", func(o *Options) {
		gate.Writer = o.Status
		o.Status = gate
		o.Interval = time.Hour
	})
	counter := filepath.Join(t.TempDir(), "rejected")
	hook := `n=$(cat ` + counter + ` 2>/dev/null || echo 0)
[ "$n" -ge 7 ] && exit 0
echo $((n+1)) > ` + counter + `
unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES
export GIT_AUTHOR_NAME=other GIT_AUTHOR_EMAIL=o@x GIT_COMMITTER_NAME=other GIT_COMMITTER_EMAIL=o@x
blob=$(echo "other $n" | git hash-object -w --stdin)
if head=$(git rev-parse -q --verify refs/heads/mcp-status); then
  tree=$( (git ls-tree $head | grep -v '	other.txt$'; printf '100644 blob %s\tother.txt\n' $blob) | git mktree)
  c=$(git commit-tree $tree -p $head -m "other $n")
else
  c=$(printf '100644 blob %s\tother.txt\n' $blob | git mktree | xargs git commit-tree -m "other $n")
fi
git update-ref refs/heads/mcp-status $c
echo "the branch moved" >&2
exit 1
`
	if err := os.WriteFile(filepath.Join(d.repo.Dir, "hooks", "pre-receive"), []byte("#!/bin/sh\n"+hook), 0o755); err != nil {
		t.Fatal(err)
	}
	close(gate.open)

	rev1, _ := d.repo.Rev("main")
	d.waitFor(t, rev1, map[string]apply.Status{"aws-eu": apply.Synced, "gcp-us": apply.Synced})
	waitCommits(t, d.repo, "mcp-status", 1)
	errs := gate.results()
	if len(errs) != 2 || errs[0] == nil || !strings.Contains(errs[0].Error(), "status push rejected") || errs[1] != nil {
		t.Fatalf("status writes: %v, want one round given up and one written", errs)
	}
	if strings.Contains(errs[0].Error(), token) {
		t.Fatal("the push error shows the token")
	}
	if got := strings.TrimSpace(gitLog(t, d.repo.Dir, "%an", "mcp-status")); strings.Count(got, "other") != 7 || strings.Count(got, "mcp") != 1 {
		t.Fatalf("authors on mcp-status:\n%s\nwant 7 other and 1 mcp", got)
	}
	for _, c := range []string{"aws-eu", "gcp-us"} {
		if f := d.repo.File("mcp-status", "status/"+c+".yaml"); !strings.Contains(f, "revision: "+rev1) || !strings.Contains(f, "result: Synced") {
			t.Errorf("status/%s.yaml:\n%s", c, f)
		}
	}
	if d.repo.File("mcp-status", "other.txt") != "other 6" {
		t.Error("the other writer's last commit was lost")
	}
	if !strings.Contains(get200(t, d.url+"/metrics"), "mcp_status_commits_total 1") {
		t.Error("mcp_status_commits_total is not 1")
	}

	// The next round is written at once, on top.
	rev2 := d.repo.Commit("main", "two", fleetFiles(d.ns, "two"))
	webhook(t, d)
	d.waitFor(t, rev2, map[string]apply.Status{"aws-eu": apply.Synced, "gcp-us": apply.Synced})
	waitCommits(t, d.repo, "mcp-status", 2)
	if f := d.repo.File("mcp-status", "status/gcp-us.yaml"); !strings.Contains(f, "revision: "+rev2) {
		t.Errorf("status/gcp-us.yaml after the second round:\n%s", f)
	}
}

func gitLog(t *testing.T, dir, format, rev string) string {
	t.Helper()
	out, err := exec.Command("git", "-C", dir, "log", "--format="+format, rev).CombinedOutput()
	if err != nil {
		t.Fatalf("git log: %v\n%s", err, out)
	}
	return string(out)
}

// TestQuietRoundKeepsTheFile: a drift check that changes nothing keeps the
// counts of the last round that changed something, and marks nothing for a
// status commit; a round that changes something does.
func TestQuietRoundKeepsTheFile(t *testing.T) {
	s := status.NewStore()
	first := status.Cluster{Name: "eu", Result: apply.Synced, Revision: "r1", Summary: status.Summary{Managed: 5, Created: 5}}
	if _, changed := s.Update(first); !changed {
		t.Fatal("the first round did not change the status")
	}
	quiet := first
	quiet.Summary = status.Summary{Managed: 5}
	if st, changed := s.Update(quiet); changed || st.Summary.Created != 5 {
		t.Fatalf("a quiet round: changed %v, summary %+v; want unchanged with the counts of the first", changed, st.Summary)
	}
	busy := quiet
	busy.Summary = status.Summary{Managed: 5, Updated: 1}
	if _, changed := s.Update(busy); !changed {
		t.Fatal("a round that updated an object did not change the status")
	}
	gone := quiet
	gone.Summary = status.Summary{Managed: 4}
	if _, changed := s.Update(gone); !changed {
		t.Fatal("a round whose managed count moved did not change the status")
	}
}
