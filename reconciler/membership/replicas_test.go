package membership

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"mcp.dev/mcp/internal/testenv"
)

// The lease timings of the three-replica test: short, so that a takeover
// is quick, and far enough apart that a loaded machine keeps up.
const (
	testLeaseDuration = 4 * time.Second
	testRenew         = time.Second
)

// fleetClusters are the clusters of the test fleet: a, b and c are the
// three control planes; d, e and f are paused clusters on the same
// control planes (paused clusters never write, so they share an apiserver
// without sharing an inventory).
var fleetClusters = []string{"a", "b", "c", "d", "e", "f"}

// writeFleet writes a fleet of six clusters and one ConfigMap for each.
func writeFleet(t *testing.T, dir, value string) {
	t.Helper()
	var clusters strings.Builder
	for i, name := range fleetClusters {
		fmt.Fprintf(&clusters, "---\napiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata: {name: %s}\n", name)
		if i >= 3 {
			fmt.Fprintf(&clusters, "spec: {paused: true, kubeconfig: {path: %s}}\n", fleetClusters[i-3])
		}
	}
	files := map[string]string{
		"clusters.yaml": clusters.String(),
		"placements.yaml": "apiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata: {name: demo}\n" +
			"spec: {path: apps/demo, clusterSelector: {}, namespace: default}\n",
		"apps/demo/configmap.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: replicas-demo}\n" +
			"data: {cluster: \"${cluster.name}\", value: \"" + value + "\"}\n",
	}
	for name, data := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// replica is one mcp run process.
type replica struct {
	id   string
	cmd  *exec.Cmd
	addr string
	log  string // its JSON log
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func startReplica(t *testing.T, bin, fleet, id string) *replica {
	t.Helper()
	r := &replica{id: id, addr: freeAddr(t), log: filepath.Join(t.TempDir(), id+".log")}
	logFile, err := os.Create(r.log)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	r.cmd = exec.Command(bin, "run", "--dir", fleet,
		"--credentials-dir", env.KubeconfigDir,
		"--replicas-lease", "fleet", "--replica-id", id,
		"--lease-kubeconfig", env.Cluster("a").Kubeconfig,
		"--lease-duration", testLeaseDuration.String(), "--lease-renew-interval", testRenew.String(),
		"--listen", r.addr, "--interval", "1s", "--log-format", "json")
	r.cmd.Stderr = logFile
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if r.cmd.ProcessState == nil {
			r.cmd.Process.Kill()
			r.cmd.Wait()
		}
		if t.Failed() {
			data, _ := os.ReadFile(r.log)
			t.Logf("log of replica %s:\n%s", id, data)
		}
	})
	return r
}

// status is the replica's /status: cluster name → revision, or nil when
// the replica does not answer.
func (r *replica) status() map[string]string {
	c := http.Client{Timeout: time.Second}
	resp, err := c.Get("http://" + r.addr + "/status")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var st struct {
		Revision string
		Clusters []struct{ Name, Result, Revision string }
	}
	if json.NewDecoder(resp.Body).Decode(&st) != nil {
		return nil
	}
	out := map[string]string{}
	for _, c := range st.Clusters {
		switch c.Result {
		case "Synced", "Paused":
			out[c.Name] = c.Revision
		case "Drifted":
			// A paused cluster that differs applied nothing, so its status
			// keeps the revision it last applied: the replica's rendered
			// revision says which one it was checked against.
			out[c.Name] = st.Revision
		}
	}
	return out
}

// get returns the body of a GET of path.
func (r *replica) get(t *testing.T, path string) string {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + r.addr + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

// reconciled counts the "reconciled" log records of revision by cluster.
func (r *replica) reconciled(t *testing.T, revision string) map[string]int {
	t.Helper()
	f, err := os.Open(r.log)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var rec struct{ Msg, Cluster, Revision string }
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "reconciled" && rec.Revision == revision {
			out[rec.Cluster]++
		}
	}
	return out
}

