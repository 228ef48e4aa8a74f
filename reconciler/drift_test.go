package reconciler

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"mcp.dev/mcp/apply"
	"mcp.dev/mcp/diff"
	"mcp.dev/mcp/reconciler/status"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// healTimeout is how soon the drift watch must heal a hand-made change;
// the target is 2 s, with room for the race detector on two busy cores.
const healTimeout = 4 * time.Second

// TestDriftWatchHealsAtOnce: with a drift interval of an hour, an edit
// and a deletion by hand are still healed within seconds, because the
// watch of the managed objects wakes the cluster's worker.
func TestDriftWatchHealsAtOnce(t *testing.T) {
	var reconciles atomic.Int32
	d := startDaemon(t, "mcp-status", func(o *Options) {
		o.DriftInterval = time.Hour
		o.Report = func(st status.Cluster, _ *diff.ClusterPlan) {
			if st.Name == "aws-eu" {
				reconciles.Add(1)
			}
		}
	})
	rev1, _ := d.repo.Rev("main")
	d.waitFor(t, rev1, map[string]apply.Status{"aws-eu": apply.Synced, "gcp-us": apply.Synced})
	ctx := context.Background()
	cms := clientset(t, "aws-eu").CoreV1().ConfigMaps(d.ns)
	time.Sleep(500 * time.Millisecond) // the watch starts after the first reconcile

	// A change that leaves mcp's fields alone is no drift: no reconcile.
	before := reconciles.Load()
	cm, err := cms.Get(ctx, "hello", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Annotations["someone.else/note"] = "hello"
	if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{FieldManager: "other"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if got := reconciles.Load() - before; got != 0 {
		t.Errorf("an annotation of another manager caused %d reconciles", got)
	}

	// A changed value is healed.
	cm, err = cms.Get(ctx, "hello", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Data["value"] = "edited by hand"
	start := time.Now()
	if _, err := cms.Update(ctx, cm, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	waitValue(t, d.ns, "one", start)

	// A deleted object is created again.
	start = time.Now()
	if err := cms.Delete(ctx, "hello", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitValue(t, d.ns, "one", start)
}

func waitValue(t *testing.T, ns, want string, start time.Time) {
	t.Helper()
	for configValue(t, "aws-eu", ns) != want {
		if time.Since(start) > healTimeout {
			t.Fatalf("drift not healed within %s", healTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("healed %s after the change", time.Since(start).Round(time.Millisecond))
}
