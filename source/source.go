package source

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
)

// Snapshot is the config repo at one revision, checked out on local disk.
type Snapshot struct {
	// Revision names the content: a full git commit SHA for git sources,
	// "sha256:<hex>" of the files for a local directory.
	Revision string
	// Dir is the root of the repo at Revision. Placement paths are relative
	// to it. Dir stays valid until the next Fetch of the same Source.
	Dir string
	// Path is the sub-directory (--path) below Dir holding the mcp
	// documents, "" or "." for the whole repo. It never leaves Dir.
	Path string
}

// Source yields Snapshots of the config repo.
type Source interface {
	// Fetch returns the current snapshot. changed reports whether its
	// revision differs from the one the previous Fetch returned (always
	// true on the first call).
	Fetch(ctx context.Context) (snap Snapshot, changed bool, err error)
}

// Watcher is implemented by sources that notice changes themselves (a local
// directory), so that a daemon reconciles on change instead of polling.
type Watcher interface {
	// Watch sends on the returned channel after each burst of changes; a
	// burst is reported once. The channel is closed when ctx is done.
	Watch(ctx context.Context) (<-chan struct{}, error)
}

// RefSnapshotter is implemented by sources that can also show the repo at
// another git ref, for an offline diff of a pull request (mcp diff --against).
type RefSnapshotter interface {
	// SnapshotAt returns the repo at ref (a branch, remote branch, tag or
	// commit) in a directory of its own; Path is the same sub-directory as
	// the Source's. cleanup removes that directory; it is never nil when
	// err is nil.
	SnapshotAt(ctx context.Context, ref string) (snap Snapshot, cleanup func(), err error)
}

// Sentinel errors a caller can act on; each is wrapped with the URL, branch
// or file it is about.
var (
	// ErrAuthentication: the git server refused the credentials.
	ErrAuthentication = errors.New("authentication failed")
	// ErrNotFound: what was asked for does not exist; each of the four
	// below is one, so errors.Is(err, ErrNotFound) holds for all of them.
	ErrNotFound = errors.New("not found")
	// ErrRepoNotFound: the git server has no such repository.
	ErrRepoNotFound error = &notFoundError{"repository"}
	// ErrBranchNotFound: the branch does not exist on the remote (or the
	// repository is empty).
	ErrBranchNotFound error = &notFoundError{"branch"}
	// ErrRefNotFound: the tag, commit or other ref does not exist.
	ErrRefNotFound error = &notFoundError{"ref"}
	// ErrPathNotFound: the commit has no such directory (--path).
	ErrPathNotFound error = &notFoundError{"path"}
	// ErrUnknownHostKey: the SSH host key is not in known_hosts.
	ErrUnknownHostKey = errors.New("host key not in known_hosts")
)

// notFoundError is one kind of ErrNotFound. Its text is ErrNotFound's,
// since the message around it says what was not found.
type notFoundError struct{ what string }

func (e *notFoundError) Error() string        { return ErrNotFound.Error() }
func (e *notFoundError) Is(target error) bool { return target == ErrNotFound }

// CleanPath checks that a --path stays inside the repo and returns it
// cleaned, "" for the repo root.
func CleanPath(p string) (string, error) {
	if p == "" {
		return "", nil
	}
	c := filepath.Clean(filepath.FromSlash(p))
	if c == "." {
		return "", nil
	}
	if !filepath.IsLocal(c) {
		return "", fmt.Errorf("path %q leaves the repo", p)
	}
	return c, nil
}
