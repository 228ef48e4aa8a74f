package apply

import (
	"context"
	"errors"
	"maps"
	"strconv"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"mcp.dev/mcp/internal/object"
)

// TestWaves: lower waves are applied first; a namespace of an earlier
// wave exists before the objects of a later one are planned or applied.
func TestWaves(t *testing.T) {
	ctx := context.Background()
	a, _ := newApplier(t, "us", testOptions(t))
	desired := objects(t, `---
apiVersion: v1
kind: ConfigMap
metadata: {name: late, namespace: waves, annotations: {mcp.dev/wave: "2"}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: mid, namespace: waves}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: early, namespace: waves, annotations: {mcp.dev/wave: "-1"}}
---
apiVersion: v1
kind: Namespace
metadata: {name: waves, annotations: {mcp.dev/wave: "-5"}}
`)
	// The plan says in which wave each change is applied.
	waves := map[string]int{}
	for _, ch := range plan(t, a, desired).Changes.Changes {
		waves[ch.Key.Name] = ch.Wave
	}
	if want := map[string]int{"waves": -5, "early": -1, "mid": 0, "late": 2}; !maps.Equal(waves, want) {
		t.Errorf("waves of the plan %v, want %v", waves, want)
	}
	applyOK(t, a, desired)
	rv := map[string]int{}
	for _, n := range []string{"early", "mid", "late"} {
		u, err := dyn(t, "us").Resource(cmGVR).Namespace("waves").Get(ctx, n, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		rv[n], _ = strconv.Atoi(u.GetResourceVersion())
	}
	if !(rv["early"] < rv["mid"] && rv["mid"] < rv["late"]) {
		t.Fatalf("resource versions %v: waves were not applied in order", rv)
	}
}

// TestRejectedObject: an object the API refuses is reported with its key,
// source and the API's message; the rest of its wave is applied, the
// waves after it are not (they wait for every object before them).
func TestRejectedObject(t *testing.T) {
	a, _ := newApplier(t, "us", testOptions(t))
	// The namespace exists, so the Service is refused already by the dry-run.
	applyOK(t, a, objects(t, namespace("rejected")))
	desired := objects(t, namespace("rejected")+configMaps("rejected", 2)+`---
apiVersion: v1
kind: Service
metadata: {name: bad, namespace: rejected}
spec:
  ports: [{port: 99999}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: later, namespace: rejected, annotations: {mcp.dev/wave: "1"}}
---
apiVersion: nope.example.com/v1
kind: Unknown
metadata: {name: x, namespace: rejected}
`)
	p := plan(t, a, desired)
	if len(p.Errors) != 2 {
		t.Fatalf("plan errors %v, want the Service and the unknown kind", p.Errors)
	}
	r := a.Apply(context.Background(), p)
	if r.Created != 2 || r.Failed != 2 || len(r.Errors) != 2 {
		t.Fatalf("created %d, failed %d: %v", r.Created, r.Failed, r.Errors)
	}
	if exists(t, "us", cmGVR, "rejected", "later") {
		t.Error("the wave after a failed object was applied")
	}
	svc := object.Key{Kind: "Service", Namespace: "rejected", Name: "bad"}
	for _, e := range r.Errors {
		switch e.Key {
		case svc:
			if e.Op != "apply" || !apierrors.IsInvalid(e.Err) || !strings.Contains(e.Error(), "test.yaml (document 4)") || !strings.Contains(e.Error(), "99999") {
				t.Errorf("service error: %v", e)
			}
		default:
			if !errors.Is(e.Err, ErrUnknownKind) {
				t.Errorf("unexpected error: %v", e)
			}
		}
	}
	if err := r.Failures(); err == nil || !strings.Contains(err.Error(), "cluster us") {
		t.Errorf("Failures() = %v", err)
	}
}

// TestBrokenAPIService: discovery fails for one group (an APIService
// whose backend has no endpoints, common in real clusters); every other
// kind is still planned and applied.
func TestBrokenAPIService(t *testing.T) {
	ctx := context.Background()
	apisvcGVR := schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}
	svc := objects(t, `{"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService", "metadata": {"name": "v1.broken.example.com"},
 "spec": {"group": "broken.example.com", "version": "v1", "groupPriorityMinimum": 1000, "versionPriority": 15,
 "insecureSkipTLSVerify": true, "service": {"namespace": "default", "name": "nothing-here", "port": 443}}}`)[0].Obj
	if _, err := dyn(t, "eu").Resource(apisvcGVR).Create(ctx, svc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = dyn(t, "eu").Resource(apisvcGVR).Delete(context.Background(), svc.GetName(), metav1.DeleteOptions{})
	})

	a, _ := newApplier(t, "eu", testOptions(t))
	desired := objects(t, namespace("broken")+configMaps("broken", 3)+`---
apiVersion: broken.example.com/v1
kind: Thing
metadata: {name: t, namespace: broken}
`)
	r := a.Apply(ctx, plan(t, a, desired))
	if r.Err != nil || r.Created != 4 || r.Failed != 1 {
		t.Fatalf("err %v, created %d, failed %d: %v", r.Err, r.Created, r.Failed, r.Errors)
	}
	requireUnchanged(t, plan(t, a, desired[:4]))
}
