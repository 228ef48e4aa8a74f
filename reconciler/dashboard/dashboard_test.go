package dashboard

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"mcp.dev/mcp/apply"
	"mcp.dev/mcp/diff"
	"mcp.dev/mcp/internal/object"
	"mcp.dev/mcp/reconciler/server"
	"mcp.dev/mcp/reconciler/status"
)

// xss are values a hostile or careless repo could put where the
// dashboard prints text.
const (
	xssScript = `<script>alert("label")</script>`
	xssImg    = `"><img src=x onerror=alert(1)>`
)

func secret(data map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{"name": "db", "namespace": "web"},
		"data":     data,
	}}
	return u
}

func configMap(value string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "hello", "namespace": "web"},
		"data":     map[string]any{"value": value},
	}}
}

// fixture is a store as the loop leaves it: two clusters, one failed with
// hostile text everywhere, with a plan that changes a Secret.
func fixture(t *testing.T) *status.Store {
	t.Helper()
	s := status.NewStore()
	s.SetSource(status.SourceInfo{URL: "https://git:***@git.example.com/fleet.git", Branch: "main"})
	s.SetRevision("3f2c1a9e0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e")
	s.Update(status.Cluster{Name: "aws-eu", Result: apply.Synced, Revision: "3f2c1a9e0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e", Since: time.Now().Add(-time.Hour)})
	s.SetLabels("aws-eu", map[string]string{"cloud": "aws", "region": "eu-west-1", "env": "prod"})
	s.Update(status.Cluster{
		Name: "gcp-us", Result: apply.Failed, Revision: "0000000000000000000000000000000000000000",
		Message: "1 of 3 objects failed " + xssScript, Since: time.Now(),
		Summary: status.Summary{Managed: 3, Failed: 1},
		Objects: []status.Object{{Kind: "Deployment", Namespace: "web", Name: "web", File: "apps/web/" + xssImg + ".yaml", Error: "apply: " + xssScript}},
	})
	s.SetLabels("gcp-us", map[string]string{"cloud": xssScript, "team": xssImg})

	sec := diff.ChangeFor(object.KeyOf(secret(nil)), secret(map[string]any{"password": "aHVudGVyMg=="}), secret(map[string]any{"password": "c3dvcmRmaXNo"}))
	sec.File = "apps/web/secret.yaml"
	cm := diff.ChangeFor(object.KeyOf(configMap("")), configMap("one"), configMap(xssImg))
	s.SetPlan("gcp-us", &diff.ClusterPlan{Cluster: "gcp-us", Changes: []diff.Change{cm, sec}}, "3f2c1a9e0b1c")
	return s
}

func get(t *testing.T, h http.Handler, method, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
	return rec
}

func TestPagesEscapeEveryValue(t *testing.T) {
	h := New(fixture(t), DefaultOptions())
	for _, path := range []string{"/", "/clusters/gcp-us"} {
		rec := get(t, h, "GET", path)
		body := rec.Body.String()
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", path, rec.Code, body)
		}
		for _, raw := range []string{"<script>alert", "<img src=x"} {
			if strings.Contains(body, raw) {
				t.Errorf("GET %s: %q unescaped in the page", path, raw)
			}
		}
		if !strings.Contains(body, "&lt;script&gt;alert(&#34;label&#34;)&lt;/script&gt;") {
			t.Errorf("GET %s: the hostile label is not shown as text", path)
		}
	}
}

func TestClusterPageShowsThePlanWithSecretsMasked(t *testing.T) {
	body := get(t, New(fixture(t), DefaultOptions()), "GET", "/clusters/gcp-us").Body.String()
	for _, want := range []string{
		"0 to create, 2 to update, 0 to delete",
		"ConfigMap web/hello", "data.value", "&#34;one&#34;", // old value, as mcp diff prints it
		"Secret web/db", "data.password", "(sensitive value changed)", "apps/web/secret.yaml",
		"Deployment web/web", "apply: &lt;script&gt;", // the failed object, its error and file
		"apps/web/&#34;&gt;&lt;img src=x onerror=alert(1)&gt;.yaml",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("cluster page lacks %q", want)
		}
	}
	for _, secret := range []string{"aHVudGVyMg==", "c3dvcmRmaXNo", "hunter2", "swordfish"} {
		if strings.Contains(body, secret) {
			t.Errorf("cluster page shows %q", secret)
		}
	}
}

