package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"mcp.dev/mcp/internal/testenv"
)

// fleetRepo writes a config repo with clusters eu (a real control plane)
// and down (an apiserver that does not answer), and returns its directory
// and the credentials directory.
func fleetRepo(t *testing.T, env *testenv.Env, replicas string) (repo, creds string) {
	t.Helper()
	repo, creds = t.TempDir(), t.TempDir()
	write := func(dir, name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(repo, "clusters.yaml", `apiVersion: mcp.dev/v1alpha1
kind: Cluster
metadata: {name: eu, labels: {env: prod}}
---
apiVersion: mcp.dev/v1alpha1
kind: Cluster
metadata: {name: down, labels: {env: prod}}
---
apiVersion: mcp.dev/v1alpha1
kind: Placement
metadata: {name: web}
spec: {path: apps/web, clusterSelector: {matchLabels: {env: prod}}, namespace: web}
`)
	write(repo, "apps/web/web.yaml", `apiVersion: v1
kind: Namespace
metadata: {name: web}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web}
data: {replicas: "`+replicas+`"}
---
apiVersion: v1
kind: Secret
metadata: {name: web}
stringData: {password: "s3cret-`+replicas+`"}
`)
	kc, err := os.ReadFile(env.Cluster("eu").Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	write(creds, "eu", string(kc))
	cfg, err := clientcmd.Load(kc)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cfg.Clusters {
		c.Server = "https://127.0.0.1:1"
	}
	if err := clientcmd.WriteToFile(*cfg, filepath.Join(creds, "down")); err != nil {
		t.Fatal(err)
	}
	return repo, creds
}

// mcp runs the command line and returns its exit code and output.
func mcp(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	// As run does: errChanges is exit 2 and prints nothing.
	switch err := root.ExecuteContext(context.Background()); {
	case err == nil:
		code = exitOK
	case errors.Is(err, errChanges):
		code = exitChanges
	default:
		code = exitError
		errOut.WriteString(err.Error() + "\n")
	}
	return code, out.String(), errOut.String()
}

func TestApplyCommand(t *testing.T) {
	env, err := testenv.Start(context.Background(), testenv.Options{Clusters: []string{"eu"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Stop)
	repo, creds := fleetRepo(t, env, "2")
	common := []string{"--dir", repo, "--credentials-dir", creds}

	// The unreachable cluster fails the command; eu is applied all the same.
	code, out, errOut := mcp(t, append([]string{"apply"}, common...)...)
	if code != exitError || !strings.Contains(errOut, "cluster down") {
		t.Fatalf("apply with a cluster down: exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "+ ConfigMap web/web") || !strings.Contains(out, "cluster eu: 3 created, 0 updated, 0 deleted, 0 unchanged, 0 failed (3 managed)") {
		t.Fatalf("apply output:\n%s", out)
	}
	if strings.Contains(out+errOut, "s3cret") {
		t.Fatal("a Secret value was printed")
	}

	only := append([]string{"--cluster", "eu"}, common...)
	code, out, errOut = mcp(t, append([]string{"apply"}, only...)...)
	if code != exitOK || !strings.Contains(out, "no changes") || !strings.Contains(out, "3 unchanged") {
		t.Fatalf("second apply: exit %d\n%s\n%s", code, out, errOut)
	}

	// The live diff: nothing to do, then the change of another revision.
	code, out, errOut = mcp(t, append([]string{"diff", "--exit-code"}, only...)...)
	if code != exitOK || !strings.Contains(out, "no changes") {
		t.Fatalf("live diff without changes: exit %d\n%s\n%s", code, out, errOut)
	}
	repo2, _ := fleetRepo(t, env, "3")
	only2 := []string{"--dir", repo2, "--credentials-dir", creds, "--cluster", "eu"}
	code, out, errOut = mcp(t, append([]string{"diff", "--exit-code", "--output", "json"}, only2...)...)
	if code != exitChanges || !strings.Contains(out, `"path": "data.replicas"`) || strings.Contains(out, "s3cret") {
		t.Fatalf("live diff of a change: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = mcp(t, append([]string{"apply", "--dry-run"}, only2...)...)
	if code != exitOK || !strings.Contains(out, `data.replicas: "2" → "3"`) || !strings.Contains(out, "(sensitive value changed)") || !strings.Contains(out, "dry run") {
		t.Fatalf("dry run: exit %d\n%s\n%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, "s3cret") {
		t.Fatal("a Secret value was printed")
	}
	code, out, _ = mcp(t, append([]string{"apply"}, only2...)...)
	if code != exitOK || !strings.Contains(out, "0 created, 2 updated") {
		t.Fatalf("apply of a change: exit %d\n%s", code, out)
	}
}
