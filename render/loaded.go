package render

import (
	"context"
	"fmt"

	"mcp.dev/mcp/source"
)

// Loaded is a snapshot's repo read into memory, for a command that lists
// its remote charts, fetches them and then renders it without reading
// the repo twice. Close releases it.
type Loaded struct {
	snap source.Snapshot
	r    *repo
}

// Load reads the snapshot's repo as Render does.
func Load(ctx context.Context, snap source.Snapshot) (*Loaded, error) {
	r, err := loadRepo(ctx, snap.Dir)
	if err != nil {
		return nil, err
	}
	return &Loaded{snap: snap, r: r}, nil
}

// Close releases the repo's directory.
func (l *Loaded) Close() { l.r.close() }

// dir is the snapshot's path in the repo, checked.
func (l *Loaded) dir() (string, error) {
	if l.snap.Path == "" {
		return ".", nil
	}
	dir, err := localPath(l.snap.Path)
	if err != nil {
		return "", fmt.Errorf("source path: %w", err)
	}
	return dir, nil
}
