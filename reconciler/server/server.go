package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"mcp.dev/mcp/reconciler/status"
)

// maxWebhookBody bounds a push notification; GitHub caps its payloads at
// 25 MB, but mcp only needs to know that something was pushed.
const maxWebhookBody = 1 << 20

// Options configure the HTTP surface of mcp run (SPEC section 4).
type Options struct {
	// Listen is the address, default ":8080".
	Listen string
	// WebhookSecret, when set, must sign POST /webhook: GitHub's
	// X-Hub-Signature-256 or GitLab's X-Gitlab-Token.
	WebhookSecret []byte
	// WebhookInsecure serves POST /webhook without a secret: whoever
	// reaches the port may ask for fetches. Without it or a secret,
	// /webhook answers 404.
	WebhookInsecure bool
	// WebhookMinInterval is the least time between two fetches asked for
	// by webhooks, and between two log lines about refused ones; pushes in
	// between are merged into one fetch when it ends. Default 5s.
	WebhookMinInterval time.Duration
	// WriteTimeout bounds writing the answer of every handler. A stream
	// that outlives it (the dashboard's live updates) sets a deadline per
	// write instead. Default 30s.
	WriteTimeout time.Duration
	// Dashboard serves GET /, when not nil.
	Dashboard http.Handler
}

// DefaultOptions are the options of mcp run.
func DefaultOptions() Options {
	return Options{Listen: ":8080", WebhookMinInterval: 5 * time.Second, WriteTimeout: 30 * time.Second}
}

// Server serves health, readiness, metrics, status and the webhook.
type Server struct {
	opts    Options
	store   *status.Store
	metrics *status.Metrics
	srv     *http.Server

	// fetch asks the loop for a fetch, at most once per
	// WebhookMinInterval; refusals logs refused webhooks as often.
	fetch, refusals *throttle

	mu          sync.Mutex
	pushes      int    // accepted since the last fetch asked for
	event       string // of the last accepted push
	refused     int    // since the last line logged about them
	lastRefused string // the remote address of the last one
}

// New returns a server over store; trigger asks the loop for a
// fetch and must not block. Webhooks call it at most once per
// WebhookMinInterval. Zero options take DefaultServerOptions' values.
func New(opts Options, store *status.Store, metrics *status.Metrics, trigger func()) *Server {
	def := DefaultOptions()
	if opts.Listen == "" {
		opts.Listen = def.Listen
	}
	if opts.WebhookMinInterval <= 0 {
		opts.WebhookMinInterval = def.WebhookMinInterval
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = def.WriteTimeout
	}
	s := &Server{opts: opts, store: store, metrics: metrics}
	s.fetch = newThrottle(opts.WebhookMinInterval, func() {
		s.mu.Lock()
		pushes, event := s.pushes, s.event
		s.pushes = 0
		s.mu.Unlock()
		if pushes == 0 {
			return // the fetch asked for last came after them all
		}
		slog.Info("webhook: fetching now", "event", event, "pushes", pushes)
		trigger()
	})
	s.refusals = newThrottle(opts.WebhookMinInterval, func() {
		s.mu.Lock()
		n, remote := s.refused, s.lastRefused
		s.refused = 0
		s.mu.Unlock()
		if n == 0 {
			return
		}
		slog.Warn("webhook refused: missing or wrong signature", "count", n, "last_remote", remote)
	})
	s.srv = &http.Server{
		Addr:              opts.Listen,
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      opts.WriteTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	return s
}

// Handler is the server's routing, for tests with httptest.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	ok := func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }
	mux.HandleFunc("GET /healthz", ok)
	mux.HandleFunc("GET /health", ok)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /status", s.status)
	if len(s.opts.WebhookSecret) > 0 || s.opts.WebhookInsecure {
		mux.HandleFunc("/webhook", s.webhook)
	} else {
		// Registered all the same, so that the dashboard at / does not
		// answer for it.
		mux.HandleFunc("/webhook", http.NotFound)
	}
	if s.opts.Dashboard != nil {
		mux.Handle("/", s.opts.Dashboard)
	}
	return mux
}

// ListenAndServe serves until ctx is done, then shuts down gracefully.
func (s *Server) ListenAndServe(ctx context.Context) error {
	l, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		return err
	}
	return s.Serve(ctx, l)
}

// Serve is ListenAndServe on a listener of the caller's.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	// Requests live as long as ctx, so that long streams (the dashboard's
	// live updates) end with it instead of holding Shutdown up.
	s.srv.BaseContext = func(net.Listener) context.Context { return ctx }
	errc := make(chan error, 1)
	go func() { errc <- s.srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		s.fetch.stop()
		s.refusals.stop()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err := s.srv.Shutdown(shutdown)
		<-errc
		return err
	}
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	if !s.store.Ready() {
		http.Error(w, "no revision rendered yet", http.StatusServiceUnavailable)
		return
	}
	io.WriteString(w, "ok")
}

func (s *Server) status(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(s.store.Snapshot())
}

// webhook accepts a push notification and asks for a fetch now.
func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	if len(s.opts.WebhookSecret) > 0 && !validSignature(s.opts.WebhookSecret, r.Header, body) {
		s.mu.Lock()
		s.refused++
		s.lastRefused = r.RemoteAddr
		s.mu.Unlock()
		s.refusals.call()
		http.Error(w, "missing or wrong signature", http.StatusUnauthorized)
		return
	}
	if !validPayload(r.Header.Get("Content-Type"), body) {
		http.Error(w, "body is not a JSON push notification", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.pushes++
	s.event = eventName(r.Header)
	s.mu.Unlock()
	s.fetch.call()
	w.WriteHeader(http.StatusAccepted)
	io.WriteString(w, "fetch scheduled")
}

// validPayload accepts an empty body, JSON, and GitHub's default
// form-encoded delivery (payload=<JSON>). mcp reads nothing from it: a
// push is a push.
func validPayload(contentType string, body []byte) bool {
	if len(body) == 0 {
		return true
	}
	if mt, _, _ := mime.ParseMediaType(contentType); mt == "application/x-www-form-urlencoded" {
		form, err := url.ParseQuery(string(body))
		return err == nil && json.Valid([]byte(form.Get("payload")))
	}
	return json.Valid(body)
}

// validSignature checks GitHub's HMAC-SHA256 signature of the body or
// GitLab's shared token, both in constant time.
func validSignature(secret []byte, h http.Header, body []byte) bool {
	if sig, ok := strings.CutPrefix(h.Get("X-Hub-Signature-256"), "sha256="); ok {
		got, err := hex.DecodeString(sig)
		if err != nil {
			return false
		}
		mac := hmac.New(sha256.New, secret)
		mac.Write(body)
		return hmac.Equal(got, mac.Sum(nil))
	}
	if tok := h.Get("X-Gitlab-Token"); tok != "" {
		return subtle.ConstantTimeCompare([]byte(tok), secret) == 1
	}
	return false
}

func eventName(h http.Header) string {
	if e := h.Get("X-GitHub-Event"); e != "" {
		return e
	}
	return h.Get("X-Gitlab-Event")
}
