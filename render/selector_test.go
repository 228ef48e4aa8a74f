package render

import (
	"context"
	"slices"
	"strings"
	"testing"

	"mcp.dev/mcp/source"
)

func TestPlacementSelection(t *testing.T) {
	clusters := `apiVersion: mcp.dev/v1alpha1
kind: Cluster
metadata: {name: aws-prod, labels: {cloud: aws, env: prod}}
---
apiVersion: mcp.dev/v1alpha1
kind: Cluster
metadata: {name: gcp-prod, labels: {cloud: gcp, env: prod}}
---
apiVersion: mcp.dev/v1alpha1
kind: Cluster
metadata: {name: dev, labels: {env: dev}}
`
	tests := map[string]struct {
		spec string
		want []string
	}{
		"empty selector selects all": {spec: "clusterSelector: {}", want: []string{"aws-prod", "dev", "gcp-prod"}},
		"no selector selects none":   {spec: "namespace: x", want: nil},
		"matchLabels":                {spec: "clusterSelector: {matchLabels: {env: prod}}", want: []string{"aws-prod", "gcp-prod"}},
		"matchLabels, two labels":    {spec: "clusterSelector: {matchLabels: {env: prod, cloud: gcp}}", want: []string{"gcp-prod"}},
		"In":                         {spec: "clusterSelector: {matchExpressions: [{key: cloud, operator: In, values: [aws, azure]}]}", want: []string{"aws-prod"}},
		"NotIn":                      {spec: "clusterSelector: {matchExpressions: [{key: cloud, operator: NotIn, values: [aws]}]}", want: []string{"dev", "gcp-prod"}},
		"Exists":                     {spec: "clusterSelector: {matchExpressions: [{key: cloud, operator: Exists}]}", want: []string{"aws-prod", "gcp-prod"}},
		"DoesNotExist":               {spec: "clusterSelector: {matchExpressions: [{key: cloud, operator: DoesNotExist}]}", want: []string{"dev"}},
		"labels and expressions":     {spec: "clusterSelector: {matchLabels: {env: prod}, matchExpressions: [{key: cloud, operator: NotIn, values: [gcp]}]}", want: []string{"aws-prod"}},
		"names only":                 {spec: "clusters: [dev]", want: []string{"dev"}},
		"names add to the selector":  {spec: "clusterSelector: {matchLabels: {cloud: aws}}\n  clusters: [dev, aws-prod]", want: []string{"aws-prod", "dev"}},
		"selector that matches none": {spec: "clusterSelector: {matchLabels: {env: staging}}", want: nil},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			repo := writeRepo(t, map[string]string{
				"clusters.yaml":  clusters,
				"placement.yaml": "apiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata: {name: p}\nspec:\n  path: apps\n  " + tc.spec + "\n",
				"apps/cm.yaml":   configMap,
			})
			f, err := Render(context.Background(), source.Snapshot{Dir: repo}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := f.Placements[0].Selected; !slices.Equal(got, tc.want) {
				t.Errorf("selected %v, want %v", got, tc.want)
			}
			for _, c := range f.Clusters {
				placed := len(c.Objects) == 1
				if placed != slices.Contains(tc.want, c.Cluster.Name) {
					t.Errorf("cluster %s has %d objects", c.Cluster.Name, len(c.Objects))
				}
			}
			warned := len(f.Warnings) == 1 && strings.Contains(f.Warnings[0], "placement.yaml:1: placement p selects no cluster")
			if warned != (len(tc.want) == 0) {
				t.Errorf("warnings %q", f.Warnings)
			}
		})
	}
}

func TestOptionsClustersLimitsTheRender(t *testing.T) {
	f, err := Render(context.Background(), source.Snapshot{Dir: "../testdata/fleet"}, Options{Clusters: []string{"kind-dev"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Clusters) != 1 || f.Clusters[0].Cluster.Name != "kind-dev" || f.Clusters[0].Err != nil {
		t.Fatalf("clusters: %+v", f.Clusters)
	}
	if len(f.Placements) != 4 {
		t.Errorf("%d placements, want all 4", len(f.Placements))
	}
}
