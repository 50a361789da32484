package upstream

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// testHandler serves the paths the table tests use.
func testHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Query", r.URL.RawQuery)
		w.Header().Set("Content-Length", "5")
		_, _ = io.WriteString(w, "hello")
	})
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		for _, part := range []string{"one,", "two,", "three"} {
			_, _ = io.WriteString(w, part)
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(r.PathValue("code"))
		w.Header().Set("X-Code", r.PathValue("code"))
		w.WriteHeader(code)
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h := w.Header()
		h.Set("X-Method", r.Method)
		h.Set("X-Host", r.Host)
		h.Set("X-Uri", r.RequestURI)
		h.Set("X-Te", strings.Join(r.TransferEncoding, ","))
		h.Set("X-Content-Length", strings.Join(r.Header["Content-Length"], ","))
		h.Set("X-Multi", strings.Join(r.Header["X-Multi"], "|"))
		h.Set("X-Expect", r.Header.Get("Expect"))
		h.Set("X-Conn", r.Header.Get("Connection"))
		_, _ = w.Write(b)
	})
	mux.HandleFunc("/dump", func(w http.ResponseWriter, r *http.Request) {
		keys := make([]string, 0, len(r.Header))
		for k := range r.Header {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "%s=%s;", k, strings.Join(r.Header[k], ","))
		}
	})
	mux.HandleFunc("/headers", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Set-Cookie"] = []string{"a=1", "b=2"}
		h.Set("Connection", "X-Private")
		h.Set("X-Private", "secret")
		h.Set("Keep-Alive", "timeout=5")
		h.Set("Trailer", "X-T")
		h.Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "{}")
	})
	return mux
}

