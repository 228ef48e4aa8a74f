package testenv

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// TestNodeRunsPodsAndLeavesNothingBehind starts a cluster with a node,
// runs a locked-down pod on it (uid 65532, read-only root, a Secret
// volume, host network) until its HTTP readiness probe passes, reads its
// logs through the apiserver and the kubelet, and stops the cluster: no
// process, mount, cgroup or kernel setting is left changed.
func TestNodeRunsPodsAndLeavesNothingBehind(t *testing.T) {
	ctx := t.Context()
	lock := lockMachine(t)
	before := hostState(t)

	start := time.Now()
	img, err := BuildImage(ctx, filepath.Join(t.TempDir(), "httpd.tar"), "localhost/httpd:test", "-build", "./httpd", "-path", "/httpd")
	if err != nil {
		t.Fatal(err)
	}
	n, err := StartNode(context.Background(), NodeOptions{Images: []string{img}, lock: lock})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("node cluster started in %s", time.Since(start).Round(time.Millisecond))
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			n.Stop()
		}
	})

	if v, err := n.Client.Discovery().ServerVersion(); err != nil || v.GitVersion != "v1.35.4" {
		t.Errorf("apiserver version %v, %v; want v1.35.4", v, err)
	}
	node, err := n.Client.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := node.Status.Addresses; len(got) != 1 || got[0].Address != "127.0.0.1" {
		t.Errorf("node addresses %v, want only InternalIP 127.0.0.1", got)
	}
	if node.Status.NodeInfo.KubeletVersion != "v1.35.4" {
		t.Errorf("kubelet version %q, want v1.35.4", node.Status.NodeInfo.KubeletVersion)
	}

	// The kubelet changed kernel settings; Stop puts them back.
	if during, err := readSysctls([]string{"vm.overcommit_memory"}); err != nil || during["vm.overcommit_memory"] != "1" {
		t.Errorf("vm.overcommit_memory while the kubelet runs: %v, %v; the kubelet sets 1", during, err)
	}

	port := freePort(t)
	if _, err := n.Client.CoreV1().Secrets("default").Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "body"},
		StringData: map[string]string{"body": "from a secret"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := lockedDownPod("httpd", "localhost/httpd:test", port)
	if _, err := n.Client.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitPodReady(t, n, "default", "httpd")
	resp, err := http.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "from a secret" {
		t.Errorf("pod answered %q", body)
	}
	logs, err := n.Client.CoreV1().Pods("default").GetLogs("httpd", &corev1.PodLogOptions{}).DoRaw(ctx)
	if err != nil || !strings.Contains(string(logs), "listening on 127.0.0.1:"+strconv.Itoa(port)) {
		t.Errorf("logs through the kubelet: %q, %v", logs, err)
	}

	stopped = true
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	after := hostState(t)
	if before != after {
		t.Errorf("the machine changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if _, err := http.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/"); err == nil {
		t.Error("the pod still answers after Stop")
	}
}

// lockMachine takes the node clusters' lock for the rest of the test, so
// that no other test binary's node changes the machine while this test
// compares it before and after, and sweeps stale node clusters.
func lockMachine(t *testing.T) *os.File {
	t.Helper()
	lock, err := lockNodes(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lock.Close() })
	// What an earlier killed run left is not this test's doing.
	if err := sweepStale(); err != nil {
		t.Fatal(err)
	}
	return lock
}

