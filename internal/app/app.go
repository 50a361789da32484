// Package app wires gatehouse together: the store, the certificate authority, the control
// plane, the data plane and its listeners, and the watcher that compiles stored documents
// into the data plane's snapshot. It owns start-up and the shutdown order, and is the only
// package that imports everything.
package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"gatehouse/internal/accesslog"
	"gatehouse/internal/apigwv2api"
	"gatehouse/internal/apimodel"
	"gatehouse/internal/authorizer"
	"gatehouse/internal/awsproto"
	"gatehouse/internal/certs"
	"gatehouse/internal/cloudmapapi"
	"gatehouse/internal/config"
	"gatehouse/internal/controlplane"
	"gatehouse/internal/dataplane"
	"gatehouse/internal/deployment"
	"gatehouse/internal/dns"
	"gatehouse/internal/ec2api"
	"gatehouse/internal/elbv2api"
	"gatehouse/internal/function"
	"gatehouse/internal/h1server"
	"gatehouse/internal/lambdaapi"
	"gatehouse/internal/network"
	"gatehouse/internal/policy"
	"gatehouse/internal/route53api"
	"gatehouse/internal/store"
	"gatehouse/internal/stsapi"
	"gatehouse/internal/throttle"
	"gatehouse/internal/vpclink"
)

// Options configure an App. Topology is required.
type Options struct {
	Topology *config.Topology
	// DataDir holds the embedded store, the CA and the access logs.
	DataDir string
	// NATSURL, when set, uses an external NATS server instead of the embedded one.
	NATSURL string
	Logger  *slog.Logger
	// Registry receives gatehouse's metrics; nil creates a private one.
	Registry *prometheus.Registry
	// ShutdownGrace bounds how long in-flight requests may drain (default 10s).
	ShutdownGrace time.Duration
	// Pprof serves net/http/pprof under /debug/pprof/ on the control-plane listener.
	Pprof bool
}

// EndpointAddrs are the bound addresses of one VPC endpoint "ENI".
type EndpointAddrs struct {
	Address netip.Addr
	TLS     string // host:port, "" if none
	HTTP    string // host:port, "" if none
}

// Addrs are where everything listens (actual ports, also when configured as 0).
type Addrs struct {
	ControlPlane string
	Public       string
	PublicHTTP   string
	Endpoints    map[string][]EndpointAddrs // by vpce id
	DNS          []dns.Listener
	Tunnel       string // where link agents connect, "" if none
}

// App is a running gatehouse.
type App struct {
	opts   Options
	log    *slog.Logger
	topo   *config.Topology
	store  *store.Store
	ca     *certs.CA
	sinks  *accesslog.Sinks
	cp     *controlplane.Server
	dp     *dataplane.Server
	lim    *throttle.Limiter
	fnHost *function.Host
	lam    *lambdaapi.Server
	dns    *dns.Server
	r53    *route53api.Server
	elb    *elbv2api.Server
	cmap   *cloudmapapi.Server
	apiv2  *apigwv2api.Server
	links  *vpclink.Manager
	ec2    *ec2api.Server
	// dir holds the IAM principals and the temporary credentials STS issues; the data
	// plane's AWS_IAM authorizer and STS share it.
	dir    *authorizer.Directory
	sts    *stsapi.Server
	reg    *prometheus.Registry
	addrs  Addrs
	ready  chan struct{}
	cancel context.CancelFunc
	done   chan struct{}

	servers   []httpServer
	listeners []net.Listener
	tunnel    net.Listener
	tunnelTLS *tls.Config

	stopOnce sync.Once
	stopErr  error
}

