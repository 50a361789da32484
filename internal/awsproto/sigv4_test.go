package awsproto

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

const testHost = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"

// signedGet returns a GET request signed by the Go SDK at when.
func signedGet(t testing.TB, url string, k Key, service, region string, when time.Time) *http.Request {
	t.Helper()
	req := newRequest(t, "GET", url, nil)
	sdkSign(t, req, nil, k, service, region, when)
	return req
}

// TestVerifyFailures covers each failure with AWS's exact code and message.
func TestVerifyFailures(t *testing.T) {
	url := "https://" + testHost + "/dev/pets?b=2&a=1"
	good := func(t *testing.T) *http.Request {
		return signedGet(t, url, longTermKey, "execute-api", "us-east-1", signTime)
	}
	authz := func(r *http.Request) string { return r.Header.Get("Authorization") }
	tests := []struct {
		name     string
		req      func(t *testing.T) *http.Request
		body     []byte
		verifier func(v *Verifier)
		status   int
		code     string
		msg      string // exact message; "" skips the check
		prefix   string // message prefix
	}{
		{
			name:   "missing authorization",
			req:    func(t *testing.T) *http.Request { return newRequest(t, "GET", url, nil) },
			status: 403, code: CodeMissingAuthenticationToken, msg: "Missing Authentication Token",
		},
		{
			name: "bearer token",
			req: func(t *testing.T) *http.Request {
				r := newRequest(t, "GET", url, nil)
				r.Header.Set("Authorization", "Bearer x")
				return r
			},
			status: 403, code: CodeIncompleteSignature,
			msg: "'x' not a valid key=value pair (missing equal-sign) in Authorization header: 'Bearer x'.",
		},
		{
			name: "bearer token, hashed form",
			req: func(t *testing.T) *http.Request {
				r := newRequest(t, "GET", url, nil)
				r.Header.Set("Authorization", "Bearer x")
				return r
			},
			verifier: func(v *Verifier) { v.HashAuthorization = true },
			status:   403, code: CodeIncompleteSignature,
			msg: "Invalid key=value pair (missing equal-sign) in Authorization header (hashed with SHA-256 and encoded with Base64): '" +
				hashHeader("Bearer x") + "'.",
		},
		{
			name: "missing parameters, hashed form",
			req: func(t *testing.T) *http.Request {
				r := newRequest(t, "GET", url, nil)
				r.Header.Set("Authorization", "token")
				return r
			},
			verifier: func(v *Verifier) { v.HashAuthorization = true },
			status:   403, code: CodeIncompleteSignature,
			msg: "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. " +
				"Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either " +
				"a 'X-Amz-Date' or a 'Date' header. (Hashed with SHA-256 and encoded with Base64) Authorization=" + hashHeader("token"),
		},
		{
			name: "jwt without scheme",
			req: func(t *testing.T) *http.Request {
				r := newRequest(t, "GET", url, nil)
				r.Header.Set("Authorization", "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.e30.sig")
				return r
			},
			status: 403, code: CodeIncompleteSignature,
			msg: "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. " +
				"Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either " +
				"a 'X-Amz-Date' or a 'Date' header. Authorization=eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.e30.sig",
		},
		{
			name: "basic auth with padding",
			req: func(t *testing.T) *http.Request {
				r := newRequest(t, "GET", url, nil)
				r.Header.Set("Authorization", "Basic ZWxhc3RpYzpwYXNz==")
				r.Header.Set("X-Amz-Date", "20240305T123456Z")
				return r
			},
			status: 403, code: CodeIncompleteSignature,
			msg: "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. " +
				"Authorization header requires 'SignedHeaders' parameter. Authorization=Basic ZWxhc3RpYzpwYXNz==",
		},
		{
			name: "missing signature parameter",
			req: func(t *testing.T) *http.Request {
				r := good(t)
				h := authz(r)
				r.Header.Set("Authorization", h[:strings.Index(h, ", Signature=")])
				return r
			},
			status: 403, code: CodeIncompleteSignature, prefix: "Authorization header requires 'Signature' parameter. Authorization=AWS4-HMAC-SHA256 Credential=",
		},
		{
			name: "missing date headers",
			req: func(t *testing.T) *http.Request {
				r := good(t)
				r.Header.Del("X-Amz-Date")
				return r
			},
			status: 403, code: CodeIncompleteSignature,
			prefix: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240305/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=",
		},
		{
			name: "bad date format",
			req: func(t *testing.T) *http.Request {
				r := good(t)
				r.Header.Set("X-Amz-Date", "2024-03-05T12:34:56Z")
				return r
			},
			status: 403, code: CodeIncompleteSignature,
			msg: "Date must be in ISO-8601 'basic format'. Got '2024-03-05T12:34:56Z'. See http://en.wikipedia.org/wiki/ISO_8601",
		},
		{
			name:   "tampered signature",
			req:    func(t *testing.T) *http.Request { return tamperSignature(t, good(t)) },
			status: 403, code: CodeInvalidSignature,
			prefix: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\nThe Canonical String for this request should have been\n'GET\n/dev/pets\na=1&b=2\nhost:" + testHost + "\n",
		},
		{
			name: "wrong secret",
			req: func(t *testing.T) *http.Request {
				k := longTermKey
				k.Secret = "not-the-secret"
				return signedGet(t, url, k, "execute-api", "us-east-1", signTime)
			},
			status: 403, code: CodeInvalidSignature, prefix: msgSignatureMismatch,
		},
		{
			name: "tampered path",
			req: func(t *testing.T) *http.Request {
				r := good(t)
				r.URL.Path = "/dev/admin"
				return r
			},
			status: 403, code: CodeInvalidSignature, prefix: msgSignatureMismatch,
		},
		{
			name: "tampered query",
			req: func(t *testing.T) *http.Request {
				r := good(t)
				r.URL.RawQuery = "a=1&b=3"
				return r
			},
			status: 403, code: CodeInvalidSignature, prefix: msgSignatureMismatch,
		},
		{
			name: "tampered body",
			req: func(t *testing.T) *http.Request {
				r := newRequest(t, "POST", url, []byte("original"))
				sdkSign(t, r, []byte("original"), longTermKey, "execute-api", "us-east-1", signTime)
				return r
			},
			body:   []byte("tampered"),
			status: 403, code: CodeInvalidSignature, prefix: msgSignatureMismatch,
		},
		{
			name: "tampered signed header",
			req: func(t *testing.T) *http.Request {
				r := newRequest(t, "GET", url, nil)
				r.Header.Set("X-Api-Key", "one")
				sdkSign(t, r, nil, longTermKey, "execute-api", "us-east-1", signTime)
				r.Header.Set("X-Api-Key", "two")
				return r
			},
			status: 403, code: CodeInvalidSignature, prefix: msgSignatureMismatch,
		},
		{
			name: "wrong service",
			req: func(t *testing.T) *http.Request {
				return signedGet(t, url, longTermKey, "lambda", "us-east-1", signTime)
			},
			status: 403, code: CodeInvalidSignature, msg: "Credential should be scoped to correct service: 'execute-api'. ",
		},
		{
			name: "wrong region",
			req: func(t *testing.T) *http.Request {
				return signedGet(t, url, longTermKey, "execute-api", "eu-west-1", signTime)
			},
			status: 403, code: CodeInvalidSignature, msg: "Credential should be scoped to a valid region. ",
		},
		{
			name:   "wrong region and service",
			req:    func(t *testing.T) *http.Request { return signedGet(t, url, longTermKey, "es", "eu-west-1", signTime) },
			status: 403, code: CodeInvalidSignature,
			msg: "Credential should be scoped to a valid region. Credential should be scoped to correct service: 'execute-api'. ",
		},
		{
			name: "wrong terminator",
			req: func(t *testing.T) *http.Request {
				r := good(t)
				r.Header.Set("Authorization", strings.Replace(authz(r), "aws4_request", "aws5_request", 1))
				return r
			},
			status: 403, code: CodeInvalidSignature,
			msg: "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'. ",
		},
		{
			name: "scope date differs from x-amz-date",
			req: func(t *testing.T) *http.Request {
				r := good(t)
				r.Header.Set("X-Amz-Date", "20240306T000100Z")
				return r
			},
			verifier: func(v *Verifier) {
				v.Now = func() time.Time { return time.Date(2024, 3, 6, 0, 2, 0, 0, time.UTC) }
			},
			status: 403, code: CodeInvalidSignature,
			msg: "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20240305' != '20240306', from '20240306T000100Z'.",
		},
		{
			name: "expired",
			req:  func(t *testing.T) *http.Request { return good(t) },
			verifier: func(v *Verifier) {
				v.Now = func() time.Time { return signTime.Add(5*time.Minute + time.Second) }
			},
			status: 403, code: CodeInvalidSignature,
			msg: "Signature expired: 20240305T123456Z is now earlier than 20240305T123457Z (20240305T123957Z - 5 min.)",
		},
		{
			name:     "exactly five minutes old is accepted",
			req:      func(t *testing.T) *http.Request { return good(t) },
			verifier: func(v *Verifier) { v.Now = func() time.Time { return signTime.Add(5 * time.Minute) } },
		},
		{
			name: "future",
			req:  func(t *testing.T) *http.Request { return good(t) },
			verifier: func(v *Verifier) {
				v.Now = func() time.Time { return signTime.Add(-5*time.Minute - time.Second) }
			},
			status: 403, code: CodeInvalidSignature,
			msg: "Signature not yet current: 20240305T123456Z is still later than 20240305T123455Z (20240305T122955Z + 5 min.)",
		},
		{
			name: "custom skew",
			req:  func(t *testing.T) *http.Request { return good(t) },
			verifier: func(v *Verifier) {
				v.Skew = 15 * time.Minute
				v.Now = func() time.Time { return signTime.Add(16 * time.Minute) }
			},
			status: 403, code: CodeInvalidSignature,
			msg: "Signature expired: 20240305T123456Z is now earlier than 20240305T123556Z (20240305T125056Z - 15 min.)",
		},
		{
			name: "unknown access key",
			req: func(t *testing.T) *http.Request {
				k := longTermKey
				k.AccessKeyID = "AKIDUNKNOWN"
				return signedGet(t, url, k, "execute-api", "us-east-1", signTime)
			},
			status: 403, code: CodeUnrecognizedClient, msg: "The security token included in the request is invalid.",
		},
		{
			name: "unknown access key on the data plane",
			req: func(t *testing.T) *http.Request {
				k := longTermKey
				k.AccessKeyID = "AKIDUNKNOWN"
				return signedGet(t, url, k, "execute-api", "us-east-1", signTime)
			},
			verifier: func(v *Verifier) { v.InvalidKeyCode = CodeAccessDenied },
			status:   403, code: CodeAccessDenied, msg: "The security token included in the request is invalid.",
		},
		{
			name:     "nil lookup",
			req:      good,
			verifier: func(v *Verifier) { v.Lookup = nil },
			status:   403, code: CodeUnrecognizedClient, msg: "The security token included in the request is invalid.",
		},
		{
			name: "temporary key without token",
			req: func(t *testing.T) *http.Request {
				k := tempKey
				k.SessionToken = ""
				return signedGet(t, url, k, "execute-api", "us-east-1", signTime)
			},
			status: 403, code: CodeUnrecognizedClient, msg: "The security token included in the request is invalid.",
		},
		{
			name: "temporary key with wrong token",
			req: func(t *testing.T) *http.Request {
				k := tempKey
				k.SessionToken = "forged"
				return signedGet(t, url, k, "execute-api", "us-east-1", signTime)
			},
			status: 403, code: CodeUnrecognizedClient, msg: "The security token included in the request is invalid.",
		},
		{
			name: "long-term key with a token",
			req: func(t *testing.T) *http.Request {
				k := longTermKey
				k.SessionToken = "unexpected"
				return signedGet(t, url, k, "execute-api", "us-east-1", signTime)
			},
			status: 403, code: CodeUnrecognizedClient, msg: "The security token included in the request is invalid.",
		},
		{
			name: "host not signed",
			req: func(t *testing.T) *http.Request {
				r := good(t)
				r.Header.Set("Authorization", strings.Replace(authz(r), "SignedHeaders=host;x-amz-date", "SignedHeaders=x-amz-date", 1))
				return r
			},
			status: 403, code: CodeInvalidSignature, msg: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
		},
		{
			name: "unsupported algorithm",
			req: func(t *testing.T) *http.Request {
				r := good(t)
				r.Header.Set("Authorization", strings.Replace(authz(r), "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512", 1))
				return r
			},
			status: 403, code: CodeIncompleteSignature,
			msg: "Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512' (only AWS4-HMAC-SHA256 for now). ",
		},
		{
			name: "credential with four parts",
			req: func(t *testing.T) *http.Request {
				r := good(t)
				r.Header.Set("Authorization", strings.Replace(authz(r), "/execute-api/", "/", 1))
				return r
			},
			status: 403, code: CodeIncompleteSignature,
			msg: "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIDEXAMPLE/20240305/us-east-1/aws4_request'",
		},
		{
			name: "header and query signature",
			req: func(t *testing.T) *http.Request {
				r := good(t)
				r.URL.RawQuery += "&X-Amz-Algorithm=AWS4-HMAC-SHA256"
				return r
			},
			status: 403, code: CodeInvalidSignature,
			msg: "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.",
		},
		{
			name: "presigned missing parameters",
			req: func(t *testing.T) *http.Request {
				return newRequest(t, "GET", "https://"+testHost+"/dev?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20240305T123456Z", nil)
			},
			status: 403, code: CodeIncompleteSignature,
			msg: "AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string parameters must include 'X-Amz-Signature'. " +
				"AWS query-string parameters must include 'X-Amz-SignedHeaders'. Re-examine the query-string parameters.",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newTestVerifier("execute-api", "us-east-1")
			if tc.verifier != nil {
				tc.verifier(v)
			}
			id, err := v.Verify(tc.req(t), tc.body)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if id != nil || err == nil {
				t.Fatalf("Verify succeeded: %+v", id)
			}
			e := asError(t, err)
			if e.Status != tc.status || e.Code != tc.code {
				t.Errorf("got %d %s, want %d %s (%q)", e.Status, e.Code, tc.status, tc.code, e.Message)
			}
			if tc.msg != "" && e.Message != tc.msg {
				t.Errorf("message:\n got %q\nwant %q", e.Message, tc.msg)
			}
			if tc.prefix != "" && !strings.HasPrefix(e.Message, tc.prefix) {
				t.Errorf("message:\n got %q\nwant prefix %q", e.Message, tc.prefix)
			}
		})
	}
}

