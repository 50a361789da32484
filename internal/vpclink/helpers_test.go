package vpclink

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/certs"
	"gatehouse/internal/config"
	"gatehouse/internal/linkagent"
	"gatehouse/internal/vpclink/tunnelwire"
)

const (
	acct1 = "111111111111"
	acct2 = "222222222222"
	// vpcA is routable (peering), 127.71.0.0/16.
	vpcA    = "vpc-0aaaaaaaaaaaaaaa1"
	subnetA = "subnet-0aaaaaaaaaaaaaaa1"
	// vpcB is reached through agents (token tokenB), 127.72.0.0/16.
	vpcB    = "vpc-0bbbbbbbbbbbbbbb2"
	subnetB = "subnet-0bbbbbbbbbbbbbbb2"
	tokenB  = "agent-token-bbbbbbbbbbbb"
	// vpcC is account 2's, overlapping vpcB, reached through agents (token tokenC).
	vpcC    = "vpc-0ccccccccccccccc3"
	subnetC = "subnet-0ccccccccccccccc3"
	tokenC  = "agent-token-cccccccccccc"
)

const testTopology = `region: us-east-1
controlPlane: {listen: 127.0.0.1:0}
publicListener: {listen: 127.0.0.1:0}
tunnelListener: {listen: 127.0.0.1:0}
accounts:
  - {id: "111111111111", accessKeys: [{id: AKIAPROVIDER00000001, secret: s}]}
  - {id: "222222222222", accessKeys: [{id: AKIACONSUMER00000001, secret: s}]}
vpcs:
  - id: vpc-0aaaaaaaaaaaaaaa1
    account: "111111111111"
    cidr: 127.71.0.0/16
    subnets: [{id: subnet-0aaaaaaaaaaaaaaa1, cidr: 127.71.1.0/24}]
  - id: vpc-0bbbbbbbbbbbbbbb2
    account: "111111111111"
    cidr: 127.72.0.0/16
    agentTokens: [agent-token-bbbbbbbbbbbb]
    subnets: [{id: subnet-0bbbbbbbbbbbbbbb2, cidr: 127.72.1.0/24}]
  - id: vpc-0ccccccccccccccc3
    account: "222222222222"
    cidr: 127.72.0.0/16
    agentTokens: [agent-token-cccccccccccc]
    subnets: [{id: subnet-0ccccccccccccccc3, cidr: 127.72.1.0/24}]
`

func parseTopology(tb testing.TB, doc string) *config.Topology {
	tb.Helper()
	topo, err := config.Parse([]byte(doc))
	if err != nil {
		tb.Fatalf("topology: %v", err)
	}
	return topo
}

// leakCheck fails the test if goroutines started during it are still running at the
// end. Register it first, so that it runs after every other cleanup.
func leakCheck(tb testing.TB) {
	tb.Helper()
	before := countGoroutines()
	tb.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			n := countGoroutines()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				tb.Errorf("goroutine leak: %d before, %d after\n%s", before, n, buf)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// countGoroutines counts goroutines, leaving out the process-wide signal watcher
// (started once by os/signal and never ended).
func countGoroutines() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.TrimSpace(g) == "" || strings.Contains(g, "os/signal.signal_recv") || strings.Contains(g, "os/signal.loop") {
			continue
		}
		count++
	}
	return count
}

// testEnv is a Manager with a tunnel listener and gatehouse's CA.
type testEnv struct {
	tb         testing.TB
	topo       *config.Topology
	ca         *certs.CA
	reg        *prometheus.Registry
	m          *Manager
	tunnelAddr string
}

