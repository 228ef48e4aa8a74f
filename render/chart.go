package render

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chartloader "helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/ignore"
	"k8s.io/apimachinery/pkg/util/validation"
	sigsyaml "sigs.k8s.io/yaml"
)

// chartDoc is spec.chart of a Placement document.
type chartDoc struct {
	Path        string         `json:"path"`
	Repo        string         `json:"repo"`
	Name        string         `json:"name"`
	Version     string         `json:"version"`
	ReleaseName string         `json:"releaseName"`
	ValuesFiles []string       `json:"valuesFiles"`
	Values      map[string]any `json:"values"`
}

// Chart is a Placement's spec.chart: which Helm chart it renders and with
// what values.
type Chart struct {
	// Path is the chart's directory in the repo; "" for a remote chart.
	Path string
	// Repo is an https:// chart repository or an oci:// registry path;
	// Name the chart's name in it and Version an exact version or a
	// semver range.
	Repo, Name, Version string
	// ReleaseName is .Release.Name; it defaults to the Placement's name.
	ReleaseName string
	// ValuesFiles are repo paths, merged in order over the chart's
	// values.yaml; Values (spec.chart.values) is merged last.
	ValuesFiles []string
	// ResolvedName and ResolvedVersion are the name and version of the
	// chart that was rendered (Chart.yaml's), filled in by Render.
	ResolvedName, ResolvedVersion string

	values     *yaml.Node // spec.chart.values as written, substituted per cluster
	valuesFile string     // the Placement's file, for messages about values
}

// String names the chart in messages: "chart podinfo 6.14.1 (charts/podinfo)".
func (c *Chart) String() string {
	where := c.Path
	if where == "" {
		where = c.Ref().String()
	}
	if c.ResolvedName == "" {
		return "chart " + where
	}
	return fmt.Sprintf("chart %s %s (%s)", c.ResolvedName, c.ResolvedVersion, where)
}

// parseChart checks spec.chart. invalid is a mistake in the document;
// missing means the chart or a values file is not in the repo, which
// fails only the clusters the placement selects.
func parseChart(r *repo, d doc, cd *chartDoc, placement string) (c *Chart, invalid, missing error) {
	c = &Chart{Repo: cd.Repo, Name: cd.Name, Version: cd.Version, ReleaseName: cd.ReleaseName, valuesFile: d.file}
	if c.ReleaseName == "" {
		c.ReleaseName = placement
	}
	c.values = child(child(child(d.node, "spec"), "chart"), "values")
	var errs, gone []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: spec.chart."+format, append([]any{ErrInvalid}, args...)...))
	}
	switch {
	case cd.Path != "" && cd.Repo != "":
		bad("path and spec.chart.repo exclude each other")
	case cd.Path == "" && cd.Repo == "":
		bad("path (a chart directory in the repo) or spec.chart.repo is required")
	case cd.Path != "":
		if cd.Name != "" || cd.Version != "" {
			bad("name and version are for a chart from spec.chart.repo; a chart in the repo is named by its Chart.yaml")
		}
		p, err := localPath(cd.Path)
		if err != nil {
			errs = append(errs, fmt.Errorf("spec.chart.path: %w", err))
			break
		}
		c.Path = p
		switch exists, isDir, err := r.stat(p); {
		case err != nil:
			gone = append(gone, fmt.Errorf("spec.chart.path %q: %w", p, err))
		case !exists:
			gone = append(gone, fmt.Errorf("%w: spec.chart.path %q does not exist in the repo", ErrNotFound, p))
		case !isDir || !r.fs.Exists(abs(path.Join(p, "Chart.yaml"))):
			gone = append(gone, fmt.Errorf("%w: spec.chart.path %q is not a chart directory (no Chart.yaml in it)", ErrNotFound, p))
		}
	default:
		if !strings.HasPrefix(cd.Repo, "https://") && !strings.HasPrefix(cd.Repo, "oci://") {
			bad("repo %q: want an https:// chart repository or an oci:// registry (charts are always fetched over TLS)", cd.Repo)
		}
		if cd.Name == "" {
			bad("name (the chart's name in spec.chart.repo) is required")
		}
	}
	if msgs := validation.IsDNS1123Subdomain(c.ReleaseName); len(msgs) > 0 || len(c.ReleaseName) > 53 {
		bad("releaseName %q: a Helm release name is a DNS-1123 name of at most 53 characters", c.ReleaseName)
	}
	for i, f := range cd.ValuesFiles {
		p, err := localPath(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("spec.chart.valuesFiles[%d]: %w", i, err))
			continue
		}
		c.ValuesFiles = append(c.ValuesFiles, p)
		if exists, isDir, err := r.stat(p); err != nil || !exists || isDir {
			if err == nil {
				err = fmt.Errorf("%w: spec.chart.valuesFiles[%d] %q is not a file in the repo", ErrNotFound, i, p)
			}
			gone = append(gone, err)
		}
	}
	return c, errors.Join(errs...), errors.Join(gone...)
}

