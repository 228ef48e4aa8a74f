package render

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"mcp.dev/mcp/source"
)

// chartFleet is a repo of n clusters in 7 regions, all receiving podinfo
// with values-prod.yaml and a value substituted from the region label.
func chartFleet(tb testing.TB, n int) string {
	var cl strings.Builder
	for i := range n {
		fmt.Fprintf(&cl, "---\napiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata:\n  name: c%03d\n  labels: {env: prod, region: r%d}\nspec:\n  kubernetesVersion: \"1.35.4\"\n", i, i%7)
	}
	return chartRepo(tb, []string{"podinfo"}, map[string]string{
		"clusters.yaml": cl.String(),
		"placement.yaml": "apiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata: {name: podinfo}\nspec:\n  clusterSelector: {matchLabels: {env: prod}}\n  namespace: podinfo\n" +
			"  chart:\n    path: charts/podinfo\n    valuesFiles: [charts/podinfo/values-prod.yaml]\n    values: {ui: {message: 'region ${cluster.labels.region}'}}\n",
	})
}

// TestChartRenderedOncePerValues: 200 clusters in 7 regions cost 7
// renders of the chart, and each cluster gets its region's values.
func TestChartRenderedOncePerValues(t *testing.T) {
	fleet, err := Render(context.Background(), source.Snapshot{Dir: chartFleet(t, 200)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := fleet.Err(); err != nil {
		t.Fatal(err)
	}
	if fleet.ChartRenders != 7 {
		t.Errorf("the chart was rendered %d times for 200 clusters in 7 regions, want 7", fleet.ChartRenders)
	}
	for _, c := range fleet.Clusters {
		found := false
		for _, o := range c.Objects {
			if o.Obj.GetKind() != "Deployment" || o.Obj.GetName() != "podinfo-podinfo" && o.Obj.GetName() != "podinfo" {
				continue
			}
			found = true
			want := "region " + c.Cluster.Labels["region"]
			if !strings.Contains(fmt.Sprint(o.Obj.Object["spec"]), want) {
				t.Fatalf("cluster %s: deployment does not carry %q", c.Cluster.Name, want)
			}
		}
		if !found {
			t.Fatalf("cluster %s: no podinfo Deployment", c.Cluster.Name)
		}
	}
}

// BenchmarkRenderFleetChart renders 200 clusters sharing podinfo (7
// distinct values) against one cluster: the chart is rendered once per
// distinct values, not once per cluster.
func BenchmarkRenderFleetChart(b *testing.B) {
	for _, n := range []int{1, 200} {
		b.Run(fmt.Sprintf("clusters=%d", n), func(b *testing.B) {
			snap := source.Snapshot{Dir: chartFleet(b, n)}
			var renders int
			b.ReportAllocs()
			for b.Loop() {
				fleet, err := Render(context.Background(), snap, Options{})
				if err != nil {
					b.Fatal(err)
				}
				if err := fleet.Err(); err != nil {
					b.Fatal(err)
				}
				renders = fleet.ChartRenders
			}
			b.ReportMetric(float64(renders), "chart-renders/op")
		})
	}
}
