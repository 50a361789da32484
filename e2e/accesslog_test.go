package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"gatehouse/internal/gwtest"
)

// accessLogFormat is AWS's JSON sample format plus our vpc variables and the error fields,
// on one line as AWS requires.
const accessLogFormat = `{ "requestId":"$context.requestId", "extendedRequestId":"$context.extendedRequestId", "ip": "$context.identity.sourceIp", ` +
	`"caller":"$context.identity.caller", "user":"$context.identity.user", "requestTime":"$context.requestTime", ` +
	`"httpMethod":"$context.httpMethod", "resourcePath":"$context.resourcePath", "status":"$context.status", ` +
	`"protocol":"$context.protocol", "responseLength":"$context.responseLength", ` +
	`"vpceId":"$context.identity.vpceId", "vpcId":"$context.identity.vpcId", "path":"$context.path", "stage":"$context.stage", ` +
	`"apiId":"$context.apiId", "error":"$context.error.message", "responseType":"$context.error.responseType" }`

func TestAccessLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	gw := gwtest.Start(t, gwtest.TwoVPCs, "")
	backend := echoBackend(t)
	cp := gw.APIGateway("AKIAPROVIDER00000001", "provider-secret")

	// Deployment 1 answers every path with a MOCK and logs nothing. Deployment 2 proxies to
	// the echo backend. One UpdateStage switches the stage to deployment 2 and turns access
	// logging on, so the first echo answer proves the logging stage is live: no request
	// before it is logged, every one from it on is.
	api := createProxyAPI(t, ctx, cp, backend.URL)
	proxyRes := findResource(t, ctx, cp, api.id, "/{proxy+}")
	must(t)(cp.UpdateRestApi(ctx, &apigateway.UpdateRestApiInput{RestApiId: &api.id, PatchOperations: []types.PatchOperation{
		{Op: types.OpReplace, Path: aws.String("/policy"), Value: aws.String(policyOnlyFrom(vpceA))}}}))
	must(t)(cp.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: &api.id, ResourceId: &proxyRes, HttpMethod: aws.String("ANY"),
		Type: types.IntegrationTypeMock, RequestTemplates: map[string]string{"application/json": `{"statusCode": 200}`}}))
	must(t)(cp.PutMethodResponse(ctx, &apigateway.PutMethodResponseInput{RestApiId: &api.id, ResourceId: &proxyRes, HttpMethod: aws.String("ANY"), StatusCode: aws.String("200")}))
	must(t)(cp.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{RestApiId: &api.id, ResourceId: &proxyRes, HttpMethod: aws.String("ANY"),
		StatusCode: aws.String("200"), ResponseTemplates: map[string]string{"application/json": `{"mock":true}`}}))
	must(t)(cp.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: &api.id, StageName: aws.String("prod")}))
	must(t)(cp.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: &api.id, ResourceId: &proxyRes, HttpMethod: aws.String("ANY"),
		Type: types.IntegrationTypeHttpProxy, IntegrationHttpMethod: aws.String("ANY"), Uri: aws.String(backend.URL + "/{proxy}"),
		RequestParameters: map[string]string{"integration.request.path.proxy": "method.request.path.proxy"}}))
	dep2, err := cp.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: &api.id})
	if err != nil {
		t.Fatal(err)
	}
	fromA := gw.Client(inA, gw.EndpointTLS(vpceA))
	fromB := gw.Client(inB, gw.EndpointTLS(vpceB))
	host := gw.ExecuteAPIHost(api.id)
	if status, _, body := get(t, fromA, "https://"+host+"/prod/warmup", nil, 200); status != 200 || body != `{"mock":true}` {
		t.Fatalf("deployment 1: %d %s", status, body)
	}
	must(t)(cp.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: &api.id, StageName: aws.String("prod"), PatchOperations: []types.PatchOperation{
		{Op: types.OpReplace, Path: aws.String("/accessLogSettings/destinationArn"), Value: aws.String("arn:aws:logs:us-east-1:111111111111:log-group:private-api")},
		{Op: types.OpReplace, Path: aws.String("/accessLogSettings/format"), Value: aws.String(accessLogFormat)},
		{Op: types.OpReplace, Path: aws.String("/deploymentId"), Value: dep2.Id},
	}}))
	st, err := cp.GetStage(ctx, &apigateway.GetStageInput{RestApiId: &api.id, StageName: aws.String("prod")})
	if err != nil || st.AccessLogSettings == nil || aws.ToString(st.AccessLogSettings.Format) != accessLogFormat {
		t.Fatalf("GetStage: %+v %v", st, err)
	}

	type sent struct {
		requestID, path, vpce string
		status                int
		errMsg, respType      string
	}
	var want []sent
	call := func(c *http.Client, path, vpce string, status int, errMsg, respType string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, "https://"+host+path, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != status {
			t.Fatalf("GET %s via %s: %d, want %d", path, vpce, resp.StatusCode, status)
		}
		want = append(want, sent{resp.Header.Get("x-amzn-RequestId"), path, vpce, status, errMsg, respType})
	}
	// The first echo answer: the logging stage is live (earlier MOCK answers are not logged).
	deadline := time.Now().Add(5 * time.Second)
	for {
		req, _ := http.NewRequest(http.MethodGet, "https://"+host+"/prod/probe", nil)
		resp, err := fromA.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var echo map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&echo)
		resp.Body.Close()
		if echo["path"] == "/probe" {
			want = append(want, sent{resp.Header.Get("x-amzn-RequestId"), "/prod/probe", vpceA, 200, "", ""})
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("deployment 2 never served")
		}
		time.Sleep(20 * time.Millisecond)
	}
	const allowed, denied = 5, 3
	for i := range allowed - 1 {
		call(fromA, "/prod/items/"+string(rune('a'+i)), vpceA, 200, "", "")
	}
	denyMsg := func(path string) string {
		return "User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********1111:" +
			api.id + "/prod/GET/" + path + " with an explicit deny"
	}
	for i := range denied {
		p := "items/" + string(rune('x'+i))
		call(fromB, "/prod/"+p, vpceB, 403, denyMsg(p), "ACCESS_DENIED")
	}
	// The root resource has no method: Missing Authentication Token, also logged.
	call(fromA, "/prod/", vpceA, 403, "Missing Authentication Token", "MISSING_AUTHENTICATION_TOKEN")

	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := gw.App.Shutdown(sctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}

	f, err := os.Open(filepath.Join(gw.DataDir, "logs", "private-api.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []map[string]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var rec map[string]string
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", len(lines)+1, err, sc.Text())
		}
		lines = append(lines, rec)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(lines) != len(want) {
		t.Fatalf("%d log lines for %d requests (%d allowed, %d refused)", len(lines), len(want), allowed, len(want)-allowed)
	}
	byID := map[string]map[string]string{}
	for _, rec := range lines {
		byID[rec["requestId"]] = rec
	}
	for _, w := range want {
		rec := byID[w.requestID]
		if rec == nil {
			t.Errorf("no line for request %s (%s)", w.requestID, w.path)
			continue
		}
		wantStatus := map[int]string{200: "200", 403: "403"}[w.status]
		vpc := map[string]string{vpceA: "vpc-0aaaaaaaaaaaaaaa1", vpceB: "vpc-0bbbbbbbbbbbbbbb2"}[w.vpce]
		ip := map[string]string{vpceA: inA, vpceB: inB}[w.vpce]
		if rec["status"] != wantStatus || rec["vpceId"] != w.vpce || rec["vpcId"] != vpc || rec["ip"] != ip ||
			rec["path"] != w.path || rec["stage"] != "prod" || rec["apiId"] != api.id || rec["httpMethod"] != "GET" {
			t.Errorf("line for %s: %v", w.path, rec)
		}
		// AWS renders an empty variable as "-".
		dash := func(s string) string {
			if s == "" {
				return "-"
			}
			return s
		}
		if rec["error"] != dash(w.errMsg) || rec["responseType"] != dash(w.respType) {
			t.Errorf("line for %s: error %q (%s), want %q (%s)", w.path, rec["error"], rec["responseType"], w.errMsg, w.respType)
		}
		if w.status == 200 && rec["resourcePath"] != "/{proxy+}" {
			t.Errorf("line for %s: resourcePath %q", w.path, rec["resourcePath"])
		}
		if strings.HasPrefix(rec["responseLength"], "-") || rec["requestTime"] == "" || rec["extendedRequestId"] == "" {
			t.Errorf("line for %s: %v", w.path, rec)
		}
	}
}

// findResource returns the id of the resource with the given path.
func findResource(t *testing.T, ctx context.Context, c *apigateway.Client, apiID, path string) string {
	t.Helper()
	out, err := c.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: &apiID})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range out.Items {
		if aws.ToString(r.Path) == path {
			return aws.ToString(r.Id)
		}
	}
	t.Fatalf("no resource %s", path)
	return ""
}

// must fails the test on a non-nil error from a call returning (value, error).
func must(t *testing.T) func(any, error) {
	return func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}
