package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"github.com/spf13/pflag"

	"mcp.dev/mcp/source"
	"mcp.dev/mcp/source/dir"
	"mcp.dev/mcp/source/git"
)

// sourceOptions are the flags that say where the config repo comes from.
type sourceOptions struct {
	// dir is a checked-out directory; exclusive with repo.
	dir string
	// repo is a git URL; exclusive with dir.
	repo string
	// branch is followed unless ref pins the source.
	branch string
	// ref pins a git source to a tag or a full commit.
	ref string
	// path is the sub-directory holding the mcp documents.
	path string
	// gitUsername, gitPasswordFile: https credentials (the password or
	// token is read from the file, never passed as a value).
	gitUsername     string
	gitPasswordFile string
	// gitSSHKeyFile and gitSSHKeyPassphraseFile: ssh credentials.
	gitSSHKeyFile           string
	gitSSHKeyPassphraseFile string
	// gitKnownHostsFile lists the accepted ssh host keys.
	gitKnownHostsFile string
	// gitTimeout bounds every network call to the git server.
	gitTimeout time.Duration
	// cacheDir keeps clones between runs.
	cacheDir string

	// opened is the Source open returned, reused by snapshotAt so that one
	// process never works on the same clone through two Sources.
	opened source.Source
}

func (o *sourceOptions) addFlags(fs *pflag.FlagSet) {
	def := git.DefaultOptions()
	fs.StringVar(&o.dir, "dir", "", "read the config repo from this checked-out directory (exclusive with --repo)")
	fs.StringVar(&o.repo, "repo", "", "git URL of the config repo: https://, ssh://, git@host:org/repo.git or file://")
	fs.StringVar(&o.branch, "branch", def.Branch, "branch of --repo to follow")
	fs.StringVar(&o.ref, "ref", "", "pin --repo to this tag or full commit SHA instead of following --branch")
	fs.StringVar(&o.path, "path", "", "sub-directory of the repo holding the mcp documents")
	fs.StringVar(&o.gitUsername, "git-username", "", `user name for https (default "git") or ssh (default: the URL's user, else "git")`)
	fs.StringVar(&o.gitPasswordFile, "git-password-file", "", "file holding the https password or access token")
	fs.StringVar(&o.gitSSHKeyFile, "git-ssh-key-file", "", "file holding the ssh private key")
	fs.StringVar(&o.gitSSHKeyPassphraseFile, "git-ssh-key-passphrase-file", "", "file holding the passphrase of --git-ssh-key-file")
	fs.StringVar(&o.gitKnownHostsFile, "git-known-hosts-file", "", "known_hosts file the ssh host key is verified against (default ~/.ssh/known_hosts)")
	fs.DurationVar(&o.gitTimeout, "git-timeout", def.Timeout, "timeout of each network call to the git server")
	fs.StringVar(&o.cacheDir, "cache-dir", defaultCacheDir(), "directory where git clones and fetched Helm charts (charts/) are kept between runs")
}

// defaultCacheDir is the user's cache directory, or a temp directory for a
// user without a home (a scratch container).
func defaultCacheDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "mcp")
	}
	return filepath.Join(os.TempDir(), "mcp-cache")
}

// open validates the flags and returns the Source they describe.
func (o *sourceOptions) open(ctx context.Context) (source.Source, error) {
	_ = ctx // opening touches no network; the first Fetch does
	var (
		src source.Source
		err error
	)
	switch {
	case o.dir != "" && o.repo != "":
		return nil, errors.New("--dir and --repo exclude each other: give one")
	case o.dir == "" && o.repo == "":
		return nil, errors.New("no config repo: give --dir PATH or --repo URL")
	case o.dir != "":
		if o.ref != "" {
			return nil, errors.New("--ref pins a git source: it needs --repo, not --dir")
		}
		opts := dir.DefaultOptions()
		opts.Dir, opts.Path = o.dir, o.path
		src, err = dir.New(opts)
	default:
		if err := credentialsInURL(o.repo); err != nil {
			return nil, err
		}
		opts := git.DefaultOptions()
		opts.URL = o.repo
		opts.Branch = o.branch
		opts.Ref = o.ref
		opts.Path = o.path
		opts.Username = o.gitUsername
		opts.PasswordFile = o.gitPasswordFile
		opts.SSHKeyFile = o.gitSSHKeyFile
		opts.SSHKeyPassphraseFile = o.gitSSHKeyPassphraseFile
		opts.KnownHostsFile = o.gitKnownHostsFile
		opts.CacheDir = o.cacheDir
		if o.gitTimeout > 0 {
			opts.Timeout = o.gitTimeout
		}
		src, err = git.New(opts)
	}
	if err != nil {
		return nil, err
	}
	o.opened = src
	return src, nil
}

// credentialsInURL refuses a --repo URL that carries a password or an
// access token: the process arguments (and MCP_REPO in the environment)
// can be read by anyone on the host who can list processes. Credentials
// are passed as files. A user name alone, like the git of
// git@host:org/repo.git, is fine.
func credentialsInURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		// scp-like URLs do not parse as URLs: git.New reads them and
		// refuses user:password@host:path without echoing the password.
		return nil
	}
	instead := "--git-password-file (and --git-username)"
	if u.Scheme == "ssh" || u.Scheme == "git+ssh" {
		instead = "--git-ssh-key-file"
	}
	bare := *u
	bare.User = nil
	if _, ok := u.User.Password(); ok {
		return fmt.Errorf("--repo %s carries a password, which every user of this host can read in the process list: pass it in a file with %s", git.Redact(raw), instead)
	}
	if (u.Scheme == "https" || u.Scheme == "http") && looksLikeToken(u.User.Username()) {
		return fmt.Errorf("--repo %s carries an access token as its user name, which every user of this host can read in the process list: pass it in a file with %s", bare.String(), instead)
	}
	return nil
}

// tokenPrefixes start the access tokens of GitHub, GitLab and Bitbucket.
var tokenPrefixes = []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "gldt-", "glrt-", "gloas-", "glptt-", "glcbt-", "ATBB", "ATCTT"}

// looksLikeToken reports a user name that is really a credential: a
// known token prefix, or a long random-looking string (user names are
// short and rarely mix cases and digits).
func looksLikeToken(user string) bool {
	for _, p := range tokenPrefixes {
		if strings.HasPrefix(user, p) {
			return true
		}
	}
	if len(user) >= 40 {
		return true
	}
	var upper, lower, digit bool
	for _, r := range user {
		upper = upper || unicode.IsUpper(r)
		lower = lower || unicode.IsLower(r)
		digit = digit || unicode.IsDigit(r)
	}
	return len(user) >= 20 && upper && lower && digit
}

// snapshotAt returns the config repo at git ref, for mcp diff --against; the
// caller runs cleanup when done with the snapshot.
func (o *sourceOptions) snapshotAt(ctx context.Context, ref string) (source.Snapshot, func(), error) {
	if ref == "" {
		return source.Snapshot{}, nil, errors.New("--against needs a git ref")
	}
	src := o.opened
	if src == nil {
		var err error
		if src, err = o.open(ctx); err != nil {
			return source.Snapshot{}, nil, err
		}
	}
	rs, ok := src.(source.RefSnapshotter)
	if !ok {
		return source.Snapshot{}, nil, fmt.Errorf("the source cannot read git ref %s", ref)
	}
	return rs.SnapshotAt(ctx, ref)
}
