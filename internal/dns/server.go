package dns

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	mdns "github.com/miekg/dns"

	"gatehouse/internal/config"
	"gatehouse/internal/dns/r53"
	"gatehouse/internal/store"
)

// Defaults of Options.
const (
	DefaultCacheSize      = 10000
	DefaultForwardTimeout = 2 * time.Second
	// MaxForwards bounds concurrent forwarded queries; more get SERVFAIL.
	MaxForwards = 512
	// MaxTCPConns bounds concurrent TCP connections per listener; more are
	// closed at once.
	MaxTCPConns = 256
	// tcpIdle is how long a TCP connection may stay idle (RFC 7766 suggests
	// seconds).
	tcpIdle = 10 * time.Second
)

// Watcher is the part of the store the DNS server reads: *store.Store
// satisfies it.
type Watcher interface {
	Watch(ctx context.Context, bucket string) (<-chan store.Event, error)
}

var _ Watcher = (*store.Store)(nil)

// Options configures New.
type Options struct {
	// Topology is the infrastructure: VPCs, endpoints, resolver addresses,
	// zones. Required.
	Topology *config.Topology
	// Store is watched for hosted zones (r53.BucketZones), health checks
	// (r53.BucketHealthChecks), REST APIs (apimodel.BucketRestAPIs) and
	// Cloud Map namespaces, services and instances
	// (apimodel.BucketCloudMap). Nil serves the topology's data only.
	Store Watcher
	// Logger receives errors and state changes. Nil discards.
	Logger *slog.Logger
	// PublicAddrs are the addresses public APIs resolve to (the public
	// listener). Default: the host of publicListener.listen when it is a
	// specific IP address, else 127.0.0.1.
	PublicAddrs []netip.Addr
	// HealthInterval turns a health check's RequestInterval (10 or 30
	// seconds) into the time between its probes. Default: that many
	// seconds. Tests shrink it.
	HealthInterval func(seconds int) time.Duration
	// RandN returns a uniform integer in [0, n) for weighted and
	// multivalue answers. Default math/rand/v2.Int64N.
	RandN func(n int64) int64
	// CacheSize bounds the cached responses per horizon. Default
	// DefaultCacheSize; negative disables the cache.
	CacheSize int
	// UDPReaders is the number of goroutines reading each UDP listener.
	// Default GOMAXPROCS.
	UDPReaders int
	// ForwardTimeout bounds one forwarded query. Default 2s.
	ForwardTimeout time.Duration
}

// Listener describes one bound listener.
type Listener struct {
	// Kind is "vpc" (a VPC's resolver), "inbound" (a resolver endpoint
	// address) or "public".
	Kind string
	// ID is the VPC id, the resolver endpoint id, or "public".
	ID string
	// VPC is the horizon: the VPC the answers are for, "" for public.
	VPC string
	// UDP and TCP are the bound addresses (host:port).
	UDP, TCP string
}

