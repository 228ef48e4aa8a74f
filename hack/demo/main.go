// Command demo starts three local control planes named like clusters in
// three clouds and runs `mcp run --dir testdata/demo` against them until
// Ctrl-C. It is what `make demo` runs.
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"

	"mcp.dev/mcp/internal/testenv"
)

var clusters = []string{"aws-eu-prod", "gcp-us-prod", "azure-asia-dev"}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	listen := envOr("MCP_DEMO_LISTEN", "127.0.0.1:8080")

	fmt.Println("starting three control planes (etcd + kube-apiserver each)...")
	env, err := testenv.Start(ctx, testenv.Options{Clusters: clusters})
	if err != nil {
		return err
	}
	defer env.Stop()

	repo, err := filepath.Abs("testdata/demo")
	if err != nil {
		return err
	}
	fmt.Printf(`
mcp is reconciling %s onto:
`, repo)
	for _, c := range env.Clusters {
		fmt.Printf("  %-15s %s   kubectl --kubeconfig %s\n", c.Name, c.URL, filepath.Join(env.KubeconfigDir, c.Name))
	}
	fmt.Printf(`
  dashboard:  http://%[1]s/   (JSON status: /status, metrics: /metrics)

Try: edit replicas in testdata/demo/placements/placements.yaml and save; or
scale a deployment by hand and watch the drift heal (drift checks every 20s).
Ctrl-C stops mcp and the clusters.

`, listen)

	cmd := exec.CommandContext(ctx, "bin/mcp", "run",
		"--dir", repo,
		"--credentials-dir", env.KubeconfigDir,
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

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
