package diff

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"mcp.dev/mcp/internal/object"
)

// TestSecretValuesNeverShown checks every action and every output format:
// neither a Secret value nor its base64 form may appear anywhere, and the
// plan itself must not hold it.
func TestSecretValuesNeverShown(t *testing.T) {
	const oldValue, newValue = "old-hunter2-value", "new-correct-horse-value"
	secret := func(field, value string) *unstructured.Unstructured {
		if field == "data" {
			value = base64.StdEncoding.EncodeToString([]byte(value))
		}
		return obj(t, fmt.Sprintf(`
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: shop
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"stringData":{"password":"%s"}}'
%s: {password: %s}`, value, field, value))
	}
	tests := map[string]struct {
		before, after *unstructured.Unstructured
		action        Action
	}{
		"create from stringData": {after: secret("stringData", newValue), action: Create},
		"create from data":       {after: secret("data", newValue), action: Create},
		"delete":                 {before: secret("data", oldValue), action: Delete},
		"update data":            {before: secret("data", oldValue), after: secret("data", newValue), action: Update},
		"update stringData":      {before: secret("data", oldValue), after: secret("stringData", newValue), action: Update},
		"data added": {
			before: obj(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: shop}"),
			after:  secret("stringData", newValue), action: Update,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ref := tc.after
			if ref == nil {
				ref = tc.before
			}
			ch := ChangeFor(object.KeyOf(ref), tc.before, tc.after)
			if ch.Action != tc.action {
				t.Fatalf("action %v, want %v", ch.Action, tc.action)
			}
			plan := Plan{Clusters: []ClusterPlan{{Cluster: "c", Changes: []Change{ch}}}}
			var text, color, md, js bytes.Buffer
			mustWrite(t, WriteText(&text, plan, TextOptions{}))
			mustWrite(t, WriteText(&color, plan, TextOptions{Color: true, ShowUnchanged: true}))
			mustWrite(t, WriteMarkdown(&md, plan))
			mustWrite(t, WriteJSON(&js, plan))
			outputs := map[string]string{
				"text": text.String(), "color": color.String(), "markdown": md.String(), "json": js.String(),
				// The plan in memory.
				"plan": fmt.Sprintf("%#v", plan),
			}
			for format, out := range outputs {
				for _, v := range []string{oldValue, newValue} {
					for _, form := range []string{v, base64.StdEncoding.EncodeToString([]byte(v))} {
						if strings.Contains(out, form) {
							t.Errorf("%s output holds the secret value %q:\n%s", format, form, out)
						}
					}
				}
			}
			if tc.action == Update && !strings.Contains(text.String(), ": (sensitive value changed)") {
				t.Errorf("text output does not say the value changed:\n%s", text.String())
			}
		})
	}
}

func mustWrite(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestUndecryptedNote: a plan of encrypted files compared by ciphertext
// says so in every format, and shows their changed values as sensitive.
func TestUndecryptedNote(t *testing.T) {
	secret := func(pw string) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Secret",
			"metadata": map[string]any{"name": "db", "namespace": "web"}, "stringData": map[string]any{"password": pw, "user": "ENC[AES256_GCM,data:u,iv:i,tag:t,type:str]"}}}
	}
	c := NewClusterPlan("eu", []*unstructured.Unstructured{secret("ENC[AES256_GCM,data:a,iv:b,tag:c,type:str]")}, []*unstructured.Unstructured{secret("ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]")})
	c.Undecrypted = []string{"apps/web/db.sops.yaml"}
	p := Plan{Clusters: []ClusterPlan{c}}
	var text, md, js bytes.Buffer
	if err := WriteText(&text, p, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&md, p); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&js, p); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		out  string
		want []string
	}{
		"text":     {text.String(), []string{"data.password: (sensitive value changed)", "note: values not decrypted (no age key), compared by ciphertext: apps/web/db.sops.yaml"}},
		"markdown": {md.String(), []string{"data.password: (sensitive value changed)", "note: values not decrypted"}},
		"json":     {js.String(), []string{`"undecrypted": [`, `"apps/web/db.sops.yaml"`, `"sensitive": true`}},
	} {
		for _, w := range tc.want {
			if !strings.Contains(tc.out, w) {
				t.Errorf("%s lacks %q:\n%s", name, w, tc.out)
			}
		}
		if strings.Contains(tc.out, "ENC[") || strings.Contains(tc.out, "data.user") {
			t.Errorf("%s shows a ciphertext or an unchanged value:\n%s", name, tc.out)
		}
	}
}
