package dns

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"gatehouse/internal/apimodel"
)

const cmAccount = "111111111111"

// cloudMapNamespace returns a namespace document as cloudmapapi writes it.
func cloudMapNamespace(id, name, typ, vpc string, soaTTL int64) *apimodel.Namespace {
	ns := &apimodel.Namespace{Account: cmAccount, VpcID: vpc, ID: id, Name: name, Type: typ,
		Arn:        "arn:aws:servicediscovery:us-east-1:" + cmAccount + ":namespace/" + id,
		Properties: &apimodel.NamespaceProperties{HTTPProperties: &apimodel.HTTPProperties{HTTPName: name}}}
	if typ != apimodel.NamespaceHTTP {
		ns.Properties.DNSProperties = &apimodel.DNSProperties{HostedZoneID: "ZCM" + strings.ToUpper(id[3:])}
		ns.Properties.DNSProperties.SOA = &struct {
			TTL int64 `json:"TTL"`
		}{TTL: soaTTL}
	}
	return ns
}

// cloudMapService returns a DNS service document; records are "TYPE:TTL".
func cloudMapService(id, nsID, name, policy string, custom bool, records ...string) *apimodel.Service {
	sv := &apimodel.Service{Account: cmAccount, ID: id, Name: name, NamespaceID: nsID, Type: "DNS_HTTP",
		Arn: "arn:aws:servicediscovery:us-east-1:" + cmAccount + ":service/" + id}
	if len(records) > 0 {
		sv.DNSConfig = &apimodel.DNSConfig{RoutingPolicy: policy}
		for _, r := range records {
			typ, ttl, _ := strings.Cut(r, ":")
			n, _ := strconv.ParseInt(ttl, 10, 64)
			sv.DNSConfig.DNSRecords = append(sv.DNSConfig.DNSRecords, apimodel.DNSRecord{Type: typ, TTL: n})
		}
	}
	if custom {
		sv.HealthCheckCustomConfig = &apimodel.HealthCheckCustomConfig{FailureThreshold: 1}
	}
	return sv
}

func (e *env) putCloudMap(docs ...any) {
	e.t.Helper()
	for _, d := range docs {
		switch x := d.(type) {
		case *apimodel.Namespace:
			e.put(apimodel.BucketCloudMap, apimodel.NamespaceKey(x.Account, x.ID), x)
		case *apimodel.Service:
			e.put(apimodel.BucketCloudMap, apimodel.ServiceKey(x.Account, x.ID), x)
		case *apimodel.Instance:
			e.put(apimodel.BucketCloudMap, apimodel.InstanceKey(x.Account, x.ServiceID, x.ID), x)
		default:
			e.t.Fatalf("not a Cloud Map document: %T", d)
		}
	}
}

func (e *env) deleteInstance(serviceID, instanceID string) {
	e.t.Helper()
	if err := e.store.Delete(context.Background(), apimodel.BucketCloudMap, apimodel.InstanceKey(cmAccount, serviceID, instanceID), 0); err != nil {
		e.t.Fatalf("deregister %s/%s: %v", serviceID, instanceID, err)
	}
}

// inst returns an instance document; attrs are key=value pairs.
func inst(serviceID, id, health string, attrs ...string) *apimodel.Instance {
	in := &apimodel.Instance{Account: cmAccount, ServiceID: serviceID, ID: id, HealthStatus: health, Attributes: map[string]string{}}
	for _, kv := range attrs {
		k, v, _ := strings.Cut(kv, "=")
		in.Attributes[k] = v
	}
	return in
}

const (
	ipv4 = apimodel.AttrInstanceIPv4 + "="
	ipv6 = apimodel.AttrInstanceIPv6 + "="
	port = apimodel.AttrInstancePort + "="
)

