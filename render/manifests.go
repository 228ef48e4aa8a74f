package render

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
)

// isManifest reports whether a file below a placement path is read as
// plain manifests.
func isManifest(name string) bool {
	switch path.Ext(name) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// placementDocs reads the documents of a placement. They are the same for
// every cluster; substitution comes later, per cluster.
func (r *repo) placementDocs(ctx context.Context, p *Placement, lim Limits) ([]doc, error) {
	_, isDir, err := r.stat(p.Path)
	if err != nil {
		return nil, &Error{File: p.Path, Err: err}
	}
	if !isDir {
		if !isManifest(p.Path) {
			return nil, &Error{File: p.File, Line: p.Line, Err: fmt.Errorf("%w: spec.path %q is a file but not .yaml, .yml or .json", ErrInvalid, p.Path)}
		}
		return r.plainFile(p.Path)
	}
	return r.dirDocs(ctx, p.Path, lim)
}

// dirDocs reads a directory: a kustomization when it has one, else every
// manifest in it and below it. A subdirectory with a kustomization is built
// as one unit, so its kustomization.yaml and patches are not taken for
// manifests.
func (r *repo) dirDocs(ctx context.Context, dir string, lim Limits) ([]doc, error) {
	if r.kustomizationIn(dir) != "" {
		return r.kustomize(ctx, dir, lim)
	}
	names, err := r.fs.ReadDir(abs(dir))
	if err != nil {
		return nil, &Error{File: dir, Err: err}
	}
	slices.Sort(names)
	var docs []doc
	var errs []error
	for _, n := range names {
		p := path.Join(dir, n)
		var got []doc
		switch {
		case r.fs.IsDir(abs(p)):
			got, err = r.dirDocs(ctx, p, lim)
		case isManifest(n):
			got, err = r.plainFile(p)
		default:
			continue
		}
		docs = append(docs, got...)
		errs = append(errs, err)
	}
	errs = append(errs, r.skippedIn(dir)...)
	return docs, errors.Join(errs...)
}

// skippedIn reports the entries of dir that were not copied from disk and
// would have been read: manifests, symlinks out of the repo, devices.
func (r *repo) skippedIn(dir string) []error {
	var errs []error
	for p, err := range r.skipped {
		if path.Dir(p) != dir {
			continue
		}
		if isManifest(p) || !errors.Is(err, ErrTooLarge) {
			errs = append(errs, &Error{File: p, Err: err})
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errs
}

// plainFile reads one manifest file. mcp's own documents (Cluster,
// Placement) may sit among manifests and are left out.
func (r *repo) plainFile(file string) ([]doc, error) {
	data, err := r.manifest(file)
	if err != nil {
		var located *Error
		if errors.As(err, &located) {
			return nil, err
		}
		return nil, &Error{File: file, Err: err}
	}
	docs, err := decodeFile(file, data)
	out := docs[:0]
	for _, d := range docs {
		if d.enc = takeMark(&d, r.nonce); d.enc != "" {
			d.line = 0 // lines of the decrypted text, not of the file
		}
		if d.obj["apiVersion"] != APIVersion {
			d.bytes = int64(len(data) / len(docs))
			out = append(out, d)
		}
	}
	return out, err
}

// checkIdentity reports a document that cannot name an object.
func checkIdentity(obj map[string]any) error {
	var missing []string
	for _, f := range []string{"apiVersion", "kind"} {
		if s, _ := obj[f].(string); s == "" {
			missing = append(missing, f)
		}
	}
	meta, _ := obj["metadata"].(map[string]any)
	if s, _ := meta["name"].(string); s == "" {
		missing = append(missing, "metadata.name")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: the document has no %s", ErrInvalid, strings.Join(missing, ", "))
	}
	return nil
}
