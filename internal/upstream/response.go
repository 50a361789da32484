package upstream

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
)

// maxInterim bounds the 1xx responses skipped before the final one.
const maxInterim = 16

// Field is one response header field. Name is in canonical form (textproto's).
type Field struct {
	Name, Value string
}

// Header is a response's header fields in the order received, with obs-folded lines
// joined. When the body is chunked any Content-Length field has been removed.
type Header []Field

// Get returns the first value of the named field (case-insensitive), or "".
func (h Header) Get(name string) string {
	for i := range h {
		if asciiEqualFold(h[i].Name, name) {
			return h[i].Value
		}
	}
	return ""
}

// Values returns every value of the named field (case-insensitive), in order.
func (h Header) Values(name string) []string {
	var vs []string
	for i := range h {
		if asciiEqualFold(h[i].Name, name) {
			vs = append(vs, h[i].Value)
		}
	}
	return vs
}

// SetField sets the field name (case-insensitive) of fs to value, replacing the first
// field of that name or appending one, as http.Header.Set does. It builds Request.Extra
// without allocating when fs has room.
func SetField(fs []Field, name, value string) []Field {
	for i := range fs {
		if asciiEqualFold(fs[i].Name, name) {
			fs[i].Value = value
			return fs
		}
	}
	return append(fs, Field{Name: name, Value: value})
}

// CopyTo copies the end-to-end fields into dst, as a proxy forwards them: each name
// present replaces dst's values. Hop-by-hop fields (Connection, Proxy-Connection,
// Keep-Alive, Proxy-Authenticate, Proxy-Authorization, Te, Trailer, Transfer-Encoding,
// Upgrade) and the fields named in Connection are left out. It allocates one []string
// for all the values; the value slices it stores must not be modified in place (replace
// them, as http.Header.Set does).
func (h Header) CopyTo(dst http.Header) {
	if len(h) == 0 {
		return
	}
	hasConn := false
	for i := range h {
		if h[i].Name == "Connection" {
			hasConn = true
			break
		}
	}
	vals := make([]string, len(h))
	for i := range h {
		f := &h[i]
		if hopByHop(f.Name) || hasConn && h.connectionListed(f.Name) {
			continue
		}
		first := true
		for j := 0; j < i; j++ {
			if h[j].Name == f.Name {
				first = false
				break
			}
		}
		if first {
			vals[i] = f.Value
			dst[f.Name] = vals[i : i+1 : i+1]
		} else {
			dst[f.Name] = append(dst[f.Name], f.Value)
		}
	}
}

// connectionListed reports whether a Connection field names the field name.
func (h Header) connectionListed(name string) bool {
	for i := range h {
		if h[i].Name == "Connection" && listedIn([]string{h[i].Value}, name) {
			return true
		}
	}
	return false
}

func hopByHop(name string) bool {
	switch name {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
		"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade":
		return true
	}
	return false
}

type bodyMode uint8

const (
	bodyNone    bodyMode = iota // HEAD, 1xx, 204, 304
	bodyLength                  // Content-Length
	bodyChunked                 // Transfer-Encoding: chunked
	bodyClose                   // until the backend closes the connection
)

// Response is a backend's response. Its zero value is ready for Pool.Do, which fills it;
// the caller may keep one per request slot to avoid allocating. It is an io.Reader of
// the body (Content-Length, chunked or until close; empty for HEAD, 1xx, 204 and 304).
// Close must be called once the body has been read, or to abandon it.
type Response struct {
	StatusCode int
	ProtoMinor int // 1 for HTTP/1.1, 0 for HTTP/1.0
	// ContentLength is the body's length, or -1 when unknown (chunked or until close).
	// For HEAD it is the backend's Content-Length (-1 if absent) though no body follows.
	ContentLength int64
	// Header is valid until Close (the strings in it stay valid for ever).
	Header Header

	c         *conn
	mode      bodyMode
	remain    int64 // bodyLength: bytes left; bodyChunked: bytes left in this chunk
	inChunk   bool  // bodyChunked: inside a chunk's data (its CRLF follows)
	done      bool  // the body was read to its end
	keepAlive bool
	err       error // sticky body read error
}

var errReadAfterClose = errors.New("upstream: read after Close")

