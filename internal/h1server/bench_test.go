//go:build unix

package h1server

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// loadEnv makes the test binary the benchmarks' load generator ("addr requests conns"):
// a separate process, so that the CPU measured with getrusage is the server's alone.
const loadEnv = "GATEHOUSE_H1SERVER_BENCH_LOAD"

// benchBody is the bench backend's 101-byte JSON (bench/backend).
const benchBody = `{"message":"hello from the bench backend","service":"pets","id":1234,"ok":true,"tags":["a","b","c"]}` + "\n"

func TestMain(m *testing.M) {
	if spec := os.Getenv(loadEnv); spec != "" {
		if err := generateLoad(spec); err != nil {
			fmt.Fprintln(os.Stderr, "load:", err)
			os.Exit(1)
		}
		return
	}
	os.Exit(m.Run())
}

// generateLoad sends total GETs to addr over conns keep-alive connections (net/http's
// client, as bench/load does).
func generateLoad(spec string) error {
	var addr string
	var total, conns int
	if _, err := fmt.Sscan(spec, &addr, &total, &conns); err != nil {
		return err
	}
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}
	c := &http.Client{Transport: tr}
	var next atomic.Int64
	errs := make(chan error, conns)
	var wg sync.WaitGroup
	for i := 0; i < conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 4096)
			for next.Add(1) <= int64(total) {
				resp, err := c.Get("http://" + addr + "/pets?limit=10")
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

// benchHandler is a trivial handler like the bench backend's.
func benchHandler() http.Handler {
	b := []byte(benchBody)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = []string{"application/json"}
		_, _ = w.Write(b)
	})
}

func cpuTime() (user, sys time.Duration) {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// runLoad drives the server at addr with b.N requests from 64 keep-alive connections in
// a child process and reports this process's CPU per request.
func runLoad(b *testing.B, addr string) {
	b.ReportAllocs()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), loadEnv+"="+addr+" "+strconv.Itoa(b.N)+" 64")
	cmd.Stderr = os.Stderr
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
}

func listen(b *testing.B) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	return ln
}

// BenchmarkH1Server measures the server's CPU per request (cpu-ns/op) for a trivial
// handler under 64 keep-alive client connections.
func BenchmarkH1Server(b *testing.B) {
	ln := listen(b)
	srv := &Server{Handler: benchHandler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 310 * time.Second, MaxHeaderBytes: 16 << 10}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	runLoad(b, ln.Addr().String())
	_ = srv.Close()
	if err := <-done; !errors.Is(err, ErrServerClosed) {
		b.Fatal(err)
	}
}

// BenchmarkNetHTTP is BenchmarkH1Server's work on net/http's server, configured as
// app.serve configures it.
func BenchmarkNetHTTP(b *testing.B) {
	ln := listen(b)
	srv := &http.Server{Handler: benchHandler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 310 * time.Second, MaxHeaderBytes: 16 << 10}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	runLoad(b, ln.Addr().String())
	_ = srv.Close()
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		b.Fatal(err)
	}
}