// child is the value of key in the mapping n, or nil.
func child(n *yaml.Node, key string) *yaml.Node {
	if n == nil {
		return nil
	}
	n = resolveAlias(n)
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return resolveAlias(n.Content[i+1])
		}
	}
	return nil
}

// loadedChart is a chart read once per render, with the values files of
// the placement parsed but not substituted.
type loadedChart struct {
	files  []*archive.BufferedFile
	name   string // the chart's name: the first element of its template paths
	digest string // of every file of the chart: the cache key's part
	values []doc  // one per values file, in order; nil entries are empty files
}

// loadChart reads the chart of p from the repo copy, .helmignore applied
// as helm does. It reads nothing outside the chart's directory, and no
// file makes it reach the network.
func (r *repo) loadChart(p *Placement, opts Options) (*loadedChart, error) {
	c := p.Chart
	var buffered []*archive.BufferedFile
	var digest string
	if c.Path == "" {
		res, files, err := cachedChart(c, opts)
		if err != nil {
			return nil, &Error{File: p.File, Line: p.Line, Err: err}
		}
		buffered, digest = files, res.Digest
	} else {
		files, err := r.chartFiles(c)
		if err != nil {
			return nil, err
		}
		buffered, digest = files, digestFiles(files)
	}
	ch, err := chartloader.LoadFiles(buffered)
	if err != nil {
		if c.Path == "" {
			return nil, &Error{File: p.File, Line: p.Line, Err: fmt.Errorf("%w: %s: %v", ErrChart, c, err)}
		}
		return nil, &Error{File: path.Join(c.Path, "Chart.yaml"), Err: fmt.Errorf("%w: %s: %v", ErrChart, c, err)}
	}
	if c.Path != "" {
		// Dependencies that are not vendored come from the chart cache.
		withDeps, err := withCachedDeps(c, buffered, ch, opts)
		if err != nil {
			return nil, &Error{File: path.Join(c.Path, "Chart.yaml"), Err: err}
		}
		if len(withDeps) > len(buffered) {
			buffered, digest = withDeps, digestFiles(withDeps)
		}
	}
	c.ResolvedName, c.ResolvedVersion = ch.Metadata.Name, ch.Metadata.Version
	lc := &loadedChart{files: buffered, name: ch.Metadata.Name, digest: digest}
	var errs []error
	for _, f := range c.ValuesFiles {
		data, err := r.readFile(f)
		if err != nil {
			errs = append(errs, &Error{File: f, Err: err})
			continue
		}
		docs, err := decodeFile(f, data)
		switch {
		case err != nil:
			errs = append(errs, err)
		case len(docs) > 1:
			errs = append(errs, &Error{File: f, Line: docs[1].line, Err: fmt.Errorf("%w: a values file holds one YAML document", ErrInvalid)})
		case len(docs) == 1:
			lc.values = append(lc.values, docs[0])
		}
	}
	return lc, errors.Join(errs...)
}

