package vpclink

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"gatehouse/internal/apimodel"
)

type atomicCounter = atomic.Uint64

// Resolution errors. The data plane answers them with 500 (see HTTPStatus).
var (
	// ErrLinkNotFound: the account has no VPC link with the integration's connectionId.
	ErrLinkNotFound = errors.New("vpclink: VPC link not found")
	// ErrLinkPending: the link is still PENDING.
	ErrLinkPending = errors.New("vpclink: VPC link is PENDING")
	// ErrLinkUnavailable: the link is DELETING, FAILED or INACTIVE.
	ErrLinkUnavailable = errors.New("vpclink: VPC link is not available")
	// ErrTargetNotFound: the link's load balancer, listener or Cloud Map service does
	// not exist, belongs to another account or VPC, or has no listener on the port.
	ErrTargetNotFound = errors.New("vpclink: integration target not found")
	// ErrNoTargets: nothing to send the request to (no registered targets, or no
	// Cloud Map instance matches the filter).
	ErrNoTargets = errors.New("vpclink: no targets")
)

// Request names what an integration sends to through a VPC link.
type Request struct {
	// Account owns the API, the link and its targets.
	Account string
	// ConnectionID is the integration's connectionId with stage variables already
	// substituted (see ConnectionID).
	ConnectionID string
	// IntegrationTarget is, for a V2 link, a load balancer or listener ARN (REST
	// integrationTarget; HTTP API integrationUri), or a Cloud Map service ARN with an
	// optional ?key=value&... attribute filter (HTTP API integrationUri). Ignored for V1
	// links.
	IntegrationTarget string
	// URI is the REST integration's uri. It does not route, except that its port (80
	// for http, 443 for https by default) picks the listener when the target is a load
	// balancer.
	URI string
}

// Route is a resolved VPC-link integration target: a listener of a network or
// application load balancer, or a Cloud Map service with an attribute filter, in a VPC.
// Resolve a Route per request (it is cheap); it belongs to one configuration snapshot.
type Route struct {
	m       *Manager
	snap    *snapshot
	account string
	// LinkID and VpcID name the link and the VPC the targets are in.
	LinkID, VpcID string
	listener      *listenerRT
	service       *cmService
	filter        [][2]string
}

// ListenerArn is the route's listener, "" for Cloud Map routes.
func (r *Route) ListenerArn() string {
	if r.listener == nil {
		return ""
	}
	return r.listener.arn
}

// LoadBalancerDNSName is the route's load balancer's DNS name, "" for Cloud Map routes.
func (r *Route) LoadBalancerDNSName() string {
	if r.listener == nil {
		return ""
	}
	return r.listener.lb.dnsName
}

// Resolve resolves an integration's VPC link and target.
func (m *Manager) Resolve(req Request) (*Route, error) {
	s := m.snap.Load()
	rec := s.links[req.Account+"/"+req.ConnectionID]
	if rec == nil {
		return nil, fmt.Errorf("%w: %s", ErrLinkNotFound, req.ConnectionID)
	}
	switch st := rec.Status(); st {
	case apimodel.VpcLinkAvailable:
	case apimodel.VpcLinkPending:
		return nil, fmt.Errorf("%w: %s", ErrLinkPending, req.ConnectionID)
	default:
		return nil, fmt.Errorf("%w: %s is %s", ErrLinkUnavailable, req.ConnectionID, st)
	}
	r := &Route{m: m, snap: s, account: req.Account, LinkID: req.ConnectionID}
	if rec.V1 != nil {
		port, err := uriPort(req.URI)
		if err != nil {
			return nil, err
		}
		for _, arn := range rec.V1.TargetArns {
			lb := s.lbs[arn]
			if lb == nil || lb.account != req.Account || lb.typ != apimodel.LoadBalancerNetwork {
				continue
			}
			if l := lb.listenerOn(port); l != nil {
				r.listener, r.VpcID = l, lb.vpc
				return r, nil
			}
		}
		return nil, fmt.Errorf("%w: no network load balancer of link %s listens on port %d", ErrTargetNotFound, req.ConnectionID, port)
	}
	if rec.V2 == nil {
		return nil, fmt.Errorf("%w: %s has no definition", ErrLinkUnavailable, req.ConnectionID)
	}
	linkVPC, err := s.linkVPC(rec.V2)
	if err != nil {
		return nil, err
	}
	target := req.IntegrationTarget
	if target == "" {
		return nil, fmt.Errorf("%w: a V2 VPC link needs an integration target (load balancer, listener or Cloud Map service ARN)", ErrTargetNotFound)
	}
	if strings.HasPrefix(target, "arn:") && strings.Contains(target, ":servicediscovery:") {
		return r.resolveCloudMap(target, linkVPC)
	}
	a, err := apimodel.ParseELBARN(target)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrTargetNotFound, err)
	}
	if a.Account != req.Account {
		return nil, fmt.Errorf("%w: %s belongs to another account", ErrTargetNotFound, target)
	}
	switch a.Kind {
	case "listener":
		r.listener = s.listeners[target]
	case "loadbalancer":
		lb := s.lbs[target]
		if lb != nil {
			port, err := uriPort(req.URI)
			if err != nil {
				return nil, err
			}
			r.listener = lb.listenerOn(port)
			if r.listener == nil {
				return nil, fmt.Errorf("%w: %s has no listener on port %d", ErrTargetNotFound, target, port)
			}
		}
	default:
		return nil, fmt.Errorf("%w: %s is not a load balancer or listener", ErrTargetNotFound, target)
	}
	if r.listener == nil {
		return nil, fmt.Errorf("%w: %s", ErrTargetNotFound, target)
	}
	r.VpcID = r.listener.lb.vpc
	if linkVPC != "" && linkVPC != r.VpcID {
		return nil, fmt.Errorf("%w: %s is in %s, the VPC link's subnets are in %s", ErrTargetNotFound, target, r.VpcID, linkVPC)
	}
	return r, nil
}