// New builds an App: it validates endpoint policies, opens the store and binds every
// listener, so that configuration and port errors surface before anything serves. On error
// nothing is left running.
func New(ctx context.Context, opts Options) (a *App, err error) {
	if opts.Topology == nil {
		return nil, errors.New("app: no topology")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
		opts.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	if opts.ShutdownGrace == 0 {
		opts.ShutdownGrace = 10 * time.Second
	}
	if opts.DataDir == "" {
		opts.DataDir = "gatehouse-data"
	}
	t := opts.Topology
	a = &App{opts: opts, log: opts.Logger, topo: t, reg: opts.Registry, ready: make(chan struct{}), done: make(chan struct{})}
	a.addrs.Endpoints = map[string][]EndpointAddrs{}

	// Endpoint policies are validated before anything starts.
	epPolicies := map[string]*policy.Policy{}
	for i, e := range t.VPCEndpoints {
		if len(e.Policy) == 0 {
			continue
		}
		p, err := policy.Parse(e.Policy)
		if err != nil {
			return nil, &config.FieldError{Path: fmt.Sprintf("vpcEndpoints[%d].policy", i), Msg: err.Error()}
		}
		epPolicies[e.ID] = p
	}

	built := a
	defer func() {
		if err != nil {
			built.closeAll()
		}
	}()
	a.ca, err = certs.LoadOrCreateCA(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("certificate authority: %w", err)
	}
	a.store, err = store.Open(ctx, store.Options{DataDir: opts.DataDir, URL: opts.NATSURL, Logger: a.log.With("component", "store")})
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	a.sinks = accesslog.NewSinks(opts.DataDir, a.log.With("component", "accesslog"))
	roots, err := x509.SystemCertPool()
	if err != nil || roots == nil {
		roots = x509.NewCertPool()
	}
	roots.AddCert(a.ca.Certificate())
	a.links, err = vpclink.New(vpclink.Options{Topology: t, Registry: a.reg, Logger: a.log.With("component", "vpclink"),
		RootCAs: roots, IssueCertificate: func(names []string) (*tls.Certificate, error) { return a.ca.Issue(names, nil) }})
	if err != nil {
		return nil, fmt.Errorf("vpc links: %w", err)
	}
	a.dns, err = dns.New(ctx, dns.Options{Topology: t, Store: a.store, Logger: a.log.With("component", "dns")})
	if err != nil {
		return nil, fmt.Errorf("dns: %w", err)
	}
	a.addrs.DNS = a.dns.Listeners()
	a.r53 = route53api.New(route53api.Options{Store: a.store, Topology: t, HealthStatus: a.dns.HealthCheckStatus, Logger: a.log.With("component", "route53")})
	a.ec2 = ec2api.New(ec2api.Options{Topology: t, Logger: a.log.With("component", "ec2")})
	a.elb = elbv2api.New(elbv2api.Options{Store: a.store, Topology: t, Health: a.links, Logger: a.log.With("component", "elbv2")})
	a.cmap = cloudmapapi.New(cloudmapapi.Options{Store: a.store, Topology: t, Logger: a.log.With("component", "servicediscovery")})
	a.apiv2 = apigwv2api.New(apigwv2api.Options{Store: a.store, Topology: t, Logger: a.log.With("component", "apigatewayv2")})

	vpcOwner := func(id string) (string, bool) {
		v, ok := t.VPC(id)
		if !ok {
			return "", false
		}
		return v.Account, true
	}
	a.cp = controlplane.New(controlplane.Options{
		Store:                a.store,
		Region:               t.Region,
		Logger:               a.log.With("component", "controlplane"),
		IssueClientCert:      a.ca.IssueClientPEM,
		VPCOwner:             vpcOwner,
		TopologyLoadBalancer: topologyLBs(t),
		VpcLinkCheck: func(_ context.Context, l *apimodel.VpcLinkRecord) (string, string) {
			return a.links.LinkStatus(l)
		},
		KnownVPCEndpoint: func(id string) bool {
			_, ok := t.Endpoint(id)
			return ok
		},
	})
	overrides := map[string]throttle.Limit{}
	for _, acct := range t.Accounts {
		if acct.Throttle.RateLimit > 0 || acct.Throttle.BurstLimit > 0 {
			l := throttle.Limit{Rate: throttle.DefaultAccountRate, Burst: throttle.DefaultAccountBurst}
			if acct.Throttle.RateLimit > 0 {
				l.Rate = float64(acct.Throttle.RateLimit)
			}
			if acct.Throttle.BurstLimit > 0 {
				l.Burst = acct.Throttle.BurstLimit
			}
			overrides[acct.ID] = l
		}
	}
	a.lim = throttle.New(throttle.Options{
		Store:            a.store,
		Account:          throttle.Limit{Rate: throttle.DefaultAccountRate, Burst: throttle.DefaultAccountBurst},
		AccountOverrides: overrides,
		Logger:           a.log.With("component", "throttle"),
	})
	fns := function.FromTopology(t)
	a.fnHost, err = function.NewHost(function.HostOptions{Region: t.Region, DataDir: opts.DataDir,
		Logger: a.log.With("component", "functions"), Functions: fns})
	if err != nil {
		return nil, fmt.Errorf("functions: %w", err)
	}
	a.lam, err = lambdaapi.New(lambdaapi.Options{Store: a.store, Host: a.fnHost, DataDir: opts.DataDir, Region: t.Region,
		Topology: fns, VPCOf: function.VPCResolver(t), Logger: a.log.With("component", "lambda")})
	if err != nil {
		return nil, fmt.Errorf("lambda: %w", err)
	}
	a.dir, err = authorizer.NewDirectory(iamDirectory(t))
	if err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	a.sts = stsapi.New(stsapi.Options{Directory: a.dir, Logger: a.log.With("component", "sts")})
	iam := authorizer.NewIAM(a.dir, authorizer.IAMConfig{Region: t.Region})
	a.dp = dataplane.New(dataplane.Options{
		IAM:       iam,
		Functions: functionsAdapter{a.fnHost, a.lam},
		Links:     a.links,
		Region:    t.Region,
		Logger:    a.log.With("component", "dataplane"),
		Registry:  a.reg,
		Limiter:   a.lim,
	})

	tlsCfg, err := a.ca.ServerTLSConfig([]string{
		"*.execute-api." + t.Region + ".amazonaws.com",
		"*.execute-api." + t.Region + ".vpce.amazonaws.com",
		"localhost",
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "gatehouse", Subsystem: "network", Name: "refused_connections_total",
		Help: "Connections refused by an endpoint's security group (ingress CIDRs).",
	}, []string{"vpce"})
	a.reg.MustRegister(refused)

	// Control plane.
	cpl, err := network.Listen(ctx, t.ControlPlane.Listen, nil, nil, a.log)
	if err != nil {
		return nil, fmt.Errorf("controlPlane.listen: %w", err)
	}
	a.addrs.ControlPlane = cpl.Addr().String()
	a.serve(cpl, a.controlPlaneHandler(), nil, 1<<20)

	// Public listener.
	pub := &dataplane.Origin{Public: true, TLS: true}
	pl, err := network.Listen(ctx, t.PublicListener.Listen, nil, nil, a.log)
	if err != nil {
		return nil, fmt.Errorf("publicListener.listen: %w", err)
	}
	a.addrs.Public = pl.Addr().String()
	a.serve(pl, a.dp.Handler(pub), tlsCfg, 16<<10)
	if t.PublicListener.HTTPListen != "" {
		hl, err := network.Listen(ctx, t.PublicListener.HTTPListen, nil, nil, a.log)
		if err != nil {
			return nil, fmt.Errorf("publicListener.httpListen: %w", err)
		}
		a.addrs.PublicHTTP = hl.Addr().String()
		a.serveH1(hl, a.dp.Handler(&dataplane.Origin{Public: true}), nil, 16<<10)
	}

	// One listener per endpoint address (and per scheme).
	for _, e := range t.VPCEndpoints {
		vpce := e.ID
		onRefuse := func(netip.Addr) { refused.WithLabelValues(vpce).Inc() }
		for _, addr := range e.Addresses {
			ea := EndpointAddrs{Address: addr}
			if e.Port >= 0 {
				l, err := network.Listen(ctx, netip.AddrPortFrom(addr, uint16(e.Port)).String(), e.Ingress, onRefuse, a.log)
				if err != nil {
					return nil, fmt.Errorf("vpcEndpoints %s: %w", e.ID, err)
				}
				ea.TLS = l.Addr().String()
				// Private APIs accept TLS 1.2 only (the legacy security policy).
				epTLS := tlsCfg.Clone()
				epTLS.MaxVersion = tls.VersionTLS12
				a.serveH1(l, a.dp.Handler(&dataplane.Origin{VpceID: e.ID, VpcID: e.VPC, EndpointPolicy: epPolicies[e.ID], TLS: true}), epTLS, 16<<10)
			}
			if e.HTTPPort > 0 {
				l, err := network.Listen(ctx, netip.AddrPortFrom(addr, uint16(e.HTTPPort)).String(), e.Ingress, onRefuse, a.log)
				if err != nil {
					return nil, fmt.Errorf("vpcEndpoints %s httpPort: %w", e.ID, err)
				}
				ea.HTTP = l.Addr().String()
				a.serveH1(l, a.dp.Handler(&dataplane.Origin{VpceID: e.ID, VpcID: e.VPC, EndpointPolicy: epPolicies[e.ID]}), nil, 16<<10)
			}
			a.addrs.Endpoints[e.ID] = append(a.addrs.Endpoints[e.ID], ea)
		}
	}
	if tl := t.TunnelListener.Listen; tl != "" {
		l, err := network.Listen(ctx, tl, nil, nil, a.log)
		if err != nil {
			return nil, fmt.Errorf("tunnelListener.listen: %w", err)
		}
		a.addrs.Tunnel = l.Addr().String()
		host, _, _ := net.SplitHostPort(a.addrs.Tunnel)
		var ips []netip.Addr
		if ip, err := netip.ParseAddr(host); err == nil {
			ips = append(ips, ip)
		}
		cfg, err := a.ca.ServerTLSConfig([]string{"tunnel.gatehouse.internal", "localhost"}, ips)
		if err != nil {
			_ = l.Close()
			return nil, fmt.Errorf("tunnel tls: %w", err)
		}
		a.tunnel, a.tunnelTLS = l, cfg
	}
	return a, nil
}

// serve registers an http.Server for l; Start runs them.
// httpServer is net/http's server or h1server: what Start and Shutdown need of either.
type httpServer interface {
	Serve(net.Listener) error
	Shutdown(context.Context) error
	Close() error
}

// serveH1 registers a data-plane listener served by h1server, the lean HTTP/1.1 loop
// (bench/RESULTS.md: net/http's per-request bookkeeping was a third of the proxy's CPU).
// Used where HTTP/2 is not needed: plain-HTTP listeners, and the endpoint listeners —
// private APIs handle HTTP/2 as HTTP/1.1 anyway, so they advertise http/1.1 only.
func (a *App) serveH1(l net.Listener, h http.Handler, tlsCfg *tls.Config, maxHeader int) {
	srv := &h1server.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       310 * time.Second, // AWS's idle connection timeout
		MaxHeaderBytes:    maxHeader,
		ErrorLog:          a.log.With("component", "h1server"),
	}
	if tlsCfg != nil {
		tlsCfg = tlsCfg.Clone()
		tlsCfg.NextProtos = []string{"http/1.1"}
		l = tls.NewListener(l, tlsCfg)
	}
	a.servers = append(a.servers, srv)
	a.listeners = append(a.listeners, l)
}

