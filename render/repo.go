package render

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// maxRepoSize bounds the bytes of all the files of one repo, read or not.
const maxRepoSize = 1 << 30

// repo is an in-memory copy of the config repo. Everything render reads,
// kustomize included, comes from this copy, so no path written in the repo
// (a "../../etc" base, a symlink to /) can reach other files of the host:
// what is not in the copy does not exist. Nothing below a .git directory
// is in it, whichever way a path or a symlink leads there.
//
// Only files that can hold manifests (YAML, JSON, kustomization files) are
// read when the copy is made, and checked (size, alias bombs). The others
// (a generator's .properties, but also images and archives) are empty
// placeholders, read on first use through an os.Root of the repo, so a
// repo full of pictures costs their names, not their bytes.
//
// A manifest's bytes are held apart from the in-memory filesystem until
// kustomize (or a chart) reads the file, which moves them into it, or
// until plainFile has decoded it (release): then only their SHA-256 stays,
// so that a repo of thousands of manifests is not held twice, as bytes
// and as documents, for the whole render. A read of a released file takes
// it again from disk, through the os.Root and the real path found when
// the copy was made, and only if it is still byte for byte the file
// copied (else ErrChanged): every read sees one snapshot of a file, the
// one checked.
type repo struct {
	// fs holds the repo with its root at "/"; mem is fs without the
	// reading of placeholders.
	fs, mem filesys.FileSystem
	// skipped are the entries that were not copied, by slash path relative
	// to the root, with the reason: symlinks out of the repo or into .git,
	// files over MaxFileSize, devices.
	skipped map[string]error
	size    int64
	// warnings are what reading the repo found wrong but not fatal:
	// deprecated kustomize fields, by file.
	warnings []string

	root *os.Root // the repo on disk, for the files read on first use
	mu   sync.Mutex
	lazy map[string]string // placeholder path → its real path below root
	// held are the manifests not in the in-memory filesystem, by slash
	// path relative to the root. links are the real paths below root of
	// those copied through a symlink; any other file is at its own path.
	held  map[string]*heldFile
	links map[string]string

	// dec decrypts SOPS-encrypted manifests; a file is decrypted once, in
	// the copy, and marked with nonce (see encMarker). encErrs are the
	// files that could not be.
	dec     Decryption
	nonce   string
	encErrs map[string]error
}

// loadRepo copies the repo at dir into memory. Symlinks are followed only
// while they stay inside dir and out of .git; .git entries are left out.
// close releases the repo's directory.
func loadRepo(ctx context.Context, dir string) (*repo, error) {
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, fmt.Errorf("repo root %s: %w", dir, err)
	}
	root, err = filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("repo root %s: %w", dir, err)
	}
	osRoot, err := os.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("repo root %s: %w", dir, err)
	}
	mem := filesys.MakeFsInMemory()
	r := &repo{fs: mem, mem: mem, skipped: map[string]error{}, root: osRoot, lazy: map[string]string{},
		held: map[string]*heldFile{}, links: map[string]string{},
		nonce: newNonce(), encErrs: map[string]error{}}
	if err := r.copyDir(ctx, root, root, ".", nil); err != nil {
		osRoot.Close()
		return nil, err
	}
	r.fs = lazyFS{FileSystem: r.fs, r: r}
	return r, nil
}

func (r *repo) close() { r.root.Close() }

// copyDir copies the directory real (a path below root without symlinks)
// to rel. chain holds the real directories being copied, to stop loops
// of symlinks.
func (r *repo) copyDir(ctx context.Context, root, real, rel string, chain []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if slices.Contains(chain, real) {
		r.skipped[rel] = fmt.Errorf("%w: symlink loop", ErrInvalid)
		return nil
	}
	chain = append(chain, real)
	if err := r.fs.MkdirAll(abs(rel)); err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	entries, err := os.ReadDir(real)
	if err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	for _, e := range entries {
		name := e.Name()
		childReal := filepath.Join(real, name)
		childRel := path.Join(rel, name)
		mode := e.Type()
		if name == ".git" {
			continue // a directory, a worktree's .git file or a link: never read
		}
		if mode&fs.ModeSymlink != 0 {
			target, err := filepath.EvalSymlinks(childReal)
			if err != nil {
				r.skipped[childRel] = fmt.Errorf("%w: broken symlink", ErrNotFound)
				continue
			}
			if !within(root, target) {
				r.skipped[childRel] = fmt.Errorf("%w: symlink points outside the repo", ErrEscapes)
				continue
			}
			if inGitDir(root, target) {
				r.skipped[childRel] = fmt.Errorf("%w: symlink points into .git", ErrEscapes)
				continue
			}
			info, err := os.Stat(target)
			if err != nil {
				return fmt.Errorf("%s: %w", childRel, err)
			}
			childReal, mode = target, info.Mode().Type()
		}
		switch {
		case mode.IsDir():
			if err := r.copyDir(ctx, root, childReal, childRel, chain); err != nil {
				return err
			}
		case mode.IsRegular():
			if err := r.copyFile(root, childReal, childRel); err != nil {
				return err
			}
		default:
			r.skipped[childRel] = fmt.Errorf("%w: not a regular file", ErrInvalid)
		}
	}
	return nil
}

