// Package faultproxy is a TCP proxy on loopback that makes the network
// between a client and one server slow, flaky or dead, for fault tests.
// It forwards bytes unchanged (TLS passes through), so the client sees a
// real network fault, not a made-up error.
//
//	p := faultproxy.New(t, upstreamAddr)
//	p.SetLatency(200 * time.Millisecond) // every chunk, both directions
//	p.ResetEvery(20)                     // every 20th chunk resets its connection
//	p.Blackhole(true)                    // accept, then never answer
//	client talks to p.Addr instead of upstreamAddr
package faultproxy

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy forwards connections from Addr to an upstream address, with the
// faults currently set. Faults may be changed at any time; they apply to
// the chunks forwarded from then on.
type Proxy struct {
	// Addr is the proxy's host:port on loopback.
	Addr string

	upstream string
	ln       net.Listener

	latency    atomic.Int64 // nanoseconds added before each chunk
	resetEvery atomic.Int64 // every n-th chunk from a client resets its connection; 0 never
	chunks     atomic.Int64 // chunks from clients so far
	blackhole  atomic.Bool  // connections are accepted and then left unanswered
	conns      atomic.Int64 // connections accepted so far
	resets     atomic.Int64 // connections reset so far

	mu     sync.Mutex
	open   map[net.Conn]bool
	closed bool
	wg     sync.WaitGroup
}

// New starts a proxy to upstream; it is closed when the test ends.
func New(t testing.TB, upstream string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("faultproxy: %v", err)
	}
	p := &Proxy{Addr: ln.Addr().String(), upstream: upstream, ln: ln, open: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// SetLatency delays every forwarded chunk, in both directions, by d.
func (p *Proxy) SetLatency(d time.Duration) { p.latency.Store(int64(d)) }

// ResetEvery makes every n-th chunk sent by a client, counted across
// connections, end its connection with a TCP reset instead of reaching the
// server; 0 turns it off. Clients that keep one connection (HTTP/2) lose
// it now and then, with requests in flight.
func (p *Proxy) ResetEvery(n int) { p.resetEvery.Store(int64(n)) }

// Blackhole makes the proxy swallow everything: connections are accepted
// and reads are never answered, the way a dropped route or a dead load
// balancer looks. Turning it on also cuts the connections open now, so
// that the client's idle connections fall into the hole too.
func (p *Proxy) Blackhole(on bool) {
	p.blackhole.Store(on)
	if on {
		p.CutAll()
	}
}

// CutAll resets every open connection.
func (p *Proxy) CutAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.open {
		reset(c)
	}
}

// Connections is how many connections were accepted so far.
func (p *Proxy) Connections() int { return int(p.conns.Load()) }

// Resets is how many connections the proxy reset on purpose.
func (p *Proxy) Resets() int { return int(p.resets.Load()) }

// Close stops accepting, cuts every connection and waits for the
// forwarding goroutines to end.
func (p *Proxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	p.ln.Close()
	for c := range p.open {
		reset(c)
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.conns.Add(1)
		if !p.track(c) {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer p.untrack(c)
			p.serve(c)
		}()
	}
}

// track registers an open connection; false once the proxy is closed.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		reset(c)
		return false
	}
	p.open[c] = true
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.open, c)
	p.mu.Unlock()
	c.Close()
}

func (p *Proxy) serve(client net.Conn) {
	if p.blackhole.Load() {
		// Read and drop until the client gives up or the proxy closes.
		_, _ = io.Copy(io.Discard, client)
		return
	}
	up, err := net.DialTimeout("tcp", p.upstream, 5*time.Second)
	if err != nil {
		reset(client)
		return
	}
	if !p.track(up) {
		return
	}
	defer p.untrack(up)
	done := make(chan struct{}, 2)
	forward := func(dst, src net.Conn, fromClient bool) {
		if p.pipe(dst, src, fromClient) {
			// A clean end of one direction is passed on as such; the
			// other direction may still be sending.
			if tc, ok := dst.(*net.TCPConn); ok {
				_ = tc.CloseWrite()
			}
		} else {
			reset(up)
			reset(client)
		}
		done <- struct{}{}
	}
	go forward(up, client, true)
	go forward(client, up, false)
	<-done
	<-done
}

// pipe copies src to dst chunk by chunk, adding the latency and the
// faults set at the time of each chunk. It reports whether src ended
// cleanly (EOF); any other end means the connection is to be reset.
func (p *Proxy) pipe(dst, src net.Conn, fromClient bool) (clean bool) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if d := time.Duration(p.latency.Load()); d > 0 {
				time.Sleep(d)
			}
			if p.blackhole.Load() {
				// Fell into the hole mid-connection: swallow the rest.
				_, _ = io.Copy(io.Discard, src)
				return false
			}
			if every := p.resetEvery.Load(); fromClient && every > 0 && p.chunks.Add(1)%every == 0 {
				p.resets.Add(1)
				return false
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return false
			}
		}
		if err != nil {
			return errors.Is(err, io.EOF)
		}
	}
}

// reset closes c with a TCP RST instead of a FIN, as a crashed peer or a
// middlebox dropping state does.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}