func TestRoundTrip(t *testing.T) {
	srv := newCounted(t, testHandler(), false)
	host := hostOf(srv.Server)
	p := newPool(t, Options{})
	tests := []struct {
		name       string
		req        Request
		status     int
		body       string
		cl         int64
		header     map[string]string
		absent     []string
		multi      map[string][]string
		newConns   int64
		wantReused bool
	}{
		{
			name: "get", req: Request{Method: "GET", Target: "/hello?a=1&b=%20"},
			status: 200, body: "hello", cl: 5, header: map[string]string{"X-Query": "a=1&b=%20", "Content-Length": "5"},
			newConns: 1,
		},
		{
			name: "empty method is GET", req: Request{Target: "/hello"}, status: 200, body: "hello", cl: 5,
		},
		{
			name: "chunked response", req: Request{Method: "GET", Target: "/chunked"},
			status: 200, body: "one,two,three", cl: -1, absent: []string{"Transfer-Encoding", "Content-Length"},
		},
		{
			name: "head", req: Request{Method: "HEAD", Target: "/hello"}, status: 200, body: "", cl: 5,
			header: map[string]string{"Content-Length": "5"},
		},
		{name: "204", req: Request{Target: "/status/204"}, status: 204, cl: 0, header: map[string]string{"X-Code": "204"}},
		{name: "304", req: Request{Target: "/status/304"}, status: 304, cl: 0, header: map[string]string{"X-Code": "304"}},
		{name: "404 with body", req: Request{Target: "/nope"}, status: 404, body: "404 page not found\n", cl: 19},
		{
			name:   "post with length",
			req:    Request{Method: "POST", Target: "/echo", Body: strings.NewReader("abc"), ContentLength: 3},
			status: 200, body: "abc", cl: 3,
			header: map[string]string{"X-Method": "POST", "X-Content-Length": "3", "X-Te": "", "X-Uri": "/echo"},
		},
		{
			name:   "post chunked",
			req:    Request{Method: "POST", Target: "/echo", Body: strings.NewReader(strings.Repeat("x", 10000)), ContentLength: -1},
			status: 200, body: strings.Repeat("x", 10000), cl: -1, // the server chunks what exceeds its buffer
			header: map[string]string{"X-Te": "chunked", "X-Content-Length": ""},
		},
		{
			name:   "post chunked empty",
			req:    Request{Method: "POST", Target: "/echo", Body: strings.NewReader(""), ContentLength: -1},
			status: 200, body: "", cl: 0, header: map[string]string{"X-Te": "chunked"},
		},
		{
			name: "put without body sends Content-Length 0", req: Request{Method: "PUT", Target: "/echo"},
			status: 200, cl: 0, header: map[string]string{"X-Content-Length": "0", "X-Method": "PUT"},
		},
		{
			name: "delete without body sends no Content-Length", req: Request{Method: "DELETE", Target: "/echo"},
			status: 200, cl: 0, header: map[string]string{"X-Content-Length": ""},
		},
		{
			name: "request header fields",
			req: Request{Method: "GET", Target: "/echo", Header: http.Header{
				"X-Multi": {"1", "2"}, "Host": {"ignored.example"}, "Connection": {"close"},
				"Content-Length": {"99"}, "Transfer-Encoding": {"gzip"},
			}},
			status: 200, cl: 0,
			header: map[string]string{"X-Multi": "1|2", "X-Host": host, "X-Conn": "", "X-Content-Length": ""},
		},
		{
			name: "forwarded header: hop-by-hop stripped, omitted, replaced",
			req: Request{Target: "/dump", StripHopByHop: true, Header: http.Header{
				"Connection": {"keep-alive, X-Secret"}, "X-Secret": {"s"}, "Keep-Alive": {"1"}, "Upgrade": {"h2c"},
				"Te": {"trailers"}, "Proxy-Authorization": {"p"}, "X-Apigw-Api-Id": {"abc"}, "Accept": {"a", "b"},
				"X-Forwarded-For": {"1.1.1.1"}, "Trailer": {"X"},
			}, Omit: []string{"X-Apigw-Api-Id"}, Extra: []Field{{"x-forwarded-for", "1.1.1.1, 2.2.2.2"}, {"X-Amzn-Vpc-Id", "vpc-1"}}},
			status: 200, cl: 64,
			body: "Accept=a,b;X-Amzn-Vpc-Id=vpc-1;X-Forwarded-For=1.1.1.1, 2.2.2.2;",
		},
		{
			name:   "header without StripHopByHop is written as is",
			req:    Request{Target: "/dump", Header: http.Header{"Keep-Alive": {"1"}, "Upgrade": {"h2c"}}},
			status: 200, cl: 25, body: "Keep-Alive=1;Upgrade=h2c;",
		},
		{
			name: "expect 100-continue",
			req: Request{Method: "PUT", Target: "/echo", Header: http.Header{"Expect": {"100-continue"}},
				Body: strings.NewReader("payload"), ContentLength: 7},
			status: 200, body: "payload", cl: 7, header: map[string]string{"X-Expect": "100-continue"},
		},
		{
			name: "target bytes escaped", req: Request{Target: "/echo?q=a b|ü#x"},
			status: 200, cl: 0, header: map[string]string{"X-Uri": "/echo?q=a%20b%7C%C3%BC%23x"},
		},
		{
			name: "query only target", req: Request{Target: "?x=1"}, status: 404, cl: 19,
			body: "404 page not found\n",
		},
		{
			name: "response hop-by-hop fields",
			req:  Request{Target: "/headers"}, status: 200, body: "{}", cl: -1, // chunked for the Trailer
			header: map[string]string{"Content-Type": "application/json"},
			absent: []string{"Connection", "X-Private", "Keep-Alive", "Trailer"},
			multi:  map[string][]string{"Set-Cookie": {"a=1", "b=2"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := srv.conns.Load()
			req := tt.req
			req.Scheme, req.Host = "http", host
			r := exchange(t, p, &req)
			if r.err != nil || r.rerr != nil {
				t.Fatalf("Do: %v; body: %v", r.err, r.rerr)
			}
			if r.status != tt.status {
				t.Errorf("status %d, want %d (body %q)", r.status, tt.status, r.body)
			}
			if r.body != tt.body {
				t.Errorf("body %q, want %q", r.body, tt.body)
			}
			if r.resp.ContentLength != tt.cl {
				t.Errorf("ContentLength %d, want %d", r.resp.ContentLength, tt.cl)
			}
			for k, v := range tt.header {
				if got := r.header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			for _, k := range tt.absent {
				if vs, ok := r.header[k]; ok {
					t.Errorf("header %s = %q, want absent", k, vs)
				}
			}
			for k, v := range tt.multi {
				if got := r.header[k]; strings.Join(got, "|") != strings.Join(v, "|") {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if got := srv.conns.Load() - before; got != tt.newConns {
				t.Errorf("new connections %d, want %d (keep-alive reuse)", got, tt.newConns)
			}
			if n := p.IdleConns("http", host); n != 1 {
				t.Errorf("idle connections %d, want 1", n)
			}
		})
	}
}

func TestKeepAliveReuse(t *testing.T) {
	tests := []struct {
		name      string
		handler   http.HandlerFunc
		wantConns int64
		wantIdle  int
	}{
		{"keep-alive", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }, 1, 1},
		{"connection close", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Connection", "close")
			_, _ = io.WriteString(w, "ok")
		}, 20, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newCounted(t, tt.handler, false)
			p := newPool(t, Options{})
			for i := 0; i < 20; i++ {
				r := exchange(t, p, get(hostOf(srv.Server), "/"))
				if r.err != nil || r.body != "ok" {
					t.Fatalf("request %d: %v %q", i, r.err, r.body)
				}
			}
			if got := srv.conns.Load(); got != tt.wantConns {
				t.Errorf("connections %d, want %d", got, tt.wantConns)
			}
			if got := p.IdleConns("http", hostOf(srv.Server)); got != tt.wantIdle {
				t.Errorf("idle %d, want %d", got, tt.wantIdle)
			}
		})
	}
}

func TestRawResponses(t *testing.T) {
	tests := []struct {
		name     string
		resp     string
		keep     bool // the server answers further requests on the connection
		method   string
		status   int
		body     string
		cl       int64
		header   map[string]string
		absent   []string
		kind     error // from Do
		readKind error // from reading the body
		reused   bool  // a second request reuses the connection
	}{
		{name: "http/1.0 close-delimited", resp: "HTTP/1.0 200 OK\r\nX-A: 1\r\n\r\nhello", status: 200, body: "hello", cl: -1},
		{name: "http/1.0 keep-alive", resp: "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi",
			keep: true, status: 200, body: "hi", cl: 2, reused: true},
		{name: "http/1.0 without keep-alive", resp: "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nhi",
			keep: true, status: 200, body: "hi", cl: 2},
		{name: "http/1.0 ignores transfer-encoding", resp: "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nraw",
			status: 200, body: "raw", cl: -1},
		{name: "http/1.1 close-delimited", resp: "HTTP/1.1 200 OK\r\n\r\nuntil close", status: 200, body: "until close", cl: -1},
		{name: "connection close", resp: "HTTP/1.1 200 OK\r\nConnection: Keep-Alive, close\r\nContent-Length: 1\r\n\r\nx",
			keep: true, status: 200, body: "x", cl: 1},
		{name: "no reason phrase", resp: "HTTP/1.1 201\r\nContent-Length: 0\r\n\r\n", keep: true, status: 201, cl: 0, reused: true},
		{name: "interim responses skipped",
			resp: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
			keep: true, status: 200, body: "ok", cl: 2, absent: []string{"Link"}, reused: true},
		{name: "bare LF", resp: "HTTP/1.1 200 OK\nX-A: b\nContent-Length: 2\n\nok", keep: true, status: 200, body: "ok",
			cl: 2, header: map[string]string{"X-A": "b"}, reused: true},
		{name: "canonical names and trimmed values", resp: "HTTP/1.1 200 OK\r\ncontent-TYPE:  text/plain \t\r\nx-empty:\r\nContent-Length: 0\r\n\r\n",
			keep: true, status: 200, cl: 0, header: map[string]string{"Content-Type": "text/plain", "X-Empty": ""}, reused: true},
		{name: "obs-fold", resp: "HTTP/1.1 200 OK\r\nX-Fold: a\r\n  b\r\n\tc\r\nX-Next: n\r\nContent-Length: 0\r\n\r\n",
			keep: true, status: 200, cl: 0, header: map[string]string{"X-Fold": "a    b  \tc", "X-Next": "n"}, reused: true},
		{name: "obs-fold of empty value", resp: "HTTP/1.1 200 OK\r\nX-Fold:\r\n b\r\nContent-Length: 0\r\n\r\n",
			keep: true, status: 200, cl: 0, header: map[string]string{"X-Fold": "b"}, reused: true},
		{name: "chunked with extensions and trailer",
			resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n\r\n5;ext=1\r\nhello\r\n1 \r\n!\r\n0\r\nX-Trailer: t\r\n\r\n",
			keep: true, status: 200, body: "hello!", cl: -1, reused: true},
		{name: "chunked uppercase hex and bare LF",
			resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nA\nabcdefghij\n0\n\n",
			keep: true, status: 200, body: "abcdefghij", cl: -1, reused: true},
		{name: "chunked and content-length", resp: "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
			keep: true, status: 200, body: "ok", cl: -1, absent: []string{"Content-Length"}},
		{name: "same content-length twice", resp: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
			keep: true, status: 200, body: "ok", cl: 2, reused: true},
		{name: "extra bytes after the response", resp: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokJUNK",
			keep: true, status: 200, body: "ok", cl: 2},
		{name: "head ignores content-length", method: "HEAD", resp: "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n",
			keep: true, status: 200, cl: 1000, reused: true},

		{name: "empty response", resp: "", kind: ErrConnClosed},
		{name: "truncated head", resp: "HTTP/1.1 200 OK\r\nX-A: b\r\n", kind: ErrConnClosed},
		{name: "garbage", resp: "hello world\r\n\r\n", kind: ErrMalformedResponse},
		{name: "empty status line", resp: "\r\nHTTP/1.1 200 OK\r\n\r\n", kind: ErrMalformedResponse},
		{name: "http/2 status line", resp: "HTTP/2.0 200 OK\r\n\r\n", kind: ErrMalformedResponse},
		{name: "four-digit status", resp: "HTTP/1.1 2000 OK\r\n\r\n", kind: ErrMalformedResponse},
		{name: "two-digit status", resp: "HTTP/1.1 20 OK\r\n\r\n", kind: ErrMalformedResponse},
		{name: "status below 100", resp: "HTTP/1.1 099 Low\r\n\r\n", kind: ErrMalformedResponse},
		{name: "non-numeric status", resp: "HTTP/1.1 2x0 OK\r\n\r\n", kind: ErrMalformedResponse},
		{name: "lower-case protocol", resp: "http/1.1 200 OK\r\n\r\n", kind: ErrMalformedResponse},
		{name: "header without colon", resp: "HTTP/1.1 200 OK\r\nBad Header\r\n\r\n", kind: ErrMalformedResponse},
		{name: "space before colon", resp: "HTTP/1.1 200 OK\r\nX-A : b\r\n\r\n", kind: ErrMalformedResponse},
		{name: "empty name", resp: "HTTP/1.1 200 OK\r\n: b\r\n\r\n", kind: ErrMalformedResponse},
		{name: "control byte in value", resp: "HTTP/1.1 200 OK\r\nX-A: a\x00b\r\n\r\n", kind: ErrMalformedResponse},
		{name: "CR in value", resp: "HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n", kind: ErrMalformedResponse},
		{name: "leading continuation", resp: "HTTP/1.1 200 OK\r\n  b\r\n\r\n", kind: ErrMalformedResponse},
		{name: "bad content-length", resp: "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", kind: ErrMalformedResponse},
		{name: "negative content-length", resp: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", kind: ErrMalformedResponse},
		{name: "huge content-length", resp: "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", kind: ErrMalformedResponse},
		{name: "conflicting content-length", resp: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", kind: ErrMalformedResponse},
		{name: "unsupported transfer-encoding", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", kind: ErrMalformedResponse},
		{name: "two transfer-encodings", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", kind: ErrMalformedResponse},
		{name: "switching protocols", resp: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", kind: ErrMalformedResponse},
		{name: "endless interim responses", resp: strings.Repeat("HTTP/1.1 102 Processing\r\n\r\n", 20), kind: ErrMalformedResponse},

		{name: "truncated body", resp: "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", status: 200, body: "hello", cl: 10, readKind: ErrConnClosed},
		{name: "bad chunk size", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", status: 200, cl: -1, readKind: ErrMalformedResponse},
		{name: "empty chunk size", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", status: 200, cl: -1, readKind: ErrMalformedResponse},
		{name: "chunk size overflow", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n", status: 200, cl: -1, readKind: ErrMalformedResponse},
		{name: "no CRLF after chunk", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokX\r\n0\r\n\r\n", status: 200, body: "ok", cl: -1, readKind: ErrMalformedResponse},
		{name: "truncated chunked body", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", status: 200, body: "hel", cl: -1, readKind: ErrConnClosed},
		{name: "chunk size line too long", resp: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;" + strings.Repeat("e", 5000) + "\r\n", status: 200, cl: -1, readKind: ErrMalformedResponse},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newRawServer(t, scripted(tt.resp, tt.keep))
			p := newPool(t, Options{})
			req := get(srv.host(), "/")
			if tt.method != "" {
				req.Method = tt.method
			}
			r := exchange(t, p, req)
			if tt.kind != nil {
				if !errors.Is(r.err, tt.kind) {
					t.Fatalf("Do error %v, want %v", r.err, tt.kind)
				}
				return
			}
			if r.err != nil {
				t.Fatalf("Do: %v", r.err)
			}
			if r.status != tt.status || r.body != tt.body || r.resp.ContentLength != tt.cl {
				t.Errorf("got %d %q cl=%d, want %d %q cl=%d", r.status, r.body, r.resp.ContentLength, tt.status, tt.body, tt.cl)
			}
			if tt.readKind != nil {
				if !errors.Is(r.rerr, tt.readKind) {
					t.Errorf("body error %v, want %v", r.rerr, tt.readKind)
				}
			} else if r.rerr != nil {
				t.Errorf("body error %v", r.rerr)
			}
			for k, v := range tt.header {
				if got, ok := r.header[k]; !ok || got[0] != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			for _, k := range tt.absent {
				if vs, ok := r.header[k]; ok {
					t.Errorf("header %s = %q, want absent", k, vs)
				}
			}
			if tt.kind != nil || tt.readKind != nil || !tt.keep {
				return
			}
			r2 := exchange(t, p, req)
			if r2.err != nil || r2.body != tt.body {
				t.Fatalf("second request: %v %q", r2.err, r2.body)
			}
			wantAccepts := int64(2)
			if tt.reused {
				wantAccepts = 1
			}
			if got := srv.accepts.Load(); got != wantAccepts {
				t.Errorf("connections %d, want %d", got, wantAccepts)
			}
		})
	}
}

func TestHeaderSizeLimit(t *testing.T) {
	tests := []struct {
		name  string
		size  int
		limit int
		kind  error
	}{
		{"just under the default 64 KiB", 60 << 10, 0, nil},
		{"over the default 64 KiB", 70 << 10, 0, ErrHeaderTooLarge},
		{"over a small limit", 2000, 1024, ErrHeaderTooLarge},
		{"many fields", 40 << 10, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			b.WriteString("HTTP/1.1 200 OK\r\n")
			if tt.name == "many fields" {
				for i := 0; b.Len() < tt.size; i++ {
					fmt.Fprintf(&b, "X-F%d: %d\r\n", i, i)
				}
			} else {
				b.WriteString("X-Big: " + strings.Repeat("v", tt.size) + "\r\n")
			}
			b.WriteString("Content-Length: 2\r\n\r\nok")
			srv := newRawServer(t, scripted(b.String(), false))
			p := newPool(t, Options{MaxResponseHeaderBytes: tt.limit})
			r := exchange(t, p, get(srv.host(), "/"))
			if tt.kind != nil {
				if !errors.Is(r.err, tt.kind) {
					t.Fatalf("error %v, want %v", r.err, tt.kind)
				}
				return
			}
			if r.err != nil || r.body != "ok" {
				t.Fatalf("got %v %q", r.err, r.body)
			}
		})
	}
}

// oneShot answers one request per connection with a keep-alive response, then closes
// the connection, telling closed about it.
func oneShot(closed chan<- struct{}) func(net.Conn, *bufio.Reader) {
	return func(c net.Conn, br *bufio.Reader) {
		r, err := readReq(br)
		if err != nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(len(r.Method))+"\r\n\r\n"+r.Method)
		_ = c.Close()
		closed <- struct{}{}
	}
}

func TestServerClosedIdle(t *testing.T) {
	tests := []struct {
		name    string
		req     func(host string) *Request
		accepts int64
	}{
		// An idempotent request finds the dead connection by writing to it and retries.
		{"GET is retried", func(h string) *Request { return get(h, "/") }, 2},
		{"HEAD is retried", func(h string) *Request { return &Request{Method: "HEAD", Scheme: "http", Host: h} }, 2},
		{"POST with Idempotency-Key is retried", func(h string) *Request {
			return &Request{Method: "POST", Scheme: "http", Host: h, Header: http.Header{"Idempotency-Key": {"k"}}}
		}, 2},
		// A request that cannot be retried probes the idle connection first.
		{"POST with body probes first", func(h string) *Request {
			return &Request{Method: "POST", Scheme: "http", Host: h, Body: strings.NewReader("abc"), ContentLength: 3}
		}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			closed := make(chan struct{}, 4)
			srv := newRawServer(t, oneShot(closed))
			p := newPool(t, Options{})
			if r := exchange(t, p, get(srv.host(), "/")); r.err != nil || r.body != "GET" {
				t.Fatalf("first request: %v %q", r.err, r.body)
			}
			<-closed
			if p.IdleConns("http", srv.host()) != 1 {
				t.Fatal("the connection was not pooled")
			}
			req := tt.req(srv.host())
			r := exchange(t, p, req)
			if r.err != nil || r.rerr != nil {
				t.Fatalf("request on a closed idle connection: %v %v", r.err, r.rerr)
			}
			if want := req.Method; want != "HEAD" && r.body != want {
				t.Errorf("body %q, want %q", r.body, want)
			}
			if got := srv.accepts.Load(); got != tt.accepts {
				t.Errorf("connections %d, want %d", got, tt.accepts)
			}
		})
	}
}

func TestNotRetried(t *testing.T) {
	// The server reads the request, then closes without answering: a POST with a body
	// that was sent must not be replayed.
	var count int
	var mu sync.Mutex
	srv := newRawServer(t, func(c net.Conn, br *bufio.Reader) {
		for {
			r, err := readReq(br)
			if err != nil {
				return
			}
			mu.Lock()
			count++
			n := count
			mu.Unlock()
			if r.Method == "POST" || n > 1 {
				return // close without a response
			}
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
		}
	})
	p := newPool(t, Options{})
	if r := exchange(t, p, get(srv.host(), "/")); r.err != nil {
		t.Fatal(r.err)
	}
	r := exchange(t, p, &Request{Method: "POST", Scheme: "http", Host: srv.host(), Body: strings.NewReader("x"), ContentLength: 1})
	if !errors.Is(r.err, ErrConnClosed) {
		t.Fatalf("error %v, want ErrConnClosed", r.err)
	}
	mu.Lock()
	defer mu.Unlock()
	if count != 2 {
		t.Errorf("server saw %d requests, want 2 (no replay)", count)
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 8)
	mux := http.NewServeMux()
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
	})
	mux.HandleFunc("/stall-body", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "10")
		_, _ = io.WriteString(w, "12345")
		w.(http.Flusher).Flush()
		<-release
	})
	srv := newCounted(t, mux, false)
	t.Cleanup(func() { close(release) }) // runs before srv.Close (LIFO)
	p := newPool(t, Options{})
	const d = 150 * time.Millisecond
	tests := []struct {
		name    string
		target  string
		ctx     func() (context.Context, context.CancelFunc)
		useDead bool
		inBody  bool
	}{
		{"deadline waiting for the head", "/hang", nil, true, false},
		{"context deadline waiting for the head", "/hang", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), d)
		}, false, false},
		{"deadline while reading the body", "/stall-body", nil, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.ctx != nil {
				var cancel context.CancelFunc
				ctx, cancel = tt.ctx()
				defer cancel()
			}
			req := get(hostOf(srv.Server), tt.target)
			start := time.Now()
			if tt.useDead {
				req.Deadline = start.Add(d)
			}
			var resp Response
			err := p.Do(ctx, req, &resp)
			if tt.inBody {
				if err != nil {
					t.Fatalf("Do: %v", err)
				}
				_, err = io.ReadAll(&resp)
				_ = resp.Close()
			}
			elapsed := time.Since(start)
			if !errors.Is(err, ErrTimeout) || !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("error %v, want ErrTimeout and os.ErrDeadlineExceeded", err)
			}
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Errorf("error %v is not a net.Error timeout", err)
			}
			if elapsed < d || elapsed > d+2*time.Second {
				t.Errorf("returned after %v, want about %v", elapsed, d)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	srv := newCounted(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
	}), false)
	t.Cleanup(func() { close(release) })
	p := newPool(t, Options{})

	t.Run("cancelled while waiting", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			<-arrived
			cancel()
		}()
		req := get(hostOf(srv.Server), "/")
		req.Deadline = time.Now().Add(time.Minute)
		var resp Response
		err := p.Do(ctx, req, &resp)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
		if errors.Is(err, ErrTimeout) {
			t.Errorf("a cancellation reported as a timeout: %v", err)
		}
	})
	t.Run("cancelled before", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		before := srv.conns.Load()
		var resp Response
		if err := p.Do(ctx, get(hostOf(srv.Server), "/"), &resp); !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
		if srv.conns.Load() != before {
			t.Error("dialed for a cancelled request")
		}
	})
}

