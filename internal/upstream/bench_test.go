//go:build unix

package upstream

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// backendEnv makes the test binary the benchmarks' backend (see TestMain): a separate
// process, so that the CPU the benchmarks measure with getrusage is the client's alone.
const backendEnv = "GATEHOUSE_UPSTREAM_BENCH_BACKEND"

// benchBody is the bench backend's 101-byte JSON (bench/backend).
const benchBody = `{"message":"hello from the bench backend","service":"pets","id":1234,"ok":true,"tags":["a","b","c"]}` + "\n"

// loadEnv makes the test binary BenchmarkProxy's load generator: "addr requests conns".
const loadEnv = "GATEHOUSE_UPSTREAM_BENCH_LOAD"

func TestMain(m *testing.M) {
	if os.Getenv(backendEnv) == "1" {
		if err := serveBackend(); err != nil {
			fmt.Fprintln(os.Stderr, "backend:", err)
			os.Exit(1)
		}
		return
	}
	if spec := os.Getenv(loadEnv); spec != "" {
		if err := generateLoad(spec); err != nil {
			fmt.Fprintln(os.Stderr, "load:", err)
			os.Exit(1)
		}
		return
	}
	m.Run()
}

// generateLoad sends requests GETs to addr over conns keep-alive connections.
func generateLoad(spec string) error {
	var addr string
	var total, conns int
	if _, err := fmt.Sscan(spec, &addr, &total, &conns); err != nil {
		return err
	}
	tr := &http.Transport{MaxIdleConnsPerHost: conns, DisableCompression: true}
	client := &http.Client{Transport: tr}
	var next atomic.Int64
	errs := make(chan error, conns)
	var wg sync.WaitGroup
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 4096)
			for next.Add(1) <= int64(total) {
				resp, err := client.Get("http://" + addr + "/pets?limit=10")
				if err != nil {
					errs <- err
					return
				}
				n, _ := io.CopyBuffer(io.Discard, resp.Body, buf)
				_ = resp.Body.Close()
				if resp.StatusCode != 200 || n != int64(len(benchBody)) {
					errs <- fmt.Errorf("status %d, %d bytes", resp.StatusCode, n)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// serveBackend serves the benchmark origin on 127.0.0.1:0, prints its address and stops
// when standard input closes.
func serveBackend() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	b := []byte(benchBody)
	size := strconv.Itoa(len(b))
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		h := w.Header()
		h["Content-Type"] = []string{"application/json"}
		h["Content-Length"] = []string{size}
		_, _ = w.Write(b)
	}), IdleTimeout: 10 * time.Minute}
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		_ = srv.Close()
	}()
	fmt.Println(ln.Addr().String())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// startBackend runs the backend in a child process and returns its host:port.
func startBackend(b *testing.B) string {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), backendEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("backend: %v", err)
	}
	return strings.TrimSpace(line)
}

// benchHeader is a typical forwarded request header.
func benchHeader() http.Header {
	return http.Header{
		"Accept":          {"application/json"},
		"User-Agent":      {"bench-load/1.0"},
		"X-Forwarded-For": {"127.10.0.5"},
		"X-Amzn-Vpc-Id":   {"vpc-0123456789abcdef0"},
		"X-Amzn-Vpce-Id":  {"vpce-0123456789abcdef0"},
	}
}

