package config

import (
	"bytes"
	"errors"
	"io/fs"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

// baseYAML is a valid topology with two accounts, each with one VPC and one
// endpoint. Test cases edit it with exact string replacements.
const baseYAML = `region: us-east-1
controlPlane: {listen: 127.0.0.1:4566}
publicListener: {listen: 127.0.0.1:8443, httpListen: 127.0.0.1:8080}
accounts:
  - id: "111111111111"
    accessKeys: [{id: AKIAPROVIDER00000001, secret: provider-secret}]
  - id: "222222222222"
    accessKeys: [{id: AKIACONSUMER00000001, secret: consumer-secret}]
vpcs:
  - id: vpc-0aaaaaaaaaaaaaaa1
    account: "111111111111"
    cidr: 127.10.0.0/16
  - id: vpc-0bbbbbbbbbbbbbbb2
    account: "222222222222"
    cidr: 127.20.0.0/16
vpcEndpoints:
  - id: vpce-0aaaaaaaaaaaaaaa1
    vpc: vpc-0aaaaaaaaaaaaaaa1
    addresses: [127.10.1.10]
    port: 8443
    httpPort: 8080
  - id: vpce-0bbbbbbbbbbbbbbb2
    vpc: vpc-0bbbbbbbbbbbbbbb2
    addresses: [127.20.1.10, 127.20.2.10]
`

// edit returns baseYAML with each old string (which must occur exactly
// once) replaced by its new string: pairs is old, new, old, new, ...
func edit(tb testing.TB, pairs ...string) string {
	tb.Helper()
	s := baseYAML
	for i := 0; i+1 < len(pairs); i += 2 {
		if n := strings.Count(s, pairs[i]); n != 1 {
			tb.Fatalf("edit: %q occurs %d times in baseYAML", pairs[i], n)
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		check func(t *testing.T, topo *Topology)
	}{
		{
			name: "base",
			yaml: baseYAML,
			check: func(t *testing.T, topo *Topology) {
				if len(topo.Accounts) != 2 || len(topo.VPCs) != 2 || len(topo.VPCEndpoints) != 2 {
					t.Fatalf("got %d accounts, %d vpcs, %d endpoints", len(topo.Accounts), len(topo.VPCs), len(topo.VPCEndpoints))
				}
				want := []netip.Addr{netip.MustParseAddr("127.20.1.10"), netip.MustParseAddr("127.20.2.10")}
				if got := topo.VPCEndpoints[1].Addresses; !reflect.DeepEqual(got, want) {
					t.Errorf("addresses = %v, want %v", got, want)
				}
			},
		},
		{
			name: "defaults for absent keys",
			yaml: baseYAML,
			check: func(t *testing.T, topo *Topology) {
				v := topo.VPCs[1]
				if !v.EnableDNSSupport || !v.EnableDNSHostnames {
					t.Errorf("VPC DNS attributes = %v, %v; want true, true", v.EnableDNSSupport, v.EnableDNSHostnames)
				}
				e := topo.VPCEndpoints[1]
				if e.Port != 8443 || e.HTTPPort != 0 || !e.PrivateDNSEnabled || e.Policy != nil {
					t.Errorf("endpoint defaults: port %d, httpPort %d, privateDns %v, policy %q", e.Port, e.HTTPPort, e.PrivateDNSEnabled, e.Policy)
				}
				if want := []netip.Prefix{netip.MustParsePrefix("127.20.0.0/16")}; !reflect.DeepEqual(e.Ingress, want) {
					t.Errorf("ingress = %v, want the VPC cidr %v", e.Ingress, want)
				}
				if topo.PublicListener.HTTPListen != "127.0.0.1:8080" {
					t.Errorf("httpListen = %q", topo.PublicListener.HTTPListen)
				}
			},
		},
		{
			name: "empty ingress allows nothing",
			yaml: edit(t, "addresses: [127.20.1.10, 127.20.2.10]", "addresses: [127.20.1.10, 127.20.2.10]\n    ingress: []"),
			check: func(t *testing.T, topo *Topology) {
				if in := topo.VPCEndpoints[1].Ingress; in == nil || len(in) != 0 {
					t.Errorf("ingress = %#v, want an empty non-nil list", in)
				}
			},
		},
		{
			name: "null optional values keep defaults",
			yaml: edit(t,
				"httpListen: 127.0.0.1:8080", "httpListen: ~",
				"addresses: [127.20.1.10, 127.20.2.10]", "addresses: [127.20.1.10, 127.20.2.10]\n    ingress: null\n    policy: null\n    port: ~"),
			check: func(t *testing.T, topo *Topology) {
				e := topo.VPCEndpoints[1]
				if topo.PublicListener.HTTPListen != "" || e.Policy != nil || e.Port != 8443 || len(e.Ingress) != 1 {
					t.Errorf("got httpListen %q, policy %q, port %d, ingress %v", topo.PublicListener.HTTPListen, e.Policy, e.Port, e.Ingress)
				}
			},
		},
		{
			name: "unquoted account id keeps its digits",
			yaml: edit(t, `- id: "111111111111"`, `- id: 111111111111`, `account: "222222222222"`, `account: 222222222222`),
			check: func(t *testing.T, topo *Topology) {
				if topo.Accounts[0].ID != "111111111111" || topo.VPCs[1].Account != "222222222222" {
					t.Errorf("ids = %q, %q", topo.Accounts[0].ID, topo.VPCs[1].Account)
				}
			},
		},
		{
			name: "port 0 listeners may share an address",
			yaml: edit(t,
				"controlPlane: {listen: 127.0.0.1:4566}", "controlPlane: {listen: 127.0.0.1:0}",
				"publicListener: {listen: 127.0.0.1:8443, httpListen: 127.0.0.1:8080}", "publicListener: {listen: 127.0.0.1:0, httpListen: '127.0.0.1:0'}",
				"port: 8443\n", "port: 0\n"),
			check: func(t *testing.T, topo *Topology) {
				if topo.VPCEndpoints[0].Port != 0 {
					t.Errorf("explicit port 0 became %d", topo.VPCEndpoints[0].Port)
				}
			},
		},
		{
			name: "different accounts may overlap",
			yaml: edit(t, "cidr: 127.20.0.0/16", "cidr: 127.10.0.0/16", "127.20.1.10, 127.20.2.10", "127.10.1.11, 127.10.2.10"),
		},
		{
			name: "same account, disjoint blocks",
			yaml: edit(t, `  - id: vpc-0bbbbbbbbbbbbbbb2
    account: "222222222222"`, `  - id: vpc-0bbbbbbbbbbbbbbb2
    account: "111111111111"`),
		},
		{
			name: "short ids, wildcard and host name listeners, IPv6",
			yaml: edit(t,
				"controlPlane: {listen: 127.0.0.1:4566}", "controlPlane: {listen: ':4566'}",
				"publicListener: {listen: 127.0.0.1:8443, httpListen: 127.0.0.1:8080}", "publicListener: {listen: 'localhost:9443'}",
				"- id: vpc-0bbbbbbbbbbbbbbb2", "- id: vpc-0bbbbbbb",
				"vpc: vpc-0bbbbbbbbbbbbbbb2", "vpc: vpc-0bbbbbbb",
				"- id: vpce-0bbbbbbbbbbbbbbb2", "- id: vpce-0bbbbbbb",
				"cidr: 127.20.0.0/16", "cidr: fd00:20::/56",
				"addresses: [127.20.1.10, 127.20.2.10]", "addresses: ['fd00:20::10']\n    ingress: ['fd00:20::/56', 127.0.0.0/8]"),
		},
		{
			name: "aliases reuse a policy",
			yaml: edit(t,
				"httpPort: 8080\n", "httpPort: 8080\n    policy: &p {Statement: [{Effect: Allow, Principal: '*', Action: '*', Resource: '*'}]}\n",
				"addresses: [127.20.1.10, 127.20.2.10]", "addresses: [127.20.1.10, 127.20.2.10]\n    policy: *p"),
			check: func(t *testing.T, topo *Topology) {
				a, b := topo.VPCEndpoints[0].Policy, topo.VPCEndpoints[1].Policy
				if want := `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`; string(a) != want || !bytes.Equal(a, b) {
					t.Errorf("policies = %s and %s, want %s", a, b, want)
				}
			},
		},
		{
			name: "VPC DNS off without private DNS",
			yaml: edit(t, "cidr: 127.20.0.0/16", "cidr: 127.20.0.0/16\n    enableDnsSupport: false\n    enableDnsHostnames: false",
				"addresses: [127.20.1.10, 127.20.2.10]", "addresses: [127.20.1.10, 127.20.2.10]\n    privateDnsEnabled: false"),
			check: func(t *testing.T, topo *Topology) {
				if topo.VPCs[1].EnableDNSSupport || topo.VPCs[1].EnableDNSHostnames || topo.VPCEndpoints[1].PrivateDNSEnabled {
					t.Error("explicit false was not kept")
				}
			},
		},
		{
			name: "minimal: no accounts, no networks",
			yaml: "region: eu-west-1\ncontrolPlane: {listen: 127.0.0.1:0}\npublicListener: {listen: 127.0.0.1:0}\n",
		},
		{
			name: "other Region shapes",
			yaml: edit(t, "region: us-east-1", "region: us-gov-west-1"),
			check: func(t *testing.T, topo *Topology) {
				if got := topo.EndpointPublicDNSName(&topo.VPCEndpoints[0]); !strings.HasSuffix(got, ".execute-api.us-gov-west-1.vpce.amazonaws.com") {
					t.Errorf("public DNS name %q", got)
				}
			},
		},
		{
			name: "document start marker and comments",
			yaml: "# topology\n---\n" + baseYAML + "# end\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topo, err := Parse([]byte(tt.yaml))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if err := topo.Validate(); err != nil {
				t.Fatalf("Validate after Parse: %v", err)
			}
			if tt.check != nil {
				tt.check(t, topo)
			}
		})
	}
}