func TestCancelAfterResponseDropsConn(t *testing.T) {
	srv := newCounted(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}), false)
	p := newPool(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	var resp Response
	if err := p.Do(ctx, get(hostOf(srv.Server), "/"), &resp); err != nil {
		t.Fatal(err)
	}
	cancel()
	// The body may or may not still be readable; either way the connection, whose
	// deadline the cancellation expired, must not be pooled.
	_, _ = io.ReadAll(&resp)
	_ = resp.Close()
	if n := p.IdleConns("http", hostOf(srv.Server)); n != 0 {
		t.Errorf("idle %d, want 0", n)
	}
	if r := exchange(t, p, get(hostOf(srv.Server), "/")); r.err != nil || r.body != "ok" {
		t.Fatalf("next request: %v %q", r.err, r.body)
	}
}

func TestConnRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host := ln.Addr().String()
	_ = ln.Close()
	p := newPool(t, Options{})
	r := exchange(t, p, get(host, "/"))
	if !errors.Is(r.err, ErrConnRefused) || !errors.Is(r.err, syscall.ECONNREFUSED) {
		t.Fatalf("error %v, want ErrConnRefused", r.err)
	}
	if errors.Is(r.err, ErrTimeout) {
		t.Errorf("refused reported as a timeout")
	}
}

