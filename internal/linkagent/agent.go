// Package linkagent is the VPC-link agent: `gatehouse link-agent` runs inside a private
// network, dials OUT to gatehouse's tunnel listener over TLS (gatehouse's CA pinned),
// joins its VPC with a token, and carries the connections gatehouse opens through the
// tunnel to addresses in that VPC. The backend network never accepts an inbound
// connection from gatehouse.
//
// The wire format is package tunnelwire (TLS 1.3 + one Hello/Welcome exchange, then a
// yamux session with one stream per TCP connection). The agent refuses addresses outside
// its VPC's CIDR blocks (which gatehouse sends on join) and, when given, outside its own
// allow-list. A refused token (unknown or revoked) ends Run with a *RefusedError; other
// failures reconnect with jittered exponential backoff.
package linkagent

import (
	"context"
	crand "crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/hashicorp/yamux"
	"github.com/prometheus/client_golang/prometheus"

	"gatehouse/internal/vpclink/tunnelwire"
)

// Options configures Run.
type Options struct {
	// Join is gatehouse's tunnel listener, host:port. Required.
	Join string
	// Token is the agent token that joins a VPC. Required.
	Token string
	// CAFile is gatehouse's CA certificate (PEM), the only root the agent trusts for
	// the tunnel. Required unless CAPEM is set.
	CAFile string
	// CAPEM is the CA certificate itself, instead of CAFile.
	CAPEM []byte
	// ServerName is the name gatehouse's certificate must carry. Default: Join's host.
	ServerName string
	// Name identifies the agent in gatehouse's metrics and logs. Default: the host name.
	Name string
	// Allow narrows the addresses the agent reaches to these blocks (inside the VPC's
	// CIDRs). Empty means the whole VPC.
	Allow []netip.Prefix
	// Logger receives the agent's log. Nil discards.
	Logger *slog.Logger
	// Registry receives the agent's metrics. Nil means none.
	Registry prometheus.Registerer
	// DialTimeout bounds a connect to a target. Default 10 s.
	DialTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait between reconnects. Defaults 100 ms, 30 s.
	MinBackoff, MaxBackoff time.Duration
	// Connections is how many tunnel connections the agent keeps (each reconnecting on
	// its own); gatehouse spreads streams over them, so one stalled TCP connection does
	// not stall every stream. Default 4.
	Connections int
	// OnJoin, if set, is called after every successful join with gatehouse's Welcome.
	OnJoin func(tunnelwire.Welcome)
	// Dial connects to targets. Default: a net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// RefusedError is gatehouse refusing the agent for good: an unknown or revoked token,
// or an incompatible protocol. Retrying does not help.
type RefusedError struct {
	Code    string
	Message string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("gatehouse refused the agent: %s (%s)", e.Message, e.Code)
}

// ConfigError is a local configuration problem found while connecting (for instance
// gatehouse's certificate does not verify against the CA file). Retrying does not help.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

type agentMetrics struct {
	connected prometheus.Gauge
	streams   prometheus.Gauge
	opened    *prometheus.CounterVec
	bytes     *prometheus.CounterVec
}

func newAgentMetrics(reg prometheus.Registerer) (*agentMetrics, error) {
	const ns, sub = "gateway", "linkagent"
	m := &agentMetrics{
		connected: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "connections", Help: "Tunnel connections the agent has to gatehouse."}),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "streams", Help: "Connections the agent is carrying."}),
		opened: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "streams_total", Help: "Connections gatehouse asked for, by result."}, []string{"result"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "bytes_total", Help: "Bytes carried; direction is to_target or from_target."}, []string{"direction"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.connected, m.streams, m.opened, m.bytes} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// agent is one Run's state.
type agent struct {
	opts     Options
	instance string
	log      *slog.Logger
	met      *agentMetrics
	tlsCfg   *tls.Config
	dial     func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Run joins gatehouse and serves connections until ctx ends (then it returns nil) or
// gatehouse refuses the agent (a *RefusedError) or the configuration is wrong (a
// *ConfigError). Lost tunnels are re-established with backoff.
func Run(ctx context.Context, opts Options) error {
	a, err := newAgent(opts)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, a.opts.Connections)
	for range a.opts.Connections {
		go func() { errc <- a.keep(ctx) }()
	}
	var first error
	for range a.opts.Connections {
		if err := <-errc; err != nil && first == nil {
			first = err
			cancel()
		}
	}
	return first
}

