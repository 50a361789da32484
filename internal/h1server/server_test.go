package h1server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// testHandler answers by path; the default echoes the request.
func testHandler(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/big":
		_, _ = w.Write([]byte(strings.Repeat("x", 10000)))
	case "/cl":
		w.Header().Set("Content-Length", "10000")
		_, _ = w.Write([]byte(strings.Repeat("y", 10000)))
	case "/flush":
		_, _ = io.WriteString(w, "a")
		w.(http.Flusher).Flush()
		_, _ = io.WriteString(w, "b")
	case "/nocontent":
		w.WriteHeader(http.StatusNoContent)
	case "/panic":
		panic("boom")
	case "/abort":
		panic(http.ErrAbortHandler)
	case "/early":
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		_, _ = io.WriteString(w, "ok")
	case "/ignore-body":
		_, _ = io.WriteString(w, "ignored")
	case "/ctx":
		la, _ := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
		fmt.Fprintf(w, "local=%v remote=%v tls=%v", la != nil, r.RemoteAddr != "", r.TLS != nil)
	default:
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "%s %s host=%s proto=%s cl=%d te=%v q=%s ua=%s body=%s",
			r.Method, r.RequestURI, r.Host, r.Proto, r.ContentLength, r.TransferEncoding,
			r.URL.Query().Get("q"), r.Header.Get("User-Agent"), b)
	}
}

func TestClient(t *testing.T) {
	srv := &Server{Handler: http.HandlerFunc(testHandler), ReadHeaderTimeout: 5 * time.Second}
	addr := start(t, srv, nil)
	c := client(t, nil)
	base := "http://" + addr
	for _, tc := range []struct {
		name     string
		method   string
		path     string
		body     io.Reader
		length   int64 // request ContentLength; -1 sends chunked
		status   int
		want     string
		clen     int64 // response ContentLength (-1: computed when small, -2: chunked)
		wantType string
	}{
		{"get", "GET", "/pets?q=1", nil, 0, 200, "GET /pets?q=1 host=" + addr + " proto=HTTP/1.1 cl=0 te=[] q=1 ua=Go-http-client/1.1 body=", -1, "text/plain"},
		{"post content-length", "POST", "/p", strings.NewReader("hello"), 5, 200, "POST /p host=" + addr + " proto=HTTP/1.1 cl=5 te=[] q= ua=Go-http-client/1.1 body=hello", -1, ""},
		{"post chunked", "POST", "/p", io.MultiReader(strings.NewReader("hel"), strings.NewReader("lo")), -1, 200, "POST /p host=" + addr + " proto=HTTP/1.1 cl=-1 te=[chunked] q= ua=Go-http-client/1.1 body=hello", -1, ""},
		{"big body is chunked", "GET", "/big", nil, 0, 200, strings.Repeat("x", 10000), -1, "text/plain; charset=utf-8"},
		{"handler content-length", "GET", "/cl", nil, 0, 200, strings.Repeat("y", 10000), 10000, ""},
		{"flush", "GET", "/flush", nil, 0, 200, "ab", -2, ""},
		{"no content", "GET", "/nocontent", nil, 0, 204, "", 0, ""},
		{"head", "HEAD", "/big", nil, 0, 200, "", -1, ""},
		{"context", "GET", "/ctx", nil, 0, 200, "local=true remote=true tls=false", -1, ""},
		{"unread body", "PUT", "/ignore-body", strings.NewReader(strings.Repeat("z", 100000)), 100000, 200, "ignored", -1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, base+tc.path, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			req.ContentLength = tc.length
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status || string(b) != tc.want {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, b, tc.status, tc.want)
			}
			// Small bodies get a computed Content-Length.
			if wantCL := tc.clen; wantCL == -1 && len(tc.want) > 0 && len(tc.want) <= respBufSize {
				if resp.ContentLength != int64(len(tc.want)) {
					t.Errorf("ContentLength %d, want %d", resp.ContentLength, len(tc.want))
				}
			} else if tc.clen >= 0 && resp.ContentLength != tc.clen {
				t.Errorf("ContentLength %d, want %d", resp.ContentLength, tc.clen)
			}
			if (tc.clen == -2 || tc.path == "/big" && tc.method == "GET") && (len(resp.TransferEncoding) != 1 || resp.TransferEncoding[0] != "chunked") {
				t.Errorf("TransferEncoding %v, want chunked", resp.TransferEncoding)
			}
			if tc.wantType != "" && resp.Header.Get("Content-Type") != tc.wantType {
				t.Errorf("Content-Type %q, want %q", resp.Header.Get("Content-Type"), tc.wantType)
			}
			if resp.Header.Get("Date") == "" {
				t.Error("no Date")
			}
		})
	}
}

