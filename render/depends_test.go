package render

import (
	"context"
	"errors"
	"maps"
	"testing"

	"mcp.dev/mcp/source"
)

// dependentPlacement is a Placement of apps/ on every cluster that depends on
// the placements named.
func dependentPlacement(name string, dependsOn string) string {
	return "---\napiVersion: mcp.dev/v1alpha1\nkind: Placement\nmetadata: {name: " + name + "}\nspec: {path: apps/" + name +
		", clusterSelector: {}, dependsOn: [" + dependsOn + "]}\n"
}

// TestDependsOnErrors: an unknown name, the placement itself and a cycle
// stop the revision, naming the placement and its file.
func TestDependsOnErrors(t *testing.T) {
	cluster := "apiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata: {name: c1}\n"
	tests := map[string]struct {
		config string
		is     error
		want   []string
	}{
		"unknown name": {
			config: dependentPlacement("issuers", "cert-manger") + dependentPlacement("cert-manager", ""),
			is:     ErrNotFound, want: []string{"mcp.yaml:5", "placement issuers", `"cert-manger"`, `did you mean "cert-manager"`},
		},
		"itself": {
			config: dependentPlacement("a", "a"),
			is:     ErrInvalid, want: []string{"mcp.yaml:5", "placement a", "itself"},
		},
		"cycle": {
			config: dependentPlacement("a", "b") + dependentPlacement("b", "c") + dependentPlacement("c", "a"),
			is:     ErrInvalid, want: []string{"mcp.yaml:5", "placement a", "cycle: a → b → c → a"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			files := map[string]string{"mcp.yaml": cluster + tc.config}
			for _, n := range []string{"a", "b", "c", "issuers", "cert-manager"} {
				files["apps/"+n+"/cm.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + n + "}\n"
			}
			_, err := Render(context.Background(), source.Snapshot{Dir: writeRepo(t, files)}, Options{})
			if !errors.Is(err, tc.is) {
				t.Fatalf("error is not %v:\n%v", tc.is, err)
			}
			assertLine(t, err, tc.want...)
		})
	}
}

// TestDependsOnDepth: a placement's depth is one more than the deepest it
// depends on, and its objects carry it.
func TestDependsOnDepth(t *testing.T) {
	files := map[string]string{"mcp.yaml": "apiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata: {name: c1}\n" +
		dependentPlacement("crds", "") + dependentPlacement("operator", "crds") +
		dependentPlacement("apps", "operator, crds") + dependentPlacement("other", "")}
	for _, n := range []string{"crds", "operator", "apps", "other"} {
		files["apps/"+n+"/cm.yaml"] = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + n + "}\n"
	}
	f, err := Render(context.Background(), source.Snapshot{Dir: writeRepo(t, files)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Err(); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"crds": 0, "operator": 1, "apps": 2, "other": 0}
	got := map[string]int{}
	for _, p := range f.Placements {
		got[p.Name] = p.Depth
	}
	if !maps.Equal(got, want) {
		t.Errorf("placement depths %v, want %v", got, want)
	}
	objs := map[string]int{}
	for _, o := range f.Clusters[0].Objects {
		objs[o.Obj.GetName()] = o.Depth
	}
	if !maps.Equal(objs, want) {
		t.Errorf("object depths %v, want %v", objs, want)
	}
}

// TestWaveTimeoutAnnotation: mcp.dev/wave-timeout is the repo's to set, as
// a positive duration; anything else is an error naming the object.
func TestWaveTimeoutAnnotation(t *testing.T) {
	config := "apiVersion: mcp.dev/v1alpha1\nkind: Cluster\nmetadata: {name: c1}\n" + dependentPlacement("a", "")
	cm := func(v string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, annotations: {mcp.dev/wave-timeout: \"" + v + "\"}}\n"
	}
	f, err := Render(context.Background(), source.Snapshot{Dir: writeRepo(t, map[string]string{"mcp.yaml": config, "apps/a/cm.yaml": cm("90s")})}, Options{})
	if err != nil || f.Err() != nil {
		t.Fatalf("a valid timeout refused: %v %v", err, f.Err())
	}
	for _, bad := range []string{"soon", "-1m", "0s"} {
		f, err := Render(context.Background(), source.Snapshot{Dir: writeRepo(t, map[string]string{"mcp.yaml": config, "apps/a/cm.yaml": cm(bad)})}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !errors.Is(f.Err(), ErrInvalid) {
			t.Fatalf("%q: error %v, want ErrInvalid", bad, f.Err())
		}
		assertLine(t, f.Err(), "apps/a/cm.yaml", "ConfigMap", "mcp.dev/wave-timeout", bad)
	}
}
