// Package git is a Source for a git repo (mcp --repo), built on go-git.
//
// The repo is kept as a shallow clone in the cache directory between polls
// and runs. A poll first asks the remote for the branch head (ls-remote) and
// fetches only when it moved; the fetch is incremental. With Ref set the
// source is pinned to a tag or commit and never polls again.
//
// Credentials come from files and never show: not in the clone's config,
// not in errors (the URL is always Redacted), not in logs. go-git's errors
// are translated here into the sentinel errors of package source:
//
//	opts := git.DefaultOptions()
//	opts.URL = "https://gitlab.example.com/platform/fleet.git"
//	opts.PasswordFile = "/etc/mcp/git/token"
//	src, err := git.New(opts)
//	snap, changed, err := src.Fetch(ctx)
//	// err: "authentication failed for https://gitlab.example.com/platform/fleet.git"
//	// errors.Is(err, source.ErrAuthentication) == true
package git
