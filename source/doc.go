// Package source owns where the config repo comes from: a Source yields a
// Snapshot (a revision and a directory holding the files at that revision)
// and says whether the revision moved since the previous Fetch.
//
// Two implementations exist: source/git (a remote or file:// repo, cloned
// with go-git into a cache directory) and source/dir (a checked-out
// directory, watched with fsnotify). Callers depend only on this package:
//
//	snap, changed, err := src.Fetch(ctx)
//	if err != nil {
//		if errors.Is(err, source.ErrAuthentication) { ... }
//		return err
//	}
//	if changed {
//		render(snap.Dir, snap.Path)
//	}
//
// A Snapshot's directory may contain symlinks exactly as committed; readers
// must never follow one out of Dir (os.OpenRoot(snap.Dir) does that for them).
package source
