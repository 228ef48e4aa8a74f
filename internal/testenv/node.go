package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// NodeName is the name of the node of a NodeCluster.
const NodeName = "testenv-node"

// ErrNotRoot means a node cluster was asked for by a user other than root:
// the kubelet and containerd mount file systems and create cgroups.
var ErrNotRoot = errors.New("a cluster with a node needs root (the kubelet and containerd mount and create cgroups)")

// NodeOptions say how to start a NodeCluster.
type NodeOptions struct {
	// BinDir as in Options; it also holds kubelet, kube-controller-manager
	// and kube-scheduler.
	BinDir string
	// Images are image archives (see BuildImage) imported into the node's
	// containerd before the kubelet starts.
	Images []string

	// lock, when set, is a lock from lockNodes that the caller holds and
	// releases itself (tests that compare the machine before and after).
	lock *os.File
}

// NodeCluster is a control plane with one real node: etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler, and a kubelet
// running pods through containerd and runc. Everything listens on
// loopback; the node's one address is InternalIP 127.0.0.1, so pods use
// the host network (a no-op CNI plugin only makes the node Ready).
//
// Starting one takes 15 to 30 seconds on two busy cores; a test binary
// starts at most one, when a test first needs it.
type NodeCluster struct {
	*Cluster
	// Client is an admin client of the cluster.
	Client kubernetes.Interface

	dirs nodeDirs
	// record is what the node changed on the machine, to put back.
	record hostRecord
	// release lets go of the lock held from start to Stop: one node
	// cluster per machine.
	release func()
	svc     *serviceProxy

	containerd, kubelet, kcm, scheduler *proc
}

// StartNode starts a NodeCluster. On error whatever was started is
// stopped and put back again.
func StartNode(ctx context.Context, opts NodeOptions) (n *NodeCluster, err error) {
	if os.Geteuid() != 0 {
		return nil, ErrNotRoot
	}
	bin, err := binDir(opts.BinDir)
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"kubelet", "kube-controller-manager", "kube-scheduler"} {
		if _, err := os.Stat(filepath.Join(bin, name)); err != nil {
			return nil, fmt.Errorf("%w (%s missing)", ErrNoBinaries, filepath.Join(bin, name))
		}
	}
	for _, p := range []string{"/usr/bin/containerd", "/usr/bin/ctr", "/usr/sbin/runc"} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("%s missing: run make testenv (it installs containerd and runc)", p)
		}
	}
	lock, ownLock := opts.lock, opts.lock == nil
	if ownLock {
		if lock, err = lockNodes(ctx); err != nil {
			return nil, err
		}
	}
	release := func() {
		if ownLock {
			lock.Close()
		}
	}
	// A test binary killed before Stop left the machine changed.
	if err := sweepStale(); err != nil {
		release()
		return nil, err
	}
	dir, err := os.MkdirTemp("", "mcp-testenv-node-")
	if err != nil {
		release()
		return nil, err
	}
	if err := saveHostRecord(dir, hostRecord{PID: os.Getpid()}); err != nil {
		release()
		return nil, err
	}
	n = &NodeCluster{
		Cluster: &Cluster{Name: "node", bin: bin, dir: filepath.Join(dir, "control-plane"), node: true},
		dirs:    nodeDirs{root: filepath.Join(dir, "node")},
		record:  hostRecord{PID: os.Getpid()},
		release: release,
	}
	defer func() {
		if err != nil {
			n.Stop()
			n = nil
		}
	}()
	if err := n.Cluster.start(ctx); err != nil {
		return n, fmt.Errorf("cluster node: %w", err)
	}
	if err := n.writeKubeconfig(filepath.Join(dir, "kubeconfig")); err != nil {
		return n, err
	}
	if n.Client, err = kubernetes.NewForConfig(n.RESTConfig()); err != nil {
		return n, err
	}
	if n.svc, err = startServiceProxy(n.port); err != nil {
		return n, err
	}
	if err := n.startContainerd(ctx, opts.Images); err != nil {
		return n, err
	}
	if err := n.startKubelet(ctx); err != nil {
		return n, err
	}
	if err := n.startControllers(ctx); err != nil {
		return n, err
	}
	return n, nil
}

