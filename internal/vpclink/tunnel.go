package vpclink

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/yamux"
	"github.com/prometheus/client_golang/prometheus"

	"gatehouse/internal/vpclink/tunnelwire"
)

// Join is what an agent token grants: membership of one VPC.
type Join struct {
	VpcID   string
	Account string
	// CIDRs are the VPC's address blocks; the agent reaches only these.
	CIDRs []netip.Prefix
	// TokenHash is the token's AgentTokenHash, used to drop the agent when the token is
	// revoked.
	TokenHash string
}

// Errors of agent joins and of dialing through agents.
var (
	// ErrUnknownToken: no VPC has the agent's token.
	ErrUnknownToken = errors.New("vpclink: unknown agent token")
	// ErrRevokedToken: the agent's token was revoked.
	ErrRevokedToken = errors.New("vpclink: agent token revoked")
	// ErrNoAgent: the VPC is not directly routable and no link agent of it is connected.
	ErrNoAgent = errors.New("vpclink: no link agent connected")
	// ErrClosed: the manager was closed.
	ErrClosed = errors.New("vpclink: closed")
)

// DialError is a connect that a link agent (or the direct dialer) reports as failed.
type DialError struct {
	VpcID string
	Addr  string
	// Agent is the agent that tried, "" for a direct connect.
	Agent string
	// Reason is refused, forbidden, unreachable, timeout or protocol.
	Reason string
	Msg    string
}

func (e *DialError) Error() string {
	via := "direct"
	if e.Agent != "" {
		via = "agent " + e.Agent
	}
	return fmt.Sprintf("vpclink: connect to %s in %s (%s): %s: %s", e.Addr, e.VpcID, via, e.Reason, e.Msg)
}

// Timeout reports whether the connect timed out.
func (e *DialError) Timeout() bool { return e.Reason == "timeout" }

// Temporary is part of net.Error.
func (e *DialError) Temporary() bool { return false }

var replyReasons = map[byte]string{
	tunnelwire.ReplyForbidden:   "forbidden",
	tunnelwire.ReplyRefused:     "refused",
	tunnelwire.ReplyUnreachable: "unreachable",
	tunnelwire.ReplyTimeout:     "timeout",
	tunnelwire.ReplyBadRequest:  "protocol",
}

// AgentInfo describes a connected link agent.
type AgentInfo struct {
	// ID is the agent's instance id (one per running agent).
	ID     string
	Name   string
	VpcID  string
	Remote string
	// Connections is how many tunnel connections the agent has; Streams how many
	// connections to targets they carry.
	Connections int
	Streams     int64
	Since       time.Time
}

// tunnel is gatehouse's side of the link-agent tunnels: it accepts agents, keeps their
// yamux sessions by VPC and opens streams through them.
type tunnel struct {
	verify           func(token string) (Join, error)
	log              *slog.Logger
	met              *metrics
	handshakeTimeout time.Duration
	maxStreams       int64

	rr atomic.Uint64

	// mu guards the fields below.
	mu        sync.Mutex
	closed    bool
	agents    map[string][]*agentConn // by VPC id
	listeners map[net.Listener]struct{}
	pending   map[net.Conn]struct{} // connections still in the handshake
	wg        sync.WaitGroup
}

type agentConn struct {
	id, name, instance, vpc, tokenHash, remote string
	since                                      time.Time
	sess                                       *yamux.Session
	active                                     atomic.Int64

	streams            prometheus.Gauge
	opened             prometheus.Counter
	bytesTo, bytesFrom prometheus.Counter
	dialErrs           *prometheus.CounterVec
}

func newTunnel(verify func(string) (Join, error), log *slog.Logger, met *metrics, maxStreams int) *tunnel {
	return &tunnel{
		verify:           verify,
		log:              log,
		met:              met,
		handshakeTimeout: 10 * time.Second,
		maxStreams:       int64(maxStreams),
		agents:           map[string][]*agentConn{},
		listeners:        map[net.Listener]struct{}{},
		pending:          map[net.Conn]struct{}{},
	}
}

