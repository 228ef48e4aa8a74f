package render

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
)

// kustomizationFiles are the names kustomize accepts, in its order.
var kustomizationFiles = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

// kustomizationIn returns the kustomization file of dir, "" when it has none.
func (r *repo) kustomizationIn(dir string) string {
	for _, n := range kustomizationFiles {
		p := path.Join(dir, n)
		if exists, isDir, _ := r.stat(p); exists && !isDir {
			return p
		}
	}
	return ""
}

// kustomize builds the kustomization in dir with the repo copy as the only
// filesystem. Before the build, every kustomization it includes is read
// the way kustomize reads it (inspect): anything kustomize would fetch or
// clone is refused, and so is a build that would expand past the limits.
// The build itself stops waiting when ctx is done; the inspection bounds
// what it can still cost.
func (r *repo) kustomize(ctx context.Context, dir string, lim Limits) ([]doc, error) {
	file := r.kustomizationIn(dir)
	in := &inspection{r: r, costs: map[string]cost{}}
	c, err := in.kustomization(dir)
	if err != nil {
		return nil, err
	}
	if c.objects > lim.objects() || c.bytes > lim.bytes() {
		return nil, &Error{File: file, Err: fmt.Errorf("%w: the kustomization expands to about %d objects and %d bytes; the limits are %d objects and %d bytes per cluster (--max-objects, --max-render-bytes)",
			ErrTooLarge, c.objects, c.bytes, lim.objects(), lim.bytes())}
	}
	// Encrypted resources are decrypted in the copy, so that kustomize
	// builds from the plain text.
	var encErrs []error
	for _, p := range in.files {
		if _, err := r.manifest(p); err != nil {
			encErrs = append(encErrs, err)
		}
	}
	if len(encErrs) > 0 {
		return nil, errors.Join(encErrs...)
	}

	type result struct {
		out []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		opts := krusty.MakeDefaultOptions() // plugins, helm and exec functions disabled
		m, err := krusty.MakeKustomizer(opts).Run(r.fs, abs(dir))
		if err != nil {
			done <- result{err: err}
			return
		}
		out, err := m.AsYaml()
		done <- result{out: out, err: err}
	}()
	var res result
	select {
	case <-ctx.Done():
		return nil, &Error{File: file, Err: fmt.Errorf("kustomize build stopped: %w", context.Cause(ctx))}
	case res = <-done:
	}
	if res.err != nil {
		errs := []error{&Error{File: file, Err: fmt.Errorf("%w: %v", ErrKustomize, res.err)}}
		// A file kustomize misses may be one render refused to copy.
		for p, skipErr := range r.skipped {
			if strings.Contains(res.err.Error(), path.Base(p)) {
				errs = append(errs, &Error{File: p, Err: skipErr})
			}
		}
		return nil, errors.Join(errs...)
	}
	// The output is built from files already within the limits; its lines
	// say nothing to a reader of the repo, so they are dropped.
	docs, err := decodeDocs(file, res.out)
	if err != nil {
		return nil, &Error{File: file, Err: fmt.Errorf("%w: output: %v", ErrKustomize, err)}
	}
	for i := range docs {
		docs[i].enc = takeMark(&docs[i], r.nonce)
		docs[i].line = 0
		docs[i].index = i
		docs[i].bytes = int64(len(res.out) / len(docs))
		docs[i].settle()
	}
	return docs, nil
}
