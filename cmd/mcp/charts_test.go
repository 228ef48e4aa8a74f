package main

import (
	"context"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mcp.dev/mcp/internal/chartserver"
	"mcp.dev/mcp/source"
	"mcp.dev/mcp/source/dir"
	"mcp.dev/mcp/source/helmrepo"
)

// TestFetchingChartsSource: the source of mcp run fetches each
// snapshot's charts into the cache, and a watching source still watches.
func TestFetchingChartsSource(t *testing.T) {
	charts := chartserver.NewHTTPRepo(t)
	charts.Publish("app", "0.1.0")
	host := strings.TrimPrefix(charts.Server.URL, "https://")
	repo, creds, cache := t.TempDir(), t.TempDir(), t.TempDir()
	files := map[string]string{
		filepath.Join(repo, "mcp.yaml"):                  "apiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata: {name: app}\nspec:\n  clusterSelector: {}\n  chart: {repo: \"" + charts.Server.URL + "\", name: app}\n",
		filepath.Join(creds, "charts", host, "username"): chartserver.User,
		filepath.Join(creds, "charts", host, "password"): chartserver.Password,
		filepath.Join(creds, "charts", host, "ca.crt"):   string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: charts.Server.Certificate().Raw})),
	}
	for p, data := range files {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	opts := dir.DefaultOptions()
	opts.Dir = repo
	d, err := dir.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	s := fetchingCharts(d, cache, creds)
	if _, ok := s.(source.Watcher); !ok {
		t.Error("the wrapped --dir source no longer watches")
	}
	if _, _, err := s.Fetch(context.Background()); err != nil {
		t.Fatal(err)
	}
	res, _, err := helmrepo.Cache{Dir: cache}.Lookup(helmrepo.Ref{Repo: charts.Server.URL, Name: "app"})
	if err != nil || res.Version != "0.1.0" {
		t.Fatalf("after Fetch the cache has %+v, %v; want app 0.1.0", res, err)
	}

	// A poll that finds the same revision fetches nothing: the reconciler
	// does not render it again. A new revision fetches its charts.
	reads := charts.IndexReads()
	if _, changed, err := s.Fetch(context.Background()); err != nil || changed {
		t.Fatalf("second Fetch: changed %v, %v", changed, err)
	}
	if got := charts.IndexReads(); got != reads {
		t.Errorf("a poll of an unchanged revision read the chart index %d more times", got-reads)
	}
	if err := os.WriteFile(filepath.Join(repo, "notes.yaml"), []byte("a: b\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, changed, err := s.Fetch(context.Background()); err != nil || !changed {
		t.Fatalf("Fetch after an edit: changed %v, %v", changed, err)
	}
	if charts.IndexReads() == reads {
		t.Error("a new revision did not fetch its charts")
	}
}
