package dir

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"mcp.dev/mcp/internal/gitserver"
	"mcp.dev/mcp/source"
)

func TestSnapshotAt(t *testing.T) {
	root := gitserver.NewRoot(t)
	origin := root.Init("fleet")
	base := origin.Commit("main", "base", map[string]string{"config/clusters/c.yaml": "base\n", "other.txt": "x\n"})
	origin.Tag("v1", base, true)
	feature := origin.Commit("feature", "pr", map[string]string{"config/clusters/c.yaml": "feature\n"})
	head := origin.Commit("main", "head", map[string]string{"config/clusters/c.yaml": "head\n"})

	work := filepath.Join(t.TempDir(), "work")
	gitCmd(t, "", "clone", "-q", origin.FileURL(), work)
	// An edit in progress: --against compares with committed refs only.
	write(t, work, "config/clusters/c.yaml", "editing\n")

	src, err := New(Options{Dir: filepath.Join(work, "config"), Path: "clusters"})
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct{ ref, want, content string }{
		"local branch":  {ref: "main", want: head, content: "head\n"},
		"remote branch": {ref: "origin/feature", want: feature, content: "feature\n"},
		"tag":           {ref: "v1", want: base, content: "base\n"},
		"short commit":  {ref: base[:8], want: base, content: "base\n"},
		"full commit":   {ref: feature, want: feature, content: "feature\n"},
		"HEAD":          {ref: "HEAD", want: head, content: "head\n"},
	} {
		t.Run(name, func(t *testing.T) {
			snap, cleanup, err := src.SnapshotAt(context.Background(), tc.ref)
			if err != nil {
				t.Fatalf("SnapshotAt(%s): %v", tc.ref, err)
			}
			defer cleanup()
			if snap.Revision != tc.want || snap.Path != "clusters" {
				t.Fatalf("SnapshotAt(%s) = %+v, want revision %s, path clusters", tc.ref, snap, tc.want)
			}
			b, err := os.ReadFile(filepath.Join(snap.Dir, snap.Path, "c.yaml"))
			if err != nil || string(b) != tc.content {
				t.Fatalf("c.yaml = %q, %v; want %q", b, err, tc.content)
			}
			// The snapshot is the --dir sub-directory, as the source sees it.
			if _, err := os.Stat(filepath.Join(snap.Dir, "other.txt")); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("the snapshot holds the whole work tree, not --dir")
			}
		})
	}

	_, _, err = src.SnapshotAt(context.Background(), "no-such-ref")
	if !errors.Is(err, source.ErrRefNotFound) || !strings.Contains(err.Error(), "no-such-ref") {
		t.Fatalf("missing ref: err = %v", err)
	}

	plain, err := New(Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := plain.SnapshotAt(context.Background(), "main"); err == nil || !strings.Contains(err.Error(), "not inside a git work tree") {
		t.Fatalf("outside a work tree: err = %v", err)
	}
}

func gitCmd(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "HOME="+t.TempDir())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}
