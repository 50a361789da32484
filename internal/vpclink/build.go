package vpclink

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/config"
)

// Documents are the stored private-integration documents (package apimodel) the
// runtime is built from. Topology-declared load balancers and target groups are added
// by the Manager (TopologyDocuments).
type Documents struct {
	LoadBalancers []apimodel.LoadBalancer
	Listeners     []apimodel.Listener
	Rules         []apimodel.Rule
	TargetGroups  []apimodel.TargetGroup
	Namespaces    []apimodel.Namespace
	Services      []apimodel.Service
	Instances     []apimodel.Instance
	Links         []apimodel.VpcLinkRecord
	ClientCerts   []apimodel.ClientCertificateRecord
	AgentTokens   []apimodel.AgentToken
}

// snapshot is one immutable version of the runtime's configuration.
type snapshot struct {
	links              map[string]*apimodel.VpcLinkRecord // account/id
	lbs                map[string]*lbRT                   // by ARN
	listeners          map[string]*listenerRT             // by ARN
	tgs                map[string]*targetGroup            // by ARN
	services           map[string]*cmService              // by account/id
	clientCerts        map[string]*tls.Certificate        // by account/id
	tokens             map[string]apimodel.AgentToken     // stored, by hash
	topoTokens         map[string]Join                    // topology, by hash
	vpcHasStoredTokens map[string]bool
	subnetVPC          map[string]string
	// docs are the Documents of the last Update and instances the EC2 instances
	// instance targets resolved against (instances.go); SetInstances rebuilds from them.
	docs      Documents
	instances *instanceSet
}

type lbRT struct {
	arn, name, typ, vpc, account, dnsName string
	listeners                             []*listenerRT
}

type listenerRT struct {
	arn      string
	lb       *lbRT
	port     int
	protocol string
	def      action
	rules    []ruleRT // by priority
	cert     *tls.Certificate
	certErr  error
	rr       atomicCounter
	verified sync.Map // verifyKey → error (nil = ok)
}

// cmService is a Cloud Map service with its instances.
type cmService struct {
	arn, id, account, vpc string // vpc: the namespace's, "" for HTTP namespaces
	instances             []cmInstance
	rr                    atomicCounter
}

type cmInstance struct {
	id      string
	attrs   map[string]string
	addr    netip.AddrPort
	healthy bool
}

