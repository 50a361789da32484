package config

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

const vpcLinkYAML = `tunnelListener: {listen: 127.0.0.1:0}
targetGroups:
  - name: orders
    vpc: vpc-0aaaaaaaaaaaaaaa1
    protocol: HTTP
    port: 8080
    targets: [{id: 127.10.3.10}, {id: 127.10.3.11, port: 8081}]
    healthCheck: {path: /healthz, intervalSeconds: 10, timeoutSeconds: 4, healthyThreshold: 2, unhealthyThreshold: 3, matcher: "200-299"}
    deregistrationDelaySeconds: 30
    algorithm: least_outstanding_requests
  - name: orders-v2
    id: 00112233445566aa
    vpc: vpc-0aaaaaaaaaaaaaaa1
    protocol: HTTP
    port: 80
  - name: raw
    vpc: vpc-0aaaaaaaaaaaaaaa1
    protocol: TCP
    port: 5432
    healthCheck: {enabled: false}
loadBalancers:
  - name: orders-alb
    type: application
    vpc: vpc-0aaaaaaaaaaaaaaa1
    listeners:
      - port: 80
        protocol: HTTP
        defaultTargetGroup: orders
        rules:
          - {priority: 10, pathPatterns: ["/v2/*"], targetGroup: orders-v2}
          - {priority: 5, hostHeaders: ["*.example.com"], targetGroup: orders}
  - name: db-nlb
    type: network
    vpc: vpc-0aaaaaaaaaaaaaaa1
    listeners:
      - {port: 5432, protocol: TCP, defaultTargetGroup: raw}
      - {port: 5433, protocol: TLS, defaultTargetGroup: raw}
`

func TestParseVPCLinks(t *testing.T) {
	doc := edit(t, "    cidr: 127.10.0.0/16\n", "    cidr: 127.10.0.0/16\n    agentTokens: [token-aaaaaaaaaaaaaaaa]\n",
		"    cidr: 127.20.0.0/16\n", "    cidr: 127.20.0.0/16\n    routable: false\n") + vpcLinkYAML
	topo, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if topo.TunnelListener.Listen != "127.0.0.1:0" {
		t.Errorf("tunnel listener %q", topo.TunnelListener.Listen)
	}
	a, _ := topo.VPC("vpc-0aaaaaaaaaaaaaaa1")
	b, _ := topo.VPC("vpc-0bbbbbbbbbbbbbbb2")
	if a.DirectlyRoutable() || b.DirectlyRoutable() {
		t.Errorf("routable: a %v b %v, want false false", a.DirectlyRoutable(), b.DirectlyRoutable())
	}
	if !reflect.DeepEqual(a.AgentTokens, []string{"token-aaaaaaaaaaaaaaaa"}) {
		t.Errorf("tokens %q", a.AgentTokens)
	}
	want := TargetGroup{Name: "orders", VPC: "vpc-0aaaaaaaaaaaaaaa1", Protocol: "HTTP", Port: 8080, TargetType: "ip",
		Targets: []TargetSpec{{ID: netip.MustParseAddr("127.10.3.10")}, {ID: netip.MustParseAddr("127.10.3.11"), Port: 8081}},
		HealthCheck: TargetHealthCheck{Enabled: true, Path: "/healthz", IntervalSeconds: 10, TimeoutSeconds: 4,
			HealthyThreshold: 2, UnhealthyThreshold: 3, Matcher: "200-299"},
		DeregistrationDelaySeconds: 30, Algorithm: "least_outstanding_requests"}
	if !reflect.DeepEqual(topo.TargetGroups[0], want) {
		t.Errorf("target group:\n got %+v\nwant %+v", topo.TargetGroups[0], want)
	}
	if topo.TargetGroups[2].HealthCheck.Enabled {
		t.Error("healthCheck.enabled false was not read")
	}
	if tg, ok := topo.TargetGroup("111111111111", "orders-v2"); !ok ||
		topo.TargetGroupARN(tg) != "arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/orders-v2/00112233445566aa" {
		t.Errorf("TargetGroup lookup / ARN: %v %v", tg, ok)
	}
	lb := &topo.LoadBalancers[0]
	arn := topo.ListenerARN(lb, &lb.Listeners[0])
	prefix := "arn:aws:elasticloadbalancing:us-east-1:111111111111:listener/app/orders-alb/" + topo.LoadBalancerID(lb) + "/"
	if !strings.HasPrefix(arn, prefix) || len(arn) != len(prefix)+16 {
		t.Errorf("listener ARN %q", arn)
	}
	if got := topo.LoadBalancerARN(&topo.LoadBalancers[1]); !strings.Contains(got, ":loadbalancer/net/db-nlb/") {
		t.Errorf("NLB ARN %q", got)
	}
	again, _ := Parse([]byte(doc))
	if topo.LoadBalancerID(lb) != again.LoadBalancerID(&again.LoadBalancers[0]) {
		t.Error("derived ids are not stable")
	}
	if r := lb.Listeners[0].Rules; len(r) != 2 || r[0].Priority != 10 || r[1].HostHeaders[0] != "*.example.com" {
		t.Errorf("rules %+v", r)
	}
}