// invalidCase is a document that breaks a rule, and the error it must get.
type invalidCase struct {
	name string
	yaml string
	// path must appear in some error as "path: ", and msg in its message.
	path, msg string
}

// invalidCases are the documents TestParseInvalid rejects; FuzzParse uses
// them as seeds.
func invalidCases(tb testing.TB) []invalidCase {
	tb.Helper()
	return []invalidCase{
		// Document level.
		{"empty", "", "", "empty"},
		{"comments only", "# nothing\n", "", "empty"},
		{"two documents", baseYAML + "---\nregion: us-west-2\n", "", "more than one YAML document"},
		{"top level list", "- region: us-east-1\n", "", "want a mapping, got a list"},
		{"syntax error", "region: [us-east-1\n", "", "did not find expected"},
		{"tab indentation", "region: us-east-1\ncontrolPlane:\n\tlisten: x\n", "", "cannot start any token"},

		// Strict keys.
		{"unknown top-level key", baseYAML + "foo: 1\n", "foo", "unknown key (known keys: region, controlPlane"},
		{"unknown nested key", edit(tb, "port: 8443", "prot: 8443"), "vpcEndpoints[0].prot", "unknown key"},
		{"key in wrong case", edit(tb, "cidr: 127.20.0.0/16", "cidr: 127.20.0.0/16\n    enableDNSSupport: true"), "vpcs[1].enableDNSSupport", `did you mean "enableDnsSupport"`},
		{"unknown access key field", edit(tb, "secret: consumer-secret", "secret: consumer-secret, session: x"), "accounts[1].accessKeys[0].session", "unknown key"},
		{"duplicate key", edit(tb, "region: us-east-1", "region: us-east-1\nregion: us-west-2"), "region", "duplicate key"},
		{"merge key", edit(tb, "  - id: vpc-0bbbbbbbbbbbbbbb2\n", "  - <<: {enableDnsSupport: true}\n    id: vpc-0bbbbbbbbbbbbbbb2\n"), "vpcs[1].<<", "merge keys are not supported"},
		{"custom tag", edit(tb, "region: us-east-1", "region: !ref us-east-1"), "region", "unsupported tag !ref"},
		{"non-string key", edit(tb, "region: us-east-1", "region: us-east-1\n[a]: b"), "", "keys must be strings"},

		// Kinds.
		{"accounts is a mapping", edit(tb, "accounts:\n", "accounts: {}\nx:\n"), "accounts", "want a list"},
		{"vpc item is a string", edit(tb, "vpcs:\n", "vpcs:\n  - vpc-0ccccccccccccccc3\n"), "vpcs[0]", "want a mapping"},
		{"region is a list", edit(tb, "region: us-east-1", "region: [us-east-1]"), "region", "want a single value"},
		{"port is a string", edit(tb, "port: 8443", `port: "8443"`), "vpcEndpoints[0].port", "want an integer"},
		{"port is a float", edit(tb, "port: 8443", `port: 8443.5`), "vpcEndpoints[0].port", "want an integer"},
		{"port is huge", edit(tb, "port: 8443", `port: 99999999999`), "vpcEndpoints[0].port", "out of range"},
		{"bool is yes", edit(tb, "cidr: 127.20.0.0/16", "cidr: 127.20.0.0/16\n    enableDnsSupport: yes"), "vpcs[1].enableDnsSupport", "want true or false"},
		{"address is null", edit(tb, "addresses: [127.10.1.10]", "addresses: [~]"), "vpcEndpoints[0].addresses[0]", "got null"},
		{"ingress item is null", edit(tb, "httpPort: 8080\n", "httpPort: 8080\n    ingress: [~]\n"), "vpcEndpoints[0].ingress[0]", "got null"},

		// Region and listeners.
		{"region missing", edit(tb, "region: us-east-1\n", ""), "region", "required"},
		{"region not a Region", edit(tb, "region: us-east-1", "region: US_EAST_1"), "region", "not a Region name"},
		{"region without number", edit(tb, "region: us-east-1", "region: us-east"), "region", "not a Region name"},
		{"control plane missing", edit(tb, "controlPlane: {listen: 127.0.0.1:4566}\n", ""), "controlPlane.listen", "required"},
		{"listen without port", edit(tb, "{listen: 127.0.0.1:4566}", "{listen: 127.0.0.1}"), "controlPlane.listen", "not a host:port"},
		{"listen named port", edit(tb, "{listen: 127.0.0.1:4566}", "{listen: '127.0.0.1:http'}"), "controlPlane.listen", "port must be a number"},
		{"listen port too big", edit(tb, "{listen: 127.0.0.1:4566}", "{listen: '127.0.0.1:65536'}"), "controlPlane.listen", "port must be a number"},
		{"listen bad host", edit(tb, "{listen: 127.0.0.1:4566}", "{listen: 'a b:1'}"), "controlPlane.listen", "neither an IP address nor a host name"},
		{"public listen missing", edit(tb, "listen: 127.0.0.1:8443, ", ""), "publicListener.listen", "required"},
		{"listener conflict", edit(tb, "httpListen: 127.0.0.1:8080", "httpListen: 127.0.0.1:4566"), "publicListener.httpListen", "also used by controlPlane.listen"},
		{"wildcard conflict", edit(tb, "controlPlane: {listen: 127.0.0.1:4566}", "controlPlane: {listen: '0.0.0.0:8443'}"), "publicListener.listen", "already taken on all addresses by controlPlane.listen"},
		{"wildcard after specific", edit(tb, "httpListen: 127.0.0.1:8080", "httpListen: '[::]:8443'"), "publicListener.httpListen", "already used by publicListener.listen"},
		{"endpoint conflicts with public listener", edit(tb, "listen: 127.0.0.1:8443,", "listen: 127.10.1.10:8443,"), "vpcEndpoints[0].port", "127.10.1.10:8443 is also used by publicListener.listen"},
		{"endpoint http conflicts", edit(tb, "httpListen: 127.0.0.1:8080", "httpListen: 127.10.1.10:8080"), "vpcEndpoints[0].httpPort", "also used by publicListener.httpListen"},

		// Accounts and keys.
		{"account id short", edit(tb, `- id: "111111111111"`, `- id: "11111111111"`), "accounts[0].id", "want exactly 12 digits"},
		{"account id letters", edit(tb, `- id: "111111111111"`, `- id: "11111111111a"`), "accounts[0].id", "want exactly 12 digits"},
		{"account id missing", edit(tb, `- id: "111111111111"`+"\n    accessKeys", `- accessKeys`), "accounts[0].id", "required"},
		{"account id duplicate", edit(tb, `- id: "222222222222"`, `- id: "111111111111"`), "accounts[1].id", `duplicate account id "111111111111" (also accounts[0].id)`},
		{"access key id lowercase", edit(tb, "AKIACONSUMER00000001", "akiaconsumer00000001"), "accounts[1].accessKeys[0].id", "16 to 128 characters"},
		{"access key id short", edit(tb, "AKIACONSUMER00000001", "AKIA1"), "accounts[1].accessKeys[0].id", "16 to 128 characters"},
		{"access key id too long", edit(tb, "AKIACONSUMER00000001", strings.Repeat("A", 129)), "accounts[1].accessKeys[0].id", "16 to 128 characters"},
		{"access key id duplicate across accounts", edit(tb, "AKIACONSUMER00000001", "AKIAPROVIDER00000001"), "accounts[1].accessKeys[0].id", "duplicate access key id"},
		{"access key secret missing", edit(tb, ", secret: consumer-secret", ""), "accounts[1].accessKeys[0].secret", "required"},

		// VPCs.
		{"vpc id bad", edit(tb, "- id: vpc-0bbbbbbbbbbbbbbb2", "- id: vpc-0bbbbbbbbbbbbbbbb2"), "vpcs[1].id", "8 or 17 lowercase hex"},
		{"vpc id upper case", edit(tb, "- id: vpc-0bbbbbbbbbbbbbbb2", "- id: vpc-0BBBBBBBBBBBBBBB2"), "vpcs[1].id", "not a VPC id"},
		{"vpc id duplicate", edit(tb, "- id: vpc-0bbbbbbbbbbbbbbb2", "- id: vpc-0aaaaaaaaaaaaaaa1"), "vpcs[1].id", "duplicate VPC id"},
		{"vpc account unknown", edit(tb, `account: "222222222222"`, `account: "333333333333"`), "vpcs[1].account", `unknown account "333333333333"`},
		{"vpc account missing", edit(tb, `    account: "222222222222"`+"\n", ""), "vpcs[1].account", "required"},
		{"vpc cidr missing", edit(tb, "    cidr: 127.20.0.0/16\n", ""), "vpcs[1].cidr", "required"},
		{"vpc cidr invalid", edit(tb, "cidr: 127.20.0.0/16", "cidr: 127.20.0.0/33"), "vpcs[1].cidr", "invalid CIDR block"},
		{"vpc cidr host bits", edit(tb, "cidr: 127.20.0.0/16", "cidr: 127.20.1.0/16"), "vpcs[1].cidr", "host bits set (the block is 127.20.0.0/16)"},
		{"vpc cidr too wide", edit(tb, "cidr: 127.20.0.0/16", "cidr: 127.0.0.0/8"), "vpcs[1].cidr", "between /16 and /28"},
		{"vpc cidr too narrow", edit(tb, "cidr: 127.20.0.0/16", "cidr: 127.20.0.0/29"), "vpcs[1].cidr", "between /16 and /28"},
		{"vpc cidrs overlap in one account", edit(tb, `account: "222222222222"`+"\n    cidr: 127.20.0.0/16", `account: "111111111111"`+"\n    cidr: 127.10.128.0/17"), "vpcs[1].cidr", "overlaps 127.10.0.0/16 (vpcs[0]) of the same account 111111111111"},
		{"vpc cidrs overlap, wider one later", edit(tb, "cidr: 127.10.0.0/16", "cidr: 127.10.1.0/24", `account: "222222222222"`+"\n    cidr: 127.20.0.0/16", `account: "111111111111"`+"\n    cidr: 127.10.0.0/16"), "vpcs[1].cidr", "127.10.0.0/16 overlaps 127.10.1.0/24 (vpcs[0])"},

		// Endpoints.
		{"endpoint id bad", edit(tb, "- id: vpce-0bbbbbbbbbbbbbbb2", "- id: vpce-xyz"), "vpcEndpoints[1].id", "not a VPC endpoint id"},
		{"endpoint id is a vpc id", edit(tb, "- id: vpce-0bbbbbbbbbbbbbbb2", "- id: vpc-0bbbbbbbbbbbbbbb2"), "vpcEndpoints[1].id", "not a VPC endpoint id"},
		{"endpoint id duplicate", edit(tb, "- id: vpce-0bbbbbbbbbbbbbbb2", "- id: vpce-0aaaaaaaaaaaaaaa1"), "vpcEndpoints[1].id", "duplicate VPC endpoint id"},
		{"endpoint vpc unknown", edit(tb, "vpc: vpc-0bbbbbbbbbbbbbbb2", "vpc: vpc-x"), "vpcEndpoints[1].vpc", `unknown VPC "vpc-x"`},
		{"endpoint vpc missing", edit(tb, "    vpc: vpc-0bbbbbbbbbbbbbbb2\n", ""), "vpcEndpoints[1].vpc", "required"},
		{"endpoint without addresses", edit(tb, "addresses: [127.20.1.10, 127.20.2.10]", "addresses: []"), "vpcEndpoints[1].addresses", "at least one address"},
		{"address invalid", edit(tb, "127.20.1.10, 127.20.2.10", "127.20.1.10, 127.20.2"), "vpcEndpoints[1].addresses[1]", "invalid IP address"},
		{"address outside the VPC", edit(tb, "127.20.1.10, 127.20.2.10", "127.20.1.10, 127.21.2.10"), "vpcEndpoints[1].addresses[1]", "127.21.2.10 is not inside vpc-0bbbbbbbbbbbbbbb2's cidr 127.20.0.0/16"},
		{"address with zone", edit(tb, "cidr: 127.20.0.0/16", "cidr: fe80::/56", "127.20.1.10, 127.20.2.10", "'fe80::1%eth0'"), "vpcEndpoints[1].addresses[0]", "zone"},
		{"address used twice in one endpoint", edit(tb, "127.20.1.10, 127.20.2.10", "127.20.1.10, 127.20.1.10"), "vpcEndpoints[1].addresses[1]", "127.20.1.10 is already an address of vpcEndpoints[1].addresses[0]"},
		{"address used by two endpoints", edit(tb, "cidr: 127.20.0.0/16", "cidr: 127.10.0.0/16", "127.20.1.10, 127.20.2.10", "127.10.1.10"), "vpcEndpoints[1].addresses[0]", "already an address of vpcEndpoints[0].addresses[0]"},
		{"port negative", edit(tb, "port: 8443", "port: -1"), "vpcEndpoints[0].port", "want 0 to 65535"},
		{"port too big", edit(tb, "port: 8443", "port: 65536"), "vpcEndpoints[0].port", "want 0 to 65535"},
		{"http port too big", edit(tb, "httpPort: 8080", "httpPort: 70000"), "vpcEndpoints[0].httpPort", "want 0 to 65535"},
		{"http port equals port", edit(tb, "httpPort: 8080", "httpPort: 8443"), "vpcEndpoints[0].httpPort", "8443 is also the TLS port"},
		{"default port equals http port", edit(tb, "addresses: [127.20.1.10, 127.20.2.10]", "addresses: [127.20.1.10, 127.20.2.10]\n    httpPort: 8443"), "vpcEndpoints[1].httpPort", "also the TLS port"},
		{"private DNS without VPC DNS", edit(tb, "cidr: 127.20.0.0/16", "cidr: 127.20.0.0/16\n    enableDnsHostnames: false"), "vpcEndpoints[1].privateDnsEnabled", "requires vpc-0bbbbbbbbbbbbbbb2 to have enableDnsSupport and enableDnsHostnames"},
		{"ingress invalid", edit(tb, "httpPort: 8080\n", "httpPort: 8080\n    ingress: [10.0.0.0/8, 10.0.0.300/32]\n"), "vpcEndpoints[0].ingress[1]", "invalid CIDR block"},
		{"ingress host bits", edit(tb, "httpPort: 8080\n", "httpPort: 8080\n    ingress: [127.10.1.5/16]\n"), "vpcEndpoints[0].ingress[0]", "host bits set"},
		{"ingress not a list", edit(tb, "httpPort: 8080\n", "httpPort: 8080\n    ingress: 127.10.0.0/16\n"), "vpcEndpoints[0].ingress", "want a list"},

		// Policies.
		{"policy invalid JSON string", edit(tb, "httpPort: 8080\n", "httpPort: 8080\n    policy: '{\"Statement\": ['\n"), "vpcEndpoints[0].policy", "not valid JSON"},
		{"policy JSON not an object", edit(tb, "httpPort: 8080\n", "httpPort: 8080\n    policy: '[1]'\n"), "vpcEndpoints[0].policy", "must be a JSON object"},
		{"policy without Statement", edit(tb, "httpPort: 8080\n", "httpPort: 8080\n    policy: {Version: '2012-10-17'}\n"), "vpcEndpoints[0].policy", `has no "Statement"`},
		{"policy is a list", edit(tb, "httpPort: 8080\n", "httpPort: 8080\n    policy: [a]\n"), "vpcEndpoints[0].policy", "want a mapping or a JSON string"},
		{"policy is a number", edit(tb, "httpPort: 8080\n", "httpPort: 8080\n    policy: 5\n"), "vpcEndpoints[0].policy", "want a mapping or a JSON string"},
		{"policy NaN", edit(tb, "httpPort: 8080\n", "httpPort: 8080\n    policy: {Statement: [], X: .nan}\n"), "vpcEndpoints[0].policy", "cannot be written in JSON"},
		{"policy duplicate key", edit(tb, "httpPort: 8080\n", "httpPort: 8080\n    policy: {Statement: [], Statement: []}\n"), "vpcEndpoints[0].policy", `duplicate key "Statement"`},
		{"policy custom tag", edit(tb, "httpPort: 8080\n", "httpPort: 8080\n    policy: {Statement: !Sub x}\n"), "vpcEndpoints[0].policy", "unsupported tag !Sub"},
		{"policy alias cycle", edit(tb, "httpPort: 8080\n", "httpPort: 8080\n    policy: &p {Statement: [*p]}\n"), "vpcEndpoints[0].policy", "refers to a value that contains it"},
		{"policy too deep", edit(tb, "httpPort: 8080\n", "httpPort: 8080\n    policy: {Statement: "+strings.Repeat("[", 100)+strings.Repeat("]", 100)+"}\n"), "vpcEndpoints[0].policy", "nested deeper than"},
		{"policy over quota", edit(tb, "httpPort: 8080\n", "httpPort: 8080\n    policy: {Statement: [], Pad: "+strings.Repeat("x", maxPolicyChars)+"}\n"), "vpcEndpoints[0].policy", "a VPC endpoint policy is at most 20480"},
	}
}