func (a *App) serve(l net.Listener, h http.Handler, tlsCfg *tls.Config, maxHeader int) {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       310 * time.Second, // AWS's idle connection timeout
		MaxHeaderBytes:    maxHeader,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelDebug),
	}
	if tlsCfg != nil {
		tlsCfg = tlsCfg.Clone() // http.Server.Serve writes to its TLSConfig: one per server
		srv.TLSConfig = tlsCfg
		l = tls.NewListener(l, tlsCfg)
	}
	a.servers = append(a.servers, srv)
	a.listeners = append(a.listeners, l)
}

// Addrs returns the bound addresses.
func (a *App) Addrs() Addrs { return a.addrs }

// CAPEM returns gatehouse's CA certificate (also written to DataDir/ca.pem).
func (a *App) CAPEM() []byte { return a.ca.CertPEM() }

// CAFile is the path of the CA certificate.
func (a *App) CAFile() string { return filepath.Join(a.opts.DataDir, "ca.pem") }

// Registry returns the metrics registry.
func (a *App) Registry() *prometheus.Registry { return a.reg }

// Ready is closed once the first snapshot is served.
func (a *App) Ready() <-chan struct{} { return a.ready }

// Start starts serving and watching the store. It returns at once; Shutdown stops.
func (a *App) Start(ctx context.Context) error {
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a.cancel = cancel
	publish := func(snap *deployment.Snapshot, plans *throttle.Plans) {
		a.dp.SetSnapshot(snap)
		if err := a.lim.SetPlans(wctx, plans); err != nil {
			a.log.Warn("loading usage counters", "err", err)
		}
	}
	go func() {
		if err := a.links.Run(wctx, a.store); err != nil && wctx.Err() == nil {
			a.log.Error("vpc link runtime stopped", "err", err)
		}
	}()
	if a.tunnel != nil {
		go func() {
			if err := a.links.ServeTunnel(a.tunnel, a.tunnelTLS); err != nil && !errors.Is(err, vpclink.ErrClosed) {
				a.log.Error("tunnel listener stopped", "err", err)
			}
		}()
	}
	go func() {
		if err := a.lam.Sync(wctx); err != nil && wctx.Err() == nil {
			a.log.Error("lambda sync stopped", "err", err)
		}
	}()
	builder := &deployment.Builder{Region: a.topo.Region, LogWriter: a.sinks.Writer, Invoker: authorizerInvoker{a.fnHost}}
	w, err := newWatcher(wctx, a.store, builder, publish, a.log.With("component", "watcher"))
	if err != nil {
		cancel()
		return err
	}
	if err := a.dns.Start(wctx); err != nil {
		cancel()
		return fmt.Errorf("dns: %w", err)
	}
	go func() {
		defer close(a.done)
		for _, ready := range []<-chan struct{}{a.dns.Ready(), a.lam.Synced()} {
			select {
			case <-ready:
			case <-wctx.Done():
				return
			}
		}
		w.run(wctx, a.ready)
	}()
	for i, srv := range a.servers {
		go func() {
			if err := srv.Serve(a.listeners[i]); err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.log.Error("listener stopped", "addr", a.listeners[i].Addr().String(), "err", err)
			}
		}()
	}
	return nil
}

