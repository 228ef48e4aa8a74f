// Package chartserver starts real chart servers on loopback for tests,
// both over TLS with basic auth: a chart repository (index.yaml and
// archives) and an OCI registry (go-containerregistry's pkg/registry)
// holding charts as Helm pushes them.
//
//	repo := chartserver.NewHTTPRepo(t)
//	repo.Publish("app", "1.0.0")           // https://127.0.0.1:PORT, chart "app"
//	reg, push := chartserver.NewOCIRegistry(t)
//	push("app", "1.0.0")                    // oci://127.0.0.1:PORT/charts, chart "app"
package chartserver

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/google/go-containerregistry/pkg/registry"
	"helm.sh/helm/v4/pkg/provenance"
)

// The credentials every server here requires.
const (
	User     = "mcp"
	Password = "s3cret-pass"
)

const (
	ociManifest   = "application/vnd.oci.image.manifest.v1+json"
	helmChartType = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
	helmProvType  = "application/vnd.cncf.helm.chart.provenance.v1.prov"
)

func digestOf(data []byte) string {
	h := sha256.Sum256(data)
	return "sha256:" + hex.EncodeToString(h[:])
}

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
		if !ok || u != User || p != Password {
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
	// indexReads counts the requests for index.yaml.
	indexReads int
}

// IndexReads is how many times the index was read: each fetch of a
// chart resolves its version there first.
func (r *HTTPRepo) IndexReads() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.indexReads
}

// NewHTTPRepo starts an empty chart repository; it stops with the test.
func NewHTTPRepo(t testing.TB) *HTTPRepo {
	r := &HTTPRepo{t: t, charts: map[string][]byte{}, index: map[string][]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/index.yaml", func(w http.ResponseWriter, _ *http.Request) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.indexReads++
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

// Publish adds a version of a chart to the index; with a signer, also
// its provenance file (what helm package --sign writes next to it).
func (r *HTTPRepo) Publish(name, version string, signer ...*openpgp.Entity) {
	r.mu.Lock()
	defer r.mu.Unlock()
	file := name + "-" + version + ".tgz"
	archive := ChartArchive(r.t, name, version)
	r.charts[file] = archive
	if len(signer) > 0 {
		r.charts[file+".prov"] = Provenance(r.t, signer[0], archive, name, version)
	}
	r.index[name] = append(r.index[name], version)
}

// NewSigner is a new OpenPGP key that signs charts, named name.
func NewSigner(t testing.TB, name string) *openpgp.Entity {
	t.Helper()
	e, err := openpgp.NewEntity(name, "", name+"@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// Keyring is the public keyring (binary, as gpg --export writes) of the
// signers' keys.
func Keyring(t testing.TB, signers ...*openpgp.Entity) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, e := range signers {
		if err := e.Serialize(&buf); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// Provenance is the provenance file of a chart archive signed by signer,
// as helm package --sign writes it.
func Provenance(t testing.TB, signer *openpgp.Entity, archive []byte, name, version string) []byte {
	t.Helper()
	s := &provenance.Signatory{Entity: signer}
	meta := fmt.Sprintf("apiVersion: v2\nname: %s\nversion: %s\n", name, version)
	prov, err := s.ClearSign(archive, name+"-"+version+".tgz", []byte(meta))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(prov)
}

// NewOCIRegistry is go-containerregistry's registry over TLS with basic
// auth; push publishes a chart version.
func NewOCIRegistry(t testing.TB) (srv *httptest.Server, push func(name, version string, signer ...*openpgp.Entity)) {
	srv = httptest.NewTLSServer(authed(registry.New(registry.Logger(log.New(io.Discard, "", 0)))))
	t.Cleanup(srv.Close)
	c := srv.Client()
	put := func(method, u string, ctype string, body []byte) {
		req, _ := http.NewRequest(method, srv.URL+u, bytes.NewReader(body))
		req.SetBasicAuth(User, Password)
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
	push = func(name, version string, signer ...*openpgp.Entity) {
		archive := ChartArchive(t, name, version)
		config := []byte(fmt.Sprintf(`{"name":%q,"version":%q,"apiVersion":"v2"}`, name, version))
		repo := "/v2/charts/" + name
		put(http.MethodPost, repo+"/blobs/uploads/?digest="+digestOf(archive), "application/octet-stream", archive)
		put(http.MethodPost, repo+"/blobs/uploads/?digest="+digestOf(config), "application/octet-stream", config)
		layers := []any{map[string]any{"mediaType": helmChartType, "digest": digestOf(archive), "size": len(archive)}}
		if len(signer) > 0 {
			prov := Provenance(t, signer[0], archive, name, version)
			put(http.MethodPost, repo+"/blobs/uploads/?digest="+digestOf(prov), "application/octet-stream", prov)
			layers = append(layers, map[string]any{"mediaType": helmProvType, "digest": digestOf(prov), "size": len(prov)})
		}
		manifest, _ := json.Marshal(map[string]any{
			"schemaVersion": 2, "mediaType": ociManifest,
			"config": map[string]any{"mediaType": "application/vnd.cncf.helm.config.v1+json", "digest": digestOf(config), "size": len(config)},
			"layers": layers,
		})
		put(http.MethodPut, repo+"/manifests/"+strings.ReplaceAll(version, "+", "_"), ociManifest, manifest)
	}
	return srv, push
}
