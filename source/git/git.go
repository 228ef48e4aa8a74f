package git

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/storage/memory"

	"mcp.dev/mcp/source"
	"mcp.dev/mcp/source/internal/gittree"
)

// Source is a git repo kept as a shallow clone in the cache directory
// between polls. It is safe for concurrent use; calls are serialised.
type Source struct {
	opts Options
	url  repoURL
	// dir is the clone's work tree; Snapshot.Dir of every Fetch.
	dir string

	mu   sync.Mutex
	last source.Snapshot
}

var (
	_ source.Source         = (*Source)(nil)
	_ source.RefSnapshotter = (*Source)(nil)
)

// New checks opts and returns a Source; it does no I/O, the first Fetch
// clones.
func New(opts Options) (*Source, error) {
	def := DefaultOptions()
	if opts.Branch == "" {
		opts.Branch = def.Branch
	}
	if opts.Timeout <= 0 {
		opts.Timeout = def.Timeout
	}
	u, err := parseURL(opts.URL)
	if err != nil {
		return nil, err
	}
	if opts.Path, err = source.CleanPath(opts.Path); err != nil {
		return nil, err
	}
	if strings.HasPrefix(u.clean, "http://") && (u.password != "" || opts.PasswordFile != "") {
		// Allowed for a git server on a private network, but the token
		// crosses the network in the clear: say so once.
		slog.Warn("git credentials are sent over plain http; use https", "repo", u.redacted)
	}
	if opts.CacheDir == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			base = os.TempDir()
		}
		opts.CacheDir = filepath.Join(base, "mcp")
	}
	return &Source{opts: opts, url: u, dir: filepath.Join(opts.CacheDir, "git", u.cacheName())}, nil
}

// String is the repo URL with any password shown as ***.
func (s *Source) String() string { return s.url.redacted }

// Redacted is the repo URL with any password shown as ***; the only form
// of the URL that may be logged.
func (s *Source) Redacted() string { return s.url.redacted }

// Dir is the clone's work tree in the cache directory.
func (s *Source) Dir() string { return s.dir }

// Fetch returns the head of the branch, or the pinned ref. A poll of a
// branch that did not move costs one ls-remote round trip and nothing else.
func (s *Source) Fetch(ctx context.Context) (source.Snapshot, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.Ref != "" && s.last.Revision != "" {
		return s.last, false, nil // pinned: it never moves
	}

	var (
		snap source.Snapshot
		err  error
	)
	for attempt := 0; attempt < 2; attempt++ {
		snap, err = s.fetch(ctx)
		// A clone broken by a crash or a full disk is dropped and made again.
		if !errors.Is(err, plumbing.ErrObjectNotFound) || ctx.Err() != nil {
			break
		}
		if rmErr := os.RemoveAll(s.dir); rmErr != nil {
			return source.Snapshot{}, false, errors.Join(err, rmErr)
		}
	}
	if err != nil {
		return source.Snapshot{}, false, err
	}
	changed := snap.Revision != s.last.Revision
	s.last = snap
	return snap, changed, nil
}

func (s *Source) fetch(ctx context.Context) (source.Snapshot, error) {
	var (
		want plumbing.Hash
		repo *git.Repository
		err  error
	)
	if s.opts.Ref != "" {
		if repo, err = s.open(); err != nil {
			return source.Snapshot{}, err
		}
		if want, err = s.resolve(ctx, repo, s.opts.Ref, false); err != nil {
			return source.Snapshot{}, err
		}
	} else {
		branch := plumbing.NewBranchReferenceName(s.opts.Branch)
		refs, err := s.lsRemote(ctx)
		if err != nil {
			return source.Snapshot{}, err
		}
		head, ok := refs[branch]
		if !ok {
			return source.Snapshot{}, s.notFound("branch", s.opts.Branch)
		}
		if head.String() == s.last.Revision {
			return s.last, nil
		}
		if repo, err = s.open(); err != nil {
			return source.Snapshot{}, err
		}
		if !hasCommit(repo, head) {
			spec := config.RefSpec("+" + branch.String() + ":" + plumbing.NewRemoteReferenceName("origin", s.opts.Branch).String())
			if err := s.fetchSpecs(ctx, repo, 1, spec); err != nil {
				return source.Snapshot{}, err
			}
		}
		want = head
	}
	return s.checkout(repo, want)
}

