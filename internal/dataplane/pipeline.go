package dataplane

// This file is the request pipeline: one fixed sequence of phases in AWS's order.
// Each phase either moves the request on or returns an *Error; serve renders the error
// as a gateway response in one place and always writes the access-log line.
//
//	accept (listener: security group) → TLS → HTTP parse
//	→ resolve API (Host / x-apigw-api-id / alias name) and endpoint check
//	→ request limits (private APIs: 8,000-byte headers, 8,192-char URLs; 10 MB bodies)
//	→ stage (first path segment)
//	→ VPC endpoint policy
//	→ route match (resource tree)
//	→ resource policy phase 1 (explicit deny), authorizer (IAM | Lambda | Cognito),
//	  resource policy phase 2 (AWS's same-account / cross-account tables)
//	→ API key, usage plan, throttling (account, stage method, plan per key, quota)
//	→ request validation (required parameters, body model)
//	→ integration (HTTP_PROXY, HTTP, MOCK)
//	→ response; any failure → its gateway response
//	→ access log line and metrics (always)

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"

	"gatehouse/internal/deployment"
	"gatehouse/internal/policy"
	"gatehouse/internal/throttle"
	"gatehouse/internal/validation"
)

// Request limits AWS enforces on REST APIs.
const (
	maxHeaderBytesPrivate = 8000
	maxHeaderBytesPublic  = 10240
	maxURLPrivate         = 8192
	maxURLPublic          = 10240
	maxBodyBytes          = 10 << 20
)

func (s *Server) serve(w http.ResponseWriter, r *http.Request, o *Origin) {
	rc := s.newRequest(w, r, o)
	defer s.release(rc)
	if err := s.pipeline(rc); err != nil {
		s.writeError(rc, err)
	}
	s.finish(rc)
}

func (s *Server) pipeline(rc *request) *Error {
	if err := s.admit(rc); err != nil {
		return err
	}
	return s.integrate(rc)
}

// admit runs every phase before the integration: it decides whether, and to which method,
// the request goes.
func (s *Server) admit(rc *request) *Error {
	r := rc.r
	snap := s.snapshot.Load()
	if snap == nil {
		return errForbidden()
	}

	// Resolve the API and check the endpoint it arrived on.
	api, err := s.resolveAPI(rc, snap)
	if err != nil {
		return err
	}
	rc.apiID = api.ID

	// Request limits.
	maxHeaders, maxURL := maxHeaderBytesPublic, maxURLPublic
	if api.Private {
		maxHeaders, maxURL = maxHeaderBytesPrivate, maxURLPrivate
	}
	if len(r.RequestURI) > maxURL {
		return errTooLarge(http.StatusRequestURITooLong, "Request-URI Too Long")
	}
	if headerBytes(r) > maxHeaders {
		return errTooLarge(http.StatusRequestEntityTooLarge, "Request Header Fields Too Large")
	}
	if r.ContentLength > maxBodyBytes {
		return errTooLarge(http.StatusRequestEntityTooLarge, "Request Too Long")
	}

	// Stage: the first path segment.
	stageName, rest := splitStage(rc.path)
	stage := api.Stages[stageName]
	if stage == nil {
		return errForbidden()
	}
	rc.stage, rc.stageName, rc.rest = stage, stageName, rest
	if stage.Err != nil {
		return errConfig(stage.Err)
	}
	comp := stage.Compiled
	rc.comp = comp
	rc.resourceARN = stage.ARNPrefix + r.Method + "/" + rest[1:]
	s.fillPolicyContext(rc)

	// VPC endpoint policy (IAM policy on the endpoint itself).
	if o := rc.origin; o.EndpointPolicy != nil {
		if d := o.EndpointPolicy.Evaluate(rc.policyRequest()); d != policy.Allow {
			return errAccessDenied(rc.maskedARN(), d == policy.Deny)
		}
	}

	// Route match over the resource tree.
	m, _, ok := comp.Routes.Match(r.Method, rest, &rc.params)
	if !ok {
		return errMissingAuthToken()
	}
	rc.method = m

	// Authorization: the resource policy alone (NONE), or with an authorizer, combined by
	// AWS's rules (apigateway-authorization-flow).
	if err := s.authorize(rc, api, comp, m); err != nil {
		return err
	}

	// API keys, usage plans and throttling.
	if s.limiter != nil {
		usageKey := ""
		if rc.lambdaResult != nil {
			usageKey = rc.lambdaResult.UsageIdentifierKey
		}
		rc.apiKey = throttle.KeyFromRequest(comp.APIKeySource, r.Header, usageKey)
		o, err := s.limiter.Allow(r.Context(), throttle.Check{
			Account: api.Account, APIID: api.ID, Stage: stageName, ResourcePath: m.ResourcePath,
			Method: m.HTTPMethod, APIKey: rc.apiKey, KeyRequired: m.APIKeyRequired,
		})
		if err != nil {
			s.log.Warn("throttle", "requestId", rc.requestID, "err", err)
		}
		rc.apiKeyID = o.APIKeyID
		if o.Result != throttle.Allowed {
			return &Error{Type: o.ResponseType(), Message: o.Message()}
		}
	}

	// Request validation: required parameters, then the body against its model.
	if v := m.Validator; v != nil {
		var body []byte
		if v.NeedsBody() {
			b, err := rc.bufferBody()
			if err != nil {
				return err
			}
			body = b
		}
		if f := v.Validate(&validation.Request{Header: r.Header, Host: r.Host, RawQuery: r.URL.RawQuery,
			Path: &rc.params, ContentType: r.Header.Get("Content-Type"), Body: body}); f != nil {
			return &Error{Type: f.Type, Message: f.Message, ValidationErrorString: f.ValidationErrorString}
		}
	}
	return nil
}

