package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"gatehouse/internal/gwtest"
)

// stsTopology is authTopology plus two roles in the consumer account: invoker (any
// principal of 222222222222 may assume it; its policy allows invoking the provider's
// APIs) and idle (only bob may assume it; no identity policy).
var stsTopology = strings.Replace(authTopology, `
      - name: carol
        accessKeys: [{id: AKIACAROL00000000001, secret: carol-secret}]`, `
      - name: carol
        accessKeys: [{id: AKIACAROL00000000001, secret: carol-secret}]
    roles:
      - name: invoker
        trust: ["222222222222"]
        policies: [{name: invoke, document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "execute-api:Invoke", Resource: "arn:aws:execute-api:us-east-1:111111111111:*"}]}}]
      - name: idle
        trust: ["arn:aws:iam::222222222222:user/bob"]`, 1)

// awsWith runs the aws CLI against endpoint with the given credentials (session token
// optional) and returns stdout, stderr and the exit code.
func awsWith(t *testing.T, endpoint, akid, secret, token string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "aws", append([]string{"--endpoint-url", endpoint, "--output", "json"}, args...)...)
	env := []string{"AWS_ACCESS_KEY_ID=" + akid, "AWS_SECRET_ACCESS_KEY=" + secret, "AWS_DEFAULT_REGION=us-east-1"}
	if token != "" {
		env = append(env, "AWS_SESSION_TOKEN="+token)
	}
	cmd.Env = cleanEnv(env...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	code := 0
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("aws %v: %v", args, err)
		}
		code = ee.ExitCode()
	}
	return out.String(), errb.String(), code
}

type stsCreds struct {
	AccessKeyID, SecretAccessKey, SessionToken, Expiration string
}

