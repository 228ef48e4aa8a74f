package e2e

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestWavesWaitForRealReadiness applies, with plain `mcp apply`, a
// Deployment in wave 0 whose pod a real kubelet reports Ready only once
// its HTTP readiness probe passes (after a delay), and a ConfigMap in
// wave 1 of a Placement that depends on it: the ConfigMap must not exist
// until the Deployment is Available, and exists when the command returns.
func TestWavesWaitForRealReadiness(t *testing.T) {
	n := nodeCluster(t)
	mcp := mcpBinary(t)
	ctx := t.Context()
	port := freePort(t)

	repo, creds := t.TempDir(), t.TempDir()
	writeFile(t, filepath.Join(creds, "node"), readFile(t, n.Kubeconfig))
	writeFile(t, filepath.Join(repo, "clusters.yaml"), `apiVersion: mcp.dev/v1alpha1
kind: Cluster
metadata: {name: node, labels: {env: test}}
---
apiVersion: mcp.dev/v1alpha1
kind: Placement
metadata: {name: backend}
spec: {path: apps/backend, clusterSelector: {matchLabels: {env: test}}, namespace: waves}
---
apiVersion: mcp.dev/v1alpha1
kind: Placement
metadata: {name: frontend}
spec: {path: apps/frontend, clusterSelector: {matchLabels: {env: test}}, namespace: waves, dependsOn: [backend]}
`)
	deployment := strings.Replace(httpdDeployment("backend", port, port), "          periodSeconds: 1\n", "          periodSeconds: 1\n          initialDelaySeconds: 4\n", 1)
	writeFile(t, filepath.Join(repo, "apps/backend/backend.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata: {name: waves}\n---\n"+deployment)
	writeFile(t, filepath.Join(repo, "apps/frontend/config.yaml"), `apiVersion: v1
kind: ConfigMap
metadata: {name: frontend, annotations: {mcp.dev/wave: "1"}}
data: {backend: "http://127.0.0.1:`+strconv.Itoa(port)+`"}
`)
	t.Cleanup(func() {
		deleteNamespace(t, n, "waves")
		deleteNamespace(t, n, "mcp-system") // mcp's inventory
	})

	// Watch while mcp applies: the ConfigMap never exists before the
	// Deployment is Available.
	var early, watched atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			_, err := n.Client.CoreV1().ConfigMaps("waves").Get(ctx, "frontend", metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				watched.Add(1)
				continue
			}
			if err != nil {
				continue
			}
			d, err := n.Client.AppsV1().Deployments("waves").Get(ctx, "backend", metav1.GetOptions{})
			if err == nil && !available(d) {
				early.Add(1)
			}
		}
	}()
	start := time.Now()
	out, err := exec.CommandContext(ctx, mcp, "apply", "--dir", repo, "--credentials-dir", creds, "--timeout", "3m").CombinedOutput()
	close(stop)
	<-done
	if err != nil {
		t.Fatalf("mcp apply: %v\n%s", err, out)
	}
	took := time.Since(start)
	t.Logf("mcp apply returned after %s, the ConfigMap was seen absent %d times", took.Round(time.Millisecond), watched.Load())
	if early.Load() > 0 {
		t.Errorf("the wave-1 ConfigMap existed %d times while the wave-0 Deployment was not Available", early.Load())
	}
	if took < 4*time.Second {
		t.Errorf("mcp apply returned after %s, before the readiness probe's delay could pass", took)
	}
	d, err := n.Client.AppsV1().Deployments("waves").Get(ctx, "backend", metav1.GetOptions{})
	if err != nil || !available(d) {
		t.Fatalf("the Deployment is not Available after mcp apply: %v %+v", err, d.Status)
	}
	if _, err := n.Client.CoreV1().ConfigMaps("waves").Get(ctx, "frontend", metav1.GetOptions{}); err != nil {
		t.Fatalf("the wave-1 ConfigMap after mcp apply: %v", err)
	}
}
