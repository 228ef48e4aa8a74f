package helmrepo

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"

	"mcp.dev/mcp/internal/chartserver"
)

// fetcher trusts srv and holds pass as the password of its host.
func fetcher(t *testing.T, srv *httptest.Server, pass string) *Fetcher {
	t.Helper()
	creds := t.TempDir()
	u, _ := url.Parse(srv.URL)
	if pass != "" {
		dir := filepath.Join(creds, "charts", u.Host)
		os.MkdirAll(dir, 0o700)
		os.WriteFile(filepath.Join(dir, "username"), []byte(chartserver.User+"\n"), 0o600)
		os.WriteFile(filepath.Join(dir, "password"), []byte(pass+"\n"), 0o600)
	}
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	return &Fetcher{Cache: Cache{Dir: filepath.Join(t.TempDir(), "charts")}, CredentialsDir: creds, RootCAs: roots}
}

func TestFetch(t *testing.T) {
	httpRepo := chartserver.NewHTTPRepo(t)
	ociSrv, push := chartserver.NewOCIRegistry(t)
	ociURL := "oci://" + strings.TrimPrefix(ociSrv.URL, "https://") + "/charts"
	for name, kind := range map[string]struct {
		srv     *httptest.Server
		repo    string
		publish func(name, version string, signer ...*openpgp.Entity)
	}{
		"http": {httpRepo.Server, httpRepo.Server.URL, httpRepo.Publish},
		"oci":  {ociSrv, ociURL, push},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			kind.publish("app", "1.0.0")
			kind.publish("app", "1.1.0")
			kind.publish("app", "2.0.0-rc.1")
			f := fetcher(t, kind.srv, chartserver.Password)
			rng := Ref{Repo: kind.repo, Name: "app", Version: "1.x"}

			got, err := f.Fetch(ctx, rng)
			if err != nil || got.Version != "1.1.0" {
				t.Fatalf("fetch 1.x: %+v, %v; want 1.1.0", got, err)
			}
			cached, archive, err := f.Cache.Lookup(rng)
			if err != nil || cached.Version != "1.1.0" || digestOf(archive) != got.Digest {
				t.Fatalf("lookup 1.x: %+v, %v", cached, err)
			}
			if got, err := f.Fetch(ctx, Ref{Repo: kind.repo, Name: "app", Version: "1.0.0"}); err != nil || got.Version != "1.0.0" {
				t.Errorf("fetch 1.0.0: %+v, %v", got, err)
			}

			// A new version in the range moves the range on the next fetch.
			kind.publish("app", "1.2.0")
			if cached, _, _ := f.Cache.Lookup(rng); cached.Version != "1.1.0" {
				t.Errorf("lookup before the next fetch: %s, want 1.1.0 still", cached.Version)
			}
			if got, err := f.Fetch(ctx, rng); err != nil || got.Version != "1.2.0" {
				t.Errorf("fetch 1.x after 1.2.0 was published: %+v, %v", got, err)
			}

			_, err = f.Fetch(ctx, Ref{Repo: kind.repo, Name: "app", Version: "3.x"})
			if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "no version matches") || !strings.Contains(err.Error(), "1.2.0") {
				t.Errorf("missing version: %v", err)
			}

			wrong := fetcher(t, kind.srv, "wrong-password")
			_, err = wrong.Fetch(ctx, rng)
			if !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "were refused") || strings.Contains(err.Error(), "wrong-password") {
				t.Errorf("wrong password: %v", err)
			}
			if _, _, err := wrong.Cache.Lookup(rng); !errors.Is(err, ErrNotCached) {
				t.Errorf("after a refused fetch the cache has the chart: %v", err)
			}
			if _, err := fetcher(t, kind.srv, "").Fetch(ctx, rng); !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "credentials are needed") {
				t.Errorf("no credentials: %v", err)
			}
		})
	}
}

// TestFetchRefusesPlainHTTP: a chart is fetched over TLS or not at all.
func TestFetchRefusesPlainHTTP(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	f := &Fetcher{Cache: Cache{Dir: t.TempDir()}}
	if _, err := f.Fetch(context.Background(), Ref{Repo: srv.URL, Name: "app"}); err == nil || !strings.Contains(err.Error(), "https:// or oci://") {
		t.Errorf("plain http: %v", err)
	}
}

// TestFetchVerifiesProvenance: with a keyring for the repository's host,
// a chart is fetched only with provenance signed by one of its keys and
// naming the archive's digest, from a chart repository or a registry;
// without a keyring, provenance is not asked for.
func TestFetchVerifiesProvenance(t *testing.T) {
	trusted, stranger := chartserver.NewSigner(t, "platform"), chartserver.NewSigner(t, "stranger")
	httpRepo := chartserver.NewHTTPRepo(t)
	ociSrv, push := chartserver.NewOCIRegistry(t)
	for name, kind := range map[string]struct {
		srv     *httptest.Server
		repo    string
		publish func(name, version string, signer ...*openpgp.Entity)
	}{
		"http": {httpRepo.Server, httpRepo.Server.URL, httpRepo.Publish},
		"oci":  {ociSrv, "oci://" + strings.TrimPrefix(ociSrv.URL, "https://") + "/charts", push},
	} {
		t.Run(name, func(t *testing.T) {
			kind.publish("signed", "1.0.0", trusted)
			kind.publish("unsigned", "1.0.0")
			kind.publish("forged", "1.0.0", stranger)
			ctx := context.Background()
			f := fetcher(t, kind.srv, chartserver.Password)
			// No keyring: nothing is checked.
			for _, chart := range []string{"signed", "unsigned", "forged"} {
				if res, err := f.Fetch(ctx, Ref{Repo: kind.repo, Name: chart, Version: "1.0.0"}); err != nil || res.SignedBy != "" {
					t.Errorf("%s without a keyring: %+v, %v", chart, res, err)
				}
			}
			host := strings.TrimPrefix(kind.srv.URL, "https://")
			if err := os.WriteFile(filepath.Join(f.CredentialsDir, "charts", host, "keyring.gpg"), chartserver.Keyring(t, trusted), 0o600); err != nil {
				t.Fatal(err)
			}
			res, err := f.Fetch(ctx, Ref{Repo: kind.repo, Name: "signed", Version: "1.0.0"})
			if err != nil || !strings.Contains(res.SignedBy, "platform") {
				t.Errorf("signed by a trusted key: %+v, %v", res, err)
			}
			if cached, _, err := f.Cache.Lookup(Ref{Repo: kind.repo, Name: "signed", Version: "1.0.0"}); err != nil || cached.SignedBy != res.SignedBy {
				t.Errorf("the cache does not record the signer: %+v, %v", cached, err)
			}
			for chart, want := range map[string]string{"unsigned": "has no provenance file", "forged": "signature"} {
				fresh := fetcher(t, kind.srv, chartserver.Password)
				os.WriteFile(filepath.Join(fresh.CredentialsDir, "charts", host, "keyring.gpg"), chartserver.Keyring(t, trusted), 0o600)
				ref := Ref{Repo: kind.repo, Name: chart, Version: "1.0.0"}
				if _, err := fresh.Fetch(ctx, ref); !errors.Is(err, ErrProvenance) || !strings.Contains(err.Error(), want) {
					t.Errorf("%s with a keyring: %v, want %s", chart, err, want)
				}
				if _, _, err := fresh.Cache.Lookup(ref); !errors.Is(err, ErrNotCached) {
					t.Errorf("%s refused but cached: %v", chart, err)
				}
			}
		})
	}
}
