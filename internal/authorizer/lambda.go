package authorizer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gatehouse/internal/policy"
)

// Lambda authorizer types (AWS Authorizer.type).
const (
	TypeToken   = "TOKEN"
	TypeRequest = "REQUEST"
)

// Lambda authorizer defaults and limits.
const (
	DefaultResultTTLSeconds = 300  // authorizerResultTtlInSeconds when unset
	MaxResultTTLSeconds     = 3600 // its maximum
	DefaultLambdaTimeout    = 10 * time.Second
	DefaultMaxCachedResults = 10000
)

// Invoker calls a Lambda function synchronously (RequestResponse). out is
// the function's response payload; functionError is Lambda's
// X-Amz-Function-Error ("Unhandled", "Handled"), "" when the function
// succeeded, and then out is the error object ({"errorMessage": ...}). err
// is a failure to invoke at all.
type Invoker interface {
	Invoke(ctx context.Context, functionARN string, payload []byte) (out []byte, functionError string, err error)
}

// LambdaConfig is one Lambda authorizer of an API, as AWS's Authorizer
// resource describes it.
type LambdaConfig struct {
	// Type is TOKEN or REQUEST.
	Type string
	// FunctionARN is the authorizer function (see ParseAuthorizerURI).
	FunctionARN string
	// IdentitySource is the authorizer's identitySource: for TOKEN one
	// "method.request.header.NAME"; for REQUEST a comma-separated list of
	// method.request.header.NAME, method.request.querystring.NAME,
	// method.request.multivalueheader.NAME,
	// method.request.multivaluequerystring.NAME (every value, joined with
	// ","), stageVariables.NAME and context.NAME (required when caching is
	// on). Header names are case-insensitive, query names case-sensitive.
	IdentitySource string
	// IdentityValidationExpression is a regular expression the whole TOKEN
	// must match (TOKEN only; RE2 syntax, compiled once).
	IdentityValidationExpression string
	// ResultTTLInSeconds is authorizerResultTtlInSeconds: nil means 300, 0
	// disables the result cache, at most 3600.
	ResultTTLInSeconds *int
	// MaxCachedResults bounds the result cache; 0 means 10,000.
	MaxCachedResults int
	// Timeout bounds one function call; 0 means 10 seconds.
	Timeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// ContextSource gives a REQUEST authorizer what only the data plane knows.
// The data plane's per-request state implements it.
type ContextSource interface {
	// ContextVar returns $context.NAME for the identity source
	// "context.NAME" (e.g. "identity.sourceIp", "stage").
	ContextVar(name string) (string, bool)
	// RequestContext returns the requestContext object of the REQUEST
	// event (marshalled with encoding/json). It is called only when the
	// function is invoked.
	RequestContext() any
}

// LambdaInput is one request as a Lambda authorizer sees it. The authorizer
// reads it only during Authorize (never after it returns), so the caller may
// reuse it.
type LambdaInput struct {
	// HTTP is the client's request: headers, Host, method and raw query.
	HTTP *http.Request
	// MethodARN is arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}/{path}.
	MethodARN string
	// Resource is the matched resource path template, e.g. "/pets/{id}".
	Resource string
	// Path is the request path, e.g. "/pets/1".
	Path string
	// PathParameters are the matched path parameters (may be nil).
	PathParameters map[string]string
	// StageVariables are the stage's variables (may be nil).
	StageVariables map[string]string
	// Context supplies context.* identity sources and the event's
	// requestContext; nil means none.
	Context ContextSource
	// PolicyContext holds the condition keys for conditions in the
	// returned policy; nil means none.
	PolicyContext *policy.Context
}

// LambdaResult is a successful authorizer response. Cached results are
// shared by every request with the same identity and must not be modified.
type LambdaResult struct {
	// PrincipalID is $context.authorizer.principalId.
	PrincipalID string
	// Context is $context.authorizer.KEY, every value stringified.
	Context map[string]string
	// UsageIdentifierKey is the API key for apiKeySource AUTHORIZER ("" if none).
	UsageIdentifierKey string
	// Policy is the returned policyDocument, compiled.
	Policy *policy.Policy
}

// Lambda is a compiled Lambda authorizer (TOKEN or REQUEST) with its
// result cache. Build one per stage and authorizer (the cache is shared by
// every method of the stage that uses the authorizer, as on AWS); it is safe
// for concurrent use.
type Lambda struct {
	typ      string
	fn       string
	sources  []identitySource
	validate *regexp.Regexp
	ttl      time.Duration
	timeout  time.Duration
	now      func() time.Time
	inv      Invoker
	cache    *ttlCache[*LambdaResult] // nil when caching is off
	flights  flightGroup[*LambdaResult]
}

type sourceKind uint8

const (
	sourceHeader sourceKind = iota + 1
	sourceQuery
	sourceMultiHeader // every value, joined with ","
	sourceMultiQuery  // every value, joined with ","
	sourceStageVar
	sourceContext
)

type identitySource struct {
	kind sourceKind
	name string // canonical header name for headers
}

// NewLambda compiles an authorizer: it parses the identity sources and the
// validation expression and sets up the cache.
func NewLambda(cfg LambdaConfig, inv Invoker) (*Lambda, error) {
	if inv == nil {
		return nil, errors.New("lambda authorizer: nil invoker")
	}
	if cfg.FunctionARN == "" {
		return nil, errors.New("lambda authorizer: no function ARN")
	}
	l := &Lambda{typ: cfg.Type, fn: cfg.FunctionARN, timeout: cfg.Timeout, now: cfg.Now, inv: inv}
	if l.timeout <= 0 {
		l.timeout = DefaultLambdaTimeout
	}
	if l.now == nil {
		l.now = time.Now
	}
	ttl := DefaultResultTTLSeconds
	if cfg.ResultTTLInSeconds != nil {
		ttl = *cfg.ResultTTLInSeconds
	}
	if ttl < 0 || ttl > MaxResultTTLSeconds {
		return nil, fmt.Errorf("lambda authorizer: authorizerResultTtlInSeconds %d: must be 0 to %d", ttl, MaxResultTTLSeconds)
	}
	l.ttl = time.Duration(ttl) * time.Second
	srcs, err := parseIdentitySources(cfg.IdentitySource)
	if err != nil {
		return nil, fmt.Errorf("lambda authorizer: %w", err)
	}
	l.sources = srcs
	switch cfg.Type {
	case TypeToken:
		if len(srcs) != 1 || srcs[0].kind != sourceHeader {
			return nil, fmt.Errorf("lambda authorizer: TOKEN identitySource must be one method.request.header.NAME, got %q", cfg.IdentitySource)
		}
		if cfg.IdentityValidationExpression != "" {
			re, err := compileValidation(cfg.IdentityValidationExpression)
			if err != nil {
				return nil, fmt.Errorf("lambda authorizer: identityValidationExpression: %w", err)
			}
			l.validate = re
		}
	case TypeRequest:
		if len(srcs) == 0 && l.ttl > 0 {
			return nil, errors.New("lambda authorizer: REQUEST identitySource is required when caching is enabled")
		}
	default:
		return nil, fmt.Errorf("lambda authorizer: type %q: want TOKEN or REQUEST", cfg.Type)
	}
	if l.ttl > 0 {
		n := cfg.MaxCachedResults
		if n <= 0 {
			n = DefaultMaxCachedResults
		}
		l.cache = newTTLCache[*LambdaResult](n)
	}
	return l, nil
}

// compileValidation compiles an identityValidationExpression so that it must
// match the whole token (Java's String.matches, which API Gateway is
// understood to use).
func compileValidation(expr string) (*regexp.Regexp, error) {
	return regexp.Compile(`^(?:` + expr + `)$`)
}

// parseIdentitySources parses a comma-separated identitySource. Empty input
// gives no sources.
func parseIdentitySources(s string) ([]identitySource, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var out []identitySource
	for _, part := range strings.Split(s, ",") {
		p := strings.TrimSpace(part)
		var src identitySource
		switch {
		case strings.HasPrefix(p, "method.request.header."):
			src = identitySource{sourceHeader, p[len("method.request.header."):]}
		case strings.HasPrefix(p, "method.request.querystring."):
			src = identitySource{sourceQuery, p[len("method.request.querystring."):]}
		case strings.HasPrefix(p, "method.request.multivalueheader."):
			src = identitySource{sourceMultiHeader, p[len("method.request.multivalueheader."):]}
		case strings.HasPrefix(p, "method.request.multivaluequerystring."):
			src = identitySource{sourceMultiQuery, p[len("method.request.multivaluequerystring."):]}
		case strings.HasPrefix(p, "stageVariables."):
			src = identitySource{sourceStageVar, p[len("stageVariables."):]}
		case strings.HasPrefix(p, "context."):
			src = identitySource{sourceContext, p[len("context."):]}
		case strings.HasPrefix(p, "method.request.path."):
			return nil, fmt.Errorf("identity source %q: path parameters cannot be identity sources", p)
		default:
			return nil, fmt.Errorf("identity source %q: want method.request.header.NAME, method.request.querystring.NAME, "+
				"method.request.multivalueheader.NAME, method.request.multivaluequerystring.NAME, stageVariables.NAME or context.NAME", p)
		}
		if src.name == "" || strings.ContainsAny(src.name, " \t\r\n") {
			return nil, fmt.Errorf("identity source %q: bad name", p)
		}
		if src.kind == sourceHeader || src.kind == sourceMultiHeader {
			src.name = textproto.CanonicalMIMEHeaderKey(src.name)
		}
		out = append(out, src)
	}
	return out, nil
}

// TTL returns the result-cache TTL (0 when caching is off).
func (l *Lambda) TTL() time.Duration { return l.ttl }

// FlushCache empties the result cache (FlushStageAuthorizersCache).
func (l *Lambda) FlushCache() {
	if l.cache != nil {
		l.cache.flush()
	}
}

// Authorize runs the authorizer for one request and returns its result and
// the decision of the returned policy for in.MethodARN (re-evaluated on
// every request, cached or not). Failures:
//
//   - a missing or empty identity source, or a TOKEN that does not match
//     identityValidationExpression: UNAUTHORIZED 401, the function is not
//     called;
//   - the function fails with the message "Unauthorized": UNAUTHORIZED 401;
//   - any other function error, invocation failure, timeout or malformed
//     output: AUTHORIZER_CONFIGURATION_ERROR 500 {"message": null}.
//
// A Deny is not a failure here: pass the decision to AuthorizerVerdict with
// the resource policy's decision. With caching on, the result is cached by
// identity-source values for the TTL, and concurrent requests with the same
// values share one function call. A cache hit does not allocate for a TOKEN
// authorizer or a REQUEST authorizer with one identity source.
func (l *Lambda) Authorize(ctx context.Context, in *LambdaInput) (*LambdaResult, policy.Decision, *Failure) {
	key, f := l.identity(in)
	if f != nil {
		return nil, policy.NotApplicable, f
	}
	var res *LambdaResult
	if l.cache != nil {
		if r, ok := l.cache.get(key, l.now().UnixNano()); ok {
			return r, l.decide(r, in), nil
		}
		res, f, _ = l.flights.do(ctx, key, func() (func(context.Context) (*LambdaResult, *Failure), *Failure) {
			payload, err := l.event(in, key)
			if err != nil {
				return nil, configError(err)
			}
			return func(fctx context.Context) (*LambdaResult, *Failure) {
				r, f := l.invoke(fctx, payload)
				if f == nil {
					now := l.now()
					l.cache.put(key, r, now.Add(l.ttl).UnixNano(), now.UnixNano())
				}
				return r, f
			}, nil
		})
	} else {
		payload, err := l.event(in, key)
		if err != nil {
			return nil, policy.NotApplicable, configError(err)
		}
		res, f = l.invoke(ctx, payload)
	}
	if f != nil {
		return nil, policy.NotApplicable, f
	}
	return res, l.decide(res, in), nil
}

// decide evaluates the result's policy for the request's method ARN.
func (l *Lambda) decide(r *LambdaResult, in *LambdaInput) policy.Decision {
	req := policy.Request{
		Principal: policy.Principal{Anonymous: true},
		Action:    ActionInvoke,
		Resource:  in.MethodARN,
		Context:   in.PolicyContext,
	}
	return r.Policy.Evaluate(&req)
}

// identity extracts the identity-source values and returns the cache key
// (for TOKEN, the token itself).
func (l *Lambda) identity(in *LambdaInput) (string, *Failure) {
	if l.typ == TypeToken {
		tok := l.value(in, &l.sources[0])
		if tok == "" {
			return "", unauthorized(errors.New("identity source " + l.sources[0].name + " is missing or empty"))
		}
		if l.validate != nil && !l.validate.MatchString(tok) {
			return "", unauthorized(errors.New("token does not match identityValidationExpression"))
		}
		return tok, nil
	}
	switch len(l.sources) {
	case 0:
		return "", nil
	case 1:
		v := l.value(in, &l.sources[0])
		if v == "" {
			return "", unauthorized(errors.New("identity source " + l.sources[0].name + " is missing or empty"))
		}
		return v, nil
	}
	var buf [256]byte
	b := buf[:0]
	for i := range l.sources {
		v := l.value(in, &l.sources[i])
		if v == "" {
			return "", unauthorized(errors.New("identity source " + l.sources[i].name + " is missing or empty"))
		}
		b = strconv.AppendInt(b, int64(len(v)), 10)
		b = append(b, ':')
		b = append(b, v...)
	}
	return string(b), nil
}

// value returns one identity source's value ("" when missing). A header or
// query parameter sent several times gives its last value, as the event's
// single-value maps do.
func (l *Lambda) value(in *LambdaInput, s *identitySource) string {
	switch s.kind {
	case sourceHeader:
		if in.HTTP == nil {
			return ""
		}
		if vs := in.HTTP.Header[s.name]; len(vs) > 0 {
			return vs[len(vs)-1]
		}
		if s.name == "Host" {
			return in.HTTP.Host
		}
	case sourceQuery:
		if in.HTTP == nil || in.HTTP.URL == nil {
			return ""
		}
		return queryLast(in.HTTP.URL.RawQuery, s.name)
	case sourceMultiHeader:
		if in.HTTP == nil {
			return ""
		}
		vs := in.HTTP.Header[s.name]
		if len(vs) == 1 {
			return vs[0]
		}
		return strings.Join(vs, ",")
	case sourceMultiQuery:
		if in.HTTP == nil || in.HTTP.URL == nil {
			return ""
		}
		return queryAll(in.HTTP.URL.RawQuery, s.name)
	case sourceStageVar:
		return in.StageVariables[s.name]
	case sourceContext:
		if in.Context != nil {
			v, _ := in.Context.ContextVar(s.name)
			return v
		}
	}
	return ""
}

// queryLast returns the last value of query parameter name in raw (decoded),
// without allocating when nothing needs decoding.
func queryLast(raw, name string) string {
	val := ""
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(part, "=")
		if strings.ContainsAny(k, "%+") {
			dk, err := url.QueryUnescape(k)
			if err != nil || dk != name {
				continue
			}
		} else if k != name {
			continue
		}
		if strings.ContainsAny(v, "%+") {
			if dv, err := url.QueryUnescape(v); err == nil {
				v = dv
			}
		}
		val = v
	}
	return val
}

