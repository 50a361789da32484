package vpclink

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/config"
)

// Options configures New.
type Options struct {
	// Topology supplies the VPCs (CIDRs, subnets, routability, agent tokens) and the
	// load balancers and target groups declared as infrastructure. Required.
	Topology *config.Topology
	// Logger receives the package's log. Nil discards.
	Logger *slog.Logger
	// Registry receives the package's metrics. Nil means none.
	Registry prometheus.Registerer
	// RootCAs verifies backends' certificates (integration uri https:// with
	// tlsConfig verification) and TLS/HTTPS listener certificates. Nil means the
	// system roots.
	RootCAs *x509.CertPool
	// ListenerCertificate returns the certificate a TLS or HTTPS listener names (an ARN
	// of gatehouse's certificate store). Nil means listeners that name one have none.
	ListenerCertificate func(account, certificateArn string) (*tls.Certificate, error)
	// IssueCertificate issues a certificate for names; listeners that name no
	// certificate get one for their load balancer's DNS name. Nil means they have none.
	IssueCertificate func(names []string) (*tls.Certificate, error)
	// DirectDial connects to addresses of directly routable VPCs. Default: a
	// net.Dialer.
	DirectDial func(ctx context.Context, network, addr string) (net.Conn, error)
	// HealthCheckInterval and HealthCheckTimeout, when set, replace every target
	// group's interval and timeout (tests).
	HealthCheckInterval, HealthCheckTimeout time.Duration
	// EjectDuration is how long a target whose connect failed stays out of rotation
	// (passive health). Default 10 s.
	EjectDuration time.Duration
	// DeregistrationDelay, when set, maps a target group's deregistration delay to the
	// one used (tests).
	DeregistrationDelay func(time.Duration) time.Duration
	// MaxStreamsPerAgent caps the connections one link agent carries; 0 means no cap.
	MaxStreamsPerAgent int
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Manager is the VPC-link runtime. It holds an immutable snapshot of the links, load
// balancers, listeners, rules, target groups and Cloud Map services (swapped atomically
// by Update), the target groups' health state and checkers, and the link-agent
// tunnels. It is safe for concurrent use.
type Manager struct {
	opts Options
	topo *config.Topology
	log  *slog.Logger
	met  *metrics
	tun  *tunnel

	ctx    context.Context // ends at Close; parent of health checkers
	cancel context.CancelFunc

	snap atomic.Pointer[snapshot]

	// mu serializes Update and Close and guards the fields below.
	mu     sync.Mutex
	closed bool
	tgs    map[string]*targetGroup // by ARN
	issued map[string]*tls.Certificate

	// cmMu guards cmTargets, the Cloud Map instance targets by vpc|addr. It is taken
	// on the request path and never held while taking mu.
	cmMu      sync.Mutex
	cmClosed  bool
	cmTargets map[string]*target
}

// New returns a Manager with no stored documents; the topology's load balancers and
// target groups are in effect at once (health checks start).
func New(opts Options) (*Manager, error) {
	if opts.Topology == nil {
		return nil, errors.New("vpclink: Options.Topology is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.DirectDial == nil {
		d := &net.Dialer{KeepAlive: 30 * time.Second}
		opts.DirectDial = d.DialContext
	}
	if opts.EjectDuration <= 0 {
		opts.EjectDuration = 10 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	met, err := newMetrics(opts.Registry)
	if err != nil {
		return nil, fmt.Errorf("vpclink: metrics: %w", err)
	}
	m := &Manager{
		opts:      opts,
		topo:      opts.Topology,
		log:       opts.Logger.With("component", "vpclink"),
		met:       met,
		tgs:       map[string]*targetGroup{},
		cmTargets: map[string]*target{},
		issued:    map[string]*tls.Certificate{},
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	m.tun = newTunnel(m.verifyToken, m.log, met, opts.MaxStreamsPerAgent)
	m.snap.Store(&snapshot{})
	if err := m.Update(Documents{}); err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

func (m *Manager) now() time.Time { return m.opts.Now() }

// Close stops health checks, closes every agent tunnel and listener, and closes pooled
// backend connections. It is idempotent.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	tgs := m.tgs
	m.tgs = map[string]*targetGroup{}
	m.mu.Unlock()
	m.cmMu.Lock()
	m.cmClosed = true
	cm := m.cmTargets
	m.cmTargets = map[string]*target{}
	m.cmMu.Unlock()
	m.cancel()
	for _, g := range tgs {
		g.close()
	}
	for _, t := range cm {
		t.finish()
	}
	m.tun.close()
	return nil
}

// ServeTunnel accepts link agents on ln until ln fails or the Manager is closed (then it
// returns ErrClosed). cfg is the listener's TLS configuration, normally a certificate
// from gatehouse's CA (certs.CA.ServerTLSConfig) for the names agents dial; it is
// restricted to TLS 1.3 and the tunnel's ALPN.
func (m *Manager) ServeTunnel(ln net.Listener, cfg *tls.Config) error {
	return m.tun.serve(ln, cfg)
}

// Agents lists the link agents connected for vpcID.
func (m *Manager) Agents(vpcID string) []AgentInfo { return m.tun.agentsOf(vpcID) }

// Routable reports whether gatehouse connects to addresses of vpcID directly. A VPC is
// routable when its topology says routable: true, or says nothing and has no agent
// tokens (neither in the topology nor issued through the control plane).
func (m *Manager) Routable(vpcID string) bool {
	v, ok := m.topo.VPC(vpcID)
	if !ok {
		return false
	}
	return m.routable(v, m.snap.Load())
}

func (m *Manager) routable(v *config.VPC, s *snapshot) bool {
	if v.Routable != nil {
		return *v.Routable
	}
	return len(v.AgentTokens) == 0 && !s.vpcHasStoredTokens[v.ID]
}

// DialVPC connects to addr (an IP:port) inside VPC vpcID: directly when the VPC is
// routable, else through one of its link agents (the least loaded; another one if a
// tunnel turns out to be dead). An agent of one VPC is never used for another's
// addresses.
func (m *Manager) DialVPC(ctx context.Context, vpcID, network, addr string) (net.Conn, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, fmt.Errorf("vpclink: network %q is not supported", network)
	}
	v, ok := m.topo.VPC(vpcID)
	if !ok {
		return nil, fmt.Errorf("vpclink: unknown VPC %q", vpcID)
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, fmt.Errorf("vpclink: %q is not an IP:port address", addr)
	}
	if m.ctx.Err() != nil {
		return nil, ErrClosed
	}
	if m.routable(v, m.snap.Load()) {
		return m.opts.DirectDial(ctx, "tcp", ap.String())
	}
	return m.tun.dial(ctx, vpcID, ap)
}

// verifyToken checks an agent token against the topology's and the stored tokens.
func (m *Manager) verifyToken(token string) (Join, error) {
	return m.verifyHash(apimodel.AgentTokenHash(token))
}

func (m *Manager) verifyHash(h string) (Join, error) {
	s := m.snap.Load()
	vpcID, account := "", ""
	if j, ok := s.topoTokens[h]; ok {
		vpcID, account = j.VpcID, j.Account
	} else if d, ok := s.tokens[h]; ok {
		if d.Revoked {
			return Join{VpcID: d.VpcID}, ErrRevokedToken
		}
		vpcID, account = d.VpcID, d.Account
	} else {
		return Join{}, ErrUnknownToken
	}
	v, ok := m.topo.VPC(vpcID)
	if !ok || (account != "" && v.Account != account) {
		return Join{}, ErrUnknownToken
	}
	cidrs := []netip.Prefix{v.CIDR}
	return Join{VpcID: v.ID, Account: v.Account, CIDRs: cidrs, TokenHash: h}, nil
}

// TargetHealth reports the health of a target group's targets as DescribeTargetHealth
// does, including targets still draining after deregistration; nil for an unknown
// target group. It satisfies elbv2api.HealthSource.
func (m *Manager) TargetHealth(targetGroupArn string) []apimodel.TargetHealthDescription {
	g := m.snap.Load().tgs[targetGroupArn]
	if g == nil {
		return nil
	}
	return g.health()
}