// TestSTSAssumeRoleThenIAMInvoke: the aws CLI assumes roles through gatehouse's STS, and
// the temporary credentials sign AWS_IAM calls (X-Amz-Security-Token) that are evaluated
// with the role's identity policy (cross-account: Table B).
func TestSTSAssumeRoleThenIAMInvoke(t *testing.T) {
	needAWSCLI(t)
	ctx := context.Background()
	gw := gwtest.Start(t, stsTopology, "")
	cp := gw.APIGateway("AKIAPROVIDER00000001", "provider-secret")
	apiID := methodAPI(t, ctx, cp, policyOnlyFrom(vpceA), func(string, string) (string, string) { return "AWS_IAM", "" })
	endpoint := gw.ControlPlaneURL()
	const invoker, idle = "arn:aws:iam::222222222222:role/invoker", "arn:aws:iam::222222222222:role/idle"

	assume := func(t *testing.T, akid, secret, token, role string) stsCreds {
		t.Helper()
		out, errOut, code := awsWith(t, endpoint, akid, secret, token, "sts", "assume-role", "--role-arn", role, "--role-session-name", "e2e", "--duration-seconds", "900")
		if code != 0 {
			t.Fatalf("assume-role %s: exit %d\n%s%s", role, code, out, errOut)
		}
		var res struct {
			Credentials     stsCreds
			AssumedRoleUser struct{ Arn, AssumedRoleId string }
		}
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		c := res.Credentials
		roleName := role[strings.LastIndexByte(role, '/')+1:]
		if !strings.HasPrefix(c.AccessKeyID, "ASIA") || c.SecretAccessKey == "" || c.SessionToken == "" ||
			res.AssumedRoleUser.Arn != "arn:aws:sts::222222222222:assumed-role/"+roleName+"/e2e" || !strings.HasSuffix(res.AssumedRoleUser.AssumedRoleId, ":e2e") {
			t.Fatalf("assume-role output: %s", out)
		}
		exp, err := time.Parse(time.RFC3339, c.Expiration)
		if err != nil || exp.Before(time.Now().Add(14*time.Minute)) || exp.After(time.Now().Add(16*time.Minute)) {
			t.Fatalf("Expiration %q (%v): want about 15 minutes from now", c.Expiration, err)
		}
		return c
	}
	inv := assume(t, "AKIABOB0000000000001", "bob-secret", "", invoker)
	idl := assume(t, "AKIABOB0000000000001", "bob-secret", "", idle)
	carolInv := assume(t, "AKIACAROL00000000001", "carol-secret", "", invoker)

	t.Run("STS errors", func(t *testing.T) {
		tests := []struct {
			name, akid, secret, token string
			args                      []string
			want                      string
		}{
			{"untrusted caller", "AKIACAROL00000000001", "carol-secret", "", []string{"sts", "assume-role", "--role-arn", idle, "--role-session-name", "e2e"},
				"An error occurred (AccessDenied) when calling the AssumeRole operation: User: arn:aws:iam::222222222222:user/carol is not authorized to perform: sts:AssumeRole on resource: " + idle},
			{"other account not trusted", "AKIAALICE00000000001", "alice-secret", "", []string{"sts", "assume-role", "--role-arn", invoker, "--role-session-name", "e2e"},
				"(AccessDenied) when calling the AssumeRole operation: User: arn:aws:iam::111111111111:user/alice is not authorized"},
			{"bad session name", "AKIABOB0000000000001", "bob-secret", "", []string{"sts", "assume-role", "--role-arn", invoker, "--role-session-name", "a b"},
				"(ValidationError) when calling the AssumeRole operation: 1 validation error detected: Value 'a b' at 'roleSessionName' failed to satisfy constraint"},
			{"duration beyond the role's maximum", "AKIABOB0000000000001", "bob-secret", "", []string{"sts", "assume-role", "--role-arn", invoker, "--role-session-name", "e2e", "--duration-seconds", "7200"},
				"(ValidationError) when calling the AssumeRole operation: The requested DurationSeconds exceeds the MaxSessionDuration set for this role."},
			{"wrong secret", "AKIABOB0000000000001", "not-bobs", "", []string{"sts", "get-caller-identity"},
				"(SignatureDoesNotMatch) when calling the GetCallerIdentity operation: The request signature we calculated does not match"},
			{"unknown key", "AKIANOBODY0000000001", "x", "", []string{"sts", "get-caller-identity"},
				"(InvalidClientTokenId) when calling the GetCallerIdentity operation: The security token included in the request is invalid."},
			{"session key without its token", inv.AccessKeyID, inv.SecretAccessKey, "", []string{"sts", "get-caller-identity"},
				"(InvalidClientTokenId) when calling the GetCallerIdentity operation: The security token included in the request is invalid."},
			{"user key on the apigateway API", "AKIABOB0000000000001", "bob-secret", "", []string{"apigateway", "get-rest-apis"},
				"(UnrecognizedClientException) when calling the GetRestApis operation: The security token included in the request is invalid."},
			// The XML services answer authentication errors in their own protocol.
			{"wrong secret on elbv2", "AKIAPROVIDER00000001", "wrong", "", []string{"elbv2", "describe-load-balancers"},
				"(SignatureDoesNotMatch) when calling the DescribeLoadBalancers operation: The request signature we calculated does not match"},
			{"user key on elbv2", "AKIABOB0000000000001", "bob-secret", "", []string{"elbv2", "describe-load-balancers"},
				"(InvalidClientTokenId) when calling the DescribeLoadBalancers operation: The security token included in the request is invalid."},
			{"wrong secret on route53", "AKIAPROVIDER00000001", "wrong", "", []string{"route53", "list-hosted-zones"},
				"(SignatureDoesNotMatch) when calling the ListHostedZones operation: The request signature we calculated does not match"},
			{"unknown key on route53", "AKIANOBODY0000000001", "x", "", []string{"route53", "list-hosted-zones"},
				"(InvalidClientTokenId) when calling the ListHostedZones operation: The security token included in the request is invalid."},
			{"wrong secret on ec2", "AKIAPROVIDER00000001", "wrong", "", []string{"ec2", "describe-vpcs"},
				"(AuthFailure) when calling the DescribeVpcs operation: AWS was not able to validate the provided access credentials"},
			{"unknown key on servicediscovery (JSON)", "AKIANOBODY0000000001", "x", "", []string{"servicediscovery", "list-namespaces"},
				"(UnrecognizedClientException) when calling the ListNamespaces operation: The security token included in the request is invalid."},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				out, errOut, code := awsWith(t, endpoint, tt.akid, tt.secret, tt.token, tt.args...)
				if code == 0 || !strings.Contains(errOut, tt.want) {
					t.Fatalf("exit %d\nstdout: %s\nstderr: %s\nwant: %s", code, out, errOut, tt.want)
				}
			})
		}
	})
	t.Run("caller identity of a role session", func(t *testing.T) {
		out, errOut, code := awsWith(t, endpoint, inv.AccessKeyID, inv.SecretAccessKey, inv.SessionToken, "sts", "get-caller-identity")
		if code != 0 || !strings.Contains(out, `"Arn": "arn:aws:sts::222222222222:assumed-role/invoker/e2e"`) || !strings.Contains(out, `"Account": "222222222222"`) {
			t.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
	})
	t.Run("role chaining", func(t *testing.T) {
		_, errOut, code := awsWith(t, endpoint, inv.AccessKeyID, inv.SecretAccessKey, inv.SessionToken,
			"sts", "assume-role", "--role-arn", invoker, "--role-session-name", "chained", "--duration-seconds", "7200")
		if code == 0 || !strings.Contains(errOut, "1 hour session limit for roles assumed by role chaining") {
			t.Fatalf("exit %d %s", code, errOut)
		}
	})

	c := gw.Client(inA, gw.EndpointTLS(vpceA))
	url := "https://" + gw.ExecuteAPIHost(apiID) + "/prod/r"
	get(t, c, url, nil, 403) // the deployment is served
	signed := func(akid, secret, token string) *http.Request {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		sum := sha256.Sum256(nil)
		creds := aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret, SessionToken: token}
		if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "execute-api", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
		return req
	}
	masked := "arn:aws:execute-api:us-east-1:********1111:" + apiID + "/prod/GET/r"
	invalid := `{"message":"The security token included in the request is invalid."}`
	tests := []struct {
		name      string
		req       *http.Request
		status    int
		body      string
		errorType string
	}{
		{"role policy allows (cross account, both allow)", signed(inv.AccessKeyID, inv.SecretAccessKey, inv.SessionToken), 200, `{"ok":true}`, ""},
		{"another session of the same role", signed(carolInv.AccessKeyID, carolInv.SecretAccessKey, carolInv.SessionToken), 200, `{"ok":true}`, ""},
		{"role without a policy", signed(idl.AccessKeyID, idl.SecretAccessKey, idl.SessionToken), 403,
			`{"Message":"User: arn:aws:sts::222222222222:assumed-role/idle/e2e is not authorized to perform: execute-api:Invoke on resource: ` + masked + `"}`, "AccessDeniedException"},
		{"missing session token", signed(inv.AccessKeyID, inv.SecretAccessKey, ""), 403, invalid, "AccessDeniedException"},
		{"wrong session token", signed(inv.AccessKeyID, inv.SecretAccessKey, idl.SessionToken), 403, invalid, "AccessDeniedException"},
		{"token of another session", signed(idl.AccessKeyID, idl.SecretAccessKey, inv.SessionToken), 403, invalid, "AccessDeniedException"},
		{"session key with the wrong secret", signed(inv.AccessKeyID, idl.SecretAccessKey, inv.SessionToken), 403, "", "InvalidSignatureException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := c.Do(tt.req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := readAll(resp)
			if resp.StatusCode != tt.status || (tt.body != "" && body != tt.body) {
				t.Fatalf("got %d %s\nwant %d %s", resp.StatusCode, body, tt.status, tt.body)
			}
			if tt.errorType != "" && resp.Header.Get("x-amzn-ErrorType") != tt.errorType {
				t.Errorf("x-amzn-ErrorType %q, want %q", resp.Header.Get("x-amzn-ErrorType"), tt.errorType)
			}
		})
	}
}

