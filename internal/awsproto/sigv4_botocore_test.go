package awsproto

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"testing"
)

// requireBotocore skips the test when python3 or botocore is missing.
func requireBotocore(t *testing.T) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	if out, err := exec.Command(py, "-c", "import botocore, boto3").CombinedOutput(); err != nil {
		t.Skipf("botocore/boto3 not importable: %v: %s", err, out)
	}
	return py
}

type botoCase struct {
	Name      string      `json:"name"`
	Method    string      `json:"method"`
	URL       string      `json:"url"`
	Headers   [][2]string `json:"headers"`
	Body      string      `json:"body"` // base64
	Service   string      `json:"service,omitempty"`
	Region    string      `json:"region,omitempty"`
	AccessKey string      `json:"access_key,omitempty"`
	Secret    string      `json:"secret,omitempty"`
	Token     string      `json:"token,omitempty"`
	Presign   bool        `json:"presign,omitempty"`
	Expires   int         `json:"expires,omitempty"`
}

// botocoreSign signs cases with botocore at signTime and returns the
// requests it produced, by name.
func botocoreSign(t *testing.T, py string, cases []botoCase) map[string]botoCase {
	t.Helper()
	spec, err := json.Marshal(map[string]any{"time": signTime.Format(isoBasic), "cases": cases})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "testdata/botocore_sign.py", "sign")
	cmd.Stdin = bytes.NewReader(spec)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("botocore_sign.py: %v\n%s", err, stderr.String())
	}
	var signed []botoCase
	if err := json.Unmarshal(out, &signed); err != nil {
		t.Fatalf("decode botocore output: %v\n%s", err, out)
	}
	m := make(map[string]botoCase, len(signed))
	for _, c := range signed {
		m[c.Name] = c
	}
	return m
}

// TestVerifyBotocore signs requests with botocore's SigV4Auth and
// SigV4QueryAuth and checks that Verify accepts them, in-process and after a
// real HTTP round trip.
func TestVerifyBotocore(t *testing.T) {
	py := requireBotocore(t)
	w := newWire(t)
	base := w.srv.URL
	json64 := base64.StdEncoding.EncodeToString([]byte(`{"name": "rex", "tags": ["a", "b"]}`))
	cases := []botoCase{
		{Name: "root", Method: "GET", URL: base + "/"},
		{Name: "space in path", Method: "GET", URL: base + "/dev/a%20b/c%20%20d"},
		{Name: "encoded slash", Method: "GET", URL: base + "/dev/mypath%2Fnext"},
		{Name: "unicode path", Method: "GET", URL: base + "/dev/caf%C3%A9/%E2%82%AC/%F0%9F%90%88"},
		{Name: "dot segments", Method: "GET", URL: base + "/dev/./a/../b"},
		{Name: "double slash", Method: "GET", URL: base + "/dev//a///b/"},
		{Name: "query repeated keys", Method: "GET", URL: base + "/dev/q?b=2&a=1&a=0&a=10"},
		{Name: "query empty values", Method: "GET", URL: base + "/dev/q?empty=&flag&z=1"},
		{Name: "query encoding", Method: "GET", URL: base + "/dev/q?sp=a%20b&enc=%2F%3D%26&uni=%C3%A9&tilde=~&star=%2A"},
		{Name: "query unicode key", Method: "GET", URL: base + "/dev/q?%C3%A9t%C3%A9=summer&k%20ey=v"},
		{Name: "post json body", Method: "POST", URL: base + "/dev/pets", Body: json64,
			Headers: [][2]string{{"Content-Type", "application/json"}}},
		{Name: "put binary body", Method: "PUT", URL: base + "/dev/blob",
			Body: base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 0xff, '\n', 0x80})},
		{Name: "unsigned payload", Method: "PUT", URL: base + "/dev/blob", Body: json64,
			Headers: [][2]string{{"X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD"}}},
		{Name: "temporary key", Method: "GET", URL: base + "/dev/pets",
			AccessKey: tempKey.AccessKeyID, Secret: tempKey.Secret, Token: tempKey.SessionToken},
		{Name: "date header", Method: "GET", URL: base + "/dev/pets",
			Headers: [][2]string{{"Date", "replaced by botocore"}}},
		{Name: "execute-api host", Method: "GET", URL: base + "/dev/pets",
			Headers: [][2]string{{"Host", testHost}}},
		{Name: "multi-valued header", Method: "GET", URL: base + "/dev/h",
			Headers: [][2]string{{"X-Multi", "one"}, {"X-Multi", "  two  three  "}, {"X-Spaces", "  a   b    c  "}}},
		{Name: "control plane", Method: "GET", URL: base + "/restapis/a1b2c3d4e5/resources/x%2Fy?embed=methods&limit=10",
			Service: "apigateway"},
		{Name: "presigned", Method: "GET", URL: base + "/dev/pets?x=1&y=&z=a%20b", Presign: true, Expires: 300},
		{Name: "presigned temporary key", Method: "GET", URL: base + "/dev/caf%C3%A9", Presign: true, Expires: 60,
			AccessKey: tempKey.AccessKeyID, Secret: tempKey.Secret, Token: tempKey.SessionToken},
	}
	for i := range cases {
		c := &cases[i]
		if c.Service == "" {
			c.Service = "execute-api"
		}
		c.Region = "us-east-1"
		if c.AccessKey == "" {
			c.AccessKey, c.Secret = longTermKey.AccessKeyID, longTermKey.Secret
		}
	}
	signed := botocoreSign(t, py, cases)

	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			s, ok := signed[tc.Name]
			if !ok {
				t.Fatalf("botocore did not sign %q", tc.Name)
			}
			body, err := base64.StdEncoding.DecodeString(s.Body)
			if err != nil {
				t.Fatal(err)
			}
			mk := func() (*http.Request, []byte) {
				var b []byte
				if len(body) > 0 {
					b = body
				}
				req := newRequest(t, s.Method, s.URL, b)
				for _, h := range s.Headers {
					if strings.EqualFold(h[0], "Host") {
						req.Host = h[1]
						continue
					}
					req.Header.Add(h[0], h[1])
				}
				return req, b
			}
			if req, _ := mk(); tc.Presign != (req.Header.Get("Authorization") == "") {
				t.Fatalf("unexpected form: presign=%v, Authorization=%q", tc.Presign, req.Header.Get("Authorization"))
			}
			v := newTestVerifier(tc.Service, "us-east-1")
			id, err := verifyBoth(t, v, w, mk)
			if err != nil {
				t.Fatalf("Verify: %v\nbotocore request: %+v", err, s)
			}
			if id.Key.AccessKeyID != tc.AccessKey || id.Presigned != tc.Presign || !id.Time.Equal(signTime) {
				t.Errorf("identity = %+v", id)
			}
		})
	}
}