// Read reads the body.
func (r *Response) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if r.done {
		return 0, io.EOF
	}
	c := r.c
	if c == nil {
		return 0, errReadAfterClose
	}
	if len(p) == 0 {
		return 0, nil
	}
	switch r.mode {
	case bodyLength:
		if int64(len(p)) > r.remain {
			p = p[:r.remain]
		}
		n, err := c.br.Read(p)
		r.remain -= int64(n)
		if r.remain == 0 {
			r.done = true
			return n, io.EOF
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return n, r.fail(err)
		}
		return n, nil
	case bodyChunked:
		return r.readChunked(p)
	case bodyClose:
		n, err := c.br.Read(p)
		if err == io.EOF {
			r.done = true
			return n, io.EOF
		}
		if err != nil {
			return n, r.fail(err)
		}
		return n, nil
	}
	r.done = true
	return 0, io.EOF
}

func (r *Response) fail(err error) error {
	r.err = r.c.wrapErr(opErr("read", err))
	return r.err
}

func (r *Response) readChunked(p []byte) (int, error) {
	c := r.c
	for r.remain == 0 {
		if r.inChunk {
			if err := c.readCRLF(); err != nil {
				return 0, r.fail(err)
			}
			r.inChunk = false
		}
		size, err := c.readChunkSize()
		if err != nil {
			return 0, r.fail(err)
		}
		if size == 0 {
			if err := c.readTrailer(); err != nil {
				return 0, r.fail(err)
			}
			r.done = true
			return 0, io.EOF
		}
		r.remain, r.inChunk = size, true
	}
	if int64(len(p)) > r.remain {
		p = p[:r.remain]
	}
	n, err := c.br.Read(p)
	r.remain -= int64(n)
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return n, r.fail(err)
	}
	if r.remain == 0 && c.br.Buffered() >= 7 {
		// The common ending (CRLF, last chunk, no trailer) is already buffered: end now.
		if b, _ := c.br.Peek(7); string(b) == "\r\n0\r\n\r\n" {
			_, _ = c.br.Discard(7)
			r.done = true
			return n, io.EOF
		}
	}
	return n, nil
}

// Close ends the exchange: the connection goes back to the pool when the body was read
// to its end and the response allows keep-alive; otherwise it is closed.
func (r *Response) Close() error {
	c := r.c
	if c == nil {
		return nil
	}
	r.c = nil
	r.Header = nil
	if r.done && r.keepAlive && r.err == nil {
		c.release()
	} else {
		c.close()
	}
	return nil
}

// readResponse reads the final response head into resp, skipping 1xx responses.
func (c *conn) readResponse(resp *Response, head bool) error {
	for n := 0; ; n++ {
		if n > maxInterim {
			return malformed("", "too many 1xx responses")
		}
		if err := c.readHead(resp, n == 0); err != nil {
			return err
		}
		switch {
		case resp.StatusCode == http.StatusSwitchingProtocols:
			return malformed("", "unexpected 101 Switching Protocols")
		case resp.StatusCode >= 200:
			return c.finishHead(resp, head)
		}
	}
}

// readHead reads one response head (status line to blank line) into c.hdr and parses
// it. first marks the first head of the exchange: an EOF before any byte of it means the
// backend closed the connection (retryable on a reused connection).
func (c *conn) readHead(resp *Response, first bool) error {
	c.hdr = c.hdr[:0]
	limit := c.h.maxHead
	lineStart := 0
	for {
		frag, err := c.br.ReadSlice('\n')
		if len(c.hdr)+len(frag) > limit {
			return &Error{Op: "read", Kind: ErrHeaderTooLarge}
		}
		c.hdr = append(c.hdr, frag...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF && (len(c.hdr) > 0 || !first) {
				err = io.ErrUnexpectedEOF
			}
			return opErr("read", err)
		}
		line := c.hdr[lineStart:]
		if lineStart > 0 && (len(line) == 1 || len(line) == 2 && line[0] == '\r') {
			break
		}
		lineStart = len(c.hdr)
	}
	return c.parseHead(resp)
}

