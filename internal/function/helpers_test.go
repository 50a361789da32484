package function

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gatehouse/internal/awsproto"
)

const (
	testAccount = "111111111111"
	testRegion  = "us-east-1"
)

// binaries built once per test binary run.
var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// goTool returns the go command.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}

// built returns the path of a test program built from the package at pkg
// (relative to the module root): "examples/functions/echo-go" or
// "internal/function/testdata/faulty".
func built(t testing.TB, name string) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "gatehouse-function-test-")
		if buildErr != nil {
			return
		}
		root, err := filepath.Abs("../..")
		if err != nil {
			buildErr = err
			return
		}
		for bin, pkg := range map[string]string{
			"echo-go": "./examples/functions/echo-go",
			"faulty":  "./internal/function/testdata/faulty",
		} {
			cmd := exec.Command(goTool(), "build", "-tags", "lambda.norpc", "-o", filepath.Join(buildDir, bin), pkg)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatalf("build test functions: %v", buildErr)
	}
	return filepath.Join(buildDir, name)
}

// codeDir makes a deployment package directory holding bin as exeName.
func codeDir(t testing.TB, bin, exeName string) string {
	t.Helper()
	dir := t.TempDir()
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, exeName), data, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func testLogger() *slog.Logger {
	if os.Getenv("GW_TEST_LOG") == "debug" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// newHost returns a Host on a temporary data directory, closed at cleanup.
func newHost(t testing.TB, opts HostOptions) *Host {
	t.Helper()
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir()
	}
	if opts.Logger == nil {
		opts.Logger = testLogger()
	}
	h, err := NewHost(opts)
	if err != nil {
		t.Fatalf("NewHost: %v", err)
	}
	t.Cleanup(func() { _ = h.Close() })
	return h
}

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// invoke calls fn with a JSON payload and fails the test on a call error.
func invoke(t testing.TB, h *Host, ref string, payload any) Result {
	t.Helper()
	b, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.Invoke(ctxT(t, 60*time.Second), ref, b)
	if err != nil {
		t.Fatalf("Invoke %s: %v", ref, err)
	}
	return res
}

// errorDoc is a Lambda error document.
type errorDoc struct {
	ErrorType    string   `json:"errorType"`
	ErrorMessage string   `json:"errorMessage"`
	StackTrace   []any    `json:"stackTrace"`
	RequestID    *string  `json:"requestId"`
	Extra        []string `json:"-"`
}

func decodeError(t testing.TB, res Result) errorDoc {
	t.Helper()
	if res.FunctionError != "Unhandled" {
		t.Fatalf("FunctionError = %q, want Unhandled (payload %s)", res.FunctionError, res.Payload)
	}
	var d errorDoc
	if err := json.Unmarshal(res.Payload, &d); err != nil {
		t.Fatalf("error payload %q: %v", res.Payload, err)
	}
	return d
}

func wantAWSError(t testing.TB, err error, code, msg string) {
	t.Helper()
	var ae *awsproto.Error
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want an AWS error %s", err, code)
	}
	if ae.Code != code || (msg != "" && ae.Message != msg) {
		t.Fatalf("got %s %q, want %s %q", ae.Code, ae.Message, code, msg)
	}
}

// pids returns the process ids of fn's instances.
func pids(h *Host) []int {
	h.mu.Lock()
	pools := make([]*pool, 0, len(h.pools))
	for _, p := range h.pools {
		pools = append(pools, p)
	}
	h.mu.Unlock()
	var out []int
	for _, p := range pools {
		p.mu.Lock()
		for inst := range p.all {
			out = append(out, inst.cmd.Process.Pid)
		}
		p.mu.Unlock()
	}
	return out
}

// alive reports whether a process (or, with a negative pid, a process group)
// exists.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// waitGone waits until none of pids (as processes and as groups) exists.
func waitGone(t testing.TB, pids ...int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range pids {
		for alive(pid) || alive(-pid) {
			if time.Now().After(deadline) {
				t.Fatalf("process %d (or its group) is still alive", pid)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// checkGoroutines fails the test if, after fn, more goroutines run than
// before it (waiting a while for them to end).
func checkGoroutines(t *testing.T, fn func()) {
	t.Helper()
	before := runtime.NumGoroutine()
	fn()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := runtime.NumGoroutine()
		if n <= before {
			return
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("%d goroutines before, %d after:\n%s", before, n, buf)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logOf reads fn's log file.
func logOf(t testing.TB, h *Host, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(h.opts.DataDir, "functions", name+".log"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustJSON(t testing.TB, b []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("trailing data after JSON in %q", b)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