func (r *Route) resolveCloudMap(target, linkVPC string) (*Route, error) {
	arn, query, _ := strings.Cut(target, "?")
	a, err := apimodel.ParseCloudMapARN(arn)
	if err != nil || a.Kind != "service" {
		return nil, fmt.Errorf("%w: %s is not a Cloud Map service ARN", ErrTargetNotFound, arn)
	}
	if a.Account != r.account {
		return nil, fmt.Errorf("%w: %s belongs to another account", ErrTargetNotFound, arn)
	}
	sv := r.snap.services[r.account+"/"+a.ID]
	if sv == nil {
		return nil, fmt.Errorf("%w: %s", ErrTargetNotFound, arn)
	}
	filter, err := parseFilter(query)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrTargetNotFound, target, err)
	}
	vpc := sv.vpc
	switch {
	case vpc == "":
		vpc = linkVPC
	case linkVPC != "" && linkVPC != vpc:
		return nil, fmt.Errorf("%w: %s is in %s, the VPC link's subnets are in %s", ErrTargetNotFound, arn, vpc, linkVPC)
	}
	if vpc == "" {
		return nil, fmt.Errorf("%w: cannot tell which VPC %s's instances are in", ErrTargetNotFound, arn)
	}
	r.service, r.filter, r.VpcID = sv, filter, vpc
	return r, nil
}

// parseFilter parses a Cloud Map integration URI's query: DiscoverInstances
// QueryParameters, every one of which must match.
func parseFilter(query string) ([][2]string, error) {
	if query == "" {
		return nil, nil
	}
	vals, err := url.ParseQuery(query)
	if err != nil {
		return nil, err
	}
	var out [][2]string
	for k, vs := range vals {
		for _, v := range vs {
			out = append(out, [2]string{k, v})
		}
	}
	slices.SortFunc(out, func(a, b [2]string) int { return strings.Compare(a[0]+"\x00"+a[1], b[0]+"\x00"+b[1]) })
	return out, nil
}

// linkVPC is the VPC of a V2 link's subnets, "" when the topology does not know them.
func (s *snapshot) linkVPC(l *apimodel.VpcLinkV2) (string, error) {
	vpc := ""
	for _, sn := range l.SubnetIDs {
		v := s.subnetVPC[sn]
		if v == "" {
			continue
		}
		if vpc != "" && v != vpc {
			return "", fmt.Errorf("%w: VPC link %s has subnets in %s and %s", ErrLinkUnavailable, l.VpcLinkID, vpc, v)
		}
		vpc = v
	}
	return vpc, nil
}

func (lb *lbRT) listenerOn(port int) *listenerRT {
	for _, l := range lb.listeners {
		if l.port == port {
			return l
		}
	}
	return nil
}

// uriPort is the port of a REST integration uri: explicit, else 80 or 443 by scheme.
func uriPort(uri string) (int, error) {
	if uri == "" {
		return 80, nil
	}
	u, err := url.Parse(uri)
	if err != nil {
		return 0, fmt.Errorf("%w: integration uri %q: %v", ErrTargetNotFound, uri, err)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return 0, fmt.Errorf("%w: integration uri %q: bad port", ErrTargetNotFound, uri)
		}
		return n, nil
	}
	if strings.EqualFold(u.Scheme, "https") {
		return 443, nil
	}
	return 80, nil
}

// candidates returns the Cloud Map instances matching the filter as targets: the
// healthy ones, or all matching when none is healthy.
func (r *Route) candidates() []*target {
	var healthy, all []*target
	for _, in := range r.service.instances {
		if !matchesFilter(in.attrs, r.filter) {
			continue
		}
		t := r.m.cmTarget(r.VpcID, r.service.arn, in.addr)
		all = append(all, t)
		if in.healthy {
			healthy = append(healthy, t)
		}
	}
	if len(healthy) > 0 {
		return healthy
	}
	return all
}

