package dns

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"gatehouse/internal/dns/r53"
)

// Route 53 checker limits (aws-reference §9).
const (
	httpConnectTimeout = 4 * time.Second
	httpResponseWait   = 2 * time.Second
	tcpConnectTimeout  = 10 * time.Second
	searchWindow       = 5120
	// maxCalculatedDepth bounds CALCULATED checks nested in one another.
	maxCalculatedDepth = 8
)

// healthChecker runs health checks and answers their status.
type healthChecker struct {
	ctx      context.Context
	region   string
	interval func(seconds int) time.Duration
	log      *slog.Logger

	mu     sync.RWMutex
	checks map[string]*check
	wg     sync.WaitGroup
}

// check is one running health check.
type check struct {
	id     string
	cfg    r53.HealthCheckConfig
	cancel context.CancelFunc

	// effective is the status after the threshold and inversion, for
	// checks that probe (not CALCULATED).
	effective atomic.Bool

	mu     sync.Mutex
	raw    bool // settled probe status, before inversion
	streak int  // consecutive probe results that disagree with raw
	obs    r53.HealthObservation
}

func newHealthChecker(ctx context.Context, region string, interval func(int) time.Duration, log *slog.Logger) *healthChecker {
	return &healthChecker{ctx: ctx, region: region, interval: interval, log: log, checks: map[string]*check{}}
}

// upsert starts health check id, or restarts it if its configuration
// changed.
func (hc *healthChecker) upsert(id string, cfg r53.HealthCheckConfig) {
	cfg = cfg.WithDefaults()
	hc.mu.Lock()
	defer hc.mu.Unlock()
	if old := hc.checks[id]; old != nil {
		if reflect.DeepEqual(old.cfg, cfg) {
			return
		}
		old.cancel()
	}
	ctx, cancel := context.WithCancel(hc.ctx)
	c := &check{id: id, cfg: cfg, cancel: cancel, raw: true}
	// A new check is healthy until enough data exists (unhealthy if
	// inverted).
	c.effective.Store(!cfg.Inverted)
	c.obs = r53.HealthObservation{Region: hc.region, Healthy: !cfg.Inverted}
	hc.checks[id] = c
	if cfg.Type == r53.CheckCalculated || cfg.Disabled {
		return
	}
	hc.wg.Add(1)
	go func() {
		defer hc.wg.Done()
		hc.run(ctx, c)
	}()
}

// remove stops health check id.
func (hc *healthChecker) remove(id string) {
	hc.mu.Lock()
	defer hc.mu.Unlock()
	if c := hc.checks[id]; c != nil {
		c.cancel()
		delete(hc.checks, id)
	}
}

// stop stops every check and waits for them.
func (hc *healthChecker) stop() {
	hc.mu.Lock()
	for _, c := range hc.checks {
		c.cancel()
	}
	hc.mu.Unlock()
	hc.wg.Wait()
}

// healthy reports whether health check id is healthy. An unknown id (for
// example a deleted check) counts as healthy.
func (hc *healthChecker) healthy(id string) bool { return hc.healthyAt(id, 0) }

func (hc *healthChecker) healthyAt(id string, depth int) bool {
	hc.mu.RLock()
	c := hc.checks[id]
	hc.mu.RUnlock()
	if c == nil {
		return true
	}
	cfg := c.cfg
	switch {
	case cfg.Disabled:
		// Route 53 considers a disabled check healthy (unhealthy if
		// inverted).
		return !cfg.Inverted
	case cfg.Type == r53.CheckCalculated:
		if depth >= maxCalculatedDepth {
			return false
		}
		n := 0
		for _, child := range cfg.ChildHealthChecks {
			hc.mu.RLock()
			_, known := hc.checks[child]
			hc.mu.RUnlock()
			if known && hc.healthyAt(child, depth+1) {
				n++
			}
		}
		return (n >= cfg.HealthThreshold) != cfg.Inverted
	}
	return c.effective.Load()
}

// status returns the latest observation of health check id.
func (hc *healthChecker) status(id string) (r53.HealthObservation, bool) {
	hc.mu.RLock()
	c := hc.checks[id]
	hc.mu.RUnlock()
	if c == nil {
		return r53.HealthObservation{}, false
	}
	c.mu.Lock()
	obs := c.obs
	c.mu.Unlock()
	obs.Healthy = hc.healthy(id)
	if c.cfg.Type == r53.CheckCalculated {
		obs.CheckedTime = time.Now().UTC()
		if obs.Healthy {
			obs.Status = "Success: Calculated health check is healthy"
		} else {
			obs.Status = "Failure: Calculated health check is unhealthy"
		}
	}
	return obs, true
}

