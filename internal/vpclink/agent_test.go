package vpclink

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/certs"
	"gatehouse/internal/linkagent"
	"gatehouse/internal/vpclink/tunnelwire"
)

// agentSetup registers an NLB in vpc (account) with one TCP listener on port 80
// forwarding to targets, and a V1 link named link.
func agentDocs(account, vpc, link string, targets ...netip.AddrPort) Documents {
	tg := tgDoc(account, link+"-tg", vpc, "TCP", targets...)
	off := false
	tg.HealthCheckEnabled = &off
	nlb := lbDoc(account, "network", link+"-nlb", vpc)
	return Documents{
		TargetGroups: []apimodel.TargetGroup{tg}, LoadBalancers: []apimodel.LoadBalancer{nlb},
		Listeners: []apimodel.Listener{listenerDoc(account, "network", link+"-nlb", 80, "TCP", tg.TargetGroupArn)},
		Links:     []apimodel.VpcLinkRecord{linkV1(account, link, nlb.LoadBalancerArn)},
	}
}

func merge(ds ...Documents) Documents {
	var out Documents
	for _, d := range ds {
		out.TargetGroups = append(out.TargetGroups, d.TargetGroups...)
		out.LoadBalancers = append(out.LoadBalancers, d.LoadBalancers...)
		out.Listeners = append(out.Listeners, d.Listeners...)
		out.Links = append(out.Links, d.Links...)
		out.AgentTokens = append(out.AgentTokens, d.AgentTokens...)
	}
	return out
}

func TestAgentCarriesTraffic(t *testing.T) {
	leakCheck(t)
	e := newEnv(t, testTopology, nil)
	b := startBackend(t, "127.72.1.10", "private")
	e.update(agentDocs(acct1, vpcB, "blink", b.addr))
	if e.m.Routable(vpcB) || !e.m.Routable(vpcA) {
		t.Fatalf("routable: B %v A %v", e.m.Routable(vpcB), e.m.Routable(vpcA))
	}
	r := e.resolve(acct1, "blink", "", "http://nlb.internal")
	_, err := get(context.Background(), r, TLSOptions{}, "http://nlb.internal/")
	if !errors.Is(err, ErrNoAgent) || HTTPStatus(err) != http.StatusBadGateway {
		t.Fatalf("without an agent: %v", err)
	}
	a := e.startAgent(tokenB, "agent-1", nil)
	w := a.waitJoined(t)
	if w.VpcID != vpcB || w.Account != acct1 || strings.Join(w.CIDRs, ",") != "127.72.0.0/16" {
		t.Fatalf("welcome %+v", w)
	}
	waitFor(t, "agent registered", func() bool { return len(e.m.Agents(vpcB)) == 1 })
	body, err := get(context.Background(), r, TLSOptions{}, "http://nlb.internal/hello")
	if err != nil || !strings.HasPrefix(body, "private GET /hello") {
		t.Fatalf("through the agent: %q, %v", body, err)
	}
	// A request body larger than the yamux window goes through.
	big := bytes.Repeat([]byte("x"), 9<<20)
	req, _ := http.NewRequest(http.MethodPost, "http://nlb.internal/upload", bytes.NewReader(big))
	resp, err := r.testTransport(TLSOptions{}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(got), "body=9437184") {
		t.Fatalf("upload: %q", got)
	}
	if n := counterValue(t, e.reg, "gateway_vpclink_agent_bytes_total", map[string]string{"vpc": vpcB, "agent": "agent-1", "direction": "to_target"}); n < 9<<20 {
		t.Fatalf("bytes to target %v", n)
	}
	if n := counterValue(t, e.reg, "gateway_vpclink_agent_streams_total", map[string]string{"vpc": vpcB}); n < 1 {
		t.Fatalf("streams %v", n)
	}
	if n := counterValue(t, a.reg, "gateway_linkagent_bytes_total", map[string]string{"direction": "from_target"}); n == 0 {
		t.Fatal("agent-side byte counter is zero")
	}
	// Health checks go through the agent too.
	tg := agentDocs(acct1, vpcB, "blink", b.addr).TargetGroups[0]
	on := true
	tg.HealthCheckEnabled = &on
	docs := agentDocs(acct1, vpcB, "blink", b.addr)
	docs.TargetGroups[0] = tg
	e.update(docs)
	waitFor(t, "healthy through the agent", func() bool { return targetState(e.m, tg.TargetGroupArn, b.addr) == "healthy" })
}

