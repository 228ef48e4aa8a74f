package reconciler

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"mcp.dev/mcp/apply"
)

// TestSoak runs many reconcile rounds, a change in every round, over the two
// test clusters and two that never answer, and checks that the heap in use
// after GC and the goroutine count stay bounded. It runs only with
// MCP_SOAK=1 (make soak), for SOAK_DURATION (default 3m).
func TestSoak(t *testing.T) {
	if os.Getenv("MCP_SOAK") == "" {
		t.Skip("soak test: run with MCP_SOAK=1 (make soak)")
	}
	duration := 3 * time.Minute
	if d, err := time.ParseDuration(os.Getenv("SOAK_DURATION")); err == nil {
		duration = d
	}
	creds := t.TempDir()
	for _, c := range env.Clusters {
		data, err := os.ReadFile(c.Kubeconfig)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(creds, c.Name), data, 0o600)
	}
	cfg, err := clientcmd.LoadFromFile(env.Clusters[0].Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cfg.Clusters {
		c.Server = "https://127.0.0.1:1" // nothing listens: every try fails fast
	}
	if err := clientcmd.WriteToFile(*cfg, filepath.Join(creds, "down")); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, "mcp-status", func(o *Options) {
		o.Render.CredentialsDir = creds
		o.Interval = time.Hour
		o.DriftInterval = 500 * time.Millisecond
		o.MaxBackoff = time.Second
	})
	files := func(i int) map[string]string {
		f := fleetFiles(d.ns, fmt.Sprint(i))
		for _, n := range []string{"down-1", "down-2"} {
			f["clusters/"+n+".yaml"] = "apiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata:\n  name: " + n + "\nspec:\n  kubeconfig: {path: down}\n"
		}
		return f
	}
	want := map[string]apply.Status{"aws-eu": apply.Synced, "gcp-us": apply.Synced, "down-1": apply.Unreachable, "down-2": apply.Unreachable}
	sample := func() (heap uint64, goroutines int) {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse, runtime.NumGoroutine()
	}
	var baseHeap uint64
	var baseG int
	start := time.Now()
	round := 0
	for ; time.Since(start) < duration; round++ {
		rev := d.repo.Commit("main", fmt.Sprint(round), files(round))
		webhook(t, d)
		d.waitFor(t, rev, want)
		if got := configValue(t, "gcp-us", d.ns); got != fmt.Sprint(round) {
			t.Fatalf("round %d: gcp-us value %q", round, got)
		}
		switch {
		case round == 10:
			baseHeap, baseG = sample()
			t.Logf("baseline after %d rounds: heap in use %d MB, %d goroutines", round, baseHeap>>20, baseG)
		case round > 10 && round%20 == 0:
			heap, g := sample()
			t.Logf("round %d: heap in use %d MB, %d goroutines", round, heap>>20, g)
			if g > baseG+50 {
				t.Fatalf("round %d: %d goroutines, %d at the baseline", round, g, baseG)
			}
			if heap > 2*baseHeap+64<<20 {
				t.Fatalf("round %d: heap in use %d MB, %d MB at the baseline", round, heap>>20, baseHeap>>20)
			}
		}
	}
	if round <= 10 {
		t.Fatalf("only %d rounds in %s: nothing measured", round, duration)
	}
	t.Logf("%d rounds in %s", round, duration)
}
