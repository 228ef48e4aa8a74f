package dir

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"mcp.dev/mcp/source"
)

// Options configure a directory Source.
type Options struct {
	// Dir is the checked-out config repo (--dir).
	Dir string
	// Path is the sub-directory below Dir holding the mcp documents (--path).
	Path string
	// Debounce is how long Watch waits for quiet before it reports a burst
	// of changes, so that saving ten files is one change.
	Debounce time.Duration
	// MaxDelay bounds how long a burst that never goes quiet is held back.
	MaxDelay time.Duration
}

// DefaultOptions are the Options mcp uses for --dir.
func DefaultOptions() Options {
	return Options{Debounce: 300 * time.Millisecond, MaxDelay: 3 * time.Second}
}

// Source is a local directory. It is safe for concurrent use.
type Source struct {
	opts Options
	// root is Dir made absolute with its symlinks resolved, so that walking
	// and watching see the directory itself rather than a link to it.
	root string

	mu   sync.Mutex
	last string
}

var (
	_ source.Source         = (*Source)(nil)
	_ source.Watcher        = (*Source)(nil)
	_ source.RefSnapshotter = (*Source)(nil)
)

// New returns a Source for opts.Dir; the directory must exist.
func New(opts Options) (*Source, error) {
	def := DefaultOptions()
	if opts.Debounce <= 0 {
		opts.Debounce = def.Debounce
	}
	if opts.MaxDelay <= 0 {
		opts.MaxDelay = def.MaxDelay
	}
	if opts.Dir == "" {
		return nil, errors.New("no directory given")
	}
	root, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("directory %s: %w", opts.Dir, err)
	}
	if root, err = filepath.EvalSymlinks(root); err != nil {
		return nil, fmt.Errorf("directory %s: %w", opts.Dir, err)
	}
	fi, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("directory %s: %w", opts.Dir, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", opts.Dir)
	}
	p, err := source.CleanPath(opts.Path)
	if err != nil {
		return nil, err
	}
	opts.Path = p
	return &Source{opts: opts, root: root}, nil
}

// String names the directory, for logs.
func (s *Source) String() string { return s.root }

// Fetch hashes the files of the directory. It never touches the network,
// so it is cheap enough to call on every change Watch reports.
func (s *Source) Fetch(ctx context.Context) (source.Snapshot, bool, error) {
	rev, err := Hash(ctx, s.root)
	if err != nil {
		return source.Snapshot{}, false, err
	}
	if _, err := os.Stat(filepath.Join(s.root, s.opts.Path)); err != nil {
		return source.Snapshot{}, false, fmt.Errorf("path %s in %s: %w", s.opts.Path, s.root, err)
	}
	s.mu.Lock()
	changed := rev != s.last
	s.last = rev
	s.mu.Unlock()
	return source.Snapshot{Revision: rev, Dir: s.root, Path: s.opts.Path}, changed, nil
}

// Hash returns "sha256:<hex>" of the files below root: their paths, their
// contents and the targets of symlinks, which are never followed. .git and
// editor temp files are left out, so that an editor's swap file or a
// commit does not make a new revision.
func Hash(ctx context.Context, root string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			// A file removed while we walk (an editor's save) is not an
			// error: the watch reports the change and we hash again.
			if errors.Is(err, fs.ErrNotExist) && p != root {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == root {
			return nil
		}
		if Ignored(d.Name()) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		rel := filepath.ToSlash(p[len(root)+1:])
		switch {
		case d.IsDir():
			return nil
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			if err != nil {
				return err
			}
			writeEntry(h, "l", rel, target)
			return nil
		case d.Type().IsRegular():
			return hashFile(h, p, rel)
		default:
			// Sockets, pipes and devices hold no config.
			return nil
		}
	})
	if err != nil {
		return "", fmt.Errorf("hashing %s: %w", root, err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

func hashFile(h io.Writer, p, rel string) error {
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	// The size prefix keeps one file's content from reading as the next
	// file's name.
	writeEntry(h, "f", rel, strconv.FormatInt(fi.Size(), 10))
	if _, err := io.CopyN(h, f, fi.Size()); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: %w", p, err)
	}
	return nil
}

func writeEntry(h io.Writer, kind, rel, extra string) {
	io.WriteString(h, kind+"\x00"+rel+"\x00"+extra+"\x00")
}

// Ignored reports whether a file or directory name is left out of the
// revision and of the watch: git's own directory and editor temp files.
func Ignored(name string) bool {
	switch {
	case name == ".git",
		name == "4913", // vim probes whether it may write a directory
		strings.HasSuffix(name, "~"),
		strings.HasPrefix(name, ".#"), // emacs lock
		strings.HasPrefix(name, "#") && strings.HasSuffix(name, "#"), // emacs autosave
		strings.HasSuffix(name, ".tmp"),
		strings.HasSuffix(name, "___jb_tmp___"), strings.HasSuffix(name, "___jb_old___"),
		name == ".DS_Store":
		return true
	}
	// vim swap files: .name.swp, then .swo, .swn, ..., and the .swx probe
	if strings.HasPrefix(name, ".") {
		ext := filepath.Ext(name)
		if len(ext) == 4 && len(name) > len(ext) && strings.HasPrefix(ext, ".sw") && ext[3] >= 'a' && ext[3] <= 'z' {
			return true
		}
	}
	return false
}
