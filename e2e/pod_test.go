package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"mcp.dev/mcp/internal/gitserver"
	"mcp.dev/mcp/internal/testenv"
)

// TestDeployRunsAsAPod applies deploy/ to the node cluster, through an
// overlay that only sets the image, the repo URL and host networking (a
// free port on the node's loopback), with the git token and two clusters'
// kubeconfigs in the Secrets the base mounts. The pod (uid 65532,
// read-only root, no capabilities) becomes Ready through its own probes,
// joins its replica lease through its service account, reconciles both
// clusters from the git server, commits their status and serves the
// dashboard. Deleting the pod brings a new one that finds the status
// committed already and commits nothing.
func TestDeployRunsAsAPod(t *testing.T) {
	n := nodeCluster(t)
	ctx := t.Context()
	fleet, err := testenv.Start(ctx, testenv.Options{Clusters: []string{"eu", "us"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fleet.Stop)

	const token = "e2e-git-token-never-logged"
	root := gitserver.NewRoot(t)
	repo := root.Init("fleet")
	head := repo.Commit("main", "fleet", map[string]string{
		"clusters.yaml": `apiVersion: mcp.dev/v1alpha1
kind: Cluster
metadata: {name: eu, labels: {env: prod}}
---
apiVersion: mcp.dev/v1alpha1
kind: Cluster
metadata: {name: us, labels: {env: prod}}
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
data: {greeting: "from the mcp pod"}
`,
	})
	srv := gitserver.NewHTTP(t, root, "git", token)

	start := time.Now()
	first, base := deployMCP(t, n, "deploy", srv.RepoURL("fleet"), token, map[string]string{
		"eu": readFile(t, fleet.Cluster("eu").Kubeconfig),
		"us": readFile(t, fleet.Cluster("us").Kubeconfig),
	})
	t.Logf("mcp pod %s Ready after %s", first, time.Since(start).Round(time.Millisecond))

	// Both clusters reconciled, from the pod.
	for _, c := range fleet.Clusters {
		waitFor(t, 2*time.Minute, "ConfigMap app/hello on "+c.Name, func() error {
			cs, err := kubernetes.NewForConfig(c.RESTConfig())
			if err != nil {
				return err
			}
			cm, err := cs.CoreV1().ConfigMaps("app").Get(t.Context(), "hello", metav1.GetOptions{})
			if err != nil {
				return err
			}
			if cm.Data["greeting"] != "from the mcp pod" {
				return fmt.Errorf("data %v", cm.Data)
			}
			return nil
		})
	}
	// Their status committed to the status branch, once per cluster
	// outcome.
	waitFor(t, time.Minute, "status commits", func() error {
		for _, c := range []string{"eu", "us"} {
			if _, ok := repo.Rev("mcp-status"); !ok {
				return fmt.Errorf("no branch mcp-status")
			}
			if s := repo.File("mcp-status", "status/"+c+".yaml"); !strings.Contains(s, "result: Synced") || !strings.Contains(s, head) {
				return fmt.Errorf("status/%s.yaml: %s", c, s)
			}
		}
		return nil
	})
	commits := statusCommits(t, repo)
	t.Logf("both clusters reconciled and their status committed after %s", time.Since(start).Round(time.Millisecond))

	// The dashboard and /status, served by the pod on the node's loopback.
	if page := get(t, base+"/"); !strings.Contains(page, "<html") {
		t.Errorf("dashboard: %.200s", page)
	}
	checkStatus(t, base, head)
	// The replica lease, through the pod's service account token and the
	// kubernetes Service.
	leases, err := n.Client.CoordinationV1().Leases("mcp-system").List(ctx, metav1.ListOptions{})
	if err != nil || len(leases.Items) == 0 {
		t.Errorf("no replica lease in mcp-system: %v", err)
	}
	logs, err := n.Client.CoreV1().Pods("mcp-system").GetLogs(first, &corev1.PodLogOptions{}).DoRaw(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(logs), token) {
		t.Error("the git token is in the pod's log")
	}

	// A new pod after the old one is deleted: it reconciles, finds the
	// status committed, and commits nothing.
	if err := n.Client.CoreV1().Pods("mcp-system").Delete(ctx, first, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	restart := time.Now()
	second := readyPod(t, n, first)
	t.Logf("new pod %s Ready after %s", second, time.Since(restart).Round(time.Millisecond))
	waitSynced(t, base, "eu", "us")
	t.Logf("new pod reconciled both clusters after %s", time.Since(restart).Round(time.Millisecond))
	checkStatus(t, base, head)
	// The status commit would follow the round at once; give it time.
	time.Sleep(3 * time.Second)
	if got := statusCommits(t, repo); got != commits {
		t.Errorf("pod %s made %d more status commits after %s was replaced", second, got-commits, first)
	}
	if m := get(t, base+"/metrics"); !strings.Contains(m, "mcp_status_commits_total 0") {
		t.Errorf("the new pod reports status commits:\n%s", grep(m, "mcp_status_commits_total"))
	}
}

// deployMCP applies deployDir (deploy/ or one of its overlays) to the
// node cluster through the test overlay, creates the Secrets mcp-git with
// the token and mcp-clusters with the kubeconfigs, and waits for a Ready
// pod. It returns the pod's name and the base URL of its HTTP server.
func deployMCP(t *testing.T, n *testenv.NodeCluster, deployDir, repoURL, token string, kubeconfigs map[string]string) (pod, base string) {
	t.Helper()
	port := freePort(t)
	objs, err := testenv.Kustomize(overlay(t, deployDir, repoURL, port))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.ApplyAll(t.Context(), objs); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteNamespace(t, n, "mcp-system") })
	secrets := map[string]map[string]string{"mcp-git": {"token": token}, "mcp-clusters": kubeconfigs}
	for name, data := range secrets {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "mcp-system"}, StringData: data}
		if _, err := n.Client.CoreV1().Secrets("mcp-system").Create(t.Context(), s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return readyPod(t, n, ""), "http://127.0.0.1:" + strconv.Itoa(port)
}

// overlay writes a kustomization over deployDir that sets what a user sets
// (image, repo URL) and runs the pod on the host network: the node has no
// pod network, so mcp listens on a free port of the node's loopback.
func overlay(t *testing.T, deployDir, repoURL string, port int) string {
	dir := t.TempDir()
	rel, err := filepath.Rel(dir, filepath.Join(moduleRoot(t), deployDir))
	if err != nil {
		t.Fatal(err)
	}
	p := strconv.Itoa(port)
	writeFile(t, filepath.Join(dir, "kustomization.yaml"), `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [`+rel+`]
images:
- {name: registry.example.com/platform/mcp, newName: localhost/mcp, newTag: e2e}
configMapGenerator:
- name: mcp-config
  behavior: merge
  literals: [MCP_REPO=`+repoURL+`]
patches:
- patch: |
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: mcp}
    spec:
      template:
        spec:
          hostNetwork: true
          containers:
          - name: mcp
            env: [{name: MCP_LISTEN, value: "127.0.0.1:`+p+`"}]
- target: {kind: Deployment, name: mcp}
  patch: |
    - {op: replace, path: /spec/template/spec/containers/0/ports/0/containerPort, value: `+p+`}
`)
	return dir
}

// readyPod waits for a Ready pod of the mcp Deployment other than old,
// and returns its name.
func readyPod(t *testing.T, n *testenv.NodeCluster, old string) string {
	t.Helper()
	name, err := n.ReadyPod(t.Context(), "mcp-system", "app.kubernetes.io/name=mcp", old, 3*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return name
}

// waitSynced waits until the mcp serving base has reconciled each of the
// clusters once with result Synced (its mcp_reconcile_total).
func waitSynced(t *testing.T, base string, clusters ...string) {
	t.Helper()
	waitFor(t, 2*time.Minute, "a Synced round of "+strings.Join(clusters, ", "), func() error {
		m, err := fetch(base + "/metrics")
		if err != nil {
			return err
		}
		for _, c := range clusters {
			if !regexp.MustCompile(`mcp_reconcile_total\{[^}]*cluster="` + c + `"[^}]*result="Synced"[^}]*\} [1-9]`).MatchString(m) {
				return fmt.Errorf("no Synced round of %s yet", c)
			}
		}
		return nil
	})
}

// checkStatus checks that /status reports the clusters (default: eu and
// us) Synced at head.
func checkStatus(t *testing.T, base, head string, clusters ...string) {
	t.Helper()
	var st struct {
		Revision string `json:"revision"`
		Clusters []struct {
			Name     string `json:"name"`
			Result   string `json:"result"`
			Revision string `json:"revision"`
		} `json:"clusters"`
	}
	body := get(t, base+"/status")
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("/status: %v\n%s", err, body)
	}
	if len(clusters) == 0 {
		clusters = []string{"eu", "us"}
	}
	var got []string
	for _, c := range st.Clusters {
		got = append(got, c.Name)
	}
	if slices.Sort(got); !slices.Equal(got, clusters) {
		t.Fatalf("/status: clusters %v, want %v:\n%s", got, clusters, body)
	}
	for _, c := range st.Clusters {
		if c.Result != "Synced" || c.Revision != head {
			t.Errorf("/status: cluster %s %s at %s, want Synced at %s", c.Name, c.Result, c.Revision, head)
		}
	}
}

// statusCommits counts the commits of the status branch.
func statusCommits(t *testing.T, repo *gitserver.Repo) int {
	t.Helper()
	out, err := exec.Command("git", "-C", repo.Dir, "rev-list", "--count", "mcp-status").Output()
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// deleteNamespace deletes a namespace of the node cluster and waits until
// it is gone, so that the next test can use it again (mcp keeps its
// inventories in mcp-system).
func deleteNamespace(t *testing.T, n *testenv.NodeCluster, name string) {
	ctx := context.Background()
	err := n.Client.CoreV1().Namespaces().Delete(ctx, name, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return
	}
	if err != nil {
		t.Errorf("delete namespace %s: %v", name, err)
		return
	}
	waitFor(t, 2*time.Minute, "namespace "+name+" deleted", func() error {
		_, err := n.Client.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there: %v", err)
	})
}

// waitFor polls check until it succeeds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s: %v", what, d, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func grep(s, substr string) string {
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		if strings.Contains(line, substr) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}
