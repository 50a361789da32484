package upstream_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"gatehouse/internal/upstream"
)

// slot is per-request state kept in a sync.Pool (the data plane's pooled request
// struct): with Request, Response and the Extra array in it, a round trip allocates
// only the response header's string and value slices.
type slot struct {
	req   upstream.Request
	resp  upstream.Response
	extra [4]upstream.Field
	buf   [32 << 10]byte
}

// omitted must be a package-level slice: a literal in the handler would allocate.
var omitted = []string{"X-Apigw-Api-Id"}

// forward is an HTTP_PROXY integration on a Pool: the client's header is forwarded
// without copying it (hop-by-hop fields stripped by the Pool), X-Forwarded-For replaced
// through Extra, the backend's end-to-end fields copied into the client's header map.
func forward(pool *upstream.Pool, s *slot, w http.ResponseWriter, r *http.Request, backend string, timeout time.Duration) {
	xff, _, _ := net.SplitHostPort(r.RemoteAddr)
	if prior := r.Header["X-Forwarded-For"]; len(prior) > 0 {
		xff = strings.Join(prior, ", ") + ", " + xff
	}
	s.req = upstream.Request{
		Method: r.Method, Scheme: "http", Host: backend, Target: r.RequestURI,
		Header: r.Header, StripHopByHop: true, Omit: omitted,
		Extra:    upstream.SetField(s.extra[:0], "X-Forwarded-For", xff),
		Deadline: time.Now().Add(timeout),
	}
	if r.ContentLength != 0 {
		s.req.Body = http.MaxBytesReader(nil, r.Body, 10<<20)
		s.req.ContentLength = r.ContentLength // -1: chunked
	}
	if err := pool.Do(r.Context(), &s.req, &s.resp); err != nil {
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			http.Error(w, "Request Too Long", http.StatusRequestEntityTooLarge)
		case errors.Is(err, upstream.ErrTimeout):
			http.Error(w, "Endpoint request timed out", http.StatusGatewayTimeout)
		default: // ErrConnRefused, ErrMalformedResponse, ErrTLS, context.Canceled, ...
			http.Error(w, "Internal server error", http.StatusBadGateway)
		}
		return
	}
	defer s.resp.Close()
	s.resp.Header.CopyTo(w.Header())
	w.WriteHeader(s.resp.StatusCode)
	_, _ = io.CopyBuffer(w, &s.resp, s.buf[:])
}

func Example() {
	pool := upstream.New(upstream.Options{}) // per-backend keep-alive pools
	defer pool.CloseIdle()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		forward(pool, new(slot), w, r, "127.0.0.1:8080", 29*time.Second)
	})
	_ = h
}
