package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
)

// clusterDoc and placementDoc are the repo format of SPEC section 1;
// unknown fields are errors, so a typo such as "clusterSelectr" cannot
// silently select nothing.
type clusterDoc struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   metav1.ObjectMeta `json:"metadata"`
	Spec       struct {
		Kubeconfig *struct {
			Path    string `json:"path"`
			Context string `json:"context"`
		} `json:"kubeconfig"`
		InCluster bool           `json:"inCluster"`
		Vars      map[string]any `json:"vars"`
		Paused    bool           `json:"paused"`
		// KubernetesVersion is what charts see as .Capabilities.KubeVersion
		// in offline renders.
		KubernetesVersion string `json:"kubernetesVersion"`
	} `json:"spec"`
}

type placementDoc struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   metav1.ObjectMeta `json:"metadata"`
	Spec       struct {
		Path            string                `json:"path"`
		ClusterSelector *metav1.LabelSelector `json:"clusterSelector"`
		Clusters        []string              `json:"clusters"`
		DependsOn       []string              `json:"dependsOn"`
		Namespace       string                `json:"namespace"`
		Prune           *bool                 `json:"prune"`
		Vars            map[string]any        `json:"vars"`
		Chart           *chartDoc             `json:"chart"`
	} `json:"spec"`
}

// config is what the mcp documents of a repo say.
type config struct {
	clusters   []Cluster
	placements []Placement
	warnings   []string
}

