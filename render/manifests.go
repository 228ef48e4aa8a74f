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
	docs, err := r.dirDocs(ctx, p.Path, lim)
	if len(docs) == 0 && err == nil {
		err = r.nothingToPlace(p)
	}
	return docs, err
}

// nothingToPlace reports a placement directory without a manifest or a
// kustomization in it: it would render nothing, and prune every object the
// placement applied before, because of a path that names the wrong
// directory or files of a kind mcp does not read.
func (r *repo) nothingToPlace(p *Placement) error {
	files, _ := r.files(p.Path)
	if slices.ContainsFunc(files, mayHoldManifests) {
		return nil // manifests without documents: left empty on purpose
	}
	fail := func(format string, args ...any) error {
		return &Error{File: p.File, Line: p.Line, Err: fmt.Errorf("%w: spec.path %s "+format, append([]any{ErrInvalid, p.Path}, args...)...)}
	}
	if len(files) == 0 {
		return fail("is an empty directory: there is nothing to place")
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = strings.TrimPrefix(f, p.Path+"/")
	}
	const show = 5
	list := strings.Join(names[:min(show, len(names))], ", ")
	if len(names) > show {
		list += fmt.Sprintf(" and %d more", len(names)-show)
	}
	holds := "holds 1 file, not a manifest"
	if len(files) > 1 {
		holds = fmt.Sprintf("holds %d files, none of them manifests", len(files))
	}
	return fail("%s (.yaml, .yml, .json) or a kustomization: %s", holds, list)
}

// dirDocs reads a directory: a kustomization when it has one, else every
// manifest in it and below it. A subdirectory with a kustomization is built
// as one unit, so its kustomization.yaml and patches are not taken for
// manifests.
func (r *repo) dirDocs(ctx context.Context, dir string, lim Limits) ([]doc, error) {
	if r.chartDirIn(dir) {
		return nil, &Error{File: path.Join(dir, "Chart.yaml"), Err: fmt.Errorf("%w: %s is a Helm chart: use spec.chart (path: %s) instead of spec.path", ErrInvalid, dir, dir)}
	}
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
	r.release(file)
	out := docs[:0]
	for _, d := range docs {
		if d.enc = takeMark(&d, r.nonce); d.enc != "" {
			d.line = 0 // lines of the decrypted text, not of the file
		}
		if d.obj["apiVersion"] != APIVersion {
			d.bytes = int64(len(data) / len(docs))
			d.settle()
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
