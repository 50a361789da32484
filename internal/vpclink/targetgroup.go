package vpclink

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gatehouse/internal/apimodel"
)

// healthConfig is a target group's active health check, defaults applied.
type healthConfig struct {
	enabled   bool
	protocol  string // HTTP, HTTPS or TCP
	path      string
	port      int // 0 = traffic port
	interval  time.Duration
	timeout   time.Duration
	healthy   int
	unhealthy int
	matcher   string
}

// healthFromDoc applies ELBv2's defaults to a target group's health check settings.
func healthFromDoc(tg *apimodel.TargetGroup) (healthConfig, error) {
	h := healthConfig{enabled: tg.HealthCheckEnabled == nil || *tg.HealthCheckEnabled}
	lbHTTP := tg.Protocol == apimodel.ProtocolHTTP || tg.Protocol == apimodel.ProtocolHTTPS
	h.protocol = tg.HealthCheckProtocol
	if h.protocol == "" {
		h.protocol = apimodel.ProtocolTCP
		if lbHTTP {
			h.protocol = tg.Protocol
		}
	}
	switch h.protocol {
	case apimodel.ProtocolHTTP, apimodel.ProtocolHTTPS, apimodel.ProtocolTCP:
	default:
		return h, fmt.Errorf("health check protocol %q", h.protocol)
	}
	h.path = tg.HealthCheckPath
	if h.path == "" {
		h.path = "/"
	}
	if p := tg.HealthCheckPort; p != "" && p != apimodel.HealthCheckPortTraffic {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return h, fmt.Errorf("health check port %q", p)
		}
		h.port = n
	}
	h.interval = secondsOr(tg.HealthCheckIntervalSeconds, 30)
	switch {
	case tg.HealthCheckTimeoutSeconds > 0:
		h.timeout = time.Duration(tg.HealthCheckTimeoutSeconds) * time.Second
	case lbHTTP:
		h.timeout = 5 * time.Second
	case h.protocol == apimodel.ProtocolTCP:
		h.timeout = 10 * time.Second
	default:
		h.timeout = 6 * time.Second
	}
	h.healthy = intOr(tg.HealthyThresholdCount, 5)
	h.unhealthy = intOr(tg.UnhealthyThresholdCount, 2)
	h.matcher = "200-399"
	if lbHTTP {
		h.matcher = "200"
	}
	if tg.Matcher != nil && tg.Matcher.HTTPCode != "" {
		if !validMatcher(tg.Matcher.HTTPCode) {
			return h, fmt.Errorf("matcher %q", tg.Matcher.HTTPCode)
		}
		h.matcher = tg.Matcher.HTTPCode
	}
	return h, nil
}

func secondsOr(v, def int) time.Duration {
	if v <= 0 {
		v = def
	}
	return time.Duration(v) * time.Second
}

func intOr(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}

// validMatcher reports whether s is an HttpCode matcher ("200", "200,202", "200-299").
func validMatcher(s string) bool {
	for part := range strings.SplitSeq(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 100 || a > 599 {
			return false
		}
		if isRange {
			if b, err := strconv.Atoi(hi); err != nil || b < a || b > 599 {
				return false
			}
		}
	}
	return true
}

// matchCode reports whether HTTP status code matches matcher (already validated).
func matchCode(matcher string, code int) bool {
	for part := range strings.SplitSeq(matcher, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, _ := strconv.Atoi(lo)
		b := a
		if isRange {
			b, _ = strconv.Atoi(hi)
		}
		if code >= a && code <= b {
			return true
		}
	}
	return false
}

// targetGroup is a target group's runtime: its targets with their health, the balancer
// and the health checker. It lives as long as the target group exists, across
// configuration changes.
type targetGroup struct {
	m                *Manager
	arn              string
	vpc              string
	protocol         string
	leastOutstanding bool
	drainDelay       time.Duration

	rr   atomic.Uint64
	list atomic.Pointer[[]*target] // targets in service (not draining)

	// mu guards the fields below.
	mu      sync.Mutex
	hc      healthConfig
	targets map[netip.AddrPort]*target // in service and draining
	checker context.CancelFunc
	done    chan struct{}
	kick    chan struct{}
	closed  bool
}

func newTargetGroup(m *Manager, arn string) *targetGroup {
	g := &targetGroup{m: m, arn: arn, targets: map[netip.AddrPort]*target{}}
	g.list.Store(&[]*target{})
	return g
}

