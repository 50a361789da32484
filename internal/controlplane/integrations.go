package controlplane

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"gatehouse/internal/apimodel"
)

const (
	integrationTypeEnum   = "HTTP, MOCK, AWS_PROXY, HTTP_PROXY, AWS"
	connectionTypeEnum    = "INTERNET, VPC_LINK"
	contentHandlingEnum   = "CONVERT_TO_BINARY, CONVERT_TO_TEXT"
	minIntegrationTimeout = 50
	connInternet          = "INTERNET"
	connVPCLink           = "VPC_LINK"
)

var (
	integrationTypes     = []string{apimodel.IntegrationHTTP, apimodel.IntegrationMock, apimodel.IntegrationAWSProxy, apimodel.IntegrationHTTPProxy, apimodel.IntegrationAWS}
	passthroughBehaviors = []string{"WHEN_NO_MATCH", "WHEN_NO_TEMPLATES", "NEVER"}
	stageVarRe           = regexp.MustCompile(`\$\{stageVariables\.[A-Za-z0-9_]*\}`)
)

func validContentHandling(v string) bool { return v == "CONVERT_TO_BINARY" || v == "CONVERT_TO_TEXT" }

type putIntegrationInput struct {
	Type                 *string             `json:"type"`
	HTTPMethod           string              `json:"httpMethod"`
	URI                  string              `json:"uri"`
	ConnectionType       *string             `json:"connectionType"`
	ConnectionID         string              `json:"connectionId"`
	Credentials          string              `json:"credentials"`
	RequestParameters    map[string]string   `json:"requestParameters"`
	RequestTemplates     map[string]*string  `json:"requestTemplates"`
	PassthroughBehavior  *string             `json:"passthroughBehavior"`
	CacheNamespace       string              `json:"cacheNamespace"`
	CacheKeyParameters   []string            `json:"cacheKeyParameters"`
	ContentHandling      *string             `json:"contentHandling"`
	TimeoutInMillis      *int                `json:"timeoutInMillis"`
	TLSConfig            *apimodel.TLSConfig `json:"tlsConfig"`
	ResponseTransferMode string              `json:"responseTransferMode"`
	IntegrationTarget    string              `json:"integrationTarget"`
}

// nullableMap turns a map whose JSON values may be null into a string map ("" for null).
func nullableMap(m map[string]*string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if v != nil {
			out[k] = *v
		} else {
			out[k] = ""
		}
	}
	return out
}

// validateIntegration applies AWS's rules for an integration's type, endpoint, timeout
// and connection (PutIntegration, and UpdateIntegration's result).
func validateIntegration(in *apimodel.Integration) error {
	switch in.Type {
	case apimodel.IntegrationHTTP, apimodel.IntegrationHTTPProxy:
		if in.HTTPMethod == "" {
			return badRequest(msgEmptyHTTPMethod)
		}
		if !validHTTPEndpoint(in.URI) {
			return badRequest(msgInvalidHTTPEndpoint)
		}
	case apimodel.IntegrationAWS, apimodel.IntegrationAWSProxy:
		if in.HTTPMethod == "" {
			return badRequest(msgEmptyHTTPMethod)
		}
		if err := validateAWSIntegrationURI(in.Type, in.URI); err != nil {
			return err
		}
	}
	if in.TimeoutInMillis < minIntegrationTimeout || in.TimeoutInMillis > apimodel.DefaultIntegrationTimeoutMillis {
		return badRequest(msgTimeout)
	}
	if in.ConnectionType == connVPCLink && in.ConnectionID == "" && in.IntegrationTarget == "" {
		return badRequest("Connection Id must be provided for VPC_LINK connection type")
	}
	if in.PassthroughBehavior != "" && !slices.Contains(passthroughBehaviors, in.PassthroughBehavior) {
		return badRequest("Invalid passthrough behavior specified: " + in.PassthroughBehavior +
			". Valid options are WHEN_NO_MATCH,WHEN_NO_TEMPLATES,NEVER")
	}
	return nil
}