func TestTLS(t *testing.T) {
	srv := newCounted(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.Proto+" "+r.Host)
	}), true)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	host := hostOf(srv.Server)
	tests := []struct {
		name string
		cfg  *tls.Config
		kind error
	}{
		{"test CA", &tls.Config{RootCAs: roots}, nil},
		{"test CA with server name", &tls.Config{RootCAs: roots, ServerName: "example.com"}, nil},
		{"insecure", &tls.Config{InsecureSkipVerify: true}, nil},
		{"unknown authority", &tls.Config{}, ErrTLS},
		{"wrong server name", &tls.Config{RootCAs: roots, ServerName: "other.example"}, ErrTLS},
		{"h2 offered is ignored", &tls.Config{RootCAs: roots, NextProtos: []string{"h2", "http/1.1"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := srv.conns.Load()
			p := newPool(t, Options{TLSConfig: tt.cfg})
			for i := 0; i < 3; i++ {
				r := exchange(t, p, &Request{Scheme: "https", Host: host, Target: "/"})
				if tt.kind != nil {
					if !errors.Is(r.err, tt.kind) {
						t.Fatalf("error %v, want %v", r.err, tt.kind)
					}
					return
				}
				if r.err != nil || r.body != "HTTP/1.1 "+host {
					t.Fatalf("got %v %q", r.err, r.body)
				}
			}
			if got := srv.conns.Load() - before; got != 1 {
				t.Errorf("connections %d, want 1", got)
			}
		})
	}
}

