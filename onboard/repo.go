package onboard

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"sigs.k8s.io/yaml"
)

// ClusterFile is where a cluster's document is written, relative to the
// repo root.
func ClusterFile(name string) string { return filepath.Join("clusters", name+".yaml") }

// ClusterDocument is the Cluster document of a cluster: its labels, vars
// and the Kubernetes version it runs. Its kubeconfig is the default,
// <credentials-dir>/<name>.
func ClusterDocument(name string, labels, vars map[string]string, kubernetesVersion string) ([]byte, error) {
	meta := map[string]any{"name": name}
	if len(labels) > 0 {
		meta["labels"] = labels
	}
	spec := map[string]any{}
	if kubernetesVersion != "" {
		spec["kubernetesVersion"] = kubernetesVersion
	}
	if len(vars) > 0 {
		spec["vars"] = vars
	}
	doc := map[string]any{"apiVersion": "mcp.dev/v1alpha1", "kind": "Cluster", "metadata": meta}
	if len(spec) > 0 {
		doc["spec"] = spec
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		return nil, err
	}
	head := "# Written by mcp cluster add. mcp reaches the cluster with the kubeconfig\n# <credentials-dir>/" + name + ", which is never in this repo.\n"
	return append([]byte(head), out...), nil
}

// WriteFile writes data to path with mode perm unless it holds data
// already; it reports whether it wrote.
func WriteFile(path string, data []byte, perm fs.FileMode) (bool, error) {
	old, err := os.ReadFile(path)
	if err == nil && bytes.Equal(old, data) {
		fi, serr := os.Stat(path)
		if serr == nil && fi.Mode().Perm() == perm {
			return false, nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return false, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return false, err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Close(); err != nil {
		return false, err
	}
	return true, os.Rename(tmp.Name(), path)
}

// Committer commits one file of a repo's work tree on a branch of its own.
type Committer struct {
	repo   *git.Repository
	wt     *git.Worktree
	branch plumbing.ReferenceName
	rel    string
}

// ErrBranchExists means the branch to commit on exists and is not checked
// out: a commit there would mix with other work.
var ErrBranchExists = errors.New("branch exists")

// NewCommitter checks, before anything is written, that file (below dir)
// can be committed alone on branch: dir is in a git work tree, nothing is
// staged, and branch does not exist or is the one checked out.
func NewCommitter(dir, file, branch string) (*Committer, error) {
	repo, err := git.PlainOpenWithOptions(dir, &git.PlainOpenOptions{DetectDotGit: true})
	if err != nil {
		return nil, fmt.Errorf("--commit: %s: %w", dir, err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		return nil, fmt.Errorf("--commit: %s: %w", dir, err)
	}
	abs, err := filepath.Abs(filepath.Join(dir, file))
	if err != nil {
		return nil, err
	}
	root, err := filepath.EvalSymlinks(wt.Filesystem.Root())
	if err != nil {
		return nil, err
	}
	absDir, err := filepath.EvalSymlinks(filepath.Dir(abs))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	if err != nil { // clusters/ does not exist yet
		parent, perr := filepath.EvalSymlinks(filepath.Dir(filepath.Dir(abs)))
		if perr != nil {
			return nil, perr
		}
		absDir = filepath.Join(parent, filepath.Base(filepath.Dir(abs)))
	}
	rel, err := filepath.Rel(root, filepath.Join(absDir, filepath.Base(abs)))
	if err != nil {
		return nil, err
	}
	c := &Committer{repo: repo, wt: wt, branch: plumbing.NewBranchReferenceName(branch), rel: filepath.ToSlash(rel)}
	st, err := wt.Status()
	if err != nil {
		return nil, fmt.Errorf("--commit: git status: %w", err)
	}
	for path, s := range st {
		if s.Staging != git.Unmodified && s.Staging != git.Untracked && path != c.rel {
			return nil, fmt.Errorf("--commit: %s is staged: commit or unstage it first, so that the commit holds %s alone", path, c.rel)
		}
	}
	head, err := repo.Head()
	if err != nil {
		return nil, fmt.Errorf("--commit: %s has no commit to branch from: %w", dir, err)
	}
	if _, err := repo.Reference(c.branch, false); err == nil && head.Name() != c.branch {
		return nil, fmt.Errorf("--commit: %w: %s (check it out to run again, or delete it)", ErrBranchExists, branch)
	}
	return c, nil
}

// Commit checks out the branch (made from HEAD, keeping the work tree)
// and commits the file's state (written or removed); it returns the new
// commit, or "" when the branch holds that state already.
func (c *Committer) Commit(message string) (string, error) {
	head, err := c.repo.Head()
	if err != nil {
		return "", err
	}
	if head.Name() != c.branch {
		err := c.wt.Checkout(&git.CheckoutOptions{Branch: c.branch, Create: true, Keep: true, Hash: head.Hash()})
		if err != nil {
			return "", fmt.Errorf("--commit: create branch %s: %w", c.branch.Short(), err)
		}
	}
	if _, err := c.wt.Add(c.rel); err != nil {
		return "", fmt.Errorf("--commit: git add %s: %w", c.rel, err)
	}
	st, err := c.wt.Status()
	if err != nil {
		return "", err
	}
	// Status lists changed files only: one it does not list is committed
	// as it is.
	if s, ok := st[c.rel]; !ok || s.Staging == git.Unmodified {
		return "", nil
	}
	sig := c.signature()
	h, err := c.wt.Commit(message, &git.CommitOptions{Author: &sig, Committer: &sig})
	if err != nil {
		return "", fmt.Errorf("--commit: %w", err)
	}
	return h.String(), nil
}

// signature is the user of the repo's or the operator's git config, or
// mcp when there is none.
func (c *Committer) signature() object.Signature {
	sig := object.Signature{Name: "mcp", Email: "mcp@localhost", When: time.Now()}
	for _, scope := range []config.Scope{config.LocalScope, config.GlobalScope, config.SystemScope} {
		cfg, err := c.repo.ConfigScoped(scope)
		if err == nil && cfg.User.Name != "" && cfg.User.Email != "" {
			sig.Name, sig.Email = cfg.User.Name, cfg.User.Email
			break
		}
	}
	return sig
}
