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
)

// echoEncodings are the ways a careless policy puts a value it was sent
// into its denial message.
var echoEncodings = map[string]func(v string) string{
	"raw":            func(v string) string { return v },
	"%q":             func(v string) string { return fmt.Sprintf("%q", v) },
	"%+q":            func(v string) string { return fmt.Sprintf("%+q", v) },
	"json":           func(v string) string { b, _ := json.Marshal(v); return string(b) },
	"base64":         func(v string) string { return base64.StdEncoding.EncodeToString([]byte(v)) },
	"base64 url":     func(v string) string { return base64.URLEncoding.EncodeToString([]byte(v)) },
	"base64 raw":     func(v string) string { return base64.RawStdEncoding.EncodeToString([]byte(v)) },
	"base64 raw url": func(v string) string { return base64.RawURLEncoding.EncodeToString([]byte(v)) },
}

// echoingWebhook denies every object it is asked about and echoes each
// (decoded) value of its data in every one of echoEncodings.
func echoingWebhook(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var review struct {
			Request struct {
				UID    string `json:"uid"`
				Object struct {
					Data map[string]string `json:"data"`
				} `json:"object"`
			} `json:"request"`
		}
		if err := json.NewDecoder(r.Body).Decode(&review); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var msg strings.Builder
		msg.WriteString("policy echoes")
		for key, data := range review.Request.Object.Data {
			v, _ := base64.StdEncoding.DecodeString(data)
			for name, enc := range echoEncodings {
				fmt.Fprintf(&msg, "; %s as %s: %s", key, name, enc(string(v)))
			}
		}
		json.NewEncoder(w).Encode(map[string]any{
			"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
			"response": map[string]any{
				"uid": review.Request.UID, "allowed": false,
				"status": map[string]any{"code": 403, "message": msg.String()},
			},
		})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestWebhookEchoesSecretEncoded: a webhook that quotes, JSON-escapes and
// base64-encodes a Secret's values in its denial gets none of them into
// the errors mcp reports, neither the dry-run's nor the apply's.
func TestWebhookEchoesSecretEncoded(t *testing.T) {
	ctx := context.Background()
	echo := echoingWebhook(t)
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: echo.Certificate().Raw})
	cfg := fmt.Sprintf(`{"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
 "metadata": {"name": "mcp-test-echo"},
 "webhooks": [
  {"name": "echo.mcp.test", "admissionReviewVersions": ["v1"], "sideEffects": "None", "failurePolicy": "Fail", "timeoutSeconds": 5,
   "objectSelector": {"matchLabels": {"mcp-test/admission": "echo"}},
   "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["secrets"]}],
   "clientConfig": {"url": %q, "caBundle": %q}}
 ]}`, echo.URL+"/validate", base64.StdEncoding.EncodeToString(ca))
	obj := objects(t, cfg)[0].Obj
	if _, err := dyn(t, "eu").Resource(webhookGVR).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = dyn(t, "eu").Resource(webhookGVR).Delete(context.Background(), obj.GetName(), metav1.DeleteOptions{})
	})

	// Values whose encodings all differ from the value: quotes, a
	// backslash, a line break, HTML characters, non-ASCII.
	values := map[string]string{
		"password": "pa\"ss\\w<o>rd&\n-s3cret",
		"token":    "t\u00f6ken-\u20ac-\U0001d11e-42",
	}
	desired := objects(t, namespace("echo")+fmt.Sprintf(`---
apiVersion: v1
kind: Secret
metadata: {name: echoed, namespace: echo, labels: {mcp-test/admission: echo}}
stringData: {password: %q}
data: {token: %q}
`, values["password"], base64.StdEncoding.EncodeToString([]byte(values["token"]))))

	// The first apply creates the namespace, so the Secret's plan needs no
	// dry-run and its apply is refused; the second plan's dry-run is.
	a, _ := newApplier(t, "eu", testOptions(t))
	r := a.Apply(ctx, plan(t, a, desired))
	if len(r.Errors) != 1 || r.Errors[0].Key.Kind != "Secret" {
		t.Fatalf("want the Secret refused, got %v", r.Errors)
	}
	p := plan(t, a, desired)
	if len(p.Errors) != 1 {
		t.Fatalf("want the Secret's dry-run refused, got %v", p.Errors)
	}
	msgs := []string{"apply: " + r.Errors[0].Error(), "plan: " + p.Errors[0].Error()}
	for _, msg := range msgs {
		if !strings.Contains(msg, "policy echoes") || !strings.Contains(msg, "(redacted)") {
			t.Errorf("not the webhook's redacted message: %s", msg)
		}
		for key, v := range values {
			for name, enc := range echoEncodings {
				if form := enc(v); strings.Contains(msg, form) || strings.Contains(msg, strings.Trim(form, `"`)) {
					t.Errorf("%s as %s shows in %s", key, name, msg)
				}
			}
		}
	}
}
