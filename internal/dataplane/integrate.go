package dataplane

import (
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/deployment"
	"gatehouse/internal/upstream"
)

// integrate runs the method's integration and writes the response.
func (s *Server) integrate(rc *request) *Error {
	in := rc.method.Integration
	if in == nil {
		return errConfig(errors.New("no integration defined for method"))
	}
	switch in.Type {
	case apimodel.IntegrationMock:
		return s.mock(rc, in)
	case apimodel.IntegrationHTTPProxy, apimodel.IntegrationHTTP:
		return s.proxy(rc, in)
	case apimodel.IntegrationAWSProxy:
		return s.lambdaProxy(rc, in)
	default:
		return errConfig(errors.New("integration type " + in.Type + " is not supported yet"))
	}
}

// mock answers from the integration responses, selected by the request template's statusCode.
func (s *Server) mock(rc *request, in *deployment.Integration) *Error {
	rc.integrationStatus = in.MockStatus
	rc.integrationLatency = 0
	ir := in.SelectResponse(in.MockStatus)
	if ir == nil {
		return &Error{Type: "API_CONFIGURATION_ERROR", Message: "Internal server error",
			Body: `{"message": "Internal server error"}`,
			Err:  errors.New("no match for output mapping and no default output mapping configured")}
	}
	h := rc.w.Header()
	for k, v := range ir.Headers {
		h.Set(k, v)
	}
	h.Set("Content-Type", "application/json")
	h.Set("x-amzn-RequestId", rc.requestID)
	h.Set("x-amz-apigw-id", rc.extendedID)
	h.Set("Content-Length", strconv.Itoa(len(ir.Body)))
	rc.w.WriteHeader(ir.StatusCode)
	_, _ = io.WriteString(rc.w, ir.Body)
	return nil
}

// toBackendOmit are request headers API Gateway does not pass to the backend.
var toBackendOmit = []string{"X-Apigw-Api-Id"}

// proxy forwards the request to an HTTP backend over the upstream connection pool.
// HTTP_PROXY passes the request and the response through; HTTP (without mapping
// templates, which come later) does the same and then selects the integration response
// by the backend status.
func (s *Server) proxy(rc *request, in *deployment.Integration) *Error {
	r := rc.r
	target := s.backendPath(rc, in)
	query := in.Query
	if in.Type == apimodel.IntegrationHTTPProxy && r.URL.RawQuery != "" {
		if query != "" {
			query += "&" + r.URL.RawQuery
		} else {
			query = r.URL.RawQuery
		}
	}
	if len(in.QueryParams) > 0 {
		q, _ := url.ParseQuery(query)
		for _, p := range in.QueryParams {
			if v, ok := rc.paramValue(p); ok {
				q.Set(p.Name, v)
			}
		}
		query = q.Encode()
	}
	if query != "" {
		target += "?" + query
	}
	method := in.HTTPMethod
	if method == "" {
		method = r.Method
	}

	extra := rc.upExtra[:0]
	for _, p := range in.HeaderParams {
		if v, ok := rc.paramValue(p); ok {
			extra = upstream.SetField(extra, p.Name, v)
		}
	}
	ip := rc.sourceIP.String()
	if prior := r.Header["X-Forwarded-For"]; len(prior) > 0 {
		ip = strings.Join(prior, ", ") + ", " + ip
	}
	extra = upstream.SetField(extra, "X-Forwarded-For", ip)
	if o := rc.origin; !o.Public {
		extra = upstream.SetField(extra, "X-Amzn-Vpc-Id", o.VpcID)
		extra = upstream.SetField(extra, "X-Amzn-Vpce-Id", o.VpceID)
		extra = upstream.SetField(extra, "X-Amzn-Vpce-Config", "1")
		if r.TLS != nil {
			extra = upstream.SetField(extra, "X-Amzn-Tls-Version", tlsVersionName(r.TLS.Version))
			extra = upstream.SetField(extra, "X-Amzn-Cipher-Suite", opensslCipherName(r.TLS.CipherSuite))
		}
	}
	req := &rc.upReq
	*req = upstream.Request{Method: method, Scheme: in.Scheme, Host: in.Host, Target: target,
		Header: r.Header, StripHopByHop: true, Omit: toBackendOmit, Extra: extra}
	if r.Body != nil && r.Body != http.NoBody && r.ContentLength != 0 {
		req.Body = http.MaxBytesReader(nil, r.Body, maxBodyBytes)
		req.ContentLength = r.ContentLength
	}

	resp := &rc.upResp
	if in.VPCLink {
		done, e := s.sendVPCLink(rc, in, req, resp)
		if e != nil || done == nil {
			return e
		}
		defer done() // after resp.Close
	} else {
		pool := s.backends
		if in.TLSInsecure {
			pool = s.insecureBackends
		}
		rc.integrationStart = time.Now()
		req.Deadline = rc.integrationStart.Add(in.Timeout)
		if err := pool.Do(r.Context(), req, resp); err != nil {
			rc.integrationLatency = time.Since(rc.integrationStart)
			return classifyBackendError(err)
		}
	}
	defer resp.Close()
	rc.integrationStatus = resp.StatusCode

	status := resp.StatusCode
	h := rc.w.Header()
	if in.Type == apimodel.IntegrationHTTP {
		ir := in.SelectResponse(resp.StatusCode)
		if ir == nil {
			rc.integrationLatency = time.Since(rc.integrationStart)
			return &Error{Type: "API_CONFIGURATION_ERROR", Message: "Internal server error",
				Body: `{"message": "Internal server error"}`,
				Err:  errors.New("no match for output mapping and no default output mapping configured")}
		}
		status = ir.StatusCode
		for k, v := range ir.Headers {
			h.Set(k, v)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "" {
			h.Set("Content-Type", ct)
		} else {
			h.Set("Content-Type", "application/json")
		}
	} else {
		resp.Header.CopyTo(h)
	}
	h.Set("x-amzn-RequestId", rc.requestID)
	h.Set("x-amz-apigw-id", rc.extendedID)
	rc.w.WriteHeader(status)
	bp := copyBufs.Get().(*[]byte)
	_, err := io.CopyBuffer(rc.w, resp, *bp)
	copyBufs.Put(bp)
	rc.integrationLatency = time.Since(rc.integrationStart)
	if err != nil {
		s.log.Debug("copying backend response", "requestId", rc.requestID, "err", err)
	}
	return nil
}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

func classifyBackendError(err error) *Error {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return errTooLarge(http.StatusRequestEntityTooLarge, "Request Too Long")
	case errors.Is(err, upstream.ErrTimeout):
		return errTimeout(err)
	default:
		return errIntegration(http.StatusBadGateway, err)
	}
}

