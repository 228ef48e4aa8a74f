package gitserver

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestHTTPPush checks what the reconciler will rely on: a push over HTTP
// with basic auth lands in the bare repo, and a wrong password is refused.
func TestHTTPPush(t *testing.T) {
	root := NewRoot(t)
	repo := root.Init("fleet")
	repo.Commit("main", "first", map[string]string{"a.yaml": "a\n"})
	srv := NewHTTP(t, root, "u", "p")
	authed := strings.Replace(srv.RepoURL("fleet"), "http://", "http://u:p@", 1)

	work := filepath.Join(t.TempDir(), "work")
	run(t, root, "", "clone", "-q", authed, work)
	if err := os.WriteFile(filepath.Join(work, "status.yaml"), []byte("ok\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, root, work, "add", "status.yaml")
	run(t, root, work, "commit", "-q", "-m", "status")
	run(t, root, work, "push", "-q", "origin", "HEAD:refs/heads/mcp-status")
	if got := repo.File("mcp-status", "status.yaml"); got != "ok" {
		t.Fatalf("pushed file = %q", got)
	}
	if len(srv.Requests()) == 0 {
		t.Fatalf("no requests recorded")
	}

	bad := strings.Replace(srv.RepoURL("fleet"), "http://", "http://u:wrong@", 1)
	cmd := exec.Command("git", "ls-remote", bad)
	cmd.Env = append(root.env(), "GIT_TERMINAL_PROMPT=0")
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Fatalf("wrong password accepted: %s", out)
	}
}

func TestSSHClone(t *testing.T) {
	root := NewRoot(t)
	repo := root.Init("fleet")
	rev := repo.Commit("main", "first", map[string]string{"a.yaml": "a\n"})
	key, pub := GenerateKey(t, "")
	srv := NewSSH(t, root, pub)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "id")
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		t.Fatal(err)
	}
	known := srv.WriteKnownHosts(dir)

	work := filepath.Join(dir, "work")
	cmd := exec.Command("git", "clone", "-q", srv.RepoURL("fleet"), work)
	cmd.Env = append(root.env(), "GIT_SSH_COMMAND=ssh -i "+keyFile+" -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile="+known)
	if out, err := cmd.CombinedOutput(); err != nil {
		if _, lookErr := exec.LookPath("ssh"); lookErr != nil {
			t.Fatalf("this test clones with the ssh client, which is not installed: %v", lookErr)
		}
		t.Fatalf("git clone over ssh: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(work, "a.yaml"))
	if err != nil || string(b) != "a\n" {
		t.Fatalf("a.yaml = %q, %v (rev %s)", b, err, rev)
	}
}

func run(t *testing.T, root *Root, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(root.env(), "GIT_TERMINAL_PROMPT=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}
