package h1server

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// response is the connection's http.ResponseWriter, reused across its requests.
type response struct {
	c           *conn
	req         *http.Request
	header      http.Header
	status      int
	wroteHeader bool // the final status is chosen
	committed   bool // the head is in the connection's writer
	chunked     bool
	isHead      bool
	clen        int64 // the handler's Content-Length, or -1
	written     int64
	buf         []byte // body held back until it overflows or the handler returns
	keep        bool
	err         error
	scratch     [24]byte
}

func (w *response) reset(c *conn, req *http.Request, keep bool) {
	hdr, buf := w.header, w.buf[:0]
	if hdr == nil {
		hdr = make(http.Header, 8)
	} else {
		clear(hdr)
	}
	if buf == nil {
		buf = make([]byte, 0, respBufSize)
	}
	*w = response{c: c, req: req, header: hdr, buf: buf, keep: keep, clen: -1, isHead: req.Method == "HEAD"}
}

// Header implements http.ResponseWriter.
func (w *response) Header() http.Header { return w.header }

// WriteHeader implements http.ResponseWriter.
func (w *response) WriteHeader(code int) {
	if w.wroteHeader {
		w.c.srv.log().Debug("h1server: superfluous WriteHeader call", "code", code)
		return
	}
	if code < 100 || code > 999 {
		panic("invalid WriteHeader code " + strconv.Itoa(code))
	}
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		w.writeStatusLine(code)
		w.writeFields()
		_, _ = w.c.bw.WriteString("\r\n")
		if err := w.c.bw.Flush(); err != nil && w.err == nil {
			w.err = err
		}
		if code == http.StatusContinue {
			w.c.body.needContinue = false
		}
		return
	}
	w.wroteHeader = true
	w.status = code
	if cl := w.header.Get("Content-Length"); cl != "" {
		if v, err := strconv.ParseInt(cl, 10, 64); err == nil && v >= 0 {
			w.clen = v
		} else {
			w.c.srv.log().Debug("h1server: invalid Content-Length from handler", "value", cl)
			delete(w.header, "Content-Length")
		}
	}
}

func bodyAllowed(code int) bool {
	return !(code >= 100 && code <= 199) && code != http.StatusNoContent && code != http.StatusNotModified
}

// Write implements http.ResponseWriter.
func (w *response) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.clen >= 0 && w.written+int64(len(p)) > w.clen {
		return 0, http.ErrContentLength
	}
	w.written += int64(len(p))
	if w.isHead {
		return len(p), nil
	}
	if !w.committed {
		if len(w.buf)+len(p) <= cap(w.buf) {
			w.buf = append(w.buf, p...)
			return len(p), nil
		}
		w.commit(false, p)
	}
	w.writeBody(p)
	if w.err != nil {
		return 0, w.err
	}
	return len(p), nil
}

// WriteString lets io.WriteString avoid a conversion.
func (w *response) WriteString(s string) (int, error) {
	if !w.committed && !w.isHead && w.wroteHeader && bodyAllowed(w.status) && w.err == nil &&
		len(w.buf)+len(s) <= cap(w.buf) && (w.clen < 0 || w.written+int64(len(s)) <= w.clen) {
		w.buf = append(w.buf, s...)
		w.written += int64(len(s))
		return len(s), nil
	}
	return w.Write([]byte(s))
}

// Flush implements http.Flusher.
func (w *response) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		w.commit(false, nil)
	}
	if err := w.c.bw.Flush(); err != nil && w.err == nil {
		w.err = err
	}
}

// writeBody writes p in the response's framing.
func (w *response) writeBody(p []byte) {
	if len(p) == 0 || w.err != nil {
		return
	}
	bw := w.c.bw
	if w.chunked {
		_, _ = bw.Write(strconv.AppendInt(w.scratch[:0], int64(len(p)), 16))
		_, _ = bw.WriteString("\r\n")
		_, _ = bw.Write(p)
		_, w.err = bw.WriteString("\r\n")
		return
	}
	_, w.err = bw.Write(p)
}

