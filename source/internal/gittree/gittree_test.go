package gittree

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/storage/memory"
)

func blob(t *testing.T, st *memory.Storage, data string) plumbing.Hash {
	t.Helper()
	obj := st.NewEncodedObject()
	obj.SetType(plumbing.BlobObject)
	w, _ := obj.Writer()
	w.Write([]byte(data))
	w.Close()
	h, err := st.SetEncodedObject(obj)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func tree(t *testing.T, st *memory.Storage, entries ...object.TreeEntry) *object.Tree {
	t.Helper()
	obj := st.NewEncodedObject()
	if err := (&object.Tree{Entries: entries}).Encode(obj); err != nil {
		t.Fatal(err)
	}
	h, err := st.SetEncodedObject(obj)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := object.GetTree(st, h)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestExportWritesFilesAndLinksAsCommitted(t *testing.T) {
	st := memory.NewStorage()
	sub := tree(t, st, object.TreeEntry{Name: "b.yaml", Mode: filemode.Regular, Hash: blob(t, st, "b")})
	root := tree(t, st,
		object.TreeEntry{Name: "a.yaml", Mode: filemode.Regular, Hash: blob(t, st, "a")},
		object.TreeEntry{Name: "dir", Mode: filemode.Dir, Hash: sub.Hash},
		object.TreeEntry{Name: "out", Mode: filemode.Symlink, Hash: blob(t, st, "/etc")},
	)
	dst := t.TempDir()
	if err := Export(t.Context(), root, dst); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(filepath.Join(dst, "dir", "b.yaml")); string(data) != "b" {
		t.Fatalf("dir/b.yaml = %q", data)
	}
	if target, err := os.Readlink(filepath.Join(dst, "out")); err != nil || target != "/etc" {
		t.Fatalf("link out = %q, %v: want it written as committed, not resolved", target, err)
	}
}

// TestExportNeverWritesThroughALink: a crafted tree with a symlink "a"
// pointing outside and a file "a/x" must not write outside dst.
func TestExportNeverWritesThroughALink(t *testing.T) {
	outside := t.TempDir()
	st := memory.NewStorage()
	sub := tree(t, st, object.TreeEntry{Name: "x", Mode: filemode.Regular, Hash: blob(t, st, "pwned")})
	root := tree(t, st,
		object.TreeEntry{Name: "a", Mode: filemode.Symlink, Hash: blob(t, st, outside)},
		object.TreeEntry{Name: "a", Mode: filemode.Dir, Hash: sub.Hash},
	)
	if err := Export(t.Context(), root, t.TempDir()); err == nil {
		t.Error("a tree writing through a symlink was exported without error")
	}
	if _, err := os.Stat(filepath.Join(outside, "x")); err == nil {
		t.Fatal("Export wrote outside its directory through a symlink")
	}
}
