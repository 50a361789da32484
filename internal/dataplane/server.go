// Package dataplane serves API calls: the listeners' HTTP handler, the request pipeline
// (pipeline.go, in AWS's order), gateway-response rendering, integrations and the access log.
// It reads one immutable deployment.Snapshot per request and never imports the control plane.
package dataplane

import (
	"crypto/tls"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"gatehouse/internal/accesslog"
	"gatehouse/internal/authorizer"
	"gatehouse/internal/awsproto"
	"gatehouse/internal/deployment"
	"gatehouse/internal/policy"
	"gatehouse/internal/router"
	"gatehouse/internal/throttle"
	"gatehouse/internal/upstream"
	"gatehouse/internal/vpclink"
)

// Origin describes the listener a request arrived on: the public listener or one address
// of a VPC endpoint.
type Origin struct {
	Public         bool
	VpceID, VpcID  string
	EndpointPolicy *policy.Policy // nil = AWS's default full-access endpoint policy
	TLS            bool
}

// Options configure a Server.
type Options struct {
	Region   string
	Logger   *slog.Logger
	Registry prometheus.Registerer // nil = no metrics
	// BackendTLS configures TLS to HTTPS backends (RootCAs etc.); nil = system roots.
	BackendTLS *tls.Config
	// Limiter enforces throttles, API keys and quotas; nil = none.
	Limiter *throttle.Limiter
	// IAM authenticates and authorizes AWS_IAM methods; nil makes them fail (500).
	IAM *authorizer.IAM
	// Functions runs Lambda proxy integrations; nil makes them fail (500).
	Functions Functions
	// Links resolves VPC_LINK integrations; nil makes them fail (500).
	Links *vpclink.Manager
}

// Server is the data plane.
type Server struct {
	region           string
	execSuffix       string
	log              *slog.Logger
	snapshot         atomic.Pointer[deployment.Snapshot]
	limiter          *throttle.Limiter
	iam              *authorizer.IAM
	functions        Functions
	links            *vpclink.Manager
	backends         *upstream.Pool
	insecureBackends *upstream.Pool
	pool             sync.Pool
	requests         *prometheus.CounterVec
	latency          prometheus.Histogram
	// okCounters caches requests_total{code=class, response_type=""}, the hot path.
	okCounters [4]prometheus.Counter
}

// New returns a data plane with an empty snapshot (every call is refused until SetSnapshot).
func New(opts Options) *Server {
	s := &Server{
		region:     opts.Region,
		execSuffix: ".execute-api." + opts.Region + ".amazonaws.com",
		log:        opts.Logger,
		limiter:    opts.Limiter,
		iam:        opts.IAM,
		functions:  opts.Functions,
		links:      opts.Links,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.backends = newBackendPool(opts.BackendTLS, false)
	s.insecureBackends = newBackendPool(opts.BackendTLS, true)
	s.pool.New = func() any { return new(request) }
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "gatehouse", Subsystem: "dataplane", Name: "requests_total",
		Help: "Requests served, by status code class and gateway response type.",
	}, []string{"code", "response_type"})
	s.latency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "gatehouse", Subsystem: "dataplane", Name: "request_duration_seconds",
		Help: "Time from request start to the end of the response.", Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
	})
	if opts.Registry != nil {
		opts.Registry.MustRegister(s.requests, s.latency)
	}
	for i, class := range statusClasses {
		s.okCounters[i] = s.requests.WithLabelValues(class, "")
	}
	return s
}

func newBackendPool(base *tls.Config, insecure bool) *upstream.Pool {
	tc := &tls.Config{}
	if base != nil {
		tc = base.Clone()
	}
	tc.InsecureSkipVerify = insecure
	return upstream.New(upstream.Options{TLSConfig: tc, DialTimeout: 10 * time.Second, KeepAlive: 30 * time.Second,
		MaxIdlePerHost: 512, IdleTimeout: 90 * time.Second, ExpectContinueTimeout: time.Second})
}

// SetSnapshot swaps in a new snapshot; requests in flight finish on the old one.
func (s *Server) SetSnapshot(snap *deployment.Snapshot) { s.snapshot.Store(snap) }

// Snapshot returns the current snapshot.
func (s *Server) Snapshot() *deployment.Snapshot { return s.snapshot.Load() }

// Handler returns the HTTP handler for one listener.
func (s *Server) Handler(o *Origin) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, o) })
}

// Close releases idle backend connections.
func (s *Server) Close() {
	s.backends.CloseIdle()
	s.insecureBackends.CloseIdle()
}

// request is the per-request state (the typed holder of $context), pooled.
type request struct {
	w          *responseWriter
	rw         responseWriter
	r          *http.Request
	origin     *Origin
	start      time.Time
	requestID  string
	extendedID string
	host       string
	path       string
	sourceIP   netip.Addr
	localIP    netip.Addr

	apiID       string
	stageName   string
	rest        string
	stage       *deployment.Stage
	comp        *deployment.Compiled
	method      *deployment.Method
	params      router.Params
	resourceARN string
	polctx      policy.Context
	polreq      policy.Request

	body               []byte // buffered request body, when a phase needed it
	apiKey, apiKeyID   string
	iamIdentity        *authorizer.Identity
	lambdaResult       *authorizer.LambdaResult
	claims             map[string]string
	upReq              upstream.Request
	upResp             upstream.Response
	upExtra            [8]upstream.Field
	integrationStart   time.Time
	integrationLatency time.Duration
	integrationStatus  int
	err                *Error
}