func TestKeepAlive(t *testing.T) {
	var conns atomic.Int64
	srv := &Server{Handler: http.HandlerFunc(testHandler), ConnContext: func(ctx context.Context, _ net.Conn) context.Context {
		conns.Add(1)
		return ctx
	}}
	addr := start(t, srv, nil)
	c := client(t, nil)
	for i := 0; i < 20; i++ {
		method, body := "GET", io.Reader(nil)
		if i%2 == 1 {
			method, body = "POST", strings.NewReader("x")
		}
		req, _ := http.NewRequest(method, "http://"+addr+"/ignore-body", body)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections for 20 requests, want 1", n)
	}
}

// TestRaw sends requests on a raw socket: each step is written, the responses read in
// order, and then whether the server closed the connection is checked.
func TestRaw(t *testing.T) {
	srv := &Server{Handler: http.HandlerFunc(testHandler), MaxHeaderBytes: 1 << 10, ErrorLog: nil}
	addr := start(t, srv, nil)
	type resp struct {
		status int
		body   string
		hdr    map[string]string
	}
	get := "GET / HTTP/1.1\r\nHost: h\r\n\r\n"
	for _, tc := range []struct {
		name   string
		send   string
		want   []resp
		closed bool
	}{
		{"keep-alive, two requests pipelined", get + get, []resp{{200, "GET / host=h proto=HTTP/1.1 cl=0 te=[] q= ua= body=", nil}, {status: 200}}, false},
		{"connection close", "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", []resp{{200, "", map[string]string{"Connection": "close"}}}, true},
		{"http/1.0", "GET / HTTP/1.0\r\n\r\n", []resp{{200, "GET / host= proto=HTTP/1.0 cl=0 te=[] q= ua= body=", map[string]string{"Connection": "close"}}}, true},
		{"http/1.0 keep-alive", "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" + get, []resp{{200, "", map[string]string{"Connection": "keep-alive"}}, {status: 200}}, false},
		{"http/1.0 big body ends with close", "GET /big HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", []resp{{200, strings.Repeat("x", 10000), nil}}, true},
		{"lf only", "GET /?q=lf HTTP/1.1\nHost: h\n\n", []resp{{200, "GET /?q=lf host=h proto=HTTP/1.1 cl=0 te=[] q=lf ua= body=", nil}}, false},
		{"header names canonicalised", "POST /x HTTP/1.1\r\nhost: h\r\nuser-agent: raw\r\ncontent-length: 2\r\n\r\nhi", []resp{{200, "POST /x host=h proto=HTTP/1.1 cl=2 te=[] q= ua=raw body=hi", nil}}, false},
		{"chunked with trailer", "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n" + get, []resp{{200, "POST /c host=h proto=HTTP/1.1 cl=-1 te=[chunked] q= ua= body=abc", nil}, {status: 200}}, false},
		{"unread body drained", "POST /ignore-body HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello" + get, []resp{{200, "ignored", nil}, {status: 200}}, false},
		{"absolute-form", "GET http://example.com/a?q=2 HTTP/1.1\r\nHost: other\r\n\r\n", []resp{{200, "GET http://example.com/a?q=2 host=example.com proto=HTTP/1.1 cl=0 te=[] q=2 ua= body=", nil}}, false},
		{"early hints", "GET /early HTTP/1.1\r\nHost: h\r\n\r\n" + get, []resp{{103, "", map[string]string{"Link": "</style.css>; rel=preload"}}, {200, "ok", map[string]string{"Link": "</style.css>; rel=preload", "Content-Length": "2"}}, {status: 200}}, false},
		{"head", "HEAD /big HTTP/1.1\r\nHost: h\r\n\r\n" + get, []resp{{200, "", map[string]string{"Content-Length": "10000"}}, {status: 200}}, false},
		{"no content", "GET /nocontent HTTP/1.1\r\nHost: h\r\n\r\n" + get, []resp{{204, "", nil}, {status: 200}}, false},
		{"unknown expectation", "GET / HTTP/1.1\r\nHost: h\r\nExpect: magic\r\n\r\n", []resp{{status: 417}}, true},
		{"panic", "GET /panic HTTP/1.1\r\nHost: h\r\n\r\n" + get, []resp{{500, "500 Internal Server Error", map[string]string{"Connection": "close"}}}, true},
		{"abort handler", "GET /abort HTTP/1.1\r\nHost: h\r\n\r\n", []resp{{status: 500}}, true},
		{"http/2 version", "GET / HTTP/2.0\r\nHost: h\r\n\r\n", []resp{{status: 505}}, true},
		{"header too large", "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + strings.Repeat("a", 6000) + "\r\n\r\n", []resp{{status: 431}}, true},
		{"many headers too large", "GET / HTTP/1.1\r\nHost: h\r\n" + strings.Repeat("X-A: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", 200) + "\r\n", []resp{{status: 431}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, addr)
			if _, err := io.WriteString(c, tc.send); err != nil {
				t.Fatal(err)
			}
			for i, w := range tc.want {
				req := &http.Request{Method: "GET"}
				if i == 0 && strings.HasPrefix(tc.send, "HEAD ") {
					req.Method = "HEAD"
				}
				r, err := http.ReadResponse(c.br, req)
				if err != nil {
					t.Fatalf("response %d: %v", i, err)
				}
				b, err := io.ReadAll(r.Body)
				if err != nil {
					t.Fatalf("response %d body: %v", i, err)
				}
				if r.StatusCode != w.status || (w.body != "" && string(b) != w.body) {
					t.Fatalf("response %d: %d %q, want %d %q", i, r.StatusCode, b, w.status, w.body)
				}
				for k, v := range w.hdr {
					if k == "Connection" && v == "close" {
						if !r.Close {
							t.Errorf("response %d: no Connection: close", i)
						}
						continue
					}
					if got := r.Header.Get(k); got != v {
						t.Errorf("response %d: %s %q, want %q", i, k, got, v)
					}
				}
			}
			wait := 200 * time.Millisecond
			if tc.closed {
				wait = 5 * time.Second
			}
			if got := c.closedByPeer(wait); got != tc.closed {
				t.Fatalf("closed %v, want %v", got, tc.closed)
			}
		})
	}
}

