package reconciler

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"mcp.dev/mcp/apply"
	"mcp.dev/mcp/internal/testenv"
	"mcp.dev/mcp/reconciler/status"
	"mcp.dev/mcp/source/dir"
)

// countingApplier is a pure in-memory ClusterApplier: it records which
// clusters were reconciled and answers with a result per cluster.
type countingApplier struct {
	mu      sync.Mutex
	calls   map[string]int
	results map[string]apply.Status
}

func (a *countingApplier) Reconcile(_ context.Context, cs Desired) apply.Result {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls[cs.Cluster.Name]++
	res := a.results[cs.Cluster.Name]
	if res == "" {
		res = apply.Synced
	}
	return apply.Result{Status: apply.Status(res), Plan: &apply.Plan{}, Applied: true, Counts: apply.Counts{Managed: len(cs.Objects), Created: a.calls[cs.Cluster.Name]}}
}

func (a *countingApplier) count(name string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls[name]
}

// memoryStatus records status commits.
type memoryStatus struct {
	mu      sync.Mutex
	commits []map[string][]byte
}

func (m *memoryStatus) WriteStatus(_ context.Context, files map[string][]byte, _ string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.commits = append(m.commits, files)
	return nil
}

func (m *memoryStatus) OnlyStatusChanged(context.Context, string, string) bool { return false }

func (m *memoryStatus) snapshot() []map[string][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.commits)
}

func copyFleet(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS("../testdata/fleet")); err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestLoopReconcilesEveryClusterAndCommitsOncePerRound(t *testing.T) {
	repo := copyFleet(t)
	src, err := dir.New(dir.Options{Dir: repo})
	if err != nil {
		t.Fatal(err)
	}
	applier := &countingApplier{calls: map[string]int{}, results: map[string]apply.Status{"gcp-us-prod": apply.Unreachable}}
	commits := &memoryStatus{}
	store := status.NewStore()
	opts := DefaultOptions()
	opts.Interval = time.Hour // only triggers and file changes wake the loop
	opts.Status = commits
	r := New(src, applier, store, status.NewMetrics(), opts)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()

	testenv.Eventually(t, 15*time.Second, "three clusters reconciled", func() bool { return len(store.Snapshot().Clusters) == 3 })
	testenv.Eventually(t, 15*time.Second, "one status commit", func() bool { return len(commits.snapshot()) == 1 })
	first := commits.snapshot()[0]
	if len(first) != 3 || !strings.Contains(string(first["status/gcp-us-prod.yaml"]), "result: Unreachable") {
		t.Fatalf("first commit: %d files, gcp-us-prod:\n%s", len(first), first["status/gcp-us-prod.yaml"])
	}

	// A poll of an unchanged source reconciles nothing.
	before := applier.count("aws-eu-prod")
	r.Trigger()
	time.Sleep(300 * time.Millisecond)
	if got := applier.count("aws-eu-prod"); got != before {
		t.Fatalf("unchanged source reconciled aws-eu-prod again (%d → %d)", before, got)
	}

	// The unreachable cluster is retried with backoff on its own.
	testenv.Eventually(t, 15*time.Second, "gcp-us-prod retried", func() bool { return applier.count("gcp-us-prod") >= 2 })

	// A file change reaches every cluster through the watch.
	if err := os.WriteFile(filepath.Join(repo, "apps", "web", "extra.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata: {a: b}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 15*time.Second, "aws-eu-prod reconciled after the edit", func() bool { return applier.count("aws-eu-prod") == before+1 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestOwnershipDecidesWhichClustersAreReconciled(t *testing.T) {
	repo := copyFleet(t)
	src, err := dir.New(dir.Options{Dir: repo})
	if err != nil {
		t.Fatal(err)
	}
	applier := &countingApplier{calls: map[string]int{}}
	var mine sync.Map // cluster → owned
	mine.Store("aws-eu-prod", true)
	opts := DefaultOptions()
	opts.Interval = time.Hour
	opts.Owns = func(c string) bool { _, ok := mine.Load(c); return ok }
	store := status.NewStore()
	metrics := status.NewMetrics()
	r := New(src, applier, store, metrics, opts)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()

	testenv.Eventually(t, 15*time.Second, "the owned cluster reconciled", func() bool { return applier.count("aws-eu-prod") == 1 })
	time.Sleep(200 * time.Millisecond)
	if applier.count("gcp-us-prod") != 0 || len(store.Snapshot().Clusters) != 1 {
		t.Fatalf("a cluster of another replica was reconciled: %v", applier.calls)
	}
	// Ownership moves: gcp-us-prod is taken over, aws-eu-prod given away.
	mine.Store("gcp-us-prod", true)
	mine.Delete("aws-eu-prod")
	r.Trigger()
	testenv.Eventually(t, 15*time.Second, "the taken-over cluster reconciled", func() bool { return applier.count("gcp-us-prod") == 1 })
	testenv.Eventually(t, 15*time.Second, "the given-away cluster dropped from status", func() bool {
		c := store.Snapshot().Clusters
		return len(c) == 1 && c[0].Name == "gcp-us-prod"
	})
	if applier.count("aws-eu-prod") != 1 {
		t.Fatalf("the still-owned revision was reconciled again: %v", applier.calls)
	}
	if n := testutil.CollectAndCount(metrics.ClusterReady, "mcp_cluster_ready"); n != 1 {
		t.Fatalf("%d mcp_cluster_ready series after handing a cluster over, want 1 (the owned one)", n)
	}
	cancel()
	<-done
}

// TestDriftedKeepsTheLastAppliedRevision: a dry run (or a paused cluster)
// that leaves a difference unapplied does not claim the new revision.
func TestDriftedKeepsTheLastAppliedRevision(t *testing.T) {
	src, err := dir.New(dir.Options{Dir: copyFleet(t)})
	if err != nil {
		t.Fatal(err)
	}
	applier := &countingApplier{calls: map[string]int{}, results: map[string]apply.Status{"aws-eu-prod": apply.Drifted}}
	opts := DefaultOptions()
	opts.Interval = time.Hour
	store := status.NewStore()
	r := New(src, applier, store, status.NewMetrics(), opts)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- r.Run(ctx) }()
	testenv.Eventually(t, 15*time.Second, "three clusters reported", func() bool { return len(store.Snapshot().Clusters) == 3 })
	for _, c := range store.Snapshot().Clusters {
		want := store.Snapshot().Revision
		if c.Result == apply.Drifted {
			want = ""
		}
		if c.Revision != want {
			t.Errorf("%s (%s): revision %q, want %q", c.Name, c.Result, c.Revision, want)
		}
	}
	cancel()
	<-done
}
