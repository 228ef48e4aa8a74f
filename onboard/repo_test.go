package onboard

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

func initRepo(t *testing.T) (string, *git.Repository) {
	t.Helper()
	dir := t.TempDir()
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "placements.yaml"), []byte("# placements\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	wt, _ := repo.Worktree()
	if _, err := wt.Add("placements.yaml"); err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "t", Email: "t@example.com", When: time.Now()}
	if _, err := wt.Commit("init", &git.CommitOptions{Author: sig}); err != nil {
		t.Fatal(err)
	}
	return dir, repo
}

func TestCommitter(t *testing.T) {
	dir, repo := initRepo(t)
	file := ClusterFile("eu")
	doc, err := ClusterDocument("eu", map[string]string{"env": "prod"}, nil, "1.35.4")
	if err != nil {
		t.Fatal(err)
	}

	// Something else staged: refused before anything is written.
	os.WriteFile(filepath.Join(dir, "other.yaml"), []byte("x: 1\n"), 0o644)
	wt, _ := repo.Worktree()
	wt.Add("other.yaml")
	if _, err := NewCommitter(dir, file, "add-cluster-eu"); err == nil || !strings.Contains(err.Error(), "other.yaml is staged") {
		t.Fatalf("with other.yaml staged: %v", err)
	}
	wt.Remove("other.yaml")
	os.Remove(filepath.Join(dir, "other.yaml"))

	// The file alone, on a new branch; again: no commit.
	for i, wantCommit := range []bool{true, false} {
		c, err := NewCommitter(dir, file, "add-cluster-eu")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := WriteFile(filepath.Join(dir, file), doc, 0o644); err != nil {
			t.Fatal(err)
		}
		h, err := c.Commit("clusters: add eu")
		if err != nil || (h != "") != wantCommit {
			t.Fatalf("run %d: commit %q, %v", i, h, err)
		}
	}
	head, _ := repo.Head()
	if head.Name().Short() != "add-cluster-eu" {
		t.Fatalf("HEAD is %s", head.Name())
	}

	// Back on master the branch exists: a second branch of that name is
	// refused, as is a commit there.
	if err := wt.Checkout(&git.CheckoutOptions{Branch: "refs/heads/master"}); err != nil {
		t.Fatal(err)
	}
	if _, err := NewCommitter(dir, file, "add-cluster-eu"); !errors.Is(err, ErrBranchExists) {
		t.Fatalf("branch exists: %v", err)
	}

	// A removal is committed as one.
	c, err := NewCommitter(dir, "placements.yaml", "remove-placements")
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "placements.yaml"))
	if h, err := c.Commit("remove"); err != nil || h == "" {
		t.Fatalf("removal: %q, %v", h, err)
	}
	if st, _ := wt.Status(); !st.IsClean() {
		t.Fatalf("work tree after the removal: %v", st)
	}
}

func TestWriteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "creds", "eu")
	for i, want := range []bool{true, false} {
		changed, err := WriteFile(path, []byte("k: v\n"), 0o600)
		if err != nil || changed != want {
			t.Fatalf("write %d: changed %v, %v", i, changed, err)
		}
	}
	os.Chmod(path, 0o644)
	if changed, _ := WriteFile(path, []byte("k: v\n"), 0o600); !changed {
		t.Fatal("a file of another mode was kept")
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
}
