package route53api

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"gatehouse/internal/dns"
	"gatehouse/internal/dns/r53"
)

func createZone(t testing.TB, e *env, base, name, ref, vpc string) string {
	t.Helper()
	body := fmt.Sprintf(`<CreateHostedZoneRequest xmlns="%s"><Name>%s</Name><CallerReference>%s</CallerReference>`, Namespace, name, ref)
	if vpc != "" {
		body += `<VPC><VPCRegion>us-east-1</VPCRegion><VPCId>` + vpc + `</VPCId></VPC>`
	}
	body += `</CreateHostedZoneRequest>`
	status, out := e.do(base, "POST", "/2013-04-01/hostedzone", body)
	if status != http.StatusCreated {
		t.Fatalf("CreateHostedZone: %d %s", status, out)
	}
	var r createHostedZoneResponse
	if err := xml.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(r.HostedZone.ID, "/hostedzone/")
}

func changeBody(changes ...string) string {
	return `<ChangeResourceRecordSetsRequest xmlns="` + Namespace + `"><ChangeBatch><Changes>` + strings.Join(changes, "") + `</Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`
}

func aRecord(action, name, ttl string, values ...string) string {
	s := `<Change><Action>` + action + `</Action><ResourceRecordSet><Name>` + name + `</Name><Type>A</Type>`
	if ttl != "" {
		s += `<TTL>` + ttl + `</TTL>`
	}
	if len(values) > 0 {
		s += `<ResourceRecords>`
		for _, v := range values {
			s += `<ResourceRecord><Value>` + v + `</Value></ResourceRecord>`
		}
		s += `</ResourceRecords>`
	}
	return s + `</ResourceRecordSet></Change>`
}

