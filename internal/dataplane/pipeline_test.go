package dataplane

import (
	"net/http/httptest"
	"testing"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/deployment"
	"gatehouse/internal/gatewayresponse"
)

const benchPolicy = `{"Version":"2012-10-17","Statement":[
{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:111111111111:abc123defg/*"},
{"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:111111111111:abc123defg/*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-0aaaaaaaaaaaaaaa1"}}},
{"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:111111111111:abc123defg/*/DELETE/*","Condition":{"NotIpAddress":{"aws:VpcSourceIp":"127.10.0.0/16"}}}]}`

// testSnapshot builds a snapshot with one private API (abc123defg, stage prod) whose
// resources are /, /pets, /pets/{petId} (GET, MOCK) and /{proxy+} (ANY, HTTP_PROXY).
func testSnapshot(t testing.TB) *deployment.Snapshot {
	t.Helper()
	mock := &apimodel.Integration{Type: "MOCK", RequestTemplates: map[string]string{"application/json": `{"statusCode": 200}`},
		IntegrationResponses: map[string]*apimodel.IntegrationResponse{"200": {StatusCode: "200", ResponseTemplates: map[string]string{"application/json": `{"ok":true}`}}}}
	api := apimodel.API{
		Account: "111111111111",
		RestAPI: apimodel.RestApi{ID: "abc123defg", Policy: benchPolicy,
			EndpointConfiguration: &apimodel.EndpointConfiguration{Types: []string{"PRIVATE"}, VpcEndpointIds: []string{"vpce-0aaaaaaaaaaaaaaa1"}}},
		Resources: map[string]*apimodel.Resource{
			"root": {ID: "root", Path: "/"},
			"pets": {ID: "pets", Path: "/pets", ResourceMethods: map[string]*apimodel.Method{"GET": {HTTPMethod: "GET", AuthorizationType: "NONE", MethodIntegration: mock}}},
			"pet":  {ID: "pet", Path: "/pets/{petId}", ResourceMethods: map[string]*apimodel.Method{"GET": {HTTPMethod: "GET", AuthorizationType: "NONE", MethodIntegration: mock}}},
			"prox": {ID: "prox", Path: "/{proxy+}", ResourceMethods: map[string]*apimodel.Method{"ANY": {HTTPMethod: "ANY", AuthorizationType: "NONE",
				MethodIntegration: &apimodel.Integration{Type: "HTTP_PROXY", HTTPMethod: "ANY", URI: "http://127.0.0.1:1/{proxy}",
					RequestParameters: map[string]string{"integration.request.path.proxy": "method.request.path.proxy"}}}}},
		},
	}
	b := &deployment.Builder{Region: "us-east-1"}
	snap := b.Build(deployment.Inputs{
		APIs:        map[string]deployment.Versioned[apimodel.API]{"abc123defg": {Value: api, Revision: 1}},
		Deployments: map[string]deployment.Versioned[apimodel.Deployment]{"abc123defg.d1": {Value: apimodel.Deployment{DeploymentMeta: apimodel.DeploymentMeta{ID: "d1"}, Account: "111111111111", APIID: "abc123defg", API: api}, Revision: 1}},
		Stages:      map[string]deployment.Versioned[apimodel.Stage]{"abc123defg.prod": {Value: apimodel.Stage{APIID: "abc123defg", StageName: "prod", DeploymentID: "d1"}, Revision: 1}},
	})
	if err := snap.APIs["abc123defg"].Stages["prod"].Err; err != nil {
		t.Fatal(err)
	}
	return snap
}

var (
	originA = &Origin{VpceID: "vpce-0aaaaaaaaaaaaaaa1", VpcID: "vpc-0aaaaaaaaaaaaaaa1", TLS: true}
	originB = &Origin{VpceID: "vpce-0bbbbbbbbbbbbbbb2", VpcID: "vpc-0bbbbbbbbbbbbbbb2", TLS: true}
	public  = &Origin{Public: true, TLS: true}
)