func TestParseInvalid(t *testing.T) {
	for _, tt := range invalidCases(t) {
		t.Run(tt.name, func(t *testing.T) {
			topo, err := Parse([]byte(tt.yaml))
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", topo)
			}
			if topo != nil {
				t.Errorf("Parse returned a topology with an error")
			}
			checkFieldErrors(t, err)
			if !hasError(err, tt.path, tt.msg) {
				t.Errorf("no error at %q containing %q; got:\n%v", tt.path, tt.msg, err)
			}
		})
	}
}

// checkFieldErrors checks that err is a join of *FieldError values.
func checkFieldErrors(tb testing.TB, err error) {
	tb.Helper()
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		tb.Fatalf("error %T is not a joined error: %v", err, err)
	}
	for _, e := range j.Unwrap() {
		fe, ok := e.(*FieldError)
		if !ok {
			tb.Fatalf("error %T (%v) is not a *FieldError", e, e)
		}
		if fe.Msg == "" {
			tb.Fatalf("FieldError without a message: %+v", fe)
		}
	}
}

func hasError(err error, path, msg string) bool {
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		fe := e.(*FieldError)
		if fe.Path == path && strings.Contains(fe.Msg, msg) &&
			(path == "" || strings.Contains(fe.Error(), path+": ")) {
			return true
		}
	}
	return false
}

