package awsproto

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/smithy-go"
)

// controlPlaneStub is a tiny apigateway endpoint built only from this
// package: SigV4 verification, WriteJSONError, pagination parsing and ids.
// Real AWS clients talk to it in the tests below.
type controlPlaneStub struct {
	srv *httptest.Server

	mu       sync.Mutex
	segments [][]string // decoded path segments of GetResource calls
	limits   []int
}

func newControlPlaneStub(t *testing.T) *controlPlaneStub {
	s := &controlPlaneStub{}
	v := &Verifier{Lookup: lookupTestKey, Service: "apigateway", Region: "us-east-1"}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqID := NewRequestID()
		body, _ := io.ReadAll(r.Body)
		if _, err := v.Verify(r, body); err != nil {
			err.(*Error).Write(w, reqID)
			return
		}
		var segs []string
		for seg := range strings.SplitSeq(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/") {
			u, err := url.PathUnescape(seg)
			if err != nil {
				BadRequest("bad path").Write(w, reqID)
				return
			}
			segs = append(segs, u)
		}
		writeJSON := func(status int, v any) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Amzn-Requestid", reqID)
			w.WriteHeader(status)
			_ = json.NewEncoder(w).Encode(v)
		}
		switch {
		case r.Method == "GET" && len(segs) == 1 && segs[0] == "restapis":
			limit, err := ParseLimit(r.URL.Query().Get("limit"))
			if err != nil {
				err.(*Error).Write(w, reqID)
				return
			}
			if _, err := DecodePosition(r.URL.Query().Get("position")); err != nil {
				err.(*Error).Write(w, reqID)
				return
			}
			s.mu.Lock()
			s.limits = append(s.limits, limit)
			s.mu.Unlock()
			writeJSON(200, map[string]any{"item": []any{}, "position": EncodePosition("last-key")})
		case r.Method == "GET" && len(segs) == 2 && segs[0] == "restapis":
			NotFound("Invalid API identifier specified 123456789012:"+segs[1]).Write(w, reqID)
		case r.Method == "GET" && len(segs) == 4 && segs[2] == "resources":
			s.mu.Lock()
			s.segments = append(s.segments, segs)
			s.mu.Unlock()
			writeJSON(200, map[string]any{"id": segs[3], "path": "/"})
		case r.Method == "POST" && len(segs) == 1 && segs[0] == "restapis":
			var in struct{ Name string }
			_ = json.Unmarshal(body, &in)
			Conflict("Unable to create API: "+in.Name+" already exists").Write(w, reqID)
		default:
			NotFound("no route").Write(w, reqID)
		}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// TestGoSDKClient drives the stub with the aws-sdk-go-v2 apigateway client.
