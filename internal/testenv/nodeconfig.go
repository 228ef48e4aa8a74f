package testenv

import (
	"fmt"
	"os"
	"path/filepath"
)

// The node's files, all below its directory: containerd's config, root,
// state and socket, runc's state, the CNI plugin and its config, and the
// kubelet's config and root.
type nodeDirs struct {
	root string
}

func (d nodeDirs) containerdConfig() string { return filepath.Join(d.root, "containerd.toml") }
func (d nodeDirs) containerdSocket() string { return filepath.Join(d.root, "containerd.sock") }
func (d nodeDirs) containerdRoot() string   { return filepath.Join(d.root, "containerd") }
func (d nodeDirs) containerdState() string  { return filepath.Join(d.root, "containerd-state") }
func (d nodeDirs) runcRoot() string         { return filepath.Join(d.root, "runc") }
func (d nodeDirs) cniBin() string           { return filepath.Join(d.root, "cni", "bin") }
func (d nodeDirs) cniConf() string          { return filepath.Join(d.root, "cni", "net.d") }
func (d nodeDirs) kubeletConfig() string    { return filepath.Join(d.root, "kubelet.yaml") }
func (d nodeDirs) kubeletRoot() string      { return filepath.Join(d.root, "kubelet") }
func (d nodeDirs) podLogs() string          { return filepath.Join(d.root, "pod-logs") }

// containerdConfig is what Debian's containerd 1.6 needs to run pods in a
// VM where root lacks CAP_SYS_RESOURCE and AppArmor is absent:
//   - restrict_oom_score_adj, or runc fails to set the kubelet's -998 and
//     every sandbox fails with "can't get final child's PID from pipe";
//   - disable_apparmor, since there is no AppArmor;
//   - the streaming server (logs, exec) on loopback only;
//   - runc with cgroupfs and its own state directory.
func containerdConfig(d nodeDirs, sandboxImage string, streamPort int) string {
	return fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp"]

[grpc]
  address = %q

[ttrpc]
  address = %q

[plugins."io.containerd.internal.v1.opt"]
  path = %q

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  restrict_oom_score_adj = true
  disable_apparmor = true
  enable_selinux = false
  stream_server_address = "127.0.0.1"
  stream_server_port = "%d"

[plugins."io.containerd.grpc.v1.cri".containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
  SystemdCgroup = false
  BinaryName = "/usr/sbin/runc"
  Root = %q

[plugins."io.containerd.grpc.v1.cri".cni]
  bin_dir = %q
  conf_dir = %q
`, d.containerdRoot(), d.containerdState(), d.containerdSocket(), d.containerdSocket()+".ttrpc",
		filepath.Join(d.root, "opt"), sandboxImage, streamPort, d.runcRoot(), d.cniBin(), d.cniConf())
}

// noopCNI is a CNI plugin that does nothing: pods of the test bed use the
// host network, but containerd reports the network not ready (and so the
// node NotReady) until some plugin is configured. It answers ADD with the
// interface it was asked for, in the sandbox it was given. It is installed
// as loopback too, which containerd calls for every sandbox.
const noopCNI = `#!/bin/sh
case "$CNI_COMMAND" in
ADD) printf '{"cniVersion":"0.4.0","interfaces":[{"name":"%s","sandbox":"%s"}]}' "$CNI_IFNAME" "$CNI_NETNS" ;;
VERSION) printf '{"cniVersion":"0.4.0","supportedVersions":["0.3.0","0.3.1","0.4.0"]}' ;;
esac
`

const noopCNIConfig = `{"cniVersion":"0.4.0","name":"noop","plugins":[{"type":"noop"}]}
`

// kubeletConfig lets a kubelet 1.35 run in a VM with cgroup v1, as root
// without every capability, with all its endpoints on loopback and no
// resource enforcement that a shared test machine would trip over.
func kubeletConfig(d nodeDirs, port, healthzPort int) string {
	return fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: %d
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: %d
containerRuntimeEndpoint: unix://%s
podLogsDir: %s
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
resolvConf: ""
enforceNodeAllocatable: ["none"]
evictionHard: {memory.available: "1Mi", nodefs.available: "1%%", nodefs.inodesFree: "1%%", imagefs.available: "1%%"}
imageGCHighThresholdPercent: 100
serializeImagePulls: false
syncFrequency: 10s
fileCheckFrequency: 10s
`, port, healthzPort, d.containerdSocket(), d.podLogs())
}

// writeNodeFiles writes the configs and the CNI plugin.
func writeNodeFiles(d nodeDirs, sandboxImage string, streamPort, kubeletPort, healthzPort int) error {
	for _, dir := range []string{d.cniBin(), d.cniConf(), d.kubeletRoot(), d.podLogs(), d.runcRoot()} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
	}
	files := []struct {
		path string
		data string
		mode os.FileMode
	}{
		{d.containerdConfig(), containerdConfig(d, sandboxImage, streamPort), 0o600},
		{filepath.Join(d.cniBin(), "noop"), noopCNI, 0o700},
		{filepath.Join(d.cniBin(), "loopback"), noopCNI, 0o700},
		{filepath.Join(d.cniConf(), "10-noop.conflist"), noopCNIConfig, 0o600},
		{d.kubeletConfig(), kubeletConfig(d, kubeletPort, healthzPort), 0o600},
	}
	for _, f := range files {
		if err := os.WriteFile(f.path, []byte(f.data), f.mode); err != nil {
			return err
		}
	}
	return nil
}
