package h1server

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
)

// statusError is a request the server answers with code and then closes.
type statusError struct {
	code int
	msg  string
}

func (e *statusError) Error() string { return strconv.Itoa(e.code) + " " + e.msg }

func badRequest(msg string) error { return &statusError{http.StatusBadRequest, msg} }

var errHeaderTooLarge = &statusError{http.StatusRequestHeaderFieldsTooLarge, "Request Header Fields Too Large"}

// span locates one header field in parser.head; name is set when interned.
type span struct {
	name           string
	ns, ne, vs, ve int
}

// parser reads request heads; its buffers are reused across a connection's requests.
type parser struct {
	head  []byte // request line parts and header fields, copied
	line  []byte // a line longer than the bufio.Reader's buffer
	spans []span

	// Per request, from the head.
	close         bool
	expect        string
	contentLength int64 // -1 when chunked
	chunked       bool
}

// readLine reads one line without its CRLF (or LF), charging it to *budget.
func (p *parser) readLine(br *bufio.Reader, budget *int) ([]byte, error) {
	p.line = p.line[:0]
	for {
		b, err := br.ReadSlice('\n')
		*budget -= len(b)
		if *budget < 0 {
			return nil, errHeaderTooLarge
		}
		if err == bufio.ErrBufferFull {
			p.line = append(p.line, b...)
			continue
		}
		if err != nil {
			if err == io.EOF && (len(b) > 0 || len(p.line) > 0) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if len(p.line) > 0 {
			b = append(p.line, b...)
			p.line = b
		}
		b = b[:len(b)-1]
		if len(b) > 0 && b[len(b)-1] == '\r' {
			b = b[:len(b)-1]
		}
		return b, nil
	}
}

// readRequest reads a request head from br into req (whose context is already set).
// Errors are *statusError for requests to answer, others for connections to drop.
func (p *parser) readRequest(br *bufio.Reader, limit int, req *http.Request) error {
	budget := limit
	p.close, p.expect, p.contentLength, p.chunked = false, "", 0, false
	var line []byte
	var err error
	for i := 0; ; i++ {
		if line, err = p.readLine(br, &budget); err != nil {
			return err
		}
		if len(line) > 0 {
			break
		}
		if i > 4 {
			return badRequest("empty request line")
		}
	}
	// method SP request-target SP HTTP-version
	sp1 := bytes.IndexByte(line, ' ')
	if sp1 <= 0 {
		return badRequest("malformed HTTP request")
	}
	sp2 := bytes.IndexByte(line[sp1+1:], ' ')
	if sp2 <= 0 {
		return badRequest("malformed HTTP request")
	}
	sp2 += sp1 + 1
	if !isToken(line[:sp1]) {
		return badRequest("invalid method")
	}
	for _, c := range line[sp1+1 : sp2] {
		if c <= ' ' || c == 0x7f {
			return badRequest("invalid request-target")
		}
	}
	major, minor, ok := parseVersion(line[sp2+1:])
	if !ok {
		return badRequest("malformed HTTP version")
	}
	if major != 1 {
		return &statusError{http.StatusHTTPVersionNotSupported, "HTTP Version Not Supported"}
	}
	p.head = append(p.head[:0], line...)
	p.spans = p.spans[:0]
	lineLen := len(line)

	// Header fields.
	for {
		if line, err = p.readLine(br, &budget); err != nil {
			return err
		}
		if len(line) == 0 {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			return badRequest("obsolete line folding or leading whitespace")
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || !isToken(line[:colon]) {
			return badRequest("malformed MIME header line")
		}
		v := trimOWS(line[colon+1:])
		for _, c := range v {
			if (c < ' ' && c != '\t') || c == 0x7f {
				return badRequest("invalid header field value")
			}
		}
		name := line[:colon]
		canonicalize(name)
		sp := span{name: commonHeader[string(name)]}
		sp.ns = len(p.head)
		p.head = append(p.head, name...)
		sp.ne = len(p.head)
		p.head = append(p.head, v...)
		sp.vs, sp.ve = sp.ne, len(p.head)
		p.spans = append(p.spans, sp)
	}

	s := string(p.head)
	req.Method = s[:sp1]
	req.RequestURI = s[sp1+1 : sp2]
	req.Proto = s[sp2+1 : lineLen]
	req.ProtoMajor, req.ProtoMinor = major, minor
	h := make(http.Header, len(p.spans))
	vals := make([]string, len(p.spans))
	var hosts int
	var cl string
	var te string
	var conn []string
	for i, sp := range p.spans {
		name := sp.name
		if name == "" {
			name = s[sp.ns:sp.ne]
		}
		v := s[sp.vs:sp.ve]
		switch name {
		case "Host":
			hosts++
			req.Host = v
			continue
		case "Content-Length":
			if cl != "" && cl != v {
				return badRequest("conflicting Content-Length")
			}
			cl = v
		case "Transfer-Encoding":
			if te != "" {
				return &statusError{http.StatusNotImplemented, "unsupported transfer encoding"}
			}
			te = v
			continue
		case "Connection":
			conn = append(conn, v)
		case "Expect":
			p.expect = strings.ToLower(v)
		}
		if old, ok := h[name]; ok {
			h[name] = append(old, v)
		} else {
			vals[i] = v
			h[name] = vals[i : i+1 : i+1]
		}
	}
	req.Header = h
	if hosts > 1 {
		return badRequest("too many Host headers")
	}
	if hosts == 0 && minor >= 1 && req.Method != "CONNECT" {
		return badRequest("missing required Host header")
	}
	if !validHost(req.Host) {
		return badRequest("malformed Host header")
	}
	if pr, ok := h["Pragma"]; ok && len(pr) > 0 && pr[0] == "no-cache" {
		if _, ok := h["Cache-Control"]; !ok {
			h["Cache-Control"] = []string{"no-cache"}
		}
	}

	// URL.
	target := req.RequestURI
	authority := req.Method == "CONNECT" && !strings.HasPrefix(target, "/")
	if authority {
		target = "http://" + target
	}
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return badRequest("malformed request-target")
	}
	if authority {
		u.Scheme = ""
	}
	req.URL = u
	if u.Host != "" {
		req.Host = u.Host
	}

	// Connection.
	if minor == 0 {
		p.close = !hasToken(conn, "keep-alive")
	} else {
		p.close = hasToken(conn, "close")
	}
	req.Close = p.close

	// Framing.
	if te != "" && minor >= 1 {
		if !strings.EqualFold(te, "chunked") {
			return &statusError{http.StatusNotImplemented, "unsupported transfer encoding"}
		}
		if cl != "" {
			return badRequest("both Transfer-Encoding and Content-Length")
		}
		p.chunked = true
		p.contentLength = -1
		req.TransferEncoding = chunkedTE
	} else if cl != "" {
		n, err := strconv.ParseUint(cl, 10, 63)
		if err != nil || cl[0] == '+' {
			return badRequest("bad Content-Length")
		}
		p.contentLength = int64(n)
	}
	req.ContentLength = p.contentLength
	return nil
}

var chunkedTE = []string{"chunked"}

// parseVersion parses "HTTP/x.y" with single digits.
func parseVersion(b []byte) (major, minor int, ok bool) {
	if len(b) != 8 || string(b[:5]) != "HTTP/" || b[6] != '.' {
		return 0, 0, false
	}
	if b[5] < '0' || b[5] > '9' || b[7] < '0' || b[7] > '9' {
		return 0, 0, false
	}
	return int(b[5] - '0'), int(b[7] - '0'), true
}

// hasToken reports whether a comma-separated list in vals holds tok (ASCII
// case-insensitive).
func hasToken(vals []string, tok string) bool {
	for _, v := range vals {
		for v != "" {
			var t string
			t, v, _ = strings.Cut(v, ",")
			if strings.EqualFold(strings.TrimSpace(t), tok) {
				return true
			}
		}
	}
	return false
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// tokenTable marks RFC 9110 tchar bytes.
var tokenTable = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !tokenTable[c] {
			return false
		}
	}
	return true
}

