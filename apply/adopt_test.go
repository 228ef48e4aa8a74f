package apply

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"mcp.dev/mcp/diff"
	"mcp.dev/mcp/internal/object"
)

// TestAdoptShowsInThePlan: a desired object that exists without mcp's
// label and outside its inventory is planned as "adopt" with its field
// diff, in every plan format; applying takes it over (label, inventory),
// and the next plan has nothing to do. An object mcp tracks whose label
// was removed by hand is an update, not an adoption.
func TestAdoptShowsInThePlan(t *testing.T) {
	ctx := context.Background()
	a, _ := newApplier(t, "eu", testOptions(t))
	applyOK(t, a, objects(t, namespace("adopt")+configMaps("adopt", 1)))

	d := dyn(t, "eu")
	byHand := objects(t, `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "by-hand", "namespace": "adopt"}, "data": {"mode": "fast"}}`)[0].Obj
	byHand.SetLabels(nil)
	byHand.SetAnnotations(nil)
	if _, err := d.Resource(cmGVR).Namespace("adopt").Create(ctx, byHand, metav1.CreateOptions{FieldManager: "kubectl"}); err != nil {
		t.Fatal(err)
	}
	tracked, err := d.Resource(cmGVR).Namespace("adopt").Get(ctx, "cm-000", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tracked.SetLabels(nil)
	if _, err := d.Resource(cmGVR).Namespace("adopt").Update(ctx, tracked, metav1.UpdateOptions{FieldManager: "kubectl"}); err != nil {
		t.Fatal(err)
	}

	desired := objects(t, namespace("adopt")+configMaps("adopt", 1)+`---
apiVersion: v1
kind: ConfigMap
metadata: {name: by-hand, namespace: adopt}
data: {mode: safe}
`)
	p := plan(t, a, desired)
	want := []string{"adopt ConfigMap adopt/by-hand", "update ConfigMap adopt/cm-000"}
	if got := changes(p); !slices.Equal(got, want) {
		t.Fatalf("changes %q, want %q", got, want)
	}
	ch, _ := changeOf(p, object.Key{Kind: "ConfigMap", Namespace: "adopt", Name: "by-hand"})
	var paths []string
	for _, f := range ch.Fields {
		paths = append(paths, f.Path)
	}
	if !slices.Contains(paths, "data.mode") || !slices.ContainsFunc(paths, func(p string) bool { return strings.HasPrefix(p, "metadata.labels") }) {
		t.Fatalf("adopt fields %q: want the data and the label", paths)
	}
	fleet := diff.Plan{Clusters: []diff.ClusterPlan{p.Changes}}
	for format, write := range map[string]func(*bytes.Buffer) error{
		"text":     func(b *bytes.Buffer) error { return diff.WriteText(b, fleet, diff.TextOptions{}) },
		"markdown": func(b *bytes.Buffer) error { return diff.WriteMarkdown(b, fleet) },
		"json":     func(b *bytes.Buffer) error { return diff.WriteJSON(b, fleet) },
	} {
		var b bytes.Buffer
		if err := write(&b); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		shown := strings.Contains(out, `"action": "adopt"`)
		for _, line := range strings.Split(out, "\n") {
			line = strings.TrimSpace(line)
			shown = shown || strings.HasPrefix(line, "> ConfigMap adopt/by-hand (") && strings.HasSuffix(line, ") — adopt")
		}
		if !shown {
			t.Errorf("%s plan does not show the adoption:\n%s", format, out)
		}
		if !strings.Contains(out, "1 to adopt") && !strings.Contains(out, `"adopt": 1`) {
			t.Errorf("%s plan does not count the adoption:\n%s", format, out)
		}
	}

	r := a.Apply(ctx, p)
	if r.Failures() != nil || r.Updated != 2 || r.Created != 0 {
		t.Fatalf("apply: %v, updated %d, created %d", r.Failures(), r.Updated, r.Created)
	}
	live, err := d.Resource(cmGVR).Namespace("adopt").Get(ctx, "by-hand", metav1.GetOptions{})
	if err != nil || live.GetLabels()[object.ManagedByLabel] != object.ManagedByValue {
		t.Fatalf("adopted object: %v, labels %v", err, live.GetLabels())
	}
	if inv, err := a.Inventory(ctx); err != nil || !slices.Contains(inv, object.KeyOf(live)) {
		t.Fatalf("adopted object not in the inventory: %v %v", inv, err)
	}
	requireUnchanged(t, plan(t, a, desired))
}
