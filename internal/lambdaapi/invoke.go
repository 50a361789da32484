package lambdaapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"gatehouse/internal/awsproto"
	"gatehouse/internal/function"
	"gatehouse/internal/policy"
)

// asyncMaxAge bounds how long an Event invocation may wait for a
// concurrency slot (AWS: maximum event age, 6 hours).
const asyncMaxAge = 6 * time.Hour

func (s *Server) invoke(c *call) error {
	t, err := s.resolve(c, true)
	if err != nil {
		return err
	}
	if t.rec.Account != c.caller.Account && !s.allowedAccount(t, c.caller.Account) {
		return &apiError{Status: http.StatusForbidden, Code: codeAccessDenied,
			Message: fmt.Sprintf("User: arn:aws:iam::%s:root is not authorized to perform: lambda:InvokeFunction on resource: %s because no resource-based policy allows the lambda:InvokeFunction action",
				c.caller.Account, t.arn)}
	}
	typ := c.r.Header.Get("X-Amz-Invocation-Type")
	if typ == "" {
		typ = invocationTypeSync
	}
	if typ != invocationTypeSync && typ != invocationTypeEvent && typ != invocationTypeDryRun {
		return errValidation(typ, "invocationType", "Member must satisfy enum value set: [Event, RequestResponse, DryRun]")
	}
	logType := c.r.Header.Get("X-Amz-Log-Type")
	if logType != "" && logType != "None" && logType != "Tail" {
		return errValidation(logType, "logType", "Member must satisfy enum value set: [None, Tail]")
	}
	payload := c.body
	if len(payload) == 0 {
		payload = []byte("{}")
	}
	if !json.Valid(payload) {
		var v any
		err := json.Unmarshal(payload, &v)
		return &apiError{Status: http.StatusBadRequest, Code: codeInvalidContent,
			Message: "Could not parse request body into json: Could not parse payload into json: " + err.Error()}
	}
	// The host may not have seen this node's or another node's write yet.
	if _, ok := s.host.Function(t.arn); !ok && !t.topology {
		if err := s.host.Put(t.rec.Function, t.rev); err != nil {
			return err
		}
	}
	h := c.w.Header()
	switch typ {
	case invocationTypeDryRun:
		c.w.WriteHeader(http.StatusNoContent)
		return nil
	case invocationTypeEvent:
		if len(payload) > maxAsyncPayload {
			return &apiError{Status: http.StatusRequestEntityTooLarge, Code: codeRequestTooLarge,
				Message: "Request must be smaller than " + strconv.Itoa(maxAsyncPayload) + " bytes for the InvokeFunction operation"}
		}
		select {
		case s.asyncSem <- struct{}{}:
		default:
			return &apiError{Status: http.StatusTooManyRequests, Code: codeTooManyRequests, Message: "Rate Exceeded."}
		}
		s.async.Add(1)
		go s.invokeAsync(t.arn, payload)
		h.Set("Content-Length", "0")
		c.w.WriteHeader(http.StatusAccepted)
		return nil
	}
	res, err := s.host.InvokeWith(c.ctx, t.arn, payload, function.InvokeOptions{
		LogTail:       logType == "Tail",
		ClientContext: c.r.Header.Get("X-Amz-Client-Context"),
	})
	if err != nil {
		return invokeError(err)
	}
	h.Set("Content-Type", "application/json")
	h.Set("X-Amz-Executed-Version", function.Version)
	if res.FunctionError != "" {
		h.Set("X-Amz-Function-Error", res.FunctionError)
	}
	if res.LogResult != "" {
		h.Set("X-Amz-Log-Result", res.LogResult)
	}
	h.Set("Content-Length", strconv.Itoa(len(res.Payload)))
	status := res.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	c.w.WriteHeader(status)
	_, _ = c.w.Write(res.Payload)
	return nil
}

// invokeError maps a Host error to the Invoke API's.
func invokeError(err error) error {
	var pe *awsproto.Error
	if errors.As(err, &pe) {
		ae := &apiError{Status: pe.Status, Code: pe.Code, Message: pe.Message}
		if pe.Code == codeTooManyRequests {
			ae.Reason = throttleReasonReserved
		}
		return ae
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return &apiError{Status: http.StatusInternalServerError, Code: codeService, Message: "The invocation did not complete: " + err.Error()}
	}
	return err
}

// invokeAsync runs an Event invocation, waiting for a concurrency slot as
// Lambda's internal queue does. Function errors are not retried.
func (s *Server) invokeAsync(arn string, payload []byte) {
	defer s.async.Done()
	defer func() { <-s.asyncSem }()
	ctx, cancel := context.WithTimeout(s.bg, asyncMaxAge)
	defer cancel()
	res, err := s.host.InvokeWith(ctx, arn, payload, function.InvokeOptions{Queue: true})
	switch {
	case err != nil:
		s.log.Debug("asynchronous invocation failed", "function", arn, "err", err)
	case res.FunctionError != "":
		s.log.Debug("asynchronous invocation ended with a function error", "function", arn, "requestId", res.RequestID)
	}
}

// allowedAccount reports whether the function's resource policy lets
// another account's principals invoke it.
func (s *Server) allowedAccount(t *target, account string) bool {
	p := t.rec.compiledPolicy(s.log)
	if p == nil {
		return false
	}
	return p.Evaluate(&policy.Request{
		Principal: policy.Principal{Account: account, ARN: "arn:aws:iam::" + account + ":root"},
		Action:    invokeAction,
		Resource:  t.arn,
	}) == policy.Allow
}
