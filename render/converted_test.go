package render

import (
	"context"
	"strings"
	"testing"

	"mcp.dev/mcp/source"
)

// TestConvertedExampleRepos renders public Argo CD and Flux example repos
// converted to mcp (testdata/converted): no error and no warning, so
// `mcp validate --strict` passes; hooks became waves, and a Flux overlay's
// patch a variable.
func TestConvertedExampleRepos(t *testing.T) {
	f, err := Render(context.Background(), source.Snapshot{Dir: "../testdata/converted"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Err(); err != nil {
		t.Fatalf("render failed:\n%s", errorLines(err))
	}
	if len(f.Warnings) > 0 {
		t.Fatalf("warnings (errors under --strict):\n%s", strings.Join(f.Warnings, "\n"))
	}
	want := map[string]struct {
		objects int
		server  string
	}{
		"staging":    {objects: 2 + 2 + 4 + 29 + 6 + 1, server: "https://acme-staging-v02.api.letsencrypt.org/directory"},
		"production": {objects: 2 + 29 + 6 + 1, server: "https://acme-v02.api.letsencrypt.org/directory"},
	}
	for name, w := range want {
		c, ok := f.Cluster(name)
		if !ok {
			t.Fatalf("cluster %s not rendered", name)
		}
		if len(c.Objects) != w.objects {
			t.Errorf("cluster %s: %d objects, want %d", name, len(c.Objects), w.objects)
		}
		for _, o := range c.Objects {
			switch o.Obj.GetName() {
			case "letsencrypt":
				if s := o.Obj.Object["spec"].(map[string]any)["acme"].(map[string]any)["server"]; s != w.server {
					t.Errorf("cluster %s: ACME server %v, want %s", name, s, w.server)
				}
			case "pre-post-sync-before", "pre-post-sync-after":
				if o.Wave == 0 {
					t.Errorf("cluster %s: %s has no wave", name, o.Obj.GetName())
				}
			}
		}
	}
}
