package diff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"mcp.dev/mcp/internal/object"
)

// prChanges is a four-change pull request as one cluster sees it: a new
// ConfigMap, an image bump, a replica change and a removed Service. tag
// goes into the image, so that clusters can differ.
func prChanges(t testing.TB, tag string) []Change {
	t.Helper()
	deploy := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop, annotations: {mcp.dev/wave: \"1\"}}\nspec: {replicas: %d, template: {spec: {containers: [{name: web, image: \"nginx:%s\"}]}}}"
	cm := obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: flags, namespace: shop}\ndata: {mode: fast}")
	svc := obj(t, "apiVersion: v1\nkind: Service\nmetadata: {name: old, namespace: shop}\nspec: {ports: [{port: 80}]}")
	api := obj(t, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: shop}\nspec: {replicas: 2}")
	api3 := api.DeepCopy()
	api3.Object["spec"] = map[string]any{"replicas": int64(3)}
	before, after := obj(t, fmt.Sprintf(deploy, 2, "1.25")), obj(t, fmt.Sprintf(deploy, 2, tag))
	return []Change{
		ChangeFor(object.KeyOf(cm), nil, cm),
		ChangeFor(object.KeyOf(before), before, after),
		ChangeFor(object.KeyOf(api), api, api3),
		ChangeFor(object.KeyOf(svc), svc, nil),
	}
}

// fleet204 is 204 clusters under one pull request: 102 in aws-eu with the
// same plan, 101 in gcp-us with another, and one that fails to render.
func fleet204(t testing.TB) Plan {
	var p Plan
	aws, gcp := prChanges(t, "1.27"), prChanges(t, "1.27-alpine")
	for i := 1; i <= 102; i++ {
		p.Clusters = append(p.Clusters, ClusterPlan{Cluster: fmt.Sprintf("aws-eu-%d", i), Changes: aws})
	}
	for i := 1; i <= 101; i++ {
		p.Clusters = append(p.Clusters, ClusterPlan{Cluster: fmt.Sprintf("gcp-us-%d", i), Changes: gcp})
	}
	p.Clusters = append(p.Clusters, ClusterPlan{Cluster: "lab", Err: fmt.Errorf("render apps/web/deploy.yaml: unknown variable ${var.tag}")})
	return p
}

// TestMarkdownFleetGrouped: the clusters of a fleet with the same plan share
// one row and one section, so 204 clusters make a short comment.
func TestMarkdownFleetGrouped(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, fleet204(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, filepath.Join(testdataDir, "fleet204.md"), buf.Bytes())
	md := buf.String()
	if buf.Len() > 10000 {
		t.Errorf("204 clusters in 3 groups made %d characters, want under 10,000", buf.Len())
	}
	for _, want := range []string{
		"| aws-eu-1, aws-eu-2, aws-eu-3, … \\(102 clusters\\) | 1 | 2 | 1 |",
		"<summary>gcp-us-1, gcp-us-2, gcp-us-3, … (101 clusters): 1 to create, 2 to update, 1 to delete</summary>",
		"aws-eu-101, aws-eu-102\n",
		"wave 1",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown plan lacks %q", want)
		}
	}
	if n := strings.Count(md, "<details>"); n != 2 {
		t.Errorf("%d <details> sections, want 2 (one per group with changes)", n)
	}
	if strings.Contains(md, "shortened") {
		t.Error("a plan that fits says it is shortened")
	}
}

