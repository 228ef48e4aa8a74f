package render

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/scheme"

	"mcp.dev/mcp/internal/object"
)

// Objects of the built-in Kubernetes kinds are checked against the Go
// types the API server decodes them into (k8s.io/api of the version mcp
// is built with), before anything reaches a cluster: "replicas: two",
// "imag:" and an env value of 8080 are refused at their line, the way the
// server would refuse them at apply time, on every cluster at once.
//
// An unknown field is an error, as it is in a server-side apply, with the
// known field nearest to it ("replica": did you mean replicas?).

// kubeSchemaVersion is the Kubernetes version of the k8s.io/api types.
const kubeSchemaVersion = "1.35"

// schemaCheck is what checking one document found.
type schemaCheck struct {
	errs []error
}

// checkSchemas checks every document of the placements, adding errors
// to loadErrs, and returns the CRDs the documents hold.
func checkSchemas(ps []Placement, docs map[string][]doc, loadErrs map[string]error) crdSchemas {
	var groups [][]doc
	for _, p := range ps {
		groups = append(groups, docs[p.Name])
	}
	crds := crdSchemas{}.with(groups)
	for _, p := range ps {
		errs := []error{loadErrs[p.Name]}
		for _, d := range docs[p.Name] {
			if d.checked {
				errs = append(errs, d.schemaErrs...)
			} else {
				errs = append(errs, checkSchema(d, crds).errs...)
			}
		}
		if err := errors.Join(errs...); err != nil {
			loadErrs[p.Name] = err
		}
	}
	return crds
}

// checkSchema checks d if its kind is built in or defined by a CRD of the
// repo. Sealed documents (SOPS ciphertext) are skipped: their values are
// not what the server sees.
func checkSchema(d doc, crds crdSchemas) schemaCheck {
	var sc schemaCheck
	if d.node == nil || d.enc == markSealed {
		return sc
	}
	apiVersion, _ := d.obj["apiVersion"].(string)
	kind, _ := d.obj["kind"].(string)
	gvk := schema.FromAPIVersionAndKind(apiVersion, kind)
	w := schemaWalker{d: d, what: describe(d.obj), out: &sc, secret: kind == "Secret" && apiVersion == "v1"}
	if t := builtinType(gvk); t != nil {
		w.walk(resolveAlias(d.node), t, "")
	} else if s, ok := crds.versions[gvk]; ok && s != nil {
		w.custom(resolveAlias(d.node), s)
	}
	return sc
}

var (
	kindTypesMu sync.Mutex
	kindTypes   = map[schema.GroupVersionKind]reflect.Type{}
)

// builtinType returns the Go struct of a built-in kind, nil for others.
func builtinType(gvk schema.GroupVersionKind) reflect.Type {
	kindTypesMu.Lock()
	defer kindTypesMu.Unlock()
	if t, ok := kindTypes[gvk]; ok {
		return t
	}
	var t reflect.Type
	if o, err := scheme.Scheme.New(gvk); err == nil {
		t = reflect.TypeOf(o).Elem()
	}
	kindTypes[gvk] = t
	return t
}

type schemaWalker struct {
	d      doc
	what   string // "Deployment web"
	out    *schemaCheck
	secret bool // values are never quoted, not even their types' names
}

func (w *schemaWalker) fail(n *yaml.Node, format string, args ...any) {
	e := &Error{File: w.d.file, Line: n.Line, Err: fmt.Errorf("%w: %s: "+format, append([]any{ErrInvalid, w.what}, args...)...)}
	if w.d.line == 0 {
		e.Line = 0 // kustomize output: its lines are not the repo's
	}
	w.out.errs = append(w.out.errs, e)
}

var (
	quantityType   = reflect.TypeFor[resource.Quantity]()
	intOrStrType   = reflect.TypeFor[intstr.IntOrString]()
	unmarshalerTyp = reflect.TypeFor[json.Unmarshaler]()
	byteSliceType  = reflect.TypeFor[[]byte]()
)

// walk checks n against the Go type t at the field path at.
func (w *schemaWalker) walk(n *yaml.Node, t reflect.Type, at string) {
	n = resolveAlias(n)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" && w.d.refs && strings.Contains(n.Value, "${") {
		return // substituted per cluster, typed then
	}
	switch t {
	case quantityType:
		w.quantity(n, at)
		return
	case intOrStrType:
		w.scalar(n, at, "a number or a string", "!!int", "!!str")
		return
	case byteSliceType:
		w.bytes(n, at)
		return
	}
	if reflect.PointerTo(t).Implements(unmarshalerTyp) {
		return // a type that decodes itself (times, raw JSON): not checked
	}
	switch t.Kind() {
	case reflect.Struct:
		w.object(n, t, at)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			w.fail(n, "%s: want a mapping, got %s", at, w.shown(n))
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; k.ShortTag() != "!!merge" {
				w.walk(n.Content[i+1], t.Elem(), join(at, k.Value))
			}
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			w.fail(n, "%s: want a list, got %s", at, w.shown(n))
			return
		}
		for i, item := range n.Content {
			w.walk(item, t.Elem(), fmt.Sprintf("%s[%d]", at, i))
		}
	case reflect.String:
		w.scalar(n, at, "a string", "!!str", "!!timestamp", "!!binary")
	case reflect.Bool:
		w.scalar(n, at, "true or false", "!!bool")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		w.scalar(n, at, "a whole number", "!!int")
	case reflect.Float32, reflect.Float64:
		w.scalar(n, at, "a number", "!!int", "!!float")
	}
}

