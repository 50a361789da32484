// Package e2e holds end-to-end tests: the whole gatehouse on :0 ports, driven by real
// clients (aws-sdk-go-v2, net/http from chosen source addresses, the aws CLI, boto3, curl).
package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/smithy-go"

	"gatehouse/internal/gwtest"
)

const (
	vpceA = "vpce-0aaaaaaaaaaaaaaa1"
	vpceB = "vpce-0bbbbbbbbbbbbbbb2"
	inA   = "127.10.0.5" // a host in VPC A
	inB   = "127.20.0.5" // a host in VPC B
)

// echoBackend answers with what it received, as JSON.
func echoBackend(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Backend", "echo")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"method": r.Method, "path": r.URL.Path, "rawPath": r.URL.RawPath, "query": r.URL.RawQuery,
			"host": r.Host, "body": string(body),
			"vpce": r.Header.Get("X-Amzn-Vpce-Id"), "vpc": r.Header.Get("X-Amzn-Vpc-Id"),
			"xff": r.Header.Get("X-Forwarded-For"), "apiIdHeader": r.Header.Get("X-Apigw-Api-Id"),
		})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func policyOnlyFrom(vpce string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*"},
 {"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*",
  "Condition":{"StringNotEquals":{"aws:SourceVpce":%q}}}]}`, vpce)
}

type privateAPI struct {
	id     string
	client *apigateway.Client
}

// createProxyAPI creates a PRIVATE API with /{proxy+} ANY → HTTP_PROXY backend.
func createProxyAPI(t *testing.T, ctx context.Context, c *apigateway.Client, backend string) privateAPI {
	t.Helper()
	api, err := c.CreateRestApi(ctx, &apigateway.CreateRestApiInput{
		Name:                  aws.String("private-proxy"),
		EndpointConfiguration: &types.EndpointConfiguration{Types: []types.EndpointType{types.EndpointTypePrivate}},
	})
	if err != nil {
		t.Fatalf("CreateRestApi: %v", err)
	}
	res, err := c.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: api.RootResourceId, PathPart: aws.String("{proxy+}")})
	if err != nil {
		t.Fatalf("CreateResource: %v", err)
	}
	if _, err := c.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("ANY"),
		AuthorizationType: aws.String("NONE"), RequestParameters: map[string]bool{"method.request.path.proxy": true}}); err != nil {
		t.Fatalf("PutMethod: %v", err)
	}
	if _, err := c.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("ANY"),
		Type: types.IntegrationTypeHttpProxy, IntegrationHttpMethod: aws.String("ANY"), Uri: aws.String(backend + "/{proxy}"),
		RequestParameters: map[string]string{"integration.request.path.proxy": "method.request.path.proxy"}}); err != nil {
		t.Fatalf("PutIntegration: %v", err)
	}
	return privateAPI{id: *api.Id, client: c}
}

// get performs a GET through client; it retries briefly while the deployment propagates
// (the data plane applies store changes asynchronously) until want is seen.
func get(t *testing.T, c *http.Client, url string, hdr map[string]string, want int) (int, http.Header, string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		for k, v := range hdr {
			if strings.EqualFold(k, "Host") {
				req.Host = v
				continue
			}
			req.Header.Set(k, v)
		}
		resp, err := c.Do(req)
		if err != nil {
			if time.Now().After(deadline) {
				t.Fatalf("GET %s: %v", url, err)
			}
			time.Sleep(20 * time.Millisecond)
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == want || time.Now().After(deadline) {
			return resp.StatusCode, resp.Header, string(b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func apiErr(t *testing.T, err error) (string, string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want an AWS API error, got %v", err)
	}
	return ae.ErrorCode(), ae.ErrorMessage()
}

func TestPrivateAPIThroughEndpoints(t *testing.T) {
	ctx := context.Background()
	gw := gwtest.Start(t, gwtest.TwoVPCs, "")
	backend := echoBackend(t)
	cp := gw.APIGateway("AKIAPROVIDER00000001", "provider-secret")
	api := createProxyAPI(t, ctx, cp, backend.URL)

	// Deploying a PRIVATE API without a policy: AWS's exact 400.
	_, err := cp.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: &api.id, StageName: aws.String("prod")})
	if code, msg := apiErr(t, err); code != "BadRequestException" || msg != "Private REST API doesn't have a resource policy attached to it" {
		t.Fatalf("deploy without policy: %s %q", code, msg)
	}
	if _, err := cp.UpdateRestApi(ctx, &apigateway.UpdateRestApiInput{RestApiId: &api.id, PatchOperations: []types.PatchOperation{
		{Op: types.OpReplace, Path: aws.String("/policy"), Value: aws.String(policyOnlyFrom(vpceA))}}}); err != nil {
		t.Fatalf("UpdateRestApi policy: %v", err)
	}
	got, err := cp.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: &api.id})
	if err != nil {
		t.Fatal(err)
	}
	// AWS returns the policy JSON-escaped once more ({\"Version\":...\/*}).
	stored := strings.NewReplacer(`\"`, `"`, `\/`, `/`).Replace(aws.ToString(got.Policy))
	if want := "arn:aws:execute-api:us-east-1:111111111111:" + api.id + "/*"; !strings.Contains(stored, want) {
		t.Errorf("policy shorthand not expanded: %s", aws.ToString(got.Policy))
	}
	if _, err := cp.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: &api.id, StageName: aws.String("prod")}); err != nil {
		t.Fatalf("CreateDeployment: %v", err)
	}

	execHost := gw.ExecuteAPIHost(api.id)
	fromA := gw.Client(inA, gw.EndpointTLS(vpceA))
	fromB := gw.Client(inB, gw.EndpointTLS(vpceB))
	public := gw.Client("", gw.App.Addrs().Public)
	denyBody := func(method, path string, explicit bool) string {
		m := `{"Message":"User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********1111:` + api.id + `/prod/` + method + `/` + path
		if explicit {
			m += ` with an explicit deny`
		}
		return m + `"}`
	}

	t.Run("vpce-A with x-apigw-api-id reaches the backend", func(t *testing.T) {
		status, h, body := get(t, fromA, "https://"+gw.EndpointHost(vpceA)+"/prod/pets/1?x=1", map[string]string{"x-apigw-api-id": api.id}, 200)
		if status != 200 {
			t.Fatalf("status %d body %s", status, body)
		}
		var echo map[string]string
		if err := json.Unmarshal([]byte(body), &echo); err != nil {
			t.Fatalf("backend body %q: %v", body, err)
		}
		if echo["path"] != "/pets/1" || echo["query"] != "x=1" || echo["vpce"] != vpceA || echo["vpc"] != "vpc-0aaaaaaaaaaaaaaa1" || echo["xff"] != inA {
			t.Errorf("backend saw %v", echo)
		}
		if h.Get("X-Backend") != "echo" || h.Get("x-amzn-RequestId") == "" {
			t.Errorf("headers %v", h)
		}
	})
	t.Run("vpce-A with Host header (private DNS name)", func(t *testing.T) {
		status, _, body := get(t, fromA, "https://"+execHost+"/prod/pets", nil, 200)
		if status != 200 {
			t.Fatalf("status %d body %s", status, body)
		}
	})
	t.Run("vpce-B is denied with AWS's exact 403", func(t *testing.T) {
		status, h, body := get(t, fromB, "https://"+execHost+"/prod/pets/1", nil, 403)
		if status != 403 || body != denyBody("GET", "pets/1", true) {
			t.Fatalf("status %d body %s", status, body)
		}
		if h.Get("x-amzn-ErrorType") != "AccessDeniedException" || h.Get("Content-Type") != "application/json" {
			t.Errorf("headers %v", h)
		}
	})
	t.Run("public listener refuses a private API", func(t *testing.T) {
		status, h, body := get(t, public, "https://"+execHost+"/prod/pets/1", nil, 403)
		if status != 403 || body != `{"message":"Forbidden"}` || h.Get("x-amzn-ErrorType") != "ForbiddenException" {
			t.Fatalf("status %d body %s headers %v", status, body, h)
		}
	})
	t.Run("alias name only while the vpce is associated", func(t *testing.T) {
		alias := api.id + "-" + vpceA + ".execute-api.us-east-1.amazonaws.com"
		status, _, body := get(t, fromA, "https://"+alias+"/prod/pets", nil, 403)
		if status != 403 || body != `{"message":"Forbidden"}` {
			t.Fatalf("before association: %d %s", status, body)
		}
		if _, err := cp.UpdateRestApi(ctx, &apigateway.UpdateRestApiInput{RestApiId: &api.id, PatchOperations: []types.PatchOperation{
			{Op: types.OpAdd, Path: aws.String("/endpointConfiguration/vpcEndpointIds"), Value: aws.String(vpceA)}}}); err != nil {
			t.Fatalf("add vpcEndpointIds: %v", err)
		}
		status, _, body = get(t, fromA, "https://"+alias+"/prod/pets", nil, 200)
		if status != 200 {
			t.Fatalf("after association: %d %s", status, body)
		}
	})
	t.Run("security group refuses other networks", func(t *testing.T) {
		c := gw.Client("127.30.0.5", gw.EndpointTLS(vpceA))
		req, _ := http.NewRequest(http.MethodGet, "https://"+execHost+"/prod/pets", nil)
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
			t.Fatalf("connection from outside the ingress CIDRs was accepted: %d", resp.StatusCode)
		}
	})
	t.Run("unknown stage is Forbidden", func(t *testing.T) {
		status, _, body := get(t, fromA, "https://"+execHost+"/nostage/pets", nil, 403)
		if status != 403 || body != `{"message":"Forbidden"}` {
			t.Fatalf("%d %s", status, body)
		}
	})
}