func (s *Server) newRequest(w http.ResponseWriter, r *http.Request, o *Origin) *request {
	rc := s.pool.Get().(*request)
	*rc = request{}
	rc.rw = responseWriter{ResponseWriter: w}
	rc.w = &rc.rw
	rc.r = r
	rc.origin = o
	rc.start = time.Now()
	rc.requestID = awsproto.NewRequestID()
	rc.extendedID = awsproto.NewExtendedRequestID()
	rc.host = r.Host
	if h, _, err := net.SplitHostPort(rc.host); err == nil {
		rc.host = h
	}
	rc.path = r.URL.EscapedPath()
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		rc.sourceIP = ap.Addr().Unmap()
	}
	if la, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		if ta, ok := la.(*net.TCPAddr); ok {
			rc.localIP, _ = netip.AddrFromSlice(ta.IP)
			rc.localIP = rc.localIP.Unmap()
		}
	}
	rc.integrationLatency = -1
	return rc
}

func (s *Server) release(rc *request) {
	*rc = request{}
	s.pool.Put(rc)
}

func (rc *request) resourcePath() string {
	if rc.method != nil {
		return rc.method.ResourcePath
	}
	return ""
}

// writeError renders a phase's error as its gateway response. It is the only place that
// writes error responses.
func (s *Server) writeError(rc *request, e *Error) {
	rc.err = e
	out := render(e, rc.comp, rc)
	h := rc.w.Header()
	for k, v := range out.headers {
		h.Set(k, v)
	}
	h.Set("Content-Type", "application/json")
	h.Set("x-amzn-RequestId", rc.requestID)
	h.Set("x-amz-apigw-id", rc.extendedID)
	if out.errorType != "" {
		h.Set("x-amzn-ErrorType", out.errorType)
	}
	h.Set("Content-Length", strconv.Itoa(len(out.body)))
	rc.w.WriteHeader(out.status)
	_, _ = rc.w.Write([]byte(out.body))
	if out.status >= 500 {
		s.log.Error("request failed", "requestId", rc.requestID, "api", rc.apiID, "err", e)
	} else {
		s.log.Debug("request refused", "requestId", rc.requestID, "api", rc.apiID, "err", e)
	}
}

// finish writes the access-log line and counts the request.
func (s *Server) finish(rc *request) {
	now := time.Now()
	status := rc.w.status
	if status == 0 {
		status = http.StatusOK
	}
	rt := ""
	if rc.err != nil {
		rt = string(rc.err.Type)
	}
	if rt == "" {
		s.okCounters[statusClassIndex(status)].Inc()
	} else {
		s.requests.WithLabelValues(statusClasses[statusClassIndex(status)], rt).Inc()
	}
	s.latency.Observe(now.Sub(rc.start).Seconds())
	st := rc.stage
	if st == nil || st.AccessLog == nil || st.LogWriter == nil {
		return
	}
	rec := accesslog.Record{
		RequestID:          rc.requestID,
		ExtendedRequestID:  rc.extendedID,
		APIID:              rc.apiID,
		Stage:              rc.stageName,
		DomainName:         rc.host,
		DomainPrefix:       domainPrefix(rc.host),
		AccountID:          st.API.Account,
		HTTPMethod:         rc.r.Method,
		ResourcePath:       rc.resourcePath(),
		Path:               rc.path,
		Protocol:           rc.r.Proto,
		SourceIP:           rc.sourceIP.String(),
		UserAgent:          rc.r.UserAgent(),
		VpcID:              rc.origin.VpcID,
		VpceID:             rc.origin.VpceID,
		APIKey:             rc.apiKey,
		APIKeyID:           rc.apiKeyID,
		Status:             status,
		IntegrationStatus:  rc.integrationStatus,
		ResponseLength:     rc.w.written,
		RequestTime:        rc.start,
		ResponseLatency:    now.Sub(rc.start),
		IntegrationLatency: rc.integrationLatency,
	}
	if rc.method != nil {
		rec.ResourceID = rc.method.ResourceID
	}
	if lr := rc.lambdaResult; lr != nil {
		rec.AuthorizerPrincipalID = lr.PrincipalID
		rec.Authorizer = lr.Context
	}
	if rc.claims != nil {
		rec.AuthorizerClaims = rc.claims
	}
	if id := rc.iamIdentity; id != nil {
		rec.UserArn = id.Principal.ARN
		rec.Caller = id.Principal.UserID
		rec.User = id.Principal.UserID
		rec.AccessKey = id.AccessKeyID
		rec.IdentityAccountID = id.Principal.Account
	}
	if rc.err != nil {
		rec.ErrorMessage = rc.err.Message
		rec.ErrorResponseType = string(rc.err.Type)
		rec.ErrorValidationErrorString = rc.err.ValidationErrorString
	}
	buf := bufPool.Get().(*[]byte)
	line := st.AccessLog.Append((*buf)[:0], &rec)
	st.LogWriter.Write(line)
	*buf = line
	bufPool.Put(buf)
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func domainPrefix(host string) string {
	if i := strings.IndexByte(host, '.'); i > 0 {
		return host[:i]
	}
	return host
}

var statusClasses = [4]string{"2xx", "3xx", "4xx", "5xx"}

func statusClassIndex(code int) int {
	switch {
	case code >= 500:
		return 3
	case code >= 400:
		return 2
	case code >= 300:
		return 1
	default:
		return 0
	}
}

// responseWriter records the status and the bytes written.
type responseWriter struct {
	http.ResponseWriter
	status  int
	written int64
}

func (w *responseWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.written += int64(n)
	return n, err
}

func (w *responseWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