// bufferBody reads the whole request body (up to the 10 MB limit) so a phase can look at
// it; the integration then sends the buffered copy.
func (rc *request) bufferBody() ([]byte, *Error) {
	if rc.body != nil || rc.r.Body == nil || rc.r.Body == http.NoBody {
		return rc.body, nil
	}
	b, err := io.ReadAll(http.MaxBytesReader(nil, rc.r.Body, maxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errTooLarge(http.StatusRequestEntityTooLarge, "Request Too Long")
		}
		return nil, &Error{Type: "DEFAULT_4XX", Status: http.StatusBadRequest, Message: "Bad Request", Err: err}
	}
	rc.body = b
	rc.r.Body = io.NopCloser(bytes.NewReader(b))
	rc.r.ContentLength = int64(len(b))
	return b, nil
}

// resolveAPI finds the API a request names, by the four private-API naming forms on an
// endpoint or by the execute-api host name on the public listener.
func (s *Server) resolveAPI(rc *request, snap *deployment.Snapshot) (*deployment.API, *Error) {
	o := rc.origin
	label, isExec := s.executeAPILabel(rc.host)
	apiID, aliasVpce := label, ""
	if i := strings.Index(label, "-vpce-"); isExec && i >= 0 {
		apiID, aliasVpce = label[:i], label[i+1:]
	}
	if o.Public {
		// Public listener: only public APIs, only by their own host name.
		if !isExec || aliasVpce != "" {
			return nil, errForbidden()
		}
		api := snap.APIs[apiID]
		if api == nil || api.Private || api.DisableExecuteAPIEndpoint {
			return nil, errForbidden()
		}
		return api, nil
	}
	// Through a VPC endpoint.
	if !isExec {
		// The endpoint's own public DNS name (or any other name): the API is named by header.
		apiID = rc.r.Header.Get("X-Apigw-Api-Id")
	}
	if apiID == "" {
		return nil, errForbidden()
	}
	api := snap.APIs[apiID]
	if api == nil || api.DisableExecuteAPIEndpoint {
		return nil, errForbidden()
	}
	if aliasVpce != "" && (aliasVpce != o.VpceID || !api.AllowsAlias(aliasVpce)) {
		return nil, errForbidden()
	}
	if !api.Private {
		// Private DNS captures every execute-api name; public APIs called that way get 403.
		return nil, errForbidden()
	}
	return api, nil
}

// executeAPILabel returns the first label of host when host is
// "{label}.execute-api.{region}.amazonaws.com".
func (s *Server) executeAPILabel(host string) (string, bool) {
	i := strings.IndexByte(host, '.')
	if i <= 0 || !strings.EqualFold(host[i:], s.execSuffix) {
		return "", false
	}
	return host[:i], true
}

// splitStage splits "/prod/pets/1" into "prod" and "/pets/1"; "/prod" gives "/".
func splitStage(path string) (stage, rest string) {
	if len(path) < 2 || path[0] != '/' {
		return "", "/"
	}
	p := path[1:]
	if i := strings.IndexByte(p, '/'); i >= 0 {
		return p[:i], p[i:]
	}
	return p, "/"
}

// headerBytes counts request header bytes the way AWS's limit does: names, values and
// the ": " and CRLF around them.
func headerBytes(r *http.Request) int {
	n := len(r.Host) + len("Host: \r\n")
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}

// fillPolicyContext sets the condition keys of the request.
func (s *Server) fillPolicyContext(rc *request) {
	c := &rc.polctx
	o := rc.origin
	c.Reset()
	c.SetTime(rc.start)
	c.SetSecureTransport(o.TLS)
	if o.Public {
		c.SetAddr(policy.KeySourceIp, rc.sourceIP)
	} else {
		// Through an endpoint AWS rewrites the source address: aws:SourceIp is not the
		// client (use aws:VpcSourceIp). gatehouse gives the endpoint's own address.
		c.SetAddr(policy.KeySourceIp, rc.localIP)
		c.SetString(policy.KeySourceVpce, o.VpceID)
		c.SetString(policy.KeySourceVpc, o.VpcID)
		c.SetAddr(policy.KeyVpcSourceIp, rc.sourceIP)
	}
	if ua := rc.r.Header.Get("User-Agent"); ua != "" {
		c.SetString(policy.KeyUserAgent, ua)
	}
	if ref := rc.r.Header.Get("Referer"); ref != "" {
		c.SetString(policy.KeyReferer, ref)
	}
}

func (rc *request) policyRequest() *policy.Request {
	rc.polreq = policy.Request{
		Principal: policy.Principal{Anonymous: true},
		Action:    "execute-api:Invoke",
		Resource:  rc.resourceARN,
		Context:   &rc.polctx,
	}
	return &rc.polreq
}

// maskedARN is the resource ARN with the account masked, for AccessDenied messages.
func (rc *request) maskedARN() string {
	return rc.stage.MaskedARNPrefix + rc.r.Method + "/" + rc.rest[1:]
}
