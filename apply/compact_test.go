package apply

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestCompact: a compact object is its JSON, with the hash mcp always
// gave it (objects on clusters carry it: another hash would re-apply
// every one of them), and decodes to the object it was, numbers and all.
func TestCompact(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web", "namespace": "shop", "annotations": map[string]any{"mcp.dev/wave": "2"}},
		"spec": map[string]any{
			"replicas": int64(3), "ratio": 0.5, "paused": false, "selector": nil,
			"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "web", "args": []any{"a", "b"}}}}},
		},
	}}
	b, err := json.Marshal(u.Object)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	want := hex.EncodeToString(sum[:16]) // the hash as mcp always made it
	o := Object{Obj: u, Source: "apps/web.yaml:1"}.Compact()
	if o.Obj != nil || o.json == nil {
		t.Fatalf("compact: Obj %v, %d bytes of JSON; want the JSON only", o.Obj, len(o.json))
	}
	if o.hash != want {
		t.Errorf("hash %s, want %s (of the whole object's JSON)", o.hash, want)
	}
	if o.gvk != u.GroupVersionKind() || o.name != "web" || o.namespace != "shop" || o.Source != "apps/web.yaml:1" {
		t.Errorf("compact: gvk %v, %s/%s, source %q", o.gvk, o.namespace, o.name, o.Source)
	}
	if diff := cmp.Diff(u.Object, o.object().Object); diff != "" {
		t.Errorf("decoded (-as rendered +decoded):\n%s", diff)
	}
	if again := o.Compact(); string(again.json) != string(o.json) || again.hash != o.hash {
		t.Errorf("compacting a compact object changed it")
	}

	it := &item{body: o.json}
	if got := it.desiredAnnotation("mcp.dev/wave"); got != "2" {
		t.Errorf("annotation mcp.dev/wave: %q, want 2", got)
	}
	if got := it.desiredAnnotation("mcp.dev/replace"); got != "" {
		t.Errorf("absent annotation: %q", got)
	}
}

// TestCompactKeepsWhatDoesNotEncode: an object that does not encode stays
// whole, and its plan says why.
func TestCompactKeepsWhatDoesNotEncode(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "data": map[string]any{"f": func() {}}}}
	o, err := Object{Obj: u}.compact()
	if err == nil || o.Obj != u || o.compacted != nil {
		t.Errorf("compact of an object that does not encode: err %v, Obj kept %v", err, o.Obj == u)
	}
}

// TestPlanRefusesObjectWithoutContent: an Object with neither maps nor
// JSON (rendered objects taken twice) fails the cluster's plan: planned
// without it, the cluster would lose the object it stands for.
func TestPlanRefusesObjectWithoutContent(t *testing.T) {
	err := (&Applier{}).mapDesired(&Plan{}, []Object{{Source: "apps/web.yaml:1"}})
	if err == nil || !strings.Contains(err.Error(), "apps/web.yaml:1") {
		t.Errorf("err %v, want one naming apps/web.yaml:1", err)
	}
}
