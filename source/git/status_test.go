package git

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func statusWriter(t *testing.T, f *httpFixture, branch string) (*Source, *StatusWriter) {
	t.Helper()
	src := f.source(t, nil)
	opts := DefaultStatusOptions()
	opts.Branch = branch
	return src, src.StatusWriter(opts)
}

func gitOut(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, err := exec.Command("git", append([]string{"-C", dir}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestStatusWriterCreatesOrphanBranchAndSkipsNoChange(t *testing.T) {
	f := newHTTPFixture(t)
	f.repo.Commit("main", "config", map[string]string{"clusters/eu.yaml": "kind: Cluster\n"})
	_, w := statusWriter(t, f, "mcp-status")
	files := map[string][]byte{"status/eu.yaml": []byte("result: Synced\n"), "status/us.yaml": []byte("result: Failed\n")}
	if err := w.WriteStatus(t.Context(), files, "status: 2 clusters"); err != nil {
		t.Fatal(err)
	}
	head, ok := f.repo.Rev("mcp-status")
	if !ok {
		t.Fatal("status branch not created")
	}
	if got := gitOut(t, f.repo.Dir, "ls-tree", "-r", "--name-only", head); got != "status/eu.yaml\nstatus/us.yaml" {
		t.Fatalf("status branch holds %q, want only the status files (an orphan branch)", got)
	}
	if parents := gitOut(t, f.repo.Dir, "log", "--format=%P", "-1", head); parents != "" {
		t.Fatalf("first status commit has parents %q", parents)
	}
	if got := gitOut(t, f.repo.Dir, "log", "--format=%an <%ae>", "-1", head); got != "mcp <mcp@localhost>" {
		t.Errorf("author %q", got)
	}

	// The same content again makes no commit; a changed file one more.
	if err := w.WriteStatus(t.Context(), files, "again"); err != nil {
		t.Fatal(err)
	}
	if again, _ := f.repo.Rev("mcp-status"); again != head {
		t.Fatal("unchanged status made a commit")
	}
	if err := w.WriteStatus(t.Context(), map[string][]byte{"status/us.yaml": []byte("result: Synced\n")}, "us synced"); err != nil {
		t.Fatal(err)
	}
	next, _ := f.repo.Rev("mcp-status")
	if gitOut(t, f.repo.Dir, "rev-parse", next+"^") != head {
		t.Fatal("second status commit is not on top of the first")
	}
	if got := f.repo.File(next, "status/eu.yaml"); got != "result: Synced" {
		t.Errorf("untouched file changed: %q", got)
	}
}

// installHook makes the server's pre-receive hook run script.
func installHook(t *testing.T, repoDir, script string) {
	t.Helper()
	hook := filepath.Join(repoDir, "hooks", "pre-receive")
	if err := os.WriteFile(hook, []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
}

func TestStatusWriterRetriesOnTopOfAMovedBranch(t *testing.T) {
	f := newHTTPFixture(t)
	f.repo.Commit("mcp-status", "first", map[string]string{"status/eu.yaml": "result: Synced\n"})
	// The first push is refused after another writer moved the branch in
	// between: the hook commits other.txt on the head and rejects.
	marker := filepath.Join(t.TempDir(), "moved")
	installHook(t, f.repo.Dir, `
[ -e `+marker+` ] && exit 0
touch `+marker+`
unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES
head=$(git rev-parse refs/heads/mcp-status)
blob=$(echo other | git hash-object -w --stdin)
tree=$( (git ls-tree $head; printf '100644 blob %s\tother.txt\n' $blob) | git mktree)
c=$(GIT_AUTHOR_NAME=o GIT_AUTHOR_EMAIL=o@x GIT_COMMITTER_NAME=o GIT_COMMITTER_EMAIL=o@x git commit-tree $tree -p $head -m other)
git update-ref refs/heads/mcp-status $c
exit 1
`)
	_, w := statusWriter(t, f, "mcp-status")
	if err := w.WriteStatus(t.Context(), map[string][]byte{"status/us.yaml": []byte("result: Failed\n")}, "us"); err != nil {
		t.Fatal(err)
	}
	head, _ := f.repo.Rev("mcp-status")
	if f.repo.File(head, "other.txt") != "other" || f.repo.File(head, "status/us.yaml") != "result: Failed" {
		t.Fatalf("the retry lost a write: tree %s", gitOut(t, f.repo.Dir, "ls-tree", "-r", "--name-only", head))
	}
	if n := gitOut(t, f.repo.Dir, "rev-list", "--count", head); n != "3" {
		t.Fatalf("%s commits on the branch, want 3 (first, other, ours)", n)
	}
}

func TestStatusWriterGivesUpCleanly(t *testing.T) {
	f := newHTTPFixture(t)
	f.repo.Commit("mcp-status", "first", map[string]string{"status/eu.yaml": "result: Synced\n"})
	before, _ := f.repo.Rev("mcp-status")
	installHook(t, f.repo.Dir, "exit 1\n")
	_, w := statusWriter(t, f, "mcp-status")
	w.opts.Attempts = 3
	err := w.WriteStatus(t.Context(), map[string][]byte{"status/eu.yaml": []byte("result: Failed\n")}, "eu")
	if !errors.Is(err, ErrStatusPushRejected) {
		t.Fatalf("got %v, want ErrStatusPushRejected", err)
	}
	if strings.Contains(err.Error(), testToken) {
		t.Fatal("error shows the token")
	}
	if after, _ := f.repo.Rev("mcp-status"); after != before {
		t.Fatal("a rejected push changed the branch")
	}
}

func TestOnlyStatusChangedOnTheSourceBranch(t *testing.T) {
	f := newHTTPFixture(t)
	f.repo.Commit("main", "config", map[string]string{"clusters/eu.yaml": "kind: Cluster\n"})
	src, w := statusWriter(t, f, "main")
	first, _, err := src.Fetch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteStatus(t.Context(), map[string][]byte{"status/eu.yaml": []byte("result: Synced\n")}, "status"); err != nil {
		t.Fatal(err)
	}
	second, changed, err := src.Fetch(t.Context())
	if err != nil || !changed {
		t.Fatalf("status commit not seen: changed=%v err=%v", changed, err)
	}
	if !w.OnlyStatusChanged(t.Context(), first.Revision, second.Revision) {
		t.Fatal("a status-only commit counts as a config change: the loop would never end")
	}
	f.repo.Commit("main", "edit", map[string]string{"clusters/eu.yaml": "kind: Cluster\n# edited\n"})
	third, _, err := src.Fetch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if w.OnlyStatusChanged(t.Context(), second.Revision, third.Revision) {
		t.Fatal("a config change was taken for a status-only commit")
	}
	// With another status branch, every source change counts.
	_, other := statusWriter(t, f, "mcp-status")
	if other.OnlyStatusChanged(t.Context(), first.Revision, second.Revision) {
		t.Fatal("OnlyStatusChanged true although the status branch is not the source branch")
	}
}

func TestStatusWriterOverSSH(t *testing.T) {
	f := newSSHFixture(t, "")
	f.repo.Commit("main", "config", map[string]string{"clusters/eu.yaml": "kind: Cluster\n"})
	w := f.source(t, nil).StatusWriter(DefaultStatusOptions())
	if err := w.WriteStatus(t.Context(), map[string][]byte{"status/eu.yaml": []byte("result: Synced\n")}, "status"); err != nil {
		t.Fatal(err)
	}
	head, ok := f.repo.Rev("mcp-status")
	if !ok || f.repo.File(head, "status/eu.yaml") != "result: Synced" {
		t.Fatal("status not pushed over ssh")
	}
}
