package config

// Private integrations in the topology file: the VPC-link tunnel listener that link
// agents dial, which VPCs gatehouse reaches directly (vpcs[].routable) and which need an
// agent (vpcs[].agentTokens), and load balancers with listeners, rules and target groups
// declared as infrastructure.
//
//	tunnelListener: {listen: 0.0.0.0:7443}
//	vpcs:
//	  - id: vpc-0ccccccccccccccc3
//	    account: "111111111111"
//	    cidr: 10.99.0.0/16
//	    agentTokens: [a-long-random-token-for-this-vpc]   # routable defaults to false
//	targetGroups:
//	  - name: orders
//	    vpc: vpc-0ccccccccccccccc3
//	    protocol: HTTP            # TCP | TLS | HTTP | HTTPS
//	    port: 8080
//	    targets: [{id: 10.99.1.10}, {id: 10.99.1.11, port: 8081}]   # instance ids with targetType: instance
//	    healthCheck: {path: /healthz, intervalSeconds: 10, healthyThreshold: 2, matcher: "200-299"}
//	    deregistrationDelaySeconds: 30
//	    algorithm: least_outstanding_requests
//	loadBalancers:
//	  - name: orders-alb
//	    type: application         # or network
//	    vpc: vpc-0ccccccccccccccc3
//	    listeners:
//	      - port: 80
//	        protocol: HTTP
//	        defaultTargetGroup: orders
//	        rules:
//	          - {priority: 10, pathPatterns: ["/v2/*"], targetGroup: orders-v2}
//
// A load balancer or target group belongs to its VPC's account. Its ARN ends in id (16
// lowercase hex digits), derived from the account and name unless given; LoadBalancerARN,
// ListenerARN and TargetGroupARN compute them.

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// TunnelListener is where link agents connect (YAML key tunnelListener).
type TunnelListener struct {
	// Listen is the TLS host:port; "" (the default) means no tunnel listener.
	// Port 0 picks a free port. YAML key listen.
	Listen string
}

// TargetGroup is an ELBv2 target group declared in the topology (YAML list
// targetGroups).
type TargetGroup struct {
	// Name is 1 to 32 characters of [A-Za-z0-9-], not beginning or ending with '-',
	// unique within the account.
	Name string
	// ID is the ARN's last segment: 16 lowercase hex digits. Default: derived from the
	// account and name.
	ID string
	// VPC is the id of the VPC the targets live in.
	VPC string
	// Protocol is TCP or TLS (for network load balancers) or HTTP or HTTPS (for
	// application load balancers).
	Protocol string
	// Port is the targets' default port, 1 to 65535.
	Port int
	// TargetType is ip (targets are IP addresses) or instance (targets are ids of EC2
	// instances in instances, reached at their private IP). Default ip. YAML key
	// targetType.
	TargetType string
	// Targets are the registered targets.
	Targets []TargetSpec
	// HealthCheck configures active health checks (YAML key healthCheck).
	HealthCheck TargetHealthCheck
	// DeregistrationDelaySeconds is how long a deregistered target drains, 0 to 3600.
	// Default 300. YAML key deregistrationDelaySeconds.
	DeregistrationDelaySeconds int
	// Algorithm is round_robin (the default) or least_outstanding_requests.
	Algorithm string
}

// Target types (TargetGroup.TargetType).
const (
	TargetTypeIP       = "ip"
	TargetTypeInstance = "instance"
)

// TargetSpec is one registered target (YAML list targetGroups[].targets). The YAML key
// id holds an IP address (ID) in ip target groups and an instance id (InstanceID) in
// instance target groups.
type TargetSpec struct {
	// ID is the target's IP address, inside the VPC's CIDR (ip target groups).
	ID netip.Addr
	// InstanceID is the id of an instance in instances, in the target group's VPC
	// (instance target groups). The instance may be stopped: it then stays registered
	// and receives no traffic.
	InstanceID string
	// Port overrides the target group's port; 0 (the default) means the group's port.
	Port int
}

