package render

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
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
	got, err := c.KubeconfigPath(Access{CredentialsDir: creds})
	if err != nil {
		t.Fatal(err)
	}
	if got != filepath.Join(creds, "c1") || !filepath.IsAbs(got) {
		t.Errorf("path %q, want %q", got, filepath.Join(creds, "c1"))
	}
}

// TestKubeconfigPathNeedsTheOperatorsAccess: what the repo says is not
// enough to reach a cluster. Without a credentials directory no path is
// given out (a relative one would be read from the working directory,
// which may be the repo), and spec.inCluster needs AllowInCluster.
func TestKubeconfigPathNeedsTheOperatorsAccess(t *testing.T) {
	creds := t.TempDir()
	inCluster := Cluster{Name: "mgmt", InCluster: true, File: "clusters/mgmt.yaml", Line: 3}
	for name, tc := range map[string]struct {
		c      Cluster
		access Access
		want   string // the path; "" with an error
		is     error
		msg    []string
	}{
		"no credentials dir": {
			c: Cluster{Name: "c1", File: "clusters/c1.yaml", Line: 1}, access: Access{},
			is: ErrNoCredentialsDir, msg: []string{"clusters/c1.yaml:1", "cluster c1", "--credentials-dir"},
		},
		"no credentials dir, named path": {
			c: Cluster{Name: "c1", Kubeconfig: KubeconfigRef{Path: "kubeconfig"}}, access: Access{AllowInCluster: true},
			is: ErrNoCredentialsDir, msg: []string{`"kubeconfig"`},
		},
		"in-cluster not allowed": {
			c: inCluster, access: Access{CredentialsDir: creds},
			is: ErrInClusterNotAllowed, msg: []string{"clusters/mgmt.yaml:3", "cluster mgmt", "spec.inCluster", "--allow-in-cluster"},
		},
		"in-cluster allowed":   {c: inCluster, access: Access{CredentialsDir: creds, AllowInCluster: true}},
		"in-cluster, no creds": {c: inCluster, access: Access{AllowInCluster: true}},
		"kubeconfig":           {c: Cluster{Name: "c1"}, access: Access{CredentialsDir: creds}, want: filepath.Join(creds, "c1")},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := tc.c.KubeconfigPath(tc.access)
			if got != tc.want {
				t.Errorf("path %q, want %q", got, tc.want)
			}
			if tc.is == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, tc.is) {
				t.Fatalf("err = %v, want %v", err, tc.is)
			}
			for _, m := range tc.msg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("%q does not name %s", err, m)
				}
			}
		})
	}
}

// TestOfflineRenderNeedsNoAccess: validate, render and diff --against
// render without a credentials directory and without the operator's say
// on spec.inCluster; only the lexical check of the path is made.
func TestOfflineRenderNeedsNoAccess(t *testing.T) {
	config := strings.Replace(baseConfig, "labels: {env: prod}}", "labels: {env: prod}}\nspec: {inCluster: true}", 1)
	repo := writeRepo(t, map[string]string{"mcp.yaml": config, "apps/a.yaml": configMap})
	f, err := Render(context.Background(), source.Snapshot{Dir: repo}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Err(); err != nil || len(f.Clusters[0].Objects) != 1 {
		t.Fatalf("offline render of an inCluster cluster: %v", err)
	}
	escaping := strings.Replace(baseConfig, "labels: {env: prod}}", "labels: {env: prod}}\nspec: {kubeconfig: {path: ../c1}}", 1)
	repo = writeRepo(t, map[string]string{"mcp.yaml": escaping, "apps/a.yaml": configMap})
	if f, err = Render(context.Background(), source.Snapshot{Dir: repo}, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := f.Err(); !errors.Is(err, ErrEscapes) {
		t.Fatalf("offline render of ../c1: %v, want %v", err, ErrEscapes)
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
