package statusgit_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mcp.dev/mcp/apply"
	"mcp.dev/mcp/internal/gitserver"
	"mcp.dev/mcp/internal/testenv"
	"mcp.dev/mcp/reconciler/status"
	"mcp.dev/mcp/reconciler/statusgit"
	"mcp.dev/mcp/source/git"
)

// branch is a status branch on a real git server, written by the git
// source's status writer.
type branch struct {
	repo *gitserver.Repo
	w    *git.StatusWriter
}

func newBranch(t *testing.T) *branch {
	t.Helper()
	root := gitserver.NewRoot(t)
	repo := root.Init("fleet")
	repo.Commit("main", "fleet", map[string]string{"clusters/eu.yaml": "apiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata: {name: eu}\n"})
	srv := gitserver.NewHTTP(t, root, "mcp", "t0ken")
	pw := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(pw, []byte("t0ken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := git.DefaultOptions()
	opts.URL, opts.Username, opts.PasswordFile, opts.CacheDir = srv.RepoURL("fleet"), "mcp", pw, t.TempDir()
	src, err := git.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return &branch{repo: repo, w: src.StatusWriter(git.DefaultStatusOptions())}
}

// commits lists, for each status commit, oldest first, the files it
// touched.
func (b *branch) commits(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("git", "-C", b.repo.Dir, "log", "--reverse", "--format=%x00", "--name-only", "mcp-status").Output()
	if err != nil {
		return nil
	}
	var commits []string
	for _, c := range strings.Split(string(out), "\x00")[1:] {
		commits = append(commits, strings.Join(strings.Fields(c), " "))
	}
	return commits
}

// run starts a status loop over store, ended when the test ends.
func (b *branch) run(t *testing.T, store *status.Store) *statusgit.Loop {
	t.Helper()
	loop := statusgit.New(b.w, "status", store, status.NewMetrics(), time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); loop.Run(ctx, func() bool { return true }) }()
	t.Cleanup(func() { cancel(); <-done })
	return loop
}

func (b *branch) waitCommits(t *testing.T, n int) {
	t.Helper()
	testenv.Eventually(t, 20*time.Second, "status commits", func() bool { return len(b.commits(t)) >= n })
	time.Sleep(2 * statusgit.Quiet) // a commit too many would come within a round
	if got := b.commits(t); len(got) != n {
		t.Fatalf("status commits (files touched): %q, want %d", got, n)
	}
}

func update(store *status.Store, loop *statusgit.Loop, c status.Cluster) {
	if _, changed := store.Update(c); changed {
		loop.Mark(c.Name)
	}
}

// TestStatusHistoryIgnoresChangingMessages: a cluster that keeps failing
// with a message that differs on every retry makes one status commit;
// /status still serves the latest message; a new failed object, a new
// result or another cluster's change makes the next commit. A restarted
// loop does not rewrite a file whose only difference is the message.
func TestStatusHistoryIgnoresChangingMessages(t *testing.T) {
	b := newBranch(t)
	store := status.NewStore()
	loop := b.run(t, store)
	failing := func(port string, objects ...string) status.Cluster {
		c := status.Cluster{Name: "eu", Result: apply.Failed, Revision: "r1", Since: time.Now().UTC().Truncate(time.Second),
			Message: "1 of 2 objects failed", Summary: status.Summary{Managed: 2, Failed: len(objects)}}
		for _, name := range objects {
			c.Objects = append(c.Objects, status.Object{Kind: "ConfigMap", Namespace: "web", Name: name,
				Error: `apply: Post "https://127.0.0.1:` + port + `/api/v1/namespaces/web/configmaps": webhook refused`})
		}
		return c
	}
	update(store, loop, failing("4001", "a"))
	b.waitCommits(t, 1)

	for _, port := range []string{"4002", "4003", "4004"} {
		update(store, loop, failing(port, "a"))
	}
	update(store, loop, status.Cluster{Name: "us", Result: apply.Synced, Revision: "r1"})
	b.waitCommits(t, 2)
	if got := b.commits(t)[1]; got != "status/us.yaml" {
		t.Errorf("the second commit touched %q, want only status/us.yaml: eu's message alone changed", got)
	}
	if f := b.repo.File("mcp-status", "status/eu.yaml"); !strings.Contains(f, "4001") {
		t.Errorf("status/eu.yaml was rewritten for a new message:\n%s", f)
	}
	if st := store.Snapshot(); !strings.Contains(st.Clusters[0].Objects[0].Error, "4004") {
		t.Errorf("/status does not serve the latest message: %+v", st.Clusters[0])
	}

	update(store, loop, failing("4005", "a", "b"))
	b.waitCommits(t, 3)
	if f := b.repo.File("mcp-status", "status/eu.yaml"); !strings.Contains(f, "name: b") || !strings.Contains(f, "4005") {
		t.Errorf("status/eu.yaml after a second object failed:\n%s", f)
	}
	update(store, loop, status.Cluster{Name: "eu", Result: apply.Unreachable, Revision: "r1", Message: "connection refused"})
	b.waitCommits(t, 4)

	// A restart: the branch holds eu Unreachable; the new process finds it
	// Unreachable with another message, and us as it was.
	store2 := status.NewStore()
	loop2 := b.run(t, store2)
	update(store2, loop2, status.Cluster{Name: "eu", Result: apply.Unreachable, Revision: "r1", Message: "i/o timeout"})
	update(store2, loop2, status.Cluster{Name: "us", Result: apply.Synced, Revision: "r2"})
	b.waitCommits(t, 5)
	if got := b.commits(t)[4]; got != "status/us.yaml" {
		t.Errorf("after a restart the commit touched %q, want only status/us.yaml", got)
	}
}
