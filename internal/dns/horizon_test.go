package dns

import (
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

func TestSplitHorizonExecuteAPI(t *testing.T) {
	e := startEnv(t, baseTopology)
	const (
		private   = "priv000001"
		public    = "pub0000001"
		unknownID = "nope000001"
	)
	e.putAPI(private, true, vpceA)
	e.putAPI(public, false)
	exec := func(label string) string { return label + ".execute-api.us-east-1.amazonaws.com" }
	ep := func(vpce string) string {
		x, _ := e.topo.Endpoint(vpce)
		return e.topo.EndpointPublicDNSName(x)
	}
	zonal := func(vpce, az string) string {
		x, _ := e.topo.Endpoint(vpce)
		return e.topo.EndpointZonalDNSName(x, az)
	}
	inA := e.addr("vpc:" + vpcA)
	inB := e.addr("vpc:" + vpcB)
	pub := e.addr("public:public")
	inbound := e.addr("inbound:" + rslvrA)
	epA := []string{"A 127.11.1.10", "A 127.11.3.10"}

	if !eventually(t, 5*time.Second, func() bool {
		return query(t, pub, exec(private), mdns.TypeA).Rcode == mdns.RcodeNameError
	}) {
		t.Fatal("stored APIs never reached the DNS view")
	}

	tests := []struct {
		name   string
		server string
		qname  string
		qtype  uint16
		rcode  int
		want   []string
	}{
		// Private DNS capture inside VPC A: every id, private or public or unknown.
		{"A: private API captured", inA, exec(private), mdns.TypeA, mdns.RcodeSuccess, epA},
		{"A: public API captured (the pitfall)", inA, exec(public), mdns.TypeA, mdns.RcodeSuccess, epA},
		{"A: unknown id captured", inA, exec(unknownID), mdns.TypeA, mdns.RcodeSuccess, epA},
		{"A: deeper name captured by the wildcard", inA, "x." + exec(public), mdns.TypeA, mdns.RcodeSuccess, epA},
		{"A: AAAA is NODATA", inA, exec(private), mdns.TypeAAAA, mdns.RcodeSuccess, nil},
		{"A: inbound endpoint answers as VPC A", inbound, exec(public), mdns.TypeA, mdns.RcodeSuccess, epA},
		// VPC B: no private DNS, so the public answers.
		{"B: private API is NXDOMAIN", inB, exec(private), mdns.TypeA, mdns.RcodeNameError, nil},
		{"B: public API resolves to the public listener", inB, exec(public), mdns.TypeA, mdns.RcodeSuccess, []string{"A 127.0.0.1"}},
		{"B: unknown id resolves publicly (wildcard)", inB, exec(unknownID), mdns.TypeA, mdns.RcodeSuccess, []string{"A 127.0.0.1"}},
		{"public: private API is NXDOMAIN", pub, exec(private), mdns.TypeA, mdns.RcodeNameError, nil},
		{"public: public API", pub, exec(public), mdns.TypeA, mdns.RcodeSuccess, []string{"A 127.0.0.1"}},
		{"public: two labels is NXDOMAIN", pub, "a." + exec(public), mdns.TypeA, mdns.RcodeNameError, nil},
		// Endpoint public names, everywhere.
		{"public: regional vpce name", pub, ep(vpceA), mdns.TypeA, mdns.RcodeSuccess, epA},
		{"public: zonal vpce name 1a", pub, zonal(vpceA, "us-east-1a"), mdns.TypeA, mdns.RcodeSuccess, []string{"A 127.11.1.10"}},
		{"public: zonal vpce name 1b", pub, zonal(vpceA, "us-east-1b"), mdns.TypeA, mdns.RcodeSuccess, []string{"A 127.11.3.10"}},
		{"A: vpce name of B", inA, ep(vpceB), mdns.TypeA, mdns.RcodeSuccess, []string{"A 127.21.1.10"}},
		{"B: vpce name of A", inB, ep(vpceA), mdns.TypeA, mdns.RcodeSuccess, epA},
		{"public: unknown vpce name", pub, "vpce-0123-abcd.execute-api.us-east-1.vpce.amazonaws.com", mdns.TypeA, mdns.RcodeNameError, nil},
		// Route 53 alias names: associated pairs only, everywhere.
		{"public: alias of an associated pair", pub, exec(private + "-" + vpceA), mdns.TypeA, mdns.RcodeSuccess, epA},
		{"B: alias of an associated pair", inB, exec(private + "-" + vpceA), mdns.TypeA, mdns.RcodeSuccess, epA},
		{"public: alias of an unassociated pair", pub, exec(private + "-" + vpceB), mdns.TypeA, mdns.RcodeNameError, nil},
		{"public: alias of a public API", pub, exec(public + "-" + vpceA), mdns.TypeA, mdns.RcodeNameError, nil},
		// Names gatehouse knows nothing about: REFUSED (no upstreams).
		{"A: other names refused", inA, "example.org", mdns.TypeA, mdns.RcodeRefused, nil},
		{"public: other names refused", pub, "example.org", mdns.TypeA, mdns.RcodeRefused, nil},
		// Apex.
		{"public: exec apex SOA", pub, "execute-api.us-east-1.amazonaws.com", mdns.TypeSOA, mdns.RcodeSuccess,
			[]string{"SOA ns-0.awsdns-00.com. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 60"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := query(t, tc.server, tc.qname, tc.qtype)
			want(t, m, tc.rcode, tc.want...)
			if tc.rcode != mdns.RcodeRefused && !m.Authoritative {
				t.Errorf("answer not authoritative")
			}
			if tc.rcode == mdns.RcodeNameError && (len(m.Ns) != 1 || m.Ns[0].Header().Rrtype != mdns.TypeSOA) {
				t.Errorf("NXDOMAIN without SOA: %v", m.Ns)
			}
		})
	}
}

func TestStoreChangesWithinOneSecond(t *testing.T) {
	e := startEnv(t, baseTopology)
	pub := e.addr("public:public")
	name := "chg0000001.execute-api.us-east-1.amazonaws.com"
	alias := "chg0000001-" + vpceA + ".execute-api.us-east-1.amazonaws.com"

	within := func(what string, cond func() bool) {
		t.Helper()
		start := time.Now()
		if !eventually(t, time.Second, cond) {
			t.Fatalf("%s: not visible within one second", what)
		}
		t.Logf("%s: %v", what, time.Since(start))
	}
	e.putAPI("chg0000001", true)
	within("new private API", func() bool { return query(t, pub, name, mdns.TypeA).Rcode == mdns.RcodeNameError })
	e.putAPI("chg0000001", true, vpceA)
	within("association", func() bool { return len(query(t, pub, alias, mdns.TypeA).Answer) == 2 })
	e.putAPI("chg0000001", false)
	within("made public", func() bool { return len(query(t, pub, name, mdns.TypeA).Answer) == 1 })
	within("alias gone with the association", func() bool {
		return query(t, pub, alias, mdns.TypeA).Rcode == mdns.RcodeNameError
	})
}

func TestTCP(t *testing.T) {
	e := startEnv(t, baseTopology)
	e.putAPI("tcp0000001", false)
	c := &mdns.Client{Net: "tcp", Timeout: 5 * time.Second}
	m := new(mdns.Msg)
	m.SetQuestion("tcp0000001.execute-api.us-east-1.amazonaws.com.", mdns.TypeA)
	l := e.addrs["vpc:"+vpcA]
	r, _, err := c.Exchange(m, l.TCP)
	if err != nil {
		t.Fatal(err)
	}
	want(t, r, mdns.RcodeSuccess, "A 127.11.1.10", "A 127.11.3.10")
	// Several queries on one connection.
	conn, err := c.Dial(l.TCP)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for i := range 3 {
		m.Id = uint16(100 + i)
		if err := conn.WriteMsg(m); err != nil {
			t.Fatal(err)
		}
		r, err := conn.ReadMsg()
		if err != nil || r.Id != m.Id || len(r.Answer) != 2 {
			t.Fatalf("query %d: %v %v", i, err, r)
		}
	}
}
