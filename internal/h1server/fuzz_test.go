package h1server

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// FuzzReadRequest feeds arbitrary bytes to the request parser and body reader: nothing
// panics, accepted heads are well formed, and net/http's parser accepts them too with the
// same method, target and host.
func FuzzReadRequest(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
		"POST /p?q=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
		"POST / HTTP/1.1\r\nhost: h\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nT: 1\r\n\r\n",
		"GET http://x/a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
		"CONNECT x:443 HTTP/1.1\r\nHost: x:443\r\n\r\n",
		"OPTIONS * HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx",
		"GET / HTTP/1.1\nHost: h\nX: a\n b\n\n",
		"\r\nGET / HTTP/1.1\r\nHost: h\r\nPragma: no-cache\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &conn{srv: &Server{MaxHeaderBytes: 2048}}
		c.br = bufio.NewReaderSize(bytes.NewReader(data), 64)
		c.bw = bufio.NewWriter(io.Discard)
		req := &c.req
		err := c.p.readRequest(c.br, c.srv.maxHeader(), req)
		if err != nil {
			var se *statusError
			if errors.As(err, &se) && (se.code < 400 || se.code > 599) {
				t.Fatalf("status %d", se.code)
			}
			return
		}
		if req.URL == nil || req.ProtoMajor != 1 || !isTokenString(req.Method) {
			t.Fatalf("accepted %+v", req)
		}
		for k := range req.Header {
			if k != http.CanonicalHeaderKey(k) || k == "Host" {
				t.Fatalf("header key %q", k)
			}
		}
		if err := c.body.reset(c, &c.p); err == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(&c.body, 1<<20))
		}
		// net/http agrees on what it accepts of ours (it folds lines we reject, not
		// the other way round).
		// (h1server skips empty lines before the request line, as RFC 9112 suggests.)
		rest := data
		for len(rest) > 0 && (rest[0] == '\r' || rest[0] == '\n') {
			rest = rest[1:]
		}
		nr, nerr := http.ReadRequest(bufio.NewReader(bytes.NewReader(rest)))
		if nerr != nil {
			if strings.Contains(nerr.Error(), "Content-Length") || strings.Contains(nerr.Error(), "Transfer-Encoding") || strings.Contains(nerr.Error(), "transfer encoding") {
				return // framing errors net/http reports where we do later or differently
			}
			t.Fatalf("net/http rejects what h1server accepts: %v", nerr)
		}
		if nr.Method != req.Method || nr.RequestURI != req.RequestURI || nr.Host != req.Host {
			t.Fatalf("net/http %q %q %q, h1server %q %q %q", nr.Method, nr.RequestURI, nr.Host, req.Method, req.RequestURI, req.Host)
		}
	})
}
