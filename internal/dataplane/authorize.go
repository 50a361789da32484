package dataplane

import (
	"errors"
	"net/url"

	"gatehouse/internal/authorizer"
	"gatehouse/internal/deployment"
	"gatehouse/internal/policy"
)

// authorize decides whether the caller may invoke the method, by its authorization type:
//
//   - NONE: the resource policy (if any) must explicitly Allow; a PRIVATE API always has one.
//   - AWS_IAM: SigV4 authentication, then the identity policy and the resource policy
//     combined by Table A (same account) or Table B (cross account).
//   - CUSTOM (Lambda): phase 1 denies on an explicit Deny in the resource policy without
//     calling the function; the function's policy is then combined with the resource
//     policy by Table A.
//   - COGNITO_USER_POOLS: the token is verified first, then the resource policy must
//     explicitly Allow on its own.
func (s *Server) authorize(rc *request, api *deployment.API, comp *deployment.Compiled, m *deployment.Method) *Error {
	anonymous := func() policy.Decision {
		if comp.Policy == nil {
			if api.Private {
				return policy.NotApplicable
			}
			return policy.Allow // a public API without a resource policy
		}
		return comp.Policy.Evaluate(rc.policyRequest())
	}
	switch m.AuthorizationType {
	case "AWS_IAM":
		if s.iam == nil {
			return errConfig(errNoIAM)
		}
		body, berr := rc.bufferBody()
		if berr != nil {
			return berr
		}
		id, f := s.iam.Authenticate(rc.r, body)
		if f != nil {
			return fromFailure(f)
		}
		rc.iamIdentity = id
		d := s.iam.Authorize(id, rc.resourceARN, comp.Policy, &rc.polctx, api.Account)
		if d != policy.Allow {
			return fromFailure(s.iam.Denied(id, rc.resourceARN, d))
		}
		return nil
	case "CUSTOM":
		d1 := anonymous()
		if d1 == policy.Deny {
			return errAccessDenied(rc.maskedARN(), true)
		}
		la := m.Authorizer.Lambda
		res, authz, f := la.Authorize(rc.r.Context(), &authorizer.LambdaInput{
			HTTP:           rc.r,
			MethodARN:      rc.resourceARN,
			Resource:       m.ResourcePath,
			Path:           rc.rest,
			PathParameters: rc.pathParameters(),
			StageVariables: rc.stage.Variables,
			Context:        rc,
			PolicyContext:  &rc.polctx,
		})
		if f != nil {
			return fromFailure(f)
		}
		if f := authorizer.AuthorizerVerdict(authz, d1); f != nil {
			return fromFailure(f)
		}
		rc.lambdaResult = res
		return nil
	case "COGNITO_USER_POOLS":
		a := m.Authorizer
		res, f := a.JWT.Verify(rc.r.Context(), rc.r.Header.Get(a.TokenHeader), m.Scopes)
		if f != nil {
			return fromFailure(f)
		}
		if a.Audience != nil {
			aud := res.Claims["aud"]
			if aud == "" {
				aud = res.Claims["client_id"]
			}
			if !a.Audience.MatchString(aud) {
				return &Error{Type: "UNAUTHORIZED", Message: "Unauthorized", Err: errors.New("token audience does not match identityValidationExpression")}
			}
		}
		rc.claims = res.Claims
		if d := anonymous(); d != policy.Allow {
			return errAccessDenied(rc.maskedARN(), d == policy.Deny)
		}
		return nil
	default: // NONE
		if d := anonymous(); d != policy.Allow {
			return errAccessDenied(rc.maskedARN(), d == policy.Deny)
		}
		return nil
	}
}

// fromFailure converts an authorizer failure into the pipeline's error.
func fromFailure(f *authorizer.Failure) *Error {
	return &Error{Type: f.Type, Status: f.Status, Message: f.Message, CapitalMessage: f.CapitalMessage,
		Body: f.Body, ErrorType: f.ErrorType, Err: f.Err}
}

// pathParameters returns the matched path parameters, decoded (nil when none).
func (rc *request) pathParameters() map[string]string {
	n := rc.params.Len()
	if n == 0 {
		return nil
	}
	m := make(map[string]string, n)
	for i := range n {
		k, v := rc.params.At(i)
		if u, err := url.PathUnescape(v); err == nil {
			v = u
		}
		m[k] = v
	}
	return m
}

// ContextVar implements authorizer.ContextSource: $context variables for REQUEST
// authorizer identity sources.
func (rc *request) ContextVar(name string) (string, bool) {
	return contextVar("context."+name, &Error{}, rc)
}

// RequestContext implements authorizer.ContextSource: the REQUEST event's requestContext.
func (rc *request) RequestContext() any {
	identity := map[string]any{"sourceIp": rc.sourceIP.String(), "userAgent": rc.r.UserAgent()}
	if !rc.origin.Public {
		identity["vpcId"] = rc.origin.VpcID
		identity["vpceId"] = rc.origin.VpceID
	}
	return map[string]any{
		"accountId":         rc.stage.API.Account,
		"apiId":             rc.apiID,
		"stage":             rc.stageName,
		"resourceId":        rc.method.ResourceID,
		"resourcePath":      rc.method.ResourcePath,
		"httpMethod":        rc.r.Method,
		"path":              rc.path,
		"protocol":          rc.r.Proto,
		"requestId":         rc.requestID,
		"extendedRequestId": rc.extendedID,
		"requestTimeEpoch":  rc.start.UnixMilli(),
		"requestTime":       rc.start.UTC().Format("02/Jan/2006:15:04:05 -0700"),
		"domainName":        rc.host,
		"domainPrefix":      domainPrefix(rc.host),
		"identity":          identity,
	}
}
