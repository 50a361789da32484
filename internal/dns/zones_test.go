package dns

import (
	"context"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"gatehouse/internal/dns/r53"
)

const zonesTopology = baseTopology + `
hostedZones:
  - name: example.com
    records:
      - {name: www, type: A, values: [192.0.2.1]}
      - {name: "@", type: MX, values: ["10 mail.example.com"]}
      - {name: mail, type: A, values: [192.0.2.25]}
      - {name: v6, type: AAAA, values: ["2001:db8::1"]}
      - {name: alias-cname, type: CNAME, values: [www.example.com]}
      - {name: out-cname, type: CNAME, values: [elsewhere.example.org]}
      - {name: txt, type: TXT, ttl: 60, values: ['"hello world"', '"v=spf1 -all"']}
      - {name: _sip._tcp, type: SRV, values: ["1 10 5060 sip.example.com"]}
      - {name: "*.wild", type: A, values: [192.0.2.9]}
      - {name: a.b.ent, type: A, values: [192.0.2.10]}
      - {name: api, type: A, alias: {dnsName: vpce-0aaaaaaaaaaaaaaa1-6a3a3fd0.execute-api.us-east-1.vpce.amazonaws.com, hostedZoneId: ZVPCE}}
      - {name: www2, type: A, alias: {dnsName: www.example.com}}
      - {name: sub, type: NS, values: [ns1.other.net]}
      - {name: caa, type: CAA, values: ['0 issue "amazon.com"']}
  - name: corp.internal
    private: true
    vpcs: [vpc-0aaaaaaaaaaaaaaa1]
    records:
      - {name: db, type: A, values: [127.11.9.9]}
  - name: example.com
    private: true
    vpcs: [vpc-0aaaaaaaaaaaaaaa1]
    records:
      - {name: www, type: A, values: [127.11.8.8]}
`

func TestHostedZones(t *testing.T) {
	e := startEnv(t, fixVPCEName(t, zonesTopology))
	inA := e.addr("vpc:" + vpcA)
	inB := e.addr("vpc:" + vpcB)
	pub := e.addr("public:public")
	inbound := e.addr("inbound:" + rslvrA)
	tests := []struct {
		name   string
		server string
		qname  string
		qtype  uint16
		rcode  int
		want   []string
	}{
		{"public A", pub, "www.example.com", mdns.TypeA, 0, []string{"A 192.0.2.1"}},
		{"case-insensitive", pub, "WwW.ExAmPlE.cOm", mdns.TypeA, 0, []string{"A 192.0.2.1"}},
		{"private wins in its VPC", inA, "www.example.com", mdns.TypeA, 0, []string{"A 127.11.8.8"}},
		{"private zone does not fall back to public", inA, "mail.example.com", mdns.TypeA, mdns.RcodeNameError, nil},
		{"other VPC sees the public zone", inB, "www.example.com", mdns.TypeA, 0, []string{"A 192.0.2.1"}},
		{"private zone inside its VPC", inA, "db.corp.internal", mdns.TypeA, 0, []string{"A 127.11.9.9"}},
		{"private zone via the inbound endpoint", inbound, "db.corp.internal", mdns.TypeA, 0, []string{"A 127.11.9.9"}},
		{"private zone invisible in another VPC", inB, "db.corp.internal", mdns.TypeA, mdns.RcodeRefused, nil},
		{"private zone invisible publicly", pub, "db.corp.internal", mdns.TypeA, mdns.RcodeRefused, nil},
		{"AAAA", pub, "v6.example.com", mdns.TypeAAAA, 0, []string{"AAAA 2001:db8::1"}},
		{"A of an AAAA-only name is NODATA", pub, "v6.example.com", mdns.TypeA, 0, nil},
		{"CNAME followed", pub, "alias-cname.example.com", mdns.TypeA, 0, []string{"A 192.0.2.1", "CNAME www.example.com."}},
		{"CNAME asked for", pub, "alias-cname.example.com", mdns.TypeCNAME, 0, []string{"CNAME www.example.com."}},
		{"CNAME out of gatehouse's data", pub, "out-cname.example.com", mdns.TypeA, 0, []string{"CNAME elsewhere.example.org."}},
		{"TXT", pub, "txt.example.com", mdns.TypeTXT, 0, []string{`TXT "hello world"`, `TXT "v=spf1 -all"`}},
		{"SRV", pub, "_sip._tcp.example.com", mdns.TypeSRV, 0, []string{"SRV 1 10 5060 sip.example.com."}},
		{"MX at the apex", pub, "example.com", mdns.TypeMX, 0, []string{"MX 10 mail.example.com."}},
		{"CAA", pub, "caa.example.com", mdns.TypeCAA, 0, []string{`CAA 0 issue "amazon.com"`}},
		{"NS at the apex", pub, "example.com", mdns.TypeNS, 0, nsStrings(e, "example.com.", false)},
		{"wildcard", pub, "anything.wild.example.com", mdns.TypeA, 0, []string{"A 192.0.2.9"}},
		{"wildcard, two labels", pub, "x.y.wild.example.com", mdns.TypeA, 0, []string{"A 192.0.2.9"}},
		{"wildcard owner itself", pub, "*.wild.example.com", mdns.TypeA, 0, []string{"A 192.0.2.9"}},
		{"empty non-terminal is NODATA", pub, "b.ent.example.com", mdns.TypeA, 0, nil},
		{"below an empty non-terminal", pub, "a.b.ent.example.com", mdns.TypeA, 0, []string{"A 192.0.2.10"}},
		{"absent name", pub, "nope.example.com", mdns.TypeA, mdns.RcodeNameError, nil},
		{"alias to a vpce name", pub, "api.example.com", mdns.TypeA, 0, []string{"A 127.11.1.10", "A 127.11.3.10"}},
		{"alias to a record of the zone", pub, "www2.example.com", mdns.TypeA, 0, []string{"A 192.0.2.1"}},
		{"delegation is a referral", pub, "host.sub.example.com", mdns.TypeA, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want(t, query(t, tc.server, tc.qname, tc.qtype), tc.rcode, tc.want...)
		})
	}

	t.Run("answer owners are the question's name", func(t *testing.T) {
		m := query(t, pub, "anything.wild.example.com", mdns.TypeA)
		if len(m.Answer) != 1 || m.Answer[0].Header().Name != "anything.wild.example.com." {
			t.Fatalf("wildcard answer %v", m.Answer)
		}
		m = query(t, pub, "api.example.com", mdns.TypeA)
		if m.Answer[0].Header().Name != "api.example.com." || m.Answer[0].Header().Ttl != syntheticTTL {
			t.Fatalf("alias answer %v", m.Answer)
		}
	})
	t.Run("referral", func(t *testing.T) {
		m := query(t, pub, "host.sub.example.com", mdns.TypeA)
		if m.Authoritative || len(m.Ns) != 1 || m.Ns[0].(*mdns.NS).Ns != "ns1.other.net." {
			t.Fatalf("referral %v", m)
		}
	})
	t.Run("NODATA carries the SOA", func(t *testing.T) {
		m := query(t, pub, "v6.example.com", mdns.TypeA)
		if len(m.Ns) != 1 || m.Ns[0].Header().Rrtype != mdns.TypeSOA || m.Ns[0].Header().Ttl != 900 {
			t.Fatalf("authority %v", m.Ns)
		}
	})
}