// startCloudMap starts a server on baseTopology with:
//
//   - cm.internal: private DNS namespace in VPC A (SOA TTL 15) with
//     web (MULTIVALUE; A 60, AAAA 60, SRV 30; i-1 dual stack, i-2 IPv4
//     only), many (MULTIVALUE A, 12 instances), one (WEIGHTED A, 3
//     instances), health (MULTIVALUE A, custom health check, h-1 healthy,
//     h-2 unhealthy), _grpc._tcp (SRV only, instance ids with '.' and '@'),
//     alias (WEIGHTED CNAME) and plain (no DnsConfig);
//   - httpns.internal: an HTTP namespace (a DnsConfig on its service is
//     ignored);
//   - cm-public.example: a public DNS namespace.
func startCloudMap(t *testing.T) *env {
	t.Helper()
	e := startEnv(t, baseTopology)
	docs := []any{
		cloudMapNamespace("ns-aaaaaaaaaaaaaaa1", "cm.internal", apimodel.NamespaceDNSPrivate, vpcA, 15),
		cloudMapService("srv-web0000000000001", "ns-aaaaaaaaaaaaaaa1", "web", "MULTIVALUE", false, "A:60", "AAAA:60", "SRV:30"),
		inst("srv-web0000000000001", "i-1", "", ipv4+"10.0.0.1", ipv6+"fd00::1", port+"8080"),
		inst("srv-web0000000000001", "i-2", "", ipv4+"10.0.0.2", port+"8081"),
		cloudMapService("srv-many000000000001", "ns-aaaaaaaaaaaaaaa1", "many", "MULTIVALUE", false, "A:60"),
		cloudMapService("srv-one0000000000001", "ns-aaaaaaaaaaaaaaa1", "one", "WEIGHTED", false, "A:10"),
		cloudMapService("srv-health0000000001", "ns-aaaaaaaaaaaaaaa1", "health", "MULTIVALUE", true, "A:60"),
		inst("srv-health0000000001", "h-1", apimodel.HealthHealthy, ipv4+"10.2.0.1"),
		inst("srv-health0000000001", "h-2", apimodel.HealthUnhealthy, ipv4+"10.2.0.2"),
		cloudMapService("srv-grpc000000000001", "ns-aaaaaaaaaaaaaaa1", "_grpc._tcp", "MULTIVALUE", false, "SRV:20"),
		inst("srv-grpc000000000001", "node.a", "", ipv4+"10.3.0.1", port+"50051"),
		inst("srv-grpc000000000001", "Task@7", "", ipv6+"fd00::7", port+"50052"),
		cloudMapService("srv-alias00000000001", "ns-aaaaaaaaaaaaaaa1", "alias", "WEIGHTED", false, "CNAME:5"),
		inst("srv-alias00000000001", "c-1", "", apimodel.AttrInstanceCNAME+"=web.cm.internal"),
		cloudMapService("srv-plain00000000001", "ns-aaaaaaaaaaaaaaa1", "plain", "", false),
		inst("srv-plain00000000001", "p-1", "", ipv4+"10.9.9.9"),

		cloudMapNamespace("ns-bbbbbbbbbbbbbbb2", "httpns.internal", apimodel.NamespaceHTTP, "", 0),
		cloudMapService("srv-http000000000001", "ns-bbbbbbbbbbbbbbb2", "api", "MULTIVALUE", false, "A:60"),
		inst("srv-http000000000001", "x-1", "", ipv4+"10.4.0.1"),

		cloudMapNamespace("ns-ccccccccccccccc3", "cm-public.example", apimodel.NamespaceDNSPublic, "", 60),
		cloudMapService("srv-www0000000000001", "ns-ccccccccccccccc3", "www", "MULTIVALUE", false, "A:300"),
		inst("srv-www0000000000001", "w-1", "", ipv4+"192.0.2.80"),
	}
	for i := range 12 {
		docs = append(docs, inst("srv-many000000000001", fmt.Sprintf("m-%02d", i), "", ipv4+fmt.Sprintf("10.1.0.%d", i+1)))
	}
	for i := range 3 {
		docs = append(docs, inst("srv-one0000000000001", fmt.Sprintf("o-%d", i), "", ipv4+fmt.Sprintf("10.5.0.%d", i+1)))
	}
	e.putCloudMap(docs...)
	inA := e.addr("vpc:" + vpcA)
	if !eventually(t, 5*time.Second, func() bool {
		m := query(t, inA, "www.cm-public.example", mdns.TypeA)
		return len(m.Answer) == 1
	}) {
		t.Fatal("Cloud Map namespaces never became visible")
	}
	return e
}

// authoritySOA returns the owner and TTL of the SOA in m's authority
// section, or "" when there is none.
func authoritySOA(m *mdns.Msg) (string, uint32) {
	for _, rr := range m.Ns {
		if soa, ok := rr.(*mdns.SOA); ok {
			return soa.Hdr.Name, soa.Hdr.Ttl
		}
	}
	return "", 0
}

