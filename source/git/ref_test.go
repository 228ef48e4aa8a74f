package git

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"mcp.dev/mcp/source"
)

func TestSnapshotAt(t *testing.T) {
	f := newHTTPFixture(t)
	base := f.repo.Commit("main", "base", map[string]string{"clusters/c.yaml": "main\n"})
	f.repo.Tag("v1", base, true)
	feature := f.repo.Commit("feature", "pr", map[string]string{"clusters/c.yaml": "feature\n"})
	f.repo.Commit("main", "moved on", map[string]string{"clusters/c.yaml": "main 2\n"})

	src := f.source(t, func(o *Options) { o.Path = "clusters" })
	head := mustFetch(t, src, true)

	for name, tc := range map[string]struct{ ref, want, content string }{
		"branch":        {ref: "feature", want: feature, content: "feature\n"},
		"remote branch": {ref: "origin/feature", want: feature, content: "feature\n"},
		"tag":           {ref: "v1", want: base, content: "main\n"},
		"full commit":   {ref: base, want: base, content: "main\n"},
		"full ref name": {ref: "refs/heads/feature", want: feature, content: "feature\n"},
	} {
		t.Run(name, func(t *testing.T) {
			snap, cleanup, err := src.SnapshotAt(context.Background(), tc.ref)
			if err != nil {
				t.Fatalf("SnapshotAt(%s): %v", tc.ref, err)
			}
			if snap.Revision != tc.want || snap.Path != "clusters" {
				t.Fatalf("SnapshotAt(%s) = %+v, want revision %s path clusters", tc.ref, snap, tc.want)
			}
			if got := readSnap(t, snap, "c.yaml"); got != tc.content {
				t.Fatalf("c.yaml = %q, want %q", got, tc.content)
			}
			cleanup()
			if _, err := os.Stat(snap.Dir); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("cleanup left %s", snap.Dir)
			}
		})
	}
	// The Fetch work tree was not touched.
	if got := readSnap(t, head, "c.yaml"); got != "main 2\n" {
		t.Fatalf("work tree changed by SnapshotAt: c.yaml = %q", got)
	}
	if _, err := os.Stat(filepath.Join(head.Dir, ".git")); err != nil {
		t.Fatal(err)
	}

	_, _, err := src.SnapshotAt(context.Background(), "no-such-branch")
	if !errors.Is(err, source.ErrRefNotFound) {
		t.Fatalf("missing ref: err = %v, want ErrRefNotFound", err)
	}
}