// serve accepts agents on ln until ln fails or the tunnel is closed. cfg is the TLS
// server configuration (certificate from gatehouse's CA); it is cloned and restricted to
// TLS 1.3 and the tunnel's ALPN.
func (t *tunnel) serve(ln net.Listener, cfg *tls.Config) error {
	cfg = cfg.Clone()
	cfg.MinVersion = tls.VersionTLS13
	cfg.NextProtos = []string{tunnelwire.ALPN}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		ln.Close()
		return ErrClosed
	}
	t.listeners[ln] = struct{}{}
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		delete(t.listeners, ln)
		t.mu.Unlock()
	}()
	var delay time.Duration
	for {
		c, err := ln.Accept()
		if err != nil {
			t.mu.Lock()
			closed := t.closed
			t.mu.Unlock()
			if closed {
				return ErrClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			c.Close()
			return ErrClosed
		}
		t.pending[c] = struct{}{}
		t.wg.Add(1)
		t.mu.Unlock()
		go t.handle(c, cfg)
	}
}

func (t *tunnel) handle(raw net.Conn, cfg *tls.Config) {
	defer t.wg.Done()
	a, err := t.handshake(raw, cfg)
	t.mu.Lock()
	delete(t.pending, raw)
	if err == nil && t.closed {
		err = ErrClosed
	}
	if err != nil {
		t.mu.Unlock()
		if a != nil {
			a.sess.Close()
		}
		raw.Close()
		t.log.Debug("link agent refused", "remote", raw.RemoteAddr().String(), "err", err)
		return
	}
	t.agents[a.vpc] = append(t.agents[a.vpc], a)
	t.met.agents.WithLabelValues(a.vpc).Inc()
	t.mu.Unlock()
	t.log.Info("link agent joined", "vpc", a.vpc, "agent", a.name, "id", a.id, "remote", a.remote)

	// Agents never open streams; refuse any they do. AcceptStream returns when the
	// session ends.
	for {
		s, err := a.sess.AcceptStream()
		if err != nil {
			break
		}
		s.Close()
	}

	t.mu.Lock()
	list := t.agents[a.vpc]
	if i := slices.Index(list, a); i >= 0 {
		t.agents[a.vpc] = slices.Delete(slices.Clone(list), i, i+1)
		t.met.agents.WithLabelValues(a.vpc).Dec()
	}
	if len(t.agents[a.vpc]) == 0 {
		delete(t.agents, a.vpc)
	}
	t.mu.Unlock()
	t.log.Info("link agent left", "vpc", a.vpc, "agent", a.name, "id", a.id)
}

