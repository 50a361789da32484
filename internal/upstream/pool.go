package upstream

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a Pool. Zero values take the defaults given in the comments.
type Options struct {
	// TLSConfig is used for https backends (RootCAs, InsecureSkipVerify, ServerName,
	// client certificates). It is cloned once per backend; NextProtos is forced to
	// http/1.1 and an empty ServerName becomes the backend's host name. nil = system roots.
	TLSConfig *tls.Config
	// DialContext opens the TCP connection to "host:port"; nil = a net.Dialer with
	// KeepAlive. It is given a context that ends at the dial deadline.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// DialTimeout bounds connect + TLS handshake (default 10 s); the request's Deadline
	// bounds it too.
	DialTimeout time.Duration
	// KeepAlive is the TCP keep-alive period of new connections (default 30 s; negative
	// disables).
	KeepAlive time.Duration
	// MaxIdlePerHost is how many idle connections are kept per backend (default 512).
	MaxIdlePerHost int
	// IdleTimeout closes connections idle for longer (default 90 s).
	IdleTimeout time.Duration
	// MaxResponseHeaderBytes limits the status line and header fields of one response,
	// and the trailer of a chunked body (default 64 KiB).
	MaxResponseHeaderBytes int
	// ExpectContinueTimeout is how long a request with "Expect: 100-continue" waits for
	// the interim response before sending its body anyway (default 1 s).
	ExpectContinueTimeout time.Duration
	// ReadBufferSize and WriteBufferSize size each connection's buffers (default 4 KiB).
	ReadBufferSize, WriteBufferSize int
}

// Pool is a client for HTTP/1.1 backends with one keep-alive connection pool per backend
// (scheme + host:port). A request runs synchronously on the caller's goroutine: no
// goroutine per connection or per request, no channels. It is safe for concurrent use.
type Pool struct {
	opts   Options
	dialer net.Dialer

	mu    sync.Mutex // serializes additions to hosts
	hosts atomic.Pointer[map[hostKey]*hostPool]
}

type hostKey struct{ scheme, host string }

// hostPool is the idle connections of one backend.
type hostPool struct {
	p          *Pool
	addr       string      // dial address, host:port
	tls        *tls.Config // nil for http
	timeout    time.Duration
	maxIdle    int
	maxHead    int
	mu         sync.Mutex // guards idle, armed
	idle       []*conn    // oldest first; Do takes the newest
	armed      bool       // sweeper timer pending
	sweepTimer *time.Timer
}

// Request is one request to a backend. Do does not keep it.
type Request struct {
	// Method is the request method ("" = GET).
	Method string
	// Scheme is "http" or "https".
	Scheme string
	// Host is the backend's authority, host[:port] (default port 80 or 443). It is dialed
	// and sent as the Host header.
	Host string
	// Target is the request-target: the escaped path and an optional "?query" ("" = "/").
	// It is sent as is, except that bytes which can never appear in a request-target
	// (controls, space, non-ASCII, and "#<>\^`{|}) are percent-encoded.
	Target string
	// Header is written in map order, unsorted. Host, Content-Length, Transfer-Encoding
	// and Connection are skipped (the client writes its own framing). Names and values
	// are checked (token names; values without control characters) and a bad one fails
	// the request with ErrInvalidRequest.
	Header http.Header
	// StripHopByHop leaves out Header's hop-by-hop fields (Keep-Alive, Proxy-Connection,
	// Proxy-Authenticate, Proxy-Authorization, Te, Trailer, Upgrade) and the fields its
	// Connection field names, so that a server request's header (canonical keys) can be
	// forwarded without copying it. Without it the caller removes them.
	StripHopByHop bool
	// Omit names (canonical) Header fields not to write.
	Omit []string
	// Extra fields are written after Header; a Header field with the name of an Extra
	// field (case-insensitive) is not written, so Extra replaces it.
	Extra []Field
	// Body is sent when ContentLength is not 0: exactly ContentLength bytes, or chunked
	// when ContentLength < 0. nil = no body. Do reads it on the caller's goroutine.
	Body          io.Reader
	ContentLength int64
	// Deadline bounds the whole exchange, from dial to the end of the response body,
	// through the connection's deadline (no timers, no goroutines). Zero = none; an
	// earlier deadline of Do's context wins.
	Deadline time.Time
}

