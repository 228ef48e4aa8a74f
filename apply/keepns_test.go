package apply

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"mcp.dev/mcp/diff"
	"mcp.dev/mcp/internal/object"
)

func TestStaying(t *testing.T) {
	cm := func(name string) object.Key { return object.Key{Kind: "ConfigMap", Namespace: "ns", Name: name} }
	now := metav1.NewTime(time.Now())
	owned := metav1.ObjectMeta{OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: "web"}}}
	pruned := map[object.Key]bool{cm("pruned"): true, cm("desired"): false}
	cases := map[string]struct {
		residents           []resident
		unmanaged, managed  int
		wantReason          string
		wantNothingStopping bool
	}{
		"empty": {wantNothingStopping: true},
		"only what the plan prunes": {
			residents: []resident{{key: cm("pruned")}}, wantNothingStopping: true,
		},
		"a ConfigMap made by hand": {
			residents: []resident{{key: cm("pruned")}, {key: cm("by-hand")}}, unmanaged: 1,
			wantReason: "kept: 1 unmanaged object inside",
		},
		"desired objects stay": {
			residents: []resident{{key: cm("desired")}, {key: cm("a")}, {key: cm("b")}}, unmanaged: 2, managed: 1,
			wantReason: "kept: 2 unmanaged objects and 1 object mcp still manages inside",
		},
		"what every namespace holds": {
			residents: []resident{
				{key: cm("kube-root-ca.crt")},
				{key: object.Key{Kind: "ServiceAccount", Namespace: "ns", Name: "default"}},
				{key: object.Key{Kind: "Secret", Namespace: "ns", Name: "default-token-x"}, meta: metav1.ObjectMeta{Annotations: map[string]string{serviceAccountAnnotation: "default"}}},
				{key: object.Key{Kind: "Event", Namespace: "ns", Name: "e"}},
				{key: object.Key{Group: "events.k8s.io", Kind: "Event", Namespace: "ns", Name: "e"}},
				{key: object.Key{Group: "coordination.k8s.io", Kind: "Lease", Namespace: "ns", Name: "leader"}},
				{key: object.Key{Kind: "Endpoints", Namespace: "ns", Name: "web"}},
			},
			wantNothingStopping: true,
		},
		"owned and terminating objects": {
			residents: []resident{
				{key: object.Key{Group: "apps", Kind: "ReplicaSet", Namespace: "ns", Name: "web-1"}, meta: owned},
				{key: object.Key{Kind: "Pod", Namespace: "ns", Name: "web-1-x"}, meta: owned},
				{key: cm("going"), meta: metav1.ObjectMeta{DeletionTimestamp: &now}},
			},
			wantNothingStopping: true,
		},
		"data counts": {
			residents: []resident{
				{key: object.Key{Kind: "PersistentVolumeClaim", Namespace: "ns", Name: "data-db-0"}},
				{key: object.Key{Kind: "Secret", Namespace: "ns", Name: "sh.helm.release.v1.db.v1"}},
				{key: object.Key{Kind: "ServiceAccount", Namespace: "ns", Name: "builder"}},
				{key: object.Key{Group: "example.com", Kind: "ConfigMap", Namespace: "ns", Name: "kube-root-ca.crt"}},
			},
			unmanaged: 4, wantReason: "kept: 4 unmanaged objects inside",
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			unmanaged, managed := staying(c.residents, pruned)
			if unmanaged != c.unmanaged || managed != c.managed {
				t.Fatalf("staying = %d unmanaged, %d managed; want %d, %d", unmanaged, managed, c.unmanaged, c.managed)
			}
			if c.wantNothingStopping != (unmanaged+managed == 0) {
				t.Fatalf("nothing stopping the prune: %v", !c.wantNothingStopping)
			}
			if c.wantReason != "" {
				if got := keptReason(unmanaged, managed); got != c.wantReason {
					t.Fatalf("reason %q, want %q", got, c.wantReason)
				}
			}
		})
	}
}

var (
	eventGVR = schema.GroupVersionResource{Version: "v1", Resource: "events"}
	leaseGVR = schema.GroupVersionResource{Group: "coordination.k8s.io", Version: "v1", Resource: "leases"}
)