// TestRequestAuthorizer: a real Python REQUEST authorizer (header X-Tenant and query v as
// identity sources) guarding an AWS_PROXY method whose aws-lambda-go function echoes the
// event, so the authorizer's context can be checked where the integration receives it.
func TestRequestAuthorizer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Lambda handler")
	}
	ctx := context.Background()
	gw := gwtest.Start(t, gwtest.TwoVPCs, "")
	lc := lambdaClient(gw)
	echo, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("echo"), Runtime: lambdatypes.RuntimeProvidedal2023,
		Handler: aws.String("bootstrap"), Role: aws.String("arn:aws:iam::111111111111:role/echo"), Code: &lambdatypes.FunctionCode{ZipFile: buildEchoGo(t)}})
	if err != nil {
		t.Fatalf("CreateFunction echo: %v", err)
	}
	src, err := os.ReadFile(filepath.Join(moduleRoot(t), "examples/functions/authorizer-python/request_auth.py"))
	if err != nil {
		t.Fatal(err)
	}
	auth, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("reqauth"), Runtime: lambdatypes.RuntimePython311,
		Handler: aws.String("request_auth.handler"), Role: aws.String("arn:aws:iam::111111111111:role/auth"),
		Code: &lambdatypes.FunctionCode{ZipFile: zipFiles(t, map[string][]byte{"request_auth.py": src}, nil)}})
	if err != nil {
		t.Fatalf("CreateFunction reqauth: %v", err)
	}
	cp := gw.APIGateway("AKIAPROVIDER00000001", "provider-secret")
	uri := func(fn string) string {
		return "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/" + fn + "/invocations"
	}
	api, err := cp.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("req"),
		EndpointConfiguration: &types.EndpointConfiguration{Types: []types.EndpointType{types.EndpointTypePrivate}},
		Policy:                aws.String(policyOnlyFrom(vpceA))})
	if err != nil {
		t.Fatal(err)
	}
	a, err := cp.CreateAuthorizer(ctx, &apigateway.CreateAuthorizerInput{RestApiId: api.Id, Name: aws.String("req"), Type: types.AuthorizerTypeRequest,
		AuthorizerUri: aws.String(uri(*auth.FunctionArn)), IdentitySource: aws.String("method.request.header.X-Tenant, method.request.querystring.v")})
	if err != nil {
		t.Fatal(err)
	}
	res, err := cp.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: api.RootResourceId, PathPart: aws.String("guarded")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cp.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("GET"),
		AuthorizationType: aws.String("CUSTOM"), AuthorizerId: a.Id}); err != nil {
		t.Fatal(err)
	}
	if _, err := cp.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("GET"),
		Type: types.IntegrationTypeAwsProxy, IntegrationHttpMethod: aws.String("POST"), Uri: aws.String(uri(*echo.FunctionArn))}); err != nil {
		t.Fatal(err)
	}
	if _, err := cp.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id, StageName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	for _, fn := range []string{"echo", "reqauth"} {
		if _, err := lc.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String(fn), StatementId: aws.String("apigw"),
			Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("apigateway.amazonaws.com"),
			SourceArn: aws.String("arn:aws:execute-api:us-east-1:111111111111:" + *api.Id + "/*")}); err != nil {
			t.Fatalf("AddPermission %s: %v", fn, err)
		}
	}
	c := gw.Client(inA, gw.EndpointTLS(vpceA))
	base := "https://" + gw.ExecuteAPIHost(*api.Id) + "/prod/guarded"

	status, h, body := get(t, c, base+"?v=1", map[string]string{"X-Tenant": "blue"}, 200)
	if status != 200 || h.Get("X-Echo") != "echo-go" {
		t.Fatalf("allow: %d %s", status, body)
	}
	t.Run("authorizer context in the proxy event", func(t *testing.T) {
		var ev struct {
			RequestContext struct {
				Authorizer map[string]any `json:"authorizer"`
			} `json:"requestContext"`
		}
		if err := json.Unmarshal([]byte(body), &ev); err != nil {
			t.Fatalf("%v\n%s", err, body)
		}
		got := ev.RequestContext.Authorizer
		for k, want := range map[string]string{"principalId": "tenant-blue", "tenant": "blue", "apiVersion": "1", "eventType": "REQUEST"} {
			if got[k] != want {
				t.Errorf("requestContext.authorizer.%s = %v, want %q (authorizer: %v)", k, got[k], want, got)
			}
		}
	})

	logFile := filepath.Join(gw.DataDir, "functions", "reqauth.log")
	t.Run("missing identity source: 401 without calling the function", func(t *testing.T) {
		before := countStarts(t, logFile)
		for _, tc := range []struct {
			name, query string
			hdr         map[string]string
		}{
			{"no header", "?v=1", nil},
			{"no query parameter", "", map[string]string{"X-Tenant": "blue"}},
			{"empty query parameter", "?v=", map[string]string{"X-Tenant": "blue"}},
			{"neither", "", nil},
		} {
			status, h, body := do(t, c, "GET", base+tc.query, tc.hdr, "")
			if status != 401 || body != `{"message":"Unauthorized"}` || h.Get("x-amzn-ErrorType") != "UnauthorizedException" {
				t.Errorf("%s: %d %s %v", tc.name, status, body, h)
			}
		}
		if after := countStarts(t, logFile); after != before {
			t.Errorf("the authorizer was called %d times for requests missing an identity source", after-before)
		}
	})
	t.Run("deny", func(t *testing.T) {
		for _, tc := range []struct{ tenant, v string }{{"red", "1"}, {"blue", "2"}} {
			status, h, body := do(t, c, "GET", base+"?v="+tc.v, map[string]string{"X-Tenant": tc.tenant}, "")
			if status != 403 || body != `{"Message":"User is not authorized to access this resource with an explicit deny"}` || h.Get("x-amzn-ErrorType") != "AccessDeniedException" {
				t.Errorf("tenant %s v %s: %d %s %v", tc.tenant, tc.v, status, body, h)
			}
		}
	})
	t.Run("cached by identity sources", func(t *testing.T) {
		before := countStarts(t, logFile)
		for range 3 {
			if status, _, body := do(t, c, "GET", base+"?v=1&other=x", map[string]string{"X-Tenant": "blue", "X-Other": "y"}, ""); status != 200 {
				t.Fatalf("cached allow: %d %s", status, body)
			}
		}
		if after := countStarts(t, logFile); after != before {
			t.Errorf("authorizer called %d more times for cached identity sources", after-before)
		}
	})
}

