package reconciler

import (
	"context"
	"strings"
	"testing"
	"time"

	"mcp.dev/mcp/apply"
	"mcp.dev/mcp/internal/testenv"
)

// livenessGoal is how soon a cluster whose apiserver stops or comes back
// must say so, with nothing changing in the repo.
const livenessGoal = 30 * time.Second

// TestDeadClusterTurnsUnreachableAndBack: with the repo unchanged and the
// drift re-check an hour away, gcp-us's apiserver stops. Its broken drift
// watch makes it Unreachable within seconds (mcp_cluster_up 0), it is
// retried at a capped interval without a hot loop, and once the apiserver
// is back it is Synced again on its own (mcp_cluster_up 1). A second
// outage right after is noticed as soon.
func TestDeadClusterTurnsUnreachableAndBack(t *testing.T) {
	var rec reports
	d := startDaemon(t, "mcp-status", func(o *Options) {
		o.Interval = time.Hour // nothing changes in the repo
		o.DriftInterval = time.Hour
		o.MaxBackoff = 5 * time.Minute // the default: only UnreachableRetry brings it back soon
		o.Report = rec.add
	})
	rev1, _ := d.repo.Rev("main")
	d.waitFor(t, rev1, map[string]apply.Status{"aws-eu": apply.Synced, "gcp-us": apply.Synced})
	up := func(v string) func() bool {
		return func() bool {
			_, body := testenv.Get(t, d.url+"/metrics")
			return strings.Contains(body, `mcp_cluster_up{cluster="gcp-us"} `+v+"\n") &&
				strings.Contains(body, `mcp_cluster_up{cluster="aws-eu"} 1`+"\n")
		}
	}
	testenv.Eventually(t, 5*time.Second, "mcp_cluster_up 1 for both clusters", up("1"))
	time.Sleep(time.Second) // the drift watches are open

	c := env.Cluster("gcp-us")
	c.StopAPIServer()
	stopped := time.Now()
	restarted := false
	defer func() {
		if !restarted {
			c.StartAPIServer(context.Background())
		}
	}()
	testenv.Eventually(t, livenessGoal, "gcp-us Unreachable after its apiserver stopped", func() bool {
		return result(d, "gcp-us") == apply.Unreachable
	})
	noticed := time.Since(stopped)
	testenv.Eventually(t, 2*time.Second, "mcp_cluster_up 0 for gcp-us", up("0"))
	if r := result(d, "aws-eu"); r != apply.Synced {
		t.Errorf("aws-eu is %s while gcp-us is down", r)
	}

	// Down for a while: retried with backoff capped at UnreachableRetry
	// (1s, 2s, 4s, 8s, 10s ...), never in a tight loop.
	time.Sleep(15*time.Second - noticed)
	tries := rec.of("gcp-us", stopped)
	if len(tries) < 2 || len(tries) > 7 {
		t.Errorf("gcp-us was tried %d times in 15s down, want a few retries with backoff", len(tries))
	}
	for _, r := range tries {
		if r.result != apply.Unreachable {
			t.Errorf("gcp-us while down: %s %q", r.result, r.message)
		}
	}
	if msg := tries[0].message; !strings.Contains(msg, "connection refused") {
		t.Errorf("gcp-us's message %q does not say why", msg)
	}

	if err := c.StartAPIServer(context.Background()); err != nil {
		t.Fatal(err)
	}
	restarted = true
	back := time.Now()
	testenv.Eventually(t, livenessGoal, "gcp-us Synced after its apiserver came back", func() bool {
		return result(d, "gcp-us") == apply.Synced
	})
	recovered := time.Since(back)
	testenv.Eventually(t, 2*time.Second, "mcp_cluster_up 1 for gcp-us", up("1"))
	if st := d.store.Snapshot(); st.Clusters[1].Revision != rev1 {
		t.Errorf("gcp-us at %.8s, want %.8s", st.Clusters[1].Revision, rev1)
	}
	t.Logf("Unreachable %s after the apiserver stopped; Synced %s after it was back; %d tries while down",
		noticed.Round(10*time.Millisecond), recovered.Round(10*time.Millisecond), len(tries))

	// Gone again soon after it came back: noticed as soon.
	c.StopAPIServer()
	restarted = false
	stopped = time.Now()
	testenv.Eventually(t, livenessGoal, "gcp-us Unreachable after its apiserver stopped again", func() bool {
		return result(d, "gcp-us") == apply.Unreachable
	})
	t.Logf("Unreachable %s after the apiserver stopped again", time.Since(stopped).Round(10*time.Millisecond))
	if err := c.StartAPIServer(context.Background()); err != nil {
		t.Fatal(err)
	}
	restarted = true
	testenv.Eventually(t, livenessGoal, "gcp-us Synced after its apiserver came back again", func() bool {
		return result(d, "gcp-us") == apply.Synced
	})
}

// result is cluster's result on /status.
func result(d *daemon, cluster string) apply.Status {
	for _, c := range d.store.Snapshot().Clusters {
		if c.Name == cluster {
			return c.Result
		}
	}
	return ""
}
