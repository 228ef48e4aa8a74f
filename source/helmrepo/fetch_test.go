package helmrepo

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
)

const user, password = "mcp", "s3cret-pass"

// ChartArchive is a packaged chart (what helm package writes) with one
// ConfigMap template naming its version.
func ChartArchive(t testing.TB, name, version string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for file, data := range map[string]string{
		"Chart.yaml":        fmt.Sprintf("apiVersion: v2\nname: %s\nversion: %s\n", name, version),
		"values.yaml":       "message: hello\n",
		"templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: {{ .Release.Name }}}\ndata: {version: {{ .Chart.Version | quote }}, message: {{ .Values.message | quote }}}\n",
	} {
		if err := tw.WriteHeader(&tar.Header{Name: name + "/" + file, Mode: 0o644, Size: int64(len(data))}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(data))
	}
	tw.Close()
	gz.Close()
	return buf.Bytes()
}

// authed requires basic auth user:password.
func authed(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != password {
			w.Header().Set("WWW-Authenticate", `Basic realm="charts"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// HTTPRepo is a chart repository over TLS with basic auth; Publish adds
// a version.
type HTTPRepo struct {
	t      testing.TB
	Server *httptest.Server
	mu     sync.Mutex
	charts map[string][]byte // file name → archive
	index  map[string][]string
}

func NewHTTPRepo(t testing.TB) *HTTPRepo {
	r := &HTTPRepo{t: t, charts: map[string][]byte{}, index: map[string][]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/index.yaml", func(w http.ResponseWriter, _ *http.Request) {
		r.mu.Lock()
		defer r.mu.Unlock()
		fmt.Fprintln(w, "apiVersion: v1\nentries:")
		for name, versions := range r.index {
			fmt.Fprintf(w, "  %s:\n", name)
			for _, v := range versions {
				file := name + "-" + v + ".tgz"
				fmt.Fprintf(w, "  - {name: %s, version: %s, urls: [charts/%s], digest: %s}\n", name, v, file, strings.TrimPrefix(digestOf(r.charts[file]), "sha256:"))
			}
		}
	})
	mux.HandleFunc("/charts/", func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		defer r.mu.Unlock()
		data, ok := r.charts[strings.TrimPrefix(req.URL.Path, "/charts/")]
		if !ok {
			http.NotFound(w, req)
			return
		}
		w.Write(data)
	})
	r.Server = httptest.NewTLSServer(authed(mux))
	t.Cleanup(r.Server.Close)
	return r
}

func (r *HTTPRepo) Publish(name, version string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.charts[name+"-"+version+".tgz"] = ChartArchive(r.t, name, version)
	r.index[name] = append(r.index[name], version)
}

// NewOCIRegistry is go-containerregistry's registry over TLS with basic
// auth; push publishes a chart version.
func NewOCIRegistry(t testing.TB) (srv *httptest.Server, push func(name, version string)) {
	srv = httptest.NewTLSServer(authed(registry.New(registry.Logger(log.New(io.Discard, "", 0)))))
	t.Cleanup(srv.Close)
	c := srv.Client()
	put := func(method, u string, ctype string, body []byte) {
		req, _ := http.NewRequest(method, srv.URL+u, bytes.NewReader(body))
		req.SetBasicAuth(user, password)
		req.Header.Set("Content-Type", ctype)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Fatalf("%s %s: %s", method, u, resp.Status)
		}
	}
	push = func(name, version string) {
		archive := ChartArchive(t, name, version)
		config := []byte(fmt.Sprintf(`{"name":%q,"version":%q,"apiVersion":"v2"}`, name, version))
		repo := "/v2/charts/" + name
		put(http.MethodPost, repo+"/blobs/uploads/?digest="+digestOf(archive), "application/octet-stream", archive)
		put(http.MethodPost, repo+"/blobs/uploads/?digest="+digestOf(config), "application/octet-stream", config)
		manifest, _ := json.Marshal(map[string]any{
			"schemaVersion": 2, "mediaType": ociManifest,
			"config": map[string]any{"mediaType": "application/vnd.cncf.helm.config.v1+json", "digest": digestOf(config), "size": len(config)},
			"layers": []any{map[string]any{"mediaType": helmChartType, "digest": digestOf(archive), "size": len(archive)}},
		})
		put(http.MethodPut, repo+"/manifests/"+strings.ReplaceAll(version, "+", "_"), ociManifest, manifest)
	}
	return srv, push
}

// fetcher trusts srv and holds pass as the password of its host.
func fetcher(t *testing.T, srv *httptest.Server, pass string) *Fetcher {
	t.Helper()
	creds := t.TempDir()
	u, _ := url.Parse(srv.URL)
	if pass != "" {
		dir := filepath.Join(creds, "charts", u.Host)
		os.MkdirAll(dir, 0o700)
		os.WriteFile(filepath.Join(dir, "username"), []byte(user+"\n"), 0o600)
		os.WriteFile(filepath.Join(dir, "password"), []byte(pass+"\n"), 0o600)
	}
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	return &Fetcher{Cache: Cache{Dir: filepath.Join(t.TempDir(), "charts")}, CredentialsDir: creds, RootCAs: roots}
}

func TestFetch(t *testing.T) {
	httpRepo := NewHTTPRepo(t)
	ociSrv, push := NewOCIRegistry(t)
	ociURL := "oci://" + strings.TrimPrefix(ociSrv.URL, "https://") + "/charts"
	for name, kind := range map[string]struct {
		srv     *httptest.Server
		repo    string
		publish func(name, version string)
	}{
		"http": {httpRepo.Server, httpRepo.Server.URL, httpRepo.Publish},
		"oci":  {ociSrv, ociURL, push},
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			kind.publish("app", "1.0.0")
			kind.publish("app", "1.1.0")
			kind.publish("app", "2.0.0-rc.1")
			f := fetcher(t, kind.srv, password)
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