// Run starts, waits for ctx to end, then shuts down within the grace period.
func (a *App) Run(ctx context.Context) error {
	if err := a.Start(ctx); err != nil {
		a.closeAll()
		return err
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), a.opts.ShutdownGrace)
	defer cancel()
	return a.Shutdown(sctx)
}

// Shutdown stops accepting, drains in-flight requests until ctx ends, then stops the
// watcher, flushes the access logs and closes the store. It is idempotent.
func (a *App) Shutdown(ctx context.Context) error {
	a.stopOnce.Do(func() {
		errs := make([]error, len(a.servers))
		var wg sync.WaitGroup
		for i, srv := range a.servers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := srv.Shutdown(ctx); err != nil {
					errs[i] = err
					_ = srv.Close()
				}
			}()
		}
		wg.Wait()
		if a.cancel != nil {
			a.cancel()
			<-a.done
		}
		a.dp.Close()
		if err := a.links.Close(); err != nil {
			errs = append(errs, err)
		}
		if err := a.lam.Close(); err != nil {
			errs = append(errs, err)
		}
		if err := a.fnHost.Close(); err != nil {
			errs = append(errs, err)
		}
		if err := a.lim.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("flushing usage counters: %w", err))
		}
		a.closeAll()
		a.stopErr = errors.Join(errs...)
	})
	return a.stopErr
}

