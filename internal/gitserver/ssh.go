package gitserver

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SSH serves a Root over ssh on loopback: it runs git-upload-pack and
// git-receive-pack for exec requests from clients holding an authorized
// key, like a git host's ssh endpoint.
type SSH struct {
	t    testing.TB
	root *Root
	// Addr is host:port.
	Addr string
	// HostKey is the server's public host key.
	HostKey ssh.PublicKey

	config     *ssh.ServerConfig
	ln         net.Listener
	wg         sync.WaitGroup
	mu         sync.Mutex
	conns      map[net.Conn]struct{}
	closed     bool
	authorized []ssh.PublicKey
}

// NewSSH starts an ssh git server for root that lets in clients with one of
// the authorized keys; it stops when the test ends.
func NewSSH(t testing.TB, root *Root, authorized ...ssh.PublicKey) *SSH {
	t.Helper()
	_, hostPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("gitserver: %v", err)
	}
	signer, err := ssh.NewSignerFromKey(hostPriv)
	if err != nil {
		t.Fatalf("gitserver: %v", err)
	}
	s := &SSH{t: t, root: root, HostKey: signer.PublicKey(), conns: map[net.Conn]struct{}{}, authorized: authorized}
	s.config = &ssh.ServerConfig{PublicKeyCallback: s.checkKey}
	s.config.AddHostKey(signer)
	s.ln, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("gitserver: %v", err)
	}
	s.Addr = s.ln.Addr().String()
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.Close)
	return s
}

func (s *SSH) checkKey(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	for _, k := range s.authorized {
		if bytes.Equal(k.Marshal(), key.Marshal()) {
			return &ssh.Permissions{}, nil
		}
	}
	return nil, errors.New("key not authorized")
}

// RepoURL is the ssh:// clone URL of the repo called name, user git.
func (s *SSH) RepoURL(name string) string { return "ssh://git@" + s.Addr + "/" + name + ".git" }

// KnownHostsLine is the server's line for a known_hosts file.
func (s *SSH) KnownHostsLine() string {
	return knownhosts.Line([]string{knownhosts.Normalize(s.Addr)}, s.HostKey)
}

// WriteKnownHosts writes a known_hosts file listing the server and returns
// its path.
func (s *SSH) WriteKnownHosts(dir string) string {
	s.t.Helper()
	p := filepath.Join(dir, "known_hosts")
	if err := os.WriteFile(p, []byte(s.KnownHostsLine()+"\n"), 0o600); err != nil {
		s.t.Fatalf("gitserver: %v", err)
	}
	return p
}

// Close stops the server and drops its connections.
func (s *SSH) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.ln.Close()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *SSH) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.serveConn(c)
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
			c.Close()
		}()
	}
}

func (s *SSH) serveConn(c net.Conn) {
	_, chans, reqs, err := ssh.NewServerConn(c, s.config)
	if err != nil {
		return // a refused key or host key: the client sees why
	}
	go ssh.DiscardRequests(reqs)
	var wg sync.WaitGroup
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.serveSession(ch, chReqs)
		}()
	}
	wg.Wait()
}

func (s *SSH) serveSession(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	for req := range reqs {
		switch req.Type {
		case "env":
			req.Reply(true, nil) // GIT_PROTOCOL; we speak what git does
		case "exec":
			var payload struct{ Command string }
			if err := ssh.Unmarshal(req.Payload, &payload); err != nil {
				req.Reply(false, nil)
				return
			}
			cmd, err := s.command(payload.Command)
			if err != nil {
				req.Reply(false, nil)
				fmt.Fprintf(ch.Stderr(), "%v\n", err)
				sendExit(ch, 1)
				return
			}
			req.Reply(true, nil)
			sendExit(ch, s.run(cmd, ch))
			return
		default:
			req.Reply(false, nil)
		}
	}
}

// command parses "git-upload-pack '/name.git'" into the git process to run.
func (s *SSH) command(line string) (*exec.Cmd, error) {
	prog, arg, ok := strings.Cut(line, " ")
	if !ok || (prog != "git-upload-pack" && prog != "git-receive-pack") {
		return nil, fmt.Errorf("command %q not allowed", line)
	}
	rel := filepath.Clean(strings.TrimPrefix(strings.Trim(arg, `'"`), "/"))
	if !filepath.IsLocal(rel) {
		return nil, fmt.Errorf("repo %q not found", arg)
	}
	dir := filepath.Join(s.root.Dir, rel)
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("repo %q not found", arg)
	}
	cmd := exec.Command("git", strings.TrimPrefix(prog, "git-"), dir)
	cmd.Env = s.root.env()
	return cmd, nil
}

func (s *SSH) run(cmd *exec.Cmd, ch ssh.Channel) int {
	cmd.Stdout = ch
	cmd.Stderr = ch.Stderr()
	// Not cmd.Stdin = ch: Wait would wait for the client to close its side,
	// which it does only after it saw the exit status.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return 1
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(ch.Stderr(), "%v\n", err)
		return 1
	}
	go func() {
		io.Copy(stdin, ch)
		stdin.Close()
	}()
	if err := cmd.Wait(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		return 1
	}
	return 0
}

func sendExit(ch ssh.Channel, code int) {
	ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(code)}))
}

// GenerateKey makes an ed25519 client key: the private key as an OpenSSH
// PEM file's content (encrypted when passphrase is set) and the public key
// to authorize on the server.
func GenerateKey(t testing.TB, passphrase string) (privatePEM []byte, public ssh.PublicKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("gitserver: %v", err)
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "mcp test")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "mcp test", []byte(passphrase))
	}
	if err != nil {
		t.Fatalf("gitserver: %v", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatalf("gitserver: %v", err)
	}
	return pem.EncodeToMemory(block), sshPub
}