func TestBadRequests(t *testing.T) {
	srv := &Server{Handler: http.HandlerFunc(testHandler)}
	addr := start(t, srv, nil)
	for _, tc := range []struct {
		name, send string
		status     int
	}{
		{"garbage", "hello\r\n\r\n", 400},
		{"no version", "GET /\r\n\r\n", 400},
		{"bad version", "GET / HTTP/1.x\r\nHost: h\r\n\r\n", 400},
		{"space in target", "GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", 400},
		{"bad method", "G(T / HTTP/1.1\r\nHost: h\r\n\r\n", 400},
		{"missing host", "GET / HTTP/1.1\r\n\r\n", 400},
		{"two hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
		{"bad host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
		{"no colon", "GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", 400},
		{"space before colon", "GET / HTTP/1.1\r\nHost: h\r\nX-A : b\r\n\r\n", 400},
		{"obs-fold", "GET / HTTP/1.1\r\nHost: h\r\nX-A: b\r\n c\r\n\r\n", 400},
		{"control in value", "GET / HTTP/1.1\r\nHost: h\r\nX-A: b\x01c\r\n\r\n", 400},
		{"bad content-length", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1x\r\n\r\n", 400},
		{"negative content-length", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", 400},
		{"conflicting content-length", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400},
		{"te and cl", "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
		{"unknown te", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
		{"bad target", "GET %zz HTTP/1.1\r\nHost: h\r\n\r\n", 400},
		{"bad chunk", "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, addr)
			if _, err := io.WriteString(c, tc.send); err != nil {
				t.Fatal(err)
			}
			r, err := http.ReadResponse(c.br, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, r.Body)
			if r.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", r.StatusCode, tc.status)
			}
			if !c.closedByPeer(5 * time.Second) {
				t.Fatal("connection kept open")
			}
		})
	}
}

func TestExpectContinue(t *testing.T) {
	srv := &Server{Handler: http.HandlerFunc(testHandler)}
	addr := start(t, srv, nil)
	t.Run("handler reads body", func(t *testing.T) {
		c := dialRaw(t, addr)
		_, _ = io.WriteString(c, "PUT /e HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
		line, err := c.br.ReadString('\n')
		if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
			t.Fatalf("interim %q, %v", line, err)
		}
		if blank, _ := c.br.ReadString('\n'); blank != "\r\n" {
			t.Fatalf("after interim %q", blank)
		}
		_, _ = io.WriteString(c, "data")
		r, err := http.ReadResponse(c.br, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		if !strings.HasSuffix(string(b), "body=data") {
			t.Fatalf("body %q", b)
		}
		if c.closedByPeer(200 * time.Millisecond) {
			t.Fatal("closed")
		}
	})
	t.Run("handler ignores body", func(t *testing.T) {
		c := dialRaw(t, addr)
		_, _ = io.WriteString(c, "PUT /ignore-body HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
		r, err := http.ReadResponse(c.br, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.StatusCode != 200 || !r.Close {
			t.Fatalf("%d, close %v", r.StatusCode, r.Close)
		}
	})
	t.Run("net/http client", func(t *testing.T) {
		c := client(t, nil)
		c.Transport.(*http.Transport).ExpectContinueTimeout = 5 * time.Second
		req, _ := http.NewRequest("PUT", "http://"+addr+"/e", strings.NewReader("payload"))
		req.Header.Set("Expect", "100-continue")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if !strings.HasSuffix(string(b), "body=payload") {
			t.Fatalf("body %q", b)
		}
	})
}

func TestTimeouts(t *testing.T) {
	srv := &Server{Handler: http.HandlerFunc(testHandler), ReadHeaderTimeout: 100 * time.Millisecond, IdleTimeout: 300 * time.Millisecond}
	addr := start(t, srv, nil)
	for _, tc := range []struct {
		name string
		send string
		min  time.Duration
	}{
		{"slow loris header", "GET / HTTP/1.1\r\nHost: h\r\nX-Slow: ", 100 * time.Millisecond},
		{"idle", "", 300 * time.Millisecond},
		{"idle after request", "GET / HTTP/1.1\r\nHost: h\r\n\r\n", 300 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := dialRaw(t, addr)
			t0 := time.Now()
			if tc.send != "" {
				_, _ = io.WriteString(c, tc.send)
			}
			if strings.HasSuffix(tc.send, "\r\n\r\n") {
				r, err := http.ReadResponse(c.br, nil)
				if err != nil {
					t.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, r.Body)
				t0 = time.Now()
			}
			if !c.closedByPeer(5 * time.Second) {
				t.Fatal("not closed")
			}
			if d := time.Since(t0); d < tc.min-20*time.Millisecond || d > 3*time.Second {
				t.Fatalf("closed after %v, want about %v", d, tc.min)
			}
		})
	}
	t.Run("body has no deadline", func(t *testing.T) {
		c := dialRaw(t, addr)
		_, _ = io.WriteString(c, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\na")
		time.Sleep(500 * time.Millisecond) // longer than both timeouts: the body read must wait
		_, _ = io.WriteString(c, "b")
		r, err := http.ReadResponse(c.br, nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		if !strings.HasSuffix(string(b), "body=ab") {
			t.Fatalf("body %q", b)
		}
	})
}

// TestConnContextNotCancellable: the connection's context carries the local address and
// has no Done channel, so that outgoing calls made with it need not watch it.
func TestConnContextNotCancellable(t *testing.T) {
	got := make(chan context.Context, 1)
	srv := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Context()
	})}
	addr := start(t, srv, nil)
	c := dialRaw(t, addr)
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	ctx := <-got
	if _, err := http.ReadResponse(c.br, nil); err != nil {
		t.Fatal(err)
	}
	if ctx.Done() != nil {
		t.Fatal("the connection's context can be cancelled")
	}
	if la, ok := ctx.Value(http.LocalAddrContextKey).(net.Addr); !ok || la.String() != addr {
		t.Fatalf("LocalAddrContextKey = %v, want %s", ctx.Value(http.LocalAddrContextKey), addr)
	}
}

func TestShutdown(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	srv := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(entered)
			<-release
		}
		_, _ = io.WriteString(w, "done")
	})}
	addr := start(t, srv, nil)

	idle := dialRaw(t, addr)
	_, _ = io.WriteString(idle, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	if r, err := http.ReadResponse(idle.br, nil); err != nil {
		t.Fatal(err)
	} else {
		_, _ = io.Copy(io.Discard, r.Body)
	}
	busy := dialRaw(t, addr)
	_, _ = io.WriteString(busy, "GET /slow HTTP/1.1\r\nHost: h\r\n\r\n")
	<-entered

	shut := make(chan error, 1)
	go func() { shut <- srv.Shutdown(context.Background()) }()
	if !idle.closedByPeer(5 * time.Second) {
		t.Fatal("idle connection not closed")
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a request in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Error("still accepting")
	}
	close(release)
	r, err := http.ReadResponse(busy.br, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	if string(b) != "done" || !r.Close {
		t.Fatalf("in-flight response %q, close %v", b, r.Close)
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

func TestShutdownDeadline(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	defer close(release)
	srv := &Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
	})}
	addr := start(t, srv, nil)
	c := dialRaw(t, addr)
	_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
	<-entered
	if err := srv.Shutdown(ctxWithTimeout(t, 50*time.Millisecond)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v, want deadline exceeded", err)
	}
}

func TestTLS(t *testing.T) {
	scfg, ccfg := testTLSConfig(t)
	srv := &Server{Handler: http.HandlerFunc(testHandler), ReadHeaderTimeout: 5 * time.Second}
	addr := start(t, srv, scfg)
	c := client(t, ccfg)
	c.Transport.(*http.Transport).ForceAttemptHTTP2 = true
	for i := 0; i < 3; i++ {
		resp, err := c.Get("https://" + addr + "/ctx")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.ProtoMajor != 1 || string(b) != "local=true remote=true tls=true" {
			t.Fatalf("%s %q", resp.Proto, b)
		}
	}
	t.Run("h2 only client is refused", func(t *testing.T) {
		cfg := ccfg.Clone()
		cfg.NextProtos = []string{"h2"}
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		tc := tlsClient(conn, cfg)
		if err := tc.Handshake(); err == nil {
			_, _ = io.WriteString(tc, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
			if _, err := bufio.NewReader(tc).ReadByte(); err == nil {
				t.Fatal("served a client that negotiated nothing but h2")
			}
		}
	})
}
