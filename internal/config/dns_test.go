package config

import (
	"net/netip"
	"strings"
	"testing"
)

const dnsBase = `
region: us-east-1
controlPlane: {listen: 127.0.0.1:4566}
publicListener: {listen: 127.0.0.1:8443}
accounts:
  - id: "111111111111"
    accessKeys: [{id: AKIAPROVIDER00000001, secret: s}]
vpcs:
  - id: vpc-0aaaaaaaaaaaaaaa1
    account: "111111111111"
    cidr: 127.10.0.0/16
    subnets:
      - {id: subnet-0aaaaaaaaaaaaaaa1, cidr: 127.10.1.0/24}
      - {id: subnet-0aaaaaaaaaaaaaaa2, cidr: 127.10.2.0/24, availabilityZone: us-east-1c}
  - {id: vpc-0bbbbbbbbbbbbbbb2, account: "111111111111", cidr: 127.20.0.0/16, dnsAddress: 127.20.0.53}
vpcEndpoints:
  - {id: vpce-0aaaaaaaaaaaaaaa1, vpc: vpc-0aaaaaaaaaaaaaaa1, addresses: [127.10.1.10, 127.10.2.10]}
`

func TestDNSDefaultsAndKeys(t *testing.T) {
	topo, err := Parse([]byte(dnsBase + `
publicResolver: {listen: 127.0.0.1:5353}
resolverEndpoints:
  - {id: rslvr-in-0aaaaaaaaaaaaaaa1, vpc: vpc-0aaaaaaaaaaaaaaa1, addresses: [127.10.3.10]}
forwardingRules:
  - {domain: Corp.Example, targets: ["127.30.0.2", "127.30.0.3:5300"], vpcs: [vpc-0aaaaaaaaaaaaaaa1]}
upstreams: ["127.0.0.53"]
healthChecks:
  - {id: web, type: HTTP, ipAddress: 127.0.0.1}
  - {id: both, type: CALCULATED, childHealthChecks: [web], healthThreshold: 1}
hostedZones:
  - name: Example.COM
    records:
      - {name: www, type: A, values: [192.0.2.1]}
      - {name: "@", type: MX, ttl: 60, values: ["10 mail.example.com"]}
      - {name: api.example.com, type: A, setIdentifier: p, failover: PRIMARY, healthCheck: web, values: [192.0.2.2]}
      - {name: api, type: A, setIdentifier: s, failover: SECONDARY, values: [192.0.2.3]}
      - {name: alias, type: A, alias: {dnsName: www.example.com}}
  - name: corp.internal
    private: true
    vpcs: [vpc-0aaaaaaaaaaaaaaa1]
`))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if topo.DNS.Port != 53 {
		t.Errorf("dnsPort default %d", topo.DNS.Port)
	}
	if a := topo.VPCs[0].DNSAddress; a != netip.MustParseAddr("127.10.0.2") {
		t.Errorf("default dnsAddress %v", a)
	}
	if a := topo.VPCs[1].DNSAddress; a != netip.MustParseAddr("127.20.0.53") {
		t.Errorf("explicit dnsAddress %v", a)
	}
	if az := topo.VPCs[0].Subnets[0].AvailabilityZone; az != "us-east-1a" {
		t.Errorf("default availabilityZone %q", az)
	}
	e := &topo.VPCEndpoints[0]
	azs, byAZ := topo.EndpointZones(e)
	if strings.Join(azs, ",") != "us-east-1a,us-east-1c" || byAZ["us-east-1c"][0] != netip.MustParseAddr("127.10.2.10") {
		t.Errorf("endpoint zones %v %v", azs, byAZ)
	}
	if got := topo.EndpointZonalDNSName(e, "us-east-1a"); got != "vpce-0aaaaaaaaaaaaaaa1-eca766e8-us-east-1a.execute-api.us-east-1.vpce.amazonaws.com" {
		t.Errorf("zonal name %s", got)
	}
	z := topo.DNS.HostedZones[0]
	if z.Name != "example.com." || z.Account != "111111111111" || !strings.HasPrefix(z.ID, "Z") {
		t.Errorf("zone %+v", z)
	}
	names := map[string]bool{}
	for _, r := range z.Records {
		names[r.Name+" "+r.Type] = true
		if r.Name == "alias.example.com." && (r.Alias == nil || r.Alias.HostedZoneID != z.ID || r.TTL != nil) {
			t.Errorf("alias record %+v", r)
		}
		if r.Name == "www.example.com." && (r.TTL == nil || *r.TTL != 300) {
			t.Errorf("default TTL %+v", r)
		}
	}
	for _, want := range []string{"www.example.com. A", "example.com. MX", "example.com. SOA", "example.com. NS", "api.example.com. A"} {
		if !names[want] {
			t.Errorf("missing record %s in %v", want, names)
		}
	}
	if hc := topo.DNS.HealthChecks[0].Config; hc.Port != 80 || hc.RequestInterval != 30 || hc.FailureThreshold != 3 {
		t.Errorf("health check defaults %+v", hc)
	}
	if ap, err := DNSServerAddr(topo.DNS.ForwardingRules[0].Targets[0]); err != nil || ap.Port() != 53 {
		t.Errorf("target %v %v", ap, err)
	}
}

