package target

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"mcp.dev/mcp/render"
)

// TestFor: how a rendered cluster becomes what the commands reconcile.
func TestFor(t *testing.T) {
	creds := t.TempDir()
	if err := os.WriteFile(filepath.Join(creds, "eu"), []byte("apiVersion: v1\nkind: Config\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	access := render.Access{CredentialsDir: creds}
	fleet := &render.Fleet{Placements: []render.Placement{
		{Name: "keep", Prune: false, Selected: []string{"eu", "us"}},
		{Name: "web", Prune: true, Selected: []string{"eu"}},
		{Name: "other", Prune: false, Selected: []string{"us"}},
	}}

	eu := For(render.ClusterState{Cluster: render.Cluster{Name: "eu", Paused: true}}, NoPrune(fleet, "eu"), access)
	if eu.Kubeconfig != filepath.Join(creds, "eu") || eu.AccessErr != nil || eu.RenderErr != nil || !eu.Paused {
		t.Errorf("eu: kubeconfig %q, access %v, render %v, paused %v", eu.Kubeconfig, eu.AccessErr, eu.RenderErr, eu.Paused)
	}
	if !slices.Equal(eu.NoPrune, []string{"keep"}) {
		t.Errorf("eu: NoPrune %v, want [keep]", eu.NoPrune)
	}

	broken := errors.New("apps/web/cm.yaml:3: bad")
	us := For(render.ClusterState{Cluster: render.Cluster{Name: "us"}, Err: broken}, nil, access)
	if !errors.Is(us.RenderErr, broken) || us.Kubeconfig != "" || us.AccessErr != nil {
		t.Errorf("a cluster that did not render: render %v, kubeconfig %q, access %v; want it reported, its kubeconfig not even looked up", us.RenderErr, us.Kubeconfig, us.AccessErr)
	}

	mgmt := For(render.ClusterState{Cluster: render.Cluster{Name: "mgmt", InCluster: true}}, nil, access)
	if mgmt.AccessErr == nil || !strings.Contains(mgmt.AccessErr.Error(), "--allow-in-cluster") {
		t.Errorf("in-cluster access not allowed: AccessErr %v", mgmt.AccessErr)
	}
}

// TestObjectsCarryWaveAndDepth: the wave and the dependency depth of the
// placement reach apply, which orders by them.
func TestObjectsCarryWaveAndDepth(t *testing.T) {
	cs := render.ClusterState{Objects: []render.Object{{File: "a.yaml", Placement: "issuers", Wave: 2, Depth: 1}}}
	o := Objects(cs)[0]
	if o.Wave != 2 || o.Depth != 1 || o.Placement != "issuers" || o.Source != "a.yaml (document 1)" {
		t.Errorf("object %+v", o)
	}
}

// TestObjectsTakesTheRendered: the objects go to apply compact, and the
// rendered ones lose their maps, so that a fleet is never held twice.
func TestObjectsTakesTheRendered(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "a", "namespace": "web"},
	}}
	cs := render.ClusterState{Objects: []render.Object{{Obj: u, File: "a.yaml", Line: 1}}}
	objs := Objects(cs)
	if len(objs) != 1 || objs[0].Obj != nil {
		t.Fatalf("objects %+v, want one, compact", objs)
	}
	if cs.Objects[0].Obj != nil {
		t.Errorf("the rendered object kept its maps")
	}
}