func (r *repo) copyFile(root, real, rel string) error {
	info, err := os.Stat(real)
	if err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	r.size += info.Size()
	if r.size > maxRepoSize {
		return fmt.Errorf("%w: the repo holds more than %d bytes", ErrTooLarge, maxRepoSize)
	}
	if info.Size() > MaxFileSize {
		r.skipped[rel] = fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, info.Size(), MaxFileSize)
		return nil
	}
	below, err := filepath.Rel(root, real)
	if err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	if !mayHoldManifests(rel) {
		r.lazy[abs(rel)] = below
		return r.fs.WriteFile(abs(rel), nil)
	}
	data, err := os.ReadFile(real)
	if err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	if checkText(rel, data) == nil && aliasBomb(data, 2) {
		r.skipped[rel] = fmt.Errorf("%w: YAML aliases expand to more than %d values (alias bomb?)", ErrTooLarge, maxAliasValues)
		return nil
	}
	if filepath.ToSlash(below) != rel {
		r.links[rel] = below
	}
	r.held[rel] = &heldFile{data: data}
	return r.fs.WriteFile(abs(rel), nil)
}

// heldFile is a manifest held apart from the in-memory filesystem: its
// bytes, or once released the SHA-256 of them.
type heldFile struct {
	data     []byte
	released bool
	sum      [sha256.Size]byte
}

// mayHoldManifests reports whether render reads a file when it copies the
// repo: manifests and kustomization files. Other files are read only when
// kustomize asks for them.
func mayHoldManifests(rel string) bool {
	return isManifest(rel) || slices.Contains(kustomizationFiles, path.Base(rel))
}

// inGitDir reports whether target, below root, is inside a .git directory.
func inGitDir(root, target string) bool {
	rel, err := filepath.Rel(root, target)
	return err != nil || slices.Contains(strings.Split(filepath.ToSlash(rel), "/"), ".git")
}

// lazyFS is the repo's filesystem as kustomize sees it: a placeholder is
// read from disk the first time it is opened.
type lazyFS struct {
	filesys.FileSystem
	r *repo
}

func (l lazyFS) ReadFile(p string) ([]byte, error) {
	if err := l.r.load(p); err != nil {
		return nil, err
	}
	return l.FileSystem.ReadFile(p)
}

func (l lazyFS) Open(p string) (filesys.File, error) {
	if err := l.r.load(p); err != nil {
		return nil, err
	}
	return l.FileSystem.Open(p)
}

// load puts the file at p (an in-memory path) in the in-memory
// filesystem, once: a held manifest, or a placeholder read from disk.
func (r *repo) load(p string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	p = path.Clean(p)
	rel := strings.TrimPrefix(p, "/")
	if _, ok := r.held[rel]; ok {
		data, err := r.heldData(rel)
		if err != nil {
			return err
		}
		delete(r.held, rel)
		return r.mem.WriteFile(p, data)
	}
	real, ok := r.lazy[p]
	if !ok {
		return nil
	}
	data, err := r.readBelow(rel, real)
	if err != nil {
		return err
	}
	delete(r.lazy, p)
	return r.mem.WriteFile(p, data)
}

