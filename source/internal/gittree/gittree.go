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
// link that readers refuse to follow; submodules are left out.
func Export(ctx context.Context, tree *object.Tree, dst string) error {
	return tree.Files().ForEach(func(f *object.File) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		rel := filepath.FromSlash(f.Name)
		// Git refuses such names, but a crafted object must not write
		// outside dst either.
		if !filepath.IsLocal(rel) {
			return fmt.Errorf("tree entry %q leaves the repo", f.Name)
		}
		p := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		switch f.Mode {
		case filemode.Symlink:
			target, err := f.Contents()
			if err != nil {
				return fmt.Errorf("%s: %w", f.Name, err)
			}
			return os.Symlink(target, p)
		case filemode.Executable:
			return writeBlob(f, p, 0o755)
		default:
			return writeBlob(f, p, 0o644)
		}
	})
}

func writeBlob(f *object.File, p string, perm os.FileMode) error {
	r, err := f.Reader()
	if err != nil {
		return fmt.Errorf("%s: %w", f.Name, err)
	}
	defer r.Close()
	out, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, r); err != nil {
		out.Close()
		return fmt.Errorf("%s: %w", p, err)
	}
	return out.Close()
}