// pattern is an endless deterministic byte stream.
type pattern struct{ i int }

func (p *pattern) Read(b []byte) (int, error) {
	for k := range b {
		b[k] = byte(p.i*7 + p.i>>8)
		p.i++
	}
	return len(b), nil
}

func patternSum(n int64) string {
	h := sha256.New()
	_, _ = io.Copy(h, io.LimitReader(&pattern{}, n))
	return hex.EncodeToString(h.Sum(nil))
}

func TestLargeBodies(t *testing.T) {
	const size = 10 << 20
	want := patternSum(size)
	proceed := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/download", func(w http.ResponseWriter, r *http.Request) {
		src := io.LimitReader(&pattern{}, size)
		_, _ = io.CopyN(w, src, 1<<20)
		w.(http.Flusher).Flush()
		<-proceed // the client has the head and the first bytes before the rest exists
		_, _ = io.Copy(w, src)
	})
	mux.HandleFunc("/upload", func(w http.ResponseWriter, r *http.Request) {
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		fmt.Fprintf(w, "%d %x", n, h.Sum(nil))
	})
	srv := newCounted(t, mux, false)
	p := newPool(t, Options{})

	t.Run("streamed download", func(t *testing.T) {
		var resp Response
		if err := p.Do(context.Background(), get(hostOf(srv.Server), "/download"), &resp); err != nil {
			t.Fatal(err)
		}
		defer resp.Close()
		h := sha256.New()
		if _, err := io.CopyN(h, &resp, 1000); err != nil {
			t.Fatal(err)
		}
		close(proceed)
		buf := make([]byte, 32<<10)
		n, err := io.CopyBuffer(h, &resp, buf)
		if err != nil || n+1000 != size {
			t.Fatalf("read %d, %v", n+1000, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != want {
			t.Error("body differs")
		}
	})
	for _, cl := range []int64{size, -1} {
		t.Run(fmt.Sprintf("upload content-length %d", cl), func(t *testing.T) {
			r := exchange(t, p, &Request{Method: "POST", Scheme: "http", Host: hostOf(srv.Server), Target: "/upload",
				Body: io.LimitReader(&pattern{}, size), ContentLength: cl})
			if r.err != nil || r.body != fmt.Sprintf("%d %s", size, want) {
				t.Fatalf("got %v %q", r.err, r.body)
			}
		})
	}
	if got := srv.conns.Load(); got != 1 {
		t.Errorf("connections %d, want 1", got)
	}
}

func TestExpectContinueRefused(t *testing.T) {
	// The backend answers the head at once with a final status: the body is not sent
	// and the connection is not reused.
	srv := newRawServer(t, func(c net.Conn, br *bufio.Reader) {
		r, err := http.ReadRequest(br)
		if err != nil || r.Header.Get("Expect") != "100-continue" {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 417 Expectation Failed\r\nContent-Length: 4\r\n\r\nnope")
		_, _ = br.ReadByte() // wait for the client to close
	})
	p := newPool(t, Options{})
	r := exchange(t, p, &Request{Method: "PUT", Scheme: "http", Host: srv.host(),
		Header: http.Header{"Expect": {"100-continue"}}, Body: strings.NewReader("data"), ContentLength: 4})
	if r.err != nil || r.status != 417 || r.body != "nope" {
		t.Fatalf("got %v %d %q", r.err, r.status, r.body)
	}
	if n := p.IdleConns("http", srv.host()); n != 0 {
		t.Errorf("idle %d, want 0", n)
	}
}

func TestExpectContinueTimeout(t *testing.T) {
	// A backend that never sends 100 Continue gets the body after ExpectContinueTimeout.
	srv := newRawServer(t, func(c net.Conn, br *bufio.Reader) {
		r, err := readReq(br)
		if err != nil {
			return
		}
		_ = r
		_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	p := newPool(t, Options{ExpectContinueTimeout: 20 * time.Millisecond})
	r := exchange(t, p, &Request{Method: "PUT", Scheme: "http", Host: srv.host(),
		Header: http.Header{"Expect": {"100-continue"}}, Body: strings.NewReader("data"), ContentLength: 4})
	if r.err != nil || r.body != "ok" {
		t.Fatalf("got %v %q", r.err, r.body)
	}
}

func TestBodyNotReadClosesConn(t *testing.T) {
	srv := newCounted(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "hello")
	}), false)
	p := newPool(t, Options{})
	var resp Response
	if err := p.Do(context.Background(), get(hostOf(srv.Server), "/"), &resp); err != nil {
		t.Fatal(err)
	}
	_ = resp.Close()
	if _, err := resp.Read(make([]byte, 1)); err == nil {
		t.Error("Read after Close succeeded")
	}
	if n := p.IdleConns("http", hostOf(srv.Server)); n != 0 {
		t.Errorf("idle %d, want 0", n)
	}
	if r := exchange(t, p, get(hostOf(srv.Server), "/")); r.err != nil || r.body != "hello" {
		t.Fatalf("got %v %q", r.err, r.body)
	}
	if got := srv.conns.Load(); got != 2 {
		t.Errorf("connections %d, want 2", got)
	}
}

func TestIdleExpiry(t *testing.T) {
	srv := newCounted(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}), false)
	host := hostOf(srv.Server)
	p := newPool(t, Options{IdleTimeout: time.Hour})
	age := func() {
		h, _ := p.host("http", host)
		h.mu.Lock()
		for _, c := range h.idle {
			c.idleAt = c.idleAt.Add(-2 * time.Hour)
		}
		h.mu.Unlock()
	}
	t.Run("sweep", func(t *testing.T) {
		if r := exchange(t, p, get(host, "/")); r.err != nil {
			t.Fatal(r.err)
		}
		age()
		h, _ := p.host("http", host)
		h.sweep()
		if n := p.IdleConns("http", host); n != 0 {
			t.Errorf("idle %d after sweep, want 0", n)
		}
	})
	t.Run("expired on get", func(t *testing.T) {
		before := srv.conns.Load()
		if r := exchange(t, p, get(host, "/")); r.err != nil {
			t.Fatal(r.err)
		}
		age()
		if r := exchange(t, p, get(host, "/")); r.err != nil {
			t.Fatal(r.err)
		}
		if got := srv.conns.Load() - before; got != 2 {
			t.Errorf("connections %d, want 2", got)
		}
	})
}