// TargetHealthCheck is a target group's active health check. Zero values mean ELBv2's
// defaults (see apimodel.TargetGroup).
type TargetHealthCheck struct {
	// Enabled turns the checks on. Default true. With checks off every target counts as
	// healthy (ELBv2 reports it unavailable).
	Enabled bool
	// Protocol is HTTP, HTTPS or TCP. Default: the group's protocol for HTTP/HTTPS groups,
	// TCP for TCP/TLS groups.
	Protocol string
	// Path is the HTTP(S) check's request path. Default "/".
	Path string
	// Port is "traffic-port" (the default) or a port number.
	Port string
	// IntervalSeconds is 5 to 300. YAML key intervalSeconds.
	IntervalSeconds int
	// TimeoutSeconds is 2 to 120 and less than the interval. YAML key timeoutSeconds.
	TimeoutSeconds int
	// HealthyThreshold is 2 to 10 consecutive successes. YAML key healthyThreshold.
	HealthyThreshold int
	// UnhealthyThreshold is 2 to 10 consecutive failures. YAML key unhealthyThreshold.
	UnhealthyThreshold int
	// Matcher is the HTTP codes counted as success: "200", "200,204" or "200-299".
	Matcher string
}

// LoadBalancer is an ELBv2 load balancer declared in the topology (YAML list
// loadBalancers).
type LoadBalancer struct {
	// Name is 1 to 32 characters of [A-Za-z0-9-], unique within the account.
	Name string
	// ID is the ARN's last segment: 16 lowercase hex digits. Default: derived.
	ID string
	// Type is network or application.
	Type string
	// VPC is the id of the VPC the load balancer lives in.
	VPC string
	// Subnets are subnet ids of the VPC. Default: all of the VPC's subnets.
	Subnets []string
	// Listeners are the load balancer's listeners.
	Listeners []LBListener
}

// LBListener is a load balancer listener (YAML list loadBalancers[].listeners).
type LBListener struct {
	// ID is the ARN's last segment: 16 lowercase hex digits. Default: derived.
	ID string
	// Port is 1 to 65535, unique within the load balancer.
	Port int
	// Protocol is TCP or TLS on a network load balancer, HTTP or HTTPS on an application
	// load balancer.
	Protocol string
	// Certificate is the ARN of a certificate in gatehouse's certificate store for TLS and
	// HTTPS listeners; "" means one issued by gatehouse's CA for the load balancer's DNS
	// name.
	Certificate string
	// DefaultTargetGroup is the name of the target group the default action forwards to.
	// YAML key defaultTargetGroup.
	DefaultTargetGroup string
	// Rules are listener rules (application load balancers only).
	Rules []ListenerRule
}

// ListenerRule is an application load balancer listener rule.
type ListenerRule struct {
	// Priority is 1 to 50000, unique within the listener; lower is evaluated first.
	Priority int
	// PathPatterns are path-pattern condition values ('*' and '?' wildcards).
	// YAML key pathPatterns.
	PathPatterns []string
	// HostHeaders are host-header condition values ('*' and '?' wildcards).
	// YAML key hostHeaders.
	HostHeaders []string
	// TargetGroup is the name of the target group the rule forwards to.
	// YAML key targetGroup.
	TargetGroup string
}

// DirectlyRoutable reports whether gatehouse reaches addresses in v directly (peering,
// Transit Gateway) rather than through the VPC's link agents. It is the routable key
// when given, else true unless the VPC has agent tokens.
func (v *VPC) DirectlyRoutable() bool {
	if v.Routable != nil {
		return *v.Routable
	}
	return len(v.AgentTokens) == 0
}

// TargetGroup returns the target group of account with the given name.
func (t *Topology) TargetGroup(account, name string) (*TargetGroup, bool) {
	for i := range t.TargetGroups {
		tg := &t.TargetGroups[i]
		if tg.Name == name && t.vpcAccount(tg.VPC) == account {
			return tg, true
		}
	}
	return nil, false
}

// VPCAccount returns the account owning VPC id, or "".
func (t *Topology) vpcAccount(id string) string {
	if v, ok := t.VPC(id); ok {
		return v.Account
	}
	return ""
}

