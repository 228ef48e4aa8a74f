package render

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/api/types"
)

// cost is what a kustomization would produce, counted before it is built.
type cost struct{ objects, bytes int64 }

func (c *cost) add(o cost) { c.objects += o.objects; c.bytes += o.bytes }

// fileCost is what a file of documents costs: one object per document
// (counted by separators, not parsed) and its bytes.
func fileCost(data []byte) cost {
	return cost{objects: int64(bytes.Count(data, []byte("\n---")) + 1), bytes: int64(len(data))}
}

// inspection reads kustomizations the way kustomize does, before kustomize
// does: with kustomize's own decoder (keys in any case, YAML tags decoded),
// so that what is checked is what would be loaded. Every file reference
// must name a file of the repo; a URL or git address, in any field, is
// refused. Each kustomization is read once and its cost remembered, so
// overlays that include a base many times are counted, not built.
type inspection struct {
	r     *repo
	costs map[string]cost
	busy  []string // kustomizations being inspected, to stop at cycles
	// files are the resource files the build reads, which may be encrypted.
	files []string
}

// kustomization inspects the kustomization in dir and those it includes.
func (in *inspection) kustomization(dir string) (cost, error) {
	if c, ok := in.costs[dir]; ok {
		return c, nil
	}
	for _, b := range in.busy {
		if b == dir {
			return cost{}, nil // a cycle: kustomize reports it
		}
	}
	in.busy = append(in.busy, dir)
	defer func() { in.busy = in.busy[:len(in.busy)-1] }()

	file := in.r.kustomizationIn(dir)
	if file == "" {
		return cost{}, &Error{File: dir, Err: fmt.Errorf("%w: no kustomization.yaml in this directory", ErrNotFound)}
	}
	data, err := in.r.readFile(file)
	if err != nil {
		return cost{}, &Error{File: file, Err: err}
	}
	if err := refuseTags(file, data); err != nil {
		return cost{}, err
	}
	var k types.Kustomization
	if err := k.Unmarshal(data); err != nil {
		return cost{}, &Error{File: file, Err: fmt.Errorf("%w: %s", ErrKustomize, plainJSONError(err))}
	}
	if deprecated := k.CheckDeprecatedFields(); deprecated != nil {
		for _, msg := range *deprecated {
			in.r.warnings = append(in.r.warnings, deprecationWarning(file, data, msg))
		}
	}
	k.FixKustomization()

	var c cost
	var errs []error
	check := func(field, ref string, got cost, err error) {
		var located *Error
		switch {
		case errors.As(err, &located):
			errs = append(errs, err) // about another file, which it names
		case err != nil:
			errs = append(errs, &Error{File: file, Err: fmt.Errorf("%s: %q: %w", field, ref, err)})
		}
		c.add(got)
	}
	if len(k.HelmCharts) > 0 || len(k.HelmChartInflationGenerator) > 0 || k.HelmGlobals != nil {
		errs = append(errs, &Error{File: file, Err: fmt.Errorf("%w: helmCharts: kustomize's Helm support runs the helm program, which render never does; render the chart with a Placement's spec.chart instead (docs/repo-format.md)", ErrInvalid)})
	}
	for _, s := range k.Resources {
		got, err := in.resource(dir, s, true)
		check("resources", s, got, err)
	}
	for _, s := range k.Components {
		got, err := in.resource(dir, s, false)
		check("components", s, got, err)
	}
	for _, f := range []fileRefs{{"generators", k.Generators}, {"transformers", k.Transformers}, {"validators", k.Validators}} {
		for _, s := range f.refs {
			got, err := in.plugin(dir, file, s)
			check(f.field, s, got, err)
		}
	}
	files := []fileRefs{{"crds", k.Crds}, {"configurations", k.Configurations}}
	add := func(field, ref string) { files = append(files, fileRefs{field, []string{ref}}) }
	for _, p := range k.PatchesStrategicMerge {
		// kustomize takes an entry that names no file for an inline patch.
		if s := string(p); !strings.Contains(s, "\n") && (looksRemote(s) || in.exists(dir, s)) {
			add("patchesStrategicMerge", s)
		}
	}
	for _, p := range append(k.Patches, k.PatchesJson6902...) {
		if p.Path != "" {
			add("patches", p.Path)
		}
	}
	for _, rf := range k.Replacements {
		if rf.Path != "" {
			add("replacements", rf.Path)
		}
	}
	if p, ok := k.OpenAPI["path"]; ok {
		add("openapi", p)
	}
	gens := make([]types.GeneratorArgs, 0, len(k.ConfigMapGenerator)+len(k.SecretGenerator))
	for _, g := range k.ConfigMapGenerator {
		gens = append(gens, g.GeneratorArgs)
	}
	for _, g := range k.SecretGenerator {
		gens = append(gens, g.GeneratorArgs)
	}
	for _, g := range gens {
		c.objects++
		for _, s := range g.FileSources {
			if _, p, ok := strings.Cut(s, "="); ok {
				s = p
			}
			add("files", s)
		}
		files = append(files, fileRefs{"envs", g.EnvSources})
		if g.EnvSource != "" {
			add("env", g.EnvSource)
		}
	}
	for _, f := range files {
		for _, s := range f.refs {
			got, err := in.file(dir, s)
			check(f.field, s, cost{bytes: int64(len(got))}, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return cost{}, err
	}
	in.costs[dir] = c
	return c, nil
}

// fileRefs are the references of one kustomization field.
type fileRefs struct {
	field string
	refs  []string
}

// resource inspects an entry of resources (a file or a kustomization) or
// of components (a kustomization).
func (in *inspection) resource(dir, ref string, fileOK bool) (cost, error) {
	p, isDir, err := in.local(dir, ref)
	if err != nil {
		return cost{}, err
	}
	if isDir {
		return in.kustomization(p)
	}
	if !fileOK {
		return cost{}, fmt.Errorf("%w: a component is a directory with a kustomization", ErrInvalid)
	}
	in.files = append(in.files, p)
	data, err := in.r.readFile(p)
	if err != nil {
		return cost{}, err
	}
	return fileCost(data), nil
}

// plugin inspects an entry of generators, transformers or validators: a
// configuration inline, in a file, or built by a kustomization.
func (in *inspection) plugin(dir, file, ref string) (cost, error) {
	if strings.Contains(ref, "\n") {
		errs := flatten(remoteIn(file, []byte(ref)))
		for _, err := range errs {
			if e, ok := err.(*Error); ok {
				e.Line = 0 // a line of the inline text, not of the file
			}
		}
		return cost{objects: 1, bytes: int64(len(ref))}, errors.Join(errs...)
	}
	p, isDir, err := in.local(dir, ref)
	if err != nil {
		return cost{}, err
	}
	if isDir {
		return in.kustomization(p)
	}
	data, err := in.r.readFile(p)
	if err != nil {
		return cost{}, err
	}
	return fileCost(data), remoteIn(p, data)
}

// file checks a reference to a file kustomize loads and returns its content.
func (in *inspection) file(dir, ref string) ([]byte, error) {
	p, isDir, err := in.local(dir, ref)
	if err != nil {
		return nil, err
	}
	if isDir {
		return nil, fmt.Errorf("%w: is a directory, not a file", ErrInvalid)
	}
	return in.r.readFile(p)
}

// local resolves ref, written in the kustomization of dir, to a path of
// the repo that exists.
func (in *inspection) local(dir, ref string) (p string, isDir bool, err error) {
	if looksRemote(ref) {
		return "", false, fmt.Errorf("%w: a remote reference: mcp builds only from the repo; vendor it into the repo", ErrEscapes)
	}
	if strings.TrimSpace(ref) == "" || path.IsAbs(ref) {
		return "", false, fmt.Errorf("%w: not a path relative to the kustomization", ErrInvalid)
	}
	p = path.Join(dir, ref)
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", false, fmt.Errorf("%w: the path leaves the repo", ErrEscapes)
	}
	exists, isDir, err := in.r.stat(p)
	if err != nil {
		return "", false, &Error{File: p, Err: err} // a file render refused to copy
	}
	if !exists {
		return "", false, fmt.Errorf("%w: no such file or directory in the repo", ErrNotFound)
	}
	return p, isDir, nil
}

func (in *inspection) exists(dir, ref string) bool {
	_, _, err := in.local(dir, ref)
	return err == nil
}

// refuseTags refuses explicit YAML tags (!!binary, !!str, custom ones) in a
// file kustomize reads as configuration: a tag makes what a reviewer sees
// differ from what is loaded.
func refuseTags(file string, data []byte) error {
	var errs []error
	walkNodes(data, func(n *yaml.Node) {
		if n.Style&yaml.TaggedStyle != 0 {
			errs = append(errs, &Error{File: file, Line: n.Line, Err: fmt.Errorf("%w: YAML tag %s: kustomize configuration may not carry tags", ErrInvalid, n.Tag)})
		}
	})
	return errors.Join(errs...)
}

// remoteIn refuses a plugin configuration that holds a URL or a git
// address anywhere, or a YAML tag: kustomize's built-in generators and
// transformers load the files their configurations name.
func remoteIn(file string, data []byte) error {
	if err := refuseTags(file, data); err != nil {
		return err
	}
	var errs []error
	walkNodes(data, func(n *yaml.Node) {
		if n.Kind != yaml.ScalarNode {
			return
		}
		s := n.Value
		if _, v, ok := strings.Cut(s, "="); ok {
			s = v
		}
		if looksRemote(n.Value) || looksRemote(s) {
			errs = append(errs, &Error{File: file, Line: n.Line, Err: fmt.Errorf("%w: remote reference %q: mcp builds only from the repo; vendor it into the repo", ErrEscapes, n.Value)})
		}
	})
	return errors.Join(errs...)
}

// walkNodes calls fn on every node of every document of data. Syntax
// errors are left to the decoder that reads the file for real.
func walkNodes(data []byte, fn func(*yaml.Node)) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		fn(n)
		for _, c := range n.Content {
			walk(c)
		}
	}
	for {
		var n yaml.Node
		if dec.Decode(&n) != nil {
			return
		}
		walk(&n)
	}
}