// New returns a Pool.
func New(opts Options) *Pool {
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 10 * time.Second
	}
	if opts.KeepAlive == 0 {
		opts.KeepAlive = 30 * time.Second
	}
	if opts.MaxIdlePerHost <= 0 {
		opts.MaxIdlePerHost = 512
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 90 * time.Second
	}
	if opts.MaxResponseHeaderBytes <= 0 {
		opts.MaxResponseHeaderBytes = 64 << 10
	}
	if opts.ExpectContinueTimeout <= 0 {
		opts.ExpectContinueTimeout = time.Second
	}
	if opts.ReadBufferSize <= 0 {
		opts.ReadBufferSize = 4 << 10
	}
	if opts.WriteBufferSize <= 0 {
		opts.WriteBufferSize = 4 << 10
	}
	opts.ReadBufferSize = max(opts.ReadBufferSize, 256)
	opts.WriteBufferSize = max(opts.WriteBufferSize, 256)
	return &Pool{opts: opts, dialer: net.Dialer{KeepAlive: opts.KeepAlive}}
}

// Do sends req and reads the response head into resp. On success the caller reads the
// body from resp (it is an io.Reader) and must call resp.Close, which returns the
// connection to the pool when the body was read to the end and the response allows
// keep-alive, and closes it otherwise. On error resp holds nothing and needs no Close.
//
// Interim 1xx responses are skipped. A request that failed on a reused connection before
// any byte of the response arrived is retried once on a new connection when it is
// idempotent (GET, HEAD, OPTIONS, TRACE, or an Idempotency-Key header) or when nothing
// of it was sent, and its body was not read; a request that could not be retried first
// checks that the idle connection was not closed by the backend.
//
// Cancelling ctx aborts the exchange (through the connection's deadline, watched with
// context.AfterFunc only when ctx can be cancelled); the error then matches ctx.Err().
// Failures are *Error values: see ErrTimeout, ErrConnRefused, ErrMalformedResponse and
// the other kinds.
func (p *Pool) Do(ctx context.Context, req *Request, resp *Response) error {
	*resp = Response{}
	h, err := p.host(req.Scheme, req.Host)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return &Error{Op: "dial", Addr: h.addr, Kind: err}
	}
	deadline := req.Deadline
	if d, ok := ctx.Deadline(); ok && (deadline.IsZero() || d.Before(deadline)) {
		deadline = d
	}
	retryable := req.replayable() && (req.Body == nil || req.ContentLength == 0)
	c := h.get(deadline, !retryable)
	if c == nil {
		if c, err = h.dial(ctx, deadline); err != nil {
			return err
		}
	}
	err = c.roundTrip(ctx, req, resp, deadline)
	if err == nil || !c.canRetry(req, err) {
		return err
	}
	if c, err = h.dial(ctx, deadline); err != nil {
		return err
	}
	return c.roundTrip(ctx, req, resp, deadline)
}

// CloseIdle closes the idle connections of every backend. Connections in use are closed
// or pooled when their response is closed, as usual.
func (p *Pool) CloseIdle() {
	m := p.hosts.Load()
	if m == nil {
		return
	}
	for _, h := range *m {
		h.closeAll()
	}
}

// IdleConns returns the number of idle connections to the backend scheme://host.
func (p *Pool) IdleConns(scheme, host string) int {
	m := p.hosts.Load()
	if m == nil {
		return 0
	}
	h := (*m)[hostKey{scheme, host}]
	if h == nil {
		return 0
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.idle)
}

func (p *Pool) host(scheme, host string) (*hostPool, error) {
	if m := p.hosts.Load(); m != nil {
		if h := (*m)[hostKey{scheme, host}]; h != nil {
			return h, nil
		}
	}
	return p.addHost(scheme, host)
}