// ImportImage imports an image archive into the node's containerd.
func (n *NodeCluster) ImportImage(ctx context.Context, archive string) error {
	out, err := exec.CommandContext(ctx, "/usr/bin/ctr", "--address", n.dirs.containerdSocket(),
		"--namespace", "k8s.io", "images", "import", "--no-unpack", archive).CombinedOutput()
	if err != nil {
		return fmt.Errorf("import image %s: %v\n%s", archive, err, out)
	}
	return nil
}

func (n *NodeCluster) startContainerd(ctx context.Context, images []string) error {
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(n.dirs.root, 0o700); err != nil {
		return err
	}
	if err := writeNodeFiles(n.dirs, PauseImage, ports[0], ports[1], ports[2]); err != nil {
		return err
	}
	// containerd and the kubelet create these whatever their config.
	for _, d := range hostDirs {
		if _, err := os.Lstat(d); errors.Is(err, os.ErrNotExist) {
			n.record.Created = append(n.record.Created, d)
		}
	}
	if err := saveHostRecord(filepath.Dir(n.dirs.root), n.record); err != nil {
		return err
	}
	if n.containerd, err = n.spawnPath("containerd", "/usr/bin/containerd", "--config", n.dirs.containerdConfig()); err != nil {
		return err
	}
	if err := waitFor(ctx, n.logFile("containerd"), func() error {
		_, err := os.Stat(n.dirs.containerdSocket())
		return err
	}); err != nil {
		return fmt.Errorf("containerd: %w", err)
	}
	pause, err := BuildImage(ctx, filepath.Join(n.dirs.root, "pause.tar"), PauseImage, "-build", "./pause", "-path", "/pause")
	if err != nil {
		return err
	}
	for _, img := range append([]string{pause}, images...) {
		if err := n.ImportImage(ctx, img); err != nil {
			return err
		}
	}
	return nil
}

func (n *NodeCluster) startKubelet(ctx context.Context) error {
	vals, err := readSysctls(kubeletSysctls)
	if err != nil {
		return err
	}
	n.record.Sysctls = vals
	if err := saveHostRecord(filepath.Dir(n.dirs.root), n.record); err != nil {
		return err
	}
	n.kubelet, err = n.spawn("kubelet",
		"--config="+n.dirs.kubeletConfig(),
		"--kubeconfig="+n.Kubeconfig,
		"--root-dir="+n.dirs.kubeletRoot(),
		"--cert-dir="+filepath.Join(n.dirs.root, "kubelet-pki"),
		"--hostname-override="+NodeName,
		// With an external cloud provider the kubelet leaves the node's
		// addresses alone once set: it would otherwise report the host's
		// first non-loopback address (--node-ip=127.0.0.1 is refused).
		"--cloud-provider=external",
		"--v=1",
	)
	if err != nil {
		return err
	}
	logFile := n.logFile("kubelet")
	if err := waitFor(ctx, logFile, func() error {
		_, err := n.Client.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
		return err
	}); err != nil {
		return fmt.Errorf("kubelet: node not registered: %w", err)
	}
	// The node's only address is 127.0.0.1, and no cloud provider will
	// initialise it: drop the taint that waits for one. The kubelet
	// updates the node meanwhile, hence the retry on conflict.
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		node, err := n.Client.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		var taints []corev1.Taint
		for _, t := range node.Spec.Taints {
			if t.Key != "node.cloudprovider.kubernetes.io/uninitialized" {
				taints = append(taints, t)
			}
		}
		node.Spec.Taints = taints
		_, err = n.Client.CoreV1().Nodes().Update(ctx, node, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("node %s: %w", NodeName, err)
	}
	// A merge patch replaces the list: never a Hostname address, which
	// the apiserver would resolve through DNS.
	patch := []byte(`{"status":{"addresses":[{"type":"InternalIP","address":"127.0.0.1"}]}}`)
	if _, err := n.Client.CoreV1().Nodes().Patch(ctx, NodeName, types.MergePatchType, patch, metav1.PatchOptions{}, "status"); err != nil {
		return fmt.Errorf("node %s: address: %w", NodeName, err)
	}
	if err := waitFor(ctx, logFile, func() error {
		node, err := n.Client.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, c := range node.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				return nil
			}
		}
		return fmt.Errorf("node %s not Ready", NodeName)
	}); err != nil {
		return fmt.Errorf("kubelet: %w", err)
	}
	return nil
}

