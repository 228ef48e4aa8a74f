package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"mcp.dev/mcp/internal/testenv"
)

// TestPodOverlay builds the overlay the pod demo applies over the real
// deploy/: the Deployment keeps the base's security settings and probes,
// and runs `mcp run --dir` on the repo mounted read-only from the host,
// on host networking, with the demo's image and nothing of the git
// settings.
func TestPodOverlay(t *testing.T) {
	dir := t.TempDir()
	deploy, err := filepath.Abs("../../deploy")
	if err != nil {
		t.Fatal(err)
	}
	if err := podOverlay(dir, deploy, "/srv/fleet", "127.0.0.1:18080"); err != nil {
		t.Fatal(err)
	}
	objs, err := testenv.Kustomize(dir)
	if err != nil {
		t.Fatal(err)
	}
	var dep map[string]any
	for _, o := range objs {
		if o.GetKind() == "Deployment" && o.GetName() == "mcp" {
			dep = o.Object
		}
	}
	if dep == nil {
		t.Fatal("no Deployment mcp in the overlay's output")
	}
	spec := dig(t, dep, "spec", "template", "spec").(map[string]any)
	c := spec["containers"].([]any)[0].(map[string]any)
	if got := c["image"]; got != podImage {
		t.Errorf("image %v, want %s", got, podImage)
	}
	if got := c["args"]; !slices.Equal(strs(got), []string{"run", "--dir", "/fleet", "--drift-interval", "20s"}) {
		t.Errorf("args %v", got)
	}
	if _, ok := c["envFrom"]; ok {
		t.Error("the git settings of mcp-config are still there")
	}
	if spec["hostNetwork"] != true {
		t.Error("not on the host network")
	}
	if got := dig(t, c, "securityContext", "readOnlyRootFilesystem"); got != true {
		t.Errorf("readOnlyRootFilesystem %v", got)
	}
	if got := dig(t, c, "readinessProbe", "httpGet", "path"); got != "/readyz" {
		t.Errorf("readiness probe %v", got)
	}
	var env, mounts, vols []string
	for _, e := range c["env"].([]any) {
		e := e.(map[string]any)
		env = append(env, e["name"].(string)+"="+str(e["value"]))
	}
	for _, m := range c["volumeMounts"].([]any) {
		m := m.(map[string]any)
		mounts = append(mounts, m["name"].(string)+":"+m["mountPath"].(string))
	}
	for _, v := range spec["volumes"].([]any) {
		v := v.(map[string]any)
		if hp, ok := v["hostPath"].(map[string]any); ok {
			vols = append(vols, v["name"].(string)+":"+hp["path"].(string))
		}
	}
	if !slices.Contains(env, "MCP_LISTEN=127.0.0.1:18080") || slices.Contains(env, "MCP_LISTEN=:8080") {
		t.Errorf("env %v", env)
	}
	if !slices.Contains(mounts, "fleet:/fleet") || !slices.Equal(vols, []string{"fleet:/srv/fleet"}) {
		t.Errorf("mounts %v, host paths %v", mounts, vols)
	}
	if got := dig(t, c, "ports").([]any)[0].(map[string]any)["containerPort"]; fmt.Sprint(got) != "18080" {
		t.Errorf("containerPort %v (%T)", got, got)
	}
}

func dig(t *testing.T, m map[string]any, path ...string) any {
	t.Helper()
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%v: not a map at %s", path, p)
		}
		v = mm[p]
	}
	return v
}

func strs(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, str(s))
	}
	return out
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
