package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"mcp.dev/mcp/internal/testenv"
)

// fleetYAML is a repo with clusters dev and prod and a placement web.
const fleetYAML = `apiVersion: mcp.dev/v1alpha1
kind: Cluster
metadata: {name: dev, labels: {env: dev}}
---
apiVersion: mcp.dev/v1alpha1
kind: Cluster
metadata: {name: prod, labels: {env: prod}}
---
apiVersion: mcp.dev/v1alpha1
kind: Placement
metadata: {name: web}
spec: {path: apps/web, clusterSelector: {}}
`

const webCM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\n"

// TestOfflineMessages runs the built binary on repos with the mistakes
// people make and checks the exit code and the lines on stderr: every
// problem named at its file and line, in mcp's own words.
func TestOfflineMessages(t *testing.T) {
	bin := testenv.BuildMCP(t)
	tests := map[string]struct {
		files map[string]string
		args  []string // after the command's --dir
		code  int
		want  []string // each in some line of stderr
		not   []string // in no line of stderr
	}{
		"apiVersion typo on a placement": {
			files: map[string]string{"fleet.yaml": fleetYAML + "---\napiVersion: mcp.dev/v1beta1\nkind: Placement\nmetadata: {name: db}\nspec: {path: apps/web, clusterSelector: {}}\n"},
			args:  []string{"validate"}, code: 1,
			want: []string{`error: fleet.yaml:14: invalid: apiVersion "mcp.dev/v1beta1" of a Placement`},
		},
		"apiVersion typo on a cluster": {
			files: map[string]string{"clusters/staging.yaml": "apiVersion: mcp.dev/v1alpah1\nkind: Cluster\nmetadata: {name: staging}\n"},
			args:  []string{"validate"}, code: 1,
			want: []string{"error: clusters/staging.yaml:1:", "want mcp.dev/v1alpha1"},
		},
		"Flux leftovers warn": {
			files: map[string]string{"apps/web/hr.yaml": "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: podinfo}\n"},
			args:  []string{"validate"}, code: 0,
			want: []string{"warning: apps/web/hr.yaml:1: HelmRelease podinfo is a Flux HelmRelease"},
		},
		"Flux leftovers fail under --strict": {
			files: map[string]string{"apps/web/hr.yaml": "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: podinfo}\n"},
			args:  []string{"validate", "--strict"}, code: 1,
			want: []string{"error: apps/web/hr.yaml:1: HelmRelease podinfo is a Flux HelmRelease"},
			not:  []string{"warning:"},
		},
		"sync-wave in diff --against": {
			files: map[string]string{"apps/web/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n  annotations: {argocd.argoproj.io/sync-wave: \"1\"}\n"},
			args:  []string{"diff", "--against", "HEAD"}, code: 0,
			want: []string{"warning: apps/web/cm.yaml:1: ConfigMap web: annotation argocd.argoproj.io/sync-wave: use mcp.dev/wave"},
		},
		"sync-wave in diff --against --strict": {
			files: map[string]string{"apps/web/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n  annotations: {argocd.argoproj.io/sync-wave: \"1\"}\n"},
			args:  []string{"diff", "--against", "HEAD", "--strict"}, code: 1,
			want: []string{"error: apps/web/cm.yaml:1: ConfigMap web: annotation argocd.argoproj.io/sync-wave"},
		},
		"Flux variable in render --strict": {
			files: map[string]string{"apps/web/svc.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  type: ExternalName\n  externalName: web.${cluster_name}.example.com\n"},
			args:  []string{"render", "--cluster", "dev", "--strict"}, code: 1,
			want: []string{"error: apps/web/svc.yaml:6: Service web: ${cluster_name} is left as it is written", "use ${cluster.name}"},
		},
		"no cluster selected fails under --strict": {
			files: map[string]string{"more.yaml": "apiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata: {name: db}\nspec: {path: apps/web, clusterSelector: {matchLabels: {env: prd}}}\n"},
			args:  []string{"validate", "--strict"}, code: 1,
			want: []string{"error: more.yaml:1: placement db selects no cluster"},
		},
		"one problem of every cluster is one line": {
			files: map[string]string{"apps/web/cm.yaml": webCM + "data:\n  x: ${var.missing}\n"},
			args:  []string{"validate"}, code: 1,
			want: []string{"error: apps/web/cm.yaml:5: in 2 clusters (dev, prod): placement web: unknown variable"},
			not:  []string{"cluster dev", "cluster prod"},
		},
		"misspelt field": {
			files: map[string]string{"fleet.yaml": strings.Replace(fleetYAML, "clusterSelector", "clusterSelectr", 1)},
			args:  []string{"validate"}, code: 1,
			want: []string{"error: fleet.yaml:12: placement web: invalid: unknown field spec.clusterSelectr (did you mean clusterSelector?)"},
		},
		"prune yes": {
			files: map[string]string{"fleet.yaml": strings.Replace(fleetYAML, "clusterSelector: {}", "clusterSelector: {}, prune: yes", 1)},
			args:  []string{"validate"}, code: 1,
			want: []string{`error: fleet.yaml:12: placement web: invalid: spec.prune: want true or false, got "yes"`},
		},
		"annotations not a map": {
			files: map[string]string{"apps/web/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n  annotations: [a]\n"},
			args:  []string{"validate"}, code: 1,
			want: []string{"metadata.annotations must be a map, got a list"},
		},
		"placement of a README": {
			files: map[string]string{"apps/web/cm.yaml": "", "apps/web/README.md": "# web\n", "apps/web/main.jsonnet": "{}\n"},
			args:  []string{"validate"}, code: 1,
			want: []string{"fleet.yaml:9: in 2 clusters (dev, prod): placement web: invalid: spec.path apps/web holds 2 files, none of them manifests (.yaml, .yml, .json) or a kustomization: README.md, main.jsonnet"},
		},
		"kustomize deprecations, attributed": {
			files: map[string]string{"apps/web/cm.yaml": "", "base/cm.yaml": webCM, "base/kustomization.yaml": "resources: [cm.yaml]\n", "apps/web/kustomization.yaml": "resources: [../../base]\ncommonLabels: {team: web}\n"},
			args:  []string{"diff", "--against", "HEAD"}, code: 0,
			want: []string{"warning: apps/web/kustomization.yaml:2: kustomize: 'commonLabels' is deprecated. Please use 'labels' instead."},
			not:  []string{"# Warning"},
		},
		"selects no cluster says why": {
			files: map[string]string{"more.yaml": "apiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata: {name: db}\nspec: {path: apps/web, clusterSelector: {matchLabels: {env: prd}}}\n"},
			args:  []string{"validate"}, code: 0,
			want: []string{"warning: more.yaml:1: placement db selects no cluster: selector env=prd; env has: dev, prod"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			repo := t.TempDir()
			files := map[string]string{"fleet.yaml": fleetYAML, "apps/web/cm.yaml": webCM}
			for k, v := range tc.files {
				files[k] = v
			}
			for p, content := range files {
				if content == "" {
					continue
				}
				full := filepath.Join(repo, filepath.FromSlash(p))
				if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			commitAll(t, repo)
			args := append([]string{tc.args[0], "--dir", repo}, tc.args[1:]...)
			code, stdout, stderr := runBin(t, bin, args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, stdout, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr has no %q:\n%s", w, stderr)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(stderr, n) {
					t.Errorf("stderr has %q:\n%s", n, stderr)
				}
			}
			for _, leak := range []string{"json:", "Go struct", "<nil>", "accessor"} {
				if strings.Contains(stderr, leak) {
					t.Errorf("stderr leaks %q:\n%s", leak, stderr)
				}
			}
		})
	}
}

