package render

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"mcp.dev/mcp/source"
)

// TestHostileInputIsBounded: what a pull request could use to make render
// hang, eat memory or read outside the repo is refused with an error that
// names the file and the cluster, in bounded time and memory, and the
// cluster gets no objects.
func TestHostileInputIsBounded(t *testing.T) {
	outside := writeRepo(t, map[string]string{"secret.yaml": configMap, "dir/cm.yaml": configMap})
	tests := map[string]struct {
		files map[string]string
		setup func(t *testing.T, repo string)
		fatal bool
		want  []string
	}{
		"deeply nested flow document": {
			files: map[string]string{"mcp.yaml": baseConfig, "apps/a.yaml": configMap + "data:\n  a: " + strings.Repeat("[", 200_000) + strings.Repeat("]", 200_000) + "\n"},
			want:  []string{"apps/a.yaml", "cluster c1"},
		},
		"deeply nested block document": {
			files: map[string]string{"mcp.yaml": baseConfig, "apps/a.yaml": configMap + "data:\n" + nestedBlock(20_000)},
			want:  []string{"apps/a.yaml", "cluster c1"},
		},
		"a 50 MB file": {
			files: map[string]string{"mcp.yaml": baseConfig, "apps/a.yaml": configMap},
			setup: func(t *testing.T, repo string) {
				f, err := os.Create(filepath.Join(repo, "apps", "big.yaml"))
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if err := f.Truncate(50 << 20); err != nil { // sparse: cheap to make
					t.Fatal(err)
				}
			},
			want: []string{"apps/big.yaml", "cluster c1", "limit"},
		},
		"directory symlinked out of the repo": {
			files: map[string]string{"mcp.yaml": baseConfig, "apps/a.yaml": configMap},
			setup: func(t *testing.T, repo string) {
				symlink(t, filepath.Join(outside, "dir"), filepath.Join(repo, "apps", "linked"))
			},
			want: []string{"apps/linked", "cluster c1", "outside the repo"},
		},
		"placement path symlinked out of the repo": {
			files: map[string]string{"mcp.yaml": strings.Replace(baseConfig, "path: apps", "path: linked", 1)},
			setup: func(t *testing.T, repo string) {
				symlink(t, filepath.Join(outside, "dir"), filepath.Join(repo, "linked"))
			},
			want: []string{"linked", "placement p", "outside the repo"},
		},
		"mcp document symlinked out of the repo": {
			files: map[string]string{"mcp.yaml": baseConfig, "apps/a.yaml": configMap},
			setup: func(t *testing.T, repo string) {
				clusters := writeRepo(t, map[string]string{"c.yaml": "apiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata: {name: c2}\n"})
				symlink(t, filepath.Join(clusters, "c.yaml"), filepath.Join(repo, "c2.yaml"))
			},
			fatal: true, want: []string{"c2.yaml", "outside the repo"},
		},
		"kustomize resource file outside the repo": {
			files: map[string]string{"mcp.yaml": baseConfig, "apps/kustomization.yaml": "resources: [" + filepath.Join(outside, "secret.yaml") + "]\n"},
			want:  []string{"apps/kustomization.yaml", "cluster c1"},
		},
		"kustomize resource climbing out with ..": {
			files: map[string]string{"mcp.yaml": baseConfig, "apps/kustomization.yaml": "resources: [../../../../../../../../.." + filepath.Join(outside, "secret.yaml") + "]\n"},
			want:  []string{"apps/kustomization.yaml", "cluster c1"},
		},
		"kustomize resource symlinked out of the repo": {
			files: map[string]string{"mcp.yaml": baseConfig, "apps/kustomization.yaml": "resources: [link.yaml]\n"},
			setup: func(t *testing.T, repo string) {
				symlink(t, filepath.Join(outside, "secret.yaml"), filepath.Join(repo, "apps", "link.yaml"))
			},
			want: []string{"apps/", "cluster c1"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			repo := writeRepo(t, tc.files)
			if tc.setup != nil {
				tc.setup(t, repo)
			}
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			f, err := Render(context.Background(), source.Snapshot{Dir: repo}, Options{})
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			if err == nil {
				if tc.fatal {
					t.Fatal("Render succeeded, want an error")
				}
				err = f.Err()
				for _, c := range f.Clusters {
					if len(c.Objects) > 0 {
						t.Errorf("cluster %s has %d objects from hostile input", c.Cluster.Name, len(c.Objects))
					}
				}
			}
			assertLine(t, err, tc.want...)
			if took > 10*time.Second {
				t.Errorf("took %s", took)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 512<<20 {
				t.Errorf("allocated %d MB", alloc>>20)
			}
		})
	}
}

// nestedBlock is a block mapping n levels deep.
func nestedBlock(n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(strings.Repeat(" ", i+2) + "k:\n")
	}
	return b.String()
}
