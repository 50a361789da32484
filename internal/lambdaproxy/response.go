package lambdaproxy

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
)

// Response is a valid Lambda proxy response, ready to be written.
type Response struct {
	// StatusCode is 100 to 599; 200 when the function left it out.
	StatusCode int
	// Headers are headers and multiValueHeaders merged (a key in
	// multiValueHeaders replaces the same key of headers). Content-Type is
	// application/json when the function set none.
	Headers http.Header
	// Body is the body as the function returned it ("" for none or null).
	Body string
	// IsBase64Encoded says Body is base64; see BodyBytes.
	IsBase64Encoded bool
}

// ErrorBody is the client response for any failed Lambda proxy integration:
// status 502 with this body (Content-Type application/json).
const ErrorBody = `{"message": "Internal server error"}`

// Error says why a function's output is not a valid proxy response. The
// data plane answers 502 ErrorBody for every one of them.
type Error struct {
	// FunctionError is set when the function failed ("Unhandled").
	FunctionError string
	// Reason is what AWS's execution log would say.
	Reason string
}

func (e *Error) Error() string { return "lambda proxy: " + e.Reason }

// ErrFunction matches (errors.Is) the Error for a failed function.
var ErrFunction = errors.New("lambda proxy: function error")

// Is makes errors.Is(err, ErrFunction) true for function errors.
func (e *Error) Is(target error) bool { return target == ErrFunction && e.FunctionError != "" }

func malformed(format string, args ...any) error {
	return &Error{Reason: "Malformed Lambda proxy response: " + fmt.Sprintf(format, args...)}
}