func TestErrors(t *testing.T) {
	e := newEnv(t, nil)
	zone := createZone(t, e, e.urlA, "errors.test", "r1", "")
	priv := createZone(t, e, e.urlA, "priv.test", "r2", vpcA)
	rrset := "/2013-04-01/hostedzone/" + zone + "/rrset/"
	tests := []struct {
		name, base, method, path, body string
		status                         int
		code, msg                      string
	}{
		{"malformed XML", e.urlA, "POST", rrset, "<ChangeResourceRecordSetsRequest><ChangeBatch>", 400, "InvalidInput", ""},
		{"empty body", e.urlA, "POST", rrset, "", 400, "InvalidInput", ""},
		{"no ChangeBatch", e.urlA, "POST", rrset, `<ChangeResourceRecordSetsRequest/>`, 400, "InvalidInput",
			"Invalid request: Missing field 'ChangeBatch' in ChangeResourceRecordSetsRequest"},
		{"no changes", e.urlA, "POST", rrset, changeBody(), 400, "InvalidInput", "Invalid request: Expected at least one Change in ChangeBatch"},
		{"missing TTL", e.urlA, "POST", rrset, changeBody(aRecord("CREATE", "x.errors.test", "", "192.0.2.1")), 400, "InvalidInput",
			"Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in Change with [Action=CREATE, Name=x.errors.test., Type=A, SetIdentifier=null]"},
		{"bad action", e.urlA, "POST", rrset, changeBody(aRecord("MERGE", "x.errors.test", "60", "192.0.2.1")), 400, "InvalidInput",
			"Invalid request: Expected one of [CREATE, DELETE, UPSERT], but found 'MERGE' in Change"},
		{"bad IPv4", e.urlA, "POST", rrset, changeBody(aRecord("CREATE", "x.errors.test", "60", "1.2.3")), 400, "InvalidChangeBatch",
			"[Invalid Resource Record: FATAL problem: ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address) encountered with '1.2.3']"},
		{"outside the zone", e.urlA, "POST", rrset, changeBody(aRecord("CREATE", "x.other.test", "60", "192.0.2.1")), 400, "InvalidChangeBatch",
			"[RRSet with DNS name x.other.test. is not permitted in zone errors.test.]"},
		{"delete the apex NS", e.urlA, "POST", rrset, `<ChangeResourceRecordSetsRequest><ChangeBatch><Changes><Change><Action>DELETE</Action><ResourceRecordSet><Name>errors.test</Name><Type>NS</Type><TTL>172800</TTL><ResourceRecords>` +
			nsValues(zone) + `</ResourceRecords></ResourceRecordSet></Change></Changes></ChangeBatch></ChangeResourceRecordSetsRequest>`, 400, "InvalidChangeBatch",
			"[A HostedZone must contain at least one NS record for the zone itself.]"},
		{"CNAME beside an A", e.urlA, "POST", rrset, changeBody(aRecord("CREATE", "c.errors.test", "60", "192.0.2.1"),
			`<Change><Action>CREATE</Action><ResourceRecordSet><Name>c.errors.test</Name><Type>CNAME</Type><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>x.test</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change>`),
			400, "InvalidChangeBatch", "[RRSet of type CNAME with DNS name c.errors.test. is not permitted as it conflicts with other records with the same DNS name in zone errors.test.]"},
		{"unknown health check", e.urlA, "POST", rrset, changeBody(`<Change><Action>CREATE</Action><ResourceRecordSet><Name>h.errors.test</Name><Type>A</Type><SetIdentifier>p</SetIdentifier><Failover>PRIMARY</Failover><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.1</Value></ResourceRecord></ResourceRecords><HealthCheckId>7e0b3ad4-0000-4000-8000-000000000000</HealthCheckId></ResourceRecordSet></Change>`),
			404, "NoSuchHealthCheck", "No health check found with id: 7e0b3ad4-0000-4000-8000-000000000000"},
		{"latency routing", e.urlA, "POST", rrset, changeBody(`<Change><Action>CREATE</Action><ResourceRecordSet><Name>l.errors.test</Name><Type>A</Type><SetIdentifier>p</SetIdentifier><Region>us-east-1</Region><TTL>60</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.1</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change>`),
			400, "InvalidInput", ""},
		{"unknown zone", e.urlA, "GET", "/2013-04-01/hostedzone/ZNOPE", "", 404, "NoSuchHostedZone", "No hosted zone found with ID: ZNOPE"},
		{"another account's zone", e.urlB, "GET", "/2013-04-01/hostedzone/" + zone, "", 404, "NoSuchHostedZone", "No hosted zone found with ID: " + zone},
		{"public zone association", e.urlA, "POST", "/2013-04-01/hostedzone/" + zone + "/associatevpc",
			`<AssociateVPCWithHostedZoneRequest><VPC><VPCRegion>us-east-1</VPCRegion><VPCId>` + vpcA + `</VPCId></VPC></AssociateVPCWithHostedZoneRequest>`,
			400, "PublicZoneVPCAssociation", "Public hosted zones cannot be associated with VPCs."},
		{"another account's VPC", e.urlA, "POST", "/2013-04-01/hostedzone/" + priv + "/associatevpc",
			`<AssociateVPCWithHostedZoneRequest><VPC><VPCRegion>us-east-1</VPCRegion><VPCId>` + vpcB + `</VPCId></VPC></AssociateVPCWithHostedZoneRequest>`,
			401, "NotAuthorizedException", ""},
		{"same private name on the same VPC", e.urlA, "POST", "/2013-04-01/hostedzone",
			`<CreateHostedZoneRequest><Name>priv.test</Name><CallerReference>r3</CallerReference><VPC><VPCRegion>us-east-1</VPCRegion><VPCId>` + vpcA + `</VPCId></VPC></CreateHostedZoneRequest>`,
			400, "ConflictingDomainExists", ""},
		{"reserved name", e.urlA, "POST", "/2013-04-01/hostedzone",
			`<CreateHostedZoneRequest><Name>execute-api.us-east-1.amazonaws.com</Name><CallerReference>r4</CallerReference></CreateHostedZoneRequest>`,
			400, "InvalidDomainName", "execute-api.us-east-1.amazonaws.com. is reserved by AWS!"},
		{"unknown change", e.urlA, "GET", "/2013-04-01/change/CNOPE", "", 404, "NoSuchChange", ""},
		{"unknown operation", e.urlA, "GET", "/2013-04-01/trafficpolicies", "", 400, "InvalidAction", ""},
		{"bad maxitems", e.urlA, "GET", "/2013-04-01/hostedzone?maxitems=zero", "", 400, "InvalidInput", ""},
		{"health check without address", e.urlA, "POST", "/2013-04-01/healthcheck",
			`<CreateHealthCheckRequest><CallerReference>h1</CallerReference><HealthCheckConfig><Type>HTTP</Type></HealthCheckConfig></CreateHealthCheckRequest>`,
			400, "InvalidInput", "Invalid health check: IP address or fully qualified domain name is required."},
		{"CloudWatch health check", e.urlA, "POST", "/2013-04-01/healthcheck",
			`<CreateHealthCheckRequest><CallerReference>h2</CallerReference><HealthCheckConfig><Type>CLOUDWATCH_METRIC</Type></HealthCheckConfig></CreateHealthCheckRequest>`,
			400, "InvalidInput", "Health checks of type CLOUDWATCH_METRIC are not supported by gatehouse."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := e.do(tc.base, tc.method, tc.path, tc.body)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			typ, code, msg := apiErr(t, body)
			if typ != "Sender" || code != tc.code || (tc.msg != "" && msg != tc.msg) {
				t.Errorf("got %s %s %q\nwant Sender %s %q", typ, code, msg, tc.code, tc.msg)
			}
		})
	}
}

