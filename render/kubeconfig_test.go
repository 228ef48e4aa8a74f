package render

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"mcp.dev/mcp/source"
)

// A mounted Secret: <dir>/c1 -> ..data/c1, ..data -> ..2026_11_26/.
func TestKubeconfigInSecretVolume(t *testing.T) {
	creds := t.TempDir()
	if err := os.MkdirAll(filepath.Join(creds, "..2026_11_26"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(creds, "..2026_11_26", "c1"), []byte("kubeconfig"), 0o600); err != nil {
		t.Fatal(err)
	}
	symlink(t, "..2026_11_26", filepath.Join(creds, "..data"))
	symlink(t, filepath.Join("..data", "c1"), filepath.Join(creds, "c1"))

	c := Cluster{Name: "c1", Kubeconfig: KubeconfigRef{Path: "c1"}}
	got, err := c.KubeconfigPath(creds)
	if err != nil {
		t.Fatal(err)
	}
	if got != filepath.Join(creds, "c1") || !filepath.IsAbs(got) {
		t.Errorf("path %q, want %q", got, filepath.Join(creds, "c1"))
	}
	if p, err := (Cluster{Name: "c1", InCluster: true}).KubeconfigPath(creds); p != "" || err != nil {
		t.Errorf("in-cluster: %q, %v", p, err)
	}
}

func TestSymlinkInsideRepoIsFollowed(t *testing.T) {
	repo := writeRepo(t, map[string]string{"mcp.yaml": baseConfig, "shared/cm.yaml": configMap})
	if err := os.MkdirAll(filepath.Join(repo, "apps"), 0o755); err != nil {
		t.Fatal(err)
	}
	symlink(t, filepath.Join("..", "shared", "cm.yaml"), filepath.Join(repo, "apps", "cm.yaml"))
	f, err := Render(context.Background(), source.Snapshot{Dir: repo}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := f.Clusters[0]
	if c.Err != nil || len(c.Objects) != 1 || c.Objects[0].File != "apps/cm.yaml" {
		t.Fatalf("objects %v, err %v", c.Objects, c.Err)
	}
}
