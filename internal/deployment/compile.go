// Package deployment compiles stored API Gateway documents (a Deployment and the stages
// that point at it) into the immutable, pre-parsed form the data plane serves from:
// route trees, parsed resource policies, integration targets and gateway responses.
// Nothing is parsed on the request path; everything that can fail fails here.
package deployment

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/authorizer"
	"gatehouse/internal/gatewayresponse"
	"gatehouse/internal/policy"
	"gatehouse/internal/router"
	"gatehouse/internal/validation"
)

// Method is one compiled REST method.
type Method struct {
	ResourceID        string
	ResourcePath      string
	HTTPMethod        string
	AuthorizationType string
	APIKeyRequired    bool
	Integration       *Integration
	// Validator checks required parameters and the body; nil validates nothing.
	Validator *validation.Validator
	// Authorizer is the CUSTOM or COGNITO_USER_POOLS authorizer; Scopes the method's
	// authorizationScopes.
	Authorizer *Authorizer
	Scopes     []string
}

// Integration is a compiled integration.
type Integration struct {
	Type       string
	HTTPMethod string // "" = the client's method (HTTP_PROXY with ANY)
	Timeout    time.Duration
	// Scheme and Host of the backend (stage variables already substituted); Path is the
	// backend path template split at "{...}" placeholders; Query is the URI's own query.
	Scheme, Host string
	Path         *Template
	Query        string
	// PathParams maps an integration path placeholder to the method request path parameter
	// that fills it (from integration.request.path.X = method.request.path.Y).
	PathParams map[string]string
	// Static request header/querystring values and mappings.
	HeaderParams []ParamMapping
	QueryParams  []ParamMapping
	// MOCK: the status taken from the request template when it is a constant {"statusCode": N}.
	MockStatus int
	// MockTemplateDynamic is set when the request template is not a constant.
	MockTemplateDynamic bool
	// Responses, in selection order: explicit patterns first, the default (empty pattern) last.
	Responses       []*IntegrationResponse
	DefaultResponse *IntegrationResponse
	TLSInsecure     bool
	// FunctionARN is the Lambda function of an AWS_PROXY integration.
	FunctionARN string
	// VPC link integrations: ConnectionID with stage variables substituted, the
	// integrationTarget (V2 links) and the raw uri (sets Host and SNI, never routes).
	VPCLink           bool
	ConnectionID      string
	IntegrationTarget string
	URI               string
}

// ParamMapping is integration.request.{header|querystring}.Name = source.
type ParamMapping struct {
	Name string
	// Source is either a literal (Static) or a method request parameter reference.
	Static   string
	IsStatic bool
	From     string // "path", "querystring", "header"
	FromName string
}

// IntegrationResponse is a compiled integration response.
type IntegrationResponse struct {
	StatusCode int
	Pattern    *regexp.Regexp // nil = default
	Headers    map[string]string
	Body       string // static response template for application/json (no VTL yet)
	HasBody    bool
}

// Template is a string with {name} placeholders, split once at compile time.
type Template struct {
	Raw   string
	Parts []TemplatePart
}

// TemplatePart is a literal or a placeholder.
type TemplatePart struct {
	Literal string
	Param   string // non-empty for {Param}; greedy {proxy+} is written {proxy} in integration URIs
}

// GatewayResponse is a compiled gateway response override.
type GatewayResponse struct {
	StatusCode  int // 0 = inherit
	Headers     map[string]string
	Template    string
	HasTemplate bool
}

// Compiled is one deployment ready to serve.
type Compiled struct {
	DeploymentID     string
	APIID            string
	Account          string
	Policy           *policy.Policy // nil when the API has no resource policy
	Routes           *router.Tree[*Method]
	GatewayResponses map[gatewayresponse.Type]*GatewayResponse
	BinaryMediaTypes []string
	APIKeySource     string // HEADER (default) or AUTHORIZER
}