// handshake runs TLS, reads the Hello, checks the token and starts the yamux session.
func (t *tunnel) handshake(raw net.Conn, cfg *tls.Config) (*agentConn, error) {
	if err := raw.SetDeadline(time.Now().Add(t.handshakeTimeout)); err != nil {
		return nil, err
	}
	cork := tunnelwire.Cork(raw)
	tc := tls.Server(cork, cfg)
	if err := tc.Handshake(); err != nil {
		return nil, fmt.Errorf("TLS handshake: %w", err)
	}
	if p := tc.ConnectionState().NegotiatedProtocol; p != tunnelwire.ALPN {
		return nil, fmt.Errorf("client did not negotiate %s (got %q)", tunnelwire.ALPN, p)
	}
	var h tunnelwire.Hello
	if err := tunnelwire.ReadMessage(tc, &h); err != nil {
		_ = tunnelwire.WriteMessage(tc, &tunnelwire.Welcome{Code: tunnelwire.CodeBadHello, Message: err.Error()})
		t.met.joins.WithLabelValues("", "bad_hello").Inc()
		return nil, fmt.Errorf("reading hello: %w", err)
	}
	if h.Version != tunnelwire.Version {
		msg := fmt.Sprintf("protocol version %d is not supported (gatehouse speaks %d)", h.Version, tunnelwire.Version)
		_ = tunnelwire.WriteMessage(tc, &tunnelwire.Welcome{Code: tunnelwire.CodeBadHello, Message: msg})
		t.met.joins.WithLabelValues("", "bad_hello").Inc()
		return nil, errors.New(msg)
	}
	t.mu.Lock()
	closed := t.closed
	t.mu.Unlock()
	if closed {
		_ = tunnelwire.WriteMessage(tc, &tunnelwire.Welcome{Code: tunnelwire.CodeUnavailable, Message: "gatehouse is shutting down"})
		return nil, ErrClosed
	}
	join, err := t.verify(h.Token)
	if err != nil {
		code, result := tunnelwire.CodeUnknownToken, "unknown_token"
		msg := "the token is not valid for any VPC"
		if errors.Is(err, ErrRevokedToken) {
			code, result, msg = tunnelwire.CodeRevokedToken, "revoked_token", "the token has been revoked"
		}
		_ = tunnelwire.WriteMessage(tc, &tunnelwire.Welcome{Code: code, Message: msg})
		t.met.joins.WithLabelValues(join.VpcID, result).Inc()
		return nil, err
	}
	id := randomID()
	name := h.Agent
	if len(h.Instance) > 64 {
		h.Instance = h.Instance[:64]
	}
	if name == "" || len(name) > 128 {
		name = raw.RemoteAddr().String()
	}
	cidrs := make([]string, len(join.CIDRs))
	for i, p := range join.CIDRs {
		cidrs[i] = p.String()
	}
	w := &tunnelwire.Welcome{OK: true, VpcID: join.VpcID, Account: join.Account, CIDRs: cidrs, AgentID: id}
	if err := tunnelwire.WriteMessage(tc, w); err != nil {
		return nil, err
	}
	if err := raw.SetDeadline(time.Time{}); err != nil {
		return nil, err
	}
	sess, err := yamux.Server(tunnelwire.FrameConn(tc, cork), tunnelwire.YamuxConfig())
	if err != nil {
		return nil, err
	}
	t.met.joins.WithLabelValues(join.VpcID, "ok").Inc()
	return &agentConn{
		id: id, name: name, instance: h.Instance, vpc: join.VpcID, tokenHash: join.TokenHash, remote: raw.RemoteAddr().String(),
		since: time.Now(), sess: sess,
		streams:   t.met.agentStreams.WithLabelValues(join.VpcID, name),
		opened:    t.met.agentOpened.WithLabelValues(join.VpcID, name),
		bytesTo:   t.met.agentBytes.WithLabelValues(join.VpcID, name, "to_target"),
		bytesFrom: t.met.agentBytes.WithLabelValues(join.VpcID, name, "from_target"),
		dialErrs:  t.met.agentDialErrs,
	}, nil
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// pick chooses the live agent of vpc with the fewest open streams (ties broken
// round-robin), skipping those in skip. It reports whether vpc has any agent at all.
func (t *tunnel) pick(vpc string, skip []*agentConn) (*agentConn, bool) {
	t.mu.Lock()
	list := t.agents[vpc]
	t.mu.Unlock()
	if len(list) == 0 {
		return nil, false
	}
	n := uint64(len(list))
	start := t.rr.Add(1) % n
	var best *agentConn
	var bestActive int64
	for i := range n {
		a := list[(start+i)%n]
		if slices.Contains(skip, a) || a.sess.IsClosed() {
			continue
		}
		act := a.active.Load()
		if t.maxStreams > 0 && act >= t.maxStreams {
			continue
		}
		if best == nil || act < bestActive {
			best, bestActive = a, act
		}
	}
	return best, true
}

// dial connects to addr inside vpc through one of its agents, failing over to another
// agent when a tunnel turns out to be dead.
func (t *tunnel) dial(ctx context.Context, vpc string, addr netip.AddrPort) (net.Conn, error) {
	var tried []*agentConn
	var lastErr error
	for {
		a, exists := t.pick(vpc, tried)
		if a == nil {
			if lastErr != nil {
				return nil, lastErr
			}
			if exists && t.maxStreams > 0 {
				return nil, fmt.Errorf("%w for %s: every agent is at its limit of %d connections", ErrNoAgent, vpc, t.maxStreams)
			}
			return nil, fmt.Errorf("%w for %s", ErrNoAgent, vpc)
		}
		tried = append(tried, a)
		c, err, failover := a.dial(ctx, addr)
		if err == nil {
			return c, nil
		}
		if !failover || ctx.Err() != nil {
			return nil, err
		}
		lastErr = err
	}
}

// dial opens a stream through a. failover reports a tunnel-level failure (another agent
// may succeed) as opposed to the target's answer.
func (a *agentConn) dial(ctx context.Context, addr netip.AddrPort) (_ net.Conn, _ error, failover bool) {
	timeout := time.Duration(0)
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
		if timeout <= 0 {
			return nil, context.DeadlineExceeded, false
		}
	}
	hdr, err := tunnelwire.AppendOpen(nil, tunnelwire.Open{Network: "tcp", Address: addr, Timeout: min(timeout, time.Hour)})
	if err != nil {
		return nil, err, false
	}
	st, err := a.sess.OpenStream()
	if err != nil {
		return nil, fmt.Errorf("vpclink: agent %s: open stream: %w", a.name, err), true
	}
	a.active.Add(1)
	a.streams.Inc()
	release := sync.OnceFunc(func() {
		a.active.Add(-1)
		a.streams.Dec()
	})
	stop := context.AfterFunc(ctx, func() { _ = st.SetDeadline(time.Now()) })
	abort := func() {
		stop()
		st.Close()
		release()
	}
	if _, err := st.Write(hdr); err != nil {
		abort()
		return nil, tunnelErr(ctx, a, err), ctx.Err() == nil
	}
	rep, err := tunnelwire.ReadReply(st)
	if err != nil {
		abort()
		return nil, tunnelErr(ctx, a, err), ctx.Err() == nil
	}
	if rep.Code != tunnelwire.ReplyOK {
		abort()
		reason := replyReasons[rep.Code]
		a.dialErrs.WithLabelValues(a.vpc, a.name, reason).Inc()
		return nil, &DialError{VpcID: a.vpc, Addr: addr.String(), Agent: a.name, Reason: reason, Msg: rep.Message}, false
	}
	if !stop() {
		// The context ended just as the reply came.
		st.Close()
		release()
		return nil, ctx.Err(), false
	}
	_ = st.SetDeadline(time.Time{})
	a.opened.Inc()
	return &streamConn{Stream: st, a: a, remote: net.TCPAddrFromAddrPort(addr), release: release}, nil, false
}

