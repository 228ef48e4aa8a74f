package apply

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"mcp.dev/mcp/internal/faultproxy"
)

// TestApplyAndDiffReportUnreachableAsRunDoes: a cluster whose apiserver
// stopped answering (its link cut, then gone) is Unreachable to ApplyAll
// (mcp apply) and DiffAll (mcp diff) alike, through Classify as for mcp
// run, and the printed plan says so.
func TestApplyAndDiffReportUnreachableAsRunDoes(t *testing.T) {
	u, err := url.Parse(env.Cluster("eu").URL)
	if err != nil {
		t.Fatal(err)
	}
	link := faultproxy.New(t, u.Host)
	cfg := restConfig("eu")
	cfg.Host = "https://" + link.Addr
	target := Target{Name: "eu", Config: cfg, Objects: objects(t, `
apiVersion: v1
kind: ConfigMap
metadata: {name: alive, namespace: default}
data: {a: "1"}
`)}
	opts := testOptions(t)
	if r := ApplyAll(context.Background(), []Target{target}, opts)[0]; r.Status != Synced {
		t.Fatalf("through a working link: %s %q", r.Status, r.Message)
	}
	link.Close() // the apiserver's address refuses connections from now on

	for name, run := range map[string]func(context.Context, []Target, Options) []Result{"apply": ApplyAll, "diff": DiffAll} {
		r := run(context.Background(), []Target{target}, opts)[0]
		if r.Status != Unreachable || !strings.Contains(r.Message, "connection refused") {
			t.Errorf("mcp %s: %s %q, want Unreachable with the reason", name, r.Status, r.Message)
		}
		if !IsUnreachable(r.Err) {
			t.Errorf("mcp %s: the cluster error %v is not a connection error", name, r.Err)
		}
		if got := r.DiffPlan().Err; got == nil || !strings.HasPrefix(got.Error(), "Unreachable: ") || !IsUnreachable(got) {
			t.Errorf("mcp %s prints %v, want it to start with Unreachable", name, got)
		}
	}
}
