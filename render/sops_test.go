package render

import (
	"context"
	"errors"
	"strings"
	"testing"

	"filippo.io/age"

	"mcp.dev/mcp/internal/sopstest"
	"mcp.dev/mcp/source"
)

const plainSecret = `apiVersion: v1
kind: Secret
metadata: {name: db, namespace: web}
stringData:
  password: hunter2-${var.x}
  user: admin
`

// TestEncryptedManifests: a SOPS file is decrypted with the operator's age
// key, in plain directories and as a kustomize resource; tampering, a
// missing key and a non-Secret are refused naming the file; without keys
// an offline render keeps the ciphertexts.
func TestEncryptedManifests(t *testing.T) {
	id, other := sopstest.NewIdentity(t), sopstest.NewIdentity(t)
	enc := sopstest.Encrypt(t, "s.yaml", []byte(plainSecret), id.Recipient().String())
	withKey := Decryption{AgeIdentities: []age.Identity{id}}
	kustomized := strings.Replace(baseConfig, "path: apps", "path: apps/k", 1)

	tests := map[string]struct {
		config string
		files  map[string]string
		dec    Decryption
		want   string // an error line; "" renders
		sealed bool
	}{
		"decrypted":          {baseConfig, map[string]string{"apps/s.yaml": string(enc)}, withKey, "", false},
		"kustomize resource": {kustomized, map[string]string{"apps/k/kustomization.yaml": "resources: [s.yaml]\nnamePrefix: x-\n", "apps/k/s.yaml": string(enc)}, withKey, "", false},
		"json": {baseConfig, map[string]string{"apps/s.json": string(sopstest.Encrypt(t, "s.json",
			[]byte(`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","namespace":"web"},"stringData":{"password":"hunter2-${var.x}","user":"admin"}}`), id.Recipient().String()))}, withKey, "", false},
		"tampered":         {baseConfig, map[string]string{"apps/s.yaml": string(sopstest.Edit(t, "s.yaml", enc, id, "evil", true, "stringData", "password"))}, withKey, "apps/s.yaml: cluster c1: placement p: SOPS-encrypted file: MAC mismatch", false},
		"no key":           {baseConfig, map[string]string{"apps/s.yaml": string(enc)}, Decryption{AgeIdentities: []age.Identity{other}}, "apps/s.yaml: cluster c1: placement p: SOPS-encrypted file: no age key of the operator decrypts it", false},
		"no keys":          {baseConfig, map[string]string{"apps/s.yaml": string(enc)}, Decryption{}, "apps/s.yaml: cluster c1: placement p: SOPS-encrypted file: no age key", false},
		"kept sealed":      {baseConfig, map[string]string{"apps/s.yaml": string(enc)}, Decryption{KeepEncrypted: true}, "", true},
		"kustomize no key": {kustomized, map[string]string{"apps/k/kustomization.yaml": "resources: [s.yaml]\n", "apps/k/s.yaml": string(enc)}, Decryption{}, "apps/k/s.yaml: cluster c1: placement p: SOPS-encrypted file: no age key", false},
		"not a Secret": {baseConfig, map[string]string{"apps/s.yaml": string(sopstest.Encrypt(t, "s.yaml", []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: b}\n"), id.Recipient().String()))}, withKey,
			`apps/s.yaml: cluster c1: placement p: SOPS-encrypted file: only Secrets (apiVersion v1) may be encrypted, this document is apiVersion "v1", kind "ConfigMap"`, false},
		"forged marker": {baseConfig, map[string]string{"apps/s.yaml": "apiVersion: v1\nkind: Secret\nmetadata: {name: x, annotations: {mcp.dev/sops: decrypted}}\n"}, withKey, "annotation mcp.dev/sops is mcp's own", false},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			cfg := strings.Replace(tc.config, "clusterSelector: {}", "clusterSelector: {}, vars: {x: y}", 1)
			files := map[string]string{"mcp.yaml": cfg}
			for k, v := range tc.files {
				files[k] = v
			}
			f, err := Render(context.Background(), source.Snapshot{Dir: writeRepo(t, files)}, Options{Decryption: tc.dec})
			if err != nil {
				t.Fatal(err)
			}
			if tc.want != "" {
				if !errors.Is(f.Err(), ErrEncrypted) && !strings.Contains(tc.want, "mcp's own") {
					t.Errorf("error is not %v: %v", ErrEncrypted, f.Err())
				}
				assertLine(t, f.Err(), tc.want)
				if strings.Contains(f.Err().Error(), "hunter2") {
					t.Errorf("the error holds a decrypted value: %v", f.Err())
				}
				return
			}
			if f.Err() != nil {
				t.Fatal(f.Err())
			}
			objs := f.Clusters[0].Objects
			if len(objs) != 1 || !objs[0].Encrypted || objs[0].Sealed != tc.sealed {
				t.Fatalf("objects %+v", objs)
			}
			o := objs[0].Obj
			if _, marked := o.GetAnnotations()[encMarker]; marked {
				t.Errorf("the marker stayed: %v", o.GetAnnotations())
			}
			if _, ok := o.Object["sops"]; ok {
				t.Error("the sops metadata stayed")
			}
			pw, _ := o.Object["stringData"].(map[string]any)["password"].(string)
			switch {
			case tc.sealed && !strings.HasPrefix(pw, "ENC[AES256_GCM,"):
				t.Errorf("sealed password = %q, want the ciphertext", pw)
			case !tc.sealed && pw != "hunter2-${var.x}":
				t.Errorf("password = %q, want it decrypted and not substituted", pw)
			}
		})
	}

	// Substitution runs on a decrypted Secret that asks for it.
	opted := strings.Replace(plainSecret, "namespace: web}", "namespace: web, annotations: {mcp.dev/substitute: enabled}}", 1)
	files := map[string]string{
		"mcp.yaml":    strings.Replace(baseConfig, "clusterSelector: {}", "clusterSelector: {}, vars: {x: y}", 1),
		"apps/s.yaml": string(sopstest.Encrypt(t, "s.yaml", []byte(opted), id.Recipient().String())),
	}
	f, err := Render(context.Background(), source.Snapshot{Dir: writeRepo(t, files)}, Options{Decryption: withKey})
	if err != nil || f.Err() != nil {
		t.Fatal(err, f.Err())
	}
	if pw := f.Clusters[0].Objects[0].Obj.Object["stringData"].(map[string]any)["password"]; pw != "hunter2-y" {
		t.Errorf("password = %q, want it substituted", pw)
	}
}
