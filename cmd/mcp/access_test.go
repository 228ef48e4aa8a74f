package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"mcp.dev/mcp/internal/testenv"
)

// mcpWithin is mcp with a deadline: a command that should have refused
// to start but runs (mcp run) ends with the test instead of hanging it.
func mcpWithin(t *testing.T, d time.Duration, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	defer cancel()
	var out, errOut bytes.Buffer
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	switch err := root.ExecuteContext(ctx); {
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

// hostileRepo is a config repo that carries, next to its Cluster eu, a
// kubeconfig file named eu whose exec plugin creates the file it returns.
// mcp run from inside the repo without a credentials directory would read
// it as eu's kubeconfig and run the plugin.
func hostileRepo(t *testing.T) (repo, ran string) {
	t.Helper()
	repo = t.TempDir()
	ran = filepath.Join(t.TempDir(), "plugin-ran")
	files := map[string]string{
		"fleet.yaml": "apiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata: {name: eu}\n---\n" +
			"apiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata: {name: app}\nspec: {path: app, clusterSelector: {}, namespace: app}\n",
		"app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {a: b}\n",
		"eu": `apiVersion: v1
kind: Config
clusters:
- name: eu
  cluster: {server: "https://127.0.0.1:1"}
users:
- name: eu
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: /bin/sh
      args: ["-c", "touch ` + ran + `; echo '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"x\"}}'"]
      interactiveMode: Never
contexts:
- name: eu
  context: {cluster: eu, user: eu}
current-context: eu
`,
	}
	for name, content := range files {
		p := filepath.Join(repo, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return repo, ran
}

// TestConnectingCommandsNeedTheCredentialsDir: an empty or missing
// credentials directory is an error of every command that connects,
// never "kubeconfig paths relative to the working directory", where a
// pull request's checkout may hold a kubeconfig with an exec plugin.
func TestConnectingCommandsNeedTheCredentialsDir(t *testing.T) {
	repo, ran := hostileRepo(t)
	t.Chdir(repo)
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	for name, tc := range map[string]struct {
		args []string
		env  bool // MCP_CREDENTIALS_DIR set, but empty
		want string
	}{
		"empty flag": {args: []string{"--credentials-dir", ""}, want: "--credentials-dir is empty"},
		"empty env":  {env: true, want: "MCP_CREDENTIALS_DIR"},
		"missing":    {args: []string{"--credentials-dir", filepath.Join(repo, "nope")}, want: "does not exist"},
		"not a dir":  {args: []string{"--credentials-dir", file}, want: "not a directory"},
	} {
		for _, command := range [][]string{{"apply"}, {"diff"}, {"run", "--listen", "127.0.0.1:0", "--no-status"}} {
			t.Run(name+"/"+command[0], func(t *testing.T) {
				if tc.env {
					t.Setenv("MCP_CREDENTIALS_DIR", "")
				}
				args := append(append(command, "--dir", "."), tc.args...)
				code, out, errOut := mcpWithin(t, 20*time.Second, args...)
				if code != exitError || !strings.Contains(errOut, tc.want) {
					t.Errorf("mcp %s: exit %d, want 1 and an error with %q\n%s%s", strings.Join(args, " "), code, tc.want, out, errOut)
				}
				if _, err := os.Stat(ran); err == nil {
					t.Fatalf("mcp %s ran the exec plugin of the repo's kubeconfig", strings.Join(args, " "))
				}
			})
		}
	}
}

// TestOfflineCommandsNeedNoCredentialsDir: validate, render and diff
// --against read no kubeconfig, so CI runs them without one.
func TestOfflineCommandsNeedNoCredentialsDir(t *testing.T) {
	repo := diffFleetRepo(t)
	for _, args := range [][]string{
		{"validate", "--dir", repo},
		{"render", "--dir", repo, "--cluster", "aws-eu-prod"},
		{"diff", "--dir", repo, "--against", "HEAD~1"},
	} {
		for _, creds := range []string{"", filepath.Join(repo, "nope")} {
			t.Run(args[0]+"/"+creds, func(t *testing.T) {
				code, out, errOut := mcpWithin(t, time.Minute, append(args, "--credentials-dir", creds)...)
				if code != exitOK {
					t.Errorf("mcp %s --credentials-dir %q: exit %d\n%s%s", strings.Join(args, " "), creds, code, out, errOut)
				}
			})
		}
	}
	t.Setenv("MCP_CREDENTIALS_DIR", "")
	if code, out, errOut := mcpWithin(t, time.Minute, "validate", "--dir", repo); code != exitOK {
		t.Errorf("validate with MCP_CREDENTIALS_DIR empty: exit %d\n%s%s", code, out, errOut)
	}
}

// inClusterRepo is a config repo of the real cluster eu and a Cluster
// mgmt that asks for mcp's own service account.
func inClusterRepo(t *testing.T) string {
	t.Helper()
	repo := t.TempDir()
	files := map[string]string{
		"clusters/eu.yaml":   "apiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata: {name: eu}\n",
		"clusters/mgmt.yaml": "apiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata: {name: mgmt}\nspec: {inCluster: true}\n",
		"placements.yaml":    "apiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata: {name: app}\nspec: {path: app, clusterSelector: {}, namespace: incluster}\n",
		"app/app.yaml":       "apiVersion: v1\nkind: Namespace\nmetadata: {name: incluster}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\ndata: {a: b}\n",
	}
	for name, content := range files {
		p := filepath.Join(repo, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return repo
}

// TestInClusterIsTheOperatorsDecision: a Cluster with spec.inCluster fails
// on its own, with its file and the flag in the error, unless the operator
// gives --allow-in-cluster (or MCP_ALLOW_IN_CLUSTER); the other clusters
// are reconciled all the same, by every command that connects.
func TestInClusterIsTheOperatorsDecision(t *testing.T) {
	env, err := testenv.Start(context.Background(), testenv.Options{Clusters: []string{"eu"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Stop)
	repo := inClusterRepo(t)
	common := []string{"--dir", repo, "--credentials-dir", env.KubeconfigDir}
	refused := []string{"clusters/mgmt.yaml", "cluster mgmt", "spec.inCluster", "--allow-in-cluster"}

	code, out, errOut := mcpWithin(t, time.Minute, append([]string{"diff"}, common...)...)
	if code != exitError || !strings.Contains(out, "+ ConfigMap incluster/app") {
		t.Fatalf("diff: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range refused {
		if !strings.Contains(errOut, want) {
			t.Errorf("diff: the error does not name %s:\n%s", want, errOut)
		}
	}

	code, out, errOut = mcpWithin(t, time.Minute, append([]string{"apply"}, common...)...)
	if code != exitError || !strings.Contains(out, "cluster eu: 2 created") || !strings.Contains(out, "cluster mgmt: not applied") {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range refused {
		if !strings.Contains(errOut, want) {
			t.Errorf("apply: the error does not name %s:\n%s", want, errOut)
		}
	}

	// The daemon: mgmt Failed with the reason as its message, eu Synced.
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(t.Context())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		root := newRootCmd()
		root.SetArgs(append([]string{"run", "--listen", addr, "--interval", "200ms"}, common...))
		root.SetOut(&bytes.Buffer{})
		root.ExecuteContext(ctx)
	}()
	defer func() { cancel(); <-stopped }()
	st := waitStatus(t, addr, &bytes.Buffer{}, "eu Synced, mgmt Failed", func(st runStatus) bool {
		return len(st.Clusters) == 2 && st.Clusters[0].Result == "Synced" && st.Clusters[1].Result == "Failed"
	})
	for _, want := range refused {
		if !strings.Contains(st.Clusters[1].Message, want) {
			t.Errorf("run: mgmt's message does not name %s: %q", want, st.Clusters[1].Message)
		}
	}

	// Allowed by the flag or its variable, mgmt is reached the in-cluster
	// way, which outside a pod finds no service account.
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	t.Setenv("KUBERNETES_SERVICE_PORT", "")
	for name, allow := range map[string]func(){
		"flag":     func() { common = append(common, "--allow-in-cluster") },
		"variable": func() { t.Setenv("MCP_ALLOW_IN_CLUSTER", "true") },
	} {
		t.Run(name, func(t *testing.T) {
			allow()
			code, out, errOut := mcpWithin(t, time.Minute, append([]string{"apply"}, common...)...)
			if code != exitError || strings.Contains(errOut, "--allow-in-cluster") || !strings.Contains(errOut, "cluster mgmt: kubeconfig: unable to load in-cluster configuration") ||
				!strings.Contains(out, "cluster eu: 0 created, 0 updated, 0 deleted, 2 unchanged") {
				t.Errorf("apply with in-cluster access allowed: exit %d\n%s%s", code, out, errOut)
			}
			common = common[:4]
		})
	}
}