func newEnv(tb testing.TB, topology string, tweak func(*Options)) *testEnv {
	tb.Helper()
	ca, err := certs.LoadOrCreateCA(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	e := &testEnv{tb: tb, topo: parseTopology(tb, topology), ca: ca, reg: prometheus.NewRegistry()}
	opts := Options{
		Topology:            e.topo,
		Registry:            e.reg,
		RootCAs:             ca.Pool(),
		IssueCertificate:    func(names []string) (*tls.Certificate, error) { return ca.Issue(names, nil) },
		HealthCheckInterval: 25 * time.Millisecond,
		HealthCheckTimeout:  250 * time.Millisecond,
		EjectDuration:       500 * time.Millisecond,
	}
	if tweak != nil {
		tweak(&opts)
	}
	e.m, err = New(opts)
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	cfg, err := ca.ServerTLSConfig([]string{"tunnel.gatehouse.internal"}, []netip.Addr{netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		tb.Fatal(err)
	}
	e.tunnelAddr = ln.Addr().String()
	done := make(chan error, 1)
	go func() { done <- e.m.ServeTunnel(ln, cfg) }()
	tb.Cleanup(func() {
		e.m.Close()
		if err := <-done; !errors.Is(err, ErrClosed) {
			tb.Errorf("ServeTunnel: %v", err)
		}
	})
	return e
}

func (e *testEnv) update(d Documents) {
	e.tb.Helper()
	if err := e.m.Update(d); err != nil {
		e.tb.Fatalf("Update: %v", err)
	}
}

// agentHandle is a link agent running in-process.
type agentHandle struct {
	cancel context.CancelFunc
	done   chan error
	joined chan tunnelwire.Welcome
	reg    *prometheus.Registry
}

func (e *testEnv) startAgent(token, name string, tweak func(*linkagent.Options)) *agentHandle {
	e.tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h := &agentHandle{cancel: cancel, done: make(chan error, 1), joined: make(chan tunnelwire.Welcome, 16), reg: prometheus.NewRegistry()}
	opts := linkagent.Options{
		Join: e.tunnelAddr, Token: token, CAPEM: e.ca.CertPEM(), Name: name, Registry: h.reg,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond,
		OnJoin: func(w tunnelwire.Welcome) {
			select {
			case h.joined <- w:
			default:
			}
		},
	}
	if tweak != nil {
		tweak(&opts)
	}
	go func() { h.done <- linkagent.Run(ctx, opts) }()
	e.tb.Cleanup(h.stop)
	return h
}

func (h *agentHandle) stop() {
	h.cancel()
	<-h.done
	select {
	case h.done <- nil: // keep stop idempotent
	default:
	}
}

func (h *agentHandle) waitJoined(tb testing.TB) tunnelwire.Welcome {
	tb.Helper()
	select {
	case w := <-h.joined:
		return w
	case err := <-h.done:
		tb.Fatalf("agent ended before joining: %v", err)
	case <-time.After(10 * time.Second):
		tb.Fatal("agent did not join")
	}
	return tunnelwire.Welcome{}
}

// waitFor polls cond until it holds or 10 s pass.
func waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// backend is an HTTP server standing in for a target.
type backend struct {
	tb      testing.TB
	name    string
	addr    netip.AddrPort
	tlsCfg  *tls.Config
	hits    atomic.Int64
	healthy atomic.Bool

	mu  sync.Mutex
	srv *http.Server
}

func startBackend(tb testing.TB, ip, name string) *backend {
	tb.Helper()
	b := &backend{tb: tb, name: name}
	b.healthy.Store(true)
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		tb.Fatal(err)
	}
	b.addr = netip.MustParseAddrPort(ln.Addr().String())
	b.serve(ln)
	tb.Cleanup(b.kill)
	return b
}

func (b *backend) serve(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(b.handle), ReadHeaderTimeout: 5 * time.Second,
		ErrorLog: log.New(io.Discard, "", 0)}
	if b.tlsCfg != nil {
		ln = tls.NewListener(ln, b.tlsCfg)
	}
	b.mu.Lock()
	b.srv = srv
	b.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

func (b *backend) handle(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/health":
		if !b.healthy.Load() {
			http.Error(w, "sick", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok")
		return
	case "/slow":
		// Streams a chunk every 10 ms for up to 2 s.
		b.hits.Add(1)
		fl := w.(http.Flusher)
		for i := 0; i < 200; i++ {
			if _, err := fmt.Fprintf(w, "%s chunk %d\n", b.name, i); err != nil {
				return
			}
			fl.Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
		return
	case "/bulk":
		// 1 MiB.
		w.Header().Set("Content-Length", strconv.Itoa(len(bulk)))
		w.Write(bulk)
		return
	case "/hang":
		b.hits.Add(1)
		// Read the body so the server notices the client going away.
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
		return
	}
	b.hits.Add(1)
	n, _ := io.Copy(io.Discard, r.Body)
	cert := ""
	if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
		cert = " cert=" + r.TLS.PeerCertificates[0].Subject.CommonName + strings.Join(r.TLS.PeerCertificates[0].DNSNames, ",")
	}
	fmt.Fprintf(w, "%s %s %s host=%s body=%d%s", b.name, r.Method, r.URL.Path, r.Host, n, cert)
}

var bulk = make([]byte, 1<<20)

// kill stops the server and closes its connections, like a crashed process.
func (b *backend) kill() {
	b.mu.Lock()
	srv := b.srv
	b.srv = nil
	b.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// restart listens again on the same address.
func (b *backend) restart() {
	b.tb.Helper()
	ln, err := net.Listen("tcp", b.addr.String())
	if err != nil {
		b.tb.Fatal(err)
	}
	b.serve(ln)
}

// Documents builders.

func hexID(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

func tgARN(account, name string) string {
	return "arn:aws:elasticloadbalancing:us-east-1:" + account + ":targetgroup/" + name + "/" + hexID(name)
}

func lbARN(account, typ, name string) string {
	t := "net"
	if typ == apimodel.LoadBalancerApplication {
		t = "app"
	}
	return "arn:aws:elasticloadbalancing:us-east-1:" + account + ":loadbalancer/" + t + "/" + name + "/" + hexID(name)
}

func listenerARN(account, typ, name string, port int) string {
	t := "net"
	if typ == apimodel.LoadBalancerApplication {
		t = "app"
	}
	return fmt.Sprintf("arn:aws:elasticloadbalancing:us-east-1:%s:listener/%s/%s/%s/%s", account, t, name, hexID(name), hexID(fmt.Sprint(name, port)))
}

func tgDoc(account, name, vpc, protocol string, targets ...netip.AddrPort) apimodel.TargetGroup {
	doc := apimodel.TargetGroup{
		Account: account, TargetGroupArn: tgARN(account, name), TargetGroupName: name,
		Protocol: protocol, Port: 80, VpcID: vpc, TargetType: apimodel.TargetTypeIP,
		HealthCheckPath: "/health", HealthyThresholdCount: 2, UnhealthyThresholdCount: 2,
		Attributes: map[string]string{apimodel.AttrDeregistrationDelay: "1"},
	}
	if protocol == apimodel.ProtocolTCP || protocol == apimodel.ProtocolTLS {
		doc.HealthCheckProtocol = apimodel.ProtocolHTTP
	}
	for _, t := range targets {
		doc.Targets = append(doc.Targets, apimodel.TargetRegistration{TargetDescription: apimodel.TargetDescription{ID: t.Addr().String(), Port: int(t.Port())}})
	}
	return doc
}

func lbDoc(account, typ, name, vpc string) apimodel.LoadBalancer {
	dns := name + "-" + hexID(name) + ".elb.us-east-1.amazonaws.com"
	return apimodel.LoadBalancer{Account: account, LoadBalancerArn: lbARN(account, typ, name), LoadBalancerName: name,
		Type: typ, VpcID: vpc, Scheme: apimodel.SchemeInternal, DNSName: dns, State: apimodel.LoadBalancerState{Code: apimodel.LoadBalancerActive}}
}

func listenerDoc(account, typ, name string, port int, protocol, defaultTG string) apimodel.Listener {
	return apimodel.Listener{Account: account, ListenerArn: listenerARN(account, typ, name, port), LoadBalancerArn: lbARN(account, typ, name),
		Port: port, Protocol: protocol, DefaultActions: []apimodel.Action{{Type: apimodel.ActionForward, TargetGroupArn: defaultTG}}}
}

func linkV1(account, id string, nlbs ...string) apimodel.VpcLinkRecord {
	return apimodel.VpcLinkRecord{Account: account, Version: apimodel.VpcLinkVersion1,
		V1: &apimodel.VpcLink{ID: id, Name: id, TargetArns: nlbs, Status: apimodel.VpcLinkAvailable}}
}

func linkV2(account, id string, subnets ...string) apimodel.VpcLinkRecord {
	return apimodel.VpcLinkRecord{Account: account, Version: apimodel.VpcLinkVersion2,
		V2: &apimodel.VpcLinkV2{VpcLinkID: id, Name: id, SubnetIDs: subnets, VpcLinkStatus: apimodel.VpcLinkAvailable, VpcLinkVersion: "V2"}}
}

// get sends one GET through route and returns the body.
func get(ctx context.Context, route *Route, o TLSOptions, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := route.testTransport(o).RoundTrip(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	return string(b), nil
}

func (e *testEnv) resolve(account, link, target, uri string) *Route {
	e.tb.Helper()
	r, err := e.m.Resolve(Request{Account: account, ConnectionID: link, IntegrationTarget: target, URI: uri})
	if err != nil {
		e.tb.Fatalf("Resolve: %v", err)
	}
	return r
}

// counterValue sums a counter family's samples whose labels include match.
func counterValue(tb testing.TB, reg *prometheus.Registry, name string, match map[string]string) float64 {
	tb.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for k, v := range match {
				if labelValue(m, k) != v {
					continue next
				}
			}
			switch {
			case m.Counter != nil:
				total += m.Counter.GetValue()
			case m.Gauge != nil:
				total += m.Gauge.GetValue()
			}
		}
	}
	return total
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func netListen(ip string) (net.Listener, error) { return net.Listen("tcp", net.JoinHostPort(ip, "0")) }