// lsRemote asks the remote for its refs: one round trip.
func (s *Source) lsRemote(ctx context.Context) (map[plumbing.ReferenceName]plumbing.Hash, error) {
	auth, err := s.auth()
	if err != nil {
		return nil, err
	}
	remote := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{s.url.clean}})
	callCtx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	proxy, done := s.callProxy(callCtx)
	defer done()
	list, err := remote.ListContext(callCtx, &git.ListOptions{Auth: auth, PeelingOption: git.IgnorePeeled, ProxyOptions: proxy})
	if err != nil {
		return nil, s.translate(ctx, "ls-remote", auth, timedOut(ctx, callCtx, err))
	}
	refs := make(map[plumbing.ReferenceName]plumbing.Hash, len(list))
	for _, r := range list {
		if r.Type() == plumbing.HashReference {
			refs[r.Name()] = r.Hash()
		}
	}
	return refs, nil
}

// fetchSpecs fetches into the clone; depth 1 is a shallow fetch, and a
// later one sends only what is new since the commits the clone has.
func (s *Source) fetchSpecs(ctx context.Context, repo *git.Repository, depth int, specs ...config.RefSpec) error {
	auth, err := s.auth()
	if err != nil {
		return err
	}
	callCtx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	proxy, done := s.callProxy(callCtx)
	defer done()
	err = repo.FetchContext(callCtx, &git.FetchOptions{
		ProxyOptions: proxy,
		RemoteName:   "origin",
		RefSpecs:     specs,
		Depth:        depth,
		Auth:         auth,
		Tags:         git.NoTags,
		Force:        true,
	})
	if errors.Is(err, git.NoErrAlreadyUpToDate) {
		return nil
	}
	return s.translate(ctx, "fetch", auth, timedOut(ctx, callCtx, err))
}

var (
	fullSHA  = regexp.MustCompile(`^[0-9a-f]{40}$`)
	shortSHA = regexp.MustCompile(`^[0-9a-f]{4,39}$`)
)

// resolve fetches ref (a branch, "origin/<branch>", tag, full ref name or
// full commit SHA; branches only when branches is true) into the clone and
// returns its commit.
func (s *Source) resolve(ctx context.Context, repo *git.Repository, ref string, branches bool) (plumbing.Hash, error) {
	if fullSHA.MatchString(ref) {
		return s.fetchCommit(ctx, repo, plumbing.NewHash(ref))
	}
	refs, err := s.lsRemote(ctx)
	if err != nil {
		return plumbing.ZeroHash, err
	}
	var candidates []plumbing.ReferenceName
	if branches {
		candidates = append(candidates, plumbing.NewBranchReferenceName(strings.TrimPrefix(ref, "origin/")))
	}
	candidates = append(candidates, plumbing.NewTagReferenceName(ref))
	if strings.HasPrefix(ref, "refs/") {
		candidates = append(candidates, plumbing.ReferenceName(ref)) // refs/pull/1/head
	}
	for _, name := range candidates {
		if _, ok := refs[name]; !ok {
			continue
		}
		local := plumbing.ReferenceName("refs/mcp/" + strings.TrimPrefix(name.String(), "refs/"))
		if err := s.fetchSpecs(ctx, repo, 1, config.RefSpec("+"+name.String()+":"+local.String())); err != nil {
			return plumbing.ZeroHash, err
		}
		// ResolveRevision peels an annotated tag down to its commit.
		h, err := repo.ResolveRevision(plumbing.Revision(local))
		if err != nil {
			return plumbing.ZeroHash, fmt.Errorf("ref %s of %s: %w", ref, s.url.redacted, err)
		}
		return *h, nil
	}
	if shortSHA.MatchString(ref) {
		return plumbing.ZeroHash, fmt.Errorf("ref %s %w in %s: the remote serves only full commit SHAs", ref, source.ErrRefNotFound, s.url.redacted)
	}
	if branches {
		return plumbing.ZeroHash, s.notFound("ref", ref)
	}
	return plumbing.ZeroHash, fmt.Errorf("ref %s %w in %s: --ref takes a tag or a full commit SHA", ref, source.ErrRefNotFound, s.url.redacted)
}

