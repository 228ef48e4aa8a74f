package render

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"filippo.io/age"

	"mcp.dev/mcp/internal/sopstest"
	"mcp.dev/mcp/source"
)

// plainAndKustomized places kust/files as plain manifests (placement
// a-plain) and kust, a kustomization (placement b-kust), on cluster c1.
const plainAndKustomized = `apiVersion: mcp.dev/v1alpha1
kind: Cluster
metadata: {name: c1}
---
apiVersion: mcp.dev/v1alpha1
kind: Placement
metadata: {name: a-plain}
spec: {path: kust/files, clusterSelector: {}}
---
apiVersion: mcp.dev/v1alpha1
kind: Placement
metadata: {name: b-kust}
spec: {path: kust, clusterSelector: {}}
`

// releaseRepo places kust/files as plain manifests (placement a-plain)
// and kust, whose kustomization reads the same files, one of them through
// a symlink (placement b-kust).
func releaseRepo(t *testing.T) string {
	t.Helper()
	dir := writeRepo(t, map[string]string{
		"mcp.yaml":                plainAndKustomized,
		"kust/kustomization.yaml": "resources: [files/cm.yaml, files/linked.yaml]\nnamePrefix: k-\n",
		"kust/files/cm.yaml":      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: one}\n",
		"shared/real.yaml":        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: linked}\ndata: {b: two}\n",
	})
	symlink(t, "../../shared/real.yaml", filepath.Join(dir, "kust", "files", "linked.yaml"))
	return dir
}