// hostTable marks the bytes a Host field may hold (httpguts.ValidHostHeader's set).
var hostTable = func() (t [256]bool) {
	for c := 0x21; c < 0x7f; c++ {
		t[c] = true
	}
	for _, c := range `"<>\^` + "`{|}" {
		t[c] = false
	}
	return t
}()

// validHost rejects bytes that cannot appear in a Host field.
func validHost(h string) bool {
	for i := 0; i < len(h); i++ {
		if !hostTable[h[i]] {
			return false
		}
	}
	return true
}

// canonicalize rewrites a token header name in place to canonical MIME form.
func canonicalize(b []byte) {
	upper := true
	for i, c := range b {
		if upper && 'a' <= c && c <= 'z' {
			b[i] = c - ('a' - 'A')
		} else if !upper && 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
		upper = c == '-'
	}
}

// commonHeader interns frequent header names (looked up without allocating).
var commonHeader = func() map[string]string {
	m := map[string]string{}
	for _, k := range []string{
		"Accept", "Accept-Charset", "Accept-Encoding", "Accept-Language", "Authorization",
		"Cache-Control", "Connection", "Content-Encoding", "Content-Length", "Content-Type",
		"Cookie", "Expect", "Host", "If-Match", "If-Modified-Since", "If-None-Match",
		"Origin", "Pragma", "Referer", "Te", "Transfer-Encoding", "Upgrade", "User-Agent",
		"X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-Sha256", "X-Api-Key",
		"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Port", "X-Forwarded-Proto",
		"X-Request-Id", "X-Amzn-Trace-Id", "X-Apigw-Api-Id", "X-Amzn-Vpce-Id", "X-Amzn-Vpc-Id",
	} {
		m[k] = k
	}
	return m
}()