// scalar reports whether n is a scalar with one of tags, and fails it in
// the words of want when not; a scalar where a string belongs is told to
// be quoted.
func (w *schemaWalker) scalar(n *yaml.Node, at, want string, tags ...string) bool {
	if n.Kind == yaml.ScalarNode && slices.Contains(tags, n.ShortTag()) {
		return true
	}
	hint := ""
	if want == "a string" && n.Kind == yaml.ScalarNode {
		hint = " (quote it)"
	}
	w.fail(n, "%s: want %s, got %s%s", at, want, w.shown(n), hint)
	return false
}

// object checks a mapping against a struct: every key must be one of its
// JSON fields.
func (w *schemaWalker) object(n *yaml.Node, t reflect.Type, at string) {
	if n.Kind != yaml.MappingNode {
		w.fail(n, "%s: want a mapping, got %s", at, w.shown(n))
		return
	}
	fields := jsonFields(t)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.ShortTag() == "!!merge" {
			continue
		}
		ft, ok := fields[k.Value]
		if ok {
			w.walk(v, ft, join(at, k.Value))
			continue
		}
		w.unknown(k, join(at, k.Value), slices.Collect(maps.Keys(fields)), "the schema of "+t.Name()+" (Kubernetes "+kubeSchemaVersion+")")
	}
}

// unknown reports a field the schema does not have, with the known field
// nearest to it if one is near. The server refuses it in an apply too.
func (w *schemaWalker) unknown(k *yaml.Node, path string, names []string, schemaOf string) {
	slices.Sort(names)
	if s, near := closest(k.Value, names); near {
		w.fail(k, "unknown field %s (did you mean %s?)", path, s)
		return
	}
	w.fail(k, "unknown field %s: not in %s", path, schemaOf)
}

var (
	fieldsMu    sync.Mutex
	fieldsCache = map[reflect.Type]map[string]reflect.Type{}
)

// jsonFields maps the JSON names of a struct's fields, embedded structs'
// fields included, to their types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	fieldsMu.Lock()
	defer fieldsMu.Unlock()
	if m, ok := fieldsCache[t]; ok {
		return m
	}
	m := map[string]reflect.Type{}
	var add func(t reflect.Type)
	add = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
			switch {
			case name == "-":
			case f.Anonymous && name == "" || strings.Contains(opts, "inline"):
				ft := f.Type
				for ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					add(ft)
				}
			case name == "":
				m[f.Name] = f.Type
			default:
				m[name] = f.Type
			}
		}
	}
	add(t)
	fieldsCache[t] = m
	return m
}

// quantity checks a resource quantity: "100m", "1Gi", 2.
func (w *schemaWalker) quantity(n *yaml.Node, at string) {
	if !w.scalar(n, at, "a quantity such as 500m or 1Gi", "!!str", "!!int", "!!float") {
		return
	}
	if _, err := resource.ParseQuantity(n.Value); err != nil {
		w.fail(n, "%s: %s is not a quantity (such as 500m, 2 or 1Gi)", at, w.shown(n))
	}
}

// bytes checks a base64-encoded value: a Secret's data. The value itself
// is never quoted.
func (w *schemaWalker) bytes(n *yaml.Node, at string) {
	if !w.scalar(n, at, "base64 text", "!!str", "!!binary") {
		return
	}
	if _, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(n.Value), "")); err != nil {
		hint := ""
		if w.secret {
			hint = " (plain text goes in stringData)"
		}
		w.fail(n, "%s: not base64%s", at, hint)
	}
}

// shown names a value's kind in a message; scalars are quoted outside
// Secrets only.
func (w *schemaWalker) shown(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode || !w.secret {
		return shown(n)
	}
	switch n.ShortTag() {
	case "!!str":
		return "a string"
	case "!!bool":
		return "true or false"
	}
	return "a number"
}

// undefinedKinds warns, once per kind, about objects of a kind that is
// neither built in nor defined by a CustomResourceDefinition the fleet
// places: offline, nothing tells whether the clusters have it, and an
// apply of it fails where they do not.
func undefinedKinds(groups [][]doc, crds crdSchemas) []string {
	defined := crds.kinds
	type use struct {
		first string
		n     int
	}
	uses := map[schema.GroupKind]*use{}
	var order []schema.GroupKind
	for _, ds := range groups {
		for _, d := range ds {
			apiVersion, _ := d.obj["apiVersion"].(string)
			kind, _ := d.obj["kind"].(string)
			gvk := schema.FromAPIVersionAndKind(apiVersion, kind)
			if gvk.Group == "" || defined[gvk.GroupKind()] || builtinGroup(gvk.Group) {
				continue
			}
			u := uses[gvk.GroupKind()]
			if u == nil {
				u = &use{first: docSource(d) + ": " + describe(d.obj)}
				uses[gvk.GroupKind()] = u
				order = append(order, gvk.GroupKind())
			}
			u.n++
		}
	}
	var out []string
	for _, gk := range order {
		u := uses[gk]
		more := ""
		if u.n > 1 {
			more = fmt.Sprintf(" (and %d more objects of the kind)", u.n-1)
		}
		out = append(out, fmt.Sprintf("%s%s: kind %s is neither built in nor defined by a CustomResourceDefinition in the repo: the clusters must have it already, or applying it fails", u.first, more, gk))
	}
	return out
}

// builtinGroup reports whether group is one of the Kubernetes API's own.
func builtinGroup(group string) bool {
	return scheme.Scheme.IsGroupRegistered(group) || group == object.CRDKind.Group || group == "apiregistration.k8s.io"
}
