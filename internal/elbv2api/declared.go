package elbv2api

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/config"
	"gatehouse/internal/vpclink"
)

// Topology-declared load balancers, listeners, rules and target groups
// (config.Topology.LoadBalancers and TargetGroups). The runtime serves them from
// vpclink.TopologyDocuments; the API shows the same documents next to the stored ones
// of the caller's account and refuses every change to them with OperationNotPermitted.
// They are never stored: the topology file is their only source.

// declaredELB holds the topology's ELB documents, completed with what ELBv2 shows and
// the runtime leaves implicit (health check defaults, default rules, zone names). It is
// built once by New and never modified; lookups hand out shallow copies, whose slices
// and maps callers must replace rather than change in place.
type declaredELB struct {
	lbs       []apimodel.LoadBalancer
	listeners []apimodel.Listener
	rules     []apimodel.Rule
	tgs       []apimodel.TargetGroup
	// owner maps the ARN of every declared object to its account.
	owner map[string]string
}

// newDeclaredELB converts t's load balancers and target groups with
// vpclink.TopologyDocuments and completes them. created is their CreatedTime and the
// targets' registration time.
func newDeclaredELB(t *config.Topology, created apimodel.Epoch) *declaredELB {
	d := vpclink.TopologyDocuments(t)
	e := &declaredELB{owner: map[string]string{}}
	for _, lb := range d.LoadBalancers {
		if lb.Account == "" {
			continue
		}
		lb.CreatedTime = created
		lb.CanonicalHostedZoneID = hostedZoneID(t.Region, lb.Type)
		azs := make([]apimodel.AvailabilityZone, 0, len(lb.AvailabilityZones))
		for _, az := range lb.AvailabilityZones {
			if _, sn, ok := t.FindSubnet(az.SubnetID); ok {
				az.ZoneName = sn.AvailabilityZone
			}
			azs = append(azs, az)
		}
		lb.AvailabilityZones = azs
		e.lbs = append(e.lbs, lb)
		e.owner[lb.LoadBalancerArn] = lb.Account
	}
	for _, l := range d.Listeners {
		if l.Account == "" {
			continue
		}
		if l.Protocol == apimodel.ProtocolTLS || l.Protocol == apimodel.ProtocolHTTPS {
			l.SslPolicy = defaultSSLPolicy
		}
		e.listeners = append(e.listeners, l)
		e.owner[l.ListenerArn] = l.Account
		// Every listener has a default rule holding its default actions.
		def := apimodel.Rule{Account: l.Account, ListenerArn: l.ListenerArn, RuleArn: defaultRuleARN(l.ListenerArn),
			Priority: apimodel.RulePriorityDefault, Conditions: []apimodel.RuleCondition{}, Actions: l.DefaultActions, IsDefault: true}
		e.rules = append(e.rules, def)
		e.owner[def.RuleArn] = def.Account
	}
	for _, r := range d.Rules {
		if r.Account == "" {
			continue
		}
		e.rules = append(e.rules, r)
		e.owner[r.RuleArn] = r.Account
	}
	for _, tg := range d.TargetGroups {
		if tg.Account == "" {
			continue
		}
		completeTargetGroup(t, &tg, created)
		e.tgs = append(e.tgs, tg)
		e.owner[tg.TargetGroupArn] = tg.Account
	}
	return e
}

// defaultRuleARN is the ARN of a declared listener's default rule: the listener's ARN
// with an id derived from it (stable across restarts and nodes).
func defaultRuleARN(listenerARN string) string {
	a, err := apimodel.ParseELBARN(listenerARN)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256([]byte("default-rule/" + listenerARN))
	return "arn:" + a.Partition + ":elasticloadbalancing:" + a.Region + ":" + a.Account + ":listener-rule/" +
		a.LBType + "/" + a.Name + "/" + a.LBID + "/" + a.ListenerID + "/" + hex.EncodeToString(sum[:8])
}