// cpuTime is the process's user and system CPU so far.
func cpuTime() (user, sys time.Duration) {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// run measures op b.N times, serially or from 64 goroutines in all, and reports the
// process CPU per operation next to the wall-clock ns/op.
func run(b *testing.B, parallel bool, op func(buf []byte, dst http.Header) error) {
	b.ReportAllocs()
	u0, s0 := cpuTime()
	b.ResetTimer()
	if parallel {
		b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
		b.RunParallel(func(pb *testing.PB) {
			buf, dst := make([]byte, 32<<10), http.Header{}
			for pb.Next() {
				if err := op(buf, dst); err != nil {
					b.Error(err)
					return
				}
			}
		})
	} else {
		buf, dst := make([]byte, 32<<10), http.Header{}
		for i := 0; i < b.N; i++ {
			if err := op(buf, dst); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	u1, s1 := cpuTime()
	n := float64(b.N)
	b.ReportMetric(float64(u1-u0+s1-s0)/n, "cpu-ns/op")
	b.ReportMetric(float64(u1-u0)/n, "user-ns/op")
	b.ReportMetric(float64(s1-s0)/n, "sys-ns/op")
}

// BenchmarkPool does what dataplane.proxy would do with a Pool: a GET with a deadline,
// the response header copied into a map, the 101-byte body copied with a 32 KiB buffer.
// ctx=request gives each request a fresh cancellable context (like an http.Server
// request's), which Do watches with context.AfterFunc; ctx=background cannot be
// cancelled and costs nothing.
func BenchmarkPool(b *testing.B) {
	host := startBackend(b)
	p := New(Options{})
	defer p.CloseIdle()
	hdr := benchHeader()
	for _, mode := range []struct {
		name     string
		parallel bool
		reqCtx   bool
	}{
		{"serial/ctx=request", false, true},
		{"serial/ctx=background", false, false},
		{"parallel64/ctx=request", true, true},
		{"parallel64/ctx=background", true, false},
	} {
		b.Run(mode.name, func(b *testing.B) {
			run(b, mode.parallel, func(buf []byte, dst http.Header) error {
				ctx := context.Background()
				if mode.reqCtx {
					var cancel context.CancelFunc
					ctx, cancel = context.WithCancel(ctx)
					defer cancel()
				}
				req := Request{Method: "GET", Scheme: "http", Host: host, Target: "/pets?limit=10", Header: hdr,
					Deadline: time.Now().Add(29 * time.Second)}
				var resp Response
				if err := p.Do(ctx, &req, &resp); err != nil {
					return err
				}
				clear(dst)
				resp.Header.CopyTo(dst)
				n, err := io.CopyBuffer(sink{}, &resp, buf)
				_ = resp.Close()
				if err != nil || n != int64(len(benchBody)) {
					return fmt.Errorf("body: %d bytes, %v", n, err)
				}
				return nil
			})
		})
	}
}

// BenchmarkTransport is BenchmarkPool's work through net/http's Transport, configured as
// the data plane configures it, with a context.WithTimeout per request as proxy does.
func BenchmarkTransport(b *testing.B) {
	host := startBackend(b)
	tr := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
	}
	defer tr.CloseIdleConnections()
	hdr := benchHeader()
	for _, mode := range []struct {
		name     string
		parallel bool
	}{
		{"serial/ctx=request", false},
		{"parallel64/ctx=request", true},
	} {
		b.Run(mode.name, func(b *testing.B) {
			run(b, mode.parallel, func(buf []byte, dst http.Header) error {
				parent, cancelParent := context.WithCancel(context.Background())
				defer cancelParent()
				ctx, cancel := context.WithTimeout(parent, 29*time.Second)
				defer cancel()
				out := &http.Request{
					Method: "GET", URL: &url.URL{Scheme: "http", Host: host, Path: "/pets", RawQuery: "limit=10"},
					Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: hdr, Host: host, Body: http.NoBody,
				}
				out = out.WithContext(ctx)
				resp, err := tr.RoundTrip(out)
				if err != nil {
					return err
				}
				clear(dst)
				for k, vs := range resp.Header {
					dst[k] = vs
				}
				n, err := io.CopyBuffer(sink{}, resp.Body, buf)
				_ = resp.Body.Close()
				if err != nil || n != int64(len(benchBody)) {
					return fmt.Errorf("body: %d bytes, %v", n, err)
				}
				return nil
			})
		})
	}
}

// hopHeaders is the data plane's list (dataplane/integrate.go).
var hopHeaders = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
	"Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// proxySlot is the per-request state a proxy handler keeps in a sync.Pool (as the data
// plane pools its request struct).
type proxySlot struct {
	req   Request
	resp  Response
	extra [4]Field
	buf   [32 << 10]byte
}

// BenchmarkProxy measures a minimal reverse proxy, an http.Server in this process whose
// handler forwards each request to the backend the way dataplane.proxy does, through a
// Pool (pool) or through http.Transport as proxy does today (transport). The load
// generator and the backend are child processes, so cpu-ns/op is the proxy's CPU per
// proxied request (64 connections), comparable with bench/'s "CPU µs/req". pool-nocancel
// passes a context that cannot be cancelled, to show what watching r.Context() costs.
func BenchmarkProxy(b *testing.B) {
	backend := startBackend(b)
	pool := New(Options{})
	defer pool.CloseIdle()
	tr := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
	}
	defer tr.CloseIdleConnections()
	slots := sync.Pool{New: func() any { return new(proxySlot) }}
	var proxyPool func(w http.ResponseWriter, r *http.Request, ctx context.Context)
	bufs := sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

	viaPool := func(w http.ResponseWriter, r *http.Request) { proxyPool(w, r, r.Context()) }
	viaPoolNoCancel := func(w http.ResponseWriter, r *http.Request) { proxyPool(w, r, context.Background()) }
	proxyPool = func(w http.ResponseWriter, r *http.Request, ctx context.Context) {
		s := slots.Get().(*proxySlot)
		defer slots.Put(s)
		ip, _, _ := net.SplitHostPort(r.RemoteAddr)
		s.req = Request{Method: r.Method, Scheme: "http", Host: backend, Target: r.RequestURI,
			Header: r.Header, StripHopByHop: true, Omit: []string{"X-Apigw-Api-Id"},
			Extra:    append(s.extra[:0], Field{"X-Forwarded-For", ip}),
			Deadline: time.Now().Add(29 * time.Second)}
		if r.ContentLength != 0 {
			s.req.Body, s.req.ContentLength = r.Body, r.ContentLength
		}
		if err := pool.Do(ctx, &s.req, &s.resp); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		h := w.Header()
		s.resp.Header.CopyTo(h)
		h.Set("x-amzn-RequestId", "00000000-0000-0000-0000-000000000000")
		w.WriteHeader(s.resp.StatusCode)
		_, _ = io.CopyBuffer(w, &s.resp, s.buf[:])
		_ = s.resp.Close()
	}
	viaTransport := func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 29*time.Second)
		defer cancel()
		u := &url.URL{Scheme: "http", Host: backend, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
		out := &http.Request{Method: r.Method, URL: u, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: make(http.Header, len(r.Header)+6), Host: backend, Body: http.NoBody}
		for k, vs := range r.Header {
			out.Header[k] = vs
		}
		for _, h := range hopHeaders {
			delete(out.Header, h)
		}
		delete(out.Header, "X-Apigw-Api-Id")
		ip, _, _ := net.SplitHostPort(r.RemoteAddr)
		out.Header["X-Forwarded-For"] = []string{ip}
		out = out.WithContext(ctx)
		resp, err := tr.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		h := w.Header()
		for k, vs := range resp.Header {
			h[k] = vs
		}
		for _, hh := range hopHeaders {
			delete(h, hh)
		}
		h.Set("x-amzn-RequestId", "00000000-0000-0000-0000-000000000000")
		w.WriteHeader(resp.StatusCode)
		bp := bufs.Get().(*[]byte)
		_, _ = io.CopyBuffer(w, resp.Body, *bp)
		bufs.Put(bp)
	}

	for _, mode := range []struct {
		name    string
		handler http.HandlerFunc
	}{{"pool", viaPool}, {"pool-nocancel", viaPoolNoCancel}, {"transport", viaTransport}} {
		b.Run(mode.name, func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			srv := &http.Server{Handler: mode.handler}
			go func() { _ = srv.Serve(ln) }()
			defer srv.Close()
			cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
			cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %d %d", loadEnv, ln.Addr(), b.N, 64))
			cmd.Stderr = os.Stderr
			b.ReportAllocs()
			u0, s0 := cpuTime()
			b.ResetTimer()
			if err := cmd.Run(); err != nil {
				b.Fatalf("load generator: %v", err)
			}
			b.StopTimer()
			u1, s1 := cpuTime()
			n := float64(b.N)
			b.ReportMetric(float64(u1-u0+s1-s0)/n, "cpu-ns/op")
			b.ReportMetric(float64(u1-u0)/n, "user-ns/op")
			b.ReportMetric(float64(s1-s0)/n, "sys-ns/op")
		})
	}
}
