package apply

import (
	"errors"
	"testing"

	"mcp.dev/mcp/diff"
)

// TestTally: what Apply counts of each object, from its plan item and
// what happened to it.
func TestTally(t *testing.T) {
	action := func(a diff.Action) func(*item) { return func(it *item) { it.action = a } }
	reapply := func(it *item) { it.reapply = true }
	applyErr := &ObjectError{Op: "apply", Err: errors.New("admission webhook denied")}
	done := &outcome{done: true}
	type counts struct{ created, updated, deleted, unchanged, failed int }
	tests := map[string]struct {
		it       *item
		o        *outcome
		want     counts
		errOp    string // the Op of the one error, if any
		warnings int
	}{
		"created":                         {it: testItem(t, "a", action(diff.Create)), o: done, want: counts{created: 1}},
		"updated":                         {it: testItem(t, "a", onCluster, action(diff.Update)), o: done, want: counts{updated: 1}},
		"adopted":                         {it: testItem(t, "a", unlabelled, action(diff.Adopt)), o: done, want: counts{updated: 1}},
		"replaced":                        {it: testItem(t, "a", onCluster, action(diff.Replace)), o: done, want: counts{updated: 1}},
		"fields taken over":               {it: testItem(t, "a", onCluster, action(diff.Update)), o: &outcome{done: true, warning: "took over"}, want: counts{updated: 1}, warnings: 1},
		"not applied (a wave waits)":      {it: testItem(t, "a", action(diff.Create)), o: &outcome{}},
		"its apply failed":                {it: testItem(t, "a", action(diff.Create)), o: &outcome{err: applyErr}, want: counts{failed: 1}, errOp: "apply"},
		"refused by the dry-run, created": {it: testItem(t, "a", failed), o: done, want: counts{created: 1}},
		"refused by the dry-run, updated": {it: testItem(t, "a", onCluster, failed), o: done, want: counts{updated: 1}},
		"refused by the dry-run, again":   {it: testItem(t, "a", onCluster, failed), o: &outcome{err: applyErr}, want: counts{failed: 1}, errOp: "apply"},
		"refused by the dry-run, skipped": {it: testItem(t, "a", onCluster, failed), o: &outcome{}, want: counts{failed: 1}, errOp: "plan"},
		"unchanged":                       {it: testItem(t, "a", onCluster, action(diff.Unchanged)), o: &outcome{}, want: counts{unchanged: 1}},
		"unchanged, hash refreshed":       {it: testItem(t, "a", oldHash, action(diff.Unchanged), reapply), o: done, want: counts{unchanged: 1}},
		"no outcome":                      {it: testItem(t, "a", onCluster, action(diff.Unchanged)), want: counts{unchanged: 1}},
		"pruned":                          {it: testItem(t, "a", onCluster, inventoryOnly), o: done, want: counts{deleted: 1}},
		"its prune failed":                {it: testItem(t, "a", onCluster, inventoryOnly), o: &outcome{err: &ObjectError{Op: "delete"}}, want: counts{failed: 1}, errOp: "delete"},
		"prune not tried":                 {it: testItem(t, "a", onCluster, inventoryOnly), o: &outcome{}},
		"inventory only, prune off":       {it: testItem(t, "a", onCluster, inventoryOnly, action(diff.Unchanged)), o: &outcome{}},
		"inventory only, not planned":     {it: testItem(t, "a", inventoryOnly, failed), o: &outcome{}, want: counts{failed: 1}, errOp: "plan"},
		"orphaned":                        {it: testItem(t, "a", onCluster, inventoryOnly, orphaned, action(diff.Orphan)), o: &outcome{}},
		"a Namespace kept":                {it: testItem(t, "a", onCluster, inventoryOnly, action(diff.Keep)), o: &outcome{}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			outcomes := map[*item]*outcome{}
			if tc.o != nil {
				outcomes[tc.it] = tc.o
			}
			var r Result
			tally(&r, []*item{tc.it}, outcomes)
			got := counts{r.Created, r.Updated, r.Deleted, r.Unchanged, r.Failed}
			if got != tc.want {
				t.Fatalf("counts = %+v, want %+v", got, tc.want)
			}
			if len(r.Errors) != got.failed || got.failed > 0 && r.Errors[0].Op != tc.errOp {
				t.Fatalf("errors = %v, want one of op %q", r.Errors, tc.errOp)
			}
			if len(r.Warnings) != tc.warnings {
				t.Fatalf("warnings = %v, want %d", r.Warnings, tc.warnings)
			}
		})
	}
}
