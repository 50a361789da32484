package vpclink

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/upstream"
)

// TLSOptions are an integration's TLS settings for the backend.
type TLSOptions struct {
	// ServerName is the name the TLS peer's certificate must carry and the SNI: the
	// REST integration uri's host, or the HTTP API's tlsConfig.serverNameToVerify.
	// Default: the request URL's host.
	ServerName string
	// InsecureSkipVerification is REST tlsConfig.insecureSkipVerification: the chain is
	// not verified, but expiry and host name still are.
	InsecureSkipVerification bool
	// ClientCertificateID is the stage's clientCertificateId: gatehouse presents that
	// certificate when it makes a TLS connection for the request.
	ClientCertificateID string
}

// maxAttempts bounds the targets one request tries when connects fail.
const maxAttempts = 3

// plan is how a request or connection reaches its target.
type plan struct {
	g     *targetGroup // nil for Cloud Map
	cands []*target    // Cloud Map candidates
	rr    *atomicCounter
	leg   legKey
	cert  *tls.Certificate
	fixed *apimodel.FixedResponseActionConfig
}

func (p *plan) pick(skip []*target) *target {
	if p.g != nil {
		return p.g.pick(skip)
	}
	if len(p.cands) == 0 {
		return nil
	}
	return pick(p.cands, false, p.rr, p.cands[0].m.now(), skip)
}

// plan works out the target group (or Cloud Map candidates) and the backend leg for a
// request with the given scheme, host and path.
func (r *Route) plan(o TLSOptions, scheme, urlHost, host, path string) (*plan, error) {
	p := &plan{}
	https := strings.EqualFold(scheme, "https")
	serverName := o.ServerName
	if serverName == "" {
		serverName = hostOnly(urlHost)
	}
	if o.ClientCertificateID != "" {
		p.cert = r.snap.clientCerts[r.account+"/"+o.ClientCertificateID]
		if p.cert == nil {
			return nil, fmt.Errorf("%w: client certificate %s", ErrTargetNotFound, o.ClientCertificateID)
		}
		p.leg.clientCert = o.ClientCertificateID
	}
	// clientLeg is the integration's own TLS session going end to end to the target.
	clientLeg := func() {
		p.leg.tls = https
		if https {
			p.leg.verify = true
			p.leg.insecure = o.InsecureSkipVerification
			p.leg.serverName = serverName
		}
	}
	// lbLeg is a load balancer's connection to its target: TLS for TLS/HTTPS target
	// groups, never verified.
	lbLeg := func(g *targetGroup) {
		p.leg.tls = g.protocol == apimodel.ProtocolTLS || g.protocol == apimodel.ProtocolHTTPS
	}
	if r.service != nil {
		p.cands, p.rr = r.candidates(), &r.service.rr
		if len(p.cands) == 0 {
			return nil, fmt.Errorf("%w: no instance of %s matches", ErrNoTargets, r.service.arn)
		}
		clientLeg()
		return p, nil
	}
	l := r.listener
	switch l.protocol {
	case apimodel.ProtocolTCP:
		p.g = l.def.choose(l.rr.Add(1))
		clientLeg()
	case apimodel.ProtocolTLS, apimodel.ProtocolHTTPS:
		if !https {
			return nil, fmt.Errorf("vpclink: listener %s speaks %s; the integration speaks plain HTTP", l.arn, l.protocol)
		}
		if err := r.m.verifyListener(l, serverName, o.InsecureSkipVerification); err != nil {
			return nil, err
		}
	case apimodel.ProtocolHTTP:
		if https {
			return nil, fmt.Errorf("vpclink: listener %s speaks plain HTTP; the integration speaks TLS", l.arn)
		}
	}
	switch l.protocol {
	case apimodel.ProtocolTLS:
		p.g = l.def.choose(l.rr.Add(1))
		lbLeg(p.g)
	case apimodel.ProtocolHTTP, apimodel.ProtocolHTTPS:
		act := &l.def
		for i := range l.rules {
			if l.rules[i].matches(host, path) {
				act = &l.rules[i].act
				break
			}
		}
		if act.fixed != nil {
			p.fixed = act.fixed
			return p, nil
		}
		p.g = act.choose(l.rr.Add(1))
		lbLeg(p.g)
	}
	return p, nil
}

type verifyResult struct{ err error }

// verifyListener checks a TLS or HTTPS listener's certificate as the integration's TLS
// client would: against RootCAs and serverName, or with insecure only expiry and name.
func (m *Manager) verifyListener(l *listenerRT, serverName string, insecure bool) error {
	if l.certErr != nil {
		return l.certErr
	}
	key := serverName + "|" + strconv.FormatBool(insecure)
	if v, ok := l.verified.Load(key); ok {
		return v.(verifyResult).err
	}
	leaf := l.cert.Leaf
	var err error
	if insecure {
		err = verifyExpiryAndName(m.now)(tls.ConnectionState{ServerName: serverName, PeerCertificates: []*x509.Certificate{leaf}})
	} else {
		inter := x509.NewCertPool()
		for _, der := range l.cert.Certificate[1:] {
			if c, perr := x509.ParseCertificate(der); perr == nil {
				inter.AddCert(c)
			}
		}
		_, err = leaf.Verify(x509.VerifyOptions{DNSName: serverName, Roots: m.opts.RootCAs, Intermediates: inter, CurrentTime: m.now()})
	}
	if err != nil {
		err = fmt.Errorf("vpclink: TLS to listener %s: %w", l.arn, err)
	}
	l.verified.Store(key, verifyResult{err})
	return err
}

