package upstream

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// fakeConn is a connection whose backend "sends" a fixed byte string and swallows
// whatever it is sent.
type fakeConn struct {
	r *bytes.Reader
}

func (f *fakeConn) Read(p []byte) (int, error)       { return f.r.Read(p) }
func (f *fakeConn) Write(p []byte) (int, error)      { return len(p), nil }
func (f *fakeConn) Close() error                     { return nil }
func (f *fakeConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (f *fakeConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (f *fakeConn) SetDeadline(time.Time) error      { return nil }
func (f *fakeConn) SetReadDeadline(time.Time) error  { return nil }
func (f *fakeConn) SetWriteDeadline(time.Time) error { return nil }
func fakeDialer(data []byte) func(context.Context, string, string) (net.Conn, error) {
	return func(context.Context, string, string) (net.Conn, error) {
		return &fakeConn{r: bytes.NewReader(data)}, nil
	}
}

// FuzzResponse feeds arbitrary bytes to the response parser as a backend's answer to a
// GET and to a HEAD: no panic, no hang, only *Error failures, sane results.
func FuzzResponse(f *testing.F) {
	seeds := []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
		"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.0 200 OK\r\n\r\nuntil close",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: v\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: <x>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		"HTTP/1.1 200 OK\nX-Fold: a\n b\nConnection: close, X-Fold\n\nbody",
		"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
		"HTTP/1.1 101 Switching Protocols\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
		"HTTP/1.1 999 X\r\nContent-Length: 18446744073709551616\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffff\r\n",
		"\r\n\r\n",
		"",
	}
	for _, s := range seeds {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, head bool) {
		p := New(Options{DialContext: fakeDialer(data), MaxResponseHeaderBytes: 4096, ReadBufferSize: 256})
		defer p.CloseIdle()
		method := "GET"
		if head {
			method = "HEAD"
		}
		for i := 0; i < 2; i++ { // the second exchange may reuse the connection
			var resp Response
			err := p.Do(context.Background(), &Request{Method: method, Scheme: "http", Host: "backend"}, &resp)
			if err != nil {
				var ue *Error
				if !errors.As(err, &ue) {
					t.Fatalf("error %v (%T) is not an *Error", err, err)
				}
				return
			}
			if resp.StatusCode < 200 || resp.StatusCode > 999 || resp.StatusCode == 101 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			for _, fl := range resp.Header {
				if fl.Name == "" || !validToken(fl.Name) || !validValue(fl.Value) {
					t.Fatalf("bad field %q: %q", fl.Name, fl.Value)
				}
			}
			n, err := io.Copy(io.Discard, &resp)
			if n > int64(len(data)) {
				t.Fatalf("read %d body bytes from %d input bytes", n, len(data))
			}
			if err != nil {
				var ue *Error
				if !errors.As(err, &ue) {
					t.Fatalf("body error %v (%T) is not an *Error", err, err)
				}
			}
			if resp.ContentLength >= 0 && err == nil && !head && n != resp.ContentLength && resp.StatusCode != 204 && resp.StatusCode != 304 {
				t.Fatalf("read %d bytes, Content-Length %d", n, resp.ContentLength)
			}
			_ = resp.Close()
		}
	})
}
