package render

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"mcp.dev/mcp/source"
)

// BenchmarkRenderFleet renders a fleet of 200 clusters that each get the
// same 100 objects (with substitution of the cluster's name and a
// variable), as a large platform team's repo would: what every new
// revision costs before any cluster is contacted.
func BenchmarkRenderFleet(b *testing.B) {
	const clusters, objects = 200, 100
	dir := b.TempDir()
	write := func(name, data string) {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	var cl strings.Builder
	for i := range clusters {
		fmt.Fprintf(&cl, "---\napiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata:\n  name: c%03d\n  labels: {env: prod, region: r%d}\nspec:\n  vars: {tier: t%d}\n", i, i%7, i%3)
	}
	write("clusters.yaml", cl.String())
	write("placements.yaml", "apiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata:\n  name: apps\nspec:\n  path: apps\n  clusterSelector:\n    matchLabels: {env: prod}\n  namespace: apps\n")
	for i := range objects {
		write(fmt.Sprintf("apps/cm-%03d.yaml", i), fmt.Sprintf(
			"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%03d\n  labels: {region: \"${cluster.labels.region}\"}\ndata:\n  cluster: ${cluster.name}\n  tier: ${var.tier}\n  a: \"one\"\n  b: \"two\"\n", i))
	}
	ctx := context.Background()
	snap := source.Snapshot{Revision: "bench", Dir: dir}
	fleet, err := Render(ctx, snap, Options{})
	if err != nil {
		b.Fatal(err)
	}
	if got := fleet.ObjectCount(); got != clusters*objects {
		b.Fatalf("rendered %d objects, want %d", got, clusters*objects)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Render(ctx, snap, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSchemaChecks checks the documents of the real-world repo
// (ingress-nginx, cert-manager's CRDs and custom objects of them): the
// cost schema checks add to a render, once per revision whatever the
// number of clusters. Compare with BenchmarkRenderFleet's time.
func BenchmarkSchemaChecks(b *testing.B) {
	var docs []doc
	for _, dir := range []string{"ingress-nginx", "cert-manager-crds", "issuers"} {
		files, err := filepath.Glob(filepath.Join("../testdata/realworld", dir, "*.yaml"))
		if err != nil {
			b.Fatal(err)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				b.Fatal(err)
			}
			ds, err := decodeFile(f, data)
			if err != nil {
				b.Fatal(err)
			}
			docs = append(docs, ds...)
		}
	}
	ps := []Placement{{Name: "all"}}
	check := func() {
		loadErrs := map[string]error{}
		checkSchemas(ps, map[string][]doc{"all": docs}, loadErrs)
		if loadErrs["all"] != nil {
			b.Fatal(loadErrs["all"])
		}
	}
	check()
	b.ReportMetric(float64(len(docs)), "docs")
	b.ReportAllocs()
	for b.Loop() {
		check()
	}
}
