package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"mcp.dev/mcp/apply"
	"mcp.dev/mcp/internal/testenv"
	"mcp.dev/mcp/reconciler/status"
)

func newTestServer(t *testing.T, secret string) (*httptest.Server, *status.Store, *atomic.Int32) {
	t.Helper()
	store := status.NewStore()
	var triggered atomic.Int32
	s := New(Options{WebhookSecret: []byte(secret)}, store, status.NewMetrics(), func() { triggered.Add(1) })
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts, store, &triggered
}

func sign(secret, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func TestWebhook(t *testing.T) {
	const secret = "s3cr3t-webhook"
	const body = `{"ref":"refs/heads/main"}`
	tests := map[string]struct {
		method  string
		headers map[string]string
		body    string
		ctype   string
		want    int
		fetch   bool
	}{
		"github signature":       {headers: map[string]string{"X-Hub-Signature-256": sign(secret, body)}, want: 202, fetch: true},
		"gitlab token":           {headers: map[string]string{"X-Gitlab-Token": secret}, want: 202, fetch: true},
		"wrong github signature": {headers: map[string]string{"X-Hub-Signature-256": sign("other", body)}, want: 401},
		"signature of another body": {
			headers: map[string]string{"X-Hub-Signature-256": sign(secret, `{"ref":"x"}`)}, want: 401,
		},
		"not hex":            {headers: map[string]string{"X-Hub-Signature-256": "sha256=zz"}, want: 401},
		"wrong gitlab token": {headers: map[string]string{"X-Gitlab-Token": "guess"}, want: 401},
		"no signature":       {want: 401},
		"wrong method":       {method: http.MethodGet, want: 405},
		"huge body": {
			body: `{"pad":"` + strings.Repeat("a", maxWebhookBody) + `"}`, want: 413,
		},
		"github form delivery": {
			body: "payload=" + url.QueryEscape(body), ctype: "application/x-www-form-urlencoded",
			headers: map[string]string{"X-Hub-Signature-256": sign(secret, "payload="+url.QueryEscape(body))}, want: 202, fetch: true,
		},
		"form without a json payload": {
			body: "payload=nope", ctype: "application/x-www-form-urlencoded",
			headers: map[string]string{"X-Hub-Signature-256": sign(secret, "payload=nope")}, want: 400,
		},
		"malformed json": {
			body: "{not json", headers: map[string]string{"X-Hub-Signature-256": sign(secret, "{not json")}, want: 400,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			ts, _, triggered := newTestServer(t, secret)
			method, b := tc.method, tc.body
			if method == "" {
				method = http.MethodPost
			}
			if b == "" {
				b = body
			}
			req, _ := http.NewRequest(method, ts.URL+"/webhook", strings.NewReader(b))
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if got := triggered.Load() == 1; got != tc.fetch {
				t.Errorf("fetch triggered = %v, want %v", got, tc.fetch)
			}
		})
	}
}

func TestReadyzAndStatus(t *testing.T) {
	ts, store, _ := newTestServer(t, "")
	if code, _ := testenv.Get(t, ts.URL+"/readyz"); code != 503 {
		t.Fatalf("readyz before the first revision: %d, want 503", code)
	}
	if code, _ := testenv.Get(t, ts.URL+"/healthz"); code != 200 {
		t.Fatalf("healthz: %d", code)
	}
	store.SetRevision("abc123")
	store.Update(status.Cluster{Name: "eu", Result: apply.Synced, Revision: "abc123", Since: time.Now(), Summary: status.Summary{Managed: 3}})
	if code, _ := testenv.Get(t, ts.URL+"/readyz"); code != 200 {
		t.Fatalf("readyz after a revision: %d, want 200", code)
	}
	resp, err := http.Get(ts.URL + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Revision string `json:"revision"`
		Clusters []struct {
			Name    string         `json:"name"`
			Result  string         `json:"result"`
			Since   string         `json:"since"`
			Summary map[string]int `json:"summary"`
		} `json:"clusters"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if got.Revision != "abc123" || len(got.Clusters) != 1 || got.Clusters[0].Result != "Synced" || got.Clusters[0].Summary["managed"] != 3 || got.Clusters[0].Since == "" {
		t.Fatalf("status = %+v", got)
	}
}

func TestMetricsNamesOfSpec(t *testing.T) {
	m := status.NewMetrics()
	m.Observe(status.Cluster{Name: "eu", Result: apply.Synced, Summary: status.Summary{Managed: 4}}, 0.2)
	m.SourceFetchTotal.WithLabelValues("unchanged").Inc()
	ts := httptest.NewServer(New(Options{}, status.NewStore(), m, func() {}).Handler())
	defer ts.Close()
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`mcp_reconcile_total{cluster="eu",result="Synced"} 1`,
		`mcp_reconcile_duration_seconds_count{cluster="eu"} 1`,
		`mcp_cluster_ready{cluster="eu"} 1`,
		`mcp_managed_objects{cluster="eu"} 4`,
		`mcp_drifted_objects{cluster="eu"} 0`,
		`mcp_source_fetch_total{result="unchanged"} 1`,
		"mcp_status_commits_total 0",
		"go_goroutines",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// TestSlowReaderIsCutOff: a client that stops reading does not hold a
// handler and its connection past the WriteTimeout. It asks for a /status
// of many megabytes through a small receive window and reads nothing for
// a while: what it gets afterwards is cut short.
func TestSlowReaderIsCutOff(t *testing.T) {
	store := status.NewStore()
	for i := range 1000 {
		store.Update(status.Cluster{Name: fmt.Sprintf("cluster-%04d", i), Result: apply.Failed, Message: strings.Repeat("x", 8<<10)})
	}
	srv := New(Options{WriteTimeout: time.Second}, store, status.NewMetrics(), func() {})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, l) }()
	defer func() { cancel(); <-served }()

	whole, err := json.MarshalIndent(store.Snapshot(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	full := len(whole)
	dialer := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	conn, err := dialer.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "GET /status HTTP/1.1\r\nHost: mcp\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second)
	conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	got, _ := io.Copy(io.Discard, conn)
	t.Logf("/status is %d kB; the slow reader got %d kB", full>>10, got>>10)
	if got >= int64(full) {
		t.Fatalf("the slow reader got all %d bytes: nothing bounds the write", got)
	}
}