func TestMaxIdlePerHost(t *testing.T) {
	srv := newCounted(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "x")
	}), false)
	p := newPool(t, Options{MaxIdlePerHost: 2})
	resps := make([]Response, 5)
	for i := range resps {
		if err := p.Do(context.Background(), get(hostOf(srv.Server), "/"), &resps[i]); err != nil {
			t.Fatal(err)
		}
	}
	for i := range resps {
		if _, err := io.ReadAll(&resps[i]); err != nil {
			t.Fatal(err)
		}
		_ = resps[i].Close()
	}
	if n := p.IdleConns("http", hostOf(srv.Server)); n != 2 {
		t.Errorf("idle %d, want 2", n)
	}
}

func TestConcurrent(t *testing.T) {
	srv := newCounted(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, r.URL.Query().Get("i"))
	}), false)
	p := newPool(t, Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 64; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			for i := 0; i < 50; i++ {
				want := strconv.Itoa(g*1000 + i)
				var resp Response
				req := get(hostOf(srv.Server), "/?i="+want)
				req.Deadline = time.Now().Add(10 * time.Second)
				if err := p.Do(ctx, req, &resp); err != nil {
					errs <- err
					return
				}
				h := http.Header{}
				resp.Header.CopyTo(h)
				b, err := io.ReadAll(&resp)
				_ = resp.Close()
				if err != nil || string(b) != want {
					errs <- fmt.Errorf("got %q %v, want %q", b, err, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := srv.conns.Load(); n > 64 {
		t.Errorf("%d connections for 64 concurrent clients", n)
	}
}

func TestInvalidRequest(t *testing.T) {
	srv := newCounted(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}), false)
	host := hostOf(srv.Server)
	tests := []struct {
		name string
		req  Request
		kind error
	}{
		{"bad scheme", Request{Scheme: "ftp", Host: host}, ErrInvalidRequest},
		{"empty host", Request{Scheme: "http"}, ErrInvalidRequest},
		{"bad host", Request{Scheme: "http", Host: "a b"}, ErrInvalidRequest},
		{"bad method", Request{Scheme: "http", Host: host, Method: "GE T"}, ErrInvalidRequest},
		{"CRLF in value", Request{Scheme: "http", Host: host, Header: http.Header{"X-A": {"a\r\nX-Injected: 1"}}}, ErrInvalidRequest},
		{"bad field name", Request{Scheme: "http", Host: host, Header: http.Header{"X A": {"a"}}}, ErrInvalidRequest},
		{"length without body", Request{Scheme: "http", Host: host, Method: "POST", ContentLength: 3}, ErrInvalidRequest},
		{"short body", Request{Scheme: "http", Host: host, Method: "POST", Body: strings.NewReader("ab"), ContentLength: 3}, ErrRequestBody},
		{"body error", Request{Scheme: "http", Host: host, Method: "POST",
			Body: http.MaxBytesReader(nil, io.NopCloser(strings.NewReader("abcdef")), 2), ContentLength: -1}, ErrRequestBody},
	}
	p := newPool(t, Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := exchange(t, p, &tt.req)
			if !errors.Is(r.err, tt.kind) {
				t.Fatalf("error %v, want %v", r.err, tt.kind)
			}
			if tt.name == "body error" {
				var mbe *http.MaxBytesError
				if !errors.As(r.err, &mbe) {
					t.Errorf("error %v does not wrap *http.MaxBytesError", r.err)
				}
			}
		})
	}
	// The pool still works.
	if r := exchange(t, p, get(host, "/")); r.err != nil {
		t.Fatal(r.err)
	}
}