// completeTargetGroup applies ELBv2's defaults (apimodel.TargetGroup lists them; the
// runtime applies the same ones) to the zero values of a declared target group, and
// gives its targets their port and, for ip targets in a subnet, Availability Zone.
func completeTargetGroup(t *config.Topology, tg *apimodel.TargetGroup, created apimodel.Epoch) {
	httpGroup := isHTTPish(tg.Protocol)
	if tg.HealthCheckProtocol == "" {
		tg.HealthCheckProtocol = apimodel.ProtocolTCP
		if httpGroup {
			tg.HealthCheckProtocol = tg.Protocol
		}
	}
	httpCheck := isHTTPish(tg.HealthCheckProtocol)
	if tg.HealthCheckPort == "" {
		tg.HealthCheckPort = apimodel.HealthCheckPortTraffic
	}
	if httpCheck && tg.HealthCheckPath == "" {
		tg.HealthCheckPath = "/"
	}
	if tg.HealthCheckIntervalSeconds == 0 {
		tg.HealthCheckIntervalSeconds = defaultHCInterval
	}
	if tg.HealthCheckTimeoutSeconds == 0 {
		switch {
		case httpGroup:
			tg.HealthCheckTimeoutSeconds = 5
		case httpCheck:
			tg.HealthCheckTimeoutSeconds = 6
		default:
			tg.HealthCheckTimeoutSeconds = 10
		}
	}
	if tg.HealthyThresholdCount == 0 {
		tg.HealthyThresholdCount = defaultHealthyCount
	}
	if tg.UnhealthyThresholdCount == 0 {
		tg.UnhealthyThresholdCount = defaultUnhealthy
	}
	if tg.Matcher == nil && httpCheck {
		tg.Matcher = &apimodel.Matcher{HTTPCode: "200-399"}
		if httpGroup {
			tg.Matcher.HTTPCode = "200"
		}
	}
	if httpGroup && tg.ProtocolVersion == "" {
		tg.ProtocolVersion = "HTTP1"
	}
	if tg.IPAddressType == "" {
		tg.IPAddressType = "ipv4"
	}
	vpc, _ := t.VPC(tg.VpcID)
	targets := make([]apimodel.TargetRegistration, 0, len(tg.Targets))
	for _, r := range tg.Targets {
		if r.Port == 0 {
			r.Port = tg.Port
		}
		if a, err := netip.ParseAddr(r.ID); err == nil && vpc != nil && r.AvailabilityZone == "" {
			if sn, ok := vpc.Subnet(a); ok {
				r.AvailabilityZone = sn.AvailabilityZone
			}
		}
		r.RegisteredAt = created
		targets = append(targets, r)
	}
	tg.Targets = targets
}

// hostedZoneID is the canonical hosted zone id of load balancers of type typ in region
// ("" for a Region gatehouse does not know).
func hostedZoneID(region, typ string) string {
	z, ok := hostedZoneIDs[region]
	if !ok {
		return ""
	}
	if typ == apimodel.LoadBalancerNetwork {
		return z[1]
	}
	return z[0]
}

// ofAccount returns copies of the documents of account.
func ofAccount[T any](docs []T, owner func(*T) string, account string) []*T {
	var out []*T
	for i := range docs {
		if owner(&docs[i]) == account {
			v := docs[i]
			out = append(out, &v)
		}
	}
	return out
}

// find returns a copy of the document of account whose ARN is want.
func find[T any](docs []T, owner, arn func(*T) string, account, want string) (*T, bool) {
	for i := range docs {
		if arn(&docs[i]) == want && owner(&docs[i]) == account {
			v := docs[i]
			return &v, true
		}
	}
	return nil, false
}

// withDeclared returns the declared documents followed by the stored ones, leaving out
// a stored one whose ARN a declared one has (the runtime lets the topology win too).
func withDeclared[T any](declared, stored []*T, arn func(*T) string) []*T {
	seen := make(map[string]bool, len(declared))
	out := make([]*T, 0, len(declared)+len(stored))
	for _, v := range declared {
		seen[arn(v)] = true
		out = append(out, v)
	}
	for _, v := range stored {
		if !seen[arn(v)] {
			out = append(out, v)
		}
	}
	return out
}

func lbAccount(v *apimodel.LoadBalancer) string   { return v.Account }
func lbARNOf(v *apimodel.LoadBalancer) string     { return v.LoadBalancerArn }
func listenerAccount(v *apimodel.Listener) string { return v.Account }
func listenerARNOf(v *apimodel.Listener) string   { return v.ListenerArn }
func ruleAccount(v *apimodel.Rule) string         { return v.Account }
func ruleARNOf(v *apimodel.Rule) string           { return v.RuleArn }
func tgAccount(v *apimodel.TargetGroup) string    { return v.Account }
func tgARNOf(v *apimodel.TargetGroup) string      { return v.TargetGroupArn }

// lb returns account's declared load balancer arn.
func (e *declaredELB) lb(account, arn string) (*apimodel.LoadBalancer, bool) {
	return find(e.lbs, lbAccount, lbARNOf, account, arn)
}

