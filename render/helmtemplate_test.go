package render

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"helm.sh/helm/v4/pkg/action"
	ci "helm.sh/helm/v4/pkg/chart"
	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chartloader "helm.sh/helm/v4/pkg/chart/v2/loader"
	release "helm.sh/helm/v4/pkg/release/v1"
	"sigs.k8s.io/yaml"
)

// The oracle of helmInstall is Helm's own client dry-run install, which
// render used before and mcp no longer links: the same chart, values,
// release and capabilities must give the same manifest, the same hooks
// and the same errors.

// helmActionInstall renders as render did with Helm's action package.
func helmActionInstall(files []*archive.BufferedFile, in helmInstall, vals map[string]any) (string, []*release.Hook, error) {
	ch, err := chartloader.LoadFiles(files)
	if err != nil {
		return "", nil, err
	}
	cfg := action.NewConfiguration(action.ConfigurationSetLogger(slog.DiscardHandler))
	cfg.CustomTemplateFuncs = in.funcs
	inst := action.NewInstall(cfg)
	inst.DryRunStrategy = action.DryRunClient
	inst.Replace = true
	inst.ReleaseName = in.name
	inst.Namespace = in.namespace
	inst.IncludeCRDs = true
	inst.KubeVersion = in.kubeVersion
	inst.APIVersions = common.VersionSet(in.apiVersions)
	inst.SkipSchemaValidation = true
	rel, err := inst.RunWithContext(context.Background(), ch, vals)
	if err != nil {
		return "", nil, err
	}
	r := rel.(*release.Release)
	return r.Manifest, r.Hooks, nil
}

func helmInstallRun(files []*archive.BufferedFile, in helmInstall, vals map[string]any) (string, []*release.Hook, error) {
	ch, err := chartloader.LoadFiles(files)
	if err != nil {
		return "", nil, err
	}
	r, err := in.run(ch, vals)
	if err != nil {
		return "", nil, err
	}
	return r.manifest, r.hooks, nil
}

