package git

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"mcp.dev/mcp/internal/gitserver"
	"mcp.dev/mcp/source"
)

// httpFixture is a repo served over smart HTTP behind basic auth.
type httpFixture struct {
	root   *gitserver.Root
	repo   *gitserver.Repo
	srv    *gitserver.HTTP
	pwFile string
	cache  string
}

const (
	testUser  = "mcp"
	testToken = "s3cr3t-t0ken"
)

func newHTTPFixture(t *testing.T) *httpFixture {
	t.Helper()
	root := gitserver.NewRoot(t)
	f := &httpFixture{root: root, repo: root.Init("fleet"), cache: t.TempDir()}
	f.srv = gitserver.NewHTTP(t, root, testUser, testToken)
	f.pwFile = writeFile(t, "token", testToken+"\n")
	return f
}

func (f *httpFixture) options() Options {
	opts := DefaultOptions()
	opts.URL = f.srv.RepoURL("fleet")
	opts.Username = testUser
	opts.PasswordFile = f.pwFile
	opts.CacheDir = f.cache
	return opts
}

func (f *httpFixture) source(t *testing.T, edit func(*Options)) *Source {
	t.Helper()
	opts := f.options()
	if edit != nil {
		edit(&opts)
	}
	src, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return src
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustFetch(t *testing.T, src *Source, wantChanged bool) source.Snapshot {
	t.Helper()
	snap, changed, err := src.Fetch(context.Background())
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if changed != wantChanged {
		t.Fatalf("Fetch: changed = %v, want %v", changed, wantChanged)
	}
	return snap
}

func readSnap(t *testing.T, snap source.Snapshot, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(snap.Dir, snap.Path, name))
	if err != nil {
		t.Fatalf("snapshot %s: %v", snap.Revision, err)
	}
	return string(b)
}

// uploadPacks counts the fetches (POST git-upload-pack) among requests.
func uploadPacks(reqs []string) int {
	n := 0
	for _, r := range reqs {
		if strings.HasPrefix(r, "POST ") && strings.HasSuffix(r, "/git-upload-pack") {
			n++
		}
	}
	return n
}

