package git

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// ErrStatusPushRejected means every push of a status commit was rejected
// because another writer kept moving the branch.
var ErrStatusPushRejected = errors.New("status push rejected: the branch kept moving")

// StatusOptions say where and as whom status files are committed.
type StatusOptions struct {
	// Branch is the status branch, created as an orphan branch if missing.
	Branch string
	// Path is the directory of the status files on the branch.
	Path string
	// AuthorName and AuthorEmail sign the commits.
	AuthorName, AuthorEmail string
	// Attempts bounds how often a rejected push is retried on top of the
	// new head before the round gives up.
	Attempts int
}

// DefaultStatusOptions are SPEC section 5's defaults.
func DefaultStatusOptions() StatusOptions {
	return StatusOptions{Branch: "mcp-status", Path: "status", AuthorName: "mcp", AuthorEmail: "mcp@localhost", Attempts: 5}
}

// StatusWriter commits status files to a branch of the Source's repo with
// the Source's credentials. It keeps a clone of its own next to the
// Source's, so the Source's work tree is never touched.
type StatusWriter struct {
	src  *Source
	opts StatusOptions
	dir  string
}

// StatusWriter returns a writer for the Source's repo.
func (s *Source) StatusWriter(opts StatusOptions) *StatusWriter {
	def := DefaultStatusOptions()
	if opts.Attempts < 1 {
		opts.Attempts = def.Attempts
	}
	opts.Path = strings.Trim(path.Clean("/"+opts.Path), "/")
	return &StatusWriter{src: s, opts: opts, dir: s.dir + ".status"}
}

// WriteStatus commits files (paths relative to the branch root) in one
// commit on top of the branch head and pushes it. A push rejected because
// the branch moved is retried on top of the new head. Files whose content
// is already on the branch make no commit.
func (w *StatusWriter) WriteStatus(ctx context.Context, files map[string][]byte, message string) error {
	w.src.mu.Lock() // one network user of the credentials at a time
	defer w.src.mu.Unlock()
	repo, err := w.open()
	if err != nil {
		return err
	}
	var last error
	for attempt := 1; attempt <= w.opts.Attempts; attempt++ {
		pushed, err := w.commitAndPush(ctx, repo, files, message)
		if err == nil || !pushed {
			return err
		}
		last = err
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(attempt*attempt) * 100 * time.Millisecond):
		}
	}
	return fmt.Errorf("%w (%d attempts on %s of %s): %v", ErrStatusPushRejected, w.opts.Attempts, w.opts.Branch, w.src.url.redacted, last)
}

// ReadStatus returns the files below the status path on the status
// branch (path on the branch → content); none when the branch does not
// exist yet. A restarted mcp reads them so that it does not rewrite files
// whose outcome did not change.
func (w *StatusWriter) ReadStatus(ctx context.Context) (map[string][]byte, error) {
	w.src.mu.Lock()
	defer w.src.mu.Unlock()
	repo, err := w.open()
	if err != nil {
		return nil, err
	}
	refs, err := w.src.lsRemote(ctx)
	if err != nil {
		return nil, err
	}
	branch := plumbing.NewBranchReferenceName(w.opts.Branch)
	head, exists := refs[branch]
	files := map[string][]byte{}
	if !exists {
		return files, nil
	}
	if !hasCommit(repo, head) {
		spec := config.RefSpec("+" + branch.String() + ":" + plumbing.NewRemoteReferenceName("origin", w.opts.Branch).String())
		if err := w.src.fetchSpecs(ctx, repo, 1, spec); err != nil {
			return nil, err
		}
	}
	tree, err := treeOf(repo, head.String())
	if err != nil {
		return nil, fmt.Errorf("status branch %s: %w", w.opts.Branch, err)
	}
	if w.opts.Path != "" {
		if tree, err = tree.Tree(w.opts.Path); errors.Is(err, object.ErrDirectoryNotFound) {
			return files, nil
		} else if err != nil {
			return nil, fmt.Errorf("status branch %s: %w", w.opts.Branch, err)
		}
	}
	err = tree.Files().ForEach(func(f *object.File) error {
		data, err := f.Contents()
		files[path.Join(w.opts.Path, f.Name)] = []byte(data)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("status branch %s: %w", w.opts.Branch, err)
	}
	return files, nil
}

// commitAndPush is one attempt. pushed reports that the push itself was
// refused (worth retrying on the new head); other errors are final.
func (w *StatusWriter) commitAndPush(ctx context.Context, repo *git.Repository, files map[string][]byte, message string) (pushed bool, err error) {
	refs, err := w.src.lsRemote(ctx)
	if err != nil {
		return false, err
	}
	branch := plumbing.NewBranchReferenceName(w.opts.Branch)
	head, exists := refs[branch]
	var parents []plumbing.Hash
	var base *object.Tree
	if exists {
		if !hasCommit(repo, head) {
			spec := config.RefSpec("+" + branch.String() + ":" + plumbing.NewRemoteReferenceName("origin", w.opts.Branch).String())
			if err := w.src.fetchSpecs(ctx, repo, 1, spec); err != nil {
				return false, err
			}
		}
		c, err := repo.CommitObject(head)
		if err != nil {
			return false, fmt.Errorf("status branch %s: %w", w.opts.Branch, err)
		}
		if base, err = c.Tree(); err != nil {
			return false, fmt.Errorf("status branch %s: %w", w.opts.Branch, err)
		}
		parents = []plumbing.Hash{head}
	}
	tree, err := putFiles(repo.Storer, base, files)
	if err != nil {
		return false, fmt.Errorf("status commit: %w", err)
	}
	if base != nil && tree == base.Hash {
		return false, nil // the branch already says this
	}
	sig := object.Signature{Name: w.opts.AuthorName, Email: w.opts.AuthorEmail, When: time.Now()}
	commit := &object.Commit{Author: sig, Committer: sig, Message: message, TreeHash: tree, ParentHashes: parents}
	obj := repo.Storer.NewEncodedObject()
	if err := commit.Encode(obj); err != nil {
		return false, err
	}
	h, err := repo.Storer.SetEncodedObject(obj)
	if err != nil {
		return false, err
	}
	auth, err := w.src.auth()
	if err != nil {
		return false, err
	}
	callCtx, cancel := context.WithTimeout(ctx, w.src.opts.Timeout)
	defer cancel()
	// go-git's ssh handshake ignores the context; the proxy binds it.
	proxy, done := w.src.callProxy(callCtx)
	defer done()
	err = repo.PushContext(callCtx, &git.PushOptions{
		RemoteName: "origin",
		// The commit itself, not a local branch: nothing else is pushed.
		RefSpecs:     []config.RefSpec{config.RefSpec(h.String() + ":" + branch.String())},
		Auth:         auth,
		ProxyOptions: proxy,
	})
	if err == nil || errors.Is(err, git.NoErrAlreadyUpToDate) {
		return false, nil
	}
	err = timedOut(ctx, callCtx, err)
	tErr := w.src.translate(ctx, "push", auth, err)
	var se *sourceError
	if ctx.Err() != nil || isNetwork(err) || errors.As(tErr, &se) {
		return false, tErr // cancelled, unreachable, refused credentials: retrying will not help
	}
	return true, tErr
}

// open opens or makes the writer's bare clone.
func (w *StatusWriter) open() (*git.Repository, error) {
	repo, err := git.PlainOpen(w.dir)
	if err == nil {
		return repo, nil
	}
	if err := os.RemoveAll(w.dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(w.dir), 0o700); err != nil {
		return nil, err
	}
	if repo, err = git.PlainInit(w.dir, true); err != nil {
		return nil, fmt.Errorf("status cache %s: %w", w.dir, err)
	}
	if _, err := repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{w.src.url.clean}}); err != nil {
		return nil, fmt.Errorf("status cache %s: %w", w.dir, err)
	}
	return repo, nil
}