// derivedID is the default ARN id of a topology-declared resource.
func derivedID(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "/")))
	return hex.EncodeToString(sum[:8])
}

// LoadBalancerID returns lb's ARN id.
func (t *Topology) LoadBalancerID(lb *LoadBalancer) string {
	if lb.ID != "" {
		return lb.ID
	}
	return derivedID("loadbalancer", t.vpcAccount(lb.VPC), lb.Name)
}

// ListenerID returns l's ARN id (l a listener of lb).
func (t *Topology) ListenerID(lb *LoadBalancer, l *LBListener) string {
	if l.ID != "" {
		return l.ID
	}
	return derivedID("listener", t.vpcAccount(lb.VPC), lb.Name, strconv.Itoa(l.Port))
}

// TargetGroupID returns tg's ARN id.
func (t *Topology) TargetGroupID(tg *TargetGroup) string {
	if tg.ID != "" {
		return tg.ID
	}
	return derivedID("targetgroup", t.vpcAccount(tg.VPC), tg.Name)
}

func lbARNType(typ string) string {
	if typ == "application" {
		return "app"
	}
	return "net"
}

// LoadBalancerARN returns lb's ARN.
func (t *Topology) LoadBalancerARN(lb *LoadBalancer) string {
	return "arn:aws:elasticloadbalancing:" + t.Region + ":" + t.vpcAccount(lb.VPC) + ":loadbalancer/" +
		lbARNType(lb.Type) + "/" + lb.Name + "/" + t.LoadBalancerID(lb)
}

// ListenerARN returns the ARN of l, a listener of lb.
func (t *Topology) ListenerARN(lb *LoadBalancer, l *LBListener) string {
	return "arn:aws:elasticloadbalancing:" + t.Region + ":" + t.vpcAccount(lb.VPC) + ":listener/" +
		lbARNType(lb.Type) + "/" + lb.Name + "/" + t.LoadBalancerID(lb) + "/" + t.ListenerID(lb, l)
}

// ListenerRuleARN returns the ARN of l's rule with the given index.
func (t *Topology) ListenerRuleARN(lb *LoadBalancer, l *LBListener, rule int) string {
	return "arn:aws:elasticloadbalancing:" + t.Region + ":" + t.vpcAccount(lb.VPC) + ":listener-rule/" +
		lbARNType(lb.Type) + "/" + lb.Name + "/" + t.LoadBalancerID(lb) + "/" + t.ListenerID(lb, l) + "/" +
		derivedID("rule", t.vpcAccount(lb.VPC), lb.Name, strconv.Itoa(l.Port), strconv.Itoa(l.Rules[rule].Priority))
}

// TargetGroupARN returns tg's ARN.
func (t *Topology) TargetGroupARN(tg *TargetGroup) string {
	return "arn:aws:elasticloadbalancing:" + t.Region + ":" + t.vpcAccount(tg.VPC) + ":targetgroup/" +
		tg.Name + "/" + t.TargetGroupID(tg)
}

// vpcLinkFields are the top-level keys of this file.
func (d *decoder) vpcLinkFields(t *Topology) []fieldDecoder {
	return []fieldDecoder{
		{"tunnelListener", func(n *yaml.Node, path string) {
			d.object(n, path, []fieldDecoder{
				{"listen", d.str(&t.TunnelListener.Listen)},
			})
		}},
		{"targetGroups", func(n *yaml.Node, path string) {
			d.list(n, path, func(n *yaml.Node, path string) {
				t.TargetGroups = append(t.TargetGroups, d.targetGroup(n, path))
			})
		}},
		{"loadBalancers", func(n *yaml.Node, path string) {
			d.list(n, path, func(n *yaml.Node, path string) {
				t.LoadBalancers = append(t.LoadBalancers, d.loadBalancer(n, path))
			})
		}},
	}
}

// vpcLinkVPCFields are a VPC's keys of this file.
func (d *decoder) vpcLinkVPCFields(v *VPC) []fieldDecoder {
	return []fieldDecoder{
		{"routable", func(n *yaml.Node, path string) {
			var b bool
			if s, _ := d.scalar(n, path); s != nil {
				d.boolean(&b)(n, path)
				v.Routable = &b
			}
		}},
		{"agentTokens", d.strings(&v.AgentTokens)},
	}
}

