package gitserver

import (
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cgi"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// HTTPBackend is git's smart HTTP server program.
const HTTPBackend = "/usr/lib/git-core/git-http-backend"

// HTTP serves a Root over git's smart HTTP protocol (fetch and push) on
// loopback, behind basic auth when a user is set. It records every request
// so tests can count round trips.
type HTTP struct {
	t    testing.TB
	root *Root
	// User and Password are the only credentials accepted; no auth when
	// User is empty.
	User, Password string
	// Addr is host:port; it stays the same across Stop and Start.
	Addr string

	handler http.Handler

	mu       sync.Mutex
	srv      *http.Server
	requests []string
	// cutAfter > 0 makes fetches die after that many bytes of the
	// answer: the server going away in the middle of a packfile.
	cutAfter int
}

// CutFetches makes every fetch (git-upload-pack) answer end abruptly after
// n bytes, as if the server died mid-transfer; 0 turns it off.
func (h *HTTP) CutFetches(n int) {
	h.mu.Lock()
	h.cutAfter = n
	h.mu.Unlock()
}

// cutWriter passes on the first n bytes of an answer, then aborts the
// connection.
type cutWriter struct {
	http.ResponseWriter
	n int
}

func (c *cutWriter) Write(p []byte) (int, error) {
	if len(p) > c.n {
		c.ResponseWriter.Write(p[:c.n])
		if f, ok := c.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
		panic(http.ErrAbortHandler) // net/http closes the connection
	}
	c.n -= len(p)
	return c.ResponseWriter.Write(p)
}

// NewHTTP starts an HTTP git server for root; it stops when the test ends.
func NewHTTP(t testing.TB, root *Root, user, password string) *HTTP {
	t.Helper()
	if _, err := os.Stat(HTTPBackend); err != nil {
		t.Fatalf("gitserver needs git's %s: %v", HTTPBackend, err)
	}
	h := &HTTP{t: t, root: root, User: user, Password: password}
	env := []string{
		"GIT_PROJECT_ROOT=" + root.Dir,
		"GIT_HTTP_EXPORT_ALL=1",
		"GIT_CONFIG_NOSYSTEM=1",
		"HOME=" + root.home,
	}
	// Stderr: "not our ref" and the like are answers the client sees.
	backend := &cgi.Handler{Path: HTTPBackend, Root: "/", Env: env, Stderr: io.Discard}
	h.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.requests = append(h.requests, r.Method+" "+r.URL.RequestURI())
		h.mu.Unlock()
		if h.User != "" && !h.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		h.mu.Lock()
		cut := h.cutAfter
		h.mu.Unlock()
		if cut > 0 && r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/git-upload-pack") {
			w = &cutWriter{ResponseWriter: w, n: cut}
		}
		backend.ServeHTTP(w, r)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("gitserver: %v", err)
	}
	h.Addr = ln.Addr().String()
	h.serve(ln)
	t.Cleanup(h.Stop)
	return h
}

func (h *HTTP) authorized(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	return ok && subtle.ConstantTimeCompare([]byte(user), []byte(h.User)) == 1 &&
		subtle.ConstantTimeCompare([]byte(pass), []byte(h.Password)) == 1
}

func (h *HTTP) serve(ln net.Listener) {
	srv := &http.Server{Handler: h.handler, ReadHeaderTimeout: 10 * time.Second}
	h.mu.Lock()
	h.srv = srv
	h.mu.Unlock()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			h.t.Errorf("gitserver http: %v", err)
		}
	}()
}

// URL is the server's base URL, http://127.0.0.1:port.
func (h *HTTP) URL() string { return "http://" + h.Addr }

// RepoURL is the clone URL of the repo called name.
func (h *HTTP) RepoURL(name string) string { return h.URL() + "/" + name + ".git" }

// Stop closes the server and its connections: the git server is down.
func (h *HTTP) Stop() {
	h.mu.Lock()
	srv := h.srv
	h.srv = nil
	h.mu.Unlock()
	if srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		srv.Close()
	}
}

// Start serves again on the same address after Stop.
func (h *HTTP) Start() {
	h.t.Helper()
	ln, err := net.Listen("tcp", h.Addr)
	if err != nil {
		h.t.Fatalf("gitserver: listen again on %s: %v", h.Addr, err)
	}
	h.serve(ln)
}

// Requests returns "METHOD /path?query" of every request since the last
// ResetRequests, in order.
func (h *HTTP) Requests() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.requests...)
}

// ResetRequests forgets the recorded requests.
func (h *HTTP) ResetRequests() {
	h.mu.Lock()
	h.requests = nil
	h.mu.Unlock()
}
