package upstream

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// result is what one exchange produced.
type result struct {
	status int
	resp   Response // head only (Header is copied into header)
	header http.Header
	body   string
	err    error // from Do
	rerr   error // from reading the body
}

// exchange runs req through p, reads the whole body and closes the response.
func exchange(t *testing.T, p *Pool, req *Request) result {
	t.Helper()
	return exchangeCtx(t, context.Background(), p, req)
}

func exchangeCtx(t *testing.T, ctx context.Context, p *Pool, req *Request) result {
	t.Helper()
	var resp Response
	err := p.Do(ctx, req, &resp)
	if err != nil {
		var ue *Error
		if !errors.As(err, &ue) {
			t.Fatalf("Do error %v (%T) is not an *Error", err, err)
		}
		return result{err: err}
	}
	r := result{status: resp.StatusCode, header: http.Header{}}
	resp.Header.CopyTo(r.header)
	r.resp = resp
	b, rerr := io.ReadAll(&resp)
	r.body, r.rerr = string(b), rerr
	if err := resp.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return r
}

// newPool returns a pool whose idle connections are closed when the test ends.
func newPool(t testing.TB, opts Options) *Pool {
	t.Helper()
	p := New(opts)
	t.Cleanup(p.CloseIdle)
	return p
}

// counted is an httptest server that counts the connections it accepted.
type counted struct {
	*httptest.Server
	conns atomic.Int64
}

func newCounted(t testing.TB, h http.Handler, tls bool) *counted {
	t.Helper()
	s := &counted{Server: httptest.NewUnstartedServer(h)}
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	if tls {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

// hostOf returns the host:port of a test server.
func hostOf(s *httptest.Server) string {
	return strings.TrimPrefix(strings.TrimPrefix(s.URL, "http://"), "https://")
}

// rawServer is a TCP server scripted per connection, for responses net/http would not
// produce.
type rawServer struct {
	ln      net.Listener
	accepts atomic.Int64
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   []net.Conn
}

// newRawServer serves each connection with fn in its own goroutine; the connection is
// closed when fn returns.
func newRawServer(t testing.TB, fn func(c net.Conn, br *bufio.Reader)) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepts.Add(1)
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				fn(c, bufio.NewReader(c))
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		s.mu.Lock()
		for _, c := range s.conns {
			_ = c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func (s *rawServer) host() string { return s.ln.Addr().String() }

// readReq reads one request (head and body) from br.
func readReq(br *bufio.Reader) (*http.Request, error) {
	r, err := http.ReadRequest(br)
	if err != nil {
		return nil, err
	}
	_, err = io.Copy(io.Discard, r.Body)
	return r, err
}

// scripted answers every request on a connection with resp; it stops (closing the
// connection) after the first answer unless keep is set.
func scripted(resp string, keep bool) func(net.Conn, *bufio.Reader) {
	return func(c net.Conn, br *bufio.Reader) {
		for {
			if _, err := readReq(br); err != nil {
				return
			}
			if _, err := io.WriteString(c, resp); err != nil || !keep {
				return
			}
		}
	}
}

// waitFor polls cond until it holds or the time runs out.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func get(host, target string) *Request {
	return &Request{Method: "GET", Scheme: "http", Host: host, Target: target}
}

// newCannedServer answers every request (which must have no body) on every connection
// with resp, allocating nothing per request.
func newCannedServer(t testing.TB, resp string) *rawServer {
	t.Helper()
	out := []byte(resp)
	return newRawServer(t, func(c net.Conn, _ *bufio.Reader) {
		buf := make([]byte, 16<<10)
		n := 0
		for {
			m, err := c.Read(buf[n:])
			if err != nil {
				return
			}
			n += m
			for {
				i := bytes.Index(buf[:n], []byte("\r\n\r\n"))
				if i < 0 {
					break
				}
				if _, err := c.Write(out); err != nil {
					return
				}
				n = copy(buf, buf[i+4:n])
			}
			if n == len(buf) {
				return
			}
		}
	})
}
