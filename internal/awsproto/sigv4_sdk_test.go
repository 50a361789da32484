package awsproto

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestVerifyGoSDK signs requests with aws-sdk-go-v2's v4 signer and checks
// that Verify accepts them, both in-process and after a real HTTP round
// trip.
func TestVerifyGoSDK(t *testing.T) {
	w := newWire(t)
	base := w.srv.URL
	cases := []struct {
		name    string
		method  string
		path    string // path and query appended to the server URL
		body    []byte
		key     Key
		header  map[string][]string
		host    string // Host override
		payload string // X-Amz-Content-Sha256 header
		service string
	}{
		{name: "root", method: "GET", path: "/"},
		{name: "empty path", method: "GET", path: ""},
		{name: "stage path", method: "GET", path: "/dev/pets/1"},
		{name: "space in path", method: "GET", path: "/dev/a%20b/c%20%20d"},
		{name: "encoded slash", method: "GET", path: "/dev/mypath%2Fnext"},
		{name: "unicode path", method: "GET", path: "/dev/caf%C3%A9/%E2%82%AC/%F0%9F%90%88"},
		{name: "reserved chars in path", method: "GET", path: "/dev/a:b@c!d$e&f'g(h)i*j+k,l;m=n"},
		{name: "tilde and percent", method: "GET", path: "/dev/~user/100%25"},
		{name: "dot segments", method: "GET", path: "/dev/./a/../b"},
		{name: "double slash", method: "GET", path: "/dev//a///b/"},
		{name: "query repeated keys", method: "GET", path: "/dev/q?b=2&a=1&a=0&a=10"},
		{name: "query empty values", method: "GET", path: "/dev/q?empty=&flag&z=1"},
		{name: "query encoding", method: "GET", path: "/dev/q?sp=a%20b&plus=a+b&enc=%2F%3D%26&uni=%C3%A9&tilde=~&star=*&lower=%c3%a9"},
		{name: "query unicode key", method: "GET", path: "/dev/q?%C3%A9t%C3%A9=summer&k%20ey=v"},
		{name: "post json body", method: "POST", path: "/dev/pets", body: []byte(`{"name":"rex","tags":["a","b"]}`),
			header: map[string][]string{"Content-Type": {"application/json"}}},
		{name: "put binary body", method: "PUT", path: "/dev/blob", body: []byte{0, 1, 2, 0xff, '\n', 0x80}},
		{name: "unsigned payload", method: "PUT", path: "/dev/blob", body: []byte("not hashed"), payload: "UNSIGNED-PAYLOAD"},
		{name: "explicit payload hash", method: "POST", path: "/dev/x", body: []byte("abc"), payload: sha256Hex([]byte("abc"))},
		{name: "temporary key", method: "GET", path: "/dev/pets", key: tempKey},
		{name: "execute-api host", method: "GET", path: "/dev/pets", host: "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"},
		{name: "vpce host with api id header", method: "GET", path: "/dev/pets",
			host:   "vpce-01234567abcdef012-01234567.execute-api.us-east-1.vpce.amazonaws.com",
			header: map[string][]string{"X-Apigw-Api-Id": {"a1b2c3d4e5"}}},
		{name: "multi-valued header", method: "GET", path: "/dev/h",
			header: map[string][]string{"X-Multi": {"one", "  two  three  ", "four"}}},
		{name: "header spaces", method: "GET", path: "/dev/h",
			header: map[string][]string{"X-Spaces": {"  a   b    c  "}, "X-Empty": {""}}},
		{name: "delete", method: "DELETE", path: "/dev/pets/1"},
		{name: "patch control plane", method: "PATCH", path: "/restapis/a1b2c3d4e5",
			body: []byte(`{"patchOperations":[]}`), service: "apigateway"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key := tc.key
			if key.AccessKeyID == "" {
				key = longTermKey
			}
			service := tc.service
			if service == "" {
				service = "execute-api"
			}
			mk := func() (*http.Request, []byte) {
				req := newRequest(t, tc.method, base+tc.path, tc.body)
				for k, vs := range tc.header {
					for _, v := range vs {
						req.Header.Add(k, v)
					}
				}
				if tc.payload != "" {
					req.Header.Set("X-Amz-Content-Sha256", tc.payload)
				}
				if tc.host != "" {
					req.Host = tc.host
				}
				sdkSign(t, req, tc.body, key, service, "us-east-1", signTime)
				return req, tc.body
			}
			v := newTestVerifier(service, "us-east-1")
			id, err := verifyBoth(t, v, w, mk)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if id.Key != key || id.Service != service || id.Region != "us-east-1" || id.Date != "20240305" ||
				!id.Time.Equal(signTime) || id.Presigned {
				t.Errorf("identity = %+v", id)
			}
			if !slices.Contains(id.SignedHeaders, "host") || !slices.Contains(id.SignedHeaders, "x-amz-date") {
				t.Errorf("SignedHeaders = %v", id.SignedHeaders)
			}
		})
	}
}