func (d *decoder) targetGroup(n *yaml.Node, path string) TargetGroup {
	tg := TargetGroup{TargetType: TargetTypeIP, DeregistrationDelaySeconds: 300, HealthCheck: TargetHealthCheck{Enabled: true}}
	d.object(n, path, []fieldDecoder{
		{"name", d.str(&tg.Name)},
		{"id", d.str(&tg.ID)},
		{"vpc", d.str(&tg.VPC)},
		{"protocol", d.str(&tg.Protocol)},
		{"port", d.integer(&tg.Port)},
		{"targetType", d.str(&tg.TargetType)},
		{"targets", func(n *yaml.Node, path string) {
			d.list(n, path, func(n *yaml.Node, path string) {
				var s TargetSpec
				d.object(n, path, []fieldDecoder{
					{"id", func(n *yaml.Node, path string) { d.targetID(n, path, &s) }},
					{"port", d.integer(&s.Port)},
				})
				tg.Targets = append(tg.Targets, s)
			})
		}},
		{"healthCheck", func(n *yaml.Node, path string) {
			h := &tg.HealthCheck
			d.object(n, path, []fieldDecoder{
				{"enabled", d.boolean(&h.Enabled)},
				{"protocol", d.str(&h.Protocol)},
				{"path", d.str(&h.Path)},
				{"port", d.str(&h.Port)},
				{"intervalSeconds", d.integer(&h.IntervalSeconds)},
				{"timeoutSeconds", d.integer(&h.TimeoutSeconds)},
				{"healthyThreshold", d.integer(&h.HealthyThreshold)},
				{"unhealthyThreshold", d.integer(&h.UnhealthyThreshold)},
				{"matcher", d.str(&h.Matcher)},
			})
		}},
		{"deregistrationDelaySeconds", d.integer(&tg.DeregistrationDelaySeconds)},
		{"algorithm", d.str(&tg.Algorithm)},
	})
	return tg
}

func (d *decoder) loadBalancer(n *yaml.Node, path string) LoadBalancer {
	var lb LoadBalancer
	d.object(n, path, []fieldDecoder{
		{"name", d.str(&lb.Name)},
		{"id", d.str(&lb.ID)},
		{"type", d.str(&lb.Type)},
		{"vpc", d.str(&lb.VPC)},
		{"subnets", d.strings(&lb.Subnets)},
		{"listeners", func(n *yaml.Node, path string) {
			d.list(n, path, func(n *yaml.Node, path string) {
				var l LBListener
				d.object(n, path, []fieldDecoder{
					{"id", d.str(&l.ID)},
					{"port", d.integer(&l.Port)},
					{"protocol", d.str(&l.Protocol)},
					{"certificate", d.str(&l.Certificate)},
					{"defaultTargetGroup", d.str(&l.DefaultTargetGroup)},
					{"rules", func(n *yaml.Node, path string) {
						d.list(n, path, func(n *yaml.Node, path string) {
							var r ListenerRule
							d.object(n, path, []fieldDecoder{
								{"priority", d.integer(&r.Priority)},
								{"pathPatterns", d.strings(&r.PathPatterns)},
								{"hostHeaders", d.strings(&r.HostHeaders)},
								{"targetGroup", d.str(&r.TargetGroup)},
							})
							l.Rules = append(l.Rules, r)
						})
					}},
				})
				lb.Listeners = append(lb.Listeners, l)
			})
		}},
	})
	return lb
}

// minAgentTokenLen is the shortest agent token the topology accepts.
const minAgentTokenLen = 16