func TestDirectlyRoutable(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		name string
		v    VPC
		want bool
	}{
		{"default without tokens", VPC{}, true},
		{"default with tokens", VPC{AgentTokens: []string{"x"}}, false},
		{"explicit true with tokens", VPC{AgentTokens: []string{"x"}, Routable: &yes}, true},
		{"explicit false", VPC{Routable: &no}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.v.DirectlyRoutable(); got != tt.want {
				t.Fatalf("DirectlyRoutable = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseVPCLinkErrors(t *testing.T) {
	tg := func(s string) string { return "targetGroups:\n  - " + s + "\n" }
	okTG := `{name: t, vpc: vpc-0aaaaaaaaaaaaaaa1, protocol: TCP, port: 80}`
	lb := func(s string) string { return tg(okTG) + "loadBalancers:\n  - " + s + "\n" }
	tests := []struct {
		name, extra, want string
	}{
		{"token without listener", "", "vpcs[0].agentTokens: agents need a tunnel listener"},
		{"short token", "tunnelListener: {listen: 127.0.0.1:0}\n", ""},
		{"tg name", tg(`{name: -x, vpc: vpc-0aaaaaaaaaaaaaaa1, protocol: TCP, port: 80}`), `targetGroups[0].name: "-x" is not a target group name`},
		{"tg vpc", tg(`{name: x, vpc: vpc-0ccccccccccccccc3, protocol: TCP, port: 80}`), `targetGroups[0].vpc: unknown VPC`},
		{"tg protocol", tg(`{name: x, vpc: vpc-0aaaaaaaaaaaaaaa1, protocol: UDP, port: 80}`), `targetGroups[0].protocol: "UDP" is not`},
		{"tg port", tg(`{name: x, vpc: vpc-0aaaaaaaaaaaaaaa1, protocol: TCP, port: 0}`), `targetGroups[0].port: want a port`},
		{"tg lambda", tg(`{name: x, vpc: vpc-0aaaaaaaaaaaaaaa1, protocol: TCP, port: 1, targetType: lambda}`), `targetGroups[0].targetType: "lambda" is not supported`},
		{"target outside", tg(`{name: x, vpc: vpc-0aaaaaaaaaaaaaaa1, protocol: TCP, port: 1, targets: [{id: 10.0.0.1}]}`), `targetGroups[0].targets[0].id: 10.0.0.1 is outside the VPC's CIDR`},
		{"target dup", tg(`{name: x, vpc: vpc-0aaaaaaaaaaaaaaa1, protocol: TCP, port: 1, targets: [{id: 127.10.0.9}, {id: 127.10.0.9, port: 1}]}`), `targets[1]: duplicate target 127.10.0.9:1`},
		{"matcher", tg(`{name: x, vpc: vpc-0aaaaaaaaaaaaaaa1, protocol: HTTP, port: 1, healthCheck: {matcher: "2xx"}}`), `healthCheck.matcher: "2xx" is not`},
		{"interval", tg(`{name: x, vpc: vpc-0aaaaaaaaaaaaaaa1, protocol: HTTP, port: 1, healthCheck: {intervalSeconds: 1}}`), `healthCheck.intervalSeconds: want 5 to 300`},
		{"timeout", tg(`{name: x, vpc: vpc-0aaaaaaaaaaaaaaa1, protocol: HTTP, port: 1, healthCheck: {intervalSeconds: 5, timeoutSeconds: 5}}`), `healthCheck.timeoutSeconds: must be less than`},
		{"hc path", tg(`{name: x, vpc: vpc-0aaaaaaaaaaaaaaa1, protocol: HTTP, port: 1, healthCheck: {path: x}}`), `healthCheck.path: "x" does not begin`},
		{"hc port", tg(`{name: x, vpc: vpc-0aaaaaaaaaaaaaaa1, protocol: HTTP, port: 1, healthCheck: {port: "0"}}`), `healthCheck.port: "0" is neither`},
		{"algorithm", tg(`{name: x, vpc: vpc-0aaaaaaaaaaaaaaa1, protocol: HTTP, port: 1, algorithm: random}`), `algorithm: "random" is not`},
		{"dup tg", tg(okTG) + "  - " + okTG + "\n", `targetGroups[1].name: duplicate target group name "t"`},
		{"lb type", lb(`{name: l, type: gateway, vpc: vpc-0aaaaaaaaaaaaaaa1}`), `loadBalancers[0].type: "gateway" is not`},
		{"lb listener protocol", lb(`{name: l, type: network, vpc: vpc-0aaaaaaaaaaaaaaa1, listeners: [{port: 80, protocol: HTTP, defaultTargetGroup: t}]}`), `listeners[0].protocol: "HTTP" is not a network load balancer listener protocol`},
		{"lb unknown tg", lb(`{name: l, type: network, vpc: vpc-0aaaaaaaaaaaaaaa1, listeners: [{port: 80, protocol: TCP, defaultTargetGroup: nope}]}`), `defaultTargetGroup: unknown target group "nope"`},
		{"lb tg protocol", lb(`{name: l, type: application, vpc: vpc-0aaaaaaaaaaaaaaa1, listeners: [{port: 80, protocol: HTTP, defaultTargetGroup: t}]}`), `target group "t" has protocol TCP`},
		{"lb rules on nlb", lb(`{name: l, type: network, vpc: vpc-0aaaaaaaaaaaaaaa1, listeners: [{port: 80, protocol: TCP, defaultTargetGroup: t, rules: [{priority: 1, pathPatterns: [/x], targetGroup: t}]}]}`), `listeners[0].rules: only application`},
		{"lb dup port", lb(`{name: l, type: network, vpc: vpc-0aaaaaaaaaaaaaaa1, listeners: [{port: 80, protocol: TCP, defaultTargetGroup: t}, {port: 80, protocol: TCP, defaultTargetGroup: t}]}`), `listeners[1].port: duplicate listener port 80`},
		{"lb subnet", lb(`{name: l, type: network, vpc: vpc-0aaaaaaaaaaaaaaa1, subnets: [subnet-00000000]}`), `loadBalancers[0].subnets[0]: "subnet-00000000" is not a subnet`},
		{"lb certificate on tcp", lb(`{name: l, type: network, vpc: vpc-0aaaaaaaaaaaaaaa1, listeners: [{port: 80, protocol: TCP, certificate: arn:x, defaultTargetGroup: t}]}`), `certificate: only TLS and HTTPS`},
		{"lb other vpc tg", lb(`{name: l, type: network, vpc: vpc-0bbbbbbbbbbbbbbb2, listeners: [{port: 80, protocol: TCP, defaultTargetGroup: t}]}`), `unknown target group "t"`},
		{"routable not bool", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := baseYAML + tt.extra
			switch tt.name {
			case "token without listener":
				doc = edit(t, "    cidr: 127.10.0.0/16\n", "    cidr: 127.10.0.0/16\n    agentTokens: [token-aaaaaaaaaaaaaaaa]\n")
			case "short token":
				doc = edit(t, "    cidr: 127.10.0.0/16\n", "    cidr: 127.10.0.0/16\n    agentTokens: [short]\n") + tt.extra
				tt.want = "vpcs[0].agentTokens[0]: an agent token is 16 to 512 characters"
			case "routable not bool":
				doc = edit(t, "    cidr: 127.10.0.0/16\n", "    cidr: 127.10.0.0/16\n    routable: maybe\n")
				tt.want = "vpcs[0].routable: want true or false"
			}
			_, err := Parse([]byte(doc))
			if err == nil {
				t.Fatalf("Parse succeeded, want %q", tt.want)
			}
			checkFieldErrors(t, err)
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q\ndoes not contain %q", err, tt.want)
			}
		})
	}
}

func TestValidHTTPCodeMatcher(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"200", true}, {"200,202", true}, {"200-299", true}, {"200-399,404", true},
		{"", false}, {"2xx", false}, {"99", false}, {"600", false}, {"299-200", false}, {"200-", false}, {"0200", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := ValidHTTPCodeMatcher(tt.in); got != tt.want {
				t.Fatalf("ValidHTTPCodeMatcher(%q) = %v", tt.in, got)
			}
		})
	}
}

// FuzzParseVPCLinks runs Parse on topologies with VPC-link keys.
func FuzzParseVPCLinks(f *testing.F) {
	f.Add([]byte(baseYAML + vpcLinkYAML))
	f.Add([]byte(baseYAML + "tunnelListener: {listen: 127.0.0.1:0}\nloadBalancers: [{name: x}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		topo, err := Parse(data)
		if err != nil {
			checkFieldErrors(t, err)
			return
		}
		if err := topo.Validate(); err != nil {
			t.Fatalf("Parse accepted a topology that Validate rejects: %v", err)
		}
		for i := range topo.LoadBalancers {
			lb := &topo.LoadBalancers[i]
			for j := range lb.Listeners {
				if a := topo.ListenerARN(lb, &lb.Listeners[j]); !strings.HasPrefix(a, "arn:aws:elasticloadbalancing:") {
					t.Fatalf("listener ARN %q", a)
				}
			}
		}
	})
}