// listener returns account's declared listener arn.
func (e *declaredELB) listener(account, arn string) (*apimodel.Listener, bool) {
	return find(e.listeners, listenerAccount, listenerARNOf, account, arn)
}

// rule returns account's declared rule arn.
func (e *declaredELB) rule(account, arn string) (*apimodel.Rule, bool) {
	return find(e.rules, ruleAccount, ruleARNOf, account, arn)
}

// tg returns account's declared target group arn (LoadBalancerArns not filled in).
func (e *declaredELB) tg(account, arn string) (*apimodel.TargetGroup, bool) {
	return find(e.tgs, tgAccount, tgARNOf, account, arn)
}

// lbNamed reports whether account declares a load balancer called name.
func (e *declaredELB) lbNamed(account, name string) bool {
	for i := range e.lbs {
		if e.lbs[i].Account == account && e.lbs[i].LoadBalancerName == name {
			return true
		}
	}
	return false
}

// tgNamed reports whether account declares a target group called name.
func (e *declaredELB) tgNamed(account, name string) bool {
	for i := range e.tgs {
		if e.tgs[i].Account == account && e.tgs[i].TargetGroupName == name {
			return true
		}
	}
	return false
}

// count returns how many load balancers and target groups account declares.
func (e *declaredELB) count(account string) (lbs, tgs int) {
	return len(ofAccount(e.lbs, lbAccount, account)), len(ofAccount(e.tgs, tgAccount, account))
}

// readOnly returns OperationNotPermitted when arn names one of the caller's declared
// objects; what names its kind ("Load balancer", "Listener", ...).
func (s *Server) readOnly(c *call, what, arn string) error {
	if acct, ok := s.declared.owner[arn]; !ok || acct != c.caller.Account {
		return nil
	}
	return newErr(codeOperationNotPermitted, "%s '%s' is declared in gatehouse's topology file and is read-only", what, arn)
}

// writableARN reads the required ARN parameter name (null at at when absent) of an
// object the request changes: a declared object's ARN is refused as readOnly does.
func (s *Server) writableARN(c *call, name, at, what string) (string, error) {
	arn, ok := str(c.p, name)
	if !ok {
		var v validationErrors
		v.null(at)
		return "", v.err()
	}
	return arn, s.readOnly(c, what, arn)
}

// Listing the caller's objects: declared ones and stored ones together.

// allOf lists the caller's declared documents (of docs) and stored ones of kind
// together, as withDeclared.
func allOf[T any](c *call, s *Server, kind string, docs []T, owner, arn func(*T) string) ([]*T, error) {
	stored, err := listKind[T](c.ctx, s, c.caller.Account, kind)
	if err != nil {
		return nil, err
	}
	return withDeclared(ofAccount(docs, owner, c.caller.Account), stored, arn), nil
}

func (s *Server) allLBs(c *call) ([]*apimodel.LoadBalancer, error) {
	return allOf(c, s, "lb", s.declared.lbs, lbAccount, lbARNOf)
}

func (s *Server) allListeners(c *call) ([]*apimodel.Listener, error) {
	return allOf(c, s, "listener", s.declared.listeners, listenerAccount, listenerARNOf)
}

func (s *Server) allRules(c *call) ([]*apimodel.Rule, error) {
	return allOf(c, s, "rule", s.declared.rules, ruleAccount, ruleARNOf)
}

// allTGs lists the caller's target groups. A declared group's LoadBalancerArns are
// computed from the listeners and rules that forward to it (stored groups keep theirs
// up to date in the store).
func (s *Server) allTGs(c *call) ([]*apimodel.TargetGroup, error) {
	stored, err := listKind[apimodel.TargetGroup](c.ctx, s, c.caller.Account, "tg")
	if err != nil {
		return nil, err
	}
	declared := ofAccount(s.declared.tgs, tgAccount, c.caller.Account)
	if len(declared) > 0 {
		refs, err := s.references(c)
		if err != nil {
			return nil, err
		}
		for _, tg := range declared {
			tg.LoadBalancerArns = refs[tg.TargetGroupArn]
		}
	}
	return withDeclared(declared, stored, tgARNOf), nil
}

// declaredTG returns the caller's declared target group arn with its LoadBalancerArns.
func (s *Server) declaredTG(c *call, arn string) (*apimodel.TargetGroup, bool, error) {
	tg, ok := s.declared.tg(c.caller.Account, arn)
	if !ok {
		return nil, false, nil
	}
	refs, err := s.references(c)
	if err != nil {
		return nil, false, err
	}
	tg.LoadBalancerArns = refs[arn]
	return tg, true, nil
}