func TestCloudMapRecords(t *testing.T) {
	e := startCloudMap(t)
	inA := e.addr("vpc:" + vpcA)
	inB := e.addr("vpc:" + vpcB)
	pub := e.addr("public:public")
	inbound := e.addr("inbound:" + rslvrA)
	const zone = "cm.internal."
	cases := []struct {
		name    string
		server  string
		qname   string
		qtype   uint16
		rcode   int
		answers []string
		ttl     uint32 // of every answer, when non-zero
		soa     string // owner of the authority SOA, when expected
		soaTTL  uint32
	}{
		{name: "A: every instance", server: inA, qname: "web.cm.internal", qtype: mdns.TypeA,
			answers: []string{"A 10.0.0.1", "A 10.0.0.2"}, ttl: 60},
		{name: "AAAA: instances with IPv6", server: inA, qname: "web.cm.internal", qtype: mdns.TypeAAAA,
			answers: []string{"AAAA fd00::1"}, ttl: 60},
		{name: "SRV: 1 1 port instance.service.namespace", server: inA, qname: "web.cm.internal", qtype: mdns.TypeSRV,
			answers: []string{"SRV 1 1 8080 i-1.web.cm.internal.", "SRV 1 1 8081 i-2.web.cm.internal."}, ttl: 30},
		{name: "service name is case-insensitive", server: inA, qname: "WEB.Cm.Internal", qtype: mdns.TypeSRV,
			answers: []string{"SRV 1 1 8080 i-1.web.cm.internal.", "SRV 1 1 8081 i-2.web.cm.internal."}},
		{name: "SRV target: companion A", server: inA, qname: "i-1.web.cm.internal", qtype: mdns.TypeA,
			answers: []string{"A 10.0.0.1"}, ttl: 30},
		{name: "SRV target: companion AAAA", server: inA, qname: "i-1.web.cm.internal", qtype: mdns.TypeAAAA,
			answers: []string{"AAAA fd00::1"}, ttl: 30},
		{name: "SRV target without IPv6: NODATA", server: inA, qname: "i-2.web.cm.internal", qtype: mdns.TypeAAAA,
			soa: zone, soaTTL: 15},
		{name: "SRV only service: no A at the service name", server: inA, qname: "_grpc._tcp.cm.internal", qtype: mdns.TypeA,
			soa: zone, soaTTL: 15},
		{name: "SRV only service: SRV with dotted and escaped instance ids", server: inA, qname: "_grpc._tcp.cm.internal", qtype: mdns.TypeSRV,
			answers: []string{"SRV 1 1 50051 node.a._grpc._tcp.cm.internal.", `SRV 1 1 50052 task\@7._grpc._tcp.cm.internal.`}, ttl: 20},
		{name: "dotted instance id target", server: inA, qname: "node.a._grpc._tcp.cm.internal", qtype: mdns.TypeA,
			answers: []string{"A 10.3.0.1"}, ttl: 20},
		{name: "escaped instance id target", server: inA, qname: `Task\@7._grpc._tcp.cm.internal`, qtype: mdns.TypeAAAA,
			answers: []string{"AAAA fd00::7"}, ttl: 20},
		{name: "empty non-terminal", server: inA, qname: "_tcp.cm.internal", qtype: mdns.TypeA,
			soa: zone, soaTTL: 15},
		{name: "CNAME service, followed", server: inA, qname: "alias.cm.internal", qtype: mdns.TypeA,
			answers: []string{"CNAME web.cm.internal.", "A 10.0.0.1", "A 10.0.0.2"}},
		{name: "CNAME query", server: inA, qname: "alias.cm.internal", qtype: mdns.TypeCNAME,
			answers: []string{"CNAME web.cm.internal."}, ttl: 5},
		{name: "unhealthy instance absent", server: inA, qname: "health.cm.internal", qtype: mdns.TypeA,
			answers: []string{"A 10.2.0.1"}},
		{name: "service without DnsConfig: no records", server: inA, qname: "plain.cm.internal", qtype: mdns.TypeA,
			rcode: mdns.RcodeNameError, soa: zone, soaTTL: 15},
		{name: "unknown name: NXDOMAIN with the zone's SOA", server: inA, qname: "nope.cm.internal", qtype: mdns.TypeA,
			rcode: mdns.RcodeNameError, soa: zone, soaTTL: 15},
		{name: "unknown instance: NXDOMAIN", server: inA, qname: "i-9.web.cm.internal", qtype: mdns.TypeA,
			rcode: mdns.RcodeNameError, soa: zone, soaTTL: 15},
		{name: "apex SOA", server: inA, qname: "cm.internal", qtype: mdns.TypeSOA,
			answers: []string{"SOA ns-0.awsdns-00.com. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"}, ttl: 15},
		{name: "apex NS", server: inA, qname: "cm.internal", qtype: mdns.TypeNS,
			answers: []string{"NS ns-0.awsdns-00.com.", "NS ns-1024.awsdns-00.org.", "NS ns-1536.awsdns-00.co.uk.", "NS ns-512.awsdns-00.net."}},
		{name: "apex A: NODATA", server: inA, qname: "cm.internal", qtype: mdns.TypeA,
			soa: zone, soaTTL: 15},
		{name: "inbound endpoint answers as its VPC", server: inbound, qname: "web.cm.internal", qtype: mdns.TypeA,
			answers: []string{"A 10.0.0.1", "A 10.0.0.2"}},
		{name: "other VPC: not answered", server: inB, qname: "web.cm.internal", qtype: mdns.TypeA,
			rcode: mdns.RcodeRefused},
		{name: "other VPC: apex not answered", server: inB, qname: "cm.internal", qtype: mdns.TypeSOA,
			rcode: mdns.RcodeRefused},
		{name: "public: private namespace not answered", server: pub, qname: "i-1.web.cm.internal", qtype: mdns.TypeA,
			rcode: mdns.RcodeRefused},
		{name: "HTTP namespace: no DNS", server: inA, qname: "api.httpns.internal", qtype: mdns.TypeA,
			rcode: mdns.RcodeRefused},
		{name: "HTTP namespace: no zone", server: inA, qname: "httpns.internal", qtype: mdns.TypeSOA,
			rcode: mdns.RcodeRefused},
		{name: "public namespace: public view", server: pub, qname: "www.cm-public.example", qtype: mdns.TypeA,
			answers: []string{"A 192.0.2.80"}, ttl: 300},
		{name: "public namespace: from any VPC", server: inB, qname: "www.cm-public.example", qtype: mdns.TypeA,
			answers: []string{"A 192.0.2.80"}},
		{name: "public namespace: NXDOMAIN", server: pub, qname: "nope.cm-public.example", qtype: mdns.TypeA,
			rcode: mdns.RcodeNameError, soa: "cm-public.example.", soaTTL: 60},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := query(t, tc.server, tc.qname, tc.qtype)
			want(t, m, tc.rcode, tc.answers...)
			if tc.rcode != mdns.RcodeRefused && !m.Authoritative {
				t.Errorf("AA not set: %v", m)
			}
			if tc.ttl != 0 {
				for _, rr := range m.Answer {
					if rr.Header().Ttl != tc.ttl {
						t.Errorf("TTL %d, want %d: %v", rr.Header().Ttl, tc.ttl, rr)
					}
				}
			}
			owner, ttl := authoritySOA(m)
			if owner != tc.soa || ttl != tc.soaTTL {
				t.Errorf("authority SOA %q TTL %d, want %q TTL %d\n%v", owner, ttl, tc.soa, tc.soaTTL, m)
			}
		})
	}
}