func TestDNSValidation(t *testing.T) {
	tests := []struct {
		name, yaml, path, msg string
	}{
		{"dnsAddress outside the VPC", strings.Replace(dnsBase, "dnsAddress: 127.20.0.53", "dnsAddress: 127.30.0.53", 1),
			"vpcs[1].dnsAddress", "127.30.0.53 is not inside 127.20.0.0/16"},
		{"dnsPort out of range", dnsBase + "dnsPort: 70000\n", "dnsPort", "70000 is not a port"},
		{"subnet outside the VPC", strings.Replace(dnsBase, "cidr: 127.10.2.0/24", "cidr: 127.11.2.0/24", 1),
			"vpcs[0].subnets[1].cidr", "is not inside 127.10.0.0/16"},
		{"bad availability zone", strings.Replace(dnsBase, "availabilityZone: us-east-1c", "availabilityZone: eu-west-1a", 1),
			"vpcs[0].subnets[1].availabilityZone", "is not an availability zone of us-east-1"},
		{"resolver endpoint id", dnsBase + "resolverEndpoints: [{id: rslvr-x, vpc: vpc-0aaaaaaaaaaaaaaa1, addresses: [127.10.3.10]}]\n",
			"resolverEndpoints[0].id", "is not an inbound resolver endpoint id"},
		{"resolver endpoint on the VPC resolver", dnsBase + "resolverEndpoints: [{id: rslvr-in-0aaaaaaaaaaaaaaa1, vpc: vpc-0aaaaaaaaaaaaaaa1, addresses: [127.10.0.2]}]\n",
			"resolverEndpoints[0].addresses[0]", "is already the resolver address of vpcs[0].dnsAddress"},
		{"rule without a resolver", dnsBase + "forwardingRules: [{domain: corp.example, targets: [127.30.0.2]}]\n",
			"forwardingRules[0]", "the rule applies to no resolver"},
		{"rule target", dnsBase + "forwardingRules: [{domain: corp.example, targets: [dns.corp.example], publicResolver: true}]\n",
			"forwardingRules[0].targets[0]", "is not a DNS server address"},
		{"rule VPC", dnsBase + "forwardingRules: [{domain: corp.example, targets: [127.30.0.2], vpcs: [vpc-0123456789abcdef0]}]\n",
			"forwardingRules[0].vpcs[0]", "unknown VPC"},
		{"private zone without VPCs", dnsBase + "hostedZones: [{name: a.test, private: true}]\n",
			"hostedZones[0].vpcs", "a private hosted zone needs at least one VPC"},
		{"duplicate zone", dnsBase + "hostedZones: [{name: a.test}, {name: A.test.}]\n",
			"hostedZones[1].name", "zone a.test. is already defined for public"},
		{"bad record value", dnsBase + "hostedZones: [{name: a.test, records: [{name: www, type: A, values: [1.2.3]}]}]\n",
			"hostedZones[0].records[0]", "ARRDATAIllegalIPv4Address"},
		{"record outside the zone", dnsBase + "hostedZones: [{name: a.test, records: [{name: www.b.test., type: A, values: [192.0.2.1]}]}]\n",
			"hostedZones[0].records[0]", "is not permitted in zone a.test."},
		{"CNAME conflict", dnsBase + "hostedZones: [{name: a.test, records: [{name: www, type: A, values: [192.0.2.1]}, {name: www, type: CNAME, values: [x.test]}]}]\n",
			"hostedZones[0].records", "conflicts with other records"},
		{"unknown health check", dnsBase + "hostedZones: [{name: a.test, records: [{name: www, type: A, setIdentifier: p, failover: PRIMARY, healthCheck: nope, values: [192.0.2.1]}]}]\n",
			"hostedZones[0].records[0].healthCheck", `unknown health check "nope"`},
		{"unknown record key", dnsBase + "hostedZones: [{name: a.test, records: [{name: www, type: A, value: [192.0.2.1]}]}]\n",
			"hostedZones[0].records[0].value", "unknown key"},
		{"health check type", dnsBase + "healthChecks: [{id: x, type: PING, ipAddress: 127.0.0.1}]\n",
			"healthChecks[0]", "Invalid health check type: PING"},
		{"health check child", dnsBase + "healthChecks: [{id: x, type: CALCULATED, childHealthChecks: [y]}]\n",
			"healthChecks[0].childHealthChecks[0]", `unknown health check "y"`},
		{"public resolver listen", dnsBase + "publicResolver: {listen: 127.0.0.1:4566}\n",
			"publicResolver.listen", "is also used by controlPlane.listen"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			found := false
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				fe := e.(*FieldError)
				if fe.Path == tc.path && strings.Contains(fe.Msg, tc.msg) {
					found = true
				}
			}
			if !found {
				t.Errorf("want %s: ...%s...; got\n%v", tc.path, tc.msg, err)
			}
		})
	}
}

func TestOverlappingVPCsShareNoDefaultResolver(t *testing.T) {
	topo, err := Parse([]byte(`
region: us-east-1
controlPlane: {listen: 127.0.0.1:4566}
publicListener: {listen: 127.0.0.1:8443}
accounts:
  - {id: "111111111111", accessKeys: [{id: AKIAPROVIDER00000001, secret: s}]}
  - {id: "222222222222", accessKeys: [{id: AKIACONSUMER00000001, secret: s}]}
vpcs:
  - {id: vpc-0aaaaaaaaaaaaaaa1, account: "111111111111", cidr: 127.10.0.0/16}
  - {id: vpc-0bbbbbbbbbbbbbbb2, account: "222222222222", cidr: 127.10.0.0/16}
`))
	if err != nil {
		t.Fatal(err)
	}
	if topo.VPCs[0].DNSAddress != netip.MustParseAddr("127.10.0.2") || topo.VPCs[1].DNSAddress.IsValid() {
		t.Errorf("resolvers %v %v", topo.VPCs[0].DNSAddress, topo.VPCs[1].DNSAddress)
	}
}