// fixVPCEName writes vpceA's real public name into a topology that names
// it with a placeholder suffix.
func fixVPCEName(t *testing.T, yaml string) string {
	t.Helper()
	topo := parseTopology(t, baseTopology)
	ep, _ := topo.Endpoint(vpceA)
	return strings.ReplaceAll(yaml, "vpce-0aaaaaaaaaaaaaaa1-6a3a3fd0.execute-api.us-east-1.vpce.amazonaws.com", topo.EndpointPublicDNSName(ep))
}

func nsStrings(e *env, zone string, private bool) []string {
	for _, z := range e.topo.DNS.HostedZones {
		if z.Name == zone && z.Private == private {
			var out []string
			for _, ns := range r53.NameServers(z.ID, private) {
				out = append(out, "NS "+ns)
			}
			return out
		}
	}
	return nil
}

func TestStoredZones(t *testing.T) {
	e := startEnv(t, baseTopology)
	inA := e.addr("vpc:" + vpcA)
	inB := e.addr("vpc:" + vpcB)
	z := &r53.Zone{ID: "ZSTORED0000000000001", Name: "stored.example.", Account: "111111111111",
		Private: true, VPCs: []r53.VPCRef{{Region: "us-east-1", ID: vpcB}}}
	z.Records = append(r53.InitialRecords(z.Name, z.ID, true), r53.RecordSet{
		Name: "host.stored.example.", Type: "A", TTL: ptr(int64(30)), Values: []string{"127.21.5.5"}})
	e.putZone(z)
	if !eventually(t, time.Second, func() bool { return len(query(t, inB, "host.stored.example", mdns.TypeA).Answer) == 1 }) {
		t.Fatal("stored private zone not served within one second")
	}
	want(t, query(t, inA, "host.stored.example", mdns.TypeA), mdns.RcodeRefused)

	// Associate with VPC A too.
	z.VPCs = append(z.VPCs, r53.VPCRef{Region: "us-east-1", ID: vpcA})
	e.putZone(z)
	if !eventually(t, time.Second, func() bool { return len(query(t, inA, "host.stored.example", mdns.TypeA).Answer) == 1 }) {
		t.Fatal("association not served within one second")
	}
	// Change a record.
	z.Records[2].Values = []string{"127.21.6.6"}
	e.putZone(z)
	if !eventually(t, time.Second, func() bool {
		a := answerStrings(query(t, inB, "host.stored.example", mdns.TypeA))
		return len(a) == 1 && a[0] == "A 127.21.6.6"
	}) {
		t.Fatal("record change not served within one second")
	}
	// Delete the zone.
	if err := e.store.Delete(context.Background(), r53.BucketZones, z.ID, 0); err != nil {
		t.Fatal(err)
	}
	if !eventually(t, time.Second, func() bool {
		return query(t, inB, "host.stored.example", mdns.TypeA).Rcode == mdns.RcodeRefused
	}) {
		t.Fatal("deleted zone still served")
	}
}
