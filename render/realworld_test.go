package render

import (
	"context"
	"strings"
	"testing"

	"mcp.dev/mcp/internal/object"
	"mcp.dev/mcp/source"
)

// TestRealWorld renders unmodified public manifests (ingress-nginx's
// deploy.yaml, cert-manager's CRDs) and custom resources of those CRDs.
func TestRealWorld(t *testing.T) {
	f, err := Render(context.Background(), source.Snapshot{Dir: "../testdata/realworld"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, ok := f.Cluster("real")
	if !ok {
		t.Fatal("cluster real not rendered")
	}
	if c.Err != nil {
		t.Fatalf("render failed:\n%s", errorLines(c.Err))
	}
	if len(f.Warnings) > 0 {
		t.Errorf("warnings about valid manifests:\n%s", strings.Join(f.Warnings, "\n"))
	}
	clusterScopedKinds := map[string]bool{
		"Namespace": true, "ClusterRole": true, "ClusterRoleBinding": true, "IngressClass": true,
		"ValidatingWebhookConfiguration": true, "CustomResourceDefinition": true, "ClusterIssuer": true,
	}
	count := map[string]int{}
	for _, o := range c.Objects {
		count[o.Placement]++
		k := o.Key()
		switch {
		case clusterScopedKinds[k.Kind] && k.Namespace != "":
			t.Errorf("%s (%s): cluster-scoped kind has namespace %q", k, o.Source(), k.Namespace)
		case !clusterScopedKinds[k.Kind] && k.Namespace == "":
			t.Errorf("%s (%s): namespaced kind has no namespace", k, o.Source())
		}
		if o.Placement == "ingress-nginx" && !clusterScopedKinds[k.Kind] && k.Namespace != "ingress-nginx" {
			t.Errorf("%s: namespace %q, want the manifest's ingress-nginx", k, k.Namespace)
		}
		if o.Obj.GetLabels()[object.ManagedByLabel] != object.ManagedByValue || o.Obj.GetAnnotations()[object.PlacementAnnotation] != o.Placement {
			t.Errorf("%s: mcp's label or annotation missing: %v %v", k, o.Obj.GetLabels(), o.Obj.GetAnnotations())
		}
		if o.Line == 0 {
			t.Errorf("%s: no line", k)
		}
	}
	want := map[string]int{"ingress-nginx": 19, "cert-manager-crds": 6, "issuers": 2}
	for p, n := range want {
		if count[p] != n {
			t.Errorf("placement %s: %d objects, want %d", p, count[p], n)
		}
	}
}
