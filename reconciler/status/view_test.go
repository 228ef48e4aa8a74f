package status

import (
	"errors"
	"testing"
	"time"

	"mcp.dev/mcp/diff"
)

// woke reports whether ch was closed, i.e. live views were told of a change.
func woke(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func TestStoreDetailsKeepLabelsAndTheLastPlan(t *testing.T) {
	s := NewStore()
	labels := map[string]string{"cloud": "aws"}
	s.SetLabels("eu", labels)
	labels["cloud"] = "changed by the caller"
	plan := &diff.ClusterPlan{Cluster: "eu"}
	s.SetPlan("eu", plan, "rev1")
	s.SetPlan("eu", nil, "rev2") // unreachable: no plan made

	d, ok := s.Detail("eu")
	if !ok || d.Labels["cloud"] != "aws" {
		t.Fatalf("labels %v, want a copy of cloud=aws", d.Labels)
	}
	if d.Plan != plan || d.PlanRevision != "rev1" || d.PlannedAt.IsZero() {
		t.Fatalf("plan %p at %q %v, want the rev1 plan kept", d.Plan, d.PlanRevision, d.PlannedAt)
	}

	ch := s.Changed()
	s.SetLabels("eu", map[string]string{"cloud": "aws"})
	if woke(ch) {
		t.Fatal("the same labels woke live views")
	}
	s.Remove(func(string) bool { return false })
	if _, ok := s.Detail("eu"); ok {
		t.Fatal("details of a removed cluster kept")
	}
}

func TestStoreSourceChecks(t *testing.T) {
	s := NewStore()
	s.SetSource(SourceInfo{URL: "https://git:***@example.com/fleet.git", Branch: "main"})
	t0 := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

	ch := s.Changed()
	s.SourceChecked(t0, nil)
	if !woke(ch) {
		t.Fatal("the first fetch did not wake live views")
	}
	ch = s.Changed()
	s.SourceChecked(t0.Add(time.Second), nil)
	if woke(ch) {
		t.Fatal("an unchanged successful check woke live views")
	}
	s.SourceChecked(t0.Add(2*time.Second), errors.New("ls-remote: connection refused"))
	got := s.Source()
	if !got.Stale || got.Error == "" || !got.LastFetch.Equal(t0.Add(time.Second)) || !got.LastCheck.Equal(t0.Add(2*time.Second)) {
		t.Fatalf("after a failed check: %+v", got)
	}
	if got.URL != "https://git:***@example.com/fleet.git" || got.Branch != "main" {
		t.Fatalf("URL and branch lost: %+v", got)
	}
	s.SourceChecked(t0.Add(3*time.Second), nil)
	if got := s.Source(); got.Stale || got.Error != "" {
		t.Fatalf("after a good check: %+v", got)
	}
}
