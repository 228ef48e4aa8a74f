package reconciler

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mcp.dev/mcp/internal/testenv"
	"mcp.dev/mcp/reconciler/server"
	"mcp.dev/mcp/reconciler/status"
	"mcp.dev/mcp/source"
	"mcp.dev/mcp/source/dir"
)

// countingSource is a directory source without its watch, so that only
// webhooks wake the loop, that counts its fetches. A fetch takes delay
// after it read the directory, like a clone that takes a while: a push
// during it is not in it.
type countingSource struct {
	src     source.Source
	delay   time.Duration
	fetches atomic.Int32
}

func (c *countingSource) Fetch(ctx context.Context) (source.Snapshot, bool, error) {
	c.fetches.Add(1)
	snap, changed, err := c.src.Fetch(ctx)
	time.Sleep(c.delay)
	return snap, changed, err
}

// logSink is the default slog logger's output while a test runs.
type logSink struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// lines returns the log lines that contain s.
func (l *logSink) lines(s string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for line := range strings.SplitSeq(l.b.String(), "\n") {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return out
}

func captureLogs(t *testing.T) *logSink {
	t.Helper()
	sink := &logSink{}
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(sink, nil)))
	t.Cleanup(func() { slog.SetDefault(old) })
	return sink
}

// webhookDaemon is the loop over a counting source and mcp's HTTP server
// on loopback, with the interval so long that only webhooks fetch.
type webhookDaemon struct {
	url   string
	repo  string
	src   *countingSource
	store *status.Store
}

func startWebhookDaemon(t *testing.T, opts server.Options, delay time.Duration) *webhookDaemon {
	t.Helper()
	repo := copyFleet(t)
	ds, err := dir.New(dir.Options{Dir: repo})
	if err != nil {
		t.Fatal(err)
	}
	src := &countingSource{src: ds, delay: delay}
	ropts := DefaultOptions()
	ropts.Interval = time.Hour
	store := status.NewStore()
	r := New(src, &countingApplier{calls: map[string]int{}}, store, status.NewMetrics(), ropts)
	srv := server.New(opts, store, status.NewMetrics(), r.Trigger)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran, served := make(chan error, 1), make(chan error, 1)
	go func() { ran <- r.Run(ctx) }()
	go func() { served <- srv.Serve(ctx, l) }()
	t.Cleanup(func() { cancel(); <-ran; <-served })
	testenv.Eventually(t, 15*time.Second, "the first fetch", func() bool { return store.Ready() })
	return &webhookDaemon{url: "http://" + l.Addr().String() + "/webhook", repo: repo, src: src, store: store}
}

// flood posts n webhooks from 8 clients at once and counts the answers
// by status code.
func flood(t *testing.T, url string, n int, header map[string]string) map[int]int {
	t.Helper()
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	next := make(chan struct{})
	for range 8 {
		wg.Go(func() {
			for range next {
				req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(`{}`))
				for k, v := range header {
					req.Header.Set(k, v)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					continue
				}
				resp.Body.Close()
				mu.Lock()
				codes[resp.StatusCode]++
				mu.Unlock()
			}
		})
	}
	for range n {
		next <- struct{}{}
	}
	close(next)
	wg.Wait()
	return codes
}

// sum adds up the values of key=N in lines.
func sum(t *testing.T, lines []string, key string) int {
	t.Helper()
	re := regexp.MustCompile(`\b` + key + `=(\d+)`)
	total := 0
	for _, line := range lines {
		m := re.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("no %s= in %q", key, line)
		}
		n, _ := strconv.Atoi(m[1])
		total += n
	}
	return total
}

// TestWebhookFloodIsBounded posts 400 webhooks as fast as 8 clients can:
// they cost at most one fetch and one log line per WebhookMinInterval,
// whether they are signed, unsigned, or the webhook is open; without a
// secret the webhook is not there at all.
func TestWebhookFloodIsBounded(t *testing.T) {
	const (
		posts    = 400
		interval = 250 * time.Millisecond
		secret   = "s3cr3t-webhook"
	)
	for name, tc := range map[string]struct {
		opts    server.Options
		header  map[string]string
		code    int
		fetches bool   // some fetch is made
		log     string // the lines to count
		key     string // whose values add up to posts
	}{
		"unsigned": {
			opts: server.Options{WebhookSecret: []byte(secret)}, code: 401,
			log: "webhook refused", key: "count",
		},
		"signed": {
			opts: server.Options{WebhookSecret: []byte(secret)}, header: map[string]string{"X-Gitlab-Token": secret}, code: 202,
			fetches: true, log: "webhook: fetching now", key: "pushes",
		},
		"insecure": {
			opts: server.Options{WebhookInsecure: true}, code: 202,
			fetches: true, log: "webhook: fetching now", key: "pushes",
		},
		"no secret": {code: 404},
	} {
		t.Run(name, func(t *testing.T) {
			logs := captureLogs(t)
			tc.opts.WebhookMinInterval = interval
			d := startWebhookDaemon(t, tc.opts, 0)
			before := d.src.fetches.Load()
			start := time.Now()
			codes := flood(t, d.url, posts, tc.header)
			took := time.Since(start)
			if codes[tc.code] != posts {
				t.Fatalf("answers %v, want %d × %d", codes, posts, tc.code)
			}
			time.Sleep(3 * interval) // the merged fetch and log line at the end
			// One at the start, one per interval, one at the end.
			bound := 2 + int(took/interval)
			fetches := int(d.src.fetches.Load() - before)
			t.Logf("%d posts in %v: %d fetches, %d log lines about webhooks", posts, took.Round(time.Millisecond), fetches, len(logs.lines("webhook")))
			if fetches > bound || (fetches > 0) != tc.fetches {
				t.Errorf("%d fetches, want %v and at most %d", fetches, tc.fetches, bound)
			}
			if tc.log == "" {
				if n := len(logs.lines("webhook")); n != 0 {
					t.Errorf("%d log lines about a webhook that is off", n)
				}
				return
			}
			lines := logs.lines(tc.log)
			if len(lines) > bound || len(lines) == 0 {
				t.Errorf("%d %q lines, want 1 to %d", len(lines), tc.log, bound)
			}
			if got := sum(t, lines, tc.key); got != posts {
				t.Errorf("the lines count %d webhooks, want %d", got, posts)
			}
		})
	}
}

