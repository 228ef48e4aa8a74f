package git

import (
	"context"
	"errors"

	"mcp.dev/mcp/source"
)

// Source is a git repo cloned into a cache directory.
type Source struct {
	opts Options
}

// New returns a Source for opts.URL.
func New(opts Options) (*Source, error) {
	return nil, errors.New("git sources are not implemented yet")
}

// Fetch returns the head of the branch, or the pinned ref.
func (s *Source) Fetch(ctx context.Context) (source.Snapshot, bool, error) {
	return source.Snapshot{}, false, errors.New("not implemented")
}

// SnapshotAt returns the repo at ref.
func (s *Source) SnapshotAt(ctx context.Context, ref string) (source.Snapshot, func(), error) {
	return source.Snapshot{}, nil, errors.New("not implemented")
}
