// Package sopstest encrypts manifests the way the sops tool does, with age
// keys, for tests: no sops binary is needed.
//
//	id := sopstest.NewIdentity(t)
//	enc := sopstest.Encrypt(t, "secret.yaml", plain, id.Recipient().String())
package sopstest

import (
	"bytes"
	"crypto/rand"
	"io"
	"path"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/getsops/sops/v3"
	"github.com/getsops/sops/v3/aes"
	sopsage "github.com/getsops/sops/v3/age"
	sopsconfig "github.com/getsops/sops/v3/config"
	sopsjson "github.com/getsops/sops/v3/stores/json"
	sopsyaml "github.com/getsops/sops/v3/stores/yaml"
)

// EncryptedRegex is what the docs tell users to put in .sops.yaml.
const EncryptedRegex = "^(data|stringData)$"

// NewIdentity generates an age X25519 key.
func NewIdentity(t testing.TB) *age.X25519Identity {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

type store interface {
	LoadPlainFile([]byte) (sops.TreeBranches, error)
	LoadEncryptedFile([]byte) (sops.Tree, error)
	EmitEncryptedFile(sops.Tree) ([]byte, error)
}

func storeFor(file string) store {
	if path.Ext(file) == ".json" {
		return sopsjson.NewStore(&sopsconfig.JSONStoreConfig{})
	}
	return sopsyaml.NewStore(&sopsconfig.YAMLStoreConfig{})
}

// Encrypt encrypts plain (YAML or JSON, by file's extension) for the age
// recipients, values below data and stringData only, as
// `sops -e --encrypted-regex '^(data|stringData)$'` does.
func Encrypt(t testing.TB, file string, plain []byte, recipients ...string) []byte {
	t.Helper()
	return EncryptWith(t, file, plain, Options{EncryptedRegex: EncryptedRegex}, recipients...)
}

// Options are the creation rules of .sops.yaml that choose what is
// encrypted and what the MAC covers.
type Options struct {
	EncryptedRegex, UnencryptedSuffix, UnencryptedRegex string
	MACOnlyEncrypted                                    bool
}

// EncryptWith encrypts plain as Encrypt does, with the rules of opts
// (none: every value is encrypted but those of keys ending in
// _unencrypted, as plain `sops -e` does).
func EncryptWith(t testing.TB, file string, plain []byte, opts Options, recipients ...string) []byte {
	t.Helper()
	if opts.EncryptedRegex == "" && opts.UnencryptedRegex == "" && opts.UnencryptedSuffix == "" {
		opts.UnencryptedSuffix = "_unencrypted"
	}
	st := storeFor(file)
	branches, err := st.LoadPlainFile(plain)
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	var group sops.KeyGroup
	for _, r := range recipients {
		mk, err := sopsage.MasterKeyFromRecipient(r)
		if err != nil {
			t.Fatal(err)
		}
		if err := mk.Encrypt(key); err != nil {
			t.Fatal(err)
		}
		group = append(group, mk)
	}
	tree := sops.Tree{Branches: branches, Metadata: sops.Metadata{
		KeyGroups:         []sops.KeyGroup{group},
		EncryptedRegex:    opts.EncryptedRegex,
		UnencryptedSuffix: opts.UnencryptedSuffix,
		UnencryptedRegex:  opts.UnencryptedRegex,
		MACOnlyEncrypted:  opts.MACOnlyEncrypted,
		Version:           "3.13.3",
		LastModified:      time.Now().UTC().Truncate(time.Second),
	}}
	mac, err := tree.Encrypt(key, aes.NewCipher())
	if err != nil {
		t.Fatal(err)
	}
	if tree.Metadata.MessageAuthenticationCode, err = aes.NewCipher().Encrypt(mac, key, tree.Metadata.LastModified.Format(time.RFC3339)); err != nil {
		t.Fatal(err)
	}
	out, err := st.EmitEncryptedFile(tree)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Edit changes the value at path (e.g. "stringData", "password") of the
// first document of an encrypted file the way `sops edit` does: only that
// value is encrypted again, the others keep their ciphertexts, and the
// MAC is updated. With tamper, the MAC is left as it was.
func Edit(t testing.TB, file string, enc []byte, id age.Identity, value string, tamper bool, keyPath ...string) []byte {
	t.Helper()
	st := storeFor(file)
	tree, err := st.LoadEncryptedFile(enc)
	if err != nil {
		t.Fatal(err)
	}
	key := dataKey(t, tree, id)
	old, ok := lookup(tree.Branches[0], keyPath)
	if !ok {
		t.Fatalf("no value at %v", keyPath)
	}
	c, err := aes.NewCipher().Encrypt(value, key, strings.Join(keyPath, ":")+":")
	if err != nil {
		t.Fatal(err)
	}
	out := bytes.Replace(enc, []byte(old), []byte(c), 1)
	if tamper {
		return out
	}
	edited, err := st.LoadEncryptedFile(out)
	if err != nil {
		t.Fatal(err)
	}
	mac, err := edited.Decrypt(key, aes.NewCipher())
	if err != nil {
		t.Fatal(err)
	}
	newMAC, err := aes.NewCipher().Encrypt(mac, key, edited.Metadata.LastModified.Format(time.RFC3339))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Replace(out, []byte(tree.Metadata.MessageAuthenticationCode), []byte(newMAC), 1)
}

func dataKey(t testing.TB, tree sops.Tree, id age.Identity) []byte {
	t.Helper()
	for _, k := range tree.Metadata.KeyGroups[0] {
		mk, ok := k.(*sopsage.MasterKey)
		if !ok {
			continue
		}
		r, err := age.Decrypt(armor.NewReader(strings.NewReader(mk.EncryptedKey)), id)
		if err != nil {
			continue
		}
		key, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return key
	}
	t.Fatal("the identity decrypts no key of the file")
	return nil
}

func lookup(b sops.TreeBranch, keyPath []string) (string, bool) {
	var v any = b
	for _, k := range keyPath {
		br, ok := v.(sops.TreeBranch)
		if !ok {
			return "", false
		}
		found := false
		for _, it := range br {
			if it.Key == k {
				v, found = it.Value, true
				break
			}
		}
		if !found {
			return "", false
		}
	}
	s, ok := v.(string)
	return s, ok
}

// Decrypt decrypts an encrypted file with the sops library, checks its
// MAC, and returns it as plain text in the file's format: the reference
// mcp's own reader is compared with.
func Decrypt(t testing.TB, file string, enc []byte, id age.Identity) []byte {
	t.Helper()
	st := storeFor(file)
	tree, err := st.LoadEncryptedFile(enc)
	if err != nil {
		t.Fatal(err)
	}
	key := dataKey(t, tree, id)
	mac, err := tree.Decrypt(key, aes.NewCipher())
	if err != nil {
		t.Fatal(err)
	}
	stored, err := aes.NewCipher().Decrypt(tree.Metadata.MessageAuthenticationCode, key, tree.Metadata.LastModified.Format(time.RFC3339))
	if err != nil || stored != mac {
		t.Fatalf("sops: MAC mismatch (%v)", err)
	}
	out, err := st.(interface {
		EmitPlainFile(sops.TreeBranches) ([]byte, error)
	}).EmitPlainFile(tree.Branches)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
