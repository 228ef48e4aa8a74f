package apply

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"mcp.dev/mcp/diff"
	"mcp.dev/mcp/internal/object"
)

const typical = `---
apiVersion: v1
kind: Namespace
metadata: {name: nodiff}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: nodiff}
spec:
  selector: {app: web}
  ports:
  - port: 80
    targetPort: 8080
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: nodiff}
stringData:
  password: hunter2
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: quota, namespace: nodiff}
spec:
  hard: {requests.cpu: 1000m, limits.memory: 1Gi, pods: "10"}
---
apiVersion: v1
kind: LimitRange
metadata: {name: limits, namespace: nodiff}
spec:
  limits:
  - type: Container
    default: {cpu: 500m, memory: 0.25Gi}
    defaultRequest: {cpu: 0.1, memory: 64Mi}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: nodiff}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        env: [{name: A, value: "1"}]
        ports: [{containerPort: 8080, name: http}]
        resources:
          requests: {cpu: 1000m, memory: 64Mi}
          limits: {cpu: 2, memory: 0.5Gi}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: tick, namespace: nodiff}
spec:
  schedule: "*/5 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: tick, image: busybox, args: [date]}]
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.nodiff.example.com}
spec:
  group: nodiff.example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer, default: 3}
              color: {type: string}
---
apiVersion: nodiff.example.com/v1
kind: Widget
metadata: {name: w, namespace: nodiff}
spec: {color: blue}
`

// TestNoFalseDiff: objects mcp applied and nobody touched are unchanged,
// through the fast path and through the server's dry-run alike, although
// the server defaulted many fields and stored quantities and Secret data
// in its own form. The CRD and its custom resource are applied together.
func TestNoFalseDiff(t *testing.T) {
	opts := testOptions(t)
	a, _ := newApplier(t, "us", opts)
	desired := objects(t, typical)
	r := applyOK(t, a, desired)
	if r.Created != len(desired) {
		t.Fatalf("created %d of %d", r.Created, len(desired))
	}
	// The custom resource got its schema default: the CRD was Established
	// before it was applied.
	w, err := dyn(t, "us").Resource(schema.GroupVersionResource{Group: "nodiff.example.com", Version: "v1", Resource: "widgets"}).
		Namespace("nodiff").Get(context.Background(), "w", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if w.Object["spec"].(map[string]any)["size"] != int64(3) {
		t.Fatalf("widget spec %v", w.Object["spec"])
	}

	t.Run("fast path", func(t *testing.T) {
		b, n := newApplier(t, "us", opts)
		requireUnchanged(t, plan(t, b, desired))
		// discovery (2), the inventory (1) and one LIST per kind (9): no
		// object needed a dry-run.
		if got := n.n.Load(); got > 12 {
			t.Fatalf("%d requests for a plan of %d unchanged objects", got, len(desired))
		}
	})
	t.Run("dry-run", func(t *testing.T) {
		o := opts
		o.NoFastPath = true
		b, _ := newApplier(t, "us", o)
		requireUnchanged(t, plan(t, b, desired))
	})
	t.Run("secret change is sensitive", func(t *testing.T) {
		changed := objects(t, typical)
		for _, o := range changed {
			if o.Obj.GetKind() == "Secret" {
				o.Obj.Object["stringData"] = map[string]any{"password": "hunter3"}
			}
		}
		p := plan(t, a, changed)
		ch, _ := changeOf(p, object.Key{Kind: "Secret", Namespace: "nodiff", Name: "creds"})
		if ch.Action != diff.Update || len(ch.Fields) != 1 || !ch.Fields[0].Sensitive || ch.Fields[0].Old != nil || ch.Fields[0].New != nil {
			t.Fatalf("secret change: %s %+v", ch.Action, ch.Fields)
		}
		if len(changes(p)) != 1 {
			t.Fatalf("changes %q, want only the Secret", changes(p))
		}
	})
}
