package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
	"unique"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// maxValues bounds how many values one document may expand to. YAML
// aliases let a few kilobytes name billions of values; the parser keeps
// aliases as references, and the conversion below counts every value it
// produces, so an alias bomb stops here instead of exhausting memory.
const maxValues = 4 << 20

// doc is one Kubernetes document of a manifest, parsed but not yet
// substituted: each cluster converts node again with its own variables.
type doc struct {
	file  string
	line  int
	index int
	node  *yaml.Node     // the document's mapping
	obj   map[string]any // node converted without substitution
	// refs reports whether some string holds "${cluster." or "${var.", so
	// that documents without any skip the per-cluster conversion.
	refs bool
	// bytes is the document's share of the bytes it was read from.
	bytes int64
	// enc is markDecrypted or markSealed for a document of a
	// SOPS-encrypted file, "" otherwise.
	enc string
	// warnings and, when checked (a kind the schema check knows without
	// the repo's CRDs), schemaErrs are what settle found.
	checked    bool
	warnings   []string
	schemaErrs []error
}

// settle runs the checks of a placement's document that read its YAML
// nodes and nothing else: the warnings about other tools' syntax and the
// schema of a built-in kind. Then the nodes go, unless the document has
// references to substitute per cluster or a kind only the repo's CRDs
// describe: they are the larger half of a parsed document, and a
// placement of thousands of files would otherwise hold them all at once.
// Every document of a placement is settled once, as its file is read or
// its kustomization built.
func (d *doc) settle() {
	d.warnings = foreignWarnings(*d)
	apiVersion, _ := d.obj["apiVersion"].(string)
	kind, _ := d.obj["kind"].(string)
	if d.enc == markSealed || builtinType(schema.FromAPIVersionAndKind(apiVersion, kind)) != nil {
		d.schemaErrs, d.checked = checkSchema(*d, crdSchemas{}).errs, true
	}
	if d.checked && !d.refs {
		d.node = nil
	}
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// decodeFile parses every document of a YAML (or JSON) file. Empty
// documents are skipped; "kind: List" and typed lists are flattened into
// their items. Every problem found is returned, joined.
func decodeFile(file string, data []byte) ([]doc, error) {
	if err := checkText(file, data); err != nil {
		return nil, err
	}
	return decodeDocs(file, data)
}

// decodeDocs is decodeFile without the checks of checkText.
func decodeDocs(file string, data []byte) ([]doc, error) {
	var docs []doc
	var errs []error
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for index := 0; ; index++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if err == io.EOF {
			break
		}
		if err != nil {
			// The parser cannot go on after a syntax error.
			errs = append(errs, syntaxError(file, err))
			break
		}
		if len(n.Content) == 0 {
			continue
		}
		root := n.Content[0]
		if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
			continue // a document of only comments or "~"
		}
		if root.Kind != yaml.MappingNode {
			errs = append(errs, &Error{File: file, Line: root.Line, Err: fmt.Errorf("%w: document is not a mapping", ErrInvalid)})
			continue
		}
		got, err := newDocs(file, index, root)
		docs = append(docs, got...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return docs, errors.Join(errs...)
}

// checkText refuses what is not a text file render could safely parse.
func checkText(file string, data []byte) error {
	if len(data) > MaxFileSize {
		return &Error{File: file, Err: fmt.Errorf("%w: %d bytes, the limit is %d", ErrTooLarge, len(data), MaxFileSize)}
	}
	if i := bytes.IndexByte(data, 0); i >= 0 {
		return &Error{File: file, Line: lineAt(data, i), Err: fmt.Errorf("%w: binary file (NUL byte)", ErrBinary)}
	}
	if !utf8.Valid(data) {
		i := 0
		for i < len(data) {
			r, size := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			i += size
		}
		return &Error{File: file, Line: lineAt(data, i), Err: fmt.Errorf("%w: invalid UTF-8", ErrBinary)}
	}
	return nil
}

func lineAt(data []byte, offset int) int {
	return bytes.Count(data[:offset], []byte("\n")) + 1
}

func syntaxError(file string, err error) error {
	msg := err.Error()
	line := 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	return &Error{File: file, Line: line, Err: fmt.Errorf("%w: %s", ErrSyntax, msg)}
}

// newDocs converts one mapping and flattens it when it is a list.
func newDocs(file string, index int, n *yaml.Node) ([]doc, error) {
	c := converter{file: file, budget: maxValues}
	v := c.value(n)
	if err := errors.Join(c.errs...); err != nil {
		return nil, err
	}
	obj := v.(map[string]any)
	if items, ok := listItems(obj, n); ok {
		var docs []doc
		var errs []error
		for _, item := range items {
			if item.Kind != yaml.MappingNode {
				errs = append(errs, &Error{File: file, Line: item.Line, Err: fmt.Errorf("%w: list item is not a mapping", ErrInvalid)})
				continue
			}
			got, err := newDocs(file, index, item)
			docs = append(docs, got...)
			if err != nil {
				errs = append(errs, err)
			}
		}
		return docs, errors.Join(errs...)
	}
	return []doc{{file: file, line: n.Line, index: index, node: n, obj: obj, refs: c.refs}}, nil
}

// listItems returns the item nodes of a "kind: List" or of a typed list
// (ConfigMapList, ...). A kind ending in "List" counts as a list only when
// it has nothing but apiVersion, kind, metadata and an items sequence, so
// a custom resource that happens to be called "AllowList" is left alone.
func listItems(obj map[string]any, n *yaml.Node) ([]*yaml.Node, bool) {
	kind, _ := obj["kind"].(string)
	if !strings.HasSuffix(kind, "List") {
		return nil, false
	}
	if _, ok := obj["items"].([]any); !ok {
		return nil, false
	}
	if kind != "List" {
		for k := range obj {
			switch k {
			case "apiVersion", "kind", "metadata", "items":
			default:
				return nil, false
			}
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "items" {
			return resolveAlias(n.Content[i+1]).Content, true
		}
	}
	return nil, false
}

// yaml11Bools are the plain scalars YAML 1.1 (helm's values files) reads
// as booleans and YAML 1.2 as strings.
var yaml11Bools = map[string]bool{
	"y": true, "Y": true, "yes": true, "Yes": true, "YES": true, "on": true, "On": true, "ON": true,
	"n": false, "N": false, "no": false, "No": false, "NO": false, "off": false, "Off": false, "OFF": false,
}

func resolveAlias(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// converter turns a yaml.Node into the JSON-compatible values an
// unstructured.Unstructured holds (map[string]any, []any, string, int64,
// float64, bool, nil), substituting strings when subst is set.
type converter struct {
	file   string
	budget int
	subst  func(s string) (string, error)
	// what names the object in messages when lines mean nothing to a
	// reader (kustomize output); "" uses lines.
	what string
	// yaml11 reads plain yes/no/on/off as booleans, as helm reads values
	// files (YAML 1.1).
	yaml11 bool
	refs   bool
	errs   []error
	// expanding are the anchors being expanded, to stop recursive aliases.
	expanding map[*yaml.Node]bool
}

func (c *converter) fail(n *yaml.Node, err error) {
	if c.what != "" {
		c.errs = append(c.errs, &Error{File: c.file, Err: fmt.Errorf("%s: %w", c.what, err)})
		return
	}
	c.errs = append(c.errs, &Error{File: c.file, Line: n.Line, Err: err})
}

func (c *converter) value(n *yaml.Node) any {
	c.budget--
	if c.budget == 0 {
		c.fail(n, fmt.Errorf("%w: the document expands to more than %d values (YAML alias bomb?)", ErrTooLarge, maxValues))
	}
	if c.budget <= 0 {
		return nil
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil || c.expanding[n.Alias] {
			c.fail(n, fmt.Errorf("%w: recursive YAML alias", ErrInvalid))
			c.budget = 0
			return nil
		}
		if c.expanding == nil {
			c.expanding = map[*yaml.Node]bool{}
		}
		c.expanding[n.Alias] = true
		defer delete(c.expanding, n.Alias)
		return c.value(n.Alias)
	case yaml.MappingNode:
		return c.mapping(n)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, item := range n.Content {
			out = append(out, c.value(item))
		}
		return out
	case yaml.ScalarNode:
		return c.scalar(n)
	}
	c.fail(n, fmt.Errorf("%w: unexpected YAML node", ErrInvalid))
	return nil
}

func (c *converter) mapping(n *yaml.Node) map[string]any {
	out := make(map[string]any, len(n.Content)/2)
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merges = append(merges, v)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			c.fail(k, fmt.Errorf("%w: mapping key is not a string", ErrInvalid))
			continue
		}
		if _, dup := out[k.Value]; dup {
			c.fail(k, fmt.Errorf("%w %q", ErrDuplicateKey, k.Value))
			continue
		}
		// Keys are interned: the objects of a render repeat the same few
		// hundred (apiVersion, metadata, name, ...) thousands of times.
		out[unique.Make(k.Value).Value()] = c.value(v)
	}
	// "<<: *base" merges keys not set explicitly; with a sequence of
	// mappings the earlier one wins (YAML merge key type).
	for _, m := range merges {
		// The mapping is read through value, alias and all, so that a
		// mapping merging itself ("a: &x {<<: *x}") is a recursive alias,
		// not an endless recursion.
		sources := []*yaml.Node{m}
		if r := resolveAlias(m); r.Kind == yaml.SequenceNode {
			sources = r.Content
		}
		for _, s := range sources {
			merged, ok := c.value(s).(map[string]any)
			if !ok {
				c.fail(s, fmt.Errorf("%w: merge key (<<) needs a mapping", ErrInvalid))
				continue
			}
			for k, v := range merged {
				if _, set := out[k]; !set {
					out[k] = v
				}
			}
		}
	}
	return out
}

func (c *converter) scalar(n *yaml.Node) any {
	switch n.ShortTag() {
	case "!!str":
		s := n.Value
		if c.yaml11 && n.Style == 0 {
			if b, ok := yaml11Bools[s]; ok {
				return b
			}
		}
		if !hasRefs(s) {
			return s
		}
		c.refs = true
		if c.subst == nil {
			return s
		}
		out, err := c.subst(s)
		if err != nil {
			for _, e := range flatten(err) {
				c.fail(n, e)
			}
			return s
		}
		// A plain scalar that is exactly one reference takes the YAML type
		// of its value, as if the value had been written there:
		// "replicas: ${var.replicas}" is a number. Quote it to keep a
		// string. Only scalar types can result, never structure.
		// The value is typed, never substituted again: a variable whose
		// value is itself a reference stays that text.
		if n.Style == 0 && isSingleRef(s) {
			tag := (&yaml.Node{Kind: yaml.ScalarNode, Value: out}).ShortTag()
			if tag != "!!str" {
				return c.scalar(&yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: out, Line: n.Line})
			}
		}
		return out
	case "!!null":
		return nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			c.fail(n, fmt.Errorf("%w: %v", ErrInvalid, err))
		}
		return b
	case "!!int":
		var i int64
		if err := n.Decode(&i); err != nil {
			c.fail(n, fmt.Errorf("%w: integer %s out of range", ErrInvalid, n.Value))
		}
		return i
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			c.fail(n, fmt.Errorf("%w: %v", ErrInvalid, err))
		}
		if math.IsInf(f, 0) || math.IsNaN(f) {
			c.fail(n, fmt.Errorf("%w: %s has no JSON form", ErrInvalid, n.Value))
			return nil
		}
		// JSON does not tell 8.0 from 8, and what the API server sends
		// back decodes as int64: keep them equal for diffs. Every
		// integral float within int64's range converts exactly.
		if f == math.Trunc(f) && math.Abs(f) < 1<<63 {
			return int64(f)
		}
		return f
	case "!!timestamp", "!!binary":
		// JSON has neither; the API server receives them as strings.
		return n.Value
	}
	c.fail(n, fmt.Errorf("%w: unsupported YAML tag %s", ErrInvalid, n.Tag))
	return nil
}