func (a *App) closeAll() {
	if a.tunnel != nil {
		_ = a.tunnel.Close()
	}
	if a.dns != nil {
		_ = a.dns.Close()
	}
	for _, l := range a.listeners {
		_ = l.Close()
	}
	if a.sinks != nil {
		a.sinks.Close()
	}
	if a.store != nil {
		_ = a.store.Close()
	}
}

// controlPlaneHandler verifies SigV4 with the topology's keys and dispatches by the
// credential scope's service. /metrics and /healthz are served unsigned. The accounts'
// root keys sign every service; the keys of IAM users and STS role sessions (found in the
// Directory) sign STS calls only — for other services they stay unknown keys, as before.
func (a *App) controlPlaneHandler() http.Handler {
	v := &awsproto.Verifier{Lookup: func(akid string) (awsproto.Key, bool) {
		if acct, secret, ok := a.topo.FindAccessKey(akid); ok {
			return awsproto.Key{AccessKeyID: akid, Secret: secret, Account: acct.ID}, true
		}
		p, secret, ok := a.dir.LookupAccessKey(akid)
		if !ok {
			return awsproto.Key{}, false
		}
		return awsproto.Key{AccessKeyID: akid, Secret: secret, Account: p.Account, SessionToken: p.SessionToken}, true
	}}
	metrics := promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" && r.URL.Query().Get("X-Amz-Signature") == "" {
			if a.opts.Pprof && strings.HasPrefix(r.URL.Path, "/debug/pprof/") {
				servePprof(w, r)
				return
			}
			switch r.URL.Path {
			case "/metrics":
				metrics.ServeHTTP(w, r)
				return
			case "/healthz":
				select {
				case <-a.ready:
					_, _ = io.WriteString(w, "ok\n")
				default:
					http.Error(w, "starting", http.StatusServiceUnavailable)
				}
				return
			}
		}
		reqID := awsproto.NewRequestID()
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, lambdaapi.MaxRequestSize))
		if err != nil {
			awsproto.WriteJSONError(w, http.StatusRequestEntityTooLarge, "PayloadTooLargeException", "Request payload is too large", reqID)
			return
		}
		// Errors found while authenticating are written in the signed-for service's
		// protocol: REST-JSON (code in X-Amzn-Errortype) for most, awsJson1.1 (__type) for
		// servicediscovery, XML for the query and REST-XML services.
		writeErr := awsproto.WriteJSONError
		switch signedForService(r) {
		case "sts":
			writeErr = stsapi.WriteError
		case "elasticloadbalancing":
			writeErr = elbv2api.WriteError
		case "route53":
			writeErr = route53api.WriteError
		case "ec2":
			writeErr = ec2api.WriteError
		case "servicediscovery":
			writeErr = cloudmapapi.WriteError // awsJson1.1: the code is the body's __type
		}
		id, err := v.Verify(r, body)
		if err != nil {
			var ae *awsproto.Error
			if errors.As(err, &ae) {
				writeErr(w, ae.Status, ae.Code, ae.Message, reqID)
				return
			}
			writeErr(w, http.StatusForbidden, "InvalidSignatureException", err.Error(), reqID)
			return
		}
		if id.Service != "sts" {
			if _, _, root := a.topo.FindAccessKey(id.Key.AccessKeyID); !root {
				writeErr(w, http.StatusForbidden, awsproto.CodeUnrecognizedClient, "The security token included in the request is invalid.", reqID)
				return
			}
		}
		switch id.Service {
		case "sts":
			a.sts.ServeSTS(w, r, stsapi.Caller{Account: id.Key.Account, AccessKeyID: id.Key.AccessKeyID}, body)
		case "apigateway":
			if strings.HasPrefix(r.URL.Path, "/v2/") {
				a.apiv2.ServeAPIGatewayV2(w, r, apigwv2api.Caller{Account: id.Key.Account, AccessKeyID: id.Key.AccessKeyID}, body)
				return
			}
			a.cp.ServeAPIGateway(w, r, controlplane.Caller{Account: id.Key.Account, AccessKeyID: id.Key.AccessKeyID}, body)
		case "elasticloadbalancing":
			a.elb.ServeELBv2(w, r, elbv2api.Caller{Account: id.Key.Account, AccessKeyID: id.Key.AccessKeyID}, body)
		case "servicediscovery":
			a.cmap.ServeCloudMap(w, r, cloudmapapi.Caller{Account: id.Key.Account, AccessKeyID: id.Key.AccessKeyID}, body)
		case "lambda":
			a.lam.ServeLambda(w, r, lambdaapi.Caller{Account: id.Key.Account, AccessKeyID: id.Key.AccessKeyID}, body)
		case "route53":
			a.r53.ServeRoute53(w, r, route53api.Caller{Account: id.Key.Account, AccessKeyID: id.Key.AccessKeyID}, body)
		case "ec2":
			a.ec2.ServeEC2(w, r, ec2api.Caller{Account: id.Key.Account, AccessKeyID: id.Key.AccessKeyID}, body)
		default:
			awsproto.WriteJSONError(w, http.StatusBadRequest, "UnknownOperationException",
				fmt.Sprintf("service %q is not supported by gatehouse", id.Service), reqID)
		}
	})
}

