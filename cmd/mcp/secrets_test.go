package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"filippo.io/age"
	"k8s.io/client-go/tools/clientcmd"

	"mcp.dev/mcp/internal/gitserver"
	"mcp.dev/mcp/internal/sopstest"
	"mcp.dev/mcp/internal/testenv"
)

// secretFleet is a one-cluster repo with a Secret holding value (as
// stringData) and key (as data), a Secret the API refuses because it is
// a TLS Secret without a certificate, and a SOPS-encrypted Secret holding "sops-" + value
// for the age key sopsKey.
func secretFleet(value, key, refused string) map[string]string {
	return map[string]string{
		"app/sealed.sops.yaml": string(sopstest.Encrypt(testingT{}, "sealed.sops.yaml",
			[]byte("apiVersion: v1\nkind: Secret\nmetadata: {name: sealed}\nstringData: {token: \"sops-"+value+"\"}\n"), sopsKey.Recipient().String())),
		"fleet.yaml": "apiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata: {name: eu}\n---\n" +
			"apiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata: {name: app}\nspec: {path: app, clusterSelector: {}, namespace: sec}\n",
		"app/app.yaml": "apiVersion: v1\nkind: Namespace\nmetadata: {name: sec}\n---\n" +
			"apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {password: \"" + value + "\"}\n" +
			"data: {apikey: \"" + base64.StdEncoding.EncodeToString([]byte(key)) + "\"}\n---\n" +
			// The server refuses it (a TLS Secret needs tls.crt and tls.key)
			// with its value inside.
			"apiVersion: v1\nkind: Secret\nmetadata: {name: refused}\ntype: kubernetes.io/tls\nstringData: {token: \"" + refused + "\"}\n---\n" +
			"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\ndata: {value: \"" + value[:3] + "\"}\n",
	}
}

