package status

import (
	"strings"
	"testing"
	"time"

	"mcp.dev/mcp/apply"
)

func TestStoreKeepsSinceWhileResultStays(t *testing.T) {
	s := NewStore()
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	s.Update(Cluster{Name: "eu", Result: apply.Synced, Revision: "a", Since: t0})
	got, changed := s.Update(Cluster{Name: "eu", Result: apply.Synced, Revision: "b", Since: t0.Add(time.Hour)})
	if !changed || !got.Since.Equal(t0) {
		t.Fatalf("new revision, same result: changed=%v since=%v, want true and %v", changed, got.Since, t0)
	}
	if _, changed := s.Update(Cluster{Name: "eu", Result: apply.Synced, Revision: "b", Since: t0.Add(2 * time.Hour)}); changed {
		t.Fatal("an identical outcome counted as a change")
	}
	got, _ = s.Update(Cluster{Name: "eu", Result: apply.Failed, Revision: "b", Since: t0.Add(3 * time.Hour)})
	if !got.Since.Equal(t0.Add(3 * time.Hour)) {
		t.Fatalf("result changed but since kept: %v", got.Since)
	}
}

func TestStoreChangedWakesWaiters(t *testing.T) {
	s := NewStore()
	ch := s.Changed()
	s.SetRevision("abc")
	select {
	case <-ch:
	default:
		t.Fatal("Changed channel not closed by SetRevision")
	}
}

func TestMarshalStatusFile(t *testing.T) {
	data, err := MarshalFile(Cluster{
		Name: "aws-eu-prod", Result: apply.Failed, Revision: "3f2c1a9", Message: "1 object failed",
		Since:   time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC),
		Summary: Summary{Managed: 42, Created: 1, Updated: 2, Failed: 1},
		Objects: []Object{{Kind: "Deployment", Namespace: "web", Name: "web", Error: "invalid"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := `apiVersion: mcp.dev/v1alpha1
kind: ClusterStatus
metadata:
  name: aws-eu-prod
status:
  revision: 3f2c1a9
  result: Failed
  message: 1 object failed
  since: "2026-11-26T10:00:00Z"
  summary:
    managed: 42
    created: 1
    updated: 2
    deleted: 0
    failed: 1
  objects:
    - kind: Deployment
      namespace: web
      name: web
      error: invalid
`
	if string(data) != want {
		t.Errorf("status file:\n%s\nwant:\n%s", data, want)
	}
	if !strings.Contains(Fleet{Clusters: []Cluster{{Result: apply.Failed}}}.String(), "1 Failed") {
		t.Error("FleetStatus.String does not count results")
	}
}