func TestClusterPageShowsAdoptedAndKept(t *testing.T) {
	s := fixture(t)
	adopt := diff.ChangeFor(object.KeyOf(configMap("")), configMap("by hand"), configMap("desired"))
	adopt.Action = diff.Adopt
	kept := diff.Change{Key: object.Key{Kind: "Namespace", Name: "old"}, Action: diff.Keep, Reason: "kept: 2 unmanaged objects inside"}
	s.SetPlan("aws-eu", &diff.ClusterPlan{Cluster: "aws-eu", Changes: []diff.Change{adopt, kept}}, "3f2c1a9e0b1c")
	body := get(t, New(s, DefaultOptions()), "GET", "/clusters/aws-eu").Body.String()
	for _, want := range []string{
		"0 to create, 0 to update, 0 to delete, 1 to adopt, 1 kept",
		`class="change adopt"`, "ConfigMap web/hello", "&#34;by hand&#34;",
		`class="change keep"`, "Namespace old", "kept: 2 unmanaged objects inside",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("cluster page lacks %q", want)
		}
	}
}

func TestOverviewListsClustersAndSource(t *testing.T) {
	body := get(t, New(fixture(t), DefaultOptions()), "GET", "/").Body.String()
	for _, want := range []string{
		`href="/clusters/aws-eu"`, `href="/clusters/gcp-us"`,
		`data-result="Synced"`, `data-result="Failed"`, "✓", "✗", // words and icons, not colour alone
		"region</span>=<span class=\"v\">eu-west-1", "behind the source", // gcp-us is
		"https://git:***@git.example.com/fleet.git", "<code>main</code>", "3f2c1a9e0b1c", "not checked yet",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
}

func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	h := New(fixture(t), DefaultOptions())
	for _, path := range []string{"/", "/clusters/aws-eu", "/clusters/nope", "/nope", "/assets/app.js", "/assets/app.css"} {
		rec := get(t, h, "GET", path)
		hd := rec.Header()
		csp := hd.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe") {
			t.Errorf("GET %s: CSP allows %q", path, csp)
		}
		if hd.Get("X-Content-Type-Options") != "nosniff" || hd.Get("Referrer-Policy") == "" {
			t.Errorf("GET %s: headers %v", path, hd)
		}
	}
}

func TestRoutes(t *testing.T) {
	h := New(fixture(t), DefaultOptions())
	tests := map[string]struct {
		method, path string
		code         int
		contentType  string
	}{
		"overview":          {"GET", "/", 200, "text/html; charset=utf-8"},
		"head":              {"HEAD", "/", 200, "text/html; charset=utf-8"},
		"cluster":           {"GET", "/clusters/aws-eu", 200, "text/html; charset=utf-8"},
		"unknown cluster":   {"GET", "/clusters/nope", 404, "text/html; charset=utf-8"},
		"unknown path":      {"GET", "/admin", 404, "text/html; charset=utf-8"},
		"nested cluster":    {"GET", "/clusters/aws-eu/delete", 404, "text/html; charset=utf-8"},
		"script":            {"GET", "/assets/app.js", 200, "text/javascript; charset=utf-8"},
		"style":             {"GET", "/assets/app.css", 200, "text/css; charset=utf-8"},
		"icon":              {"GET", "/assets/favicon.svg", 200, "image/svg+xml"},
		"no listing":        {"GET", "/assets/", 404, ""},
		"missing asset":     {"GET", "/assets/nope.js", 404, ""},
		"post overview":     {"POST", "/", 405, ""},
		"delete cluster":    {"DELETE", "/clusters/aws-eu", 405, ""},
		"post events":       {"POST", "/events", 405, ""},
		"put asset":         {"PUT", "/assets/app.js", 405, ""},
		"post unknown path": {"POST", "/sync", 405, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rec := get(t, h, tc.method, tc.path)
			if rec.Code != tc.code {
				t.Fatalf("%s %s: %d, want %d\n%s", tc.method, tc.path, rec.Code, tc.code, rec.Body)
			}
			if tc.contentType != "" && rec.Header().Get("Content-Type") != tc.contentType {
				t.Fatalf("%s %s: Content-Type %q, want %q", tc.method, tc.path, rec.Header().Get("Content-Type"), tc.contentType)
			}
			if tc.code == 405 && rec.Header().Get("Allow") == "" {
				t.Fatalf("%s %s: 405 without Allow", tc.method, tc.path)
			}
		})
	}
}

