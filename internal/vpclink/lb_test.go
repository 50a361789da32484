package vpclink

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/internal/apimodel"
)

func TestALBPathRules(t *testing.T) {
	leakCheck(t)
	e := newEnv(t, testTopology, nil)
	o1 := startBackend(t, "127.71.1.11", "orders-1")
	o2 := startBackend(t, "127.71.1.12", "orders-2")
	u1 := startBackend(t, "127.71.1.13", "users-1")
	orders := tgDoc(acct1, "orders", vpcA, "HTTP", o1.addr, o2.addr)
	users := tgDoc(acct1, "users", vpcA, "HTTP", u1.addr)
	rule := apimodel.Rule{Account: acct1, ListenerArn: listenerARN(acct1, "application", "api-alb", 80), RuleArn: "arn:rule/1", Priority: "10",
		Conditions: []apimodel.RuleCondition{{Field: apimodel.ConditionPathPattern, PathPatternConfig: &apimodel.PathPatternConditionConfig{Values: []string{"/users/*"}}}},
		Actions:    []apimodel.Action{{Type: apimodel.ActionForward, TargetGroupArn: users.TargetGroupArn}}}
	hostRule := apimodel.Rule{Account: acct1, ListenerArn: rule.ListenerArn, RuleArn: "arn:rule/2", Priority: "5",
		Conditions: []apimodel.RuleCondition{{Field: apimodel.ConditionHostHeader, Values: []string{"maintenance.example.com"}}},
		Actions:    []apimodel.Action{{Type: apimodel.ActionFixedResponse, FixedResponseConfig: &apimodel.FixedResponseActionConfig{StatusCode: "503", ContentType: "text/plain", MessageBody: "down"}}}}
	e.update(Documents{
		TargetGroups:  []apimodel.TargetGroup{orders, users},
		LoadBalancers: []apimodel.LoadBalancer{lbDoc(acct1, "application", "api-alb", vpcA)},
		Listeners:     []apimodel.Listener{listenerDoc(acct1, "application", "api-alb", 80, "HTTP", orders.TargetGroupArn)},
		Rules:         []apimodel.Rule{rule, hostRule},
		Links:         []apimodel.VpcLinkRecord{linkV2(acct1, "alblink", subnetA)},
	})
	ctx := context.Background()
	tests := []struct {
		name, target, uri, url, want string
	}{
		{"load balancer ARN, path rule", lbARN(acct1, "application", "api-alb"), "http://api.example.com", "http://api.example.com/users/7", "users-1 GET /users/7 host=api.example.com"},
		{"listener ARN, path rule", rule.ListenerArn, "", "http://api.example.com/users/8", "users-1 GET /users/8"},
		{"default action", rule.ListenerArn, "", "http://api.example.com/orders/1", "orders-"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.resolve(acct1, "alblink", tt.target, tt.uri)
			if r.VpcID != vpcA {
				t.Fatalf("route VPC %s", r.VpcID)
			}
			body, err := get(ctx, r, TLSOptions{}, tt.url)
			if err != nil || !strings.HasPrefix(body, tt.want) {
				t.Fatalf("got %q, %v; want prefix %q", body, err, tt.want)
			}
		})
	}
	t.Run("round robin over the default group", func(t *testing.T) {
		r := e.resolve(acct1, "alblink", rule.ListenerArn, "")
		before1, before2 := o1.hits.Load(), o2.hits.Load()
		for range 20 {
			if _, err := get(ctx, r, TLSOptions{}, "http://api.example.com/orders"); err != nil {
				t.Fatal(err)
			}
		}
		if d1, d2 := o1.hits.Load()-before1, o2.hits.Load()-before2; d1 != 10 || d2 != 10 {
			t.Fatalf("orders-1 %d, orders-2 %d requests; want 10 each", d1, d2)
		}
	})
	t.Run("fixed response by host rule", func(t *testing.T) {
		r := e.resolve(acct1, "alblink", rule.ListenerArn, "")
		body, err := get(ctx, r, TLSOptions{}, "http://maintenance.example.com/users/1")
		if err == nil || body != "down" || !strings.Contains(err.Error(), "503") {
			t.Fatalf("got %q, %v", body, err)
		}
	})
	t.Run("https to an HTTP listener fails", func(t *testing.T) {
		r := e.resolve(acct1, "alblink", rule.ListenerArn, "")
		if _, err := get(ctx, r, TLSOptions{}, "https://api.example.com/users/1"); err == nil {
			t.Fatal("https through an HTTP listener succeeded")
		}
	})
	t.Run("raw dial is refused for an ALB", func(t *testing.T) {
		r := e.resolve(acct1, "alblink", rule.ListenerArn, "")
		if _, err := r.DialContext(ctx, TLSOptions{}); err == nil {
			t.Fatal("DialContext through an ALB succeeded")
		}
	})
}