func TestAgentRefusesAddressesOutsideItsVPC(t *testing.T) {
	leakCheck(t)
	e := newEnv(t, testTopology, nil)
	a := e.startAgent(tokenB, "agent-1", func(o *linkagent.Options) {
		o.Allow = []netip.Prefix{netip.MustParsePrefix("127.72.9.0/24")}
	})
	a.waitJoined(t)
	waitFor(t, "agent registered", func() bool { return len(e.m.Agents(vpcB)) == 1 })
	ctx := context.Background()
	tests := []struct {
		name, addr, reason string
	}{
		{"outside the VPC", "127.71.1.1:80", "forbidden"},
		{"outside the allow-list", "127.72.1.1:80", "forbidden"},
		{"allowed but closed", "127.72.9.1:1", "refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.m.tun.dial(ctx, vpcB, netip.MustParseAddrPort(tt.addr))
			var de *DialError
			if !errors.As(err, &de) || de.Reason != tt.reason || de.Agent != "agent-1" {
				t.Fatalf("err %v, want reason %s", err, tt.reason)
			}
		})
	}
	if n := counterValue(t, a.reg, "gateway_linkagent_streams_total", map[string]string{"result": "forbidden"}); n != 2 {
		t.Fatalf("agent counted %v forbidden connects", n)
	}
	t.Run("another VPC's address is never sent to this agent", func(t *testing.T) {
		// vpcC has no agent: its addresses must not go through vpcB's.
		_, err := e.m.DialVPC(ctx, vpcC, "tcp", "127.72.9.1:1")
		if !errors.Is(err, ErrNoAgent) {
			t.Fatalf("err %v", err)
		}
	})
}

func TestAgentTokenRefused(t *testing.T) {
	leakCheck(t)
	e := newEnv(t, testTopology, nil)
	const stored, revoked = "stored-token-0123456789", "revoked-token-0123456789"
	e.update(Documents{AgentTokens: []apimodel.AgentToken{
		{Account: acct1, VpcID: vpcB, TokenID: "t1", TokenSHA256: apimodel.AgentTokenHash(stored)},
		{Account: acct1, VpcID: vpcB, TokenID: "t2", TokenSHA256: apimodel.AgentTokenHash(revoked), Revoked: true},
	}})
	run := func(token string) error {
		a := e.startAgent(token, "x", nil)
		select {
		case err := <-a.done:
			a.done <- err
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("agent kept running")
		}
		return nil
	}
	tests := []struct {
		name, token, code string
	}{
		{"unknown", "no-such-token-0123456789", tunnelwire.CodeUnknownToken},
		{"revoked", revoked, tunnelwire.CodeRevokedToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(tt.token)
			var re *linkagent.RefusedError
			if !errors.As(err, &re) || re.Code != tt.code {
				t.Fatalf("Run: %v, want code %s", err, tt.code)
			}
		})
	}
	t.Run("revoked while connected", func(t *testing.T) {
		a := e.startAgent(stored, "y", nil)
		a.waitJoined(t)
		waitFor(t, "agent registered", func() bool { return len(e.m.Agents(vpcB)) == 1 })
		e.update(Documents{AgentTokens: []apimodel.AgentToken{
			{Account: acct1, VpcID: vpcB, TokenID: "t1", TokenSHA256: apimodel.AgentTokenHash(stored), Revoked: true},
		}})
		select {
		case err := <-a.done:
			a.done <- err
			var re *linkagent.RefusedError
			if !errors.As(err, &re) || re.Code != tunnelwire.CodeRevokedToken {
				t.Fatalf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("agent with a revoked token kept running")
		}
		if n := len(e.m.Agents(vpcB)); n != 0 {
			t.Fatalf("%d agents still registered", n)
		}
	})
	t.Run("Main exits non-zero with a message", func(t *testing.T) {
		caFile := filepath.Join(t.TempDir(), "ca.pem")
		if err := os.WriteFile(caFile, e.ca.CertPEM(), 0o644); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		// stored was revoked by the previous subtest.
		code := linkagent.Main([]string{"--join", e.tunnelAddr, "--token", stored, "--ca", caFile}, &stdout, &stderr)
		if code != linkagent.ExitRefused || !strings.Contains(stderr.String(), "revoked") || !strings.Contains(stderr.String(), "not retrying") {
			t.Fatalf("exit %d, stderr %q", code, stderr.String())
		}
		code = linkagent.Main([]string{"--join", e.tunnelAddr, "--ca", caFile}, &stdout, &stderr)
		if code != linkagent.ExitUsage {
			t.Fatalf("without a token: exit %d", code)
		}
	})
	t.Run("wrong CA", func(t *testing.T) {
		other, err := certs.LoadOrCreateCA(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		err = linkagent.Run(context.Background(), linkagent.Options{Join: e.tunnelAddr, Token: stored, CAPEM: other.CertPEM()})
		var ce *linkagent.ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "CA") {
			t.Fatalf("Run: %v", err)
		}
	})
}