// TestServedByMCPsServer checks the wiring of mcp run: the dashboard at /
// beside /status, whose SPEC fields stay as they are.
func TestServedByMCPsServer(t *testing.T) {
	store := fixture(t)
	on := server.New(server.Options{Dashboard: New(store, DefaultOptions())}, store, status.NewMetrics(), func() {}).Handler()
	off := server.New(server.Options{}, store, status.NewMetrics(), func() {}).Handler()
	if rec := get(t, on, "GET", "/"); rec.Code != 200 || !strings.Contains(rec.Body.String(), "<h1>Fleet</h1>") {
		t.Fatalf("GET / with the dashboard: %d", rec.Code)
	}
	if rec := get(t, off, "GET", "/"); rec.Code != 404 {
		t.Fatalf("GET / with --dashboard=false: %d, want 404", rec.Code)
	}
	if rec := get(t, on, "POST", "/"); rec.Code != 405 {
		t.Fatalf("POST /: %d, want 405", rec.Code)
	}
	rec := get(t, on, "GET", "/status")
	for _, field := range []string{`"revision"`, `"clusters"`, `"name": "gcp-us"`, `"result": "Failed"`, `"since"`, `"summary"`} {
		if !strings.Contains(rec.Body.String(), field) {
			t.Fatalf("/status lacks %s:\n%s", field, rec.Body)
		}
	}
}

// TestEventsOutliveTheReadTimeout streams through a server with mcp's
// kind of ReadTimeout, set short: events still arrive after it expired.
func TestEventsOutliveTheReadTimeout(t *testing.T) {
	store := status.NewStore()
	opts := DefaultOptions()
	opts.MinUpdateInterval = 0
	srv := httptest.NewUnstartedServer(New(store, opts))
	srv.Config.ReadTimeout = 300 * time.Millisecond
	srv.Start()
	defer srv.Close()
	followEvents(t, store, srv.URL)
}

// TestEventsOutliveTheWriteTimeout streams through mcp's server with its
// WriteTimeout, which bounds every other answer, set short: the stream is
// exempt, events still arrive after it expired.
func TestEventsOutliveTheWriteTimeout(t *testing.T) {
	store := status.NewStore()
	opts := DefaultOptions()
	opts.MinUpdateInterval = 0
	srv := server.New(server.Options{Dashboard: New(store, opts), WriteTimeout: 300 * time.Millisecond}, store, status.NewMetrics(), func() {})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l) }()
	defer func() { cancel(); <-done }()
	followEvents(t, store, "http://"+l.Addr().String())
}

// followEvents opens the live stream at url and waits for an event after
// each of three changes of store, half a second apart.
func followEvents(t *testing.T, store *status.Store, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", url+"/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for i := range 3 {
		time.Sleep(500 * time.Millisecond) // past the ReadTimeout and WriteTimeout
		store.SetRevision(strings.Repeat("a", i+1))
		got := false
		for line := range lines {
			if got = strings.HasPrefix(line, "event: change"); got {
				break
			}
		}
		if !got {
			t.Fatalf("no event %d: the stream ended (%v)", i+1, ctx.Err())
		}
	}
}

