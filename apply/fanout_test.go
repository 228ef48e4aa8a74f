package apply

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// TestApplyAllIsolatesClusters: an unreachable cluster, a failed render
// and a paused cluster are each reported on their own while the healthy
// cluster is applied, without waiting for the others.
func TestApplyAllIsolatesClusters(t *testing.T) {
	ctx := context.Background()
	opts := testOptions(t)
	opts.Concurrency = 4
	good := Target{Name: "eu", Kubeconfig: env.Cluster("eu").Kubeconfig, Objects: objects(t, namespace("fanout")+configMaps("fanout", 2))}
	down := Target{Name: "down", Config: &rest.Config{Host: "https://127.0.0.1:1"}, Objects: objects(t, configMaps("fanout", 1))}
	broken := Target{Name: "broken", Kubeconfig: env.Cluster("us").Kubeconfig, RenderErr: errors.New("apps/web/deploy.yaml:3: bad")}
	paused := Target{Name: "paused", Kubeconfig: env.Cluster("us").Kubeconfig, Paused: true, Objects: objects(t, namespace("paused")+configMaps("paused", 2))}

	start := time.Now()
	results := ApplyAll(ctx, []Target{down, good, broken, paused}, opts)
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("ApplyAll took %s", d)
	}
	if len(results) != 4 {
		t.Fatalf("%d results", len(results))
	}
	if r := results[0]; r.Cluster != "down" || r.Err == nil || !strings.Contains(r.Err.Error(), "cluster down") {
		t.Errorf("unreachable cluster: %+v", r)
	}
	if r := results[1]; r.Failures() != nil || r.Created != 3 || !r.Applied {
		t.Errorf("healthy cluster: err %v, created %d", r.Failures(), r.Created)
	}
	if r := results[2]; !errors.Is(r.Err, ErrRender) || r.Applied || r.Plan != nil {
		t.Errorf("failed render: %+v", r)
	}
	if r := results[3]; r.Failures() != nil || r.Applied || !r.Paused || r.Created != 3 {
		t.Errorf("paused cluster: err %v, applied %v, planned creates %d", r.Failures(), r.Applied, r.Created)
	}
	if _, err := dyn(t, "us").Resource(namespaceGVR).Get(ctx, "paused", metav1.GetOptions{}); err == nil {
		t.Error("a paused cluster was written to")
	}

	// DiffAll writes nothing either.
	good.Objects = objects(t, namespace("fanout")+configMaps("fanout", 3))
	results = DiffAll(ctx, []Target{good}, opts)
	if r := results[0]; r.Applied || r.Created != 1 || r.Unchanged != 3 {
		t.Errorf("diff: %+v", r)
	}
	if r := results[0].DiffPlan(); r.Err != nil || r.Count(1) != 1 {
		t.Errorf("diff plan: %+v", r)
	}
}
