package status

import (
	"encoding/json"
	"strings"
	"testing"

	"mcp.dev/mcp/apply"
)

// TestSummaryLeavesOutUnchanged: the summary is apply's Counts, and the
// status file and /status carry it as SPEC section 5 shows it, with no
// count of unchanged objects; a file read back has none either.
func TestSummaryLeavesOutUnchanged(t *testing.T) {
	st := Cluster{Name: "eu", Result: apply.Synced, Revision: "r1",
		Summary: Summary{Managed: 4, Created: 1, Updated: 2, Deleted: 3, Unchanged: 5, Failed: 6}}
	data, err := MarshalFile(st)
	if err != nil {
		t.Fatal(err)
	}
	wantYAML := "  summary:\n    managed: 4\n    created: 1\n    updated: 2\n    deleted: 3\n    failed: 6\n"
	if !strings.Contains(string(data), wantYAML) || strings.Contains(string(data), "nchanged") {
		t.Errorf("status file:\n%s\nwant the summary\n%s", data, wantYAML)
	}
	js, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if wantJSON := `"summary":{"managed":4,"created":1,"updated":2,"deleted":3,"failed":6}`; !strings.Contains(string(js), wantJSON) {
		t.Errorf("/status entry %s\nwant %s", js, wantJSON)
	}
	back, err := UnmarshalFile(data)
	if err != nil {
		t.Fatal(err)
	}
	want := st.Summary
	want.Unchanged = 0
	if back.Summary != want {
		t.Errorf("read back %+v, want %+v", back.Summary, want)
	}
}

// TestSameOutcomeQuietRound: a round that created, updated and deleted
// nothing keeps the counts of the last round that did; one that changed
// something, or the managed or failed counts, is news.
func TestSameOutcomeQuietRound(t *testing.T) {
	prev := Cluster{Name: "eu", Result: apply.Synced, Revision: "r1", Summary: Summary{Managed: 5, Created: 5}}
	tests := map[string]struct {
		next Summary
		same bool
	}{
		"identical":         {next: Summary{Managed: 5, Created: 5}, same: true},
		"nothing done":      {next: Summary{Managed: 5}, same: true},
		"unchanged counted": {next: Summary{Managed: 5, Unchanged: 5}, same: true},
		"one updated":       {next: Summary{Managed: 5, Updated: 1}},
		"one deleted":       {next: Summary{Managed: 5, Deleted: 1}},
		"one fewer managed": {next: Summary{Managed: 4}},
		"one failed":        {next: Summary{Managed: 5, Failed: 1}},
		"created again":     {next: Summary{Managed: 6, Created: 1}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			next := prev
			next.Summary = tc.next
			if got := SameOutcome(prev, next); got != tc.same {
				t.Errorf("SameOutcome(%+v, %+v) = %v, want %v", prev.Summary, tc.next, got, tc.same)
			}
		})
	}
}