func TestAdmit(t *testing.T) {
	s := New(Options{Region: "us-east-1"})
	s.SetSnapshot(testSnapshot(t))
	const execHost = "abc123defg.execute-api.us-east-1.amazonaws.com"
	tests := []struct {
		name     string
		origin   *Origin
		method   string
		host     string
		path     string
		header   map[string]string
		remote   string
		wantType string // "" = admitted
		wantMsg  string
		resource string // resource path of the admitted method
	}{
		{name: "private DNS through vpce-A", origin: originA, method: "GET", host: execHost, path: "/prod/pets/7", resource: "/pets/{petId}"},
		{name: "literal beats param", origin: originA, method: "GET", host: execHost, path: "/prod/pets", resource: "/pets"},
		{name: "greedy proxy", origin: originA, method: "POST", host: execHost, path: "/prod/a/b/c", resource: "/{proxy+}"},
		{name: "vpce hostname with x-apigw-api-id", origin: originA, method: "GET", host: "vpce-0aaaaaaaaaaaaaaa1-abcd1234.execute-api.us-east-1.vpce.amazonaws.com", path: "/prod/pets", header: map[string]string{"x-apigw-api-id": "abc123defg"}, resource: "/pets"},
		{name: "vpce hostname without api id", origin: originA, method: "GET", host: "vpce-0aaaaaaaaaaaaaaa1-abcd1234.execute-api.us-east-1.vpce.amazonaws.com", path: "/prod/pets", wantType: "DEFAULT_4XX", wantMsg: "Forbidden"},
		{name: "alias of associated vpce", origin: originA, method: "GET", host: "abc123defg-vpce-0aaaaaaaaaaaaaaa1.execute-api.us-east-1.amazonaws.com", path: "/prod/pets", resource: "/pets"},
		{name: "alias of another vpce", origin: originB, method: "GET", host: "abc123defg-vpce-0bbbbbbbbbbbbbbb2.execute-api.us-east-1.amazonaws.com", path: "/prod/pets", wantType: "DEFAULT_4XX", wantMsg: "Forbidden"},
		{name: "vpce-B explicit deny", origin: originB, method: "GET", host: execHost, path: "/prod/pets", wantType: "ACCESS_DENIED",
			wantMsg: "User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********1111:abc123defg/prod/GET/pets with an explicit deny"},
		{name: "root path ARN has trailing slash", origin: originB, method: "GET", host: execHost, path: "/prod", wantType: "MISSING_AUTHENTICATION_TOKEN", wantMsg: "Missing Authentication Token"},
		{name: "DELETE from outside CIDR denied", origin: originA, method: "DELETE", host: execHost, path: "/prod/x", remote: "127.99.0.1:5555", wantType: "ACCESS_DENIED",
			wantMsg: "User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********1111:abc123defg/prod/DELETE/x with an explicit deny"},
		{name: "public listener never serves private", origin: public, method: "GET", host: execHost, path: "/prod/pets", wantType: "DEFAULT_4XX", wantMsg: "Forbidden"},
		{name: "unknown stage", origin: originA, method: "GET", host: execHost, path: "/dev/pets", wantType: "DEFAULT_4XX", wantMsg: "Forbidden"},
		{name: "unknown api", origin: originA, method: "GET", host: "zzzzzzzzzz.execute-api.us-east-1.amazonaws.com", path: "/prod/pets", wantType: "DEFAULT_4XX", wantMsg: "Forbidden"},
		{name: "method not on resource falls through to greedy ANY", origin: originA, method: "PUT", host: execHost, path: "/prod/pets", resource: "/{proxy+}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "https://"+tt.host+tt.path, nil)
			r.RemoteAddr = "127.10.0.5:40000"
			if tt.remote != "" {
				r.RemoteAddr = tt.remote
			}
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			rc := s.newRequest(httptest.NewRecorder(), r, tt.origin)
			err := s.admit(rc)
			switch {
			case tt.wantType == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.wantType == "":
				if rc.method.ResourcePath != tt.resource {
					t.Errorf("resource %q, want %q", rc.method.ResourcePath, tt.resource)
				}
			case err == nil:
				t.Fatalf("admitted, want %s", tt.wantType)
			case string(err.Type) != tt.wantType || err.Message != tt.wantMsg:
				t.Errorf("got %s %q\nwant %s %q", err.Type, err.Message, tt.wantType, tt.wantMsg)
			}
		})
	}
}

func TestRenderGatewayResponses(t *testing.T) {
	rc := &request{requestID: "rid", r: httptest.NewRequest("GET", "/", nil)}
	tests := []struct {
		name   string
		err    *Error
		comp   *deployment.Compiled
		status int
		body   string
	}{
		{name: "missing token default", err: errMissingAuthToken(), status: 403, body: `{"message":"Missing Authentication Token"}`},
		{name: "access denied capital M", err: errAccessDenied("arn:x", true), status: 403, body: `{"Message":"User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:x with an explicit deny"}`},
		{name: "timeout", err: errTimeout(nil), status: 504, body: `{"message": "Endpoint request timed out"}`},
		{name: "DEFAULT_4XX status and template inherited", err: errMissingAuthToken(),
			comp:   &deployment.Compiled{GatewayResponses: map[gatewayresponse.Type]*deployment.GatewayResponse{"DEFAULT_4XX": {StatusCode: 404, Template: `{"err":$context.error.messageString,"id":"$context.requestId"}`, HasTemplate: true}}},
			status: 404, body: `{"err":"Missing Authentication Token","id":"rid"}`},
		{name: "own type beats DEFAULT_4XX", err: errMissingAuthToken(),
			comp: &deployment.Compiled{GatewayResponses: map[gatewayresponse.Type]*deployment.GatewayResponse{
				"DEFAULT_4XX":                  {StatusCode: 404},
				"MISSING_AUTHENTICATION_TOKEN": {StatusCode: 401}}},
			status: 401, body: `{"message":"Missing Authentication Token"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := render(tt.err, tt.comp, rc)
			if out.status != tt.status || out.body != tt.body {
				t.Errorf("got %d %s, want %d %s", out.status, out.body, tt.status, tt.body)
			}
		})
	}
}

// BenchmarkAdmit measures the in-process pipeline up to the integration: resolve the API
// from the Host, pick the stage, match the route and evaluate the 3-statement policy.
func BenchmarkAdmit(b *testing.B) {
	s := New(Options{Region: "us-east-1"})
	s.SetSnapshot(testSnapshot(b))
	r := httptest.NewRequest("GET", "https://abc123defg.execute-api.us-east-1.amazonaws.com/prod/pets/7", nil)
	r.RemoteAddr = "127.10.0.5:40000"
	r.Header.Set("User-Agent", "bench")
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		rc := s.newRequest(w, r, originA)
		if err := s.admit(rc); err != nil {
			b.Fatal(err)
		}
		s.release(rc)
	}
}