// TopologyDocuments converts the topology's target groups and load balancers to ELBv2
// documents, with the ARNs config.Topology computes.
func TopologyDocuments(t *config.Topology) Documents {
	var d Documents
	for i := range t.TargetGroups {
		tg := &t.TargetGroups[i]
		v, _ := t.VPC(tg.VPC)
		account := ""
		if v != nil {
			account = v.Account
		}
		enabled := tg.HealthCheck.Enabled
		doc := apimodel.TargetGroup{
			Account: account, TargetGroupArn: t.TargetGroupARN(tg), TargetGroupName: tg.Name,
			Protocol: tg.Protocol, Port: tg.Port, VpcID: tg.VPC, TargetType: tg.TargetType,
			HealthCheckEnabled: &enabled, HealthCheckProtocol: tg.HealthCheck.Protocol,
			HealthCheckPath: tg.HealthCheck.Path, HealthCheckPort: tg.HealthCheck.Port,
			HealthCheckIntervalSeconds: tg.HealthCheck.IntervalSeconds, HealthCheckTimeoutSeconds: tg.HealthCheck.TimeoutSeconds,
			HealthyThresholdCount: tg.HealthCheck.HealthyThreshold, UnhealthyThresholdCount: tg.HealthCheck.UnhealthyThreshold,
			Attributes: map[string]string{apimodel.AttrDeregistrationDelay: strconv.Itoa(tg.DeregistrationDelaySeconds)},
		}
		if tg.HealthCheck.Matcher != "" {
			doc.Matcher = &apimodel.Matcher{HTTPCode: tg.HealthCheck.Matcher}
		}
		if tg.Algorithm != "" {
			doc.Attributes[apimodel.AttrLoadBalancingAlgorithm] = tg.Algorithm
		}
		for _, s := range tg.Targets {
			id := s.ID.String()
			if s.InstanceID != "" {
				id = s.InstanceID
			}
			doc.Targets = append(doc.Targets, apimodel.TargetRegistration{
				TargetDescription: apimodel.TargetDescription{ID: id, Port: s.Port}})
		}
		d.TargetGroups = append(d.TargetGroups, doc)
	}
	tgARN := func(account, name string) string {
		if tg, ok := t.TargetGroup(account, name); ok {
			return t.TargetGroupARN(tg)
		}
		return ""
	}
	for i := range t.LoadBalancers {
		lb := &t.LoadBalancers[i]
		v, _ := t.VPC(lb.VPC)
		account := ""
		var subnets []string
		if v != nil {
			account = v.Account
			for _, s := range v.Subnets {
				subnets = append(subnets, s.ID)
			}
		}
		if lb.Subnets != nil {
			subnets = lb.Subnets
		}
		id := t.LoadBalancerID(lb)
		doc := apimodel.LoadBalancer{
			Account: account, LoadBalancerArn: t.LoadBalancerARN(lb), LoadBalancerName: lb.Name,
			Scheme: apimodel.SchemeInternal, VpcID: lb.VPC, Type: lb.Type,
			State: apimodel.LoadBalancerState{Code: apimodel.LoadBalancerActive}, IPAddressType: "ipv4",
		}
		if lb.Type == apimodel.LoadBalancerApplication {
			doc.DNSName = "internal-" + lb.Name + "-" + id[:10] + "." + t.Region + ".elb.amazonaws.com"
		} else {
			doc.DNSName = lb.Name + "-" + id + ".elb." + t.Region + ".amazonaws.com"
		}
		for _, s := range subnets {
			doc.AvailabilityZones = append(doc.AvailabilityZones, apimodel.AvailabilityZone{SubnetID: s})
		}
		d.LoadBalancers = append(d.LoadBalancers, doc)
		for j := range lb.Listeners {
			l := &lb.Listeners[j]
			larn := t.ListenerARN(lb, l)
			ldoc := apimodel.Listener{
				Account: account, ListenerArn: larn, LoadBalancerArn: doc.LoadBalancerArn,
				Port: l.Port, Protocol: l.Protocol,
				DefaultActions: []apimodel.Action{{Type: apimodel.ActionForward, TargetGroupArn: tgARN(account, l.DefaultTargetGroup)}},
			}
			if l.Certificate != "" {
				ldoc.Certificates = []apimodel.Certificate{{CertificateArn: l.Certificate, IsDefault: true}}
			}
			d.Listeners = append(d.Listeners, ldoc)
			for k, r := range l.Rules {
				rdoc := apimodel.Rule{
					Account: account, ListenerArn: larn, RuleArn: t.ListenerRuleARN(lb, l, k),
					Priority: strconv.Itoa(r.Priority),
					Actions:  []apimodel.Action{{Type: apimodel.ActionForward, TargetGroupArn: tgARN(account, r.TargetGroup)}},
				}
				if len(r.PathPatterns) > 0 {
					rdoc.Conditions = append(rdoc.Conditions, apimodel.RuleCondition{Field: apimodel.ConditionPathPattern,
						PathPatternConfig: &apimodel.PathPatternConditionConfig{Values: r.PathPatterns}})
				}
				if len(r.HostHeaders) > 0 {
					rdoc.Conditions = append(rdoc.Conditions, apimodel.RuleCondition{Field: apimodel.ConditionHostHeader,
						HostHeaderConfig: &apimodel.HostHeaderConditionConfig{Values: r.HostHeaders}})
				}
				d.Rules = append(d.Rules, rdoc)
			}
		}
	}
	return d
}

// Update replaces the stored documents the runtime is built from. Target groups keep
// their targets' health across updates; targets no longer registered drain. Documents
// that cannot be used (unknown references, bad values) are left out and reported in
// the returned error; the rest takes effect. The Manager keeps docs (SetInstances
// rebuilds from them): do not modify them afterwards.
func (m *Manager) Update(docs Documents) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	inst := m.snap.Load().instances
	if inst == nil {
		// The first update: the topology's instances. Parse has validated them; a
		// hand-built topology's unusable ones are simply left out.
		inst, _ = newInstanceSet(m.topo, m.topo.Instances)
	}
	return m.updateLocked(docs, inst)
}

