package reconciler

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mcp.dev/mcp/apply"
	"mcp.dev/mcp/internal/testenv"
	"mcp.dev/mcp/reconciler/status"
	"mcp.dev/mcp/source/dir"
)

// TestHostileRevisionFailsAlone: a revision whose overlays would expand to
// millions of objects fails, for the clusters that place it, without being
// built and without stalling the loop; the revision after it is picked up.
func TestHostileRevisionFailsAlone(t *testing.T) {
	repo := copyFleet(t)
	src, err := dir.New(dir.Options{Dir: repo})
	if err != nil {
		t.Fatal(err)
	}
	applier := &countingApplier{calls: map[string]int{}}
	store := status.NewStore()
	opts := DefaultOptions()
	opts.Interval = time.Hour
	r := New(src, applier, store, status.NewMetrics(), opts)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	testenv.Eventually(t, 15*time.Second, "three clusters reconciled", func() bool { return len(store.Snapshot().Clusters) == 3 })
	before := applier.count("aws-eu-prod")

	// 2^30 copies of one ConfigMap, from 30 levels of a few lines each.
	write := func(rel, content string) {
		t.Helper()
		p := filepath.Join(repo, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("hostile/l0/kustomization.yaml", "resources: [cm.yaml]\n")
	write("hostile/l0/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n")
	for i := 1; i <= 30; i++ {
		write(fmt.Sprintf("hostile/l%d/kustomization.yaml", i), "resources: [a, b]\n")
		write(fmt.Sprintf("hostile/l%d/a/kustomization.yaml", i), fmt.Sprintf("namePrefix: a-\nresources: [../../l%d]\n", i-1))
		write(fmt.Sprintf("hostile/l%d/b/kustomization.yaml", i), fmt.Sprintf("namePrefix: b-\nresources: [../../l%d]\n", i-1))
	}
	write("apps/platform/kustomization.yaml", "resources: [../../hostile/l30]\n")
	testenv.Eventually(t, 15*time.Second, "the hostile revision failed on every cluster", func() bool {
		for _, c := range store.Snapshot().Clusters {
			if c.Result != apply.Failed || !strings.Contains(c.Message, "--max-objects") {
				return false
			}
		}
		return true
	})
	if got := applier.count("aws-eu-prod"); got != before {
		t.Errorf("the hostile revision reached the applier (%d → %d calls)", before, got)
	}

	// The fix is picked up.
	if err := os.Remove(filepath.Join(repo, "apps", "platform", "kustomization.yaml")); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 15*time.Second, "the next revision reconciled", func() bool {
		for _, c := range store.Snapshot().Clusters {
			if c.Result != apply.Synced || c.Revision != store.Snapshot().Revision {
				return false
			}
		}
		return true
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