// oracleCharts are the charts of testdata/charts with each of their
// values files, and charts made for the steps of an install: tags,
// conditions and import-values, NOTES.txt of the chart and a subchart,
// CRDs of a subchart, hooks of every kind, lookup and capabilities, a
// library chart, documents without a kind, values against the schema,
// errors of each step.
func oracleCharts(t *testing.T) map[string]struct {
	files  []*archive.BufferedFile
	values []map[string]any
} {
	out := map[string]struct {
		files  []*archive.BufferedFile
		values []map[string]any
	}{}
	for _, c := range []string{"podinfo", "ingress-nginx", "webstack"} {
		dir := filepath.Join("..", "testdata", "charts", c)
		files := map[string]string{}
		err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(p)
			rel, _ := filepath.Rel(dir, p)
			files[filepath.ToSlash(rel)] = string(data)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		values := []map[string]any{{}}
		prod, _ := filepath.Glob(filepath.Join(dir, "values-*.yaml"))
		ciValues, _ := filepath.Glob(filepath.Join(dir, "ci", "*.yaml"))
		for _, f := range append(prod, ciValues...) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			v := map[string]any{}
			if err := yaml.Unmarshal(data, &v); err != nil {
				t.Fatal(err)
			}
			values = append(values, v)
		}
		if c == "webstack" {
			values = append(values, map[string]any{"cache": map[string]any{"enabled": false}})
		}
		out[c] = struct {
			files  []*archive.BufferedFile
			values []map[string]any
		}{bufferedFiles(files), values}
	}
	made := map[string]map[string]string{
		"steps": {
			"Chart.yaml":          "apiVersion: v2\nname: top\nversion: 0.1.0\ndependencies: [{name: sub, version: 0.1.0, tags: [t1], import-values: [{child: exported, parent: imported}]}, {name: other, version: 0.1.0, condition: other.on}]\n",
			"values.yaml":         "tags: {t1: true}\nother: {on: false}\n",
			"templates/NOTES.txt": "notes {{ .Release.Name }}\n",
			"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: {{ .Release.Namespace }}}\ndata: {imp: {{ .Values.imported | toJson | quote }}, " +
				"rev: \"{{ .Release.Revision }}\", inst: \"{{ .Release.IsInstall }}{{ .Release.IsUpgrade }}\", lk: {{ lookup \"v1\" \"ConfigMap\" \"x\" \"y\" | toJson | quote }}, " +
				"has: \"{{ .Capabilities.APIVersions.Has \"autoscaling/v2\" }}{{ .Capabilities.APIVersions.Has \"monitoring.coreos.com/v1\" }}\", " +
				"kv: {{ .Capabilities.KubeVersion.Version | quote }}, hv: {{ .Capabilities.HelmVersion.Version | quote }}, svc: {{ .Release.Service }}}\n",
			"templates/hooks.yaml": "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j1, annotations: {helm.sh/hook: pre-install, helm.sh/hook-weight: \"5\", helm.sh/hook-delete-policy: hook-succeeded}}\n---\n" +
				"apiVersion: batch/v1\nkind: Job\nmetadata: {name: j0, annotations: {helm.sh/hook: \"pre-install,post-upgrade\", helm.sh/hook-weight: \"-3\"}}\n---\n" +
				"apiVersion: v1\nkind: Pod\nmetadata: {name: t, annotations: {helm.sh/hook: test}}\n---\n" +
				"apiVersion: v1\nkind: Pod\nmetadata: {name: d, annotations: {helm.sh/hook: pre-delete}}\n",
			"crds/a.yaml": "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: as.x.io}\n---\n" +
				"apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: bs.x.io}\n",
			"charts/sub/Chart.yaml":          "apiVersion: v2\nname: sub\nversion: 0.1.0\n",
			"charts/sub/values.yaml":         "exported: {k: v}\n",
			"charts/sub/templates/NOTES.txt": "subnotes\n",
			"charts/sub/templates/s.yaml":    "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa}\n",
			"charts/sub/crds/c.yaml":         "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: cs.x.io}\n",
			"charts/other/Chart.yaml":        "apiVersion: v2\nname: other\nversion: 0.1.0\n",
			"charts/other/templates/o.yaml":  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: o}\n",
		},
		// Helm's check of values.schema.json is skipped: render checks
		// values itself, and Helm's loads $refs from anywhere.
		"schema":       {"Chart.yaml": "apiVersion: v2\nname: s\nversion: 0.1.0\n", "values.schema.json": `{"type": "object", "properties": {"name": {"type": "integer"}}}`, "templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"},
		"library":      {"Chart.yaml": "apiVersion: v2\nname: lib\nversion: 0.1.0\ntype: library\n", "templates/_h.tpl": "{{ define \"x\" }}y{{ end }}\n", "templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"},
		"kubeversion":  {"Chart.yaml": "apiVersion: v2\nname: k\nversion: 0.1.0\nkubeVersion: '>=1.30.0'\n", "templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"},
		"broken yaml":  {"Chart.yaml": "apiVersion: v2\nname: b\nversion: 0.1.0\n", "templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {{ \"{a: [}\" }}\n"},
		"failing":      {"Chart.yaml": "apiVersion: v2\nname: e\nversion: 0.1.0\n", "templates/cm.yaml": "{{ required \"set name\" .Values.name }}\n"},
		"no objects":   {"Chart.yaml": "apiVersion: v2\nname: n\nversion: 0.1.0\n", "templates/empty.yaml": "{{- if false }}x{{ end }}\n", "templates/comment.yaml": "# just a comment\n---\n"},
		"without kind": {"Chart.yaml": "apiVersion: v2\nname: nk\nversion: 0.1.0\n", "templates/a.yaml": "foo: bar\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: z}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: n}\n"},
	}
	for name, files := range made {
		out[name] = struct {
			files  []*archive.BufferedFile
			values []map[string]any
		}{bufferedFiles(files), []map[string]any{{}, {"name": "x", "tags": map[string]any{"t1": false}, "other": map[string]any{"on": true}}}}
	}
	return out
}