// Compile turns a stored deployment into its served form. stageVars are substituted into
// integration URIs at compile time (a stage is compiled per stage for that reason).
func Compile(d *apimodel.Deployment, stageVars map[string]string, inv authorizer.Invoker) (*Compiled, error) {
	c := &Compiled{
		DeploymentID:     d.ID,
		APIID:            d.APIID,
		Account:          d.Account,
		BinaryMediaTypes: d.API.RestAPI.BinaryMediaTypes,
		APIKeySource:     d.API.RestAPI.APIKeySource,
		GatewayResponses: map[gatewayresponse.Type]*GatewayResponse{},
	}
	if p := d.API.RestAPI.Policy; p != "" {
		pol, err := policy.Parse([]byte(p))
		if err != nil {
			return nil, fmt.Errorf("resource policy: %w", err)
		}
		c.Policy = pol
	}
	authorizers := map[string]*Authorizer{}
	for id, a := range d.API.Authorizers {
		ca, err := compileAuthorizer(a, inv)
		if err != nil {
			return nil, fmt.Errorf("authorizer %s: %w", id, err)
		}
		authorizers[id] = ca
	}
	var models *validation.Models
	if len(d.API.Models) > 0 {
		list := make([]validation.Model, 0, len(d.API.Models))
		for _, m := range d.API.Models {
			list = append(list, *m)
		}
		ms, err := validation.CompileModels(d.APIID, list)
		if err != nil {
			return nil, fmt.Errorf("models: %w", err)
		}
		models = ms
	}
	var routes []router.Route[*Method]
	for _, res := range d.API.Resources {
		for verb, m := range res.ResourceMethods {
			cm := &Method{
				ResourceID:        res.ID,
				ResourcePath:      res.Path,
				HTTPMethod:        verb,
				AuthorizationType: m.AuthorizationType,
				APIKeyRequired:    m.APIKeyRequired,
				Scopes:            m.AuthorizationScopes,
			}
			if m.AuthorizationType == "CUSTOM" || m.AuthorizationType == "COGNITO_USER_POOLS" {
				cm.Authorizer = authorizers[m.AuthorizerID]
				if cm.Authorizer == nil {
					return nil, fmt.Errorf("%s %s: unknown authorizer %q", verb, res.Path, m.AuthorizerID)
				}
			}
			if m.RequestValidatorID != "" {
				v, err := validation.New(d.API.RequestValidators[m.RequestValidatorID], m, models)
				if err != nil {
					return nil, fmt.Errorf("%s %s request validation: %w", verb, res.Path, err)
				}
				cm.Validator = v
			}
			if m.MethodIntegration != nil {
				in, err := compileIntegration(m.MethodIntegration, stageVars)
				if err != nil {
					return nil, fmt.Errorf("%s %s integration: %w", verb, res.Path, err)
				}
				cm.Integration = in
			}
			routes = append(routes, router.Route[*Method]{Path: res.Path, Method: verb, Value: cm})
		}
	}
	tree, err := router.Build(routes)
	if err != nil {
		return nil, fmt.Errorf("routes: %w", err)
	}
	c.Routes = tree
	for t, gr := range d.API.GatewayResponses {
		cg := &GatewayResponse{Headers: map[string]string{}}
		if gr.StatusCode != "" {
			n, err := strconv.Atoi(gr.StatusCode)
			if err != nil {
				return nil, fmt.Errorf("gateway response %s: bad statusCode %q", t, gr.StatusCode)
			}
			cg.StatusCode = n
		}
		for k, v := range gr.ResponseParameters {
			name, ok := strings.CutPrefix(k, "gatewayresponse.header.")
			if !ok {
				continue
			}
			cg.Headers[name] = unquoteStatic(v)
		}
		if tpl, ok := pickTemplate(gr.ResponseTemplates); ok {
			cg.Template, cg.HasTemplate = tpl, true
		}
		c.GatewayResponses[gatewayresponse.Type(t)] = cg
	}
	return c, nil
}

// pickTemplate chooses the application/json template, else any single one.
func pickTemplate(m map[string]string) (string, bool) {
	if t, ok := m["application/json"]; ok {
		return t, true
	}
	for _, t := range m {
		return t, true
	}
	return "", false
}

// unquoteStatic turns a mapping value "'literal'" into literal; other values are returned as is.
func unquoteStatic(v string) string {
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return v[1 : len(v)-1]
	}
	return v
}

