package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"mcp.dev/mcp/internal/sopstest"
	"mcp.dev/mcp/internal/testenv"
)

const sopsFleet = `apiVersion: mcp.dev/v1alpha1
kind: Cluster
metadata: {name: eu}
---
apiVersion: mcp.dev/v1alpha1
kind: Placement
metadata: {name: app}
spec: {path: app, clusterSelector: {}, namespace: sec}
`

const sopsSecret = `apiVersion: v1
kind: Secret
metadata: {name: db}
stringData:
  password: pw-S0PS-one-8d1e
  user: admin
`

// TestEncryptedSecrets: a SOPS-encrypted Secret is applied decrypted with
// the age key of <credentials-dir>/sops/; without the key, or tampered
// with, the cluster fails naming the file and nothing is applied; a diff
// --against without keys shows the one value whose ciphertext changed and
// says that values were not decrypted.
func TestEncryptedSecrets(t *testing.T) {
	env, err := testenv.Start(context.Background(), testenv.Options{Clusters: []string{"eu"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Stop)
	cs, err := kubernetes.NewForConfig(env.Cluster("eu").RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	id := sopstest.NewIdentity(t)
	enc := sopstest.Encrypt(t, "db.sops.yaml", []byte(sopsSecret), id.Recipient().String())

	repo, creds := t.TempDir(), t.TempDir()
	write := func(name string, data []byte) {
		t.Helper()
		p := filepath.Join(repo, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("fleet.yaml", []byte(sopsFleet))
	write("app/ns.yaml", []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: sec}\n"))
	write("app/db.sops.yaml", enc)
	kc, err := os.ReadFile(env.Cluster("eu").Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(creds, "eu"), kc, 0o600); err != nil {
		t.Fatal(err)
	}
	common := []string{"--dir", repo, "--credentials-dir", creds}
	noSecret := func(what, out string) {
		t.Helper()
		if strings.Contains(out, "pw-S0PS") || strings.Contains(out, "AGE-SECRET-KEY") {
			t.Fatalf("%s shows a decrypted value or the key:\n%s", what, out)
		}
	}

	// No key: the cluster fails, naming the file; nothing is applied.
	code, out, errOut := mcp(t, append([]string{"apply"}, common...)...)
	noSecret("apply without a key", out+errOut)
	if code != exitError || !strings.Contains(errOut, "app/db.sops.yaml") || !strings.Contains(errOut, "no age key") {
		t.Fatalf("apply without a key: exit %d\n%s\n%s", code, out, errOut)
	}
	if _, err := cs.CoreV1().Namespaces().Get(context.Background(), "sec", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("without a key something was applied: %v", err)
	}

	// With the key: applied, decrypted.
	if err := os.MkdirAll(filepath.Join(creds, "sops"), 0o700); err != nil {
		t.Fatal(err)
	}
	key := "# created: 2026-12-01\n# public key: " + id.Recipient().String() + "\n" + id.String() + "\n"
	if err := os.WriteFile(filepath.Join(creds, "sops", "fleet.agekey"), []byte(key), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = mcp(t, append([]string{"apply"}, common...)...)
	noSecret("apply", out+errOut)
	if code != exitOK || !strings.Contains(out, "+ Secret sec/db") {
		t.Fatalf("apply with the key: exit %d\n%s\n%s", code, out, errOut)
	}
	s, err := cs.CoreV1().Secrets("sec").Get(context.Background(), "db", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if string(s.Data["password"]) != "pw-S0PS-one-8d1e" || string(s.Data["user"]) != "admin" {
		t.Fatalf("the Secret on the cluster holds %q", s.Data)
	}

	// Tampered: refused, naming the file; the cluster keeps its Secret.
	write("app/db.sops.yaml", sopstest.Edit(t, "db.sops.yaml", enc, id, "pw-S0PS-evil", true, "stringData", "password"))
	code, out, errOut = mcp(t, append([]string{"apply"}, common...)...)
	noSecret("apply of a tampered file", out+errOut)
	if code != exitError || !strings.Contains(errOut, "app/db.sops.yaml") || !strings.Contains(errOut, "MAC mismatch") {
		t.Fatalf("apply of a tampered file: exit %d\n%s\n%s", code, out, errOut)
	}
	if s, err := cs.CoreV1().Secrets("sec").Get(context.Background(), "db", metav1.GetOptions{}); err != nil || string(s.Data["password"]) != "pw-S0PS-one-8d1e" {
		t.Fatalf("after the tampered revision the Secret holds %q (%v)", s.Data, err)
	}

	// A pull request that changes one value, diffed in CI without keys.
	write("app/db.sops.yaml", enc)
	gr, err := git.PlainInit(repo, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := gr.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	commit := func(msg string) string {
		t.Helper()
		if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
			t.Fatal(err)
		}
		h, err := wt.Commit(msg, &git.CommitOptions{Author: &object.Signature{Name: "test", Email: "test@localhost", When: time.Now()}})
		if err != nil {
			t.Fatal(err)
		}
		return h.String()
	}
	base := commit("the fleet")
	write("app/db.sops.yaml", sopstest.Edit(t, "db.sops.yaml", enc, id, "pw-S0PS-two-41ac", false, "stringData", "password"))
	commit("rotate the password")

	ci := []string{"--dir", repo, "--credentials-dir", filepath.Join(t.TempDir(), "none")}
	for _, format := range []string{"text", "markdown", "json"} {
		code, out, errOut = mcp(t, append([]string{"diff", "--against", base, "--output", format}, ci...)...)
		noSecret("keyless diff", out+errOut)
		if code != exitOK {
			t.Fatalf("keyless diff --output %s: exit %d\n%s\n%s", format, code, out, errOut)
		}
		want := map[string][]string{
			"text":     {"~ Secret sec/db", "data.password: (sensitive value changed)", "note: values not decrypted (no age key), compared by ciphertext: app/db.sops.yaml"},
			"markdown": {"data.password: (sensitive value changed)", "note: values not decrypted"},
			"json":     {`"path": "data.password"`, `"sensitive": true`, `"undecrypted": [`, `"app/db.sops.yaml"`},
		}[format]
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("keyless diff --output %s lacks %q:\n%s", format, w, out)
			}
		}
		if strings.Contains(out, "data.user") {
			t.Errorf("keyless diff --output %s shows the unchanged value:\n%s", format, out)
		}
	}
	// render without a key prints the ciphertexts, and says so.
	code, out, errOut = mcp(t, append([]string{"render", "--cluster", "eu"}, ci...)...)
	noSecret("keyless render", out+errOut)
	if code != exitOK || !strings.Contains(out, "ENC[AES256_GCM,") || !strings.Contains(errOut, "note: app/db.sops.yaml (document 1): not decrypted") {
		t.Fatalf("keyless render: exit %d\n%s\n%s", code, out, errOut)
	}
	// With the key, the same plan without the note.
	code, out, errOut = mcp(t, append([]string{"diff", "--against", base}, common...)...)
	noSecret("diff with the key", out+errOut)
	if code != exitOK || !strings.Contains(out, "data.password: (sensitive value changed)") || strings.Contains(out, "note:") || strings.Contains(out, "data.user") {
		t.Fatalf("diff with the key: exit %d\n%s\n%s", code, out, errOut)
	}
}
