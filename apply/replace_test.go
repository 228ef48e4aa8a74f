package apply

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"mcp.dev/mcp/diff"
	"mcp.dev/mcp/internal/object"
	"mcp.dev/mcp/internal/testenv"
)

var (
	servicesGVR    = schema.GroupVersionResource{Version: "v1", Resource: "services"}
	deploymentsGVR = schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	jobsGVR        = schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}
	configMapsGVR  = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
)

func service(ns, ip, annotation string) string {
	return "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: db\n  namespace: " + ns + annotation + `
spec:
  clusterIP: ` + ip + `
  ports: [{port: 5432}]
`
}

func deploy(ns, app, annotation string) string {
	return "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: " + ns + annotation + `
spec:
  selector: {matchLabels: {app: ` + app + `}}
  template:
    metadata: {labels: {app: ` + app + `}}
    spec: {containers: [{name: web, image: nginx}]}
`
}

func statefulSet(ns, size, annotation string) string {
	return "---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: pg\n  namespace: " + ns + annotation + `
spec:
  serviceName: pg
  selector: {matchLabels: {app: pg}}
  template:
    metadata: {labels: {app: pg}}
    spec: {containers: [{name: pg, image: postgres}]}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: ` + size + `}}}
`
}

func job(ns, arg, annotation string) string {
	return "---\napiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  namespace: " + ns + annotation + `
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: busybox, args: [` + arg + `]}]
`
}

const replaceOn = "\n  annotations: {mcp.dev/replace: on-immutable}"
const replaceOff = "\n  annotations: {mcp.dev/replace: disabled}"