func TestMissingAuthenticationTokenAndMock(t *testing.T) {
	ctx := context.Background()
	gw := gwtest.Start(t, gwtest.TwoVPCs, "")
	cp := gw.APIGateway("AKIAPROVIDER00000001", "provider-secret")
	api, err := cp.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("mock"),
		EndpointConfiguration: &types.EndpointConfiguration{Types: []types.EndpointType{types.EndpointTypePrivate}},
		Policy:                aws.String(policyOnlyFrom(vpceA))})
	if err != nil {
		t.Fatal(err)
	}
	res, err := cp.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: api.RootResourceId, PathPart: aws.String("health")})
	if err != nil {
		t.Fatal(err)
	}
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(cp.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("GET"), AuthorizationType: aws.String("NONE")}))
	must(cp.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("GET"), Type: types.IntegrationTypeMock,
		RequestTemplates: map[string]string{"application/json": `{"statusCode": 200}`}}))
	must(cp.PutMethodResponse(ctx, &apigateway.PutMethodResponseInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("GET"), StatusCode: aws.String("200")}))
	must(cp.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("GET"), StatusCode: aws.String("200"),
		ResponseTemplates: map[string]string{"application/json": `{"status":"ok"}`}}))
	must(cp.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id, StageName: aws.String("v1")}))

	fromA := gw.Client(inA, gw.EndpointTLS(vpceA))
	host := gw.ExecuteAPIHost(*api.Id)
	status, _, body := get(t, fromA, "https://"+host+"/v1/health", nil, 200)
	if status != 200 || body != `{"status":"ok"}` {
		t.Fatalf("mock: %d %s", status, body)
	}
	status, h, body := get(t, fromA, "https://"+host+"/v1/nothing/here", nil, 403)
	if status != 403 || body != `{"message":"Missing Authentication Token"}` || h.Get("x-amzn-ErrorType") != "MissingAuthenticationTokenException" {
		t.Fatalf("unknown path: %d %s %v", status, body, h)
	}
}
