package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"mcp.dev/mcp/internal/testenv"
)

// TestApplyReportsAStoppedClusterAsRunDoes: a cluster whose apiserver was
// stopped is Unreachable to mcp apply and mcp run alike, since both
// reconcile it the one way apply does.
func TestApplyReportsAStoppedClusterAsRunDoes(t *testing.T) {
	env, err := testenv.Start(context.Background(), testenv.Options{Clusters: []string{"eu"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Stop)
	repo, creds := fleetRepo(t, env, "2")
	only := []string{"--dir", repo, "--credentials-dir", creds, "--cluster", "eu"}
	if code, out, errOut := mcpWithin(t, time.Minute, append([]string{"apply"}, only...)...); code != exitOK {
		t.Fatalf("apply while eu is up: exit %d\n%s%s", code, out, errOut)
	}
	env.Cluster("eu").StopAPIServer()

	code, out, errOut := mcpWithin(t, time.Minute, append([]string{"apply"}, only...)...)
	if code != exitError || !strings.Contains(out, "cluster eu: not applied (Unreachable)") || !strings.Contains(errOut, "connection refused") {
		t.Fatalf("apply with eu's apiserver stopped: exit %d\n%s%s", code, out, errOut)
	}

	code, out, errOut = mcpWithin(t, time.Minute, append([]string{"diff"}, only...)...)
	if code != exitError || !strings.Contains(out, "error: Unreachable: ") || !strings.Contains(out, "connection refused") {
		t.Fatalf("diff with eu's apiserver stopped: exit %d\n%s%s", code, out, errOut)
	}

	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(t.Context())
	stopped := make(chan struct{})
	var logs bytes.Buffer
	go func() {
		defer close(stopped)
		root := newRootCmd()
		root.SetArgs(append([]string{"run", "--listen", addr, "--interval", "200ms"}, only...))
		root.SetOut(&logs)
		root.ExecuteContext(ctx)
	}()
	defer func() { cancel(); <-stopped }()
	st := waitStatus(t, addr, &bytes.Buffer{}, "eu reported", func(st runStatus) bool { return len(st.Clusters) == 1 })
	if c := st.Clusters[0]; c.Result != "Unreachable" || !strings.Contains(c.Message, "connection refused") {
		t.Fatalf("run with eu's apiserver stopped: %s %q", c.Result, c.Message)
	}
}
