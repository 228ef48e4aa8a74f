package render

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"mcp.dev/mcp/source"
)

// countingListener is a loopback HTTP server that counts every connection
// made to it: render must make none.
func countingListener(t *testing.T) (addr string, conns *atomic.Int64) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns = new(atomic.Int64)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprint(w, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fetched}\ndata: {loot: stolen}\n")
		}),
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				conns.Add(1)
			}
		},
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return l.Addr().String(), conns
}

// trapGit puts a git on PATH that records being run: render must never
// run a program.
func trapGit(t *testing.T) (ran func() bool) {
	t.Helper()
	dir := t.TempDir()
	marker := filepath.Join(dir, "git-ran")
	script := "#!/bin/sh\necho \"$@\" >> " + marker + "\nexit 1\n"
	if err := os.WriteFile(filepath.Join(dir, "git"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return func() bool {
		_, err := os.Stat(marker)
		return err == nil
	}
}

// TestRenderNeverReachesTheNetwork renders every remote form kustomize
// knows, in every field that loads a file, in other key cases and behind
// YAML tags, and checks that each is refused naming the file, while no
// connection reaches a listener the references point at and no git runs.
func TestRenderNeverReachesTheNetwork(t *testing.T) {
	addr, conns := countingListener(t)
	gitRan := trapGit(t)
	u := "http://" + addr + "/x.yaml"
	git := "https://" + addr + "/org/repo.git//x?ref=main"
	b64 := base64.StdEncoding.EncodeToString([]byte(u))
	generatorConfig := "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata: {name: loot}\nfiles: [" + u + "]\n"

	corpus := map[string]map[string]string{
		"resources":                    {"kustomization.yaml": "resources: [" + u + "]\n"},
		"Resources, capitalized":       {"kustomization.yaml": "Resources: [" + u + "]\n"},
		"RESOURCES, upper case":        {"kustomization.yaml": "RESOURCES: [" + u + "]\n"},
		"binary tag":                   {"kustomization.yaml": "resources: [!!binary " + b64 + "]\n"},
		"str tag":                      {"kustomization.yaml": "resources: [!!str " + u + "]\n"},
		"JSON escape":                  {"kustomization.yaml": `{"resources": ["\u0068ttp://` + addr + `/x.yaml"]}` + "\n"},
		"upper-case scheme":            {"kustomization.yaml": "resources: [HTTP://" + addr + "/x.yaml]\n"},
		"bases":                        {"kustomization.yaml": "bases: [" + u + "]\n"},
		"git over https":               {"kustomization.yaml": "Resources: [" + git + "]\n"},
		"git:: prefix":                 {"kustomization.yaml": "resources: [git::" + git + "]\n"},
		"scp-like git":                 {"kustomization.yaml": "resources: ['git@127.0.0.1:org/repo//x']\n"},
		"ssh git":                      {"kustomization.yaml": "resources: [ssh://git@" + addr + "/org/repo]\n"},
		"file git":                     {"kustomization.yaml": "resources: [file:///etc/repo.git//x]\n"},
		"github shorthand":             {"kustomization.yaml": "resources: [github.com/org/repo//x?ref=v1]\n"},
		"components":                   {"kustomization.yaml": "components: [" + git + "]\n"},
		"crds":                         {"kustomization.yaml": "crds: [" + u + "]\n"},
		"configurations":               {"kustomization.yaml": "configurations: [" + u + "]\n"},
		"openapi path":                 {"kustomization.yaml": "openapi: {path: " + u + "}\n"},
		"transformers":                 {"kustomization.yaml": "transformers: [" + u + "]\n"},
		"generators":                   {"kustomization.yaml": "generators: [" + u + "]\n"},
		"validators":                   {"kustomization.yaml": "validators: [" + u + "]\n"},
		"patches path":                 {"kustomization.yaml": "patches: [{path: " + u + "}]\n"},
		"patchesJson6902 path":         {"kustomization.yaml": "patchesJson6902: [{path: " + u + ", target: {kind: ConfigMap, name: cm, version: v1}}]\n"},
		"patchesStrategicMerge":        {"kustomization.yaml": "patchesStrategicMerge: [" + u + "]\n"},
		"replacements path":            {"kustomization.yaml": "replacements: [{path: " + u + "}]\n"},
		"configMapGenerator files":     {"kustomization.yaml": "configMapGenerator: [{name: loot, Files: [" + u + "]}]\n"},
		"configMapGenerator key=file":  {"kustomization.yaml": "configMapGenerator: [{name: loot, files: [k=" + u + "]}]\n"},
		"configMapGenerator envs":      {"kustomization.yaml": "configMapGenerator: [{name: loot, envs: [" + u + "]}]\n"},
		"configMapGenerator env":       {"kustomization.yaml": "configMapGenerator: [{name: loot, env: " + u + "}]\n"},
		"secretGenerator files":        {"kustomization.yaml": "SecretGenerator: [{name: loot, FILES: [" + u + "]}]\n"},
		"generator config in a file":   {"kustomization.yaml": "generators: [gen.yaml]\n", "gen.yaml": generatorConfig},
		"generator config inline":      {"kustomization.yaml": "generators:\n- |\n  " + strings.ReplaceAll(generatorConfig, "\n", "\n  ") + "\n"},
		"transformer config with tags": {"kustomization.yaml": "transformers: [t.yaml]\n", "t.yaml": "apiVersion: builtin\nkind: PatchTransformer\nmetadata: {name: p}\npath: !!binary " + b64 + "\n"},
		"helm chart":                   {"kustomization.yaml": "helmCharts: [{name: x, repo: " + u + "}]\n"},
		"remote in a base":             {"kustomization.yaml": "resources: [../base]\n", "../base/kustomization.yaml": "Resources: [" + u + "]\n"},
	}
	for name, files := range corpus {
		t.Run(name, func(t *testing.T) {
			repo := map[string]string{"mcp.yaml": strings.Replace(baseConfig, "path: apps", "path: apps/k", 1), "apps/k/cm.yaml": configMap}
			for p, content := range files {
				repo[filepath.ToSlash(filepath.Join("apps/k", p))] = content
			}
			f, err := Render(context.Background(), source.Snapshot{Dir: writeRepo(t, repo)}, Options{})
			if err == nil {
				err = f.Err()
			}
			if err == nil {
				t.Fatal("rendered, want the remote reference refused")
			}
			if !strings.Contains(err.Error(), "kustomization.yaml") && !strings.Contains(err.Error(), ".yaml:") {
				t.Errorf("the error names no file: %v", err)
			}
			if strings.Contains(err.Error(), "stolen") {
				t.Errorf("the fetched body reached the error: %v", err)
			}
		})
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("render made %d connections to the loopback listener, want 0", n)
	}
	if gitRan() {
		t.Error("render ran git")
	}

	// The traps work: a real request is counted and git on PATH is the trap.
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if conns.Load() != 1 {
		t.Errorf("the listener counted %d connections of one request", conns.Load())
	}
}

// TestNothingUnderGitIsRead: a symlink into .git, a .git file and .git
// directories at any depth are never read, and what they hold reaches no
// output.
func TestNothingUnderGitIsRead(t *testing.T) {
	const token = "AUTHORIZATION: basic c2VjcmV0LXRva2Vu"
	files := map[string]string{
		"mcp.yaml":               strings.Replace(baseConfig, "path: apps", "path: apps/k", 1),
		".git/config":            "[http]\n\textraheader = " + token + "\n",
		".git/leak.yaml":         configMap,
		"apps/k/.git":            "gitdir: ../../.git\n",
		"apps/k/sub/.git/x.yaml": configMap,
		"apps/k/kustomization.yaml": "configMapGenerator: [{name: loot, files: [leak.txt]}]\n" +
			"resources: [gitlink]\n",
		"apps/k/gitlink/kustomization.yaml": "resources: [cm.yaml]\n",
	}
	repo := writeRepo(t, files)
	symlink(t, "../../.git/config", filepath.Join(repo, "apps/k/leak.txt"))
	symlink(t, "../../../.git", filepath.Join(repo, "apps/k/gitlink/cm.yaml"))

	f, err := Render(context.Background(), source.Snapshot{Dir: repo}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = f.Err()
	if !errors.Is(err, ErrEscapes) {
		t.Fatalf("error is not %v: %v", ErrEscapes, err)
	}
	assertLine(t, err, "apps/k/leak.txt", "into .git")
	if strings.Contains(err.Error(), "c2VjcmV0") {
		t.Errorf("the token reached the error: %v", err)
	}

	// A placement of the repo root does not take .git's manifests.
	repo = writeRepo(t, map[string]string{"mcp.yaml": strings.Replace(baseConfig, "path: apps", "path: .", 1), ".git/leak.yaml": configMap, "sub/.git/leak.yaml": configMap})
	f, err = Render(context.Background(), source.Snapshot{Dir: repo}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Err(); err != nil || len(f.Clusters[0].Objects) != 0 {
		t.Errorf("objects %v, err %v: want nothing from .git", f.Clusters[0].Objects, err)
	}
}

// overlays writes levels of kustomizations, each including the previous
// level twice under another name prefix: 2^levels copies of one object.
func overlays(levels int) map[string]string {
	files := map[string]string{
		"mcp.yaml":              strings.Replace(baseConfig, "path: apps", fmt.Sprintf("path: l%d", levels), 1),
		"l0/kustomization.yaml": "resources: [cm.yaml]\n",
		"l0/cm.yaml":            configMap + "data: {k: " + strings.Repeat("v", 1000) + "}\n",
	}
	for i := 1; i <= levels; i++ {
		files[fmt.Sprintf("l%d/kustomization.yaml", i)] = fmt.Sprintf("resources: [a, b]\n")
		files[fmt.Sprintf("l%d/a/kustomization.yaml", i)] = fmt.Sprintf("namePrefix: a-\nresources: [../../l%d]\n", i-1)
		files[fmt.Sprintf("l%d/b/kustomization.yaml", i)] = fmt.Sprintf("namePrefix: b-\nresources: [../../l%d]\n", i-1)
	}
	return files
}

// TestRenderIsBounded: overlays that multiply a base are refused before
// they are built, by the objects and bytes they would make; a smaller
// limit refuses smaller ones; a cancelled render stops.
func TestRenderIsBounded(t *testing.T) {
	render := func(levels int, lim Limits) error {
		f, err := Render(context.Background(), source.Snapshot{Dir: writeRepo(t, overlays(levels))}, Options{Limits: lim})
		if err != nil {
			return err
		}
		return f.Err()
	}
	if err := render(4, Limits{}); err != nil {
		t.Fatalf("16 objects: %v", err)
	}
	err := render(24, Limits{}) // 16 million objects: never built
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("error is not %v: %v", ErrTooLarge, err)
	}
	assertLine(t, err, "l24/kustomization.yaml", "cluster c1", "16777216 objects", "--max-objects")

	assertLine(t, render(4, Limits{MaxObjects: 10}), "l4/kustomization.yaml", "16 objects", "limit")
	assertLine(t, render(4, Limits{MaxBytes: 4000}), "l4/kustomization.yaml", "bytes", "--max-render-bytes")

	// Plain manifests count too, per cluster.
	many := map[string]string{"mcp.yaml": baseConfig}
	for i := range 30 {
		many[fmt.Sprintf("apps/cm%d.yaml", i)] = strings.Replace(configMap, "name: cm", fmt.Sprintf("name: cm%d", i), 1)
	}
	f, err := Render(context.Background(), source.Snapshot{Dir: writeRepo(t, many)}, Options{Limits: Limits{MaxObjects: 20}})
	if err != nil {
		t.Fatal(err)
	}
	assertLine(t, f.Err(), "cluster c1", "30 objects, the limit is 20")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Render(ctx, source.Snapshot{Dir: writeRepo(t, overlays(4))}, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("a cancelled render: %v, want %v", err, context.Canceled)
	}
}

// TestReservedObjectsAreRefused: the repo cannot write into mcp-system,
// where the inventories live, nor set mcp's own keys.
func TestReservedObjectsAreRefused(t *testing.T) {
	tests := map[string]struct{ manifest, want string }{
		"an inventory":            {"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: mcp-inventory-c1, namespace: mcp-system, labels: {mcp.dev/inventory: c1}}\n", "mcp-system"},
		"the namespace":           {"apiVersion: v1\nkind: Namespace\nmetadata: {name: mcp-system}\n", "mcp-system"},
		"the placement namespace": {"", "mcp-system"},
		"mcp's label":             {"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, labels: {mcp.dev/inventory: c1}}\n", "label mcp.dev/inventory"},
		"mcp's annotation":        {"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, annotations: {mcp.dev/placement: other}}\n", "annotation mcp.dev/placement"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg, manifest := baseConfig, tc.manifest
			if manifest == "" {
				cfg = strings.Replace(cfg, "clusterSelector: {}", "clusterSelector: {}, namespace: mcp-system", 1)
				manifest = configMap
			}
			f, err := Render(context.Background(), source.Snapshot{Dir: writeRepo(t, map[string]string{"mcp.yaml": cfg, "apps/a.yaml": manifest})}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !errors.Is(f.Err(), ErrInvalid) {
				t.Errorf("error is not %v: %v", ErrInvalid, f.Err())
			}
			assertLine(t, f.Err(), "apps/a.yaml:1: cluster c1", tc.want)
		})
	}
	// The documented annotations stay the repo's to set.
	ok := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, annotations: {mcp.dev/wave: \"1\", mcp.dev/substitute: disabled, mcp.dev/replace: on-immutable}}\n"
	f, err := Render(context.Background(), source.Snapshot{Dir: writeRepo(t, map[string]string{"mcp.yaml": baseConfig, "apps/a.yaml": ok})}, Options{})
	if err != nil || f.Err() != nil {
		t.Fatalf("render: %v %v", err, f.Err())
	}
}

// TestOnlyManifestsAreRead: files that cannot hold manifests are listed,
// not read, so a repo of large pictures costs their names; a generator
// that names one still gets its content.
func TestOnlyManifestsAreRead(t *testing.T) {
	files := map[string]string{
		"mcp.yaml":                  strings.Replace(baseConfig, "path: apps", "path: apps/k", 1),
		"apps/k/kustomization.yaml": "configMapGenerator: [{name: props, files: [app.properties]}]\n",
		"apps/k/app.properties":     "color=blue\n",
	}
	repo := writeRepo(t, files)
	for i := range 20 {
		f, err := os.Create(filepath.Join(repo, "apps", fmt.Sprintf("picture%d.png", i)))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(9 << 20); err != nil { // sparse, under MaxFileSize
			t.Fatal(err)
		}
		f.Close()
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f, err := Render(context.Background(), source.Snapshot{Dir: repo}, Options{})
	runtime.ReadMemStats(&after)
	if err != nil || f.Err() != nil {
		t.Fatalf("render: %v %v", err, f.Err())
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 60<<20 {
		t.Errorf("render allocated %d MB for a repo of 180 MB of pictures, want them not read", alloc>>20)
	}
	objs := f.Clusters[0].Objects
	if len(objs) != 1 || !strings.Contains(fmt.Sprint(objs[0].Obj.Object["data"]), "color=blue") {
		t.Errorf("the generator's file was not read: %v", objs)
	}
}
