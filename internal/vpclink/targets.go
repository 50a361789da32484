package vpclink

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/upstream"
)

// Target states. They are ELBv2's TargetHealth states; checks-disabled targets report
// unavailable and take traffic.
const (
	stateInitial     = apimodel.TargetHealthInitial
	stateHealthy     = apimodel.TargetHealthHealthy
	stateUnhealthy   = apimodel.TargetHealthUnhealthy
	stateDraining    = apimodel.TargetHealthDraining
	stateUnavailable = apimodel.TargetHealthUnavailable
)

// target is one address that receives traffic: a registered target of a target group,
// or a Cloud Map instance. Its state survives configuration changes as long as it stays
// registered.
type target struct {
	addr  netip.AddrPort
	vpc   string
	group string // target group ARN or Cloud Map service ARN, for metrics and logs
	m     *Manager

	inflight atomic.Int64 // requests and raw connections in progress

	// mu guards the fields below.
	mu           sync.Mutex
	state        string
	reason       string
	successes    int
	failures     int
	ejectedUntil time.Time
	drainTimer   *time.Timer
	gone         bool // deregistration completed; never used again
	pools        map[legKey]*upstream.Pool
	conns        map[*trackedConn]struct{}
}

func newTarget(m *Manager, group, vpc string, addr netip.AddrPort, state string) *target {
	return &target{m: m, group: group, vpc: vpc, addr: addr, state: state}
}

// snapshotState returns the state, reason and whether the target is passively ejected.
func (t *target) snapshotState(now time.Time) (state, reason string, ejected bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.state, t.reason, now.Before(t.ejectedUntil)
}

// eject takes t out of rotation for d after a failed connect.
func (t *target) eject(d time.Duration) {
	t.mu.Lock()
	was := t.m.now().Before(t.ejectedUntil)
	t.ejectedUntil = t.m.now().Add(d)
	t.mu.Unlock()
	if !was {
		t.m.met.ejections.WithLabelValues(t.group).Inc()
	}
}

// tier orders targets for picking: 0 routable, 1 fail-open (not draining, not ejected),
// 2 last resort (not draining), 3 never.
func (t *target) tier(now time.Time) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.gone || t.state == stateDraining:
		return 3
	case now.Before(t.ejectedUntil):
		return 2
	case t.state == stateHealthy || t.state == stateUnavailable:
		return 0
	}
	return 1
}

// pick chooses a target from cands: the best tier present, then round-robin (or, with
// leastOutstanding, round-robin among the least loaded) within it. skip lists targets
// already tried for this request.
func pick(cands []*target, leastOutstanding bool, rr *atomic.Uint64, now time.Time, skip []*target) *target {
	if len(cands) == 0 {
		return nil
	}
	var tiers [16]int
	var tierOf []int
	if len(cands) <= len(tiers) {
		tierOf = tiers[:len(cands)]
	} else {
		tierOf = make([]int, len(cands))
	}
	bestTier, bestLoad, count := 3, int64(0), 0
	for i, t := range cands {
		tier := 3
		if !containsTarget(skip, t) {
			tier = t.tier(now)
		}
		tierOf[i] = tier
		if tier == 3 || tier > bestTier {
			continue
		}
		load := int64(0)
		if leastOutstanding {
			load = t.inflight.Load()
		}
		switch {
		case tier < bestTier || load < bestLoad:
			bestTier, bestLoad, count = tier, load, 1
		case load == bestLoad:
			count++
		}
	}
	if count == 0 {
		return nil
	}
	k := int(rr.Add(1) % uint64(count))
	for i, t := range cands {
		if tierOf[i] != bestTier || (leastOutstanding && t.inflight.Load() != bestLoad) {
			continue
		}
		if k == 0 {
			return t
		}
		k--
	}
	// Loads moved between the passes: take the first of the best tier.
	for i, t := range cands {
		if tierOf[i] == bestTier {
			return t
		}
	}
	return nil
}

func containsTarget(list []*target, t *target) bool {
	for _, x := range list {
		if x == t {
			return true
		}
	}
	return false
}

// legKey identifies how a connection to a target is made: plain or TLS, and with what
// TLS settings.
type legKey struct {
	tls bool
	// verify checks the target's certificate (the client's own TLS session); load
	// balancers do not verify their targets.
	verify bool
	// insecure is API Gateway's insecureSkipVerification: the chain is not checked,
	// but expiry and host name still are.
	insecure   bool
	serverName string
	clientCert string
}

// connectError is a failed connect to a target: nothing was sent, so the request may
// go to another target.
type connectError struct {
	target *target
	err    error
}

func (e *connectError) Error() string {
	return fmt.Sprintf("connect to target %s: %v", e.target.addr, e.err)
}
func (e *connectError) Unwrap() error { return e.err }

