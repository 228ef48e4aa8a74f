package render

import (
	"errors"
	"fmt"
	"path"
	"regexp"
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
// filesystem. Remote bases and URLs are refused before the build: kustomize
// would fetch them from the network, outside of the reviewed repo.
func (r *repo) kustomize(dir string) ([]doc, error) {
	file := r.kustomizationIn(dir)
	if err := r.checkLocal(dir, map[string]bool{}); err != nil {
		return nil, err
	}
	opts := krusty.MakeDefaultOptions() // plugins, helm and exec functions disabled
	m, err := krusty.MakeKustomizer(opts).Run(r.fs, abs(dir))
	if err != nil {
		errs := []error{&Error{File: file, Err: fmt.Errorf("%w: %v", ErrKustomize, err)}}
		// A file kustomize misses may be one render refused to copy.
		for p, skipErr := range r.skipped {
			if strings.Contains(err.Error(), path.Base(p)) {
				errs = append(errs, &Error{File: p, Err: skipErr})
			}
		}
		return nil, errors.Join(errs...)
	}
	out, err := m.AsYaml()
	if err != nil {
		return nil, &Error{File: file, Err: fmt.Errorf("%w: %v", ErrKustomize, err)}
	}
	// The output is built from files already within the limits; its lines
	// say nothing to a reader of the repo, so they are dropped.
	docs, err := decodeDocs(file, out)
	if err != nil {
		return nil, &Error{File: file, Err: fmt.Errorf("%w: output: %v", ErrKustomize, err)}
	}
	for i := range docs {
		docs[i].line = 0
		docs[i].index = i
	}
	return docs, nil
}

// fileKeys are the kustomization fields whose strings name files or
// kustomizations that kustomize loads (and would download if remote).
var fileKeys = map[string]bool{
	"resources": true, "bases": true, "components": true, "crds": true,
	"configurations": true, "generators": true, "transformers": true, "validators": true,
	"patchesStrategicMerge": true, "path": true, "files": true, "envs": true, "env": true,
}

// checkLocal refuses remote references in the kustomization of dir and in
// every local kustomization it includes.
func (r *repo) checkLocal(dir string, seen map[string]bool) error {
	if seen[dir] {
		return nil
	}
	seen[dir] = true
	file := r.kustomizationIn(dir)
	if file == "" {
		return nil
	}
	data, err := r.readFile(file)
	if err != nil {
		return &Error{File: file, Err: err}
	}
	docs, err := decodeFile(file, data)
	if err != nil {
		return err
	}
	var errs []error
	for _, d := range docs {
		walkStrings(d.obj, false, func(s string) {
			if looksRemote(s) {
				errs = append(errs, &Error{File: file, Err: fmt.Errorf("%w: remote reference %q: mcp builds only from the repo; vendor it into the repo", ErrEscapes, s)})
			}
		})
		for _, key := range []string{"resources", "bases", "components"} {
			entries, _ := d.obj[key].([]any)
			for _, e := range entries {
				s, _ := e.(string)
				sub := path.Join(dir, s)
				if s == "" || looksRemote(s) || !strings.HasPrefix(abs(sub), "/") {
					continue
				}
				if exists, isDir, _ := r.stat(sub); exists && isDir {
					errs = append(errs, r.checkLocal(sub, seen))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// walkStrings calls fn on every string below a key of fileKeys.
func walkStrings(v any, underFileKey bool, fn func(string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			walkStrings(x, underFileKey || fileKeys[k], fn)
		}
	case []any:
		for _, x := range v {
			walkStrings(x, underFileKey, fn)
		}
	case string:
		if underFileKey {
			// configMapGenerator files may be "key=path".
			if _, p, ok := strings.Cut(v, "="); ok && !strings.Contains(v, "\n") {
				fn(p)
			}
			fn(v)
		}
	}
}

var scpUser = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]*@`)

// looksRemote follows kustomize's own test for git repos and URLs
// (api/internal/git.NewRepoSpecFromURL, loader.IsRemoteFile).
func looksRemote(s string) bool {
	if strings.Contains(s, "\n") {
		return false // an inline generator or transformer config
	}
	l := strings.ToLower(strings.TrimSpace(s))
	l = strings.TrimPrefix(l, "git::")
	if strings.Contains(l, "://") || scpUser.MatchString(l) {
		return true
	}
	return strings.HasPrefix(l, "github.com/") || strings.HasPrefix(l, "github.com:")
}
