package render

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"mcp.dev/mcp/source"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/render")

// goldenDir holds one directory per case: repo/ (the config repo; the case
// "fleet" uses testdata/fleet) and want/, with <cluster>.yaml for every
// cluster that renders, <cluster>.err for every cluster that fails and
// warnings.txt when the render warns.
const goldenDir = "../testdata/render"

func TestGolden(t *testing.T) {
	entries, err := os.ReadDir(goldenDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		name := e.Name()
		t.Run(name, func(t *testing.T) {
			repo := filepath.Join(goldenDir, name, "repo")
			if name == "fleet" {
				repo = "../testdata/fleet"
			}
			f, err := Render(context.Background(), source.Snapshot{Revision: "test", Dir: repo}, Options{})
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			got := map[string]string{}
			for _, c := range f.Clusters {
				if c.Err != nil {
					got[c.Cluster.Name+".err"] = errorLines(c.Err)
					continue
				}
				out, err := Marshal(c.Objects)
				if err != nil {
					t.Fatal(err)
				}
				got[c.Cluster.Name+".yaml"] = string(out)
			}
			if len(f.Warnings) > 0 {
				got["warnings.txt"] = strings.Join(f.Warnings, "\n") + "\n"
			}
			compareGolden(t, filepath.Join(goldenDir, name, "want"), got)
		})
	}
}

// errorLines is one problem per line, as mcp prints them.
func errorLines(err error) string {
	var b strings.Builder
	for _, e := range flatten(err) {
		fmt.Fprintln(&b, e)
	}
	return b.String()
}

// compareGolden compares got (file name → content) with the files of dir,
// or rewrites dir with -update.
func compareGolden(t *testing.T, dir string, got map[string]string) {
	t.Helper()
	if *update {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for n, content := range got {
			if err := os.WriteFile(filepath.Join(dir, n), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	want := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		want[e.Name()] = string(data)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("render differs from %s (-want +got; -update rewrites it):\n%s", dir, diff)
	}
}