// commit writes the head and the held-back body; final is set when the handler has
// returned, so the body's length is known; pending is the write that overflowed the
// buffer (for sniffing Content-Type).
func (w *response) commit(final bool, pending []byte) {
	w.committed = true
	c, h := w.c, w.header
	if c.srv.closing.Load() {
		w.keep = false
	}
	if final && !c.body.drain() {
		w.keep = false
	}
	delete(h, "Transfer-Encoding")
	var clen int64 = -1
	hasBody := bodyAllowed(w.status)
	switch {
	case !hasBody:
		if w.status != http.StatusNotModified {
			delete(h, "Content-Length")
		}
	case w.clen >= 0:
		if final && !w.isHead && w.written != w.clen {
			w.keep = false
		}
	case final && (!w.isHead || w.written > 0):
		clen = w.written
	case w.isHead:
	case w.req.ProtoMinor >= 1:
		w.chunked = true
	default:
		w.keep = false // HTTP/1.0: the body ends with the connection
	}
	if sniff := w.buf; hasBody && w.written > 0 {
		if len(sniff) == 0 {
			sniff = pending
		}
		if _, ok := h["Content-Type"]; !ok && len(sniff) > 0 {
			h["Content-Type"] = []string{http.DetectContentType(sniff)}
		}
	}
	if hasToken(h["Connection"], "close") {
		w.keep = false
	}
	w.writeStatusLine(w.status)
	w.writeFields()
	bw := c.bw
	if _, ok := h["Date"]; !ok {
		_, _ = bw.WriteString("Date: ")
		_, _ = bw.Write(c.now())
		_, _ = bw.WriteString("\r\n")
	}
	if clen >= 0 {
		_, _ = bw.WriteString("Content-Length: ")
		_, _ = bw.Write(strconv.AppendInt(w.scratch[:0], clen, 10))
		_, _ = bw.WriteString("\r\n")
	}
	if w.chunked {
		_, _ = bw.WriteString("Transfer-Encoding: chunked\r\n")
	}
	if _, ok := h["Connection"]; !ok {
		if !w.keep {
			_, _ = bw.WriteString("Connection: close\r\n")
		} else if w.req.ProtoMinor == 0 {
			_, _ = bw.WriteString("Connection: keep-alive\r\n")
		}
	} else if !w.keep && !hasToken(h["Connection"], "close") {
		_, _ = bw.WriteString("Connection: close\r\n")
	}
	_, w.err = bw.WriteString("\r\n")
	if !w.isHead && hasBody {
		w.writeBody(w.buf)
	}
	w.buf = w.buf[:0]
}

// finish completes the response after the handler returned and flushes it.
func (w *response) finish() error {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		w.commit(true, nil)
	} else {
		if !w.c.body.drain() {
			w.keep = false
		}
		if w.clen >= 0 && !w.isHead && w.written != w.clen && bodyAllowed(w.status) {
			w.keep = false
		}
		if w.chunked && w.err == nil {
			_, w.err = w.c.bw.WriteString("0\r\n\r\n")
		}
	}
	if err := w.c.bw.Flush(); err != nil && w.err == nil {
		w.err = err
	}
	return w.err
}

var statusLines = func() (m [600]string) {
	for code := 100; code < 600; code++ {
		if t := http.StatusText(code); t != "" {
			m[code] = "HTTP/1.1 " + strconv.Itoa(code) + " " + t + "\r\n"
		}
	}
	return m
}()

func (w *response) writeStatusLine(code int) {
	bw := w.c.bw
	if code < len(statusLines) && statusLines[code] != "" {
		_, _ = bw.WriteString(statusLines[code])
		return
	}
	_, _ = bw.WriteString("HTTP/1.1 ")
	_, _ = bw.Write(strconv.AppendInt(w.scratch[:0], int64(code), 10))
	_, _ = bw.WriteString(" status code ")
	_, _ = bw.Write(strconv.AppendInt(w.scratch[:0], int64(code), 10))
	_, _ = bw.WriteString("\r\n")
}

// writeFields writes the handler's header fields (map order), skipping invalid names
// and replacing CR and LF in values with spaces, as net/http does.
func (w *response) writeFields() {
	bw := w.c.bw
	for k, vs := range w.header {
		if !isTokenString(k) {
			continue
		}
		for _, v := range vs {
			_, _ = bw.WriteString(k)
			_, _ = bw.WriteString(": ")
			if strings.ContainsAny(v, "\r\n") {
				v = strings.NewReplacer("\r", " ", "\n", " ").Replace(v)
			}
			_, _ = bw.WriteString(strings.TrimSpace(v))
			_, _ = bw.WriteString("\r\n")
		}
	}
}

func isTokenString(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tokenTable[s[i]] {
			return false
		}
	}
	return true
}

// now returns the current time in http.TimeFormat, formatted once per second.
func (c *conn) now() []byte {
	t := time.Now()
	if sec := t.Unix(); sec != c.dateSec {
		c.dateSec = sec
		t.UTC().AppendFormat(c.date[:0], http.TimeFormat)
	}
	return c.date[:]
}

func itoa(n int) string { return strconv.Itoa(n) }
