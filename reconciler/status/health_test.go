package status

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"mcp.dev/mcp/apply"
)

func progressing(msg string) Cluster {
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	return Cluster{
		Name: "eu", Result: apply.Progressing, Revision: "3f2c1a9", Message: "wave 1 waits for 1 objects of wave 0 to be healthy",
		Since: t0, Summary: Summary{Managed: 5, Created: 4},
		Health: apply.HealthProgressing, HealthCounts: HealthCounts{Healthy: 4, Progressing: 1},
		Unhealthy: []Unhealthy{{Kind: "Deployment", Namespace: "db", Name: "db", File: "apps/db/deploy.yaml:1", Status: "InProgress", Message: msg, Since: t0}},
		Charts:    []Chart{{Placement: "web", Name: "podinfo", Version: "6.7.1"}},
	}
}

// TestStatusFileHealth: the status file says the health, its counts and
// the objects not healthy, and reads back as written.
func TestStatusFileHealth(t *testing.T) {
	c := progressing("Replicas: 0/1")
	data, err := MarshalFile(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"  result: Progressing\n  health: Progressing\n  healthCounts:\n    healthy: 4\n    progressing: 1\n    degraded: 0\n  message: wave 1 waits",
		"  unhealthy:\n    - kind: Deployment\n      namespace: db\n      name: db\n      file: apps/db/deploy.yaml:1\n      status: InProgress\n      message: 'Replicas: 0/1'\n      since: \"2026-11-26T10:00:00Z\"\n",
		"  charts:\n    - placement: web\n      name: podinfo\n      version: 6.7.1\n",
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("status file lacks\n%s\nin\n%s", want, data)
		}
	}
	back, err := UnmarshalFile(data)
	if err != nil {
		t.Fatal(err)
	}
	if !SameStatus(back, c) {
		t.Errorf("read back\n%+v\nwant\n%+v", back, c)
	}
	// A cluster whose health is not known writes no health at all.
	data, _ = MarshalFile(Cluster{Name: "eu", Result: apply.Unreachable})
	if strings.Contains(string(data), "health") {
		t.Errorf("unknown health written:\n%s", data)
	}
}

// TestStoreHealthOutcome: a new kstatus message of an unhealthy object is
// shown, but is not a new outcome; a change of health is.
func TestStoreHealthOutcome(t *testing.T) {
	s := NewStore()
	s.Update(progressing("Replicas: 0/1"))
	_, changed := s.Update(progressing("Replicas: 1/2"))
	if changed {
		t.Error("a new kstatus message counted as a new outcome")
	}
	if got := s.Snapshot().Clusters[0].Unhealthy[0].Message; got != "Replicas: 1/2" {
		t.Errorf("stored message %q, want the latest", got)
	}
	healthy := progressing("")
	healthy.Health, healthy.HealthCounts, healthy.Unhealthy = apply.Healthy, HealthCounts{Healthy: 5}, nil
	if _, changed := s.Update(healthy); !changed {
		t.Error("Progressing → Healthy is not a new outcome")
	}
}

// TestHealthMetric: mcp_cluster_health is 1 for the cluster's health and
// 0 for the others, and absent while the health is not known.
func TestHealthMetric(t *testing.T) {
	m := NewMetrics()
	m.Observe(progressing(""), 0.1)
	get := func(h apply.HealthState) float64 {
		return testutil.ToFloat64(m.ClusterHealth.WithLabelValues("eu", string(h)))
	}
	got := []float64{get(apply.Healthy), get(apply.HealthProgressing), get(apply.Degraded)}
	if !reflect.DeepEqual(got, []float64{0, 1, 0}) {
		t.Errorf("Healthy, Progressing, Degraded = %v", got)
	}
	m.Observe(Cluster{Name: "eu", Result: apply.Unreachable}, 0.1)
	if n := testutil.CollectAndCount(m.ClusterHealth); n != 0 {
		t.Errorf("%d health series while the health is unknown", n)
	}
}
