package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func runCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err = root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func TestValidateFleet(t *testing.T) {
	out, _, err := runCmd(t, "validate", "--dir", "../../testdata/fleet", "--credentials-dir", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if out != "ok: 3 clusters, 4 placements, 35 objects\n" {
		t.Errorf("output %q", out)
	}
}

func TestValidateReportsProblems(t *testing.T) {
	_, _, err := runCmd(t, "validate", "--dir", "../../testdata/render/substitution/repo")
	if err == nil || !strings.Contains(err.Error(), "apps/app.yaml:12: cluster bad") {
		t.Fatalf("error %v, want the unknown label of cluster bad", err)
	}
}

func TestRenderCluster(t *testing.T) {
	out, _, err := runCmd(t, "render", "--dir", "../../testdata/fleet", "--cluster", "gcp-us-prod")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out, "\n---\n"); n != 8 {
		t.Errorf("%d separators, want 8 (9 objects):\n%s", n, out)
	}
	if !strings.Contains(out, "ingressClassName: gce") {
		t.Errorf("cluster var not substituted:\n%s", out)
	}
	if _, _, err := runCmd(t, "render", "--dir", "../../testdata/fleet"); err == nil {
		t.Error("render without --cluster succeeded")
	}
}

// TestRenderApplyOrder: render prints objects in the order apply applies
// them, each with its wave: wave -1 Namespaces first, the wave 1 ConfigMap
// last, and within wave 0 cluster-scoped objects before namespaced ones.
func TestRenderApplyOrder(t *testing.T) {
	out, _, err := runCmd(t, "render", "--dir", "../../testdata/fleet", "--cluster", "aws-eu-prod")
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, doc := range strings.Split(out, "\n---\n") {
		var wave, kind string
		for _, line := range strings.Split(doc, "\n") {
			if w, ok := strings.CutPrefix(line, "# wave: "); ok {
				wave = w
			}
			if k, ok := strings.CutPrefix(line, "kind: "); ok {
				kind = k
			}
		}
		if wave == "" {
			t.Fatalf("a document without its wave:\n%s", doc)
		}
		order = append(order, wave+" "+kind)
	}
	want := []string{"-1 Namespace", "-1 Namespace", "0 ClusterRole", "0 ClusterRoleBinding", "0 ConfigMap"}
	if len(order) < len(want) || strings.Join(order[:len(want)], ",") != strings.Join(want, ",") {
		t.Errorf("order %q, want it to start %q", order, want)
	}
	if last := order[len(order)-1]; last != "1 ConfigMap" {
		t.Errorf("last object %q, want the wave 1 ConfigMap", last)
	}
}