// validHTTPEndpoint reports whether uri is an absolute http(s) URL; stage variables
// may stand anywhere, including the host.
func validHTTPEndpoint(uri string) bool {
	u, err := url.Parse(stageVarRe.ReplaceAllString(uri, "x"))
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// validateAWSIntegrationURI checks arn:aws:apigateway:{region}:{service}:{path|action}/...
func validateAWSIntegrationURI(typ, uri string) error {
	if !strings.HasPrefix(uri, "arn:") {
		return badRequest(msgInvalidARN)
	}
	parts := strings.SplitN(uri, ":", 6)
	if len(parts) != 6 || parts[1] == "" || parts[2] == "" {
		return badRequest(msgInvalidARN)
	}
	service, resource := parts[4], parts[5]
	if !strings.HasPrefix(resource, "path") && !strings.HasPrefix(resource, "action") {
		return badRequest(msgARNPathOrAction)
	}
	if typ == apimodel.IntegrationAWSProxy && (service != "lambda" || !strings.HasPrefix(resource, "path/2015-03-31/functions/")) {
		return badRequest(msgAWSProxyTarget)
	}
	return nil
}

func (s *Server) putIntegration(c *call) (int, any, error) {
	resID, verb := c.r.PathValue("resource_id"), c.r.PathValue("http_method")
	var in putIntegrationInput
	if err := decodeBody(c, &in); err != nil {
		return 0, nil, err
	}
	var v validationErrors
	switch {
	case in.Type == nil:
		v.add("Value null at 'putIntegrationInput.type' failed to satisfy constraint: Member must not be null")
	case !slices.Contains(integrationTypes, *in.Type):
		v.enum(*in.Type, "putIntegrationInput.type", integrationTypeEnum)
	}
	if in.ConnectionType != nil && *in.ConnectionType != connInternet && *in.ConnectionType != connVPCLink {
		v.enum(*in.ConnectionType, "putIntegrationInput.connectionType", connectionTypeEnum)
	}
	if in.ContentHandling != nil && !validContentHandling(*in.ContentHandling) {
		v.enum(*in.ContentHandling, "putIntegrationInput.contentHandling", contentHandlingEnum)
	}
	if in.ResponseTransferMode != "" && in.ResponseTransferMode != "BUFFERED" && in.ResponseTransferMode != "STREAM" {
		v.enum(in.ResponseTransferMode, "putIntegrationInput.responseTransferMode", "BUFFERED, STREAM")
	}
	if err := v.err(); err != nil {
		return 0, nil, err
	}
	integ := &apimodel.Integration{
		Type:                 *in.Type,
		HTTPMethod:           in.HTTPMethod,
		URI:                  in.URI,
		ConnectionID:         in.ConnectionID,
		Credentials:          in.Credentials,
		RequestParameters:    in.RequestParameters,
		RequestTemplates:     nullableMap(in.RequestTemplates),
		PassthroughBehavior:  "WHEN_NO_MATCH",
		TimeoutInMillis:      apimodel.DefaultIntegrationTimeoutMillis,
		CacheNamespace:       in.CacheNamespace,
		CacheKeyParameters:   in.CacheKeyParameters,
		TLSConfig:            in.TLSConfig,
		IntegrationTarget:    in.IntegrationTarget,
		ResponseTransferMode: in.ResponseTransferMode,
	}
	if in.PassthroughBehavior != nil {
		integ.PassthroughBehavior = *in.PassthroughBehavior
	}
	if in.ContentHandling != nil {
		integ.ContentHandling = *in.ContentHandling
	}
	if in.TimeoutInMillis != nil {
		integ.TimeoutInMillis = *in.TimeoutInMillis
	}
	switch {
	case in.ConnectionType != nil:
		integ.ConnectionType = *in.ConnectionType
	case integ.Type == apimodel.IntegrationHTTP || integ.Type == apimodel.IntegrationHTTPProxy:
		integ.ConnectionType = connInternet
	}
	if integ.Type == apimodel.IntegrationMock {
		integ.URI = ""
	}
	// The integration's own rules come before the lookup of the method, as in AWS.
	if err := validateIntegration(integ); err != nil {
		return 0, nil, err
	}
	var out apimodel.Integration
	_, err := s.modifyAPI(c, c.r.PathValue("restapi_id"), notFound(msgResourceNotFound), func(api *apimodel.API) error {
		_, m, err := findMethod(api, resID, verb)
		if err != nil {
			return err
		}
		next := *integ
		if next.CacheNamespace == "" {
			next.CacheNamespace = resID
		}
		m.MethodIntegration = &next
		out = next
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, toIntegrationWire(&out), nil
}

// findIntegration returns the integration of a method; missingMethod is the error for
// a missing method (AWS answers some operations with the Integration message).
func findIntegration(api *apimodel.API, resID, verb string, missingMethod error) (*apimodel.Method, *apimodel.Integration, error) {
	r := api.Resources[resID]
	if r == nil {
		return nil, nil, notFound(msgResourceNotFound)
	}
	m := r.ResourceMethods[verb]
	if m == nil {
		return nil, nil, missingMethod
	}
	if m.MethodIntegration == nil {
		return m, nil, notFound(msgIntegrationNotFound)
	}
	return m, m.MethodIntegration, nil
}

func (s *Server) getIntegration(c *call) (int, any, error) {
	api, err := s.loadAPI(c, c.r.PathValue("restapi_id"), notFound(msgResourceNotFound))
	if err != nil {
		return 0, nil, err
	}
	_, in, err := findIntegration(api, c.r.PathValue("resource_id"), c.r.PathValue("http_method"), notFound(msgMethodNotFound))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toIntegrationWire(in), nil
}

func (s *Server) deleteIntegration(c *call) (int, any, error) {
	resID, verb := c.r.PathValue("resource_id"), c.r.PathValue("http_method")
	_, err := s.modifyAPI(c, c.r.PathValue("restapi_id"), notFound(msgResourceNotFound), func(api *apimodel.API) error {
		m, _, err := findIntegration(api, resID, verb, notFound(msgIntegrationNotFound))
		if err != nil {
			return err
		}
		m.MethodIntegration = nil
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

func (s *Server) updateIntegration(c *call) (int, any, error) {
	resID, verb := c.r.PathValue("resource_id"), c.r.PathValue("http_method")
	ops, err := decodePatch(c, "updateIntegrationInput")
	if err != nil {
		return 0, nil, err
	}
	var out apimodel.Integration
	_, err = s.modifyAPI(c, c.r.PathValue("restapi_id"), notFound(msgResourceNotFound), func(api *apimodel.API) error {
		_, in, err := findIntegration(api, resID, verb, notFound(msgIntegrationNotFound))
		if err != nil {
			return err
		}
		if err := patchIntegration(in, ops); err != nil {
			return err
		}
		if err := validateIntegration(in); err != nil {
			return err
		}
		out = *in
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toIntegrationWire(&out), nil
}

// patchIntegration applies UpdateIntegration's patch operations to in.
func patchIntegration(in *apimodel.Integration, ops []patchOp) error {
	for i := range ops {
		p := &ops[i]
		path := p.path()
		segs := splitPatchPath(path)
		scalar := func(dst *string, removable bool) error {
			allowed := []string{opAdd, opReplace}
			if removable {
				allowed = append(allowed, opRemove)
			}
			if err := allowOp(p.Op, allowed...); err != nil {
				return err
			}
			*dst = p.value()
			if p.Op == opRemove {
				*dst = ""
			}
			return nil
		}
		var err error
		switch {
		case path == "/uri":
			err = scalar(&in.URI, false)
		case path == "/httpMethod":
			err = scalar(&in.HTTPMethod, false)
		case path == "/connectionId":
			err = scalar(&in.ConnectionID, true)
		case path == "/credentials":
			err = scalar(&in.Credentials, true)
		case path == "/cacheNamespace":
			err = scalar(&in.CacheNamespace, false)
		case path == "/integrationTarget":
			err = scalar(&in.IntegrationTarget, true)
		case path == "/connectionType":
			if err = scalar(&in.ConnectionType, false); err == nil && in.ConnectionType != connInternet && in.ConnectionType != connVPCLink {
				err = badRequest("Invalid connection type specified: " + in.ConnectionType + ". Valid options are INTERNET,VPC_LINK")
			}
		case path == "/passthroughBehavior":
			err = scalar(&in.PassthroughBehavior, false)
		case path == "/contentHandling":
			if err = scalar(&in.ContentHandling, true); err == nil && in.ContentHandling != "" && !validContentHandling(in.ContentHandling) {
				err = badRequest("Invalid content handling specified: " + in.ContentHandling + ". Valid options are CONVERT_TO_BINARY,CONVERT_TO_TEXT")
			}
		case path == "/timeoutInMillis":
			if err = allowOp(p.Op, opAdd, opReplace); err == nil {
				in.TimeoutInMillis, err = patchInt("timeoutInMillis", p.value())
			}
		case path == "/tlsConfig/insecureSkipVerification":
			if err = allowOp(p.Op, opAdd, opReplace, opRemove); err == nil {
				in.TLSConfig = &apimodel.TLSConfig{InsecureSkipVerification: p.Op != opRemove && patchBool(p.value())}
			}
		case len(segs) == 2 && segs[0] == "requestTemplates":
			err = patchStringMap(&in.RequestTemplates, p.Op, segs[1], p.Value, "")
		case len(segs) == 2 && segs[0] == "requestParameters":
			err = patchStringMap(&in.RequestParameters, p.Op, segs[1], p.Value, "")
		case segs != nil && segs[0] == "cacheKeyParameters" && len(segs) <= 2:
			name := p.value()
			if len(segs) == 2 {
				name = segs[1]
			}
			switch p.Op {
			case opAdd:
				if name != "" && !slices.Contains(in.CacheKeyParameters, name) {
					in.CacheKeyParameters = append(in.CacheKeyParameters, name)
				}
			case opRemove:
				in.CacheKeyParameters = slices.DeleteFunc(in.CacheKeyParameters, func(k string) bool { return k == name })
			default:
				err = errPatchOp(opAdd, opRemove)
			}
		default:
			err = errPatchPath(path)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// findIntegrationResponse loads the integration of a method for an integration
// response operation.
func findIntegrationResponse(api *apimodel.API, resID, verb string) (*apimodel.Integration, error) {
	_, in, err := findIntegration(api, resID, verb, notFound(msgMethodNotFound))
	return in, err
}

func (s *Server) putIntegrationResponse(c *call) (int, any, error) {
	resID, verb, code := c.r.PathValue("resource_id"), c.r.PathValue("http_method"), c.r.PathValue("status_code")
	var in struct {
		SelectionPattern   *string            `json:"selectionPattern"`
		ResponseParameters map[string]string  `json:"responseParameters"`
		ResponseTemplates  map[string]*string `json:"responseTemplates"`
		ContentHandling    *string            `json:"contentHandling"`
	}
	if err := decodeBody(c, &in); err != nil {
		return 0, nil, err
	}
	var v validationErrors
	v.statusCode(code)
	if in.ContentHandling != nil && !validContentHandling(*in.ContentHandling) {
		v.enum(*in.ContentHandling, "putIntegrationResponseInput.contentHandling", contentHandlingEnum)
	}
	if err := v.err(); err != nil {
		return 0, nil, err
	}
	for ct := range in.ResponseTemplates {
		if !strings.Contains(ct, "/") {
			return 0, nil, badRequest("Validation Result: warnings : [], errors : [Invalid content type specified: " + ct + "]")
		}
	}
	var out apimodel.IntegrationResponse
	_, err := s.modifyAPI(c, c.r.PathValue("restapi_id"), notFound(msgResourceNotFound), func(api *apimodel.API) error {
		_, m, err := findMethod(api, resID, verb)
		if err != nil {
			return err
		}
		if m.MethodIntegration == nil {
			return notFound(msgNoIntegration)
		}
		ir := &apimodel.IntegrationResponse{StatusCode: code, ResponseParameters: in.ResponseParameters,
			ResponseTemplates: nullableMap(in.ResponseTemplates)}
		if in.SelectionPattern != nil {
			ir.SelectionPattern = *in.SelectionPattern
		}
		if in.ContentHandling != nil {
			ir.ContentHandling = *in.ContentHandling
		}
		if m.MethodIntegration.IntegrationResponses == nil {
			m.MethodIntegration.IntegrationResponses = map[string]*apimodel.IntegrationResponse{}
		}
		m.MethodIntegration.IntegrationResponses[code] = ir
		out = *ir
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, out, nil
}

func (s *Server) getIntegrationResponse(c *call) (int, any, error) {
	code := c.r.PathValue("status_code")
	var v validationErrors
	v.statusCode(code)
	if err := v.err(); err != nil {
		return 0, nil, err
	}
	api, err := s.loadAPI(c, c.r.PathValue("restapi_id"), notFound(msgResourceNotFound))
	if err != nil {
		return 0, nil, err
	}
	in, err := findIntegrationResponse(api, c.r.PathValue("resource_id"), c.r.PathValue("http_method"))
	if err != nil {
		return 0, nil, err
	}
	ir := in.IntegrationResponses[code]
	if ir == nil {
		return 0, nil, notFound(msgResponseNotFound)
	}
	return http.StatusOK, ir, nil
}

func (s *Server) updateIntegrationResponse(c *call) (int, any, error) {
	resID, verb, code := c.r.PathValue("resource_id"), c.r.PathValue("http_method"), c.r.PathValue("status_code")
	ops, err := decodePatch(c, "updateIntegrationResponseInput")
	if err != nil {
		return 0, nil, err
	}
	var v validationErrors
	v.statusCode(code)
	if err := v.err(); err != nil {
		return 0, nil, err
	}
	var out apimodel.IntegrationResponse
	_, err = s.modifyAPI(c, c.r.PathValue("restapi_id"), notFound(msgResourceNotFound), func(api *apimodel.API) error {
		in, err := findIntegrationResponse(api, resID, verb)
		if err != nil {
			return err
		}
		ir := in.IntegrationResponses[code]
		if ir == nil {
			return notFound(msgResponseNotFound)
		}
		for i := range ops {
			p := &ops[i]
			path := p.path()
			segs := splitPatchPath(path)
			switch {
			case path == "/selectionPattern":
				if err := allowOp(p.Op, opAdd, opReplace, opRemove); err != nil {
					return err
				}
				ir.SelectionPattern = p.value()
			case path == "/contentHandling":
				if err := allowOp(p.Op, opAdd, opReplace, opRemove); err != nil {
					return err
				}
				if p.Op != opRemove && p.value() != "" && !validContentHandling(p.value()) {
					return badRequest("Invalid content handling specified: " + p.value() + ". Valid options are CONVERT_TO_BINARY,CONVERT_TO_TEXT")
				}
				ir.ContentHandling = p.value()
				if p.Op == opRemove {
					ir.ContentHandling = ""
				}
			case len(segs) == 2 && segs[0] == "responseTemplates":
				if err := patchStringMap(&ir.ResponseTemplates, p.Op, segs[1], p.Value, ""); err != nil {
					return err
				}
			case len(segs) == 2 && segs[0] == "responseParameters":
				if err := patchStringMap(&ir.ResponseParameters, p.Op, segs[1], p.Value, ""); err != nil {
					return err
				}
			default:
				return errPatchPath(path)
			}
		}
		out = *ir
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, out, nil
}

func (s *Server) deleteIntegrationResponse(c *call) (int, any, error) {
	resID, verb, code := c.r.PathValue("resource_id"), c.r.PathValue("http_method"), c.r.PathValue("status_code")
	var v validationErrors
	v.statusCode(code)
	if err := v.err(); err != nil {
		return 0, nil, err
	}
	_, err := s.modifyAPI(c, c.r.PathValue("restapi_id"), notFound(msgResourceNotFound), func(api *apimodel.API) error {
		_, in, err := findIntegration(api, resID, verb, notFound(msgIntegrationNotFound))
		if err != nil {
			return err
		}
		if in.IntegrationResponses[code] == nil {
			return notFound(msgResponseNotFound)
		}
		delete(in.IntegrationResponses, code)
		if len(in.IntegrationResponses) == 0 {
			in.IntegrationResponses = nil
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}