func TestAgentsBalancedAndFailover(t *testing.T) {
	leakCheck(t)
	e := newEnv(t, testTopology, nil)
	b := startBackend(t, "127.72.1.20", "ha")
	e.update(agentDocs(acct1, vpcB, "halink", b.addr))
	one := func(o *linkagent.Options) { o.Connections = 1 }
	a1 := e.startAgent(tokenB, "agent-1", one)
	a2 := e.startAgent(tokenB, "agent-2", one)
	a1.waitJoined(t)
	a2.waitJoined(t)
	waitFor(t, "two agents", func() bool { return len(e.m.Agents(vpcB)) == 2 })
	ctx := context.Background()
	var conns []net.Conn
	for range 10 {
		c, err := e.m.DialVPC(ctx, vpcB, "tcp", b.addr.String())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for _, ai := range e.m.Agents(vpcB) {
		if ai.Streams != 5 {
			t.Fatalf("agent %s carries %d of 10 connections", ai.Name, ai.Streams)
		}
	}
	for _, c := range conns {
		c.Close()
	}
	waitFor(t, "streams released", func() bool {
		for _, ai := range e.m.Agents(vpcB) {
			if ai.Streams != 0 {
				return false
			}
		}
		return true
	})
	a1.stop()
	waitFor(t, "one agent", func() bool { return len(e.m.Agents(vpcB)) == 1 })
	r := e.resolve(acct1, "halink", "", "")
	for range 10 {
		if _, err := get(ctx, r, TLSOptions{}, "http://x/"); err != nil {
			t.Fatalf("after failover: %v", err)
		}
	}
	if got := e.m.Agents(vpcB)[0].Name; got != "agent-2" {
		t.Fatalf("remaining agent %s", got)
	}
}

func TestAgentDroppedMidStream(t *testing.T) {
	leakCheck(t)
	e := newEnv(t, testTopology, nil)
	b := startBackend(t, "127.72.1.30", "stream")
	e.update(agentDocs(acct1, vpcB, "slink", b.addr))
	a := e.startAgent(tokenB, "agent-1", nil)
	a.waitJoined(t)
	waitFor(t, "agent registered", func() bool { return len(e.m.Agents(vpcB)) == 1 })
	r := e.resolve(acct1, "slink", "", "")

	const n = 8
	var wg sync.WaitGroup
	var failedFast atomic.Int64
	started := make(chan struct{}, n)
	var dropped atomic.Int64 // unix nanos of the drop
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodGet, "http://x/slow", nil)
			resp, err := r.testTransport(TLSOptions{}).RoundTrip(req)
			if err != nil {
				t.Errorf("request: %v", err)
				started <- struct{}{}
				return
			}
			defer resp.Body.Close()
			buf := make([]byte, 8)
			io.ReadFull(resp.Body, buf)
			started <- struct{}{}
			_, err = io.Copy(io.Discard, resp.Body)
			if err != nil && time.Since(time.Unix(0, dropped.Load())) < time.Second {
				failedFast.Add(1)
			}
		}()
	}
	for range n {
		<-started
	}
	dropped.Store(time.Now().UnixNano())
	a.stop()
	wg.Wait()
	if got := failedFast.Load(); got != n {
		t.Fatalf("%d of %d in-flight requests failed within 1 s of the drop", got, n)
	}
	start := time.Now()
	if _, err := get(context.Background(), r, TLSOptions{}, "http://x/"); !errors.Is(err, ErrNoAgent) || time.Since(start) > 100*time.Millisecond {
		t.Fatalf("request without an agent: %v after %v", err, time.Since(start))
	}
	restarted := time.Now()
	a2 := e.startAgent(tokenB, "agent-1", nil)
	a2.waitJoined(t)
	waitFor(t, "service restored", func() bool {
		_, err := get(context.Background(), r, TLSOptions{}, "http://x/")
		return err == nil
	})
	if d := time.Since(restarted); d > 2*time.Second {
		t.Fatalf("service restored after %v", d)
	}
}

