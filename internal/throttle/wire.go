package throttle

import (
	"crypto/rand"
	"errors"
	"net/http"

	"gatehouse/internal/apimodel"
)

// Store buckets this package reads and writes. The first three hold the control plane's
// documents (proposed layout, see doc.go); BucketUsage holds the quota counters, written
// only by the Limiter.
const (
	BucketUsagePlans    = "usageplans"    // {usagePlanId}          UsagePlan
	BucketAPIKeys       = "apikeys"       // {apiKeyId}             APIKey
	BucketUsagePlanKeys = "usageplankeys" // {usagePlanId}/{keyId}  UsagePlanKey
	BucketUsage         = "usage"         // {usagePlanId}/{keyId}/{PERIOD}/{yyyy-mm-dd}  per-period counters
)

// Quota periods (QuotaSettings.period).
const (
	PeriodDay   = "DAY"
	PeriodWeek  = "WEEK"
	PeriodMonth = "MONTH"
)

// API key sources (RestApi.apiKeySource).
const (
	KeySourceHeader     = "HEADER"
	KeySourceAuthorizer = "AUTHORIZER"
)

// KeyTypeAPIKey is the only UsagePlanKey type AWS defines.
const KeyTypeAPIKey = "API_KEY"

// ThrottleSettings is AWS's ThrottleSettings shape: RateLimit is the steady-state
// requests per second (the token refill rate) and BurstLimit the bucket size.
type ThrottleSettings struct {
	BurstLimit int     `json:"burstLimit"`
	RateLimit  float64 `json:"rateLimit"`
}

// QuotaSettings is AWS's QuotaSettings shape. Offset is "the number of requests
// subtracted from the given limit in the initial time period".
type QuotaSettings struct {
	Limit  int    `json:"limit"`
	Offset int    `json:"offset"`
	Period string `json:"period"`
}

// APIStage is AWS's ApiStage shape. Throttle keys are "{resourcePath}/{httpMethod}",
// e.g. "/pets/GET" ("//GET" for the root resource).
type APIStage struct {
	APIID    string                      `json:"apiId"`
	Stage    string                      `json:"stage"`
	Throttle map[string]ThrottleSettings `json:"throttle,omitempty"`
}

// UsagePlan is AWS's UsagePlan shape plus two fields gatehouse keeps beside it: the
// owning account and the creation time (which decides the "initial time period" of
// QuotaSettings.Offset). The control plane should not return those two.
type UsagePlan struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	APIStages   []APIStage        `json:"apiStages,omitempty"`
	Throttle    *ThrottleSettings `json:"throttle,omitempty"`
	Quota       *QuotaSettings    `json:"quota,omitempty"`
	ProductCode string            `json:"productCode,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`

	Account     string         `json:"account,omitempty"`
	CreatedDate apimodel.Epoch `json:"createdDate,omitzero"`
}

// APIKey is AWS's ApiKey shape plus the owning account.
type APIKey struct {
	ID              string            `json:"id"`
	Value           string            `json:"value,omitempty"`
	Name            string            `json:"name,omitempty"`
	CustomerID      string            `json:"customerId,omitempty"`
	Description     string            `json:"description,omitempty"`
	Enabled         bool              `json:"enabled"`
	CreatedDate     apimodel.Epoch    `json:"createdDate"`
	LastUpdatedDate apimodel.Epoch    `json:"lastUpdatedDate"`
	StageKeys       []string          `json:"stageKeys"`
	Tags            map[string]string `json:"tags,omitempty"`

	Account string `json:"account,omitempty"`
}

// UsagePlanKey is AWS's UsagePlanKey shape (id is the API key's id; name and value are
// the key's, filled in when read) plus the plan it belongs to, which AWS carries in the
// path.
type UsagePlanKey struct {
	ID    string `json:"id"`
	Type  string `json:"type"`
	Value string `json:"value,omitempty"`
	Name  string `json:"name,omitempty"`

	UsagePlanID string `json:"usagePlanId,omitempty"`
}

// Usage is AWS's Usage shape (GetUsage's output). Items maps an API key id to one
// [used, remaining] pair per day from StartDate to EndDate; AWS names the member
// "values" on the wire.
type Usage struct {
	UsagePlanID string                `json:"usagePlanId"`
	StartDate   string                `json:"startDate"`
	EndDate     string                `json:"endDate"`
	Position    string                `json:"position,omitempty"`
	Items       map[string][][2]int64 `json:"values"`
}

// UsagePlanKeyStoreKey is the store key of a usage-plan key.
func UsagePlanKeyStoreKey(planID, keyID string) string { return planID + "/" + keyID }

// Key value limits AWS enforces on CreateApiKey/ImportApiKeys.
const (
	MinKeyValueLen = 20
	MaxKeyValueLen = 128
)

// Errors for key values, worded as AWS words them.
var (
	ErrKeyValueTooShort = errors.New("API Key value should be at least 20 characters")
	ErrKeyValueTooLong  = errors.New("API Key value exceeds maximum size of 128 characters")
)

// ValidateKeyValue checks a caller-supplied API key value against AWS's length rules.
func ValidateKeyValue(v string) error {
	switch {
	case len(v) < MinKeyValueLen:
		return ErrKeyValueTooShort
	case len(v) > MaxKeyValueLen:
		return ErrKeyValueTooLong
	}
	return nil
}

// NewKeyValue returns a random 40-character alphanumeric key value, the form AWS
// generates when CreateApiKey has no value.
func NewKeyValue() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	var b [40]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	for i := range b {
		// 248 is the largest multiple of 62 below 256; the slight bias of a plain modulo
		// is avoided by rejecting and redrawing.
		for b[i] >= 248 {
			var c [1]byte
			_, _ = rand.Read(c[:])
			b[i] = c[0]
		}
		b[i] = alphabet[b[i]%62]
	}
	return string(b[:])
}

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