func TestCloudMapRouting(t *testing.T) {
	e := startCloudMap(t)
	inA := e.addr("vpc:" + vpcA)
	t.Run("multivalue: at most 8 distinct healthy records, varying", func(t *testing.T) {
		all := map[string]bool{}
		for range 30 {
			m := query(t, inA, "many.cm.internal", mdns.TypeA)
			got := answerStrings(m)
			if len(got) != 8 || len(slices.Compact(slices.Clone(got))) != 8 {
				t.Fatalf("got %d answers %v, want 8 distinct", len(got), got)
			}
			for _, a := range got {
				all[a] = true
			}
		}
		if len(all) <= 8 {
			t.Errorf("30 answers only ever held %d records (%v): not random", len(all), all)
		}
		for a := range all {
			var ip [4]int
			if _, err := fmt.Sscanf(a, "A %d.%d.%d.%d", &ip[0], &ip[1], &ip[2], &ip[3]); err != nil || ip[2] != 0 || ip[3] < 1 || ip[3] > 12 {
				t.Errorf("answer %q is no instance of the service", a)
			}
		}
	})
	t.Run("weighted: one record, each instance in turn", func(t *testing.T) {
		seen := map[string]int{}
		for range 300 {
			m := query(t, inA, "one.cm.internal", mdns.TypeA)
			got := answerStrings(m)
			if len(got) != 1 {
				t.Fatalf("got %v, want one answer", got)
			}
			seen[got[0]]++
		}
		if len(seen) != 3 {
			t.Errorf("answers %v, want all three instances", seen)
		}
	})
	t.Run("health: a status change applies; no healthy instance answers all", func(t *testing.T) {
		h1 := inst("srv-health0000000001", "h-1", apimodel.HealthUnhealthy, ipv4+"10.2.0.1")
		e.putCloudMap(h1)
		if !eventually(t, time.Second, func() bool {
			return len(query(t, inA, "health.cm.internal", mdns.TypeA).Answer) == 2
		}) {
			t.Fatalf("after h-1 became unhealthy: %v", query(t, inA, "health.cm.internal", mdns.TypeA))
		}
		h2 := inst("srv-health0000000001", "h-2", apimodel.HealthHealthy, ipv4+"10.2.0.2")
		e.putCloudMap(h2)
		if !eventually(t, time.Second, func() bool {
			got := answerStrings(query(t, inA, "health.cm.internal", mdns.TypeA))
			return slices.Equal(got, []string{"A 10.2.0.2"})
		}) {
			t.Fatalf("after h-2 became healthy: %v", query(t, inA, "health.cm.internal", mdns.TypeA))
		}
	})
}

