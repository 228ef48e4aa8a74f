package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	corev1 "k8s.io/api/core/v1"

	"mcp.dev/mcp/apply"
	"mcp.dev/mcp/internal/faultproxy"
	"mcp.dev/mcp/internal/gitserver"
	"mcp.dev/mcp/internal/object"
	"mcp.dev/mcp/internal/testenv"
)

// syncBuffer is a log sink several goroutines of exec may write to.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// mcpProcess is a running mcp binary.
type mcpProcess struct {
	cmd    *exec.Cmd
	logs   *syncBuffer
	exited chan struct{}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *mcpProcess) kill() {
	p.cmd.Process.Kill()
	<-p.exited
}

// startMCP starts the built binary with args; it is killed when the test
// ends if still running.
func startMCP(t *testing.T, bin string, args ...string) *mcpProcess {
	t.Helper()
	p := &mcpProcess{logs: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(p.kill)
	return p
}

// waitStatus waits until /status on addr satisfies ok.
func waitStatus(t *testing.T, addr string, logs fmt.Stringer, what string, ok func(runStatus) bool) runStatus {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		st, err := getStatus(addr)
		if err == nil && ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: never happened: %+v\n%s", what, st, logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// statusAuthors counts the commits of author on branch of the bare repo.
func commitsBy(t *testing.T, repoDir, branch, author string) int {
	t.Helper()
	out, err := exec.Command("git", "-C", repoDir, "log", "--format=%an", branch).Output()
	if err != nil {
		return 0
	}
	return strings.Count(string(out), author+"\n")
}

// manyFleet is a one-cluster config repo: namespace many with ConfigMaps
// cm-<from> .. cm-<to-1>.
func manyFleet(from, to int) map[string]string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Namespace\nmetadata: {name: many}\n")
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d}\ndata: {i: \"%d\"}\n", i, i)
	}
	return map[string]string{
		"fleet.yaml": "apiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata: {name: eu}\n---\n" +
			"apiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata: {name: many}\nspec: {path: apps, clusterSelector: {}, namespace: many}\n",
		"apps/many.yaml": b.String(),
	}
}

