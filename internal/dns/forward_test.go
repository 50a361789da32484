package dns

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// fakeDNS is an upstream DNS server answering every A question with ip.
type fakeDNS struct {
	addr    string
	queries atomic.Int64
}

func startFakeDNS(t *testing.T, ip string) *fakeDNS {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeDNS{addr: pc.LocalAddr().String()}
	srv := &mdns.Server{PacketConn: pc, Handler: mdns.HandlerFunc(func(w mdns.ResponseWriter, r *mdns.Msg) {
		f.queries.Add(1)
		m := new(mdns.Msg)
		m.SetReply(r)
		m.RecursionAvailable = true
		if r.Question[0].Qtype == mdns.TypeA {
			rr, _ := mdns.NewRR(r.Question[0].Name + " 30 IN A " + ip)
			m.Answer = append(m.Answer, rr)
		}
		_ = w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	t.Cleanup(func() { _ = srv.Shutdown() })
	return f
}

func TestForwarding(t *testing.T) {
	upstream := startFakeDNS(t, "192.0.2.77")
	corp := startFakeDNS(t, "192.0.2.88")
	topo := baseTopology + fmt.Sprintf(`
upstreams: [%q]
forwardingRules:
  - {domain: corp.example, targets: [%q], vpcs: [vpc-0aaaaaaaaaaaaaaa1]}
  - {domain: fwd.internal.test, targets: [%q], vpcs: [vpc-0aaaaaaaaaaaaaaa1]}
hostedZones:
  - name: corp.example
    private: true
    vpcs: [vpc-0aaaaaaaaaaaaaaa1, vpc-0bbbbbbbbbbbbbbb2]
    records:
      - {name: host, type: A, values: [127.11.7.7]}
  - name: internal.test
    private: true
    vpcs: [vpc-0aaaaaaaaaaaaaaa1]
    records:
      - {name: host, type: A, values: [127.11.6.6]}
`, upstream.addr, corp.addr, corp.addr)
	e := startEnv(t, topo)
	inA := e.addr("vpc:" + vpcA)
	inB := e.addr("vpc:" + vpcB)
	pub := e.addr("public:public")
	tests := []struct {
		name   string
		server string
		qname  string
		rcode  int
		want   []string
	}{
		{"VPC: other names go to the upstreams", inA, "www.example.org", 0, []string{"A 192.0.2.77"}},
		{"public resolver is not open", pub, "www.example.org", mdns.RcodeRefused, nil},
		{"rule wins over a private zone of the same name", inA, "host.corp.example", 0, []string{"A 192.0.2.88"}},
		{"without the rule, the private zone answers", inB, "host.corp.example", 0, []string{"A 127.11.7.7"}},
		{"the more specific rule below a private zone", inA, "x.fwd.internal.test", 0, []string{"A 192.0.2.88"}},
		{"the private zone outside the rule's domain", inA, "host.internal.test", 0, []string{"A 127.11.6.6"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := query(t, tc.server, tc.qname, mdns.TypeA)
			want(t, m, tc.rcode, tc.want...)
		})
	}
	t.Run("forwarded answers are not authoritative, RA set", func(t *testing.T) {
		m := query(t, inA, "www.example.org", mdns.TypeA)
		if m.Authoritative || !m.RecursionAvailable {
			t.Errorf("flags %v", m.MsgHdr)
		}
		if query(t, pub, "www.example.org", mdns.TypeA).RecursionAvailable {
			t.Error("public resolver without recursion says RA")
		}
	})
	t.Run("public resolver with recursion", func(t *testing.T) {
		e2 := startEnv(t, baseTopology+fmt.Sprintf("upstreams: [%q]\n", upstream.addr), func(o *Options) {
			o.Topology.DNS.PublicResolver.Recursion = true
		})
		want(t, query(t, e2.addr("public:public"), "www.example.org", mdns.TypeA), 0, "A 192.0.2.77")
	})
	t.Run("dead upstream: SERVFAIL", func(t *testing.T) {
		dead, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer dead.Close() // bound but never answers
		e3 := startEnv(t, baseTopology+fmt.Sprintf("upstreams: [%q]\n", dead.LocalAddr().String()), func(o *Options) {
			o.ForwardTimeout = 100 * time.Millisecond
		})
		want(t, query(t, e3.addr("vpc:"+vpcA), "www.example.org", mdns.TypeA), mdns.RcodeServerFailure)
	})
}

// TestOnPremisesConditionalForwarder plays the whitepaper's on-premises
// architecture: an on-premises DNS server (a second gatehouse resolver) has
// a conditional forwarder for execute-api.{region}.amazonaws.com to the VPC's
// inbound resolver endpoint, so on-premises clients get the VPC's private
// DNS answers.
func TestOnPremisesConditionalForwarder(t *testing.T) {
	vpcSide := startEnv(t, baseTopology)
	vpcSide.putAPI("onprem0001", true, vpceA)
	inbound := vpcSide.addr("inbound:" + rslvrA)
	onPrem := startEnv(t, fmt.Sprintf(`
region: us-east-1
controlPlane: {listen: 127.0.0.1:0}
publicListener: {listen: 127.0.0.1:0}
accounts: [{id: "222222222222", accessKeys: [{id: AKIAONPREM0000000001, secret: s}]}]
dnsPort: 0
publicResolver: {listen: 127.0.0.1:0}
forwardingRules:
  - {domain: execute-api.us-east-1.amazonaws.com, targets: [%q], publicResolver: true}
`, inbound))
	onPremDNS := onPrem.addr("public:public")
	epA := []string{"A 127.11.1.10", "A 127.11.3.10"}
	if !eventually(t, 2*time.Second, func() bool {
		return len(query(t, vpcSide.addr("public:public"), "onprem0001-"+vpceA+".execute-api.us-east-1.amazonaws.com", mdns.TypeA).Answer) == 2
	}) {
		t.Fatal("API not visible")
	}
	want(t, query(t, onPremDNS, "onprem0001.execute-api.us-east-1.amazonaws.com", mdns.TypeA), 0, epA...)
	// The Route 53 alias name resolves from on-premises without the forwarder too.
	want(t, query(t, vpcSide.addr("public:public"), "onprem0001-"+vpceA+".execute-api.us-east-1.amazonaws.com", mdns.TypeA), 0, epA...)
	// Names outside the forwarded domain are refused (not an open resolver).
	want(t, query(t, onPremDNS, "www.example.org", mdns.TypeA), mdns.RcodeRefused)
}

// freePort finds a port free for UDP and TCP on every address.
func freePort(t *testing.T, addrs ...string) int {
	t.Helper()
	for range 50 {
		pc, err := net.ListenPacket("udp", net.JoinHostPort(addrs[0], "0"))
		if err != nil {
			t.Fatal(err)
		}
		port := pc.LocalAddr().(*net.UDPAddr).Port
		pc.Close()
		ok := true
		for _, a := range addrs {
			hp := net.JoinHostPort(a, strconv.Itoa(port))
			u, err1 := net.ListenPacket("udp", hp)
			l, err2 := net.Listen("tcp", hp)
			if u != nil {
				u.Close()
			}
			if l != nil {
				l.Close()
			}
			if err1 != nil || err2 != nil {
				ok = false
			}
		}
		if ok {
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

func TestForwardingLoop(t *testing.T) {
	port := freePort(t, "127.11.0.2", "127.21.0.2", "127.11.2.10")
	topo := strings.Replace(baseTopology, "dnsPort: 0", fmt.Sprintf("dnsPort: %d", port), 1) + fmt.Sprintf(`
forwardingRules:
  - {domain: loop.test, targets: ["127.21.0.2:%d"], vpcs: [vpc-0aaaaaaaaaaaaaaa1]}
  - {domain: loop.test, targets: ["127.11.0.2:%d"], vpcs: [vpc-0bbbbbbbbbbbbbbb2]}
`, port, port)
	e := startEnv(t, topo)
	m := query(t, e.addr("vpc:"+vpcA), "x.loop.test", mdns.TypeA)
	if m.Rcode != mdns.RcodeServerFailure {
		t.Fatalf("forwarding loop answered %s, want SERVFAIL", mdns.RcodeToString[m.Rcode])
	}
}
