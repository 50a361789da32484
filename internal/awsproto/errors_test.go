package awsproto

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

func TestWriteJSONError(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		code, msg string
		requestID string
		body      string
	}{
		{"not found", 404, CodeNotFound, "Invalid API identifier specified 123456789012:abc", "5f0b7a3e-0000-4000-8000-000000000000",
			`{"message":"Invalid API identifier specified 123456789012:abc"}`},
		{"html characters are not escaped", 409, CodeConflict, `a & <b> "c"`, "id",
			`{"message":"a & <b> \"c\""}`},
		{"control characters and unicode", 400, CodeBadRequest, "line\nbreak\ttab é \u2028", "id",
			`{"message":"line\nbreak\ttab é \u2028"}`},
		{"no request id", 403, CodeMissingAuthenticationToken, "Missing Authentication Token", "",
			`{"message":"Missing Authentication Token"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			WriteJSONError(rec, tc.status, tc.code, tc.msg, tc.requestID)
			res := rec.Result()
			if res.StatusCode != tc.status {
				t.Errorf("status = %d", res.StatusCode)
			}
			if got := res.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type = %q", got)
			}
			if got := res.Header.Get("x-amzn-ErrorType"); got != tc.code {
				t.Errorf("x-amzn-ErrorType = %q", got)
			}
			if got, ok := res.Header["X-Amzn-Requestid"]; (tc.requestID == "") == ok || ok && got[0] != tc.requestID {
				t.Errorf("x-amzn-RequestId = %q", got)
			}
			if got := rec.Body.String(); got != tc.body {
				t.Errorf("body = %s, want %s", got, tc.body)
			}
			if got := res.Header.Get("Content-Length"); got != strconv.Itoa(len(tc.body)) {
				t.Errorf("Content-Length = %q", got)
			}
			var m map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil || m["message"] != tc.msg {
				t.Errorf("body does not decode to the message: %v %q", err, m)
			}
		})
	}
}

func TestErrorConstructors(t *testing.T) {
	tests := []struct {
		name   string
		err    *Error
		status int
		code   string
	}{
		{"NotFound", NotFound("m"), http.StatusNotFound, "NotFoundException"},
		{"BadRequest", BadRequest("m"), http.StatusBadRequest, "BadRequestException"},
		{"Conflict", Conflict("m"), http.StatusConflict, "ConflictException"},
		{"TooManyRequests", TooManyRequests("m"), http.StatusTooManyRequests, "TooManyRequestsException"},
		{"LimitExceeded", LimitExceeded("m"), http.StatusTooManyRequests, "LimitExceededException"},
		{"Unauthorized", Unauthorized("m"), http.StatusUnauthorized, "UnauthorizedException"},
		{"AccessDenied", AccessDenied("m"), http.StatusForbidden, "AccessDeniedException"},
		{"ServiceUnavailable", ServiceUnavailable("m"), http.StatusServiceUnavailable, "ServiceUnavailableException"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.err.Status != tc.status || tc.err.Code != tc.code || tc.err.Message != "m" {
				t.Errorf("got %+v", tc.err)
			}
			if got := tc.err.Error(); got != tc.code+": m" {
				t.Errorf("Error() = %q", got)
			}
			rec := httptest.NewRecorder()
			tc.err.Write(rec, "rid")
			if rec.Code != tc.status || rec.Header().Get("X-Amzn-Errortype") != tc.code || rec.Body.String() != `{"message":"m"}` {
				t.Errorf("Write: %d %v %s", rec.Code, rec.Header(), rec.Body)
			}
		})
	}
}
