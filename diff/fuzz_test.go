package diff

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// FuzzCompare checks on arbitrary JSON objects that Compare never panics,
// finds nothing between an object and itself, sees as many changes both
// ways, and that every writer copes with the result.
func FuzzCompare(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(testdataDir, "*", "*.yaml"))
	for _, s := range seeds {
		if filepath.Base(filepath.Dir(s)) == "realworld" {
			continue // too large to be a useful seed
		}
		for _, u := range objsFile(f, s) {
			b, err := u.MarshalJSON()
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b, b)
		}
	}
	f.Add([]byte(`{"kind":"Secret","apiVersion":"v1","data":{"a":"eA=="}}`), []byte(`{"kind":"Secret","apiVersion":"v1","stringData":{"a":"y"}}`))
	f.Add([]byte(`{"spec":{"resources":{"limits":{"cpu":1}}}}`), []byte(`{"spec":{"resources":{"limits":{"cpu":"1000m"}}}}`))
	f.Add([]byte(`{"resources":{"cpu":"1e999999999"}}`), []byte(`{"resources":{"cpu":"1"}}`))
	f.Add([]byte(`{"l":[{"name":"a"},{"name":"b"}]}`), []byte(`{"l":[{"name":"b"},{"name":"a","x":[1,2]}]}`))

	f.Fuzz(func(t *testing.T, a, b []byte) {
		x, okX := fuzzObject(a)
		y, okY := fuzzObject(b)
		if !okX || !okY {
			return
		}
		if got := Compare(x, x); len(got) != 0 {
			t.Fatalf("Compare(x, x) = %v for %s", got, a)
		}
		xy, yx := Compare(x, y), Compare(y, x)
		if len(xy) != len(yx) {
			t.Fatalf("%d changes one way, %d the other:\n%v\n%v", len(xy), len(yx), xy, yx)
		}
		p := Plan{Clusters: []ClusterPlan{NewClusterPlan("c", []*unstructured.Unstructured{x}, []*unstructured.Unstructured{y})}}
		var buf bytes.Buffer
		for _, err := range []error{WriteText(&buf, p, TextOptions{Color: true}), WriteMarkdown(&buf, p), WriteJSON(&buf, p)} {
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}

// fuzzObject decodes a JSON object as encoding/json does (every number a
// float64), the other shape besides the int64 of unstructured decoding.
func fuzzObject(data []byte) (*unstructured.Unstructured, bool) {
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil || m == nil {
		return nil, false
	}
	return &unstructured.Unstructured{Object: m}, true
}

// BenchmarkCompareLargeCRD diffs cert-manager's largest CRD (334 KB of
// YAML) against a copy with one description changed deep in its schema.
func BenchmarkCompareLargeCRD(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(testdataDir, "realworld", "cert-manager.io_clusterissuers.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	before := objs(b, data)[0]
	after := before.DeepCopy()
	// NestedSlice would copy; the change must land in after itself.
	versions := after.Object["spec"].(map[string]any)["versions"].([]any)
	schema := versions[0].(map[string]any)["schema"].(map[string]any)["openAPIV3Schema"].(map[string]any)
	if err := unstructured.SetNestedField(schema, "changed", "properties", "spec", "description"); err != nil {
		b.Fatal(err)
	}
	if got := Compare(before, after); len(got) != 1 {
		b.Fatalf("want one change, got %v", got)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		Compare(before, after)
	}
}
