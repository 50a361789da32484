package function

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"strconv"
	"time"

	"gatehouse/internal/awsproto"
)

// AWS Lambda error codes (x-amzn-ErrorType) the host returns.
const (
	CodeResourceNotFound  = "ResourceNotFoundException"
	CodeTooManyRequests   = "TooManyRequestsException"
	CodeRequestTooLarge   = "RequestTooLargeException"
	CodeServiceException  = "ServiceException"
	reasonReservedLimit   = "ReservedFunctionConcurrentInvocationLimitExceeded"
	functionErrorUnhandle = "Unhandled"
)

// ErrClosed is returned by invocations that the Host's Close ended.
var ErrClosed = errors.New("function: host closed")

// ThrottleReason is the Reason AWS gives with a TooManyRequestsException for
// a function at its reserved concurrency.
const ThrottleReason = reasonReservedLimit

// notFound is AWS's ResourceNotFoundException for an unknown function.
func notFound(arn string) *awsproto.Error {
	return &awsproto.Error{Status: http.StatusNotFound, Code: CodeResourceNotFound, Message: "Function not found: " + arn}
}

// throttled is AWS's TooManyRequestsException for a function at its reserved
// concurrency (Reason ReservedFunctionConcurrentInvocationLimitExceeded).
func throttled() *awsproto.Error {
	return &awsproto.Error{Status: http.StatusTooManyRequests, Code: CodeTooManyRequests, Message: "Rate Exceeded."}
}

// tooLarge is AWS's RequestTooLargeException for an Invoke payload over 6 MB.
func tooLarge() *awsproto.Error {
	return &awsproto.Error{Status: http.StatusRequestEntityTooLarge, Code: CodeRequestTooLarge,
		Message: "Request must be smaller than " + strconv.Itoa(MaxPayloadSize) + " bytes for the InvokeFunction operation"}
}

// errorPayload is a function error in the shape the Lambda service itself
// writes: errorType before errorMessage, no stack trace.
func errorPayload(errType, msg string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"errorType":`)
	writeJSONString(&b, errType)
	b.WriteString(`,"errorMessage":`)
	writeJSONString(&b, msg)
	b.WriteByte('}')
	return b.Bytes()
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)       // a string always encodes
	b.Truncate(b.Len() - 1) // Encode's newline
}

// timedOutPayload is what Lambda returns for an invocation that ran past the
// function's timeout, e.g.
//
//	{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: 6c14aac6-... Error: Task timed out after 3.00 seconds"}
//
// (observed Invoke output, 2024-2025; older runtimes wrote only errorMessage
// as "<time> <request id> Task timed out after 3.00 seconds").
func timedOutPayload(requestID string, d time.Duration) []byte {
	return errorPayload("Sandbox.Timedout", fmt.Sprintf("RequestId: %s Error: Task timed out after %.2f seconds", requestID, d.Seconds()))
}

// exitPayload is Lambda's Runtime.ExitError for a runtime process that ended
// during an invocation, e.g.
//
//	{"errorType":"Runtime.ExitError","errorMessage":"RequestId: d42a... Error: Runtime exited with error: signal: killed"}
//
// A process that exits with status 0 "exited without providing a reason".
func exitPayload(requestID string, waitErr error) []byte {
	msg := "Runtime exited without providing a reason"
	var ee *exec.ExitError
	if errors.As(waitErr, &ee) {
		msg = "Runtime exited with error: " + ee.Error()
	} else if waitErr != nil {
		msg = "Runtime exited with error: " + waitErr.Error()
	}
	return errorPayload("Runtime.ExitError", "RequestId: "+requestID+" Error: "+msg)
}

// entrypointPayload is Lambda's Runtime.InvalidEntrypoint, returned when the
// runtime process cannot be started.
func entrypointPayload(requestID, msg string) []byte {
	return errorPayload("Runtime.InvalidEntrypoint", "RequestId: "+requestID+" Error: "+msg)
}

// responseTooLargePayload is Lambda's error for a function response over 6 MB.
func responseTooLargePayload(size int) []byte {
	return errorPayload("Function.ResponseSizeTooLarge",
		fmt.Sprintf("Response payload size (%d bytes) exceeded maximum allowed payload size (%d bytes).", size, MaxPayloadSize))
}
