package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestApplyWaitsForAWorkloadThatRuns places a Deployment of a small HTTP
// server on the node cluster and applies it with `mcp apply --wait`: when
// the command returns, the Deployment is Available because its pod's HTTP
// readiness probe passed on a real kubelet, and the server answers. A
// Deployment whose probe never passes makes the same command fail at its
// timeout, naming it.
func TestApplyWaitsForAWorkloadThatRuns(t *testing.T) {
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
metadata: {name: web}
spec: {path: apps/web, clusterSelector: {matchLabels: {env: test}}, namespace: web}
`)
	writeFile(t, filepath.Join(repo, "apps/web/web.yaml"), `apiVersion: v1
kind: Namespace
metadata: {name: web}
---
`+httpdDeployment("web", port, port))
	t.Cleanup(func() {
		deleteNamespace(t, n, "web")
		deleteNamespace(t, n, "mcp-system") // mcp's inventory
	})

	start := time.Now()
	out, err := exec.CommandContext(ctx, mcp, "apply", "--dir", repo, "--credentials-dir", creds, "--wait", "--timeout", "2m").CombinedOutput()
	if err != nil {
		t.Fatalf("mcp apply --wait: %v\n%s", err, out)
	}
	t.Logf("mcp apply --wait returned after %s", time.Since(start).Round(time.Millisecond))
	d, err := n.Client.AppsV1().Deployments("web").Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !available(d) || d.Status.ReadyReplicas != 1 {
		t.Fatalf("mcp apply --wait returned before the Deployment was Available: %+v", d.Status)
	}
	if body := get(t, "http://127.0.0.1:"+strconv.Itoa(port)+"/"); body != "ok\n" {
		t.Errorf("the workload answered %q", body)
	}

	// A second Deployment whose readiness probe asks a port nobody
	// listens on: it never becomes Available, and --wait says so.
	writeFile(t, filepath.Join(repo, "apps/web/broken.yaml"), httpdDeployment("broken", freePort(t), freePort(t)))
	out, err = exec.CommandContext(ctx, mcp, "apply", "--dir", repo, "--credentials-dir", creds, "--wait", "--timeout", "15s").CombinedOutput()
	if err == nil {
		t.Fatalf("mcp apply --wait succeeded with a Deployment that never becomes ready:\n%s", out)
	}
	if !strings.Contains(string(out), "broken") {
		t.Errorf("the failure does not name the Deployment:\n%s", out)
	}
	d, err = n.Client.AppsV1().Deployments("web").Get(ctx, "broken", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if available(d) {
		t.Errorf("Deployment broken is Available: %+v", d.Status)
	}
}

// httpdDeployment is a Deployment of the httpd image on the host network,
// listening on port and probed for readiness on probePort.
func httpdDeployment(name string, port, probePort int) string {
	return `apiVersion: apps/v1
kind: Deployment
metadata: {name: ` + name + `}
spec:
  replicas: 1
  selector: {matchLabels: {app: ` + name + `}}
  template:
    metadata: {labels: {app: ` + name + `}}
    spec:
      hostNetwork: true
      terminationGracePeriodSeconds: 5
      securityContext: {runAsNonRoot: true, runAsUser: 65532}
      containers:
      - name: httpd
        image: ` + httpdImageName + `
        imagePullPolicy: Never
        env: [{name: LISTEN, value: "127.0.0.1:` + strconv.Itoa(port) + `"}]
        readinessProbe:
          httpGet: {path: /, port: ` + strconv.Itoa(probePort) + `}
          periodSeconds: 1
        securityContext: {readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
`
}

func available(d *appsv1.Deployment) bool {
	for _, c := range d.Status.Conditions {
		if c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// mcpBinary is the static mcp that make image-tar built and packed.
func mcpBinary(t *testing.T) string {
	t.Helper()
	return filepath.Join(filepath.Dir(mcpImage(t)), "mcp")
}

func get(t *testing.T, url string) string {
	t.Helper()
	body, err := fetch(url)
	if err != nil {
		t.Fatal(err)
	}
	return body
}

// fetch GETs url and returns the body of a 200 answer.
func fetch(url string) (string, error) {
	resp, err := http.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %s\n%s", url, resp.Status, body)
	}
	return string(body), nil
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