func TestNLBPassThroughAndTermination(t *testing.T) {
	leakCheck(t)
	e := newEnv(t, testTopology, nil)
	plain := startBackend(t, "127.71.2.10", "plain")
	var secure *backend
	cert, err := e.ca.Issue([]string{"backend.internal"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	secure = startTLSBackend(t, "127.71.2.11", "secure", &tls.Config{Certificates: []tls.Certificate{*cert}})
	plainTG := tgDoc(acct1, "plain", vpcA, "TCP", plain.addr)
	secureTG := tgDoc(acct1, "secure", vpcA, "TCP", secure.addr)
	secureTG.HealthCheckProtocol = apimodel.ProtocolTCP
	nlb := lbDoc(acct1, "network", "api-nlb", vpcA)
	e.update(Documents{
		TargetGroups:  []apimodel.TargetGroup{plainTG, secureTG},
		LoadBalancers: []apimodel.LoadBalancer{nlb},
		Listeners: []apimodel.Listener{
			listenerDoc(acct1, "network", "api-nlb", 80, "TCP", plainTG.TargetGroupArn),
			listenerDoc(acct1, "network", "api-nlb", 8443, "TCP", secureTG.TargetGroupArn),
			listenerDoc(acct1, "network", "api-nlb", 443, "TLS", plainTG.TargetGroupArn),
		},
		Links: []apimodel.VpcLinkRecord{linkV1(acct1, "nlblink", nlb.LoadBalancerArn)},
	})
	ctx := context.Background()
	tests := []struct {
		name    string
		uri     string
		opts    TLSOptions
		wantErr string
		want    string
	}{
		{"plain TCP listener", "http://" + nlb.DNSName + "/x", TLSOptions{}, "", "plain GET /x host=" + nlb.DNSName},
		{"TLS pass-through, verified", "https://backend.internal:8443/y", TLSOptions{}, "", "secure GET /y"},
		{"TLS pass-through, wrong name", "https://other.internal:8443/y", TLSOptions{}, "certificate", ""},
		{"TLS pass-through, insecure still checks the name", "https://other.internal:8443/y", TLSOptions{InsecureSkipVerification: true}, "certificate", ""},
		{"TLS pass-through, serverName overrides", "https://10.1.1.1:8443/y", TLSOptions{ServerName: "backend.internal"}, "", "secure GET /y"},
		{"TLS listener terminates", "https://" + nlb.DNSName + "/z", TLSOptions{}, "", "plain GET /z"},
		{"TLS listener, wrong name", "https://wrong.example.com/z", TLSOptions{}, "certificate", ""},
		{"TLS listener, plain HTTP", "http://" + nlb.DNSName + ":443/z", TLSOptions{}, "plain HTTP", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.resolve(acct1, "nlblink", "", tt.uri)
			body, err := get(ctx, r, tt.opts, tt.uri)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %q, %v; want error %q", body, err, tt.wantErr)
				}
				return
			}
			if err != nil || !strings.HasPrefix(body, tt.want) {
				t.Fatalf("got %q, %v; want prefix %q", body, err, tt.want)
			}
		})
	}
	t.Run("raw TCP through the listener", func(t *testing.T) {
		r := e.resolve(acct1, "nlblink", "", "http://"+nlb.DNSName+":80")
		c, err := r.DialContext(ctx, TLSOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, "GET /raw HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		b, _ := io.ReadAll(c)
		if !strings.Contains(string(b), "plain GET /raw") {
			t.Fatalf("raw response %q", b)
		}
	})
	t.Run("no listener on the port", func(t *testing.T) {
		_, err := e.m.Resolve(Request{Account: acct1, ConnectionID: "nlblink", URI: "http://x:9999"})
		if !errors.Is(err, ErrTargetNotFound) || HTTPStatus(err) != http.StatusInternalServerError {
			t.Fatalf("err %v", err)
		}
	})
}

