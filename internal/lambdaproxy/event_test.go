package lambdaproxy

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

var reqTime = time.Date(2024, 7, 10, 12, 28, 36, 123_000_000, time.UTC)

// publicInput mirrors the request of the AWS-recorded LocalStack snapshot
// test_apigateway_lambda.py::test_lambda_aws_proxy_integration
// "invocation-payload-with-params-encoding-multi" (CloudFront headers left
// out): POST /test/test-path?category=electronics&category=books&price=10&price=20&price=30.
func publicInput() EventInput {
	return EventInput{
		Resource:   "/{proxy+}",
		Path:       "/test-path",
		HTTPMethod: "POST",
		Headers: http.Header{
			"Accept":        {"*/*"},
			"Authorization": {"Bearer token123;API key456"},
			"Content-Type":  {"application/json;charset=utf-8"},
			"Host":          {"abc1234567.execute-api.us-east-1.amazonaws.com"},
			"User-Agent":    {"python-requests/testing"},
		},
		RawQuery:       "category=electronics&category=books&price=10&price=20&price=30",
		PathParameters: map[string]string{"proxy": "test-path"},
		Body:           []byte(`{"message": "hello world"}`),
		RequestContext: RequestContext{
			AccountID:         "111111111111",
			APIID:             "abc1234567",
			ResourceID:        "r1s2t3",
			Stage:             "test",
			DeploymentID:      "d3p4l5",
			RequestID:         "c2fc2e4d-8082-4375-a923-e7c4fddbf51a",
			ExtendedRequestID: "QmOw7G1BIAMFYJQ=",
			RequestTime:       reqTime,
			DomainName:        "abc1234567.execute-api.us-east-1.amazonaws.com",
			Identity:          Identity{SourceIP: "203.0.113.7", UserAgent: "python-requests/testing"},
		},
	}
}

func TestBuildEventMatchesAWS(t *testing.T) {
	got, err := BuildEvent(publicInput())
	if err != nil {
		t.Fatal(err)
	}
	// Expected, from the snapshot with its placeholders filled in.
	want := `{
	  "resource": "/{proxy+}",
	  "path": "/test-path",
	  "httpMethod": "POST",
	  "headers": {"Accept": "*/*", "Authorization": "Bearer token123;API key456", "Content-Type": "application/json;charset=utf-8",
	              "Host": "abc1234567.execute-api.us-east-1.amazonaws.com", "User-Agent": "python-requests/testing"},
	  "multiValueHeaders": {"Accept": ["*/*"], "Authorization": ["Bearer token123;API key456"], "Content-Type": ["application/json;charset=utf-8"],
	              "Host": ["abc1234567.execute-api.us-east-1.amazonaws.com"], "User-Agent": ["python-requests/testing"]},
	  "queryStringParameters": {"category": "books", "price": "30"},
	  "multiValueQueryStringParameters": {"category": ["electronics", "books"], "price": ["10", "20", "30"]},
	  "pathParameters": {"proxy": "test-path"},
	  "stageVariables": null,
	  "requestContext": {
	    "resourceId": "r1s2t3",
	    "resourcePath": "/{proxy+}",
	    "httpMethod": "POST",
	    "extendedRequestId": "QmOw7G1BIAMFYJQ=",
	    "requestTime": "10/Jul/2024:12:28:36 +0000",
	    "path": "/test/test-path",
	    "accountId": "111111111111",
	    "protocol": "HTTP/1.1",
	    "stage": "test",
	    "domainPrefix": "abc1234567",
	    "requestTimeEpoch": 1720614516123,
	    "requestId": "c2fc2e4d-8082-4375-a923-e7c4fddbf51a",
	    "identity": {"cognitoIdentityPoolId": null, "accountId": null, "cognitoIdentityId": null, "caller": null,
	                 "sourceIp": "203.0.113.7", "principalOrgId": null, "accessKey": null, "cognitoAuthenticationType": null,
	                 "cognitoAuthenticationProvider": null, "userArn": null, "userAgent": "python-requests/testing", "user": null},
	    "domainName": "abc1234567.execute-api.us-east-1.amazonaws.com",
	    "deploymentId": "d3p4l5",
	    "apiId": "abc1234567"
	  },
	  "body": "{\"message\": \"hello world\"}",
	  "isBase64Encoded": false
	}`
	assertJSONEqual(t, got, want)
	// Key order as AWS writes it.
	order := []string{`"resource"`, `"path"`, `"httpMethod"`, `"headers"`, `"multiValueHeaders"`, `"queryStringParameters"`,
		`"multiValueQueryStringParameters"`, `"pathParameters"`, `"stageVariables"`, `"requestContext"`, `"body"`, `"isBase64Encoded"`}
	last := -1
	for _, k := range order {
		i := strings.Index(string(got), k+":")
		if i < last {
			t.Fatalf("key %s out of order in %s", k, got)
		}
		last = i
	}
}