// update applies a (new version of the) target group document.
func (g *targetGroup) update(doc *apimodel.TargetGroup) error {
	hc, err := healthFromDoc(doc)
	if err != nil {
		return fmt.Errorf("target group %s: %w", doc.TargetGroupArn, err)
	}
	delay := time.Duration(apimodel.DefaultDeregistrationSeconds) * time.Second
	if s, ok := doc.Attributes[apimodel.AttrDeregistrationDelay]; ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 3600 {
			return fmt.Errorf("target group %s: %s %q", doc.TargetGroupArn, apimodel.AttrDeregistrationDelay, s)
		}
		delay = time.Duration(n) * time.Second
	}
	if g.m.opts.DeregistrationDelay != nil {
		delay = g.m.opts.DeregistrationDelay(delay)
	}
	want := map[netip.AddrPort]bool{}
	for _, r := range doc.Targets {
		a, err := netip.ParseAddr(r.ID)
		if err != nil {
			// Not an address: instance ids were resolved to their private IPs before
			// (instances.go); one that could not be (stopped, unknown) takes no traffic.
			continue
		}
		port := r.Port
		if port == 0 {
			port = doc.Port
		}
		if port < 1 || port > 65535 {
			continue
		}
		want[netip.AddrPortFrom(a.Unmap(), uint16(port))] = true
	}

	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	g.vpc = doc.VpcID
	g.protocol = doc.Protocol
	g.leastOutstanding = doc.Attributes[apimodel.AttrLoadBalancingAlgorithm] == apimodel.AlgorithmLeastOutstanding
	g.drainDelay = delay
	restart := g.checker == nil || g.hc != hc
	g.hc = hc
	initial := stateInitial
	if !hc.enabled {
		initial = stateUnavailable
	}
	for addr, t := range g.targets {
		if t.isGone() {
			delete(g.targets, addr)
		}
	}
	added := false
	for addr := range want {
		t := g.targets[addr]
		if t != nil && t.vpc == doc.VpcID && t.undrain(initial) {
			switch st, _, _ := t.snapshotState(time.Time{}); {
			case !hc.enabled && st != stateUnavailable:
				t.setState(stateUnavailable, "Target.HealthCheckDisabled")
			case hc.enabled && st == stateUnavailable:
				t.setState(stateInitial, "Elb.RegistrationInProgress")
			}
			continue
		}
		if t != nil {
			t.finish()
		}
		t = newTarget(g.m, g.arn, doc.VpcID, addr, initial)
		if hc.enabled {
			t.reason = "Elb.RegistrationInProgress"
		} else {
			t.reason = "Target.HealthCheckDisabled"
		}
		g.targets[addr] = t
		added = true
	}
	for addr, t := range g.targets {
		if !want[addr] {
			t.drain(delay)
		}
	}
	g.publishLocked()
	if restart {
		g.restartCheckerLocked()
	} else if added {
		g.kickLocked()
	}
	g.mu.Unlock()
	return nil
}

// publishLocked stores the list of targets in service.
func (g *targetGroup) publishLocked() {
	list := make([]*target, 0, len(g.targets))
	for _, t := range g.targets {
		if st, _, _ := t.snapshotState(time.Time{}); st != stateDraining {
			list = append(list, t)
		}
	}
	g.list.Store(&list)
	g.updateGauge()
}

// updateGauge sets the healthy-targets gauge. It takes no lock of g's, so that the
// health checker never does.
func (g *targetGroup) updateGauge() {
	n := 0
	for _, t := range *g.list.Load() {
		if st, _, _ := t.snapshotState(time.Time{}); st == stateHealthy || st == stateUnavailable {
			n++
		}
	}
	g.m.met.targetHealthy.WithLabelValues(g.arn).Set(float64(n))
}

// pick chooses a target for one request or connection.
func (g *targetGroup) pick(skip []*target) *target {
	return pick(*g.list.Load(), g.leastOutstanding, &g.rr, g.m.now(), skip)
}

func (g *targetGroup) restartCheckerLocked() {
	if g.checker != nil {
		g.checker()
		<-g.done
		g.checker = nil
	}
	if !g.hc.enabled {
		return
	}
	ctx, cancel := context.WithCancel(g.m.ctx)
	g.checker = cancel
	g.done = make(chan struct{})
	g.kick = make(chan struct{}, 1)
	go g.runChecks(ctx, g.hc, g.done, g.kick)
}

func (g *targetGroup) kickLocked() {
	if g.kick == nil {
		return
	}
	select {
	case g.kick <- struct{}{}:
	default:
	}
}

// close stops the checker and finishes every target.
func (g *targetGroup) close() {
	g.mu.Lock()
	g.closed = true
	if g.checker != nil {
		g.checker()
		<-g.done
		g.checker = nil
	}
	targets := make([]*target, 0, len(g.targets))
	for _, t := range g.targets {
		targets = append(targets, t)
	}
	g.targets = map[netip.AddrPort]*target{}
	g.list.Store(&[]*target{})
	g.m.met.targetHealthy.DeleteLabelValues(g.arn)
	g.mu.Unlock()
	for _, t := range targets {
		t.finish()
	}
}

