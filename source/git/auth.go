package git

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"
)

// auth builds the credentials for one network call. Files are read every
// time, so that a rotated token or key (a re-mounted Secret) is picked up
// without a restart.
func (s *Source) auth() (transport.AuthMethod, error) {
	if s.url.ssh {
		return s.sshAuth()
	}
	password := s.url.password
	if s.opts.PasswordFile != "" {
		p, err := readSecret(s.opts.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("git password file: %w", err)
		}
		password = p
	}
	if password == "" {
		return nil, nil
	}
	user := s.opts.Username
	if user == "" {
		user = s.url.user
	}
	if user == "" {
		// GitHub and GitLab accept any non-empty user with a token.
		user = "git"
	}
	return &githttp.BasicAuth{Username: user, Password: password}, nil
}

func (s *Source) sshAuth() (transport.AuthMethod, error) {
	user := s.url.user
	if user == "" {
		user = s.opts.Username
	}
	if user == "" {
		user = "git"
	}
	db, err := gitssh.NewKnownHostsDb(s.knownHostsFiles()...)
	if err != nil {
		return nil, fmt.Errorf("known_hosts %s: %w", s.knownHostsName(), err)
	}
	hostKeys := gitssh.HostKeyCallbackHelper{
		HostKeyCallback: db.HostKeyCallback(),
		// Offer only the key types known_hosts holds for this host, so a
		// server with several host keys shows the one we can check.
		HostKeyAlgorithms: db.HostKeyAlgorithms(s.sshAddr()),
	}

	if s.opts.SSHKeyFile == "" {
		if os.Getenv("SSH_AUTH_SOCK") == "" {
			return nil, fmt.Errorf("ssh URL %s needs --git-ssh-key-file (or a running ssh-agent)", s.url.redacted)
		}
		agent, err := gitssh.NewSSHAgentAuth(user)
		if err != nil {
			return nil, fmt.Errorf("ssh-agent: %w", err)
		}
		agent.HostKeyCallbackHelper = hostKeys
		return &timeoutAuth{AuthMethod: agent, timeout: s.opts.Timeout}, nil
	}
	pem, err := os.ReadFile(s.opts.SSHKeyFile)
	if err != nil {
		return nil, fmt.Errorf("ssh key file: %w", err)
	}
	passphrase := ""
	if s.opts.SSHKeyPassphraseFile != "" {
		if passphrase, err = readSecret(s.opts.SSHKeyPassphraseFile); err != nil {
			return nil, fmt.Errorf("ssh key passphrase file: %w", err)
		}
	}
	keys, err := gitssh.NewPublicKeys(user, pem, passphrase)
	if err != nil {
		// x/crypto's messages name neither the key nor the passphrase.
		return nil, fmt.Errorf("ssh key file %s: %w", s.opts.SSHKeyFile, err)
	}
	keys.HostKeyCallbackHelper = hostKeys
	return &timeoutAuth{AuthMethod: keys, timeout: s.opts.Timeout}, nil
}

// timeoutAuth sets a dial and handshake timeout: go-git's ssh transport
// dials without the call's context, so this is what bounds a silent host.
type timeoutAuth struct {
	gitssh.AuthMethod
	timeout time.Duration
}

func (a *timeoutAuth) ClientConfig() (*ssh.ClientConfig, error) {
	cfg, err := a.AuthMethod.ClientConfig()
	if err != nil {
		return nil, err
	}
	cfg.Timeout = a.timeout
	return cfg, nil
}

// sshAddr is host:port as go-git dials it (and as known_hosts is asked),
// including a Hostname/Port override from ~/.ssh/config.
func (s *Source) sshAddr() string {
	host, port := s.url.host, s.url.port
	if cfg := gitssh.DefaultSSHConfig; cfg != nil {
		if h := cfg.Get(s.url.host, "Hostname"); h != "" {
			host = h
			if p, err := strconv.Atoi(cfg.Get(s.url.host, "Port")); err == nil {
				port = p
			}
		}
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

func (s *Source) knownHostsFiles() []string {
	if s.opts.KnownHostsFile != "" {
		return []string{s.opts.KnownHostsFile}
	}
	return nil // go-git's default: $SSH_KNOWN_HOSTS or ~/.ssh/known_hosts
}

// knownHostsName names the known_hosts file(s) in errors.
func (s *Source) knownHostsName() string {
	if s.opts.KnownHostsFile != "" {
		return s.opts.KnownHostsFile
	}
	if env := os.Getenv("SSH_KNOWN_HOSTS"); env != "" {
		return env
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".ssh", "known_hosts")
	}
	return "~/.ssh/known_hosts"
}

// readSecret reads a password, token or passphrase file; the trailing
// newline editors and `echo` add is not part of the secret.
func readSecret(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}
