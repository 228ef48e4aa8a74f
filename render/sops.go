package render

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"filippo.io/age"
	"go.yaml.in/yaml/v3"
)

// Decryption says how render decrypts SOPS-encrypted manifests. Keys
// come from the operator (files under --credentials-dir), never from the
// repo; only age identities are used, so decryption stays offline: no key
// service, no cloud KMS, no program.
type Decryption struct {
	// AgeIdentities decrypt the data key of an encrypted file.
	AgeIdentities []age.Identity
	// KeepEncrypted leaves a file that no identity decrypts as it is
	// instead of failing the clusters that place it: its Secret values
	// are their ciphertexts, so that a diff without keys still shows which
	// values changed. Only for offline commands, whose objects are never
	// applied.
	KeepEncrypted bool
}

// encMarker marks, for the length of one render, the documents that came
// from an encrypted file, so that they are recognised after kustomize
// built them. Its value holds a random nonce: the repo cannot forge it,
// and any other value is refused as an mcp.dev/ annotation.
const encMarker = "mcp.dev/sops"

// Values of encMarker after the nonce.
const (
	markDecrypted = "decrypted"
	markSealed    = "encrypted" // kept encrypted: no key (KeepEncrypted)
)

// encValue is the form of every value sops encrypted.
var encValue = regexp.MustCompile(`^ENC\[AES256_GCM,data:.*,iv:.*,tag:.*,type:.*\]$`)

func newNonce() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// isEncrypted reports whether data is a SOPS-encrypted file: a document
// with a top-level "sops" mapping that holds a mac.
func isEncrypted(data []byte) bool {
	if !bytes.Contains(data, []byte("sops")) {
		return false
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		if dec.Decode(&n) != nil {
			return false
		}
		if len(n.Content) == 0 || n.Content[0].Kind != yaml.MappingNode {
			continue
		}
		m := n.Content[0]
		for i := 0; i+1 < len(m.Content); i += 2 {
			if m.Content[i].Value != "sops" || m.Content[i+1].Kind != yaml.MappingNode {
				continue
			}
			for j := 0; j+1 < len(m.Content[i+1].Content); j += 2 {
				if m.Content[i+1].Content[j].Value == "mac" {
					return true
				}
			}
		}
	}
}

// unseal decrypts an encrypted file and returns it as plain text, every
// document marked with encMarker. Only Secrets may be encrypted. Without
// a key that opens it, the file fails, unless dec.KeepEncrypted: then it
// is returned with its values still encrypted. No error holds a
// decrypted value.
func unseal(file string, data []byte, dec Decryption, nonce string) ([]byte, error) {
	fail := func(format string, args ...any) error {
		return &Error{File: file, Err: fmt.Errorf("%w: "+format, append([]any{ErrEncrypted}, args...)...)}
	}
	docs, meta, err := parseSOPS(data)
	if err != nil {
		return nil, fail("not a SOPS file mcp can read: %v", err)
	}
	key, err := dataKey(meta, dec.AgeIdentities)
	mark := markDecrypted
	switch {
	case err != nil && errors.Is(err, ErrNoKey) && dec.KeepEncrypted:
		mark = markSealed
		if err := clearOutsideData(docs); err != nil {
			return nil, fail("%v", err)
		}
	case err != nil:
		return nil, fail("%v", err)
	default:
		if err := decryptDocs(docs, key, meta); err != nil {
			return nil, fail("%v", err)
		}
	}
	for _, d := range docs {
		if err := onlySecret(d.Content[0]); err != nil {
			return nil, fail("%v", err)
		}
		markDoc(d.Content[0], nonce+":"+mark)
	}
	out, err := emitDocs(docs)
	if err != nil {
		return nil, fail("cannot write the decrypted document")
	}
	return out, nil
}

// onlySecret refuses a document that is not a core Secret: mcp masks the
// values of Secrets only, so nothing else may hold what was encrypted.
func onlySecret(m *yaml.Node) error {
	var apiVersion, kind string
	if n := mappingValue(m, "apiVersion"); n != nil && n.Kind == yaml.ScalarNode {
		apiVersion = n.Value
	}
	if n := mappingValue(m, "kind"); n != nil && n.Kind == yaml.ScalarNode {
		kind = n.Value
	}
	if apiVersion != "v1" || kind != "Secret" {
		return fmt.Errorf("only Secrets (apiVersion v1) may be encrypted, this document is apiVersion %v, kind %v", clip(apiVersion), clip(kind))
	}
	return nil
}

// clip keeps what an error says of a value short and never encrypted.
func clip(s string) string {
	if s == "" || encValue.MatchString(s) {
		return "(encrypted or absent)"
	}
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return fmt.Sprintf("%q", s)
}

// clearOutsideData refuses an undecrypted file whose encrypted values lie
// outside data and stringData: without a key nothing else could be read
// (encrypt with encrypted_regex: ^(data|stringData)$).
func clearOutsideData(docs []*yaml.Node) error {
	var found []string
	var walk func(p string, n *yaml.Node)
	walk = func(p string, n *yaml.Node) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				walk(p+"."+n.Content[i].Value, n.Content[i+1])
			}
		case yaml.SequenceNode:
			for i, e := range n.Content {
				walk(fmt.Sprintf("%s[%d]", p, i), e)
			}
		case yaml.ScalarNode:
			if encValue.MatchString(n.Value) {
				found = append(found, strings.TrimPrefix(p, "."))
			}
		}
	}
	for _, d := range docs {
		m := d.Content[0]
		for i := 0; i+1 < len(m.Content); i += 2 {
			if k := m.Content[i].Value; k != "data" && k != "stringData" {
				walk("."+k, m.Content[i+1])
			}
		}
	}
	if len(found) > 0 {
		return fmt.Errorf("%w; without a key only values below data and stringData may be encrypted (encrypted_regex: ^(data|stringData)$), not %s", ErrNoKey, strings.Join(found, ", "))
	}
	return nil
}

// markDoc sets metadata.annotations[encMarker] of a document's mapping.
func markDoc(m *yaml.Node, value string) {
	meta := childMapping(m, "metadata")
	ann := childMapping(meta, "annotations")
	ann.Content = append(ann.Content,
		&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: encMarker},
		&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: value})
}

// childMapping is the mapping under key of m, added when missing or not
// a mapping.
func childMapping(m *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			if c := m.Content[i+1]; c.Kind == yaml.MappingNode {
				return c
			}
			c := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			m.Content[i+1] = c
			return c
		}
	}
	c := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, c)
	return c
}

// takeMark removes encMarker from a document and says what it was: ""
// for a document of a plain file, markDecrypted or markSealed. A marker
// of another nonce stays, and is refused with the other mcp.dev/ keys.
func takeMark(d *doc, nonce string) string {
	meta, _ := d.obj["metadata"].(map[string]any)
	ann, _ := meta["annotations"].(map[string]any)
	v, _ := ann[encMarker].(string)
	rest, ok := strings.CutPrefix(v, nonce+":")
	if nonce == "" || !ok {
		return ""
	}
	delete(ann, encMarker)
	if m := mappingValue(d.node, "metadata"); m != nil {
		if a := mappingValue(m, "annotations"); a != nil {
			for i := 0; i+1 < len(a.Content); i += 2 {
				if a.Content[i].Value == encMarker {
					a.Content = append(a.Content[:i], a.Content[i+2:]...)
					break
				}
			}
		}
	}
	return rest
}

func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return resolveAlias(n.Content[i+1])
		}
	}
	return nil
}