// parseHead parses the status line and records each field's offsets in c.offs; field
// names are canonicalized in place and obs-folds replaced by spaces.
func (c *conn) parseHead(resp *Response) error {
	b := c.hdr
	i := bytes.IndexByte(b, '\n')
	line := b[:i]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if len(line) < 12 || string(line[:7]) != "HTTP/1." || !isDigit(line[7]) || line[8] != ' ' ||
		!isDigit(line[9]) || !isDigit(line[10]) || !isDigit(line[11]) || len(line) > 12 && line[12] != ' ' {
		return malformed("", "malformed status line "+quote(string(line)))
	}
	code := int(line[9]-'0')*100 + int(line[10]-'0')*10 + int(line[11]-'0')
	if code < 100 {
		return malformed("", "malformed status code "+quote(string(line[9:12])))
	}
	resp.StatusCode = code
	resp.ProtoMinor = min(int(line[7]-'0'), 1)

	c.offs = c.offs[:0]
	pos := i + 1
	for {
		j := pos + bytes.IndexByte(b[pos:], '\n')
		end := j
		if end > pos && b[end-1] == '\r' {
			end--
		}
		if end == pos {
			return nil // the blank line
		}
		if b[pos] == ' ' || b[pos] == '\t' {
			// obs-fold: the line continues the previous field's value.
			n := len(c.offs)
			if n == 0 {
				return malformed("", "header starts with a continuation line")
			}
			if !validValueBytes(b[pos:end]) {
				return malformed("", "invalid header field value")
			}
			for x := c.offs[n-1]; x < int32(pos); x++ {
				b[x] = ' '
			}
			vs, ve := int(c.offs[n-2]), trimRightOWS(b, pos, end)
			for vs < ve && (b[vs] == ' ' || b[vs] == '\t') {
				vs++
			}
			c.offs[n-2], c.offs[n-1] = int32(vs), int32(ve)
			pos = j + 1
			continue
		}
		colon := bytes.IndexByte(b[pos:end], ':')
		if colon <= 0 {
			return malformed("", "malformed header line "+quote(string(b[pos:end])))
		}
		name := b[pos : pos+colon]
		if !canonicalize(name) {
			return malformed("", "invalid header field name "+quote(string(name)))
		}
		vs := pos + colon + 1
		for vs < end && (b[vs] == ' ' || b[vs] == '\t') {
			vs++
		}
		ve := trimRightOWS(b, vs, end)
		if !validValueBytes(b[vs:ve]) {
			return malformed("", "invalid value for header field "+quote(string(name)))
		}
		c.offs = append(c.offs, int32(pos), int32(pos+colon), int32(vs), int32(ve))
		pos = j + 1
	}
}

// finishHead decides the body's framing and persistence from the final response's
// fields and builds resp.Header (one string for all of it).
func (c *conn) finishHead(resp *Response, head bool) error {
	b, offs := c.hdr, c.offs
	cl := int64(-1)
	chunked, teSeen, closeTok, keepAliveTok := false, false, false, false
	for k := 0; k < len(offs); k += 4 {
		name, val := b[offs[k]:offs[k+1]], b[offs[k+2]:offs[k+3]]
		switch string(name) {
		case "Content-Length":
			n, ok := parseContentLength(val)
			if !ok {
				return malformed("", "invalid Content-Length "+quote(string(val)))
			}
			if cl >= 0 && n != cl {
				return malformed("", "conflicting Content-Length fields")
			}
			cl = n
		case "Transfer-Encoding":
			if resp.ProtoMinor == 0 {
				continue // ignored in HTTP/1.0, like net/http
			}
			if teSeen {
				return malformed("", "more than one Transfer-Encoding field")
			}
			teSeen = true
			if !asciiEqualFold(string(val), "chunked") {
				return malformed("", "unsupported Transfer-Encoding "+quote(string(val)))
			}
			chunked = true
		case "Connection":
			forEachToken(val, func(tok []byte) {
				switch {
				case asciiEqualFoldBytes(tok, "close"):
					closeTok = true
				case asciiEqualFoldBytes(tok, "keep-alive"):
					keepAliveTok = true
				}
			})
		}
	}
	resp.keepAlive = !closeTok && (resp.ProtoMinor >= 1 || keepAliveTok)
	resp.ContentLength = cl
	stripCL := false
	switch code := resp.StatusCode; {
	case head || code < 200 || code == http.StatusNoContent || code == http.StatusNotModified:
		resp.mode = bodyNone
		if !head {
			resp.ContentLength = 0
		} else if chunked {
			resp.ContentLength = -1
		}
	case chunked:
		resp.mode = bodyChunked
		resp.ContentLength = -1
		if cl >= 0 {
			// Both framings: Transfer-Encoding wins, and the connection is not reused
			// (RFC 9112 §6.3: a possible smuggling attempt).
			stripCL = true
			resp.keepAlive = false
		}
	case cl >= 0:
		resp.mode = bodyLength
		resp.remain = cl
	default:
		resp.mode = bodyClose
		resp.keepAlive = false
	}
	resp.done = resp.mode == bodyNone || resp.mode == bodyLength && cl == 0

	c.fields = c.fields[:0]
	if len(offs) > 0 {
		base := offs[0]
		s := string(b[base:offs[len(offs)-1]])
		for k := 0; k < len(offs); k += 4 {
			f := Field{Name: s[offs[k]-base : offs[k+1]-base], Value: s[offs[k+2]-base : offs[k+3]-base]}
			if stripCL && f.Name == "Content-Length" {
				continue
			}
			c.fields = append(c.fields, f)
		}
	}
	resp.Header = c.fields
	resp.c = c
	return nil
}

