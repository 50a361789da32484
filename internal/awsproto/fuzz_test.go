package awsproto

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{
		"",
		"Bearer x",
		"AWS4-HMAC-SHA256 Credential=AKID/20240305/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=abcd",
		"AWS4-HMAC-SHA256 Credential=a,,,Signature==,SignedHeaders",
		"Basic ZWxhc3RpYzpwYXNz==",
		"  ,=, = ",
		"AWS4-HMAC-SHA256\tCredential=x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		a, err := ParseAuthorization(h)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeIncompleteSignature || e.Status != http.StatusForbidden {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if a.Credential == "" || a.Signature == "" {
			t.Fatalf("accepted %q without Credential or Signature: %+v", h, a)
		}
		if s, ok := ParseCredential(a.Credential); ok && s.AccessKeyID+"/"+s.String() != strings.TrimRight(a.Credential, "/") {
			t.Fatalf("ParseCredential(%q) = %+v does not round-trip", a.Credential, s)
		}
		_ = a.SignedHeaderList()
	})
}

// FuzzVerify feeds random requests to Verify (it must not panic and must
// return *Error), then signs a request built from the same random parts with
// the aws-sdk-go-v2 signer and requires Verify to accept it.
func FuzzVerify(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240305/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date;x-custom, Signature=00",
		"20240305T123456Z", "/dev/a%20b", "b=2&a=1&X-Amz-Algorithm", "X-Custom", "  v  w ", []byte("body"))
	f.Add("Bearer x", "", "/", "", "Accept", "*/*", []byte(nil))
	f.Add("", "20240305T123456Z", "/dev/mypath%2Fnext/../x//y", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a%2Fb&X-Amz-Date=20240305T123456Z&X-Amz-SignedHeaders=host&X-Amz-Signature=1&X-Amz-Expires=9", "X-A", "", []byte{0xff})
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240305/us-east-1/execute-api/aws4_request, SignedHeaders=, Signature=1",
		"20240305T123456Z", "/caf%C3%A9", "%zz=%&+=+&a;b", "x-lower", "\u00e9", []byte("{}"))
	v := newTestVerifier("execute-api", "us-east-1")

	f.Fuzz(func(t *testing.T, authz, amzDate, path, rawQuery, hname, hval string, body []byte) {
		// Part 1: an arbitrary request, built without URL parsing.
		r := &http.Request{
			Method:     "POST",
			URL:        &url.URL{Path: path, RawQuery: rawQuery},
			Host:       testHost,
			Header:     http.Header{},
			RequestURI: path + "?" + rawQuery,
		}
		if authz != "" {
			r.Header["Authorization"] = []string{authz}
		}
		if amzDate != "" {
			r.Header["X-Amz-Date"] = []string{amzDate}
		}
		r.Header[hname] = []string{hval}
		if id, err := v.Verify(r, body); err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status != http.StatusForbidden || e.Code == "" || e.Message == "" {
				t.Fatalf("unexpected error %#v", err)
			}
		} else if id == nil {
			t.Fatal("nil identity without error")
		}

		// Part 2: the same parts, signed by the Go SDK, must verify.
		if !strings.HasPrefix(path, "/") || !validToken(hname) || !validFieldValue(hval) || reservedHeader(hname) {
			return
		}
		req, err := http.NewRequest("POST", "https://"+testHost+path+"?"+rawQuery, strings.NewReader(string(body)))
		if err != nil || req.URL.Host != testHost {
			return
		}
		req.Header.Set(hname, hval)
		sdkSign(t, req, body, longTermKey, "execute-api", "us-east-1", signTime)
		if queryHasKey(req.URL.RawQuery, "X-Amz-Algorithm") {
			return // header and query signature together: rightly rejected
		}
		if _, err := v.Verify(req, body); err != nil {
			t.Fatalf("SDK-signed request rejected: %v\nURL %q RawPath %q header %q=%q", err, req.URL.String(), req.URL.RawPath, hname, hval)
		}
		// And a changed body must not.
		if _, err := v.Verify(req, append(body, 'x')); err == nil {
			t.Fatal("tampered body accepted")
		}
	})
}

func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

func validFieldValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// reservedHeader reports headers that the signer or net/http treat
// specially, which a fuzzed header must not overwrite.
func reservedHeader(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "authorization", "host", "content-length", "transfer-encoding", "date", "user-agent", "expect":
		return true
	}
	return strings.HasPrefix(n, "x-amz-") || strings.HasPrefix(n, "x-amzn-trace-id")
}
