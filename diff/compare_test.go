package diff

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const deployment = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  template:
    spec:
      containers:
      - name: web
        image: nginx:1.25
        resources: {limits: {cpu: 1, memory: 1Gi}, requests: {cpu: 500m}}
      - name: sidecar
        image: envoy:1.30
`

func TestCompare(t *testing.T) {
	tests := map[string]struct {
		before, after *unstructured.Unstructured
		want          []FieldChange
	}{
		"identical": {
			before: obj(t, deployment),
			after:  obj(t, deployment),
		},
		"a scalar changes": {
			before: obj(t, deployment),
			after:  obj(t, replace(deployment, "replicas: 2", "replicas: 3")),
			want:   []FieldChange{{Path: "spec.replicas", Old: int64(2), New: int64(3)}},
		},
		"an int equals the same float": {
			before: &unstructured.Unstructured{Object: map[string]any{"kind": "X", "spec": map[string]any{"n": int64(3), "f": 1.5}}},
			after:  &unstructured.Unstructured{Object: map[string]any{"kind": "X", "spec": map[string]any{"n": float64(3), "f": 1.5}}},
		},
		"an int differs from a close float": {
			before: &unstructured.Unstructured{Object: map[string]any{"kind": "X", "spec": map[string]any{"n": int64(3)}}},
			after:  &unstructured.Unstructured{Object: map[string]any{"kind": "X", "spec": map[string]any{"n": 3.5}}},
			want:   []FieldChange{{Path: "spec.n", Old: int64(3), New: 3.5}},
		},
		"a number differs from the same string": {
			before: obj(t, "kind: X\nspec: {port: 80}"),
			after:  obj(t, "kind: X\nspec: {port: \"80\"}"),
			want:   []FieldChange{{Path: "spec.port", Old: int64(80), New: "80"}},
		},
		"equal quantities written differently": {
			before: obj(t, deployment),
			after: obj(t, replace(deployment,
				"{limits: {cpu: 1, memory: 1Gi}, requests: {cpu: 500m}}",
				`{limits: {cpu: 1000m, memory: 1024Mi}, requests: {cpu: "0.5"}}`)),
		},
		"a changed quantity": {
			before: obj(t, deployment),
			after:  obj(t, replace(deployment, "requests: {cpu: 500m}", "requests: {cpu: 250m}")),
			want: []FieldChange{{
				Path: "spec.template.spec.containers[name=web].resources.requests.cpu",
				Old:  "500m", New: "250m",
			}},
		},
		"a huge exponent is not read as a quantity": {
			before: obj(t, "kind: X\nspec: {resources: {limits: {cpu: \"1e999999999\"}}}"),
			after:  obj(t, "kind: X\nspec: {resources: {limits: {cpu: \"1\"}}}"),
			want:   []FieldChange{{Path: "spec.resources.limits.cpu", Old: "1e999999999", New: "1"}},
		},
		"quantities only compare as amounts below resources": {
			before: obj(t, "apiVersion: v1\nkind: ConfigMap\ndata: {cpu: \"1\"}"),
			after:  obj(t, "apiVersion: v1\nkind: ConfigMap\ndata: {cpu: 1000m}"),
			want:   []FieldChange{{Path: "data.cpu", Old: "1", New: "1000m"}},
		},
		"list elements are addressed by name": {
			before: obj(t, deployment),
			after: obj(t, replace(replace(deployment, "nginx:1.25", "nginx:1.27"),
				"image: envoy:1.30", "image: envoy:1.30\n      - name: log\n        image: fluentbit:3")),
			want: []FieldChange{
				{Path: "spec.template.spec.containers[name=log]", New: map[string]any{"name": "log", "image": "fluentbit:3"}},
				{Path: "spec.template.spec.containers[name=web].image", Old: "nginx:1.25", New: "nginx:1.27"},
			},
		},
		"reordering named elements is a change of order only": {
			before: obj(t, "kind: X\nspec:\n  env: [{name: A, value: a}, {name: B, value: b}]"),
			after:  obj(t, "kind: X\nspec:\n  env: [{name: B, value: b}, {name: A, value: a}]"),
			want:   []FieldChange{{Path: "spec.env", Old: []any{"A", "B"}, New: []any{"B", "A"}}},
		},
		"lists without names are compared by index, in numeric order": {
			before: obj(t, "kind: X\nspec: {args: [a, b, c, d, e, f, g, h, i, j, k]}"),
			after:  obj(t, "kind: X\nspec: {args: [a, b, C, d, e, f, g, h, i, j, K, l]}"),
			want: []FieldChange{
				{Path: "spec.args[2]", Old: "c", New: "C"},
				{Path: "spec.args[10]", Old: "k", New: "K"},
				{Path: "spec.args[11]", New: "l"},
			},
		},
		"duplicate names fall back to indexes": {
			before: obj(t, "kind: X\nspec: {ports: [{name: a, port: 1}, {name: a, port: 2}]}"),
			after:  obj(t, "kind: X\nspec: {ports: [{name: a, port: 1}, {name: a, port: 3}]}"),
			want:   []FieldChange{{Path: "spec.ports[1].port", Old: int64(2), New: int64(3)}},
		},
		"absent against present, both ways": {
			before: obj(t, "kind: X\nmetadata: {name: a, labels: {app: web}}"),
			after:  obj(t, "kind: X\nmetadata: {name: a, labels: {tier: front}, annotations: {mcp.dev/wave: \"1\"}}"),
			want: []FieldChange{
				{Path: `metadata.annotations`, New: map[string]any{"mcp.dev/wave": "1"}},
				{Path: "metadata.labels.app", Old: "web"},
				{Path: "metadata.labels.tier", New: "front"},
			},
		},
		"keys that are not identifiers are quoted": {
			before: obj(t, "kind: X\nmetadata: {annotations: {mcp.dev/wave: \"1\"}}"),
			after:  obj(t, "kind: X\nmetadata: {annotations: {mcp.dev/wave: \"2\"}}"),
			want:   []FieldChange{{Path: `metadata.annotations["mcp.dev/wave"]`, Old: "1", New: "2"}},
		},
		"null is the same as absent": {
			before: obj(t, "kind: X\nspec: {a: null}"),
			after:  obj(t, "kind: X\nspec: {}"),
		},
		"an empty map is not absent": {
			before: obj(t, "kind: X\nspec: {emptyDir: {}}"),
			after:  obj(t, "kind: X\nspec: {}"),
			want:   []FieldChange{{Path: "spec.emptyDir", Old: map[string]any{}}},
		},
		"a map replaced by a scalar": {
			before: obj(t, "kind: X\nspec: {a: {b: 1}}"),
			after:  obj(t, "kind: X\nspec: {a: b}"),
			want:   []FieldChange{{Path: "spec.a", Old: map[string]any{"b": int64(1)}, New: "b"}},
		},
		"server-owned fields are ignored": {
			before: obj(t, `