func TestOverlappingVPCsUseTheirOwnAgents(t *testing.T) {
	leakCheck(t)
	e := newEnv(t, testTopology, nil)
	// One backend address serves both VPCs on loopback; each agent tags what it carries.
	b := startBackend(t, "127.72.1.40", "shared")
	e.update(merge(agentDocs(acct1, vpcB, "blink", b.addr), agentDocs(acct2, vpcC, "clink", b.addr)))
	var viaB, viaC atomic.Int64
	counting := func(n *atomic.Int64) func(*linkagent.Options) {
		return func(o *linkagent.Options) {
			o.Dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
				n.Add(1)
				var d net.Dialer
				return d.DialContext(ctx, network, addr)
			}
		}
	}
	ab := e.startAgent(tokenB, "agent-b", counting(&viaB))
	ac := e.startAgent(tokenC, "agent-c", counting(&viaC))
	if w := ab.waitJoined(t); w.VpcID != vpcB {
		t.Fatalf("agent b joined %s", w.VpcID)
	}
	if w := ac.waitJoined(t); w.VpcID != vpcC || w.Account != acct2 {
		t.Fatalf("agent c joined %s/%s", w.Account, w.VpcID)
	}
	waitFor(t, "agents registered", func() bool { return len(e.m.Agents(vpcB)) == 1 && len(e.m.Agents(vpcC)) == 1 })
	ctx := context.Background()
	rb := e.resolve(acct1, "blink", "", "")
	rc := e.resolve(acct2, "clink", "", "")
	for range 5 {
		if _, err := get(ctx, rb, TLSOptions{}, "http://x/"); err != nil {
			t.Fatal(err)
		}
	}
	if viaB.Load() == 0 || viaC.Load() != 0 {
		t.Fatalf("account 1's requests: via b %d, via c %d", viaB.Load(), viaC.Load())
	}
	before := viaB.Load()
	for range 5 {
		if _, err := get(ctx, rc, TLSOptions{}, "http://x/"); err != nil {
			t.Fatal(err)
		}
	}
	if viaC.Load() == 0 || viaB.Load() != before {
		t.Fatalf("account 2's requests: via b %d, via c %d", viaB.Load()-before, viaC.Load())
	}
}
