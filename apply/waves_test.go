package apply

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"mcp.dev/mcp/internal/object"
)

var (
	jobGVR = schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}
)

// deployment is a Deployment of one replica; the test bed runs no
// controllers, so it stays InProgress until the test marks it ready.
func deploymentOf(ns, name, annotations string) string {
	return `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ` + name + `, namespace: ` + ns + `, annotations: {` + annotations + `}}
spec:
  selector: {matchLabels: {app: ` + name + `}}
  template:
    metadata: {labels: {app: ` + name + `}}
    spec: {containers: [{name: c, image: nginx}]}
`
}

func configMapInWave(ns, name string, wave string) string {
	return "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + name + ", namespace: " + ns + ", annotations: {mcp.dev/wave: \"" + wave + "\"}}\n"
}

// markReady plays the Deployment controller: the rollout of the current
// generation is done.
func markReady(t *testing.T, cluster, ns, name string) {
	t.Helper()
	ctx := context.Background()
	d := dyn(t, cluster).Resource(deployGVR).Namespace(ns)
	u, err := d.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Format(time.RFC3339)
	_ = unstructured.SetNestedField(u.Object, map[string]any{
		"observedGeneration": u.GetGeneration(),
		"replicas":           int64(1), "updatedReplicas": int64(1), "readyReplicas": int64(1), "availableReplicas": int64(1),
		"conditions": []any{
			map[string]any{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "lastUpdateTime": now, "lastTransitionTime": now},
			map[string]any{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "lastUpdateTime": now, "lastTransitionTime": now},
		},
	}, "status")
	if _, err := d.UpdateStatus(ctx, u, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func exists(t *testing.T, cluster string, gvr schema.GroupVersionResource, ns, name string) bool {
	t.Helper()
	_, err := dyn(t, cluster).Resource(gvr).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

// waveTarget returns the target of cluster with the desired objects its
// argument gives; one connection (rest.Config) for all, so that the Pool
// keeps one Applier and its memory of waits.
func waveTarget(cluster string) func([]Object) Target {
	tgt, _ := countedTarget(cluster)
	return tgt
}

// countedTarget is waveTarget with a counter of the requests sent.
func countedTarget(cluster string) (func([]Object) Target, *counter) {
	cfg := restConfig(cluster)
	c := &counter{}
	cfg.Wrap(c.wrap)
	return func(desired []Object) Target {
		return Target{Name: cluster, Config: cfg, Objects: desired}
	}, c
}

// TestHealthGatedWaves: wave 1 is applied only once wave 0 is healthy.
// Until then the cluster is Progressing, naming the Deployment that is
// not ready, and the wave-1 object does not exist; once the test (as the
// controller) marks the Deployment ready, the next reconcile applies
// wave 1 and the cluster is Synced and Healthy.
func TestHealthGatedWaves(t *testing.T) {
	pool := NewPool(testOptions(t))
	tgt, requests := countedTarget("eu")
	desired := objects(t, namespace("gated")+deploymentOf("gated", "db", "")+configMapInWave("gated", "app", "1"))
	t0 := time.Now()
	r := pool.Reconcile(context.Background(), tgt(desired))
	if r.Status != Progressing || r.Waiting == nil || len(r.Waiting.Objects) != 1 {
		t.Fatalf("first reconcile: %s %q (%v), waiting %+v", r.Status, r.Message, r.Failures(), r.Waiting)
	}
	for _, want := range []string{"wave 1 waits", "wave 0", "apps/Deployment gated/db", "InProgress"} {
		if !strings.Contains(r.Message, want) {
			t.Errorf("message %q lacks %q", r.Message, want)
		}
	}
	if r.Health.State != HealthProgressing || r.Health.Healthy != 1 || r.Health.Progressing != 2 {
		t.Errorf("health %+v: want the Namespace healthy, the Deployment and the unapplied ConfigMap progressing", r.Health)
	}
	if exists(t, "eu", cmGVR, "gated", "app") {
		t.Fatal("the wave-1 ConfigMap was applied before wave 0 was healthy")
	}
	// Still not ready: still waiting, since the same moment. Looking again
	// costs the plan's requests and nothing more: health is read from its
	// LISTs, never with a GET per object.
	before := requests.n.Load()
	r2 := pool.Reconcile(context.Background(), tgt(desired))
	n := requests.n.Load() - before
	t.Logf("a reconcile that waits for wave 0 sent %d requests", n)
	if n > 8 {
		t.Errorf("a reconcile that waits sent %d requests", n)
	}
	if r2.Status != Progressing || !r2.Waiting.Since.Equal(r.Waiting.Since) || r2.Waiting.Since.Before(t0) {
		t.Fatalf("second reconcile: %s %q, since %v then %v", r2.Status, r2.Message, r.Waiting.Since, r2.Waiting.Since)
	}
	if exists(t, "eu", cmGVR, "gated", "app") {
		t.Fatal("the wave-1 ConfigMap was applied before wave 0 was healthy")
	}

	markReady(t, "eu", "gated", "db")
	r3 := pool.Reconcile(context.Background(), tgt(desired))
	if r3.Status != Synced || r3.Created != 1 || r3.Health.State != Healthy || r3.Health.Healthy != 3 {
		t.Fatalf("after the rollout: %s %q, created %d, health %+v", r3.Status, r3.Message, r3.Created, r3.Health)
	}
	if !exists(t, "eu", cmGVR, "gated", "app") {
		t.Fatal("wave 1 was not applied")
	}
}

// TestSettleWaitsForWave: Settle (mcp apply) reconciles again until the
// wave after a slow one is applied; the later object appears only after
// the earlier one became ready.
func TestSettleWaitsForWave(t *testing.T) {
	opts := testOptions(t)
	opts.RecheckInterval = 100 * time.Millisecond
	pool := NewPool(opts)
	tgt := waveTarget("eu")
	desired := objects(t, namespace("settle")+deploymentOf("settle", "db", "")+configMapInWave("settle", "app", "1"))
	early := make(chan bool, 1)
	go func() {
		// Wait until wave 0 is there, then for a while, then roll it out.
		for !exists(t, "eu", deployGVR, "settle", "db") {
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(time.Second)
		early <- exists(t, "eu", cmGVR, "settle", "app")
		markReady(t, "eu", "settle", "db")
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r := pool.Settle(ctx, tgt(desired))
	if <-early {
		t.Fatal("wave 1 existed before wave 0 was ready")
	}
	if r.Status != Synced || !exists(t, "eu", cmGVR, "settle", "app") {
		t.Fatalf("settled: %s %q", r.Status, r.Message)
	}
	// What the rounds did together is reported once: every object created,
	// every change in the plan printed.
	if r.Created != 3 || r.Unchanged != 0 || len(r.Plan.Changes.Changes) != 3 {
		t.Errorf("settled: created %d, unchanged %d, changes %v", r.Created, r.Unchanged, r.Plan.Changes.Changes)
	}
}

// TestWaveTimeout: a wave that does not become healthy fails the cluster
// after its timeout, naming its objects; the next wave is never applied.
// The annotation mcp.dev/wave-timeout extends the wave's timeout.
func TestWaveTimeout(t *testing.T) {
	opts := testOptions(t)
	opts.WaveTimeout = time.Second
	pool := NewPool(opts)
	tgt := waveTarget("eu")
	ctx := context.Background()
	desired := objects(t, namespace("stuck")+deploymentOf("stuck", "db", "")+configMapInWave("stuck", "app", "1"))
	if r := pool.Reconcile(ctx, tgt(desired)); r.Status != Progressing {
		t.Fatalf("first reconcile: %s %q", r.Status, r.Message)
	}
	time.Sleep(1100 * time.Millisecond)
	r := pool.Reconcile(ctx, tgt(desired))
	if r.Status != Failed || !strings.Contains(r.Message, "wave 0 not healthy after 1s") || !strings.Contains(r.Message, "apps/Deployment stuck/db") {
		t.Fatalf("after the timeout: %s %q", r.Status, r.Message)
	}
	if len(r.Errors) != 1 || r.Errors[0].Op != "wait" || !errors.Is(r.Errors[0], ErrUnhealthy) ||
		r.Errors[0].Key != (object.Key{Group: "apps", Kind: "Deployment", Namespace: "stuck", Name: "db"}) {
		t.Fatalf("errors %v", r.Errors)
	}
	if exists(t, "eu", cmGVR, "stuck", "app") {
		t.Fatal("the wave after a failed one was applied")
	}

	// The same wave with a longer timeout of its own starts a new wait.
	desired = objects(t, namespace("stuck")+deploymentOf("stuck", "db", `mcp.dev/wave-timeout: "1h"`)+configMapInWave("stuck", "app", "1"))
	pool.Reconcile(ctx, tgt(desired))
	time.Sleep(1100 * time.Millisecond)
	if r := pool.Reconcile(ctx, tgt(desired)); r.Status != Progressing || r.Waiting.Timeout != time.Hour {
		t.Fatalf("with mcp.dev/wave-timeout: %s %q", r.Status, r.Message)
	}
}

// TestJobIsAStep: a Job of wave 0 gates wave 1 until it is Complete, not
// merely running (kstatus alone calls a started Job Current).
func TestJobIsAStep(t *testing.T) {
	pool := NewPool(testOptions(t))
	tgt := waveTarget("eu")
	ctx := context.Background()
	desired := objects(t, namespace("steps")+`---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: steps}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox}]
`+configMapInWave("steps", "app", "1"))
	r := pool.Reconcile(ctx, tgt(desired))
	if r.Status != Progressing || !strings.Contains(r.Message, "batch/Job steps/migrate") {
		t.Fatalf("job not run: %s %q", r.Status, r.Message)
	}
	jobs := dyn(t, "eu").Resource(jobGVR).Namespace("steps")
	setJobStatus := func(st map[string]any) {
		t.Helper()
		u, err := jobs.Get(ctx, "migrate", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		_ = unstructured.SetNestedField(u.Object, st, "status")
		if _, err := jobs.UpdateStatus(ctx, u, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)
	setJobStatus(map[string]any{"startTime": start, "active": int64(1)})
	if r := pool.Reconcile(ctx, tgt(desired)); r.Status != Progressing || exists(t, "eu", cmGVR, "steps", "app") {
		t.Fatalf("running job: %s %q", r.Status, r.Message)
	}
	now := time.Now().UTC().Format(time.RFC3339)
	setJobStatus(map[string]any{"startTime": start, "completionTime": now, "succeeded": int64(1), "conditions": []any{
		map[string]any{"type": "SuccessCriteriaMet", "status": "True", "lastProbeTime": now, "lastTransitionTime": now},
		map[string]any{"type": "Complete", "status": "True", "lastProbeTime": now, "lastTransitionTime": now},
	}})
	if r := pool.Reconcile(ctx, tgt(desired)); r.Status != Synced || !exists(t, "eu", cmGVR, "steps", "app") {
		t.Fatalf("completed job: %s %q", r.Status, r.Message)
	}
}

// TestFailedJobFailsAtOnce: a Job of wave 0 that failed fails the cluster
// at once, naming it, instead of waiting for the wave's timeout; wave 1 is
// not applied.
func TestFailedJobFailsAtOnce(t *testing.T) {
	opts := testOptions(t)
	opts.WaveTimeout = time.Hour
	pool := NewPool(opts)
	tgt := waveTarget("eu")
	ctx := context.Background()
	desired := objects(t, namespace("failing")+`---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: failing}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox}]
`+configMapInWave("failing", "app", "1"))
	if r := pool.Reconcile(ctx, tgt(desired)); r.Status != Progressing {
		t.Fatalf("job not run: %s %q", r.Status, r.Message)
	}
	jobs := dyn(t, "eu").Resource(jobGVR).Namespace("failing")
	u, err := jobs.Get(ctx, "migrate", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Format(time.RFC3339)
	_ = unstructured.SetNestedField(u.Object, map[string]any{"startTime": now, "failed": int64(1), "conditions": []any{
		map[string]any{"type": "FailureTarget", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit", "lastProbeTime": now, "lastTransitionTime": now},
		map[string]any{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit", "lastProbeTime": now, "lastTransitionTime": now},
	}}, "status")
	if _, err := jobs.UpdateStatus(ctx, u, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	r := pool.Reconcile(ctx, tgt(desired))
	if r.Status != Failed || !strings.Contains(r.Message, "wave 0 failed (wave 1 not applied)") || !strings.Contains(r.Message, "batch/Job failing/migrate") {
		t.Fatalf("failed job: %s %q", r.Status, r.Message)
	}
	if exists(t, "eu", cmGVR, "failing", "app") {
		t.Error("wave 1 was applied after the wave-0 Job failed")
	}
	if len(r.Errors) != 1 || !errors.Is(r.Errors[0].Err, ErrUnhealthy) || !strings.Contains(r.Errors[0].Err.Error(), "it failed") {
		t.Errorf("errors: %v", r.Errors)
	}
}

// TestDependencyDepth: the objects of a Placement that depends on another
// (depth 1) are applied only once the other's objects are healthy, even
// in an earlier wave.
func TestDependencyDepth(t *testing.T) {
	pool := NewPool(testOptions(t))
	tgt := waveTarget("eu")
	ctx := context.Background()
	base := objects(t, namespace("deps")+deploymentOf("deps", "cert-manager", ""))
	dependent := objects(t, configMapInWave("deps", "issuer", "-1"))
	for i := range dependent {
		dependent[i].Placement, dependent[i].Depth = "issuers", 1
	}
	desired := append(base, dependent...)
	r := pool.Reconcile(ctx, tgt(desired))
	if r.Status != Progressing || !strings.Contains(r.Message, "wave -1 of dependency level 1 waits") || exists(t, "eu", cmGVR, "deps", "issuer") {
		t.Fatalf("dependency not ready: %s %q", r.Status, r.Message)
	}
	markReady(t, "eu", "deps", "cert-manager")
	if r := pool.Reconcile(ctx, tgt(desired)); r.Status != Synced || !exists(t, "eu", cmGVR, "deps", "issuer") {
		t.Fatalf("dependency ready: %s %q", r.Status, r.Message)
	}
}

// TestSyncedWhateverLastWave: once every wave is applied the cluster is
// Synced, and a later reconcile with nothing to apply does not wait for an
// earlier wave that became unhealthy: health says so instead.
func TestSyncedWhateverLastWave(t *testing.T) {
	pool := NewPool(testOptions(t))
	tgt := waveTarget("eu")
	ctx := context.Background()
	desired := objects(t, namespace("last")+configMapInWave("last", "first", "0")+deploymentOf("last", "web", `mcp.dev/wave: "1"`))
	r := pool.Reconcile(ctx, tgt(desired))
	if r.Status != Synced || r.Health.State != HealthProgressing || len(r.Health.Unhealthy) != 1 || r.Health.Unhealthy[0].Key.Name != "web" {
		t.Fatalf("%s %q, health %+v", r.Status, r.Message, r.Health)
	}
	since := r.Health.Unhealthy[0].Since
	r = pool.Reconcile(ctx, tgt(desired))
	if r.Status != Synced || r.Health.State != HealthProgressing || !r.Health.Unhealthy[0].Since.Equal(since) {
		t.Fatalf("again: %s %q, health %+v (first seen %v)", r.Status, r.Message, r.Health, since)
	}
}
