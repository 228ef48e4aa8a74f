package reconciler

import (
	"testing"
	"time"

	"mcp.dev/mcp/apply"
	"mcp.dev/mcp/reconciler/status"
)

// TestRepeatedFailuresAreLoggedOnceAMinute: a cluster that keeps failing
// the same way is logged at info level once a minute, whatever its
// message; a change of result, revision or failed objects is logged at
// once.
func TestRepeatedFailuresAreLoggedOnceAMinute(t *testing.T) {
	down := func(msg string) status.Cluster {
		return status.Cluster{Name: "eu", Result: apply.Unreachable, Revision: "r1", Message: msg}
	}
	failing := func(objects ...string) status.Cluster {
		c := status.Cluster{Name: "eu", Result: apply.Failed, Revision: "r1"}
		for _, o := range objects {
			c.Objects = append(c.Objects, status.Object{Kind: "ConfigMap", Name: o, Error: "refused at " + time.Now().String()})
		}
		return c
	}
	synced := status.Cluster{Name: "eu", Result: apply.Synced, Revision: "r1"}
	w := &worker{}
	steps := []struct {
		st    status.Cluster
		after time.Duration // since the last info line
		quiet bool
	}{
		{down("dial tcp 127.0.0.1:6443: connection refused"), 0, false},
		{down("dial tcp 127.0.0.1:6443: connection refused"), time.Second, true},
		{down("read tcp 127.0.0.1:50211->127.0.0.1:6443: reset"), 10 * time.Second, true},
		{down("connection refused"), failureLogGap + time.Second, false},
		{failing("a"), time.Second, false},
		{failing("a"), time.Second, true},
		{failing("a", "b"), time.Second, false},
		{synced, time.Second, false},
		{synced, time.Second, false},
	}
	for i, s := range steps {
		w.loggedAt = w.loggedAt.Add(-s.after)
		if got := w.quiet(s.st); got != s.quiet {
			t.Errorf("step %d (%s %v): quiet %v, want %v", i, s.st.Result, s.st.Objects, got, s.quiet)
		}
	}
}
