package linkagent

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/yamux"

	"gatehouse/internal/certs"
	"gatehouse/internal/vpclink/tunnelwire"
)

// fakeGatehouse is a minimal tunnel listener: it accepts agents whose token is good,
// and hands their yamux sessions to the test.
type fakeGatehouse struct {
	ln       net.Listener
	ca       *certs.CA
	good     string
	cidrs    []string
	sessions chan *yamux.Session
	joins    atomic.Int64
}

func newFakeGatehouse(t *testing.T, good string, cidrs ...string) *fakeGatehouse {
	t.Helper()
	ca, err := certs.LoadOrCreateCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ca.ServerTLSConfig([]string{"tunnel.test"}, []netip.Addr{netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	cfg.NextProtos = []string{tunnelwire.ALPN}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	g := &fakeGatehouse{ln: ln, ca: ca, good: good, cidrs: cidrs, sessions: make(chan *yamux.Session, 16)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			g.handle(c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for {
			select {
			case s := <-g.sessions:
				s.Close()
			default:
				return
			}
		}
	})
	return g
}

func (g *fakeGatehouse) handle(c net.Conn) {
	var h tunnelwire.Hello
	if err := tunnelwire.ReadMessage(c, &h); err != nil {
		c.Close()
		return
	}
	if h.Token != g.good {
		_ = tunnelwire.WriteMessage(c, &tunnelwire.Welcome{Code: tunnelwire.CodeRevokedToken, Message: "the token has been revoked"})
		c.Close()
		return
	}
	g.joins.Add(1)
	_ = tunnelwire.WriteMessage(c, &tunnelwire.Welcome{OK: true, VpcID: "vpc-1", Account: "111111111111", CIDRs: g.cidrs, AgentID: "a"})
	s, err := yamux.Server(c, tunnelwire.YamuxConfig())
	if err != nil {
		c.Close()
		return
	}
	g.sessions <- s
}

func (g *fakeGatehouse) session(t *testing.T) *yamux.Session {
	t.Helper()
	select {
	case s := <-g.sessions:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("agent did not join")
	}
	return nil
}

// open asks the agent for a connection to addr.
func open(t *testing.T, s *yamux.Session, addr string) (net.Conn, tunnelwire.Reply) {
	t.Helper()
	st, err := s.Open()
	if err != nil {
		t.Fatal(err)
	}
	hdr, err := tunnelwire.AppendOpen(nil, tunnelwire.Open{Network: "tcp", Address: netip.MustParseAddrPort(addr), Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Write(hdr); err != nil {
		t.Fatal(err)
	}
	rep, err := tunnelwire.ReadReply(st)
	if err != nil {
		t.Fatal(err)
	}
	return st, rep
}

func runAgent(t *testing.T, g *fakeGatehouse, token string, allow ...netip.Prefix) (cancel func(), done chan error) {
	t.Helper()
	ctx, c := context.WithCancel(context.Background())
	done = make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Join: g.ln.Addr().String(), Token: token, CAPEM: g.ca.CertPEM(), Allow: allow,
			MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond, Connections: 1})
	}()
	stopped := false
	cancel = func() {
		if !stopped {
			stopped = true
			c()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		}
	}
	t.Cleanup(cancel)
	return cancel, done
}

func echoServer(t *testing.T, ip string) string {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

func TestAgentCarriesConnections(t *testing.T) {
	g := newFakeGatehouse(t, "good-token", "127.81.0.0/16")
	echo := echoServer(t, "127.81.1.1")
	runAgent(t, g, "good-token", netip.MustParsePrefix("127.81.1.0/24"))
	s := g.session(t)

	t.Run("echo with half-close", func(t *testing.T) {
		c, rep := open(t, s, echo)
		if rep.Code != tunnelwire.ReplyOK {
			t.Fatalf("reply %+v", rep)
		}
		payload := bytes.Repeat([]byte("0123456789"), 100_000)
		go func() {
			c.Write(payload)
			c.Close() // yamux Close is a half-close: we still read the echo.
		}()
		got, err := io.ReadAll(c)
		if err != nil || !bytes.Equal(got, payload) {
			t.Fatalf("echoed %d of %d bytes, %v", len(got), len(payload), err)
		}
	})
	tests := []struct {
		name, addr string
		code       byte
	}{
		{"outside the VPC", "127.82.1.1:80", tunnelwire.ReplyForbidden},
		{"outside the allow-list", "127.81.2.1:80", tunnelwire.ReplyForbidden},
		{"refused", "127.81.1.1:1", tunnelwire.ReplyRefused},
		{"v4-mapped address outside", "[::ffff:127.82.1.1]:80", tunnelwire.ReplyForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, rep := open(t, s, tt.addr)
			defer c.Close()
			if rep.Code != tt.code {
				t.Fatalf("reply %+v, want code %d", rep, tt.code)
			}
		})
	}
	t.Run("bad open header", func(t *testing.T) {
		st, err := s.Open()
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		st.Write([]byte{9, 9, 9, 9, 9, 9, 9, 9})
		rep, err := tunnelwire.ReadReply(st)
		if err != nil || rep.Code != tunnelwire.ReplyBadRequest {
			t.Fatalf("reply %+v, %v", rep, err)
		}
	})
}

func TestAgentReconnects(t *testing.T) {
	g := newFakeGatehouse(t, "good-token", "127.81.0.0/16")
	runAgent(t, g, "good-token")
	s := g.session(t)
	s.Close() // gatehouse drops the tunnel
	s2 := g.session(t)
	if s2 == s || g.joins.Load() != 2 {
		t.Fatalf("joins %d", g.joins.Load())
	}
}

func TestAgentRefused(t *testing.T) {
	g := newFakeGatehouse(t, "good-token", "127.81.0.0/16")
	start := time.Now()
	err := Run(context.Background(), Options{Join: g.ln.Addr().String(), Token: "bad-token", CAPEM: g.ca.CertPEM()})
	var re *RefusedError
	if !errors.As(err, &re) || re.Code != tunnelwire.CodeRevokedToken {
		t.Fatalf("Run: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("Run retried a refused token")
	}
}

func TestMainUsage(t *testing.T) {
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	os.WriteFile(ca, []byte("not a certificate"), 0o644)
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no join", []string{"--token", "t", "--ca", ca}, ExitUsage, "--join is required"},
		{"no ca", []string{"--join", "h:1", "--token", "t"}, ExitUsage, "--ca is required"},
		{"bad allow", []string{"--join", "h:1", "--token", "t", "--ca", ca, "--allow", "10.0.0.0/33"}, ExitUsage, "not a CIDR"},
		{"extra argument", []string{"--join", "h:1", "x"}, ExitUsage, "unexpected argument"},
		{"bad CA file", []string{"--join", "127.0.0.1:1", "--token", "t", "--ca", ca}, ExitRefused, "no PEM certificate"},
		{"unknown flag", []string{"--nope"}, ExitUsage, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(TokenEnv, "")
			var stdout, stderr bytes.Buffer
			if code := Main(tt.args, &stdout, &stderr); code != tt.code || !strings.Contains(stderr.String(), tt.msg) {
				t.Fatalf("exit %d, stderr %q; want %d, %q", code, stderr.String(), tt.code, tt.msg)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	_, err := net.DialTimeout("tcp", "127.0.0.1:1", time.Second)
	if code, _ := classify(err); code != tunnelwire.ReplyRefused {
		t.Fatalf("refused classified as %d", code)
	}
	if code, _ := classify(context.DeadlineExceeded); code != tunnelwire.ReplyTimeout {
		t.Fatalf("timeout classified as %d", code)
	}
	if code, _ := classify(errors.New("x")); code != tunnelwire.ReplyUnreachable {
		t.Fatalf("other classified as %d", code)
	}
}
