package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"mcp.dev/mcp/internal/testenv"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// manyConfigMaps is a one-cluster repo whose first apply takes a while.
func manyConfigMaps(t *testing.T, n int) string {
	t.Helper()
	repo := t.TempDir()
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Namespace\nmetadata: {name: many}\n")
	for i := range n {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d}\ndata: {i: \"%d\"}\n", i, i)
	}
	files := map[string]string{
		"fleet.yaml": "apiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata: {name: eu}\n---\n" +
			"apiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata: {name: many}\nspec: {path: apps, clusterSelector: {}, namespace: many}\n",
		"apps/many.yaml": b.String(),
	}
	for name, content := range files {
		p := filepath.Join(repo, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return repo
}

type runStatus struct {
	Clusters []struct {
		Name     string         `json:"name"`
		Result   string         `json:"result"`
		Revision string         `json:"revision"`
		Message  string         `json:"message"`
		Summary  map[string]int `json:"summary"`
		Charts   []struct {
			Placement, Name, Version string
		} `json:"charts"`
	} `json:"clusters"`
}

func getStatus(addr string) (runStatus, error) {
	var st runStatus
	resp, err := http.Get("http://" + addr + "/status")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// TestRunStopsCleanlyOnSIGTERMDuringAnApply stops mcp run while it applies
// hundreds of objects: it exits 0 within the grace period, and the next run
// converges with every object tracked (nothing orphaned by the abandoned
// apply).
func TestRunStopsCleanlyOnSIGTERMDuringAnApply(t *testing.T) {
	env, err := testenv.Start(context.Background(), testenv.Options{Clusters: []string{"eu"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Stop)
	bin := testenv.BuildMCP(t)
	repo := manyConfigMaps(t, 400)
	start := func() (*exec.Cmd, string, *strings.Builder) {
		addr := freeAddr(t)
		var logs strings.Builder
		cmd := exec.Command(bin, "run", "--dir", repo, "--credentials-dir", env.KubeconfigDir, "--listen", addr, "--log-format", "json")
		cmd.Stdout, cmd.Stderr = &logs, &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill() })
		return cmd, addr, &logs
	}

	cmd, addr, logs := start()
	// SIGTERM as soon as the revision rendered: the apply is under way.
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("never ready:\n%s", logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, logs)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("still running 15s after SIGTERM:\n%s", logs)
	}

	// A new process converges and tracks every object.
	cmd2, addr2, logs2 := start()
	defer cmd2.Process.Signal(syscall.SIGTERM)
	deadline = time.Now().Add(90 * time.Second)
	for {
		st, err := getStatus(addr2)
		if err == nil && len(st.Clusters) == 1 && st.Clusters[0].Result == "Synced" {
			if got := st.Clusters[0].Summary["managed"]; got != 401 {
				t.Fatalf("managed %d after restart, want 401", got)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("did not converge after restart: %+v\n%s", st, logs2)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestRunRefusesAStatusPathOutsideTheRepo(t *testing.T) {
	for _, p := range []string{"/status", "../status", "."} {
		code, _, errOut := mcp(t, "run", "--dir", t.TempDir(), "--status-path", p, "--listen", "127.0.0.1:0")
		if code != exitError || !strings.Contains(errOut, "--status-path") {
			t.Errorf("--status-path %q: exit %d, %q", p, code, errOut)
		}
	}
}