// heldData returns the bytes of the held manifest rel, read again from
// disk when it was released: the bytes copied, or an error. r.mu is held.
func (r *repo) heldData(rel string) ([]byte, error) {
	h := r.held[rel]
	if !h.released {
		return h.data, nil
	}
	below, linked := r.links[rel]
	if !linked {
		below = filepath.FromSlash(rel)
	}
	data, err := r.readBelow(rel, below)
	if err != nil {
		return nil, err
	}
	if sha256.Sum256(data) != h.sum {
		return nil, &Error{File: rel, Err: fmt.Errorf("%w: it is no longer the file copied when the render began; the next render reads it anew", ErrChanged)}
	}
	return data, nil
}

// readBelow reads the file at below, a path below the repo's root, of
// at most MaxFileSize bytes. rel names it in errors.
func (r *repo) readBelow(rel, below string) ([]byte, error) {
	f, err := r.root.Open(below)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	if len(data) > MaxFileSize { // it grew since it was listed
		return nil, &Error{File: rel, Err: fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, max(info.Size(), int64(len(data))), MaxFileSize)}
	}
	return data, nil
}

// within reports whether target is root or below it.
func within(root, target string) bool {
	rel, err := filepath.Rel(root, target)
	return err == nil && (rel == "." || filepath.IsLocal(rel))
}

// abs is the in-memory path of a slash path relative to the repo root.
func abs(rel string) string { return path.Join("/", rel) }

// localPath checks that p, a path written in the repo, stays inside it
// and returns it cleaned, with slashes.
func localPath(p string) (string, error) {
	if p == "" {
		return "", fmt.Errorf("%w: empty path", ErrInvalid)
	}
	if !filepath.IsLocal(filepath.FromSlash(p)) && path.Clean(p) != "." {
		return "", fmt.Errorf("%w: %q leaves the repo (absolute or ..)", ErrEscapes, p)
	}
	return path.Clean(filepath.ToSlash(p)), nil
}

// stat says whether rel exists in the copy and is a directory; for a path
// that was skipped it returns why.
func (r *repo) stat(rel string) (exists, isDir bool, err error) {
	if err, ok := r.skipped[rel]; ok {
		return false, false, err
	}
	p := abs(rel)
	if !r.fs.Exists(p) {
		return false, false, nil
	}
	return true, r.fs.IsDir(p), nil
}

// files lists the files below dir (a slash path), sorted, with the
// skipped entries below it as errors.
func (r *repo) files(dir string) ([]string, error) {
	var out []string
	var walk func(d string) error
	walk = func(d string) error {
		names, err := r.fs.ReadDir(abs(d))
		if err != nil {
			return err
		}
		slices.Sort(names)
		for _, n := range names {
			p := path.Join(d, n)
			if r.fs.IsDir(abs(p)) {
				if err := walk(p); err != nil {
					return err
				}
				continue
			}
			out = append(out, p)
		}
		return nil
	}
	if err := walk(dir); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	var errs []error
	for p, err := range r.skipped {
		if dir == "." || p == dir || strings.HasPrefix(p, dir+"/") {
			errs = append(errs, &Error{File: p, Err: err})
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return out, errors.Join(errs...)
}

func (r *repo) readFile(rel string) ([]byte, error) {
	return r.fs.ReadFile(abs(rel))
}

// peek is readFile, except that a held manifest stays held. Its bytes
// are not to be changed.
func (r *repo) peek(rel string) ([]byte, error) {
	r.mu.Lock()
	if _, ok := r.held[rel]; ok {
		defer r.mu.Unlock()
		return r.heldData(rel)
	}
	r.mu.Unlock()
	return r.readFile(rel)
}

// release lets the bytes of the held manifest rel go, once plainFile has
// decoded it: only their SHA-256 stays (see repo).
func (r *repo) release(rel string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if h, ok := r.held[rel]; ok && !h.released {
		*h = heldFile{released: true, sum: sha256.Sum256(h.data)}
	}
}

// manifest reads a manifest file, decrypted when it is SOPS-encrypted:
// the decrypted text replaces the file in the copy (never on disk), so
// that kustomize reads it too. A held file stays held.
func (r *repo) manifest(rel string) ([]byte, error) {
	data, err := r.peek(rel)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.encErrs[rel]; err != nil {
		return nil, err
	}
	if checkText(rel, data) != nil || !isEncrypted(data) {
		return data, nil
	}
	out, err := unseal(rel, data, r.dec, r.nonce)
	if err != nil {
		r.encErrs[rel] = err
		return nil, err
	}
	delete(r.held, rel)
	return out, r.mem.WriteFile(abs(rel), out)
}