func TestCloudMapWatch(t *testing.T) {
	e := startCloudMap(t)
	inA := e.addr("vpc:" + vpcA)
	// Cache the companion name's answer first: the change must not be
	// hidden by the response cache.
	want(t, query(t, inA, "i-2.web.cm.internal", mdns.TypeA), mdns.RcodeSuccess, "A 10.0.0.2")
	want(t, query(t, inA, "i-2.web.cm.internal", mdns.TypeA), mdns.RcodeSuccess, "A 10.0.0.2")

	e.deleteInstance("srv-web0000000000001", "i-2")
	start := time.Now()
	if !eventually(t, time.Second, func() bool {
		return len(query(t, inA, "web.cm.internal", mdns.TypeA).Answer) == 1
	}) {
		t.Fatalf("deregistered instance still answered after 1s: %v", query(t, inA, "web.cm.internal", mdns.TypeA))
	}
	t.Logf("deregistration visible after %v", time.Since(start))
	checks := []struct {
		name    string
		qname   string
		qtype   uint16
		rcode   int
		answers []string
	}{
		{"A", "web.cm.internal", mdns.TypeA, mdns.RcodeSuccess, []string{"A 10.0.0.1"}},
		{"SRV", "web.cm.internal", mdns.TypeSRV, mdns.RcodeSuccess, []string{"SRV 1 1 8080 i-1.web.cm.internal."}},
		{"companion", "i-2.web.cm.internal", mdns.TypeA, mdns.RcodeNameError, nil},
	}
	for _, c := range checks {
		t.Run("deregistered/"+c.name, func(t *testing.T) {
			want(t, query(t, inA, c.qname, c.qtype), c.rcode, c.answers...)
		})
	}

	t.Run("registered", func(t *testing.T) {
		e.putCloudMap(inst("srv-web0000000000001", "i-3", "", ipv4+"10.0.0.3", port+"8083"))
		if !eventually(t, time.Second, func() bool {
			return slices.Equal(answerStrings(query(t, inA, "i-3.web.cm.internal", mdns.TypeA)), []string{"A 10.0.0.3"})
		}) {
			t.Fatalf("registered instance not answered after 1s")
		}
		want(t, query(t, inA, "web.cm.internal", mdns.TypeSRV), mdns.RcodeSuccess,
			"SRV 1 1 8080 i-1.web.cm.internal.", "SRV 1 1 8083 i-3.web.cm.internal.")
	})

	t.Run("namespace deleted", func(t *testing.T) {
		if err := e.store.Delete(context.Background(), apimodel.BucketCloudMap, apimodel.NamespaceKey(cmAccount, "ns-aaaaaaaaaaaaaaa1"), 0); err != nil {
			t.Fatal(err)
		}
		if !eventually(t, time.Second, func() bool {
			return query(t, inA, "web.cm.internal", mdns.TypeA).Rcode == mdns.RcodeRefused
		}) {
			t.Fatalf("deleted namespace still answered: %v", query(t, inA, "web.cm.internal", mdns.TypeA))
		}
	})
}

