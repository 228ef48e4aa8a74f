// Package gittree writes a git tree into a plain directory, for the
// snapshots at another ref that mcp diff --against compares with.
//
//	tree, _ := commit.Tree()
//	err := gittree.Export(ctx, tree, dst)
package gittree

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Export writes every file of tree below dst, which must exist. Symlinks are
// written as committed (never resolved), so a link out of the repo stays a
// link that readers refuse to follow; submodules are left out. Every write
// goes through an os.Root of dst: a crafted tree (a symlink "a" and a file
// "a/x") cannot make it write outside dst.
func Export(ctx context.Context, tree *object.Tree, dst string) error {
	root, err := os.OpenRoot(dst)
	if err != nil {
		return err
	}
	defer root.Close()
	return tree.Files().ForEach(func(f *object.File) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		rel := filepath.FromSlash(f.Name)
		if !filepath.IsLocal(rel) {
			return fmt.Errorf("tree entry %q leaves the repo", f.Name)
		}
		if dir := filepath.Dir(rel); dir != "." {
			if err := root.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("tree entry %q: %w", f.Name, err)
			}
		}
		switch f.Mode {
		case filemode.Symlink:
			target, err := f.Contents()
			if err != nil {
				return fmt.Errorf("%s: %w", f.Name, err)
			}
			return root.Symlink(target, rel)
		case filemode.Executable:
			return writeBlob(root, f, rel, 0o755)
		default:
			return writeBlob(root, f, rel, 0o644)
		}
	})
}

func writeBlob(root *os.Root, f *object.File, rel string, perm os.FileMode) error {
	r, err := f.Reader()
	if err != nil {
		return fmt.Errorf("%s: %w", f.Name, err)
	}
	defer r.Close()
	out, err := root.OpenFile(rel, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, perm)
	if err != nil {
		return fmt.Errorf("tree entry %q: %w", f.Name, err)
	}
	if _, err := io.Copy(out, r); err != nil {
		out.Close()
		return fmt.Errorf("%s: %w", rel, err)
	}
	return out.Close()
}
