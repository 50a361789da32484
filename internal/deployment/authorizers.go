package deployment

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/authorizer"
)

// Authorizer is a compiled REST authorizer: a Lambda authorizer (TOKEN, REQUEST) with
// its result cache, or a Cognito/OIDC JWT verifier with its key and token caches.
type Authorizer struct {
	ID, Name, Type string
	Lambda         *authorizer.Lambda
	JWT            *authorizer.JWTVerifier
	// TokenHeader is the header a Cognito authorizer reads the token from.
	TokenHeader string
	// Audience, for a Cognito authorizer with an identityValidationExpression, is matched
	// against the token's aud (or client_id) claim, as AWS does.
	Audience *regexp.Regexp
}

// errNoFunctions is what a Lambda authorizer returns when gatehouse has no function
// host to call it with.
var errNoFunctions = errors.New("no function host: Lambda authorizers cannot be called")

type noInvoker struct{}

func (noInvoker) Invoke(context.Context, string, []byte) ([]byte, string, error) {
	return nil, "", errNoFunctions
}

func compileAuthorizer(a *apimodel.Authorizer, inv authorizer.Invoker) (*Authorizer, error) {
	ca := &Authorizer{ID: a.ID, Name: a.Name, Type: a.Type}
	switch a.Type {
	case apimodel.AuthorizerToken, apimodel.AuthorizerRequest:
		if inv == nil {
			inv = noInvoker{}
		}
		ttl := a.AuthorizerResultTTLInSeconds
		l, err := authorizer.NewLambda(authorizer.LambdaConfig{
			Type:                         a.Type,
			FunctionARN:                  a.FunctionARN(),
			IdentitySource:               a.IdentitySource,
			IdentityValidationExpression: a.IdentityValidationExpression,
			ResultTTLInSeconds:           &ttl,
		}, inv)
		if err != nil {
			return nil, err
		}
		ca.Lambda = l
	case apimodel.AuthorizerCognito:
		if len(a.ProviderARNs) == 0 {
			return nil, errors.New("no providerARNs")
		}
		issuer, ok := apimodel.ProviderIssuer(a.ProviderARNs[0])
		if !ok {
			return nil, fmt.Errorf("provider %q is neither a Cognito user pool ARN nor an issuer URL", a.ProviderARNs[0])
		}
		v, err := authorizer.NewJWTVerifier(authorizer.JWTConfig{Issuer: issuer})
		if err != nil {
			return nil, err
		}
		ca.JWT = v
		if a.IdentityValidationExpression != "" {
			re, err := regexp.Compile("^(?:" + a.IdentityValidationExpression + ")$")
			if err != nil {
				return nil, fmt.Errorf("identityValidationExpression: %w", err)
			}
			ca.Audience = re
		}
		ca.TokenHeader = "Authorization"
		for _, src := range a.IdentitySources() {
			if h, ok := strings.CutPrefix(src, "method.request.header."); ok {
				ca.TokenHeader = h
				break
			}
		}
	default:
		return nil, fmt.Errorf("authorizer type %q", a.Type)
	}
	return ca, nil
}