func tamperSignature(t testing.TB, r *http.Request) *http.Request {
	t.Helper()
	h := r.Header.Get("Authorization")
	last := h[len(h)-1]
	repl := byte('0')
	if last == '0' {
		repl = '1'
	}
	r.Header.Set("Authorization", h[:len(h)-1]+string(repl))
	return r
}

// TestSignatureMismatchMessage checks the whole InvalidSignatureException
// text, including the doubly encoded canonical path.
func TestSignatureMismatchMessage(t *testing.T) {
	r := signedGet(t, "https://"+testHost+"/dev/mypath%2Fnext?b=2&a=1", longTermKey, "execute-api", "us-east-1", signTime)
	r = tamperSignature(t, r)
	_, err := newTestVerifier("execute-api", "us-east-1").Verify(r, nil)
	canonical := "GET\n/dev/mypath%252Fnext\na=1&b=2\nhost:" + testHost + "\nx-amz-date:20240305T123456Z\n\nhost;x-amz-date\n" + sha256Hex(nil)
	sum := sha256.Sum256([]byte(canonical))
	sts := "AWS4-HMAC-SHA256\n20240305T123456Z\n20240305/us-east-1/execute-api/aws4_request\n" + hex.EncodeToString(sum[:])
	want := "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.\n\n" +
		"The Canonical String for this request should have been\n'" + canonical + "'\n\n" +
		"The String-to-Sign should have been\n'" + sts + "'\n"
	if e := asError(t, err); e.Message != want {
		t.Errorf("message:\n got %q\nwant %q", e.Message, want)
	}
}