// TestReleasedManifestBuildsInKustomization: the files of a placement of
// manifests let their bytes go once decoded; a kustomization of a later
// placement that reads them, one through a symlink, still builds from the
// same text.
func TestReleasedManifestBuildsInKustomization(t *testing.T) {
	dir := releaseRepo(t)
	f, err := Render(context.Background(), source.Snapshot{Revision: "r", Dir: dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Err(); err != nil {
		t.Fatal(err)
	}
	data := map[string]any{}
	for _, o := range f.Clusters[0].Objects {
		data[o.Obj.GetName()] = o.Obj.Object["data"]
	}
	want := map[string]any{
		"cm": map[string]any{"a": "one"}, "k-cm": map[string]any{"a": "one"},
		"linked": map[string]any{"b": "two"}, "k-linked": map[string]any{"b": "two"},
	}
	if !reflect.DeepEqual(data, want) {
		t.Errorf("data by object name: %v, want %v", data, want)
	}
}

// TestReleaseKeepsOneSnapshot: a released manifest's bytes leave the
// copy; a later read takes them again from disk, through a symlink too,
// but only while they are the bytes copied: a file changed on disk since
// is an error, not a second version of it.
func TestReleaseKeepsOneSnapshot(t *testing.T) {
	dir := releaseRepo(t)
	r, err := loadRepo(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	inMem := func(rel string) int {
		data, err := r.mem.ReadFile(abs(rel))
		if err != nil {
			t.Fatal(err)
		}
		return len(data)
	}
	for _, rel := range []string{"kust/files/cm.yaml", "kust/files/linked.yaml"} {
		first, err := r.manifest(rel)
		if err != nil {
			t.Fatal(err)
		}
		r.release(rel)
		if h := r.held[rel]; h == nil || !h.released || h.data != nil || inMem(rel) != 0 {
			t.Errorf("%s: after its release the copy holds %+v apart and %d bytes in the filesystem, want only a sum", rel, h, inMem(rel))
		}
		again, err := r.readFile(rel)
		if err != nil {
			t.Fatalf("%s read again: %v", rel, err)
		}
		if !bytes.Equal(again, first) {
			t.Errorf("%s read again: %q, want %q", rel, again, first)
		}
		if n := inMem(rel); n != len(first) {
			t.Errorf("%s: the filesystem holds %d bytes after a read as kustomize reads, want %d", rel, n, len(first))
		}
	}

	// Changed on disk after the copy, as an editor saving mid-render
	// does: the copy is decoded, and a read after the release fails.
	r, err = loadRepo(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	rel := "kust/files/cm.yaml"
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(rel)), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: changed}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := r.manifest(rel); err != nil || !bytes.Contains(got, []byte("a: one")) {
		t.Fatalf("manifest read before the release: %q, %v; want the copy", got, err)
	}
	r.release(rel)
	for what, read := range map[string]func(string) ([]byte, error){"manifest": r.manifest, "readFile": r.readFile} {
		got, err := read(rel)
		if !errors.Is(err, ErrChanged) {
			t.Errorf("%s of a released file changed on disk: %q, %v; want %v", what, got, err, ErrChanged)
			continue
		}
		assertLine(t, err, rel, "changed on disk")
	}
}

// TestFileChangedDuringRender: a file decoded as manifests and then read
// by a kustomization of the same render, changed on disk since the copy,
// is an error naming it, not two versions of one file.
func TestFileChangedDuringRender(t *testing.T) {
	dir := releaseRepo(t)
	l, err := Load(context.Background(), source.Snapshot{Revision: "r", Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cm := filepath.Join(dir, "kust", "files", "cm.yaml")
	if err := os.WriteFile(cm, []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: changed}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := l.Render(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = f.Err()
	if !errors.Is(err, ErrChanged) {
		t.Fatalf("render with a file changed between its two reads: %v, want %v", err, ErrChanged)
	}
	assertLine(t, err, "kust/files/cm.yaml", "cluster c1", "placement b-kust", "changed on disk")
}

// TestDecryptedManifestIsKept: a SOPS file placed as a manifest keeps its
// decrypted text in the copy (the disk holds the ciphertext), so that a
// kustomization of a later placement builds from it too.
func TestDecryptedManifestIsKept(t *testing.T) {
	id := sopstest.NewIdentity(t)
	dir := writeRepo(t, map[string]string{
		"mcp.yaml":                plainAndKustomized,
		"kust/kustomization.yaml": "resources: [files/s.yaml]\nnamePrefix: k-\n",
		"kust/files/s.yaml": string(sopstest.Encrypt(t, "s.yaml",
			[]byte("apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {user: admin}\n"), id.Recipient().String())),
	})
	f, err := Render(context.Background(), source.Snapshot{Revision: "r", Dir: dir}, Options{Decryption: Decryption{AgeIdentities: []age.Identity{id}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Err(); err != nil {
		t.Fatal(err)
	}
	users := map[string]any{}
	for _, o := range f.Clusters[0].Objects {
		users[o.Obj.GetName()] = o.Obj.Object["stringData"]
	}
	want := map[string]any{"db": map[string]any{"user": "admin"}, "k-db": map[string]any{"user": "admin"}}
	if !reflect.DeepEqual(users, want) {
		t.Errorf("stringData by object name: %v, want %v", users, want)
	}
}

// TestClustersOwnTheirMetadata: the clusters of a placement share the
// spec of an object but never the maps that finish changes (its top
// level and metadata), whichever cluster renders it last.
func TestClustersOwnTheirMetadata(t *testing.T) {
	dir := writeRepo(t, map[string]string{
		"mcp.yaml": `apiVersion: mcp.dev/v1alpha1
kind: Cluster
metadata: {name: c1, labels: {all: "yes"}}
---
apiVersion: mcp.dev/v1alpha1
kind: Cluster
metadata: {name: c2, labels: {all: "yes", two: "yes"}}
---
apiVersion: mcp.dev/v1alpha1
kind: Cluster
metadata: {name: c3, labels: {all: "yes"}}
---
apiVersion: mcp.dev/v1alpha1
kind: Placement
metadata: {name: all}
spec: {path: apps, clusterSelector: {matchLabels: {all: "yes"}}, namespace: apps}
---
apiVersion: mcp.dev/v1alpha1
kind: Placement
metadata: {name: two}
spec: {path: more, clusterSelector: {matchLabels: {two: "yes"}}}
`,
		"apps/cm.yaml":  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, labels: {app: x}}\ndata: {a: one}\n",
		"apps/ns.yaml":  "apiVersion: v1\nkind: Namespace\nmetadata: {name: apps}\n",
		"more/cm2.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm2}\ndata: {b: two}\n",
	})
	f, err := Render(context.Background(), source.Snapshot{Revision: "r", Dir: dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Err(); err != nil {
		t.Fatal(err)
	}
	addr := func(m any) uintptr { return reflect.ValueOf(m).Pointer() }
	seen := map[uintptr]string{} // top-level and metadata maps → who holds them
	for _, c := range f.Clusters {
		for _, o := range c.Objects {
			who := c.Cluster.Name + " " + o.Key().String()
			for _, m := range []any{o.Obj.Object, o.Obj.Object["metadata"]} {
				if other, ok := seen[addr(m)]; ok {
					t.Errorf("%s shares a map finish changes with %s", who, other)
				}
				seen[addr(m)] = who
			}
			if got := o.Obj.GetLabels()["app"]; o.Obj.GetName() == "cm" && got != "x" {
				t.Errorf("%s: label app=%q, want x", who, got)
			}
			if o.Obj.GetKind() == "ConfigMap" && o.Obj.GetNamespace() == "" {
				t.Errorf("%s has no namespace", who)
			}
		}
	}
	if n := f.ObjectCount(); n != 7 {
		t.Errorf("%d objects, want 7 (2 on each cluster, cm2 on c2 only)", n)
	}
}
