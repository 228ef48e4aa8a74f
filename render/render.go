package render

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"mcp.dev/mcp/internal/object"
	"mcp.dev/mcp/source"
)

// Render turns a snapshot of the config repo into the desired state of
// every cluster. Its error means nothing can be rendered: an unreadable
// repo or a broken Cluster or Placement document. Problems of one cluster
// are in that cluster's ClusterState.Err and do not stop the others.
func Render(ctx context.Context, snap source.Snapshot, opts Options) (*Fleet, error) {
	l, err := Load(ctx, snap)
	if err != nil {
		return nil, err
	}
	defer l.Close()
	return l.Render(ctx, opts)
}

// Render is Render of the loaded snapshot.
func (l *Loaded) Render(ctx context.Context, opts Options) (*Fleet, error) {
	r := l.r
	r.dec = opts.Decryption
	ctx, cancel := opts.Limits.withTimeout(ctx)
	defer cancel()
	dir, err := l.dir()
	if err != nil {
		return nil, err
	}
	cfg, err := loadConfig(r, dir)
	if err != nil {
		return nil, err
	}
	clusters, err := cfg.limit(opts.Clusters)
	if err != nil {
		return nil, err
	}

	docs := map[string][]doc{}
	charts := map[string]*loadedChart{}
	loadErrs := map[string]error{}
	for i := range cfg.placements {
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		p := &cfg.placements[i]
		if p.err != nil || !selectsAny(p, clusters, len(opts.Clusters) == 0) {
			continue
		}
		if p.Chart != nil {
			charts[p.Name], loadErrs[p.Name] = r.loadChart(p, opts)
		} else {
			docs[p.Name], loadErrs[p.Name] = r.placementDocs(ctx, p, opts.Limits)
		}
		for _, d := range docs[p.Name] {
			for _, w := range d.warnings {
				if !slices.Contains(cfg.warnings, w) {
					cfg.warnings = append(cfg.warnings, w)
				}
			}
		}
	}
	crds := checkSchemas(cfg.placements, docs, loadErrs)
	dropNodes(docs)
	for i := range cfg.placements {
		p := &cfg.placements[i]
		if len(p.Selected) == 0 && loadErrs[p.Name] != nil {
			p.err = &Error{Placement: p.Name, Err: loadErrs[p.Name]}
		}
	}

	for _, w := range r.warnings {
		if !slices.Contains(cfg.warnings, w) {
			cfg.warnings = append(cfg.warnings, w)
		}
	}
	f := &Fleet{Revision: l.snap.Revision, Placements: cfg.placements, Warnings: cfg.warnings}
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	in := &clusterInputs{docs: docs, charts: charts, loadErrs: loadErrs, cache: newChartCache(crds), opts: opts, left: map[string]int{}}
	for _, cl := range clusters {
		for _, p := range cfg.placementsOf(cl.Name) {
			in.left[p.Name]++
		}
	}
	for _, cl := range clusters {
		f.Clusters = append(f.Clusters, renderCluster(ctx, cl, cfg.placementsOf(cl.Name), in))
	}
	f.ChartRenders = in.cache.count
	var groups [][]doc
	for _, p := range cfg.placements {
		groups = append(groups, docs[p.Name])
	}
	groups = append(groups, in.cache.docs()...)
	for _, w := range append(in.cache.warnings(), undefinedKinds(groups, crds.with(groups))...) {
		if !slices.Contains(f.Warnings, w) {
			f.Warnings = append(f.Warnings, w)
		}
	}
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	return f, nil
}

// dropNodes lets the YAML nodes of documents go once every check that
// reports lines has run: only a document with references to substitute
// is converted again, per cluster. The nodes are the larger half of a
// parsed document.
func dropNodes(docs map[string][]doc) {
	for _, ds := range docs {
		for i := range ds {
			if !ds[i].refs {
				ds[i].node = nil
			}
		}
	}
}

