package git

import (
	"time"
)

// Options configure a git Source. Secrets are read from files, never given
// as values, so they cannot leak through flags, env dumps or logs.
type Options struct {
	// URL is the repo: https://, http://, ssh://, scp-like git@host:org/repo.git
	// or file://. Credentials in an https URL are used and then redacted.
	URL string
	// Branch is followed unless Ref pins the source; default "main".
	Branch string
	// Ref pins the source to a tag or a full commit SHA.
	Ref string
	// Path is the sub-directory holding the mcp documents.
	Path string
	// Username for https (default "git", which token logins accept) or the
	// ssh user when the URL names none.
	Username string
	// PasswordFile holds the https password or access token.
	PasswordFile string
	// SSHKeyFile holds the private key for ssh URLs.
	SSHKeyFile string
	// SSHKeyPassphraseFile holds the passphrase of SSHKeyFile, if any.
	SSHKeyPassphraseFile string
	// KnownHostsFile lists the accepted ssh host keys; default
	// ~/.ssh/known_hosts. Host keys are always verified.
	KnownHostsFile string
	// CacheDir keeps the clones between runs; default
	// os.UserCacheDir()/mcp.
	CacheDir string
	// Timeout bounds every network call (ls-remote, fetch).
	Timeout time.Duration
}

// DefaultOptions are the Options mcp starts from.
func DefaultOptions() Options {
	return Options{Branch: "main", Timeout: 2 * time.Minute}
}