// Server is the DNS server. Create it with New, then Start; Close stops it.
type Server struct {
	opts   Options
	log    *slog.Logger
	topo   *config.Topology
	randN  func(int64) int64
	health *healthChecker

	view atomic.Pointer[view]
	st   *state

	listeners []*listener
	forwards  chan struct{} // semaphore
	client    *mdns.Client
	tcpClient *mdns.Client

	ready     chan struct{}
	readyOnce sync.Once
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// listener is one bound address.
type listener struct {
	info  Listener
	udp   *net.UDPConn
	tcp   *net.TCPListener
	conns chan struct{} // TCP connection semaphore
}

// New checks opts, compiles the topology's zones and binds every listener,
// so that address errors surface before anything serves. On error nothing
// is left open.
func New(ctx context.Context, opts Options) (_ *Server, err error) {
	t := opts.Topology
	if t == nil {
		return nil, errors.New("dns: no topology")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.HealthInterval == nil {
		opts.HealthInterval = func(s int) time.Duration { return time.Duration(s) * time.Second }
	}
	if opts.RandN == nil {
		opts.RandN = rand.Int64N
	}
	if opts.CacheSize == 0 {
		opts.CacheSize = DefaultCacheSize
	}
	if opts.CacheSize < 0 {
		opts.CacheSize = 0
	}
	if opts.UDPReaders <= 0 {
		opts.UDPReaders = runtime.GOMAXPROCS(0)
	}
	if opts.ForwardTimeout <= 0 {
		opts.ForwardTimeout = DefaultForwardTimeout
	}
	if len(opts.PublicAddrs) == 0 {
		opts.PublicAddrs = defaultPublicAddrs(t)
	}
	log := opts.Logger.With("component", "dns")
	s := &Server{
		opts:      opts,
		log:       log,
		topo:      t,
		randN:     opts.RandN,
		forwards:  make(chan struct{}, MaxForwards),
		client:    &mdns.Client{Net: "udp", Timeout: opts.ForwardTimeout, UDPSize: maxUDPSize},
		tcpClient: &mdns.Client{Net: "tcp", Timeout: opts.ForwardTimeout},
		ready:     make(chan struct{}),
	}
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	s.health = newHealthChecker(s.ctx, t.Region, opts.HealthInterval, log)
	for _, h := range t.DNS.HealthChecks {
		s.health.upsert(h.ID, h.Config)
	}
	s.st, err = newState(t, opts.PublicAddrs, opts.CacheSize, log)
	if err != nil {
		s.cancel()
		return nil, err
	}
	s.view.Store(s.st.build())

	defer func() {
		if err != nil {
			s.closeListeners()
			s.cancel()
			s.health.stop()
		}
	}()
	port := strconv.Itoa(t.DNS.Port)
	for _, v := range t.VPCs {
		if !v.DNSAddress.IsValid() {
			continue
		}
		if !v.EnableDNSSupport {
			// AWS: without DNS support the VPC's resolver does not answer.
			log.Info("VPC has enableDnsSupport false: no resolver", "vpc", v.ID)
			continue
		}
		if err := s.bind(Listener{Kind: "vpc", ID: v.ID, VPC: v.ID}, net.JoinHostPort(v.DNSAddress.String(), port)); err != nil {
			return nil, err
		}
	}
	for _, e := range t.DNS.ResolverEndpoints {
		for _, a := range e.Addresses {
			if err := s.bind(Listener{Kind: "inbound", ID: e.ID, VPC: e.VPC}, net.JoinHostPort(a.String(), port)); err != nil {
				return nil, err
			}
		}
	}
	if l := t.DNS.PublicResolver.Listen; l != "" {
		if err := s.bind(Listener{Kind: "public", ID: "public"}, l); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func defaultPublicAddrs(t *config.Topology) []netip.Addr {
	host, _, err := net.SplitHostPort(t.PublicListener.Listen)
	if err == nil {
		if a, err := netip.ParseAddr(host); err == nil && !a.IsUnspecified() {
			return []netip.Addr{a.Unmap()}
		}
	}
	return []netip.Addr{netip.MustParseAddr("127.0.0.1")}
}

// bind opens UDP and TCP on addr; with port 0 the TCP listener takes the
// UDP port picked by the system.
func (s *Server) bind(info Listener, addr string) error {
	ua, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return fmt.Errorf("dns: %s %s: %w", info.Kind, info.ID, err)
	}
	var lc net.ListenConfig
	var uc *net.UDPConn
	var tl *net.TCPListener
	for attempt := 0; ; attempt++ {
		pc, err := lc.ListenPacket(s.ctx, "udp", ua.String())
		if err != nil {
			return fmt.Errorf("dns: %s %s: listen udp %s: %w", info.Kind, info.ID, addr, err)
		}
		uc = pc.(*net.UDPConn)
		ta := uc.LocalAddr().(*net.UDPAddr)
		l, err := lc.Listen(s.ctx, "tcp", net.JoinHostPort(ta.IP.String(), strconv.Itoa(ta.Port)))
		if err == nil {
			tl = l.(*net.TCPListener)
			break
		}
		_ = uc.Close()
		if ua.Port != 0 || attempt >= 10 {
			return fmt.Errorf("dns: %s %s: listen tcp %s: %w", info.Kind, info.ID, addr, err)
		}
	}
	_ = uc.SetReadBuffer(4 << 20)
	info.UDP = uc.LocalAddr().String()
	info.TCP = tl.Addr().String()
	s.listeners = append(s.listeners, &listener{info: info, udp: uc, tcp: tl, conns: make(chan struct{}, MaxTCPConns)})
	return nil
}

// Listeners returns the bound listeners.
func (s *Server) Listeners() []Listener {
	out := make([]Listener, len(s.listeners))
	for i, l := range s.listeners {
		out[i] = l.info
	}
	return out
}

// Ready is closed once the store's current zones, health checks and APIs
// are loaded (at once without a store).
func (s *Server) Ready() <-chan struct{} { return s.ready }

// Start starts serving every listener, watching the store and running the
// health checks. It returns at once.
func (s *Server) Start(ctx context.Context) error {
	if s.opts.Store != nil {
		if err := s.st.watch(s.ctx, s.opts.Store, s.health, s.publish, s.markReady, &s.wg); err != nil {
			return err
		}
	} else {
		s.markReady()
	}
	for _, l := range s.listeners {
		for range s.opts.UDPReaders {
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.serveUDP(l)
			}()
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.serveTCP(l)
		}()
	}
	return nil
}

func (s *Server) markReady() { s.readyOnce.Do(func() { close(s.ready) }) }

// publish swaps in a new view.
func (s *Server) publish(v *view) { s.view.Store(v) }

// Close stops the listeners, the store watches and the health checks, and
// waits for in-flight queries. It is idempotent.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		s.closeListeners()
		s.health.stop()
		s.wg.Wait()
	})
	return nil
}

func (s *Server) closeListeners() {
	for _, l := range s.listeners {
		_ = l.udp.Close()
		_ = l.tcp.Close()
	}
}

