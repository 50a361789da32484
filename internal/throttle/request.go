package throttle

import "net/http"

// API key sources (RestApi.apiKeySource).
const (
	KeySourceHeader     = "HEADER"
	KeySourceAuthorizer = "AUTHORIZER"
)

// KeyFromRequest returns the API key a request presents under the API's apiKeySource:
// the X-API-Key header (any case) for HEADER (the default when source is empty), or the
// usageIdentifierKey the Lambda authorizer returned for AUTHORIZER.
func KeyFromRequest(source string, h http.Header, authorizerKey string) string {
	if source == KeySourceAuthorizer {
		return authorizerKey
	}
	if v := h["X-Api-Key"]; len(v) > 0 {
		return v[0]
	}
	return ""
}