func uidOf(t *testing.T, gvr schema.GroupVersionResource, ns, name string) types.UID {
	t.Helper()
	u, err := dyn(t, "eu").Resource(gvr).Namespace(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return u.GetUID()
}

// TestImmutableChangeIsAnErrorWithoutTheAnnotation: a changed Service
// clusterIP, Deployment selector or (with mcp.dev/replace: disabled) Job
// template is refused by the server as immutable; the plan names the
// fields and the annotation that would allow a replace, the cluster is
// Failed, and the object is left as it is.
func TestImmutableChangeIsAnErrorWithoutTheAnnotation(t *testing.T) {
	ns := "imm-" + dnsName(t.Name())[:20]
	target := func(docs string) Target {
		return Target{Name: "eu", Config: restConfig("eu"), Objects: objects(t, namespace(ns)+docs)}
	}
	opts := testOptions(t)
	first := service(ns, "127.96.0.40", "") + deploy(ns, "web", "") + job(ns, "one", replaceOff)
	if r := Reconcile(context.Background(), target(first), opts); r.Status != Synced {
		t.Fatalf("first apply: %s %q %v", r.Status, r.Message, r.Failures())
	}
	uids := map[schema.GroupVersionResource]types.UID{
		servicesGVR: uidOf(t, servicesGVR, ns, "db"), deploymentsGVR: uidOf(t, deploymentsGVR, ns, "web"), jobsGVR: uidOf(t, jobsGVR, ns, "migrate"),
	}

	changed := target(service(ns, "127.96.0.41", "") + deploy(ns, "api", "") + job(ns, "two", replaceOff))
	r := Reconcile(context.Background(), changed, opts)
	if r.Status != Failed {
		t.Fatalf("immutable changes without the annotation: %s %q", r.Status, r.Message)
	}
	want := map[string]string{"Service": "spec.clusterIP", "Deployment": "spec.selector", "Job": "spec.template"}
	if len(r.Errors) != len(want) {
		t.Fatalf("errors: %v, want one per object", r.Failures())
	}
	for _, e := range r.Errors {
		var ie *ImmutableError
		msg := e.Error()
		if !errors.As(e, &ie) || !strings.Contains(msg, want[e.Key.Kind]) || !strings.Contains(msg, "mcp.dev/replace: on-immutable") {
			t.Errorf("%s: %q, want it to name %s and the annotation", e.Key, msg, want[e.Key.Kind])
		}
		if e.Op != "plan" {
			t.Errorf("%s failed at %q: it was sent again although the server refused it", e.Key, e.Op)
		}
	}
	for gvr, uid := range uids {
		if got := uidOf(t, gvr, ns, map[string]string{"services": "db", "deployments": "web", "jobs": "migrate"}[gvr.Resource]); got != uid {
			t.Errorf("%s was replaced without the annotation", gvr.Resource)
		}
	}
}

// TestImmutableChangeIsReplaced: with mcp.dev/replace: on-immutable (and a
// Job by default), the plan shows a changed Service clusterIP, Deployment
// selector, StatefulSet volumeClaimTemplates and Job template as replace in text, markdown and JSON; a dry
// run changes nothing; the apply deletes and creates each object (a new
// UID, the new values), which stays in the inventory.
func TestImmutableChangeIsReplaced(t *testing.T) {
	ns := "rep-" + dnsName(t.Name())[:20]
	target := func(docs string) Target {
		return Target{Name: "eu", Config: restConfig("eu"), Objects: objects(t, namespace(ns)+docs)}
	}
	opts := testOptions(t)
	first := target(service(ns, "127.96.0.42", replaceOn) + deploy(ns, "web", replaceOn) + job(ns, "one", "") + statefulSet(ns, "1Gi", replaceOn))
	if r := Reconcile(context.Background(), first, opts); r.Status != Synced {
		t.Fatalf("first apply: %s %q %v", r.Status, r.Message, r.Failures())
	}
	statefulSetsGVR := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "statefulsets"}
	names := map[schema.GroupVersionResource]string{servicesGVR: "db", deploymentsGVR: "web", jobsGVR: "migrate", statefulSetsGVR: "pg"}
	uids := map[schema.GroupVersionResource]types.UID{}
	for gvr, name := range names {
		uids[gvr] = uidOf(t, gvr, ns, name)
	}
	changed := target(service(ns, "127.96.0.43", replaceOn) + deploy(ns, "api", replaceOn) + job(ns, "two", "") + statefulSet(ns, "2Gi", replaceOn))

	// A dry run (mcp diff) shows the replacements and does nothing.
	dry := DiffAll(context.Background(), []Target{changed}, opts)[0]
	if dry.Status != Drifted {
		t.Fatalf("dry run: %s %q %v", dry.Status, dry.Message, dry.Failures())
	}
	plan := diff.Plan{Clusters: []diff.ClusterPlan{dry.DiffPlan()}}
	if got, want := changes(dry.Plan), []string{
		"replace Service " + ns + "/db", "replace apps/Deployment " + ns + "/web", "replace apps/StatefulSet " + ns + "/pg", "replace batch/Job " + ns + "/migrate",
	}; !slices.Equal(got, want) {
		t.Fatalf("plan %q, want %q", got, want)
	}
	if s := plan.Clusters[0].Summary(); s.Replace != 4 || s.Update != 0 {
		t.Errorf("summary %+v, want 4 to replace", s)
	}
	ch, _ := changeOf(dry.Plan, object.Key{Kind: "Service", Namespace: ns, Name: "db"})
	if len(ch.Fields) == 0 || !strings.HasPrefix(ch.Fields[0].Path, "spec.clusterIP") || !strings.Contains(ch.Reason, "immutable spec.clusterIP") {
		t.Errorf("the Service's replace: fields %+v, reason %q", ch.Fields, ch.Reason)
	}
	var text, md, js bytes.Buffer
	if err := diff.WriteText(&text, plan, diff.TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := diff.WriteMarkdown(&md, plan); err != nil {
		t.Fatal(err)
	}
	if err := diff.WriteJSON(&js, plan); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]string{
		text.String(): {"-/+ Service " + ns + "/db", "replace: delete and create (immutable spec.clusterIP", "127.96.0.42", "127.96.0.43", "0 to create, 0 to update, 0 to delete, 4 to replace"},
		md.String():   {"| replace |", "-/+ batch/Job " + ns + "/migrate"},
		js.String():   {`"action": "replace"`, `"replace": 4`},
	} {
		for _, w := range want {
			if !strings.Contains(name, w) {
				t.Errorf("the plan lacks %q:\n%s", w, name)
			}
		}
	}
	for gvr, name := range names {
		if uidOf(t, gvr, ns, name) != uids[gvr] {
			t.Errorf("the dry run replaced %s", name)
		}
	}

	// The apply replaces them.
	r := Reconcile(context.Background(), changed, opts)
	if r.Status != Synced || r.Updated != 4 {
		t.Fatalf("apply: %s %q, %d updated; %v", r.Status, r.Message, r.Updated, r.Failures())
	}
	for gvr, name := range names {
		if uidOf(t, gvr, ns, name) == uids[gvr] {
			t.Errorf("%s was not replaced", name)
		}
	}
	svc, err := dyn(t, "eu").Resource(servicesGVR).Namespace(ns).Get(context.Background(), "db", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ip, _, _ := unstructured.NestedString(svc.Object, "spec", "clusterIP"); ip != "127.96.0.43" {
		t.Errorf("the new Service has clusterIP %s", ip)
	}
	a, _ := newApplier(t, "eu", opts)
	inv, err := a.Inventory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(inv) != 5 {
		t.Errorf("inventory %v, want the namespace and the four replaced objects", inv)
	}
	if r := Reconcile(context.Background(), changed, opts); r.Status != Synced || r.Updated+r.Created != 0 {
		t.Errorf("the next reconcile: %s, %d updated, %d created", r.Status, r.Updated, r.Created)
	}
}

// TestReplaceWhoseCreateFailsStaysInTheInventory: an immutable ConfigMap
// whose data changes is replaced; the create after the delete is refused
// (a ValidatingAdmissionPolicy refuses creates): the cluster is Failed saying so, the object stays in the
// inventory, and once creates pass again the next reconcile creates it.
func TestReplaceWhoseCreateFailsStaysInTheInventory(t *testing.T) {
	ns := "repfail-" + dnsName(t.Name())[:16]
	cm := func(v string) string {
		return "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: " + ns + replaceOn + "\nimmutable: true\ndata: {v: \"" + v + "\"}\n"
	}
	target := func(docs string) Target {
		return Target{Name: "eu", Config: restConfig("eu"), Objects: objects(t, namespace(ns)+docs)}
	}
	opts := testOptions(t)
	if r := Reconcile(context.Background(), target(cm("1")), opts); r.Status != Synced {
		t.Fatalf("first apply: %s %q %v", r.Status, r.Message, r.Failures())
	}
	// A policy refuses every create of a ConfigMap in ns; updates pass.
	policy, binding := refuseCreates(t, ns)
	r := Reconcile(context.Background(), target(cm("2")), opts)
	if r.Status != Failed || len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Error(), "deleted, but not created again") {
		t.Fatalf("replace whose create is refused: %s %q %v", r.Status, r.Message, r.Failures())
	}
	a, _ := newApplier(t, "eu", opts)
	inv, err := a.Inventory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(inv, object.Key{Kind: "ConfigMap", Namespace: ns, Name: "settings"}) {
		t.Fatalf("inventory %v lost the ConfigMap whose create failed", inv)
	}

	for _, u := range []*unstructured.Unstructured{binding, policy} {
		if err := dyn(t, "eu").Resource(admissionGVR(u)).Delete(context.Background(), u.GetName(), metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, 10*time.Second, "creates pass again", func() bool { return tryCreate(t, ns) == nil })
	if r := Reconcile(context.Background(), target(cm("2")), opts); r.Status != Synced || r.Created != 1 {
		t.Fatalf("after creates pass again: %s %q, %d created; %v", r.Status, r.Message, r.Created, r.Failures())
	}
	u, err := dyn(t, "eu").Resource(configMapsGVR).Namespace(ns).Get(context.Background(), "settings", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v, _, _ := unstructured.NestedString(u.Object, "data", "v"); v != "2" {
		t.Errorf("data.v = %q", v)
	}
}

func admissionGVR(u *unstructured.Unstructured) schema.GroupVersionResource {
	resource := map[string]string{"ValidatingAdmissionPolicy": "validatingadmissionpolicies", "ValidatingAdmissionPolicyBinding": "validatingadmissionpolicybindings"}[u.GetKind()]
	return schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: resource}
}

// refuseCreates makes the apiserver refuse every create of a ConfigMap in
// ns, and waits until it does.
func refuseCreates(t *testing.T, ns string) (policy, binding *unstructured.Unstructured) {
	t.Helper()
	policy = &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
		"metadata": map[string]any{"name": "no-create-" + ns},
		"spec": map[string]any{
			"failurePolicy": "Fail",
			"matchConstraints": map[string]any{"resourceRules": []any{map[string]any{
				"apiGroups": []any{""}, "apiVersions": []any{"v1"}, "operations": []any{"CREATE"}, "resources": []any{"configmaps"},
			}}},
			"validations": []any{map[string]any{"expression": "false", "message": "no creates here"}},
		},
	}}
	binding = &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
		"metadata": map[string]any{"name": "no-create-" + ns},
		"spec": map[string]any{
			"policyName": "no-create-" + ns, "validationActions": []any{"Deny"},
			"matchResources": map[string]any{"namespaceSelector": map[string]any{"matchLabels": map[string]any{"kubernetes.io/metadata.name": ns}}},
		},
	}}
	for _, u := range []*unstructured.Unstructured{policy, binding} {
		if _, err := dyn(t, "eu").Resource(admissionGVR(u)).Create(context.Background(), u, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	testenv.Eventually(t, 10*time.Second, "creates refused", func() bool { return tryCreate(t, ns) != nil })
	return policy, binding
}

// tryCreate creates and deletes a ConfigMap in ns by hand.
func tryCreate(t *testing.T, ns string) error {
	cms := dyn(t, "eu").Resource(configMapsGVR).Namespace(ns)
	probe := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "probe", "namespace": ns}}}
	_, err := cms.Create(context.Background(), probe, metav1.CreateOptions{})
	if err == nil {
		cms.Delete(context.Background(), "probe", metav1.DeleteOptions{})
	}
	return err
}

