// Package gatewayresponse owns API Gateway's gateway responses: the response types, AWS's
// default table (status, template, x-amzn-ErrorType), the DEFAULT_4XX/DEFAULT_5XX
// inheritance rules, and the typed Error that every data-plane phase returns.
package gatewayresponse

import (
	"maps"
	"slices"
)

// Type is a gateway response type (AWS GatewayResponseType).
type Type string

// The gateway response types AWS defines for REST APIs.
const (
	AccessDenied                 Type = "ACCESS_DENIED"
	APIConfigurationError        Type = "API_CONFIGURATION_ERROR"
	AuthorizerConfigurationError Type = "AUTHORIZER_CONFIGURATION_ERROR"
	AuthorizerFailure            Type = "AUTHORIZER_FAILURE"
	BadRequestParameters         Type = "BAD_REQUEST_PARAMETERS"
	BadRequestBody               Type = "BAD_REQUEST_BODY"
	Default4XX                   Type = "DEFAULT_4XX"
	Default5XX                   Type = "DEFAULT_5XX"
	ExpiredToken                 Type = "EXPIRED_TOKEN"
	IntegrationFailure           Type = "INTEGRATION_FAILURE"
	IntegrationTimeout           Type = "INTEGRATION_TIMEOUT"
	InvalidAPIKey                Type = "INVALID_API_KEY"
	InvalidSignature             Type = "INVALID_SIGNATURE"
	MissingAuthenticationToken   Type = "MISSING_AUTHENTICATION_TOKEN"
	QuotaExceeded                Type = "QUOTA_EXCEEDED"
	RequestTooLarge              Type = "REQUEST_TOO_LARGE"
	ResourceNotFound             Type = "RESOURCE_NOT_FOUND"
	Throttled                    Type = "THROTTLED"
	Unauthorized                 Type = "UNAUTHORIZED"
	UnsupportedMediaType         Type = "UNSUPPORTED_MEDIA_TYPE"
	WAFFiltered                  Type = "WAF_FILTERED"
)

// DefaultTemplate is the body template AWS uses for every type unless customised.
const DefaultTemplate = `{"message":$context.error.messageString}`

// Default describes AWS's built-in behaviour for one type.
type Default struct {
	Type Type
	// Status is the default HTTP status (0 for DEFAULT_4XX/DEFAULT_5XX, which have none).
	Status int
	// ErrorType is the x-amzn-ErrorType header value.
	ErrorType string
}

var defaults = map[Type]Default{
	AccessDenied:                 {AccessDenied, 403, "AccessDeniedException"},
	APIConfigurationError:        {APIConfigurationError, 500, "ApiConfigurationException"},
	AuthorizerConfigurationError: {AuthorizerConfigurationError, 500, "AuthorizerConfigurationException"},
	AuthorizerFailure:            {AuthorizerFailure, 500, "AuthorizerFailureException"},
	BadRequestParameters:         {BadRequestParameters, 400, "BadRequestException"},
	BadRequestBody:               {BadRequestBody, 400, "BadRequestException"},
	Default4XX:                   {Default4XX, 0, ""},
	Default5XX:                   {Default5XX, 0, ""},
	ExpiredToken:                 {ExpiredToken, 403, "ExpiredTokenException"},
	IntegrationFailure:           {IntegrationFailure, 504, "InternalServerErrorException"},
	IntegrationTimeout:           {IntegrationTimeout, 504, "InternalServerErrorException"},
	InvalidAPIKey:                {InvalidAPIKey, 403, "ForbiddenException"},
	InvalidSignature:             {InvalidSignature, 403, "InvalidSignatureException"},
	MissingAuthenticationToken:   {MissingAuthenticationToken, 403, "MissingAuthenticationTokenException"},
	QuotaExceeded:                {QuotaExceeded, 429, "LimitExceededException"},
	RequestTooLarge:              {RequestTooLarge, 413, "RequestTooLargeException"},
	ResourceNotFound:             {ResourceNotFound, 404, "ResourceNotFoundException"},
	Throttled:                    {Throttled, 429, "TooManyRequestsException"},
	Unauthorized:                 {Unauthorized, 401, "UnauthorizedException"},
	UnsupportedMediaType:         {UnsupportedMediaType, 415, "BadRequestException"},
	WAFFiltered:                  {WAFFiltered, 403, "WafFilteredException"},
}

// Lookup returns the default for t and whether t is a known type.
func Lookup(t Type) (Default, bool) {
	d, ok := defaults[t]
	return d, ok
}

// Types returns every type, sorted by name (the order GetGatewayResponses lists them).
func Types() []Type {
	return slices.Sorted(maps.Keys(defaults))
}