// keep keeps one tunnel connection up until ctx ends (nil) or gatehouse refuses the
// agent or the configuration is wrong.
func (a *agent) keep(ctx context.Context) error {
	backoff := a.opts.MinBackoff
	for {
		up, err := a.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		var refused *RefusedError
		var cfgErr *ConfigError
		if errors.As(err, &refused) || errors.As(err, &cfgErr) {
			return err
		}
		if up > 10*time.Second {
			backoff = a.opts.MinBackoff
		}
		wait := backoff/2 + rand.N(backoff/2+1)
		a.log.Warn("tunnel to gatehouse lost; reconnecting", "err", err, "in", wait.Round(time.Millisecond))
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		backoff = min(2*backoff, a.opts.MaxBackoff)
	}
}

func newAgent(opts Options) (*agent, error) {
	if opts.Join == "" {
		return nil, &ConfigError{errors.New("the tunnel address to join is required")}
	}
	if opts.Token == "" {
		return nil, &ConfigError{errors.New("the agent token is required")}
	}
	host, _, err := net.SplitHostPort(opts.Join)
	if err != nil {
		return nil, &ConfigError{fmt.Errorf("join address %q: %w", opts.Join, err)}
	}
	pem := opts.CAPEM
	if pem == nil {
		if opts.CAFile == "" {
			return nil, &ConfigError{errors.New("gatehouse's CA certificate is required")}
		}
		if pem, err = os.ReadFile(opts.CAFile); err != nil {
			return nil, &ConfigError{fmt.Errorf("reading the CA file: %w", err)}
		}
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, &ConfigError{errors.New("the CA file holds no PEM certificate")}
	}
	if opts.ServerName == "" {
		opts.ServerName = host
	}
	if opts.Name == "" {
		opts.Name, _ = os.Hostname()
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = 10 * time.Second
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 100 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 30 * time.Second
	}
	if opts.Connections <= 0 {
		opts.Connections = 4
	}
	opts.MaxBackoff = max(opts.MaxBackoff, opts.MinBackoff)
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	met, err := newAgentMetrics(opts.Registry)
	if err != nil {
		return nil, &ConfigError{fmt.Errorf("metrics: %w", err)}
	}
	dial := opts.Dial
	if dial == nil {
		d := &net.Dialer{KeepAlive: 30 * time.Second}
		dial = d.DialContext
	}
	var inst [8]byte
	_, _ = crand.Read(inst[:])
	return &agent{
		opts:     opts,
		instance: hex.EncodeToString(inst[:]),
		log:      log.With("component", "linkagent"),
		met:      met,
		tlsCfg: &tls.Config{
			RootCAs:    pool,
			ServerName: opts.ServerName,
			NextProtos: []string{tunnelwire.ALPN},
			MinVersion: tls.VersionTLS13,
		},
		dial: dial,
	}, nil
}

// session runs one tunnel: connect, join, serve streams until the tunnel ends. up is how
// long the tunnel was joined.
func (a *agent) session(ctx context.Context) (up time.Duration, _ error) {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 15 * time.Second}
	raw, err := d.DialContext(ctx, "tcp", a.opts.Join)
	if err != nil {
		return 0, err
	}
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()
	_ = raw.SetDeadline(time.Now().Add(15 * time.Second))
	cork := tunnelwire.Cork(raw)
	tc := tls.Client(cork, a.tlsCfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		var unknownCA x509.UnknownAuthorityError
		var hostErr x509.HostnameError
		var invalid x509.CertificateInvalidError
		if errors.As(err, &unknownCA) || errors.As(err, &hostErr) || errors.As(err, &invalid) {
			return 0, &ConfigError{fmt.Errorf("gatehouse's tunnel certificate does not verify against the CA file: %w", err)}
		}
		return 0, fmt.Errorf("TLS handshake with %s: %w", a.opts.Join, err)
	}
	if p := tc.ConnectionState().NegotiatedProtocol; p != tunnelwire.ALPN {
		raw.Close()
		return 0, &ConfigError{fmt.Errorf("%s is not a gatehouse tunnel listener (ALPN %q)", a.opts.Join, p)}
	}
	if err := tunnelwire.WriteMessage(tc, &tunnelwire.Hello{Version: tunnelwire.Version, Token: a.opts.Token, Agent: a.opts.Name, Instance: a.instance}); err != nil {
		raw.Close()
		return 0, err
	}
	var w tunnelwire.Welcome
	if err := tunnelwire.ReadMessage(tc, &w); err != nil {
		raw.Close()
		return 0, fmt.Errorf("reading gatehouse's answer: %w", err)
	}
	if !w.OK {
		raw.Close()
		if w.Permanent() {
			return 0, &RefusedError{Code: w.Code, Message: w.Message}
		}
		return 0, fmt.Errorf("gatehouse cannot take the agent now: %s (%s)", w.Message, w.Code)
	}
	var cidrs []netip.Prefix
	for _, s := range w.CIDRs {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			raw.Close()
			return 0, fmt.Errorf("gatehouse sent a bad CIDR %q", s)
		}
		cidrs = append(cidrs, p.Masked())
	}
	_ = raw.SetDeadline(time.Time{})
	sess, err := yamux.Client(tunnelwire.FrameConn(tc, cork), tunnelwire.YamuxConfig())
	if err != nil {
		raw.Close()
		return 0, err
	}
	joined := time.Now()
	a.log.Info("joined", "vpc", w.VpcID, "account", w.Account, "cidrs", w.CIDRs, "agentId", w.AgentID)
	if a.opts.OnJoin != nil {
		a.opts.OnJoin(w)
	}
	a.met.connected.Inc()
	defer a.met.connected.Dec()

	var wg sync.WaitGroup
	defer wg.Wait()
	defer sess.Close()
	for {
		st, err := sess.AcceptStream()
		if err != nil {
			if ctx.Err() != nil {
				return time.Since(joined), ctx.Err()
			}
			return time.Since(joined), fmt.Errorf("tunnel closed: %w", err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.serveStream(ctx, st, w.VpcID, cidrs)
		}()
	}
}

