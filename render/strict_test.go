package render

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"mcp.dev/mcp/source"
)

// TestMisspelledMCPDocuments: a document meant to be a Cluster or a
// Placement whose apiVersion or kind is a near miss is an error at the
// line of the misspelled field, saying what it should be; before, it was
// dropped (or read as a manifest) and its cluster or objects were gone.
func TestMisspelledMCPDocuments(t *testing.T) {
	const placement = "apiVersion: %s\nkind: Placement\nmetadata: {name: web}\nspec: {path: apps, clusterSelector: {}}\n"
	tests := map[string]struct {
		file string
		want []string
	}{
		"version v1beta1": {
			file: strings.Replace(placement, "%s", "mcp.dev/v1beta1", 1),
			want: []string{"extra.yaml:1:", `"mcp.dev/v1beta1"`, "want mcp.dev/v1alpha1"},
		},
		"version v1": {
			file: strings.Replace(placement, "%s", "mcp.dev/v1", 1),
			want: []string{"extra.yaml:1:", "want mcp.dev/v1alpha1"},
		},
		"version typo": {
			file: strings.Replace(placement, "%s", "mcp.dev/v1alpah1", 1),
			want: []string{"extra.yaml:1:", `"mcp.dev/v1alpah1"`, "want mcp.dev/v1alpha1"},
		},
		"group mcp.io": {
			file: strings.Replace(placement, "%s", "mcp.io/v1alpha1", 1),
			want: []string{"extra.yaml:1:", "a Placement", "want mcp.dev/v1alpha1"},
		},
		"group typo": {
			file: strings.Replace(placement, "%s", "mpc.dev/v1alpha1", 1),
			want: []string{"extra.yaml:1:", "want mcp.dev/v1alpha1"},
		},
		"no group": {
			file: "# a cluster\napiVersion: v1alpha1\nkind: Cluster\nmetadata: {name: c2}\n",
			want: []string{"extra.yaml:2:", "a Cluster", "want mcp.dev/v1alpha1"},
		},
		"group without version": {
			file: "kind: Cluster\napiVersion: mcp.dev\nmetadata: {name: c2}\n",
			want: []string{"extra.yaml:2:", "want mcp.dev/v1alpha1"},
		},
		"flow style, quoted": {
			file: `{"apiVersion": "mcp.dev/v1beta1", "kind": "Cluster", "metadata": {"name": "c2"}}` + "\n",
			want: []string{"extra.yaml:1:", "want mcp.dev/v1alpha1"},
		},
		"among manifests of a placement": {
			file: configMap + "---\n" + strings.Replace(placement, "%s", "mcp.dev/v1beta1", 1),
			want: []string{"extra.yaml:5:", "want mcp.dev/v1alpha1"},
		},
		"kind typo": {
			file: "apiVersion: mcp.dev/v1alpha1\nkind: Placment\nmetadata: {name: x}\n",
			want: []string{"extra.yaml:2:", `"Placment"`, "did you mean Placement?"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := "extra.yaml"
			if strings.HasPrefix(name, "among") {
				dir = "apps/extra.yaml"
				tc.want[0] = "apps/" + tc.want[0]
			}
			repo := writeRepo(t, map[string]string{"mcp.yaml": baseConfig, "apps/a.yaml": configMap, dir: tc.file})
			_, err := Render(context.Background(), source.Snapshot{Dir: repo}, Options{})
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error is not ErrInvalid: %v", err)
			}
			assertLine(t, err, tc.want...)
		})
	}
}

// TestNotMCPDocuments: documents of other groups and kinds, also a
// Cluster of Cluster API or CloudNativePG, are manifests like any other.
func TestNotMCPDocuments(t *testing.T) {
	for _, doc := range []string{
		"apiVersion: cluster.x-k8s.io/v1beta1\nkind: Cluster\nmetadata: {name: capi}\n",
		"apiVersion: postgresql.cnpg.io/v1\nkind: Cluster\nmetadata: {name: pg}\n",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n",
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm2}\n",
		"apiVersion: mcp.example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
	} {
		repo := writeRepo(t, map[string]string{"mcp.yaml": baseConfig, "apps/a.yaml": doc})
		f, err := Render(context.Background(), source.Snapshot{Dir: repo}, Options{})
		if err != nil {
			t.Fatalf("%s: %v", doc, err)
		}
		if err := f.Err(); err != nil {
			t.Errorf("%s: %v", doc, err)
		}
	}
}