// fetchCommit makes sure the clone has commit h. Servers that serve
// commits by SHA (GitHub, GitLab) get a shallow fetch of just that commit;
// others a full fetch of their branches and tags.
func (s *Source) fetchCommit(ctx context.Context, repo *git.Repository, h plumbing.Hash) (plumbing.Hash, error) {
	if hasCommit(repo, h) {
		return h, nil
	}
	err := s.fetchSpecs(ctx, repo, 1, config.RefSpec("+"+h.String()+":refs/mcp/commits/"+h.String()))
	if errors.Is(err, git.ErrExactSHA1NotSupported) {
		err = s.fetchSpecs(ctx, repo, 0, "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*")
	}
	var se *sourceError
	if err != nil && (errors.As(err, &se) || isNetwork(err)) {
		return plumbing.ZeroHash, err
	}
	// Any other failure is the server refusing a commit it does not have
	// ("not our ref").
	if err != nil || !hasCommit(repo, h) {
		return plumbing.ZeroHash, s.notFound("commit", h.String())
	}
	return h, nil
}

// open opens the clone in the cache, making it on first use.
func (s *Source) open() (*git.Repository, error) {
	repo, err := git.PlainOpen(s.dir)
	if err == nil {
		return repo, nil
	}
	if !errors.Is(err, git.ErrRepositoryNotExists) {
		// Not a repo we can read: start over rather than fail forever.
		if err := os.RemoveAll(s.dir); err != nil {
			return nil, fmt.Errorf("cache %s: %w", s.dir, err)
		}
	}
	if err := os.MkdirAll(s.dir, 0o700); err != nil {
		return nil, fmt.Errorf("cache %s: %w", s.dir, err)
	}
	repo, err = git.PlainInit(s.dir, false)
	if err != nil {
		return nil, fmt.Errorf("cache %s: %w", s.dir, err)
	}
	if _, err := repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{s.url.clean}}); err != nil {
		return nil, fmt.Errorf("cache %s: %w", s.dir, err)
	}
	return repo, nil
}

// checkout puts the work tree at h, with nothing left over from before.
func (s *Source) checkout(repo *git.Repository, h plumbing.Hash) (source.Snapshot, error) {
	wt, err := repo.Worktree()
	if err != nil {
		return source.Snapshot{}, fmt.Errorf("cache %s: %w", s.dir, err)
	}
	if err := wt.Checkout(&git.CheckoutOptions{Hash: h, Force: true}); err != nil {
		return source.Snapshot{}, fmt.Errorf("checking out %s of %s in %s: %w", h, s.url.redacted, s.dir, err)
	}
	if err := wt.Clean(&git.CleanOptions{Dir: true}); err != nil {
		return source.Snapshot{}, fmt.Errorf("cleaning %s: %w", s.dir, err)
	}
	if fi, err := os.Stat(filepath.Join(s.dir, s.opts.Path)); err != nil || !fi.IsDir() {
		return source.Snapshot{}, fmt.Errorf("path %s %w at %s in %s", s.opts.Path, source.ErrPathNotFound, h, s.url.redacted)
	}
	return source.Snapshot{Revision: h.String(), Dir: s.dir, Path: s.opts.Path}, nil
}

// SnapshotAt fetches ref (a branch, "origin/<branch>", tag, full ref name
// such as refs/pull/1/head, or full commit SHA) into the clone and writes
// its files into a temporary directory. It leaves the work tree of Fetch
// alone.
func (s *Source) SnapshotAt(ctx context.Context, ref string) (source.Snapshot, func(), error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	repo, err := s.open()
	if err != nil {
		return source.Snapshot{}, nil, err
	}
	h, err := s.resolve(ctx, repo, ref, true)
	if err != nil {
		return source.Snapshot{}, nil, err
	}
	commit, err := repo.CommitObject(h)
	if err != nil {
		return source.Snapshot{}, nil, fmt.Errorf("ref %s of %s: %w", ref, s.url.redacted, err)
	}
	tree, err := commit.Tree()
	if err != nil {
		return source.Snapshot{}, nil, fmt.Errorf("ref %s of %s: %w", ref, s.url.redacted, err)
	}
	tmp, err := os.MkdirTemp("", "mcp-ref-")
	if err != nil {
		return source.Snapshot{}, nil, err
	}
	cleanup := func() { os.RemoveAll(tmp) }
	if err := gittree.Export(ctx, tree, tmp); err != nil {
		cleanup()
		return source.Snapshot{}, nil, fmt.Errorf("writing ref %s of %s: %w", ref, s.url.redacted, err)
	}
	return source.Snapshot{Revision: h.String(), Dir: tmp, Path: s.opts.Path}, cleanup, nil
}

func hasCommit(repo *git.Repository, h plumbing.Hash) bool {
	_, err := repo.CommitObject(h)
	return err == nil
}