// backendPath fills the integration path template with the request's path parameters.
func (s *Server) backendPath(rc *request, in *deployment.Integration) string {
	t := in.Path
	if len(t.Parts) == 1 && t.Parts[0].Param == "" {
		return t.Parts[0].Literal
	}
	var b strings.Builder
	for _, p := range t.Parts {
		if p.Param == "" {
			b.WriteString(p.Literal)
			continue
		}
		name := p.Param
		if from, ok := in.PathParams[name]; ok {
			name = from
		}
		if v, ok := rc.params.Get(name); ok {
			b.WriteString(v)
		}
	}
	return b.String()
}

// paramValue resolves a request-parameter mapping source.
func (rc *request) paramValue(p deployment.ParamMapping) (string, bool) {
	if p.IsStatic {
		return p.Static, true
	}
	switch p.From {
	case "path":
		v, ok := rc.params.Get(p.FromName)
		if ok {
			if u, err := url.PathUnescape(v); err == nil {
				v = u
			}
		}
		return v, ok
	case "querystring":
		vs, ok := rc.r.URL.Query()[p.FromName]
		if !ok || len(vs) == 0 {
			return "", false
		}
		return vs[len(vs)-1], true
	case "header":
		v := rc.r.Header.Get(p.FromName)
		return v, v != ""
	}
	return "", false
}

// opensslCipherName names a cipher suite the way AWS's x-amzn-cipher-suite header does
// (OpenSSL names, e.g. ECDHE-RSA-AES128-GCM-SHA256).
func opensslCipherName(id uint16) string {
	switch id {
	case tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:
		return "ECDHE-RSA-AES128-GCM-SHA256"
	case tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:
		return "ECDHE-RSA-AES256-GCM-SHA384"
	case tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:
		return "ECDHE-ECDSA-AES128-GCM-SHA256"
	case tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384:
		return "ECDHE-ECDSA-AES256-GCM-SHA384"
	case tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256:
		return "ECDHE-RSA-CHACHA20-POLY1305"
	case tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256:
		return "ECDHE-ECDSA-CHACHA20-POLY1305"
	case tls.TLS_AES_128_GCM_SHA256, tls.TLS_AES_256_GCM_SHA384, tls.TLS_CHACHA20_POLY1305_SHA256:
		return tls.CipherSuiteName(id) // TLS 1.3 suites have the same names in OpenSSL
	}
	return tls.CipherSuiteName(id)
}

func tlsVersionName(v uint16) string {
	switch v {
	case 0x0304:
		return "TLSv1.3"
	case 0x0303:
		return "TLSv1.2"
	}
	return "TLSv1"
}
