package render

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// KubeconfigPath returns the absolute path of the cluster's kubeconfig
// below credentialsDir, or "" for an in-cluster cluster. The path may not
// leave the directory: not lexically ("..", absolute) and, when the file
// exists, not through symlinks. Links that stay inside, like the "..data"
// links of a mounted Secret, are fine. Call it again right before reading
// the file: the links may have changed since the render.
func (c Cluster) KubeconfigPath(credentialsDir string) (string, error) {
	if c.InCluster {
		return "", nil
	}
	p := c.Kubeconfig.Path
	if p == "" {
		p = c.Name
	}
	fail := func(err error) (string, error) {
		return "", &Error{File: c.File, Line: c.Line, Cluster: c.Name, Err: fmt.Errorf("kubeconfig %q: %w", p, err)}
	}
	if !filepath.IsLocal(p) {
		return fail(fmt.Errorf("%w: the path must stay inside the credentials directory (no .., not absolute)", ErrEscapes))
	}
	if credentialsDir == "" {
		return filepath.Clean(p), nil
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
