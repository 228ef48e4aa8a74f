// Command demo starts three local control planes named like clusters in
// three clouds and runs `mcp run --dir testdata/demo` against them until
// Ctrl-C. It is what `make demo` runs; with -pod (`make demo-pod`) mcp
// runs as a pod of deploy/ on a fourth cluster with a real node.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"mcp.dev/mcp/internal/testenv"
)

var clusters = []string{"aws-eu-prod", "gcp-us-prod", "azure-asia-dev"}

// podReadyWithin bounds the wait for the mcp pod: image import, sandbox
// and probes take seconds, a first start of the node a little longer.
const podReadyWithin = 3 * time.Minute

func main() {
	pod := flag.Bool("pod", false, "run mcp as a pod of deploy/ on a cluster with a real node (needs root, containerd and the image of `make image-tar`)")
	imageTar := flag.String("image-tar", "bin/mcp-image.tar", "with -pod: the image archive to load, named "+podImage)
	flag.Parse()
	if err := run(*pod, *imageTar); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run(pod bool, imageTar string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	listen := envOr("MCP_DEMO_LISTEN", "127.0.0.1:8080")

	fmt.Println("starting three control planes (etcd + kube-apiserver each)...")
	fleet, err := testenv.Start(ctx, testenv.Options{Clusters: clusters})
	if err != nil {
		return err
	}
	defer fleet.Stop()

	repo, err := filepath.Abs("testdata/demo")
	if err != nil {
		return err
	}
	if pod {
		return runPod(ctx, fleet, repo, imageTar, listen)
	}
	printFleet(fleet, repo, listen)
	cmd := exec.CommandContext(ctx, "bin/mcp", "run",
		"--dir", repo,
		"--credentials-dir", fleet.KubeconfigDir,
		"--listen", listen,
		"--drift-interval", "20s",
		"--log-format", "text",
	)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	if err := cmd.Run(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("mcp run: %w", err)
	}
	return nil
}

// printFleet says where the clusters and the dashboard are and what to try.
func printFleet(fleet *testenv.Env, repo, listen string) {
	fmt.Printf(`
mcp is reconciling %s onto:
`, repo)
	for _, c := range fleet.Clusters {
		fmt.Printf("  %-15s %s   kubectl --kubeconfig %s\n", c.Name, c.URL, filepath.Join(fleet.KubeconfigDir, c.Name))
	}
	fmt.Printf(`
  dashboard:  http://%[1]s/   (JSON status: /status, metrics: /metrics)

Try: edit replicas in testdata/demo/placements/placements.yaml and save; or
scale a deployment by hand and watch the drift heal (drift checks every 20s).
Ctrl-C stops mcp and the clusters.

`, listen)
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
