package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// gitCommitter makes dir a git repo and returns a function that commits
// all of its files.
func gitCommitter(t *testing.T, dir string) func(msg string) {
	t.Helper()
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	return func(msg string) {
		t.Helper()
		if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
			t.Fatal(err)
		}
		sig := &object.Signature{Name: "test", Email: "test@localhost", When: time.Now()}
		if _, err := wt.Commit(msg, &git.CommitOptions{Author: sig}); err != nil {
			t.Fatal(err)
		}
	}
}

// editFile replaces old by new in the file at path, which must hold old.
func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s no longer holds %q; adjust the test", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDiffAgainstRemovals: what a pull request takes away is in the plan
// in every format, and --exit-code reports it: a removed Cluster leaves
// management, a removed Placement's objects are deleted, and objects of a
// Placement with prune: false are orphaned, not deleted.
func TestDiffAgainstRemovals(t *testing.T) {
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("..", "..", "testdata", "fleet"))); err != nil {
		t.Fatal(err)
	}
	commit := gitCommitter(t, dir)
	commit("the fleet")
	base := []string{"diff", "--dir", dir, "--credentials-dir", t.TempDir(), "--against", "HEAD~1"}

	// 1. Only a Cluster goes.
	if err := os.Remove(filepath.Join(dir, "clusters", "gcp-us-prod.yaml")); err != nil {
		t.Fatal(err)
	}
	commit("gcp-us-prod leaves")
	code, out := runStdout(t, append(base, "--exit-code")...)
	if code != exitChanges || !strings.Contains(out, "cluster gcp-us-prod:\n  leaves management: its ") ||
		!strings.Contains(out, " objects stay on the cluster, no longer reconciled\n") {
		t.Errorf("removed cluster: exit %d (want %d), output:\n%s", code, exitChanges, out)
	}
	_, out = runStdout(t, append(base, "--output", "markdown")...)
	if !strings.Contains(out, "**gcp-us-prod** leaves management: its ") || !strings.Contains(out, "| gcp-us-prod | 0 | 0 | 0 | 0 | 0 | 0 | 0 | leaves management") {
		t.Errorf("removed cluster, markdown:\n%s", out)
	}
	_, out = runStdout(t, append(base, "--output", "json")...)
	var left struct {
		Clusters []struct {
			Name      string
			Leaves    bool
			Remaining int
		}
	}
	if err := json.Unmarshal([]byte(out), &left); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if n := len(left.Clusters); n != 3 || left.Clusters[1].Name != "gcp-us-prod" || !left.Clusters[1].Leaves || left.Clusters[1].Remaining == 0 {
		t.Errorf("removed cluster, json: %+v", left)
	}

	// 2. A Placement goes, and another stops pruning while its objects go.
	placements := filepath.Join(dir, "placements", "placements.yaml")
	editFile(t, placements, "  namespace: monitoring\n  prune: true\n", "  namespace: monitoring\n  prune: false\n")
	editFile(t, placements, "  name: web-dev\n", "  name: web-dev-gone\n")
	editFile(t, placements, "  path: apps/web/overlays/dev\n", "  path: apps/no-such-dir-yet\n")
	if err := os.MkdirAll(filepath.Join(dir, "apps", "no-such-dir-yet"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "apps", "no-such-dir-yet", "cm.yaml"), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: later, namespace: web}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "apps", "monitoring", "scripts.yaml")); err != nil {
		t.Fatal(err)
	}
	commit("web-dev renamed, monitoring scripts go")

	code, out = runStdout(t, append(base, "--exit-code")...)
	for _, want := range []string{
		"  < ConfigMap monitoring/backup-script (apps/monitoring/scripts.yaml) — orphan: stays on the cluster, no longer managed (prune: false)\n",
		"  - apps/Deployment web/web-dev (apps/web/overlays/dev/kustomization.yaml) — placement web-dev is removed\n",
		"0 to delete, 2 to orphan",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text plan lacks %q:\n%s", want, out)
		}
	}
	if code != exitChanges {
		t.Errorf("exit %d, want %d", code, exitChanges)
	}
	if strings.Contains(out, "- ConfigMap monitoring/backup-script") {
		t.Errorf("an orphaned object shows as deleted:\n%s", out)
	}

	_, out = runStdout(t, append(base, "--output", "json")...)
	var plan struct {
		Clusters []struct {
			Name    string
			Changes []struct{ Action, Name, Reason string }
			Summary map[string]int
		}
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	actions := map[string]string{}
	for _, c := range plan.Clusters {
		for _, ch := range c.Changes {
			actions[c.Name+" "+ch.Name] = ch.Action
		}
		if c.Name == "aws-eu-prod" && (c.Summary["orphan"] != 2 || c.Summary["delete"] != 0) {
			t.Errorf("aws-eu-prod summary %v, want 2 orphans and no deletes", c.Summary)
		}
	}
	for key, want := range map[string]string{
		"aws-eu-prod backup-script": "orphan",
		"kind-dev alert-templates":  "orphan",
		"kind-dev web-dev":          "delete",
		"kind-dev later":            "create",
	} {
		if actions[key] != want {
			t.Errorf("json: %s is %q, want %q (all: %v)", key, actions[key], want, actions)
		}
	}

	_, out = runStdout(t, append(base, "--output", "markdown")...)
	if !strings.Contains(out, "< ConfigMap monitoring/backup-script") || !strings.Contains(out, "| 0 | 2 |") {
		t.Errorf("markdown plan lacks the orphans:\n%s", out)
	}

	// 3. A Placement with prune: false stops selecting a cluster: apply
	//    deletes its objects there, and the plan says so.
	editFile(t, placements, "  clusters: [kind-dev]\n", "")
	commit("monitoring leaves kind-dev")
	_, out = runStdout(t, base...)
	if want := "  - ConfigMap monitoring/grafana-dashboards (apps/monitoring/dashboards.yaml, wave 0) — placement monitoring no longer selects this cluster\n"; !strings.Contains(out, want) {
		t.Errorf("text plan lacks %q:\n%s", want, out)
	}
}

