package render

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"mcp.dev/mcp/source"
)

// chartFiles is a one-cluster repo with a chart at chart/ placed by
// placement "web", plus the chart files given (relative to chart/).
func chartFiles(files map[string]string) map[string]string {
	repo := map[string]string{
		"mcp.yaml": "apiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata: {name: edge-1}\n---\n" +
			"apiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata: {name: web}\nspec:\n  clusters: [edge-1]\n  chart: {path: chart}\n",
		"chart/Chart.yaml": "apiVersion: v2\nname: trap\nversion: 0.1.0\n",
	}
	for p, data := range files {
		repo["chart/"+p] = data
	}
	return repo
}

func renderErr(t *testing.T, repo map[string]string, opts Options) (*Fleet, error) {
	t.Helper()
	f, err := Render(context.Background(), source.Snapshot{Dir: writeRepo(t, repo)}, opts)
	if err == nil {
		err = f.Err()
	}
	return f, err
}

// TestChartNeverReachesTheNetwork renders charts whose schema,
// dependencies and templates point at a listener: render makes no
// connection, reads no file of the host and runs nothing.
func TestChartNeverReachesTheNetwork(t *testing.T) {
	addr, conns := countingListener(t)
	gitRan := trapGit(t)
	u := "http://" + addr
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata:\n  v: {{ %s | quote }}\n"
	corpus := map[string]struct {
		files map[string]string
		fails bool
	}{
		"schema $ref over http": {files: map[string]string{
			"values.schema.json": `{"$ref": "` + u + `/schema.json"}`, "templates/cm.yaml": strings.Replace(cm, "%s", `"x"`, 1)}},
		"schema $ref to a host file": {files: map[string]string{
			"values.schema.json": `{"$ref": "file:///etc/passwd"}`, "templates/cm.yaml": strings.Replace(cm, "%s", `"x"`, 1)}},
		"dependency from a repository": {fails: true, files: map[string]string{
			"Chart.yaml": "apiVersion: v2\nname: trap\nversion: 0.1.0\ndependencies: [{name: dep, version: 1.0.0, repository: " + u + "}]\n"}},
		"getHostByName": {files: map[string]string{"templates/cm.yaml": strings.Replace(cm, "%s", `getHostByName "`+addr+`"`, 1)}},
		"lookup":        {files: map[string]string{"templates/cm.yaml": strings.Replace(cm, "%s", `lookup "v1" "Secret" "kube-system" "" | toJson`, 1)}},
		"env":           {fails: true, files: map[string]string{"templates/cm.yaml": strings.Replace(cm, "%s", `env "HOME"`, 1)}},
	}
	for name, tc := range corpus {
		t.Run(name, func(t *testing.T) {
			f, err := renderErr(t, chartFiles(tc.files), Options{})
			if tc.fails != (err != nil) {
				t.Fatalf("error %v, want an error: %v", err, tc.fails)
			}
			if err != nil {
				if !errors.Is(err, ErrChart) || !strings.Contains(err.Error(), "placement web") {
					t.Errorf("error is not a chart error naming the placement: %v", err)
				}
				return
			}
			for _, o := range f.Clusters[0].Objects {
				if v, _ := o.Obj.Object["data"].(map[string]any)["v"].(string); strings.Contains(v, "root") || (v != "x" && v != "" && v != "{}") {
					t.Errorf("%s: data.v = %q: the template reached something outside the chart", o.Key(), v)
				}
			}
		})
	}
	if n := conns.Load(); n != 0 {
		t.Errorf("render made %d connections to the loopback listener, want 0", n)
	}
	if gitRan() {
		t.Error("render ran git")
	}
}