func (t *Topology) validateVPCLinks(errs *fieldErrors, ls *listeners) {
	ls.addListen("tunnelListener.listen", t.TunnelListener.Listen, false)

	tokenAt := map[string]string{}
	for i, v := range t.VPCs {
		p := index("vpcs", i)
		for j, tok := range v.AgentTokens {
			tp := index(p+".agentTokens", j)
			switch {
			case len(tok) < minAgentTokenLen || len(tok) > 512:
				errs.add(tp, "an agent token is %d to 512 characters, got %d", minAgentTokenLen, len(tok))
			case strings.Trim(tok, tokenChars) != "":
				errs.add(tp, "an agent token is printable ASCII without spaces")
			case tokenAt[tok] != "":
				errs.add(tp, "duplicate agent token (also %s); a token joins exactly one VPC", tokenAt[tok])
			default:
				tokenAt[tok] = tp
			}
		}
		if len(v.AgentTokens) > 0 && t.TunnelListener.Listen == "" {
			errs.add(p+".agentTokens", "agents need a tunnel listener: set tunnelListener.listen")
		}
	}

	tgAt := map[string]int{} // account/name → index
	for i := range t.TargetGroups {
		t.validateTargetGroup(errs, i, tgAt)
	}
	lbAt := map[string]string{}
	for i := range t.LoadBalancers {
		t.validateLoadBalancer(errs, i, lbAt, tgAt)
	}
}

// tokenChars are the characters an agent token may hold: printable ASCII except space.
var tokenChars = func() string {
	var b strings.Builder
	for c := byte('!'); c <= '~'; c++ {
		b.WriteByte(c)
	}
	return b.String()
}()

func isELBName(s string) bool {
	if s == "" || len(s) > 32 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	return strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == ""
}

func isHexID16(s string) bool {
	return len(s) == 16 && strings.Trim(s, "0123456789abcdef") == ""
}