func TestHelmInstallMatchesHelmAction(t *testing.T) {
	kubeVersions := []string{"1.35.0", "1.20.1", "v1.33.4-gke.1245000"}
	apiVersions := [][]string{nil, {"autoscaling/v2", "monitoring.coreos.com/v1", "monitoring.coreos.com/v1/ServiceMonitor"}}
	rendered, failed := 0, 0
	for name, c := range oracleCharts(t) {
		t.Run(name, func(t *testing.T) {
			for i, vals := range c.values {
				for _, kube := range kubeVersions {
					for _, apis := range apiVersions {
						kv, err := parseKubeVersion(kube)
						if err != nil {
							t.Fatal(err)
						}
						in := helmInstall{name: "rel", namespace: "web", kubeVersion: kv, apiVersions: apis, funcs: templateFuncs(t.Context())}
						// Both change the values they are given.
						wantManifest, wantHooks, wantErr := helmActionInstall(c.files, in, copyValues(t, vals))
						manifest, hooks, err := helmInstallRun(c.files, in, copyValues(t, vals))
						what := fmt.Sprintf("values #%d, kubernetes %s, API versions %v", i, kube, apis)
						if fmt.Sprint(err) != fmt.Sprint(wantErr) {
							t.Errorf("%s: error %v, Helm's %v", what, err, wantErr)
							continue
						}
						if err != nil {
							failed++
							continue
						}
						rendered++
						if diff := cmp.Diff(wantManifest, manifest); diff != "" {
							t.Errorf("%s: manifest differs from Helm's (-helm +mcp):\n%s", what, diff)
						}
						// Test hooks are named at random by some charts; mcp drops them.
						if len(hooks) != len(wantHooks) {
							t.Errorf("%s: %d hooks, Helm %d", what, len(hooks), len(wantHooks))
						}
						if diff := cmp.Diff(withoutTests(wantHooks), withoutTests(hooks)); diff != "" {
							t.Errorf("%s: hooks differ from Helm's (-helm +mcp):\n%s", what, diff)
						}
					}
				}
			}
		})
	}
	if rendered < 100 || failed < 10 {
		t.Errorf("%d renders and %d failures compared: the oracle compares too little", rendered, failed)
	}
}

// TestHelmInstallReleaseName: a name Helm refuses fails as Helm fails it.
func TestHelmInstallReleaseName(t *testing.T) {
	files := bufferedFiles(map[string]string{"Chart.yaml": "apiVersion: v2\nname: n\nversion: 0.1.0\n", "templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"})
	kv, err := parseKubeVersion(DefaultKubernetesVersion)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"", "Bad_Name", "a-name-of-more-than-fifty-three-characters-is-too-long-x"} {
		in := helmInstall{name: name, namespace: "default", kubeVersion: kv}
		_, _, wantErr := helmActionInstall(files, in, map[string]any{})
		_, _, err := helmInstallRun(files, in, map[string]any{})
		if err == nil || wantErr == nil || err.Error() != wantErr.Error() {
			t.Errorf("release %q: error %v, Helm's %v", name, err, wantErr)
		}
	}
}

// TestCheckDependencies: a dependency missing from charts/ is named as
// Helm names it.
func TestCheckDependencies(t *testing.T) {
	for name, chartYAML := range map[string]string{
		"two missing":   "apiVersion: v2\nname: m\nversion: 0.1.0\ndependencies: [{name: a, version: 1.0.0}, {name: sub, version: 0.1.0}, {name: b, version: 1.0.0}]\n",
		"none missing":  "apiVersion: v2\nname: m\nversion: 0.1.0\ndependencies: [{name: sub, version: 0.1.0}]\n",
		"no dependency": "apiVersion: v2\nname: m\nversion: 0.1.0\n",
	} {
		ch, err := chartloader.LoadFiles(bufferedFiles(map[string]string{"Chart.yaml": chartYAML, "charts/sub/Chart.yaml": "apiVersion: v2\nname: sub\nversion: 0.1.0\n"}))
		if err != nil {
			t.Fatal(err)
		}
		var reqs []ci.Dependency
		for _, d := range ch.Metadata.Dependencies {
			reqs = append(reqs, d)
		}
		if got, want := fmt.Sprint(checkDependencies(ch)), fmt.Sprint(action.CheckDependencies(ch, reqs)); got != want {
			t.Errorf("%s: %s, Helm's %s", name, got, want)
		}
	}
}

func withoutTests(hooks []*release.Hook) []*release.Hook {
	var out []*release.Hook
	for _, h := range hooks {
		if !slices.Contains(h.Events, release.HookTest) {
			out = append(out, h)
		}
	}
	return out
}

func copyValues(t *testing.T, v map[string]any) map[string]any {
	t.Helper()
	data, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]any{}
	if err := yaml.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// bufferedFiles are a chart's files as the loader takes them, in order.
func bufferedFiles(files map[string]string) []*archive.BufferedFile {
	var out []*archive.BufferedFile
	for _, name := range slices.Sorted(maps.Keys(files)) {
		out = append(out, &archive.BufferedFile{Name: name, Data: []byte(files[name])})
	}
	return out
}