// queryAll returns every value of query parameter name in raw, decoded and
// joined with ",".
func queryAll(raw, name string) string {
	var vals []string
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(part, "=")
		if dk, err := url.QueryUnescape(k); err != nil || dk != name {
			continue
		}
		if dv, err := url.QueryUnescape(v); err == nil {
			v = dv
		}
		vals = append(vals, v)
	}
	if len(vals) == 1 {
		return vals[0]
	}
	return strings.Join(vals, ",")
}

// The input events (api-gateway-lambda-authorizer-input).
type tokenEvent struct {
	Type               string `json:"type"`
	AuthorizationToken string `json:"authorizationToken"`
	MethodArn          string `json:"methodArn"`
}

type requestEvent struct {
	Type                            string              `json:"type"`
	MethodArn                       string              `json:"methodArn"`
	Resource                        string              `json:"resource"`
	Path                            string              `json:"path"`
	HTTPMethod                      string              `json:"httpMethod"`
	Headers                         map[string]string   `json:"headers"`
	MultiValueHeaders               map[string][]string `json:"multiValueHeaders"`
	QueryStringParameters           map[string]string   `json:"queryStringParameters"`
	MultiValueQueryStringParameters map[string][]string `json:"multiValueQueryStringParameters"`
	PathParameters                  map[string]string   `json:"pathParameters"`
	StageVariables                  map[string]string   `json:"stageVariables"`
	RequestContext                  any                 `json:"requestContext"`
}