// runChecks checks every target in service each interval (and at once when kicked).
func (g *targetGroup) runChecks(ctx context.Context, hc healthConfig, done chan struct{}, kick chan struct{}) {
	defer close(done)
	interval := hc.interval
	if g.m.opts.HealthCheckInterval > 0 {
		interval = g.m.opts.HealthCheckInterval
	}
	timeout := min(hc.timeout, interval)
	if g.m.opts.HealthCheckTimeout > 0 {
		timeout = g.m.opts.HealthCheckTimeout
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		targets := *g.list.Load()
		var wg sync.WaitGroup
		for _, t := range targets {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cctx, cancel := context.WithTimeout(ctx, timeout)
				defer cancel()
				err := g.check(cctx, hc, t)
				if ctx.Err() != nil {
					return
				}
				g.record(t, hc, err)
			}()
		}
		wg.Wait()
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-kick:
		}
	}
}

// check runs one health check of t.
func (g *targetGroup) check(ctx context.Context, hc healthConfig, t *target) error {
	port := t.addr.Port()
	if hc.port != 0 {
		port = uint16(hc.port)
	}
	addr := netip.AddrPortFrom(t.addr.Addr(), port).String()
	conn, err := g.m.DialVPC(ctx, t.vpc, "tcp", addr)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer conn.Close()
	if hc.protocol == apimodel.ProtocolTCP {
		return nil
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	scheme := "http"
	if hc.protocol == apimodel.ProtocolHTTPS {
		scheme = "https"
		tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12})
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("TLS handshake: %w", err)
		}
		conn = tc
	}
	// One request on the connection just made: the checker keeps no pool.
	used := false
	tr := &http.Transport{
		DialContext: func(context.Context, string, string) (net.Conn, error) {
			if used {
				return nil, fmt.Errorf("health check connection already used")
			}
			used = true
			return conn, nil
		},
		DialTLSContext: func(context.Context, string, string) (net.Conn, error) {
			if used {
				return nil, fmt.Errorf("health check connection already used")
			}
			used = true
			return conn, nil
		},
		DisableKeepAlives: true,
	}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+addr+hc.path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", "ELB-HealthChecker/2.0")
	resp, err := tr.RoundTrip(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if !matchCode(hc.matcher, resp.StatusCode) {
		return &healthCodeError{code: resp.StatusCode}
	}
	return nil
}

type healthCodeError struct{ code int }

func (e *healthCodeError) Error() string {
	return fmt.Sprintf("health checks failed with these codes: [%d]", e.code)
}

// record applies one check result to t's state.
func (g *targetGroup) record(t *target, hc healthConfig, err error) {
	t.mu.Lock()
	if t.gone || t.state == stateDraining {
		t.mu.Unlock()
		return
	}
	prev := t.state
	if err == nil {
		t.successes++
		t.failures = 0
		t.ejectedUntil = time.Time{}
		if t.state != stateHealthy && t.successes >= hc.healthy {
			t.state, t.reason = stateHealthy, ""
		}
	} else {
		t.failures++
		t.successes = 0
		if t.state != stateUnhealthy && t.failures >= hc.unhealthy {
			t.state = stateUnhealthy
		}
		if t.state == stateUnhealthy {
			t.reason = failureReason(err)
		}
	}
	now := t.state
	t.mu.Unlock()
	if prev != now {
		g.m.log.Info("target health changed", "target_group", g.arn, "target", t.addr.String(), "from", prev, "to", now)
		if now == stateUnhealthy {
			t.closeIdle()
		}
		g.updateGauge()
	}
}

func failureReason(err error) string {
	if _, ok := err.(*healthCodeError); ok {
		return "Target.ResponseCodeMismatch"
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return "Target.Timeout"
	}
	return "Target.FailedHealthChecks"
}

func (t *target) setState(state, reason string) {
	t.mu.Lock()
	t.state, t.reason = state, reason
	t.successes, t.failures = 0, 0
	t.mu.Unlock()
}

// health describes the group's targets as DescribeTargetHealth does.
func (g *targetGroup) health() []apimodel.TargetHealthDescription {
	g.mu.Lock()
	targets := make([]*target, 0, len(g.targets))
	for _, t := range g.targets {
		if !t.isGone() {
			targets = append(targets, t)
		}
	}
	hc := g.hc
	g.mu.Unlock()
	now := g.m.now()
	out := make([]apimodel.TargetHealthDescription, 0, len(targets))
	for _, t := range targets {
		st, reason, ejected := t.snapshotState(now)
		desc := ""
		switch {
		case st == stateHealthy && ejected:
			desc = "Connections to the target are failing; it is out of rotation for now"
		case reason == "Target.HealthCheckDisabled":
			desc = "Health checks are disabled"
		case reason == "Elb.RegistrationInProgress":
			desc = "Target registration is in progress"
		case reason == "Target.DeregistrationInProgress":
			desc = "Target deregistration is in progress"
		}
		port := strconv.Itoa(int(t.addr.Port()))
		if hc.port != 0 {
			port = strconv.Itoa(hc.port)
		}
		out = append(out, apimodel.TargetHealthDescription{
			Target:          apimodel.TargetDescription{ID: t.addr.Addr().String(), Port: int(t.addr.Port())},
			HealthCheckPort: port,
			TargetHealth:    apimodel.TargetHealth{State: st, Reason: reason, Description: desc},
		})
	}
	return out
}