// lambdaURIRe matches arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations.
var lambdaURIRe = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:apigateway:[a-z0-9-]+:lambda:path/2015-03-31/functions/(.+)/invocations$`)

var stageVarRef = regexp.MustCompile(`\$\{stageVariables\.([A-Za-z0-9_]+)\}`)

func compileIntegration(in *apimodel.Integration, stageVars map[string]string) (*Integration, error) {
	ci := &Integration{
		Type:       in.Type,
		HTTPMethod: in.HTTPMethod,
		Timeout:    time.Duration(in.TimeoutInMillis) * time.Millisecond,
		PathParams: map[string]string{},
	}
	if ci.Timeout <= 0 {
		ci.Timeout = apimodel.DefaultIntegrationTimeoutMillis * time.Millisecond
	}
	if ci.HTTPMethod == "ANY" {
		ci.HTTPMethod = ""
	}
	if in.TLSConfig != nil {
		ci.TLSInsecure = in.TLSConfig.InsecureSkipVerification
	}
	if in.ConnectionType == "VPC_LINK" {
		ci.VPCLink = true
		ci.ConnectionID = stageVarRef.ReplaceAllStringFunc(in.ConnectionID, func(m string) string {
			return stageVars[stageVarRef.FindStringSubmatch(m)[1]]
		})
		ci.IntegrationTarget = in.IntegrationTarget
		ci.URI = in.URI
	}
	switch in.Type {
	case apimodel.IntegrationHTTP, apimodel.IntegrationHTTPProxy:
		raw := stageVarRef.ReplaceAllStringFunc(in.URI, func(m string) string {
			return stageVars[stageVarRef.FindStringSubmatch(m)[1]]
		})
		scheme, rest, ok := strings.Cut(raw, "://")
		if !ok || (scheme != "http" && scheme != "https") {
			return nil, fmt.Errorf("invalid integration uri %q", in.URI)
		}
		host, path := rest, "/"
		if i := strings.IndexAny(rest, "/?"); i >= 0 {
			host, path = rest[:i], rest[i:]
		}
		if q := strings.IndexByte(path, '?'); q >= 0 {
			ci.Query = path[q+1:]
			path = path[:q]
		}
		if path == "" {
			path = "/"
		}
		if _, err := url.Parse(scheme + "://" + host); err != nil || host == "" || strings.ContainsAny(host, "{}") {
			return nil, fmt.Errorf("invalid integration uri %q", in.URI)
		}
		ci.Scheme, ci.Host, ci.Path = scheme, host, splitTemplate(path)
	case apimodel.IntegrationAWSProxy:
		raw := stageVarRef.ReplaceAllStringFunc(in.URI, func(m string) string {
			return stageVars[stageVarRef.FindStringSubmatch(m)[1]]
		})
		m := lambdaURIRe.FindStringSubmatch(raw)
		if m == nil {
			return nil, fmt.Errorf("AWS_PROXY integration uri %q is not a Lambda invocation URI", in.URI)
		}
		ci.FunctionARN = m[1]
	case apimodel.IntegrationMock:
		tpl, ok := pickTemplate(in.RequestTemplates)
		ci.MockStatus = 200
		if ok && strings.TrimSpace(tpl) != "" {
			var v struct {
				StatusCode json.Number `json:"statusCode"`
			}
			if err := json.Unmarshal([]byte(tpl), &v); err == nil && v.StatusCode != "" {
				n, err := strconv.Atoi(v.StatusCode.String())
				if err != nil {
					return nil, fmt.Errorf("mock statusCode %q", v.StatusCode)
				}
				ci.MockStatus = n
			} else {
				ci.MockTemplateDynamic = true
			}
		}
	}
	for k, v := range in.RequestParameters {
		kind, name, ok := cutParam(k, "integration.request.")
		if !ok {
			return nil, fmt.Errorf("invalid mapping expression specified: %s", k)
		}
		pm := ParamMapping{Name: name}
		if strings.HasPrefix(v, "'") {
			pm.Static, pm.IsStatic = unquoteStatic(v), true
		} else {
			from, fromName, ok := cutParam(v, "method.request.")
			if !ok {
				// stageVariables / context sources are not supported yet: static empty.
				pm.IsStatic = true
			}
			pm.From, pm.FromName = from, fromName
		}
		switch kind {
		case "path":
			if !pm.IsStatic && pm.From == "path" {
				ci.PathParams[name] = pm.FromName
			}
		case "header":
			ci.HeaderParams = append(ci.HeaderParams, pm)
		case "querystring":
			ci.QueryParams = append(ci.QueryParams, pm)
		}
	}
	for code, ir := range in.IntegrationResponses {
		n, err := strconv.Atoi(ir.StatusCode)
		if err != nil {
			n, err = strconv.Atoi(code)
			if err != nil {
				return nil, fmt.Errorf("integration response status %q", code)
			}
		}
		cr := &IntegrationResponse{StatusCode: n, Headers: map[string]string{}}
		for k, v := range ir.ResponseParameters {
			if name, ok := strings.CutPrefix(k, "method.response.header."); ok && strings.HasPrefix(v, "'") {
				cr.Headers[name] = unquoteStatic(v)
			}
		}
		if tpl, ok := pickTemplate(ir.ResponseTemplates); ok {
			cr.Body, cr.HasBody = tpl, true
		}
		if ir.SelectionPattern == "" {
			ci.DefaultResponse = cr
			continue
		}
		re, err := regexp.Compile("^(?:" + ir.SelectionPattern + ")$")
		if err != nil {
			return nil, fmt.Errorf("selection pattern %q: %w", ir.SelectionPattern, err)
		}
		cr.Pattern = re
		ci.Responses = append(ci.Responses, cr)
	}
	return ci, nil
}

// SelectResponse picks the integration response for a backend status (HTTP) or mock status.
func (in *Integration) SelectResponse(status int) *IntegrationResponse {
	s := strconv.Itoa(status)
	for _, r := range in.Responses {
		if r.Pattern.MatchString(s) {
			return r
		}
	}
	return in.DefaultResponse
}

// cutParam splits "integration.request.header.X" into ("header", "X").
func cutParam(s, prefix string) (kind, name string, ok bool) {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return "", "", false
	}
	kind, name, ok = strings.Cut(rest, ".")
	if !ok || name == "" {
		return "", "", false
	}
	switch kind {
	case "path", "querystring", "header", "multivaluequerystring", "multivalueheader":
		return kind, name, true
	}
	return "", "", false
}

func splitTemplate(s string) *Template {
	t := &Template{Raw: s}
	for s != "" {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			t.Parts = append(t.Parts, TemplatePart{Literal: s})
			break
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			t.Parts = append(t.Parts, TemplatePart{Literal: s})
			break
		}
		if i > 0 {
			t.Parts = append(t.Parts, TemplatePart{Literal: s[:i]})
		}
		t.Parts = append(t.Parts, TemplatePart{Param: strings.TrimSuffix(s[i+1:i+j], "+")})
		s = s[i+j+1:]
	}
	return t
}