// tryTargets calls send with targets of p, one after the other, until send reports
// that it is done (it sent the request, or failed past the point of retrying) or
// maxAttempts targets were tried; it returns send's last error, or ErrNoTargets when p
// has no target to try.
func (r *Route) tryTargets(p *plan, send func(t *target) (done bool, err error)) error {
	var tried []*target
	var lastErr error
	for attempt := 0; attempt < maxAttempts; attempt++ {
		t := p.pick(tried)
		if t == nil {
			break
		}
		tried = append(tried, t)
		done, err := send(t)
		if done {
			return err
		}
		lastErr = err
	}
	if lastErr == nil {
		lastErr = fmt.Errorf("%w in %s", ErrNoTargets, r.VpcID)
	}
	return lastErr
}

// Do sends req through r on the data plane's synchronous HTTP/1.1 client (package
// upstream: one keep-alive pool per target and backend leg, no goroutines per request).
// req.Scheme says whether the integration speaks TLS (https) to the link's listener or
// target; req.Host is sent as it is (on AWS the integration uri sets Host and SNI but
// does not route), and for an application load balancer req.Host and req.Target's path
// pick the listener rule. Connects that fail are retried on other targets (at most
// three; nothing of the request was sent then), and the failing target is taken out of
// rotation for a while (passive health). Errors map to statuses with HTTPStatus. On success the caller
// reads resp, closes it and then calls done (which ends the target's in-flight count).
// A listener rule's fixed-response action is returned as fixed, with nothing sent.
func (r *Route) Do(ctx context.Context, o TLSOptions, req *upstream.Request, resp *upstream.Response) (done func(), fixed *apimodel.FixedResponseActionConfig, err error) {
	path, _, _ := strings.Cut(req.Target, "?")
	if p, err := url.PathUnescape(path); err == nil {
		path = p
	}
	p, err := r.plan(o, req.Scheme, req.Host, req.Host, path)
	if err != nil {
		return nil, nil, err
	}
	if p.fixed != nil {
		return nil, p.fixed, nil
	}
	out := *req
	out.Scheme = "http"
	if p.leg.tls {
		out.Scheme = "https"
	}
	err = r.tryTargets(p, func(t *target) (bool, error) {
		pool, err := t.pool(p.leg, p.cert)
		if err != nil {
			return false, err
		}
		t.acquire()
		if err = pool.Do(ctx, &out, resp); err == nil {
			done = t.release
			return true, nil
		}
		t.release()
		var ce *connectError
		if !errors.As(err, &ce) || ctx.Err() != nil {
			return true, err
		}
		return false, err // the connect failed, nothing was sent: try another target
	})
	if err != nil {
		return nil, nil, err
	}
	return done, nil, nil
}

// DialContext connects to a target of r as the load balancer forwards a connection:
// through a TCP listener the bytes pass through (a client's own TLS goes end to end);
// through a TLS listener, whose certificate is first verified as o says, the listener's
// TLS is already terminated and the connection carries what the load balancer sends
// its target (plaintext for TCP target groups, a TLS session for TLS target groups).
// Cloud Map routes connect to a matching instance. Application load balancers carry
// HTTP only: use Do. A failed connect tries other targets.
func (r *Route) DialContext(ctx context.Context, o TLSOptions) (net.Conn, error) {
	if r.listener != nil && r.listener.lb.typ == apimodel.LoadBalancerApplication {
		return nil, fmt.Errorf("vpclink: listener %s is an application load balancer's; it carries HTTP only", r.listener.arn)
	}
	scheme := "tcp"
	if r.listener != nil && r.listener.protocol == apimodel.ProtocolTLS {
		scheme = "https"
	}
	p, err := r.plan(o, scheme, o.ServerName, "", "")
	if err != nil {
		return nil, err
	}
	var conn net.Conn
	err = r.tryTargets(p, func(t *target) (bool, error) {
		t.acquire()
		c, err := t.dial(ctx)
		if err != nil {
			t.release()
			return ctx.Err() != nil, err
		}
		conn = &releaseConn{Conn: c, release: sync.OnceFunc(t.release)}
		if r.listener != nil && r.listener.protocol == apimodel.ProtocolTLS && p.leg.tls {
			tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12})
			if err := tc.HandshakeContext(ctx); err != nil {
				conn.Close()
				return true, fmt.Errorf("vpclink: TLS to target %s: %w", t.addr, err)
			}
			conn = tc
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	return conn, nil
}

type releaseConn struct {
	net.Conn
	release func()
}

func (c *releaseConn) Close() error {
	err := c.Conn.Close()
	c.release()
	return err
}

// CloseWrite half-closes when the underlying connection can.
func (c *releaseConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.New("vpclink: connection cannot half-close")
}
