package elbv2api

import (
	"encoding/json"
	"errors"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/config"
	"gatehouse/internal/store"
)

const (
	maxTargetGroups     = 3000
	maxTargetsPerGroup  = 1000
	defaultHCInterval   = 30
	defaultHealthyCount = 5
	defaultUnhealthy    = 2
)

var (
	matcherRe    = regexp.MustCompile(`^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$`)
	instanceIDRe = regexp.MustCompile(`^i-[0-9a-f]{8}([0-9a-f]{9})?$`)
)

// xTargetGroup is ELBv2's TargetGroup on the wire.
type xTargetGroup struct {
	TargetGroupArn             string
	TargetGroupName            string
	Protocol                   string `xml:",omitempty"`
	Port                       int    `xml:",omitempty"`
	VpcID                      string `xml:"VpcId,omitempty"`
	HealthCheckProtocol        string `xml:",omitempty"`
	HealthCheckPort            string `xml:",omitempty"`
	HealthCheckEnabled         bool
	HealthCheckIntervalSeconds int       `xml:",omitempty"`
	HealthCheckTimeoutSeconds  int       `xml:",omitempty"`
	HealthyThresholdCount      int       `xml:",omitempty"`
	UnhealthyThresholdCount    int       `xml:",omitempty"`
	HealthCheckPath            string    `xml:",omitempty"`
	Matcher                    *xMatcher `xml:",omitempty"`
	LoadBalancerArns           []string  `xml:"LoadBalancerArns>member"`
	TargetType                 string
	ProtocolVersion            string `xml:",omitempty"`
	IPAddressType              string `xml:"IpAddressType,omitempty"`
}

type xMatcher struct {
	HTTPCode string `xml:"HttpCode,omitempty"`
	GrpcCode string `xml:",omitempty"`
}

func toXTG(tg *apimodel.TargetGroup) xTargetGroup {
	x := xTargetGroup{
		TargetGroupArn: tg.TargetGroupArn, TargetGroupName: tg.TargetGroupName, Protocol: tg.Protocol, Port: tg.Port,
		VpcID: tg.VpcID, HealthCheckProtocol: tg.HealthCheckProtocol, HealthCheckPort: tg.HealthCheckPort,
		HealthCheckEnabled:         tg.HealthCheckEnabled == nil || *tg.HealthCheckEnabled,
		HealthCheckIntervalSeconds: tg.HealthCheckIntervalSeconds, HealthCheckTimeoutSeconds: tg.HealthCheckTimeoutSeconds,
		HealthyThresholdCount: tg.HealthyThresholdCount, UnhealthyThresholdCount: tg.UnhealthyThresholdCount,
		HealthCheckPath: tg.HealthCheckPath, LoadBalancerArns: tg.LoadBalancerArns, TargetType: tg.TargetType,
		ProtocolVersion: tg.ProtocolVersion, IPAddressType: tg.IPAddressType,
	}
	if tg.Matcher != nil {
		x.Matcher = &xMatcher{HTTPCode: tg.Matcher.HTTPCode, GrpcCode: tg.Matcher.GrpcCode}
	}
	return x
}

type tgList struct {
	TargetGroups []xTargetGroup `xml:"TargetGroups>member"`
	NextMarker   string         `xml:",omitempty"`
}

func isHTTPish(proto string) bool {
	return proto == apimodel.ProtocolHTTP || proto == apimodel.ProtocolHTTPS
}

