package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// diffFleetRepo makes a git repo of testdata/fleet with two commits: the
// second raises the prod replicas from 3 to 4. It returns the work tree.
func diffFleetRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "..", "testdata", "fleet"))); err != nil {
		t.Fatal(err)
	}
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	commit := func(msg string) {
		if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
			t.Fatal(err)
		}
		sig := &object.Signature{Name: "test", Email: "test@localhost", When: time.Now()}
		if _, err := wt.Commit(msg, &git.CommitOptions{Author: sig}); err != nil {
			t.Fatal(err)
		}
	}
	commit("the fleet")
	placements := filepath.Join(dir, "placements", "placements.yaml")
	data, err := os.ReadFile(placements)
	if err != nil {
		t.Fatal(err)
	}
	const old, new = `vars: {replicas: "3"}`, `vars: {replicas: "4"}`
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s no longer holds %s; adjust the test", placements, old)
	}
	if err := os.WriteFile(placements, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	commit("more replicas in prod")
	return dir
}

// runStdout runs mcp with args and returns its exit code and standard output.
func runStdout(t *testing.T, args ...string) (int, string) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "stdout")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	saved := os.Stdout
	os.Stdout = f
	code := run(args)
	os.Stdout = saved
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return code, string(out)
}

func TestDiffAgainst(t *testing.T) {
	repo := diffFleetRepo(t)
	base := []string{"diff", "--dir", repo, "--credentials-dir", t.TempDir()}

	code, out := runStdout(t, append(base, "--against", "HEAD~1", "--exit-code")...)
	if code != exitChanges {
		t.Errorf("exit %d, want %d with --exit-code and changes", code, exitChanges)
	}
	for _, want := range []string{
		"cluster aws-eu-prod:\n  ~ apps/Deployment web/web (apps/web/overlays/prod/kustomization.yaml)\n      spec.replicas: 3 → 4\n  0 to create, 1 to update, 0 to delete\n",
		"cluster gcp-us-prod:\n  ~ apps/Deployment web/web",
		"cluster kind-dev:\n  no changes\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Errorf("colour written to a file:\n%q", out)
	}

	code, out = runStdout(t, append(base, "--against", "HEAD~1")...)
	if code != exitOK || !strings.Contains(out, "spec.replicas: 3 → 4") {
		t.Errorf("without --exit-code: exit %d, output:\n%s", code, out)
	}

	code, out = runStdout(t, append(base, "--against", "HEAD~1", "--output", "json")...)
	var plan struct {
		Clusters []struct {
			Name    string
			Changes []struct {
				Action, Kind, Name string
				Fields             []struct {
					Path     string
					Old, New any
				}
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil || code != exitOK {
		t.Fatalf("json output: exit %d, %v:\n%s", code, err, out)
	}
	if len(plan.Clusters) != 3 || len(plan.Clusters[0].Changes) != 1 ||
		plan.Clusters[0].Changes[0].Fields[0].Path != "spec.replicas" || plan.Clusters[0].Changes[0].Fields[0].New != 4.0 {
		t.Errorf("json plan: %+v", plan)
	}

	code, out = runStdout(t, append(base, "--against", "HEAD", "--exit-code")...)
	if code != exitOK || strings.Count(out, "no changes") != 3 {
		t.Errorf("against itself: exit %d, output:\n%s", code, out)
	}
}

func TestDiffRefusesBadInput(t *testing.T) {
	repo := diffFleetRepo(t)
	for name, args := range map[string][]string{
		"live, no credentials": {"diff", "--dir", repo, "--credentials-dir", t.TempDir()},
		"unknown ref":          {"diff", "--dir", repo, "--against", "no-such-ref"},
		"unknown output":       {"diff", "--dir", repo, "--against", "HEAD", "--output", "yaml"},
	} {
		t.Run(name, func(t *testing.T) {
			if code, out := runStdout(t, args...); code != exitError {
				t.Errorf("exit %d, want %d; output:\n%s", code, exitError, out)
			}
		})
	}
}