// chartFiles reads a chart directory of the repo, .helmignore applied.
func (r *repo) chartFiles(c *Chart) ([]*archive.BufferedFile, error) {
	files, skipErr := r.files(c.Path)
	if skipErr != nil {
		return nil, skipErr
	}
	rules := ignore.Empty()
	if data, err := r.readFile(path.Join(c.Path, ignore.HelmIgnore)); err == nil {
		if rules, err = ignore.Parse(strings.NewReader(string(data))); err != nil {
			return nil, &Error{File: path.Join(c.Path, ignore.HelmIgnore), Err: fmt.Errorf("%w: %v", ErrChart, err)}
		}
	}
	rules.AddDefaults()
	var buffered []*archive.BufferedFile
	for _, f := range files {
		rel := strings.TrimPrefix(f, c.Path+"/")
		if ignored(rules, rel) {
			continue
		}
		data, err := r.readFile(f)
		if err != nil {
			return nil, &Error{File: f, Err: err}
		}
		data = []byte(strings.TrimPrefix(string(data), "\xEF\xBB\xBF"))
		buffered = append(buffered, &archive.BufferedFile{Name: rel, Data: data})
	}
	return buffered, nil
}

// digestFiles is the digest of a chart's files: the cache key of its renders.
func digestFiles(files []*archive.BufferedFile) string {
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%d:%s\x00%d:", len(f.Name), f.Name, len(f.Data))
		h.Write(f.Data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ignored applies .helmignore rules to a chart-relative file and each of
// its directories, as helm's directory loader does while it walks.
func ignored(rules *ignore.Rules, rel string) bool {
	parts := strings.Split(rel, "/")
	for i := 1; i < len(parts); i++ {
		if rules.Ignore(strings.Join(parts[:i], "/"), fileInfo{name: parts[i-1], dir: true}) {
			return true
		}
	}
	return rules.Ignore(rel, fileInfo{name: parts[len(parts)-1]})
}

// fileInfo is what ignore.Rules looks at: a name and whether it is a directory.
type fileInfo struct {
	name string
	dir  bool
}

func (f fileInfo) Name() string { return f.name }
func (f fileInfo) Size() int64  { return 0 }
func (f fileInfo) Mode() fs.FileMode {
	if f.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}
func (f fileInfo) ModTime() time.Time { return time.Time{} }
func (f fileInfo) IsDir() bool        { return f.dir }
func (f fileInfo) Sys() any           { return nil }

var _ os.FileInfo = fileInfo{}

// chartValues computes a cluster's values: the values files in order,
// then spec.chart.values, each substituted for the cluster. Numbers come
// out as helm reads them (float64, through JSON), so that templates see
// the types they see under helm.
func (lc *loadedChart) chartValues(c *Chart, sc *scope) (map[string]any, []byte, error) {
	var errs []error
	merged := map[string]any{}
	add := func(file string, n *yaml.Node) {
		if n == nil {
			return
		}
		conv := converter{file: file, budget: maxValues, subst: sc.substitute, yaml11: true}
		v := conv.value(n)
		if err := errors.Join(conv.errs...); err != nil {
			errs = append(errs, err)
			return
		}
		m, ok := v.(map[string]any)
		if !ok && v != nil {
			errs = append(errs, &Error{File: file, Line: n.Line, Err: fmt.Errorf("%w: values must be a mapping", ErrInvalid)})
			return
		}
		merged = chartloader.MergeMaps(merged, m)
	}
	for _, d := range lc.values {
		add(d.file, d.node)
	}
	add(c.valuesFile, c.values)
	if err := errors.Join(errs...); err != nil {
		return nil, nil, err
	}
	data, err := json.Marshal(merged)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: values: %v", ErrInvalid, err)
	}
	var out map[string]any
	if err := sigsyaml.Unmarshal(data, &out); err != nil {
		return nil, nil, fmt.Errorf("%w: values: %v", ErrInvalid, err)
	}
	return out, data, nil
}

// chartDirIn reports whether dir holds a Chart.yaml: a chart placed as
// manifests, whose templates would each be a YAML error.
func (r *repo) chartDirIn(dir string) bool {
	return slices.ContainsFunc([]string{"Chart.yaml"}, func(n string) bool { return r.fs.Exists(abs(path.Join(dir, n))) })
}
