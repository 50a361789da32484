package lambdaproxy

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// EventInput is what BuildEvent needs to know about one request.
type EventInput struct {
	// Resource is the matched resource's path template, e.g. "/{proxy+}".
	Resource string
	// Path is the request path after the stage, as received (still
	// percent-encoded), e.g. "/test-path".
	Path string
	// HTTPMethod is the request method.
	HTTPMethod string
	// Headers are the request headers as API Gateway forwards them.
	// net/http canonicalizes names ("x-api" arrives as "X-Api"), unlike AWS,
	// which keeps the client's spelling.
	Headers http.Header
	// RawQuery is the query string as received, without '?'.
	RawQuery string
	// PathParameters are the matched path parameters; nil or empty for none.
	PathParameters map[string]string
	// StageVariables are the stage's variables; nil or empty for none.
	StageVariables map[string]string
	// Body is the request body.
	Body []byte
	// BinaryMediaTypes is the API's binaryMediaTypes: a body whose
	// Content-Type matches one is sent base64-encoded with isBase64Encoded.
	BinaryMediaTypes []string
	// TLSVersion and CipherSuite, when set on a private API request, are sent
	// as x-amzn-tls-version and x-amzn-cipher-suite (e.g. "TLSv1.2",
	// "ECDHE-RSA-AES128-GCM-SHA256").
	TLSVersion, CipherSuite string
	// RequestContext is the event's requestContext.
	RequestContext RequestContext
}

// RequestContext is the requestContext of a payload 1.0 event.
type RequestContext struct {
	AccountID         string
	APIID             string
	ResourceID        string
	Stage             string
	DeploymentID      string
	OperationName     string
	Protocol          string // default "HTTP/1.1"
	RequestID         string
	ExtendedRequestID string
	RequestTime       time.Time
	// DomainName is the Host the request came in on; domainPrefix is its
	// first label.
	DomainName string
	// Path is the path with the stage ("/test/test-path"); "" means
	// "/" + Stage + EventInput.Path. A custom domain request carries the
	// path as received (with the base path).
	Path       string
	Identity   Identity
	Authorizer *Authorizer // nil: no authorizer (the key is left out, as AWS does)
}

// Identity is requestContext.identity. Empty strings are sent as null.
type Identity struct {
	SourceIP  string
	UserAgent string
	// VpcID and VpceID are set for requests through an interface VPC
	// endpoint (private APIs); the keys are absent otherwise.
	VpcID, VpceID string

	AccountID, Caller, User, UserArn, AccessKey, PrincipalOrgID string
	CognitoIdentityPoolID, CognitoIdentityID                    string
	CognitoAuthenticationType, CognitoAuthenticationProvider    string
	// APIKey and APIKeyID are sent when the method required an API key.
	APIKey, APIKeyID string
}

// Authorizer is requestContext.authorizer.
type Authorizer struct {
	// PrincipalID is the Lambda authorizer's principalId.
	PrincipalID string
	// Context holds the Lambda authorizer's context entries, merged into
	// the object next to principalId (values as the authorizer returned
	// them: string, number or boolean).
	Context map[string]any
	// IntegrationLatency, when not nil, is the authorizer's latency in ms.
	IntegrationLatency *int64
	// Claims and Scopes are a Cognito user pool authorizer's.
	Claims map[string]any
	Scopes []string
}

// The event and its parts, in AWS's key order (set-up-lambda-proxy-integrations,
// "Input format of a Lambda function for proxy integration").
type event struct {
	Resource                        string              `json:"resource"`
	Path                            string              `json:"path"`
	HTTPMethod                      string              `json:"httpMethod"`
	Headers                         map[string]string   `json:"headers"`
	MultiValueHeaders               map[string][]string `json:"multiValueHeaders"`
	QueryStringParameters           map[string]string   `json:"queryStringParameters"`
	MultiValueQueryStringParameters map[string][]string `json:"multiValueQueryStringParameters"`
	PathParameters                  map[string]string   `json:"pathParameters"`
	StageVariables                  map[string]string   `json:"stageVariables"`
	RequestContext                  requestContext      `json:"requestContext"`
	Body                            *string             `json:"body"`
	IsBase64Encoded                 bool                `json:"isBase64Encoded"`
}

type requestContext struct {
	ResourceID        string          `json:"resourceId"`
	Authorizer        json.RawMessage `json:"authorizer,omitempty"`
	ResourcePath      string          `json:"resourcePath"`
	OperationName     string          `json:"operationName,omitempty"`
	HTTPMethod        string          `json:"httpMethod"`
	ExtendedRequestID string          `json:"extendedRequestId"`
	RequestTime       string          `json:"requestTime"`
	Path              string          `json:"path"`
	AccountID         string          `json:"accountId"`
	Protocol          string          `json:"protocol"`
	Stage             string          `json:"stage"`
	DomainPrefix      string          `json:"domainPrefix"`
	RequestTimeEpoch  int64           `json:"requestTimeEpoch"`
	RequestID         string          `json:"requestId"`
	Identity          identity        `json:"identity"`
	DomainName        string          `json:"domainName"`
	DeploymentID      string          `json:"deploymentId,omitempty"`
	APIID             string          `json:"apiId"`
}

