package render

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"helm.sh/helm/v4/pkg/chart/common"
	chartloader "helm.sh/helm/v4/pkg/chart/v2/loader"
	release "helm.sh/helm/v4/pkg/release/v1"

	"mcp.dev/mcp/internal/object"
)

// DefaultKubernetesVersion is the Kubernetes version a chart is rendered
// for when the cluster's own version is not known and its Cluster
// document has no spec.kubernetesVersion.
const DefaultKubernetesVersion = "1.35.0"

// Capabilities are what a caller connected to a cluster knows of it; a
// chart rendered for the cluster sees them as .Capabilities.
type Capabilities struct {
	// KubeVersion is the API server's version, "1.35.4"; "" falls back
	// to the Cluster's spec.kubernetesVersion.
	KubeVersion string
	// APIVersions are the group/versions ("apps/v1") and
	// group/version/kinds the API server serves, added to Helm's defaults.
	APIVersions []string
}

// The hook annotations of Helm that render reads.
const (
	hookAnnotation       = "helm.sh/hook"
	hookDeleteAnnotation = "helm.sh/hook-delete-policy"
	// ChartAnnotation names the chart and version an object was rendered
	// from: "podinfo@6.14.1".
	ChartAnnotation = "mcp.dev/chart"
)

// The waves hooks are placed in: pre-install and pre-upgrade hooks before
// the chart's objects, post-install and post-upgrade hooks after them.
const (
	preHookWave  = -1
	postHookWave = 1
)

func parseKubeVersion(v string) (*common.KubeVersion, error) {
	return common.ParseKubeVersion(v)
}

// chartRender is one render of a chart: its documents (hooks already
// placed in waves) or why it failed.
type chartRender struct {
	docs     []doc
	warnings []string
	err      error
}

// chartCache holds the renders of one Render: a chart rendered with the
// same values, release, namespace and capabilities is rendered once
// however many clusters receive it.
type chartCache struct {
	mu      sync.Mutex
	renders map[string]*chartRender
	// crds are those of the repo's manifests; a chart's output is checked
	// against them and its own.
	crds crdSchemas
	// count is how many renders ran, for tests and benchmarks.
	count int
}

func newChartCache(crds crdSchemas) *chartCache {
	return &chartCache{renders: map[string]*chartRender{}, crds: crds}
}

// render returns the chart's documents for one cluster's values, from
// the cache when the same inputs were rendered before.
func (cc *chartCache) render(ctx context.Context, lc *loadedChart, p *Placement, values map[string]any, valuesJSON []byte, caps Capabilities) *chartRender {
	h := sha256.New()
	for _, s := range append([]string{lc.digest, p.Chart.ReleaseName, p.Namespace, caps.KubeVersion, string(valuesJSON)}, caps.APIVersions...) {
		fmt.Fprintf(h, "%d:%s", len(s), s)
	}
	key := hex.EncodeToString(h.Sum(nil))
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if r, ok := cc.renders[key]; ok {
		return r
	}
	cc.count++
	r := renderChart(ctx, lc, p, values, caps)
	if r.err == nil {
		crds := cc.crds.with([][]doc{r.docs})
		var errs []error
		for _, d := range r.docs {
			errs = append(errs, checkSchema(d, crds).errs...)
		}
		if len(errs) > 0 {
			r.docs, r.err = nil, errors.Join(errs...)
		}
	}
	cc.renders[key] = r
	return r
}

// docs are the documents of every render that did not fail.
func (cc *chartCache) docs() [][]doc {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	var out [][]doc
	for _, key := range slices.Sorted(maps.Keys(cc.renders)) {
		out = append(out, cc.renders[key].docs)
	}
	return out
}

