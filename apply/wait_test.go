package apply

import (
	"context"
	"errors"
	"testing"
	"time"

	"mcp.dev/mcp/internal/object"
)

// TestWaitHealth: with Wait, objects that become Current pass and those
// that do not within Timeout fail one by one. The test bed runs no
// controllers, so a Deployment never rolls out.
func TestWaitHealth(t *testing.T) {
	opts := testOptions(t)
	opts.Wait = true
	opts.Timeout = 3 * time.Second
	a, _ := newApplier(t, "eu", opts)
	desired := objects(t, namespace("wait")+configMaps("wait", 1)+`---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: wait}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
`)
	start := time.Now()
	r := a.Apply(context.Background(), plan(t, a, desired))
	if d := time.Since(start); d > 15*time.Second {
		t.Fatalf("wait took %s", d)
	}
	if r.Failed != 1 || len(r.Errors) != 1 {
		t.Fatalf("failed %d: %v", r.Failed, r.Errors)
	}
	e := r.Errors[0]
	if e.Key != (object.Key{Group: "apps", Kind: "Deployment", Namespace: "wait", Name: "web"}) || e.Op != "wait" || !errors.Is(e, ErrUnhealthy) {
		t.Fatalf("error %v", e)
	}
}