func (t *Topology) validateTargetGroup(errs *fieldErrors, i int, tgAt map[string]int) {
	tg := &t.TargetGroups[i]
	p := index("targetGroups", i)
	v, vpcOK := t.VPC(tg.VPC)
	switch {
	case tg.VPC == "":
		errs.add(p+".vpc", "required")
	case !vpcOK:
		errs.add(p+".vpc", "unknown VPC %q", tg.VPC)
	}
	switch {
	case !isELBName(tg.Name):
		errs.add(p+".name", "%q is not a target group name: 1 to 32 of A-Z, a-z, 0-9 and '-', not beginning or ending with '-'", tg.Name)
	case vpcOK:
		key := v.Account + "/" + tg.Name
		if j, dup := tgAt[key]; dup {
			errs.add(p+".name", "duplicate target group name %q in account %s (also %s)", tg.Name, v.Account, index("targetGroups", j))
		} else {
			tgAt[key] = i
		}
	}
	if tg.ID != "" && !isHexID16(tg.ID) {
		errs.add(p+".id", "%q is not 16 lowercase hex digits", tg.ID)
	}
	switch tg.Protocol {
	case "TCP", "TLS", "HTTP", "HTTPS":
	case "":
		errs.add(p+".protocol", "required")
	default:
		errs.add(p+".protocol", "%q is not TCP, TLS, HTTP or HTTPS", tg.Protocol)
	}
	if tg.Port < 1 || tg.Port > 65535 {
		errs.add(p+".port", "want a port from 1 to 65535, got %d", tg.Port)
	}
	switch tg.TargetType {
	case TargetTypeIP, TargetTypeInstance:
	default:
		errs.add(p+".targetType", "%q is not supported; gatehouse targets are ip or instance", tg.TargetType)
	}
	seen := map[string]string{}
	for j, s := range tg.Targets {
		sp := index(p+".targets", j)
		switch {
		case tg.TargetType == TargetTypeInstance:
			t.validateInstanceTarget(errs, sp+".id", s, tg)
		case s.InstanceID != "":
			errs.add(sp+".id", "%q is an instance id; the targets of an ip target group are IP addresses", s.InstanceID)
		case !s.ID.IsValid():
			errs.add(sp+".id", "required")
		case vpcOK && v.CIDR.IsValid() && !v.CIDR.Contains(s.ID):
			errs.add(sp+".id", "%s is outside the VPC's CIDR %s", s.ID, v.CIDR)
		}
		if s.Port < 0 || s.Port > 65535 {
			errs.add(sp+".port", "want a port from 1 to 65535, got %d", s.Port)
		}
		port := s.Port
		if port == 0 {
			port = tg.Port
		}
		key := netip.AddrPortFrom(s.ID, uint16(port)).String()
		if s.InstanceID != "" {
			key = s.InstanceID + ":" + strconv.Itoa(port)
		}
		if seen[key] != "" {
			errs.add(sp, "duplicate target %s (also %s)", key, seen[key])
		} else {
			seen[key] = sp
		}
	}
	h := &tg.HealthCheck
	hp := p + ".healthCheck"
	switch h.Protocol {
	case "", "HTTP", "HTTPS", "TCP":
	default:
		errs.add(hp+".protocol", "%q is not HTTP, HTTPS or TCP", h.Protocol)
	}
	if h.Path != "" && !strings.HasPrefix(h.Path, "/") {
		errs.add(hp+".path", "%q does not begin with '/'", h.Path)
	}
	if h.Port != "" && h.Port != "traffic-port" {
		if n, err := strconv.Atoi(h.Port); err != nil || n < 1 || n > 65535 {
			errs.add(hp+".port", "%q is neither traffic-port nor a port from 1 to 65535", h.Port)
		}
	}
	rangeCheck := func(key string, v, lo, hi int) {
		if v != 0 && (v < lo || v > hi) {
			errs.add(hp+"."+key, "want %d to %d, got %d", lo, hi, v)
		}
	}
	rangeCheck("intervalSeconds", h.IntervalSeconds, 5, 300)
	rangeCheck("timeoutSeconds", h.TimeoutSeconds, 2, 120)
	rangeCheck("healthyThreshold", h.HealthyThreshold, 2, 10)
	rangeCheck("unhealthyThreshold", h.UnhealthyThreshold, 2, 10)
	if h.IntervalSeconds != 0 && h.TimeoutSeconds != 0 && h.TimeoutSeconds >= h.IntervalSeconds {
		errs.add(hp+".timeoutSeconds", "must be less than intervalSeconds (%d)", h.IntervalSeconds)
	}
	if h.Matcher != "" && !ValidHTTPCodeMatcher(h.Matcher) {
		errs.add(hp+".matcher", "%q is not an HTTP code matcher like 200, 200,202 or 200-299", h.Matcher)
	}
	if tg.DeregistrationDelaySeconds < 0 || tg.DeregistrationDelaySeconds > 3600 {
		errs.add(p+".deregistrationDelaySeconds", "want 0 to 3600, got %d", tg.DeregistrationDelaySeconds)
	}
	switch tg.Algorithm {
	case "", "round_robin", "least_outstanding_requests":
	default:
		errs.add(p+".algorithm", "%q is not round_robin or least_outstanding_requests", tg.Algorithm)
	}
}

// ValidHTTPCodeMatcher reports whether s is an ELBv2 HttpCode matcher: codes 100 to 599
// as "200", "200,202" or "200-299".
func ValidHTTPCodeMatcher(s string) bool {
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 100 || a > 599 || len(lo) != 3 {
			return false
		}
		if isRange {
			b, err := strconv.Atoi(hi)
			if err != nil || b < a || b > 599 || len(hi) != 3 {
				return false
			}
		}
	}
	return true
}