// renderChart renders a chart as "helm template" does, with the client
// dry-run of an install: no cluster, lookup finds nothing, no DNS, no
// post-renderer, no plugin. A template that runs past the render's time
// limit is abandoned and the render fails.
func renderChart(ctx context.Context, lc *loadedChart, p *Placement, values map[string]any, caps Capabilities) *chartRender {
	c := p.Chart
	fail := func(err error) *chartRender {
		return &chartRender{err: chartError(c, lc, err)}
	}
	kv, err := parseKubeVersion(caps.KubeVersion)
	if err != nil {
		return fail(fmt.Errorf("kubernetes version %q: %w", caps.KubeVersion, err))
	}
	// The chart is loaded anew for each render: an install changes it
	// (dependencies disabled by their conditions are removed).
	ch, err := chartloader.LoadFiles(lc.files)
	if err != nil {
		return fail(err)
	}
	if err := checkDependencies(ch); err != nil {
		return fail(fmt.Errorf("%w: vendor it into the chart's charts/ directory (helm dependency build); only dependencies of https:// and oci:// repositories are fetched", err))
	}
	inst := helmInstall{
		name:        c.ReleaseName,
		namespace:   cmpOrString(p.Namespace, "default"),
		kubeVersion: kv,
		apiVersions: caps.APIVersions,
		funcs:       templateFuncs(ctx),
	}

	type result struct {
		rel      *helmRelease
		warnings []string
		err      error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- result{err: fmt.Errorf("rendering failed: %v", r)}
			}
		}()
		warnings, err := checkChartValues(lc, values)
		if err != nil {
			done <- result{err: err}
			return
		}
		rel, err := inst.run(ch, values)
		done <- result{rel, warnings, err}
	}()
	var res result
	select {
	case <-ctx.Done():
		return fail(context.Cause(ctx))
	case res = <-done:
	}
	if res.err != nil {
		return fail(res.err)
	}
	if err := ctx.Err(); err != nil {
		return fail(context.Cause(ctx))
	}
	out := splitRelease(c, lc, res.rel)
	for _, w := range res.warnings {
		out.warnings = append(out.warnings, fmt.Sprintf("%s: %s", c, w))
	}
	return out
}

func cmpOrString(s, def string) string {
	if s != "" {
		return s
	}
	return def
}