func startTLSBackend(tb testing.TB, ip, name string, cfg *tls.Config) *backend {
	tb.Helper()
	b := &backend{tb: tb, name: name, tlsCfg: cfg}
	b.healthy.Store(true)
	ln, err := netListen(ip)
	if err != nil {
		tb.Fatal(err)
	}
	b.addr = netip.MustParseAddrPort(ln.Addr().String())
	b.serve(ln)
	tb.Cleanup(b.kill)
	return b
}

func TestClientCertificate(t *testing.T) {
	leakCheck(t)
	e := newEnv(t, testTopology, nil)
	srvCert, err := e.ca.Issue([]string{"mtls.internal"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := startTLSBackend(t, "127.71.3.10", "mtls", &tls.Config{Certificates: []tls.Certificate{*srvCert},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: e.ca.Pool()})
	clientCert, err := e.ca.Issue([]string{"client.gatehouse.internal"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(clientCert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	rec := apimodel.ClientCertificateRecord{Account: acct1,
		ClientCertificate: apimodel.ClientCertificate{ClientCertificateID: "cc1",
			PemEncodedCertificate: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: clientCert.Certificate[0]}))},
		PrivateKeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))}
	tg := tgDoc(acct1, "mtls", vpcA, "TCP", b.addr)
	tg.HealthCheckProtocol = apimodel.ProtocolTCP
	nlb := lbDoc(acct1, "network", "mtls-nlb", vpcA)
	e.update(Documents{
		TargetGroups: []apimodel.TargetGroup{tg}, LoadBalancers: []apimodel.LoadBalancer{nlb},
		Listeners:   []apimodel.Listener{listenerDoc(acct1, "network", "mtls-nlb", 443, "TCP", tg.TargetGroupArn)},
		Links:       []apimodel.VpcLinkRecord{linkV1(acct1, "mtlslink", nlb.LoadBalancerArn)},
		ClientCerts: []apimodel.ClientCertificateRecord{rec},
	})
	r := e.resolve(acct1, "mtlslink", "", "https://mtls.internal")
	if _, err := get(context.Background(), r, TLSOptions{}, "https://mtls.internal/"); err == nil {
		t.Fatal("backend accepted a request without a client certificate")
	}
	body, err := get(context.Background(), r, TLSOptions{ClientCertificateID: "cc1"}, "https://mtls.internal/")
	if err != nil || !strings.Contains(body, "client.gatehouse.internal") {
		t.Fatalf("got %q, %v", body, err)
	}
	if _, err := get(context.Background(), r, TLSOptions{ClientCertificateID: "nope"}, "https://mtls.internal/"); !errors.Is(err, ErrTargetNotFound) {
		t.Fatalf("unknown client certificate: %v", err)
	}
}

// load sends requests through route from n goroutines until stop is closed, counting
// failures.
func load(route *Route, n int, url string, stop <-chan struct{}, failures, total *atomic.Int64, lastErr *atomic.Value) *sync.WaitGroup {
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				_, err := get(ctx, route, TLSOptions{}, url)
				cancel()
				total.Add(1)
				if err != nil {
					failures.Add(1)
					lastErr.Store(err.Error())
				}
			}
		}()
	}
	return &wg
}

func targetState(m *Manager, tg string, addr netip.AddrPort) string {
	hs := m.TargetHealth(tg)
	for _, h := range hs {
		if h.Target.ID == addr.Addr().String() && h.Target.Port == int(addr.Port()) {
			return h.TargetHealth.State
		}
	}
	return "absent"
}

