// Package dir is a Source for a checked-out directory (mcp --dir): the
// revision is a content hash of the files, Watch reports edits through
// fsnotify, and SnapshotAt reads another git ref of the work tree around it.
//
//	src, err := dir.New(dir.Options{Dir: "/src/config", Path: "clusters"})
//	changes, err := src.Watch(ctx)
//	for range changes {
//		snap, changed, err := src.Fetch(ctx)
//		...
//	}
package dir