// loadConfig reads every Cluster and Placement below dir. Its error means
// the fleet cannot be rendered: a broken or ambiguous mcp document.
func loadConfig(r *repo, dir string) (*config, error) {
	files, skipErr := r.files(dir)
	// Files that could not be read might hold mcp documents; they only do
	// no harm when they lie in a placement's path, whose render reports them.
	unreadable := map[string]error{}
	for _, e := range flatten(skipErr) {
		var le *Error
		if errors.As(e, &le) && isConfigFile(le.File) {
			unreadable[le.File] = e
		}
	}
	var docs []doc
	var errs []error
	for _, f := range files {
		if !isConfigFile(f) {
			continue
		}
		data, err := r.peek(f)
		if err != nil {
			if located := (*Error)(nil); !errors.As(err, &located) {
				err = &Error{File: f, Err: err}
			}
			errs = append(errs, err)
			continue
		}
		if !mayHoldMCP(data) {
			// No mcp document can be in it (its apiVersion would be
			// spelled out), so the file is not parsed twice: the
			// manifests of a placement are most of a repo's YAML, and
			// the render of their placement parses them.
			continue
		}
		got, err := decodeFile(f, data)
		if err != nil && bytes.Contains(data, []byte(mcpGroup)) {
			unreadable[f] = err
		}
		for _, d := range got {
			apiVersion, _ := d.obj["apiVersion"].(string)
			kind, _ := d.obj["kind"].(string)
			if apiVersion == APIVersion {
				docs = append(docs, d)
			} else if msg := misspelledMCP(apiVersion, kind); msg != "" {
				errs = append(errs, &Error{File: d.file, Line: fieldLine(d.node, "apiVersion"), Err: fmt.Errorf("%w: %s", ErrInvalid, msg)})
			}
		}
	}
	c := &config{}
	for _, d := range docs {
		switch d.obj["kind"] {
		case "Cluster":
			cl, err := parseCluster(d)
			errs = append(errs, err)
			if err == nil {
				c.clusters = append(c.clusters, cl)
			}
		case "Placement":
			p, err := parsePlacement(r, d)
			errs = append(errs, err)
			if err == nil {
				c.placements = append(c.placements, p)
			}
		case "ClusterStatus":
			// Written back by mcp run; may share the branch.
		default:
			errs = append(errs, &Error{File: d.file, Line: fieldLine(d.node, "kind"), Err: fmt.Errorf("%w: %s", ErrInvalid, misspelledKind(d.obj["kind"]))})
		}
	}
	for f, err := range unreadable {
		if !c.inPlacement(f) {
			errs = append(errs, err)
		}
	}
	slices.SortFunc(c.clusters, func(a, b Cluster) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(c.placements, func(a, b Placement) int { return strings.Compare(a.Name, b.Name) })
	errs = append(errs, c.checkUnique()...)
	errs = append(errs, c.selectClusters()...)
	errs = append(errs, c.orderDependencies()...)
	return c, errors.Join(errs...)
}

func isConfigFile(f string) bool {
	return strings.HasSuffix(f, ".yaml") || strings.HasSuffix(f, ".yml")
}

func (c *config) inPlacement(f string) bool {
	for _, p := range c.placements {
		if p.Path == "" {
			continue
		}
		if p.Path == "." || f == p.Path || strings.HasPrefix(f, p.Path+"/") {
			return true
		}
	}
	return false
}

// strictDecode converts a decoded document into a typed one, refusing
// unknown fields and values of the wrong type at the line of the field.
func strictDecode(d doc, into any, fields *field) error {
	if errs := checkFields(d.file, d.node, fields); len(errs) > 0 {
		name, _ := unstructuredName(d.obj)
		for _, err := range errs {
			if e, ok := err.(*Error); ok && fields == clusterFields {
				e.Cluster = name
			} else if ok {
				e.Placement = name
			}
		}
		return errors.Join(errs...)
	}
	data, err := json.Marshal(d.obj)
	if err != nil {
		return &Error{File: d.file, Line: d.line, Err: fmt.Errorf("%w: %s", ErrInvalid, plainJSONError(err))}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(into); err != nil {
		return &Error{File: d.file, Line: d.line, Err: fmt.Errorf("%w: %s: %s", ErrInvalid, describe(d.obj), plainJSONError(err))}
	}
	return nil
}

func parseCluster(d doc) (Cluster, error) {
	var cd clusterDoc
	if err := strictDecode(d, &cd, clusterFields); err != nil {
		return Cluster{}, err
	}
	name := cd.Metadata.Name
	fail := func(format string, args ...any) error {
		return &Error{File: d.file, Line: d.line, Cluster: name, Err: fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)}
	}
	var errs []error
	if msgs := validation.IsDNS1123Label(name); len(msgs) > 0 {
		errs = append(errs, fail("cluster name %q is not a DNS-1123 label: %s", name, strings.Join(msgs, "; ")))
	}
	for k, v := range cd.Metadata.Labels {
		if msgs := append(validation.IsQualifiedName(k), validation.IsValidLabelValue(v)...); len(msgs) > 0 {
			errs = append(errs, fail("label %s=%s: %s", k, v, strings.Join(msgs, "; ")))
		}
	}
	cl := Cluster{
		Name:       name,
		Labels:     cd.Metadata.Labels,
		Kubeconfig: KubeconfigRef{Path: name},
		InCluster:  cd.Spec.InCluster,
		Paused:     cd.Spec.Paused,
		File:       d.file,
		Line:       d.line,
	}
	if cl.Labels == nil {
		cl.Labels = map[string]string{}
	}
	if k := cd.Spec.Kubeconfig; k != nil {
		if cl.InCluster {
			errs = append(errs, fail("spec.inCluster and spec.kubeconfig exclude each other"))
		}
		if k.Path != "" {
			cl.Kubeconfig.Path = k.Path
		}
		cl.Kubeconfig.Context = k.Context
	}
	vars, err := stringVars(cd.Spec.Vars)
	if err != nil {
		errs = append(errs, fail("spec.vars: %v", err))
	}
	cl.Vars = vars
	if v := cd.Spec.KubernetesVersion; v != "" {
		if _, err := parseKubeVersion(v); err != nil {
			errs = append(errs, fail("spec.kubernetesVersion %q: %v", v, err))
		}
		cl.KubernetesVersion = v
	}
	return cl, errors.Join(errs...)
}

func parsePlacement(r *repo, d doc) (Placement, error) {
	var pd placementDoc
	if err := strictDecode(d, &pd, placementFields); err != nil {
		return Placement{}, err
	}
	name := pd.Metadata.Name
	fail := func(err error) error {
		return &Error{File: d.file, Line: d.line, Placement: name, Err: err}
	}
	var errs []error
	if msgs := validation.IsDNS1123Subdomain(name); len(msgs) > 0 {
		errs = append(errs, fail(fmt.Errorf("%w: placement name %q: %s", ErrInvalid, name, strings.Join(msgs, "; "))))
	}
	p := Placement{
		Name:         name,
		Selector:     pd.Spec.ClusterSelector,
		ClusterNames: pd.Spec.Clusters,
		DependsOn:    pd.Spec.DependsOn,
		Namespace:    pd.Spec.Namespace,
		Prune:        pd.Spec.Prune == nil || *pd.Spec.Prune,
		File:         d.file,
		Line:         d.line,
	}
	var err error
	if pd.Spec.Chart != nil {
		if pd.Spec.Path != "" {
			errs = append(errs, fail(fmt.Errorf("%w: spec.path and spec.chart exclude each other", ErrInvalid)))
		}
		var invalid, missing error
		p.Chart, invalid, missing = parseChart(r, d, pd.Spec.Chart, name)
		if invalid != nil {
			errs = append(errs, fail(invalid))
		}
		if missing != nil {
			p.err = fail(missing)
		}
		p.Path = p.Chart.Path
	} else if p.Path, err = localPath(pd.Spec.Path); err != nil {
		errs = append(errs, fail(fmt.Errorf("spec.path: %w", err)))
	} else if exists, _, err := r.stat(p.Path); err != nil || !exists {
		if err == nil {
			err = fmt.Errorf("%w: spec.path %q does not exist in the repo", ErrNotFound, p.Path)
		} else {
			err = fmt.Errorf("spec.path %q: %w", p.Path, err)
		}
		p.err = fail(err)
	}
	if _, err := metav1.LabelSelectorAsSelector(p.Selector); err != nil {
		errs = append(errs, fail(fmt.Errorf("%w: spec.clusterSelector: %v", ErrInvalid, err)))
	}
	if p.Namespace != "" {
		if msgs := validation.IsDNS1123Label(p.Namespace); len(msgs) > 0 {
			errs = append(errs, fail(fmt.Errorf("%w: spec.namespace %q: %s", ErrInvalid, p.Namespace, strings.Join(msgs, "; "))))
		}
	}
	vars, err := stringVars(pd.Spec.Vars)
	if err != nil {
		errs = append(errs, fail(fmt.Errorf("%w: spec.vars: %v", ErrInvalid, err)))
	}
	p.Vars = vars
	return p, errors.Join(errs...)
}

// stringVars takes scalar variables as the text they were written as:
// "replicas: 2" is the string "2".
func stringVars(in map[string]any) (map[string]string, error) {
	out := make(map[string]string, len(in))
	var errs []error
	for k, v := range in {
		switch v := v.(type) {
		case string:
			out[k] = v
		case bool:
			out[k] = strconv.FormatBool(v)
		case int64:
			out[k] = strconv.FormatInt(v, 10)
		case float64:
			out[k] = strconv.FormatFloat(v, 'f', -1, 64)
		default:
			errs = append(errs, fmt.Errorf("%s: a variable must be a string, number or boolean", k))
		}
	}
	return out, errors.Join(errs...)
}

// checkUnique reports clusters and placements that share a name.
func (c *config) checkUnique() []error {
	var errs []error
	for i := 1; i < len(c.clusters); i++ {
		a, b := c.clusters[i-1], c.clusters[i]
		if a.Name == b.Name {
			errs = append(errs, &Error{File: b.File, Line: b.Line, Cluster: b.Name, Err: fmt.Errorf("%w: cluster defined twice, also in %s:%d", ErrDuplicate, a.File, a.Line)})
		}
	}
	for i := 1; i < len(c.placements); i++ {
		a, b := c.placements[i-1], c.placements[i]
		if a.Name == b.Name {
			errs = append(errs, &Error{File: b.File, Line: b.Line, Placement: b.Name, Err: fmt.Errorf("%w: placement defined twice, also in %s:%d", ErrDuplicate, a.File, a.Line)})
		}
	}
	return errs
}

// selectClusters fills every placement's Selected and warns about
// placements that select nothing.
func (c *config) selectClusters() []error {
	var errs []error
	known := map[string]bool{}
	for _, cl := range c.clusters {
		known[cl.Name] = true
	}
	for i := range c.placements {
		p := &c.placements[i]
		sel, err := metav1.LabelSelectorAsSelector(p.Selector)
		if err != nil {
			continue // reported by parsePlacement
		}
		for _, n := range p.ClusterNames {
			if !known[n] {
				errs = append(errs, &Error{File: p.File, Line: p.Line, Placement: p.Name, Err: fmt.Errorf("%w: spec.clusters names cluster %q, which no Cluster document defines", ErrNotFound, n)})
			}
		}
		for _, cl := range c.clusters {
			if sel.Matches(labels.Set(cl.Labels)) || slices.Contains(p.ClusterNames, cl.Name) {
				if !slices.Contains(p.Selected, cl.Name) {
					p.Selected = append(p.Selected, cl.Name)
				}
			}
		}
		if len(p.Selected) == 0 {
			c.warnings = append(c.warnings, fmt.Sprintf("%s:%d: placement %s selects no cluster: %s", p.File, p.Line, p.Name, c.whyNone(p)))
		}
	}
	return errs
}

// placementsOf returns the placements that select the cluster.
func (c *config) placementsOf(cluster string) []*Placement {
	var out []*Placement
	for i := range c.placements {
		if slices.Contains(c.placements[i].Selected, cluster) {
			out = append(out, &c.placements[i])
		}
	}
	return out
}

// whyNone says why a placement selects no cluster: its selector and the
// values the clusters have for the selector's keys, where a typo shows.
func (c *config) whyNone(p *Placement) string {
	switch {
	case len(c.clusters) == 0:
		return "the repo has no Cluster document"
	case p.Selector == nil:
		return "it has no spec.clusterSelector and no spec.clusters (clusterSelector: {} selects every cluster)"
	}
	var keys []string
	for k := range p.Selector.MatchLabels {
		keys = append(keys, k)
	}
	for _, e := range p.Selector.MatchExpressions {
		keys = append(keys, e.Key)
	}
	slices.Sort(keys)
	keys = slices.Compact(keys)
	parts := []string{"selector " + metav1.FormatLabelSelector(p.Selector)}
	for _, k := range keys {
		var values []string
		for _, cl := range c.clusters {
			if v, ok := cl.Labels[k]; ok {
				values = append(values, v)
			}
		}
		slices.Sort(values)
		values = slices.Compact(values)
		if len(values) == 0 {
			parts = append(parts, "no cluster has label "+k)
			continue
		}
		const show = 10
		list := strings.Join(values[:min(show, len(values))], ", ")
		if len(values) > show {
			list += fmt.Sprintf(" and %d more", len(values)-show)
		}
		parts = append(parts, k+" has: "+list)
	}
	return strings.Join(parts, "; ")
}

// unstructuredName is metadata.name of a decoded document, if it is a string.
func unstructuredName(obj map[string]any) (string, bool) {
	meta, _ := obj["metadata"].(map[string]any)
	name, ok := meta["name"].(string)
	return name, ok
}