// TestForeignGitOpsWarnings: objects, annotations and variables of Flux,
// Argo CD and Fleet render, with a warning naming the file and line and
// what mcp has instead.
func TestForeignGitOpsWarnings(t *testing.T) {
	tests := map[string]struct {
		manifest string
		want     []string // all in one warning
	}{
		"HelmRelease": {
			manifest: "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: podinfo}\n",
			want:     []string{"apps/a.yaml:1", "HelmRelease podinfo", "a Placement with spec.chart"},
		},
		"HelmRepository": {
			manifest: "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmRepository\nmetadata: {name: bitnami}\n",
			want:     []string{"apps/a.yaml:1", "Flux source", "vendor"},
		},
		"OCIRepository": {
			manifest: "apiVersion: source.toolkit.fluxcd.io/v1beta2\nkind: OCIRepository\nmetadata: {name: x}\n",
			want:     []string{"apps/a.yaml:1", "Flux source"},
		},
		"Flux Kustomization": {
			manifest: "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata: {name: apps}\n",
			want:     []string{"apps/a.yaml:1", "Flux Kustomization", "Placement"},
		},
		"ImagePolicy": {
			manifest: "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImagePolicy\nmetadata: {name: x}\n",
			want:     []string{"apps/a.yaml:1", "image automation"},
		},
		"Argo CD Application": {
			manifest: "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: guestbook}\n",
			want:     []string{"apps/a.yaml:1", "Application guestbook", "Placement"},
		},
		"ApplicationSet": {
			manifest: "apiVersion: argoproj.io/v1alpha1\nkind: ApplicationSet\nmetadata: {name: x}\n",
			want:     []string{"apps/a.yaml:1", "clusterSelector"},
		},
		"AppProject": {
			manifest: "apiVersion: argoproj.io/v1alpha1\nkind: AppProject\nmetadata: {name: x}\n",
			want:     []string{"apps/a.yaml:1", "AppProject"},
		},
		"Fleet GitRepo": {
			manifest: "apiVersion: fleet.cattle.io/v1alpha1\nkind: GitRepo\nmetadata: {name: x}\n",
			want:     []string{"apps/a.yaml:1", "Fleet"},
		},
		"Argo CD finalizer": {
			manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  finalizers: [resources-finalizer.argocd.argoproj.io]\n",
			want:     []string{"apps/a.yaml:1", "finalizer resources-finalizer.argocd.argoproj.io", "cannot be deleted"},
		},
		"sync-wave": {
			manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  annotations: {argocd.argoproj.io/sync-wave: \"2\"}\n",
			want:     []string{"apps/a.yaml:1", "argocd.argoproj.io/sync-wave", "mcp.dev/wave"},
		},
		"hook": {
			manifest: "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations: {argocd.argoproj.io/hook: PreSync}\n",
			want:     []string{"apps/a.yaml:1", "argocd.argoproj.io/hook", "no hooks"},
		},
		"sync-options": {
			manifest: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  annotations: {argocd.argoproj.io/sync-options: Prune=false}\n",
			want:     []string{"apps/a.yaml:1", "spec.prune: false"},
		},
		"helm hook": {
			manifest: "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: t\n  annotations: {helm.sh/hook: test}\n",
			want:     []string{"apps/a.yaml:1", "helm.sh/hook", "no hooks"},
		},
		"Flux variable cluster_name": {
			manifest: "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  externalName: web.${cluster_name}.example.com\n",
			want:     []string{"apps/a.yaml:5", "${cluster_name}", "${cluster.name}"},
		},
		"Flux variable with a default": {
			manifest: "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: web:${tag:=1.25}\n",
			want:     []string{"apps/a.yaml:9", "${tag:=1.25}", "${var.tag}", "spec.vars"},
		},
		"in kustomize output": {
			manifest: "apiVersion: argoproj.io/v1alpha1\nkind: Application\nmetadata: {name: guestbook}\n",
			want:     []string{"apps/kustomization.yaml (document 1)", "Application guestbook"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			files := map[string]string{"mcp.yaml": baseConfig, "apps/a.yaml": tc.manifest}
			if strings.HasPrefix(name, "in kustomize") {
				files["apps/kustomization.yaml"] = "resources: [a.yaml]\n"
			}
			f, err := Render(context.Background(), source.Snapshot{Dir: writeRepo(t, files)}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Err(); err != nil {
				t.Fatal(err)
			}
			for _, w := range f.Warnings {
				ok := true
				for _, s := range tc.want {
					ok = ok && strings.Contains(w, s)
				}
				if ok {
					return
				}
			}
			t.Errorf("no warning holds all of %q:\n%s", tc.want, strings.Join(f.Warnings, "\n"))
		})
	}
}

const rolloutCRD = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: rollouts.argoproj.io}\nspec: {group: argoproj.io, names: {kind: Rollout, plural: rollouts}, scope: Namespaced}\n"

// TestNoForeignWarnings: text that only looks like another tool's is left
// alone.
func TestNoForeignWarnings(t *testing.T) {
	for name, manifest := range map[string]string{
		"shell script in a ConfigMap": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata:\n  run.sh: echo ${home_dir}\n",
		"escaped":                     "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {externalName: \"$${name}\"}\n",
		"upper case environment":      "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {externalName: \"${HOME}\"}\n",
		"substitution disabled":       "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  annotations: {mcp.dev/substitute: disabled}\nspec: {externalName: \"${name}\"}\n",
		"Argo Rollouts":               rolloutCRD + "---\napiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: r}\n",
		"mcp variables":               "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {externalName: \"${cluster.name}.${var.domain}\"}\n",
	} {
		t.Run(name, func(t *testing.T) {
			config := strings.Replace(baseConfig, "labels: {env: prod}}", "labels: {env: prod}}\nspec: {vars: {domain: example.com}}", 1)
			f, err := Render(context.Background(), source.Snapshot{Dir: writeRepo(t, map[string]string{"mcp.yaml": config, "apps/a.yaml": manifest})}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Err(); err != nil {
				t.Fatal(err)
			}
			if len(f.Warnings) > 0 {
				t.Errorf("warnings:\n%s", strings.Join(f.Warnings, "\n"))
			}
		})
	}
}

// TestNothingToPlace: a placement directory that holds no manifest is an
// error naming what it holds, not a render of nothing that prunes.
func TestNothingToPlace(t *testing.T) {
	tests := map[string]struct {
		files map[string]string
		empty bool // apps is an empty directory
		want  []string
	}{
		"README and jsonnet": {
			files: map[string]string{"apps/README.md": "# apps\n", "apps/main.jsonnet": "{}\n"},
			want:  []string{"mcp.yaml:5: cluster c1: placement p", "spec.path apps holds 2 files, none of them manifests", "README.md, main.jsonnet"},
		},
		"one text file below": {
			files: map[string]string{"apps/sub/notes.txt": "x\n"},
			want:  []string{"mcp.yaml:5", "holds 1 file, not a manifest", "sub/notes.txt"},
		},
		"empty directory": {
			files: map[string]string{},
			empty: true,
			want:  []string{"mcp.yaml:5", "spec.path apps is an empty directory"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			tc.files["mcp.yaml"] = baseConfig
			repo := writeRepo(t, tc.files)
			if tc.empty {
				if err := os.Mkdir(filepath.Join(repo, "apps"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			f, err := Render(context.Background(), source.Snapshot{Dir: repo}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !errors.Is(f.Err(), ErrInvalid) {
				t.Errorf("error is not ErrInvalid: %v", f.Err())
			}
			assertLine(t, f.Err(), tc.want...)
		})
	}
	// Manifests without documents are an empty placement on purpose.
	repo := writeRepo(t, map[string]string{"mcp.yaml": baseConfig, "apps/a.yaml": "# nothing yet\n"})
	f, err := Render(context.Background(), source.Snapshot{Dir: repo}, Options{})
	if err != nil || f.Err() != nil {
		t.Errorf("a placement of empty manifests: %v, %v", err, f.Err())
	}
}

// TestSelectsNoClusterSaysWhy: the warning shows the selector and the
// values the clusters have for its keys.
func TestSelectsNoClusterSaysWhy(t *testing.T) {
	const clusters = "apiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata: {name: a, labels: {env: prod}}\n---\napiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata: {name: b, labels: {env: dev, tier: web}}\n---\n"
	tests := map[string]struct {
		spec string
		want string
	}{
		"typo in a value":   {"clusterSelector: {matchLabels: {env: prd}}", "placement p selects no cluster: selector env=prd; env has: dev, prod"},
		"typo in a key":     {"clusterSelector: {matchLabels: {enviroment: prod}}", "selector enviroment=prod; no cluster has label enviroment"},
		"expression":        {"clusterSelector: {matchExpressions: [{key: tier, operator: In, values: [db]}]}", "selector tier in (db); tier has: web"},
		"no selector":       {"clusters: []", "it has no spec.clusterSelector and no spec.clusters"},
		"two keys, one bad": {"clusterSelector: {matchLabels: {env: prod, tier: web}}", "env has: dev, prod; tier has: web"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			repo := writeRepo(t, map[string]string{
				"mcp.yaml":    clusters + "apiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata: {name: p}\nspec: {path: apps, " + tc.spec + "}\n",
				"apps/a.yaml": configMap,
			})
			f, err := Render(context.Background(), source.Snapshot{Dir: repo}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(f.Warnings) != 1 || !strings.Contains(f.Warnings[0], tc.want) {
				t.Errorf("warnings %q, want one holding %q", f.Warnings, tc.want)
			}
		})
	}
}

// TestFieldMessages: a mistake in a Cluster or Placement is reported at
// the line of its field, in the words of the repo format.
func TestFieldMessages(t *testing.T) {
	const placement = "apiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata:\n  name: web\nspec:\n  path: apps\n"
	const cluster = "apiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata:\n  name: c2\n"
	tests := map[string]struct {
		doc  string
		want []string
	}{
		"unknown placement field": {
			doc:  placement + "  clusterSelectr: {}\n",
			want: []string{"extra.yaml:7:", "unknown field spec.clusterSelectr (did you mean clusterSelector?)"},
		},
		"unknown selector field": {
			doc:  placement + "  clusterSelector:\n    matchLabel: {env: prod}\n",
			want: []string{"extra.yaml:8:", "unknown field spec.clusterSelector.matchLabel (did you mean matchLabels?)"},
		},
		"unknown metadata field": {
			doc:  cluster + "  lables: {env: prod}\n",
			want: []string{"extra.yaml:5:", "unknown field metadata.lables (did you mean labels?)"},
		},
		"unknown field, nothing close": {
			doc:  cluster + "spec:\n  region: eu\n",
			want: []string{"extra.yaml:6:", "unknown field spec.region"},
		},
		"prune not a boolean": {
			doc:  placement + "  prune: yes\n",
			want: []string{"extra.yaml:7:", `spec.prune: want true or false, got "yes"`},
		},
		"paused a number": {
			doc:  cluster + "spec:\n  paused: 1\n",
			want: []string{"extra.yaml:6:", "spec.paused: want true or false, got 1"},
		},
		"label value a number": {
			doc:  cluster + "  labels:\n    zone: 3\n",
			want: []string{"extra.yaml:6:", "metadata.labels.zone: want a string, got 3 (quote it)"},
		},
		"path a list": {
			doc:  strings.Replace(placement, "path: apps", "path: [apps]", 1),
			want: []string{"extra.yaml:6:", "spec.path: want a string, got a list"},
		},
		"clusters not a list": {
			doc:  placement + "  clusters: c1\n",
			want: []string{"extra.yaml:7:", `spec.clusters must be a list, got "c1"`},
		},
		"spec not a mapping": {
			doc:  cluster + "spec: none\n",
			want: []string{"extra.yaml:5:", `spec must be a mapping, got "none"`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			repo := writeRepo(t, map[string]string{"mcp.yaml": baseConfig, "apps/a.yaml": configMap, "extra.yaml": tc.doc})
			_, err := Render(context.Background(), source.Snapshot{Dir: repo}, Options{})
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error is not ErrInvalid: %v", err)
			}
			assertLine(t, err, tc.want...)
			assertOwnWords(t, err)
		})
	}
}

// assertOwnWords fails when a message shows Go internals.
func assertOwnWords(t *testing.T, err error) {
	t.Helper()
	for _, leak := range []string{"json:", "Go struct", "Go value", "<nil>", "accessor"} {
		if err != nil && strings.Contains(err.Error(), leak) {
			t.Errorf("message shows %q:\n%v", leak, err)
		}
	}
}

// TestMetadataMessages: labels and annotations of a manifest that are not
// a mapping of strings are named in mcp's words; an empty one is none.
func TestMetadataMessages(t *testing.T) {
	tests := map[string]struct {
		meta string
		want []string // empty: renders
	}{
		"annotations a string": {"  annotations: team-a\n", []string{"apps/a.yaml:1: cluster c1", "ConfigMap x", `metadata.annotations must be a map, got the string "team-a"`}},
		"labels a list":        {"  labels: [a, b]\n", []string{"apps/a.yaml:1", "metadata.labels must be a map, got a list"}},
		"annotation a number":  {"  annotations: {replicas: 3}\n", []string{"apps/a.yaml:1", "metadata.annotations.replicas: want a string, got 3 (quote it)"}},
		"label a boolean":      {"  labels: {canary: true}\n", []string{"metadata.labels.canary: want a string, got true"}},
		"empty annotations":    {"  annotations:\n  #  a: b\n", nil},
		"empty labels, flow":   {"  labels: {}\n", nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			repo := writeRepo(t, map[string]string{"mcp.yaml": baseConfig, "apps/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n" + tc.meta})
			f, err := Render(context.Background(), source.Snapshot{Dir: repo}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == nil {
				if err := f.Err(); err != nil {
					t.Fatal(err)
				}
				return
			}
			assertLine(t, f.Err(), tc.want...)
			assertOwnWords(t, f.Err())
		})
	}
}

// TestKustomizeDeprecations: kustomize's warnings about deprecated fields
// are warnings of the render naming the kustomization and the field's line.
func TestKustomizeDeprecations(t *testing.T) {
	repo := writeRepo(t, map[string]string{
		"mcp.yaml":                baseConfig,
		"apps/kustomization.yaml": "resources: [../base]\ncommonLabels: {team: a}\n",
		"base/kustomization.yaml": "# the base\nbases: []\nresources: [cm.yaml]\n",
		"base/cm.yaml":            configMap,
	})
	f, err := Render(context.Background(), source.Snapshot{Dir: repo}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Err(); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"apps/kustomization.yaml:2: kustomize: 'commonLabels' is deprecated. Please use 'labels' instead.",
		"base/kustomization.yaml:2: kustomize: 'bases' is deprecated. Please use 'resources' instead.",
	}
	for _, w := range want {
		if !slices.ContainsFunc(f.Warnings, func(s string) bool { return strings.HasPrefix(s, w) }) {
			t.Errorf("no warning %q in:\n%s", w, strings.Join(f.Warnings, "\n"))
		}
	}
}

// TestKustomizationTypeMessages: a kustomization field of the wrong type
// is named in mcp's words, not encoding/json's.
func TestKustomizationTypeMessages(t *testing.T) {
	tests := map[string]struct {
		kustomization string
		want          string
	}{
		"labels a list":       {"resources: [a.yaml]\ncommonLabels: [a]\n", "commonLabels: want a mapping, got a list"},
		"resources a string":  {"resources: a.yaml\n", "resources: want a list, got a string"},
		"namespace a mapping": {"resources: [a.yaml]\nnamespace: {a: b}\n", "namespace: want a string, got a mapping"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			repo := writeRepo(t, map[string]string{"mcp.yaml": baseConfig, "apps/a.yaml": configMap, "apps/kustomization.yaml": tc.kustomization})
			f, err := Render(context.Background(), source.Snapshot{Dir: repo}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			assertLine(t, f.Err(), "apps/kustomization.yaml: cluster c1", tc.want)
			assertOwnWords(t, f.Err())
		})
	}
}
