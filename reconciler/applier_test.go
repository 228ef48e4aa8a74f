package reconciler

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"mcp.dev/mcp/apply"
	"mcp.dev/mcp/diff"
	"mcp.dev/mcp/internal/object"
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
	opts := apply.DefaultApplyOptions()
	opts.Inventory = "inv-rotation"
	f := NewFleetApplier(opts, render.Access{CredentialsDir: creds})
	d := Desired{ClusterState: render.ClusterState{Cluster: render.Cluster{Name: "aws-eu"}}}
	if out := f.Reconcile(context.Background(), d, false); out.Result != Unreachable {
		t.Fatalf("with a kubeconfig of a dead server: %s %s", out.Result, out.Message)
	}
	if err := os.WriteFile(path, good, 0o600); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Second)
	os.Chtimes(path, later, later)
	if out := f.Reconcile(context.Background(), d, false); out.Result != Synced {
		t.Fatalf("after the kubeconfig was rotated: %s %s", out.Result, out.Message)
	}
	f.Forget("aws-eu")
	if len(f.appliers) != 0 {
		t.Fatal("Forget kept the cluster's Applier")
	}
}

// TestKeptIsNotDrift: a Namespace kept from prune is a decision of the
// plan, not a difference from the desired state; an adoption is one.
func TestKeptIsNotDrift(t *testing.T) {
	kept := diff.Change{Key: object.Key{Kind: "Namespace", Name: "old"}, Action: diff.Keep, Reason: "kept: 1 unmanaged object inside"}
	out := planOutcome(&apply.Plan{Changes: diff.ClusterPlan{Cluster: "eu", Changes: []diff.Change{kept}}}, false)
	if out.Result != Synced || len(out.Objects) != 0 {
		t.Fatalf("kept only: result %s, objects %v; want Synced and none", out.Result, out.Objects)
	}
	adopt := diff.Change{Key: object.Key{Kind: "ConfigMap", Namespace: "web", Name: "x"}, Action: diff.Adopt}
	out = planOutcome(&apply.Plan{Changes: diff.ClusterPlan{Cluster: "eu", Changes: []diff.Change{kept, adopt}}}, false)
	if out.Result != Drifted || len(out.Objects) != 1 || out.Objects[0].Error != "would adopt" {
		t.Fatalf("adopt: result %s, objects %v; want Drifted, would adopt", out.Result, out.Objects)
	}
}

// TestInClusterNeedsTheOperator: a Cluster's spec.inCluster alone does not
// give it mcp's service account; the operator's Access must allow it.
func TestInClusterNeedsTheOperator(t *testing.T) {
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	d := Desired{ClusterState: render.ClusterState{Cluster: render.Cluster{Name: "mgmt", InCluster: true, File: "clusters/mgmt.yaml", Line: 1}}}
	refused := NewFleetApplier(apply.DefaultApplyOptions(), render.Access{CredentialsDir: env.KubeconfigDir})
	out := refused.Reconcile(context.Background(), d, false)
	if out.Result != Failed || !strings.Contains(out.Message, "clusters/mgmt.yaml:1: cluster mgmt: spec.inCluster") || !strings.Contains(out.Message, "--allow-in-cluster") {
		t.Fatalf("not allowed: %s %q", out.Result, out.Message)
	}
	allowed := NewFleetApplier(apply.DefaultApplyOptions(), render.Access{CredentialsDir: env.KubeconfigDir, AllowInCluster: true})
	out = allowed.Reconcile(context.Background(), d, false)
	if out.Result != Failed || !strings.Contains(out.Message, "unable to load in-cluster configuration") {
		t.Fatalf("allowed, outside a pod: %s %q", out.Result, out.Message)
	}
}
