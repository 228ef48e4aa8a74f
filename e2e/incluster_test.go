package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"mcp.dev/mcp/internal/gitserver"
	"mcp.dev/mcp/internal/testenv"
)

// TestInClusterOverlayManagesItsOwnCluster applies deploy/overlays/in-cluster
// (the base, the ClusterRole of the in-cluster component and
// MCP_ALLOW_IN_CLUSTER) to the node cluster: a Cluster with
// spec.inCluster: true is reconciled with the pod's own service account
// token, through the kubernetes Service, next to a cluster reached with a
// kubeconfig.
func TestInClusterOverlayManagesItsOwnCluster(t *testing.T) {
	n := nodeCluster(t)
	fleet, err := testenv.Start(t.Context(), testenv.Options{Clusters: []string{"eu"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fleet.Stop)

	const token = "e2e-in-cluster-token"
	root := gitserver.NewRoot(t)
	repo := root.Init("fleet")
	head := repo.Commit("main", "fleet", map[string]string{
		"clusters.yaml": `apiVersion: mcp.dev/v1alpha1
kind: Cluster
metadata: {name: self, labels: {env: prod}}
spec: {inCluster: true}
---
apiVersion: mcp.dev/v1alpha1
kind: Cluster
metadata: {name: eu, labels: {env: prod}}
---
apiVersion: mcp.dev/v1alpha1
kind: Placement
metadata: {name: app}
spec: {path: apps/app, clusterSelector: {matchLabels: {env: prod}}, namespace: app}
`,
		"apps/app/app.yaml": `apiVersion: v1
kind: Namespace
metadata: {name: app}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: hello}
data: {greeting: "from inside"}
`,
	})
	srv := gitserver.NewHTTP(t, root, "git", token)

	// Runs after the pod is gone (cleanups run last first), or mcp would
	// put the namespace back.
	t.Cleanup(func() { deleteNamespace(t, n, "app") })
	pod, base := deployMCP(t, n, "deploy/overlays/in-cluster", srv.RepoURL("fleet"), token, map[string]string{
		"eu": readFile(t, fleet.Cluster("eu").Kubeconfig),
	})
	waitFor(t, 2*time.Minute, "ConfigMap app/hello in the cluster mcp runs in", func() error {
		cm, err := n.Client.CoreV1().ConfigMaps("app").Get(t.Context(), "hello", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if cm.Data["greeting"] != "from inside" {
			return fmt.Errorf("data %v", cm.Data)
		}
		return nil
	})
	waitSynced(t, base, "eu", "self")
	checkStatus(t, base, head, "eu", "self")
	// The inventory is kept next to mcp, in mcp-system.
	cms, err := n.Client.CoreV1().ConfigMaps("mcp-system").List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, cm := range cms.Items {
		names = append(names, cm.Name)
	}
	if !strings.Contains(strings.Join(names, " "), "inventory") {
		t.Errorf("pod %s kept no inventory in mcp-system: %v", pod, names)
	}
}