// dial connects to t through its VPC, tracking the connection so that draining can close
// it. A failed connect ejects t.
func (t *target) dial(ctx context.Context) (net.Conn, error) {
	c, err := t.m.DialVPC(ctx, t.vpc, "tcp", t.addr.String())
	if err != nil {
		if ctx.Err() == nil && !errors.Is(err, ErrNoAgent) {
			t.m.met.connectErrors.WithLabelValues(t.group).Inc()
			t.eject(t.m.opts.EjectDuration)
		}
		return nil, &connectError{target: t, err: err}
	}
	tc := &trackedConn{Conn: c, t: t}
	t.mu.Lock()
	if t.gone {
		t.mu.Unlock()
		c.Close()
		return nil, &connectError{target: t, err: errors.New("target was deregistered")}
	}
	if t.conns == nil {
		t.conns = map[*trackedConn]struct{}{}
	}
	t.conns[tc] = struct{}{}
	t.mu.Unlock()
	return tc, nil
}

// trackedConn is a connection to a target, known to the target until closed.
type trackedConn struct {
	net.Conn
	t    *target
	once sync.Once
}

func (c *trackedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.t.mu.Lock()
		delete(c.t.conns, c)
		c.t.mu.Unlock()
	})
	return err
}

// CloseWrite half-closes when the underlying connection can.
func (c *trackedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.New("vpclink: connection cannot half-close")
}

// pool returns t's upstream client for leg k (the data plane's synchronous HTTP/1.1
// keep-alive pool; see Route.Do), creating it on first use.
func (t *target) pool(k legKey, cert *tls.Certificate) (*upstream.Pool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.gone {
		return nil, &connectError{target: t, err: errors.New("target was deregistered")}
	}
	if p := t.pools[k]; p != nil {
		return p, nil
	}
	p := upstream.New(upstream.Options{
		TLSConfig:   t.tlsConfig(k, cert),
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return t.dial(ctx) },
		IdleTimeout: 90 * time.Second,
	})
	if t.pools == nil {
		t.pools = map[legKey]*upstream.Pool{}
	}
	t.pools[k] = p
	return p, nil
}

// tlsConfig is the TLS client configuration of leg k (nil for plain HTTP).
func (t *target) tlsConfig(k legKey, cert *tls.Certificate) *tls.Config {
	if !k.tls {
		return nil
	}
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		ServerName: k.serverName,
		RootCAs:    t.m.opts.RootCAs,
	}
	if cert != nil {
		cfg.Certificates = []tls.Certificate{*cert}
	}
	switch {
	case !k.verify:
		cfg.InsecureSkipVerify = true
	case k.insecure:
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = verifyExpiryAndName(t.m.now)
	}
	return cfg
}

// verifyExpiryAndName checks what API Gateway checks with insecureSkipVerification:
// the certificate's validity period and host name, not its chain.
func verifyExpiryAndName(now func() time.Time) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("vpclink: backend sent no certificate")
		}
		leaf := cs.PeerCertificates[0]
		n := now()
		if n.Before(leaf.NotBefore) || n.After(leaf.NotAfter) {
			return fmt.Errorf("vpclink: backend certificate is not valid at %s (valid %s to %s)",
				n.UTC().Format(time.RFC3339), leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339))
		}
		if cs.ServerName != "" {
			if err := leaf.VerifyHostname(cs.ServerName); err != nil {
				return err
			}
		}
		return nil
	}
}

// finish completes a deregistration: the target is gone and its connections close.
func (t *target) finish() {
	t.mu.Lock()
	if t.gone {
		t.mu.Unlock()
		return
	}
	t.gone = true
	if t.drainTimer != nil {
		t.drainTimer.Stop()
	}
	pools := t.pools
	t.pools = nil
	conns := t.conns
	t.conns = nil
	t.mu.Unlock()
	for _, p := range pools {
		p.CloseIdle()
	}
	for c := range conns {
		c.Conn.Close()
	}
}

func (t *target) isGone() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.gone
}

// drain starts draining: no new requests; in-flight ones finish until delay, then the
// target's connections close. A target with nothing in flight finishes at once.
func (t *target) drain(delay time.Duration) {
	t.mu.Lock()
	if t.gone || t.state == stateDraining {
		t.mu.Unlock()
		return
	}
	t.state, t.reason = stateDraining, "Target.DeregistrationInProgress"
	idle := t.inflight.Load() == 0
	if !idle && delay > 0 {
		t.drainTimer = time.AfterFunc(delay, t.finish)
	}
	t.mu.Unlock()
	if idle || delay <= 0 {
		t.finish()
	}
}

// undrain puts a draining target back in service (it was registered again).
func (t *target) undrain(state string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.gone || t.state != stateDraining {
		return !t.gone
	}
	if t.drainTimer != nil {
		t.drainTimer.Stop()
		t.drainTimer = nil
	}
	t.state, t.reason = state, ""
	return true
}

// acquire counts a request or connection in flight; release ends it, finishing a
// draining target that became idle.
func (t *target) acquire() { t.inflight.Add(1) }

func (t *target) release() {
	if t.inflight.Add(-1) != 0 {
		return
	}
	t.mu.Lock()
	draining := t.state == stateDraining && !t.gone
	t.mu.Unlock()
	if draining {
		t.finish()
	}
}

// closeIdle closes t's idle pooled connections (after it turned unhealthy).
func (t *target) closeIdle() {
	t.mu.Lock()
	pools := make([]*upstream.Pool, 0, len(t.pools))
	for _, p := range t.pools {
		pools = append(pools, p)
	}
	t.mu.Unlock()
	for _, p := range pools {
		p.CloseIdle()
	}
}
