package vpclink

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"gatehouse/internal/upstream"
)

// testTransport adapts Route.Do, the data plane's path, to http.RoundTripper, so that the
// tests and benchmarks drive links with net/http requests.
func (r *Route) testTransport(o TLSOptions) http.RoundTripper { return doTransport{r, o} }

type doTransport struct {
	r *Route
	o TLSOptions
}

func (t doTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	ur := &upstream.Request{Method: req.Method, Scheme: req.URL.Scheme, Host: host, Target: req.URL.RequestURI(), Header: req.Header}
	if req.Body != nil && req.Body != http.NoBody {
		ur.Body, ur.ContentLength = req.Body, req.ContentLength
		if ur.ContentLength == 0 {
			ur.ContentLength = -1 // unknown: chunked
		}
	}
	resp := new(upstream.Response)
	done, fixed, err := t.r.Do(req.Context(), t.o, ur, resp)
	if err != nil {
		return nil, err
	}
	out := &http.Response{Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: http.Header{}, Request: req}
	if fixed != nil {
		code, err := strconv.Atoi(fixed.StatusCode)
		if err != nil {
			code = http.StatusServiceUnavailable
		}
		if fixed.ContentType != "" {
			out.Header.Set("Content-Type", fixed.ContentType)
		}
		out.StatusCode, out.ContentLength = code, int64(len(fixed.MessageBody))
		out.Body = io.NopCloser(strings.NewReader(fixed.MessageBody))
	} else {
		resp.Header.CopyTo(out.Header)
		out.StatusCode, out.ContentLength = resp.StatusCode, resp.ContentLength
		out.Body = &doBody{resp: resp, done: sync.OnceFunc(done)}
	}
	out.Status = strconv.Itoa(out.StatusCode) + " " + http.StatusText(out.StatusCode)
	return out, nil
}

// doBody reads an upstream response; Close returns its connection and ends the
// target's in-flight count.
type doBody struct {
	resp *upstream.Response
	done func()
}

func (b *doBody) Read(p []byte) (int, error) { return b.resp.Read(p) }

func (b *doBody) Close() error {
	err := b.resp.Close()
	b.done()
	return err
}
