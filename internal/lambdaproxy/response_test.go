package lambdaproxy

import (
	"errors"
	"net/http"
	"reflect"
	"testing"
)

// Sources of the expectations below:
//
//	DG      AWS developer guide, set-up-lambda-proxy-integrations.md ("Output
//	        format of a Lambda function for proxy integration") and
//	        handle-errors-in-lambda-integration.md.
//	LS-AWS  LocalStack tests recorded against real AWS:
//	        tests/aws/services/apigateway/test_apigateway_lambda.py
//	        ::test_lambda_aws_proxy_response_format (handler
//	        lambda_aws_proxy_format.py: "no-body", "only-headers",
//	        "wrong-format", "empty-response").
//	LS      LocalStack's implementation (next_gen/execute_api/integrations/
//	        aws.py RestApiAwsProxyIntegration.parse_lambda_response and
//	        _is_lambda_response_valid), not itself recorded against AWS.
//	OBS     Widely reported real-world behaviour (e.g. "Malformed Lambda proxy
//	        response" when body is an object), aws-reference §6.6.
//	GH      gatehouse's own choice where no source settles it.
func TestParseResponse(t *testing.T) {
	json := "application/json"
	tests := []struct {
		name    string
		payload string
		fnErr   string
		status  int
		headers http.Header
		body    string
		b64     bool
		wantErr bool
	}{
		// --- valid shapes ---
		{name: "full response (DG)", payload: `{"isBase64Encoded":false,"statusCode":201,"headers":{"X-A":"1"},"multiValueHeaders":{"X-B":["2","3"]},"body":"hi"}`,
			status: 201, headers: http.Header{"X-A": {"1"}, "X-B": {"2", "3"}, "Content-Type": {json}}, body: "hi"},
		{name: "statusCode only: no-body (LS-AWS)", payload: `{"statusCode":200}`,
			status: 200, headers: http.Header{"Content-Type": {json}}},
		{name: "only-headers (LS-AWS)", payload: `{"statusCode":200,"headers":{"test-header":"value"}}`,
			status: 200, headers: http.Header{"Test-Header": {"value"}, "Content-Type": {json}}},
		{name: "empty object is 200 with an empty body: empty-response (LS-AWS)", payload: `{}`,
			status: 200, headers: http.Header{"Content-Type": {json}}},
		{name: "statusCode as a numeric string (DG: statusCode number; LS accepts int(str))", payload: `{"statusCode":"404","body":"nf"}`,
			status: 404, headers: http.Header{"Content-Type": {json}}, body: "nf"},
		{name: "statusCode as an integral float (LS int(200.0); GH)", payload: `{"statusCode":200.0}`,
			status: 200, headers: http.Header{"Content-Type": {json}}},
		{name: "multiValueHeaders win over headers on the same key (DG)", payload: `{"headers":{"x-a":"single","x-c":"c"},"multiValueHeaders":{"X-A":["m1","m2"]}}`,
			status: 200, headers: http.Header{"X-A": {"m1", "m2"}, "X-C": {"c"}, "Content-Type": {json}}},
		{name: "function sets Content-Type (DG)", payload: `{"headers":{"content-type":"text/plain"},"body":"x"}`,
			status: 200, headers: http.Header{"Content-Type": {"text/plain"}}, body: "x"},
		{name: "boolean header values become true/false (LS)", payload: `{"headers":{"X-T":true,"X-F":false},"multiValueHeaders":{"X-M":[true,"s"]}}`,
			status: 200, headers: http.Header{"X-T": {"true"}, "X-F": {"false"}, "X-M": {"true", "s"}, "Content-Type": {json}}},
		{name: "null members count as absent (LS: .get() or default)", payload: `{"statusCode":null,"headers":null,"multiValueHeaders":null,"body":null,"isBase64Encoded":null}`,
			status: 200, headers: http.Header{"Content-Type": {json}}},
		{name: "isBase64Encoded body is kept for BodyBytes (DG binary)", payload: `{"statusCode":200,"isBase64Encoded":true,"body":"aGk="}`,
			status: 200, headers: http.Header{"Content-Type": {json}}, body: "aGk=", b64: true},
		{name: "empty multiValueHeaders list drops the header (GH)", payload: `{"headers":{"X-A":"1"},"multiValueHeaders":{"X-A":[]}}`,
			status: 200, headers: http.Header{"Content-Type": {json}}},
		{name: "invalid header names are dropped (GH)", payload: `{"headers":{"bad name":"1","ok":"2"}}`,
			status: 200, headers: http.Header{"Ok": {"2"}, "Content-Type": {json}}},

		// --- 502 shapes ---
		{name: "unknown top-level key: wrong-format (LS-AWS)", payload: `{"statusCode":200,"wrongValue":"value"}`, wantErr: true},
		{name: "function error, X-Amz-Function-Error set (LS, DG error handling)", payload: `{"errorMessage":"boom","errorType":"Error"}`, fnErr: "Unhandled", wantErr: true},
		{name: "error document without the function-error flag: unknown keys (LS)", payload: `{"errorMessage":"boom"}`, wantErr: true},
		{name: "non-JSON output (LS, aws-reference §6.6)", payload: `this is not json {`, wantErr: true},
		{name: "empty output (LS json.loads fails)", payload: ``, wantErr: true},
		{name: "JSON string (LS: not a dict)", payload: `"Hello from Lambda!"`, wantErr: true},
		{name: "JSON null, a handler returning nothing (LS: not a dict)", payload: `null`, wantErr: true},
		{name: "JSON array (LS: not a dict)", payload: `[{"statusCode":200}]`, wantErr: true},
		{name: "trailing data after the object (GH)", payload: `{"statusCode":200} {}`, wantErr: true},
		{name: "statusCode not numeric (LS int() fails)", payload: `{"statusCode":"abc"}`, wantErr: true},
		{name: "statusCode boolean (GH)", payload: `{"statusCode":true}`, wantErr: true},
		{name: "statusCode fractional (GH)", payload: `{"statusCode":200.5}`, wantErr: true},
		{name: "statusCode out of range (GH: not writable as HTTP)", payload: `{"statusCode":99}`, wantErr: true},
		{name: "statusCode 600 (GH)", payload: `{"statusCode":600}`, wantErr: true},
		{name: "statusCode string with spaces (GH)", payload: `{"statusCode":" 200"}`, wantErr: true},
		{name: "body as an object (OBS: body must be a string)", payload: `{"statusCode":200,"body":{"a":1}}`, wantErr: true},
		{name: "body as a number (OBS)", payload: `{"statusCode":200,"body":42}`, wantErr: true},
		{name: "headers not an object (LS)", payload: `{"headers":["a"]}`, wantErr: true},
		{name: "header value a number (LS: str or bool only)", payload: `{"headers":{"X-N":1}}`, wantErr: true},
		{name: "header value an object (LS)", payload: `{"headers":{"X-O":{"a":"b"}}}`, wantErr: true},
		{name: "header value null (LS: not str)", payload: `{"headers":{"X-O":null}}`, wantErr: true},
		{name: "multiValueHeaders value not a list (GH)", payload: `{"multiValueHeaders":{"X-A":"1"}}`, wantErr: true},
		{name: "multiValueHeaders list with a number (GH)", payload: `{"multiValueHeaders":{"X-A":[1]}}`, wantErr: true},
		{name: "isBase64Encoded as a string (GH)", payload: `{"isBase64Encoded":"true","body":"aGk="}`, wantErr: true},
		{name: "cookies key is payload 2.0 only (LS: unknown key)", payload: `{"statusCode":200,"cookies":["a=b"]}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseResponse([]byte(tt.payload), tt.fnErr)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("got %+v, want an error (502)", r)
				}
				var pe *Error
				if !errors.As(err, &pe) {
					t.Fatalf("error %T %v is not an *Error", err, err)
				}
				if errors.Is(err, ErrFunction) != (tt.fnErr != "") {
					t.Fatalf("errors.Is(err, ErrFunction) = %v", errors.Is(err, ErrFunction))
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseResponse: %v", err)
			}
			if r.StatusCode != tt.status || r.Body != tt.body || r.IsBase64Encoded != tt.b64 || !reflect.DeepEqual(r.Headers, tt.headers) {
				t.Fatalf("got %d %v %q b64=%v\nwant %d %v %q b64=%v", r.StatusCode, r.Headers, r.Body, r.IsBase64Encoded,
					tt.status, tt.headers, tt.body, tt.b64)
			}
		})
	}
}

func TestBodyBytes(t *testing.T) {
	tests := []struct {
		name    string
		resp    Response
		accept  string
		types   []string
		want    string
		wantErr bool
	}{
		{name: "text body", resp: Response{Body: "hi"}, want: "hi"},
		{name: "base64 decoded when the first Accept type is binary", resp: Response{Body: "aGk=", IsBase64Encoded: true},
			accept: "image/png, text/html", types: []string{"image/*"}, want: "hi"},
		{name: "base64 text kept when Accept does not match", resp: Response{Body: "aGk=", IsBase64Encoded: true},
			accept: "text/html, image/png", types: []string{"image/png"}, want: "aGk="},
		{name: "*/* binary type decodes everything", resp: Response{Body: "aGk=", IsBase64Encoded: true},
			accept: "text/html", types: []string{"*/*"}, want: "hi"},
		{name: "no binary types: base64 text kept", resp: Response{Body: "aGk=", IsBase64Encoded: true}, accept: "image/png", want: "aGk="},
		{name: "invalid base64 is a 502", resp: Response{Body: "***", IsBase64Encoded: true}, accept: "image/png",
			types: []string{"image/png"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.resp.BodyBytes(tt.accept, tt.types)
			if (err != nil) != tt.wantErr || string(got) != tt.want {
				t.Fatalf("BodyBytes = %q, %v; want %q (error %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func FuzzParseResponse(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"statusCode":200,"headers":{"a":"b"},"multiValueHeaders":{"a":["c"]},"body":"x","isBase64Encoded":true}`,
		`{"statusCode":"201"}`, `null`, `[]`, `"s"`, `{"statusCode":1e400}`, `{"headers":{"":""}}`, `{"statusCode":-0}`,
		`{"multiValueHeaders":{"a":[null]}}`, `{"body":"\ud800"}`,
	} {
		f.Add([]byte(s), "")
	}
	f.Add([]byte(`{"errorMessage":"x"}`), "Unhandled")
	f.Fuzz(func(t *testing.T, payload []byte, fnErr string) {
		r, err := ParseResponse(payload, fnErr)
		if err != nil {
			return
		}
		if fnErr != "" {
			t.Fatal("a function error was accepted")
		}
		if r.StatusCode < 100 || r.StatusCode > 599 {
			t.Fatalf("status %d", r.StatusCode)
		}
		if r.Headers.Get("Content-Type") == "" {
			t.Fatal("no Content-Type")
		}
		for k := range r.Headers {
			if !validHeaderName(k) {
				t.Fatalf("invalid header name %q", k)
			}
		}
		_, _ = r.BodyBytes("*/*", []string{"*/*"})
	})
}