func (s *Server) createTargetGroup(c *call) (any, error) {
	p := c.p
	var v validationErrors
	name, ok := str(p, "Name")
	if !ok {
		v.null("name")
	}
	targetType, ok := str(p, "TargetType")
	if !ok {
		targetType = apimodel.TargetTypeInstance
	}
	if !slices.Contains([]string{"instance", "ip", "lambda", "alb"}, targetType) {
		v.enum(targetType, "targetType", "instance, ip, lambda, alb")
	}
	protocols := "HTTP, HTTPS, TCP, TLS, UDP, TCP_UDP, GENEVE, QUIC, TCP_QUIC"
	proto, hasProto := v.enumParam(p, "Protocol", "protocol", protocols)
	hcProto, hasHCProto := v.enumParam(p, "HealthCheckProtocol", "healthCheckProtocol", protocols)
	port, hasPort, err := v.rangeParam(p, "Port", "port", 1, 65535)
	if err != nil {
		return nil, err
	}
	interval, hasInterval, err := v.rangeParam(p, "HealthCheckIntervalSeconds", "healthCheckIntervalSeconds", 5, 300)
	if err != nil {
		return nil, err
	}
	timeout, hasTimeout, err := v.rangeParam(p, "HealthCheckTimeoutSeconds", "healthCheckTimeoutSeconds", 2, 120)
	if err != nil {
		return nil, err
	}
	healthy, hasHealthy, err := v.rangeParam(p, "HealthyThresholdCount", "healthyThresholdCount", 2, 10)
	if err != nil {
		return nil, err
	}
	unhealthy, hasUnhealthy, err := v.rangeParam(p, "UnhealthyThresholdCount", "unhealthyThresholdCount", 2, 10)
	if err != nil {
		return nil, err
	}
	path, hasPath := str(p, "HealthCheckPath")
	if hasPath && (len(path) < 1 || len(path) > 1024) {
		v.add("Value '%s' at 'healthCheckPath' failed to satisfy constraint: Member must have length between 1 and 1024", path)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := checkName("Target group", name); err != nil {
		return nil, err
	}
	switch targetType {
	case "lambda", "alb":
		return nil, newErr(codeInvalidConfig, "Target type '%s' is not supported by gatehouse; use 'ip'", targetType)
	}
	if !hasProto {
		return nil, validationf("A protocol must be specified")
	}
	if !hasPort {
		return nil, validationf("A port must be specified")
	}
	vpcID, ok := str(p, "VpcId")
	if !ok || vpcID == "" {
		return nil, validationf("A VPC ID must be specified")
	}
	switch proto {
	case apimodel.ProtocolHTTP, apimodel.ProtocolHTTPS, apimodel.ProtocolTCP, apimodel.ProtocolTLS:
	default:
		return nil, newErr(codeInvalidConfig, "Protocol '%s' is not supported by gatehouse target groups", proto)
	}
	if _, ok := s.accountVPC(c.caller.Account, vpcID); !ok {
		return nil, validationf("The VPC ID '%s' is not found", vpcID)
	}
	tg := &apimodel.TargetGroup{
		Account: c.caller.Account, TargetGroupName: name, Protocol: proto, Port: port, VpcID: vpcID,
		TargetType: targetType, IPAddressType: "ipv4",
	}
	if ipt, ok := str(p, "IpAddressType"); ok {
		if ipt != "ipv4" && ipt != "ipv6" {
			return nil, validationf("1 validation error detected: Value '%s' at 'ipAddressType' failed to satisfy constraint: Member must satisfy enum value set: [ipv4, ipv6]", ipt)
		}
		tg.IPAddressType = ipt
	}
	if pv, ok := str(p, "ProtocolVersion"); ok {
		if !isHTTPish(proto) {
			return nil, validationf("A protocol version can only be specified for HTTP or HTTPS target groups")
		}
		if pv != "HTTP1" && pv != "HTTP2" && pv != "GRPC" {
			return nil, validationf("Protocol version '%s' must be one of 'HTTP1, HTTP2, GRPC'", pv)
		}
		tg.ProtocolVersion = pv
	} else if isHTTPish(proto) {
		tg.ProtocolVersion = "HTTP1"
	}

	// Health check settings with ELBv2's defaults.
	enabled, hasEnabled, err := boolParam(p, "HealthCheckEnabled", "healthCheckEnabled")
	if err != nil {
		return nil, err
	}
	if !hasEnabled {
		enabled = true
	}
	tg.HealthCheckEnabled = &enabled
	if !hasHCProto {
		hcProto = apimodel.ProtocolTCP
		if isHTTPish(proto) {
			hcProto = proto
		}
	}
	switch {
	case isHTTPish(proto) && !isHTTPish(hcProto):
		return nil, validationf("Health check protocol '%s' is not supported for target groups with the %s protocol", hcProto, proto)
	case hcProto != apimodel.ProtocolTCP && !isHTTPish(hcProto):
		return nil, validationf("Health check protocol '%s' is not supported for target groups with the %s protocol", hcProto, proto)
	}
	tg.HealthCheckProtocol = hcProto
	tg.HealthCheckPort = apimodel.HealthCheckPortTraffic
	if hp, ok := str(p, "HealthCheckPort"); ok && hp != apimodel.HealthCheckPortTraffic {
		n, err := strconv.Atoi(hp)
		if err != nil || n < 1 || n > 65535 {
			return nil, validationf("Health check port '%s' must be 'traffic-port' or a port between 1 and 65535", hp)
		}
		tg.HealthCheckPort = hp
	}
	if hasPath && !isHTTPish(hcProto) {
		return nil, validationf("Health check path can only be specified for HTTP or HTTPS health checks")
	}
	if isHTTPish(hcProto) {
		tg.HealthCheckPath = "/"
		if hasPath {
			if !strings.HasPrefix(path, "/") {
				return nil, validationf("Health check path must begin with a '/' character")
			}
			tg.HealthCheckPath = path
		}
	}
	tg.HealthCheckIntervalSeconds = defaultHCInterval
	if hasInterval {
		tg.HealthCheckIntervalSeconds = interval
	}
	switch {
	case hasTimeout:
		tg.HealthCheckTimeoutSeconds = timeout
	case isHTTPish(proto):
		tg.HealthCheckTimeoutSeconds = 5
	case isHTTPish(hcProto):
		tg.HealthCheckTimeoutSeconds = 6
	default:
		tg.HealthCheckTimeoutSeconds = 10
	}
	if !hasTimeout && tg.HealthCheckTimeoutSeconds >= tg.HealthCheckIntervalSeconds {
		// A short interval with the default timeout: keep the timeout below the interval.
		tg.HealthCheckTimeoutSeconds = max(2, tg.HealthCheckIntervalSeconds-1)
	}
	if tg.HealthCheckTimeoutSeconds >= tg.HealthCheckIntervalSeconds {
		return nil, validationf("Health check interval must be greater than the timeout.")
	}
	tg.HealthyThresholdCount = defaultHealthyCount
	if hasHealthy {
		tg.HealthyThresholdCount = healthy
	}
	tg.UnhealthyThresholdCount = defaultUnhealthy
	if hasUnhealthy {
		tg.UnhealthyThresholdCount = unhealthy
	}
	code, hasMatcher := str(p, "Matcher.HttpCode")
	if _, ok := str(p, "Matcher.GrpcCode"); ok {
		return nil, newErr(codeInvalidConfig, "gRPC health check matchers are not supported by gatehouse")
	}
	switch {
	case hasMatcher && !isHTTPish(hcProto):
		return nil, newErr(codeInvalidConfig, "Custom health check matchers are not supported for health checks for target groups with the TCP protocol.")
	case hasMatcher:
		if !validMatcher(code, isHTTPish(proto)) {
			return nil, validationf("Health check matcher HTTP code '%s' must be a code, a list of codes or a range of codes between 200 and %d", code, matcherMax(isHTTPish(proto)))
		}
		tg.Matcher = &apimodel.Matcher{HTTPCode: code}
	case isHTTPish(proto):
		tg.Matcher = &apimodel.Matcher{HTTPCode: "200"}
	case isHTTPish(hcProto):
		tg.Matcher = &apimodel.Matcher{HTTPCode: "200-399"}
	}
	if tg.Tags, err = tags(p); err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.declared.tgNamed(c.caller.Account, name) {
		return nil, newErr(codeDuplicateTGName, "A target group with the same name '%s' exists (declared in gatehouse's topology file)", name)
	}
	tgs, err := listKind[apimodel.TargetGroup](c.ctx, s, c.caller.Account, "tg")
	if err != nil {
		return nil, err
	}
	for _, o := range tgs {
		if o.TargetGroupName != name {
			continue
		}
		tg.TargetGroupArn, tg.LoadBalancerArns, tg.Targets, tg.Attributes = o.TargetGroupArn, o.LoadBalancerArns, o.Targets, o.Attributes
		if sameTargetGroup(o, tg) {
			return tgList{TargetGroups: []xTargetGroup{toXTG(o)}}, nil
		}
		return nil, newErr(codeDuplicateTGName, "A target group with the same name '%s' exists, but with different settings", name)
	}
	if _, declared := s.declared.count(c.caller.Account); len(tgs)+declared >= maxTargetGroups {
		return nil, newErr(codeTooManyTGs, "The maximum number of target groups has been reached")
	}
	id := newID()
	tg.TargetGroupArn = s.arnPrefix(c.caller.Account) + "targetgroup/" + name + "/" + id
	if err := s.save(c.ctx, apimodel.TargetGroupKey(c.caller.Account, id), tg); err != nil {
		return nil, err
	}
	return tgList{TargetGroups: []xTargetGroup{toXTG(tg)}}, nil
}

// sameTargetGroup compares two target groups' settings (CreateTargetGroup idempotency).
func sameTargetGroup(a, b *apimodel.TargetGroup) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func matcherMax(alb bool) int {
	if alb {
		return 499
	}
	return 599
}

// validMatcher checks an HttpCode matcher: codes, comma lists or ranges within
// 200–499 (application) or 200–599 (network).
func validMatcher(code string, alb bool) bool {
	if !matcherRe.MatchString(code) {
		return false
	}
	hi := matcherMax(alb)
	for part := range strings.SplitSeq(code, ",") {
		lo, up, isRange := strings.Cut(part, "-")
		a, _ := strconv.Atoi(lo)
		b := a
		if isRange {
			b, _ = strconv.Atoi(up)
		}
		if a < 200 || b > hi || a > b {
			return false
		}
	}
	return true
}

// loadTG returns the caller's target group with ARN arn (declared or stored), or
// TargetGroupNotFound.
func (s *Server) loadTG(c *call, arn string) (*apimodel.TargetGroup, error) {
	if tg, ok, err := s.declaredTG(c, arn); ok || err != nil {
		return tg, err
	}
	return loadStored(c, s, arn, "targetgroup", "target group", apimodel.TargetGroupKey, tgARNOf,
		newErr(codeTGNotFound, "Target groups '%s' not found", arn))
}

func (s *Server) describeTargetGroups(c *call) (any, error) {
	arns := strList(c.p, "TargetGroupArns")
	names := strList(c.p, "Names")
	lbARN, byLB := str(c.p, "LoadBalancerArn")
	if n := btoi(len(arns) > 0) + btoi(len(names) > 0) + btoi(byLB); n > 1 {
		return nil, validationf("Only one of target group ARNs, target group names or a load balancer ARN can be specified")
	}
	all, err := s.allTGs(c)
	if err != nil {
		return nil, err
	}
	sortByName(all, tgNameOf, tgARNOf)
	sel := all
	switch {
	case len(arns) > 0:
		sel, err = pickByARN(all, arns, tgARNOf, "target group", newErr(codeTGNotFound, "One or more target groups not found"))
	case len(names) > 0:
		sel, err = pickByName(all, names, tgNameOf, func(missing string) error {
			return newErr(codeTGNotFound, "Target groups '[%s]' not found", missing)
		})
	case byLB:
		if _, err := s.loadLB(c, lbARN); err != nil {
			return nil, err
		}
		sel = nil
		for _, tg := range all {
			if slices.Contains(tg.LoadBalancerArns, lbARN) {
				sel = append(sel, tg)
			}
		}
	}
	if err != nil {
		return nil, err
	}
	items, next, err := pageOf(c.p, sel, toXTG)
	if err != nil {
		return nil, err
	}
	return tgList{TargetGroups: items, NextMarker: next}, nil
}

func tgNameOf(v *apimodel.TargetGroup) string { return v.TargetGroupName }

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// deleteTargetGroup deletes a target group no action references. Deleting one that does
// not exist succeeds, as on AWS.
func (s *Server) deleteTargetGroup(c *call) (any, error) {
	arn, err := s.writableARN(c, "TargetGroupArn", "targetGroupArn", "Target group")
	if err != nil {
		return nil, err
	}
	a, ok := s.parseARN(c, arn, "targetgroup")
	if !ok {
		return nil, badARN(arn, "target group")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	refs, err := s.references(c)
	if err != nil {
		return nil, err
	}
	if len(refs[arn]) > 0 {
		return nil, newErr(codeResourceInUse, "Target group '%s' is currently in use by a listener or a rule", arn)
	}
	err = s.store.Delete(c.ctx, apimodel.BucketELB, apimodel.TargetGroupKey(c.caller.Account, a.ID), 0)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return nil, nil
}

// targets reads Targets.member.N (Id, Port, AvailabilityZone).
func targets(c *call) ([]apimodel.TargetDescription, error) {
	members := structList(c.p, "Targets")
	var v validationErrors
	out := make([]apimodel.TargetDescription, 0, len(members))
	for i, m := range members {
		var t apimodel.TargetDescription
		var ok bool
		if t.ID, ok = str(c.p, m+".Id"); !ok {
			v.null("targets." + strconv.Itoa(i+1) + ".member.id")
		}
		port, has, err := v.rangeParam(c.p, m+".Port", "targets."+strconv.Itoa(i+1)+".member.port", 1, 65535)
		if err != nil {
			return nil, err
		}
		if has {
			t.Port = port
		}
		t.AvailabilityZone, _ = str(c.p, m+".AvailabilityZone")
		out = append(out, t)
	}
	return out, v.err()
}

// privateRanges are the addresses an ip target outside its VPC may use (with
// AvailabilityZone "all"): RFC 1918, RFC 6598 and loopback (gatehouse's test VPCs).
var privateRanges = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("fc00::/7"),
}

// checkTarget validates one target of tg, filling in its port and zone. Instance
// targets are only checked for their form here; checkInstanceTargets checks that they
// exist and run.
func (s *Server) checkTarget(tg *apimodel.TargetGroup, t *apimodel.TargetDescription) error {
	if t.Port == 0 {
		t.Port = tg.Port
	}
	switch tg.TargetType {
	case apimodel.TargetTypeInstance:
		if !instanceIDRe.MatchString(t.ID) {
			return validationf("Instance ID '%s' is not valid", t.ID)
		}
		return nil
	}
	addr, err := netip.ParseAddr(t.ID)
	if err != nil || addr.Zone() != "" {
		return newErr(codeInvalidTarget, "The IP address '%s' is not a valid IP address", t.ID)
	}
	if (tg.IPAddressType == "ipv6") != addr.Is6() {
		return newErr(codeInvalidTarget, "The IP address '%s' is not of the target group's IP address type '%s'", t.ID, tg.IPAddressType)
	}
	vpc, _ := s.topo.VPC(tg.VpcID)
	if t.AvailabilityZone == "all" {
		if slices.ContainsFunc(privateRanges, func(p netip.Prefix) bool { return p.Contains(addr) }) {
			return nil
		}
		return newErr(codeInvalidTarget, "The IP address '%s' is not a private IP address", t.ID)
	}
	if vpc == nil || !vpc.CIDR.Contains(addr) {
		return newErr(codeInvalidTarget, "The IP address '%s' is not within the CIDR of VPC '%s'; register it with AvailabilityZone 'all'", t.ID, tg.VpcID)
	}
	sn, inSubnet := vpc.Subnet(addr)
	if t.AvailabilityZone == "" {
		if inSubnet {
			t.AvailabilityZone = sn.AvailabilityZone
		}
		return nil
	}
	if !slices.ContainsFunc(vpc.Subnets, func(s2 config.Subnet) bool { return s2.AvailabilityZone == t.AvailabilityZone }) {
		return newErr(codeInvalidTarget, "The Availability Zone '%s' is not valid for target '%s'", t.AvailabilityZone, t.ID)
	}
	return nil
}

// changeTargets is the shared path of RegisterTargets and DeregisterTargets: it checks
// the request, loads the target group under s.mu, lets change edit the group's targets
// and saves the group.
func (s *Server) changeTargets(c *call, change func(arn string, tg *apimodel.TargetGroup, ts []apimodel.TargetDescription) error) (any, error) {
	arn, ok := str(c.p, "TargetGroupArn")
	var v validationErrors
	if !ok {
		v.null("targetGroupArn")
	}
	if !has(c.p, "Targets") {
		v.null("targets")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	ts, err := targets(c)
	if err != nil {
		return nil, err
	}
	if err := s.readOnly(c, "Target group", arn); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tg, err := s.loadTG(c, arn)
	if err != nil {
		return nil, err
	}
	if err := change(arn, tg, ts); err != nil {
		return nil, err
	}
	return nil, s.saveTG(c, tg)
}

func (s *Server) registerTargets(c *call) (any, error) {
	return s.changeTargets(c, func(_ string, tg *apimodel.TargetGroup, ts []apimodel.TargetDescription) error {
		for i := range ts {
			if err := s.checkTarget(tg, &ts[i]); err != nil {
				return err
			}
		}
		if tg.TargetType == apimodel.TargetTypeInstance {
			if err := s.checkInstanceTargets(tg, ts); err != nil {
				return err
			}
		}
		for _, t := range ts {
			if slices.ContainsFunc(tg.Targets, func(r apimodel.TargetRegistration) bool { return r.ID == t.ID && r.Port == t.Port }) {
				continue
			}
			tg.Targets = append(tg.Targets, apimodel.TargetRegistration{TargetDescription: t, RegisteredAt: apimodel.Epoch(c.now)})
		}
		if len(tg.Targets) > maxTargetsPerGroup {
			return newErr(codeTooManyTargets, "You have reached the maximum number of targets per target group (%d)", maxTargetsPerGroup)
		}
		return nil
	})
}

func (s *Server) saveTG(c *call, tg *apimodel.TargetGroup) error {
	a, err := apimodel.ParseELBARN(tg.TargetGroupArn)
	if err != nil {
		return err
	}
	return s.save(c.ctx, apimodel.TargetGroupKey(c.caller.Account, a.ID), tg)
}

func (s *Server) deregisterTargets(c *call) (any, error) {
	return s.changeTargets(c, func(arn string, tg *apimodel.TargetGroup, ts []apimodel.TargetDescription) error {
		for _, t := range ts {
			port := t.Port
			if port == 0 {
				port = tg.Port
			}
			i := slices.IndexFunc(tg.Targets, func(r apimodel.TargetRegistration) bool { return r.ID == t.ID && r.Port == port })
			if i < 0 {
				return newErr(codeInvalidTarget, "The following targets are not registered in target group '%s': '%s'", arn, t.ID)
			}
			tg.Targets = slices.Delete(tg.Targets, i, i+1)
		}
		return nil
	})
}

// xTargetHealthDescription is ELBv2's TargetHealthDescription on the wire.
type xTargetHealthDescription struct {
	Target          xTarget
	HealthCheckPort string `xml:",omitempty"`
	TargetHealth    xTargetHealth
}

type xTarget struct {
	ID               string `xml:"Id"`
	Port             int    `xml:",omitempty"`
	AvailabilityZone string `xml:",omitempty"`
}

type xTargetHealth struct {
	State       string
	Reason      string `xml:",omitempty"`
	Description string `xml:",omitempty"`
}

type targetHealthList struct {
	TargetHealthDescriptions []xTargetHealthDescription `xml:"TargetHealthDescriptions>member"`
}

// Target health states AWS reports without a runtime observation.
var (
	healthNotInUse = apimodel.TargetHealth{State: apimodel.TargetHealthUnused, Reason: "Target.NotInUse",
		Description: "Target group is not configured to receive traffic from the load balancer"}
	healthNotRegistered = apimodel.TargetHealth{State: apimodel.TargetHealthUnused, Reason: "Target.NotRegistered",
		Description: "Target is not registered to the target group"}
	healthInitial = apimodel.TargetHealth{State: apimodel.TargetHealthInitial, Reason: "Elb.RegistrationInProgress",
		Description: "Target registration is in progress"}
	healthDisabled = apimodel.TargetHealth{State: apimodel.TargetHealthUnavailable, Reason: "Target.HealthCheckDisabled",
		Description: "Health checks disabled"}
)

func (s *Server) describeTargetHealth(c *call) (any, error) {
	arn, ok := str(c.p, "TargetGroupArn")
	if !ok {
		var v validationErrors
		v.null("targetGroupArn")
		return nil, v.err()
	}
	want, err := targets(c)
	if err != nil {
		return nil, err
	}
	tg, err := s.loadTG(c, arn)
	if err != nil {
		return nil, err
	}
	var live []apimodel.TargetHealthDescription
	if s.health != nil {
		live = s.health.TargetHealth(arn)
	}
	instances := tg.TargetType == apimodel.TargetTypeInstance
	find := func(id string, port int) (apimodel.TargetHealthDescription, bool) {
		i := slices.IndexFunc(live, func(d apimodel.TargetHealthDescription) bool {
			return d.Target.ID == id && (d.Target.Port == port || d.Target.Port == 0)
		})
		if i < 0 {
			return apimodel.TargetHealthDescription{}, false
		}
		return live[i], true
	}
	// liveFor finds the runtime's view of a target; an instance target may be reported
	// by its private IP.
	liveFor := func(id string, port int) (apimodel.TargetHealthDescription, bool) {
		d, ok := find(id, port)
		if !ok && instances {
			if _, ip, decided := s.instanceHealth(tg, id); !decided {
				d, ok = find(ip, port)
			}
		}
		d.Target.ID = id
		return d, ok
	}
	hcPort := func(port int) string {
		if tg.HealthCheckPort == apimodel.HealthCheckPortTraffic || tg.HealthCheckPort == "" {
			return strconv.Itoa(port)
		}
		return tg.HealthCheckPort
	}
	describe := func(t apimodel.TargetDescription, registered bool) xTargetHealthDescription {
		var h apimodel.TargetHealth
		var stateDecides bool
		if registered && instances {
			// A stopped or vanished instance reports its state, whatever the runtime
			// still drains.
			h, _, stateDecides = s.instanceHealth(tg, t.ID)
		}
		if !stateDecides {
			h = healthInitial
			if d, ok := liveFor(t.ID, t.Port); ok {
				h = d.TargetHealth
			} else {
				switch {
				case !registered:
					h = healthNotRegistered
				case len(tg.LoadBalancerArns) == 0:
					h = healthNotInUse
				case tg.HealthCheckEnabled != nil && !*tg.HealthCheckEnabled:
					h = healthDisabled
				}
			}
		}
		return xTargetHealthDescription{
			Target:          xTarget{ID: t.ID, Port: t.Port, AvailabilityZone: t.AvailabilityZone},
			HealthCheckPort: hcPort(t.Port),
			TargetHealth:    xTargetHealth{State: h.State, Reason: h.Reason, Description: h.Description},
		}
	}
	out := targetHealthList{TargetHealthDescriptions: []xTargetHealthDescription{}}
	if len(want) > 0 {
		for _, t := range want {
			if t.Port == 0 {
				t.Port = tg.Port
			}
			i := slices.IndexFunc(tg.Targets, func(r apimodel.TargetRegistration) bool { return r.ID == t.ID && r.Port == t.Port })
			if i >= 0 {
				out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, describe(tg.Targets[i].TargetDescription, true))
				continue
			}
			if d, ok := liveFor(t.ID, t.Port); ok && d.TargetHealth.State == apimodel.TargetHealthDraining {
				out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, describe(d.Target, false))
				continue
			}
			out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, describe(t, false))
		}
		return out, nil
	}
	for _, r := range tg.Targets {
		out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, describe(r.TargetDescription, true))
	}
	// Targets the runtime still drains after deregistration.
	for _, d := range live {
		if d.TargetHealth.State != apimodel.TargetHealthDraining {
			continue
		}
		if instances {
			// The runtime reports instance targets by private IP. One whose instance is
			// gone is left out: its registration reports it as terminated.
			id, ok := s.instanceAt(tg, d.Target.ID)
			if !ok {
				continue
			}
			d.Target.ID = id
		}
		if slices.ContainsFunc(tg.Targets, func(r apimodel.TargetRegistration) bool { return r.ID == d.Target.ID && r.Port == d.Target.Port }) {
			continue
		}
		out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, describe(d.Target, false))
	}
	return out, nil
}

