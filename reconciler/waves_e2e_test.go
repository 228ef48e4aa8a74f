package reconciler

import (
	"context"
	"maps"
	"os/exec"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"mcp.dev/mcp/apply"
)

// TestRunWaitsForHealthyDependencies: mcp run applies a Placement that
// depends on another only once the other's Deployment is ready. Until the
// test (playing the Deployment controller) rolls it out, each cluster is
// Progressing with the Deployment listed as not healthy, and the
// dependent ConfigMap does not exist; then every cluster is Synced and
// Healthy, without a new revision.
func TestRunWaitsForHealthyDependencies(t *testing.T) {
	d := startDaemon(t, "mcp-status", func(o *Options) { o.ProgressingInterval = 200 * time.Millisecond })
	rev1, _ := d.repo.Rev("main")
	both := func(r apply.Status) map[string]apply.Status { return map[string]apply.Status{"aws-eu": r, "gcp-us": r} }
	d.waitFor(t, rev1, both(apply.Synced))

	files := fleetFiles(d.ns, "one")
	maps.Copy(files, map[string]string{
		"placements-db.yaml":  "apiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata: {name: db}\nspec:\n  path: apps/db\n  clusterSelector: {}\n  namespace: " + d.ns + "\n  dependsOn: [base]\n",
		"placements-app.yaml": "apiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata: {name: app}\nspec:\n  path: apps/app\n  clusterSelector: {}\n  namespace: " + d.ns + "\n  dependsOn: [db]\n",
		"apps/db/deploy.yaml": `apiVersion: apps/v1
kind: Deployment
metadata: {name: db}
spec:
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: db, image: postgres}]}
`,
		"apps/app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {db: ready}\n",
	})
	rev2 := d.repo.Commit("main", "db, then app", files)
	d.waitFor(t, "", both(apply.Progressing))
	for _, c := range d.store.Snapshot().Clusters {
		if c.Health != apply.HealthProgressing || len(c.Unhealthy) != 2 || c.Unhealthy[0].Name != "app" || c.Unhealthy[1].Name != "db" ||
			!strings.Contains(c.Message, "waits") || !strings.Contains(c.Message, "Deployment "+d.ns+"/db") {
			t.Fatalf("%s: %s %q, health %s %+v", c.Name, c.Result, c.Message, c.Health, c.Unhealthy)
		}
	}
	// Several re-checks later, still waiting, and the app never applied.
	time.Sleep(time.Second)
	for _, cl := range []string{"aws-eu", "gcp-us"} {
		if _, err := clientset(t, cl).CoreV1().ConfigMaps(d.ns).Get(context.Background(), "app", metav1.GetOptions{}); err == nil {
			t.Fatalf("%s: the dependent placement was applied before its dependency was healthy", cl)
		}
		rollOut(t, cl, d.ns, "db")
	}
	d.waitFor(t, rev2, both(apply.Synced))
	for _, c := range d.store.Snapshot().Clusters {
		if c.Health != apply.Healthy || c.HealthCounts.Healthy != 4 || len(c.Unhealthy) != 0 {
			t.Fatalf("%s: health %s %+v %+v", c.Name, c.Health, c.HealthCounts, c.Unhealthy)
		}
		if _, err := clientset(t, c.Name).CoreV1().ConfigMaps(d.ns).Get(context.Background(), "app", metav1.GetOptions{}); err != nil {
			t.Fatalf("%s: app not applied: %v", c.Name, err)
		}
	}
	// The status file says the health too.
	deadline := time.Now().Add(30 * time.Second)
	for {
		// The branch may not be there yet: read it without failing.
		f, _ := exec.Command("git", "-C", d.repo.Dir, "show", "mcp-status:status/aws-eu.yaml").Output()
		if strings.Contains(string(f), "health: Healthy") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status file:\n%s", f)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// rollOut plays the Deployment controller: the current generation is
// rolled out and available.
func rollOut(t *testing.T, cluster, ns, name string) {
	t.Helper()
	deps := clientset(t, cluster).AppsV1().Deployments(ns)
	dep, err := deps.Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	now := metav1.Now()
	dep.Status = appsv1.DeploymentStatus{
		ObservedGeneration: dep.Generation, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1,
		Conditions: []appsv1.DeploymentCondition{
			{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionTrue, Reason: "MinimumReplicasAvailable", LastUpdateTime: now, LastTransitionTime: now},
			{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionTrue, Reason: "NewReplicaSetAvailable", LastUpdateTime: now, LastTransitionTime: now},
		},
	}
	if _, err := deps.UpdateStatus(context.Background(), dep, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}
