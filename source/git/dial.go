package git

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/go-git/go-git/v5/plumbing/transport"
	"golang.org/x/net/proxy"
)

// go-git's ssh transport dials and shakes hands without the call's
// context, so a host that accepts the connection and then says nothing
// would hold a poll forever. Every ssh call therefore goes through a
// "proxy" of our own that dials directly, sets the call's deadline on the
// connection and closes it when the call's context ends.

const dialScheme = "mcp-call"

var (
	calls    sync.Map // call id → context.Context
	lastCall atomic.Uint64
)

func init() {
	proxy.RegisterDialerType(dialScheme, func(u *url.URL, _ proxy.Dialer) (proxy.Dialer, error) {
		ctx, ok := calls.Load(u.Host)
		if !ok {
			return nil, fmt.Errorf("ssh call %s is over", u.Host)
		}
		return ctxDialer{ctx.(context.Context)}, nil
	})
}

// callProxy binds ctx to the ssh connections made until done is called.
// Other transports honour the context themselves and get no proxy.
func (s *Source) callProxy(ctx context.Context) (opts transport.ProxyOptions, done func()) {
	if !s.url.ssh {
		return transport.ProxyOptions{}, func() {}
	}
	id := "c" + strconv.FormatUint(lastCall.Add(1), 10)
	calls.Store(id, ctx)
	return transport.ProxyOptions{URL: dialScheme + "://" + id}, func() { calls.Delete(id) }
}

type ctxDialer struct{ ctx context.Context }

func (d ctxDialer) Dial(network, addr string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, addr)
}

func (d ctxDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var nd net.Dialer
	conn, err := nd.DialContext(d.ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if deadline, ok := d.ctx.Deadline(); ok {
		conn.SetDeadline(deadline)
	}
	context.AfterFunc(d.ctx, func() { conn.Close() })
	return conn, nil
}