// signedForService returns the service of the request's SigV4 credential scope (header or
// query form), "" when there is none, so that errors found while verifying can be written
// in that service's protocol.
func signedForService(r *http.Request) string {
	cred := r.URL.Query().Get("X-Amz-Credential")
	if auth := r.Header.Get("Authorization"); auth != "" {
		_, rest, ok := strings.Cut(auth, "Credential=")
		if !ok {
			return ""
		}
		cred, _, _ = strings.Cut(rest, ",")
	}
	scope, ok := awsproto.ParseCredential(strings.TrimSpace(cred))
	if !ok {
		return ""
	}
	return scope.Service
}

// watcher follows the store and rebuilds the data plane's snapshot on every change.
type watcher struct {
	log     *slog.Logger
	builder *deployment.Builder
	publish func(*deployment.Snapshot, *throttle.Plans)
	events  chan bucketEvent
	in      deployment.Inputs
	// Account-level access documents for the limiter, by store key.
	plans    map[string]apimodel.UsagePlan
	keys     map[string]apimodel.APIKey
	planKeys map[string]apimodel.UsagePlanKey
}

type bucketEvent struct {
	bucket string
	ev     store.Event
}

var watchedBuckets = []string{apimodel.BucketRestAPIs, apimodel.BucketDeployments, apimodel.BucketStages,
	apimodel.BucketUsagePlans, apimodel.BucketAPIKeys, apimodel.BucketUsagePlanKeys}

