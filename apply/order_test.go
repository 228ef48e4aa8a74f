package apply

import (
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"mcp.dev/mcp/internal/object"
)

func TestApplyOrder(t *testing.T) {
	type obj struct {
		key        object.Key
		wave       int
		namespaced bool
	}
	ns := func(n string) obj { return obj{key: object.Key{Kind: "Namespace", Name: n}} }
	crd := func(n string, w int) obj {
		return obj{key: object.Key{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition", Name: n}, wave: w}
	}
	cr := func(k, n string) obj {
		return obj{key: object.Key{Group: "rbac.authorization.k8s.io", Kind: k, Name: n}}
	}
	cm := func(n string, w int) obj {
		return obj{key: object.Key{Kind: "ConfigMap", Namespace: "a", Name: n}, wave: w, namespaced: true}
	}
	tests := map[string]struct {
		in          []obj
		applySteps  [][]string
		deleteSteps [][]string
	}{
		"one wave: namespaces, CRDs, cluster-scoped, namespaced": {
			in: []obj{cm("b", 0), cr("ClusterRole", "r"), crd("x.example.com", 0), ns("a"), cm("a", 0), ns("b")},
			applySteps: [][]string{
				{"Namespace a", "Namespace b"},
				{"apiextensions.k8s.io/CustomResourceDefinition x.example.com"},
				{"rbac.authorization.k8s.io/ClusterRole r"},
				{"ConfigMap a/a", "ConfigMap a/b"},
			},
			deleteSteps: [][]string{
				{"ConfigMap a/a", "ConfigMap a/b"},
				{"rbac.authorization.k8s.io/ClusterRole r"},
				{"apiextensions.k8s.io/CustomResourceDefinition x.example.com"},
				{"Namespace a", "Namespace b"},
			},
		},
		"waves first, then classes": {
			in: []obj{cm("late", 2), ns("a"), crd("y.example.com", 1), cm("early", -1), cm("mid", 0)},
			applySteps: [][]string{
				{"ConfigMap a/early"},
				{"Namespace a"},
				{"ConfigMap a/mid"},
				{"apiextensions.k8s.io/CustomResourceDefinition y.example.com"},
				{"ConfigMap a/late"},
			},
			deleteSteps: [][]string{
				{"ConfigMap a/late"},
				{"apiextensions.k8s.io/CustomResourceDefinition y.example.com"},
				{"ConfigMap a/mid"},
				{"Namespace a"},
				{"ConfigMap a/early"},
			},
		},
		"empty": {},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var items []*item
			for _, o := range tc.in {
				u := &unstructured.Unstructured{Object: map[string]any{}}
				items = append(items, &item{key: o.key, namespaced: o.namespaced, src: Object{Obj: u, Wave: o.wave}})
			}
			if got := stepKeys(applyOrder(items)); !slices.EqualFunc(got, tc.applySteps, slices.Equal) {
				t.Errorf("apply order:\n got %q\nwant %q", got, tc.applySteps)
			}
			if got := stepKeys(deleteOrder(items)); !slices.EqualFunc(got, tc.deleteSteps, slices.Equal) {
				t.Errorf("delete order:\n got %q\nwant %q", got, tc.deleteSteps)
			}
		})
	}
}

// TestDeleteWaveFromLive: an object only in the inventory takes its wave
// from the live annotation.
func TestDeleteWaveFromLive(t *testing.T) {
	live := &unstructured.Unstructured{Object: map[string]any{}}
	live.SetAnnotations(map[string]string{object.WaveAnnotation: "3"})
	it := &item{key: object.Key{Kind: "ConfigMap", Namespace: "a", Name: "x"}, live: live}
	if w := waveOf(it); w != 3 {
		t.Fatalf("wave %d, want 3", w)
	}
}

func stepKeys(steps []step) [][]string {
	var out [][]string
	for _, s := range steps {
		var keys []string
		for _, it := range s.items {
			keys = append(keys, it.key.String())
		}
		out = append(out, keys)
	}
	return out
}