func TestParseReportsAllErrors(t *testing.T) {
	y := edit(t,
		"region: us-east-1", "region: nowhere",
		"vpc: vpc-0bbbbbbbbbbbbbbb2", "vpc: vpc-x",
		"port: 8443", "port: 70000\n    colour: blue",
		"cidr: 127.20.0.0/16", "cidr: nonsense",
	)
	_, err := Parse([]byte(y))
	if err == nil {
		t.Fatal("Parse succeeded")
	}
	for _, want := range []struct{ path, msg string }{
		{"region", "not a Region"},
		{"vpcEndpoints[1].vpc", `unknown VPC "vpc-x"`},
		{"vpcEndpoints[0].port", "want 0 to 65535"},
		{"vpcEndpoints[0].colour", "unknown key"},
		{"vpcs[1].cidr", "invalid CIDR block"},
	} {
		if !hasError(err, want.path, want.msg) {
			t.Errorf("missing %s: %s", want.path, want.msg)
		}
	}
	// A value that failed to decode is reported once, not again by
	// validation, and its dependents are not reported.
	if n := strings.Count(err.Error(), "vpcs[1].cidr"); n != 1 {
		t.Errorf("vpcs[1].cidr reported %d times:\n%v", n, err)
	}
	if strings.Contains(err.Error(), "not inside") {
		t.Errorf("address checks ran against an undecodable cidr:\n%v", err)
	}
	// Errors come in file order with their lines.
	var lines []int
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		lines = append(lines, e.(*FieldError).Line)
	}
	for i := 1; i < len(lines); i++ {
		if lines[i] < lines[i-1] {
			t.Errorf("errors out of line order: %v", lines)
		}
	}
	if !strings.Contains(err.Error(), "line 1: region: ") {
		t.Errorf("region error without its line:\n%v", err)
	}
}