func matchesFilter(attrs map[string]string, filter [][2]string) bool {
	for _, kv := range filter {
		if v, ok := attrs[kv[0]]; !ok || v != kv[1] {
			return false
		}
	}
	return true
}

// Instances returns the ids of the Cloud Map instances a request through r may reach
// (those matching the filter; healthy ones first), for tests and diagnostics.
func (r *Route) Instances() []string {
	if r.service == nil {
		return nil
	}
	var out []string
	for _, in := range r.service.instances {
		if matchesFilter(in.attrs, r.filter) {
			out = append(out, in.id)
		}
	}
	return out
}

// ConnectionID substitutes stage variables in an integration's connectionId
// ("${stageVariables.vpcLinkId}", also embedded in other text). An undefined variable is
// an error.
func ConnectionID(raw string, stageVariables map[string]string) (string, error) {
	const open = "${stageVariables."
	var b strings.Builder
	rest := raw
	for {
		i := strings.Index(rest, open)
		if i < 0 {
			b.WriteString(rest)
			break
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return "", fmt.Errorf("vpclink: connectionId %q: unterminated ${", raw)
		}
		name := rest[i+len(open) : i+j]
		v, ok := stageVariables[name]
		if !ok || v == "" {
			return "", fmt.Errorf("vpclink: connectionId %q: stage variable %q is not defined", raw, name)
		}
		b.WriteString(rest[:i])
		b.WriteString(v)
		rest = rest[i+j+1:]
	}
	return b.String(), nil
}

// HTTPStatus is the status the data plane answers an integration error from this
// package with: 504 for timeouts (the context's deadline, a connect timeout), 500 for
// configuration problems (link or target not found, link not available, TLS
// verification of the listener), 502 for everything else (no agent, connection refused
// or reset, no targets).
func HTTPStatus(err error) int {
	var ne net.Error
	switch {
	case err == nil:
		return http.StatusOK
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return http.StatusGatewayTimeout
	case errors.Is(err, ErrLinkNotFound), errors.Is(err, ErrLinkPending), errors.Is(err, ErrLinkUnavailable),
		errors.Is(err, ErrTargetNotFound):
		return http.StatusInternalServerError
	}
	return http.StatusBadGateway
}

// LinkStatus is the status a VPC link should have now: AVAILABLE when its targets
// exist (the V1 link's network load balancers in the account; the V2 link's subnets in
// one known VPC) and their VPC is reachable (routable, or it has agent tokens), FAILED
// with a message otherwise. The control plane moves PENDING links with it.
func (m *Manager) LinkStatus(rec *apimodel.VpcLinkRecord) (status, message string) {
	s := m.snap.Load()
	var vpcs []string
	switch {
	case rec.V1 != nil:
		if len(rec.V1.TargetArns) == 0 {
			return apimodel.VpcLinkFailed, "The VPC link has no target."
		}
		for _, arn := range rec.V1.TargetArns {
			lb := s.lbs[arn]
			if lb == nil && rec.V1.Status == apimodel.VpcLinkPending {
				// The control plane checked the NLB exists when the link was created; the
				// runtime's snapshot may not have caught up yet: stay PENDING.
				return apimodel.VpcLinkPending, ""
			}
			if lb == nil || lb.account != rec.Account {
				return apimodel.VpcLinkFailed, fmt.Sprintf("NLB ARN is malformed or the load balancer does not exist: %s", arn)
			}
			if lb.typ != apimodel.LoadBalancerNetwork {
				return apimodel.VpcLinkFailed, fmt.Sprintf("%s is not a network load balancer", arn)
			}
			vpcs = append(vpcs, lb.vpc)
		}
	case rec.V2 != nil:
		if len(rec.V2.SubnetIDs) == 0 {
			return apimodel.VpcLinkFailed, "The VPC link has no subnets."
		}
		for _, sn := range rec.V2.SubnetIDs {
			if s.subnetVPC[sn] == "" {
				return apimodel.VpcLinkFailed, fmt.Sprintf("Subnet %s does not exist.", sn)
			}
		}
		v, err := s.linkVPC(rec.V2)
		if err != nil {
			return apimodel.VpcLinkFailed, "The VPC link's subnets are in different VPCs."
		}
		vpcs = append(vpcs, v)
	default:
		return apimodel.VpcLinkFailed, "The VPC link has no definition."
	}
	for _, id := range vpcs {
		v, ok := m.topo.VPC(id)
		if !ok {
			return apimodel.VpcLinkFailed, fmt.Sprintf("VPC %s does not exist.", id)
		}
		if v.Account != rec.Account {
			return apimodel.VpcLinkFailed, fmt.Sprintf("VPC %s belongs to another account.", id)
		}
		if !m.routable(v, s) && len(v.AgentTokens) == 0 && !s.vpcHasStoredTokens[v.ID] {
			return apimodel.VpcLinkFailed, fmt.Sprintf("VPC %s is not routable from gatehouse and has no link agent token.", id)
		}
	}
	return apimodel.VpcLinkAvailable, ""
}
