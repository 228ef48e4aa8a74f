package helmrepo

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/Masterminds/semver/v3"
	"sigs.k8s.io/yaml"
)

// Fetcher downloads charts into its Cache.
type Fetcher struct {
	Cache Cache
	// CredentialsDir holds charts/<host>/{username,password,ca.crt}.
	CredentialsDir string
	// RootCAs replaces the system's roots when set (tests).
	RootCAs *x509.CertPool
	// Now stamps resolutions; nil is time.Now.
	Now func() time.Time
}

// Fetch resolves ref against its repository, downloads the archive of
// the version it resolves to unless the cache has it, and records the
// resolution. A failed fetch leaves the cache as it was.
func (f *Fetcher) Fetch(ctx context.Context, ref Ref) (Resolved, error) {
	u, err := url.Parse(ref.Repo)
	if err != nil || u.Host == "" {
		return Resolved{}, fmt.Errorf("%w: %s: repo is not a URL", ErrFetch, ref)
	}
	c, err := f.client(u.Host)
	if err != nil {
		return Resolved{}, fmt.Errorf("%s: %w", ref, err)
	}
	var res Resolved
	var archive, prov []byte
	switch u.Scheme {
	case "https":
		res, archive, prov, err = c.fetchHTTP(ctx, u, ref)
	case "oci":
		res, archive, prov, err = c.fetchOCI(ctx, u, ref)
	default:
		err = fmt.Errorf("%w: %s: charts are fetched from https:// or oci:// only", ErrFetch, ref)
	}
	if err != nil {
		return Resolved{}, err
	}
	if res.SignedBy, err = f.verify(u.Host, ref, res.Version, archive, prov); err != nil {
		return Resolved{}, err
	}
	res.Ref = ref
	res.Fetched = time.Now().UTC()
	if f.Now != nil {
		res.Fetched = f.Now()
	}
	if err := f.Cache.store(res, archive); err != nil {
		return Resolved{}, fmt.Errorf("%s: cache: %w", ref, err)
	}
	return res, nil
}

// client is an HTTPS client for one repository host with its credentials.
type client struct {
	http           *http.Client
	host           string
	user, password string
}

