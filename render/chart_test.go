package render

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"mcp.dev/mcp/internal/object"
	"mcp.dev/mcp/source"
)

var (
	helmOnce sync.Once
	helmBin  string
	helmErr  error
)

// TestMain removes the helm command the oracle tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if helmBin != "" {
		os.RemoveAll(filepath.Dir(helmBin))
	}
	os.Exit(code)
}

// helmCLI builds the helm command of the Helm module mcp renders with:
// the oracle the render is compared with.
func helmCLI(t *testing.T) string {
	t.Helper()
	helmOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mcp-helm-oracle-")
		if err != nil {
			helmErr = err
			return
		}
		helmBin = filepath.Join(dir, "helm")
		out, err := exec.Command("go", "build", "-o", helmBin, "helm.sh/helm/v4/cmd/helm").CombinedOutput()
		if err != nil {
			helmErr = fmt.Errorf("go build helm: %v\n%s", err, out)
		}
	})
	if helmErr != nil {
		t.Fatal(helmErr)
	}
	return helmBin
}

// chartRepo writes a config repo holding the charts of testdata/charts
// named, the files given and one Cluster per name of clusters.
func chartRepo(t testing.TB, charts []string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for _, c := range charts {
		if err := os.CopyFS(filepath.Join(dir, "charts", c), os.DirFS(filepath.Join("..", "testdata", "charts", c))); err != nil {
			t.Fatal(err)
		}
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// helmTemplate runs the oracle: helm template, tests skipped, CRDs included.
func helmTemplate(t *testing.T, chartDir, release, namespace, kubeVersion string, valuesFiles ...string) []doc {
	t.Helper()
	args := []string{"template", release, chartDir, "--namespace", namespace, "--kube-version", kubeVersion, "--include-crds", "--skip-tests"}
	for _, f := range valuesFiles {
		args = append(args, "-f", f)
	}
	cmd := exec.Command(helmCLI(t), args...)
	home := t.TempDir()
	cmd.Env = []string{"HOME=" + home, "HELM_CACHE_HOME=" + home, "HELM_CONFIG_HOME=" + home, "HELM_DATA_HOME=" + home, "PATH=/usr/bin:/bin"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	docs, err := decodeDocs("helm-template", out)
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

// comparable strips what mcp adds (or takes over) from an object, so that
// mcp's render and helm's can be compared object for object.
func comparable(obj map[string]any, keepNamespace bool) map[string]any {
	u := &unstructured.Unstructured{Object: obj}
	labels := u.GetLabels()
	delete(labels, object.ManagedByLabel)
	if len(labels) == 0 {
		unstructured.RemoveNestedField(obj, "metadata", "labels")
	} else {
		u.SetLabels(labels)
	}
	ann := u.GetAnnotations()
	for k := range ann {
		if isMCPKey(k) {
			delete(ann, k)
		}
	}
	if len(ann) == 0 {
		unstructured.RemoveNestedField(obj, "metadata", "annotations")
	} else {
		u.SetAnnotations(ann)
	}
	if !keepNamespace {
		unstructured.RemoveNestedField(obj, "metadata", "namespace")
	}
	return obj
}

func identity(obj map[string]any) string {
	u := &unstructured.Unstructured{Object: obj}
	return u.GroupVersionKind().GroupKind().String() + "/" + u.GetName()
}

// runHook reports whether helm template's document is one mcp applies:
// not a hook, or a hook of install or upgrade.
func runHook(obj map[string]any) bool {
	h, ok := (&unstructured.Unstructured{Object: obj}).GetAnnotations()[hookAnnotation]
	if !ok {
		return true
	}
	for e := range strings.SplitSeq(h, ",") {
		switch strings.TrimSpace(e) {
		case "pre-install", "pre-upgrade", "post-install", "post-upgrade":
			return true
		}
	}
	return false
}

func TestChartMatchesHelmTemplate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the helm command")
	}
	cases := map[string]struct {
		chart       string
		valuesFiles []string // relative to the chart
		kube        string
		// helmValues are values files for helm only, relative to the
		// repo: what mcp's substitution makes of valuesFiles.
		helmValues map[string]string
		vars       string
	}{
		"podinfo with values-prod.yaml": {chart: "podinfo", valuesFiles: []string{"values-prod.yaml"}, kube: "1.34.2"},
		"ingress-nginx with ci/controller-daemonset-metrics-values.yaml": {
			chart: "ingress-nginx", valuesFiles: []string{"ci/controller-daemonset-metrics-values.yaml"}, kube: "1.35.4",
		},
		"ingress-nginx with ci/controller-hpa-values.yaml": {
			chart: "ingress-nginx", valuesFiles: []string{"ci/controller-hpa-values.yaml"}, kube: "1.35.4",
		},
		"webstack with crds helpers a dependency hooks and substituted values": {
			chart: "webstack", valuesFiles: []string{"values-prod.yaml"}, kube: "1.33.0",
			vars: "greeting: hi there",
			helmValues: map[string]string{"substituted.yaml": "replicaCount: 3\nimage: {tag: \"2.1.0\"}\ngreeting: hi there\n" +
				"ingress: {enabled: true, host: web.edge-1.example.com}\ncache: {memory: 256Mi}\n"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var vf []string
			for _, f := range tc.valuesFiles {
				vf = append(vf, "charts/"+tc.chart+"/"+f)
			}
			files := map[string]string{
				"mcp/cluster.yaml": fmt.Sprintf("apiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata:\n  name: edge-1\nspec:\n  kubernetesVersion: %q\n  vars: {%s}\n", tc.kube, tc.vars),
				"mcp/placement.yaml": fmt.Sprintf("apiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata:\n  name: %s\nspec:\n  clusters: [edge-1]\n  namespace: web\n"+
					"  chart:\n    path: charts/%s\n    releaseName: rel\n    valuesFiles: [%s]\n", tc.chart, tc.chart, strings.Join(vf, ", ")),
			}
			maps := tc.helmValues
			for f, data := range maps {
				files["oracle/"+f] = data
			}
			dir := chartRepo(t, []string{tc.chart}, files)
			fleet, err := Render(context.Background(), source.Snapshot{Revision: "r1", Dir: dir}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := fleet.Err(); err != nil {
				t.Fatal(err)
			}
			helmFiles := vf
			if maps != nil {
				helmFiles = nil
				for f := range maps {
					helmFiles = append(helmFiles, "oracle/"+f)
				}
			}
			for i := range helmFiles {
				helmFiles[i] = filepath.Join(dir, helmFiles[i])
			}
			want := map[string]map[string]any{}
			for _, d := range helmTemplate(t, filepath.Join(dir, "charts", tc.chart), "rel", "web", tc.kube, helmFiles...) {
				if runHook(d.obj) {
					want[identity(d.obj)] = d.obj
				}
			}
			got := map[string]map[string]any{}
			for _, o := range fleet.Clusters[0].Objects {
				if o.Obj.GetLabels()[object.ManagedByLabel] != object.ManagedByValue || o.Obj.GetAnnotations()[ChartAnnotation] == "" {
					t.Errorf("%s: mcp's label or chart annotation missing: %v %v", o.Key(), o.Obj.GetLabels(), o.Obj.GetAnnotations())
				}
				id := identity(o.Obj.Object)
				_, hasNS := want[id]["metadata"].(map[string]any)["namespace"]
				got[id] = comparable(o.Obj.Object, hasNS)
			}
			for id, obj := range want {
				_, hasNS := obj["metadata"].(map[string]any)["namespace"]
				want[id] = comparable(obj, hasNS)
			}
			if len(want) < 3 {
				t.Fatalf("helm template rendered %d objects: the case tests nothing", len(want))
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("mcp's render differs from helm template (-helm +mcp):\n%s", diff)
			}
		})
	}
}

// TestChartHooksAndMetadata checks what mcp makes of a chart beyond what
// helm template prints: hooks in waves, the chart annotation, sources.
func TestChartHooksAndMetadata(t *testing.T) {
	dir := chartRepo(t, []string{"webstack"}, map[string]string{
		"mcp.yaml": `apiVersion: mcp.dev/v1alpha1
kind: Cluster
metadata: {name: edge-1}
---
apiVersion: mcp.dev/v1alpha1
kind: Placement
metadata: {name: web}
spec:
  clusters: [edge-1]
  namespace: web
  chart:
    path: charts/webstack
    values: {cache: {enabled: false}}
`})
	fleet, err := Render(context.Background(), source.Snapshot{Revision: "r1", Dir: dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := fleet.Err(); err != nil {
		t.Fatal(err)
	}
	waves := map[string]int{}
	for _, o := range fleet.Clusters[0].Objects {
		waves[o.Obj.GetKind()+"/"+o.Obj.GetName()] = o.Wave
		if got := o.Obj.GetAnnotations()[ChartAnnotation]; got != "webstack@1.2.0" {
			t.Errorf("%s: annotation %s = %q, want webstack@1.2.0", o.Key(), ChartAnnotation, got)
		}
		if !strings.HasPrefix(o.File, "charts/webstack/") {
			t.Errorf("%s: file %q is not in the chart", o.Key(), o.File)
		}
	}
	want := map[string]int{
		"CustomResourceDefinition/widgets.example.com": 0,
		"Deployment/web-webstack":                      0,
		"ConfigMap/web-webstack-config":                0,
		"Widget/web-webstack":                          0,
		"Job/web-webstack-migrate":                     preHookWave,
		"ConfigMap/web-webstack-smoke":                 postHookWave,
	}
	if diff := cmp.Diff(want, waves); diff != "" {
		t.Errorf("objects and waves (-want +got): cache disabled, test and pre-delete hooks dropped:\n%s", diff)
	}
	if !slices.ContainsFunc(fleet.Warnings, func(w string) bool {
		return strings.Contains(w, "ConfigMap web-webstack-goodbye") && strings.Contains(w, "pre-delete")
	}) {
		t.Errorf("no warning about the dropped pre-delete hook: %q", fleet.Warnings)
	}
	out, err := Marshal(ApplyOrder(fleet.Clusters[0].Objects))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "# Source: charts/webstack/templates/deployment.yaml (document 1) (chart webstack@1.2.0, placement web)") {
		t.Errorf("render output does not name chart and template:\n%s", out)
	}
}