// slowCredentials writes a credentials dir whose kubeconfig for cluster
// goes through a fault proxy, to slow an apply down on purpose.
func slowCredentials(t *testing.T, c *testenv.Cluster) (string, *faultproxy.Proxy) {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(c.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(c.URL)
	if err != nil {
		t.Fatal(err)
	}
	p := faultproxy.New(t, u.Host)
	for _, cl := range cfg.Clusters {
		cl.Server = "https://" + p.Addr
	}
	creds := t.TempDir()
	if err := clientcmd.WriteToFile(*cfg, filepath.Join(creds, c.Name)); err != nil {
		t.Fatal(err)
	}
	return creds, p
}

func managedConfigMaps(t *testing.T, cs kubernetes.Interface, ns string) []string {
	t.Helper()
	list, err := cs.CoreV1().ConfigMaps(ns).List(context.Background(), metav1.ListOptions{LabelSelector: object.ManagedByLabel + "=" + object.ManagedByValue})
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

// TestRunSurvivesSIGKILLMidApply kills mcp run (SIGKILL: no cleanup at
// all) while it applies a revision that adds 320 ConfigMaps and drops 20.
// Started again on the same cache, it converges, prunes exactly the 20,
// leaves a ConfigMap it never managed alone, keeps its inventory equal to
// the desired set, and writes one status commit for the round; a further
// restart with nothing to do writes none.
func TestRunSurvivesSIGKILLMidApply(t *testing.T) {
	env, err := testenv.Start(context.Background(), testenv.Options{Clusters: []string{"eu"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Stop)
	bin := testenv.BuildMCP(t)
	creds, link := slowCredentials(t, env.Cluster("eu"))
	root := gitserver.NewRoot(t)
	repo := root.Init("fleet")
	const token = "kill-t0ken"
	srv := gitserver.NewHTTP(t, root, "mcp", token)
	pw := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(pw, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	rev1 := repo.Commit("main", "100", manyFleet(0, 100))
	run := func() (*mcpProcess, string, *syncBuffer) {
		addr := freeAddr(t)
		p := startMCP(t, bin, "run", "--repo", srv.RepoURL("fleet"), "--git-username", "mcp", "--git-password-file", pw,
			"--cache-dir", cache, "--credentials-dir", creds, "--listen", addr, "--interval", "200ms", "--log-format", "json")
		return p, addr, p.logs
	}
	synced := func(rev string) func(runStatus) bool {
		return func(st runStatus) bool {
			return len(st.Clusters) == 1 && st.Clusters[0].Result == "Synced" && st.Clusters[0].Revision == rev
		}
	}

	cmd, addr, logs := run()
	waitStatus(t, addr, logs, "rev1 synced", synced(rev1))
	waitCommits(t, repo, 1)
	cs, err := kubernetes.NewForConfig(env.Cluster("eu").RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	handMade := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "hand-made", Namespace: "many"}}
	if _, err := cs.CoreV1().ConfigMaps("many").Create(context.Background(), handMade, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	// rev2 arrives; kill mcp once its apply is under way.
	link.SetLatency(10 * time.Millisecond)
	rev2 := repo.Commit("main", "more", manyFleet(20, 420))
	deadline := time.Now().Add(60 * time.Second)
	for {
		n := len(managedConfigMaps(t, cs, "many"))
		if n > 110 {
			if n >= 420 {
				t.Fatalf("the apply ended before mcp could be killed (%d objects)", n)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the apply of rev2 never started:\n%s", logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.kill()
	link.SetLatency(0)
	if n := commitsBy(t, repo.Dir, "mcp-status", "mcp"); n != 1 {
		t.Fatalf("%d status commits after the kill, want 1 (the killed round wrote none)", n)
	}

	cmd, addr, logs = run()
	waitStatus(t, addr, logs, "rev2 synced after the restart", synced(rev2))
	waitCommits(t, repo, 2)
	want := cmNames(20, 420)
	if got := managedConfigMaps(t, cs, "many"); !slices.Equal(got, want) {
		t.Errorf("live managed ConfigMaps: %d, want %d", len(got), len(want))
	}
	if _, err := cs.CoreV1().ConfigMaps("many").Get(context.Background(), "hand-made", metav1.GetOptions{}); err != nil {
		t.Errorf("a ConfigMap mcp never managed: %v", err)
	}
	inv := inventoryLines(t, env.Cluster("eu").RESTConfig())
	wantInv := []string{"Namespace /many"}
	for _, n := range want {
		wantInv = append(wantInv, "ConfigMap many/"+n)
	}
	slices.Sort(wantInv)
	if !slices.Equal(inv, wantInv) {
		t.Errorf("inventory: %d entries, want %d", len(inv), len(wantInv))
	}
	status := repo.File("mcp-status", "status/eu.yaml")
	if !strings.Contains(status, "revision: "+rev2) || !strings.Contains(status, "deleted: 20") {
		t.Errorf("status file after the restart:\n%s", status)
	}

	// Killed again with nothing left to do: the next process finds the
	// cluster as the status says and commits nothing.
	cmd.kill()
	_, addr, logs = run()
	waitStatus(t, addr, logs, "rev2 synced after the second restart", synced(rev2))
	time.Sleep(3 * time.Second) // a round's status is committed within ~1s
	if n := commitsBy(t, repo.Dir, "mcp-status", "mcp"); n != 2 {
		t.Errorf("%d status commits after a restart that changed nothing, want 2:\n%s", n, repo.File("mcp-status", "status/eu.yaml"))
	}
}

func cmNames(from, to int) []string {
	var names []string
	for i := from; i < to; i++ {
		names = append(names, fmt.Sprintf("cm-%d", i))
	}
	slices.Sort(names)
	return names
}

// inventoryLines reads mcp's default inventory on the cluster of cfg as
// "Kind ns/name", sorted, the way the next reconcile reads it.
func inventoryLines(t *testing.T, cfg *rest.Config) []string {
	t.Helper()
	a, err := apply.NewApplier("eu", cfg, apply.DefaultOptions())
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

// waitCommits waits for want status commits by mcp, and checks that no
// more follow for a moment.
func waitCommits(t *testing.T, repo *gitserver.Repo, want int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for commitsBy(t, repo.Dir, "mcp-status", "mcp") < want {
		if time.Now().After(deadline) {
			t.Fatalf("%d status commits, want %d", commitsBy(t, repo.Dir, "mcp-status", "mcp"), want)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	if got := commitsBy(t, repo.Dir, "mcp-status", "mcp"); got != want {
		t.Fatalf("%d status commits, want exactly %d", got, want)
	}
}