// TestEventsEndWithTheServer: a browser left open must not hold up mcp's
// shutdown.
func TestEventsEndWithTheServer(t *testing.T) {
	store := status.NewStore()
	srv := server.New(server.Options{Dashboard: New(store, DefaultOptions())}, store, status.NewMetrics(), func() {})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, l) }()
	resp, err := http.Get("http://" + l.Addr().String() + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	start := time.Now()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("shutdown took %v with a stream open", took)
	}
	io.Copy(io.Discard, resp.Body) // and the stream ended
}

func TestTooManyStreams(t *testing.T) {
	opts := DefaultOptions()
	opts.MaxStreams = 1
	srv := httptest.NewServer(New(status.NewStore(), opts))
	defer srv.Close()
	first, err := http.Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer first.Body.Close()
	second, err := http.Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	second.Body.Close()
	if second.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("second stream: %d, want 503", second.StatusCode)
	}
}

func TestAgoAndShortRevision(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	agos := map[time.Duration]string{0: "just now", 30 * time.Second: "30s ago", 5 * time.Minute: "5m ago", 3 * time.Hour: "3h ago", 72 * time.Hour: "3d ago"}
	for d, want := range agos {
		if got := ago(now, now.Add(-d)); got != want {
			t.Errorf("ago(%v) = %q, want %q", d, got, want)
		}
	}
	if got := ago(now, time.Time{}); got != "never" {
		t.Errorf("ago(zero) = %q", got)
	}
	revs := map[string]string{"3f2c1a9e0b1c2d3e4f": "3f2c1a9e0b1c", "sha256:0123456789abcdef": "sha256:0123456789ab", "v1": "v1"}
	for rev, want := range revs {
		if got := shortRevision(rev); got != want {
			t.Errorf("shortRevision(%q) = %q, want %q", rev, got, want)
		}
	}
}

// openStream opens /events from the loopback address from and returns the
// answer; a 200 is a live stream, closed when the test ends.
func openStream(t *testing.T, url, from string) *http.Response {
	t.Helper()
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	client := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
	resp, err := client.Get(url + "/events")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 {
		resp.Body.Close()
	}
	return resp
}

// TestStreamsPerClient: one client cannot take every live-stream slot:
// beyond its share it gets 429, while others still get streams up to the
// global limit.
func TestStreamsPerClient(t *testing.T) {
	opts := DefaultOptions()
	opts.MaxStreams, opts.MaxStreamsPerClient = 6, 4
	srv := httptest.NewServer(New(status.NewStore(), opts))
	t.Cleanup(srv.Close) // after the streams are closed

	var first *http.Response
	for i := range 4 {
		resp := openStream(t, srv.URL, "127.0.0.1")
		if resp.StatusCode != 200 {
			t.Fatalf("stream %d of 127.0.0.1: %d, want 200", i+1, resp.StatusCode)
		}
		first = resp
	}
	for range 3 {
		if code := openStream(t, srv.URL, "127.0.0.1").StatusCode; code != http.StatusTooManyRequests {
			t.Fatalf("a 5th stream of 127.0.0.1: %d, want 429", code)
		}
	}
	for _, from := range []string{"127.0.0.2", "127.0.0.3"} {
		if code := openStream(t, srv.URL, from).StatusCode; code != 200 {
			t.Fatalf("a stream of %s: %d, want 200", from, code)
		}
	}
	if code := openStream(t, srv.URL, "127.0.0.4").StatusCode; code != http.StatusServiceUnavailable {
		t.Fatalf("a 7th stream in all: %d, want 503", code)
	}
	// A stream that ends gives its slot back to its client.
	first.Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp := openStream(t, srv.URL, "127.0.0.1")
		if resp.StatusCode == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("127.0.0.1 never got its slot back: %d", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestClientOf(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:5000":         "127.0.0.1",
		"[::ffff:10.0.0.1]:5000": "10.0.0.1",
		"[2001:db8::1]:5000":     "2001:db8::/64",
		"[2001:db8::ffff]:6000":  "2001:db8::/64",
		"[2001:db8:0:1::1]:6000": "2001:db8:0:1::/64",
		"not an address":         "not an address",
	} {
		if got := clientOf(addr); got != want {
			t.Errorf("clientOf(%q) = %q, want %q", addr, got, want)
		}
	}
}
