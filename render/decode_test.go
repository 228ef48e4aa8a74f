package render

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestDecodeValues(t *testing.T) {
	docs, err := decodeFile("a.yaml", []byte(`apiVersion: v1
kind: ConfigMap
metadata: {name: x}
values:
  int: 42
  hex: 0x1F
  float: 1.5
  bool: true
  yes: yes
  null: ~
  date: 2026-11-26
  quoted: "42"
  1: numeric key
`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"int": int64(42), "hex": int64(31), "float": 1.5, "bool": true, "yes": "yes",
		"null": nil, "date": "2026-11-26", "quoted": "42", "1": "numeric key",
	}
	if diff := cmp.Diff(want, docs[0].obj["values"]); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	// Everything must be what unstructured can deep-copy.
	_ = runtime.DeepCopyJSON(docs[0].obj)
}

func TestDecodeErrors(t *testing.T) {
	tests := map[string]struct {
		in   string
		is   error
		line int
	}{
		"syntax":                       {in: "a: b\nc: [\n", is: ErrSyntax, line: 2},
		"duplicate key":                {in: "a: 1\nb: 2\na: 3\n", is: ErrDuplicateKey, line: 3},
		"infinity":                     {in: "a: .inf\n", is: ErrInvalid, line: 1},
		"custom tag":                   {in: "a: !Ref x\n", is: ErrInvalid, line: 1},
		"alias bomb":                   {in: billionLaughs, is: ErrTooLarge},
		"recursive alias":              {in: "a: &a [*a]\n", is: ErrInvalid, line: 1},
		"not a mapping":                {in: "just text\n", is: ErrInvalid, line: 1},
		"complex key":                  {in: "? [a]\n: b\n", is: ErrInvalid, line: 1},
		"nul byte":                     {in: "a: \x00\n", is: ErrBinary, line: 1},
		"invalid UTF-8":                {in: "a: 1\nb: \xc3\x28\n", is: ErrBinary, line: 2},
		"merge non-map":                {in: "a: &a 1\nb:\n  <<: *a\n", is: ErrInvalid, line: 3}, // the merge, not the anchor
		"merges itself":                {in: "a: &x\n <<: *x\n", is: ErrInvalid},
		"merges a list holding itself": {in: "a: &x\n <<: [*x]\n", is: ErrInvalid},
		"document merges itself":       {in: "&a\n<<: *a\n", is: ErrInvalid},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := decodeFile("f.yaml", []byte(tc.in))
			if !errors.Is(err, tc.is) {
				t.Fatalf("error %v, want %v", err, tc.is)
			}
			var e *Error
			if !errors.As(err, &e) || e.File != "f.yaml" {
				t.Fatalf("error %v does not name the file", err)
			}
			if tc.line != 0 && e.Line != tc.line {
				t.Errorf("line %d, want %d (%v)", e.Line, tc.line, err)
			}
		})
	}
}

func TestAliasBombCheck(t *testing.T) {
	if !aliasBomb([]byte(billionLaughs), 0) {
		t.Error("billion laughs not found")
	}
	inline := "patches:\n- patch: |\n" + indent(billionLaughs, "    ")
	if !aliasBomb([]byte(inline), 1) {
		t.Error("billion laughs in an inline patch not found")
	}
	ok := "a: &a {x: 1}\nb: *a\nc: [*a, *a]\n"
	if aliasBomb([]byte(ok), 2) {
		t.Error("ordinary aliases taken for a bomb")
	}
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(strings.TrimSuffix(s, "\n"), "\n", "\n"+prefix) + "\n"
}

// FuzzDecode checks the manifest decoder on any input: no panic, every
// error names the file, and what it accepts are JSON values that survive
// a round trip through JSON unchanged.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
		"---\n---\na: 1\n---\nb: [1, 2.5, true, null]\n",
		"kind: List\nitems:\n- {kind: A}\n- {kind: B}\n",
		"kind: ConfigMapList\napiVersion: v1\nitems: [{kind: ConfigMap}]\n",
		"a: &x {b: 1}\nc:\n  <<: *x\n  d: 2\n",
		`{"a": {"b": [1, "x"]}, "c": null}`,
		"a: 1\na: 2\n",
		billionLaughs,
		"a: !!binary aGVsbG8=\nb: 2026-01-01\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, err := decodeFile("f.yaml", data)
		for _, e := range flatten(err) {
			if !strings.HasPrefix(e.Error(), "f.yaml") {
				t.Fatalf("error does not name the file: %v", e)
			}
		}
		if err != nil {
			return
		}
		for _, d := range docs {
			_ = runtime.DeepCopyJSON(d.obj) // panics on a non-JSON value
			out, err := json.Marshal(d.obj)
			if err != nil {
				t.Fatalf("accepted %q but cannot encode it: %v", data, err)
			}
			again, err := decodeFile("f.json", out)
			if err != nil || len(again) != 1 {
				if d.obj["kind"] != nil && strings.HasSuffix(d.obj["kind"].(string), "List") {
					return // a list item that is itself a list flattens again
				}
				t.Fatalf("round trip of %s: %v (%d docs)", out, err, len(again))
			}
			// reflect.DeepEqual first: go-cmp takes minutes on the large
			// documents a few aliases make, and is only needed to explain.
			if !reflect.DeepEqual(d.obj, again[0].obj) {
				t.Fatalf("round trip changed %q (-first +second):\n%s", data, cmp.Diff(d.obj, again[0].obj))
			}
		}
	})
}
