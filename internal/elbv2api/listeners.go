package elbv2api

import (
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/store"
)

const (
	maxListenersPerLB     = 50
	maxTGsPerForward      = 5
	defaultSSLPolicy      = "ELBSecurityPolicy-2016-08"
	actionTypeEnum        = "forward, authenticate-oidc, authenticate-cognito, redirect, fixed-response, jwt-validation"
	protocolEnum          = "HTTP, HTTPS, TCP, TLS, UDP, TCP_UDP, GENEVE, QUIC, TCP_QUIC"
	fixedResponseTypeEnum = "text/plain, text/css, text/html, application/javascript, application/json"
)

var (
	certARNRe    = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:(acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+|iam::\d{12}:server-certificate/.+)$`)
	sslPolicyRe  = regexp.MustCompile(`^ELBSecurityPolicy-[A-Za-z0-9-]+$`)
	statusCodeRe = regexp.MustCompile(`^[245]\d\d$`)
	alpnPolicies = []string{"HTTP1Only", "HTTP2Only", "HTTP2Optional", "HTTP2Preferred", "None"}
)

// Wire shapes.

type xListener struct {
	ListenerArn     string
	LoadBalancerArn string
	Port            int
	Protocol        string
	Certificates    []xCertificate `xml:"Certificates>member"`
	SslPolicy       string         `xml:",omitempty"`
	DefaultActions  []xAction      `xml:"DefaultActions>member"`
	AlpnPolicy      []string       `xml:"AlpnPolicy>member"`
}

type xCertificate struct {
	CertificateArn string
	IsDefault      bool `xml:",omitempty"`
}

type xAction struct {
	Type                string
	TargetGroupArn      string          `xml:",omitempty"`
	Order               int             `xml:",omitempty"`
	ForwardConfig       *xForwardConfig `xml:",omitempty"`
	FixedResponseConfig *xFixedResponse `xml:",omitempty"`
}

type xForwardConfig struct {
	TargetGroups                []xTargetGroupTuple `xml:"TargetGroups>member"`
	TargetGroupStickinessConfig xStickiness
}

type xTargetGroupTuple struct {
	TargetGroupArn string
	Weight         int
}

type xStickiness struct {
	Enabled bool
}

type xFixedResponse struct {
	StatusCode  string
	ContentType string `xml:",omitempty"`
	MessageBody string `xml:",omitempty"`
}

func toXActions(actions []apimodel.Action) []xAction {
	out := make([]xAction, 0, len(actions))
	for _, a := range actions {
		x := xAction{Type: a.Type, Order: a.Order}
		switch a.Type {
		case apimodel.ActionForward:
			tgs := a.ForwardTargetGroups()
			fc := &xForwardConfig{}
			for _, t := range tgs {
				w := 1
				if t.Weight != nil {
					w = *t.Weight
				}
				fc.TargetGroups = append(fc.TargetGroups, xTargetGroupTuple{TargetGroupArn: t.TargetGroupArn, Weight: w})
			}
			x.ForwardConfig = fc
			if len(tgs) == 1 {
				x.TargetGroupArn = tgs[0].TargetGroupArn
			}
		case apimodel.ActionFixedResponse:
			if f := a.FixedResponseConfig; f != nil {
				x.FixedResponseConfig = &xFixedResponse{StatusCode: f.StatusCode, ContentType: f.ContentType, MessageBody: f.MessageBody}
			}
		}
		out = append(out, x)
	}
	return out
}

func toXListener(l *apimodel.Listener) xListener {
	x := xListener{ListenerArn: l.ListenerArn, LoadBalancerArn: l.LoadBalancerArn, Port: l.Port, Protocol: l.Protocol,
		SslPolicy: l.SslPolicy, DefaultActions: toXActions(l.DefaultActions), AlpnPolicy: l.AlpnPolicy}
	for _, cert := range l.Certificates {
		x.Certificates = append(x.Certificates, xCertificate{CertificateArn: cert.CertificateArn})
	}
	return x
}

type listenerList struct {
	Listeners  []xListener `xml:"Listeners>member"`
	NextMarker string      `xml:",omitempty"`
}

// compatible reports whether a listener protocol can forward to a target group protocol.
func compatible(listener, tg string) bool {
	switch listener {
	case apimodel.ProtocolHTTP, apimodel.ProtocolHTTPS:
		return isHTTPish(tg)
	case apimodel.ProtocolTCP:
		return tg == apimodel.ProtocolTCP
	case apimodel.ProtocolTLS:
		return tg == apimodel.ProtocolTCP || tg == apimodel.ProtocolTLS
	}
	return false
}

// parseActions reads and validates a list of actions (DefaultActions or Actions) for a
// listener of protocol proto on lb. at is the list's name in validation messages.
func (s *Server) parseActions(c *call, name, at string, lb *apimodel.LoadBalancer, proto string) ([]apimodel.Action, error) {
	members := structList(c.p, name)
	var v validationErrors
	if len(members) == 0 {
		v.null(at)
		return nil, v.err()
	}
	var out []apimodel.Action
	for i, m := range members {
		ma := at + "." + strconv.Itoa(i+1) + ".member"
		var a apimodel.Action
		typ, ok := str(c.p, m+".Type")
		if !ok {
			v.null(ma + ".type")
			continue
		}
		if !slices.Contains(strings.Split(actionTypeEnum, ", "), typ) {
			v.enum(typ, ma+".type", actionTypeEnum)
			continue
		}
		a.Type = typ
		order, has, err := v.rangeParam(c.p, m+".Order", ma+".order", 1, 50000)
		if err != nil {
			return nil, err
		}
		if has {
			a.Order = order
		}
		switch typ {
		case apimodel.ActionForward:
			a.TargetGroupArn, _ = str(c.p, m+".TargetGroupArn")
			tuples := structList(c.p, m+".ForwardConfig.TargetGroups")
			if len(tuples) > 0 {
				fc := &apimodel.ForwardActionConfig{}
				for j, tm := range tuples {
					arn, _ := str(c.p, tm+".TargetGroupArn")
					t := apimodel.TargetGroupTuple{TargetGroupArn: arn}
					w, has, err := v.rangeParam(c.p, tm+".Weight", ma+".forwardConfig.targetGroups."+strconv.Itoa(j+1)+".member.weight", 0, 999)
					if err != nil {
						return nil, err
					}
					if has {
						t.Weight = &w
					}
					fc.TargetGroups = append(fc.TargetGroups, t)
				}
				a.ForwardConfig = fc
			}
		case apimodel.ActionFixedResponse:
			code, _ := str(c.p, m+".FixedResponseConfig.StatusCode")
			body, _ := str(c.p, m+".FixedResponseConfig.MessageBody")
			if !statusCodeRe.MatchString(code) {
				v.add("Value '%s' at '%s.fixedResponseConfig.statusCode' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(2|4|5)\\d\\d$", code, ma)
			}
			ct, _ := v.enumParam(c.p, m+".FixedResponseConfig.ContentType", ma+".fixedResponseConfig.contentType", fixedResponseTypeEnum)
			if len(body) > 1024 {
				v.add("Value at '%s.fixedResponseConfig.messageBody' failed to satisfy constraint: Member must have length less than or equal to 1024", ma)
			}
			a.FixedResponseConfig = &apimodel.FixedResponseActionConfig{StatusCode: code, ContentType: ct, MessageBody: body}
		}
		out = append(out, a)
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if len(out) > 1 {
		return nil, newErr(codeTooManyActions, "gatehouse supports a single forward or fixed-response action per rule")
	}
	a := &out[0]
	switch a.Type {
	case apimodel.ActionForward:
	case apimodel.ActionFixedResponse:
		if lb.Type == apimodel.LoadBalancerNetwork {
			return nil, newErr(codeInvalidAction, "The action type '%s' is not valid with network load balancers", a.Type)
		}
		return out, nil
	default:
		if lb.Type == apimodel.LoadBalancerNetwork {
			return nil, newErr(codeInvalidAction, "The action type '%s' is not valid with network load balancers", a.Type)
		}
		return nil, newErr(codeInvalidAction, "The action type '%s' is not supported by gatehouse", a.Type)
	}
	tuples := a.ForwardTargetGroups()
	if a.TargetGroupArn != "" && a.ForwardConfig != nil {
		if len(a.ForwardConfig.TargetGroups) != 1 || a.ForwardConfig.TargetGroups[0].TargetGroupArn != a.TargetGroupArn {
			return nil, validationf("You cannot specify a target group ARN that differs from the target group in the forward config")
		}
	}
	switch {
	case len(tuples) == 0:
		return nil, validationf("A target group ARN must be specified")
	case len(tuples) > maxTGsPerForward:
		return nil, newErr(codeInvalidAction, "A forward action can have at most %d target groups", maxTGsPerForward)
	case len(tuples) > 1 && lb.Type == apimodel.LoadBalancerNetwork:
		return nil, newErr(codeInvalidAction, "You can specify only one target group for a forward action of a network load balancer")
	}
	refs, err := s.references(c)
	if err != nil {
		return nil, err
	}
	var incompatible []string
	for _, t := range tuples {
		tg, err := s.loadTG(c, t.TargetGroupArn)
		if err != nil {
			return nil, err
		}
		if tg.VpcID != lb.VpcID {
			return nil, newErr(codeInvalidConfig, "The target group '%s' and the load balancer '%s' are not in the same VPC", tg.TargetGroupArn, lb.LoadBalancerArn)
		}
		if !compatible(proto, tg.Protocol) {
			incompatible = append(incompatible, tg.TargetGroupArn)
		}
		for _, other := range refs[tg.TargetGroupArn] {
			if other != lb.LoadBalancerArn {
				return nil, newErr(codeTGAssociationLimit, "The following target groups cannot be associated with more than one load balancer: %s", tg.TargetGroupArn)
			}
		}
	}
	if len(incompatible) > 0 {
		return nil, newErr(codeIncompatibleProtocols, "The listener and the following target groups have incompatible protocols: %s", strings.Join(incompatible, ", "))
	}
	return out, nil
}

func lbShort(lb *apimodel.LoadBalancer) string {
	if lb.Type == apimodel.LoadBalancerNetwork {
		return "net"
	}
	return "app"
}

func (s *Server) createListener(c *call) (any, error) {
	p := c.p
	var v validationErrors
	lbARN, ok := str(p, "LoadBalancerArn")
	if !ok {
		v.null("loadBalancerArn")
	}
	if !has(p, "DefaultActions") {
		v.null("defaultActions")
	}
	proto, hasProto := v.enumParam(p, "Protocol", "protocol", protocolEnum)
	port, hasPort, err := v.rangeParam(p, "Port", "port", 1, 65535)
	if err != nil {
		return nil, err
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if err := s.readOnly(c, "Load balancer", lbARN); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	lb, err := s.loadLB(c, lbARN)
	if err != nil {
		return nil, err
	}
	if !hasProto {
		proto = apimodel.ProtocolHTTP
		if lb.Type == apimodel.LoadBalancerNetwork {
			proto = apimodel.ProtocolTCP
		}
	}
	switch {
	case lb.Type == apimodel.LoadBalancerNetwork && proto != apimodel.ProtocolTCP && proto != apimodel.ProtocolTLS,
		lb.Type == apimodel.LoadBalancerApplication && !isHTTPish(proto):
		return nil, newErr(codeUnsupportedProtocol, "Protocol '%s' is not supported for load balancers of type '%s'", proto, lb.Type)
	}
	if !hasPort {
		return nil, validationf("A listener port must be specified")
	}
	secure := proto == apimodel.ProtocolHTTPS || proto == apimodel.ProtocolTLS
	l := &apimodel.Listener{Account: c.caller.Account, LoadBalancerArn: lb.LoadBalancerArn, Port: port, Protocol: proto}
	certs := structList(p, "Certificates")
	switch {
	case secure && len(certs) == 0:
		return nil, validationf("A certificate must be specified for %s listeners", proto)
	case !secure && len(certs) > 0:
		return nil, validationf("A certificate cannot be specified for %s listeners", proto)
	case len(certs) > 1:
		return nil, newErr(codeTooManyCertificates, "A listener can have only one default certificate; add more with AddListenerCertificates")
	}
	for _, m := range certs {
		arn, _ := str(p, m+".CertificateArn")
		if !certARNRe.MatchString(arn) {
			return nil, validationf("Certificate ARN '%s' is not valid", arn)
		}
		if s.certExists != nil && !s.certExists(c.caller.Account, arn) {
			return nil, newErr(codeCertificateNotFound, "Certificate '%s' not found", arn)
		}
		l.Certificates = append(l.Certificates, apimodel.Certificate{CertificateArn: arn})
	}
	if pol, ok := str(p, "SslPolicy"); ok {
		if !secure {
			return nil, validationf("An SSL policy cannot be specified for %s listeners.", proto)
		}
		if !sslPolicyRe.MatchString(pol) {
			return nil, newErr(codeSSLPolicyNotFound, "SSL policy '%s' not found", pol)
		}
		l.SslPolicy = pol
	} else if secure {
		l.SslPolicy = defaultSSLPolicy
	}
	if alpn := strList(p, "AlpnPolicy"); len(alpn) > 0 {
		if proto != apimodel.ProtocolTLS {
			return nil, validationf("An ALPN policy can only be specified for TLS listeners")
		}
		if len(alpn) > 1 || !slices.Contains(alpnPolicies, alpn[0]) {
			return nil, newErr("ALPNPolicyNotFound", "ALPN policy '%s' not found", strings.Join(alpn, ","))
		}
		l.AlpnPolicy = alpn
	}
	if l.DefaultActions, err = s.parseActions(c, "DefaultActions", "defaultActions", lb, proto); err != nil {
		return nil, err
	}
	listeners, err := listKind[apimodel.Listener](c.ctx, s, c.caller.Account, "listener")
	if err != nil {
		return nil, err
	}
	count := 0
	for _, o := range listeners {
		if o.LoadBalancerArn != lb.LoadBalancerArn {
			continue
		}
		count++
		if o.Port != port {
			continue
		}
		cand := *l
		cand.ListenerArn = o.ListenerArn
		if sameJSON(&cand, o) { // CreateListener is idempotent
			return listenerList{Listeners: []xListener{toXListener(o)}}, nil
		}
		return nil, newErr(codeDuplicateListener, "A listener already exists on this port for this load balancer '%s'", lb.LoadBalancerArn)
	}
	if count >= maxListenersPerLB {
		return nil, newErr(codeTooManyListeners, "You've reached the limit on the number of listeners per load balancer")
	}
	a, _ := apimodel.ParseELBARN(lb.LoadBalancerArn)
	id := newID()
	l.ListenerArn = s.arnPrefix(c.caller.Account) + "listener/" + lbShort(lb) + "/" + lb.LoadBalancerName + "/" + a.LBID + "/" + id
	if err := s.save(c.ctx, apimodel.ListenerKey(c.caller.Account, id), l); err != nil {
		return nil, err
	}
	ruleID := newID()
	def := &apimodel.Rule{
		Account: c.caller.Account, ListenerArn: l.ListenerArn,
		RuleArn:  s.arnPrefix(c.caller.Account) + "listener-rule/" + lbShort(lb) + "/" + lb.LoadBalancerName + "/" + a.LBID + "/" + id + "/" + ruleID,
		Priority: apimodel.RulePriorityDefault, Conditions: []apimodel.RuleCondition{}, Actions: l.DefaultActions, IsDefault: true,
	}
	if err := s.save(c.ctx, apimodel.RuleKey(c.caller.Account, ruleID), def); err != nil {
		return nil, err
	}
	if err := s.syncAssociations(c); err != nil {
		return nil, err
	}
	return listenerList{Listeners: []xListener{toXListener(l)}}, nil
}

func sameJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

// loadListener returns the caller's listener with ARN arn (declared or stored), or
// ListenerNotFound.
func (s *Server) loadListener(c *call, arn string) (*apimodel.Listener, error) {
	if l, ok := s.declared.listener(c.caller.Account, arn); ok {
		return l, nil
	}
	return loadStored(c, s, arn, "listener", "listener", apimodel.ListenerKey, listenerARNOf,
		newErr(codeListenerNotFound, "One or more listeners not found"))
}

func (s *Server) describeListeners(c *call) (any, error) {
	arns := strList(c.p, "ListenerArns")
	lbARN, byLB := str(c.p, "LoadBalancerArn")
	sel, err := pickByARNOrParent(c, arns, byLB, s.loadListener, func() ([]*apimodel.Listener, error) {
		if _, err := s.loadLB(c, lbARN); err != nil {
			return nil, err
		}
		all, err := s.allListeners(c)
		if err != nil {
			return nil, err
		}
		var sel []*apimodel.Listener
		for _, l := range all {
			if l.LoadBalancerArn == lbARN {
				sel = append(sel, l)
			}
		}
		sort.Slice(sel, func(i, j int) bool { return sel[i].Port < sel[j].Port })
		return sel, nil
	}, "Listener ARNs and a load balancer ARN cannot be specified at the same time",
		"You must specify either listener ARNs or a load balancer ARN")
	if err != nil {
		return nil, err
	}
	items, next, err := pageOf(c.p, sel, toXListener)
	if err != nil {
		return nil, err
	}
	return listenerList{Listeners: items, NextMarker: next}, nil
}

func (s *Server) deleteListener(c *call) (any, error) {
	arn, err := s.writableARN(c, "ListenerArn", "listenerArn", "Listener")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.loadListener(c, arn)
	if err != nil {
		return nil, err
	}
	if err := s.removeListener(c, l); err != nil {
		return nil, err
	}
	return nil, s.syncAssociations(c)
}

// removeListener deletes a listener and its rules (the caller syncs associations).
func (s *Server) removeListener(c *call, l *apimodel.Listener) error {
	rules, err := listKind[apimodel.Rule](c.ctx, s, c.caller.Account, "rule")
	if err != nil {
		return err
	}
	for _, r := range rules {
		if r.ListenerArn != l.ListenerArn {
			continue
		}
		a, err := apimodel.ParseELBARN(r.RuleArn)
		if err != nil {
			return err
		}
		if err := s.store.Delete(c.ctx, apimodel.BucketELB, apimodel.RuleKey(c.caller.Account, a.ID), 0); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	a, err := apimodel.ParseELBARN(l.ListenerArn)
	if err != nil {
		return err
	}
	err = s.store.Delete(c.ctx, apimodel.BucketELB, apimodel.ListenerKey(c.caller.Account, a.ID), 0)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}