// TestVerifyDateHeader checks a signature dated by the Date header instead
// of X-Amz-Date (the string to sign uses its ISO 8601 basic form).
func TestVerifyDateHeader(t *testing.T) {
	r := newRequest(t, "GET", "https://"+testHost+"/dev/pets", nil)
	sdkSign(t, r, nil, longTermKey, "execute-api", "us-east-1", signTime)
	// Re-sign by hand: replace x-amz-date by date in the signed headers.
	r.Header.Del("X-Amz-Date")
	r.Header.Set("Date", signTime.Format(http.TimeFormat))
	canonical := "GET\n/dev/pets\n\ndate:" + signTime.Format(http.TimeFormat) + "\nhost:" + testHost + "\n\ndate;host\n" + sha256Hex(nil)
	sum := sha256.Sum256([]byte(canonical))
	sts := []byte("AWS4-HMAC-SHA256\n20240305T123456Z\n20240305/us-east-1/execute-api/aws4_request\n" + hex.EncodeToString(sum[:]))
	key := deriveSigningKey(longTermKey.Secret, "20240305", "us-east-1", "execute-api")
	sig := signWithKey(&key, append(make([]byte, 64), sts...))
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240305/us-east-1/execute-api/aws4_request, SignedHeaders=date;host, Signature="+string(sig[:]))
	id, err := newTestVerifier("execute-api", "us-east-1").Verify(r, nil)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !id.Time.Equal(signTime) {
		t.Errorf("Time = %v", id.Time)
	}
}

