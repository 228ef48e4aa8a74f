package render

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"filippo.io/age"
	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"mcp.dev/mcp/internal/sopstest"
)

// TestSOPSReaderMatchesSops encrypts files with the sops library under
// each set of creation rules and checks that mcp's own reader decrypts
// them to what the library decrypts them to, and that it refuses them
// once a value the MAC covers was changed.
func TestSOPSReaderMatchesSops(t *testing.T) {
	id := sopstest.NewIdentity(t)
	files := map[string]string{
		"two.yaml": `# the database
apiVersion: v1
kind: Secret
metadata:
  name: db # inline
  namespace: web
  generation: 3
  creationTimestamp: 2026-01-02T03:04:05Z
  labels: {app: db, tier: "1"}
  annotations: {empty: "", none: null}
  finalizers: [a, b]
type: Opaque
immutable: true
ratio: 1.5
note_unencrypted: left as it is
stringData:
  password: hunter2
  multi: |
    line one
    line two
data:
  key: aGVsbG8=
---
apiVersion: v1
kind: Secret
metadata: {name: second}
stringData: {token: "12345", list: "[1, 2]"}
`,
		"one.json": `{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "labels": {"n": "2"}}, "count": 7, "ratio": 0.25, "on": false, "stringData": {"password": "hunter2", "user": "admin"}}`,
	}
	rules := map[string]sopstest.Options{
		"everything":            {}, // but keys ending in _unencrypted
		"data only":             {EncryptedRegex: sopstest.EncryptedRegex},
		"unencrypted regex":     {UnencryptedRegex: "^(apiVersion|kind)$"},
		"MAC of encrypted only": {EncryptedRegex: sopstest.EncryptedRegex, MACOnlyEncrypted: true},
	}
	for file, plain := range files {
		for name, opts := range rules {
			t.Run(file+"/"+name, func(t *testing.T) {
				enc := sopstest.EncryptWith(t, file, []byte(plain), opts, id.Recipient().String())
				want := decodeAll(t, sopstest.Decrypt(t, file, enc, id))
				got, err := openSOPS(enc, id)
				if err != nil {
					t.Fatalf("mcp's reader: %v", err)
				}
				if d := cmp.Diff(want, decodeAll(t, got)); d != "" {
					t.Errorf("mcp's reader and sops differ (-sops +mcp):\n%s", d)
				}
				if strings.Contains(string(enc), "hunter2") {
					t.Fatal("the password is not encrypted")
				}
			})
		}
	}

	// A changed plain value: caught by the MAC unless it covers only the
	// encrypted values, as in sops.
	for name, opts := range map[string]sopstest.Options{"MAC of every value": {EncryptedRegex: sopstest.EncryptedRegex}, "MAC of encrypted only": {EncryptedRegex: sopstest.EncryptedRegex, MACOnlyEncrypted: true}} {
		enc := sopstest.EncryptWith(t, "two.yaml", []byte(files["two.yaml"]), opts, id.Recipient().String())
		changed := bytes.Replace(enc, []byte("namespace: web"), []byte("namespace: kube-system"), 1)
		_, err := openSOPS(changed, id)
		if opts.MACOnlyEncrypted != (err == nil) {
			t.Errorf("%s: a changed plain value gives %v", name, err)
		}
		if err != nil && !strings.Contains(err.Error(), "MAC mismatch") {
			t.Errorf("%s: %v, want a MAC mismatch", name, err)
		}
	}
	// A ciphertext moved to another key does not decrypt: the path is
	// authenticated with it.
	enc := sopstest.Encrypt(t, "two.yaml", []byte(files["two.yaml"]), id.Recipient().String())
	docs, _, err := parseSOPS(enc)
	if err != nil {
		t.Fatal(err)
	}
	sd := mappingValue(docs[0].Content[0], "stringData")
	pw, multi := mappingValue(sd, "password"), mappingValue(sd, "multi")
	moved := bytes.Replace(enc, []byte(multi.Value), []byte(pw.Value), 1)
	if _, err := openSOPS(moved, id); err == nil || !strings.Contains(err.Error(), "stringData.multi: cannot decrypt") || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("a moved ciphertext: %v", err)
	}
}

// openSOPS is what unseal does, without the checks and marks of render.
func openSOPS(enc []byte, id age.Identity) ([]byte, error) {
	docs, meta, err := parseSOPS(enc)
	if err != nil {
		return nil, err
	}
	key, err := dataKey(meta, []age.Identity{id})
	if err != nil {
		return nil, err
	}
	if err := decryptDocs(docs, key, meta); err != nil {
		return nil, err
	}
	return emitDocs(docs)
}

func decodeAll(t *testing.T, data []byte) []any {
	t.Helper()
	var out []any
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var v any
		err := dec.Decode(&v)
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%v\n%s", err, data)
		}
		out = append(out, v)
	}
}