// body is a request body: Content-Length bytes or chunked, from the connection's reader.
type body struct {
	c            *conn
	n            int64 // remaining (Content-Length)
	chunked      bool
	cr           io.Reader
	eof          bool
	closed       bool
	needContinue bool
	err          error
}

func (b *body) reset(c *conn, p *parser) error {
	*b = body{c: c, n: p.contentLength, chunked: p.chunked}
	if p.chunked {
		b.n = 0
		b.cr = httputil.NewChunkedReader(c.br)
	} else if b.n == 0 {
		b.eof = true
	}
	b.needContinue = p.expect == "100-continue" && !b.eof && c.req.ProtoMinor >= 1
	return nil
}

// Read implements io.Reader; the first read sends "100 Continue" if expected.
func (b *body) Read(p []byte) (int, error) {
	if b.closed {
		return 0, http.ErrBodyReadAfterClose
	}
	return b.read(p)
}

func (b *body) read(p []byte) (int, error) {
	if b.eof {
		return 0, io.EOF
	}
	if b.err != nil {
		return 0, b.err
	}
	if b.needContinue {
		b.needContinue = false
		if !b.c.resp.committed {
			_, _ = b.c.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
			if err := b.c.bw.Flush(); err != nil {
				b.err = err
				return 0, err
			}
		}
	}
	if len(p) == 0 {
		return 0, nil
	}
	if b.chunked {
		n, err := b.cr.Read(p)
		if err == io.EOF {
			err = b.readTrailer()
		}
		if err != nil && err != io.EOF {
			b.err = err
		}
		return n, err
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.c.br.Read(p)
	b.n -= int64(n)
	if b.n == 0 {
		b.eof = true
		return n, io.EOF
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		b.err = err
	}
	return n, err
}

// readTrailer discards the chunked body's trailer fields.
func (b *body) readTrailer() error {
	budget := b.c.srv.maxHeader()
	for {
		line, err := b.c.p.readLine(b.c.br, &budget)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		if len(line) == 0 {
			b.eof = true
			return io.EOF
		}
	}
}

// Close implements io.Closer; the rest of the body is discarded after the handler.
func (b *body) Close() error {
	b.closed = true
	return nil
}

// drain discards up to maxDrain bytes of an unread body and reports whether the body
// was consumed (so the connection can be kept).
func (b *body) drain() bool {
	if b.eof {
		return true
	}
	if b.needContinue || b.err != nil || (!b.chunked && b.n > maxDrain) {
		return false
	}
	var buf [4096]byte
	for total := 0; total <= maxDrain; {
		n, err := b.read(buf[:])
		total += n
		if err == io.EOF {
			return true
		}
		if err != nil {
			return false
		}
	}
	return false
}
