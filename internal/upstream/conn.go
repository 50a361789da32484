package upstream

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
)

// aLongTimeAgo is a deadline in the past: setting it makes blocked I/O return at once.
var aLongTimeAgo = time.Unix(1, 0)

// conn is one connection to a backend. It is used by one request at a time; between
// requests it sits in its hostPool's idle list.
type conn struct {
	h        *hostPool
	nc       net.Conn // *net.TCPConn, or *tls.Conn over it
	br       *bufio.Reader
	bw       *bufio.Writer
	deadline time.Time // the deadline currently set on nc
	idleAt   time.Time
	uses     int // completed exchanges

	// Byte counters (through Read/Write below) and the marks taken when a request
	// starts: they tell whether anything was sent or received, for retries.
	nread, nwritten     int64
	readMark, writeMark int64
	bodyRead            bool // Request.Body was read from

	hdr    []byte  // the raw response head being parsed
	offs   []int32 // per header field: name start, name end, value start, value end
	fields []Field // the final response's header, handed out as Response.Header

	// Cancellation: cancelFn is given to context.AfterFunc; it marks the connection and
	// expires its deadline so that blocked I/O returns.
	ctx      context.Context
	stop     func() bool
	canceled atomic.Bool
	cancelFn func()

	// Liveness probe of an idle connection (see alive).
	raw     syscall.RawConn
	peekFn  func(fd uintptr) bool
	peekN   int
	peekErr error
	peekBuf [1]byte
}

func newConn(h *hostPool, nc, tcp net.Conn) *conn {
	c := &conn{h: h, nc: nc}
	c.br = bufio.NewReaderSize(c, h.p.opts.ReadBufferSize)
	c.bw = bufio.NewWriterSize(c, h.p.opts.WriteBufferSize)
	c.cancelFn = func() {
		c.canceled.Store(true)
		_ = c.nc.SetDeadline(aLongTimeAgo)
	}
	c.initProbe(tcp)
	return c
}

// Read and Write count the bytes that go through the connection's buffers.
func (c *conn) Read(p []byte) (int, error) {
	n, err := c.nc.Read(p)
	c.nread += int64(n)
	return n, err
}

func (c *conn) Write(p []byte) (int, error) {
	n, err := c.nc.Write(p)
	c.nwritten += int64(n)
	return n, err
}

func (c *conn) setDeadline(t time.Time) {
	if !t.Equal(c.deadline) {
		_ = c.nc.SetDeadline(t)
		c.deadline = t
	}
}

func (c *conn) close() {
	if c.stop != nil {
		c.stop()
		c.stop = nil
	}
	c.ctx = nil
	_ = c.nc.Close()
}

// release ends the request in flight: the connection goes back to the pool, unless the
// request was cancelled or the backend sent more than the response.
func (c *conn) release() {
	if c.stop != nil {
		stopped := c.stop()
		c.stop = nil
		if !stopped {
			c.close()
			return
		}
	}
	c.ctx = nil
	if c.canceled.Load() || c.br.Buffered() > 0 {
		c.close()
		return
	}
	if cap(c.hdr) > 16<<10 { // do not keep what one huge response head needed
		c.hdr, c.offs, c.fields = nil, nil, nil
	}
	c.uses++
	c.h.put(c)
}

// roundTrip writes req and reads the response head into resp. On error the connection
// is closed.
func (c *conn) roundTrip(ctx context.Context, req *Request, resp *Response, deadline time.Time) error {
	c.setDeadline(deadline)
	if ctx.Done() != nil {
		c.ctx = ctx
		c.stop = context.AfterFunc(ctx, c.cancelFn)
	}
	c.readMark, c.writeMark, c.bodyRead = c.nread, c.nwritten, false
	err := c.exchange(req, resp, deadline)
	if err != nil {
		err = c.wrapErr(err)
		c.close()
		*resp = Response{}
		return err
	}
	return nil
}

// errOp tags an I/O error with the operation it came from until classify turns it
// into an *Error.
type errOp struct {
	op  string
	err error
}

func (e *errOp) Error() string { return e.op + ": " + e.err.Error() }
func (e *errOp) Unwrap() error { return e.err }

func opErr(op string, err error) error {
	if _, ok := err.(*Error); ok {
		return err
	}
	return &errOp{op, err}
}

