package e2e

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"gatehouse/internal/gwtest"
)

// zipFiles zips name → content.
func zipFiles(t *testing.T, files map[string][]byte, exec map[string]bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range files {
		h := &zip.FileHeader{Name: name, Method: zip.Deflate}
		mode := os.FileMode(0o644)
		if exec[name] {
			mode = 0o755
		}
		h.SetMode(mode)
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// buildEchoGo builds the aws-lambda-go example as a provided.al2023 bootstrap.
func buildEchoGo(t *testing.T) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", out, "./examples/functions/echo-go")
	cmd.Dir = moduleRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build echo-go: %v\n%s", err, b)
	}
	bin, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return zipFiles(t, map[string][]byte{"bootstrap": bin}, map[string]bool{"bootstrap": true})
}

func lambdaClient(gw *gwtest.Gateway) *lambda.Client {
	return lambda.New(lambda.Options{Region: "us-east-1", BaseEndpoint: aws.String(gw.ControlPlaneURL()),
		Credentials: credentials.NewStaticCredentialsProvider("AKIAPROVIDER00000001", "provider-secret", ""), RetryMaxAttempts: 1})
}

// TestLambdaProxyAndAuthorizer: a real aws-lambda-go handler behind an AWS_PROXY
// integration on a private API, guarded by a real Python TOKEN authorizer, both created
// through the Lambda API and run by gatehouse's function host.
func TestLambdaProxyAndAuthorizer(t *testing.T) {
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
	authSrc, err := os.ReadFile(filepath.Join(moduleRoot(t), "examples/functions/authorizer-python/auth.py"))
	if err != nil {
		t.Fatal(err)
	}
	auth, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("auth"), Runtime: lambdatypes.RuntimePython311,
		Handler: aws.String("auth.handler"), Role: aws.String("arn:aws:iam::111111111111:role/auth"), Code: &lambdatypes.FunctionCode{ZipFile: zipFiles(t, map[string][]byte{"auth.py": authSrc}, nil)}})
	if err != nil {
		t.Fatalf("CreateFunction auth: %v", err)
	}

	cp := gw.APIGateway("AKIAPROVIDER00000001", "provider-secret")
	uri := func(fn string) string {
		return "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/" + fn + "/invocations"
	}
	var authorizerID string
	apiID := func() string {
		api, err := cp.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("fn"),
			EndpointConfiguration: &types.EndpointConfiguration{Types: []types.EndpointType{types.EndpointTypePrivate}},
			Policy:                aws.String(policyOnlyFrom(vpceA))})
		if err != nil {
			t.Fatal(err)
		}
		a, err := cp.CreateAuthorizer(ctx, &apigateway.CreateAuthorizerInput{RestApiId: api.Id, Name: aws.String("tok"), Type: types.AuthorizerTypeToken,
			AuthorizerUri: aws.String(uri(*auth.FunctionArn)), IdentitySource: aws.String("method.request.header.Authorization")})
		if err != nil {
			t.Fatal(err)
		}
		authorizerID = *a.Id
		for _, p := range []struct{ part, authType string }{{"open", "NONE"}, {"guarded", "CUSTOM"}} {
			res, err := cp.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: api.RootResourceId, PathPart: aws.String(p.part)})
			if err != nil {
				t.Fatal(err)
			}
			pm := &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("GET"), AuthorizationType: aws.String(p.authType)}
			if p.authType == "CUSTOM" {
				pm.AuthorizerId = a.Id
			}
			if _, err := cp.PutMethod(ctx, pm); err != nil {
				t.Fatal(err)
			}
			if _, err := cp.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("GET"),
				Type: types.IntegrationTypeAwsProxy, IntegrationHttpMethod: aws.String("POST"), Uri: aws.String(uri(*echo.FunctionArn))}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := cp.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id, StageName: aws.String("prod")}); err != nil {
			t.Fatal(err)
		}
		return *api.Id
	}()
	c := gw.Client(inA, gw.EndpointTLS(vpceA))
	base := "https://" + gw.ExecuteAPIHost(apiID) + "/prod"

	// Without a permission for apigateway.amazonaws.com the integration fails, as on AWS.
	status, _, body := get(t, c, base+"/open?x=1", nil, 500)
	if status != 500 || body != `{"message": "Internal server error"}` {
		t.Fatalf("without permission: %d %s", status, body)
	}
	for _, fn := range []string{"echo", "auth"} {
		if _, err := lc.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String(fn), StatementId: aws.String("apigw"),
			Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("apigateway.amazonaws.com"),
			SourceArn: aws.String("arn:aws:execute-api:us-east-1:111111111111:" + apiID + "/*")}); err != nil {
			t.Fatalf("AddPermission %s: %v", fn, err)
		}
	}
	status, h, body := get(t, c, base+"/open?x=1&x=2", map[string]string{"X-Custom": "v"}, 200)
	if status != 200 || h.Get("X-Echo") != "echo-go" {
		t.Fatalf("proxy: %d %s %v", status, body, h)
	}
	var ev struct {
		Resource                        string              `json:"resource"`
		Path                            string              `json:"path"`
		HTTPMethod                      string              `json:"httpMethod"`
		Headers                         map[string]string   `json:"headers"`
		QueryStringParameters           map[string]string   `json:"queryStringParameters"`
		MultiValueQueryStringParameters map[string][]string `json:"multiValueQueryStringParameters"`
		PathParameters                  map[string]string   `json:"pathParameters"`
		Body                            *string             `json:"body"`
		IsBase64Encoded                 bool                `json:"isBase64Encoded"`
		RequestContext                  struct {
			AccountID    string `json:"accountId"`
			APIID        string `json:"apiId"`
			Stage        string `json:"stage"`
			Path         string `json:"path"`
			ResourcePath string `json:"resourcePath"`
			RequestID    string `json:"requestId"`
			Identity     struct {
				SourceIP string `json:"sourceIp"`
				VpcID    string `json:"vpcId"`
				VpceID   string `json:"vpceId"`
			} `json:"identity"`
		} `json:"requestContext"`
	}
	if err := json.Unmarshal([]byte(body), &ev); err != nil {
		t.Fatalf("event: %v\n%s", err, body)
	}
	rcx := ev.RequestContext
	if ev.Resource != "/open" || ev.Path != "/open" || ev.HTTPMethod != "GET" || ev.QueryStringParameters["x"] != "2" ||
		strings.Join(ev.MultiValueQueryStringParameters["x"], ",") != "1,2" || ev.PathParameters != nil || ev.Body != nil || ev.IsBase64Encoded ||
		rcx.AccountID != "111111111111" || rcx.APIID != apiID || rcx.Stage != "prod" || rcx.Path != "/prod/open" || rcx.ResourcePath != "/open" ||
		rcx.RequestID != h.Get("x-amzn-RequestId") || rcx.Identity.SourceIP != inA || rcx.Identity.VpceID != vpceA || rcx.Identity.VpcID != "vpc-0aaaaaaaaaaaaaaa1" {
		t.Errorf("event fields: %+v", ev)
	}

	// The TOKEN authorizer.
	tests := []struct {
		name, token string
		status      int
		body        string
	}{
		{"no token", "", 401, `{"message":"Unauthorized"}`},
		{"function says Unauthorized", "nope", 401, `{"message":"Unauthorized"}`},
		{"deny policy", "deny", 403, `{"Message":"User is not authorized to access this resource with an explicit deny"}`},
		{"garbage output", "garbage", 500, `{"message": null}`},
		{"allow", "allow", 200, ""},
	}
	for _, tt := range tests {
		t.Run("authorizer "+tt.name, func(t *testing.T) {
			hdr := map[string]string{}
			if tt.token != "" {
				hdr["Authorization"] = tt.token
			}
			status, _, body := do(t, c, "GET", base+"/guarded", hdr, "")
			if status != tt.status || (tt.body != "" && body != tt.body) {
				t.Fatalf("got %d %s, want %d %s", status, body, tt.status, tt.body)
			}
			if tt.status == 200 && !strings.Contains(body, `"principalId":"user-1"`) {
				t.Errorf("authorizer context not in the event: %s", body)
			}
		})
	}
	// Within the TTL the same token is not sent to the function again.
	logFile := filepath.Join(gw.DataDir, "functions", "auth.log")
	before := countStarts(t, logFile)
	for range 5 {
		if status, _, body := do(t, c, "GET", base+"/guarded", map[string]string{"Authorization": "allow"}, ""); status != 200 {
			t.Fatalf("cached allow: %d %s", status, body)
		}
	}
	if after := countStarts(t, logFile); after != before {
		t.Errorf("authorizer called %d more times for a cached token", after-before)
	}
	_ = authorizerID
}

func countStarts(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("function log: %v", err)
	}
	return strings.Count(string(b), "START RequestId:")
}
