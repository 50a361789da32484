package apimodel

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Bucket names of the account-level access-control documents and the usage counters.
const (
	BucketAPIKeys       = "apikeys"
	BucketAPIKeyValues  = "apikeyvalues"
	BucketUsagePlans    = "usageplans"
	BucketUsagePlanKeys = "usageplankeys"
	BucketUsage         = "usage"
)

// Authorizer types (Authorizer.type).
const (
	AuthorizerToken   = "TOKEN"
	AuthorizerRequest = "REQUEST"
	AuthorizerCognito = "COGNITO_USER_POOLS"
)

// Authorizer result cache TTL bounds, in seconds (authorizerResultTtlInSeconds).
const (
	DefaultAuthorizerTTL = 300
	MaxAuthorizerTTL     = 3600
)

// Usage plan key type (UsagePlanKey.type); the only one AWS has.
const UsagePlanKeyTypeAPIKey = "API_KEY"

// Quota periods (QuotaSettings.period).
const (
	QuotaDay   = "DAY"
	QuotaWeek  = "WEEK"
	QuotaMonth = "MONTH"
)

// Authorizer is AWS's Authorizer shape, stored in the API document (API.Authorizers) and
// so deployed with it.
//
// For TOKEN and REQUEST authorizers AuthorizerURI is
// arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{functionArn}/invocations
// (FunctionARN extracts the function). For COGNITO_USER_POOLS, ProviderARNs lists
// Cognito user pool ARNs (arn:aws:cognito-idp:{region}:{account}:userpool/{poolId}) or,
// as a gatehouse extension, OIDC issuer URLs (https://issuer.example.com); see
// ProviderIssuer. IdentitySource is one header mapping expression
// (method.request.header.X) for TOKEN and COGNITO_USER_POOLS, and a comma-separated list
// of method.request.{header,querystring,multivalueheader,multivaluequerystring}.X,
// stageVariables.X and context.X for REQUEST (see IdentitySources).
type Authorizer struct {
	ID                           string   `json:"id"`
	Name                         string   `json:"name"`
	Type                         string   `json:"type"`
	ProviderARNs                 []string `json:"providerARNs,omitempty"`
	AuthType                     string   `json:"authType,omitempty"`
	AuthorizerURI                string   `json:"authorizerUri,omitempty"`
	AuthorizerCredentials        string   `json:"authorizerCredentials,omitempty"`
	IdentitySource               string   `json:"identitySource,omitempty"`
	IdentityValidationExpression string   `json:"identityValidationExpression,omitempty"`
	AuthorizerResultTTLInSeconds int      `json:"authorizerResultTtlInSeconds"`
}

// authorizerURIRe splits a Lambda authorizer URI into region and function ARN.
var authorizerURIRe = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:apigateway:([a-z0-9-]+):lambda:path/2015-03-31/functions/([^/]+)/invocations$`)

// FunctionARN returns the Lambda function ARN of a TOKEN or REQUEST authorizer's URI,
// or "" when the URI is not a Lambda invocation URI.
func (a *Authorizer) FunctionARN() string {
	m := authorizerURIRe.FindStringSubmatch(a.AuthorizerURI)
	if m == nil {
		return ""
	}
	return m[2]
}

// IdentitySources returns the identity source expressions, trimmed, in order
// ("method.request.header.Auth", "method.request.querystring.q", ...).
func (a *Authorizer) IdentitySources() []string {
	var out []string
	for _, s := range strings.Split(a.IdentitySource, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// cognitoPoolARNRe matches a Cognito user pool ARN.
var cognitoPoolARNRe = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:cognito-idp:([a-z0-9-]+):(\d{12}):userpool/([\w-]+_[0-9a-zA-Z]+)$`)

// ProviderIssuer returns the OIDC issuer of one COGNITO_USER_POOLS provider: for a user
// pool ARN, https://cognito-idp.{region}.amazonaws.com/{poolId} (AWS's issuer); for an
// issuer URL (gatehouse's extension), the URL itself. ok is false for anything else.
func ProviderIssuer(provider string) (issuer string, ok bool) {
	if m := cognitoPoolARNRe.FindStringSubmatch(provider); m != nil {
		return "https://cognito-idp." + m[1] + ".amazonaws.com/" + m[3], true
	}
	if IsIssuerURL(provider) {
		return strings.TrimSuffix(provider, "/"), true
	}
	return "", false
}

// IsIssuerURL reports whether s is an OIDC issuer URL gatehouse accepts in providerARNs:
// https with a host, or http to a loopback host (local issuers in tests and
// development); no user info, query or fragment.
func IsIssuerURL(s string) bool {
	if strings.ContainsAny(s, " \t\r\n") {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" ||
		strings.Contains(s, "?") || strings.Contains(s, "#") {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		h := u.Hostname()
		return h == "localhost" || h == "127.0.0.1" || h == "::1"
	}
	return false
}

// RequestValidator is AWS's RequestValidator shape, stored in the API document.
type RequestValidator struct {
	ID                        string `json:"id"`
	Name                      string `json:"name,omitempty"`
	ValidateRequestBody       bool   `json:"validateRequestBody"`
	ValidateRequestParameters bool   `json:"validateRequestParameters"`
}

// Model is AWS's Model shape, stored in the API document. Schema is a JSON Schema
// (draft 4) document as the user sent it.
type Model struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Schema      string `json:"schema,omitempty"`
	ContentType string `json:"contentType"`
}

// Built-in models every REST API starts with (the user may delete them).
const (
	ModelEmpty = "Empty"
	ModelError = "Error"
)

