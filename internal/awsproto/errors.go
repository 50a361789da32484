package awsproto

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
)

// AWS error codes (the value of the x-amzn-ErrorType header) used by the
// control plane and the data plane.
const (
	CodeBadRequest                 = "BadRequestException"
	CodeConflict                   = "ConflictException"
	CodeLimitExceeded              = "LimitExceededException"
	CodeNotFound                   = "NotFoundException"
	CodeServiceUnavailable         = "ServiceUnavailableException"
	CodeTooManyRequests            = "TooManyRequestsException"
	CodeUnauthorized               = "UnauthorizedException"
	CodeAccessDenied               = "AccessDeniedException"
	CodeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	CodeIncompleteSignature        = "IncompleteSignatureException"
	CodeInvalidSignature           = "InvalidSignatureException"
	CodeUnrecognizedClient         = "UnrecognizedClientException"
)

// Error is an AWS error: an HTTP status, an error code (sent as the
// x-amzn-ErrorType header) and a message (sent as the JSON body
// {"message": ...}). Every error returned by this package is an *Error.
type Error struct {
	Status  int
	Code    string
	Message string
}

// Error implements the error interface as "Code: Message".
func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Write renders e with WriteJSONError.
func (e *Error) Write(w http.ResponseWriter, requestID string) {
	WriteJSONError(w, e.Status, e.Code, e.Message, requestID)
}

// NotFound returns a 404 NotFoundException.
func NotFound(msg string) *Error { return &Error{http.StatusNotFound, CodeNotFound, msg} }

// BadRequest returns a 400 BadRequestException.
func BadRequest(msg string) *Error { return &Error{http.StatusBadRequest, CodeBadRequest, msg} }

// Conflict returns a 409 ConflictException.
func Conflict(msg string) *Error { return &Error{http.StatusConflict, CodeConflict, msg} }

// TooManyRequests returns a 429 TooManyRequestsException.
func TooManyRequests(msg string) *Error {
	return &Error{http.StatusTooManyRequests, CodeTooManyRequests, msg}
}

// LimitExceeded returns a 429 LimitExceededException.
func LimitExceeded(msg string) *Error {
	return &Error{http.StatusTooManyRequests, CodeLimitExceeded, msg}
}

// Unauthorized returns a 401 UnauthorizedException.
func Unauthorized(msg string) *Error {
	return &Error{http.StatusUnauthorized, CodeUnauthorized, msg}
}

// AccessDenied returns a 403 AccessDeniedException.
func AccessDenied(msg string) *Error {
	return &Error{http.StatusForbidden, CodeAccessDenied, msg}
}

// ServiceUnavailable returns a 503 ServiceUnavailableException.
func ServiceUnavailable(msg string) *Error {
	return &Error{http.StatusServiceUnavailable, CodeServiceUnavailable, msg}
}

// WriteJSONError writes an AWS REST-JSON error response: Content-Type
// application/json, x-amzn-ErrorType: code, x-amzn-RequestId: requestID (when
// not empty) and the body {"message":"..."}.
//
// botocore's rest-json parser takes the error code from x-amzn-ErrorType
// (cutting anything after ':') and the message from the "message" or
// "Message" body key; the Go SDK reads the same header and keys.
func WriteJSONError(w http.ResponseWriter, status int, code, message, requestID string) {
	body := jsonMessageBody("message", message)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-Errortype", code)
	if requestID != "" {
		h.Set("X-Amzn-Requestid", requestID)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// jsonMessageBody returns {"<key>":<message as JSON string>} without the HTML
// escaping that encoding/json does by default (AWS does not escape <, >, &).
func jsonMessageBody(key, message string) []byte {
	var b bytes.Buffer
	b.Grow(len(key) + len(message) + 8)
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	b.WriteString(`{"`)
	b.WriteString(key)
	b.WriteString(`":`)
	_ = enc.Encode(message) // a string always encodes
	out := bytes.TrimRight(b.Bytes(), "\n")
	return append(out, '}')
}

// QueryAuthCode is the code an XML (query or REST-XML) protocol service — STS, Elastic
// Load Balancing, Route 53 — uses for a request-authentication error that the JSON
// services report with code (AWS's common errors: InvalidClientTokenId,
// SignatureDoesNotMatch, IncompleteSignature, MissingAuthenticationToken). Other codes are
// returned unchanged.
func QueryAuthCode(code string) string {
	switch code {
	case CodeUnrecognizedClient, CodeAccessDenied:
		return "InvalidClientTokenId"
	case CodeInvalidSignature:
		return "SignatureDoesNotMatch"
	case CodeIncompleteSignature:
		return "IncompleteSignature"
	case CodeMissingAuthenticationToken:
		return "MissingAuthenticationToken"
	}
	return code
}
