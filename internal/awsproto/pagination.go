package awsproto

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// Page-size rules of the API Gateway control plane (the limit query
// parameter of GetRestApis, GetResources, GetDeployments, ...).
const (
	DefaultLimit = 25
	MaxLimit     = 500
)

// EncodePosition returns the opaque position token that makes the next page
// start after lastKey. An empty lastKey gives "" (no more pages).
func EncodePosition(lastKey string) string {
	if lastKey == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(lastKey))
}

// DecodePosition returns the key encoded by EncodePosition. An empty token
// gives "" (start from the beginning). A token that EncodePosition could not
// have produced gives a 400 BadRequestException.
func DecodePosition(token string) (string, error) {
	if token == "" {
		return "", nil
	}
	// The decoder skips CR and LF; a token with them is not one we issued.
	b, err := base64.RawURLEncoding.Strict().DecodeString(token)
	if err != nil || len(b) == 0 || strings.ContainsAny(token, "\r\n") {
		return "", BadRequest("Invalid position parameter")
	}
	return string(b), nil
}

// ParseLimit parses the limit query parameter. An empty value gives
// DefaultLimit. A value above MaxLimit is clamped to MaxLimit: real API
// Gateway accepts such values (observed up to 2^31-1) and never returns more
// than MaxLimit items. A value that is not a 32-bit integer, or is below 1,
// gives a 400 BadRequestException (AWS answers those with a 500 InternalFailure; a
// 400 is the documented divergence).
func ParseLimit(s string) (int, error) {
	if s == "" {
		return DefaultLimit, nil
	}
	n, err := strconv.ParseInt(s, 10, 32) // AWS models limit as a 32-bit integer
	if err != nil {
		return 0, BadRequest("Invalid limit: '" + s + "' is not a 32-bit integer")
	}
	if n < 1 {
		return 0, BadRequest("Invalid limit: " + s + ". The limit must be at least 1")
	}
	if n > MaxLimit {
		return MaxLimit, nil
	}
	return int(n), nil
}