func TestDefault(t *testing.T) {
	def := Default()
	if err := def.Validate(); err != nil {
		t.Fatalf("Default().Validate: %v", err)
	}
	parsed, err := Parse(DefaultYAML())
	if err != nil {
		t.Fatalf("Parse(DefaultYAML()): %v", err)
	}
	if !reflect.DeepEqual(parsed, def) {
		t.Errorf("Parse(DefaultYAML()) = %+v\nwant Default() = %+v", parsed, def)
	}
	// Each call returns fresh values.
	def.VPCEndpoints[0].Addresses[0] = netip.MustParseAddr("127.10.9.9")
	DefaultYAML()[0] = 'X'
	if again := Default(); again.VPCEndpoints[0].Addresses[0] != netip.MustParseAddr("127.10.1.10") {
		t.Error("Default shares state between calls")
	}
	if DefaultYAML()[0] == 'X' {
		t.Error("DefaultYAML shares its buffer")
	}
	// The file documents itself: every key has a comment somewhere.
	text := string(DefaultYAML())
	for _, key := range []string{"region", "controlPlane", "publicListener", "httpListen", "accounts", "accessKeys",
		"vpcs", "cidr", "enableDnsSupport", "enableDnsHostnames", "vpcEndpoints", "addresses", "port", "httpPort",
		"privateDnsEnabled", "ingress", "policy"} {
		if !strings.Contains(text, key+":") {
			t.Errorf("DefaultYAML does not mention %s", key)
		}
	}
	if strings.Count(text, "#") < 20 {
		t.Error("DefaultYAML has few comments")
	}
}