// TestPruneKeepsNamespaceWithUnmanagedObjects: a Namespace that left the
// repo is not deleted while it holds an object mcp never applied; every
// plan format says so; the objects mcp applied in it are pruned; events,
// leases and objects owned by pruned ones do not count; once the stranger
// is gone, the next plan deletes the Namespace.
func TestPruneKeepsNamespaceWithUnmanagedObjects(t *testing.T) {
	ctx := context.Background()
	a, _ := newApplier(t, "us", testOptions(t))
	applyOK(t, a, objects(t, namespace("keep-stay")+namespace("keep-full")+configMaps("keep-full", 2)+namespace("keep-empty")+configMaps("keep-empty", 1)))

	d := dyn(t, "us")
	create := func(gvr schema.GroupVersionResource, doc string) {
		t.Helper()
		u := &unstructured.Unstructured{}
		if err := json.Unmarshal([]byte(doc), &u.Object); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Resource(gvr).Namespace(u.GetNamespace()).Create(ctx, u, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	create(cmGVR, `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "by-hand", "namespace": "keep-full"}}`)
	// Traces that never keep a namespace, in both.
	for _, ns := range []string{"keep-full", "keep-empty"} {
		owner, err := d.Resource(cmGVR).Namespace(ns).Get(ctx, "cm-000", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		create(cmGVR, `{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "owned", "namespace": "`+ns+`",
 "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "cm-000", "uid": "`+string(owner.GetUID())+`"}]}}`)
		create(eventGVR, `{"apiVersion": "v1", "kind": "Event", "metadata": {"name": "ev", "namespace": "`+ns+`"},
 "involvedObject": {"kind": "ConfigMap", "name": "cm-000", "namespace": "`+ns+`"}, "reason": "Test", "message": "m", "type": "Normal", "source": {"component": "test"}}`)
		create(leaseGVR, `{"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "leader", "namespace": "`+ns+`"}, "spec": {"holderIdentity": "x"}}`)
	}

	desired := objects(t, namespace("keep-stay"))
	p := plan(t, a, desired)
	want := []string{
		"delete ConfigMap keep-empty/cm-000",
		"delete ConfigMap keep-full/cm-000",
		"delete ConfigMap keep-full/cm-001",
		"delete Namespace keep-empty",
		"keep Namespace keep-full",
	}
	if got := changes(p); !slices.Equal(got, want) {
		t.Fatalf("changes\n%q\nwant\n%q", got, want)
	}
	kept, _ := changeOf(p, object.Key{Kind: "Namespace", Name: "keep-full"})
	const reason = "kept: 1 unmanaged object inside"
	if kept.Reason != reason {
		t.Fatalf("reason %q, want %q", kept.Reason, reason)
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
		if !strings.Contains(b.String(), "Namespace keep-full — "+reason) && !strings.Contains(b.String(), `"reason": "`+reason+`"`) {
			t.Errorf("%s plan does not say why keep-full is kept:\n%s", format, b.String())
		}
	}

	r := a.Apply(ctx, p)
	if r.Failures() != nil || r.Deleted != 4 {
		t.Fatalf("apply: %v, deleted %d, want 4", r.Failures(), r.Deleted)
	}
	ns, err := d.Resource(namespaceGVR).Get(ctx, "keep-full", metav1.GetOptions{})
	if err != nil || ns.GetDeletionTimestamp() != nil {
		t.Fatalf("namespace keep-full: deleted (%v, %v)", err, ns.GetDeletionTimestamp())
	}
	if _, err := d.Resource(cmGVR).Namespace("keep-full").Get(ctx, "by-hand", metav1.GetOptions{}); err != nil {
		t.Fatalf("the unmanaged ConfigMap: %v", err)
	}
	// Without a namespace controller a deleted Namespace stays Terminating.
	if ns, err := d.Resource(namespaceGVR).Get(ctx, "keep-empty", metav1.GetOptions{}); err == nil && ns.GetDeletionTimestamp() == nil {
		t.Fatal("namespace keep-empty was not deleted")
	}
	inv, err := a.Inventory(ctx)
	if err != nil || !slices.Contains(inv, object.Key{Kind: "Namespace", Name: "keep-full"}) {
		t.Fatalf("a kept namespace leaves the inventory: %v %v", inv, err)
	}

	// The stranger leaves: the namespace goes with the next prune.
	if err := d.Resource(cmGVR).Namespace("keep-full").Delete(ctx, "by-hand", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	p = plan(t, a, desired)
	if got := changes(p); !slices.Equal(got, []string{"delete Namespace keep-full"}) {
		t.Fatalf("after the stranger left: changes %q", got)
	}
	if r := a.Apply(ctx, p); r.Failures() != nil || r.Deleted != 1 {
		t.Fatalf("apply: %v, deleted %d", r.Failures(), r.Deleted)
	}
}