// allowed reports whether the agent may connect to addr.
func (a *agent) allowed(addr netip.Addr, cidrs []netip.Prefix) bool {
	in := false
	for _, p := range cidrs {
		if p.Contains(addr) {
			in = true
			break
		}
	}
	if !in {
		return false
	}
	if len(a.opts.Allow) == 0 {
		return true
	}
	for _, p := range a.opts.Allow {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

func (a *agent) serveStream(ctx context.Context, st *yamux.Stream, vpc string, cidrs []netip.Prefix) {
	defer st.Close()
	_ = st.SetReadDeadline(time.Now().Add(10 * time.Second))
	o, err := tunnelwire.ReadOpen(st)
	if err != nil {
		a.met.opened.WithLabelValues("bad_request").Inc()
		a.reply(st, tunnelwire.ReplyBadRequest, err.Error())
		return
	}
	_ = st.SetReadDeadline(time.Time{})
	addr := o.Address.Addr().Unmap()
	target := netip.AddrPortFrom(addr, o.Address.Port())
	if !a.allowed(addr, cidrs) {
		a.met.opened.WithLabelValues("forbidden").Inc()
		a.reply(st, tunnelwire.ReplyForbidden, fmt.Sprintf("%s is outside %s's allowed addresses", addr, vpc))
		a.log.Warn("refused a connection outside the VPC", "addr", target.String())
		return
	}
	timeout := a.opts.DialTimeout
	if o.Timeout > 0 {
		timeout = min(timeout, o.Timeout)
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	conn, err := a.dial(dctx, "tcp", target.String())
	cancel()
	if err != nil {
		code, result := classify(err)
		a.met.opened.WithLabelValues(result).Inc()
		a.reply(st, code, err.Error())
		return
	}
	defer conn.Close()
	a.met.opened.WithLabelValues("ok").Inc()
	if !a.reply(st, tunnelwire.ReplyOK, "") {
		return
	}
	a.met.streams.Inc()
	defer a.met.streams.Dec()

	toTarget := a.met.bytes.WithLabelValues("to_target")
	fromTarget := a.met.bytes.WithLabelValues("from_target")
	// A lost tunnel or a stopping agent ends the connection even when neither side
	// is sending.
	finished := make(chan struct{})
	defer close(finished)
	go func() {
		select {
		case <-st.Session().CloseChan():
		case <-ctx.Done():
		case <-finished:
			return
		}
		conn.Close()
		_ = st.SetDeadline(time.Now())
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(countingWriter{conn, toTarget}, st)
		if cw, ok := conn.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		} else {
			conn.Close()
		}
	}()
	buf := make([]byte, 256<<10)
	_, _ = io.CopyBuffer(countingWriter{st, fromTarget}, onlyReader{conn}, buf)
	st.Close() // FIN: gatehouse reads EOF
	<-done
}

// onlyReader hides a connection's WriterTo, so that io.CopyBuffer uses the buffer.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	c prometheus.Counter
}

func (w countingWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if n > 0 {
		w.c.Add(float64(n))
	}
	return n, err
}

func (a *agent) reply(st *yamux.Stream, code byte, msg string) bool {
	_ = st.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err := st.Write(tunnelwire.AppendReply(nil, tunnelwire.Reply{Code: code, Message: msg}))
	_ = st.SetWriteDeadline(time.Time{})
	return err == nil
}

// classify maps a connect error to a reply code and a metrics result.
func classify(err error) (byte, string) {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return tunnelwire.ReplyRefused, "refused"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return tunnelwire.ReplyTimeout, "timeout"
	}
	return tunnelwire.ReplyUnreachable, "unreachable"
}
