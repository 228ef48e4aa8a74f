package apply

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	"mcp.dev/mcp/internal/object"
)

// TestHealthOf: kstatus's verdict, except that a Job is healthy only once
// Complete (kstatus calls a started Job Current).
func TestHealthOf(t *testing.T) {
	job := func(st map[string]any) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "batch/v1", "kind": "Job",
			"metadata": map[string]any{"name": "j", "namespace": "n", "generation": int64(1)}, "status": st}}
	}
	cond := func(typ string) map[string]any {
		return map[string]any{"conditions": []any{map[string]any{"type": typ, "status": "True", "message": "BackoffLimitExceeded"}}, "startTime": "2026-01-01T00:00:00Z"}
	}
	tests := map[string]struct {
		in   *unstructured.Unstructured
		want status.Status
	}{
		"not on the cluster": {in: nil, want: status.NotFoundStatus},
		"job not started":    {in: job(map[string]any{}), want: status.InProgressStatus},
		"job running":        {in: job(map[string]any{"startTime": "2026-01-01T00:00:00Z", "active": int64(1)}), want: status.InProgressStatus},
		"job complete":       {in: job(cond("Complete")), want: status.CurrentStatus},
		"job failed":         {in: job(cond("Failed")), want: status.FailedStatus},
		"config map": {in: &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": "c", "namespace": "n"}}}, want: status.CurrentStatus},
		"deployment not rolled out": {in: &unstructured.Unstructured{Object: map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
			"metadata": map[string]any{"name": "d", "namespace": "n", "generation": int64(2)},
			"spec":     map[string]any{"replicas": int64(1)}, "status": map[string]any{"observedGeneration": int64(1)}}}, want: status.InProgressStatus},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := healthOf(tc.in); got.status != tc.want {
				t.Errorf("healthOf = %s (%s), want %s", got.status, got.message, tc.want)
			}
		})
	}
}

// TestJudge: counts by health, the state they make, and since when each
// object has been unhealthy, remembered across judgements.
func TestJudge(t *testing.T) {
	a := &Applier{unhealthy: map[object.Key]time.Time{}}
	ok := &item{key: object.Key{Kind: "ConfigMap", Name: "ok"}}
	bad := &item{key: object.Key{Group: "batch", Kind: "Job", Name: "bad"}}
	live := map[*item]*unstructured.Unstructured{
		ok: {Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "ok"}}},
	}
	get := func(it *item) verdict { return healthOf(live[it]) }
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	h := a.judge([]*item{ok, bad}, get, t0)
	if h.State != HealthProgressing || h.Healthy != 1 || h.Progressing != 1 || len(h.Unhealthy) != 1 || !h.Unhealthy[0].Since.Equal(t0) {
		t.Fatalf("first: %+v", h)
	}
	live[bad] = &unstructured.Unstructured{Object: map[string]any{"apiVersion": "batch/v1", "kind": "Job", "metadata": map[string]any{"name": "bad"},
		"status": map[string]any{"conditions": []any{map[string]any{"type": "Failed", "status": "True"}}}}}
	h = a.judge([]*item{ok, bad}, get, t0.Add(time.Minute))
	if h.State != Degraded || h.Degraded != 1 || !h.Unhealthy[0].Since.Equal(t0) {
		t.Fatalf("failed job: %+v", h)
	}
	live[bad].Object["status"] = map[string]any{"conditions": []any{map[string]any{"type": "Complete", "status": "True"}}}
	h = a.judge([]*item{ok, bad}, get, t0.Add(2*time.Minute))
	if h.State != Healthy || h.Healthy != 2 || len(a.unhealthy) != 0 {
		t.Fatalf("complete: %+v, remembered %v", h, a.unhealthy)
	}
	if h := a.judge(nil, get, t0); h.State != "" {
		t.Fatalf("no objects: %+v", h)
	}
}