func TestPolicyForms(t *testing.T) {
	const wantJSON = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke",` +
		`"Resource":"execute-api:/*","Condition":{"StringNotEquals":{"aws:SourceVpc":["vpc-0aaaaaaaaaaaaaaa1"]},"NumericLessThan":{"x":1.5},"Bool":{"y":true},"Null":{"z":null}}}]}`
	forms := []struct {
		name, policy string
	}{
		{"YAML block mapping", `
      Version: 2012-10-17
      Statement:
        - Effect: Deny
          Principal: "*"
          Action: execute-api:Invoke
          Resource: execute-api:/*
          Condition:
            StringNotEquals: {aws:SourceVpc: [vpc-0aaaaaaaaaaaaaaa1]}
            NumericLessThan: {x: 1.5}
            Bool: {y: true}
            Null: {z: null}`},
		{"JSON string", `'{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*", "Condition": {"StringNotEquals": {"aws:SourceVpc": ["vpc-0aaaaaaaaaaaaaaa1"]}, "NumericLessThan": {"x": 1.5}, "Bool": {"y": true}, "Null": {"z": null}}}]}'`},
		{"JSON block scalar", `|
      {
        "Version": "2012-10-17",
        "Statement": [{
          "Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*",
          "Condition": {"StringNotEquals": {"aws:SourceVpc": ["vpc-0aaaaaaaaaaaaaaa1"]}, "NumericLessThan": {"x": 1.5}, "Bool": {"y": true}, "Null": {"z": null}}
        }]
      }`},
		{"YAML flow mapping is JSON", `{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*", "Condition": {"StringNotEquals": {"aws:SourceVpc": ["vpc-0aaaaaaaaaaaaaaa1"]}, "NumericLessThan": {"x": 1.5}, "Bool": {"y": true}, "Null": {"z": null}}}]}`},
	}
	for _, f := range forms {
		t.Run(f.name, func(t *testing.T) {
			topo, err := Parse([]byte(edit(t, "httpPort: 8080\n", "httpPort: 8080\n    policy: "+f.policy+"\n")))
			if err != nil {
				t.Fatal(err)
			}
			if got := string(topo.VPCEndpoints[0].Policy); got != wantJSON {
				t.Errorf("policy =\n%s\nwant\n%s", got, wantJSON)
			}
		})
	}
}