// ownership waits until the replicas' /status pages together list every
// cluster at one revision, each on exactly one replica, and returns
// replica id → its clusters, and the revision.
func ownership(t *testing.T, replicas []*replica, timeout time.Duration, oldRevision string) (map[string][]string, string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for {
		owners, revisions := map[string][]string{}, map[string]bool{}
		byCluster := map[string][]string{}
		for _, r := range replicas {
			for c, rev := range r.status() {
				owners[r.id] = append(owners[r.id], c)
				byCluster[c] = append(byCluster[c], r.id)
				revisions[rev] = true
			}
		}
		complete := len(byCluster) == len(fleetClusters) && len(revisions) == 1 && !revisions[oldRevision]
		for _, ids := range byCluster {
			complete = complete && len(ids) == 1
		}
		if complete {
			for id := range owners {
				slices.Sort(owners[id])
			}
			for rev := range revisions {
				return owners, rev
			}
		}
		last = fmt.Sprintf("clusters on replicas %v, revisions %v", byCluster, revisions)
		if time.Now().After(deadline) {
			t.Fatalf("every cluster on exactly one replica at one new revision: not within %s; last: %s", timeout, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestThreeReplicas runs three mcp processes sharing a fleet of six
// clusters through Leases on a real apiserver: every cluster is reconciled
// by exactly one replica per revision, and when one replica is killed its
// clusters are taken over by the survivors within the lease duration.
func TestThreeReplicas(t *testing.T) {
	cs := leaseCluster(t)
	bin := testenv.BuildMCP(t)
	fleet := t.TempDir()
	writeFleet(t, fleet, "1")

	var replicas []*replica
	for _, id := range []string{"r0", "r1", "r2"} {
		replicas = append(replicas, startReplica(t, bin, fleet, id))
	}
	start := time.Now()
	owners, rev1 := ownership(t, replicas, 60*time.Second, "")
	t.Logf("all six clusters reconciled after %s: %v", time.Since(start).Round(time.Millisecond), owners)

	// A round: a new revision is reconciled once per cluster, by its owner.
	writeFleet(t, fleet, "2")
	owners, rev2 := ownership(t, replicas, 30*time.Second, rev1)
	counts := map[string][]string{}
	for _, r := range replicas {
		for c, n := range r.reconciled(t, rev2) {
			for range n {
				counts[c] = append(counts[c], r.id)
			}
		}
	}
	for _, c := range fleetClusters {
		if len(counts[c]) != 1 {
			t.Errorf("revision %s: cluster %s reconciled by %v, want exactly one replica", rev2, c, counts[c])
		}
	}
	for id, clusters := range owners {
		for _, c := range clusters {
			if !slices.Equal(counts[c], []string{id}) {
				t.Errorf("cluster %s is on %s's /status but was reconciled by %v", c, id, counts[c])
			}
		}
	}

	// Kill the replica owning the most clusters; no goodbye, its lease
	// just stops being renewed.
	var victim *replica
	for _, r := range replicas {
		if victim == nil || len(owners[r.id]) > len(owners[victim.id]) {
			victim = r
		}
	}
	var survivors []*replica
	for _, r := range replicas {
		if r != victim {
			survivors = append(survivors, r)
		}
	}
	// A fresh round right before the kill, so that the survivors can only
	// show the victim's clusters at rev3 once they have reconciled them.
	writeFleet(t, fleet, "3")
	_, rev3 := ownership(t, replicas, 30*time.Second, rev2)
	killed := time.Now()
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	victim.cmd.Wait()
	after, _ := ownershipAt(t, survivors, testLeaseDuration+testRenew+5*time.Second, rev3)
	tookOver := time.Since(killed)
	t.Logf("killed %s (owned %v); survivors own %v after %s (lease duration %s)",
		victim.id, owners[victim.id], after, tookOver.Round(time.Millisecond), testLeaseDuration)
	for _, c := range owners[victim.id] {
		got := 0
		for _, r := range survivors {
			got += r.reconciled(t, rev3)[c]
		}
		if got != 1 {
			t.Errorf("cluster %s of the killed replica: reconciled %d times at %s by the survivors, want once", c, got, rev3)
		}
	}

	// Each survivor lists the leases on its own beat: allow one renewal.
	for _, r := range survivors {
		testenv.Eventually(t, 2*testRenew, "replica "+r.id+" /metrics shows 2 active members", func() bool {
			metrics := r.get(t, "/metrics")
			return strings.Contains(metrics, "mcp_replica_members 2\n") && strings.Contains(metrics, "mcp_replica_active 1\n")
		})
	}

	// The survivors stop cleanly on SIGTERM and delete their leases.
	for _, r := range survivors {
		r.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, r := range survivors {
		if err := r.cmd.Wait(); err != nil {
			t.Errorf("replica %s on SIGTERM: %v, want exit 0", r.id, err)
		}
	}
	list, err := cs.CoordinationV1().Leases("mcp-system").List(t.Context(), metav1.ListOptions{LabelSelector: GroupLabel + "=fleet"})
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, l := range list.Items {
		left = append(left, l.Name)
	}
	if !slices.Equal(left, []string{"fleet-" + victim.id}) {
		t.Errorf("leases after the survivors stopped: %v, want only the killed replica's", left)
	}
}

// ownershipAt is ownership for clusters that must reach a known revision:
// the survivors list every cluster at rev, each once.
func ownershipAt(t *testing.T, replicas []*replica, timeout time.Duration, rev string) (map[string][]string, string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		owners := map[string][]string{}
		byCluster := map[string][]string{}
		for _, r := range replicas {
			for c, got := range r.status() {
				if got == rev {
					owners[r.id] = append(owners[r.id], c)
					byCluster[c] = append(byCluster[c], r.id)
				}
			}
		}
		complete := len(byCluster) == len(fleetClusters)
		for _, ids := range byCluster {
			complete = complete && len(ids) == 1
		}
		if complete {
			return owners, rev
		}
		if time.Now().After(deadline) {
			t.Fatalf("survivors own every cluster at %s: not within %s; clusters on replicas: %v", rev, timeout, byCluster)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