func TestCloneThenIncrementalFetch(t *testing.T) {
	f := newHTTPFixture(t)
	first := f.repo.Commit("main", "first", map[string]string{"a.yaml": "a: 1\n", "old.yaml": "old\n"})
	src := f.source(t, nil)

	snap := mustFetch(t, src, true)
	if snap.Revision != first {
		t.Fatalf("revision = %s, want %s", snap.Revision, first)
	}
	if got := readSnap(t, snap, "a.yaml"); got != "a: 1\n" {
		t.Fatalf("a.yaml = %q", got)
	}
	if _, err := os.Stat(filepath.Join(snap.Dir, ".git", "shallow")); err != nil {
		t.Fatalf("clone is not shallow: %v", err)
	}

	second := f.repo.Commit("main", "second", map[string]string{"a.yaml": "a: 2\n", "b/c.yaml": "c\n"}, "old.yaml")
	f.srv.ResetRequests()
	snap = mustFetch(t, src, true)
	if snap.Revision != second {
		t.Fatalf("revision = %s, want %s", snap.Revision, second)
	}
	if got := readSnap(t, snap, "a.yaml"); got != "a: 2\n" {
		t.Fatalf("a.yaml = %q after the second commit", got)
	}
	if got := readSnap(t, snap, "b/c.yaml"); got != "c\n" {
		t.Fatalf("b/c.yaml = %q", got)
	}
	if _, err := os.Stat(filepath.Join(snap.Dir, "old.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("old.yaml was removed upstream but is still there (err %v)", err)
	}
	if n := uploadPacks(f.srv.Requests()); n != 1 {
		t.Fatalf("fetch after a new commit: %d upload-pack requests, want 1: %q", n, f.srv.Requests())
	}
	// Incremental: the clone was kept and grew, it was not made again.
	repo := openClone(t, src)
	if !hasCommit(repo, plumbingHash(first)) {
		t.Fatalf("the first commit is gone from the clone: it was cloned again")
	}
}

func TestUnchangedPollIsOneLsRemote(t *testing.T) {
	f := newHTTPFixture(t)
	rev := f.repo.Commit("main", "first", map[string]string{"a.yaml": "a\n"})
	src := f.source(t, nil)
	mustFetch(t, src, true)

	for i := 0; i < 3; i++ {
		f.srv.ResetRequests()
		snap := mustFetch(t, src, false)
		if snap.Revision != rev {
			t.Fatalf("revision = %s, want %s", snap.Revision, rev)
		}
		want := []string{"GET /fleet.git/info/refs?service=git-upload-pack"}
		if diff := cmp.Diff(want, f.srv.Requests()); diff != "" {
			t.Fatalf("poll of an unchanged remote: requests (-want +got):\n%s", diff)
		}
	}
}

func TestRestartReusesCache(t *testing.T) {
	f := newHTTPFixture(t)
	rev := f.repo.Commit("main", "first", map[string]string{"a.yaml": "a\n"})
	mustFetch(t, f.source(t, nil), true)

	// A new process: same cache, nothing to download.
	f.srv.ResetRequests()
	snap := mustFetch(t, f.source(t, nil), true)
	if snap.Revision != rev {
		t.Fatalf("revision = %s, want %s", snap.Revision, rev)
	}
	if n := uploadPacks(f.srv.Requests()); n != 0 {
		t.Fatalf("restart with a warm cache fetched %d times: %q", n, f.srv.Requests())
	}
}

func TestPinned(t *testing.T) {
	f := newHTTPFixture(t)
	v1 := f.repo.Commit("main", "v1", map[string]string{"v.yaml": "1\n"})
	f.repo.Tag("v1", v1, false)
	v2 := f.repo.Commit("main", "v2", map[string]string{"v.yaml": "2\n"})
	f.repo.Tag("v2", v2, true)
	f.repo.Commit("main", "v3", map[string]string{"v.yaml": "3\n"})

	for name, tc := range map[string]struct {
		ref, want, content string
	}{
		"lightweight tag": {ref: "v1", want: v1, content: "1\n"},
		"annotated tag":   {ref: "v2", want: v2, content: "2\n"},
		"full commit":     {ref: v1, want: v1, content: "1\n"},
	} {
		t.Run(name, func(t *testing.T) {
			src := f.source(t, func(o *Options) { o.Ref = tc.ref; o.CacheDir = t.TempDir() })
			snap := mustFetch(t, src, true)
			if snap.Revision != tc.want {
				t.Fatalf("revision = %s, want %s", snap.Revision, tc.want)
			}
			if got := readSnap(t, snap, "v.yaml"); got != tc.content {
				t.Fatalf("v.yaml = %q, want %q", got, tc.content)
			}
			// Pinned never moves, so it never asks the server again.
			f.srv.ResetRequests()
			mustFetch(t, src, false)
			if reqs := f.srv.Requests(); len(reqs) != 0 {
				t.Fatalf("second Fetch of a pinned source made requests: %q", reqs)
			}
		})
	}
}

func TestPinnedCommitWithoutSHAFetch(t *testing.T) {
	f := newHTTPFixture(t)
	v1 := f.repo.Commit("main", "v1", map[string]string{"v.yaml": "1\n"})
	f.repo.Commit("main", "v2", map[string]string{"v.yaml": "2\n"})
	// A server that serves only refs: the commit is found in full history.
	f.repo.SetConfig("uploadpack.allowReachableSHA1InWant", "false")
	snap := mustFetch(t, f.source(t, func(o *Options) { o.Ref = v1 }), true)
	if snap.Revision != v1 || readSnap(t, snap, "v.yaml") != "1\n" {
		t.Fatalf("pinned to %s, got %s", v1, snap.Revision)
	}
}

func TestPinnedMissing(t *testing.T) {
	f := newHTTPFixture(t)
	f.repo.Commit("main", "v1", map[string]string{"v.yaml": "1\n"})
	for _, ref := range []string{"v9", strings.Repeat("ab", 20), "abc1234"} {
		_, _, err := f.source(t, func(o *Options) { o.Ref = ref }).Fetch(context.Background())
		if !errors.Is(err, source.ErrRefNotFound) || errors.Is(err, source.ErrBranchNotFound) || !errors.Is(err, source.ErrNotFound) {
			t.Fatalf("--ref %s: err = %v, want ErrRefNotFound", ref, err)
		}
		if !strings.Contains(err.Error(), ref) || !strings.Contains(err.Error(), f.srv.RepoURL("fleet")) {
			t.Fatalf("--ref %s: error %q names neither the ref nor the URL", ref, err)
		}
	}
}

func TestSubPath(t *testing.T) {
	f := newHTTPFixture(t)
	f.repo.Commit("main", "first", map[string]string{"clusters/c.yaml": "c\n", "apps/web/d.yaml": "d\n"})
	snap := mustFetch(t, f.source(t, func(o *Options) { o.Path = "clusters" }), true)
	if snap.Path != "clusters" || readSnap(t, snap, "c.yaml") != "c\n" {
		t.Fatalf("snapshot %+v", snap)
	}
	// Placement paths are relative to the repo root, not to --path.
	if _, err := os.Stat(filepath.Join(snap.Dir, "apps/web/d.yaml")); err != nil {
		t.Fatalf("repo root not in Dir: %v", err)
	}

	_, _, err := f.source(t, func(o *Options) { o.Path = "nope" }).Fetch(context.Background())
	if !errors.Is(err, source.ErrPathNotFound) || errors.Is(err, source.ErrBranchNotFound) || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("missing --path: err = %v, want ErrPathNotFound", err)
	}
	if _, err := New(Options{URL: f.srv.RepoURL("fleet"), Path: "../etc"}); err == nil {
		t.Fatalf("a --path leaving the repo was accepted")
	}
}

