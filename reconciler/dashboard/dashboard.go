package dashboard

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"mcp.dev/mcp/reconciler/status"
)

//go:embed web
var webFS embed.FS

// contentSecurityPolicy allows nothing but the dashboard's own files: no
// inline script or style, no other origin, no framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// Options configure the dashboard; DefaultOptions gives working values.
type Options struct {
	// Heartbeat is how often an idle live stream sends a comment, so that
	// proxies keep it open and a gone browser is noticed.
	Heartbeat time.Duration
	// MaxStreams bounds the live streams served at once; more are refused
	// with 503 and the page keeps working without live updates.
	MaxStreams int
	// MaxStreamsPerClient bounds the live streams of one client (one IP
	// address, one /64 for IPv6), so that no client takes every slot of
	// MaxStreams; more are refused with 429. Behind a proxy every
	// browser is the proxy's client: raise it there.
	MaxStreamsPerClient int
	// MinUpdateInterval is the least time between two events of one
	// stream, so that a burst of changes costs each browser one reload.
	MinUpdateInterval time.Duration
}

// DefaultOptions are the options of mcp run.
func DefaultOptions() Options {
	return Options{Heartbeat: 15 * time.Second, MaxStreams: 64, MaxStreamsPerClient: 4, MinUpdateInterval: 250 * time.Millisecond}
}

// Handler serves the dashboard. It only reads the Store.
type Handler struct {
	opts  Options
	store *status.Store
	pages *template.Template
	mux   *http.ServeMux
	now   func() time.Time

	mu      sync.Mutex
	streams int            // live streams served now
	clients map[string]int // of them, per client
}

// New returns the dashboard over store.
func New(store *status.Store, opts Options) *Handler {
	def := DefaultOptions()
	if opts.Heartbeat <= 0 {
		opts.Heartbeat = def.Heartbeat
	}
	if opts.MaxStreams <= 0 {
		opts.MaxStreams = def.MaxStreams
	}
	if opts.MaxStreamsPerClient <= 0 {
		opts.MaxStreamsPerClient = def.MaxStreamsPerClient
	}
	if opts.MinUpdateInterval < 0 {
		opts.MinUpdateInterval = 0
	}
	h := &Handler{opts: opts, store: store, now: time.Now, clients: map[string]int{}}
	h.pages = template.Must(template.New("").Funcs(template.FuncMap{
		"short":      shortRevision,
		"ago":        func(t time.Time) string { return ago(h.now(), t) },
		"iso":        iso,
		"clusterURL": clusterURL,
	}).ParseFS(webFS, "web/*.html"))

	assets, err := fs.Sub(webFS, "web/assets")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	h.mux = http.NewServeMux()
	h.mux.HandleFunc("GET /{$}", h.overview)
	h.mux.HandleFunc("GET /clusters/{name}", h.cluster)
	h.mux.HandleFunc("GET /events", h.events)
	h.mux.Handle("GET /assets/", http.StripPrefix("/assets/", assetServer(http.FS(assets))))
	h.mux.HandleFunc("/", h.notFound)
	return h
}

// ServeHTTP sets the security headers of every answer, then routes.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", contentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) overview(w http.ResponseWriter, _ *http.Request) {
	h.render(w, http.StatusOK, "overview.html", fleetOf(h.store))
}

func (h *Handler) cluster(w http.ResponseWriter, r *http.Request) {
	v, ok := clusterOf(h.store, r.PathValue("name"))
	if !ok {
		h.render(w, http.StatusNotFound, "notfound.html", pageOf(h.store, "Cluster not found", r.PathValue("name")))
		return
	}
	h.render(w, http.StatusOK, "cluster.html", v)
}

// notFound answers every other path: 404 for a read, 405 for anything
// else, because the dashboard changes nothing.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed: the dashboard is read-only", http.StatusMethodNotAllowed)
		return
	}
	h.render(w, http.StatusNotFound, "notfound.html", pageOf(h.store, "Not found", r.URL.Path))
}

// render executes a page into a buffer first, so that a template error is
// a clean 500 and not half a page.
func (h *Handler) render(w http.ResponseWriter, code int, name string, data any) {
	var buf bytes.Buffer
	if err := h.pages.ExecuteTemplate(&buf, name, data); err != nil {
		slog.Error("dashboard page failed", "page", name, "err", err)
		http.Error(w, "page failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

// events is a server-sent event stream with one "change" event after each
// change of the Store; the page then fetches itself again.
func (h *Handler) events(w http.ResponseWriter, r *http.Request) {
	client := clientOf(r.RemoteAddr)
	if code := h.openStream(client); code != 0 {
		http.Error(w, "too many live streams", code)
		return
	}
	defer h.closeStream(client)
	// A stream outlives mcp's ReadTimeout (net/http lifts the read deadline
	// once the request is read) and its WriteTimeout: each write below
	// sets a deadline of its own instead.
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)

	send := func(msg string) bool {
		// A browser that stops reading must not hold the stream forever.
		rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := fmt.Fprint(w, msg); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send("retry: 2000\n\n") {
		return
	}
	heartbeat := time.NewTicker(h.opts.Heartbeat)
	defer heartbeat.Stop()
	changed := h.store.Changed()
	var seq int
	for {
		select {
		case <-r.Context().Done():
			return
		case <-heartbeat.C:
			if !send(": ping\n\n") {
				return
			}
		case <-changed:
			// Take the next channel before waiting: a change during the
			// wait is then still seen.
			changed = h.store.Changed()
			select {
			case <-time.After(h.opts.MinUpdateInterval):
			case <-r.Context().Done():
				return
			}
			seq++
			if !send(fmt.Sprintf("event: change\ndata: %d\n\n", seq)) {
				return
			}
		}
	}
}

// openStream takes a stream slot for client, or says why not: 429 when
// the client has its share, 503 when every slot is taken.
func (h *Handler) openStream(client string) (refused int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.clients[client] >= h.opts.MaxStreamsPerClient:
		return http.StatusTooManyRequests
	case h.streams >= h.opts.MaxStreams:
		return http.StatusServiceUnavailable
	}
	h.streams++
	h.clients[client]++
	return 0
}

func (h *Handler) closeStream(client string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.streams--
	if h.clients[client]--; h.clients[client] <= 0 {
		delete(h.clients, client)
	}
}

// clientOf is who a stream is counted against: the remote IP address,
// or its /64 for IPv6, where one host commonly has a whole /64.
// Forwarded headers are not trusted: any client can write them.
func clientOf(remoteAddr string) string {
	ap, err := netip.ParseAddrPort(remoteAddr)
	if err != nil {
		return remoteAddr
	}
	addr := ap.Addr().Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

// assetServer serves the embedded CSS, script and icon; they change only
// with the binary, but are revalidated so an upgrade shows at once.
func assetServer(files http.FileSystem) http.Handler {
	fsrv := http.FileServer(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") {
			http.NotFound(w, r) // no directory listings
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		fsrv.ServeHTTP(w, r)
	})
}
