package render

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
	"go.yaml.in/yaml/v3"
)

// SOPS files, read without the sops library: mcp opens only files whose
// data key an operator's age identity opens, so it needs only the file
// format (a "sops" mapping in the first document; every encrypted value
// ENC[AES256_GCM,data:...,iv:...,tag:...,type:...], authenticated with
// the path of its keys) and the MAC over the values. The library would
// bring the clients of every cloud KMS and key service into the binary.
// Anything this reader does not understand fails the file: a value that
// does not decrypt, or a MAC that does not match.

// sopsMeta is what mcp reads of a file's "sops" mapping.
type sopsMeta struct {
	Age []struct {
		Recipient string `yaml:"recipient"`
		Enc       string `yaml:"enc"`
	} `yaml:"age"`
	KeyGroups        []yaml.Node `yaml:"key_groups"`
	LastModified     string      `yaml:"lastmodified"`
	MAC              string      `yaml:"mac"`
	MACOnlyEncrypted bool        `yaml:"mac_only_encrypted"`
}

// sopsValue is the form of an encrypted value, as sops parses it.
var sopsValue = regexp.MustCompile(`^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]`)

// macOnlyEncryptedInit starts the MAC of a file with mac_only_encrypted,
// as sops does, so that its MAC differs from one over every value.
var macOnlyEncryptedInit = []byte{0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0xb, 0xb, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69}

// parseSOPS reads the documents of an encrypted YAML or JSON file (JSON
// is read as YAML) and the metadata of its first document, and takes the
// "sops" key out of every document.
func parseSOPS(data []byte) ([]*yaml.Node, sopsMeta, error) {
	var docs []*yaml.Node
	var meta sopsMeta
	found := false
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for i := 0; ; i++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, meta, err
		}
		if len(n.Content) != 1 || n.Content[0].Kind != yaml.MappingNode {
			return nil, meta, fmt.Errorf("document %d is not a mapping", i+1)
		}
		m := n.Content[0]
		for j := 0; j+1 < len(m.Content); j += 2 {
			if m.Content[j].Value != "sops" {
				continue
			}
			if i == 0 {
				if err := m.Content[j+1].Decode(&meta); err != nil {
					return nil, meta, fmt.Errorf("sops metadata: %v", err)
				}
				found = true
			}
			m.Content = append(m.Content[:j], m.Content[j+2:]...)
			break
		}
		docs = append(docs, &n)
	}
	if !found {
		return nil, meta, errors.New("no sops metadata in its first document")
	}
	return docs, meta, nil
}

// dataKey opens the file's data key with one of ids. Only age recipients
// are tried; key groups (Shamir's secret sharing) are not supported.
func dataKey(m sopsMeta, ids []age.Identity) ([]byte, error) {
	if len(m.KeyGroups) > 0 {
		return nil, fmt.Errorf("%d key groups: mcp decrypts files of one key group (no Shamir secret sharing)", len(m.KeyGroups))
	}
	var recipients []string
	for _, k := range m.Age {
		recipients = append(recipients, k.Recipient)
		if len(ids) == 0 {
			continue
		}
		r, err := age.Decrypt(armor.NewReader(strings.NewReader(k.Enc)), ids...)
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

// decryptDocs decrypts every encrypted value of docs in place with key,
// and checks the file's MAC over the values as sops computes it: each
// value's text, in document order, comments and nulls left out (with
// mac_only_encrypted, only the encrypted values). No error holds a value.
func decryptDocs(docs []*yaml.Node, key []byte, meta sopsMeta) error {
	h := sha512.New()
	if meta.MACOnlyEncrypted {
		h.Write(macOnlyEncryptedInit)
	}
	var walk func(n *yaml.Node, path []string) error
	walk = func(n *yaml.Node, path []string) error {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if err := walk(n.Content[i+1], append(path, n.Content[i].Value)); err != nil {
					return err
				}
			}
		case yaml.SequenceNode:
			for _, item := range n.Content {
				if err := walk(item, path); err != nil {
					return err
				}
			}
		case yaml.AliasNode:
			return walk(n.Alias, path)
		case yaml.ScalarNode:
			var v any
			if err := n.Decode(&v); err != nil {
				return fmt.Errorf("%s: %v", strings.Join(path, "."), err)
			}
			s, isStr := v.(string)
			encrypted := isStr && sopsValue.MatchString(s)
			if encrypted {
				plain, err := decryptValue(s, key, strings.Join(path, ":")+":")
				if err != nil {
					return fmt.Errorf("%s: cannot decrypt: the file is damaged or was changed after it was encrypted", strings.Join(path, "."))
				}
				if v, err = setPlain(n, plain); err != nil {
					return fmt.Errorf("%s: %v", strings.Join(path, "."), err)
				}
			}
			if v == nil || (meta.MACOnlyEncrypted && !encrypted) {
				return nil
			}
			b, err := macBytes(v)
			if err != nil {
				return fmt.Errorf("%s: %v", strings.Join(path, "."), err)
			}
			h.Write(b)
		}
		return nil
	}
	for _, d := range docs {
		if err := walk(d.Content[0], nil); err != nil {
			return err
		}
	}
	lm, err := time.Parse(time.RFC3339, meta.LastModified)
	if err != nil {
		return fmt.Errorf("sops metadata: lastmodified %q: %v", meta.LastModified, err)
	}
	stored, err := decryptValue(meta.MAC, key, lm.Format(time.RFC3339))
	if err != nil || stored.text != fmt.Sprintf("%X", h.Sum(nil)) {
		return errors.New("MAC mismatch: the file was changed after it was encrypted (tampered, or edited without sops)")
	}
	return nil
}