func nsValues(zone string) string {
	var b strings.Builder
	for _, ns := range r53.NameServers(zone, false) {
		b.WriteString("<ResourceRecord><Value>" + ns + "</Value></ResourceRecord>")
	}
	return b.String()
}

// TestAtomicBatches runs concurrent change batches on one zone: every batch
// applies entirely (no lost updates), and a failing batch applies nothing.
func TestAtomicBatches(t *testing.T) {
	e := newEnv(t, nil)
	zone := createZone(t, e, e.urlA, "atomic.test", "r1", "")
	rrset := "/2013-04-01/hostedzone/" + zone + "/rrset"
	var wg sync.WaitGroup
	errs := make(chan string, 20)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := changeBody(aRecord("CREATE", fmt.Sprintf("a%d.atomic.test", i), "60", "192.0.2.1"),
				aRecord("CREATE", fmt.Sprintf("b%d.atomic.test", i), "60", "192.0.2.2"))
			if status, out := e.do(e.urlA, "POST", rrset, body); status != 200 {
				errs <- fmt.Sprintf("batch %d: %d %s", i, status, out)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	status, body := e.do(e.urlA, "POST", rrset, changeBody(aRecord("CREATE", "c.atomic.test", "60", "192.0.2.3"), aRecord("CREATE", "a1.atomic.test", "60", "192.0.2.1")))
	if status != 400 {
		t.Fatalf("conflicting batch: %d %s", status, body)
	}
	_, list := e.do(e.urlA, "GET", rrset+"?maxitems=300", "")
	var r listRecordsResponse
	if err := xml.Unmarshal([]byte(list), &r); err != nil {
		t.Fatal(err)
	}
	if n := len(r.ResourceRecordSets); n != 22 {
		t.Errorf("%d record sets, want 2 + 20", n)
	}
	if strings.Contains(list, "c.atomic.test") {
		t.Error("the rejected batch applied its first change")
	}
	// Pagination: two per page walks all of them.
	seen, next := 0, ""
	for range 20 {
		_, page := e.do(e.urlA, "GET", rrset+"?maxitems=2"+next, "")
		var p listRecordsResponse
		if err := xml.Unmarshal([]byte(page), &p); err != nil {
			t.Fatal(err)
		}
		seen += len(p.ResourceRecordSets)
		if !p.IsTruncated {
			break
		}
		next = "&name=" + p.NextRecordName + "&type=" + p.NextRecordType
	}
	if seen != 22 {
		t.Errorf("paginated through %d record sets, want 22", seen)
	}
}

func TestHealthCheckIdempotency(t *testing.T) {
	e := newEnv(t, nil)
	create := func(ref, port string) (int, string) {
		return e.do(e.urlA, "POST", "/2013-04-01/healthcheck", `<CreateHealthCheckRequest><CallerReference>`+ref+
			`</CallerReference><HealthCheckConfig><Type>TCP</Type><IPAddress>127.0.0.1</IPAddress><Port>`+port+`</Port></HealthCheckConfig></CreateHealthCheckRequest>`)
	}
	s1, b1 := create("same", "9000")
	s2, b2 := create("same", "9000")
	if s1 != 201 || s2 != 201 || b1 != b2 {
		t.Fatalf("same reference and settings: %d %d\n%s\n%s", s1, s2, b1, b2)
	}
	s3, b3 := create("same", "9001")
	if _, code, _ := apiErr(t, b3); s3 != 409 || code != "HealthCheckAlreadyExists" {
		t.Fatalf("same reference, other settings: %d %s", s3, b3)
	}
	var r healthCheckResponse
	_ = xml.Unmarshal([]byte(b1), &r)
	if r.HealthCheck.HealthCheckConfig.RequestInterval != 30 || r.HealthCheck.HealthCheckConfig.FailureThreshold != 3 {
		t.Errorf("defaults not applied: %+v", r.HealthCheck.HealthCheckConfig)
	}
	if s, b := e.do(e.urlB, "DELETE", "/2013-04-01/healthcheck/"+r.HealthCheck.ID, ""); s != 404 {
		t.Errorf("another account deleted it: %d %s", s, b)
	}
	if s, b := e.do(e.urlA, "DELETE", "/2013-04-01/healthcheck/"+r.HealthCheck.ID, ""); s != 200 {
		t.Errorf("delete: %d %s", s, b)
	}
}

// TestServedByDNS checks the whole path: a zone and records created through
// the API are answered by the DNS server within a second.
func TestServedByDNS(t *testing.T) {
	e := newEnv(t, nil)
	srv, err := dns.New(context.Background(), dns.Options{Topology: e.topo, Store: e.store})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-srv.Ready()
	addrs := map[string]string{}
	for _, l := range srv.Listeners() {
		addrs[l.ID] = l.UDP
	}
	zone := createZone(t, e, e.urlA, "served.test", "r1", vpcA)
	start := time.Now()
	if s, b := e.do(e.urlA, "POST", "/2013-04-01/hostedzone/"+zone+"/rrset/", changeBody(aRecord("CREATE", "www.served.test", "60", "127.12.5.5"))); s != 200 {
		t.Fatalf("change: %d %s", s, b)
	}
	q := func(addr string) *mdns.Msg {
		m := new(mdns.Msg)
		m.SetQuestion("www.served.test.", mdns.TypeA)
		r, err := mdns.Exchange(m, addr)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for {
		if r := q(addrs[vpcA]); len(r.Answer) == 1 {
			break
		}
		if time.Since(start) > time.Second {
			t.Fatal("record not served within one second")
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Logf("served after %v", time.Since(start))
	if r := q(addrs["public"]); r.Rcode != mdns.RcodeRefused {
		t.Errorf("private zone answered publicly: %v", r)
	}
	// GetChange reports INSYNC once the change is at least a second old.
	_, body := e.do(e.urlA, "POST", "/2013-04-01/hostedzone/"+zone+"/rrset/", changeBody(aRecord("UPSERT", "www.served.test", "60", "127.12.5.6")))
	var cr changeResponse
	_ = xml.Unmarshal([]byte(body), &cr)
	e.srv.now = func() time.Time { return time.Now().Add(2 * time.Second) }
	_, body = e.do(e.urlA, "GET", "/2013-04-01/change/"+strings.TrimPrefix(cr.ChangeInfo.ID, "/change/"), "")
	if !strings.Contains(body, "<Status>INSYNC</Status>") {
		t.Errorf("GetChange: %s", body)
	}
}

// FuzzChangeBatch feeds arbitrary documents to the ChangeResourceRecordSets
// parser and AWS's change rules, on a zone with records of every policy:
// the result is a new record list or a Route 53 error, never a panic; an
// accepted batch leaves a zone that passes the whole-zone checks.
func FuzzChangeBatch(f *testing.F) {
	f.Add(changeBody(aRecord("UPSERT", "a.fuzz.test", "60", "192.0.2.1")))
	f.Add(changeBody(aRecord("CREATE", "*.fuzz.test", "60", "192.0.2.1", "192.0.2.2")))
	f.Add(changeBody(`<Change><Action>UPSERT</Action><ResourceRecordSet><Name>w.fuzz.test</Name><Type>TXT</Type><SetIdentifier>x</SetIdentifier><Weight>3</Weight><TTL>5</TTL><ResourceRecords><ResourceRecord><Value>"a b"</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change>`))
	f.Add(changeBody(`<Change><Action>DELETE</Action><ResourceRecordSet><Name>fuzz.test</Name><Type>SOA</Type><AliasTarget><HostedZoneId>Z1</HostedZoneId><DNSName>x</DNSName><EvaluateTargetHealth>true</EvaluateTargetHealth></AliasTarget></ResourceRecordSet></Change>`))
	f.Add(changeBody(`<Change><Action>CREATE</Action><ResourceRecordSet><Name>p.fuzz.test</Name><Type>A</Type><SetIdentifier>s</SetIdentifier><Failover>SECONDARY</Failover><TTL>1</TTL><ResourceRecords><ResourceRecord><Value>192.0.2.9</Value></ResourceRecord></ResourceRecords></ResourceRecordSet></Change>`))
	f.Add(`<x`)
	base := &r53.Zone{ID: "ZFUZZ", Name: "fuzz.test."}
	base.Records = append(r53.InitialRecords(base.Name, base.ID, false),
		r53.RecordSet{Name: "p.fuzz.test.", Type: "A", SetIdentifier: "p", Failover: "PRIMARY", TTL: ptr(int64(1)), Values: []string{"192.0.2.8"}},
		r53.RecordSet{Name: "w.fuzz.test.", Type: "TXT", SetIdentifier: "y", Weight: ptr(int64(1)), TTL: ptr(int64(5)), Values: []string{`"c"`}})
	f.Fuzz(func(t *testing.T, body string) {
		changes, _, err := parseChangeBatch([]byte(body))
		if err != nil {
			if _, ok := err.(*apiError); !ok {
				t.Fatalf("not a Route 53 error: %v", err)
			}
			return
		}
		z := *base
		records, cerr := r53.ApplyChanges(&z, changes, func(string) bool { return true })
		if cerr != nil {
			if cerr.Code == "" || len(cerr.Messages) == 0 {
				t.Fatalf("error without code or message: %+v", cerr)
			}
			return
		}
		z.Records = records
		if msgs := r53.CheckZone(&z); len(msgs) > 0 {
			t.Fatalf("accepted batch left an invalid zone: %v", msgs)
		}
		if _, err := xml.Marshal(listRecordsResponse{}); err != nil {
			t.Fatal(err)
		}
	})
}

func ptr[T any](v T) *T { return &v }