// runBin runs the built mcp binary with an empty environment.
func runBin(t *testing.T, bin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"HOME=" + t.TempDir()}
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		code = exit.ExitCode()
	default:
		t.Fatal(err)
	}
	return code, out.String(), errOut.String()
}

// commitAll makes dir a git repo with one commit of everything in it.
func commitAll(t *testing.T, dir string) {
	t.Helper()
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	sig := &object.Signature{Name: "test", Email: "test@localhost", When: time.Now()}
	if _, err := wt.Commit("the fleet", &git.CommitOptions{Author: sig}); err != nil {
		t.Fatal(err)
	}
}

func TestByCluster(t *testing.T) {
	tests := map[string]struct {
		lines, want []string
	}{
		"one problem of many clusters": {
			lines: []string{
				"apps/a.yaml:5: cluster c1: placement p: unknown variable: ${var.x}",
				"apps/a.yaml:5: cluster c2: placement p: unknown variable: ${var.x}",
				"apps/a.yaml:5: cluster c3: placement p: unknown variable: ${var.x}",
				"apps/a.yaml:5: cluster c4: placement p: unknown variable: ${var.x}",
			},
			want: []string{"apps/a.yaml:5: in 4 clusters (c1, c2, c3, …): placement p: unknown variable: ${var.x}"},
		},
		"cluster named twice, as diff does": {
			lines: []string{
				"cluster eu: apps/a.yaml:5: cluster eu: placement p: boom",
				"cluster us: apps/a.yaml:5: cluster us: placement p: boom",
			},
			want: []string{"in 2 clusters (eu, us): apps/a.yaml:5: placement p: boom"},
		},
		"different problems stay apart, in order": {
			lines: []string{
				"a.yaml:1: cluster c1: x",
				"b.yaml:1: cluster c1: y",
				"a.yaml:1: cluster c2: x",
				"no cluster here",
			},
			want: []string{"a.yaml:1: in 2 clusters (c1, c2): x", "b.yaml:1: cluster c1: y", "no cluster here"},
		},
		"one cluster is named once": {
			lines: []string{"cluster eu: cluster eu: kubeconfig: no such file"},
			want:  []string{"cluster eu: kubeconfig: no such file"},
		},
		"one cluster is left as it is": {
			lines: []string{"cluster eu: unreachable"},
			want:  []string{"cluster eu: unreachable"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := byCluster(tc.lines)
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestCommandsListTheirFlags: each command lists only the flags that mean
// something to it; the offline ones still accept the connecting flags, so
// that scripts passing them keep working.
func TestCommandsListTheirFlags(t *testing.T) {
	connect := []string{"--credentials-dir", "--concurrency", "--allow-in-cluster"}
	for _, tc := range []struct {
		command string
		listed  bool
	}{{"validate", false}, {"render", false}, {"diff", true}, {"apply", true}, {"run", true}} {
		t.Run(tc.command, func(t *testing.T) {
			out, _, err := runCmd(t, tc.command, "--help")
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range connect {
				if strings.Contains(out, f) != tc.listed {
					t.Errorf("mcp %s --help lists %s: %v, want %v", tc.command, f, !tc.listed, tc.listed)
				}
			}
		})
	}
	if _, _, err := runCmd(t, "validate", "--dir", "../../testdata/fleet", "--credentials-dir", t.TempDir(), "--concurrency", "2"); err != nil {
		t.Errorf("validate with the connecting flags: %v", err)
	}
}

func TestRenderSeveralClusters(t *testing.T) {
	out, _, err := runCmd(t, "render", "--dir", "../../testdata/fleet", "--cluster", "gcp-us-prod", "--cluster", "aws-eu-prod", "--cluster", "gcp-us-prod")
	if err != nil {
		t.Fatal(err)
	}
	gcp, aws := strings.Index(out, "# Cluster: gcp-us-prod\n"), strings.Index(out, "---\n# Cluster: aws-eu-prod\n")
	if gcp != 0 || aws < 0 || strings.Count(out, "# Cluster: ") != 2 {
		t.Errorf("want gcp-us-prod first, then aws-eu-prod after a separator, each once:\n%s", out)
	}
	one, _, err := runCmd(t, "render", "--dir", "../../testdata/fleet", "--cluster", "gcp-us-prod")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(one, "# Cluster:") || !strings.Contains(out, one) {
		t.Errorf("one cluster's stream is not the same with several:\n%s", one)
	}
}

func TestDiffWithoutCredentialsSuggestsAgainst(t *testing.T) {
	_, _, err := runCmd(t, "diff", "--dir", "../../testdata/fleet", "--credentials-dir", filepath.Join(t.TempDir(), "nope"))
	if err == nil || !strings.Contains(err.Error(), "--against REF") {
		t.Errorf("error %v, want one suggesting --against REF", err)
	}
}

func TestVersionFlag(t *testing.T) {
	bin := testenv.BuildMCP(t)
	_, flag, _ := runBin(t, bin, "--version")
	_, command, _ := runBin(t, bin, "version")
	if flag != command || !strings.HasPrefix(flag, "mcp ") {
		t.Errorf("mcp --version printed %q, mcp version %q", flag, command)
	}
}

// TestApplyStrictAppliesNothing: under --strict a warning stops apply
// before it connects to any cluster.
func TestApplyStrictAppliesNothing(t *testing.T) {
	repo := t.TempDir()
	for p, content := range map[string]string{"fleet.yaml": fleetYAML, "apps/web/hr.yaml": "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: podinfo}\n"} {
		full := filepath.Join(repo, filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, _, errOut := mcp(t, "apply", "--dir", repo, "--credentials-dir", t.TempDir(), "--strict")
	if code != exitError || !strings.Contains(errOut, "apps/web/hr.yaml:1: HelmRelease podinfo") || strings.Contains(errOut, "kubeconfig") {
		t.Errorf("exit %d, want 1 and only the warning as an error:\n%s", code, errOut)
	}
}
