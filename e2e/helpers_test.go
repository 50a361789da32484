package e2e

// Shared helpers for the tests that drive gatehouse with external programs: the aws CLI,
// curl, python3/boto3 and the gatehouse binary itself.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// moduleRoot is the module's root directory (tests run in e2e/).
func moduleRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// cleanEnv is the test process's environment without AWS settings, proxies or Python
// user configuration that could change how the external clients behave.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "AWS_"), strings.EqualFold(k, "http_proxy"), strings.EqualFold(k, "https_proxy"),
			strings.EqualFold(k, "all_proxy"), strings.EqualFold(k, "no_proxy"), k == "CURL_HOME":
			continue
		}
		env = append(env, kv)
	}
	env = append(env,
		"AWS_CONFIG_FILE="+os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE="+os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
		"NO_PROXY=*",
	)
	return append(env, extra...)
}

// ---------------------------------------------------------------------------------------
// aws CLI

// awsCLI runs the aws CLI against gatehouse's control plane with one account's keys.
type awsCLI struct {
	endpoint, key, secret, region string
}

func needAWSCLI(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the aws CLI")
	}
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the aws CLI is not on PATH; skipping the aws CLI flow")
	}
}

// run runs `aws --endpoint-url ... args...` and returns its stdout, stderr and exit code.
func (c awsCLI) run(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "aws", append([]string{"--endpoint-url", c.endpoint}, args...)...)
	cmd.Env = cleanEnv("AWS_ACCESS_KEY_ID="+c.key, "AWS_SECRET_ACCESS_KEY="+c.secret, "AWS_DEFAULT_REGION="+c.region)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("aws %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errb.String(), code
}

// must runs the CLI, fails the test on a non-zero exit and returns the trimmed stdout.
func (c awsCLI) must(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, code := c.run(t, args...)
	if code != 0 {
		t.Fatalf("aws %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return strings.TrimSpace(out)
}

// ---------------------------------------------------------------------------------------
// curl

// curlReq is one curl invocation: like `curl --cacert CA --interface SOURCE
// --connect-to ::ADDR URL`.
type curlReq struct {
	url       string
	source    string // --interface; "" = default
	connectTo string // host:port every connection goes to; "" = the URL's host
	cacert    string
	headers   []string // "Name: value"
	method    string
}

type curlResp struct {
	status int // 0 = no HTTP response (connection refused, reset, ...)
	header http.Header
	body   string
	stderr string
	exit   int
}

func needCurl(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not on PATH")
	}
}

// do runs curl once.
func (r curlReq) do(t *testing.T) curlResp {
	t.Helper()
	dir := t.TempDir()
	hdrFile, bodyFile := filepath.Join(dir, "headers"), filepath.Join(dir, "body")
	args := []string{"-sS", "--noproxy", "*", "--max-time", "20", "-D", hdrFile, "-o", bodyFile, "-w", "%{http_code}"}
	if r.cacert != "" {
		args = append(args, "--cacert", r.cacert)
	}
	if r.source != "" {
		args = append(args, "--interface", r.source)
	}
	if r.connectTo != "" {
		args = append(args, "--connect-to", "::"+r.connectTo)
	}
	if r.method != "" {
		args = append(args, "-X", r.method)
	}
	for _, h := range r.headers {
		args = append(args, "-H", h)
	}
	args = append(args, r.url)
	cmd := exec.Command("curl", args...)
	cmd.Env = cleanEnv()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	resp := curlResp{stderr: errb.String(), header: http.Header{}}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		resp.exit = ee.ExitCode()
	default:
		t.Fatalf("curl: %v", err)
	}
	resp.status, _ = strconv.Atoi(strings.TrimSpace(out.String()))
	if b, err := os.ReadFile(bodyFile); err == nil {
		resp.body = string(b)
	}
	if h, err := os.ReadFile(hdrFile); err == nil {
		for _, line := range strings.Split(string(h), "\n") {
			if k, v, ok := strings.Cut(strings.TrimRight(line, "\r"), ":"); ok && !strings.HasPrefix(k, "HTTP/") {
				resp.header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
			}
		}
	}
	return resp
}