// TestVerifyGoSDKPresigned checks the presigned query-string form made by
// aws-sdk-go-v2's PresignHTTP.
func TestVerifyGoSDKPresigned(t *testing.T) {
	w := newWire(t)
	cases := []struct {
		name string
		path string
		key  Key
	}{
		{name: "plain", path: "/dev/pets"},
		{name: "query and expires", path: "/dev/pets?b=2&a=1&a=&X-Amz-Expires=300"},
		{name: "encoded path", path: "/dev/mypath%2Fnext/caf%C3%A9"},
		{name: "temporary key", path: "/dev/pets?x=y", key: tempKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			key := tc.key
			if key.AccessKeyID == "" {
				key = longTermKey
			}
			mk := func() (*http.Request, []byte) {
				u := sdkPresign(t, newRequest(t, "GET", w.srv.URL+tc.path, nil), key, "execute-api", "us-east-1", signTime)
				if !strings.Contains(u, "X-Amz-Signature=") {
					t.Fatalf("not presigned: %s", u)
				}
				return newRequest(t, "GET", u, nil), nil
			}
			v := newTestVerifier("execute-api", "us-east-1")
			id, err := verifyBoth(t, v, w, mk)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if !id.Presigned || id.Key != key {
				t.Errorf("identity = %+v", id)
			}
		})
	}
}

// TestVerifyPresignedExpiry checks X-Amz-Expires on presigned URLs.
func TestVerifyPresignedExpiry(t *testing.T) {
	mk := func(expires string, now time.Time) error {
		req := newRequest(t, "GET", "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/dev/pets?X-Amz-Expires="+expires, nil)
		u := sdkPresign(t, req, longTermKey, "execute-api", "us-east-1", signTime)
		v := newTestVerifier("execute-api", "us-east-1")
		v.Now = func() time.Time { return now }
		_, err := v.Verify(newRequest(t, "GET", u, nil), nil)
		return err
	}
	tests := []struct {
		name    string
		expires string
		now     time.Time
		code    string
		msg     string
	}{
		{name: "within expiry", expires: "3600", now: signTime.Add(59 * time.Minute)},
		{name: "past expiry", expires: "3600", now: signTime.Add(61 * time.Minute), code: CodeInvalidSignature,
			msg: "Signature expired: 20240305T123456Z is now earlier than 20240305T123556Z (20240305T133556Z - 60 min.)"},
		{name: "odd seconds", expires: "90", now: signTime.Add(2 * time.Minute), code: CodeInvalidSignature,
			msg: "Signature expired: 20240305T123456Z is now earlier than 20240305T123526Z (20240305T123656Z - 90 sec.)"},
		{name: "not a number", expires: "soon", now: signTime, code: CodeIncompleteSignature,
			msg: "X-Amz-Expires should be a number. Re-examine the query-string parameters."},
		{name: "negative", expires: "-1", now: signTime, code: CodeIncompleteSignature,
			msg: "X-Amz-Expires must be non-negative. Re-examine the query-string parameters."},
		{name: "over a week", expires: "604801", now: signTime, code: CodeIncompleteSignature,
			msg: "X-Amz-Expires must be less than a week (in seconds) that is 604800. Re-examine the query-string parameters."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := mk(tc.expires, tc.now)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			e := asError(t, err)
			if e.Status != http.StatusForbidden || e.Code != tc.code || e.Message != tc.msg {
				t.Errorf("got %d %s %q\nwant 403 %s %q", e.Status, e.Code, e.Message, tc.code, tc.msg)
			}
		})
	}
}