func (c *conn) exchange(req *Request, resp *Response, deadline time.Time) error {
	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	cl := req.ContentLength
	if req.Body == nil {
		if cl > 0 {
			return &Error{Op: "write", Kind: ErrInvalidRequest, Err: errors.New("ContentLength > 0 with a nil Body")}
		}
		cl = 0
	}
	expect := cl != 0 && expects100(req.Header)
	if err := c.writeHead(req, method, cl); err != nil {
		return err
	}
	head := method == http.MethodHead
	if expect {
		if err := c.bw.Flush(); err != nil {
			return opErr("write", err)
		}
		got, err := c.await100(resp, head, deadline)
		if err != nil {
			return err
		}
		if got {
			// A final response came instead of 100 Continue: the body stays unsent, so
			// the connection cannot be reused.
			resp.keepAlive = false
			return nil
		}
	}
	var err error
	switch {
	case cl > 0:
		err = c.writeBody(req.Body, cl)
	case cl < 0:
		err = c.writeChunked(req.Body)
	}
	if err == nil {
		if ferr := c.bw.Flush(); ferr != nil {
			err = opErr("write", ferr)
		}
	}
	if err != nil {
		if e, ok := err.(*errOp); ok && e.op == "write" && !isTimeout(e.err) {
			// The backend may have answered (and closed) before reading the whole
			// body: its response, when there, explains better than a reset.
			if rerr := c.readResponse(resp, head); rerr == nil {
				resp.keepAlive = false
				return nil
			}
		}
		return err
	}
	return c.readResponse(resp, head)
}

// await100 waits up to ExpectContinueTimeout for the backend's interim response. It
// returns got=true with resp filled when a final response came instead.
func (c *conn) await100(resp *Response, head bool, deadline time.Time) (got bool, err error) {
	wait := time.Now().Add(c.h.p.opts.ExpectContinueTimeout)
	capped := !deadline.IsZero() && deadline.Before(wait)
	if capped {
		wait = deadline
	}
	_ = c.nc.SetReadDeadline(wait)
	_, err = c.br.Peek(1)
	_ = c.nc.SetReadDeadline(deadline)
	if c.canceled.Load() {
		return false, opErr("read", context.Canceled)
	}
	if err != nil {
		if isTimeout(err) && !capped {
			return false, nil // no answer yet: send the body
		}
		return false, opErr("read", err)
	}
	for n := 0; ; n++ {
		if n > maxInterim {
			return false, malformed("", "too many 1xx responses")
		}
		if err := c.readHead(resp, false); err != nil {
			return false, err
		}
		switch {
		case resp.StatusCode == http.StatusContinue:
			return false, nil
		case resp.StatusCode == http.StatusSwitchingProtocols:
			return false, malformed("", "unexpected 101 Switching Protocols")
		case resp.StatusCode < 200:
			continue
		}
		return true, c.finishHead(resp, head)
	}
}

// writeHead buffers the request line and header.
func (c *conn) writeHead(req *Request, method string, cl int64) error {
	if !validToken(method) {
		return &Error{Op: "write", Kind: ErrInvalidRequest, Err: errors.New("invalid method " + quote(method))}
	}
	bw := c.bw
	_, _ = bw.WriteString(method)
	_ = bw.WriteByte(' ')
	writeTarget(bw, req.Target)
	_, _ = bw.WriteString(" HTTP/1.1\r\nHost: ")
	_, _ = bw.WriteString(req.Host)
	_, _ = bw.WriteString("\r\n")
	var connTokens []string
	if req.StripHopByHop {
		connTokens = req.Header["Connection"]
	}
	for k, vs := range req.Header {
		if skipRequestField(k) || req.StripHopByHop && (hopByHop(k) || len(connTokens) > 0 && listedIn(connTokens, k)) ||
			len(req.Omit) > 0 && contains(req.Omit, k) || len(req.Extra) > 0 && inFields(req.Extra, k) {
			continue
		}
		for _, v := range vs {
			if err := writeField(bw, k, v); err != nil {
				return err
			}
		}
	}
	for i := range req.Extra {
		if f := &req.Extra[i]; !skipRequestField(f.Name) {
			if err := writeField(bw, f.Name, f.Value); err != nil {
				return err
			}
		}
	}
	switch {
	case cl < 0:
		_, _ = bw.WriteString("Transfer-Encoding: chunked\r\n")
	case cl > 0 || method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch:
		_, _ = bw.WriteString("Content-Length: ")
		_, _ = bw.Write(strconv.AppendInt(bw.AvailableBuffer(), cl, 10))
		_, _ = bw.WriteString("\r\n")
	}
	_, err := bw.WriteString("\r\n")
	if err != nil {
		return opErr("write", err)
	}
	return nil
}

// writeBody sends exactly n bytes of body, read straight into the write buffer.
func (c *conn) writeBody(body io.Reader, n int64) error {
	for n > 0 {
		if c.bw.Available() == 0 {
			if err := c.bw.Flush(); err != nil {
				return opErr("write", err)
			}
		}
		buf := c.bw.AvailableBuffer()
		buf = buf[:int(min(int64(cap(buf)), n))]
		m, err := body.Read(buf)
		c.bodyRead = true
		if m > 0 {
			if _, werr := c.bw.Write(buf[:m]); werr != nil {
				return opErr("write", werr)
			}
			n -= int64(m)
		}
		switch {
		case err == io.EOF && n > 0:
			return &Error{Op: "body", Kind: ErrRequestBody, Err: io.ErrUnexpectedEOF}
		case err == io.EOF:
			return nil
		case err != nil:
			return &Error{Op: "body", Kind: ErrRequestBody, Err: err}
		}
	}
	return nil
}

