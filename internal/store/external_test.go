package store

import (
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// buildNATSServer builds the nats-server binary of the version in go.mod
// and returns its path. It skips the test if the build fails (no Go
// toolchain or module cache available).
func buildNATSServer(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "nats-server")
	cmd := exec.Command(goTool, "build", "-o", bin, "github.com/nats-io/nats-server/v2")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("cannot build nats-server, skipping the external-mode test: %v\n%s", err, out)
	}
	return bin
}

// natsServer is a nats-server child process.
type natsServer struct {
	URL    string
	cmd    *exec.Cmd
	exited chan struct{} // closed when the process has exited
}

// startNATSServer starts bin with args plus a client port, waits until it
// accepts NATS connections and stops it when the test ends. The port is
// picked free by the kernel; if another process takes it before the
// server binds, it retries with another.
func startNATSServer(t *testing.T, bin string, args ...string) *natsServer {
	t.Helper()
	var lastErr error
	for range 3 {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		ns := &natsServer{
			URL:    "nats://127.0.0.1:" + strconv.Itoa(port),
			exited: make(chan struct{}),
		}
		ns.cmd = exec.Command(bin, append(args, "-a", "127.0.0.1", "-p", strconv.Itoa(port))...)
		var logBuf strings.Builder
		ns.cmd.Stdout = &logBuf
		ns.cmd.Stderr = &logBuf
		if err := ns.cmd.Start(); err != nil {
			t.Fatalf("start nats-server: %v", err)
		}
		go func() {
			_ = ns.cmd.Wait()
			close(ns.exited)
		}()
		if err := ns.waitReady(30 * time.Second); err != nil {
			ns.stop()
			lastErr = fmt.Errorf("%w\nserver log:\n%s", err, logBuf.String())
			continue
		}
		t.Cleanup(ns.stop)
		return ns
	}
	t.Fatalf("nats-server did not start: %v", lastErr)
	return nil
}

// waitReady polls until a client can connect, the process exits or the
// timeout passes.
func (ns *natsServer) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		nc, err := nats.Connect(ns.URL, nats.Timeout(500*time.Millisecond), nats.NoReconnect())
		if err == nil {
			nc.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s: %w", timeout, err)
		}
		select {
		case <-ns.exited:
			return fmt.Errorf("nats-server exited: %v", ns.cmd.ProcessState)
		case <-tick.C:
		}
	}
}

func (ns *natsServer) stop() {
	select {
	case <-ns.exited:
		return
	default:
	}
	_ = ns.cmd.Process.Kill()
	<-ns.exited
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pick a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func TestExternal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs nats-server")
	}
	bin := buildNATSServer(t)

	t.Run("conformance", func(t *testing.T) {
		ns := startNATSServer(t, bin, "-js", "-sd", t.TempDir())
		ctx := testCtx(t)
		s, err := Open(ctx, Options{URL: ns.URL, Logger: testLogger(t)})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
		testConformance(t, s)

		// The server's default max_payload (1 MiB) is below MaxValueSize.
		_, err = s.Create(ctx, "payload", "big", make([]byte, 2<<20))
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("Create of 2 MiB with a 1 MiB max_payload: err = %v, want ErrTooLarge", err)
		}
	})

	t.Run("data outlives the client", func(t *testing.T) {
		ns := startNATSServer(t, bin, "-js", "-sd", t.TempDir())
		ctx := testCtx(t)
		s1, err := Open(ctx, Options{URL: ns.URL})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		rev, err := s1.Create(ctx, "b", "k", []byte("v"))
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		if err := s1.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		s2, err := Open(ctx, Options{URL: ns.URL})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer s2.Close()
		e, err := s2.Get(ctx, "b", "k")
		if err != nil || string(e.Value) != "v" || e.Revision != rev {
			t.Fatalf("Get = %+v, %v; want v at revision %d", e, err, rev)
		}
	})

	t.Run("two clients conflict", func(t *testing.T) {
		ns := startNATSServer(t, bin, "-js", "-sd", t.TempDir())
		ctx := testCtx(t)
		a, err := Open(ctx, Options{URL: ns.URL})
		if err != nil {
			t.Fatal(err)
		}
		defer a.Close()
		b, err := Open(ctx, Options{URL: ns.URL})
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close()
		rev, err := a.Create(ctx, "b", "k", []byte("0"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Update(ctx, "b", "k", []byte("b"), rev); err != nil {
			t.Fatalf("Update by b: %v", err)
		}
		if _, err := a.Update(ctx, "b", "k", []byte("a"), rev); !errors.Is(err, ErrConflict) {
			t.Fatalf("stale Update by a: err = %v, want ErrConflict", err)
		}
	})

	t.Run("without JetStream", func(t *testing.T) {
		ns := startNATSServer(t, bin)
		_, err := Open(testCtx(t), Options{URL: ns.URL})
		t.Logf("Open: %v", err)
		if err == nil || !strings.Contains(err.Error(), "JetStream unavailable") {
			t.Fatalf("Open against a server without JetStream: err = %v, want JetStream unavailable", err)
		}
	})
}
