package dir

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Watch reports changes below the directory, one notification per burst.
// fsnotify watches single directories only, so every directory is watched
// and new ones are added as they appear. Symlinked directories are not
// watched: they are never followed out of the repo.
func (s *Source) Watch(ctx context.Context) (<-chan struct{}, error) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watching %s: %w", s.root, err)
	}
	if err := s.addTree(w, s.root); err != nil {
		w.Close()
		return nil, err
	}
	out := make(chan struct{}, 1)
	go s.watch(ctx, w, out)
	return out, nil
}

func (s *Source) watch(ctx context.Context, w *fsnotify.Watcher, out chan struct{}) {
	defer close(out)
	defer w.Close()

	timer := time.NewTimer(time.Hour)
	timer.Stop()
	var burstStart time.Time // zero while no change is pending
	note := func() {
		now := time.Now()
		if burstStart.IsZero() {
			burstStart = now
		}
		wait := s.opts.Debounce
		// A burst that never goes quiet is still reported now and then.
		if left := s.opts.MaxDelay - now.Sub(burstStart); left < wait {
			wait = max(left, 0)
		}
		timer.Reset(wait)
	}
	for {
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if !s.relevant(ev) {
				continue
			}
			if ev.Has(fsnotify.Create) {
				// A new directory may already hold files and directories
				// created before its watch was in place; addTree finds them
				// and the pending change makes the next Fetch hash them.
				if fi, err := os.Lstat(ev.Name); err == nil && fi.IsDir() {
					_ = s.addTree(w, ev.Name)
				}
			}
			note()
		case _, ok := <-w.Errors:
			if !ok {
				return
			}
			// An overflow or a failed watch may hide changes: report one
			// so that the caller hashes the directory again.
			note()
		case <-timer.C:
			burstStart = time.Time{}
			select {
			case out <- struct{}{}:
			default: // a notification is already pending
			}
		}
	}
}

// relevant drops events the revision does not depend on.
func (s *Source) relevant(ev fsnotify.Event) bool {
	if ev.Op == fsnotify.Chmod {
		return false
	}
	rel, err := filepath.Rel(s.root, ev.Name)
	if err != nil {
		return false
	}
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		if Ignored(part) {
			return false
		}
	}
	return true
}

// addTree watches dir and every directory below it.
func (s *Source) addTree(w *fsnotify.Watcher, dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			// Gone again before we got to it; its parent's watch saw that.
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return fmt.Errorf("watching %s: %w", p, err)
		}
		if !d.IsDir() {
			return nil
		}
		if p != s.root && Ignored(d.Name()) {
			return filepath.SkipDir
		}
		if err := w.Add(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("watching %s: %w", p, err)
		}
		return nil
	})
}