var (
	scpUser   = regexp.MustCompile(`^[a-z][a-z0-9-]*@`)
	urlScheme = regexp.MustCompile(`^(https?|ssh|file|git|ftps?|s3|gs|oci):`)
)

// looksRemote reports whether kustomize could take s for a URL or a git
// repository (api/internal/git.NewRepoSpecFromURL, loader.IsRemoteFile),
// erring on the side of remote: any "://", a URL scheme, user@host.
func looksRemote(s string) bool {
	if strings.Contains(s, "\n") {
		return false // an inline generator or transformer config
	}
	l := strings.ToLower(strings.TrimSpace(s))
	l = strings.TrimPrefix(l, "git::")
	if strings.Contains(l, "://") || scpUser.MatchString(l) || urlScheme.MatchString(l) {
		return true
	}
	return strings.HasPrefix(l, "github.com/") || strings.HasPrefix(l, "github.com:")
}

var quotedField = regexp.MustCompile(`'(\w+)' is deprecated`)

// deprecationWarning turns a warning kustomize would print to stderr,
// unattributed, into one naming the kustomization and the field's line.
func deprecationWarning(file string, data []byte, msg string) string {
	msg = strings.TrimPrefix(msg, "# Warning: ")
	line := 0
	if m := quotedField.FindStringSubmatch(msg); m != nil {
		walkNodes(data, func(n *yaml.Node) {
			if line == 0 && n.Kind == yaml.MappingNode {
				for i := 0; i+1 < len(n.Content); i += 2 {
					if strings.EqualFold(n.Content[i].Value, m[1]) {
						line = n.Content[i].Line
					}
				}
			}
		})
	}
	if line > 0 {
		return fmt.Sprintf("%s:%d: kustomize: %s", file, line, msg)
	}
	return fmt.Sprintf("%s: kustomize: %s", file, msg)
}