func TestHealthChecksRemoveAndRestoreTargets(t *testing.T) {
	leakCheck(t)
	e := newEnv(t, testTopology, nil)
	b1 := startBackend(t, "127.71.4.11", "b1")
	b2 := startBackend(t, "127.71.4.12", "b2")
	tg := tgDoc(acct1, "health", vpcA, "HTTP", b1.addr, b2.addr)
	alb := lbDoc(acct1, "application", "health-alb", vpcA)
	e.update(Documents{
		TargetGroups: []apimodel.TargetGroup{tg}, LoadBalancers: []apimodel.LoadBalancer{alb},
		Listeners: []apimodel.Listener{listenerDoc(acct1, "application", "health-alb", 80, "HTTP", tg.TargetGroupArn)},
		Links:     []apimodel.VpcLinkRecord{linkV2(acct1, "hlink", subnetA)},
	})
	waitFor(t, "both targets healthy", func() bool {
		return targetState(e.m, tg.TargetGroupArn, b1.addr) == "healthy" && targetState(e.m, tg.TargetGroupArn, b2.addr) == "healthy"
	})
	r := e.resolve(acct1, "hlink", alb.LoadBalancerArn, "http://api.internal")

	stop := make(chan struct{})
	var failures, total atomic.Int64
	var lastErr atomic.Value
	wg := load(r, 4, "http://api.internal/work", stop, &failures, &total, &lastErr)

	time.Sleep(50 * time.Millisecond)
	killed := time.Now()
	b2.kill()
	waitFor(t, "b2 unhealthy", func() bool { return targetState(e.m, tg.TargetGroupArn, b2.addr) == "unhealthy" })
	// interval × unhealthy threshold = 50 ms, plus a check's timeout and scheduling.
	if d := time.Since(killed); d > 1500*time.Millisecond {
		t.Errorf("b2 left rotation after %v", d)
	}
	hits := b1.hits.Load()
	time.Sleep(100 * time.Millisecond)
	if b1.hits.Load() == hits {
		t.Error("b1 served nothing while b2 was down")
	}
	b2.healthy.Store(true)
	b2.restart()
	waitFor(t, "b2 healthy again", func() bool { return targetState(e.m, tg.TargetGroupArn, b2.addr) == "healthy" })
	hits2 := b2.hits.Load()
	waitFor(t, "b2 serving again", func() bool { return b2.hits.Load() > hits2 })
	close(stop)
	wg.Wait()
	if n := failures.Load(); n != 0 {
		t.Fatalf("%d of %d requests failed (last: %v)", n, total.Load(), lastErr.Load())
	}
	t.Logf("%d requests, none failed", total.Load())

	t.Run("failing health checks by status code", func(t *testing.T) {
		b1.healthy.Store(false)
		waitFor(t, "b1 unhealthy", func() bool { return targetState(e.m, tg.TargetGroupArn, b1.addr) == "unhealthy" })
		hs := e.m.TargetHealth(tg.TargetGroupArn)
		for _, h := range hs {
			if h.Target.ID == b1.addr.Addr().String() && h.TargetHealth.Reason != "Target.ResponseCodeMismatch" {
				t.Fatalf("reason %q", h.TargetHealth.Reason)
			}
		}
		b1.healthy.Store(true)
	})
}

func TestPassiveEjection(t *testing.T) {
	leakCheck(t)
	e := newEnv(t, testTopology, nil)
	b1 := startBackend(t, "127.71.5.11", "b1")
	b2 := startBackend(t, "127.71.5.12", "b2")
	off := false
	tg := tgDoc(acct1, "passive", vpcA, "HTTP", b1.addr, b2.addr)
	tg.HealthCheckEnabled = &off
	alb := lbDoc(acct1, "application", "passive-alb", vpcA)
	e.update(Documents{
		TargetGroups: []apimodel.TargetGroup{tg}, LoadBalancers: []apimodel.LoadBalancer{alb},
		Listeners: []apimodel.Listener{listenerDoc(acct1, "application", "passive-alb", 80, "HTTP", tg.TargetGroupArn)},
		Links:     []apimodel.VpcLinkRecord{linkV2(acct1, "plink", subnetA)},
	})
	if s := targetState(e.m, tg.TargetGroupArn, b1.addr); s != "unavailable" {
		t.Fatalf("checks disabled: state %q", s)
	}
	r := e.resolve(acct1, "plink", alb.LoadBalancerArn, "")
	b2.kill()
	for i := range 20 {
		body, err := get(context.Background(), r, TLSOptions{}, "http://api.internal/p")
		if err != nil || !strings.HasPrefix(body, "b1") {
			t.Fatalf("request %d: %q, %v", i, body, err)
		}
	}
	if n := counterValue(t, e.reg, "gateway_vpclink_target_ejections_total", nil); n < 1 {
		t.Fatalf("ejections %v", n)
	}
	b1.kill()
	_, err := get(context.Background(), r, TLSOptions{}, "http://api.internal/p")
	if err == nil || HTTPStatus(err) != http.StatusBadGateway {
		t.Fatalf("all targets down: %v (status %d)", err, HTTPStatus(err))
	}
}

