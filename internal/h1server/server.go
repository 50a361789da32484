package h1server

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// ErrServerClosed is returned by Serve after Shutdown or Close (net/http's value).
var ErrServerClosed = http.ErrServerClosed

// Server serves HTTP/1.1 on listeners with Handler. The zero value of every field but
// Handler is usable. A Server must not be copied after first use.
type Server struct {
	Handler http.Handler
	// ReadHeaderTimeout bounds reading a request head once its first byte arrived, and
	// the TLS handshake. Zero means no limit.
	ReadHeaderTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a connection; zero means
	// ReadHeaderTimeout.
	IdleTimeout time.Duration
	// MaxHeaderBytes limits the request head (plus 4096 bytes of slack, as net/http);
	// zero means 1 MiB.
	MaxHeaderBytes int
	// ErrorLog receives panics and accept errors (nil: discarded).
	ErrorLog *slog.Logger
	// ConnContext, if set, derives each connection's context from the server's.
	ConnContext func(ctx context.Context, c net.Conn) context.Context

	mu        sync.Mutex
	listeners map[*net.Listener]struct{}
	conns     map[*conn]struct{}
	closing   atomic.Bool
	pool      sync.Pool // *bufs
}

// bufs are a connection's pooled buffers.
type bufs struct {
	r *bufio.Reader
	w *bufio.Writer
}

const (
	readBufSize  = 4 << 10
	writeBufSize = 8 << 10
	// respBufSize is how much response body is held back to compute Content-Length.
	respBufSize = 4 << 10
	// maxDrain is how much unread request body is discarded to keep a connection
	// (net/http's maxPostHandlerReadBytes).
	maxDrain = 256 << 10
)

func (s *Server) log() *slog.Logger {
	if s.ErrorLog != nil {
		return s.ErrorLog
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Server) maxHeader() int {
	if s.MaxHeaderBytes > 0 {
		return s.MaxHeaderBytes + 4096
	}
	return 1<<20 + 4096
}

func (s *Server) idleTimeout() time.Duration {
	if s.IdleTimeout > 0 {
		return s.IdleTimeout
	}
	return s.ReadHeaderTimeout
}

// Serve accepts connections on l and serves each on its own goroutine until l fails or
// the server is shut down (ErrServerClosed). Serve closes l when it returns.
func (s *Server) Serve(l net.Listener) error {
	if !s.track(&l, true) {
		_ = l.Close()
		return ErrServerClosed
	}
	defer s.track(&l, false)
	defer l.Close()
	var delay time.Duration
	for {
		rwc, err := l.Accept()
		if err != nil {
			if s.closing.Load() {
				return ErrServerClosed
			}
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			// Transient (EMFILE, ECONNABORTED, a refused peer): back off as net/http.
			if delay == 0 {
				delay = 5 * time.Millisecond
			} else {
				delay = min(2*delay, time.Second)
			}
			s.log().Debug("h1server: accept error; retrying", "err", err, "delay", delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		c := &conn{srv: s, rwc: rwc}
		if !s.trackConn(c, true) {
			_ = rwc.Close()
			return ErrServerClosed
		}
		go c.serve()
	}
}

func (s *Server) track(l *net.Listener, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !add {
		delete(s.listeners, l)
		return true
	}
	if s.closing.Load() {
		return false
	}
	if s.listeners == nil {
		s.listeners = map[*net.Listener]struct{}{}
	}
	s.listeners[l] = struct{}{}
	return true
}

func (s *Server) trackConn(c *conn, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !add {
		delete(s.conns, c)
		return true
	}
	if s.closing.Load() {
		return false
	}
	if s.conns == nil {
		s.conns = map[*conn]struct{}{}
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) closeListeners() error {
	var err error
	for l := range s.listeners {
		if cerr := (*l).Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) && err == nil {
			err = cerr
		}
	}
	return err
}

// Shutdown stops accepting, closes idle connections and waits for active requests to
// finish (their connections are closed after the response), or for ctx to end, which
// returns ctx.Err() and leaves the remaining connections to Close.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	s.mu.Lock()
	err := s.closeListeners()
	s.mu.Unlock()
	wait := time.Millisecond
	t := time.NewTimer(wait)
	defer t.Stop()
	for {
		if s.closeIdle() {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			wait = min(2*wait, 500*time.Millisecond)
			t.Reset(wait)
		}
	}
}

// closeIdle closes the idle connections and reports whether none is left.
func (s *Server) closeIdle() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.state.CompareAndSwap(stateIdle, stateClosed) {
			_ = c.rwc.Close()
		}
	}
	return len(s.conns) == 0
}

// Close closes the listeners and every connection at once.
func (s *Server) Close() error {
	s.closing.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.closeListeners()
	for c := range s.conns {
		c.state.Store(stateClosed)
		_ = c.rwc.Close()
	}
	return err
}

// Connection states.
const (
	stateIdle int32 = iota
	stateActive
	stateClosed
)

// conn is one client connection.
type conn struct {
	srv   *Server
	rwc   net.Conn
	state atomic.Int32
	src   connReader
	br    *bufio.Reader
	bw    *bufio.Writer
	ctx   context.Context
	tmpl  *http.Request // carries ctx; copied into req for each request
	req   http.Request
	body  body
	resp  response
	p     parser

	remoteAddr string
	tlsState   *tls.ConnectionState
	dateSec    int64
	date       [29]byte
}

// connReader is the bufio.Reader's source: it clears the read deadline before the
// first read of a request body from the network (net/http has no body deadline without
// ReadTimeout).
type connReader struct {
	c           net.Conn
	inBody      bool
	hasDeadline bool
}