// run probes c every interval until ctx ends.
func (hc *healthChecker) run(ctx context.Context, c *check) {
	period := hc.interval(c.cfg.RequestInterval)
	if period <= 0 {
		period = time.Second
	}
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		ok, status, from := probe(ctx, c.cfg, period)
		if ctx.Err() != nil {
			return
		}
		if from == "" {
			from = sourceAddr(c.cfg)
		}
		changed, healthy := c.record(ok, status, from, hc.region)
		if changed {
			hc.log.Info("health check status changed", "id", c.id, "healthy", healthy, "status", status)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// record applies one probe result: the status flips after FailureThreshold
// consecutive results that disagree with it.
func (c *check) record(ok bool, status, from, region string) (changed, healthy bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ok == c.raw {
		c.streak = 0
	} else {
		c.streak++
		if c.streak >= c.cfg.FailureThreshold {
			c.raw = ok
			c.streak = 0
			changed = true
		}
	}
	healthy = c.raw != c.cfg.Inverted
	c.effective.Store(healthy)
	c.obs = r53.HealthObservation{Region: region, IPAddress: from, Status: status, CheckedTime: time.Now().UTC(), Healthy: healthy}
	return changed, healthy
}

// probe runs one check and returns whether it passed, Route 53's status
// text and the local address it probed from.
func probe(ctx context.Context, cfg r53.HealthCheckConfig, period time.Duration) (bool, string, string) {
	host := cfg.IPAddress
	if host == "" {
		host = cfg.FullyQualifiedDomainName
	}
	addr := net.JoinHostPort(host, strconv.Itoa(cfg.Port))
	var fromMu sync.Mutex
	var fromAddr string
	from := func() string {
		fromMu.Lock()
		defer fromMu.Unlock()
		return fromAddr
	}
	// Route 53's timeouts, shortened to the interval when that is shorter
	// (tests run checks every few milliseconds), but never below 250 ms.
	budget := max(period, 250*time.Millisecond)
	connect := min(httpConnectTimeout, budget)
	if cfg.Type == r53.CheckTCP {
		connect = min(tcpConnectTimeout, budget)
	}
	wait := min(httpResponseWait, budget)
	d := &net.Dialer{Timeout: connect}
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		conn, err := d.DialContext(ctx, network, addr)
		if err == nil {
			if la, ok := conn.LocalAddr().(*net.TCPAddr); ok {
				fromMu.Lock()
				fromAddr = la.IP.String()
				fromMu.Unlock()
			}
		}
		return conn, err
	}
	if cfg.Type == r53.CheckTCP {
		conn, err := dial(ctx, "tcp", addr)
		if err != nil {
			return false, failure(err), from()
		}
		_ = conn.Close()
		return true, "Success: TCP connection established", from()
	}

	scheme := "http"
	if cfg.Type == r53.CheckHTTPS || cfg.Type == r53.CheckHTTPSStrMatch {
		scheme = "https"
	}
	hostHeader := cfg.FullyQualifiedDomainName
	if hostHeader == "" {
		hostHeader = cfg.IPAddress
	}
	tlsCfg := &tls.Config{InsecureSkipVerify: true} // Route 53 does not validate certificates.
	if cfg.EnableSNI && cfg.FullyQualifiedDomainName != "" {
		tlsCfg.ServerName = cfg.FullyQualifiedDomainName
	}
	tr := &http.Transport{
		DialContext:           dial,
		TLSClientConfig:       tlsCfg,
		TLSHandshakeTimeout:   connect,
		ResponseHeaderTimeout: wait,
		DisableKeepAlives:     true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport:     tr,
		Timeout:       connect + 2*wait,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	path := cfg.ResourcePath
	if path == "" || path[0] != '/' {
		path = "/" + path
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+addr+path, nil)
	if err != nil {
		return false, "Failure: " + err.Error(), from()
	}
	req.Host = hostHeader
	req.Header.Set("User-Agent", "Amazon-Route53-Health-Check-Service (gatehouse)")
	resp, err := client.Do(req)
	if err != nil {
		return false, failure(err), from()
	}
	defer resp.Body.Close()
	code := fmt.Sprintf("HTTP Status Code %d, %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return false, "Failure: " + code, from()
	}
	if cfg.Type == r53.CheckHTTPStrMatch || cfg.Type == r53.CheckHTTPSStrMatch {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, searchWindow))
		if !bytes.Contains(body, []byte(cfg.SearchString)) {
			return false, "Failure: " + code + ". Failed to find the specified string in the response body.", from()
		}
	}
	return true, "Success: " + code, from()
}

// failure writes a connection error the way Route 53's status does.
func failure(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "Failure: Connection refused. The endpoint or the internet connection is down, or requests are being blocked by your firewall."
	case errors.As(err, &ne) && ne.Timeout():
		return "Failure: Connection timed out. The endpoint or the internet connection is down, or requests are being blocked by your firewall."
	}
	return "Failure: " + err.Error()
}

// sourceAddr returns the local address probes of cfg leave from, found
// without sending anything (a connected UDP socket).
func sourceAddr(cfg r53.HealthCheckConfig) string {
	host := cfg.IPAddress
	if host == "" {
		host = cfg.FullyQualifiedDomainName
	}
	c, err := net.Dial("udp", net.JoinHostPort(host, strconv.Itoa(max(cfg.Port, 1))))
	if err != nil {
		return ""
	}
	defer c.Close()
	if la, ok := c.LocalAddr().(*net.UDPAddr); ok {
		return la.IP.String()
	}
	return ""
}