// until repeats the request until it answers with status want (the data plane applies
// control-plane changes asynchronously) or a 5 s deadline passes; it returns the last answer.
func (r curlReq) until(t *testing.T, want int) curlResp {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp := r.do(t)
		if resp.status == want || time.Now().After(deadline) {
			return resp
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ---------------------------------------------------------------------------------------
// ports and addresses

// freePort returns a port that was free on ip a moment ago (listen on :0, close).
func freePort(t testing.TB, ip string) int {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatalf("pick a free port on %s: %v", ip, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// portFree reports whether addr can be bound right now.
func portFree(addr string) bool {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// ---------------------------------------------------------------------------------------
// the gatehouse binary

var gatehouseBin struct {
	once sync.Once
	dir  string
	path string
	err  error
	out  []byte
}

// TestMain removes the binary built by buildGatehouse.
func TestMain(m *testing.M) {
	code := m.Run()
	if gatehouseBin.dir != "" {
		_ = os.RemoveAll(gatehouseBin.dir)
	}
	os.Exit(code)
}

// buildGatehouse builds cmd/gatehouse once per test binary and returns its path.
func buildGatehouse(t *testing.T) string {
	t.Helper()
	root := moduleRoot(t)
	gatehouseBin.once.Do(func() {
		gatehouseBin.dir, gatehouseBin.err = os.MkdirTemp("", "gatehouse-e2e-")
		if gatehouseBin.err != nil {
			return
		}
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		gatehouseBin.path = filepath.Join(gatehouseBin.dir, "gatehouse")
		cmd := exec.Command(goTool, "build", "-o", gatehouseBin.path, "./cmd/gatehouse")
		cmd.Dir = root
		gatehouseBin.out, gatehouseBin.err = cmd.CombinedOutput()
	})
	if gatehouseBin.err != nil {
		t.Fatalf("go build ./cmd/gatehouse: %v\n%s", gatehouseBin.err, gatehouseBin.out)
	}
	return gatehouseBin.path
}

// banner is what `gatehouse serve` prints on stdout once it is ready.
type banner struct {
	controlPlane string            // host:port
	public       string            // host:port (TLS)
	endpoints    map[string]string // vpce id → TLS host:port
	caFile       string
}

var (
	reBannerCP       = regexp.MustCompile(`^\s*control plane\s+http://(\S+)`)
	reBannerPublic   = regexp.MustCompile(`^\s*public listener\s+https://(\S+)`)
	reBannerEndpoint = regexp.MustCompile(`^\s*endpoint (vpce-[0-9a-f]+) \(.*\) https://(\S+)`)
	reBannerCA       = regexp.MustCompile(`^\s*CA certificate\s+(\S+)`)
)

// proc is a running `gatehouse serve`.
type proc struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	stdout *syncBuffer
	exited chan struct{} // closed once Wait returned
	state  *os.ProcessState
	banner banner
}

// syncBuffer is a goroutine-safe bytes.Buffer.
type syncBuffer struct {
	mu sync.Mutex // guards b
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startGatehouse starts the binary with args and, if waitReady, waits (up to 30 s) for
// the banner. The process is killed at cleanup if still running.
func startGatehouse(t *testing.T, bin string, waitReady bool, args ...string) *proc {
	t.Helper()
	p := &proc{stderr: &syncBuffer{}, stdout: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = cleanEnv()
	p.cmd.Stderr = p.stderr
	pr, pw := io.Pipe()
	p.cmd.Stdout = pw
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start gatehouse: %v", err)
	}
	ready := make(chan banner, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		b := banner{endpoints: map[string]string{}}
		sent := false
		for sc.Scan() {
			line := sc.Text()
			_, _ = p.stdout.Write([]byte(line + "\n"))
			if m := reBannerCP.FindStringSubmatch(line); m != nil {
				b.controlPlane = m[1]
			}
			if m := reBannerPublic.FindStringSubmatch(line); m != nil {
				b.public = m[1]
			}
			if m := reBannerEndpoint.FindStringSubmatch(line); m != nil {
				if _, ok := b.endpoints[m[1]]; !ok {
					b.endpoints[m[1]] = m[2]
				}
			}
			if m := reBannerCA.FindStringSubmatch(line); m != nil {
				b.caFile = m[1]
			}
			// The account lines come last.
			if !sent && b.controlPlane != "" && strings.HasPrefix(strings.TrimSpace(line), "account ") {
				ready <- b
				sent = true
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	go func() {
		_ = p.cmd.Wait()
		p.state = p.cmd.ProcessState
		_ = pw.Close()
		close(p.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
	if !waitReady {
		return p
	}
	select {
	case p.banner = <-ready:
	case <-p.exited:
		t.Fatalf("gatehouse exited before it was ready: %v\nstdout:\n%s\nstderr:\n%s", p.state, p.stdout.String(), p.stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("gatehouse not ready after 30s\nstdout:\n%s\nstderr:\n%s", p.stdout.String(), p.stderr.String())
	}
	return p
}

// signal sends sig to the process.
func (p *proc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
}

// wait waits up to d for the process to exit and returns its exit code (-1 = killed by a
// signal).
func (p *proc) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
		return p.state.ExitCode()
	case <-time.After(d):
		t.Fatalf("gatehouse did not exit within %s\nstderr:\n%s", d, p.stderr.String())
		return 0
	}
}

func (p *proc) String() string {
	return fmt.Sprintf("stdout:\n%s\nstderr:\n%s", p.stdout.String(), p.stderr.String())
}