// limit returns the clusters to render: all, or those named.
func (c *config) limit(names []string) ([]Cluster, error) {
	if len(names) == 0 {
		return c.clusters, nil
	}
	var out []Cluster
	var errs []error
	for _, n := range names {
		i := slices.IndexFunc(c.clusters, func(cl Cluster) bool { return cl.Name == n })
		if i < 0 {
			errs = append(errs, &Error{Cluster: n, Err: fmt.Errorf("%w: no Cluster document defines this cluster", ErrNotFound)})
			continue
		}
		if !slices.ContainsFunc(out, func(cl Cluster) bool { return cl.Name == n }) {
			out = append(out, c.clusters[i])
		}
	}
	slices.SortFunc(out, func(a, b Cluster) int { return strings.Compare(a.Name, b.Name) })
	return out, errors.Join(errs...)
}

// selectsAny reports whether p must be loaded: it selects one of the
// clusters, or every placement is checked (a full render).
func selectsAny(p *Placement, clusters []Cluster, all bool) bool {
	if all {
		return true
	}
	return slices.ContainsFunc(clusters, func(cl Cluster) bool { return slices.Contains(p.Selected, cl.Name) })
}

// clusterInputs are what every cluster's render reads: the documents of
// the placements of manifests, the charts, and the renders of the charts
// so far.
type clusterInputs struct {
	docs     map[string][]doc
	charts   map[string]*loadedChart
	loadErrs map[string]error
	cache    *chartCache
	opts     Options
	// left counts, by placement, the clusters still to render it: the
	// last one takes the maps of the documents (materialize).
	left map[string]int
}

// renderCluster computes one cluster's objects from the documents of its
// placements. Every problem is collected; any problem leaves the cluster
// with no objects.
func renderCluster(ctx context.Context, cl Cluster, ps []*Placement, in *clusterInputs) ClusterState {
	opts := in.opts
	var errs []error
	if err := cl.checkKubeconfig(opts.CredentialsDir); err != nil {
		errs = append(errs, err)
	}
	substs := make(map[string]*scope, len(ps))
	docs := make(map[string][]doc, len(ps))
	last := make(map[string]bool, len(ps))
	for _, p := range ps {
		in.left[p.Name]--
		last[p.Name] = in.left[p.Name] == 0 && in.charts[p.Name] == nil
		sc := &scope{cluster: cl.Name, labels: cl.Labels, vars: maps.Clone(p.Vars)}
		if sc.vars == nil {
			sc.vars = map[string]string{}
		}
		maps.Copy(sc.vars, cl.Vars)
		substs[p.Name] = sc
		docs[p.Name] = in.docs[p.Name]
		if lc := in.charts[p.Name]; lc != nil && p.err == nil && in.loadErrs[p.Name] == nil {
			got, err := in.chartDocs(ctx, cl, p, lc, sc)
			for _, e := range flatten(err) {
				errs = append(errs, locate(e, cl.Name, p.Name))
			}
			docs[p.Name] = got
		}
	}
	var n int
	var size int64
	for _, p := range ps {
		n += len(docs[p.Name])
		for _, d := range docs[p.Name] {
			size += d.bytes
		}
	}
	if err := opts.Limits.checkSize(n, size); err != nil {
		return ClusterState{Cluster: cl, Err: &Error{Cluster: cl.Name, Err: err}}
	}
	objs := make([]Object, 0, n)
	for _, p := range ps {
		if p.err != nil {
			errs = append(errs, locate(p.err, cl.Name, p.Name))
			continue
		}
		for _, e := range flatten(in.loadErrs[p.Name]) {
			errs = append(errs, locate(e, cl.Name, p.Name))
		}
		sc := substs[p.Name]
		var chartRef string
		if p.Chart != nil {
			chartRef = p.Chart.ResolvedName + "@" + p.Chart.ResolvedVersion
		}
		for _, d := range docs[p.Name] {
			u, err := materialize(d, sc, last[p.Name])
			if err != nil {
				for _, e := range flatten(err) {
					errs = append(errs, locate(e, cl.Name, p.Name))
				}
				continue
			}
			objs = append(objs, Object{Obj: u, File: d.file, Line: d.line, Index: d.index, Placement: p.Name, Depth: p.Depth,
				Encrypted: d.enc != "", Sealed: d.enc == markSealed, Chart: chartRef})
		}
	}

	scopes := object.ScopesOf(objs, func(o Object) *unstructured.Unstructured { return o.Obj })
	var shared object.SharedMaps // labels and annotations
	for i := range objs {
		o := &objs[i]
		if err := finish(o, scopes, &shared, placementNamespace(ps, o.Placement)); err != nil {
			errs = append(errs, locate(&Error{File: o.File, Line: o.Line, Err: err}, cl.Name, o.Placement))
		}
	}
	errs = append(errs, duplicates(objs, cl.Name)...)
	if len(errs) > 0 {
		return ClusterState{Cluster: cl, Err: errors.Join(errs...)}
	}
	return ClusterState{Cluster: cl, Objects: objs}
}

