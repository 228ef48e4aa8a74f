package apply

import (
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestContains(t *testing.T) {
	u := func(o map[string]any) *unstructured.Unstructured { return &unstructured.Unstructured{Object: o} }
	tests := map[string]struct {
		desired, live map[string]any
		want          bool
	}{
		"server defaults and status are extra": {
			desired: map[string]any{"spec": map[string]any{"ports": []any{map[string]any{"port": int64(80)}}}},
			live: map[string]any{"spec": map[string]any{"clusterIP": "10.0.0.1",
				"ports": []any{map[string]any{"port": int64(80), "protocol": "TCP"}}}, "status": map[string]any{}},
			want: true,
		},
		"a changed value": {
			desired: map[string]any{"spec": map[string]any{"replicas": int64(2)}},
			live:    map[string]any{"spec": map[string]any{"replicas": int64(5)}},
			want:    false,
		},
		"a missing field": {
			desired: map[string]any{"data": map[string]any{"a": "1", "b": "2"}},
			live:    map[string]any{"data": map[string]any{"a": "1"}},
			want:    false,
		},
		"an extra list element": {
			desired: map[string]any{"l": []any{"a"}},
			live:    map[string]any{"l": []any{"a", "b"}},
			want:    false,
		},
		"equal quantities and numbers": {
			desired: map[string]any{"resources": map[string]any{"limits": map[string]any{"cpu": "1000m", "memory": "0.5Gi"}}, "n": int64(1)},
			live:    map[string]any{"resources": map[string]any{"limits": map[string]any{"cpu": "1", "memory": "512Mi"}}, "n": float64(1)},
			want:    true,
		},
		"secret stringData matches stored data": {
			desired: map[string]any{"kind": "Secret", "apiVersion": "v1", "stringData": map[string]any{"p": "hunter2"}},
			live:    map[string]any{"kind": "Secret", "apiVersion": "v1", "data": map[string]any{"p": "aHVudGVyMg=="}, "type": "Opaque"},
			want:    true,
		},
		"secret stringData changed": {
			desired: map[string]any{"kind": "Secret", "apiVersion": "v1", "stringData": map[string]any{"p": "new"}},
			live:    map[string]any{"kind": "Secret", "apiVersion": "v1", "data": map[string]any{"p": "aHVudGVyMg=="}},
			want:    false,
		},
		"an empty map the server dropped": {
			desired: map[string]any{"metadata": map[string]any{"annotations": map[string]any{}}},
			live:    map[string]any{"metadata": map[string]any{}},
			want:    true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := contains(u(tc.live), u(tc.desired)); got != tc.want {
				t.Fatalf("contains = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestAppliedHash(t *testing.T) {
	a := &unstructured.Unstructured{Object: map[string]any{"kind": "ConfigMap", "data": map[string]any{"a": "1", "b": "2"}}}
	b := &unstructured.Unstructured{Object: map[string]any{"data": map[string]any{"b": "2", "a": "1"}, "kind": "ConfigMap"}}
	compact := func(u *unstructured.Unstructured) *compacted { return Object{Obj: u}.Compact().compacted }
	ca, cb := compact(a), compact(b)
	ha, hb := ca.hash, cb.hash
	if ha != hb || ha == "" {
		t.Fatalf("equal objects hash to %q and %q", ha, hb)
	}
	if hc := compact(withHash(a, ha)).hash; hc == ha {
		t.Fatal("the hash must change with the content")
	}
	if s := stripHash(withHash(a, ha)); s.GetAnnotations() != nil {
		t.Fatalf("stripHash left %v", s.GetAnnotations())
	}
	if unchanged(ca.json, withHash(a, "stale"), ha) {
		t.Fatal("a stale hash must not pass the fast path")
	}
	if !unchanged(ca.json, withHash(a, ha), ha) {
		t.Fatal("the live copy of the applied object must pass the fast path")
	}
}