// TestDiffAgainstMarkdown204 runs mcp diff --against --output markdown on
// a generated repo of 204 clusters and a four-change pull request: one
// short comment, the clusters grouped by plan.
func TestDiffAgainstMarkdown204(t *testing.T) {
	dir := t.TempDir()
	write := func(path, data string) {
		t.Helper()
		path = filepath.Join(dir, path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var clusters strings.Builder
	for i := range 204 {
		region := "eu"
		if i%2 == 1 {
			region = "us"
		}
		fmt.Fprintf(&clusters, "---\napiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata: {name: aws-%s-%d, labels: {region: %s}}\n", region, i/2+1, region)
	}
	write("clusters.yaml", clusters.String())
	write("placements.yaml", "apiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata: {name: web}\nspec: {path: web, clusterSelector: {}, namespace: web}\n")
	write("web/deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, annotations: {mcp.dev/wave: \"1\"}}\nspec: {replicas: 2, template: {spec: {containers: [{name: web, image: \"nginx:1.25\"}]}}}\n")
	write("web/old.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: old}\nspec: {ports: [{port: 80}]}\n")
	commit := gitCommitter(t, dir)
	commit("204 clusters")
	write("web/deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, annotations: {mcp.dev/wave: \"1\"}}\nspec:\n  replicas: ${var.replicas}\n  template: {spec: {containers: [{name: web, image: \"nginx:1.27-${cluster.labels.region}\"}]}}\n")
	write("web/flags.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: flags}\ndata:\n  region: ${cluster.labels.region}\n")
	if err := os.Remove(filepath.Join(dir, "web", "old.yaml")); err != nil {
		t.Fatal(err)
	}
	write("placements.yaml", "apiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata: {name: web}\nspec: {path: web, clusterSelector: {}, namespace: web, vars: {replicas: \"3\"}}\n")
	commit("a four-change pull request")

	code, out := runStdout(t, "diff", "--dir", dir, "--credentials-dir", t.TempDir(), "--against", "HEAD~1", "--output", "markdown", "--exit-code")
	if code != exitChanges {
		t.Fatalf("exit %d, want %d:\n%s", code, exitChanges, out)
	}
	if len(out) > 60000 {
		t.Errorf("comment of %d characters, want under 60,000", len(out))
	}
	for _, want := range []string{
		"| aws-eu-1, aws-eu-10, aws-eu-100, … \\(102 clusters\\) | 1 | 1 | 1 |",
		"| aws-us-1, aws-us-10, aws-us-100, … \\(102 clusters\\) | 1 | 1 | 1 |",
		"~ apps/Deployment web/web (web/deploy.yaml, wave 1)",
		"-     spec.replicas: 2\n+     spec.replicas: 3\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("comment lacks %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "<details>"); n != 2 {
		t.Errorf("%d sections, want 2 (eu and us):\n%s", n, out)
	}
}
