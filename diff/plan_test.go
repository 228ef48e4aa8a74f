package diff

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"mcp.dev/mcp/internal/object"
)

func TestNewClusterPlan(t *testing.T) {
	cm := func(name, value string) *unstructured.Unstructured {
		return obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: "+name+", namespace: ns, annotations: {mcp.dev/placement: web}}\ndata: {v: \""+value+"\"}")
	}
	ns := obj(t, "apiVersion: v1\nkind: Namespace\nmetadata: {name: ns}")
	deploy := obj(t, "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: ns}")
	deployV1beta1 := obj(t, "apiVersion: apps/v1beta1\nkind: Deployment\nmetadata: {name: d, namespace: ns}")

	tests := map[string]struct {
		before, after []*unstructured.Unstructured
		want          []string // "action key"
		wantErr       bool
	}{
		"empty": {},
		"pairs by key, sorted by key": {
			before: []*unstructured.Unstructured{cm("gone", "1"), cm("same", "1"), cm("edit", "1"), ns},
			after:  []*unstructured.Unstructured{cm("new", "1"), cm("edit", "2"), cm("same", "1"), ns},
			want: []string{
				"update ConfigMap ns/edit", "delete ConfigMap ns/gone", "create ConfigMap ns/new",
				"unchanged ConfigMap ns/same", "unchanged Namespace ns",
			},
		},
		"the API version is not part of the key": {
			before: []*unstructured.Unstructured{deployV1beta1},
			after:  []*unstructured.Unstructured{deploy},
			want:   []string{"update apps/Deployment ns/d"},
		},
		"an object listed twice is an error": {
			after:   []*unstructured.Unstructured{cm("a", "1"), cm("a", "2")},
			want:    []string{"create ConfigMap ns/a"},
			wantErr: true,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := NewClusterPlan("c", tc.before, tc.after)
			var got []string
			for _, ch := range p.Changes {
				got = append(got, ch.Action.String()+" "+ch.Key.String())
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("changes (-want +got):\n%s", d)
			}
			if (p.Err != nil) != tc.wantErr {
				t.Errorf("Err = %v, want error: %v", p.Err, tc.wantErr)
			}
		})
	}
}

func TestChangeForFillsPlacement(t *testing.T) {
	live := obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, uid: x, annotations: {mcp.dev/placement: web}}\nstatus: {x: 1}")
	ch := ChangeFor(object.KeyOf(live), live, nil)
	if ch.Action != Delete || ch.Placement != "web" {
		t.Fatalf("got %v placement %q", ch.Action, ch.Placement)
	}
	if live.GetUID() != "x" {
		t.Error("ChangeFor changed its input")
	}
}

func TestCounts(t *testing.T) {
	c := ClusterPlan{Changes: []Change{{Action: Create}, {Action: Create}, {Action: Delete}, {Action: Unchanged}}}
	if got, want := c.Summary(), (Summary{Create: 2, Delete: 1, Unchanged: 1}); got != want {
		t.Errorf("Summary = %+v, want %+v", got, want)
	}
	if c.Count(Create) != 2 || c.Count(Update) != 0 {
		t.Errorf("Count: create %d, update %d", c.Count(Create), c.Count(Update))
	}
	quiet := ClusterPlan{Changes: []Change{{Action: Unchanged}}}
	if !c.HasChanges() || quiet.HasChanges() {
		t.Error("ClusterPlan.HasChanges is wrong")
	}
	if (Plan{Clusters: []ClusterPlan{quiet}}).HasChanges() || !(Plan{Clusters: []ClusterPlan{quiet, c}}).HasChanges() {
		t.Error("Plan.HasChanges is wrong")
	}
	// Adopting writes; keeping does not.
	adopt := ClusterPlan{Changes: []Change{{Action: Adopt}, {Action: Keep}}}
	if got, want := adopt.Summary(), (Summary{Adopt: 1, Keep: 1}); got != want {
		t.Errorf("Summary = %+v, want %+v", got, want)
	}
	kept := ClusterPlan{Changes: []Change{{Action: Keep}, {Action: Unchanged}}}
	if !adopt.HasChanges() || kept.HasChanges() {
		t.Error("HasChanges: adopt is a change, keep is not")
	}
}

func TestActionText(t *testing.T) {
	for _, a := range []Action{Create, Update, Delete, Adopt, Keep, Unchanged} {
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != `"`+a.String()+`"` {
			t.Errorf("%v marshals as %s", a, b)
		}
		var back Action
		if err := json.Unmarshal(b, &back); err != nil || back != a {
			t.Errorf("%s unmarshals to %v, %v", b, back, err)
		}
	}
	if Create.String() != "create" || Unchanged.String() != "unchanged" || Adopt.String() != "adopt" || Keep.String() != "keep" {
		t.Errorf("names: %q %q %q %q", Create, Unchanged, Adopt, Keep)
	}
	if _, err := json.Marshal(Action(42)); err == nil {
		t.Error("an unknown action marshals")
	}
}

func TestFieldValues(t *testing.T) {
	long := strings.Repeat("x", 100)
	tests := map[string]struct {
		fc       FieldChange
		old, new string
	}{
		"scalars":   {FieldChange{Old: int64(2), New: 2.5}, "2", "2.5"},
		"strings":   {FieldChange{Old: "a", New: "b\"c"}, `"a"`, `"b\"c"`},
		"absent":    {FieldChange{Old: true}, "true", "(absent)"},
		"small map": {FieldChange{New: map[string]any{"b": "x", "a": int64(1)}}, "(absent)", `{"a":1,"b":"x"}`},
		"a long list is cut and counted": {
			FieldChange{Old: []any{long, long}},
			`["` + strings.Repeat("x", 70) + "…" + ` (2 items)`, "(absent)",
		},
		"a terminal escape is quoted": {FieldChange{Old: "\x1b[31mred"}, `"\u001b[31mred"`, "(absent)"},
		"two long strings show their first difference": {
			FieldChange{Old: long + "-old-tail", New: long + "-new-tail"},
			`"…` + strings.Repeat("x", 19) + `-old-tail"`, `"…` + strings.Repeat("x", 19) + `-new-tail"`,
		},
		"a multi-line string counts its lines": {
			FieldChange{New: "a\nb\nc"}, "(absent)", `"a\nb\nc" (3 lines)`,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			old, new := fieldValues(tc.fc)
			if old != tc.old || new != tc.new {
				t.Errorf("got %s → %s\nwant %s → %s", old, new, tc.old, tc.new)
			}
		})
	}
}

func TestTextColor(t *testing.T) {
	p := Plan{Clusters: []ClusterPlan{{Cluster: "c", Changes: []Change{
		{Key: object.Key{Kind: "ConfigMap", Name: "a"}, Action: Create},
		{Key: object.Key{Kind: "ConfigMap", Name: "b"}, Action: Delete},
	}}}}
	var plain, color bytes.Buffer
	mustWrite(t, WriteText(&plain, p, TextOptions{}))
	mustWrite(t, WriteText(&color, p, TextOptions{Color: true}))
	if strings.Contains(plain.String(), "\x1b[") {
		t.Errorf("plain output has colour:\n%q", plain.String())
	}
	for _, want := range []string{ansiGreen + "+ ConfigMap a", ansiRed + "- ConfigMap b"} {
		if !strings.Contains(color.String(), want) {
			t.Errorf("colour output lacks %q:\n%q", want, color.String())
		}
	}
}