// OnlyStatusChanged reports whether the source moved from one commit to the
// next by changes below the status path only: the status branch is the
// source branch and the commit is mcp's own.
func (w *StatusWriter) OnlyStatusChanged(_ context.Context, from, to string) bool {
	if w.opts.Branch != w.src.opts.Branch || w.src.opts.Ref != "" {
		return false
	}
	repo, err := git.PlainOpen(w.src.dir)
	if err != nil {
		return false
	}
	a, errA := treeOf(repo, from)
	b, errB := treeOf(repo, to)
	if errA != nil || errB != nil {
		return false
	}
	changes, err := object.DiffTree(a, b)
	if err != nil {
		return false
	}
	prefix := w.opts.Path + "/"
	for _, c := range changes {
		for _, name := range []string{c.From.Name, c.To.Name} {
			if name != "" && !strings.HasPrefix(name, prefix) {
				return false
			}
		}
	}
	return true
}

func treeOf(repo *git.Repository, rev string) (*object.Tree, error) {
	c, err := repo.CommitObject(plumbing.NewHash(rev))
	if err != nil {
		return nil, err
	}
	return c.Tree()
}

// putFiles writes a tree that is base (nil: empty) with files set, and
// returns its hash. Only the subtrees on the files' paths are rewritten.
func putFiles(st storer.EncodedObjectStorer, base *object.Tree, files map[string][]byte) (plumbing.Hash, error) {
	var entries []object.TreeEntry
	if base != nil {
		entries = slices.Clone(base.Entries)
	}
	here := map[string][]byte{}
	below := map[string]map[string][]byte{}
	for p, data := range files {
		dir, rest, nested := strings.Cut(p, "/")
		if !nested {
			here[p] = data
			continue
		}
		if below[dir] == nil {
			below[dir] = map[string][]byte{}
		}
		below[dir][rest] = data
	}
	set := func(e object.TreeEntry) {
		i := slices.IndexFunc(entries, func(x object.TreeEntry) bool { return x.Name == e.Name })
		if i >= 0 {
			entries[i] = e
		} else {
			entries = append(entries, e)
		}
	}
	for name, data := range here {
		obj := st.NewEncodedObject()
		obj.SetType(plumbing.BlobObject)
		wr, err := obj.Writer()
		if err != nil {
			return plumbing.ZeroHash, err
		}
		if _, err := wr.Write(data); err != nil {
			return plumbing.ZeroHash, err
		}
		wr.Close()
		h, err := st.SetEncodedObject(obj)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		set(object.TreeEntry{Name: name, Mode: filemode.Regular, Hash: h})
	}
	for dir, sub := range below {
		var subBase *object.Tree
		if base != nil {
			if e, err := base.FindEntry(dir); err == nil && e.Mode == filemode.Dir {
				if subBase, err = object.GetTree(st, e.Hash); err != nil {
					return plumbing.ZeroHash, err
				}
			}
		}
		h, err := putFiles(st, subBase, sub)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		set(object.TreeEntry{Name: dir, Mode: filemode.Dir, Hash: h})
	}
	// git orders tree entries by name, a directory's as if it ended in "/".
	key := func(e object.TreeEntry) string {
		if e.Mode == filemode.Dir {
			return e.Name + "/"
		}
		return e.Name
	}
	slices.SortFunc(entries, func(a, b object.TreeEntry) int { return strings.Compare(key(a), key(b)) })
	tree := &object.Tree{Entries: entries}
	obj := st.NewEncodedObject()
	if err := tree.Encode(obj); err != nil {
		return plumbing.ZeroHash, err
	}
	return st.SetEncodedObject(obj)
}