func (n *NodeCluster) startControllers(ctx context.Context) error {
	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	if n.kcm, err = n.spawnControllerManager(ports[0], ""); err != nil {
		return err
	}
	n.scheduler, err = n.spawn("kube-scheduler",
		"--kubeconfig="+n.Kubeconfig,
		"--authentication-kubeconfig="+n.Kubeconfig,
		"--authorization-kubeconfig="+n.Kubeconfig,
		"--bind-address=127.0.0.1",
		"--secure-port="+strconv.Itoa(ports[1]),
		"--tls-cert-file="+n.pki.certFile,
		"--tls-private-key-file="+n.pki.keyFile,
		"--leader-elect=false",
		"--v=1",
	)
	if err != nil {
		return err
	}
	for name, port := range map[string]int{"kube-controller-manager": ports[0], "kube-scheduler": ports[1]} {
		if err := n.waitHealthy(ctx, name, port); err != nil {
			return err
		}
	}
	// Pods need the namespace's default service account, which the
	// controller-manager creates.
	return waitFor(ctx, n.logFile("kube-controller-manager"), func() error {
		_, err := n.Client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err
	})
}

// Stop stops the cluster and puts the machine back as it was: pods,
// scheduler, controller-manager, kubelet, containerd, apiserver, etcd;
// then the mounts, cgroups, containerd's run directory and the kernel
// settings the kubelet changed. It reports what it could not put back.
func (n *NodeCluster) Stop() error {
	// No new pods from here on: with the controllers running, a
	// Deployment's pods would come back as fast as they are deleted.
	stop(n.scheduler)
	stop(n.kcm)
	if n.Client != nil && n.kubelet != nil {
		n.deletePods()
	}
	stop(n.kubelet)
	killCgroupProcs()
	stop(n.containerd)
	killShims(n.dirs.containerdSocket())
	if n.svc != nil {
		n.svc.close()
	}
	if n.Cluster != nil {
		n.Cluster.stopAll()
	}
	if n.release != nil {
		defer n.release()
	}
	if n.dirs.root == "" {
		return nil
	}
	dir := filepath.Dir(n.dirs.root)
	if err := restoreHost(dir, n.record, true); err != nil {
		// Keep the files for a look at what is still mounted.
		return fmt.Errorf("node cluster teardown: %w", err)
	}
	return os.RemoveAll(dir)
}

// deletePods deletes every pod and waits (a while) until the kubelet has
// stopped them, so that no container outlives the test bed.
func (n *NodeCluster) deletePods() {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	grace := int64(1)
	nss, err := n.Client.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return
	}
	for _, ns := range nss.Items {
		n.Client.CoreV1().Pods(ns.Name).DeleteCollection(ctx, metav1.DeleteOptions{GracePeriodSeconds: &grace}, metav1.ListOptions{})
	}
	for ctx.Err() == nil {
		pods, err := n.Client.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
		if err != nil || len(pods.Items) == 0 {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitFor polls check until it succeeds, or fails with the tail of a log.
func waitFor(ctx context.Context, logFile string, check func() error) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	for {
		err := check()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w\n%s", err, tail(logFile))
		case <-time.After(200 * time.Millisecond):
		}
	}
}