// references maps each target group ARN of the caller to the load balancers whose
// listeners or rules (declared or stored) forward to it.
func (s *Server) references(c *call) (map[string][]string, error) {
	listeners, err := s.allListeners(c)
	if err != nil {
		return nil, err
	}
	rules, err := s.allRules(c)
	if err != nil {
		return nil, err
	}
	lbOf := map[string]string{}
	out := map[string][]string{}
	add := func(actions []apimodel.Action, lb string) {
		for i := range actions {
			for _, t := range actions[i].ForwardTargetGroups() {
				if !slices.Contains(out[t.TargetGroupArn], lb) {
					out[t.TargetGroupArn] = append(out[t.TargetGroupArn], lb)
				}
			}
		}
	}
	for _, l := range listeners {
		lbOf[l.ListenerArn] = l.LoadBalancerArn
		add(l.DefaultActions, l.LoadBalancerArn)
	}
	for _, r := range rules {
		if lb, ok := lbOf[r.ListenerArn]; ok {
			add(r.Actions, lb)
		}
	}
	for k := range out {
		sort.Strings(out[k])
	}
	return out, nil
}

// syncAssociations recomputes every target group's LoadBalancerArns from the listeners
// and rules that forward to it, writing the groups that changed.
func (s *Server) syncAssociations(c *call) error {
	refs, err := s.references(c)
	if err != nil {
		return err
	}
	tgs, err := listKind[apimodel.TargetGroup](c.ctx, s, c.caller.Account, "tg")
	if err != nil {
		return err
	}
	for _, tg := range tgs {
		want := refs[tg.TargetGroupArn]
		if slices.Equal(want, tg.LoadBalancerArns) {
			continue
		}
		tg.LoadBalancerArns = want
		if err := s.saveTG(c, tg); err != nil {
			return err
		}
	}
	return nil
}
