package controlplane

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/awsproto"
)

const (
	authorizerIDLen   = 6
	maxAuthorizers    = 10
	authorizerTypeSet = "TOKEN, REQUEST, COGNITO_USER_POOLS"
)

// AWS's authorizer messages. msgAuthorizerNotFound, msgTokenSource, the URI message,
// msgAuthorizerInUse and the name conflict are AWS's recorded texts; the others follow
// AWS's style where no recording exists (listed in the report).
const (
	msgAuthorizerNotFound   = "Invalid Authorizer identifier specified"
	msgAuthorizerInUse      = "Cannot delete authorizer, is referenced in method: %s"
	msgAuthorizerNameUnique = "Authorizer name must be unique. Authorizer %s already exists in this RestApi."
	msgAuthorizerName       = "Authorizer name must be non-empty"
	msgTokenSource          = "Invalid token source expression: %s. The source must be a method request header, matching 'method.request.header.[a-zA-Z0-9._-]+'"
	msgIdentitySource       = "Invalid identity source expression: %s. Identity sources must be method request headers, query strings, stage variables or context variables"
	msgIdentitySourceCache  = "Identity source must be specified when authorization caching is enabled for a REQUEST authorizer"
	msgAuthorizerURI        = "Invalid Authorizer URI: %s. Authorizer URI should be a valid API Gateway ARN that represents a Lambda function invocation."
	msgAuthorizerTTL        = "Invalid authorizer result TTL specified. Must be between 0 and 3600"
	msgProviderARNs         = "Provider ARNs must be specified for a COGNITO_USER_POOLS authorizer"
	msgProviderARN          = "Invalid provider ARN specified: %s"
	msgValidationExpression = "Invalid identity validation expression specified: %s"
	msgTooManyAuthorizers   = "Maximum number of authorizers for this API has been reached"
	msgScopesNotCognito     = "Invalid Method authorization type specified. Authorization Scopes are only valid for COGNITO_USER_POOLS authorization type"
)

var (
	// tokenSourceRe is the one identity source of TOKEN and COGNITO_USER_POOLS authorizers.
	tokenSourceRe = regexp.MustCompile(`^method\.request\.header\.[a-zA-Z0-9._-]+$`)
	// requestSourceRe is one identity source of a REQUEST authorizer.
	requestSourceRe = regexp.MustCompile(`^(method\.request\.(header|querystring|multivalueheader|multivaluequerystring)\.[^\s,]+|stageVariables\.[A-Za-z0-9_]+|context\.[A-Za-z0-9_.]+)$`)
	// lambdaInvokeURIRe is a Lambda authorizer URI; the function may be a stage variable.
	lambdaInvokeURIRe = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:apigateway:[a-z0-9-]+:lambda:path/2015-03-31/functions/` +
		`arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_${}.-]+(:[A-Za-z0-9_${}.-]+)?/invocations$`)
	roleARNRe = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:iam::\d{12}:role/[\w+=,.@/-]+$`)
)

func validAuthorizerType(t string) bool {
	return t == apimodel.AuthorizerToken || t == apimodel.AuthorizerRequest || t == apimodel.AuthorizerCognito
}

// validateAuthorizer applies AWS's rules to a complete authorizer (after defaults, or
// after a patch). It normalizes the fields the type does not use.
func validateAuthorizer(a *apimodel.Authorizer) error {
	if a.Name == "" {
		return badRequest(msgAuthorizerName)
	}
	if !validAuthorizerType(a.Type) {
		return badRequest("Invalid authorizer type specified. Valid options are " + strings.ReplaceAll(authorizerTypeSet, " ", ""))
	}
	if a.AuthorizerResultTTLInSeconds < 0 || a.AuthorizerResultTTLInSeconds > apimodel.MaxAuthorizerTTL {
		return badRequest(msgAuthorizerTTL)
	}
	switch a.Type {
	case apimodel.AuthorizerToken, apimodel.AuthorizerRequest:
		if !lambdaInvokeURIRe.MatchString(a.AuthorizerURI) {
			uri := a.AuthorizerURI
			if uri == "" {
				uri = "null"
			}
			return badRequestf(msgAuthorizerURI, uri)
		}
		if a.AuthorizerCredentials != "" && !roleARNRe.MatchString(a.AuthorizerCredentials) {
			return badRequest(msgInvalidARN)
		}
		a.ProviderARNs = nil
	case apimodel.AuthorizerCognito:
		if len(a.ProviderARNs) == 0 {
			return badRequest(msgProviderARNs)
		}
		for _, p := range a.ProviderARNs {
			if _, ok := apimodel.ProviderIssuer(p); !ok {
				return badRequestf(msgProviderARN, p)
			}
		}
		a.AuthorizerURI, a.AuthorizerCredentials = "", ""
	}
	switch a.Type {
	case apimodel.AuthorizerToken, apimodel.AuthorizerCognito:
		if !tokenSourceRe.MatchString(a.IdentitySource) {
			src := a.IdentitySource
			if src == "" {
				src = "null"
			}
			return badRequestf(msgTokenSource, src)
		}
	case apimodel.AuthorizerRequest:
		srcs := a.IdentitySources()
		if strings.TrimSpace(a.IdentitySource) != "" && len(srcs) == 0 {
			return badRequestf(msgIdentitySource, a.IdentitySource)
		}
		for _, src := range srcs {
			if !requestSourceRe.MatchString(src) {
				return badRequestf(msgIdentitySource, src)
			}
		}
		if len(srcs) == 0 && a.AuthorizerResultTTLInSeconds > 0 {
			return badRequest(msgIdentitySourceCache)
		}
	}
	if a.IdentityValidationExpression != "" {
		if _, err := regexp.Compile(a.IdentityValidationExpression); err != nil {
			return badRequestf(msgValidationExpression, a.IdentityValidationExpression)
		}
	}
	return nil
}