kind: X
metadata:
  name: a
  uid: 1234
  resourceVersion: "99"
  generation: 4
  creationTimestamp: "2026-01-01T00:00:00Z"
  managedFields: [{manager: mcp}]
  annotations: {kubectl.kubernetes.io/last-applied-configuration: "{}"}
spec: {a: 1}
status: {ready: true}`),
			after: obj(t, "kind: X\nmetadata: {name: a}\nspec: {a: 1}"),
		},
		"a Secret given as stringData equals its stored data": {
			before: obj(t, "apiVersion: v1\nkind: Secret\ndata: {password: czNjcjN0}"),
			after:  obj(t, "apiVersion: v1\nkind: Secret\nstringData: {password: s3cr3t}"),
		},
		"a changed Secret value keeps no value": {
			before: obj(t, "apiVersion: v1\nkind: Secret\ndata: {password: czNjcjN0, user: YWRtaW4=}"),
			after:  obj(t, "apiVersion: v1\nkind: Secret\nstringData: {password: other, token: t}\ndata: {user: YWRtaW4=}"),
			want: []FieldChange{
				{Path: "data.password", Sensitive: true},
				{Path: "data.token", Sensitive: true},
			},
		},
		"a Secret's data appearing is sensitive as a whole": {
			before: obj(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: a}"),
			after:  obj(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: a}\ndata: {password: czNjcjN0}"),
			want:   []FieldChange{{Path: "data", Sensitive: true}},
		},
		"data of a non-Secret is shown": {
			before: obj(t, "apiVersion: v1\nkind: ConfigMap\ndata: {a: x}"),
			after:  obj(t, "apiVersion: v1\nkind: ConfigMap\ndata: {a: z}"),
			want:   []FieldChange{{Path: "data.a", Old: "x", New: "z"}},
		},
		"a Secret of another group is not a core Secret": {
			before: obj(t, "apiVersion: example.com/v1\nkind: Secret\ndata: {a: x}"),
			after:  obj(t, "apiVersion: example.com/v1\nkind: Secret\ndata: {a: z}"),
			want:   []FieldChange{{Path: "data.a", Old: "x", New: "z"}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := Compare(tc.before, tc.after)
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("Compare (-want +got):\n%s", d)
			}
			if back := Compare(tc.after, tc.before); len(back) != len(got) {
				t.Errorf("Compare is not symmetric: %d changes one way, %d the other", len(got), len(back))
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	tests := map[string]struct {
		in, want string
	}{
		"server-owned metadata, status and last-applied go": {
			in: `
kind: X
metadata:
  name: a
  uid: u
  selfLink: /x
  deletionTimestamp: "2026-01-01T00:00:00Z"
  deletionGracePeriodSeconds: 30
  annotations: {kubectl.kubernetes.io/last-applied-configuration: "{}", keep: "yes"}
status: {phase: Running}`,
			want: "kind: X\nmetadata: {name: a, annotations: {keep: \"yes\"}}",
		},
		"an annotations map left empty goes": {
			in:   "kind: X\nmetadata: {name: a, annotations: {kubectl.kubernetes.io/last-applied-configuration: \"{}\"}}",
			want: "kind: X\nmetadata: {name: a}",
		},
		"stringData is merged into data and wins": {
			in:   "apiVersion: v1\nkind: Secret\ndata: {a: b2xk, c: Yw==}\nstringData: {a: new}",
			want: "apiVersion: v1\nkind: Secret\ndata: {a: bmV3, c: Yw==}",
		},
		"stringData of other kinds stays": {
			in:   "apiVersion: v1\nkind: ConfigMap\nstringData: {a: new}",
			want: "apiVersion: v1\nkind: ConfigMap\nstringData: {a: new}",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			in := obj(t, tc.in)
			orig := in.DeepCopy()
			got := Normalize(in)
			if d := cmp.Diff(obj(t, tc.want).Object, got.Object); d != "" {
				t.Errorf("Normalize (-want +got):\n%s", d)
			}
			if d := cmp.Diff(orig.Object, in.Object); d != "" {
				t.Errorf("Normalize changed its input (-before +after):\n%s", d)
			}
		})
	}
	if Normalize(nil) != nil {
		t.Error("Normalize(nil) is not nil")
	}
}
