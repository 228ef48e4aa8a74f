package dir

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"

	"mcp.dev/mcp/source"
	"mcp.dev/mcp/source/internal/gittree"
)

// SnapshotAt writes the directory as it was at git ref into a temporary
// directory. The directory must be inside a git work tree; ref is anything
// git rev-parse understands of the kinds branch, remote branch
// ("origin/main"), tag, short or full commit SHA. When the directory is a
// sub-directory of the work tree, the snapshot holds that sub-directory, so
// paths relative to the repo root mean the same on both sides of a diff.
func (s *Source) SnapshotAt(ctx context.Context, ref string) (source.Snapshot, func(), error) {
	repo, err := git.PlainOpenWithOptions(s.root, &git.PlainOpenOptions{
		DetectDotGit:          true,
		EnableDotGitCommonDir: true, // work trees made by git worktree add
	})
	if errors.Is(err, git.ErrRepositoryNotExists) {
		return source.Snapshot{}, nil, fmt.Errorf("%s is not inside a git work tree, so ref %s cannot be read", s.root, ref)
	}
	if err != nil {
		return source.Snapshot{}, nil, fmt.Errorf("opening the git repo of %s: %w", s.root, err)
	}
	rel, err := s.relToWorktree(repo)
	if err != nil {
		return source.Snapshot{}, nil, err
	}
	hash, err := repo.ResolveRevision(plumbing.Revision(ref))
	if err != nil {
		return source.Snapshot{}, nil, fmt.Errorf("ref %s not found in the git repo of %s: %w", ref, s.root, source.ErrRefNotFound)
	}
	commit, err := repo.CommitObject(*hash)
	if err != nil {
		return source.Snapshot{}, nil, fmt.Errorf("ref %s in %s: %w", ref, s.root, err)
	}
	tree, err := commit.Tree()
	if err != nil {
		return source.Snapshot{}, nil, fmt.Errorf("ref %s in %s: %w", ref, s.root, err)
	}
	empty := false
	if rel != "." {
		tree, err = tree.Tree(filepath.ToSlash(rel))
		// The directory did not exist at ref: the repo was empty then.
		if errors.Is(err, object.ErrDirectoryNotFound) {
			empty = true
		} else if err != nil {
			return source.Snapshot{}, nil, fmt.Errorf("ref %s: %s: %w", ref, rel, err)
		}
	}

	tmp, err := os.MkdirTemp("", "mcp-ref-")
	if err != nil {
		return source.Snapshot{}, nil, err
	}
	cleanup := func() { os.RemoveAll(tmp) }
	if !empty {
		if err := gittree.Export(ctx, tree, tmp); err != nil {
			cleanup()
			return source.Snapshot{}, nil, fmt.Errorf("writing ref %s of %s: %w", ref, s.root, err)
		}
	}
	return source.Snapshot{Revision: hash.String(), Dir: tmp, Path: s.opts.Path}, cleanup, nil
}

// relToWorktree is the directory's place in its work tree, "." at the top.
func (s *Source) relToWorktree(repo *git.Repository) (string, error) {
	wt, err := repo.Worktree()
	if err != nil {
		return "", fmt.Errorf("the git repo of %s has no work tree: %w", s.root, err)
	}
	top, err := filepath.EvalSymlinks(wt.Filesystem.Root())
	if err != nil {
		return "", fmt.Errorf("work tree of %s: %w", s.root, err)
	}
	rel, err := filepath.Rel(top, s.root)
	if err != nil || !filepath.IsLocal(rel) && rel != "." {
		return "", fmt.Errorf("%s is not inside its work tree %s", s.root, top)
	}
	return rel, nil
}