func TestWrongPassword(t *testing.T) {
	f := newHTTPFixture(t)
	f.repo.Commit("main", "first", map[string]string{"a.yaml": "a\n"})
	wrong := writeFile(t, "token", "wrong\n")
	src := f.source(t, func(o *Options) { o.PasswordFile = wrong })
	_, _, err := src.Fetch(context.Background())
	if !errors.Is(err, source.ErrAuthentication) {
		t.Fatalf("err = %v, want ErrAuthentication", err)
	}
	if want := "authentication failed for " + f.srv.RepoURL("fleet"); err.Error() != want {
		t.Fatalf("err = %q, want %q", err, want)
	}

	// No credentials at all is the same error.
	_, _, err = f.source(t, func(o *Options) { o.PasswordFile = "" }).Fetch(context.Background())
	if !errors.Is(err, source.ErrAuthentication) {
		t.Fatalf("no credentials: err = %v, want ErrAuthentication", err)
	}
}

func TestCredentialsInURLNeverShow(t *testing.T) {
	f := newHTTPFixture(t)
	f.repo.Commit("main", "first", map[string]string{"a.yaml": "a\n"})
	withToken := strings.Replace(f.srv.RepoURL("fleet"), "http://", "http://"+testUser+":"+testToken+"@", 1)
	src := f.source(t, func(o *Options) { o.URL = withToken; o.Username = ""; o.PasswordFile = "" })
	if got, want := src.Redacted(), strings.Replace(withToken, testToken, "***", 1); got != want {
		t.Fatalf("Redacted() = %q, want %q", got, want)
	}
	snap := mustFetch(t, src, true)
	cfg, err := os.ReadFile(filepath.Join(snap.Dir, ".git", "config"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(cfg), testToken) {
		t.Fatalf("the token was written into the clone's config:\n%s", cfg)
	}

	bad := strings.Replace(withToken, testToken, "wrong-token", 1)
	_, _, err = f.source(t, func(o *Options) { o.URL = bad; o.Username = ""; o.PasswordFile = "" }).Fetch(context.Background())
	if !errors.Is(err, source.ErrAuthentication) || strings.Contains(err.Error(), "wrong-token") || !strings.Contains(err.Error(), testUser+":***@") {
		t.Fatalf("err = %q: want an authentication error naming the redacted URL", err)
	}
}

func TestBranchMissing(t *testing.T) {
	f := newHTTPFixture(t)
	f.repo.Commit("main", "first", map[string]string{"a.yaml": "a\n"})
	_, _, err := f.source(t, func(o *Options) { o.Branch = "nope" }).Fetch(context.Background())
	if !errors.Is(err, source.ErrBranchNotFound) {
		t.Fatalf("err = %v, want ErrBranchNotFound", err)
	}
	if want := "branch nope not found in " + f.srv.RepoURL("fleet"); err.Error() != want {
		t.Fatalf("err = %q, want %q", err, want)
	}
}

func TestServerDownThenUp(t *testing.T) {
	f := newHTTPFixture(t)
	first := f.repo.Commit("main", "first", map[string]string{"a.yaml": "a\n"})
	src := f.source(t, nil)
	mustFetch(t, src, true)

	f.srv.Stop()
	second := f.repo.Commit("main", "second", map[string]string{"a.yaml": "b\n"})
	_, _, err := src.Fetch(context.Background())
	if err == nil || !strings.Contains(err.Error(), "connection refused") || !strings.Contains(err.Error(), f.srv.RepoURL("fleet")) {
		t.Fatalf("server down: err = %v, want the network error naming the URL", err)
	}
	f.srv.Start()
	snap := mustFetch(t, src, true)
	if snap.Revision != second || snap.Revision == first {
		t.Fatalf("after the server came back: revision %s, want %s", snap.Revision, second)
	}
}

func TestFileURL(t *testing.T) {
	f := newHTTPFixture(t)
	rev := f.repo.Commit("main", "first", map[string]string{"a.yaml": "a\n"})
	src := f.source(t, func(o *Options) { o.URL = f.repo.FileURL(); o.PasswordFile = "" })
	snap := mustFetch(t, src, true)
	if snap.Revision != rev || readSnap(t, snap, "a.yaml") != "a\n" {
		t.Fatalf("file:// snapshot %+v", snap)
	}
	mustFetch(t, src, false)
}

// TestFetchCutMidPackfile: the server dies in the middle of sending a new
// commit. The fetch fails, the work tree still holds the last good
// revision in full, and the next fetch gets the new one.
func TestFetchCutMidPackfile(t *testing.T) {
	f := newHTTPFixture(t)
	first := f.repo.Commit("main", "first", map[string]string{"a.yaml": "a\n"})
	src := f.source(t, nil)
	snap := mustFetch(t, src, true)

	noise := make([]byte, 96<<10)
	rand.Read(noise)
	big := base64.StdEncoding.EncodeToString(noise) // does not compress
	second := f.repo.Commit("main", "second", map[string]string{"a.yaml": "b\n", "big.txt": big})
	f.srv.CutFetches(4 << 10)
	if _, _, err := src.Fetch(context.Background()); err == nil {
		t.Fatal("a fetch cut in the middle succeeded")
	}
	if got := readSnap(t, snap, "a.yaml"); got != "a\n" || snap.Revision != first {
		t.Fatalf("after a cut fetch the work tree holds %q: not the last good revision", got)
	}
	if _, err := os.Stat(filepath.Join(snap.Dir, "big.txt")); err == nil {
		t.Fatal("a file of the half-fetched commit is in the work tree")
	}
	f.srv.CutFetches(0)
	next := mustFetch(t, src, true)
	if next.Revision != second || readSnap(t, next, "big.txt") != big {
		t.Fatalf("after the server recovered: revision %s, want %s with all its files", next.Revision, second)
	}
}

func TestRepoMissing(t *testing.T) {
	f := newHTTPFixture(t)
	f.repo.Commit("main", "first", map[string]string{"a.yaml": "a\n"})
	_, _, err := f.source(t, func(o *Options) { o.URL = f.srv.RepoURL("no-such-repo") }).Fetch(context.Background())
	if !errors.Is(err, source.ErrRepoNotFound) || errors.Is(err, source.ErrBranchNotFound) || !errors.Is(err, source.ErrNotFound) {
		t.Fatalf("err = %v, want ErrRepoNotFound", err)
	}
}
