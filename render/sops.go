package render

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"slices"
	"strings"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	sopsage "github.com/getsops/sops/v3/age"
	sopsconfig "github.com/getsops/sops/v3/config"
	sopsjson "github.com/getsops/sops/v3/stores/json"
	sopsyaml "github.com/getsops/sops/v3/stores/yaml"
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

// sopsStore is the sops store of a file's format.
type sopsStore interface {
	LoadEncryptedFile(in []byte) (sops.Tree, error)
	EmitPlainFile(sops.TreeBranches) ([]byte, error)
}

func storeFor(file string) sopsStore {
	if path.Ext(file) == ".json" {
		return sopsjson.NewStore(&sopsconfig.JSONStoreConfig{})
	}
	return sopsyaml.NewStore(&sopsconfig.YAMLStoreConfig{})
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
	store := storeFor(file)
	tree, err := store.LoadEncryptedFile(data)
	if err != nil {
		return nil, fail("not a SOPS file mcp can read: %v", err)
	}
	key, err := dataKey(tree.Metadata, dec.AgeIdentities)
	mark := markDecrypted
	switch {
	case err != nil && errors.Is(err, ErrNoKey) && dec.KeepEncrypted:
		mark = markSealed
		if err := clearOutsideData(tree.Branches); err != nil {
			return nil, fail("%v", err)
		}
	case err != nil:
		return nil, fail("%v", err)
	default:
		computed, err := tree.Decrypt(key, aes.NewCipher())
		if err != nil {
			return nil, fail("cannot decrypt: the file is damaged or was changed after it was encrypted")
		}
		stored, err := aes.NewCipher().Decrypt(tree.Metadata.MessageAuthenticationCode, key, tree.Metadata.LastModified.Format(time.RFC3339))
		if err != nil || stored != computed {
			return nil, fail("MAC mismatch: the file was changed after it was encrypted (tampered, or edited without sops)")
		}
	}
	for i := range tree.Branches {
		if err := onlySecret(tree.Branches[i]); err != nil {
			return nil, fail("%v", err)
		}
		tree.Branches[i] = markBranch(tree.Branches[i], nonce+":"+mark)
	}
	out, err := store.EmitPlainFile(tree.Branches)
	if err != nil {
		return nil, fail("cannot write the decrypted document")
	}
	return out, nil
}

// dataKey opens the file's data key with one of ids. Only age recipients
// are tried; key groups (Shamir's secret sharing) are not supported.
func dataKey(m sops.Metadata, ids []age.Identity) ([]byte, error) {
	if len(m.KeyGroups) != 1 {
		return nil, fmt.Errorf("%d key groups: mcp decrypts files of one key group (no Shamir secret sharing)", len(m.KeyGroups))
	}
	var recipients []string
	for _, k := range m.KeyGroups[0] {
		ak, ok := k.(*sopsage.MasterKey)
		if !ok {
			continue
		}
		recipients = append(recipients, ak.Recipient)
		if len(ids) == 0 {
			continue
		}
		r, err := age.Decrypt(armor.NewReader(strings.NewReader(ak.EncryptedKey)), ids...)
		if err != nil {
			continue
		}
		key, err := io.ReadAll(io.LimitReader(r, 64))
		if err == nil && len(key) == 32 {
			return key, nil
		}
	}
	if len(recipients) == 0 {
		return nil, fmt.Errorf("the file has no age recipient: mcp decrypts with age keys only")
	}
	return nil, fmt.Errorf("%w (recipients %s; keys are read from <credentials-dir>/sops/)", ErrNoKey, strings.Join(recipients, ", "))
}

// onlySecret refuses a document that is not a core Secret: mcp masks the
// values of Secrets only, so nothing else may hold what was encrypted.
func onlySecret(b sops.TreeBranch) error {
	var apiVersion, kind any
	for _, it := range b {
		switch it.Key {
		case "apiVersion":
			apiVersion = it.Value
		case "kind":
			kind = it.Value
		}
	}
	if apiVersion != "v1" || kind != "Secret" {
		return fmt.Errorf("only Secrets (apiVersion v1) may be encrypted, this document is apiVersion %v, kind %v", clip(apiVersion), clip(kind))
	}
	return nil
}

// clip keeps what an error says of a value short and never encrypted.
func clip(v any) string {
	s := fmt.Sprint(v)
	if v == nil || encValue.MatchString(s) {
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
func clearOutsideData(bs sops.TreeBranches) error {
	var found []string
	var walk func(p string, v any)
	walk = func(p string, v any) {
		switch x := v.(type) {
		case sops.TreeBranch:
			for _, it := range x {
				walk(p+"."+fmt.Sprint(it.Key), it.Value)
			}
		case []any:
			for i, e := range x {
				walk(fmt.Sprintf("%s[%d]", p, i), e)
			}
		case string:
			if encValue.MatchString(x) {
				found = append(found, strings.TrimPrefix(p, "."))
			}
		}
	}
	for _, b := range bs {
		for _, it := range b {
			if it.Key == "data" || it.Key == "stringData" {
				continue
			}
			walk("."+fmt.Sprint(it.Key), it.Value)
		}
	}
	if len(found) > 0 {
		return fmt.Errorf("%w; without a key only values below data and stringData may be encrypted (encrypted_regex: ^(data|stringData)$), not %s", ErrNoKey, strings.Join(found, ", "))
	}
	return nil
}

// markBranch sets metadata.annotations[encMarker] of a document.
func markBranch(b sops.TreeBranch, value string) sops.TreeBranch {
	meta := subBranch(b, "metadata")
	ann := append(slices.Clone(subBranch(meta, "annotations")), sops.TreeItem{Key: encMarker, Value: value})
	return setBranch(b, "metadata", setBranch(meta, "annotations", ann))
}

// subBranch is the mapping under key of b, nil when there is none.
func subBranch(b sops.TreeBranch, key string) sops.TreeBranch {
	for _, it := range b {
		if it.Key == key {
			sub, _ := it.Value.(sops.TreeBranch)
			return sub
		}
	}
	return nil
}

// setBranch returns b with key set to v.
func setBranch(b sops.TreeBranch, key string, v sops.TreeBranch) sops.TreeBranch {
	b = slices.Clone(b)
	for i := range b {
		if b[i].Key == key {
			b[i].Value = v
			return b
		}
	}
	return append(b, sops.TreeItem{Key: key, Value: v})
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