// hostState describes what a node cluster could leave behind: processes,
// mounts, cgroups, kernel settings, containerd's run directory.
func hostState(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if strings.Contains(string(cmdline), "mcp-testenv-node-") || strings.HasPrefix(string(cmdline), "/usr/bin/containerd") {
			fmt.Fprintf(&b, "process %s: %s\n", e.Name(), strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	for line := range strings.SplitSeq(string(mounts), "\n") {
		if strings.Contains(line, "mcp-testenv-node-") || strings.Contains(line, "/run/containerd") || strings.Contains(line, "kubelet") {
			fmt.Fprintf(&b, "mount: %s\n", line)
		}
	}
	cg, err := kubepodsCgroups()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range cg {
		fmt.Fprintf(&b, "cgroup: %s\n", d)
	}
	vals, err := readSysctls(kubeletSysctls)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range kubeletSysctls {
		fmt.Fprintf(&b, "sysctl %s = %s\n", name, vals[name])
	}
	for _, p := range []string{"/run/containerd", "/var/log/containers", "/var/log/pods", "/var/lib/kubelet", "/var/lib/containerd"} {
		if _, err := os.Stat(p); err == nil {
			fmt.Fprintf(&b, "exists: %s\n", p)
		}
	}
	return b.String()
}

// lockedDownPod runs image as deploy/ runs mcp: uid 65532, no privileges,
// a read-only root file system, a Secret volume, an HTTP readiness probe.
func lockedDownPod(name, image string, port int) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{
			HostNetwork:                   true,
			TerminationGracePeriodSeconds: ptrTo[int64](5),
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot: ptrTo(true), RunAsUser: ptrTo[int64](65532), RunAsGroup: ptrTo[int64](65532), FSGroup: ptrTo[int64](65532),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Containers: []corev1.Container{{
				Name:            name,
				Image:           image,
				ImagePullPolicy: corev1.PullNever,
				Env: []corev1.EnvVar{
					{Name: "LISTEN", Value: "127.0.0.1:" + strconv.Itoa(port)},
					{Name: "BODY_FILE", Value: "/etc/body/body"},
				},
				ReadinessProbe: &corev1.Probe{
					ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromInt(port)}},
					PeriodSeconds: 1,
				},
				SecurityContext: &corev1.SecurityContext{
					AllowPrivilegeEscalation: ptrTo(false),
					ReadOnlyRootFilesystem:   ptrTo(true),
					Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
				VolumeMounts: []corev1.VolumeMount{{Name: "body", MountPath: "/etc/body", ReadOnly: true}},
			}},
			Volumes: []corev1.Volume{{Name: "body", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "body"}}}},
		},
	}
}

func waitPodReady(t *testing.T, n *NodeCluster, ns, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var last *corev1.Pod
	for ctx.Err() == nil {
		pod, err := n.Client.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			last = pod
			for _, c := range pod.Status.Conditions {
				if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
					return
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("pod %s/%s not Ready: %+v\nkubelet:\n%s", ns, name, last.Status, tail(n.logFile("kubelet")))
}

func freePort(t *testing.T) int {
	t.Helper()
	ports, err := freePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	return ports[0]
}

func ptrTo[T any](v T) *T { return &v }

// TestNodeSweptAfterAKilledRun kills a test binary that runs a node
// cluster with a pod, as a timeout or Ctrl-C would: its shim, container
// and mounts outlive it. The next StartNode's sweep puts the machine back.
func TestNodeSweptAfterAKilledRun(t *testing.T) {
	lock := lockMachine(t)
	before := hostState(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestNodeHelperProcess$", "-test.v")
	cmd.Env = append(os.Environ(), "MCP_TESTENV_NODE_HELPER="+t.TempDir())
	// The helper runs its node under this test's lock (fd 3).
	cmd.ExtraFiles = []*os.File{lock}
	// Whatever happens to the helper, the sweep runs.
	swept := false
	t.Cleanup(func() {
		if !swept {
			sweepStale()
		}
	})
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	ready := false
	s := bufio.NewScanner(out)
	for s.Scan() {
		log.WriteString(s.Text() + "\n")
		if strings.Contains(s.Text(), "POD READY") {
			ready = true
			break
		}
	}
	cmd.Process.Kill()
	go io.Copy(io.Discard, out)
	cmd.Wait()
	if !ready {
		t.Fatalf("the helper never ran its pod:\n%s", log.String())
	}
	if left := hostState(t); left == before {
		t.Fatal("a killed node cluster left nothing behind: the test proves nothing")
	}
	swept = true
	if err := sweepStale(); err != nil {
		t.Fatal(err)
	}
	if after := hostState(t); after != before {
		t.Errorf("the sweep left the machine changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

// TestNodeHelperProcess is the test binary that TestNodeSweptAfterAKilledRun
// kills; it does nothing in a normal run.
func TestNodeHelperProcess(t *testing.T) {
	dir := os.Getenv("MCP_TESTENV_NODE_HELPER")
	if dir == "" {
		return
	}
	img, err := BuildImage(t.Context(), filepath.Join(dir, "httpd.tar"), "localhost/httpd:test", "-build", "./httpd", "-path", "/httpd")
	if err != nil {
		t.Fatal(err)
	}
	n, err := StartNode(context.Background(), NodeOptions{Images: []string{img}, lock: os.NewFile(3, "lock")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Client.CoreV1().Secrets("default").Create(t.Context(), &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "body"},
		StringData: map[string]string{"body": "from a secret"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Client.CoreV1().Pods("default").Create(t.Context(), lockedDownPod("httpd", "localhost/httpd:test", freePort(t)), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitPodReady(t, n, "default", "httpd")
	fmt.Println("POD READY")
	select {} // killed here
}