// TestImmutableSecretIsReplacedWithoutItsValues: an immutable Secret whose
// data changes is replaced; its plan names the refused field but shows no
// value, old or new, in any format.
func TestImmutableSecretIsReplacedWithoutItsValues(t *testing.T) {
	ns := "repsec-" + dnsName(t.Name())[:16]
	secret := func(v string) Target {
		return Target{Name: "eu", Config: restConfig("eu"), Objects: objects(t, namespace(ns)+
			"---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\n  namespace: "+ns+replaceOn+"\nimmutable: true\nstringData: {password: "+v+"}\n")}
	}
	opts := testOptions(t)
	if r := Reconcile(context.Background(), secret("hunter2-old"), opts); r.Status != Synced {
		t.Fatalf("first apply: %s %q %v", r.Status, r.Message, r.Failures())
	}
	dry := DiffAll(context.Background(), []Target{secret("hunter2-new")}, opts)[0]
	ch, ok := changeOf(dry.Plan, object.Key{Kind: "Secret", Namespace: ns, Name: "creds"})
	if !ok || ch.Action != diff.Replace || len(ch.Fields) == 0 || !ch.Fields[0].Sensitive {
		t.Fatalf("the Secret's change: %+v", ch)
	}
	plan := diff.Plan{Clusters: []diff.ClusterPlan{dry.DiffPlan()}}
	var out bytes.Buffer
	diff.WriteText(&out, plan, diff.TextOptions{})
	diff.WriteMarkdown(&out, plan)
	diff.WriteJSON(&out, plan)
	for _, v := range []string{"hunter2", "aHVudGVyMi"} { // plain and base64
		if strings.Contains(out.String(), v) {
			t.Fatalf("the plan shows a Secret value:\n%s", out.String())
		}
	}
	if r := Reconcile(context.Background(), secret("hunter2-new"), opts); r.Status != Synced || r.Updated != 1 {
		t.Fatalf("apply: %s %q, %d updated; %v", r.Status, r.Message, r.Updated, r.Failures())
	}
}
