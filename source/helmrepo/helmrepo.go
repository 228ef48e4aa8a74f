// Package helmrepo fetches Helm charts from chart repositories (an
// index.yaml over HTTPS) and OCI registries into a cache, by digest. It is
// the only part of mcp that downloads charts; render reads charts from the
// cache and never reaches the network.
//
//	f := helmrepo.Fetcher{Cache: helmrepo.Cache{Dir: "/var/cache/mcp/charts"}, CredentialsDir: "/etc/mcp/clusters"}
//	got, err := f.Fetch(ctx, helmrepo.Ref{Repo: "https://stefanprodan.github.io/podinfo", Name: "podinfo", Version: "6.x"})
//	// got.Version is the newest 6.x; render finds it with Cache.Lookup.
//
// # Credentials
//
// Credentials of a repository are files below the credentials directory,
// by the repository's host (with its port, if any):
//
//	<credentials-dir>/charts/<host>/username
//	<credentials-dir>/charts/<host>/password   (or a token)
//	<credentials-dir>/charts/<host>/ca.crt     (optional: a CA to trust besides the system's)
//
// They are sent only to that host, only over TLS, and never logged or
// written into an error.
package helmrepo

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Sentinel errors.
var (
	// ErrNotCached: the cache holds no resolution of the chart; it must be
	// fetched by a command that connects (apply, run) or --fetch-charts.
	ErrNotCached = errors.New("chart not in the cache")
	// ErrNotFound: the repository has no such chart or no version matching.
	ErrNotFound = errors.New("chart not found")
	// ErrAuth: the repository refused the credentials (or asked for some).
	ErrAuth = errors.New("chart repository refused the credentials")
	// ErrFetch: the repository could not be read or sent something wrong.
	ErrFetch = errors.New("chart fetch failed")
)

// MaxChartSize bounds a chart archive and an index.
const MaxChartSize = 20 << 20

// Ref names a chart: Repo is an https:// chart repository or an oci://
// registry path; Version an exact version or a semver range ("" is the
// newest release).
type Ref struct {
	Repo    string `json:"repo"`
	Name    string `json:"name"`
	Version string `json:"version"`
}

func (r Ref) String() string {
	s := strings.TrimSuffix(r.Repo, "/") + "/" + r.Name
	if r.Version != "" {
		s += " " + r.Version
	}
	return s
}

// Resolved is the version a Ref resolved to and the digest of its archive.
type Resolved struct {
	Ref     Ref    `json:"ref"`
	Version string `json:"version"`
	// Digest is "sha256:<hex>" of the chart archive.
	Digest  string    `json:"digest"`
	Fetched time.Time `json:"fetched"`
	// SignedBy is the identity of the key that signed its provenance,
	// when a keyring for the repository's host asked for it.
	SignedBy string `json:"signedBy,omitempty"`
}

// Cache is a directory of chart archives by digest and of the last
// resolution of each Ref:
//
//	<dir>/blobs/sha256/<hex>.tgz
//	<dir>/refs/<sha256 of repo, name, version>.json
type Cache struct {
	Dir string
}

func (c Cache) refPath(ref Ref) string {
	h := sha256.Sum256([]byte(ref.Repo + "\x00" + ref.Name + "\x00" + ref.Version))
	return filepath.Join(c.Dir, "refs", hex.EncodeToString(h[:])+".json")
}

func (c Cache) blobPath(digest string) (string, error) {
	hexPart, ok := strings.CutPrefix(digest, "sha256:")
	if _, err := hex.DecodeString(hexPart); !ok || err != nil || len(hexPart) != 64 {
		return "", fmt.Errorf("%w: bad digest %q", ErrFetch, digest)
	}
	return filepath.Join(c.Dir, "blobs", "sha256", hexPart+".tgz"), nil
}

// Lookup returns the last resolution of ref and its archive, checked
// against its digest. It reads only the cache.
func (c Cache) Lookup(ref Ref) (Resolved, []byte, error) {
	var res Resolved
	data, err := os.ReadFile(c.refPath(ref))
	if errors.Is(err, os.ErrNotExist) {
		return res, nil, fmt.Errorf("%w: %s was never fetched into %s", ErrNotCached, ref, c.Dir)
	}
	if err != nil {
		return res, nil, err
	}
	if err := json.Unmarshal(data, &res); err != nil {
		return res, nil, fmt.Errorf("%s: %w", c.refPath(ref), err)
	}
	blob, err := c.blobPath(res.Digest)
	if err != nil {
		return res, nil, err
	}
	archive, err := os.ReadFile(blob)
	if err != nil {
		return res, nil, fmt.Errorf("%w: %s %s: %v", ErrNotCached, ref, res.Version, err)
	}
	if got := digestOf(archive); got != res.Digest {
		return res, nil, fmt.Errorf("%w: %s: the cached archive is %s, want %s", ErrFetch, blob, got, res.Digest)
	}
	return res, archive, nil
}

// store writes an archive and the resolution of ref to it.
func (c Cache) store(res Resolved, archive []byte) error {
	blob, err := c.blobPath(res.Digest)
	if err != nil {
		return err
	}
	if err := writeAtomic(blob, archive); err != nil {
		return err
	}
	data, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return writeAtomic(c.refPath(res.Ref), data)
}

func writeAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func digestOf(data []byte) string {
	h := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(h[:])
}
