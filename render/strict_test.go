package render

import (
	"context"
	"errors"
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