// updateLocked builds and publishes a snapshot from docs, the topology and inst. m.mu
// is held.
func (m *Manager) updateLocked(docs Documents, inst *instanceSet) error {
	var errs []error
	topo := TopologyDocuments(m.topo)
	s := &snapshot{
		links:              map[string]*apimodel.VpcLinkRecord{},
		lbs:                map[string]*lbRT{},
		listeners:          map[string]*listenerRT{},
		tgs:                map[string]*targetGroup{},
		services:           map[string]*cmService{},
		clientCerts:        map[string]*tls.Certificate{},
		tokens:             map[string]apimodel.AgentToken{},
		topoTokens:         map[string]Join{},
		vpcHasStoredTokens: map[string]bool{},
		subnetVPC:          map[string]string{},
		docs:               docs,
		instances:          inst,
	}
	for _, v := range m.topo.VPCs {
		for _, sn := range v.Subnets {
			s.subnetVPC[sn.ID] = v.ID
		}
		for _, tok := range v.AgentTokens {
			s.topoTokens[apimodel.AgentTokenHash(tok)] = Join{VpcID: v.ID, Account: v.Account}
		}
	}

	// Target groups: keep runtimes by ARN.
	for _, tg := range slices.Concat(topo.TargetGroups, docs.TargetGroups) {
		if _, dup := s.tgs[tg.TargetGroupArn]; dup {
			continue
		}
		g := m.tgs[tg.TargetGroupArn]
		if g == nil {
			g = newTargetGroup(m, tg.TargetGroupArn)
		}
		if tg.TargetType == apimodel.TargetTypeInstance {
			// Instance targets become the ip targets of their private IPs.
			tg = inst.resolve(tg)
		}
		if err := g.update(&tg); err != nil {
			errs = append(errs, err)
			if m.tgs[tg.TargetGroupArn] == nil {
				g.close()
				continue
			}
		}
		s.tgs[tg.TargetGroupArn] = g
	}
	for arn, g := range m.tgs {
		if s.tgs[arn] == nil {
			g.close()
		}
	}
	m.tgs = s.tgs
	tgByARN := func(arn string) *targetGroup { return s.tgs[arn] }

	for _, lb := range slices.Concat(topo.LoadBalancers, docs.LoadBalancers) {
		if _, dup := s.lbs[lb.LoadBalancerArn]; dup {
			continue
		}
		s.lbs[lb.LoadBalancerArn] = &lbRT{arn: lb.LoadBalancerArn, name: lb.LoadBalancerName, typ: lb.Type,
			vpc: lb.VpcID, account: lb.Account, dnsName: lb.DNSName}
	}
	rulesOf := map[string][]apimodel.Rule{}
	for _, r := range slices.Concat(topo.Rules, docs.Rules) {
		if r.IsDefault || r.Priority == apimodel.RulePriorityDefault {
			continue
		}
		rulesOf[r.ListenerArn] = append(rulesOf[r.ListenerArn], r)
	}
	for _, l := range slices.Concat(topo.Listeners, docs.Listeners) {
		if _, dup := s.listeners[l.ListenerArn]; dup {
			continue
		}
		lb := s.lbs[l.LoadBalancerArn]
		if lb == nil {
			errs = append(errs, fmt.Errorf("listener %s: unknown load balancer %s", l.ListenerArn, l.LoadBalancerArn))
			continue
		}
		rt, err := m.compileListener(&l, lb, rulesOf[l.ListenerArn], tgByARN)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.listeners[l.ListenerArn] = rt
		lb.listeners = append(lb.listeners, rt)
	}

	// Cloud Map.
	nsVPC := map[string]string{}
	for _, ns := range docs.Namespaces {
		nsVPC[ns.Account+"/"+ns.ID] = ns.VpcID
	}
	for _, sv := range docs.Services {
		s.services[sv.Account+"/"+sv.ID] = &cmService{arn: sv.Arn, id: sv.ID, account: sv.Account, vpc: nsVPC[sv.Account+"/"+sv.NamespaceID]}
	}
	for _, in := range docs.Instances {
		sv := s.services[in.Account+"/"+in.ServiceID]
		if sv == nil {
			continue
		}
		ip, err := netip.ParseAddr(in.Attributes[apimodel.AttrInstanceIPv4])
		if err != nil {
			ip, err = netip.ParseAddr(in.Attributes[apimodel.AttrInstanceIPv6])
		}
		port, perr := strconv.Atoi(in.Attributes[apimodel.AttrInstancePort])
		if err != nil || perr != nil || port < 1 || port > 65535 {
			// An instance without an address and port cannot take traffic (API Gateway
			// requires both).
			continue
		}
		sv.instances = append(sv.instances, cmInstance{id: in.ID, attrs: in.Attributes,
			addr: netip.AddrPortFrom(ip.Unmap(), uint16(port)), healthy: in.HealthStatus != apimodel.HealthUnhealthy})
	}
	live := map[netip.AddrPort]bool{}
	for _, sv := range s.services {
		slices.SortFunc(sv.instances, func(a, b cmInstance) int { return strings.Compare(a.id, b.id) })
		for _, in := range sv.instances {
			live[in.addr] = true
		}
	}
	var dead []*target
	m.cmMu.Lock()
	for k, t := range m.cmTargets {
		if !live[t.addr] {
			delete(m.cmTargets, k)
			dead = append(dead, t)
		}
	}
	m.cmMu.Unlock()
	for _, t := range dead {
		t.finish()
	}

	for i := range docs.Links {
		r := &docs.Links[i]
		if id := r.LinkID(); id != "" {
			s.links[r.Account+"/"+id] = r
		}
	}
	for _, c := range docs.ClientCerts {
		cert, err := tls.X509KeyPair([]byte(c.ClientCertificate.PemEncodedCertificate), []byte(c.PrivateKeyPEM))
		if err != nil {
			errs = append(errs, fmt.Errorf("client certificate %s: %w", c.ClientCertificate.ClientCertificateID, err))
			continue
		}
		s.clientCerts[c.Account+"/"+c.ClientCertificate.ClientCertificateID] = &cert
	}
	for _, tok := range docs.AgentTokens {
		h := tok.TokenSHA256
		if h == "" {
			continue
		}
		s.tokens[h] = tok
		if !tok.Revoked {
			s.vpcHasStoredTokens[tok.VpcID] = true
		}
	}
	m.snap.Store(s)
	m.tun.revalidate(func(hash, vpc string) bool {
		j, err := m.verifyHash(hash)
		return err == nil && j.VpcID == vpc
	})
	return errors.Join(errs...)
}

