package status

import (
	"testing"
	"time"

	"mcp.dev/mcp/apply"
)

// TestFlushNeverPutsBackAnOlderStatus: flush puts back the status the
// branch holds when the cluster's outcome is the same, so that /status
// and the file agree; but a status that came in while flush wrote,
// differing only in the objects it lists, is newer and stays.
func TestFlushNeverPutsBackAnOlderStatus(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	onBranch := Cluster{Name: "eu", Result: apply.Drifted, Revision: "r1", Message: "1 objects differ from the desired state (not applied)",
		Since: t0, Objects: []Object{{Kind: "ConfigMap", Namespace: "web", Name: "a", Drifted: true, Error: "would update"}}}
	s := NewStore()
	seen := onBranch
	seen.Since = t0.Add(time.Hour) // the same outcome, found again after a restart
	s.Update(seen)
	snap := s.Snapshot().Clusters[0] // what flush read

	// Meanwhile another object drifted instead: same result, message and
	// counts, other objects.
	newer := seen
	newer.Objects = []Object{{Kind: "ConfigMap", Namespace: "web", Name: "b", Drifted: true, Error: "would update"}}
	s.Update(newer)
	if s.Restore(onBranch, snap) {
		t.Fatal("flush put the branch's status back over a newer one")
	}
	if got := s.Snapshot().Clusters[0]; got.Objects[0].Name != "b" {
		t.Fatalf("the store went back in time: it lists %s, want b", got.Objects[0].Name)
	}

	// Nothing came in: the branch's status (and its since) is put back.
	snap = s.Snapshot().Clusters[0]
	branch := newer
	branch.Since = t0
	if !s.Restore(branch, snap) || !s.Snapshot().Clusters[0].Since.Equal(t0) {
		t.Fatalf("the branch's status was not put back: %+v", s.Snapshot().Clusters[0])
	}
}