func (r *connReader) Read(p []byte) (int, error) {
	if r.inBody && r.hasDeadline {
		_ = r.c.SetReadDeadline(time.Time{})
		r.hasDeadline = false
	}
	return r.c.Read(p)
}

func (c *conn) serve() {
	s := c.srv
	ctx := context.WithValue(context.Background(), http.LocalAddrContextKey, c.rwc.LocalAddr())
	if s.ConnContext != nil {
		ctx = s.ConnContext(ctx, c.rwc)
	}
	// Not cancellable: the handler runs on this goroutine, so the connection cannot end
	// while a request is served, and a context without Done lets the handler's outgoing
	// calls skip watching it (package upstream's context.AfterFunc, 1–2 µs a request).
	c.ctx = ctx
	c.tmpl = (&http.Request{}).WithContext(ctx)
	c.remoteAddr = c.rwc.RemoteAddr().String()
	c.src.c = c.rwc
	b, _ := s.pool.Get().(*bufs)
	if b == nil {
		b = &bufs{r: bufio.NewReaderSize(nil, readBufSize), w: bufio.NewWriterSize(nil, writeBufSize)}
	}
	b.r.Reset(&c.src)
	b.w.Reset(c.rwc)
	c.br, c.bw = b.r, b.w
	defer func() {
		c.state.Store(stateClosed)
		_ = c.rwc.Close()
		s.trackConn(c, false)
		b.r.Reset(nil)
		b.w.Reset(nil)
		c.resp.buf = c.resp.buf[:0]
		s.pool.Put(b)
	}()

	if tc, ok := c.rwc.(*tls.Conn); ok {
		if d := s.ReadHeaderTimeout; d > 0 {
			_ = tc.SetDeadline(time.Now().Add(d))
		}
		if err := tc.HandshakeContext(ctx); err != nil {
			s.log().Debug("h1server: TLS handshake error", "remote", c.remoteAddr, "err", err)
			return
		}
		if s.ReadHeaderTimeout > 0 {
			_ = tc.SetDeadline(time.Time{})
		}
		st := tc.ConnectionState()
		if p := st.NegotiatedProtocol; p != "" && p != "http/1.1" {
			s.log().Debug("h1server: unsupported ALPN protocol", "remote", c.remoteAddr, "proto", p)
			return
		}
		c.tlsState = &st
	}
	for c.serveOne() {
	}
}

// serveOne reads and answers one request; it reports whether to keep the connection.
func (c *conn) serveOne() bool {
	s := c.srv
	// Wait for the request's first byte (one deadline per turn).
	if c.br.Buffered() == 0 {
		if d := s.idleTimeout(); d > 0 {
			_ = c.rwc.SetReadDeadline(time.Now().Add(d))
			c.src.hasDeadline = true
		}
		if _, err := c.br.Peek(1); err != nil {
			return false
		}
	}
	if !c.state.CompareAndSwap(stateIdle, stateActive) {
		return false
	}
	// The head usually arrives whole; arm the header timeout only if it did not.
	if d := s.ReadHeaderTimeout; d > 0 && !headComplete(c.br) {
		_ = c.rwc.SetReadDeadline(time.Now().Add(d))
		c.src.hasDeadline = true
	}

	req := &c.req
	*req = *c.tmpl
	if err := c.p.readRequest(c.br, s.maxHeader(), req); err != nil {
		var se *statusError
		if errors.As(err, &se) {
			c.writeError(se.code, se.msg)
		}
		return false
	}
	req.RemoteAddr = c.remoteAddr
	req.TLS = c.tlsState
	keep := !c.p.close && !s.closing.Load()
	if err := c.body.reset(c, &c.p); err != nil {
		var se *statusError
		if errors.As(err, &se) {
			c.writeError(se.code, se.msg)
		}
		return false
	}
	if c.p.expect != "" && c.p.expect != "100-continue" {
		c.writeError(http.StatusExpectationFailed, "")
		return false
	}
	if c.body.n == 0 && !c.body.chunked {
		req.Body = http.NoBody
	} else {
		req.Body = &c.body
	}
	c.src.inBody = true
	w := &c.resp
	w.reset(c, req, keep)
	ok := c.runHandler(w, req)
	c.src.inBody = false
	if !ok {
		return false
	}
	return w.keep && c.state.CompareAndSwap(stateActive, stateIdle)
}

// runHandler calls the handler, finishes the response and reports whether the
// connection may be kept.
func (c *conn) runHandler(w *response, req *http.Request) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			ok = false
			if v != http.ErrAbortHandler {
				c.srv.log().Error("h1server: handler panic", "remote", c.remoteAddr,
					"method", req.Method, "uri", req.RequestURI, "panic", v)
			}
			if !w.committed {
				c.bw.Reset(c.rwc)
				c.writeError(http.StatusInternalServerError, "")
			}
		}
	}()
	c.srv.Handler.ServeHTTP(w, req)
	if err := w.finish(); err != nil {
		return false
	}
	return true
}

// headComplete reports whether br holds a whole request head.
func headComplete(br *bufio.Reader) bool {
	b, _ := br.Peek(br.Buffered())
	for i := 0; i+1 < len(b); i++ {
		if b[i] == '\n' && (b[i+1] == '\n' || (b[i+1] == '\r' && i+2 < len(b) && b[i+2] == '\n')) {
			return true
		}
	}
	return false
}

// writeError answers with a plain-text error and Connection: close.
func (c *conn) writeError(code int, msg string) {
	if msg == "" {
		msg = http.StatusText(code)
	}
	text := itoa(code) + " " + msg
	c.bw.WriteString("HTTP/1.1 " + itoa(code) + " " + http.StatusText(code) + "\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: " +
		itoa(len(text)) + "\r\n\r\n" + text)
	_ = c.bw.Flush()
}