func TestBuildEventCases(t *testing.T) {
	latency := int64(12)
	tests := []struct {
		name  string
		edit  func(in *EventInput)
		check map[string]any // JSON path (dot-separated) -> expected value (nil = JSON null, absent = "<absent>")
	}{
		{
			name: "no query, path parameters, stage variables or body: null (AWS snapshot, GET /test-path)",
			edit: func(in *EventInput) {
				in.HTTPMethod, in.RawQuery, in.PathParameters, in.Body = "GET", "", nil, nil
			},
			check: map[string]any{
				"queryStringParameters": nil, "multiValueQueryStringParameters": nil, "pathParameters": nil,
				"stageVariables": nil, "body": nil, "isBase64Encoded": false, "requestContext.authorizer": "<absent>",
			},
		},
		{
			name: "query decoding: + is a space, %2B is + (AWS snapshot params-encoding)",
			edit: func(in *EventInput) {
				in.RawQuery = "email=test%2Balias@gmail.com&plus=test+alias@gmail.com&whitespace=foo%20bar&url=https://www.google.com/&bad=%zz&flag"
			},
			check: map[string]any{
				"queryStringParameters.email":      "test+alias@gmail.com",
				"queryStringParameters.plus":       "test alias@gmail.com",
				"queryStringParameters.whitespace": "foo bar",
				"queryStringParameters.url":        "https://www.google.com/",
				"queryStringParameters.bad":        "%zz",
				"queryStringParameters.flag":       "",
			},
		},
		{
			name: "path keeps the received encoding (AWS snapshot path-encoded-email)",
			edit: func(in *EventInput) {
				in.Path = "/test-path/api/user/test%2Balias@gmail.com/plus/test+alias@gmail.com"
			},
			check: map[string]any{
				"path":                "/test-path/api/user/test%2Balias@gmail.com/plus/test+alias@gmail.com",
				"requestContext.path": "/test/test-path/api/user/test%2Balias@gmail.com/plus/test+alias@gmail.com",
			},
		},
		{
			name: "repeated header: last value in headers, all in multiValueHeaders (DG)",
			edit: func(in *EventInput) { in.Headers["X-Multi"] = []string{"a", "b"} },
			check: map[string]any{
				"headers.X-Multi":           "b",
				"multiValueHeaders.X-Multi": []any{"a", "b"},
			},
		},
		{
			name: "private API through a VPC endpoint (aws-reference §1.3, observed event)",
			edit: func(in *EventInput) {
				in.RequestContext.Identity.VpcID = "vpc-0aaaaaaaaaaaaaaa1"
				in.RequestContext.Identity.VpceID = "vpce-0aaaaaaaaaaaaaaa1"
				in.TLSVersion, in.CipherSuite = "TLSv1.3", "TLS_AES_128_GCM_SHA256"
			},
			check: map[string]any{
				"requestContext.identity.vpcId":  "vpc-0aaaaaaaaaaaaaaa1",
				"requestContext.identity.vpceId": "vpce-0aaaaaaaaaaaaaaa1",
				"headers.X-Amzn-Vpc-Id":          "vpc-0aaaaaaaaaaaaaaa1",
				"headers.X-Amzn-Vpce-Id":         "vpce-0aaaaaaaaaaaaaaa1",
				"headers.X-Amzn-Vpce-Config":     "1",
				"headers.X-Amzn-Tls-Version":     "TLSv1.3",
				"headers.X-Amzn-Cipher-Suite":    "TLS_AES_128_GCM_SHA256",
				"headers.X-Forwarded-For":        "203.0.113.7",
			},
		},
		{
			name: "public API: no vpcId/vpceId keys (AWS snapshot)",
			check: map[string]any{
				"requestContext.identity.vpcId":  "<absent>",
				"requestContext.identity.vpceId": "<absent>",
				"requestContext.identity.apiKey": "<absent>",
			},
		},
		{
			name: "IAM caller and API key (DG identity keys)",
			edit: func(in *EventInput) {
				id := &in.RequestContext.Identity
				id.AccountID, id.Caller, id.User, id.UserArn, id.AccessKey = "222222222222", "AIDAEXAMPLE", "AIDAEXAMPLE",
					"arn:aws:iam::222222222222:user/alice", "AKIAEXAMPLE"
				id.APIKey, id.APIKeyID = "key-value-0123456789", "kid123"
			},
			check: map[string]any{
				"requestContext.identity.accountId": "222222222222",
				"requestContext.identity.userArn":   "arn:aws:iam::222222222222:user/alice",
				"requestContext.identity.accessKey": "AKIAEXAMPLE",
				"requestContext.identity.apiKey":    "key-value-0123456789",
				"requestContext.identity.apiKeyId":  "kid123",
			},
		},
		{
			name: "Lambda authorizer: principalId and context (DG, observed event)",
			edit: func(in *EventInput) {
				in.RequestContext.Authorizer = &Authorizer{PrincipalID: "user-1",
					Context: map[string]any{"tier": "gold", "n": 3, "ok": true}, IntegrationLatency: &latency}
			},
			check: map[string]any{
				"requestContext.authorizer.principalId":        "user-1",
				"requestContext.authorizer.tier":               "gold",
				"requestContext.authorizer.n":                  float64(3),
				"requestContext.authorizer.ok":                 true,
				"requestContext.authorizer.integrationLatency": float64(12),
			},
		},
		{
			name: "Cognito authorizer claims (DG)",
			edit: func(in *EventInput) {
				in.RequestContext.Authorizer = &Authorizer{Claims: map[string]any{"sub": "abc"}}
			},
			check: map[string]any{"requestContext.authorizer.claims.sub": "abc"},
		},
		{
			name: "binary body per binaryMediaTypes is base64 (DG payload encodings)",
			edit: func(in *EventInput) {
				in.Headers.Set("Content-Type", "image/png")
				in.BinaryMediaTypes = []string{"image/*"}
				in.Body = []byte{0x89, 'P', 'N', 'G'}
			},
			check: map[string]any{"body": "iVBORw==", "isBase64Encoded": true},
		},
		{
			name: "text body when the Content-Type is not binary (DG payload encodings)",
			edit: func(in *EventInput) {
				in.BinaryMediaTypes = []string{"image/png"}
				in.Body = []byte("plain")
			},
			check: map[string]any{"body": "plain", "isBase64Encoded": false},
		},
		{
			name: "stage variables and operation name",
			edit: func(in *EventInput) {
				in.StageVariables = map[string]string{"env": "prod"}
				in.RequestContext.OperationName = "getPets"
			},
			check: map[string]any{"stageVariables.env": "prod", "requestContext.operationName": "getPets"},
		},
		{
			name: "custom domain path is given explicitly",
			edit: func(in *EventInput) {
				in.RequestContext.Path = "/v1/test-path"
				in.RequestContext.DomainName = "private.example.com"
			},
			check: map[string]any{"requestContext.path": "/v1/test-path", "requestContext.domainPrefix": "private"},
		},
		{
			name:  "no headers at all",
			edit:  func(in *EventInput) { in.Headers = nil },
			check: map[string]any{"headers": nil, "multiValueHeaders": nil},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := publicInput()
			in.Headers = in.Headers.Clone()
			if tt.edit != nil {
				tt.edit(&in)
			}
			b, err := BuildEvent(in)
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			for path, want := range tt.check {
				got, ok := lookup(doc, path)
				if want == "<absent>" {
					if ok {
						t.Errorf("%s = %v, want it absent", path, got)
					}
					continue
				}
				if !ok {
					t.Errorf("%s is absent, want %v", path, want)
					continue
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v, want %#v", path, got, want)
				}
			}
		})
	}
}

func lookup(doc map[string]any, path string) (any, bool) {
	var cur any = doc
	for part := range strings.SplitSeq(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = m[part]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

func assertJSONEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got invalid JSON %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want invalid JSON: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		gi, _ := json.MarshalIndent(g, "", "  ")
		wi, _ := json.MarshalIndent(w, "", "  ")
		t.Fatalf("event mismatch\n got %s\nwant %s", gi, wi)
	}
}

func FuzzBuildEvent(f *testing.F) {
	f.Add("a=1&a=2&b", "/p%2F", "text/plain", []byte("body"))
	f.Add("%zz=%yy&+=+", "/", "image/png; q=1", []byte{0xff, 0xfe})
	f.Fuzz(func(t *testing.T, query, path, contentType string, body []byte) {
		in := publicInput()
		in.RawQuery, in.Path, in.Body = query, path, body
		in.Headers = http.Header{"Content-Type": {contentType}}
		in.BinaryMediaTypes = []string{"image/*"}
		b, err := BuildEvent(in)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("invalid JSON: %v", err)
		}
	})
}
