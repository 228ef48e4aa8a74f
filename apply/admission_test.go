package apply

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var webhookGVR = schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "validatingwebhookconfigurations"}

// denyingWebhook serves admission reviews the way a policy engine does: it
// denies every object it is asked about, quoting the object's data in its
// message (as careless policies do).
func denyingWebhook(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var review struct {
			Request struct {
				UID    string          `json:"uid"`
				Object json.RawMessage `json:"object"`
			} `json:"request"`
		}
		if err := json.NewDecoder(r.Body).Decode(&review); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{
			"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
			"response": map[string]any{
				"uid": review.Request.UID, "allowed": false,
				"status": map[string]any{"code": 403, "message": "policy says no to " + string(review.Request.Object)},
			},
		})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestAdmissionWebhooksDeny: objects refused by admission, by a webhook
// that denies and by one whose Service has no endpoints (failurePolicy
// Fail), are reported one by one with the webhook's message; the others
// are applied; a Secret's values never show in the message.
func TestAdmissionWebhooksDeny(t *testing.T) {
	ctx := context.Background()
	deny := denyingWebhook(t)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: deny.Certificate().Raw})
	// A Service that does not exist has no endpoints: with failurePolicy
	// Fail its webhook refuses everything it matches.
	const none, fail = "no-endpoints", "Fail"
	cfg := fmt.Sprintf(`{"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
 "metadata": {"name": "mcp-test-deny"},
 "webhooks": [
  {"name": "deny.mcp.test", "admissionReviewVersions": ["v1"], "sideEffects": "None", "failurePolicy": "Fail", "timeoutSeconds": 5,
   "objectSelector": {"matchLabels": {"mcp-test/admission": "deny"}},
   "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["configmaps", "secrets"]}],
   "clientConfig": {"url": %q, "caBundle": %q}},
  {"name": "down.mcp.test", "admissionReviewVersions": ["v1"], "sideEffects": "None", "failurePolicy": %q, "timeoutSeconds": 5,
   "objectSelector": {"matchLabels": {"mcp-test/admission": "down"}},
   "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["configmaps"]}],
   "clientConfig": {"service": {"namespace": "default", "name": %q, "port": 443}}}
 ]}`, deny.URL+"/validate", base64.StdEncoding.EncodeToString(ca), fail, none)
	obj := objects(t, cfg)[0].Obj
	if _, err := dyn(t, "eu").Resource(webhookGVR).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = dyn(t, "eu").Resource(webhookGVR).Delete(context.Background(), obj.GetName(), metav1.DeleteOptions{})
	})

	const value = "s3cret-Adm1ssion-value"
	a, _ := newApplier(t, "eu", testOptions(t))
	desired := objects(t, namespace("admission")+configMaps("admission", 3)+`---
apiVersion: v1
kind: ConfigMap
metadata: {name: denied, namespace: admission, labels: {mcp-test/admission: deny}}
data: {a: b}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: unreachable-webhook, namespace: admission, labels: {mcp-test/admission: down}}
data: {a: b}
---
apiVersion: v1
kind: Secret
metadata: {name: denied, namespace: admission, labels: {mcp-test/admission: deny}}
stringData: {password: `+value+`}
`)
	r := a.Apply(ctx, plan(t, a, desired))
	if r.Err != nil || r.Created != 4 || r.Failed != 3 {
		t.Fatalf("err %v, created %d, failed %d: %v", r.Err, r.Created, r.Failed, r.Errors)
	}
	for _, e := range r.Errors {
		msg := e.Error()
		switch {
		case e.Key.Name == "unreachable-webhook":
			if !strings.Contains(msg, "down.mcp.test") {
				t.Errorf("%s: %s", e.Key, msg)
			}
		case e.Key.Kind == "Secret":
			if !strings.Contains(msg, "policy says no") {
				t.Errorf("%s: %s", e.Key, msg)
			}
			for _, s := range []string{value, base64.StdEncoding.EncodeToString([]byte(value))} {
				if strings.Contains(msg, s) {
					t.Errorf("the Secret's value shows in its error: %s", msg)
				}
			}
		default:
			if e.Key.Name != "denied" || !strings.Contains(msg, "policy says no") || !strings.Contains(msg, "test.yaml") {
				t.Errorf("%s: %s", e.Key, msg)
			}
		}
	}
	// Nothing refused is live; everything else is.
	for _, name := range []string{"denied", "unreachable-webhook"} {
		if _, err := dyn(t, "eu").Resource(configMapGVR).Namespace("admission").Get(ctx, name, metav1.GetOptions{}); err == nil {
			t.Errorf("refused ConfigMap %s exists", name)
		}
	}
}