type identity struct {
	CognitoIdentityPoolID         *string `json:"cognitoIdentityPoolId"`
	VpcID                         *string `json:"vpcId,omitempty"`
	APIKey                        *string `json:"apiKey,omitempty"`
	AccountID                     *string `json:"accountId"`
	CognitoIdentityID             *string `json:"cognitoIdentityId"`
	Caller                        *string `json:"caller"`
	APIKeyID                      *string `json:"apiKeyId,omitempty"`
	SourceIP                      *string `json:"sourceIp"`
	PrincipalOrgID                *string `json:"principalOrgId"`
	AccessKey                     *string `json:"accessKey"`
	CognitoAuthenticationType     *string `json:"cognitoAuthenticationType"`
	CognitoAuthenticationProvider *string `json:"cognitoAuthenticationProvider"`
	UserArn                       *string `json:"userArn"`
	VpceID                        *string `json:"vpceId,omitempty"`
	UserAgent                     *string `json:"userAgent"`
	User                          *string `json:"user"`
}

// RequestTimeFormat is $context.requestTime: 04/Mar/2020:19:15:17 +0000.
const RequestTimeFormat = "02/Jan/2006:15:04:05 -0700"

// BuildEvent returns the REST API Lambda proxy event (payload format 1.0)
// for a request, as AWS sends it. Sources per field:
//
//   - Key set and order, null for no query string / path parameters / stage
//     variables / body: DG set-up-lambda-proxy-integrations and the
//     AWS-recorded LocalStack snapshot
//     test_apigateway_lambda.py::test_lambda_aws_proxy_integration.
//   - queryStringParameters holds the last value of a repeated parameter,
//     multiValueQueryStringParameters all of them in order; '+' decodes to a
//     space and %2B to '+' (same snapshot, "category=electronics&category=books"
//     gives "books"; "plus=test+alias@gmail.com" gives "test alias@gmail.com").
//   - headers holds the last value of a repeated header, multiValueHeaders
//     all of them.
//   - requestContext.authorizer is absent without an authorizer (same
//     snapshot); identity keys without a value are null.
//   - Through a VPC endpoint, identity carries vpcId and vpceId and the
//     headers x-amzn-vpc-id, x-amzn-vpce-id, x-amzn-vpce-config: 1 and
//     X-Forwarded-For (the client address) are added unless present
//     (aws-reference §1.3, observed private API events).
//   - A body whose Content-Type matches binaryMediaTypes is base64 with
//     isBase64Encoded true; any other body is sent as text (DG
//     api-gateway-payload-encodings).
func BuildEvent(in EventInput) ([]byte, error) {
	rc := in.RequestContext
	ev := event{
		Resource:   in.Resource,
		Path:       in.Path,
		HTTPMethod: in.HTTPMethod,
	}
	headers := in.Headers
	if rc.Identity.VpceID != "" {
		headers = headers.Clone()
		if headers == nil {
			headers = http.Header{}
		}
		setIfAbsent(headers, "x-amzn-vpc-id", rc.Identity.VpcID)
		setIfAbsent(headers, "x-amzn-vpce-id", rc.Identity.VpceID)
		setIfAbsent(headers, "x-amzn-vpce-config", "1")
		setIfAbsent(headers, "x-amzn-tls-version", in.TLSVersion)
		setIfAbsent(headers, "x-amzn-cipher-suite", in.CipherSuite)
		setIfAbsent(headers, "X-Forwarded-For", rc.Identity.SourceIP)
	}
	if len(headers) > 0 {
		ev.Headers = make(map[string]string, len(headers))
		ev.MultiValueHeaders = make(map[string][]string, len(headers))
		for k, vs := range headers {
			if len(vs) == 0 {
				continue
			}
			ev.Headers[k] = vs[len(vs)-1]
			ev.MultiValueHeaders[k] = vs
		}
	}
	ev.QueryStringParameters, ev.MultiValueQueryStringParameters = parseQuery(in.RawQuery)
	if len(in.PathParameters) > 0 {
		ev.PathParameters = in.PathParameters
	}
	if len(in.StageVariables) > 0 {
		ev.StageVariables = in.StageVariables
	}
	if len(in.Body) > 0 {
		var s string
		if IsBinary(headerValue(headers, "Content-Type"), in.BinaryMediaTypes) {
			s = base64.StdEncoding.EncodeToString(in.Body)
			ev.IsBase64Encoded = true
		} else {
			s = string(in.Body)
		}
		ev.Body = &s
	}

	protocol := rc.Protocol
	if protocol == "" {
		protocol = "HTTP/1.1"
	}
	path := rc.Path
	if path == "" {
		path = "/" + rc.Stage + in.Path
	}
	prefix, _, _ := strings.Cut(rc.DomainName, ".")
	t := rc.RequestTime.UTC()
	ev.RequestContext = requestContext{
		ResourceID:        rc.ResourceID,
		ResourcePath:      in.Resource,
		OperationName:     rc.OperationName,
		HTTPMethod:        in.HTTPMethod,
		ExtendedRequestID: rc.ExtendedRequestID,
		RequestTime:       t.Format(RequestTimeFormat),
		Path:              path,
		AccountID:         rc.AccountID,
		Protocol:          protocol,
		Stage:             rc.Stage,
		DomainPrefix:      prefix,
		RequestTimeEpoch:  t.UnixMilli(),
		RequestID:         rc.RequestID,
		DomainName:        rc.DomainName,
		DeploymentID:      rc.DeploymentID,
		APIID:             rc.APIID,
		Identity:          buildIdentity(&rc.Identity),
	}
	if a := rc.Authorizer; a != nil {
		raw, err := buildAuthorizer(a)
		if err != nil {
			return nil, err
		}
		ev.RequestContext.Authorizer = raw
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&ev); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

func setIfAbsent(h http.Header, name, value string) {
	if value != "" && h.Get(name) == "" {
		h.Set(name, value)
	}
}

// headerValue is Header.Get for a header that may be nil.
func headerValue(h http.Header, name string) string {
	if h == nil {
		return ""
	}
	return h.Get(name)
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func buildIdentity(id *Identity) identity {
	return identity{
		CognitoIdentityPoolID:         nullable(id.CognitoIdentityPoolID),
		VpcID:                         nullable(id.VpcID),
		APIKey:                        nullable(id.APIKey),
		AccountID:                     nullable(id.AccountID),
		CognitoIdentityID:             nullable(id.CognitoIdentityID),
		Caller:                        nullable(id.Caller),
		APIKeyID:                      nullable(id.APIKeyID),
		SourceIP:                      nullable(id.SourceIP),
		PrincipalOrgID:                nullable(id.PrincipalOrgID),
		AccessKey:                     nullable(id.AccessKey),
		CognitoAuthenticationType:     nullable(id.CognitoAuthenticationType),
		CognitoAuthenticationProvider: nullable(id.CognitoAuthenticationProvider),
		UserArn:                       nullable(id.UserArn),
		VpceID:                        nullable(id.VpceID),
		UserAgent:                     nullable(id.UserAgent),
		User:                          nullable(id.User),
	}
}

// buildAuthorizer writes the authorizer object: principalId and the context
// entries (Lambda), integrationLatency, claims and scopes (Cognito).
func buildAuthorizer(a *Authorizer) (json.RawMessage, error) {
	m := make(map[string]any, len(a.Context)+4)
	for k, v := range a.Context {
		m[k] = v
	}
	if a.PrincipalID != "" {
		m["principalId"] = a.PrincipalID
	}
	if a.IntegrationLatency != nil {
		m["integrationLatency"] = *a.IntegrationLatency
	}
	if a.Claims != nil {
		m["claims"] = a.Claims
	}
	if a.Scopes != nil {
		m["scopes"] = a.Scopes
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// parseQuery splits a raw query string into the last value and all values
// of each parameter, or nil, nil for none. Pairs are split on '&' only;
// '+' is a space; an invalid %-escape is kept as written.
func parseQuery(raw string) (map[string]string, map[string][]string) {
	if raw == "" {
		return nil, nil
	}
	var single map[string]string
	var multi map[string][]string
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, v = unescape(k), unescape(v)
		if k == "" {
			continue
		}
		if single == nil {
			single, multi = map[string]string{}, map[string][]string{}
		}
		single[k] = v
		multi[k] = append(multi[k], v)
	}
	return single, multi
}

func unescape(s string) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return strings.ReplaceAll(s, "+", " ")
}

// IsBinary reports whether mediaType (a Content-Type or Accept value; only
// its first media type counts) matches one of binaryMediaTypes, which may
// use '*' wildcards ("image/*", "*/*").
func IsBinary(mediaType string, binaryMediaTypes []string) bool {
	if len(binaryMediaTypes) == 0 {
		return false
	}
	mediaType, _, _ = strings.Cut(mediaType, ",")
	mt, _, err := mime.ParseMediaType(strings.TrimSpace(mediaType))
	if err != nil {
		return false
	}
	typ, sub, ok := strings.Cut(mt, "/")
	if !ok {
		return false
	}
	for _, b := range binaryMediaTypes {
		bt, bs, ok := strings.Cut(strings.ToLower(strings.TrimSpace(b)), "/")
		if !ok {
			continue
		}
		if (bt == "*" || bt == typ) && (bs == "*" || bs == sub) {
			return true
		}
	}
	return false
}