// TestWebhookDuringAFetchIsNotDropped: a push that lands while the fetch
// of the previous push runs is fetched after it, merged with the others.
func TestWebhookDuringAFetchIsNotDropped(t *testing.T) {
	const secret = "s3cr3t-webhook"
	d := startWebhookDaemon(t, server.Options{WebhookSecret: []byte(secret), WebhookMinInterval: 200 * time.Millisecond}, 600*time.Millisecond)
	first := d.store.Snapshot().Revision
	post := func() {
		t.Helper()
		if codes := flood(t, d.url, 1, map[string]string{"X-Gitlab-Token": secret}); codes[202] != 1 {
			t.Fatalf("answers %v", codes)
		}
	}
	before := d.src.fetches.Load()
	post()
	testenv.Eventually(t, 15*time.Second, "the fetch of the first push", func() bool { return d.src.fetches.Load() == before+1 })
	// The fetch has read the directory and takes a while: a push now.
	if err := os.WriteFile(filepath.Join(d.repo, "pushed.yaml"), []byte("# pushed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		post()
	}
	testenv.Eventually(t, 15*time.Second, "the pushed revision", func() bool { return d.store.Snapshot().Revision != first })
	time.Sleep(time.Second)
	if got := d.src.fetches.Load() - before; got != 2 {
		t.Errorf("%d fetches for two bursts of pushes, want 2", got)
	}
}

// TestWebhookRoute: without a secret or WebhookInsecure, /webhook is not
// served, and the dashboard at / does not answer for it either.
func TestWebhookRoute(t *testing.T) {
	dash := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "the dashboard is read-only", http.StatusMethodNotAllowed)
	})
	for name, tc := range map[string]struct {
		opts server.Options
		want int
	}{
		"off":      {opts: server.Options{Dashboard: dash}, want: 404},
		"secret":   {opts: server.Options{Dashboard: dash, WebhookSecret: []byte("s")}, want: 401},
		"insecure": {opts: server.Options{Dashboard: dash, WebhookInsecure: true}, want: 202},
	} {
		t.Run(name, func(t *testing.T) {
			var triggered atomic.Int32
			h := server.New(tc.opts, status.NewStore(), status.NewMetrics(), func() { triggered.Add(1) }).Handler()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/webhook", strings.NewReader(`{}`)))
			if rec.Code != tc.want {
				t.Errorf("POST /webhook: %d, want %d", rec.Code, tc.want)
			}
			if got, want := triggered.Load(), map[bool]int32{true: 1}[tc.want == 202]; got != want {
				t.Errorf("%d fetches asked for, want %d", got, want)
			}
		})
	}
}

// failingSource is a git server that is down.
type failingSource struct{ fetches atomic.Int32 }

func (f *failingSource) Fetch(context.Context) (source.Snapshot, bool, error) {
	f.fetches.Add(1)
	return source.Snapshot{}, false, errors.New("connection refused")
}

// TestWebhooksKeepTheBackoffOfAFailingSource: while the source fails,
// webhooks do not cut the backoff short (1s, 2s, ...).
func TestWebhooksKeepTheBackoffOfAFailingSource(t *testing.T) {
	captureLogs(t)
	src := &failingSource{}
	ropts := DefaultOptions()
	ropts.Interval = time.Hour
	store := status.NewStore()
	r := New(src, &countingApplier{calls: map[string]int{}}, store, status.NewMetrics(), ropts)
	srv := server.New(server.Options{WebhookInsecure: true, WebhookMinInterval: 50 * time.Millisecond}, store, status.NewMetrics(), r.Trigger)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran, served := make(chan error, 1), make(chan error, 1)
	go func() { ran <- r.Run(ctx) }()
	go func() { served <- srv.Serve(ctx, l) }()
	defer func() { cancel(); <-ran; <-served }()

	// Pushes for 3.5s: the fetches at 0s, 1s and 3s, and no others.
	for start := time.Now(); time.Since(start) < 3500*time.Millisecond; {
		flood(t, "http://"+l.Addr().String()+"/webhook", 8, nil)
		time.Sleep(20 * time.Millisecond)
	}
	if got := src.fetches.Load(); got > 3 {
		t.Errorf("%d fetches of a failing source in 3.5s of pushes, want 3 (its backoff)", got)
	}
}