// TestMarkdownLimit: however many clusters, objects and fields, the comment
// stays under MarkdownLimit and says what it left out and where the full
// plan is.
func TestMarkdownLimit(t *testing.T) {
	distinct := func(clusters, objects int) Plan {
		var p Plan
		for i := range clusters {
			c := ClusterPlan{Cluster: fmt.Sprintf("cluster-with-a-long-name-%04d", i)}
			for j := range objects {
				before := obj(t, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d, namespace: apps}\ndata: {a: x, b: y, c: z}", j))
				after := obj(t, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d, namespace: apps}\ndata: {a: %q, b: %q, c: %q}", j, c.Cluster, strings.Repeat("v", 200), c.Cluster))
				c.Changes = append(c.Changes, ChangeFor(object.KeyOf(after), before, after))
			}
			p.Clusters = append(p.Clusters, c)
		}
		return p
	}
	tests := map[string]struct {
		plan Plan
		want []string // in the comment besides the notice
	}{
		"204 clusters, each its own plan": {plan: distinct(204, 4), want: []string{"the field changes of"}},
		"2000 clusters":                   {plan: distinct(2000, 2), want: []string{"the table rows of", "more clusters in"}},
		// Too many groups for the table, though their sections would fit.
		"600 clusters, no fields": {plan: func() Plan {
			var p Plan
			for i := range 600 {
				k := object.Key{Kind: "ConfigMap", Namespace: "apps", Name: fmt.Sprintf("only-on-%d", i)}
				p.Clusters = append(p.Clusters, ClusterPlan{Cluster: fmt.Sprintf("c-%d", i), Changes: []Change{{Key: k, Action: Create}}})
			}
			return p
		}(), want: []string{"the table rows of"}},
		"one cluster, 3000 objects": {plan: distinct(1, 3000), want: []string{"… 2900 more objects"}},
		"204 identical, 400 objects each": {plan: func() Plan {
			p := distinct(1, 400)
			for i := 1; i < 204; i++ {
				c := p.Clusters[0]
				c.Cluster = fmt.Sprintf("%s-%d", c.Cluster, i)
				p.Clusters = append(p.Clusters, c)
			}
			return p
		}(), want: []string{"(204 clusters)"}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteMarkdown(&buf, tc.plan); err != nil {
				t.Fatal(err)
			}
			md := buf.String()
			if buf.Len() > MarkdownLimit {
				t.Errorf("comment of %d characters, want at most %d", buf.Len(), MarkdownLimit)
			}
			for _, want := range append(tc.want, "This plan is shortened", "`mcp diff --output json`") {
				if !strings.Contains(md, want) {
					t.Errorf("comment lacks %q; it ends:\n%s", want, md[max(0, len(md)-600):])
				}
			}
			if strings.Count(md, "<details>") != strings.Count(md, "</details>") {
				t.Error("unbalanced <details>")
			}
		})
	}
}

func BenchmarkMarkdown204(b *testing.B) {
	p := fleet204(b)
	for b.Loop() {
		var buf bytes.Buffer
		if err := WriteMarkdown(&buf, p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarkdownLarge(b *testing.B) {
	var p Plan
	base := ClusterPlan{}
	for j := range 400 {
		before := obj(b, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d, namespace: apps}\ndata: {a: x, b: y}", j))
		after := obj(b, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d, namespace: apps}\ndata: {a: %q, b: z}", j, strings.Repeat("v", 200)))
		base.Changes = append(base.Changes, ChangeFor(object.KeyOf(after), before, after))
	}
	for i := range 204 {
		c := base
		c.Cluster = fmt.Sprintf("cluster-%d", i)
		p.Clusters = append(p.Clusters, c)
	}
	for b.Loop() {
		var buf bytes.Buffer
		if err := WriteMarkdown(&buf, p); err != nil {
			b.Fatal(err)
		}
	}
}

// TestPlanWarnings: the render's warnings reach the pull-request comment,
// escaped and bounded, and the JSON plan in full.
func TestPlanWarnings(t *testing.T) {
	p := Plan{Clusters: []ClusterPlan{{Cluster: "c1"}}}
	for i := range 2000 {
		p.Warnings = append(p.Warnings, fmt.Sprintf("apps/a.yaml:%d: Deployment web: unknown field spec.x%d <b>|@team", i, i))
	}
	var md, js bytes.Buffer
	if err := WriteMarkdown(&md, p); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&js, p); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"**2000 warnings** (`--strict` makes them fail)", "- apps/a.yaml:0: Deployment web: unknown field spec.x0 &lt;b&gt;\\|&#64;team", "more (all of them are in the JSON plan)"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("comment lacks %q", want)
		}
	}
	if md.Len() > MarkdownLimit/warningShare+1000 {
		t.Errorf("warnings took %d characters", md.Len())
	}
	var got struct{ Warnings []string }
	if err := json.Unmarshal(js.Bytes(), &got); err != nil || len(got.Warnings) != 2000 {
		t.Errorf("JSON plan holds %d warnings (%v), want 2000", len(got.Warnings), err)
	}
	md.Reset()
	if err := WriteMarkdown(&md, Plan{Clusters: p.Clusters}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(md.String(), "warning") {
		t.Errorf("a plan without warnings mentions them:\n%s", md.String())
	}
}
