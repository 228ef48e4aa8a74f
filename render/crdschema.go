package render

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"mcp.dev/mcp/internal/object"
)

// Objects of a custom kind are checked against the openAPIV3Schema of the
// CustomResourceDefinition in the repo that defines their version, the
// way the server validates them: types, unknown fields (where the schema
// does not preserve them) and enums. Other schema keywords (formats,
// patterns, bounds, CEL rules, anyOf) are left to the server.

// crdSchemas is what the CRDs of a repo define.
type crdSchemas struct {
	kinds    map[schema.GroupKind]bool
	versions map[schema.GroupVersionKind]map[string]any // nil: no schema
}

// with returns c and the CRDs among groups of documents.
func (c crdSchemas) with(groups [][]doc) crdSchemas {
	out := crdSchemas{kinds: maps.Clone(c.kinds), versions: maps.Clone(c.versions)}
	if out.kinds == nil {
		out.kinds = map[schema.GroupKind]bool{}
		out.versions = map[schema.GroupVersionKind]map[string]any{}
	}
	for _, docs := range groups {
		for _, d := range docs {
			if d.obj["kind"] != object.CRDKind.Kind || !strings.HasPrefix(fmt.Sprint(d.obj["apiVersion"]), object.CRDKind.Group+"/") || d.enc == markSealed {
				continue
			}
			group, _, _ := unstructured.NestedString(d.obj, "spec", "group")
			kind, _, _ := unstructured.NestedString(d.obj, "spec", "names", "kind")
			if kind == "" {
				continue
			}
			out.kinds[schema.GroupKind{Group: group, Kind: kind}] = true
			shared, _, _ := unstructured.NestedMap(d.obj, "spec", "validation", "openAPIV3Schema") // v1beta1
			versions, _, _ := unstructured.NestedSlice(d.obj, "spec", "versions")
			for _, v := range versions {
				v, _ := v.(map[string]any)
				name, _ := v["name"].(string)
				s, _, _ := unstructured.NestedMap(v, "schema", "openAPIV3Schema")
				if s == nil {
					s = shared
				}
				out.versions[schema.GroupVersionKind{Group: group, Version: name, Kind: kind}] = s
			}
		}
	}
	return out
}

var objectMetaType = reflect.TypeFor[metav1.ObjectMeta]()

// crdSchemaOf ends the message about a field a CRD's schema lacks.
const crdSchemaOf = "the schema of its CustomResourceDefinition in the repo"

// custom checks a custom object against its version's schema; metadata is
// checked as for built-in kinds.
func (w *schemaWalker) custom(n *yaml.Node, s map[string]any) {
	if n.Kind != yaml.MappingNode {
		return
	}
	w.required(n, s, "")
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		switch k.Value {
		case "apiVersion", "kind":
		case "metadata":
			w.walk(v, objectMetaType, "metadata")
		default:
			props, _ := s["properties"].(map[string]any)
			if ps, ok := props[k.Value].(map[string]any); ok {
				w.openAPI(v, ps, k.Value)
			} else if !preserves(s) {
				w.unknown(k, k.Value, append(slices.Collect(maps.Keys(props)), "apiVersion", "kind", "metadata"), crdSchemaOf)
			}
		}
	}
}

// openAPI checks n against a structural schema s at the path at.
func (w *schemaWalker) openAPI(n *yaml.Node, s map[string]any, at string) {
	n = resolveAlias(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" && w.d.refs && strings.Contains(n.Value, "${") {
		return
	}
	if s["x-kubernetes-int-or-string"] == true {
		w.scalar(n, at, "a number or a string", "!!int", "!!str")
		return
	}
	typ, _ := s["type"].(string)
	switch typ {
	case "object":
		if n.Kind != yaml.MappingNode {
			w.fail(n, "%s: want a mapping, got %s", at, w.shown(n))
			return
		}
		if s["x-kubernetes-embedded-resource"] == true {
			return // an object of its own kind, checked by the server
		}
		w.required(n, s, at)
		props, _ := s["properties"].(map[string]any)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.ShortTag() == "!!merge" {
				continue
			}
			if ps, ok := props[k.Value].(map[string]any); ok {
				w.openAPI(v, ps, join(at, k.Value))
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case map[string]any:
				w.openAPI(v, ap, join(at, k.Value))
				continue
			case bool:
				if ap {
					continue
				}
			}
			if !preserves(s) && props != nil {
				w.unknown(k, join(at, k.Value), slices.Collect(maps.Keys(props)), crdSchemaOf)
			}
		}
	case "array":
		if n.Kind != yaml.SequenceNode {
			w.fail(n, "%s: want a list, got %s", at, w.shown(n))
			return
		}
		items, _ := s["items"].(map[string]any)
		for i, item := range n.Content {
			if items != nil {
				w.openAPI(item, items, fmt.Sprintf("%s[%d]", at, i))
			}
		}
	case "string":
		if w.scalar(n, at, "a string", "!!str", "!!timestamp") {
			w.enum(n, s, at)
		}
	case "integer":
		w.scalar(n, at, "a whole number", "!!int")
	case "number":
		w.scalar(n, at, "a number", "!!int", "!!float")
	case "boolean":
		w.scalar(n, at, "true or false", "!!bool")
	}
}

// required reports the fields the schema requires that mapping n lacks.
func (w *schemaWalker) required(n *yaml.Node, s map[string]any, at string) {
	names, _ := s["required"].([]any)
	for _, name := range names {
		name, _ := name.(string)
		if name == "" || hasKey(n, name) {
			continue
		}
		where := "the object"
		if at != "" {
			where = at
		}
		w.fail(n, "%s: missing required field %s", where, name)
	}
}

// hasKey reports whether mapping n has key with a value that is not null.
func hasKey(n *yaml.Node, key string) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if v := n.Content[i+1]; n.Content[i].Value == key {
			return v.Kind != yaml.ScalarNode || v.ShortTag() != "!!null"
		}
	}
	return false
}

// enum checks a string against the schema's enum, if it has one.
func (w *schemaWalker) enum(n *yaml.Node, s map[string]any, at string) {
	values, ok := s["enum"].([]any)
	if !ok || slices.Contains(values, any(n.Value)) {
		return
	}
	var allowed []string
	for _, v := range values {
		allowed = append(allowed, fmt.Sprint(v))
	}
	msg := fmt.Sprintf("%s: %s is not one of %s", at, w.shown(n), strings.Join(allowed, ", "))
	if c, ok := closest(n.Value, allowed); ok {
		msg += fmt.Sprintf(" (did you mean %s?)", c)
	}
	w.fail(n, "%s", msg)
}

// preserves reports whether a schema keeps fields it does not list.
func preserves(s map[string]any) bool {
	return s["x-kubernetes-preserve-unknown-fields"] == true
}