// HealthCheckStatus returns the latest observation of health check id.
func (s *Server) HealthCheckStatus(id string) (r53.HealthObservation, bool) {
	return s.health.status(id)
}

// serve answers one query and hands the response to send, now or (for a
// forwarded query) later from another goroutine. It is the one place where
// panics are recovered: a panic answers SERVFAIL.
func (s *Server) serve(vpc string, raw []byte, udp bool, buf []byte, send func([]byte)) {
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("panic answering a DNS query", "panic", v, "stack", string(debug.Stack()))
			send(headerOnly(raw, mdns.RcodeServerFailure))
		}
	}()
	out, p := s.handle(s.view.Load(), vpc, raw, udp, buf)
	if p == nil {
		if out != nil {
			send(out)
		}
		return
	}
	select {
	case s.forwards <- struct{}{}:
	default:
		send(s.reply(p.req, nil, mdns.RcodeServerFailure, udp, buf))
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() { <-s.forwards }()
		defer func() {
			if v := recover(); v != nil {
				s.log.Error("panic forwarding a DNS query", "panic", v, "stack", string(debug.Stack()))
			}
		}()
		send(s.forward(p, udp))
	}()
}

// forward sends p's question to its targets in order and relays the first
// answer.
func (s *Server) forward(p *pending, udp bool) []byte {
	q := new(mdns.Msg)
	q.Id = mdns.Id()
	q.RecursionDesired = true
	q.Question = p.req.Question
	q.SetEdns0(maxUDPSize, false)
	opt := q.IsEdns0()
	opt.Option = append(opt.Option, hopOptionFor(p.hops+1))

	var up *mdns.Msg
	for _, t := range p.targets {
		ctx, cancel := context.WithTimeout(s.ctx, s.opts.ForwardTimeout)
		r, _, err := s.client.ExchangeContext(ctx, q, t.String())
		if err == nil && r.Truncated {
			r, _, err = s.tcpClient.ExchangeContext(ctx, q, t.String())
		}
		cancel()
		if err != nil {
			s.log.Debug("forward failed", "target", t.String(), "name", q.Question[0].Name, "err", err)
			continue
		}
		up = r
		break
	}
	m := new(mdns.Msg)
	m.SetReply(p.req)
	m.RecursionAvailable = p.ra
	if up == nil {
		m.Rcode = mdns.RcodeServerFailure
	} else {
		m.Rcode = up.Rcode
		m.Answer = up.Answer
		m.Ns = up.Ns
		for _, rr := range up.Extra {
			if rr.Header().Rrtype != mdns.TypeOPT {
				m.Extra = append(m.Extra, rr)
			}
		}
	}
	if p.hasOpt {
		m.SetEdns0(maxUDPSize, false)
	}
	m.Truncate(p.limit)
	out, err := m.Pack()
	if err != nil {
		return headerOnly(nil, mdns.RcodeServerFailure)
	}
	return out
}

// serveUDP reads queries from l until it is closed, answering inline.
func (s *Server) serveUDP(l *listener) {
	in := make([]byte, mdns.MaxMsgSize)
	out := make([]byte, mdns.MaxMsgSize)
	vpc := l.info.VPC
	for {
		n, from, err := l.udp.ReadFromUDPAddrPort(in)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		raw := in[:n]
		s.serve(vpc, raw, true, out, func(b []byte) {
			_, _ = l.udp.WriteToUDPAddrPort(b, from)
		})
	}
}

// serveTCP accepts connections on l until it is closed.
func (s *Server) serveTCP(l *listener) {
	for {
		c, err := l.tcp.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		select {
		case l.conns <- struct{}{}:
		default:
			_ = c.Close()
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() { <-l.conns }()
			s.serveConn(l, c)
		}()
	}
}

// serveConn answers length-prefixed queries on one TCP connection
// (RFC 7766), in order, until the client closes it, it idles or the
// server stops.
func (s *Server) serveConn(l *listener, c net.Conn) {
	defer c.Close()
	stop := context.AfterFunc(s.ctx, func() { _ = c.Close() })
	defer stop()
	var wmu sync.Mutex
	send := func(b []byte) {
		frame := make([]byte, 2+len(b))
		binary.BigEndian.PutUint16(frame, uint16(len(b)))
		copy(frame[2:], b)
		wmu.Lock()
		defer wmu.Unlock()
		_ = c.SetWriteDeadline(time.Now().Add(tcpIdle))
		_, _ = c.Write(frame)
	}
	var lenBuf [2]byte
	out := make([]byte, mdns.MaxMsgSize)
	for {
		_ = c.SetReadDeadline(time.Now().Add(tcpIdle))
		if _, err := io.ReadFull(c, lenBuf[:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(lenBuf[:]))
		if n == 0 {
			return
		}
		raw := make([]byte, n)
		if _, err := io.ReadFull(c, raw); err != nil {
			return
		}
		s.serve(l.info.VPC, raw, false, out, send)
	}
}