func TestPolicyStrings(t *testing.T) {
	topo, err := Parse([]byte(edit(t, "httpPort: 8080\n", "httpPort: 8080\n    policy: {Statement: [], S: \"<a&b>\\\"q\\\" \\\\ \\t\\n\\x01é\", N: 0x10, D: 2024-01-02T03:04:05Z}\n")))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"Statement":[],"S":"<a&b>\"q\" \\ \t\n\u0001é","N":16,"D":"2024-01-02T03:04:05Z"}`
	if got := string(topo.VPCEndpoints[0].Policy); got != want {
		t.Errorf("policy = %s\nwant %s", got, want)
	}
}

// billionLaughs builds the classic entity-expansion document in YAML form:
// 9 levels of 9 aliases each, 9^9 (387 million) leaves when expanded.
func billionLaughs(indent string) string {
	var b strings.Builder
	b.WriteString(indent + "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n")
	for c := 'b'; c <= 'i'; c++ {
		p := string(c - 1)
		b.WriteString(indent + string(c) + ": &" + string(c) + " [")
		for i := range 9 {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString("*" + p)
		}
		b.WriteString("]\n")
	}
	return b.String()
}

func TestAliasBombs(t *testing.T) {
	// Structural amplification: every account reuses one big list of keys.
	var keys, accounts strings.Builder
	for i := range 2000 {
		keys.WriteString("      - {id: AKIA" + strings.Repeat("0", 12) + string(rune('A'+i%26)) + string(rune('A'+i/26%26)) + string(rune('A'+i/676)) + "A, secret: s}\n")
	}
	for range 20000 {
		accounts.WriteString("  - *acct\n")
	}
	structural := "region: us-east-1\ncontrolPlane: {listen: 127.0.0.1:0}\npublicListener: {listen: 127.0.0.1:0}\naccounts:\n" +
		"  - &acct\n    id: \"111111111111\"\n    accessKeys:\n" + keys.String() + accounts.String()

	tests := []struct {
		name, yaml, path, msg string
	}{
		{"top level", "region: us-east-1\n" + billionLaughs(""), "a", "unknown key"},
		{"in a policy", edit(t, "httpPort: 8080\n", "httpPort: 8080\n    policy:\n"+billionLaughs("      ")+"      Statement: *i\n"),
			"vpcEndpoints[0].policy", "policy is longer than"},
		{"alias to a list where a value belongs", edit(t, "httpPort: 8080\n", "httpPort: 8080\n    ingress:\n"+"      - &a [\"lol\"]\n"+"      - *a\n"), "vpcEndpoints[0].ingress[0]", "want a single value"},
		{"structural amplification", structural, "", "too many values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			_, err := Parse([]byte(tt.yaml))
			elapsed := time.Since(start)
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			if elapsed > 2*time.Second {
				t.Errorf("Parse took %v", elapsed)
			}
			checkFieldErrors(t, err)
			if !strings.Contains(err.Error(), tt.msg) || (tt.path != "" && !hasError(err, tt.path, tt.msg)) {
				t.Errorf("want %s: %s; got (first 500 bytes):\n%.500s", tt.path, tt.msg, err)
			}
		})
	}
}

func TestSizeLimit(t *testing.T) {
	big := []byte(baseYAML + "#" + strings.Repeat("x", MaxFileSize) + "\n")
	if _, err := Parse(big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("Parse of %d bytes: %v", len(big), err)
	}
	// Up to the limit is fine.
	pad := MaxFileSize - len(baseYAML) - 2
	ok := []byte(baseYAML + "#" + strings.Repeat("x", pad) + "\n")
	if len(ok) != MaxFileSize {
		t.Fatalf("test file is %d bytes", len(ok))
	}
	if _, err := Parse(ok); err != nil {
		t.Errorf("Parse of exactly MaxFileSize bytes: %v", err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(path, big, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), path+": topology is larger than") {
		t.Errorf("Load of a big file: %v", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "topology.yaml")
	if err := os.WriteFile(good, DefaultYAML(), 0o600); err != nil {
		t.Fatal(err)
	}
	topo, err := Load(good)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !reflect.DeepEqual(topo, Default()) {
		t.Errorf("Load(default file) differs from Default()")
	}

	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte(edit(t, "vpc: vpc-0bbbbbbbbbbbbbbb2", "vpc: vpc-x")), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(bad)
	if want := bad + `:23: vpcEndpoints[1].vpc: unknown VPC "vpc-x"`; err == nil || err.Error() != want {
		t.Errorf("Load(bad) = %v\nwant %s", err, want)
	}
	var fe *FieldError
	if !errors.As(err, &fe) || fe.File != bad || fe.Line != 23 || fe.Path != "vpcEndpoints[1].vpc" {
		t.Errorf("FieldError = %+v", fe)
	}

	if _, err := Load(filepath.Join(dir, "missing.yaml")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want fs.ErrNotExist", err)
	}
}

func TestFieldErrorString(t *testing.T) {
	tests := []struct {
		err  FieldError
		want string
	}{
		{FieldError{Path: "region", Msg: "required"}, "region: required"},
		{FieldError{Line: 3, Path: "vpcs[0].id", Msg: "bad"}, "line 3: vpcs[0].id: bad"},
		{FieldError{File: "t.yaml", Line: 3, Path: "vpcs[0].id", Msg: "bad"}, "t.yaml:3: vpcs[0].id: bad"},
		{FieldError{File: "t.yaml", Msg: "topology is empty"}, "t.yaml: topology is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestValidateHandBuilt(t *testing.T) {
	tests := []struct {
		name      string
		mutate    func(*Topology)
		path, msg string
	}{
		{"zero topology", func(t *Topology) { *t = Topology{} }, "region", "required"},
		{"invalid address", func(t *Topology) { t.VPCEndpoints[0].Addresses[0] = netip.Addr{} }, "vpcEndpoints[0].addresses[0]", "invalid IP address"},
		{"invalid ingress", func(t *Topology) { t.VPCEndpoints[0].Ingress[0] = netip.Prefix{} }, "vpcEndpoints[0].ingress[0]", "invalid CIDR block"},
		{"invalid policy bytes", func(t *Topology) { t.VPCEndpoints[0].Policy = []byte("{") }, "vpcEndpoints[0].policy", "not valid JSON"},
		{"zero cidr", func(t *Topology) { t.VPCs[0].CIDR = netip.Prefix{} }, "vpcs[0].cidr", "required"},
		{"private DNS without DNS support", func(t *Topology) { t.VPCs[0].EnableDNSSupport = false }, "vpcEndpoints[0].privateDnsEnabled", "requires"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			topo := Default()
			tt.mutate(topo)
			err := topo.Validate()
			if err == nil {
				t.Fatal("Validate succeeded")
			}
			checkFieldErrors(t, err)
			if !hasError(err, tt.path, tt.msg) {
				t.Errorf("no error at %q containing %q; got:\n%v", tt.path, tt.msg, err)
			}
		})
	}
}

func TestLookups(t *testing.T) {
	topo, err := Parse([]byte(baseYAML))
	if err != nil {
		t.Fatal(err)
	}
	if a, ok := topo.Account("222222222222"); !ok || a != &topo.Accounts[1] {
		t.Errorf("Account = %v, %v", a, ok)
	}
	if _, ok := topo.Account("333333333333"); ok {
		t.Error("Account found an unknown id")
	}
	if v, ok := topo.VPC("vpc-0bbbbbbbbbbbbbbb2"); !ok || v != &topo.VPCs[1] {
		t.Errorf("VPC = %v, %v", v, ok)
	}
	if _, ok := topo.VPC("vpc-x"); ok {
		t.Error("VPC found an unknown id")
	}
	if e, ok := topo.Endpoint("vpce-0bbbbbbbbbbbbbbb2"); !ok || e != &topo.VPCEndpoints[1] {
		t.Errorf("Endpoint = %v, %v", e, ok)
	}
	if _, ok := topo.Endpoint("vpce-x"); ok {
		t.Error("Endpoint found an unknown id")
	}
	if a, secret, ok := topo.FindAccessKey("AKIACONSUMER00000001"); !ok || a != &topo.Accounts[1] || secret != "consumer-secret" {
		t.Errorf("FindAccessKey = %v, %q, %v", a, secret, ok)
	}
	if _, _, ok := topo.FindAccessKey("AKIAUNKNOWN000000001"); ok {
		t.Error("FindAccessKey found an unknown key")
	}
}

func TestEndpointDNS(t *testing.T) {
	topo := Default()
	e := &topo.VPCEndpoints[0]
	suffix := e.DNSSuffix()
	if !regexp.MustCompile(`^[0-9a-f]{8}$`).MatchString(suffix) {
		t.Fatalf("DNSSuffix = %q", suffix)
	}
	// Pinned: the suffix is part of hostnames clients store.
	if suffix != "eca766e8" {
		t.Errorf("DNSSuffix changed: %q", suffix)
	}
	other := VPCEndpoint{ID: "vpce-0bbbbbbbbbbbbbbb2"}
	if other.DNSSuffix() == suffix {
		t.Error("two endpoints share a suffix")
	}
	want := "vpce-0aaaaaaaaaaaaaaa1-" + suffix + ".execute-api.us-east-1.vpce.amazonaws.com"
	if got := topo.EndpointPublicDNSName(e); got != want {
		t.Errorf("EndpointPublicDNSName = %q, want %q", got, want)
	}
}

func TestAccessKeyRedaction(t *testing.T) {
	k := AccessKey{ID: "AKIAPROVIDER00000001", Secret: "provider-secret"}
	for _, s := range []string{k.String(), k.LogValue().String()} {
		if strings.Contains(s, "provider-secret") || !strings.Contains(s, k.ID) {
			t.Errorf("%q leaks the secret or hides the id", s)
		}
	}
	// Errors never carry secrets either.
	_, err := Parse([]byte(edit(t, "AKIACONSUMER00000001", "AKIAPROVIDER00000001")))
	if err == nil || strings.Contains(err.Error(), "secret: ") || strings.Contains(err.Error(), "consumer-secret") {
		t.Errorf("error = %v", err)
	}
}
