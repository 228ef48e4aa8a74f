package dir

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func write(t *testing.T, root, name, content string) {
	t.Helper()
	p := filepath.Join(root, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func newSource(t *testing.T, root string) *Source {
	t.Helper()
	src, err := New(Options{Dir: root})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return src
}

func fetch(t *testing.T, src *Source) (string, bool) {
	t.Helper()
	snap, changed, err := src.Fetch(context.Background())
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	return snap.Revision, changed
}

func TestFetchRevision(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	write(t, root, "clusters/a.yaml", "a\n")
	write(t, outside, "secret", "one\n")
	if err := os.Symlink(filepath.Join(outside, "secret"), filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	src := newSource(t, root)
	rev, changed := fetch(t, src)
	if !changed || len(rev) != len("sha256:")+64 || rev[:7] != "sha256:" {
		t.Fatalf("first Fetch: %s changed=%v", rev, changed)
	}

	steps := []struct {
		name    string
		edit    func()
		changed bool
	}{
		{"nothing", func() {}, false},
		{"git metadata", func() { write(t, root, ".git/HEAD", "ref: x\n") }, false},
		{"vim swap", func() { write(t, root, "clusters/.a.yaml.swp", "x") }, false},
		{"backup", func() { write(t, root, "clusters/a.yaml~", "x") }, false},
		{"emacs lock", func() { write(t, root, ".#a.yaml", "x") }, false},
		{"vim probe", func() { write(t, root, "4913", "") }, false},
		{"target of a symlink out of the repo", func() { write(t, outside, "secret", "two\n") }, false},
		{"content", func() { write(t, root, "clusters/a.yaml", "b\n") }, true},
		{"new file", func() { write(t, root, "apps/web/d.yaml", "d\n") }, true},
		{"rename", func() {
			os.Rename(filepath.Join(root, "apps/web/d.yaml"), filepath.Join(root, "apps/web/e.yaml"))
		}, true},
		{"delete", func() { os.Remove(filepath.Join(root, "apps/web/e.yaml")) }, true},
		{"symlink target", func() {
			os.Remove(filepath.Join(root, "link"))
			os.Symlink("clusters/a.yaml", filepath.Join(root, "link"))
		}, true},
	}
	for _, st := range steps {
		st.edit()
		next, changed := fetch(t, src)
		if changed != st.changed || (next != rev) != st.changed {
			t.Fatalf("%s: changed=%v (revision %s → %s), want changed=%v", st.name, changed, rev, next, st.changed)
		}
		rev = next
	}

	// Same files, same revision: the hash is of the content, not the place.
	other := t.TempDir()
	write(t, other, "clusters/a.yaml", "b\n")
	os.Symlink("clusters/a.yaml", filepath.Join(other, "link"))
	if got, _ := fetch(t, newSource(t, other)); got != rev {
		t.Fatalf("copy of the repo: revision %s, want %s", got, rev)
	}
}

func TestPath(t *testing.T) {
	root := t.TempDir()
	write(t, root, "clusters/a.yaml", "a\n")
	src, err := New(Options{Dir: root, Path: "clusters/"})
	if err != nil {
		t.Fatal(err)
	}
	snap, _, err := src.Fetch(context.Background())
	if err != nil || snap.Path != "clusters" {
		t.Fatalf("Fetch = %+v, %v", snap, err)
	}
	if _, err := New(Options{Dir: root, Path: "../x"}); err == nil {
		t.Fatalf("a path leaving the repo was accepted")
	}
	if _, err := New(Options{Dir: filepath.Join(root, "missing")}); err == nil {
		t.Fatalf("a missing directory was accepted")
	}
	src, _ = New(Options{Dir: root, Path: "nope"})
	if _, _, err := src.Fetch(context.Background()); err == nil {
		t.Fatalf("a missing --path was accepted")
	}
}

func TestIgnored(t *testing.T) {
	for name, want := range map[string]bool{
		".git": true, "a.yaml~": true, ".a.yaml.swp": true, ".a.yaml.swx": true, ".#a.yaml": true,
		"#a.yaml#": true, "4913": true, "a.yaml": false, ".swp": false, "clusters": false, ".github": false,
	} {
		if got := Ignored(name); got != want {
			t.Errorf("Ignored(%q) = %v, want %v", name, got, want)
		}
	}
}
