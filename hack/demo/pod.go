package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"mcp.dev/mcp/internal/testenv"
)

// podImage is the name `make demo-pod` gives the image it loads.
const podImage = "localhost/mcp:demo"

// runPod runs mcp as a pod: a fourth cluster with a real node (kubelet,
// containerd, runc) gets the image from imageTar and deploy/ through the
// overlay podOverlay writes. The pod reads repo from a hostPath with
// `mcp run --dir`, so edits to it are reconciled as they are saved, and
// reaches the fleet with the kubeconfigs in the mcp-clusters Secret.
func runPod(ctx context.Context, fleet *testenv.Env, repo, imageTar, listen string) error {
	fmt.Println("starting a cluster with a node (kubelet, containerd, runc) for the mcp pod...")
	n, err := testenv.StartNode(ctx, testenv.NodeOptions{Images: []string{imageTar}})
	if err != nil {
		return err
	}
	defer n.Stop()

	secrets := map[string]map[string]string{"mcp-git": {}, "mcp-clusters": {}}
	for _, c := range fleet.Clusters {
		kc, err := os.ReadFile(c.Kubeconfig)
		if err != nil {
			return err
		}
		secrets["mcp-clusters"][c.Name] = string(kc)
	}
	dir, err := os.MkdirTemp("", "mcp-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	root, err := filepath.Abs(".")
	if err != nil {
		return err
	}
	if err := podOverlay(dir, filepath.Join(root, "deploy"), repo, listen); err != nil {
		return err
	}
	objs, err := testenv.Kustomize(dir)
	if err != nil {
		return err
	}
	if err := n.ApplyAll(ctx, objs); err != nil {
		return err
	}
	for name, data := range secrets {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "mcp-system"}, StringData: data}
		if _, err := n.Client.CoreV1().Secrets("mcp-system").Create(ctx, s, metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	pod, err := n.ReadyPod(ctx, "mcp-system", "app.kubernetes.io/name=mcp", "", podReadyWithin)
	if err != nil {
		return err
	}
	fmt.Printf(`
mcp runs as pod mcp-system/%s (deploy/, uid 65532, read-only root) on
the node cluster:   kubectl --kubeconfig %s -n mcp-system logs -f deploy/mcp
`, pod, n.Kubeconfig)
	printFleet(fleet, repo, listen)
	<-ctx.Done()
	return nil
}

// podOverlay writes into dir a kustomization over deploy that changes what
// the demo needs and nothing else: the image loaded into the node, host
// networking on listen (the node has no pod network), and `mcp run --dir`
// on repo mounted read-only from the host instead of a git remote.
func podOverlay(dir, deploy, repo, listen string) error {
	rel, err := filepath.Rel(dir, deploy)
	if err != nil {
		return err
	}
	name, tag, _ := strings.Cut(podImage, ":")
	_, port, _ := strings.Cut(listen, ":")
	k := `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [` + rel + `]
images:
- {name: registry.example.com/platform/mcp, newName: ` + name + `, newTag: ` + tag + `}
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
            env: [{name: MCP_LISTEN, value: "` + listen + `"}]
            volumeMounts: [{name: fleet, mountPath: /fleet, readOnly: true}]
          volumes: [{name: fleet, hostPath: {path: "` + repo + `", type: Directory}}]
- target: {kind: Deployment, name: mcp}
  patch: |
    - {op: remove, path: /spec/template/spec/containers/0/envFrom}
    - {op: replace, path: /spec/template/spec/containers/0/args, value: [run, --dir, /fleet, --drift-interval, 20s]}
    - {op: replace, path: /spec/template/spec/containers/0/ports/0/containerPort, value: ` + port + `}
`
	return os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o644)
}
