// Package h1server is the data plane's HTTP/1.1 server loop: it runs an ordinary
// http.Handler on plain-TCP and TLS (ALPN http/1.1 only) listeners with much less
// per-request work than net/http's server.
//
// It exists for the same reason as internal/upstream: in the profile of gatehouse mode (a)
// (bench/RESULTS.md, "Where the time goes") net/http's server took about 45% of the
// proxy's CPU per request — the response flush (22%), conn.serve's bookkeeping (14%: a
// background-read goroutine and an EAGAIN read per request, read/write deadline resets,
// connection state, a context.WithCancel per request) and request parsing (8.5%). Here a
// connection is one goroutine that, per request: waits for the first byte with one
// SetReadDeadline (the idle timeout; the header timeout is armed only when the head did
// not arrive in the first read), parses the head from the connection's pooled
// bufio.Reader into the connection's reused *http.Request (one string for the whole head,
// one []string backing for the values), runs the handler inline, and writes the response
// head and a body that fits the 4 KiB response buffer with one write.
//
// # Use
//
//	srv := &h1server.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second,
//		IdleTimeout: 310 * time.Second, MaxHeaderBytes: 16 << 10, ErrorLog: log}
//	go srv.Serve(tls.NewListener(l, cfg)) // cfg.NextProtos = []string{"http/1.1"}
//	...
//	err := srv.Shutdown(ctx) // stop accepting, close idle conns, wait for active ones
//
// # Behaviour
//
//   - Requests: HTTP/1.0 and HTTP/1.1 (other versions: 505). Request line and header
//     fields are validated (token method and names, no CTL in values, no obs-fold, one
//     Host, required for HTTP/1.1); anything invalid is 400 and the connection is closed.
//     The head (request line and fields) is limited to MaxHeaderBytes (default 1 MiB) +
//     4096 bytes, as in net/http; beyond it: 431 and close. URL is
//     url.ParseRequestURI of the request-target (CONNECT authority-form as net/http);
//     RequestURI is the raw target, so "URI too long" is the handler's decision.
//     Header names are canonicalised; Host is moved to Request.Host.
//   - Bodies: Content-Length, chunked (trailer discarded) or http.NoBody. Both framing
//     fields, several differing Content-Lengths, or a transfer coding other than chunked:
//     400 (501 for an unknown coding). "Expect: 100-continue" writes "100 Continue" when
//     the handler first reads the body; other expectations: 417.
//   - Keep-alive: HTTP/1.1 unless "Connection: close"; HTTP/1.0 only with
//     "Connection: keep-alive" (answered with "Connection: keep-alive"). One request at a
//     time; pipelined requests are read after the previous response is written.
//   - Responses: always "HTTP/1.1". Date is added; Content-Type is sniffed when absent,
//     as net/http does. Content-Length is the handler's, or computed when the whole body
//     fits the 4 KiB response buffer at handler return (HEAD: the length the handler
//     wrote, if any); otherwise chunked (HTTP/1.0: delimited by close). 1xx codes other than 101
//     are written at once; 204 and 304 have no body (Write returns
//     http.ErrBodyNotAllowed). http.Flusher is supported; http.Hijacker, trailers and
//     HTTP/2 are not.
//   - After the handler: up to 256 KiB of an unread request body is discarded to keep
//     the connection; beyond that, or when 100-continue was expected but never sent, the
//     response carries "Connection: close". A handler that panics gets a 500 (if nothing
//     was written yet) and its connection closed; the panic is logged unless it is
//     http.ErrAbortHandler.
//   - Contexts: one context per connection (ConnContext, with http.LocalAddrContextKey),
//     never cancelled: handlers run on the connection's goroutine, so the connection
//     cannot end while one runs, and outgoing calls need not watch a context that has no
//     Done channel. There is no per-request context and no background read: a client
//     that disconnects mid-request is noticed when the response is written, not while
//     the handler waits (integrations end at their own deadlines).
//   - Timeouts: IdleTimeout (default ReadHeaderTimeout) while waiting for a request,
//     ReadHeaderTimeout for the head once it started (and the TLS handshake). Reading a
//     body has no deadline, as with net/http without ReadTimeout; there is no write
//     deadline.
//   - Reuse: the *http.Request, its Body and the ResponseWriter (and its Header map) are
//     reused for the connection's next request: handlers must not keep them after they
//     return (net/http's contract; here it is enforced by reuse). Request header maps and
//     strings are fresh per request and may be kept.
//
// Not supported: HTTP/2 (serve it with net/http, or keep ALPN at http/1.1), protocol
// upgrades and http.Hijacker (WebSocket), response trailers, request pipelining
// concurrency (requests on a connection are served one after the other),
// http.ServerContextKey, per-request cancellation on client disconnect, ConnState hooks.
//
// # Figures
//
// Measured on the project's machine (2 vCPUs, AMD EPYC, shared with other work; load
// average 2.5-4), go1.26.8. The load generator is net/http's client in a child process,
// 64 keep-alive connections, GET with a 101-byte JSON answer from a trivial handler;
// cpu-ns/op is the server process's utime+stime from getrusage ÷ requests (the figure
// bench/ reports as CPU µs/req), 7 runs each, alternating:
//
//	go test -run '^$' -bench 'H1Server|NetHTTP' -benchtime 60000x -count 4 ./internal/h1server
//
//	server                 CPU µs/req (median, range)   user        sys        allocs  B/op
//	net/http (app.serve)       15.7 (14.9-18.5)        7.2-8.5     7.3-10.3      19    2245
//	h1server                   12.5 (10.7-13.6)        3.4-5.1     6.9-9.7        6     693
//
// User CPU is about halved (≈ 4 µs/req less) and allocations drop from 19 to 6 per
// request (the head's string, the header map and its []string backing, the *url.URL,
// and the handler's own). System time is the loopback TCP work of one read and one
// write per request for both; it dominates what is left.
package h1server