// newChildID draws an id of n characters not yet a key of existing.
func newChildID[V any](existing map[string]V, n int) string {
	for {
		id := awsproto.NewID(n)
		if _, ok := existing[id]; !ok {
			return id
		}
	}
}

type createAuthorizerInput struct {
	Name                         *string  `json:"name"`
	Type                         *string  `json:"type"`
	ProviderARNs                 []string `json:"providerARNs"`
	AuthType                     string   `json:"authType"`
	AuthorizerURI                string   `json:"authorizerUri"`
	AuthorizerCredentials        string   `json:"authorizerCredentials"`
	IdentitySource               string   `json:"identitySource"`
	IdentityValidationExpression string   `json:"identityValidationExpression"`
	AuthorizerResultTTLInSeconds *int     `json:"authorizerResultTtlInSeconds"`
}

func (s *Server) createAuthorizer(c *call) (int, any, error) {
	var in createAuthorizerInput
	if err := decodeBody(c, &in); err != nil {
		return 0, nil, err
	}
	var v validationErrors
	if in.Name == nil {
		v.add("Value null at 'createAuthorizerInput.name' failed to satisfy constraint: Member must not be null")
	}
	if in.Type == nil {
		v.add("Value null at 'createAuthorizerInput.type' failed to satisfy constraint: Member must not be null")
	} else if !validAuthorizerType(*in.Type) {
		v.enum(*in.Type, "createAuthorizerInput.type", authorizerTypeSet)
	}
	if err := v.err(); err != nil {
		return 0, nil, err
	}
	a := apimodel.Authorizer{
		Name:                         *in.Name,
		Type:                         *in.Type,
		ProviderARNs:                 dedup(in.ProviderARNs),
		AuthType:                     in.AuthType,
		AuthorizerURI:                in.AuthorizerURI,
		AuthorizerCredentials:        in.AuthorizerCredentials,
		IdentitySource:               in.IdentitySource,
		IdentityValidationExpression: in.IdentityValidationExpression,
		AuthorizerResultTTLInSeconds: apimodel.DefaultAuthorizerTTL,
	}
	if in.AuthorizerResultTTLInSeconds != nil {
		a.AuthorizerResultTTLInSeconds = *in.AuthorizerResultTTLInSeconds
	}
	var out apimodel.Authorizer
	_, err := s.modifyAPI(c, c.r.PathValue("restapi_id"), nil, func(api *apimodel.API) error {
		na := a
		na.ProviderARNs = slices.Clone(a.ProviderARNs)
		if err := validateAuthorizer(&na); err != nil {
			return err
		}
		for _, other := range api.Authorizers {
			if other.Name == na.Name {
				return badRequestf(msgAuthorizerNameUnique, na.Name)
			}
		}
		if len(api.Authorizers) >= maxAuthorizers {
			return limitExceeded(msgTooManyAuthorizers)
		}
		na.ID = newChildID(api.Authorizers, authorizerIDLen)
		if api.Authorizers == nil {
			api.Authorizers = map[string]*apimodel.Authorizer{}
		}
		api.Authorizers[na.ID] = &na
		out = na
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, &out, nil
}

func (s *Server) getAuthorizer(c *call) (int, any, error) {
	api, err := s.loadAPI(c, c.r.PathValue("restapi_id"), nil)
	if err != nil {
		return 0, nil, err
	}
	a := api.Authorizers[c.r.PathValue("authorizer_id")]
	if a == nil {
		return 0, nil, notFound(msgAuthorizerNotFound)
	}
	return http.StatusOK, a, nil
}

func (s *Server) getAuthorizers(c *call) (int, any, error) {
	api, err := s.loadAPI(c, c.r.PathValue("restapi_id"), nil)
	if err != nil {
		return 0, nil, err
	}
	// Listed by name (unique within an API), so pages are stable.
	items := make([]*apimodel.Authorizer, 0, len(api.Authorizers))
	for _, a := range api.Authorizers {
		items = append(items, a)
	}
	sort.Slice(items, func(i, j int) bool { return items[i].Name < items[j].Name })
	page, pos, err := paginate(c, items, func(a *apimodel.Authorizer) string { return a.Name })
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, list[*apimodel.Authorizer]{Position: pos, Items: page}, nil
}

func (s *Server) updateAuthorizer(c *call) (int, any, error) {
	ops, err := decodePatch(c, "updateAuthorizerInput")
	if err != nil {
		return 0, nil, err
	}
	id := c.r.PathValue("authorizer_id")
	var out apimodel.Authorizer
	_, err = s.modifyAPI(c, c.r.PathValue("restapi_id"), nil, func(api *apimodel.API) error {
		cur := api.Authorizers[id]
		if cur == nil {
			return notFound(msgAuthorizerNotFound)
		}
		a := *cur
		a.ProviderARNs = slices.Clone(cur.ProviderARNs)
		if err := patchAuthorizer(&a, ops); err != nil {
			return err
		}
		if err := validateAuthorizer(&a); err != nil {
			return err
		}
		for oid, other := range api.Authorizers {
			if oid != id && other.Name == a.Name {
				return badRequestf(msgAuthorizerNameUnique, a.Name)
			}
		}
		api.Authorizers[id] = &a
		out = a
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, &out, nil
}

// patchAuthorizer applies UpdateAuthorizer's patch operations (validated afterwards as
// a whole by validateAuthorizer).
func patchAuthorizer(a *apimodel.Authorizer, ops []patchOp) error {
	for i := range ops {
		p := &ops[i]
		path := p.path()
		if path == "/providerARNs" {
			if err := allowOp(p.Op, opAdd, opRemove); err != nil {
				return err
			}
			if p.Op == opAdd {
				if p.value() != "" && !slices.Contains(a.ProviderARNs, p.value()) {
					a.ProviderARNs = append(a.ProviderARNs, p.value())
				}
			} else {
				a.ProviderARNs = slices.DeleteFunc(a.ProviderARNs, func(arn string) bool { return arn == p.value() })
			}
			continue
		}
		var field *string
		switch path {
		case "/name":
			field = &a.Name
		case "/type":
			field = &a.Type
		case "/authType":
			field = &a.AuthType
		case "/authorizerUri":
			field = &a.AuthorizerURI
		case "/authorizerCredentials":
			field = &a.AuthorizerCredentials
		case "/identitySource":
			field = &a.IdentitySource
		case "/identityValidationExpression":
			field = &a.IdentityValidationExpression
		case "/authorizerResultTtlInSeconds":
		default:
			return errPatchPath(path)
		}
		if err := allowOp(p.Op, opReplace); err != nil {
			return err
		}
		if field != nil {
			*field = p.value()
			continue
		}
		n, err := strconv.Atoi(strings.TrimSpace(p.value()))
		if err != nil {
			return badRequest(msgAuthorizerTTL)
		}
		a.AuthorizerResultTTLInSeconds = n
	}
	return nil
}

// methodsUsing returns "VERB/path" of every method of api whose authorization uses
// authorizer id, sorted.
func methodsUsing(api *apimodel.API, id string) []string {
	var out []string
	for _, r := range api.Resources {
		for verb, m := range r.ResourceMethods {
			if needsAuthorizer(m.AuthorizationType) && m.AuthorizerID == id {
				out = append(out, verb+"/"+r.Path)
			}
		}
	}
	sort.Strings(out)
	return out
}

func (s *Server) deleteAuthorizer(c *call) (int, any, error) {
	id := c.r.PathValue("authorizer_id")
	_, err := s.modifyAPI(c, c.r.PathValue("restapi_id"), nil, func(api *apimodel.API) error {
		if api.Authorizers[id] == nil {
			return notFound(msgAuthorizerNotFound)
		}
		if users := methodsUsing(api, id); len(users) > 0 {
			return conflict(fmt.Sprintf(msgAuthorizerInUse, users[0]))
		}
		delete(api.Authorizers, id)
		if len(api.Authorizers) == 0 {
			api.Authorizers = nil
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, nil, nil
}

// flushStageAuthorizersCache bumps the stage's authorizer cache generation; the data
// plane drops the stage's cached authorizer results when it sees a new one.
func (s *Server) flushStageAuthorizersCache(c *call) (int, any, error) {
	apiID := c.r.PathValue("restapi_id")
	if _, err := s.loadAPI(c, apiID, nil); err != nil {
		return 0, nil, err
	}
	_, err := s.modifyStage(c, apiID, c.r.PathValue("stage_name"), func(st *apimodel.Stage) error {
		st.AuthorizerCacheGeneration++
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, nil, nil
}
