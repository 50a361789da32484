package e2e

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"gatehouse/internal/gwtest"
)

// TestUsagePlansAndValidation covers API keys, a usage plan's throttle and quota (also
// across a restart) and request validation, through a private endpoint.
func TestUsagePlansAndValidation(t *testing.T) {
	ctx := context.Background()
	dataDir := t.TempDir()
	backend := echoBackend(t)

	var apiID, keyValue string
	func() {
		gw := gwtest.Start(t, gwtest.TwoVPCs, dataDir)
		defer gw.Stop(t)
		cp := gw.APIGateway("AKIAPROVIDER00000001", "provider-secret")
		must := func(_ any, err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		api, err := cp.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("keys"),
			EndpointConfiguration: &types.EndpointConfiguration{Types: []types.EndpointType{types.EndpointTypePrivate}},
			Policy:                aws.String(policyOnlyFrom(vpceA))})
		if err != nil {
			t.Fatal(err)
		}
		apiID = *api.Id
		// /limited GET: API key required, proxied to the backend.
		lim, err := cp.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: api.RootResourceId, PathPart: aws.String("limited")})
		if err != nil {
			t.Fatal(err)
		}
		must(cp.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: lim.Id, HttpMethod: aws.String("GET"), AuthorizationType: aws.String("NONE"), ApiKeyRequired: true}))
		must(cp.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: api.Id, ResourceId: lim.Id, HttpMethod: aws.String("GET"),
			Type: types.IntegrationTypeHttpProxy, IntegrationHttpMethod: aws.String("GET"), Uri: aws.String(backend.URL + "/limited")}))
		// /validated POST: q1 required and a body model.
		val, err := cp.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: api.RootResourceId, PathPart: aws.String("validated")})
		if err != nil {
			t.Fatal(err)
		}
		must(cp.CreateModel(ctx, &apigateway.CreateModelInput{RestApiId: api.Id, Name: aws.String("Pet"), ContentType: aws.String("application/json"),
			Schema: aws.String(`{"$schema":"http://json-schema.org/draft-04/schema#","type":"object","required":["name"],"properties":{"name":{"type":"string"}}}`)}))
		rv, err := cp.CreateRequestValidator(ctx, &apigateway.CreateRequestValidatorInput{RestApiId: api.Id, Name: aws.String("all"),
			ValidateRequestBody: true, ValidateRequestParameters: true})
		if err != nil {
			t.Fatal(err)
		}
		must(cp.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: val.Id, HttpMethod: aws.String("POST"), AuthorizationType: aws.String("NONE"),
			RequestValidatorId: rv.Id, RequestParameters: map[string]bool{"method.request.querystring.q1": true},
			RequestModels: map[string]string{"application/json": "Pet"}}))
		must(cp.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: api.Id, ResourceId: val.Id, HttpMethod: aws.String("POST"),
			Type: types.IntegrationTypeHttpProxy, IntegrationHttpMethod: aws.String("POST"), Uri: aws.String(backend.URL + "/validated")}))
		must(cp.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id, StageName: aws.String("prod")}))

		key, err := cp.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("client"), Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		keyValue = *key.Value
		plan, err := cp.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("tiny"),
			ApiStages: []types.ApiStage{{ApiId: api.Id, Stage: aws.String("prod")}},
			Throttle:  &types.ThrottleSettings{RateLimit: 1, BurstLimit: 1},
			Quota:     &types.QuotaSettings{Limit: 2, Period: types.QuotaPeriodTypeDay}})
		if err != nil {
			t.Fatal(err)
		}
		must(cp.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: plan.Id, KeyId: key.Id, KeyType: aws.String("API_KEY")}))

		c := gw.Client(inA, gw.EndpointTLS(vpceA))
		host := "https://" + gw.ExecuteAPIHost(apiID)
		status, h, body := get(t, c, host+"/prod/limited", nil, 403)
		if status != 403 || body != `{"message":"Forbidden"}` || h.Get("x-amzn-ErrorType") != "ForbiddenException" {
			t.Fatalf("no key: %d %s %v", status, body, h)
		}
		withKey := map[string]string{"x-api-key": keyValue}
		if status, _, body := get(t, c, host+"/prod/limited", withKey, 200); status != 200 {
			t.Fatalf("with key: %d %s", status, body)
		}
		// rate 1, burst 1: the immediate second request is throttled.
		status, h, body = do(t, c, "GET", host+"/prod/limited", withKey, "")
		if status != 429 || body != `{"message":"Too Many Requests"}` || h.Get("x-amzn-ErrorType") != "TooManyRequestsException" {
			t.Fatalf("second immediate request: %d %s", status, body)
		}

		// Validation.
		status, h, body = do(t, c, "POST", host+"/prod/validated", map[string]string{"Content-Type": "application/json"}, `{"name":"rex"}`)
		if status != 400 || body != `{"message":"Missing required request parameters: [q1]"}` || h.Get("x-amzn-ErrorType") != "BadRequestException" {
			t.Fatalf("missing q1: %d %s %v", status, body, h)
		}
		status, _, body = do(t, c, "POST", host+"/prod/validated?q1=x", map[string]string{"Content-Type": "application/json"}, `{"kind":"dog"}`)
		if status != 400 || body != `{"message":"Invalid request body"}` {
			t.Fatalf("bad body: %d %s", status, body)
		}
		status, _, body = do(t, c, "POST", host+"/prod/validated?q1=x", map[string]string{"Content-Type": "application/json"}, `{"name":"rex"}`)
		if status != 200 {
			t.Fatalf("valid request: %d %s", status, body)
		}
	}()

	// After a restart the quota (2 per day, 1 used... plus waits) still holds: use it up.
	gw := gwtest.Start(t, gwtest.TwoVPCs, dataDir)
	c := gw.Client(inA, gw.EndpointTLS(vpceA))
	host := "https://" + gw.ExecuteAPIHost(apiID)
	withKey := map[string]string{"x-api-key": keyValue}
	// One of the two daily requests was used before the restart; the next succeeds once
	// the 1 rps bucket refills, the one after is over quota.
	if status, _, body := get(t, c, host+"/prod/limited", withKey, 200); status != 200 {
		t.Fatalf("second quota request after restart: %d %s", status, body)
	}
	// Throttled requests don't count against the quota; once the bucket refills the next
	// request is over the quota.
	var status int
	var h http.Header
	var body string
	deadline := time.Now().Add(5 * time.Second)
	for {
		status, h, body = do(t, c, "GET", host+"/prod/limited", withKey, "")
		if body != `{"message":"Too Many Requests"}` || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if status != 429 || body != `{"message":"Limit Exceeded"}` || h.Get("x-amzn-ErrorType") != "LimitExceededException" {
		t.Fatalf("over quota after restart: %d %s %v", status, body, h)
	}
}

// do performs one request without retrying.
func do(t *testing.T, c *http.Client, method, url string, hdr map[string]string, body string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, stringsReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := readAll(resp)
	return resp.StatusCode, resp.Header, b
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }

func readAll(resp *http.Response) (string, error) {
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}
