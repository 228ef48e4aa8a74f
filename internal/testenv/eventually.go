package testenv

import (
	"io"
	"net/http"
	"testing"
	"time"
)

// Eventually waits until cond holds, looking again every 20ms, and fails
// the test, saying what did not happen, when it does not within timeout.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, timeout.Round(time.Millisecond))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Get is an HTTP GET of url: its status code and body. A request that
// cannot be made fails the test.
func Get(t testing.TB, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", url, err)
	}
	return resp.StatusCode, string(body)
}