// DefaultModels returns the Empty and Error models AWS creates with every REST API,
// with the given ids.
func DefaultModels(emptyID, errorID string) map[string]*Model {
	return map[string]*Model{
		ModelEmpty: {ID: emptyID, Name: ModelEmpty, ContentType: "application/json",
			Description: "This is a default empty schema model",
			Schema:      "{\n  \"$schema\": \"http://json-schema.org/draft-04/schema#\",\n  \"title\" : \"Empty Schema\",\n  \"type\" : \"object\"\n}"},
		ModelError: {ID: errorID, Name: ModelError, ContentType: "application/json",
			Description: "This is a default error schema model",
			Schema:      "{\n  \"$schema\" : \"http://json-schema.org/draft-04/schema#\",\n  \"title\" : \"Error Schema\",\n  \"type\" : \"object\",\n  \"properties\" : {\n    \"message\" : { \"type\" : \"string\" }\n  }\n}"},
	}
}

// APIKey is AWS's ApiKey shape plus the owner. StageKeys are "{restApiId}/{stageName}".
// Stored in BucketAPIKeys under its id.
type APIKey struct {
	Account         string            `json:"account"`
	ID              string            `json:"id"`
	Value           string            `json:"value"`
	Name            string            `json:"name,omitempty"`
	CustomerID      string            `json:"customerId,omitempty"`
	Description     string            `json:"description,omitempty"`
	Enabled         bool              `json:"enabled"`
	CreatedDate     Epoch             `json:"createdDate"`
	LastUpdatedDate Epoch             `json:"lastUpdatedDate"`
	StageKeys       []string          `json:"stageKeys"`
	Tags            map[string]string `json:"tags,omitempty"`
}

// APIKeyValue is the BucketAPIKeyValues entry that maps an API key value to its key:
// stored under APIKeyValueKey(account, value). It makes values unique per account and
// lets the data plane find a key from the x-api-key header (or an authorizer's
// usageIdentifierKey) without listing every key.
type APIKeyValue struct {
	Account string `json:"account"`
	KeyID   string `json:"keyId"`
}

// APIKeyValueKey is the BucketAPIKeyValues key for an API key value of account: the
// account and the hex SHA-256 of the value (values may hold characters store keys
// cannot, and should not appear in key listings).
func APIKeyValueKey(account, value string) string {
	sum := sha256.Sum256([]byte(value))
	return account + "." + hex.EncodeToString(sum[:])
}

// ThrottleSettings is AWS's ThrottleSettings shape: a token bucket refilled at
// RateLimit tokens per second holding at most BurstLimit.
type ThrottleSettings struct {
	BurstLimit int     `json:"burstLimit"`
	RateLimit  float64 `json:"rateLimit"`
}

// QuotaSettings is AWS's QuotaSettings shape: at most Limit requests per Period (DAY,
// WEEK, MONTH; see QuotaPeriodStart), with Offset requests subtracted from the limit in
// the initial period.
type QuotaSettings struct {
	Limit  int    `json:"limit"`
	Offset int    `json:"offset"`
	Period string `json:"period"`
}

// APIStage is AWS's ApiStage shape. Throttle is keyed "/{resourcePath}/{httpMethod}"
// ("/pets/{id}/GET", "/*/*" for every method).
type APIStage struct {
	APIID    string                       `json:"apiId"`
	Stage    string                       `json:"stage"`
	Throttle map[string]*ThrottleSettings `json:"throttle,omitempty"`
}

// UsagePlan is AWS's UsagePlan shape plus the owner; stored in BucketUsagePlans under
// its id.
type UsagePlan struct {
	Account     string            `json:"account"`
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	APIStages   []APIStage        `json:"apiStages"`
	Throttle    *ThrottleSettings `json:"throttle,omitempty"`
	Quota       *QuotaSettings    `json:"quota,omitempty"`
	ProductCode string            `json:"productCode,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
}

// UsagePlanKey is the stored membership of an API key in a usage plan
// (BucketUsagePlanKeys, key UsagePlanKeyKey(usagePlanID, keyID)). AWS's UsagePlanKey
// shape ({id, type, value, name}) is rendered from it and the key.
type UsagePlanKey struct {
	Account     string `json:"account"`
	UsagePlanID string `json:"usagePlanId"`
	KeyID       string `json:"keyId"`
	Type        string `json:"type"`
}

// UsagePlanKeyKey is the store key of an API key's membership in a usage plan.
func UsagePlanKeyKey(usagePlanID, keyID string) string { return usagePlanID + "." + keyID }

// UsageDayLayout is the date format of usage counter keys and of GetUsage's
// startDate/endDate (UTC days).
const UsageDayLayout = "2006-01-02"

// UsageKey is the BucketUsage key of the number of requests API key keyID made under
// usage plan usagePlanID on the UTC day of t: "{usagePlanId}.{keyId}.{yyyy-mm-dd}". Its
// value is a JSON number (e.g. "17"). The data plane's throttle package increments it
// for every request it counts against the plan's quota; the control plane's GetUsage
// reads it. Counters persist in the store, so quotas hold across restarts.
func UsageKey(usagePlanID, keyID string, t time.Time) string {
	return usagePlanID + "." + keyID + "." + t.UTC().Format(UsageDayLayout)
}

// UsageKeyPrefix is the prefix of every usage counter of one key in one plan (for
// store List).
func UsageKeyPrefix(usagePlanID, keyID string) string { return usagePlanID + "." + keyID + "." }

// QuotaPeriodStart returns the UTC midnight that starts the quota period containing t:
// that day for DAY, the preceding Sunday for WEEK, the first of the month for MONTH.
// The quota's requests in a period are the sum of the daily usage counters from this
// day up to and including the current day. Unknown periods are treated as DAY.
func QuotaPeriodStart(period string, t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch period {
	case QuotaWeek:
		return day.AddDate(0, 0, -int(day.Weekday()))
	case QuotaMonth:
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return day
}