// TestSecretsNeverShow runs mcp with a git token (in the URL, which is
// refused, then in a password file) at debug level against a fleet with Secrets whose values
// change, and searches everything mcp shows or writes for the token, the
// Secret values, the cluster's bearer token and their base64 forms: logs,
// /status, /metrics, the status branch (files and commit messages), the
// clone in the cache, mcp diff in every format, and mcp apply.
func TestSecretsNeverShow(t *testing.T) {
	env, err := testenv.Start(context.Background(), testenv.Options{Clusters: []string{"eu"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Stop)
	bin := testenv.BuildMCP(t)
	const token = "ghp-T0KEN-d0-not-show-4b1f"
	root := gitserver.NewRoot(t)
	repo := root.Init("fleet")
	srv := gitserver.NewHTTP(t, root, "mcp", token)
	pw := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(pw, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	kc, err := clientcmd.LoadFromFile(env.Cluster("eu").Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	needles := map[string]string{"git token": token, "basic auth": "mcp:" + token, "cluster token": kc.AuthInfos["eu"].Token}
	values := [][3]string{
		{"pw-V4LUE-one-91c2", "apikey-K3Y-one-77d0", "REFUSED-0ne-no-tls-crt"},
		{"pw-V4LUE-two-0a5e", "apikey-K3Y-two-3c18", "REFUSED-tw0-no-tls-crt"},
		{"pw-V4LUE-three-e6b7", "apikey-K3Y-three-52aa", "REFUSED-thr3e-no-tls-crt"},
	}
	for i, v := range values {
		for j, s := range v {
			needles[[]string{"password", "apikey", "refused"}[j]+" "+string(rune('1'+i))] = s
		}
		needles["encrypted "+string(rune('1'+i))] = "sops-" + v[0]
	}
	needles["age key"] = sopsKey.String()
	// The key of the encrypted Secret, where the operator puts it.
	if err := os.MkdirAll(filepath.Join(env.KubeconfigDir, "sops"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(env.KubeconfigDir, "sops", "fleet.agekey"), []byte(sopsKey.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var outputs []string // everything to search, prefixed by where it came from
	collect := func(where, text string) { outputs = append(outputs, where+":\n"+text) }

	cache := t.TempDir()
	tokenURL := strings.Replace(srv.RepoURL("fleet"), "http://", "http://mcp:"+token+"@", 1)
	daemon := func(label, rev string, args ...string) {
		t.Helper()
		addr := freeAddr(t)
		p := startMCP(t, bin, append(append([]string{"run"}, args...), "--cache-dir", cache, "--credentials-dir", env.KubeconfigDir,
			"--listen", addr, "--interval", "200ms", "--log-level", "debug", "--log-format", "json")...)
		waitStatus(t, addr, p.logs, "revision "+rev[:8], func(st runStatus) bool {
			return len(st.Clusters) == 1 && st.Clusters[0].Revision == rev && st.Clusters[0].Result == "Failed"
		})
		waitCommitsAtLeast(t, repo, 1)
		for _, path := range []string{"/status", "/metrics", "/"} {
			collect("GET "+path, body(testenv.Get(t, "http://"+addr+path)))
		}
		// A changed Secret value while it runs.
		next := repo.Commit("main", "next", secretFleet(values[2][0], values[2][1], values[2][2]))
		waitStatus(t, addr, p.logs, "revision "+next[:8], func(st runStatus) bool {
			return len(st.Clusters) == 1 && st.Clusters[0].Revision == next
		})
		for _, path := range []string{"/status", "/metrics"} {
			collect("GET "+path, body(testenv.Get(t, "http://"+addr+path)))
		}
		p.cmd.Process.Signal(syscall.SIGTERM)
		<-p.exited
		collect("mcp run with "+label, p.logs.String())
	}
	rev1 := repo.Commit("main", "one", secretFleet(values[0][0], values[0][1], values[0][2]))
	// The token in the URL is refused before anything is fetched.
	out, err := exec.Command(bin, "run", "--repo", tokenURL, "--cache-dir", cache, "--credentials-dir", env.KubeconfigDir, "--log-level", "debug").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitError || !strings.Contains(string(out), "--git-password-file") {
		t.Errorf("mcp run with the token in the URL: %v\n%s", err, out)
	}
	collect("mcp run with the token in the URL", string(out))
	daemon("a password file", rev1, "--repo", srv.RepoURL("fleet"), "--git-username", "mcp", "--git-password-file", pw)
	rev2 := repo.Commit("main", "two", secretFleet(values[1][0], values[1][1], values[1][2]))
	t.Setenv("MCP_GIT_PASSWORD_FILE", pw)
	daemon("a password file from the environment", rev2, "--repo", srv.RepoURL("fleet"), "--git-username", "mcp")

	// The one-shot commands, on a revision that changes the values again.
	repo.Commit("main", "four", secretFleet(values[0][0], values[1][1], values[2][2]))
	common := []string{"--repo", srv.RepoURL("fleet"), "--git-username", "mcp", "--git-password-file", pw,
		"--cache-dir", t.TempDir(), "--credentials-dir", env.KubeconfigDir, "--log-level", "debug"}
	for _, args := range [][]string{
		{"diff", "--output", "text"}, {"diff", "--output", "markdown"}, {"diff", "--output", "json"},
		{"diff", "--against", rev1, "--output", "text"}, {"diff", "--against", rev1, "--output", "markdown"},
		{"diff", "--against", rev1, "--output", "json"},
		{"diff", "--against", rev1, "--output", "text", "--credentials-dir", t.TempDir()}, // no key: by ciphertext
		{"render", "--cluster", "eu"},                                                     // shows manifests; searched for the tokens only
		{"apply"}, {"apply"},
	} {
		// The command's own flags last, so that they win over common.
		full := append(append([]string{args[0]}, common...), args[1:]...)
		out, _ := exec.Command(bin, full...).CombinedOutput()
		if args[0] == "render" {
			for _, n := range []string{"git token", "basic auth", "cluster token"} {
				if strings.Contains(string(out), needles[n]) {
					t.Errorf("mcp render shows the %s", n)
				}
			}
			continue
		}
		if slices.Contains(args, "--credentials-dir") && !strings.Contains(string(out), "note: values not decrypted") {
			t.Errorf("mcp %s without a key does not say that values were not decrypted:\n%s", strings.Join(args, " "), out)
		}
		if args[0] == "diff" && !strings.Contains(string(out), "sensitive") && !strings.Contains(string(out), "Secret") {
			t.Errorf("mcp %s shows no Secret change:\n%s", strings.Join(args, " "), out)
		}
		collect("mcp "+strings.Join(args, " "), string(out))
	}

	branch, err := exec.Command("git", "-C", repo.Dir, "log", "-p", "--format=%an %ae%n%B", "mcp-status").CombinedOutput()
	if err != nil {
		t.Fatalf("git log: %v\n%s", err, branch)
	}
	collect("status branch", string(branch))
	t.Logf("status of the refused Secret: %s", grepLine(string(branch), "error:"))
	if !strings.Contains(string(branch), "refused") {
		t.Errorf("the status branch does not report the refused Secret:\n%s", branch)
	}
	filepath.WalkDir(cache, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			data, _ := os.ReadFile(p)
			if strings.Contains(string(data), token) {
				t.Errorf("the cache file %s holds the git token", p)
			}
		}
		return nil
	})

	all := strings.Join(outputs, "\n")
	for name, n := range needles {
		forms := map[string]string{"": n, " (base64)": base64.StdEncoding.EncodeToString([]byte(n)), " (base64url)": base64.RawURLEncoding.EncodeToString([]byte(n))}
		for form, s := range forms {
			for _, out := range outputs {
				if i := strings.Index(out, s); i >= 0 {
					where, _, _ := strings.Cut(out, "\n")
					t.Errorf("%s%s shows in %s: …%s…", name, form, where, out[max(0, i-120):min(len(out), i+len(s)+40)])
				}
			}
		}
	}
	if !strings.Contains(all, "sensitive value changed") {
		t.Error("no diff reported a changed Secret value")
	}
}

func waitCommitsAtLeast(t *testing.T, repo *gitserver.Repo, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for commitsBy(t, repo.Dir, "mcp-status", "mcp") < n {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d status commits", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func grepLine(text, s string) string {
	for line := range strings.SplitSeq(text, "\n") {
		if strings.Contains(line, s) {
			return line
		}
	}
	return ""
}

// sopsKey encrypts the Secret of secretFleet.
var sopsKey = func() *age.X25519Identity {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		panic(err)
	}
	return id
}()

// testingT lets secretFleet encrypt outside a test's goroutine; the
// encryption fails only on a broken build.
type testingT struct{ testing.TB }

func (testingT) Helper()                      {}
func (testingT) Fatal(args ...any)            { panic(fmt.Sprint(args...)) }
func (testingT) Fatalf(f string, args ...any) { panic(fmt.Sprintf(f, args...)) }

// body is the body of a testenv.Get.
func body(_ int, b string) string { return b }