func placementNamespace(ps []*Placement, name string) string {
	for _, p := range ps {
		if p.Name == name {
			return p.Namespace
		}
	}
	return ""
}

// locate fills in the cluster and placement of a problem.
func locate(err error, cluster, placement string) error {
	var e *Error
	if errors.As(err, &e) && e == err {
		c := *e
		if c.Cluster == "" {
			c.Cluster = cluster
		}
		if c.Placement == "" {
			c.Placement = placement
		}
		return &c
	}
	return &Error{Cluster: cluster, Placement: placement, Err: err}
}

// materialize builds a document's object for one cluster, substituting
// the cluster's references unless the object opts out. A document of an
// encrypted file is substituted only when it opts in: its decrypted values
// are taken as written. The last cluster to build the document's object
// (last) takes the document's maps as they are instead of copying its top
// level and metadata: the render reads no more of the document than its
// kind and name after that, and the earlier clusters' copies share only
// what no one changes.
func materialize(d doc, sc *scope, last bool) (*unstructured.Unstructured, error) {
	ann, _, _ := unstructured.NestedStringMap(d.obj, "metadata", "annotations")
	var obj map[string]any
	switch v, set := ann[AnnotationSubstitute]; {
	case set && v != "disabled" && v != "enabled":
		return nil, &Error{File: d.file, Line: d.line, Err: fmt.Errorf("%w: annotation %s: %q, the values are \"disabled\" and \"enabled\"", ErrInvalid, AnnotationSubstitute, v)}
	case v == "disabled" || !d.refs || (d.enc != "" && v != "enabled"):
		// finish changes only the top level and metadata: the rest is
		// shared by the clusters of the placement (object.WithMetadata).
		obj = d.obj
		if !last {
			obj = object.WithMetadata(&unstructured.Unstructured{Object: d.obj}).Object
		}
	default:
		c := converter{file: d.file, budget: maxValues, subst: sc.substitute}
		if d.line == 0 {
			c.what = describe(d.obj)
		}
		obj, _ = c.value(d.node).(map[string]any)
		if err := errors.Join(c.errs...); err != nil {
			return nil, err
		}
	}
	if err := checkIdentity(obj); err != nil {
		return nil, &Error{File: d.file, Line: d.line, Err: err}
	}
	return &unstructured.Unstructured{Object: obj}, nil
}

// describe names a document in messages about kustomize output, which has
// no lines in the repo.
func describe(obj map[string]any) string {
	kind, _ := obj["kind"].(string)
	meta, _ := obj["metadata"].(map[string]any)
	name, _ := meta["name"].(string)
	return kind + " " + name
}

