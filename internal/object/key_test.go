package object

import (
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestKeyString(t *testing.T) {
	tests := map[string]struct {
		obj  map[string]any
		want string
	}{
		"namespaced in a group": {
			obj:  map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "web", "namespace": "shop"}},
			want: "apps/Deployment shop/web",
		},
		"cluster-scoped core": {
			obj:  map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "shop"}},
			want: "Namespace shop",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := KeyOf(&unstructured.Unstructured{Object: tc.obj}).String()
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCompareOrdersByEveryField(t *testing.T) {
	a := Key{Group: "apps", Kind: "Deployment", Namespace: "a", Name: "x"}
	b := a
	b.Name = "y"
	if Compare(a, b) >= 0 || Compare(b, a) <= 0 || Compare(a, a) != 0 {
		t.Fatalf("Compare does not order %v before %v", a, b)
	}
}

func TestDuplicates(t *testing.T) {
	type doc struct {
		name string
		at   int
	}
	items := []doc{{"a", 0}, {"b", 1}, {"a", 2}, {"c", 3}, {"a", 4}, {"b", 5}}
	got := Duplicates(items, func(d doc) Key { return Key{Kind: "ConfigMap", Namespace: "n", Name: d.name} })
	want := [][2]doc{{{"a", 0}, {"a", 2}}, {{"a", 2}, {"a", 4}}, {{"b", 1}, {"b", 5}}}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if got := Duplicates(items[:2], func(d doc) Key { return Key{Name: d.name} }); got != nil {
		t.Fatalf("no duplicates, got %v", got)
	}
}

func TestAnnotationAndLabel(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{
			"annotations": map[string]any{"a": "1", "n": int64(2)},
			"labels":      map[string]any{"l": "x"},
		},
	}}
	for _, tc := range []struct{ got, want string }{
		{Annotation(u, "a"), "1"},
		{Annotation(u, "missing"), ""},
		{Annotation(u, "n"), ""}, // not a string: none, as a server never sends
		{Annotation(u, "l"), ""},
		{Label(u, "l"), "x"},
		{Label(u, "a"), ""},
		{Annotation(&unstructured.Unstructured{Object: map[string]any{}}, "a"), ""},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
