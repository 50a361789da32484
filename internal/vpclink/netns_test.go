package vpclink

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"gatehouse/internal/linkagent"
)

// helperEnv selects a helper mode of the test binary, which the network-namespace test
// runs inside namespaces with `ip netns exec`.
const helperEnv = "VPCLINK_TEST_HELPER"

// netnsInnerEnv marks the run of TestNetnsPrivateLink inside gatehouse's namespace.
const netnsInnerEnv = "VPCLINK_TEST_NETNS"

func TestMain(m *testing.M) {
	switch os.Getenv(helperEnv) {
	case "agent":
		os.Exit(linkagent.Main(os.Args[1:], os.Stdout, os.Stderr))
	case "backend":
		os.Exit(backendHelper(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// backendHelper serves HTTP on args[0] answering with args[1] as its name, like the
// in-process backend, and prints "ready" once listening.
func backendHelper(args []string) int {
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "backend helper: want ADDR NAME")
		return 2
	}
	ln, err := net.Listen("tcp", args[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	b := &backend{name: args[1]}
	b.healthy.Store(true)
	fmt.Println("ready")
	srv := &http.Server{Handler: http.HandlerFunc(b.handle), ErrorLog: log.New(io.Discard, "", 0)}
	_ = srv.Serve(ln)
	return 0
}

// netns is a network namespace joined to the host by a veth pair: the namespace reaches
// the host at hostIP, the host has no route to the namespace's backend address.
type netns struct {
	name, hostIf, hostIP, backendIP string
}

func run(tb testing.TB, args ...string) {
	tb.Helper()
	if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
		tb.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func setupNetns(tb testing.TB, idx int, backendIP string) *netns {
	tb.Helper()
	id := os.Getpid()%10000*10 + idx
	n := &netns{
		name:      fmt.Sprintf("ghvl-%d", id),
		hostIf:    fmt.Sprintf("ghh%d", id),
		hostIP:    fmt.Sprintf("10.231.%d.%d", id%250, (id/250%60)*4+1),
		backendIP: backendIP,
	}
	nsIf := fmt.Sprintf("ghn%d", id)
	nsIP := fmt.Sprintf("10.231.%d.%d", id%250, (id/250%60)*4+2)
	run(tb, "ip", "netns", "add", n.name)
	tb.Cleanup(func() {
		_ = exec.Command("ip", "netns", "del", n.name).Run()
		_ = exec.Command("ip", "link", "del", n.hostIf).Run()
	})
	run(tb, "ip", "link", "add", n.hostIf, "type", "veth", "peer", "name", nsIf)
	run(tb, "ip", "link", "set", nsIf, "netns", n.name)
	run(tb, "ip", "addr", "add", n.hostIP+"/30", "dev", n.hostIf)
	run(tb, "ip", "link", "set", n.hostIf, "up")
	run(tb, "ip", "-n", n.name, "addr", "add", nsIP+"/30", "dev", nsIf)
	run(tb, "ip", "-n", n.name, "link", "set", nsIf, "up")
	run(tb, "ip", "-n", n.name, "link", "set", "lo", "up")
	run(tb, "ip", "-n", n.name, "addr", "add", backendIP+"/32", "dev", "lo")
	return n
}

// proc is a helper process inside a namespace.
type proc struct {
	cmd    *exec.Cmd
	stderr *lockedBuffer
	done   chan error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (n *netns) start(tb testing.TB, mode string, waitReady bool, args ...string) *proc {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command("ip", append([]string{"netns", "exec", n.name, exe}, args...)...)
	cmd.Env = append(os.Environ(), helperEnv+"="+mode)
	p := &proc{cmd: cmd, stderr: &lockedBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "ready" {
				close(ready)
			}
		}
	}()
	go func() { p.done <- cmd.Wait() }()
	tb.Cleanup(p.kill)
	if waitReady {
		select {
		case <-ready:
		case err := <-p.done:
			p.done <- err
			tb.Fatalf("%s helper exited: %v\n%s", mode, err, p.stderr)
		case <-time.After(10 * time.Second):
			tb.Fatalf("%s helper not ready\n%s", mode, p.stderr)
		}
	}
	return p
}

// kill ends the process with SIGKILL, as a crash would.
func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	err := <-p.done
	p.done <- err
}

const netnsTopology = `region: us-east-1
controlPlane: {listen: 127.0.0.1:0}
publicListener: {listen: 127.0.0.1:0}
tunnelListener: {listen: 0.0.0.0:0}
accounts:
  - {id: "111111111111", accessKeys: [{id: AKIAPROVIDER00000001, secret: s}]}
  - {id: "222222222222", accessKeys: [{id: AKIACONSUMER00000001, secret: s}]}
vpcs:
  - id: vpc-0ddddddddddddddd4
    account: "111111111111"
    cidr: 10.99.0.0/16
    agentTokens: [netns-token-dddddddddddd]
  - id: vpc-0eeeeeeeeeeeeeee5
    account: "222222222222"
    cidr: 10.99.0.0/16
    agentTokens: [netns-token-eeeeeeeeeeee]
  - id: vpc-0fffffffffffffff6
    account: "111111111111"
    cidr: 127.73.0.0/16
    routable: true
`

// TestNetnsPrivateLink is the whitepaper's cross-account private integration over
// PrivateLink, with network namespaces standing in for the private networks: each
// backend lives in a namespace gatehouse has no route into (a direct connect fails),
// a link agent inside dials out to gatehouse, and requests reach the backend through
// it. The two namespaces use the same addresses (overlapping VPCs of two accounts).
// Killing an agent mid-stream fails the requests in flight at once; a restarted agent
// restores service. A third, routable VPC (peering) needs no agent.
func TestNetnsPrivateLink(t *testing.T) {
	if testing.Short() {
		t.Skip("network namespaces: skipped in -short mode")
	}
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("ip (iproute2) is not installed")
	}
	if os.Getenv(netnsInnerEnv) == "" {
		// gatehouse's side runs in a namespace of its own too, with no route anywhere but
		// to the backend namespaces: the host's network may accept connects to any
		// address.
		gw := fmt.Sprintf("ghvl-gw-%d", os.Getpid())
		if out, err := exec.Command("ip", "netns", "add", gw).CombinedOutput(); err != nil {
			t.Skipf("ip netns unavailable: %v %s", err, out)
		}
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", gw).Run() })
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("ip", "netns", "exec", gw, exe, "-test.run=^TestNetnsPrivateLink$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), netnsInnerEnv+"="+gw)
		out, err := cmd.CombinedOutput()
		t.Logf("inside namespace %s:\n%s", gw, out)
		if err != nil {
			t.Fatalf("the test inside gatehouse's namespace failed: %v", err)
		}
		return
	}
	run(t, "ip", "link", "set", "lo", "up")

	leakCheck(t)
	const backendIP = "10.99.1.10"
	backendAddr := backendIP + ":8080"
	n1 := setupNetns(t, 1, backendIP)
	n2 := setupNetns(t, 2, backendIP)
	n1.start(t, "backend", true, backendAddr, "one")
	n2.start(t, "backend", true, backendAddr, "two")

	if c, err := net.DialTimeout("tcp", backendAddr, time.Second); err == nil {
		c.Close()
		t.Fatalf("%s is reachable from gatehouse's namespace; the test needs it not to be", backendAddr)
	} else {
		t.Logf("direct connect from gatehouse's namespace fails as it should: %v", err)
	}

	e := newEnv(t, netnsTopology, nil)
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := e.ca.ServerTLSConfig([]string{"tunnel.gatehouse.internal"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- e.m.ServeTunnel(ln, cfg) }()
	t.Cleanup(func() { e.m.Close(); <-served })
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, e.ca.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	const vpcD, vpcE, vpcF = "vpc-0ddddddddddddddd4", "vpc-0eeeeeeeeeeeeeee5", "vpc-0fffffffffffffff6"
	peer := startBackend(t, "127.73.1.10", "peered")
	be := netip.MustParseAddrPort(backendAddr)
	e.update(merge(agentDocs(acct1, vpcD, "dlink", be), agentDocs(acct2, vpcE, "elink", be), agentDocs(acct1, vpcF, "flink", peer.addr)))

	agentArgs := func(n *netns, token, name string) []string {
		return []string{"--join", net.JoinHostPort(n.hostIP, port), "--token", token, "--ca", caFile,
			"--server-name", "tunnel.gatehouse.internal", "--name", name}
	}
	agentD := n1.start(t, "agent", false, agentArgs(n1, "netns-token-dddddddddddd", "agent-d")...)
	n2.start(t, "agent", false, agentArgs(n2, "netns-token-eeeeeeeeeeee", "agent-e")...)
	waitFor(t, "both agents joined", func() bool { return len(e.m.Agents(vpcD)) == 1 && len(e.m.Agents(vpcE)) == 1 })

	ctx := context.Background()
	rd := e.resolve(acct1, "dlink", "", "http://nlb.internal")
	re := e.resolve(acct2, "elink", "", "http://nlb.internal")
	t.Run("each account reaches its own network", func(t *testing.T) {
		for range 3 {
			if body, err := get(ctx, rd, TLSOptions{}, "http://nlb.internal/a"); err != nil || !strings.HasPrefix(body, "one GET /a") {
				t.Fatalf("account 1: %q, %v", body, err)
			}
			if body, err := get(ctx, re, TLSOptions{}, "http://nlb.internal/b"); err != nil || !strings.HasPrefix(body, "two GET /b") {
				t.Fatalf("account 2: %q, %v", body, err)
			}
		}
	})
	t.Run("peering needs no agent", func(t *testing.T) {
		rf := e.resolve(acct1, "flink", "", "")
		if body, err := get(ctx, rf, TLSOptions{}, "http://peer.internal/c"); err != nil || !strings.HasPrefix(body, "peered GET /c") {
			t.Fatalf("peered: %q, %v", body, err)
		}
	})
	t.Run("killing the agent fails requests in flight fast; a restart restores service", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, "http://nlb.internal/slow", nil)
		resp, err := rd.testTransport(TLSOptions{}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		buf := make([]byte, 8)
		if _, err := io.ReadFull(resp.Body, buf); err != nil {
			t.Fatal(err)
		}
		killed := time.Now()
		agentD.kill()
		_, err = io.Copy(io.Discard, resp.Body)
		if err == nil {
			t.Fatal("the stream completed although its agent was killed")
		}
		if d := time.Since(killed); d > 2*time.Second {
			t.Fatalf("the in-flight request failed %v after the kill", d)
		}
		t.Logf("in-flight request failed %v after the kill: %v", time.Since(killed).Round(time.Millisecond), err)
		waitFor(t, "agent gone", func() bool { return len(e.m.Agents(vpcD)) == 0 })
		start := time.Now()
		_, err = get(ctx, rd, TLSOptions{}, "http://nlb.internal/")
		if HTTPStatus(err) != http.StatusBadGateway || time.Since(start) > 200*time.Millisecond {
			t.Fatalf("without an agent: %v after %v", err, time.Since(start))
		}
		restarted := time.Now()
		n1.start(t, "agent", false, agentArgs(n1, "netns-token-dddddddddddd", "agent-d")...)
		waitFor(t, "service restored", func() bool {
			_, err := get(ctx, rd, TLSOptions{}, "http://nlb.internal/")
			return err == nil
		})
		if d := time.Since(restarted); d > 2*time.Second {
			t.Fatalf("service restored %v after the restart", d)
		}
		t.Logf("service restored %v after the restart", time.Since(restarted).Round(time.Millisecond))
		// account 2 was never affected
		if body, err := get(ctx, re, TLSOptions{}, "http://nlb.internal/b"); err != nil || !strings.HasPrefix(body, "two") {
			t.Fatalf("account 2: %q, %v", body, err)
		}
	})
	t.Run("an agent with a wrong token exits non-zero", func(t *testing.T) {
		p := n1.start(t, "agent", false, agentArgs(n1, "wrong-token-000000000000", "bad")...)
		select {
		case err := <-p.done:
			p.done <- err
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != linkagent.ExitRefused {
				t.Fatalf("exit: %v", err)
			}
			if !strings.Contains(p.stderr.String(), "not valid") || !strings.Contains(p.stderr.String(), "not retrying") {
				t.Fatalf("stderr %q", p.stderr)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the agent kept running")
		}
	})
}