// TestGatewayResponseCustomisation: PutGatewayResponse with a custom status, a header
// and a template rendered with $context, applied on redeploy; DEFAULT_4XX's status
// reaching a 4XX type (ACCESS_DENIED) that has no override of its own.
func TestGatewayResponseCustomisation(t *testing.T) {
	ctx := context.Background()
	gw := gwtest.Start(t, gwtest.TwoVPCs, "")
	cp := gw.APIGateway("AKIAPROVIDER00000001", "provider-secret")
	apiID := methodAPI(t, ctx, cp, policyOnlyFrom(vpceA), func(string, string) (string, string) { return "NONE", "" })
	fromA := gw.Client(inA, gw.EndpointTLS(vpceA))
	fromB := gw.Client(inB, gw.EndpointTLS(vpceB))
	base := "https://" + gw.ExecuteAPIHost(apiID) + "/prod"
	get(t, fromA, base+"/r", nil, 200)

	// AWS's defaults first.
	if status, h, body := do(t, fromA, "GET", base+"/missing", nil, ""); status != 403 || body != `{"message":"Missing Authentication Token"}` || h.Get("X-Custom") != "" {
		t.Fatalf("default MISSING_AUTHENTICATION_TOKEN: %d %s %v", status, body, h)
	}
	denied := `{"Message":"User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********1111:` + apiID + `/prod/GET/r with an explicit deny"}`
	if status, _, body := get(t, fromB, base+"/r", nil, 403); status != 403 || body != denied {
		t.Fatalf("default ACCESS_DENIED: %d %s", status, body)
	}

	if _, err := cp.PutGatewayResponse(ctx, &apigateway.PutGatewayResponseInput{RestApiId: aws.String(apiID),
		ResponseType: types.GatewayResponseTypeMissingAuthenticationToken, StatusCode: aws.String("404"),
		ResponseParameters: map[string]string{"gatewayresponse.header.X-Custom": "'yes'"},
		ResponseTemplates:  map[string]string{"application/json": `{"err":$context.error.messageString,"id":"$context.requestId"}`}}); err != nil {
		t.Fatal(err)
	}
	if _, err := cp.PutGatewayResponse(ctx, &apigateway.PutGatewayResponseInput{RestApiId: aws.String(apiID),
		ResponseType: types.GatewayResponseTypeDefault4xx, StatusCode: aws.String("418")}); err != nil {
		t.Fatal(err)
	}
	t.Run("not served before a redeploy", func(t *testing.T) {
		if status, h, _ := do(t, fromA, "GET", base+"/missing", nil, ""); status != 403 || h.Get("X-Custom") != "" {
			t.Fatalf("gateway response applied without a deployment: %d %v", status, h)
		}
	})
	if _, err := cp.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: aws.String(apiID), StageName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	t.Run("type override: status, header, template", func(t *testing.T) {
		status, h, body := get(t, fromA, base+"/missing", nil, 404)
		want := `{"err":"Missing Authentication Token","id":"` + h.Get("x-amzn-RequestId") + `"}`
		if status != 404 || h.Get("X-Custom") != "yes" || body != want || h.Get("x-amzn-RequestId") == "" {
			t.Fatalf("got %d %s %v\nwant 404 %s", status, body, h, want)
		}
		if h.Get("x-amzn-ErrorType") != "MissingAuthenticationTokenException" {
			t.Errorf("x-amzn-ErrorType %q", h.Get("x-amzn-ErrorType"))
		}
	})
	t.Run("DEFAULT_4XX status reaches ACCESS_DENIED", func(t *testing.T) {
		status, h, body := get(t, fromB, base+"/r", nil, 418)
		if status != 418 || body != denied || h.Get("x-amzn-ErrorType") != "AccessDeniedException" || h.Get("X-Custom") != "" {
			t.Fatalf("%d %s %v", status, body, h)
		}
	})
	t.Run("allowed requests unchanged", func(t *testing.T) {
		if status, _, body := do(t, fromA, "GET", base+"/r", nil, ""); status != 200 || body != `{"ok":true}` {
			t.Fatalf("%d %s", status, body)
		}
	})
}