// writeChunked sends the body in chunked encoding. Each chunk is read straight into the
// write buffer behind a fixed-width size line ("0000abcd\r\n": leading zeros are valid).
func (c *conn) writeChunked(body io.Reader) error {
	const hexDigits = "0123456789abcdef"
	for {
		if c.bw.Available() < 64 {
			if err := c.bw.Flush(); err != nil {
				return opErr("write", err)
			}
		}
		buf := c.bw.AvailableBuffer()
		buf = buf[:cap(buf)]
		m, err := body.Read(buf[10 : len(buf)-2])
		c.bodyRead = true
		if m > 0 {
			for i := 0; i < 8; i++ {
				buf[7-i] = hexDigits[(m>>(4*i))&0xf]
			}
			buf[8], buf[9] = '\r', '\n'
			buf[10+m], buf[11+m] = '\r', '\n'
			if _, werr := c.bw.Write(buf[:12+m]); werr != nil {
				return opErr("write", werr)
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return &Error{Op: "body", Kind: ErrRequestBody, Err: err}
		}
	}
	if _, err := c.bw.WriteString("0\r\n\r\n"); err != nil {
		return opErr("write", err)
	}
	return nil
}

func writeField(bw *bufio.Writer, k, v string) error {
	if !validToken(k) {
		return &Error{Op: "write", Kind: ErrInvalidRequest, Err: errors.New("invalid header field name " + quote(k))}
	}
	if !validValue(v) {
		return &Error{Op: "write", Kind: ErrInvalidRequest, Err: errors.New("invalid value for header field " + quote(k))}
	}
	_, _ = bw.WriteString(k)
	_, _ = bw.WriteString(": ")
	_, _ = bw.WriteString(v)
	_, _ = bw.WriteString("\r\n")
	return nil
}

// listedIn reports whether the Connection field values vs name the field k.
func listedIn(vs []string, k string) bool {
	for _, v := range vs {
		for v != "" {
			var tok string
			if j := indexByteString(v, ','); j >= 0 {
				tok, v = v[:j], v[j+1:]
			} else {
				tok, v = v, ""
			}
			if asciiEqualFold(trimOWS(tok), k) {
				return true
			}
		}
	}
	return false
}

func contains(names []string, k string) bool {
	for _, n := range names {
		if n == k {
			return true
		}
	}
	return false
}

func inFields(fs []Field, k string) bool {
	for i := range fs {
		if asciiEqualFold(fs[i].Name, k) {
			return true
		}
	}
	return false
}

// canRetry tells whether a failed request may be sent again on a new connection: the
// connection was reused, no byte of a response arrived, the body was not read, and the
// request is idempotent or nothing of it was sent (net/http's rule).
func (c *conn) canRetry(req *Request, err error) bool {
	if c.uses == 0 || c.nread != c.readMark || c.bodyRead {
		return false
	}
	var e *Error
	if !errors.As(err, &e) || e.Kind != ErrConnClosed {
		return false
	}
	return c.nwritten == c.writeMark || req.replayable()
}

func (r *Request) replayable() bool {
	switch r.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	if r.Header != nil {
		if _, ok := r.Header["Idempotency-Key"]; ok {
			return true
		}
		if _, ok := r.Header["X-Idempotency-Key"]; ok {
			return true
		}
	}
	return false
}

func expects100(h http.Header) bool {
	vs := h["Expect"]
	return len(vs) > 0 && asciiEqualFold(trimOWS(vs[0]), "100-continue")
}

// skipRequestField reports the fields the client writes itself.
func skipRequestField(k string) bool {
	switch len(k) {
	case 4:
		return asciiEqualFold(k, "Host")
	case 10:
		return asciiEqualFold(k, "Connection")
	case 14:
		return asciiEqualFold(k, "Content-Length")
	case 17:
		return asciiEqualFold(k, "Transfer-Encoding")
	}
	return false
}

// wrapErr turns an error of the exchange or of the body into an *Error with its kind and
// the backend's address.
func (c *conn) wrapErr(err error) error {
	switch e := err.(type) {
	case *Error:
		if e.Addr == "" {
			e.Addr = c.h.addr
		}
		return e
	case *errOp:
		return classify(c.ctx, e.op, c.h.addr, e.err)
	}
	return classify(c.ctx, "read", c.h.addr, err)
}
