package object

import (
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