func TestCopyTo(t *testing.T) {
	tests := []struct {
		name string
		h    Header
		dst  http.Header
		want http.Header
	}{
		{
			name: "replaces and groups",
			h:    Header{{"Set-Cookie", "a"}, {"Content-Type", "text/plain"}, {"Set-Cookie", "b"}},
			dst:  http.Header{"Content-Type": {"old"}, "X-Kept": {"k"}},
			want: http.Header{"Set-Cookie": {"a", "b"}, "Content-Type": {"text/plain"}, "X-Kept": {"k"}},
		},
		{
			name: "hop-by-hop and connection-listed",
			h: Header{{"Connection", "keep-alive, X-Hop"}, {"Keep-Alive", "timeout=5"}, {"X-Hop", "1"},
				{"Transfer-Encoding", "chunked"}, {"Upgrade", "h2c"}, {"Te", "trailers"}, {"Trailer", "X"},
				{"Proxy-Authenticate", "Basic"}, {"Proxy-Connection", "x"}, {"Content-Length", "3"}},
			dst:  http.Header{},
			want: http.Header{"Content-Length": {"3"}},
		},
		{name: "empty", h: nil, dst: http.Header{}, want: http.Header{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.h.CopyTo(tt.dst)
			if fmt.Sprint(tt.dst) != fmt.Sprint(tt.want) {
				t.Errorf("got %v, want %v", tt.dst, tt.want)
			}
			tt.dst.Add("Set-Cookie", "c") // appending must not write into shared storage
			if len(tt.h) > 0 && tt.h[0].Value != "a" && tt.name == "replaces and groups" {
				t.Error("CopyTo aliases the Header")
			}
		})
	}
	fs := SetField(SetField(SetField(make([]Field, 0, 4), "X-A", "1"), "X-B", "2"), "x-a", "3")
	if fmt.Sprint(fs) != "[{X-A 3} {X-B 2}]" {
		t.Errorf("SetField: %v", fs)
	}
	h := Header{{"Content-Type", "a"}, {"X-B", "1"}, {"X-B", "2"}}
	if h.Get("content-type") != "a" || h.Get("x-missing") != "" || strings.Join(h.Values("X-b"), ",") != "1,2" {
		t.Error("Get/Values")
	}
}

func TestSteadyStateAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under the race detector")
	}
	// A canned server in this process: it allocates nothing per request, so the count
	// is the client's.
	srv := newCannedServer(t, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: Thu, 26 Nov 2026 08:00:00 GMT\r\nContent-Length: 11\r\n\r\n{\"ok\":true}")
	p := newPool(t, Options{})
	req := &Request{Method: "GET", Scheme: "http", Host: srv.host(), Target: "/pets?limit=10",
		Header: http.Header{"Accept": {"application/json"}, "User-Agent": {"test"}, "X-Forwarded-For": {"10.0.0.1"}}}
	resp := new(Response)
	dst := http.Header{}
	buf := make([]byte, 32<<10)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		max  float64
	}{
		// One string for the header block and one []string for CopyTo.
		{"background context", context.Background(), 2},
		// context.AfterFunc's registration adds its own.
		{"cancellable context", ctx, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			allocs := testing.AllocsPerRun(200, func() {
				req.Deadline = time.Now().Add(29 * time.Second)
				if err := p.Do(tc.ctx, req, resp); err != nil {
					t.Fatal(err)
				}
				clear(dst)
				resp.Header.CopyTo(dst)
				if _, err := io.CopyBuffer(sink{}, resp, buf); err != nil {
					t.Fatal(err)
				}
				_ = resp.Close()
			})
			t.Logf("%.1f allocations per request", allocs)
			if allocs > tc.max {
				t.Errorf("%.1f allocations per request, want <= %v", allocs, tc.max)
			}
		})
	}
}

// sink is a writer without ReadFrom, like the data plane's response writer.
type sink struct{}

func (sink) Write(p []byte) (int, error) { return len(p), nil }

func TestExpectContinueInterim(t *testing.T) {
	// The backend sends 103, then 100, then reads the body and answers.
	srv := newRawServer(t, func(c net.Conn, br *bufio.Reader) {
		for {
			r, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			if r.Header.Get("Expect") == "100-continue" {
				_, _ = io.WriteString(c, "HTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n")
			}
			b, err := io.ReadAll(r.Body)
			if err != nil {
				return
			}
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(len(b))+"\r\n\r\n"+string(b))
		}
	})
	p := newPool(t, Options{ExpectContinueTimeout: time.Minute})
	for i := 0; i < 2; i++ {
		r := exchange(t, p, &Request{Method: "PUT", Scheme: "http", Host: srv.host(),
			Header: http.Header{"Expect": {"100-continue"}}, Body: strings.NewReader("data"), ContentLength: 4})
		if r.err != nil || r.status != 200 || r.body != "data" {
			t.Fatalf("got %v %d %q", r.err, r.status, r.body)
		}
		if _, ok := r.header["Link"]; ok {
			t.Error("an interim response's field leaked into the final header")
		}
	}
	if got := srv.accepts.Load(); got != 1 {
		t.Errorf("connections %d, want 1", got)
	}
}

func TestErrorText(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{&Error{Op: "dial", Addr: "a:80", Kind: ErrConnRefused, Err: errors.New("connect: connection refused")}, "upstream: dial a:80: connect: connection refused"},
		{&Error{Op: "read", Addr: "a:80", Kind: ErrHeaderTooLarge}, "upstream: read a:80: upstream: response header too large"},
		{&Error{Op: "write"}, "upstream: write"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("got %q", got)
			}
			if tt.err.Kind != nil && !errors.Is(tt.err, tt.err.Kind) {
				t.Error("errors.Is(err, Kind) is false")
			}
		})
	}
}

func TestEarlyResponse(t *testing.T) {
	// The backend answers 413 after the head and closes without reading the 50 MB body:
	// the write fails, and the response that explains why is returned.
	srv := newRawServer(t, func(c net.Conn, br *bufio.Reader) {
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		_, _ = io.WriteString(c, "HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbig")
	})
	p := newPool(t, Options{})
	for _, cl := range []int64{50 << 20, -1} {
		t.Run(fmt.Sprintf("content-length %d", cl), func(t *testing.T) {
			r := exchange(t, p, &Request{Method: "POST", Scheme: "http", Host: srv.host(),
				Body: io.LimitReader(&pattern{}, 50<<20), ContentLength: cl})
			if r.err != nil || r.status != 413 || r.body != "big" {
				t.Fatalf("got %v %d %q", r.err, r.status, r.body)
			}
		})
	}
}
