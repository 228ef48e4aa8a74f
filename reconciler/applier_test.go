package reconciler

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"mcp.dev/mcp/apply"
	"mcp.dev/mcp/internal/object"
	"mcp.dev/mcp/reconciler/status"
	"mcp.dev/mcp/render"
)

// TestRotatedKubeconfigIsPickedUp: a kubeconfig replaced in place (a
// Secret mounted again) is used at the next reconcile, without a restart.
func TestRotatedKubeconfigIsPickedUp(t *testing.T) {
	creds := t.TempDir()
	good, err := os.ReadFile(env.Cluster("aws-eu").Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.Load(good)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cfg.Clusters {
		c.Server = "https://127.0.0.1:1" // nothing listens there
	}
	path := filepath.Join(creds, "aws-eu")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	opts := apply.DefaultOptions()
	opts.Inventory = "inv-rotation"
	f := NewFleetApplier(opts, render.Access{CredentialsDir: creds})
	d := Desired{ClusterState: render.ClusterState{Cluster: render.Cluster{Name: "aws-eu"}}}
	if out := f.Reconcile(context.Background(), d); out.Status != apply.Unreachable {
		t.Fatalf("with a kubeconfig of a dead server: %s %s", out.Status, out.Message)
	}
	if err := os.WriteFile(path, good, 0o600); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Second)
	os.Chtimes(path, later, later)
	if out := f.Reconcile(context.Background(), d); out.Status != apply.Synced {
		t.Fatalf("after the kubeconfig was rotated: %s %s", out.Status, out.Message)
	}
	f.Forget("aws-eu")
	if f.pool.Len() != 0 {
		t.Fatal("Forget kept the cluster's Applier")
	}
}

// TestInClusterNeedsTheOperator: a Cluster's spec.inCluster alone does not
// give it mcp's service account; the operator's Access must allow it.
func TestInClusterNeedsTheOperator(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	d := Desired{ClusterState: render.ClusterState{Cluster: render.Cluster{Name: "mgmt", InCluster: true, File: "clusters/mgmt.yaml", Line: 1}}}
	refused := NewFleetApplier(apply.DefaultOptions(), render.Access{CredentialsDir: env.KubeconfigDir})
	out := refused.Reconcile(context.Background(), d)
	if out.Status != apply.Failed || !strings.Contains(out.Message, "clusters/mgmt.yaml:1: cluster mgmt: spec.inCluster") || !strings.Contains(out.Message, "--allow-in-cluster") {
		t.Fatalf("not allowed: %s %q", out.Status, out.Message)
	}
	allowed := NewFleetApplier(apply.DefaultOptions(), render.Access{CredentialsDir: env.KubeconfigDir, AllowInCluster: true})
	out = allowed.Reconcile(context.Background(), d)
	if out.Status != apply.Failed || !strings.Contains(out.Message, "unable to load in-cluster configuration") {
		t.Fatalf("allowed, outside a pod: %s %q", out.Status, out.Message)
	}
}

// TestStatusOfBoundsUnhealthy: the status lists at most maxUnhealthy
// objects not healthy; the counts stay complete.
func TestStatusOfBoundsUnhealthy(t *testing.T) {
	h := apply.Health{State: apply.HealthProgressing, Progressing: maxUnhealthy + 10}
	for i := range maxUnhealthy + 10 {
		h.Unhealthy = append(h.Unhealthy, apply.Unhealthy{Key: object.Key{Kind: "ConfigMap", Namespace: "a", Name: fmt.Sprint(i)}, Status: "NotFound"})
	}
	st := statusOf("eu", apply.Result{Health: h})
	if len(st.Unhealthy) != maxUnhealthy || st.HealthCounts.Progressing != maxUnhealthy+10 || st.Health != apply.HealthProgressing {
		t.Errorf("listed %d, counted %+v, health %s", len(st.Unhealthy), st.HealthCounts, st.Health)
	}
}

// TestStatusOfCounts: an applied result's counts are the status summary,
// less Unchanged, which the status does not carry; a plan that was not
// applied changed nothing, so only its managed and failed objects count.
func TestStatusOfCounts(t *testing.T) {
	counts := apply.Counts{Managed: 7, Created: 1, Updated: 2, Deleted: 3, Unchanged: 4, Failed: 5}
	tests := map[string]struct {
		in   apply.Result
		want status.Summary
	}{
		"applied":     {in: apply.Result{Plan: &apply.Plan{}, Applied: true, Counts: counts}, want: status.Summary{Managed: 7, Created: 1, Updated: 2, Deleted: 3, Failed: 5}},
		"dry run":     {in: apply.Result{Plan: &apply.Plan{}, DryRun: true, Counts: counts}, want: status.Summary{Managed: 7, Failed: 5}},
		"paused":      {in: apply.Result{Plan: &apply.Plan{}, Paused: true, Counts: counts}, want: status.Summary{Managed: 7, Failed: 5}},
		"not planned": {in: apply.Result{Counts: apply.Counts{Failed: 1}}, want: status.Summary{Failed: 1}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := statusOf("eu", tc.in).Summary; got != tc.want {
				t.Errorf("summary %+v, want %+v", got, tc.want)
			}
		})
	}
}