func tunnelErr(ctx context.Context, a *agentConn, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("vpclink: tunnel to agent %s failed: %w", a.name, err)
}

// streamConn is a connection through an agent: a yamux stream that counts bytes and
// releases the agent's stream slot when closed.
type streamConn struct {
	*yamux.Stream
	a       *agentConn
	remote  net.Addr
	release func()
	once    sync.Once
}

func (c *streamConn) Read(b []byte) (int, error) {
	n, err := c.Stream.Read(b)
	if n > 0 {
		c.a.bytesFrom.Add(float64(n))
	}
	if errors.Is(err, yamux.ErrConnectionReset) || errors.Is(err, yamux.ErrSessionShutdown) {
		err = fmt.Errorf("vpclink: tunnel to agent %s: %w", c.a.name, err)
	}
	return n, err
}

func (c *streamConn) Write(b []byte) (int, error) {
	n, err := c.Stream.Write(b)
	if n > 0 {
		c.a.bytesTo.Add(float64(n))
	}
	return n, err
}

// RemoteAddr is the target's address.
func (c *streamConn) RemoteAddr() net.Addr { return c.remote }

// CloseWrite half-closes the connection: the target reads EOF.
func (c *streamConn) CloseWrite() error { return c.Stream.Close() }

// Close closes the connection; blocked reads return.
func (c *streamConn) Close() error {
	c.once.Do(func() {
		_ = c.Stream.SetReadDeadline(time.Now())
		c.release()
	})
	return c.Stream.Close()
}

// agentsOf describes the agents of vpc.
func (t *tunnel) agentsOf(vpc string) []AgentInfo {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []AgentInfo
	at := map[string]int{}
	for _, a := range t.agents[vpc] {
		key := a.instance
		if key == "" {
			key = a.id
		}
		i, ok := at[key]
		if !ok {
			i = len(out)
			at[key] = i
			out = append(out, AgentInfo{ID: key, Name: a.name, VpcID: a.vpc, Remote: a.remote, Since: a.since})
		}
		out[i].Connections++
		out[i].Streams += a.active.Load()
		if a.since.Before(out[i].Since) {
			out[i].Since = a.since
		}
	}
	return out
}

// revalidate drops agents whose tokens no longer verify (revoked, deleted, or moved).
func (t *tunnel) revalidate(valid func(tokenHash, vpc string) bool) {
	t.mu.Lock()
	var drop []*agentConn
	for _, list := range t.agents {
		for _, a := range list {
			if !valid(a.tokenHash, a.vpc) {
				drop = append(drop, a)
			}
		}
	}
	t.mu.Unlock()
	for _, a := range drop {
		t.log.Info("dropping link agent: its token is no longer valid", "vpc", a.vpc, "agent", a.name)
		a.sess.Close()
	}
}

// close stops the listeners, closes every tunnel and waits for their goroutines.
func (t *tunnel) close() {
	t.mu.Lock()
	t.closed = true
	for ln := range t.listeners {
		ln.Close()
	}
	for c := range t.pending {
		c.Close()
	}
	var sessions []*yamux.Session
	for _, list := range t.agents {
		for _, a := range list {
			sessions = append(sessions, a.sess)
		}
	}
	t.mu.Unlock()
	for _, s := range sessions {
		s.Close()
	}
	t.wg.Wait()
}

var _ net.Conn = (*streamConn)(nil)
