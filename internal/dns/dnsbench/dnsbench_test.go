package dnsbench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"gatehouse/internal/config"
	"gatehouse/internal/dns"
)

// benchTopology serves one public zone on a public resolver.
const benchTopology = `
region: us-east-1
controlPlane: {listen: 127.0.0.1:0}
publicListener: {listen: 127.0.0.1:0}
accounts: [{id: "111111111111", accessKeys: [{id: AKIAPROVIDER00000001, secret: s}]}]
dnsPort: 0
publicResolver: {listen: 127.0.0.1:0}
hostedZones:
  - name: bench.test
    records:
      - {name: www, type: A, ttl: 300, values: [192.0.2.1, 192.0.2.2]}
`

// startServer starts a DNS server for benchTopology and returns its public
// UDP address.
func startServer(t testing.TB) string {
	t.Helper()
	topo, err := config.Parse([]byte(benchTopology))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := dns.New(context.Background(), dns.Options{Topology: topo, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-srv.Ready()
	for _, l := range srv.Listeners() {
		if l.Kind == "public" {
			return l.UDP
		}
	}
	t.Fatal("no public listener")
	return ""
}

func TestRun(t *testing.T) {
	addr := startServer(t)
	r, err := Run(context.Background(), Config{Server: addr, Name: "www.bench.test", Duration: 300 * time.Millisecond, Sockets: 2, InFlight: 8})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(r)
	if r.Answered == 0 || r.Rcodes[mdns.RcodeSuccess] != r.Answered {
		t.Fatalf("result %v", r)
	}
}

// TestServeChild is the server process of TestOneCoreQPS (and of dnsperf
// runs): with DNSBENCH_CHILD=1 it serves benchTopology, prints "ADDR
// host:port" and runs until its standard input closes.
func TestServeChild(t *testing.T) {
	if os.Getenv("DNSBENCH_CHILD") != "1" {
		t.Skip("helper process for TestOneCoreQPS")
	}
	addr := startServer(t)
	fmt.Printf("ADDR %s\n", addr)
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// TestOneCoreQPS measures cached authoritative answers per second with the
// server confined to one core (GOMAXPROCS=1, pinned to CPU 0 with taskset
// when available) and this generator on the other. Run with DNSBENCH=1;
// it fails below 50,000 queries/s.
func TestOneCoreQPS(t *testing.T) {
	if os.Getenv("DNSBENCH") != "1" {
		t.Skip("set DNSBENCH=1 to run the one-core throughput benchmark")
	}
	args := []string{os.Args[0], "-test.run=^TestServeChild$", "-test.v"}
	if p, err := exec.LookPath("taskset"); err == nil {
		args = append([]string{p, "-c", "0"}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "DNSBENCH_CHILD=1", "GOMAXPROCS=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		_ = cmd.Wait()
	}()
	sc := bufio.NewScanner(stdout)
	addr := ""
	for sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "ADDR "); ok {
			addr = a
			break
		}
	}
	if addr == "" {
		t.Fatal("child did not print its address")
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	r, err := Run(context.Background(), Config{Server: addr, Name: "www.bench.test", EDNS: true, Duration: 5 * time.Second, Sockets: 8, InFlight: 16})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("one core: %v", r)
	if r.QPS < 50000 {
		t.Errorf("%.0f queries/s on one core, want at least 50,000", r.QPS)
	}
}
