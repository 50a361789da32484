// Package upstream is the data plane's HTTP/1.1 client for integration backends: a
// keep-alive connection pool per backend (scheme + host:port) and a synchronous round
// trip that runs entirely on the caller's goroutine.
//
// It replaces net/http's Transport on the proxy path because, under load, the Transport's
// own machinery cost more than the proxying: a readLoop and a writeLoop goroutine per
// connection and the channel/select hand-offs between them and the caller, a
// context.WithTimeout timer per request, Header.sortedKeyValues when writing, idle-pool
// bookkeeping and about 54 allocations per round trip (issue 3's profile of gatehouse
// mode (a)). Here a request is: pop an idle connection (LIFO, one mutex), set its
// deadline, write the request through the connection's bufio.Writer (header in map
// order, unsorted), read the response head through its bufio.Reader, and hand the body
// to the caller as an io.Reader; Close puts the connection back.
//
// # Use
//
//	pool := upstream.New(upstream.Options{TLSConfig: cfg}) // one per TLS policy
//	req := upstream.Request{Method: "GET", Scheme: "http", Host: "backend:8080",
//		Target: "/pets?limit=10", Header: r.Header, StripHopByHop: true,
//		Extra: upstream.SetField(extra[:0], "X-Forwarded-For", ip),
//		Deadline: time.Now().Add(29 * time.Second)}
//	var resp upstream.Response // keep it in a pooled per-request struct: no allocation
//	if err := pool.Do(r.Context(), &req, &resp); err != nil {
//		// errors.Is(err, upstream.ErrTimeout), ErrConnRefused, ErrMalformedResponse, ...
//	}
//	defer resp.Close()
//	resp.Header.CopyTo(w.Header()) // end-to-end fields only
//	w.WriteHeader(resp.StatusCode)
//	io.CopyBuffer(w, &resp, buf)
//
// Example (example_test.go) is a complete HTTP_PROXY handler.
//
// # Behaviour
//
//   - Requests: HTTP/1.1 with Host; a body of known length, or chunked when
//     ContentLength < 0; "Content-Length: 0" for bodiless POST, PUT, PATCH (as net/http).
//     Header names and values are validated (no CR/LF injection); bytes that cannot
//     appear in a request-target are percent-encoded, the rest is sent verbatim.
//     "Expect: 100-continue" waits up to ExpectContinueTimeout for the interim response;
//     a final response instead is returned and the body is not sent.
//   - Responses: 1xx interim responses are skipped (101 is an error); HEAD, 204 and 304
//     have no body; otherwise chunked (trailer discarded), Content-Length, or until close.
//     HTTP/1.0 backends are kept alive only with "Connection: keep-alive". Transfer-
//     Encoding and Content-Length together: chunked wins, the Content-Length field is
//     dropped and the connection is not reused. Obs-folded lines are joined with spaces.
//     The head is limited to MaxResponseHeaderBytes (ErrHeaderTooLarge); anything else
//     invalid is ErrMalformedResponse; nothing panics (FuzzResponse).
//   - Keep-alive: a connection returns to the pool only when its body was read to the
//     end, the response allows it and nothing unsolicited is buffered. MaxIdlePerHost
//     (512) idle connections per backend, closed after IdleTimeout (90 s) by a timer per
//     backend that runs only while there are idle connections.
//   - Stale connections: a request that failed on a reused connection before any byte of
//     the response arrived is retried once on a new connection if it is idempotent (GET,
//     HEAD, OPTIONS, TRACE, or with Idempotency-Key) or nothing of it was sent, and its
//     body was not read (net/http's rule). A request that could not be retried first
//     probes the idle connection with one non-blocking recv(MSG_PEEK).
//   - Time: Request.Deadline (or the context's earlier deadline) is set on the connection
//     with SetDeadline and covers dial, write, head and body; expiry is ErrTimeout, which
//     also matches os.ErrDeadlineExceeded. A context that can be cancelled is watched
//     with context.AfterFunc (two or three allocations; about 1-2 µs per proxied request in
//     BenchmarkProxy); cancellation expires the deadline and the error matches ctx.Err().
//   - TLS: crypto/tls with Options.TLSConfig (RootCAs, InsecureSkipVerify, ServerName,
//     defaulting to the host), ALPN http/1.1 only; handshake failures are ErrTLS.
//
// Not supported: HTTP/2, protocol upgrades (WebSocket), proxies from the environment,
// response compression, keeping trailers. The exchange is half-duplex: the request body is
// written completely before the response is read, so a backend that streams a large
// response while it is still reading a large request body stalls once both socket
// buffers are full (until the deadline); a backend that answers early and closes is
// handled (its response is returned).
//
// # Figures
//
// Measured on the project's machine (2 vCPUs, AMD EPYC, shared with other work: load
// average 11-16 during the runs, so single runs vary by ±15%; medians of 3-4 runs),
// go1.26.8. The backend is the bench backend (net/http, 101-byte JSON) in a child
// process; cpu-ns/op is this process's utime+stime from getrusage ÷ requests.
//
//	go test -run '^$' -bench 'Pool|Transport' -cpu 1 -benchtime 3s -count 4 ./internal/upstream
//
//	GET round trip, header copied into a map, body     CPU µs/req  user   sys   allocs  B/op
//	copied with a 32 KiB buffer (-cpu=1)
//	serial      Transport (+ context.WithTimeout)         24.0     11.5  12.7     54    4340
//	            Pool, cancellable ctx per request         15.3      3.9  11.1     10     832
//	            Pool, context.Background                  15.5      3.2  12.4      3     240
//	64 goroutines Transport (+ context.WithTimeout)       21.6     13.7   7.5     54    4360
//	            Pool, cancellable ctx per request         10.7      4.5   7.1     10     845
//	            Pool, context.Background                  11.3      2.8   8.4      3     260
//
// The Pool's allocations are: the response head's string, the []string of CopyTo and
// (in the benchmark only) the Response, which escapes; the cancellable rows add the
// benchmark's own context.WithCancel and AfterFunc's registration. TestSteadyStateAllocs
// checks at most 2 per request with a non-cancellable context and 4 with a cancellable
// one.
//
//	go test -run '^$' -bench Proxy -benchtime 40000x -count 4 ./internal/upstream
//
// BenchmarkProxy is a minimal reverse proxy (http.Server, GOMAXPROCS=2, 64 client
// connections from a load generator in another child process) forwarding like
// dataplane.proxy: the CPU per proxied request of the proxy process, the figure bench/
// reports as "CPU µs/req" (gatehouse mode (a): 48.8 with http.Transport).
//
//	proxy through                        CPU µs/req  user   sys   allocs/req
//	http.Transport (dataplane.proxy)        42.9      26.8  16.2      76
//	Pool, r.Context() watched               30.3      13.8  16.5      30
//	Pool, context not watched               27.8      13.7  14.7      25
//
// So the Pool saves about 12 µs of CPU per proxied request (user CPU halved, 46 fewer
// allocations), which would bring mode (a) from about 49 to about 37 µs; the rest of the
// gap to 30 is the net/http server (reading the request, the response flush in
// finishRequest, its background read per request) and the pipeline. In the Pool's
// profile 64% of the client's CPU is the write and read syscalls.
package upstream