// plainValue is a decrypted value: its text and sops's type of it.
type plainValue struct {
	text, typ string
}

// decryptValue opens one ENC[...] value, authenticated with aad.
func decryptValue(v string, key []byte, aad string) (plainValue, error) {
	m := sopsValue.FindStringSubmatch(v)
	if m == nil {
		return plainValue{}, errors.New("not an encrypted value")
	}
	var parts [3][]byte
	for i := range parts {
		b, err := base64.StdEncoding.DecodeString(m[i+1])
		if err != nil {
			return plainValue{}, err
		}
		parts[i] = b
	}
	data, iv, tag := parts[0], parts[1], parts[2]
	block, err := aes.NewCipher(key)
	if err != nil {
		return plainValue{}, err
	}
	gcm, err := cipher.NewGCMWithNonceSize(block, len(iv))
	if err != nil {
		return plainValue{}, err
	}
	out, err := gcm.Open(nil, iv, append(data, tag...), []byte(aad))
	if err != nil {
		return plainValue{}, err
	}
	return plainValue{text: string(out), typ: m[4]}, nil
}

// setPlain writes a decrypted value into its node, typed as sops typed
// it, and returns the value as the MAC reads it.
func setPlain(n *yaml.Node, p plainValue) (any, error) {
	n.Value, n.Style = p.text, 0
	switch p.typ {
	case "str", "bytes":
		n.Tag = "!!str"
		return p.text, nil
	case "int":
		i, err := strconv.Atoi(p.text)
		n.Tag = "!!int"
		return i, err
	case "float":
		f, err := strconv.ParseFloat(p.text, 64)
		n.Tag = "!!float"
		return f, err
	case "bool":
		b, err := strconv.ParseBool(p.text)
		n.Tag, n.Value = "!!bool", strconv.FormatBool(b)
		return b, err
	case "time":
		var t time.Time
		err := t.UnmarshalText([]byte(p.text))
		n.Tag = "!!timestamp"
		return t, err
	}
	return nil, fmt.Errorf("an encrypted value of type %q, which mcp does not read", p.typ)
}

// macBytes is a value's text as sops's MAC reads it.
func macBytes(v any) ([]byte, error) {
	switch v := v.(type) {
	case string:
		return []byte(v), nil
	case int:
		return []byte(strconv.Itoa(v)), nil
	case float64:
		return []byte(strconv.FormatFloat(v, 'f', -1, 64)), nil
	case bool:
		if v {
			return []byte("True"), nil
		}
		return []byte("False"), nil
	case time.Time:
		return v.MarshalText()
	}
	return nil, fmt.Errorf("a value of type %T, which sops does not encrypt", v)
}

// emitDocs writes docs as YAML, without their comments: those of an
// encrypted file are ciphertext.
func emitDocs(docs []*yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	for _, d := range docs {
		dropComments(d)
		if err := enc.Encode(d); err != nil {
			return nil, err
		}
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func dropComments(n *yaml.Node) {
	n.HeadComment, n.LineComment, n.FootComment = "", "", ""
	for _, c := range n.Content {
		dropComments(c)
	}
}