// TestVerifyConcurrent runs verifications in parallel (for -race) over
// several keys so the signing-key cache is read and written concurrently.
func TestVerifyConcurrent(t *testing.T) {
	v := newTestVerifier("execute-api", "")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			region := []string{"us-east-1", "eu-west-1", "ap-south-1", "us-west-2"}[i%4]
			for range 50 {
				r := signedGet(t, "https://"+testHost+"/dev/pets?i=1", longTermKey, "execute-api", region, signTime)
				if _, err := v.Verify(r, nil); err != nil {
					t.Errorf("Verify: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestSigningKeyCacheBounded(t *testing.T) {
	var c signingKeyCache
	for i := range maxSigningKeys + 10 {
		date := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i).Format("20060102")
		want := deriveSigningKey("secret", date, "us-east-1", "execute-api")
		if got := c.get("secret", date, "us-east-1", "execute-api"); got != want {
			t.Fatalf("key %d differs", i)
		}
	}
	if n := len(c.keys); n > maxSigningKeys {
		t.Errorf("cache holds %d keys, bound is %d", n, maxSigningKeys)
	}
}

func TestParseAuthorization(t *testing.T) {
	tests := []struct {
		name string
		h    string
		want Authorization
		msg  string
	}{
		{
			name: "sdk form",
			h:    "AWS4-HMAC-SHA256 Credential=AKID/20240305/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcd",
			want: Authorization{"AWS4-HMAC-SHA256", "AKID/20240305/us-east-1/execute-api/aws4_request", "host;x-amz-date", "abcd"},
		},
		{
			name: "no spaces after commas and extra blanks",
			h:    "  AWS4-HMAC-SHA256 Credential=A/B/C/D/E,SignedHeaders=host ,  Signature = ff ,",
			want: Authorization{"AWS4-HMAC-SHA256", "A/B/C/D/E", "host", "ff"},
		},
		{
			name: "last value wins and unknown keys are ignored",
			h:    "AWS4-HMAC-SHA256 Credential=x, Credential=A/B/C/D/E, Foo=bar, SignedHeaders=host, Signature=1",
			want: Authorization{"AWS4-HMAC-SHA256", "A/B/C/D/E", "host", "1"},
		},
		{
			name: "bearer",
			h:    "Bearer abc.def.ghi",
			msg:  "'abc.def.ghi' not a valid key=value pair (missing equal-sign) in Authorization header: 'Bearer abc.def.ghi'.",
		},
		{
			name: "missing all",
			h:    "AWS4-HMAC-SHA256",
			msg:  "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256",
		},
		{
			name: "empty signature counts as missing",
			h:    "AWS4-HMAC-SHA256 Credential=A/B/C/D/E, SignedHeaders=host, Signature=",
			msg:  "Authorization header requires 'Signature' parameter. Authorization=AWS4-HMAC-SHA256 Credential=A/B/C/D/E, SignedHeaders=host, Signature=",
		},
		{
			name: "empty signed headers is allowed here",
			h:    "AWS4-HMAC-SHA256 Credential=A/B/C/D/E, SignedHeaders=, Signature=1",
			want: Authorization{"AWS4-HMAC-SHA256", "A/B/C/D/E", "", "1"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAuthorization(tc.h)
			if tc.msg != "" {
				e := asError(t, err)
				if e.Code != CodeIncompleteSignature || e.Status != 403 || e.Message != tc.msg {
					t.Errorf("got %d %s %q\nwant %q", e.Status, e.Code, e.Message, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAuthorization: %v", err)
			}
			if got != tc.want {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseCredential(t *testing.T) {
	tests := []struct {
		in   string
		want Scope
		ok   bool
	}{
		{"AKID/20240305/us-east-1/execute-api/aws4_request", Scope{"AKID", "20240305", "us-east-1", "execute-api", "aws4_request"}, true},
		{"AKID/20240305/us-east-1/execute-api/aws4_request//", Scope{"AKID", "20240305", "us-east-1", "execute-api", "aws4_request"}, true},
		{"a//c/d/e", Scope{"a", "", "c", "d", "e"}, true},
		{"a/b/c/d", Scope{}, false},
		{"a/b/c/d/e/f", Scope{}, false},
		{"", Scope{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, ok := ParseCredential(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Errorf("ParseCredential(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
	if s := (Scope{"A", "20240305", "r", "s", "aws4_request"}).String(); s != "20240305/r/s/aws4_request" {
		t.Errorf("Scope.String = %q", s)
	}
}

func TestCanonicalPieces(t *testing.T) {
	t.Run("path", func(t *testing.T) {
		for in, want := range map[string]string{
			"/dev/mypath%2Fnext": "/dev/mypath%252Fnext",
			"/a b":               "/a%20b",
			"/caf%C3%A9":         "/caf%25C3%25A9",
			"/-._~":              "/-._~",
			"/a:b@c":             "/a%3Ab%40c",
		} {
			if got := string(appendURIEncoded(nil, in, true)); got != want {
				t.Errorf("%q: got %q want %q", in, got, want)
			}
		}
	})
	t.Run("normalize", func(t *testing.T) {
		for in, want := range map[string]string{
			"":               "/",
			"/":              "/",
			"/a/b":           "/a/b",
			"/a//b/":         "/a/b/",
			"/a/./b/../c":    "/a/c",
			"/../a":          "/a",
			"/a/..":          "/",
			"/.well-known/x": "/.well-known/x",
		} {
			if got := normalizePath(in); got != want {
				t.Errorf("%q: got %q want %q", in, got, want)
			}
		}
	})
	t.Run("query", func(t *testing.T) {
		for in, want := range map[string]string{
			"":                         "",
			"b=2&a=1":                  "a=1&b=2",
			"a=2&a=10&a=1":             "a=1&a=10&a=2",
			"flag&empty=":              "empty=&flag=",
			"sp=a+b&x=a%20b":           "sp=a%20b&x=a%20b",
			"x=%2f%7e%41":              "x=%2F~A",
			"x=*!'()":                  "x=%2A%21%27%28%29",
			"x=%zz%":                   "x=%25zz%25",
			"&&a=1&&":                  "a=1",
			"X-Amz-Signature=abc&a=1":  "X-Amz-Signature=abc&a=1",
			"%C3%A9=1&e=2":             "%C3%A9=1&e=2",
			"k=v=w":                    "k=v%3Dw",
			"uni=\xc3\xa9":             "uni=%C3%A9",
			"a;b=c":                    "a%3Bb=c",
			"b=%E2%82%AC&a=%E2%82%AC1": "a=%E2%82%AC1&b=%E2%82%AC",
		} {
			got, _ := appendCanonicalQuery(nil, in, false, nil)
			if string(got) != want {
				t.Errorf("%q: got %q want %q", in, got, want)
			}
		}
		got, _ := appendCanonicalQuery(nil, "X-Amz-Signature=abc&a=1", true, nil)
		if string(got) != "a=1" {
			t.Errorf("presigned: got %q", got)
		}
	})
	t.Run("header value", func(t *testing.T) {
		for in, want := range map[string]string{
			"  a   b  ": "a b",
			"a\tb":      "a\tb",
			"":          "",
			"x":         "x",
		} {
			if got := string(appendHeaderValue(nil, in)); got != want {
				t.Errorf("%q: got %q want %q", in, got, want)
			}
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	r := newRequest(b, "GET", "https://"+testHost+"/dev/pets/123?limit=10&type=dog", nil)
	r.Header.Set("Accept", "application/json")
	r.Header.Set("User-Agent", "bench")
	sdkSign(b, r, nil, longTermKey, "execute-api", "us-east-1", signTime)
	v := newTestVerifier("execute-api", "us-east-1")
	if _, err := v.Verify(r, nil); err != nil {
		b.Fatal(err)
	}
	b.Run("get", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(r, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	body := []byte(strings.Repeat(`{"name":"rex","tags":["a","b"]}`, 32))
	p := newRequest(b, "POST", "https://"+testHost+"/dev/pets", body)
	p.Header.Set("Content-Type", "application/json")
	sdkSign(b, p, body, longTermKey, "execute-api", "us-east-1", signTime)
	b.Run("post-1KiB", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Verify(p, body); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestQueryHasKey(t *testing.T) {
	tests := []struct {
		q    string
		want bool
	}{
		{"X-Amz-Algorithm=AWS4-HMAC-SHA256", true},
		{"a=1&X-Amz-Algorithm", true},
		{"a=1&X-Amz-Algorithm=&b", true},
		{"q=X-Amz-Algorithm", false},
		{"aX-Amz-Algorithm=1", false},
		{"aaX-Amz-AlgorithmX-Amz-Algorithm", false},
		{"X-Amz-Algorithms=1", false},
		{"", false},
	}
	for _, tc := range tests {
		if got := queryHasKey(tc.q, "X-Amz-Algorithm"); got != tc.want {
			t.Errorf("queryHasKey(%q) = %v, want %v", tc.q, got, tc.want)
		}
	}
}

// TestVerifyAllocations pins the allocation budget of a verification that
// hits the signing-key cache: the Identity and its SignedHeaders slice.
func TestVerifyAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts differ under -race")
	}
	r := newRequest(t, "GET", "https://"+testHost+"/dev/pets/123?limit=10&type=dog", nil)
	r.Header.Set("Accept", "application/json")
	sdkSign(t, r, nil, longTermKey, "execute-api", "us-east-1", signTime)
	v := newTestVerifier("execute-api", "us-east-1")
	if n := testing.AllocsPerRun(200, func() {
		if _, err := v.Verify(r, nil); err != nil {
			t.Fatal(err)
		}
	}); n > 2 {
		t.Errorf("Verify allocates %v times per call, want at most 2", n)
	}
}

func TestHashHeader(t *testing.T) {
	// printf 'Bearer x' | openssl dgst -sha256 -binary | base64
	if got, want := hashHeader("Bearer x"), "uTem/WB082UJMN2ajD6lH6UChGpTAddMJSx2iu923No="; got != want {
		t.Errorf("hashHeader = %q, want %q", got, want)
	}
}