// TestChartBounded: a template that loops for ever is stopped by the
// render's time limit, one that asks for a huge list is refused, and
// output over the byte limit fails the cluster.
func TestChartBounded(t *testing.T) {
	loop := `{{- range $a := until 1000000 }}{{- range $b := until 1000000 }}{{ $b | quote }}{{- end }}{{- end }}`
	t.Run("endless loop", func(t *testing.T) {
		start := time.Now()
		_, err := renderErr(t, chartFiles(map[string]string{"templates/loop.yaml": "# " + loop + "\n"}), Options{Limits: Limits{Timeout: time.Second}})
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "render took longer") {
			t.Fatalf("error %v, want the render's time limit", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("the render stopped after %s, want about 1s", d)
		}
	})
	t.Run("huge list", func(t *testing.T) {
		_, err := renderErr(t, chartFiles(map[string]string{"templates/big.yaml": "# {{ len (until 100000000) }}\n"}), Options{})
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "until of 100000000") {
			t.Fatalf("error %v, want until refused", err)
		}
	})
	t.Run("huge output", func(t *testing.T) {
		tpl := "{{- range $i := until 12 }}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-{{ $i }}}\ndata: {v: {{ repeat 100000 \"x\" | quote }}}\n{{- end }}\n"
		_, err := renderErr(t, chartFiles(map[string]string{"templates/big.yaml": tpl}), Options{Limits: Limits{MaxBytes: 1 << 20}})
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "--max-render-bytes") {
			t.Fatalf("error %v, want the byte limit", err)
		}
	})
}

// TestChartErrors: every error names the placement, the chart and the
// template file and line.
func TestChartErrors(t *testing.T) {
	tests := map[string]struct {
		files map[string]string
		repo  map[string]string
		want  []string
	}{
		"template fails": {
			files: map[string]string{"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ required \"set name\" .Values.name }}\n"},
			want:  []string{"chart/templates/cm.yaml:4: cluster edge-1: placement web: helm chart: chart trap 0.1.0 (chart):", "set name"},
		},
		"template does not parse": {
			files: map[string]string{"templates/_h.tpl": "\n\n{{ define \"x\" }}{{ nosuchfunc }}{{ end }}\n"},
			want:  []string{"chart/templates/_h.tpl:3: cluster edge-1: placement web: helm chart: chart trap 0.1.0", `"nosuchfunc" not defined`},
		},
		"rendered YAML is broken": {
			files: map[string]string{"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {{ \"{a: [}\" }}\n"},
			want:  []string{"chart/templates/cm.yaml", "placement web", "trap 0.1.0"},
		},
		"values file missing": {
			repo: map[string]string{"mcp.yaml": "apiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata: {name: edge-1}\n---\n" +
				"apiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata: {name: web}\nspec:\n  clusters: [edge-1]\n  chart: {path: chart, valuesFiles: [chart/prod.yaml]}\n"},
			want: []string{"placement web", `valuesFiles[0] "chart/prod.yaml" is not a file in the repo`},
		},
		"unknown variable in values": {
			repo: map[string]string{"mcp.yaml": "apiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata: {name: edge-1}\n---\n" +
				"apiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata: {name: web}\nspec:\n  clusters: [edge-1]\n  chart:\n    path: chart\n    values: {name: '${var.nope}'}\n"},
			want: []string{"mcp.yaml:12: cluster edge-1: placement web:", "var.nope"},
		},
		"chart placed as spec.path": {
			repo: map[string]string{"mcp.yaml": "apiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata: {name: edge-1}\n---\n" +
				"apiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata: {name: web}\nspec:\n  clusters: [edge-1]\n  path: chart\n",
				"chart/templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.name }}\n"},
			want: []string{"chart/Chart.yaml", "chart is a Helm chart: use spec.chart"},
		},
		"path and chart": {
			repo: map[string]string{"mcp.yaml": "apiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata: {name: edge-1}\n---\n" +
				"apiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata: {name: web}\nspec:\n  clusters: [edge-1]\n  path: chart\n  chart: {path: chart}\n"},
			want: []string{"placement web", "spec.path and spec.chart exclude each other"},
		},
		"kubernetes version the chart refuses": {
			repo: map[string]string{"mcp.yaml": "apiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata: {name: edge-1}\nspec: {kubernetesVersion: '1.20.1'}\n---\n" +
				"apiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata: {name: web}\nspec:\n  clusters: [edge-1]\n  chart: {path: chart}\n",
				"chart/Chart.yaml": "apiVersion: v2\nname: trap\nversion: 0.1.0\nkubeVersion: '>=1.30.0'\n"},
			want: []string{"placement web", "trap 0.1.0", "incompatible with Kubernetes v1.20.1"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			repo := chartFiles(tc.files)
			for p, data := range tc.repo {
				repo[p] = data
			}
			_, err := renderErr(t, repo, Options{})
			if err == nil {
				t.Fatal("rendered, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not say %q:\n%v", w, err)
				}
			}
		})
	}
}
