package helmrepo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"helm.sh/helm/v4/pkg/provenance"
)

// ErrProvenance: a chart's provenance is missing where the operator
// asks for it, or does not verify.
var ErrProvenance = errors.New("chart provenance does not verify")

// keyringFile is the public keyring of a chart repository host, under
// <credentials-dir>/charts/<host>/: with it, every chart of that host
// must carry provenance signed by one of its keys (helm --verify).
const keyringFile = "keyring.gpg"

// verify checks the provenance of a chart archive as helm pull --verify
// does, when the operator gave a keyring for the host: the signature is
// by a key of the keyring, and the archive's digest is the one signed. It
// returns the signer's identity. Without a keyring nothing is checked: a
// signature without a trusted key proves nothing.
func (f *Fetcher) verify(host string, ref Ref, version string, archive, prov []byte) (string, error) {
	if f.CredentialsDir == "" {
		return "", nil
	}
	keyring := filepath.Join(f.CredentialsDir, "charts", host, keyringFile)
	if _, err := os.Stat(keyring); errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if prov == nil {
		return "", fmt.Errorf("%w: %s %s has no provenance file, and %s asks for one", ErrProvenance, ref, version, keyring)
	}
	s, err := provenance.NewFromKeyring(keyring, "")
	if err != nil {
		return "", fmt.Errorf("%w: %s: %v", ErrProvenance, keyring, err)
	}
	ver, err := s.Verify(archive, prov, ref.Name+"-"+version+".tgz")
	if err != nil {
		return "", fmt.Errorf("%w: %s %s: %v", ErrProvenance, ref, version, err)
	}
	var ids []string
	if ver.SignedBy != nil {
		for name := range ver.SignedBy.Identities {
			ids = append(ids, name)
		}
	}
	slices.Sort(ids)
	return strings.Join(ids, ", "), nil
}
