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

// baseConfig is a repo with one cluster c1 and a placement p of apps/.
const baseConfig = `apiVersion: mcp.dev/v1alpha1
kind: Cluster
metadata: {name: c1, labels: {env: prod}}
---
apiVersion: mcp.dev/v1alpha1
kind: Placement
metadata: {name: p}
spec: {path: apps, clusterSelector: {}}
`

const configMap = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n"

// writeRepo writes files (slash path → content) below a new directory.
func writeRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestValidationErrors(t *testing.T) {
	tests := map[string]struct {
		files map[string]string
		setup func(t *testing.T, repo string) Options
		fatal bool     // Render itself fails
		is    error    // the sentinel of the problem
		want  []string // all in one line of the error
	}{
		"malformed YAML": {
			files: map[string]string{"mcp.yaml": baseConfig, "apps/bad.yaml": configMap + "data:\n  a: [1,\n  b: 2\n"},
			is:    ErrSyntax, want: []string{"apps/bad.yaml:", "cluster c1", "placement p"},
		},
		"no kind": {
			files: map[string]string{"mcp.yaml": baseConfig, "apps/a.yaml": "apiVersion: v1\nmetadata: {name: x}\n"},
			is:    ErrInvalid, want: []string{"apps/a.yaml:1: cluster c1", "no kind"},
		},
		"no name": {
			files: map[string]string{"mcp.yaml": baseConfig, "apps/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n"},
			is:    ErrInvalid, want: []string{"apps/a.yaml:1: cluster c1", "metadata.name"},
		},
		"document not a mapping": {
			files: map[string]string{"mcp.yaml": baseConfig, "apps/a.yaml": "- a\n- b\n"},
			is:    ErrInvalid, want: []string{"apps/a.yaml:1: cluster c1", "not a mapping"},
		},
		"placement path does not exist": {
			files: map[string]string{"mcp.yaml": strings.Replace(baseConfig, "path: apps", "path: nowhere", 1)},
			is:    ErrNotFound, want: []string{"mcp.yaml:5: cluster c1: placement p", `"nowhere" does not exist`},
		},
		"placement path leaves the repo": {
			files: map[string]string{"mcp.yaml": strings.Replace(baseConfig, "path: apps", "path: ../../etc", 1)},
			fatal: true, is: ErrEscapes, want: []string{"mcp.yaml:5", "placement p", "leaves the repo"},
		},
		"placement path absolute": {
			files: map[string]string{"mcp.yaml": strings.Replace(baseConfig, "path: apps", "path: /etc", 1)},
			fatal: true, is: ErrEscapes, want: []string{"mcp.yaml:5", "placement p"},
		},
		"two clusters with one name": {
			files: map[string]string{"mcp.yaml": baseConfig, "more/c1.yaml": "apiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata: {name: c1}\n", "apps/a.yaml": configMap},
			fatal: true, is: ErrDuplicate, want: []string{"cluster c1", "mcp.yaml:1", "more/c1.yaml:1"},
		},
		"two placements with one name": {
			files: map[string]string{"mcp.yaml": baseConfig, "p2.yaml": "apiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata: {name: p}\nspec: {path: apps}\n", "apps/a.yaml": configMap},
			fatal: true, is: ErrDuplicate, want: []string{"placement p", "mcp.yaml:5", "p2.yaml:1"},
		},
		"cluster name not DNS-1123": {
			files: map[string]string{"mcp.yaml": strings.Replace(baseConfig, "name: c1", "name: Prod_EU", 1), "apps/a.yaml": configMap},
			fatal: true, is: ErrInvalid, want: []string{"mcp.yaml:1: cluster Prod_EU", "DNS-1123"},
		},
		"unknown field in a placement": {
			files: map[string]string{"mcp.yaml": strings.Replace(baseConfig, "clusterSelector", "clusterSelectr", 1), "apps/a.yaml": configMap},
			fatal: true, is: ErrInvalid, want: []string{"mcp.yaml:8", "unknown field spec.clusterSelectr (did you mean clusterSelector?)"},
		},
		"invalid selector": {
			files: map[string]string{"mcp.yaml": strings.Replace(baseConfig, "clusterSelector: {}", "clusterSelector: {matchExpressions: [{key: env, operator: Near}]}", 1), "apps/a.yaml": configMap},
			fatal: true, is: ErrInvalid, want: []string{"mcp.yaml:5", "placement p", "clusterSelector"},
		},
		"placement names an unknown cluster": {
			files: map[string]string{"mcp.yaml": strings.Replace(baseConfig, "clusterSelector: {}", "clusters: [c9]", 1), "apps/a.yaml": configMap},
			fatal: true, is: ErrNotFound, want: []string{"mcp.yaml:5", "placement p", `"c9"`},
		},
		"unknown --cluster": {
			files: map[string]string{"mcp.yaml": baseConfig, "apps/a.yaml": configMap},
			setup: func(*testing.T, string) Options { return Options{Clusters: []string{"c9"}} },
			fatal: true, is: ErrNotFound, want: []string{"cluster c9"},
		},
		"broken mcp document outside placements": {
			files: map[string]string{"mcp.yaml": baseConfig, "apps/a.yaml": configMap, "clusters/x.yaml": "apiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata: {name: [\n"},
			fatal: true, is: ErrSyntax, want: []string{"clusters/x.yaml:"},
		},
		"unknown mcp kind": {
			files: map[string]string{"mcp.yaml": baseConfig + "---\napiVersion: mcp.dev/v1alpha1\nkind: Clustr\nmetadata: {name: x}\n", "apps/a.yaml": configMap},
			fatal: true, is: ErrInvalid, want: []string{"mcp.yaml:11", "Clustr"},
		},
		"same object twice": {
			files: map[string]string{"mcp.yaml": baseConfig, "apps/a.yaml": configMap, "apps/b/b.yaml": "# again\n" + configMap},
			is:    ErrDuplicate, want: []string{"apps/b/b.yaml:2: cluster c1", "ConfigMap default/cm", "apps/a.yaml:1"},
		},
		"same object from two placements": {
			files: map[string]string{
				"mcp.yaml":    baseConfig + "---\napiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata: {name: q}\nspec: {path: other, clusters: [c1]}\n",
				"apps/a.yaml": configMap, "other/a.yaml": configMap,
			},
			is: ErrDuplicate, want: []string{"cluster c1", "apps/a.yaml:1 (placement p)", "other/a.yaml:1 (placement q)"},
		},
		"unknown variable": {
			files: map[string]string{"mcp.yaml": baseConfig, "apps/a.yaml": configMap + "data:\n  x: ${var.missing}\n"},
			is:    ErrUnknownVariable, want: []string{"apps/a.yaml:5: cluster c1: placement p", "${var.missing}"},
		},
		"unknown label": {
			files: map[string]string{"mcp.yaml": baseConfig, "apps/a.yaml": configMap + "data:\n  x: a-${cluster.labels.region}\n"},
			is:    ErrUnknownVariable, want: []string{"apps/a.yaml:5: cluster c1", `no label "region"`},
		},
		"unknown cluster field": {
			files: map[string]string{"mcp.yaml": baseConfig, "apps/a.yaml": configMap + "data:\n  x: ${cluster.region}\n"},
			is:    ErrUnknownVariable, want: []string{"apps/a.yaml:5: cluster c1", "${cluster.region}"},
		},
		"unterminated reference": {
			files: map[string]string{"mcp.yaml": baseConfig, "apps/a.yaml": configMap + "data:\n  x: ${var.open\n"},
			is:    ErrInvalid, want: []string{"apps/a.yaml:5: cluster c1", "unterminated"},
		},
		"unknown variable in kustomize output": {
			files: map[string]string{"mcp.yaml": baseConfig, "apps/kustomization.yaml": "resources: [a.yaml]\n", "apps/a.yaml": configMap + "data:\n  x: ${var.missing}\n"},
			is:    ErrUnknownVariable, want: []string{"apps/kustomization.yaml: cluster c1", "ConfigMap cm", "${var.missing}"},
		},
		"bad substitute annotation": {
			files: map[string]string{"mcp.yaml": baseConfig, "apps/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  annotations: {mcp.dev/substitute: \"off\"}\n"},
			is:    ErrInvalid, want: []string{"apps/a.yaml:1: cluster c1", "mcp.dev/substitute"},
		},
		"wave not an integer": {
			files: map[string]string{"mcp.yaml": baseConfig, "apps/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  annotations: {mcp.dev/wave: first}\n"},
			is:    ErrInvalid, want: []string{"apps/a.yaml:1: cluster c1", "mcp.dev/wave", `"first"`},
		},
		"bad replace annotation": {
			files: map[string]string{"mcp.yaml": baseConfig, "apps/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  annotations: {mcp.dev/replace: always}\n"},
			is:    ErrInvalid, want: []string{"apps/a.yaml:1: cluster c1", "mcp.dev/replace", `"always"`, `"on-immutable"`},
		},
		"duplicate key": {
			files: map[string]string{"mcp.yaml": baseConfig, "apps/a.yaml": configMap + "data:\n  a: x\n  a: y\n"},
			is:    ErrDuplicateKey, want: []string{"apps/a.yaml:6: cluster c1", `"a"`},
		},
		"duplicate key in JSON": {
			files: map[string]string{"mcp.yaml": baseConfig, "apps/a.json": `{"apiVersion": "v1", "kind": "ConfigMap",` + "\n" + `"metadata": {"name": "x", "name": "y"}}`},
			is:    ErrDuplicateKey, want: []string{"apps/a.json:2: cluster c1", `"name"`},
		},
		"invalid UTF-8": {
			files: map[string]string{"mcp.yaml": baseConfig, "apps/a.yaml": configMap + "data:\n  a: \xff\xfe\n"},
			is:    ErrBinary, want: []string{"apps/a.yaml:5: cluster c1", "UTF-8"},
		},
		"binary file": {
			files: map[string]string{"mcp.yaml": baseConfig, "apps/a.yaml": "\x00\x01\x02"},
			is:    ErrBinary, want: []string{"apps/a.yaml:1: cluster c1", "binary"},
		},
		"file over the size limit": {
			files: map[string]string{"mcp.yaml": baseConfig, "apps/a.yaml": configMap + "data:\n  a: " + strings.Repeat("x", MaxFileSize) + "\n"},
			is:    ErrTooLarge, want: []string{"apps/a.yaml: cluster c1", "limit"},
		},
		"alias bomb": {
			files: map[string]string{"mcp.yaml": baseConfig, "apps/a.yaml": configMap + billionLaughs},
			is:    ErrTooLarge, want: []string{"apps/a.yaml:", "cluster c1", "alias"},
		},
		"alias bomb in a kustomization": {
			files: map[string]string{"mcp.yaml": baseConfig, "apps/kustomization.yaml": "resources: [a.yaml]\n", "apps/a.yaml": configMap + billionLaughs},
			is:    ErrTooLarge, want: []string{"apps/a.yaml: cluster c1", "alias bomb"},
		},
		"remote kustomize base": {
			files: map[string]string{"mcp.yaml": baseConfig, "apps/kustomization.yaml": "resources:\n- github.com/example/repo//deploy?ref=v1\n"},
			is:    ErrEscapes, want: []string{"apps/kustomization.yaml: cluster c1", "remote reference"},
		},
		"remote resource URL in a base": {
			files: map[string]string{
				"mcp.yaml": baseConfig, "apps/kustomization.yaml": "resources: [../base]\n",
				"base/kustomization.yaml": "resources: [https://example.com/deploy.yaml]\n",
			},
			is: ErrEscapes, want: []string{"base/kustomization.yaml: cluster c1", "https://example.com/deploy.yaml"},
		},
		"kustomize base outside the repo": {
			files: map[string]string{"mcp.yaml": baseConfig, "apps/kustomization.yaml": "resources: [../../../../../../../etc]\n"},
			is:    ErrEscapes, want: []string{"apps/kustomization.yaml: cluster c1", "leaves the repo"},
		},
		"manifest symlink out of the repo": {
			files: map[string]string{"mcp.yaml": baseConfig, "apps/a.yaml": configMap},
			setup: func(t *testing.T, repo string) Options {
				outside := writeRepo(t, map[string]string{"secret.yaml": configMap})
				symlink(t, filepath.Join(outside, "secret.yaml"), filepath.Join(repo, "apps", "link.yaml"))
				return Options{}
			},
			is: ErrEscapes, want: []string{"apps/link.yaml: cluster c1", "outside the repo"},
		},
		"kubeconfig with ..": {
			files: map[string]string{"mcp.yaml": strings.Replace(baseConfig, "labels: {env: prod}}", "labels: {env: prod}}\nspec: {kubeconfig: {path: ../../root/.kube/config}}", 1), "apps/a.yaml": configMap},
			is:    ErrEscapes, want: []string{"mcp.yaml:1: cluster c1", "../../root/.kube/config"},
		},
		"kubeconfig absolute": {
			files: map[string]string{"mcp.yaml": strings.Replace(baseConfig, "labels: {env: prod}}", "labels: {env: prod}}\nspec: {kubeconfig: {path: /etc/kubernetes/admin.conf}}", 1), "apps/a.yaml": configMap},
			is:    ErrEscapes, want: []string{"mcp.yaml:1: cluster c1", "/etc/kubernetes/admin.conf"},
		},
		"kubeconfig symlink out": {
			files: map[string]string{"mcp.yaml": baseConfig, "apps/a.yaml": configMap},
			setup: func(t *testing.T, _ string) Options {
				creds := t.TempDir()
				outside := writeRepo(t, map[string]string{"admin.conf": "x"})
				symlink(t, filepath.Join(outside, "admin.conf"), filepath.Join(creds, "c1"))
				return Options{CredentialsDir: creds}
			},
			is: ErrEscapes, want: []string{"mcp.yaml:1: cluster c1", "symlink"},
		},
		"inCluster and kubeconfig": {
			files: map[string]string{"mcp.yaml": strings.Replace(baseConfig, "labels: {env: prod}}", "labels: {env: prod}}\nspec: {inCluster: true, kubeconfig: {path: c1}}", 1), "apps/a.yaml": configMap},
			fatal: true, is: ErrInvalid, want: []string{"mcp.yaml:1: cluster c1", "inCluster"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			repo := writeRepo(t, tc.files)
			var opts Options
			if tc.setup != nil {
				opts = tc.setup(t, repo)
			}
			f, err := Render(context.Background(), source.Snapshot{Dir: repo}, opts)
			if tc.fatal {
				if err == nil {
					t.Fatal("Render succeeded, want an error")
				}
			} else {
				if err != nil {
					t.Fatalf("Render: %v", err)
				}
				err = f.Err()
				for _, c := range f.Clusters {
					if c.Err != nil && len(c.Objects) > 0 {
						t.Errorf("cluster %s failed but has %d objects", c.Cluster.Name, len(c.Objects))
					}
				}
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("error is not %v:\n%v", tc.is, err)
			}
			assertLine(t, err, tc.want...)
		})
	}
}

// billionLaughs is the alias bomb: a few hundred bytes naming 10^9 values.
const billionLaughs = `data:
  a: &a ["x","x","x","x","x","x","x","x","x","x"]
  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]
  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]
  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]
  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]
  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]
  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]
  h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]
  i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h,*h]
`

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// assertLine checks that one line of err holds every string of want.
func assertLine(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one with %q", want)
	}
	for _, e := range flatten(err) {
		line := e.Error()
		ok := !strings.Contains(line, "\n")
		for _, w := range want {
			ok = ok && strings.Contains(line, w)
		}
		if ok {
			return
		}
	}
	t.Errorf("no error line holds all of %q:\n%s", want, errorLines(err))
}
