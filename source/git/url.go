package git

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/transport"
)

// repoURL is the --repo URL split into what is given to go-git (no
// credentials in it, so that they never reach the clone's config, go-git's
// errors or our logs) and the credentials it carried.
type repoURL struct {
	// clean is the URL without a password; it is stored in the clone.
	clean string
	// redacted is the URL for errors and logs: user:***@ when it had a
	// password.
	redacted string
	// user and password came from the URL, if it had them.
	user, password string
	// ssh is true for ssh:// and scp-like URLs.
	ssh bool
	// host and port are where an ssh URL points.
	host string
	port int
}

// scpLike matches git@host:org/repo.git, which url.Parse does not read.
var scpLike = regexp.MustCompile(`^(?:([^@/:]+)@)?([^@/:]+):([^/].*)?$`)

func parseURL(raw string) (repoURL, error) {
	if raw == "" {
		return repoURL{}, fmt.Errorf("no repo URL given")
	}
	if m := scpLike.FindStringSubmatch(raw); m != nil && !strings.Contains(raw, "://") {
		u := repoURL{clean: raw, redacted: raw, user: m[1], ssh: true, host: m[2], port: 22}
		if m[3] == "" || strings.Contains(m[3], "@") {
			// "user:password@host:path" reads as host "user"; refuse it
			// rather than guess, and never echo the password.
			return repoURL{}, fmt.Errorf("repo URL %s is not a valid ssh URL (use ssh://user@host/path with --git-ssh-key-file)", Redact(raw))
		}
		return u, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the whole input, which may hold a token.
		return repoURL{}, fmt.Errorf("repo URL %s is not a valid URL", Redact(raw))
	}
	out := repoURL{}
	switch u.Scheme {
	case "https", "http", "file":
	case "ssh", "git+ssh":
		out.ssh = true
	default:
		return repoURL{}, fmt.Errorf("repo URL %s: scheme %q is not one of https, http, ssh, file", Redact(raw), u.Scheme)
	}
	if u.User != nil {
		out.user = u.User.Username()
		out.password, _ = u.User.Password()
	}
	clean := *u
	if out.ssh && out.user != "" {
		clean.User = url.User(out.user)
	} else {
		clean.User = nil
	}
	out.clean = clean.String()
	out.redacted = Redact(raw)
	if out.ssh {
		ep, err := transport.NewEndpoint(out.clean)
		if err != nil {
			return repoURL{}, fmt.Errorf("repo URL %s: %w", out.redacted, err)
		}
		out.host, out.port = ep.Host, ep.Port
		if out.port == 0 {
			out.port = 22
		}
	}
	return out, nil
}

// Redact returns raw with any password replaced by "***", the only form in
// which mcp prints a repo URL.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err == nil && (u.Scheme == "" || u.Opaque != "") {
		err = errNotHierarchical
	}
	if err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			// Built by hand: url.UserPassword would escape the stars.
			return strings.Replace(u.String(), u.User.String()+"@", url.User(u.User.Username()).String()+":***@", 1)
		}
		return u.String()
	}
	if err == nil {
		return raw
	}
	// Not a URL we can read: hide everything between the scheme (if any)
	// and the last "@", where a password would sit.
	rest, scheme := raw, ""
	if i := strings.Index(raw, "://"); i >= 0 {
		scheme, rest = raw[:i+3], raw[i+3:]
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		if c := strings.Index(rest[:at], ":"); c >= 0 {
			return scheme + rest[:c] + ":***" + rest[at:]
		}
	}
	return raw
}

var errNotHierarchical = errors.New("not a scheme://host URL")

// cacheName is the clone's directory name below the cache dir: readable,
// and unique per URL (without credentials, which must not be on disk).
func (u repoURL) cacheName() string {
	sum := sha256.Sum256([]byte(u.clean))
	base := strings.TrimSuffix(path.Base(strings.TrimRight(u.clean, "/")), ".git")
	base = regexp.MustCompile(`[^A-Za-z0-9._-]+`).ReplaceAllString(base, "_")
	if base == "" || base == "." || base == ".." {
		base = "repo"
	}
	return base + "-" + hex.EncodeToString(sum[:8])
}
