package main

import (
	"bytes"
	"strings"
	"testing"

	"mcp.dev/mcp/apply"
)

// TestProgressPlain: piped output gets one plain line per cluster and
// wave or phase, never a control sequence.
func TestProgressPlain(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, false)
	for _, u := range []apply.Progress{
		{Cluster: "eu", Total: 3, Phase: "apply"},
		{Cluster: "eu", Done: 1, Total: 3, Phase: "apply"},
		{Cluster: "us", Total: 1, Phase: "apply"},
		{Cluster: "eu", Done: 2, Total: 3, Wave: 1, Phase: "apply"},
		{Cluster: "eu", Done: 2, Total: 3, Wave: 1, Phase: "prune"},
	} {
		p.update(u)
	}
	p.finish()
	want := "cluster eu: apply wave 0 (0/3 objects done)\n" +
		"cluster us: apply wave 0 (0/1 objects done)\n" +
		"cluster eu: apply wave 1 (2/3 objects done)\n" +
		"cluster eu: prune wave 1 (2/3 objects done)\n"
	if buf.String() != want {
		t.Fatalf("got:\n%s\nwant:\n%s", buf.String(), want)
	}
}

func TestProgressTerminal(t *testing.T) {
	var buf bytes.Buffer
	p := newProgress(&buf, true)
	p.update(apply.Progress{Cluster: "eu", Done: 3, Total: 3, Phase: "apply"})
	p.finish()
	if !strings.Contains(buf.String(), "eu 3/3 apply wave 0") || !strings.HasSuffix(buf.String(), "\r\x1b[K") {
		t.Fatalf("got %q", buf.String())
	}
}
