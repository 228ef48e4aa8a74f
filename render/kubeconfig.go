package render

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Access is how mcp may reach clusters. The operator decides it with
// flags and mounted files; nothing in the config repo widens it, so that a
// pull request cannot point mcp at a kubeconfig or a service account the
// operator did not hand it.
type Access struct {
	// CredentialsDir holds one kubeconfig per cluster. It is required:
	// without it a kubeconfig path from the repo would be read relative to
	// the working directory.
	CredentialsDir string
	// AllowInCluster lets Clusters with spec.inCluster reach the cluster
	// mcp runs in with mcp's own service account. Without it such a
	// Cluster cannot be reached.
	AllowInCluster bool
}

// Errors of reaching a cluster; each is wrapped in an *Error naming the
// Cluster's file, line and name.
var (
	// ErrNoCredentialsDir: a kubeconfig was asked for without a
	// credentials directory.
	ErrNoCredentialsDir = errors.New("no credentials directory")
	// ErrInClusterNotAllowed: a Cluster says spec.inCluster and the
	// operator did not allow it.
	ErrInClusterNotAllowed = errors.New("in-cluster access not allowed")
)

// KubeconfigPath returns the absolute path of the cluster's kubeconfig
// below a.CredentialsDir, or "" for an in-cluster cluster that a allows.
// The path may not leave the directory: not lexically ("..", absolute)
// and, when the file exists, not through symlinks. Links that stay inside,
// like the "..data" links of a mounted Secret, are fine. Call it right
// before reading the file: the links may have changed since the render.
func (c Cluster) KubeconfigPath(a Access) (string, error) {
	if c.InCluster {
		if !a.AllowInCluster {
			return "", c.located(fmt.Errorf("spec.inCluster: %w: it would reach the cluster mcp runs in with mcp's own service account; the operator allows that with --allow-in-cluster", ErrInClusterNotAllowed))
		}
		return "", nil
	}
	if a.CredentialsDir == "" {
		return "", c.located(fmt.Errorf("kubeconfig %q: %w (--credentials-dir)", c.kubeconfigName(), ErrNoCredentialsDir))
	}
	return c.kubeconfigIn(a.CredentialsDir)
}

// checkKubeconfig is the render's check of the kubeconfig path: the
// lexical one always, the symlinks too when credentialsDir is given.
// Offline renders have no credentials directory, and spec.inCluster is
// for the commands that connect to allow or refuse.
func (c Cluster) checkKubeconfig(credentialsDir string) error {
	if c.InCluster {
		return nil
	}
	_, err := c.kubeconfigIn(credentialsDir)
	return err
}

// kubeconfigIn is the kubeconfig's absolute path below credentialsDir,
// checked; with no directory, only the lexical check is made and the
// path is "".
func (c Cluster) kubeconfigIn(credentialsDir string) (string, error) {
	p := c.kubeconfigName()
	fail := func(err error) (string, error) {
		return "", c.located(fmt.Errorf("kubeconfig %q: %w", p, err))
	}
	if !filepath.IsLocal(p) {
		return fail(fmt.Errorf("%w: the path must stay inside the credentials directory (no .., not absolute)", ErrEscapes))
	}
	if credentialsDir == "" {
		return "", nil
	}
	dir, err := filepath.Abs(credentialsDir)
	if err != nil {
		return fail(err)
	}
	full := filepath.Join(dir, p)
	if _, err := os.Lstat(full); errors.Is(err, fs.ErrNotExist) {
		return full, nil
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fail(err)
	}
	real, err := filepath.EvalSymlinks(full)
	if err != nil {
		return fail(err)
	}
	if !within(realDir, real) {
		return fail(fmt.Errorf("%w: a symlink leads out of the credentials directory %s", ErrEscapes, credentialsDir))
	}
	return full, nil
}

// kubeconfigName is the kubeconfig's path relative to the credentials
// directory: spec.kubeconfig.path, else the cluster's name.
func (c Cluster) kubeconfigName() string {
	if c.Kubeconfig.Path != "" {
		return c.Kubeconfig.Path
	}
	return c.Name
}

// located places err at the Cluster document.
func (c Cluster) located(err error) error {
	return &Error{File: c.File, Line: c.Line, Cluster: c.Name, Err: err}
}