// TestCloudMapDig resolves a Cloud Map SRV record and its target with dig.
func TestCloudMapDig(t *testing.T) {
	if _, err := exec.LookPath("dig"); err != nil {
		t.Skip("dig not installed (apt-get install dnsutils)")
	}
	e := startCloudMap(t)
	inA := e.addr("vpc:" + vpcA)
	status, answers := dig(t, inA, "web.cm.internal", "SRV")
	if status != "NOERROR" || !slices.Equal(answers, []string{"SRV 1 1 8080 i-1.web.cm.internal.", "SRV 1 1 8081 i-2.web.cm.internal."}) {
		t.Errorf("dig SRV: %s %v", status, answers)
	}
	status, answers = dig(t, inA, "i-2.web.cm.internal", "A")
	if status != "NOERROR" || !slices.Equal(answers, []string{"A 10.0.0.2"}) {
		t.Errorf("dig A: %s %v", status, answers)
	}
	status, _ = dig(t, e.addr("vpc:"+vpcB), "web.cm.internal", "A")
	if status != "REFUSED" {
		t.Errorf("dig from VPC B: %s, want REFUSED", status)
	}
}

func TestCompileCloudMapSkips(t *testing.T) {
	cases := []struct {
		name    string
		docs    map[string]any
		zones   int
		wantErr string
	}{
		{name: "private namespace without VPC", zones: 0, wantErr: "without a VPC",
			docs: map[string]any{"1.ns.ns-1": cloudMapNamespace("ns-1xxxxxxx", "a.internal", apimodel.NamespaceDNSPrivate, "", 15)}},
		{name: "HTTP namespace", zones: 0,
			docs: map[string]any{"1.ns.ns-1": cloudMapNamespace("ns-1xxxxxxx", "a b", apimodel.NamespaceHTTP, "", 0)}},
		{name: "bad namespace name", zones: 0, wantErr: "name",
			docs: map[string]any{"1.ns.ns-1": cloudMapNamespace("ns-1xxxxxxx", "a..internal", apimodel.NamespaceDNSPublic, "", 15)}},
		{name: "long instance id label", zones: 1, wantErr: "does not make a DNS name",
			docs: map[string]any{
				"1.ns.ns-1":    cloudMapNamespace("ns-1xxxxxxx", "a.internal", apimodel.NamespaceDNSPublic, "", 15),
				"1.srv.srv-1":  cloudMapService("srv-1", "ns-1xxxxxxx", "s", "MULTIVALUE", false, "SRV:10"),
				"1.inst.srv-1": inst("srv-1", strings.Repeat("x", 64), "", ipv4+"10.0.0.1", port+"80"),
			}},
		{name: "bad port", zones: 1, wantErr: "AWS_INSTANCE_PORT",
			docs: map[string]any{
				"1.ns.ns-1":    cloudMapNamespace("ns-1xxxxxxx", "a.internal", apimodel.NamespaceDNSPublic, "", 15),
				"1.srv.srv-1":  cloudMapService("srv-1", "ns-1xxxxxxx", "s", "MULTIVALUE", false, "SRV:10"),
				"1.inst.srv-1": inst("srv-1", "i", "", ipv4+"10.0.0.1", port+"65536"),
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newCloudMapDocs()
			for k, v := range tc.docs {
				b, err := json.Marshal(v)
				if err != nil {
					t.Fatal(err)
				}
				if err := d.put(k, b); err != nil {
					t.Fatal(err)
				}
			}
			zones, err := compileCloudMap(d)
			if len(zones) != tc.zones {
				t.Errorf("%d zones, want %d", len(zones), tc.zones)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("error %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("error %v, want one mentioning %q", err, tc.wantErr)
			}
		})
	}
}

// FuzzCompileCloudMap compiles a namespace with one service and one
// instance built from arbitrary names and attributes, and arbitrary
// document bytes. It must not panic, and every record it serves must be a
// valid DNS record below the zone, with SRV targets that exist.
func FuzzCompileCloudMap(f *testing.F) {
	f.Add("cm.internal", uint8(0), "web", "MULTIVALUE", "A AAAA SRV", "i-1", "10.0.0.1", "fd00::1", "8080", "", "", []byte(`{}`))
	f.Add("Example.COM.", uint8(1), "_grpc._tcp", "WEIGHTED", "SRV", "Task@7.x", "", "::ffff:1.2.3.4", "0", "", "UNHEALTHY", []byte(`{"Id":"ns-x","Type":"DNS_PRIVATE","Name":"a"}`))
	f.Add("a.b", uint8(2), "c", "WEIGHTED", "CNAME", "i", "", "", "", "target.example.com", "HEALTHY", []byte(`[`))
	f.Add("x", uint8(0), "y", "", "SRV A", strings.Repeat("a", 63)+"."+strings.Repeat("b", 63), "1.2.3.4", "", "65535", "", "", []byte(`{"Type":"HTTP"}`))
	f.Fuzz(func(t *testing.T, nsName string, nsType uint8, svcName, policy, types, instanceID, v4, v6, portText, cname, health string, raw []byte) {
		typ := []string{apimodel.NamespaceDNSPrivate, apimodel.NamespaceDNSPublic, apimodel.NamespaceHTTP}[int(nsType)%3]
		ns := cloudMapNamespace("ns-fuzz0000000001", nsName, typ, vpcA, 15)
		sv := &apimodel.Service{Account: cmAccount, ID: "srv-fuzz", Name: svcName, NamespaceID: ns.ID,
			DNSConfig: &apimodel.DNSConfig{RoutingPolicy: policy}, HealthCheckCustomConfig: &apimodel.HealthCheckCustomConfig{}}
		for _, rt := range strings.Fields(types) {
			sv.DNSConfig.DNSRecords = append(sv.DNSConfig.DNSRecords, apimodel.DNSRecord{Type: rt, TTL: 10})
		}
		in := inst(sv.ID, instanceID, health, ipv4+v4, ipv6+v6, port+portText, apimodel.AttrInstanceCNAME+"="+cname)
		d := newCloudMapDocs()
		for key, doc := range map[string]any{"a.ns.n": ns, "a.srv.s": sv, "a.inst.s.i": in} {
			b, err := json.Marshal(doc)
			if err != nil {
				t.Fatal(err)
			}
			if err := d.put(key, b); err != nil {
				t.Fatal(err)
			}
		}
		for _, key := range []string{"b.ns.x", "b.srv.x", "b.inst.x.y", "b.other.x"} {
			_ = d.put(key, raw)
		}
		zones, _ := compileCloudMap(d)
		for _, z := range zones {
			if _, ok := mdns.IsDomainName(z.name); !ok {
				t.Fatalf("zone name %q", z.name)
			}
			for name, types := range z.names {
				if !strings.HasSuffix(name, ".") || !(name == z.name || strings.HasSuffix(name, "."+z.name)) {
					t.Fatalf("name %q outside zone %q", name, z.name)
				}
				for _, g := range types {
					if len(g.records) == 0 {
						t.Fatalf("%s: empty group", name)
					}
					for _, rec := range g.records {
						for _, rr := range rec.rrs {
							if rr.Header().Name != name {
								t.Fatalf("record %v under name %q", rr, name)
							}
							m := new(mdns.Msg)
							m.SetQuestion(name, rr.Header().Rrtype)
							m.Answer = []mdns.RR{rr}
							b, err := m.Pack()
							if err != nil {
								t.Fatalf("record %v does not pack: %v", rr, err)
							}
							back := new(mdns.Msg)
							if err := back.Unpack(b); err != nil {
								t.Fatalf("record %v does not unpack: %v", rr, err)
							}
							if got := strings.ToLower(back.Question[0].Name); got != name {
								t.Fatalf("name %q arrives as %q", name, got)
							}
							if srv, ok := rr.(*mdns.SRV); ok {
								if _, ok := z.names[srv.Target]; !ok && instanceAddrsValid(in) {
									t.Fatalf("SRV target %q has no records", srv.Target)
								}
							}
						}
					}
				}
			}
		}
	})
}

// instanceAddrsValid reports whether the instance has a usable address.
func instanceAddrsValid(in *apimodel.Instance) bool {
	v4, v6 := instanceAddrs(in)
	return v4.IsValid() || v6.IsValid()
}
