package authorizer

import (
	"net/http"

	"gatehouse/internal/gatewayresponse"
)

// Failure is an authorization failure, ready to become a gateway response.
// Its fields mirror the data plane's pipeline error one to one: Type picks
// the gateway response (and its customisation), Status/ErrorType override
// the type's defaults, Message is $context.error.message, and Err is the
// private cause (logged, never sent).
type Failure struct {
	Type gatewayresponse.Type
	// Status is the HTTP status; it is always set (AWS's default for Type
	// unless AWS sends something else for this situation).
	Status int
	// Message is the public message ($context.error.message).
	Message string
	// CapitalMessage renders the default body as {"Message": ...}, as AWS
	// does for the AccessDenied (policy) family.
	CapitalMessage bool
	// Body, when not empty, is AWS's exact default body, for the cases that
	// are not {"message": Message} ({"message": null} for
	// AUTHORIZER_CONFIGURATION_ERROR).
	Body string
	// ErrorType is the x-amzn-ErrorType value; "" means the type's default.
	ErrorType string
	// Err is the private cause, for logs. It may be nil.
	Err error
}

// Error implements error.
func (f *Failure) Error() string {
	s := string(f.Type) + ": " + f.Message
	if f.Err != nil {
		s += ": " + f.Err.Error()
	}
	return s
}

// Unwrap returns the private cause.
func (f *Failure) Unwrap() error { return f.Err }

// Messages AWS sends.
const (
	msgUnauthorized         = "Unauthorized"
	msgMissingAuthToken     = "Missing Authentication Token"
	msgInvalidToken         = "The security token included in the request is invalid."
	msgExpiredToken         = "The security token included in the request is expired"
	msgAuthorizerDenied     = "User is not authorized to access this resource"
	msgExplicitDenySuffix   = " with an explicit deny"
	bodyAuthorizerConfigErr = `{"message": null}`
)

// unauthorized is UNAUTHORIZED 401 {"message":"Unauthorized"}.
func unauthorized(err error) *Failure {
	return &Failure{Type: gatewayresponse.Unauthorized, Status: http.StatusUnauthorized,
		Message: msgUnauthorized, Err: err}
}

// configError is AUTHORIZER_CONFIGURATION_ERROR 500 {"message": null}.
func configError(err error) *Failure {
	return &Failure{Type: gatewayresponse.AuthorizerConfigurationError, Status: http.StatusInternalServerError,
		Body: bodyAuthorizerConfigErr, Err: err}
}

// AuthorizerDenied is the 403 ACCESS_DENIED a Lambda or Cognito authorizer
// verdict produces: {"Message":"User is not authorized to access this
// resource with an explicit deny"} for an explicit deny, and the same
// without " with an explicit deny" for an implicit one (the authorizer's
// policy does not cover the method ARN and the resource policy does not
// allow it either).
func AuthorizerDenied(explicit bool) *Failure {
	msg := msgAuthorizerDenied
	if explicit {
		msg += msgExplicitDenySuffix
	}
	return &Failure{Type: gatewayresponse.AccessDenied, Status: http.StatusForbidden,
		Message: msg, CapitalMessage: true}
}

// AccessDenied is the 403 ACCESS_DENIED for a policy decision:
// {"Message":"User: {caller} is not authorized to perform:
// execute-api:Invoke on resource: {maskedARN}[ with an explicit deny]"}.
// caller is an IAM ARN, or "anonymous" for callers without an IAM identity.
// maskedARN is the method ARN with the account id masked (see MaskARN).
func AccessDenied(caller, maskedARN string, explicit bool) *Failure {
	msg := "User: " + caller + " is not authorized to perform: execute-api:Invoke on resource: " + maskedARN
	if explicit {
		msg += msgExplicitDenySuffix
	}
	return &Failure{Type: gatewayresponse.AccessDenied, Status: http.StatusForbidden,
		Message: msg, CapitalMessage: true}
}

// MaskARN masks all but the last four digits of the account id in an ARN
// with '*', as AWS does in AccessDenied messages:
// arn:aws:execute-api:us-west-2:123456782543:abc/prod/GET/ becomes
// arn:aws:execute-api:us-west-2:********2543:abc/prod/GET/. A string that is
// not an ARN with an account component is returned unchanged.
func MaskARN(arn string) string {
	// Find the fifth component (account): after the fourth ':'.
	start := 0
	for n := 0; n < 4; n++ {
		i := indexByteFrom(arn, ':', start)
		if i < 0 {
			return arn
		}
		start = i + 1
	}
	end := indexByteFrom(arn, ':', start)
	if end < 0 {
		return arn
	}
	acct := arn[start:end]
	if len(acct) <= 4 {
		return arn
	}
	b := make([]byte, 0, len(arn))
	b = append(b, arn[:start]...)
	for i := 0; i < len(acct)-4; i++ {
		b = append(b, '*')
	}
	b = append(b, arn[end-4:]...)
	return string(b)
}

func indexByteFrom(s string, c byte, from int) int {
	for i := from; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}
