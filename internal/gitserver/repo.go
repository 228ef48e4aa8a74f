package gitserver

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Root is a directory of bare repos, served by HTTP and SSH servers.
type Root struct {
	t testing.TB
	// Dir holds <name>.git for every repo.
	Dir string
	// home is HOME for every git command, so that the user's git config
	// cannot change what the tests see.
	home string
}

// NewRoot makes an empty root in a test temp dir. It fails the test with a
// clear message when git is not installed.
func NewRoot(t testing.TB) *Root {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Fatalf("gitserver needs the git command line tool: %v", err)
	}
	return &Root{t: t, Dir: t.TempDir(), home: t.TempDir()}
}

// env is the environment of every git process the servers and helpers run.
func (r *Root) env() []string {
	return append(os.Environ(),
		"HOME="+r.home,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=test", "GIT_AUTHOR_EMAIL=test@localhost",
		"GIT_COMMITTER_NAME=test", "GIT_COMMITTER_EMAIL=test@localhost",
	)
}

// Repo is one bare repo below a Root.
type Repo struct {
	root *Root
	// Name is the repo's name without ".git"; URLs end in <Name>.git.
	Name string
	// Dir is the bare repo.
	Dir string
}

// Init creates the bare repo <name>.git with default branch main. It
// serves pushes over HTTP and commits by SHA, as GitHub and GitLab do.
func (r *Root) Init(name string) *Repo {
	r.t.Helper()
	repo := &Repo{root: r, Name: name, Dir: filepath.Join(r.Dir, name+".git")}
	r.git("", nil, "init", "-q", "--bare", "--initial-branch=main", repo.Dir)
	repo.SetConfig("http.receivepack", "true")
	repo.SetConfig("uploadpack.allowReachableSHA1InWant", "true")
	return repo
}

// SetConfig sets a git config key of the repo.
func (p *Repo) SetConfig(key, value string) {
	p.root.t.Helper()
	p.root.git(p.Dir, nil, "config", key, value)
}

// FileURL is the repo's file:// URL.
func (p *Repo) FileURL() string { return "file://" + filepath.ToSlash(p.Dir) }

// Commit writes files (path → content) and removes paths on branch,
// creating the branch if needed, and returns the new commit's SHA. It
// works on the bare repo directly, as a push would.
func (p *Repo) Commit(branch, msg string, files map[string]string, remove ...string) string {
	p.root.t.Helper()
	index := filepath.Join(p.root.home, "index-"+p.Name)
	defer os.Remove(index)
	env := []string{"GIT_INDEX_FILE=" + index}

	parent, hasParent := p.Rev(branch)
	if hasParent {
		p.root.git(p.Dir, env, "read-tree", parent)
	} else {
		p.root.git(p.Dir, env, "read-tree", "--empty")
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		blob := p.root.gitStdin(p.Dir, files[name], "hash-object", "-w", "--stdin")
		p.root.git(p.Dir, env, "update-index", "--add", "--cacheinfo", "100644,"+blob+","+name)
	}
	if len(remove) > 0 {
		// A zero mode and hash removes the entry; --force-remove would
		// want a work tree.
		var lines strings.Builder
		for _, name := range remove {
			lines.WriteString("0 0000000000000000000000000000000000000000\t" + name + "\n")
		}
		p.root.runEnv(p.Dir, env, lines.String(), "update-index", "--index-info")
	}
	tree := p.root.git(p.Dir, env, "write-tree")
	args := []string{"commit-tree", tree, "-m", msg}
	if hasParent {
		args = append(args, "-p", parent)
	}
	commit := p.root.git(p.Dir, env, args...)
	p.root.git(p.Dir, nil, "update-ref", "refs/heads/"+branch, commit)
	return commit
}

// Tag tags rev; an annotated tag when annotated is true.
func (p *Repo) Tag(name, rev string, annotated bool) {
	p.root.t.Helper()
	if annotated {
		p.root.git(p.Dir, nil, "tag", "-a", "-m", "tag "+name, name, rev)
		return
	}
	p.root.git(p.Dir, nil, "tag", name, rev)
}

// Rev returns the commit rev (a branch, tag or SHA) points at.
func (p *Repo) Rev(rev string) (string, bool) {
	cmd := exec.Command("git", "rev-parse", "--verify", "-q", rev+"^{commit}")
	cmd.Dir, cmd.Env = p.Dir, p.root.env()
	out, err := cmd.Output()
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(string(out)), true
}

// File returns the content of path at rev, as the server holds it.
func (p *Repo) File(rev, path string) string {
	p.root.t.Helper()
	return p.root.git(p.Dir, nil, "show", rev+":"+path)
}

func (r *Root) git(dir string, env []string, args ...string) string {
	r.t.Helper()
	return r.run(dir, env, nil, args...)
}

func (r *Root) gitStdin(dir, stdin string, args ...string) string {
	r.t.Helper()
	return r.run(dir, nil, strings.NewReader(stdin), args...)
}

func (r *Root) runEnv(dir string, env []string, stdin string, args ...string) string {
	r.t.Helper()
	return r.run(dir, env, strings.NewReader(stdin), args...)
}

func (r *Root) run(dir string, env []string, stdin *strings.Reader, args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(r.env(), env...)
	if stdin != nil {
		cmd.Stdin = stdin
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		r.t.Fatalf("git %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out))
}

// String names the root for failure messages.
func (r *Root) String() string { return fmt.Sprintf("gitserver root %s", r.Dir) }
