// Package e2e runs mcp as its users do: the container image built without a
// Docker engine, deploy/ applied to a cluster with a real node (kubelet,
// containerd, runc), and workloads that really start. The node cluster is
// started once, by the first test that needs it, and stopped (the machine
// put back as it was) when the tests end.
package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"mcp.dev/mcp/internal/testenv"
)

// Images the tests load into the node; localhost/ names are never pulled.
const (
	mcpImageName   = "localhost/mcp:e2e"
	httpdImageName = "localhost/httpd:e2e"
)

var (
	// tmp holds what the tests build once: images, the mcp binary.
	tmp string

	nodeOnce sync.Once
	node     *testenv.NodeCluster
	nodeErr  error

	mcpImageOnce sync.Once
	mcpImageTar  string
	mcpImageErr  error
)

func TestMain(m *testing.M) {
	var err error
	tmp, err = os.MkdirTemp("", "mcp-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	if node != nil {
		if err := node.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.RemoveAll(tmp)
	os.Exit(code)
}

// nodeCluster is the test binary's one cluster with a node, with the mcp
// and httpd images loaded; it is started by the first test that asks.
func nodeCluster(t *testing.T) *testenv.NodeCluster {
	t.Helper()
	nodeOnce.Do(func() {
		start := time.Now()
		ctx := context.Background()
		var httpd string
		if httpd, nodeErr = testenv.BuildImage(ctx, filepath.Join(tmp, "httpd.tar"), httpdImageName, "-build", "./httpd", "-path", "/httpd"); nodeErr != nil {
			return
		}
		var mcp string
		if mcp, nodeErr = buildMCPImage(); nodeErr != nil {
			return
		}
		built := time.Since(start)
		node, nodeErr = testenv.StartNode(ctx, testenv.NodeOptions{Images: []string{httpd, mcp}})
		t.Logf("images built in %s, node cluster started in %s", built.Round(time.Millisecond), (time.Since(start) - built).Round(time.Millisecond))
	})
	if nodeErr != nil {
		t.Fatal(nodeErr)
	}
	return node
}

// mcpImage is the image `make image-tar` writes, built into tmp.
func mcpImage(t *testing.T) string {
	t.Helper()
	tar, err := buildMCPImage()
	if err != nil {
		t.Fatal(err)
	}
	return tar
}

func buildMCPImage() (string, error) {
	mcpImageOnce.Do(func() {
		dir := filepath.Join(tmp, "image")
		// BIN: bin/mcp and the archive go to the test's directory, not to
		// the shared bin/.
		cmd := exec.Command("make", "--no-print-directory", "-C", "..", "image-tar", "BIN="+dir, "IMAGE="+mcpImageName)
		if out, err := cmd.CombinedOutput(); err != nil {
			mcpImageErr = fmt.Errorf("make image-tar: %v\n%s", err, out)
			return
		}
		mcpImageTar = filepath.Join(dir, "mcp-image.tar")
	})
	return mcpImageTar, mcpImageErr
}

// moduleRoot is the directory of mcp's go.mod; tests run in e2e/.
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatal(err)
	}
	return root
}