func newWatcher(ctx context.Context, st *store.Store, b *deployment.Builder, publish func(*deployment.Snapshot, *throttle.Plans), log *slog.Logger) (*watcher, error) {
	w := &watcher{log: log, builder: b, publish: publish, events: make(chan bucketEvent, 1024),
		plans: map[string]apimodel.UsagePlan{}, keys: map[string]apimodel.APIKey{}, planKeys: map[string]apimodel.UsagePlanKey{}}
	w.in = deployment.Inputs{
		APIs:        map[string]deployment.Versioned[apimodel.API]{},
		Deployments: map[string]deployment.Versioned[apimodel.Deployment]{},
		Stages:      map[string]deployment.Versioned[apimodel.Stage]{},
	}
	for _, bucket := range watchedBuckets {
		ch, err := st.Watch(ctx, bucket)
		if err != nil {
			return nil, fmt.Errorf("watch %s: %w", bucket, err)
		}
		go func() {
			for ev := range ch {
				select {
				case w.events <- bucketEvent{bucket, ev}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	return w, nil
}

func (w *watcher) run(ctx context.Context, ready chan struct{}) {
	initial := map[string]bool{}
	isReady := false
	dirty := false
	for {
		var be bucketEvent
		if dirty && isReady {
			select {
			case be = <-w.events:
			default:
				w.rebuild()
				dirty = false
				continue
			}
		} else {
			select {
			case be = <-w.events:
			case <-ctx.Done():
				return
			}
		}
		if be.ev.InitialDone {
			initial[be.bucket] = true
			if !isReady && len(initial) == len(watchedBuckets) {
				isReady = true
				w.rebuild()
				dirty = false
				close(ready)
			}
			continue
		}
		w.apply(be)
		dirty = true
	}
}

// rebuild compiles the current documents and publishes them.
func (w *watcher) rebuild() {
	snap := w.builder.Build(w.in)
	in := throttle.Inputs{}
	for _, p := range w.plans {
		in.Plans = append(in.Plans, p)
	}
	for _, k := range w.keys {
		in.Keys = append(in.Keys, k)
	}
	for _, pk := range w.planKeys {
		in.PlanKeys = append(in.PlanKeys, pk)
	}
	for _, st := range w.in.Stages {
		in.Stages = append(in.Stages, st.Value)
	}
	plans, err := throttle.Compile(in)
	if err != nil {
		w.log.Warn("usage plans skipped", "err", err)
	}
	w.publish(snap, plans)
}

// applyDoc decodes an event into m (or deletes its key).
func applyDoc[T any](w *watcher, m map[string]T, be bucketEvent) {
	if be.ev.Deleted {
		delete(m, be.ev.Key)
		return
	}
	var v T
	if err := json.Unmarshal(be.ev.Value, &v); err != nil {
		w.log.Error("bad stored document", "bucket", be.bucket, "key", be.ev.Key, "err", err)
		return
	}
	m[be.ev.Key] = v
}

func (w *watcher) apply(be bucketEvent) {
	key, rev := be.ev.Key, be.ev.Revision
	switch be.bucket {
	case apimodel.BucketUsagePlans:
		applyDoc(w, w.plans, be)
	case apimodel.BucketAPIKeys:
		applyDoc(w, w.keys, be)
	case apimodel.BucketUsagePlanKeys:
		applyDoc(w, w.planKeys, be)
	case apimodel.BucketRestAPIs:
		if be.ev.Deleted {
			delete(w.in.APIs, key)
			return
		}
		var v apimodel.API
		if err := json.Unmarshal(be.ev.Value, &v); err != nil {
			w.log.Error("bad stored API", "key", key, "err", err)
			return
		}
		w.in.APIs[key] = deployment.Versioned[apimodel.API]{Value: v, Revision: rev}
	case apimodel.BucketDeployments:
		if be.ev.Deleted {
			delete(w.in.Deployments, key)
			return
		}
		var v apimodel.Deployment
		if err := json.Unmarshal(be.ev.Value, &v); err != nil {
			w.log.Error("bad stored deployment", "key", key, "err", err)
			return
		}
		w.in.Deployments[key] = deployment.Versioned[apimodel.Deployment]{Value: v, Revision: rev}
	case apimodel.BucketStages:
		if be.ev.Deleted {
			delete(w.in.Stages, key)
			return
		}
		var v apimodel.Stage
		if err := json.Unmarshal(be.ev.Value, &v); err != nil {
			w.log.Error("bad stored stage", "key", key, "err", err)
			return
		}
		if api, _, ok := strings.Cut(key, "."); ok && v.APIID == "" {
			v.APIID = api
		}
		w.in.Stages[key] = deployment.Versioned[apimodel.Stage]{Value: v, Revision: rev}
	}
}

// iamDirectory maps the topology's accounts, root keys, IAM users and roles onto the principal
// directory that AWS_IAM methods authenticate against.
func iamDirectory(t *config.Topology) authorizer.DirectoryConfig {
	var cfg authorizer.DirectoryConfig
	for _, acct := range t.Accounts {
		da := authorizer.DirectoryAccount{ID: acct.ID, OrgID: acct.OrgID}
		for _, k := range acct.AccessKeys {
			da.AccessKeys = append(da.AccessKeys, authorizer.AccessKey{ID: k.ID, Secret: k.Secret})
		}
		for _, u := range acct.Users {
			du := authorizer.DirectoryUser{Name: u.Name}
			for _, k := range u.AccessKeys {
				du.AccessKeys = append(du.AccessKeys, authorizer.AccessKey{ID: k.ID, Secret: k.Secret})
			}
			for _, p := range u.Policies {
				du.Policies = append(du.Policies, authorizer.InlinePolicy{Name: p.Name, Document: p.Document})
			}
			da.Users = append(da.Users, du)
		}
		for _, r := range acct.Roles {
			dr := authorizer.DirectoryRole{Name: r.Name, TrustedPrincipals: r.Trust}
			for _, p := range r.Policies {
				dr.Policies = append(dr.Policies, authorizer.InlinePolicy{Name: p.Name, Document: p.Document})
			}
			da.Roles = append(da.Roles, dr)
		}
		cfg.Accounts = append(cfg.Accounts, da)
	}
	return cfg
}

// functionsAdapter gives the data plane the function host and API Gateway's invoke
// permissions (kept by the Lambda control plane).
type functionsAdapter struct {
	host *function.Host
	lam  *lambdaapi.Server
}

func (f functionsAdapter) Invoke(ctx context.Context, ref string, payload []byte) (function.Result, error) {
	return f.host.Invoke(ctx, ref, payload)
}

func (f functionsAdapter) AllowsInvoke(functionARN, principal, sourceARN string) bool {
	return f.lam.AllowsInvoke(functionARN, principal, sourceARN)
}

// authorizerInvoker calls Lambda authorizer functions on the function host. A function
// error is reported with its errorMessage, which is how "Unauthorized" reaches the
// authorizer.
type authorizerInvoker struct{ host *function.Host }

func (a authorizerInvoker) Invoke(ctx context.Context, fnARN string, payload []byte) ([]byte, string, error) {
	res, err := a.host.Invoke(ctx, fnARN, payload)
	if err != nil {
		return nil, "", err
	}
	return res.Payload, res.FunctionError, nil
}

// topologyLBs looks up the load balancers the topology declares, by ARN.
func topologyLBs(t *config.Topology) func(arn string) (*apimodel.LoadBalancer, bool) {
	byARN := map[string]*apimodel.LoadBalancer{}
	docs := vpclink.TopologyDocuments(t)
	for i := range docs.LoadBalancers {
		byARN[docs.LoadBalancers[i].LoadBalancerArn] = &docs.LoadBalancers[i]
	}
	return func(arn string) (*apimodel.LoadBalancer, bool) {
		lb, ok := byARN[arn]
		return lb, ok
	}
}