// event builds the function's input event.
func (l *Lambda) event(in *LambdaInput, token string) ([]byte, error) {
	var v any
	if l.typ == TypeToken {
		v = tokenEvent{Type: TypeToken, AuthorizationToken: token, MethodArn: in.MethodARN}
	} else {
		v = buildRequestEvent(in)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("authorizer event: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func buildRequestEvent(in *LambdaInput) *requestEvent {
	ev := &requestEvent{
		Type:                            TypeRequest,
		MethodArn:                       in.MethodARN,
		Resource:                        in.Resource,
		Path:                            in.Path,
		Headers:                         map[string]string{},
		MultiValueHeaders:               map[string][]string{},
		QueryStringParameters:           map[string]string{},
		MultiValueQueryStringParameters: map[string][]string{},
		PathParameters:                  in.PathParameters,
		StageVariables:                  in.StageVariables,
	}
	if ev.PathParameters == nil {
		ev.PathParameters = map[string]string{}
	}
	if ev.StageVariables == nil {
		ev.StageVariables = map[string]string{}
	}
	if r := in.HTTP; r != nil {
		ev.HTTPMethod = r.Method
		for k, vs := range r.Header {
			if len(vs) == 0 {
				continue
			}
			ev.Headers[k] = vs[len(vs)-1]
			ev.MultiValueHeaders[k] = vs
		}
		if _, ok := r.Header["Host"]; !ok && r.Host != "" {
			ev.Headers["Host"] = r.Host
			ev.MultiValueHeaders["Host"] = []string{r.Host}
		}
		if r.URL != nil && r.URL.RawQuery != "" {
			q, _ := url.ParseQuery(r.URL.RawQuery) // keeps what parses
			for k, vs := range q {
				ev.QueryStringParameters[k] = vs[len(vs)-1]
				ev.MultiValueQueryStringParameters[k] = vs
			}
		}
	}
	if in.Context != nil {
		ev.RequestContext = in.Context.RequestContext()
	}
	if ev.RequestContext == nil {
		ev.RequestContext = map[string]any{}
	}
	return ev
}

// invoke calls the function and interprets its answer.
func (l *Lambda) invoke(ctx context.Context, payload []byte) (*LambdaResult, *Failure) {
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	out, fnErr, err := l.inv.Invoke(ctx, l.fn, payload)
	if err != nil {
		return nil, configError(fmt.Errorf("invoke %s: %w", l.fn, err))
	}
	if fnErr != "" {
		if functionErrorMessage(out) == msgUnauthorized {
			return nil, unauthorized(errors.New("authorizer function failed with Unauthorized"))
		}
		return nil, configError(fmt.Errorf("authorizer function error (%s): %s", fnErr, clip(out)))
	}
	r, err := ParseLambdaOutput(out)
	if err != nil {
		return nil, configError(err)
	}
	return r, nil
}

// functionErrorMessage returns errorMessage of a Lambda error payload.
func functionErrorMessage(b []byte) string {
	var e struct {
		ErrorMessage *string `json:"errorMessage"`
	}
	if json.Unmarshal(b, &e) != nil || e.ErrorMessage == nil {
		return ""
	}
	return *e.ErrorMessage
}

func clip(b []byte) string {
	if len(b) > 256 {
		return string(b[:256]) + "..."
	}
	return string(b)
}

// ParseLambdaOutput parses an authorizer function's response:
//
//	{"principalId": "...", "policyDocument": {...},
//	 "context": {"k": "string" | number | boolean}, "usageIdentifierKey": "..."}
//
// principalId (a string; numbers and booleans are stringified) and
// policyDocument (an IAM policy, compiled with policy.Parse) are required.
// context values are stringified (numbers as written, booleans as
// true/false, null skipped); an object or array value is an error, as on
// AWS. Key names are case-sensitive and unknown keys are ignored.
func ParseLambdaOutput(b []byte) (*LambdaResult, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil || top == nil {
		return nil, fmt.Errorf("authorizer output is not a JSON object: %s", clip(b))
	}
	r := &LambdaResult{}
	raw, ok := top["principalId"]
	if !ok || isNull(raw) {
		return nil, errors.New("authorizer output has no principalId")
	}
	pid, ok := scalarString(raw)
	if !ok {
		return nil, errors.New("authorizer output: principalId must be a string")
	}
	r.PrincipalID = pid
	raw, ok = top["policyDocument"]
	if !ok || isNull(raw) {
		return nil, errors.New("authorizer output has no policyDocument")
	}
	pol, err := policy.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("authorizer output: policyDocument: %w", err)
	}
	r.Policy = pol
	if raw, ok := top["context"]; ok && !isNull(raw) {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, errors.New("authorizer output: context must be an object")
		}
		r.Context = make(map[string]string, len(m))
		for k, v := range m {
			if isNull(v) {
				continue
			}
			s, ok := scalarString(v)
			if !ok {
				return nil, fmt.Errorf("authorizer output: context value %q must be a string, number or boolean", k)
			}
			r.Context[k] = s
		}
	}
	if raw, ok := top["usageIdentifierKey"]; ok && !isNull(raw) {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, errors.New("authorizer output: usageIdentifierKey must be a string")
		}
		r.UsageIdentifierKey = s
	}
	return r, nil
}

func isNull(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == "null"
}

// scalarString stringifies a JSON string, number or boolean.
func scalarString(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false
		}
		return s, true
	case 't', 'f':
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return "", false
		}
		return strconv.FormatBool(b), true
	case '{', '[', 'n':
		return "", false
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return "", false
	}
	return n.String(), true
}

// ParseAuthorizerURI returns the function ARN of an authorizerUri,
// arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{FunctionArn}/invocations.
func ParseAuthorizerURI(uri string) (string, error) {
	const mid, suffix = ":lambda:path/2015-03-31/functions/", "/invocations"
	i := strings.Index(uri, mid)
	if !strings.HasPrefix(uri, "arn:") || i < 0 || !strings.HasSuffix(uri, suffix) || i+len(mid) > len(uri)-len(suffix) {
		return "", fmt.Errorf("authorizerUri %q: want arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{FunctionArn}/invocations", uri)
	}
	fn := uri[i+len(mid) : len(uri)-len(suffix)]
	if !strings.HasPrefix(fn, "arn:") {
		return "", fmt.Errorf("authorizerUri %q: the function must be an ARN", uri)
	}
	return fn, nil
}
