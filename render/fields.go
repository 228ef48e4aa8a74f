package render

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// field is what the repo format allows at one place of a Cluster or
// Placement document, so that a mistake is reported at the line of the
// field, in the words of the format, before the document is decoded.
type field struct {
	kind   fieldKind
	fields map[string]*field // of a mapping
	item   *field            // of a list
}

type fieldKind int

const (
	anyValue  fieldKind = iota // not checked here
	mapping                    // known fields only
	stringMap                  // any keys, string values (labels)
	anyMap                     // any keys, any values (vars)
	stringValue
	boolValue
	list
)

var (
	str        = &field{kind: stringValue}
	boolean    = &field{kind: boolValue}
	stringList = &field{kind: list, item: str}
	metaField  = &field{kind: mapping, fields: map[string]*field{
		"name": str, "namespace": str, "generateName": str,
		"labels": {kind: stringMap}, "annotations": {kind: stringMap},
		"uid": str, "resourceVersion": str, "generation": {}, "creationTimestamp": {},
		"deletionTimestamp": {}, "deletionGracePeriodSeconds": {}, "ownerReferences": {},
		"finalizers": stringList, "managedFields": {}, "selfLink": str,
	}}
	clusterFields = &field{kind: mapping, fields: map[string]*field{
		"apiVersion": str, "kind": str, "metadata": metaField,
		"spec": {kind: mapping, fields: map[string]*field{
			"kubeconfig":        {kind: mapping, fields: map[string]*field{"path": str, "context": str}},
			"inCluster":         boolean,
			"vars":              {kind: anyMap},
			"paused":            boolean,
			"kubernetesVersion": str,
		}},
	}}
	placementFields = &field{kind: mapping, fields: map[string]*field{
		"apiVersion": str, "kind": str, "metadata": metaField,
		"spec": {kind: mapping, fields: map[string]*field{
			"path": str,
			"clusterSelector": {kind: mapping, fields: map[string]*field{
				"matchLabels": {kind: stringMap},
				"matchExpressions": {kind: list, item: &field{kind: mapping, fields: map[string]*field{
					"key": str, "operator": str, "values": stringList,
				}}},
			}},
			"clusters":  stringList,
			"dependsOn": stringList,
			"namespace": str,
			"prune":     boolean,
			"vars":      {kind: anyMap},
			"chart": {kind: mapping, fields: map[string]*field{
				"path": str, "repo": str, "name": str, "version": str,
				"releaseName": str, "valuesFiles": stringList, "values": {kind: anyMap},
			}},
		}},
	}}
)

// checkFields reports every field of n that f does not allow, at its line.
func checkFields(file string, n *yaml.Node, f *field) []error {
	var errs []error
	fail := func(n *yaml.Node, format string, args ...any) {
		errs = append(errs, &Error{File: file, Line: n.Line, Err: fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)})
	}
	var walk func(n *yaml.Node, f *field, at string)
	walk = func(n *yaml.Node, f *field, at string) {
		n = resolveAlias(n)
		if f.kind == anyValue || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
			return
		}
		switch f.kind {
		case mapping, stringMap, anyMap:
			if n.Kind != yaml.MappingNode {
				fail(n, "%s must be a mapping, got %s", at, shown(n))
				return
			}
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if k.ShortTag() == "!!merge" {
					continue
				}
				switch f.kind {
				case stringMap:
					walk(v, str, join(at, k.Value))
				case mapping:
					sub, ok := f.fields[k.Value]
					if !ok {
						msg := "unknown field " + join(at, k.Value)
						if s, ok := closest(k.Value, slices.Sorted(mapsKeys(f.fields))); ok {
							msg += fmt.Sprintf(" (did you mean %s?)", s)
						}
						fail(k, "%s", msg)
						continue
					}
					walk(v, sub, join(at, k.Value))
				}
			}
		case list:
			if n.Kind != yaml.SequenceNode {
				fail(n, "%s must be a list, got %s", at, shown(n))
				return
			}
			for i, item := range n.Content {
				walk(item, f.item, fmt.Sprintf("%s[%d]", at, i))
			}
		case stringValue:
			if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
				hint := ""
				if n.Kind == yaml.ScalarNode {
					hint = " (quote it)"
				}
				fail(n, "%s: want a string, got %s%s", at, shown(n), hint)
			}
		case boolValue:
			if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
				fail(n, "%s: want true or false, got %s", at, shown(n))
			}
		}
	}
	walk(n, f, "")
	return errs
}

func join(at, key string) string {
	if at == "" {
		return key
	}
	return at + "." + key
}

func mapsKeys(m map[string]*field) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// shown is a value as a message quotes it.
func shown(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!str" {
			return fmt.Sprintf("%q", n.Value)
		}
		return n.Value
	}
	return "an alias"
}

var goStructField = regexp.MustCompile(`cannot unmarshal (\w+) into Go (?:struct field|value) (\S*) of type (\S+)`)

// plainJSONError rewords an error of encoding/json that checkFields did
// not foresee (or of kustomize's decoder), so that no Go type names reach
// a reader: "commonLabels: want a mapping, got a list".
func plainJSONError(err error) string {
	msg := strings.ReplaceAll(err.Error(), "json: ", "")
	m := goStructField.FindStringSubmatchIndex(msg)
	if m == nil {
		return msg
	}
	at := msg[m[4]:m[5]]
	if _, rest, ok := strings.Cut(at, "."); ok {
		at = rest // the Go type's name comes first
	}
	words := fmt.Sprintf("%s: want %s, got %s", at, jsonWant(msg[m[6]:m[7]]), jsonGot(msg[m[2]:m[3]]))
	return msg[:m[0]] + words + msg[m[1]:]
}

func jsonWant(goType string) string {
	switch {
	case strings.HasPrefix(goType, "map["), strings.Contains(goType, "."):
		return "a mapping"
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case goType == "bool":
		return "true or false"
	case goType == "string":
		return "a string"
	}
	return "a number"
}

func jsonGot(jsonType string) string {
	switch jsonType {
	case "array":
		return "a list"
	case "object":
		return "a mapping"
	case "bool":
		return "true or false"
	}
	return "a " + jsonType
}
