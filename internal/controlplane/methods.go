package controlplane

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"gatehouse/internal/apimodel"
)

var (
	httpMethods = []string{"GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "HEAD", "ANY"}
	authTypes   = []string{"NONE", "AWS_IAM", "CUSTOM", "COGNITO_USER_POOLS"}
	// requestParamRe is a method request parameter name: method.request.{location}.{name}.
	requestParamRe = regexp.MustCompile(`^method\.request\.(path|querystring|multivaluequerystring|header|multivalueheader)\.([^\s]+)$`)
	statusCodeRe   = regexp.MustCompile(`^[1-5]\d\d$`)
)

func needsAuthorizer(authType string) bool {
	return authType == "CUSTOM" || authType == "COGNITO_USER_POOLS"
}

// errStatusCode is the ValidationException for a status code path parameter.
func (v *validationErrors) statusCode(code string) {
	if !statusCodeRe.MatchString(code) {
		v.add("Value '" + code + "' at 'statusCode' failed to satisfy constraint: Member must satisfy regular expression pattern: [1-5]\\d\\d")
	}
}

func errMappingExpression(expr string) error {
	return badRequest("Invalid mapping expression specified: Validation Result: warnings : [], errors : [Invalid mapping expression specified: " + expr + "]")
}

// findMethod returns the resource and method a method-level request names, with AWS's
// NotFoundException messages.
func findMethod(api *apimodel.API, resourceID, verb string) (*apimodel.Resource, *apimodel.Method, error) {
	r := api.Resources[resourceID]
	if r == nil {
		return nil, nil, notFound(msgResourceNotFound)
	}
	m := r.ResourceMethods[verb]
	if m == nil {
		return r, nil, notFound(msgMethodNotFound)
	}
	return r, m, nil
}

// parseRequestParameters decodes a method's requestParameters (name → required flag)
// and validates the names as AWS does.
func parseRequestParameters(raw map[string]json.RawMessage) (map[string]bool, error) {
	if raw == nil {
		return nil, nil
	}
	out := make(map[string]bool, len(raw))
	seen := map[string]bool{}
	for _, k := range sortedKeys(raw) {
		v := bytes.TrimSpace(raw[k])
		var b bool
		if err := json.Unmarshal(v, &b); err != nil {
			var s string
			if json.Unmarshal(v, &s) != nil {
				s = string(v)
			}
			return nil, errMappingExpression(s)
		}
		m := requestParamRe.FindStringSubmatch(k)
		if m == nil {
			return nil, errMappingExpression(k)
		}
		if seen[m[2]] {
			return nil, badRequest(msgParamsUnique)
		}
		seen[m[2]] = true
		out[k] = b
	}
	return out, nil
}

type putMethodInput struct {
	AuthorizationType   *string                    `json:"authorizationType"`
	AuthorizerID        string                     `json:"authorizerId"`
	APIKeyRequired      bool                       `json:"apiKeyRequired"`
	OperationName       string                     `json:"operationName"`
	RequestParameters   map[string]json.RawMessage `json:"requestParameters"`
	RequestModels       map[string]string          `json:"requestModels"`
	RequestValidatorID  string                     `json:"requestValidatorId"`
	AuthorizationScopes []string                   `json:"authorizationScopes"`
}

func (s *Server) putMethod(c *call) (int, any, error) {
	apiID, resID, verb := c.r.PathValue("restapi_id"), c.r.PathValue("resource_id"), c.r.PathValue("http_method")
	var in putMethodInput
	if err := decodeBody(c, &in); err != nil {
		return 0, nil, err
	}
	if in.AuthorizationType == nil {
		var v validationErrors
		v.add("Value null at 'putMethodInput.authorizationType' failed to satisfy constraint: Member must not be null")
		return 0, nil, v.err()
	}
	var out apimodel.Method
	_, err := s.modifyAPI(c, apiID, notFound(msgResourceNotFound), func(api *apimodel.API) error {
		r := api.Resources[resID]
		if r == nil {
			return notFound(msgResourceNotFound)
		}
		if !slices.Contains(httpMethods, verb) {
			return badRequest(msgInvalidHTTPMethod)
		}
		authType := strings.ToUpper(*in.AuthorizationType)
		if !slices.Contains(authTypes, authType) {
			return badRequest("Invalid authorization type specified. Valid options are NONE,AWS_IAM,CUSTOM,COGNITO_USER_POOLS")
		}
		params, err := parseRequestParameters(in.RequestParameters)
		if err != nil {
			return err
		}
		if needsAuthorizer(authType) && (in.AuthorizerID == "" || api.Authorizers[in.AuthorizerID] == nil) {
			return badRequest(msgInvalidAuthorizer)
		}
		if len(in.AuthorizationScopes) > 0 && authType != "COGNITO_USER_POOLS" {
			return badRequest(msgScopesNotCognito)
		}
		if in.RequestValidatorID != "" && api.RequestValidators[in.RequestValidatorID] == nil {
			return badRequest(msgValidatorNotFound)
		}
		if err := validateModels(api, in.RequestModels); err != nil {
			return err
		}
		if r.ResourceMethods[verb] != nil {
			return conflict(msgMethodExists)
		}
		m := &apimodel.Method{
			HTTPMethod:         verb,
			AuthorizationType:  authType,
			APIKeyRequired:     in.APIKeyRequired,
			OperationName:      in.OperationName,
			RequestParameters:  params,
			RequestModels:      in.RequestModels,
			RequestValidatorID: in.RequestValidatorID,
		}
		if needsAuthorizer(authType) {
			m.AuthorizerID = in.AuthorizerID
		}
		if authType == "COGNITO_USER_POOLS" {
			m.AuthorizationScopes = in.AuthorizationScopes
		}
		if r.ResourceMethods == nil {
			r.ResourceMethods = map[string]*apimodel.Method{}
		}
		r.ResourceMethods[verb] = m
		out = *m
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, toMethodWire(&out), nil
}

func (s *Server) getMethod(c *call) (int, any, error) {
	api, err := s.loadAPI(c, c.r.PathValue("restapi_id"), notFound(msgResourceNotFound))
	if err != nil {
		return 0, nil, err
	}
	_, m, err := findMethod(api, c.r.PathValue("resource_id"), c.r.PathValue("http_method"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toMethodWire(m), nil
}

func (s *Server) deleteMethod(c *call) (int, any, error) {
	resID, verb := c.r.PathValue("resource_id"), c.r.PathValue("http_method")
	_, err := s.modifyAPI(c, c.r.PathValue("restapi_id"), notFound(msgResourceNotFound), func(api *apimodel.API) error {
		r, _, err := findMethod(api, resID, verb)
		if err != nil {
			return err
		}
		delete(r.ResourceMethods, verb)
		if len(r.ResourceMethods) == 0 {
			r.ResourceMethods = nil
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// methodPatchPaths lists UpdateMethod's paths and the ops each supports. A path ending
// in '/' takes one more segment (a parameter name or content type).
var methodPatchPaths = []struct {
	path string
	ops  []string
}{
	{"/authorizationScopes", []string{opAdd, opRemove}},
	{"/authorizationType", []string{opReplace}},
	{"/authorizerId", []string{opReplace}},
	{"/apiKeyRequired", []string{opReplace}},
	{"/operationName", []string{opReplace}},
	{"/requestParameters/", []string{opAdd, opRemove, opReplace}},
	{"/requestModels/", []string{opAdd, opRemove, opReplace}},
	{"/requestValidatorId", []string{opReplace}},
}

func (s *Server) updateMethod(c *call) (int, any, error) {
	resID, verb := c.r.PathValue("resource_id"), c.r.PathValue("http_method")
	ops, err := decodePatch(c, "updateMethodInput")
	if err != nil {
		return 0, nil, err
	}
	var out apimodel.Method
	_, err = s.modifyAPI(c, c.r.PathValue("restapi_id"), notFound(msgResourceNotFound), func(api *apimodel.API) error {
		_, m, err := findMethod(api, resID, verb)
		if err != nil {
			return err
		}
		if err := patchMethod(api, m, ops); err != nil {
			return err
		}
		out = *m
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toMethodWire(&out), nil
}

// patchMethod applies UpdateMethod's patch operations to m, a method of api.
func patchMethod(api *apimodel.API, m *apimodel.Method, ops []patchOp) error {
	authorizerPatched := ""
	scopesAdded := false
	for i := range ops {
		p := &ops[i]
		path := p.path()
		var supported []string
		for _, mp := range methodPatchPaths {
			if path == mp.path || strings.HasSuffix(mp.path, "/") && strings.HasPrefix(path, mp.path) && len(path) > len(mp.path) {
				supported = mp.ops
				break
			}
		}
		if supported == nil || strings.Count(path, "/") > 2 {
			return errPatchPath(path)
		}
		if err := allowOp(p.Op, supported...); err != nil {
			return err
		}
		segs := splitPatchPath(path)
		switch segs[0] {
		case "authorizationScopes":
			if p.Op == opAdd {
				scopesAdded = true
				if !slices.Contains(m.AuthorizationScopes, p.value()) && p.value() != "" {
					m.AuthorizationScopes = append(m.AuthorizationScopes, p.value())
				}
			} else {
				m.AuthorizationScopes = slices.DeleteFunc(m.AuthorizationScopes, func(sc string) bool { return sc == p.value() })
				if len(m.AuthorizationScopes) == 0 {
					m.AuthorizationScopes = nil
				}
			}
		case "authorizationType":
			t := strings.ToUpper(p.value())
			if !slices.Contains(authTypes, t) {
				return badRequest("Invalid authorization type specified. Valid options are NONE,AWS_IAM,CUSTOM,COGNITO_USER_POOLS")
			}
			m.AuthorizationType = t
		case "authorizerId":
			authorizerPatched = p.value()
			if authorizerPatched == "" {
				authorizerPatched = "\x00" // patched to empty
			}
		case "apiKeyRequired":
			m.APIKeyRequired = patchBool(p.value())
		case "operationName":
			m.OperationName = p.value()
		case "requestValidatorId":
			// An empty value removes the validator.
			if p.value() != "" && api.RequestValidators[p.value()] == nil {
				return badRequest(msgValidatorNotFound)
			}
			m.RequestValidatorID = p.value()
		case "requestParameters":
			if p.Op != opRemove && !requestParamRe.MatchString(segs[1]) {
				return errMappingExpression(segs[1])
			}
			if err := patchBoolMap(&m.RequestParameters, p.Op, segs[1], p.Value, ""); err != nil {
				return err
			}
		case "requestModels":
			if p.Op != opRemove {
				if err := validateModels(api, map[string]string{segs[1]: p.value()}); err != nil {
					return err
				}
			}
			if err := patchStringMap(&m.RequestModels, p.Op, segs[1], p.Value, ""); err != nil {
				return err
			}
		}
	}
	switch {
	case needsAuthorizer(m.AuthorizationType):
		if authorizerPatched == "\x00" || authorizerPatched == "" && m.AuthorizerID == "" {
			return badRequest(msgInvalidAuthorizer)
		}
		if authorizerPatched != "" {
			m.AuthorizerID = authorizerPatched
		}
		if api.Authorizers[m.AuthorizerID] == nil {
			return badRequest(msgInvalidAuthorizer)
		}
	default:
		// AWS ignores an authorizer on a method whose type does not use one.
		m.AuthorizerID = ""
	}
	if m.AuthorizationType != "COGNITO_USER_POOLS" {
		if scopesAdded && len(m.AuthorizationScopes) > 0 {
			return badRequest(msgScopesNotCognito)
		}
		m.AuthorizationScopes = nil
	}
	return nil
}

func (s *Server) putMethodResponse(c *call) (int, any, error) {
	resID, verb, code := c.r.PathValue("resource_id"), c.r.PathValue("http_method"), c.r.PathValue("status_code")
	var in struct {
		ResponseParameters map[string]bool   `json:"responseParameters"`
		ResponseModels     map[string]string `json:"responseModels"`
	}
	if err := decodeBody(c, &in); err != nil {
		return 0, nil, err
	}
	var v validationErrors
	v.statusCode(code)
	if err := v.err(); err != nil {
		return 0, nil, err
	}
	var out apimodel.MethodResponse
	_, err := s.modifyAPI(c, c.r.PathValue("restapi_id"), notFound(msgResourceNotFound), func(api *apimodel.API) error {
		_, m, err := findMethod(api, resID, verb)
		if err != nil {
			return err
		}
		if err := validateModels(api, in.ResponseModels); err != nil {
			return err
		}
		mr := &apimodel.MethodResponse{StatusCode: code, ResponseParameters: in.ResponseParameters,
			ResponseModels: in.ResponseModels}
		if m.MethodResponses == nil {
			m.MethodResponses = map[string]*apimodel.MethodResponse{}
		}
		m.MethodResponses[code] = mr
		out = *mr
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, toMethodResponseWire(&out), nil
}

func (s *Server) getMethodResponse(c *call) (int, any, error) {
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
	_, m, err := findMethod(api, c.r.PathValue("resource_id"), c.r.PathValue("http_method"))
	if err != nil {
		return 0, nil, err
	}
	mr := m.MethodResponses[code]
	if mr == nil {
		return 0, nil, notFound(msgResponseNotFound)
	}
	return http.StatusOK, toMethodResponseWire(mr), nil
}

func (s *Server) updateMethodResponse(c *call) (int, any, error) {
	resID, verb, code := c.r.PathValue("resource_id"), c.r.PathValue("http_method"), c.r.PathValue("status_code")
	var req struct {
		PatchOperations []patchOp `json:"patchOperations"`
	}
	if err := decodeBody(c, &req); err != nil {
		return 0, nil, err
	}
	// Op enum errors and the status code error are reported together, ops first.
	var v validationErrors
	for i, p := range req.PatchOperations {
		switch p.Op {
		case opAdd, opRemove, opReplace, opMove, opCopy, opTest, "":
		default:
			v.enum(p.Op, "updateMethodResponseInput.patchOperations."+itoa(i+1)+".member.op", opEnum)
		}
	}
	v.statusCode(code)
	if err := v.err(); err != nil {
		return 0, nil, err
	}
	var out apimodel.MethodResponse
	_, err := s.modifyAPI(c, c.r.PathValue("restapi_id"), notFound(msgResourceNotFound), func(api *apimodel.API) error {
		_, m, err := findMethod(api, resID, verb)
		if err != nil {
			return err
		}
		mr := m.MethodResponses[code]
		if mr == nil {
			return notFound(msgResponseNotFound)
		}
		for i := range req.PatchOperations {
			p := &req.PatchOperations[i]
			segs := splitPatchPath(p.path())
			if len(segs) != 2 {
				return errPatchPath(p.path())
			}
			switch segs[0] {
			case "responseParameters":
				if err := patchBoolMap(&mr.ResponseParameters, p.Op, segs[1], p.Value, msgInvalidParameterName); err != nil {
					return err
				}
			case "responseModels":
				if p.Op != opRemove {
					if err := validateModels(api, map[string]string{segs[1]: p.value()}); err != nil {
						return err
					}
				}
				if err := patchStringMap(&mr.ResponseModels, p.Op, segs[1], p.Value, msgContentTypeNotFound); err != nil {
					return err
				}
			default:
				return errPatchPath(p.path())
			}
		}
		out = *mr
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, out, nil
}

func (s *Server) deleteMethodResponse(c *call) (int, any, error) {
	resID, verb, code := c.r.PathValue("resource_id"), c.r.PathValue("http_method"), c.r.PathValue("status_code")
	var v validationErrors
	v.statusCode(code)
	if err := v.err(); err != nil {
		return 0, nil, err
	}
	_, err := s.modifyAPI(c, c.r.PathValue("restapi_id"), notFound(msgResourceNotFound), func(api *apimodel.API) error {
		_, m, err := findMethod(api, resID, verb)
		if err != nil {
			return err
		}
		if m.MethodResponses[code] == nil {
			return notFound(msgResponseNotFound)
		}
		delete(m.MethodResponses, code)
		if len(m.MethodResponses) == 0 {
			m.MethodResponses = nil
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