func TestGoSDKClient(t *testing.T) {
	stub := newControlPlaneStub(t)
	client := func(k Key) *apigateway.Client {
		return apigateway.New(apigateway.Options{
			Region:       "us-east-1",
			BaseEndpoint: aws.String(stub.srv.URL),
			Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{AccessKeyID: k.AccessKeyID, SecretAccessKey: k.Secret, SessionToken: k.SessionToken}, nil
			}),
			Retryer:    aws.NopRetryer{},
			HTTPClient: stub.srv.Client(),
		})
	}
	ctx := context.Background()

	t.Run("get rest apis", func(t *testing.T) {
		out, err := client(longTermKey).GetRestApis(ctx, &apigateway.GetRestApisInput{Limit: aws.Int32(5), Position: aws.String("cG9z")})
		if err != nil {
			t.Fatalf("GetRestApis: %v", err)
		}
		if got, _ := DecodePosition(aws.ToString(out.Position)); got != "last-key" {
			t.Errorf("position = %q", aws.ToString(out.Position))
		}
	})
	t.Run("temporary key", func(t *testing.T) {
		if _, err := client(tempKey).GetRestApis(ctx, &apigateway.GetRestApisInput{}); err != nil {
			t.Fatalf("GetRestApis: %v", err)
		}
	})
	t.Run("escaped path parameters", func(t *testing.T) {
		if _, err := client(longTermKey).GetResource(ctx, &apigateway.GetResourceInput{
			RestApiId: aws.String("a b"), ResourceId: aws.String("x/y\u00e9"),
		}); err != nil {
			t.Fatalf("GetResource: %v", err)
		}
		stub.mu.Lock()
		defer stub.mu.Unlock()
		last := stub.segments[len(stub.segments)-1]
		if last[1] != "a b" || last[3] != "x/y\u00e9" {
			t.Errorf("server saw %q", last)
		}
	})
	t.Run("not found", func(t *testing.T) {
		_, err := client(longTermKey).GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: aws.String("missing")})
		var nf *types.NotFoundException
		if !errors.As(err, &nf) {
			t.Fatalf("err = %v (%T), want NotFoundException", err, err)
		}
		if nf.ErrorMessage() != "Invalid API identifier specified 123456789012:missing" {
			t.Errorf("message = %q", nf.ErrorMessage())
		}
	})
	t.Run("bad limit", func(t *testing.T) {
		_, err := client(longTermKey).GetRestApis(ctx, &apigateway.GetRestApisInput{Limit: aws.Int32(0)})
		var br *types.BadRequestException
		if !errors.As(err, &br) {
			t.Fatalf("err = %v, want BadRequestException", err)
		}
	})
	t.Run("conflict keeps special characters", func(t *testing.T) {
		_, err := client(longTermKey).CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("pets & <stuff>")})
		var ce *types.ConflictException
		if !errors.As(err, &ce) {
			t.Fatalf("err = %v, want ConflictException", err)
		}
		if ce.ErrorMessage() != "Unable to create API: pets & <stuff> already exists" {
			t.Errorf("message = %q", ce.ErrorMessage())
		}
	})
	for _, tc := range []struct {
		name string
		key  Key
		code string
	}{
		{"unknown key", Key{AccessKeyID: "AKIDUNKNOWN", Secret: "x"}, CodeUnrecognizedClient},
		{"wrong secret", Key{AccessKeyID: longTermKey.AccessKeyID, Secret: "wrong"}, CodeInvalidSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client(tc.key).GetRestApis(ctx, &apigateway.GetRestApisInput{})
			var api smithy.APIError
			if !errors.As(err, &api) || api.ErrorCode() != tc.code {
				t.Fatalf("err = %v, want %s", err, tc.code)
			}
		})
	}
}

// TestBoto3Client drives the stub with a real boto3 apigateway client.
func TestBoto3Client(t *testing.T) {
	py := requireBotocore(t)
	stub := newControlPlaneStub(t)
	cmd := exec.Command(py, "testdata/botocore_sign.py", "client", stub.srv.URL)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("boto3 client: %v\n%s", err, stderr.String())
	}
	type result struct {
		Name      string `json:"name"`
		OK        bool   `json:"ok"`
		Code      string `json:"code"`
		Message   string `json:"message"`
		Status    int    `json:"status"`
		RequestID string `json:"request_id"`
	}
	got := map[string]result{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var r result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("decode %q: %v", sc.Text(), err)
		}
		got[r.Name] = r
	}
	want := []result{
		{Name: "get_rest_apis", OK: true, Status: 200},
		{Name: "get_rest_api_missing", Code: "NotFoundException", Status: 404,
			Message: "Invalid API identifier specified 123456789012:missing"},
		{Name: "get_resource_escaped", OK: true, Status: 200},
		{Name: "get_rest_apis_bad_limit", Code: "BadRequestException", Status: 400},
		{Name: "create_rest_api", Code: "ConflictException", Status: 409,
			Message: "Unable to create API: pets & <stuff> already exists"},
		{Name: "temporary_key", OK: true, Status: 200},
		{Name: "unknown_key", Code: "UnrecognizedClientException", Status: 403,
			Message: "The security token included in the request is invalid."},
		{Name: "wrong_secret", Code: "InvalidSignatureException", Status: 403},
	}
	for _, w := range want {
		t.Run(w.Name, func(t *testing.T) {
			g, ok := got[w.Name]
			if !ok {
				t.Fatalf("no result for %s", w.Name)
			}
			if g.OK != w.OK || g.Status != w.Status || g.Code != w.Code {
				t.Errorf("got %+v, want %+v", g, w)
			}
			if w.Message != "" && g.Message != w.Message {
				t.Errorf("message = %q, want %q", g.Message, w.Message)
			}
			if !g.OK && len(g.RequestID) != 36 {
				t.Errorf("request id = %q", g.RequestID)
			}
		})
	}
	stub.mu.Lock()
	defer stub.mu.Unlock()
	if len(stub.segments) != 1 || stub.segments[0][1] != "a b" || stub.segments[0][3] != "x/y\u00e9" {
		t.Errorf("GetResource path segments = %q", stub.segments)
	}
	if len(stub.limits) == 0 || stub.limits[0] != 5 {
		t.Errorf("limits = %v", stub.limits)
	}
}