// splitRelease turns the release's manifest (CRDs of crds/ first, then
// the templates) and its hooks into documents. Test hooks are dropped;
// pre-install/pre-upgrade hooks go to wave -1 and post-install/upgrade
// hooks to wave 1 unless they set mcp.dev/wave; hooks of other events
// (delete, rollback) are dropped with a warning, as are delete policies
// that would remove an object mcp keeps.
func splitRelease(c *Chart, lc *loadedChart, rel *helmRelease) *chartRender {
	out := &chartRender{}
	var errs []error
	add := func(source, manifest string, wave int) []doc {
		file := chartFile(c, lc, source)
		docs, err := decodeDocs(file, []byte(manifest))
		for i := range docs {
			docs[i].line = 0     // lines of the rendered template, not of the file
			docs[i].refs = false // values were substituted; the output is taken as rendered
			docs[i].bytes = int64(len(manifest) / len(docs))
			if wave != 0 {
				setDefaultWave(docs[i].obj, wave)
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: %s: the template renders invalid YAML: %w", ErrChart, c, err))
		}
		out.docs = append(out.docs, docs...)
		return docs
	}
	for _, m := range splitManifest(rel.manifest) {
		add(m.source, m.body, 0)
	}
	for _, h := range rel.hooks {
		var pre, post, test bool
		for _, e := range h.Events {
			switch e {
			case release.HookPreInstall, release.HookPreUpgrade:
				pre = true
			case release.HookPostInstall, release.HookPostUpgrade:
				post = true
			case release.HookTest:
				test = true
			}
		}
		where := fmt.Sprintf("%s: %s %s (%s)", chartFile(c, lc, h.Path), h.Kind, h.Name, c)
		switch {
		case test:
			continue
		case !pre && !post:
			out.warnings = append(out.warnings, fmt.Sprintf("%s: dropped: a hook only of %s, which mcp does not run", where, joinEvents(h.Events)))
			continue
		}
		wave := postHookWave
		if pre {
			wave = preHookWave
		}
		add(h.Path, h.Manifest, wave)
		for _, p := range h.DeletePolicies {
			if p == release.HookSucceeded || p == release.HookFailed {
				out.warnings = append(out.warnings, fmt.Sprintf("%s: %s %s is not honoured: mcp applies the hook in wave %d and keeps it like every object of the chart", where, hookDeleteAnnotation, p, wave))
			}
		}
	}
	out.err = errors.Join(errs...)
	return out
}

func joinEvents(events []release.HookEvent) string {
	s := make([]string, len(events))
	for i, e := range events {
		s[i] = string(e)
	}
	return strings.Join(s, ", ")
}

// setDefaultWave sets the mcp.dev/wave annotation of a hook that has none.
func setDefaultWave(obj map[string]any, wave int) {
	meta, _ := obj["metadata"].(map[string]any)
	if meta == nil {
		return
	}
	ann, _ := meta["annotations"].(map[string]any)
	if ann == nil {
		ann = map[string]any{}
		meta["annotations"] = ann
	}
	if _, set := ann[object.WaveAnnotation]; !set {
		ann[object.WaveAnnotation] = strconv.Itoa(wave)
	}
}

type manifestPart struct{ source, body string }

var sourceLine = regexp.MustCompile(`(?m)^# Source: (.+)$`)

// splitManifest cuts a release manifest at its "# Source:" headers.
func splitManifest(m string) []manifestPart {
	var parts []manifestPart
	for _, chunk := range regexp.MustCompile(`(?m)^---\s*$`).Split(m, -1) {
		loc := sourceLine.FindStringSubmatchIndex(chunk)
		if loc == nil {
			if strings.TrimSpace(chunk) != "" && len(parts) > 0 {
				parts[len(parts)-1].body += "\n---\n" + chunk
			}
			continue
		}
		parts = append(parts, manifestPart{source: chunk[loc[2]:loc[3]], body: chunk[loc[1]:]})
	}
	return parts
}

// chartFile is the repo path of a chart-relative template path
// ("podinfo/templates/deployment.yaml").
func chartFile(c *Chart, lc *loadedChart, source string) string {
	_, rest, _ := strings.Cut(source, "/")
	if c.Path == "" {
		return source
	}
	return path.Join(c.Path, rest)
}

// templateAt finds the template and line Helm's messages name:
// "template: podinfo/templates/x.yaml:12:3: ...", "parse error at
// (podinfo/templates/x.yaml:5): ...", "YAML parse error on podinfo/templates/x.yaml: ...".
var templateAt = regexp.MustCompile(`([A-Za-z0-9_.@+-]+(?:/[A-Za-z0-9_.@+-]+)+\.(?:yaml|yml|tpl|txt|json))(?::(\d+))?`)

// chartError locates a failure of a chart's render at the template and
// line it names, in the repo's terms.
func chartError(c *Chart, lc *loadedChart, err error) error {
	if errors.Is(err, ErrTooLarge) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", c, err)
	}
	msg := err.Error()
	e := &Error{Err: fmt.Errorf("%w: %s: %s", ErrChart, c, msg)}
	if m := templateAt.FindStringSubmatch(msg); m != nil && lc != nil && strings.HasPrefix(m[1], lc.name+"/") {
		e.File = chartFile(c, lc, m[1])
		e.Line, _ = strconv.Atoi(m[2])
	}
	return e
}

// chartDocs renders p's chart for one cluster: its values substituted
// for the cluster, for the cluster's Kubernetes version.
func (in *clusterInputs) chartDocs(ctx context.Context, cl Cluster, p *Placement, lc *loadedChart, sc *scope) ([]doc, error) {
	values, valuesJSON, err := lc.chartValues(p.Chart, sc)
	if err != nil {
		return nil, err
	}
	caps := in.opts.Capabilities[cl.Name]
	if caps.KubeVersion == "" {
		caps.KubeVersion = cmpOrString(cl.KubernetesVersion, DefaultKubernetesVersion)
	}
	r := in.cache.render(ctx, lc, p, values, valuesJSON, caps)
	return r.docs, r.err
}

// warnings are the warnings of every render, sorted.
func (cc *chartCache) warnings() []string {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	var out []string
	for _, r := range cc.renders {
		for _, w := range r.warnings {
			if !slices.Contains(out, w) {
				out = append(out, w)
			}
		}
	}
	slices.Sort(out)
	return out
}
