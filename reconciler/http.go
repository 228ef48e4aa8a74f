package reconciler

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
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// maxWebhookBody bounds a push notification; GitHub caps its payloads at
// 25 MB, but mcp only needs to know that something was pushed.
const maxWebhookBody = 1 << 20

// ServerOptions configure the HTTP surface of mcp run (SPEC section 4).
type ServerOptions struct {
	// Listen is the address, default ":8080".
	Listen string
	// WebhookSecret, when set, must sign POST /webhook: GitHub's
	// X-Hub-Signature-256 or GitLab's X-Gitlab-Token.
	WebhookSecret []byte
	// Dashboard serves GET /, when not nil.
	Dashboard http.Handler
}

// Server serves health, readiness, metrics, status and the webhook.
type Server struct {
	opts    ServerOptions
	store   *Store
	metrics *Metrics
	trigger func()
	srv     *http.Server
}

// NewServer returns a server over store; trigger is called for every
// accepted webhook and must not block.
func NewServer(opts ServerOptions, store *Store, metrics *Metrics, trigger func()) *Server {
	if opts.Listen == "" {
		opts.Listen = ":8080"
	}
	s := &Server{opts: opts, store: store, metrics: metrics, trigger: trigger}
	s.srv = &http.Server{
		Addr:              opts.Listen,
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
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
	mux.HandleFunc("/webhook", s.webhook)
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
		slog.Warn("webhook refused: missing or wrong signature", "remote", r.RemoteAddr)
		http.Error(w, "missing or wrong signature", http.StatusUnauthorized)
		return
	}
	if !validPayload(r.Header.Get("Content-Type"), body) {
		http.Error(w, "body is not a JSON push notification", http.StatusBadRequest)
		return
	}
	slog.Info("webhook: fetching now", "event", eventName(r.Header))
	s.trigger()
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