func (f *Fetcher) client(host string) (*client, error) {
	c := &client{host: host}
	roots := f.RootCAs
	if f.CredentialsDir != "" {
		dir := filepath.Join(f.CredentialsDir, "charts", host)
		if strings.ContainsAny(host, `/\`) || host == ".." || host == "." {
			return nil, fmt.Errorf("%w: bad host %q", ErrFetch, host)
		}
		user, uerr := os.ReadFile(filepath.Join(dir, "username"))
		pass, perr := os.ReadFile(filepath.Join(dir, "password"))
		if uerr == nil && perr == nil {
			c.user, c.password = strings.TrimSpace(string(user)), strings.TrimSpace(string(pass))
		}
		if ca, err := os.ReadFile(filepath.Join(dir, "ca.crt")); err == nil {
			if roots == nil {
				if roots, err = x509.SystemCertPool(); err != nil {
					roots = x509.NewCertPool()
				}
			}
			if !roots.AppendCertsFromPEM(ca) {
				return nil, fmt.Errorf("%w: %s: no certificate in it", ErrFetch, filepath.Join(dir, "ca.crt"))
			}
		}
	}
	c.http = &http.Client{
		Timeout: 2 * time.Minute,
		Transport: &http.Transport{
			Proxy:           http.ProxyFromEnvironment,
			TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		},
		// Credentials go to the repository's host only, never to where it
		// redirects.
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if req.URL.Scheme != "https" {
				return fmt.Errorf("%w: redirect to %s, not https", ErrFetch, req.URL.Redacted())
			}
			if req.URL.Host != host {
				req.Header.Del("Authorization")
			}
			return nil
		},
	}
	return c, nil
}

// get reads url (https only), sending the credentials when it is on the
// repository's host; auth is an Authorization header that replaces basic
// auth (a registry token).
func (c *client) get(ctx context.Context, u, auth string, accept ...string) ([]byte, http.Header, error) {
	pu, err := url.Parse(u)
	if err != nil || pu.Scheme != "https" {
		return nil, nil, fmt.Errorf("%w: %s is not an https URL", ErrFetch, u)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	for _, a := range accept {
		req.Header.Add("Accept", a)
	}
	switch {
	case auth != "":
		req.Header.Set("Authorization", auth)
	case c.user != "" && pu.Host == c.host:
		req.SetBasicAuth(c.user, c.password)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %v", ErrFetch, pu.Redacted(), errors.Unwrap(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxChartSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %v", ErrFetch, pu.Redacted(), err)
	}
	if len(body) > MaxChartSize {
		return nil, nil, fmt.Errorf("%w: %s: more than %d bytes", ErrFetch, pu.Redacted(), MaxChartSize)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, resp.Header, &statusError{code: resp.StatusCode, url: pu.Redacted(), host: c.host, hadCreds: c.user != ""}
	case resp.StatusCode == http.StatusNotFound:
		return nil, resp.Header, fmt.Errorf("%w: %s: 404 Not Found", ErrNotFound, pu.Redacted())
	case resp.StatusCode != http.StatusOK:
		return nil, resp.Header, fmt.Errorf("%w: %s: %s", ErrFetch, pu.Redacted(), resp.Status)
	}
	return body, resp.Header, nil
}

type statusError struct {
	code     int
	url      string
	host     string
	hadCreds bool
}

func (e *statusError) Error() string {
	if e.hadCreds {
		return fmt.Sprintf("%s: %s: %d: the username and password of <credentials-dir>/charts/%s/ were refused", ErrAuth, e.url, e.code, e.host)
	}
	return fmt.Sprintf("%s: %s: %d: credentials are needed: put them in <credentials-dir>/charts/%s/username and password", ErrAuth, e.url, e.code, e.host)
}

func (e *statusError) Unwrap() error { return ErrAuth }

// indexFile is what mcp reads of a repository's index.yaml.
type indexFile struct {
	Entries map[string][]struct {
		Version string   `json:"version"`
		URLs    []string `json:"urls"`
		Digest  string   `json:"digest"`
	} `json:"entries"`
}

func (c *client) fetchHTTP(ctx context.Context, repo *url.URL, ref Ref) (Resolved, []byte, []byte, error) {
	base := strings.TrimSuffix(repo.String(), "/") + "/"
	data, _, err := c.get(ctx, base+"index.yaml", "")
	if err != nil {
		return Resolved{}, nil, nil, fmt.Errorf("%s: index: %w", ref, err)
	}
	var idx indexFile
	if err := yaml.Unmarshal(data, &idx); err != nil {
		return Resolved{}, nil, nil, fmt.Errorf("%w: %s: index.yaml: %v", ErrFetch, ref, err)
	}
	entries := idx.Entries[ref.Name]
	versions := make([]string, len(entries))
	for i, e := range entries {
		versions[i] = e.Version
	}
	v, err := pick(ref, versions)
	if err != nil {
		return Resolved{}, nil, nil, err
	}
	e := entries[slices.Index(versions, v)]
	if len(e.URLs) == 0 {
		return Resolved{}, nil, nil, fmt.Errorf("%w: %s %s: the index lists no URL", ErrFetch, ref, v)
	}
	u, err := url.Parse(base)
	if err == nil {
		u, err = u.Parse(e.URLs[0])
	}
	if err != nil {
		return Resolved{}, nil, nil, fmt.Errorf("%w: %s %s: url %q: %v", ErrFetch, ref, v, e.URLs[0], err)
	}
	archive, _, err := c.get(ctx, u.String(), "")
	if err != nil {
		return Resolved{}, nil, nil, fmt.Errorf("%s %s: %w", ref, v, err)
	}
	digest := digestOf(archive)
	if e.Digest != "" && "sha256:"+strings.TrimPrefix(e.Digest, "sha256:") != digest {
		return Resolved{}, nil, nil, fmt.Errorf("%w: %s %s: the archive is %s, the index says sha256:%s", ErrFetch, ref, v, digest, strings.TrimPrefix(e.Digest, "sha256:"))
	}
	// The provenance file sits next to the archive; most charts have none.
	prov, _, err := c.get(ctx, u.String()+".prov", "")
	if errors.Is(err, ErrNotFound) {
		prov, err = nil, nil
	}
	if err != nil {
		return Resolved{}, nil, nil, fmt.Errorf("%s %s: provenance: %w", ref, v, err)
	}
	return Resolved{Version: v, Digest: digest}, archive, prov, nil
}

// pick returns the newest version that ref's version (exact or a range)
// accepts; prereleases only when the range names one.
func pick(ref Ref, versions []string) (string, error) {
	constraint := ref.Version
	if constraint == "" {
		constraint = "*"
	}
	c, err := semver.NewConstraint(constraint)
	if err != nil {
		return "", fmt.Errorf("%w: %s: version %q is neither a version nor a semver range: %v", ErrFetch, ref, ref.Version, err)
	}
	var best *semver.Version
	var bestRaw string
	for _, raw := range versions {
		v, err := semver.NewVersion(raw)
		if err != nil || !c.Check(v) {
			continue
		}
		if best == nil || v.GreaterThan(best) {
			best, bestRaw = v, raw
		}
	}
	if best == nil {
		if len(versions) == 0 {
			return "", fmt.Errorf("%w: %s: the repository has no chart %q", ErrNotFound, ref, ref.Name)
		}
		shown := versions[:min(len(versions), 10)]
		return "", fmt.Errorf("%w: %s: no version matches (the repository has %s)", ErrNotFound, ref, strings.Join(shown, ", "))
	}
	return bestRaw, nil
}

// OCI media types of a Helm chart artifact.
const (
	ociManifest   = "application/vnd.oci.image.manifest.v1+json"
	helmChartType = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
	helmProvType  = "application/vnd.cncf.helm.chart.provenance.v1.prov"
)

// fetchOCI reads a chart from an OCI registry (distribution API v2):
// tags, the manifest of the version, its chart layer by digest.
func (c *client) fetchOCI(ctx context.Context, repo *url.URL, ref Ref) (Resolved, []byte, []byte, error) {
	name := strings.Trim(path.Join(repo.Path, ref.Name), "/")
	base := "https://" + repo.Host + "/v2/" + name
	auth := ""
	getAuthed := func(u string, accept ...string) ([]byte, error) {
		data, hdr, err := c.get(ctx, u, auth, accept...)
		var se *statusError
		if errors.As(err, &se) && se.code == http.StatusUnauthorized && auth == "" && strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer ") {
			if auth, err = c.token(ctx, hdr.Get("WWW-Authenticate"), name); err != nil {
				return nil, err
			}
			data, _, err = c.get(ctx, u, auth, accept...)
		}
		return data, err
	}
	data, err := getAuthed(base + "/tags/list")
	if err != nil {
		return Resolved{}, nil, nil, fmt.Errorf("%s: tags: %w", ref, err)
	}
	var tags struct {
		Tags []string `json:"tags"`
	}
	if err := json.Unmarshal(data, &tags); err != nil {
		return Resolved{}, nil, nil, fmt.Errorf("%w: %s: tags: %v", ErrFetch, ref, err)
	}
	versions := make([]string, len(tags.Tags))
	for i, t := range tags.Tags {
		versions[i] = strings.ReplaceAll(t, "_", "+") // OCI tags cannot hold "+"
	}
	v, err := pick(ref, versions)
	if err != nil {
		return Resolved{}, nil, nil, err
	}
	data, err = getAuthed(base+"/manifests/"+strings.ReplaceAll(v, "+", "_"), ociManifest)
	if err != nil {
		return Resolved{}, nil, nil, fmt.Errorf("%s %s: manifest: %w", ref, v, err)
	}
	var m struct {
		Layers []struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
		} `json:"layers"`
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return Resolved{}, nil, nil, fmt.Errorf("%w: %s %s: manifest: %v", ErrFetch, ref, v, err)
	}
	layer := func(mediaType string) string {
		for _, l := range m.Layers {
			if l.MediaType == mediaType {
				return l.Digest
			}
		}
		return ""
	}
	digest := layer(helmChartType)
	if digest == "" {
		return Resolved{}, nil, nil, fmt.Errorf("%w: %s %s: the artifact has no layer %s: not a Helm chart", ErrFetch, ref, v, helmChartType)
	}
	if _, err := (Cache{}).blobPath(digest); err != nil {
		return Resolved{}, nil, nil, fmt.Errorf("%s %s: %w", ref, v, err)
	}
	archive, err := getAuthed(base + "/blobs/" + digest)
	if err != nil {
		return Resolved{}, nil, nil, fmt.Errorf("%s %s: chart layer: %w", ref, v, err)
	}
	if got := digestOf(archive); got != digest {
		return Resolved{}, nil, nil, fmt.Errorf("%w: %s %s: the layer is %s, the manifest says %s", ErrFetch, ref, v, got, digest)
	}
	var prov []byte
	if pd := layer(helmProvType); pd != "" {
		if _, err := (Cache{}).blobPath(pd); err != nil {
			return Resolved{}, nil, nil, fmt.Errorf("%s %s: provenance: %w", ref, v, err)
		}
		if prov, err = getAuthed(base + "/blobs/" + pd); err != nil {
			return Resolved{}, nil, nil, fmt.Errorf("%s %s: provenance layer: %w", ref, v, err)
		}
		if got := digestOf(prov); got != pd {
			return Resolved{}, nil, nil, fmt.Errorf("%w: %s %s: the provenance layer is %s, the manifest says %s", ErrFetch, ref, v, got, pd)
		}
	}
	return Resolved{Version: v, Digest: digest}, archive, prov, nil
}

// token gets a registry's bearer token for pulling name, with the
// credentials when there are some (the Docker token protocol).
func (c *client) token(ctx context.Context, challenge, name string) (string, error) {
	params := map[string]string{}
	for part := range strings.SplitSeq(strings.TrimPrefix(challenge, "Bearer "), ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok {
			params[k] = strings.Trim(v, `"`)
		}
	}
	realm, err := url.Parse(params["realm"])
	if err != nil || realm.Scheme != "https" {
		return "", fmt.Errorf("%w: registry token realm %q is not https", ErrFetch, params["realm"])
	}
	q := realm.Query()
	if s := params["service"]; s != "" {
		q.Set("service", s)
	}
	q.Set("scope", "repository:"+name+":pull")
	realm.RawQuery = q.Encode()
	// The token service may live on another host: credentials go to it
	// only when it is the registry's own.
	data, _, err := c.get(ctx, realm.String(), "")
	if err != nil {
		return "", fmt.Errorf("registry token: %w", err)
	}
	var tok struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(data, &tok); err != nil {
		return "", fmt.Errorf("%w: registry token: %v", ErrFetch, err)
	}
	return "Bearer " + cmp(tok.Token, tok.AccessToken), nil
}

func cmp(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