func (c *conn) readCRLF() error {
	b, err := c.br.ReadByte()
	if err == nil && b == '\r' {
		b, err = c.br.ReadByte()
	}
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	if b != '\n' {
		return malformed("", "malformed chunked encoding: no CRLF after chunk data")
	}
	return nil
}

func (c *conn) readChunkSize() (int64, error) {
	line, err := c.br.ReadSlice('\n')
	switch {
	case err == bufio.ErrBufferFull:
		return 0, malformed("", "malformed chunked encoding: chunk size line too long")
	case err == io.EOF:
		return 0, io.ErrUnexpectedEOF
	case err != nil:
		return 0, err
	}
	line = line[:len(line)-1]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	if i := bytes.IndexByte(line, ';'); i >= 0 {
		line = line[:i]
	}
	line = line[:trimRightOWS(line, 0, len(line))]
	if len(line) == 0 || len(line) > 16 {
		return 0, malformed("", "malformed chunked encoding: bad chunk size")
	}
	var n int64
	for _, ch := range line {
		var d byte
		switch {
		case ch >= '0' && ch <= '9':
			d = ch - '0'
		case ch >= 'a' && ch <= 'f':
			d = ch - 'a' + 10
		case ch >= 'A' && ch <= 'F':
			d = ch - 'A' + 10
		default:
			return 0, malformed("", "malformed chunked encoding: bad chunk size")
		}
		if n > (1<<62)>>4 {
			return 0, malformed("", "malformed chunked encoding: chunk too large")
		}
		n = n<<4 | int64(d)
	}
	return n, nil
}

// readTrailer reads and discards the trailer section after the last chunk.
func (c *conn) readTrailer() error {
	total, fresh := 0, true
	for {
		frag, err := c.br.ReadSlice('\n')
		total += len(frag)
		if total > c.h.maxHead {
			return &Error{Op: "read", Kind: ErrHeaderTooLarge}
		}
		if err == bufio.ErrBufferFull {
			fresh = false
			continue
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		if fresh && (len(frag) == 1 || len(frag) == 2 && frag[0] == '\r') {
			return nil
		}
		fresh = true
	}
}

func parseContentLength(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 18 {
		return 0, false
	}
	var n int64
	for _, ch := range v {
		if !isDigit(ch) {
			return 0, false
		}
		n = n*10 + int64(ch-'0')
	}
	return n, true
}

func forEachToken(v []byte, fn func([]byte)) {
	for len(v) > 0 {
		var tok []byte
		if i := bytes.IndexByte(v, ','); i >= 0 {
			tok, v = v[:i], v[i+1:]
		} else {
			tok, v = v, nil
		}
		s, e := 0, len(tok)
		for s < e && (tok[s] == ' ' || tok[s] == '\t') {
			s++
		}
		fn(tok[s:trimRightOWS(tok, s, e)])
	}
}