// finish sets what mcp owns on every object (SPEC section 2), the
// namespace, and reads the wave. The labels and annotations it sets are
// shared with the cluster's other objects that have the same.
func finish(o *Object, scopes object.Scopes, shared *object.SharedMaps, namespace string) error {
	u := o.Obj
	if err := reservedKeys(u); err != nil {
		return err
	}
	labels, labelsErr := metaStrings(u.Object, "labels")
	annotations, annotationsErr := metaStrings(u.Object, "annotations")
	if err := errors.Join(labelsErr, annotationsErr); err != nil {
		return err
	}
	if labels == nil {
		labels = map[string]string{}
	}
	labels[object.ManagedByLabel] = object.ManagedByValue
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[object.PlacementAnnotation] = o.Placement
	if o.Chart != "" {
		annotations[ChartAnnotation] = o.Chart
	}
	meta := u.Object["metadata"].(map[string]any) // checkIdentity found its name
	meta["labels"], meta["annotations"] = shared.Get(labels), shared.Get(annotations)

	if w, ok := annotations[object.WaveAnnotation]; ok {
		n, err := strconv.Atoi(w)
		if err != nil {
			return fmt.Errorf("%w: %s: annotation %s=%q is not an integer", ErrInvalid, object.KeyOf(u), object.WaveAnnotation, w)
		}
		o.Wave = n
	}
	if v, ok := annotations[object.WaveTimeoutAnnotation]; ok {
		if d, err := time.ParseDuration(v); err != nil || d <= 0 {
			return fmt.Errorf("%w: %s: annotation %s=%q is not a positive duration (like \"90s\" or \"10m\")", ErrInvalid, object.KeyOf(u), object.WaveTimeoutAnnotation, v)
		}
	}
	if v, ok := annotations[object.ReplaceAnnotation]; ok && v != object.ReplaceOnImmutable && v != object.ReplaceDisabled {
		return fmt.Errorf("%w: %s: annotation %s=%q: the values are %q and %q", ErrInvalid, object.KeyOf(u), object.ReplaceAnnotation, v, object.ReplaceOnImmutable, object.ReplaceDisabled)
	}

	// Namespaces are decided here, not by kustomize, so that kinds of the
	// render's own CRDs get them right too. A kind Scopes does not know is
	// namespaced.
	if namespaced, _ := scopes.Namespaced(u.GroupVersionKind().GroupKind()); !namespaced {
		u.SetNamespace("")
	} else if u.GetNamespace() == "" {
		if namespace == "" {
			namespace = "default"
		}
		u.SetNamespace(namespace)
	}
	return reservedNamespace(u)
}

// duplicates sorts objs by key and reports every key placed twice, naming
// both sources.
func duplicates(objs []Object, cluster string) []error {
	slices.SortStableFunc(objs, func(a, b Object) int { return object.Compare(a.Key(), b.Key()) })
	var errs []error
	for _, d := range object.Duplicates(objs, Object.Key) {
		a, b := d[0], d[1]
		errs = append(errs, &Error{File: b.File, Line: b.Line, Cluster: cluster, Placement: b.Placement,
			Err: fmt.Errorf("%w: %s is placed twice on the cluster: by %s (placement %s) and by %s (placement %s)",
				ErrDuplicate, a.Key(), a.Source(), a.Placement, b.Source(), b.Placement)})
	}
	return errs
}

// metaStrings reads metadata.labels or metadata.annotations: a mapping of
// strings. An empty one ("labels:" with every entry commented out) is
// none, as the API server takes it.
func metaStrings(obj map[string]any, name string) (map[string]string, error) {
	meta, _ := obj["metadata"].(map[string]any)
	v, ok := meta[name]
	if !ok || v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: %s: metadata.%s must be a map, got %s", ErrInvalid, object.KeyOf(&unstructured.Unstructured{Object: obj}), name, typeName(v))
	}
	out := make(map[string]string, len(m))
	var errs []error
	for _, k := range sortedKeys(m) {
		s, ok := m[k].(string)
		if !ok {
			errs = append(errs, fmt.Errorf("%w: %s: metadata.%s.%s: want a string, got %s (quote it)", ErrInvalid, object.KeyOf(&unstructured.Unstructured{Object: obj}), name, k, typeName(m[k])))
			continue
		}
		out[k] = s
	}
	return out, errors.Join(errs...)
}

// typeName names the type of a decoded YAML value in messages.
func typeName(v any) string {
	switch v := v.(type) {
	case nil:
		return "nothing (null)"
	case string:
		return fmt.Sprintf("the string %q", v)
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprint(v)
}