// compileListener builds a listener's runtime: default action, rules, certificate.
func (m *Manager) compileListener(l *apimodel.Listener, lb *lbRT, rules []apimodel.Rule, tgs func(string) *targetGroup) (*listenerRT, error) {
	rt := &listenerRT{arn: l.ListenerArn, lb: lb, port: l.Port, protocol: l.Protocol}
	switch {
	case lb.typ == apimodel.LoadBalancerNetwork && (l.Protocol == apimodel.ProtocolTCP || l.Protocol == apimodel.ProtocolTLS):
	case lb.typ == apimodel.LoadBalancerApplication && (l.Protocol == apimodel.ProtocolHTTP || l.Protocol == apimodel.ProtocolHTTPS):
	default:
		return nil, fmt.Errorf("listener %s: protocol %s on a %s load balancer is not supported", l.ListenerArn, l.Protocol, lb.typ)
	}
	var err error
	if rt.def, err = compileActions(l.DefaultActions, tgs); err != nil {
		return nil, fmt.Errorf("listener %s: %w", l.ListenerArn, err)
	}
	if lb.typ == apimodel.LoadBalancerNetwork && rt.def.fixed != nil {
		return nil, fmt.Errorf("listener %s: network load balancers only forward", l.ListenerArn)
	}
	for _, r := range rules {
		cr, err := compileRule(&r, tgs)
		if err != nil {
			return nil, err
		}
		rt.rules = append(rt.rules, cr)
	}
	slices.SortStableFunc(rt.rules, func(a, b ruleRT) int { return a.priority - b.priority })
	if l.Protocol == apimodel.ProtocolTLS || l.Protocol == apimodel.ProtocolHTTPS {
		rt.cert, rt.certErr = m.listenerCert(l, lb)
	}
	return rt, nil
}

// listenerCert returns a TLS or HTTPS listener's certificate: the one it names, or one
// issued for its load balancer's DNS name.
func (m *Manager) listenerCert(l *apimodel.Listener, lb *lbRT) (*tls.Certificate, error) {
	var cert *tls.Certificate
	var err error
	switch {
	case len(l.Certificates) > 0 && m.opts.ListenerCertificate != nil:
		cert, err = m.opts.ListenerCertificate(lb.account, l.Certificates[0].CertificateArn)
	case len(l.Certificates) > 0:
		err = fmt.Errorf("certificate %s: no certificate store", l.Certificates[0].CertificateArn)
	case m.opts.IssueCertificate != nil && lb.dnsName != "":
		key := l.ListenerArn + "|" + lb.dnsName
		if cert = m.issued[key]; cert == nil {
			cert, err = m.opts.IssueCertificate([]string{lb.dnsName})
			if err == nil {
				m.issued[key] = cert
			}
		}
	default:
		err = errors.New("the listener has no certificate")
	}
	if err != nil {
		return nil, fmt.Errorf("listener %s: %w", l.ListenerArn, err)
	}
	if cert.Leaf == nil && len(cert.Certificate) > 0 {
		leaf, perr := x509.ParseCertificate(cert.Certificate[0])
		if perr != nil {
			return nil, fmt.Errorf("listener %s: %w", l.ListenerArn, perr)
		}
		c := *cert
		c.Leaf = leaf
		cert = &c
	}
	return cert, nil
}

// cmTarget returns the shared target of a Cloud Map instance address in vpc.
func (m *Manager) cmTarget(vpc, group string, addr netip.AddrPort) *target {
	key := vpc + "|" + addr.String()
	m.cmMu.Lock()
	defer m.cmMu.Unlock()
	t := m.cmTargets[key]
	if t == nil {
		t = newTarget(m, group, vpc, addr, stateUnavailable)
		if !m.cmClosed {
			m.cmTargets[key] = t
		}
	}
	return t
}