func (p *Pool) addHost(scheme, host string) (*hostPool, error) {
	var port string
	switch scheme {
	case "http":
		port = "80"
	case "https":
		port = "443"
	default:
		return nil, &Error{Op: "dial", Addr: host, Kind: ErrInvalidRequest, Err: errors.New("unsupported scheme " + quote(scheme))}
	}
	if host == "" || !validHost(host) {
		return nil, &Error{Op: "dial", Addr: host, Kind: ErrInvalidRequest, Err: errors.New("invalid host " + quote(host))}
	}
	name, prt, err := net.SplitHostPort(host)
	if err != nil {
		name = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
		prt = port
	}
	if name == "" || prt == "" {
		return nil, &Error{Op: "dial", Addr: host, Kind: ErrInvalidRequest, Err: errors.New("invalid host " + quote(host))}
	}
	h := &hostPool{
		p:       p,
		addr:    net.JoinHostPort(name, prt),
		timeout: p.opts.IdleTimeout,
		maxIdle: p.opts.MaxIdlePerHost,
		maxHead: p.opts.MaxResponseHeaderBytes,
	}
	if scheme == "https" {
		if p.opts.TLSConfig != nil {
			h.tls = p.opts.TLSConfig.Clone()
		} else {
			h.tls = &tls.Config{}
		}
		h.tls.NextProtos = []string{"http/1.1"}
		if h.tls.ServerName == "" {
			h.tls.ServerName = name
		}
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	old := p.hosts.Load()
	k := hostKey{scheme, host}
	if old != nil {
		if h2 := (*old)[k]; h2 != nil {
			return h2, nil
		}
	}
	m := make(map[hostKey]*hostPool, 1+lenMap(old))
	if old != nil {
		for kk, v := range *old {
			m[kk] = v
		}
	}
	m[k] = h
	p.hosts.Store(&m)
	return h, nil
}

func lenMap(m *map[hostKey]*hostPool) int {
	if m == nil {
		return 0
	}
	return len(*m)
}

// get pops the most recently used idle connection, with its deadline set. check asks
// for a liveness probe first (for requests that cannot be retried).
func (h *hostPool) get(deadline time.Time, check bool) *conn {
	for {
		h.mu.Lock()
		n := len(h.idle)
		if n == 0 {
			h.mu.Unlock()
			return nil
		}
		c := h.idle[n-1]
		h.idle[n-1] = nil
		h.idle = h.idle[:n-1]
		h.mu.Unlock()
		if time.Since(c.idleAt) >= h.timeout {
			c.close() // the newest is expired, so all the others are too
			h.closeAll()
			return nil
		}
		c.setDeadline(deadline)
		if check && !c.alive() {
			c.close()
			continue
		}
		return c
	}
}

func (h *hostPool) closeAll() {
	h.mu.Lock()
	idle := h.idle
	h.idle = nil
	if h.armed {
		h.sweepTimer.Stop()
		h.armed = false
	}
	h.mu.Unlock()
	for _, c := range idle {
		c.close()
	}
}

// put returns a connection whose response was read completely.
func (h *hostPool) put(c *conn) {
	c.idleAt = time.Now()
	h.mu.Lock()
	if len(h.idle) >= h.maxIdle {
		h.mu.Unlock()
		c.close()
		return
	}
	h.idle = append(h.idle, c)
	if !h.armed {
		h.armed = true
		if h.sweepTimer == nil {
			h.sweepTimer = time.AfterFunc(h.timeout, h.sweep)
		} else {
			h.sweepTimer.Reset(h.timeout)
		}
	}
	h.mu.Unlock()
}

// sweep closes the connections idle for longer than the idle timeout and re-arms itself
// for the oldest remaining one.
func (h *hostPool) sweep() {
	now := time.Now()
	h.mu.Lock()
	i := 0
	for i < len(h.idle) && now.Sub(h.idle[i].idleAt) >= h.timeout {
		i++
	}
	var expired []*conn
	if i > 0 {
		expired = append(expired, h.idle[:i]...)
		n := copy(h.idle, h.idle[i:])
		clear(h.idle[n:])
		h.idle = h.idle[:n]
	}
	if len(h.idle) > 0 {
		h.sweepTimer.Reset(h.idle[0].idleAt.Add(h.timeout).Sub(now) + time.Millisecond)
	} else {
		h.armed = false
	}
	h.mu.Unlock()
	for _, c := range expired {
		c.close()
	}
}

// dial opens a new connection (and does the TLS handshake) within the dial timeout and
// the request's deadline.
func (h *hostPool) dial(ctx context.Context, deadline time.Time) (*conn, error) {
	p := h.p
	dd := time.Now().Add(p.opts.DialTimeout)
	if !deadline.IsZero() && deadline.Before(dd) {
		dd = deadline
	}
	dctx, cancel := context.WithDeadline(ctx, dd)
	defer cancel()
	var nc net.Conn
	var err error
	if p.opts.DialContext != nil {
		nc, err = p.opts.DialContext(dctx, "tcp", h.addr)
	} else {
		nc, err = p.dialer.DialContext(dctx, "tcp", h.addr)
	}
	if err != nil {
		return nil, classify(ctx, "dial", h.addr, err)
	}
	tcp := nc
	if h.tls != nil {
		tc := tls.Client(nc, h.tls)
		if err := tc.HandshakeContext(dctx); err != nil {
			_ = nc.Close()
			e := classify(ctx, "tls", h.addr, err).(*Error)
			if e.Kind == nil || e.Kind == ErrConnClosed {
				e.Kind = ErrTLS
			}
			return nil, e
		}
		nc = tc
	}
	return newConn(h, nc, tcp), nil
}

func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "..."
	}
	return "\"" + s + "\""
}