func TestDrainingOnDeregistration(t *testing.T) {
	leakCheck(t)
	var delay atomic.Int64
	delay.Store(int64(10 * time.Second))
	e := newEnv(t, testTopology, func(o *Options) {
		o.DeregistrationDelay = func(time.Duration) time.Duration { return time.Duration(delay.Load()) }
	})
	b1 := startBackend(t, "127.71.6.11", "b1")
	b2 := startBackend(t, "127.71.6.12", "b2")
	tg := tgDoc(acct1, "drain", vpcA, "HTTP", b1.addr)
	alb := lbDoc(acct1, "application", "drain-alb", vpcA)
	docs := Documents{
		TargetGroups: []apimodel.TargetGroup{tg}, LoadBalancers: []apimodel.LoadBalancer{alb},
		Listeners: []apimodel.Listener{listenerDoc(acct1, "application", "drain-alb", 80, "HTTP", tg.TargetGroupArn)},
		Links:     []apimodel.VpcLinkRecord{linkV2(acct1, "dlink", subnetA)},
	}
	e.update(docs)
	r := e.resolve(acct1, "dlink", alb.LoadBalancerArn, "")

	// A streaming request in flight on b1.
	req, _ := http.NewRequest(http.MethodGet, "http://api.internal/slow", nil)
	resp, err := r.testTransport(TLSOptions{}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	line := make([]byte, 8)
	if _, err := io.ReadFull(resp.Body, line); err != nil || !strings.HasPrefix(string(line), "b1") {
		t.Fatalf("first bytes %q, %v", line, err)
	}
	// Deregister b1, register b2.
	docs.TargetGroups = []apimodel.TargetGroup{tgDoc(acct1, "drain", vpcA, "HTTP", b2.addr)}
	e.update(docs)
	if s := targetState(e.m, tg.TargetGroupArn, b1.addr); s != "draining" {
		t.Fatalf("b1 state %q, want draining", s)
	}
	for range 5 {
		body, err := get(context.Background(), e.resolve(acct1, "dlink", alb.LoadBalancerArn, ""), TLSOptions{}, "http://api.internal/new")
		if err != nil || !strings.HasPrefix(body, "b2") {
			t.Fatalf("new request during draining: %q, %v", body, err)
		}
	}
	// The in-flight request completes.
	rest, err := io.ReadAll(resp.Body)
	if err != nil || !strings.Contains(string(rest), "chunk 199") {
		t.Fatalf("in-flight request: %d bytes, %v", len(rest), err)
	}
	resp.Body.Close()
	waitFor(t, "b1 gone once idle", func() bool { return targetState(e.m, tg.TargetGroupArn, b1.addr) == "absent" })

	t.Run("deregistration delay cuts long requests", func(t *testing.T) {
		delay.Store(int64(150 * time.Millisecond))
		docs.TargetGroups = []apimodel.TargetGroup{tgDoc(acct1, "drain", vpcA, "HTTP", b2.addr)}
		e.update(docs)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done := make(chan error, 1)
		before := b2.hits.Load()
		go func() {
			// POST: the HTTP client does not replay it on another connection.
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://api.internal/hang", strings.NewReader("x"))
			resp, err := r.testTransport(TLSOptions{}).RoundTrip(req)
			if err == nil {
				_, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			done <- err
		}()
		waitFor(t, "hang request in flight", func() bool { return b2.hits.Load() > before })
		docs.TargetGroups = []apimodel.TargetGroup{tgDoc(acct1, "drain", vpcA, "HTTP", b1.addr)}
		start := time.Now()
		e.update(docs)
		err := <-done
		if err == nil || time.Since(start) > 2*time.Second {
			t.Fatalf("hanging request ended after %v with %v", time.Since(start), err)
		}
	})
}

func TestCloudMapFilter(t *testing.T) {
	leakCheck(t)
	e := newEnv(t, testTopology, nil)
	prodBlue := startBackend(t, "127.71.7.11", "prod-blue")
	prodGreen := startBackend(t, "127.71.7.12", "prod-green")
	dev := startBackend(t, "127.71.7.13", "dev")
	sick := startBackend(t, "127.71.7.14", "prod-green-sick")
	inst := func(id string, b *backend, attrs map[string]string, health string) apimodel.Instance {
		a := map[string]string{apimodel.AttrInstanceIPv4: b.addr.Addr().String(), apimodel.AttrInstancePort: strconv.Itoa(int(b.addr.Port()))}
		for k, v := range attrs {
			a[k] = v
		}
		return apimodel.Instance{Account: acct1, ServiceID: "srv-orders", ID: id, Attributes: a, HealthStatus: health}
	}
	svcARN := "arn:aws:servicediscovery:us-east-1:" + acct1 + ":service/srv-orders"
	e.update(Documents{
		Namespaces: []apimodel.Namespace{{Account: acct1, ID: "ns-1", Name: "internal", Type: apimodel.NamespaceHTTP}},
		Services:   []apimodel.Service{{Account: acct1, ID: "srv-orders", Arn: svcARN, Name: "orders", NamespaceID: "ns-1"}},
		Instances: []apimodel.Instance{
			inst("i-1", prodBlue, map[string]string{"stage": "prod", "deployment": "blue"}, ""),
			inst("i-2", prodGreen, map[string]string{"stage": "prod", "deployment": "green"}, apimodel.HealthHealthy),
			inst("i-3", dev, map[string]string{"stage": "dev", "deployment": "green"}, ""),
			inst("i-4", sick, map[string]string{"stage": "prod", "deployment": "green"}, apimodel.HealthUnhealthy),
		},
		Links: []apimodel.VpcLinkRecord{linkV2(acct1, "cmlink", subnetA)},
	})
	tests := []struct {
		name, query string
		want        []string
	}{
		{"stage=prod", "?stage=prod", []string{"prod-blue", "prod-green"}},
		{"two attributes", "?stage=prod&deployment=green", []string{"prod-green"}},
		{"no filter", "", []string{"dev", "prod-blue", "prod-green"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.resolve(acct1, "cmlink", svcARN+tt.query, "")
			seen := map[string]bool{}
			for range 12 {
				body, err := get(context.Background(), r, TLSOptions{}, "http://orders.internal/")
				if err != nil {
					t.Fatal(err)
				}
				seen[strings.Fields(body)[0]] = true
			}
			var got []string
			for _, n := range []string{"dev", "prod-blue", "prod-green", "prod-green-sick"} {
				if seen[n] {
					got = append(got, n)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("served by %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("nothing matches", func(t *testing.T) {
		r := e.resolve(acct1, "cmlink", svcARN+"?stage=qa", "")
		_, err := get(context.Background(), r, TLSOptions{}, "http://orders.internal/")
		if !errors.Is(err, ErrNoTargets) {
			t.Fatalf("err %v", err)
		}
	})
}

func TestResolveErrors(t *testing.T) {
	leakCheck(t)
	e := newEnv(t, testTopology, nil)
	tg := tgDoc(acct1, "r", vpcA, "TCP")
	nlb := lbDoc(acct1, "network", "r-nlb", vpcA)
	alb := lbDoc(acct1, "application", "r-alb", vpcA)
	pending := linkV1(acct1, "pending", nlb.LoadBalancerArn)
	pending.V1.Status = apimodel.VpcLinkPending
	deleting := linkV2(acct1, "deleting", subnetA)
	deleting.V2.VpcLinkStatus = apimodel.VpcLinkDeleting
	e.update(Documents{
		TargetGroups:  []apimodel.TargetGroup{tg},
		LoadBalancers: []apimodel.LoadBalancer{nlb, alb},
		Listeners:     []apimodel.Listener{listenerDoc(acct1, "network", "r-nlb", 80, "TCP", tg.TargetGroupArn)},
		Links: []apimodel.VpcLinkRecord{linkV1(acct1, "v1", nlb.LoadBalancerArn), linkV1(acct1, "v1alb", alb.LoadBalancerArn),
			linkV2(acct1, "v2", subnetA), linkV2(acct1, "v2b", subnetB), pending, deleting},
	})
	tests := []struct {
		name string
		req  Request
		want error
	}{
		{"unknown link", Request{Account: acct1, ConnectionID: "nope"}, ErrLinkNotFound},
		{"other account's link", Request{Account: acct2, ConnectionID: "v1"}, ErrLinkNotFound},
		{"pending", Request{Account: acct1, ConnectionID: "pending"}, ErrLinkPending},
		{"deleting", Request{Account: acct1, ConnectionID: "deleting", IntegrationTarget: nlb.LoadBalancerArn}, ErrLinkUnavailable},
		{"v1 to an ALB", Request{Account: acct1, ConnectionID: "v1alb"}, ErrTargetNotFound},
		{"v1 wrong port", Request{Account: acct1, ConnectionID: "v1", URI: "http://x:81"}, ErrTargetNotFound},
		{"v2 without target", Request{Account: acct1, ConnectionID: "v2"}, ErrTargetNotFound},
		{"v2 target of another account", Request{Account: acct1, ConnectionID: "v2", IntegrationTarget: lbARN(acct2, "network", "r-nlb")}, ErrTargetNotFound},
		{"v2 target in another VPC", Request{Account: acct1, ConnectionID: "v2b", IntegrationTarget: nlb.LoadBalancerArn}, ErrTargetNotFound},
		{"v2 target group ARN", Request{Account: acct1, ConnectionID: "v2", IntegrationTarget: tg.TargetGroupArn}, ErrTargetNotFound},
		{"v2 unknown Cloud Map service", Request{Account: acct1, ConnectionID: "v2", IntegrationTarget: "arn:aws:servicediscovery:us-east-1:" + acct1 + ":service/srv-x"}, ErrTargetNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.m.Resolve(tt.req)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
			if HTTPStatus(err) != http.StatusInternalServerError {
				t.Fatalf("status %d", HTTPStatus(err))
			}
		})
	}
	t.Run("ok", func(t *testing.T) {
		if _, err := e.m.Resolve(Request{Account: acct1, ConnectionID: "v1", URI: "http://x"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.m.Resolve(Request{Account: acct1, ConnectionID: "v2", IntegrationTarget: listenerARN(acct1, "network", "r-nlb", 80)}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("no registered targets", func(t *testing.T) {
		r := e.resolve(acct1, "v1", "", "")
		_, err := get(context.Background(), r, TLSOptions{}, "http://x/")
		if !errors.Is(err, ErrNoTargets) || HTTPStatus(err) != http.StatusBadGateway {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("link status", func(t *testing.T) {
		tests := []struct {
			rec  apimodel.VpcLinkRecord
			want string
		}{
			{linkV1(acct1, "a", nlb.LoadBalancerArn), apimodel.VpcLinkAvailable},
			{linkV1(acct1, "b", alb.LoadBalancerArn), apimodel.VpcLinkFailed},
			{linkV1(acct1, "c", "arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/net/x/0000000000000000"), apimodel.VpcLinkFailed},
			{linkV2(acct1, "d", subnetB), apimodel.VpcLinkAvailable},
			{linkV2(acct1, "e", "subnet-00000000"), apimodel.VpcLinkFailed},
			{linkV2(acct2, "f", subnetA), apimodel.VpcLinkFailed},
		}
		for _, tt := range tests {
			if got, msg := e.m.LinkStatus(&tt.rec); got != tt.want {
				t.Errorf("%s: %s (%s), want %s", tt.rec.LinkID(), got, msg, tt.want)
			}
		}
	})
}

func TestTimeout(t *testing.T) {
	leakCheck(t)
	e := newEnv(t, testTopology, nil)
	b := startBackend(t, "127.71.8.10", "hang")
	tg := tgDoc(acct1, "hang", vpcA, "TCP", b.addr)
	nlb := lbDoc(acct1, "network", "hang-nlb", vpcA)
	e.update(Documents{
		TargetGroups: []apimodel.TargetGroup{tg}, LoadBalancers: []apimodel.LoadBalancer{nlb},
		Listeners: []apimodel.Listener{listenerDoc(acct1, "network", "hang-nlb", 80, "TCP", tg.TargetGroupArn)},
		Links:     []apimodel.VpcLinkRecord{linkV1(acct1, "hlink", nlb.LoadBalancerArn)},
	})
	r := e.resolve(acct1, "hlink", "", "")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := get(ctx, r, TLSOptions{}, "http://x/hang")
	if HTTPStatus(err) != http.StatusGatewayTimeout {
		t.Fatalf("err %v, status %d", err, HTTPStatus(err))
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %v", d)
	}
}

var _ = tls.VersionTLS13
