package git

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"mcp.dev/mcp/internal/gitserver"
	"mcp.dev/mcp/source"
)

type sshFixture struct {
	repo       *gitserver.Repo
	srv        *gitserver.SSH
	keyFile    string
	knownHosts string
}

func newSSHFixture(t *testing.T, passphrase string) *sshFixture {
	t.Helper()
	root := gitserver.NewRoot(t)
	key, pub := gitserver.GenerateKey(t, passphrase)
	srv := gitserver.NewSSH(t, root, pub)
	return &sshFixture{
		repo:       root.Init("fleet"),
		srv:        srv,
		keyFile:    writeFile(t, "id_ed25519", string(key)),
		knownHosts: srv.WriteKnownHosts(t.TempDir()),
	}
}

func (f *sshFixture) source(t *testing.T, edit func(*Options)) *Source {
	t.Helper()
	opts := DefaultOptions()
	opts.URL = f.srv.RepoURL("fleet")
	opts.SSHKeyFile = f.keyFile
	opts.KnownHostsFile = f.knownHosts
	opts.CacheDir = t.TempDir()
	if edit != nil {
		edit(&opts)
	}
	src, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return src
}

func TestSSHCloneAndFetch(t *testing.T) {
	f := newSSHFixture(t, "")
	first := f.repo.Commit("main", "first", map[string]string{"a.yaml": "a\n"})
	src := f.source(t, nil)
	if snap := mustFetch(t, src, true); snap.Revision != first {
		t.Fatalf("revision %s, want %s", snap.Revision, first)
	}
	mustFetch(t, src, false)
	second := f.repo.Commit("main", "second", map[string]string{"a.yaml": "b\n"})
	snap := mustFetch(t, src, true)
	if snap.Revision != second || readSnap(t, snap, "a.yaml") != "b\n" {
		t.Fatalf("after a new commit: %+v", snap)
	}
}

func TestSSHKeyWithPassphrase(t *testing.T) {
	f := newSSHFixture(t, "open sesame")
	rev := f.repo.Commit("main", "first", map[string]string{"a.yaml": "a\n"})
	pass := writeFile(t, "passphrase", "open sesame\n")
	snap := mustFetch(t, f.source(t, func(o *Options) { o.SSHKeyPassphraseFile = pass }), true)
	if snap.Revision != rev {
		t.Fatalf("revision %s, want %s", snap.Revision, rev)
	}

	wrong := writeFile(t, "passphrase", "guess\n")
	_, _, err := f.source(t, func(o *Options) { o.SSHKeyPassphraseFile = wrong }).Fetch(context.Background())
	if err == nil || !strings.Contains(err.Error(), f.keyFile) || strings.Contains(err.Error(), "guess") {
		t.Fatalf("wrong passphrase: err = %v, want one naming the key file and not the passphrase", err)
	}
}

func TestSSHUnauthorizedKey(t *testing.T) {
	f := newSSHFixture(t, "")
	f.repo.Commit("main", "first", map[string]string{"a.yaml": "a\n"})
	other, _ := gitserver.GenerateKey(t, "")
	otherFile := writeFile(t, "id_other", string(other))
	_, _, err := f.source(t, func(o *Options) { o.SSHKeyFile = otherFile }).Fetch(context.Background())
	if !errors.Is(err, source.ErrAuthentication) {
		t.Fatalf("err = %v, want ErrAuthentication", err)
	}
	if want := "authentication failed for " + f.srv.RepoURL("fleet"); err.Error() != want {
		t.Fatalf("err = %q, want %q", err, want)
	}
}

func TestSSHHostKeys(t *testing.T) {
	f := newSSHFixture(t, "")
	f.repo.Commit("main", "first", map[string]string{"a.yaml": "a\n"})

	// Another server's key under this server's address: a changed key.
	_, otherPub := gitserver.GenerateKey(t, "")
	wrongKey := writeFile(t, "known_hosts", knownhosts.Line([]string{knownhosts.Normalize(f.srv.Addr)}, otherPub)+"\n")
	// A known_hosts that lists some other host only.
	otherHost := writeFile(t, "known_hosts", knownhosts.Line([]string{"git.example.com"}, f.srv.HostKey)+"\n")

	for name, tc := range map[string]struct {
		file, want string
	}{
		"wrong host key": {file: wrongKey, want: "host key for " + f.srv.Addr + " does not match known_hosts " + wrongKey},
		"unknown host":   {file: otherHost, want: "host key for " + f.srv.Addr + " not in known_hosts " + otherHost},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := f.source(t, func(o *Options) { o.KnownHostsFile = tc.file }).Fetch(context.Background())
			if !errors.Is(err, source.ErrUnknownHostKey) {
				t.Fatalf("err = %v, want ErrUnknownHostKey", err)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("err = %q, want it to start with %q", err, tc.want)
			}
		})
	}

	_, _, err := f.source(t, func(o *Options) { o.KnownHostsFile = filepath.Join(t.TempDir(), "missing") }).Fetch(context.Background())
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("missing known_hosts file: err = %v", err)
	}
}

// sshConfig stands in for ~/.ssh/config: an scp-like URL cannot carry a port.
type sshConfig map[string]string

func (c sshConfig) Get(host, key string) string { return c[host+"/"+key] }

func TestSSHScpLikeURL(t *testing.T) {
	f := newSSHFixture(t, "")
	rev := f.repo.Commit("main", "first", map[string]string{"a.yaml": "a\n"})
	host, port, _ := net.SplitHostPort(f.srv.Addr)
	saved := gitssh.DefaultSSHConfig
	gitssh.DefaultSSHConfig = sshConfig{"gitserver/Hostname": host, "gitserver/Port": port}
	t.Cleanup(func() { gitssh.DefaultSSHConfig = saved })

	snap := mustFetch(t, f.source(t, func(o *Options) { o.URL = "git@gitserver:fleet.git" }), true)
	if snap.Revision != rev {
		t.Fatalf("revision %s, want %s", snap.Revision, rev)
	}
}

// silentServer accepts connections and never says a word.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

func TestTimeouts(t *testing.T) {
	addr := silentServer(t)
	f := newSSHFixture(t, "")
	knownHosts := writeFile(t, "known_hosts", knownhosts.Line([]string{knownhosts.Normalize(addr)}, f.srv.HostKey)+"\n")
	for name, url := range map[string]string{
		"http": "http://" + addr + "/fleet.git",
		"ssh":  "ssh://git@" + addr + "/fleet.git",
	} {
		t.Run(name, func(t *testing.T) {
			src := f.source(t, func(o *Options) {
				o.URL = url
				o.KnownHostsFile = knownHosts
				o.Timeout = 500 * time.Millisecond
			})
			start := time.Now()
			_, _, err := src.Fetch(context.Background())
			if err == nil || !strings.Contains(err.Error(), url) || !strings.Contains(err.Error(), "timed out after 500ms") {
				t.Fatalf("err = %v, want a timeout naming %s", err, url)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("a silent server held Fetch for %s with a 500ms timeout", d)
			}
		})
	}
}

func TestContextCancel(t *testing.T) {
	addr := silentServer(t)
	src, err := New(Options{URL: "http://" + addr + "/fleet.git", CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	_, _, err = src.Fetch(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Fetch returned %s after cancel", d)
	}
}

func TestMain(m *testing.M) {
	// A developer's own ssh-agent or known_hosts must not make tests pass.
	os.Unsetenv("SSH_AUTH_SOCK")
	os.Setenv("SSH_KNOWN_HOSTS", os.DevNull)
	os.Exit(m.Run())
}