// ParseResponse validates a function's result as API Gateway does for a REST
// Lambda proxy integration (payload 1.0) and returns the response to send.
// Any error means 502 ErrorBody. The rules, case by case (the table test
// names the source of each):
//
//   - functionError != "" (the Invoke API's X-Amz-Function-Error): error.
//   - The payload must be one JSON object (not null, a string, an array; not
//     non-JSON): error otherwise.
//   - Only the keys statusCode, headers, multiValueHeaders, body and
//     isBase64Encoded are allowed; any other key is an error, including
//     errorMessage and cookies.
//   - Every key may be missing or null: statusCode defaults to 200, body to
//     empty, isBase64Encoded to false ({} gives 200 with an empty body).
//   - statusCode is a JSON integer or a string of digits, 100 to 599.
//   - headers is an object of string (or boolean, written "true"/"false")
//     values; multiValueHeaders an object of lists of such values. A
//     multiValueHeaders key replaces the same headers key.
//   - body is a string; isBase64Encoded a boolean.
func ParseResponse(payload []byte, functionError string) (Response, error) {
	if functionError != "" {
		return Response{}, &Error{FunctionError: functionError,
			Reason: "Lambda execution failed with status 200 due to customer function error: " + errorMessage(payload)}
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(payload, &doc); err != nil {
		return Response{}, malformed("not a JSON object: %v", err)
	}
	if doc == nil {
		return Response{}, malformed("null")
	}
	r := Response{StatusCode: http.StatusOK, Headers: http.Header{}}
	for k, v := range doc {
		if isNull(v) {
			continue
		}
		var err error
		switch k {
		case "statusCode":
			r.StatusCode, err = parseStatus(v)
		case "headers", "multiValueHeaders":
			// Checked here, merged in order below.
		case "body":
			if err = json.Unmarshal(v, &r.Body); err != nil {
				err = malformed("body is not a string")
			}
		case "isBase64Encoded":
			if err = json.Unmarshal(v, &r.IsBase64Encoded); err != nil {
				err = malformed("isBase64Encoded is not a boolean")
			}
		default:
			err = malformed("unknown key %q", k)
		}
		if err != nil {
			return Response{}, err
		}
	}
	// headers first, then multiValueHeaders over them.
	if v, ok := doc["headers"]; ok && !isNull(v) {
		if err := parseHeaders(v, r.Headers); err != nil {
			return Response{}, err
		}
	}
	if v, ok := doc["multiValueHeaders"]; ok && !isNull(v) {
		if err := parseMultiValueHeaders(v, r.Headers); err != nil {
			return Response{}, err
		}
	}
	if r.Headers.Get("Content-Type") == "" {
		r.Headers.Set("Content-Type", "application/json")
	}
	return r, nil
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

func parseStatus(v json.RawMessage) (int, error) {
	var n json.Number
	switch {
	case len(v) > 0 && v[0] == '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return 0, malformed("statusCode is not a number")
		}
		if s == "" || len(s) > 3 || !allDigits(s) {
			return 0, malformed("statusCode %q is not a number", s)
		}
		n = json.Number(s)
	default:
		if err := json.Unmarshal(v, &n); err != nil {
			return 0, malformed("statusCode is not a number")
		}
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || f != math.Trunc(f) || f < 100 || f > 599 {
		return 0, malformed("statusCode %s is not an HTTP status", n)
	}
	return int(f), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// headerString converts one header value: a string, or a boolean as
// "true"/"false".
func headerString(v json.RawMessage) (string, bool) {
	switch string(bytes.TrimSpace(v)) {
	case "true":
		return "true", true
	case "false":
		return "false", true
	}
	var s string
	if isNull(v) || json.Unmarshal(v, &s) != nil {
		return "", false
	}
	return s, true
}

func parseHeaders(v json.RawMessage, h http.Header) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v, &m); err != nil {
		return malformed("headers is not an object")
	}
	for k, raw := range m {
		s, ok := headerString(raw)
		if !ok {
			return malformed("header %q is not a string", k)
		}
		if validHeaderName(k) {
			h[http.CanonicalHeaderKey(k)] = []string{s}
		}
	}
	return nil
}

func parseMultiValueHeaders(v json.RawMessage, h http.Header) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v, &m); err != nil {
		return malformed("multiValueHeaders is not an object")
	}
	for k, raw := range m {
		if isNull(raw) {
			continue
		}
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return malformed("multiValueHeaders %q is not a list", k)
		}
		vals := make([]string, 0, len(list))
		for _, item := range list {
			s, ok := headerString(item)
			if !ok {
				return malformed("multiValueHeaders %q has a value that is not a string", k)
			}
			vals = append(vals, s)
		}
		if !validHeaderName(k) {
			continue
		}
		if len(vals) == 0 {
			delete(h, http.CanonicalHeaderKey(k))
			continue
		}
		h[http.CanonicalHeaderKey(k)] = vals
	}
	return nil
}

// validHeaderName reports whether k is an RFC 9110 token; other names are
// dropped rather than written.
func validHeaderName(k string) bool {
	if k == "" {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case bytes.IndexByte([]byte("!#$%&'*+-.^_`|~"), c) >= 0:
		default:
			return false
		}
	}
	return true
}

// errorMessage extracts errorMessage from a function error document, for
// the log reason.
func errorMessage(payload []byte) string {
	var d struct {
		ErrorMessage string `json:"errorMessage"`
	}
	if json.Unmarshal(payload, &d) == nil && d.ErrorMessage != "" {
		return d.ErrorMessage
	}
	if len(payload) > 256 {
		payload = payload[:256]
	}
	return string(payload)
}

// BodyBytes returns the bytes to send. A base64 body is decoded only when the
// request's first Accept media type matches binaryMediaTypes; otherwise the
// base64 text itself is sent, as API Gateway does (DG
// api-gateway-payload-encodings: "API Gateway uses the first Accept header
// from clients to determine if a response should return binary media").
// Invalid base64 in that case is an error (502).
func (r *Response) BodyBytes(accept string, binaryMediaTypes []string) ([]byte, error) {
	if !r.IsBase64Encoded || !IsBinary(accept, binaryMediaTypes) {
		return []byte(r.Body), nil
	}
	b, err := base64.StdEncoding.DecodeString(r.Body)
	if err != nil {
		return nil, malformed("body is not valid base64: %v", err)
	}
	return b, nil
}