func (t *Topology) validateLoadBalancer(errs *fieldErrors, i int, lbAt map[string]string, tgAt map[string]int) {
	lb := &t.LoadBalancers[i]
	p := index("loadBalancers", i)
	v, vpcOK := t.VPC(lb.VPC)
	switch {
	case lb.VPC == "":
		errs.add(p+".vpc", "required")
	case !vpcOK:
		errs.add(p+".vpc", "unknown VPC %q", lb.VPC)
	}
	switch {
	case !isELBName(lb.Name) || strings.HasPrefix(lb.Name, "internal-"):
		errs.add(p+".name", "%q is not a load balancer name: 1 to 32 of A-Z, a-z, 0-9 and '-', not beginning or ending with '-' or with internal-", lb.Name)
	case vpcOK:
		key := v.Account + "/" + lb.Name
		if lbAt[key] != "" {
			errs.add(p+".name", "duplicate load balancer name %q in account %s (also %s)", lb.Name, v.Account, lbAt[key])
		} else {
			lbAt[key] = p
		}
	}
	if lb.ID != "" && !isHexID16(lb.ID) {
		errs.add(p+".id", "%q is not 16 lowercase hex digits", lb.ID)
	}
	var protocols []string
	switch lb.Type {
	case "network":
		protocols = []string{"TCP", "TLS"}
	case "application":
		protocols = []string{"HTTP", "HTTPS"}
	case "":
		errs.add(p+".type", "required: network or application")
	default:
		errs.add(p+".type", "%q is not network or application", lb.Type)
	}
	for j, s := range lb.Subnets {
		if vpcOK && !v.hasSubnet(s) {
			errs.add(index(p+".subnets", j), "%q is not a subnet of %s", s, lb.VPC)
		}
	}
	ports := map[int]string{}
	for j := range lb.Listeners {
		l := &lb.Listeners[j]
		lp := index(p+".listeners", j)
		if l.ID != "" && !isHexID16(l.ID) {
			errs.add(lp+".id", "%q is not 16 lowercase hex digits", l.ID)
		}
		if l.Port < 1 || l.Port > 65535 {
			errs.add(lp+".port", "want a port from 1 to 65535, got %d", l.Port)
		} else if ports[l.Port] != "" {
			errs.add(lp+".port", "duplicate listener port %d (also %s)", l.Port, ports[l.Port])
		} else {
			ports[l.Port] = lp
		}
		if protocols != nil && !contains(protocols, l.Protocol) {
			errs.add(lp+".protocol", "%q is not a %s load balancer listener protocol (%s)", l.Protocol, lb.Type, strings.Join(protocols, ", "))
		}
		if l.Certificate != "" && l.Protocol != "TLS" && l.Protocol != "HTTPS" {
			errs.add(lp+".certificate", "only TLS and HTTPS listeners have a certificate")
		}
		checkTG := func(path, name string) {
			if name == "" {
				errs.add(path, "required")
				return
			}
			if !vpcOK {
				return
			}
			k, ok := tgAt[v.Account+"/"+name]
			if !ok {
				errs.add(path, "unknown target group %q", name)
				return
			}
			tg := &t.TargetGroups[k]
			if tg.VPC != lb.VPC {
				errs.add(path, "target group %q is in %s, not in the load balancer's VPC %s", name, tg.VPC, lb.VPC)
			}
			if protocols != nil && !contains(protocols, tg.Protocol) {
				errs.add(path, "target group %q has protocol %s; a %s load balancer needs %s", name, tg.Protocol, lb.Type, strings.Join(protocols, " or "))
			}
		}
		checkTG(lp+".defaultTargetGroup", l.DefaultTargetGroup)
		if len(l.Rules) > 0 && lb.Type != "application" {
			errs.add(lp+".rules", "only application load balancer listeners have rules")
		}
		prio := map[int]string{}
		for k, r := range l.Rules {
			rp := index(lp+".rules", k)
			if r.Priority < 1 || r.Priority > 50000 {
				errs.add(rp+".priority", "want 1 to 50000, got %d", r.Priority)
			} else if prio[r.Priority] != "" {
				errs.add(rp+".priority", "duplicate priority %d (also %s)", r.Priority, prio[r.Priority])
			} else {
				prio[r.Priority] = rp
			}
			if len(r.PathPatterns) == 0 && len(r.HostHeaders) == 0 {
				errs.add(rp, "a rule needs pathPatterns or hostHeaders")
			}
			for m, s := range r.PathPatterns {
				if s == "" || len(s) > 128 {
					errs.add(index(rp+".pathPatterns", m), "a path pattern is 1 to 128 characters")
				}
			}
			for m, s := range r.HostHeaders {
				if s == "" || len(s) > 128 {
					errs.add(index(rp+".hostHeaders", m), "a host header pattern is 1 to 128 characters")
				}
			}
			checkTG(rp+".targetGroup", r.TargetGroup)
		}
	}
}

func (v *VPC) hasSubnet(id string) bool {
	for _, s := range v.Subnets {
		if s.ID == id {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
