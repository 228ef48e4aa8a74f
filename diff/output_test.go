package diff

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"mcp.dev/mcp/internal/object"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/diff")

const testdataDir = "../testdata/diff"

// golden compares got with the file at path, or rewrites it under -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./diff -update to write it)", err)
	}
	if d := cmp.Diff(string(want), string(got)); d != "" {
		t.Errorf("%s (-want +got):\n%s", path, d)
	}
}

// casePlan builds the one-cluster plan of testdata/diff/<name>.
func casePlan(t *testing.T, cluster, name string) ClusterPlan {
	t.Helper()
	dir := filepath.Join(testdataDir, name)
	return NewClusterPlan(cluster, objsFile(t, filepath.Join(dir, "before.yaml")), objsFile(t, filepath.Join(dir, "after.yaml")))
}

// TestTextGolden runs every case testdata/diff/<case>/{before,after}.yaml
// against its want.txt.
func TestTextGolden(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join(testdataDir, "*", "after.yaml"))
	if err != nil || len(cases) == 0 {
		t.Fatalf("no golden cases found (%v)", err)
	}
	for _, c := range cases {
		name := filepath.Base(filepath.Dir(c))
		want := filepath.Join(filepath.Dir(c), "want.txt")
		t.Run(name, func(t *testing.T) {
			p := Plan{Clusters: []ClusterPlan{casePlan(t, "test", name)}}
			var buf bytes.Buffer
			if err := WriteText(&buf, p, TextOptions{}); err != nil {
				t.Fatal(err)
			}
			golden(t, want, buf.Bytes())
		})
	}
}

// fleetPlan is a plan of several clusters: changes, no changes, a failed
// render and names that markdown must escape.
func fleetPlan(t *testing.T) Plan {
	prod := casePlan(t, "aws-eu-prod", "deployment-update")
	for i := range prod.Changes {
		prod.Changes[i].File = "apps/web/" + strings.ToLower(prod.Changes[i].Key.Kind) + ".yaml"
	}
	dev := casePlan(t, "gcp-us-dev", "create-delete")
	// Names and values that would break a table, HTML or a code fence.
	odd := obj(t, "kind: ConfigMap\napiVersion: v1\nmetadata: {name: a<b>|c, namespace: x}\ndata: {k: \"<script>|`x`\"}")
	oddAfter := odd.DeepCopy()
	oddAfter.Object["data"] = map[string]any{"k": "```\n</details>"}
	dev.Changes = append(dev.Changes, ChangeFor(object.KeyOf(odd), odd, oddAfter))
	// A ConfigMap made by hand that mcp takes over, and a Namespace that
	// left the repo but still holds objects mcp does not manage.
	found := obj(t, "kind: ConfigMap\napiVersion: v1\nmetadata: {name: legacy-settings, namespace: shop}\ndata: {mode: fast}")
	adopted := obj(t, "kind: ConfigMap\napiVersion: v1\nmetadata: {name: legacy-settings, namespace: shop, labels: {app.kubernetes.io/managed-by: mcp}}\ndata: {mode: safe}")
	adopt := ChangeFor(object.KeyOf(found), found, adopted)
	adopt.Action, adopt.File = Adopt, "apps/web/settings.yaml"
	dev.Changes = append(dev.Changes, adopt)
	kept := Change{Key: object.Key{Kind: "Namespace", Name: "old-shop"}, Action: Keep, Placement: "shop", Reason: "kept: 3 unmanaged objects inside"}
	dev.Changes = append(dev.Changes, kept)
	// A ConfigMap whose Placement says prune: false, applied in wave 1.
	orphan := Change{Key: object.Key{Kind: "ConfigMap", Namespace: "shop", Name: "feature-flags"}, Action: Orphan, Placement: "flags", Wave: 1}
	dev.Changes = append(dev.Changes, orphan)
	// A Service whose clusterIP the server refuses to change in place.
	replace := Change{Key: object.Key{Kind: "Service", Namespace: "shop", Name: "db"}, Action: Replace, File: "apps/shop/db.yaml",
		Fields: []FieldChange{{Path: "spec.clusterIPs[0]", Old: "10.0.0.10", New: "10.0.0.11"}},
		Reason: "replace: delete and create (immutable spec.clusterIPs[0])"}
	dev.Changes = append(dev.Changes, replace)
	prod2 := prod
	prod2.Cluster = "aws-eu-prod-2"
	return Plan{Clusters: []ClusterPlan{
		prod,
		prod2,
		dev,
		{Cluster: "old-lab", Leaves: true, Remaining: 12},
		{Cluster: "on-prem", Err: errors.New("render apps/web/deploy.yaml: unknown variable ${var.replicas} | see @ops")},
		casePlan(t, "quiet", "no-changes"),
		{Cluster: "retired", Changes: []Change{kept}},
	}}
}

func TestMarkdownGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, fleetPlan(t)); err != nil {
		t.Fatal(err)
	}
	golden(t, filepath.Join(testdataDir, "fleet.md"), buf.Bytes())
}

func TestJSONGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, fleetPlan(t)); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(buf.Bytes()) {
		t.Fatal("WriteJSON wrote invalid JSON")
	}
	golden(t, filepath.Join(testdataDir, "fleet.json"), buf.Bytes())
}

func TestTextFleetGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteText(&buf, fleetPlan(t), TextOptions{ShowUnchanged: true}); err != nil {
		t.Fatal(err)
	}
	golden(t, filepath.Join(testdataDir, "fleet.txt"), buf.Bytes())
}
