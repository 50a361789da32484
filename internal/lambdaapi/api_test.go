package lambdaapi

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"
	"github.com/aws/smithy-go"

	"gatehouse/internal/function"
	"gatehouse/internal/store"
)

const (
	accountA   = "111111111111"
	accountB   = "222222222222"
	testRegion = "us-east-1"
	role       = "arn:aws:iam::111111111111:role/lambda-exec"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// built returns a test program built from the module: "echo-go" or "faulty".
func built(t testing.TB, name string) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "gatehouse-lambdaapi-test-")
		if buildErr != nil {
			return
		}
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		for bin, pkg := range map[string]string{
			"echo-go": "./examples/functions/echo-go",
			"faulty":  "./internal/function/testdata/faulty",
		} {
			cmd := exec.Command(goTool, "build", "-tags", "lambda.norpc", "-o", filepath.Join(buildDir, bin), pkg)
			cmd.Dir = "../.."
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(buildDir, name)
}

var (
	zipMu    sync.Mutex
	zipCache = map[string][]byte{}
)

// zipOf packages a built program under the given name.
func zipOf(t testing.TB, program, name string) []byte {
	t.Helper()
	zipMu.Lock()
	defer zipMu.Unlock()
	if z, ok := zipCache[program+"/"+name]; ok {
		return z
	}
	b, err := os.ReadFile(built(t, program))
	if err != nil {
		t.Fatal(err)
	}
	z := makeZip(t, zipEntry{name: name, data: string(b), mode: 0o755})
	zipCache[program+"/"+name] = z
	return z
}

func testLogger() *slog.Logger {
	if os.Getenv("GW_TEST_LOG") == "debug" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// node is one gatehouse node's Lambda pieces on a shared store.
type node struct {
	srv  *Server
	host *function.Host
	a, b *lambda.Client // callers of account A and account B
}

type env struct {
	store *store.Store
	data  string
	n1    *node
}

func openStore(t testing.TB) (*store.Store, string) {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, store.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st, dir
}

func newNode(t testing.TB, st *store.Store, topo []function.Function, opts ...func(*Options)) *node {
	t.Helper()
	data := t.TempDir()
	host, err := function.NewHost(function.HostOptions{Region: testRegion, DataDir: data, Functions: topo, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = host.Close() })
	o := Options{Store: st, Host: host, DataDir: data, Region: testRegion, Topology: topo, Logger: testLogger()}
	for _, f := range opts {
		f(&o)
	}
	srv, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return &node{srv: srv, host: host, a: client(t, srv, accountA), b: client(t, srv, accountB)}
}

// client is an SDK client whose requests reach srv as account's.
func client(t testing.TB, srv *Server, account string) *lambda.Client {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		srv.ServeLambda(w, r, Caller{Account: account, AccessKeyID: "AKIDEXAMPLE"}, body)
	}))
	t.Cleanup(ts.Close)
	cfg := aws.Config{Region: testRegion, Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")}
	return lambda.NewFromConfig(cfg, func(o *lambda.Options) {
		o.BaseEndpoint = aws.String(ts.URL)
		o.Retryer = aws.NopRetryer{}
	})
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func wantAPIError(t testing.TB, err error, code, message string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want an API error %s", err, code)
	}
	if ae.ErrorCode() != code || (message != "" && ae.ErrorMessage() != message) {
		t.Fatalf("got %s %q\nwant %s %q", ae.ErrorCode(), ae.ErrorMessage(), code, message)
	}
}

func createEcho(t testing.TB, c *lambda.Client, name string) *lambda.CreateFunctionOutput {
	t.Helper()
	out, err := c.CreateFunction(ctxT(t), &lambda.CreateFunctionInput{
		FunctionName: aws.String(name),
		Runtime:      types.RuntimeProvidedal2023,
		Handler:      aws.String("bootstrap"),
		Role:         aws.String(role),
		Code:         &types.FunctionCode{ZipFile: zipOf(t, "echo-go", "bootstrap")},
		Environment:  &types.Environment{Variables: map[string]string{"STAGE": "test"}},
	})
	if err != nil {
		t.Fatalf("CreateFunction %s: %v", name, err)
	}
	return out
}

func TestFunctionLifecycle(t *testing.T) {
	st, _ := openStore(t)
	n := newNode(t, st, nil)
	ctx := ctxT(t)

	zip := zipOf(t, "echo-go", "bootstrap")
	sum := sha256.Sum256(zip)
	created := createEcho(t, n.a, "echo")
	if aws.ToString(created.FunctionArn) != "arn:aws:lambda:us-east-1:111111111111:function:echo" ||
		aws.ToString(created.CodeSha256) != base64.StdEncoding.EncodeToString(sum[:]) ||
		created.State != types.StateActive || aws.ToInt32(created.Timeout) != 3 || aws.ToInt32(created.MemorySize) != 128 ||
		created.Runtime != types.RuntimeProvidedal2023 || aws.ToString(created.Version) != "$LATEST" ||
		created.Environment.Variables["STAGE"] != "test" || aws.ToInt64(&created.CodeSize) != int64(len(zip)) {
		t.Fatalf("CreateFunction output: %+v", created)
	}

	_, err := n.a.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("echo"), Runtime: types.RuntimeProvidedal2023,
		Role: aws.String(role), Code: &types.FunctionCode{ZipFile: zip}})
	wantAPIError(t, err, "ResourceConflictException", "Function already exist: echo")

	got, err := n.a.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("echo")})
	if err != nil || aws.ToString(got.Configuration.FunctionName) != "echo" || aws.ToString(got.Code.RepositoryType) != "S3" {
		t.Fatalf("GetFunction: %v %+v", err, got)
	}
	// By ARN and partial ARN too.
	for _, name := range []string{"arn:aws:lambda:us-east-1:111111111111:function:echo", "111111111111:function:echo", "echo:$LATEST"} {
		if _, err := n.a.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: aws.String(name)}); err != nil {
			t.Fatalf("GetFunctionConfiguration %s: %v", name, err)
		}
	}
	// Another account does not see it.
	_, err = n.b.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("echo")})
	wantAPIError(t, err, "ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:222222222222:function:echo")

	// Invoke with the log tail.
	inv, err := n.a.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte(`{"path":"/x"}`), LogType: types.LogTypeTail})
	if err != nil || inv.StatusCode != 200 || inv.FunctionError != nil || aws.ToString(inv.ExecutedVersion) != "$LATEST" {
		t.Fatalf("Invoke: %v %+v", err, inv)
	}
	var resp struct {
		StatusCode int    `json:"statusCode"`
		Body       string `json:"body"`
	}
	if err := json.Unmarshal(inv.Payload, &resp); err != nil || resp.StatusCode != 200 || resp.Body != `{"path":"/x"}` {
		t.Fatalf("payload %s", inv.Payload)
	}
	tail, _ := base64.StdEncoding.DecodeString(aws.ToString(inv.LogResult))
	if !strings.Contains(string(tail), "START RequestId: ") || !strings.Contains(string(tail), "REPORT RequestId: ") {
		t.Fatalf("log tail %q", tail)
	}

	// DryRun and Event.
	dry, err := n.a.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("echo"), InvocationType: types.InvocationTypeDryRun})
	if err != nil || dry.StatusCode != 204 {
		t.Fatalf("DryRun: %v %+v", err, dry)
	}
	ev, err := n.a.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("echo"), InvocationType: types.InvocationTypeEvent, Payload: []byte(`{"async":true}`)})
	if err != nil || ev.StatusCode != 202 {
		t.Fatalf("Event: %v %+v", err, ev)
	}
	logFile := filepath.Join(n.srv.dataDir, "functions", "echo.log")
	eventually(t, func() bool {
		b, _ := os.ReadFile(logFile)
		return strings.Count(string(b), "START RequestId: ") >= 2
	})

	// A non-JSON payload is refused by the API.
	_, err = n.a.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte(`not json`)})
	wantAPIError(t, err, "InvalidRequestContentException", "")

	// UpdateFunctionCode swaps the program; warm instances are replaced.
	upd, err := n.a.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("echo"), ZipFile: zipOf(t, "faulty", "bootstrap")})
	if err != nil || aws.ToString(upd.CodeSha256) == aws.ToString(created.CodeSha256) || aws.ToString(upd.RevisionId) == aws.ToString(created.RevisionId) {
		t.Fatalf("UpdateFunctionCode: %v %+v", err, upd)
	}
	inv, err = n.a.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte(`{"action":"error"}`)})
	if err != nil || aws.ToString(inv.FunctionError) != "Unhandled" || !strings.Contains(string(inv.Payload), "bad thing happened") {
		t.Fatalf("Invoke after the update: %v %+v %s", err, inv, inv.Payload)
	}
	// A stale RevisionId is refused.
	_, err = n.a.UpdateFunctionCode(ctx, &lambda.UpdateFunctionCodeInput{FunctionName: aws.String("echo"), ZipFile: zip, RevisionId: created.RevisionId})
	wantAPIError(t, err, "PreconditionFailedException", msgRevisionMismatch)

	// UpdateFunctionConfiguration.
	cfg, err := n.a.UpdateFunctionConfiguration(ctx, &lambda.UpdateFunctionConfigurationInput{FunctionName: aws.String("echo"),
		Timeout: aws.Int32(1), MemorySize: aws.Int32(256), Description: aws.String("d")})
	if err != nil || aws.ToInt32(cfg.Timeout) != 1 || aws.ToInt32(cfg.MemorySize) != 256 || aws.ToString(cfg.Description) != "d" {
		t.Fatalf("UpdateFunctionConfiguration: %v %+v", err, cfg)
	}
	inv, err = n.a.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("echo"), Payload: []byte(`{"action":"hang"}`)})
	if err != nil || !strings.Contains(string(inv.Payload), "Task timed out after 1.00 seconds") {
		t.Fatalf("timeout after the update: %v %s", err, inv.Payload)
	}

	list, err := n.a.ListFunctions(ctx, &lambda.ListFunctionsInput{})
	if err != nil || len(list.Functions) != 1 || aws.ToString(list.Functions[0].FunctionName) != "echo" {
		t.Fatalf("ListFunctions: %v %+v", err, list)
	}

	e, err := st.Get(ctx, function.Bucket, "111111111111/echo")
	if err != nil {
		t.Fatal(err)
	}
	rec, _ := decodeRecord(e.Value)
	if _, err := os.Stat(filepath.Join(rec.CodeDir, "bootstrap")); err != nil {
		t.Fatalf("code dir: %v", err)
	}
	if _, err := n.a.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("echo")}); err != nil {
		t.Fatal(err)
	}
	_, err = n.a.GetFunction(ctx, &lambda.GetFunctionInput{FunctionName: aws.String("echo")})
	wantAPIError(t, err, "ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:111111111111:function:echo")
	_, err = n.a.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("echo")})
	wantAPIError(t, err, "ResourceNotFoundException", "Function not found: arn:aws:lambda:us-east-1:111111111111:function:echo")
	_, err = n.a.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("echo")})
	wantAPIError(t, err, "ResourceNotFoundException", "")
	if _, err := os.Stat(rec.CodeDir); err == nil {
		t.Fatal("the deleted function's code is still on disk")
	}
}

func eventually(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 20s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestCreateFunctionValidation(t *testing.T) {
	st, _ := openStore(t)
	n := newNode(t, st, nil)
	ctx := ctxT(t)
	good := makeZip(t, zipEntry{name: "bootstrap", data: "#!/bin/sh\n", mode: 0o755})
	base := func() *lambda.CreateFunctionInput {
		return &lambda.CreateFunctionInput{FunctionName: aws.String("f"), Runtime: types.RuntimeProvidedal2023,
			Role: aws.String(role), Code: &types.FunctionCode{ZipFile: good}}
	}
	tests := []struct {
		name      string
		edit      func(in *lambda.CreateFunctionInput)
		code, msg string
	}{
		{"bad name", func(in *lambda.CreateFunctionInput) { in.FunctionName = aws.String("a b") }, "ValidationException",
			"1 validation error detected: Value 'a b' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: " + functionNamePattern},
		{"bad role", func(in *lambda.CreateFunctionInput) { in.Role = aws.String("role") }, "ValidationException", ""},
		{"timeout 0", func(in *lambda.CreateFunctionInput) { in.Timeout = aws.Int32(0) }, "ValidationException",
			"1 validation error detected: Value '0' at 'timeout' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"timeout 901", func(in *lambda.CreateFunctionInput) { in.Timeout = aws.Int32(901) }, "ValidationException", ""},
		{"memory 64", func(in *lambda.CreateFunctionInput) { in.MemorySize = aws.Int32(64) }, "ValidationException",
			"1 validation error detected: Value '64' at 'memorySize' failed to satisfy constraint: Member must have value greater than or equal to 128"},
		{"unsupported runtime", func(in *lambda.CreateFunctionInput) { in.Runtime = types.RuntimeNodejs20x }, "InvalidParameterValueException",
			fmt.Sprintf(unsupportedRuntimeFmt, "nodejs20.x")},
		{"python without a handler", func(in *lambda.CreateFunctionInput) { in.Runtime = types.RuntimePython312 }, "InvalidParameterValueException",
			"Handler is required for runtime python3.12."},
		{"reserved environment keys", func(in *lambda.CreateFunctionInput) {
			in.Environment = &types.Environment{Variables: map[string]string{"AWS_REGION": "x", "OK": "y", "AWS_LAMBDA_RUNTIME_API": "z"}}
		}, "InvalidParameterValueException", fmt.Sprintf(msgReservedEnvFmt, "AWS_LAMBDA_RUNTIME_API,AWS_REGION")},
		{"environment over 4 KB", func(in *lambda.CreateFunctionInput) {
			in.Environment = &types.Environment{Variables: map[string]string{"BIG": strings.Repeat("x", 4100)}}
		}, "InvalidParameterValueException", ""},
		{"not a zip", func(in *lambda.CreateFunctionInput) { in.Code.ZipFile = []byte("garbage") }, "InvalidParameterValueException", msgUnzip},
		{"zip slip", func(in *lambda.CreateFunctionInput) {
			in.Code.ZipFile = makeZip(t, zipEntry{name: "../../evil", data: "x"})
		}, "InvalidParameterValueException", msgUnzip},
		{"S3 code", func(in *lambda.CreateFunctionInput) {
			in.Code = &types.FunctionCode{S3Bucket: aws.String("b"), S3Key: aws.String("k")}
		}, "InvalidParameterValueException", unsupportedCodeSource},
		{"no code", func(in *lambda.CreateFunctionInput) { in.Code = &types.FunctionCode{} }, "InvalidParameterValueException", missingCodeMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base()
			tt.edit(in)
			_, err := n.a.CreateFunction(ctx, in)
			wantAPIError(t, err, tt.code, tt.msg)
		})
	}
	if list, err := n.a.ListFunctions(ctx, &lambda.ListFunctionsInput{}); err != nil || len(list.Functions) != 0 {
		t.Fatalf("a refused create left a function: %v %+v", err, list)
	}
}

func TestPermissionsAndAllowsInvoke(t *testing.T) {
	st, _ := openStore(t)
	topo := []function.Function{{Name: "topo", Account: accountA, Command: &function.Command{Path: "/bin/true"}}}
	n := newNode(t, st, topo)
	ctx := ctxT(t)
	createEcho(t, n.a, "echo")
	const arn = "arn:aws:lambda:us-east-1:111111111111:function:echo"
	src := func(api, rest string) string { return "arn:aws:execute-api:us-east-1:111111111111:" + api + "/" + rest }

	// No permission: API Gateway may not invoke.
	if n.srv.AllowsInvoke(arn, apigatewayPrincipal, src("abc123", "prod/GET/pets")) {
		t.Fatal("allowed without a permission")
	}
	_, err := n.a.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("echo")})
	wantAPIError(t, err, "ResourceNotFoundException", msgPolicyNotFound)

	add, err := n.a.AddPermission(ctx, &lambda.AddPermissionInput{
		FunctionName: aws.String("echo"), StatementId: aws.String("apigw"), Action: aws.String("lambda:InvokeFunction"),
		Principal: aws.String("apigateway.amazonaws.com"), SourceArn: aws.String(src("abc123", "*/GET/*")),
	})
	if err != nil {
		t.Fatal(err)
	}
	wantStatement := `{"Sid":"apigw","Effect":"Allow","Principal":{"Service":"apigateway.amazonaws.com"},"Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:111111111111:function:echo","Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:execute-api:us-east-1:111111111111:abc123/*/GET/*"}}}`
	if aws.ToString(add.Statement) != wantStatement {
		t.Fatalf("statement\n got %s\nwant %s", aws.ToString(add.Statement), wantStatement)
	}
	_, err = n.a.AddPermission(ctx, &lambda.AddPermissionInput{
		FunctionName: aws.String("echo"), StatementId: aws.String("apigw"), Action: aws.String("lambda:InvokeFunction"),
		Principal: aws.String("apigateway.amazonaws.com"),
	})
	wantAPIError(t, err, "ResourceConflictException", msgSidExists)
	_, err = n.a.AddPermission(ctx, &lambda.AddPermissionInput{
		FunctionName: aws.String("echo"), StatementId: aws.String("bad sid"), Action: aws.String("lambda:InvokeFunction"),
		Principal: aws.String("apigateway.amazonaws.com"),
	})
	wantAPIError(t, err, "ValidationException", "")

	pol, err := n.a.GetPolicy(ctx, &lambda.GetPolicyInput{FunctionName: aws.String("echo")})
	if err != nil || aws.ToString(pol.Policy) != `{"Version":"2012-10-17","Id":"default","Statement":[`+wantStatement+`]}` || aws.ToString(pol.RevisionId) == "" {
		t.Fatalf("GetPolicy: %v %+v", err, pol)
	}

	tests := []struct {
		name, fn, principal, source string
		want                        bool
	}{
		{"matching GET", arn, apigatewayPrincipal, src("abc123", "prod/GET/pets"), true},
		{"matching GET, qualified ARN", arn + ":$LATEST", apigatewayPrincipal, src("abc123", "dev/GET/a/b"), true},
		{"other method", arn, apigatewayPrincipal, src("abc123", "prod/POST/pets"), false},
		{"other API", arn, apigatewayPrincipal, src("zzz999", "prod/GET/pets"), false},
		{"other principal", arn, "events.amazonaws.com", src("abc123", "prod/GET/pets"), false},
		{"no source", arn, apigatewayPrincipal, "", false},
		{"unknown function", "arn:aws:lambda:us-east-1:111111111111:function:nope", apigatewayPrincipal, src("abc123", "prod/GET/pets"), false},
		{"other region", "arn:aws:lambda:eu-west-1:111111111111:function:echo", apigatewayPrincipal, src("abc123", "prod/GET/pets"), false},
		{"topology function, same account", "arn:aws:lambda:us-east-1:111111111111:function:topo", apigatewayPrincipal, src("any", "prod/GET/x"), true},
		{"topology function, other account", "arn:aws:lambda:us-east-1:111111111111:function:topo", apigatewayPrincipal,
			"arn:aws:execute-api:us-east-1:222222222222:any/prod/GET/x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := n.srv.AllowsInvoke(tt.fn, tt.principal, tt.source); got != tt.want {
				t.Fatalf("AllowsInvoke = %v, want %v", got, tt.want)
			}
		})
	}

	// SourceAccount: any API of account B.
	if _, err := n.a.AddPermission(ctx, &lambda.AddPermissionInput{
		FunctionName: aws.String("echo"), StatementId: aws.String("from-b"), Action: aws.String("lambda:*"),
		Principal: aws.String("apigateway.amazonaws.com"), SourceAccount: aws.String(accountB),
	}); err != nil {
		t.Fatal(err)
	}
	if !n.srv.AllowsInvoke(arn, apigatewayPrincipal, "arn:aws:execute-api:us-east-1:222222222222:b1/prod/PUT/x") {
		t.Fatal("SourceAccount statement did not allow account B's API")
	}

	// Cross-account Invoke through the API needs an account principal.
	_, err = n.b.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(arn), Payload: []byte(`{}`)})
	wantAPIError(t, err, "AccessDeniedException", "")
	if _, err := n.a.AddPermission(ctx, &lambda.AddPermissionInput{
		FunctionName: aws.String("echo"), StatementId: aws.String("account-b"), Action: aws.String("lambda:InvokeFunction"),
		Principal: aws.String(accountB),
	}); err != nil {
		t.Fatal(err)
	}
	if out, err := n.b.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String(arn), Payload: []byte(`{}`)}); err != nil || out.StatusCode != 200 {
		t.Fatalf("cross-account invoke with permission: %v", err)
	}

	if _, err := n.a.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String("echo"), StatementId: aws.String("apigw")}); err != nil {
		t.Fatal(err)
	}
	if n.srv.AllowsInvoke(arn, apigatewayPrincipal, src("abc123", "prod/GET/pets")) {
		t.Fatal("allowed after RemovePermission")
	}
	_, err = n.a.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String("echo"), StatementId: aws.String("apigw")})
	wantAPIError(t, err, "ResourceNotFoundException", "Statement apigw is not found in resource policy.")

	// Topology functions are listed, invocable and read-only.
	list, err := n.a.ListFunctions(ctx, &lambda.ListFunctionsInput{})
	if err != nil || len(list.Functions) != 2 {
		t.Fatalf("ListFunctions: %v %+v", err, list)
	}
	_, err = n.a.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String("topo")})
	wantAPIError(t, err, "InvalidParameterValueException", fmt.Sprintf(msgTopologyFunctionFmt, "topo"))
	_, err = n.a.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("topo"), Runtime: types.RuntimeProvidedal2023,
		Role: aws.String(role), Code: &types.FunctionCode{ZipFile: zipOf(t, "echo-go", "bootstrap")}})
	wantAPIError(t, err, "ResourceConflictException", "Function already exist: topo")
}

// TestSyncAcrossNodes writes through one node and reads through another that
// shares the store.
func TestSyncAcrossNodes(t *testing.T) {
	st, _ := openStore(t)
	n1 := newNode(t, st, nil)
	n2 := newNode(t, st, nil)
	ctx, cancel := context.WithCancel(ctxT(t))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = n2.srv.Sync(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case <-n2.srv.Synced():
	case <-time.After(30 * time.Second):
		t.Fatal("Sync did not load the store")
	}
	createEcho(t, n1.a, "shared")
	const arn = "arn:aws:lambda:us-east-1:111111111111:function:shared"
	if _, err := n1.a.AddPermission(ctxT(t), &lambda.AddPermissionInput{
		FunctionName: aws.String("shared"), StatementId: aws.String("apigw"), Action: aws.String("lambda:InvokeFunction"),
		Principal: aws.String("apigateway.amazonaws.com"),
	}); err != nil {
		t.Fatal(err)
	}
	src := "arn:aws:execute-api:us-east-1:111111111111:api/prod/GET/"
	eventually(t, func() bool { return n2.srv.AllowsInvoke(arn, apigatewayPrincipal, src) })
	// Node 2's host runs the function node 1 created.
	eventually(t, func() bool { _, ok := n2.host.Function(arn); return ok })
	res, err := n2.host.Invoke(ctxT(t), arn, []byte(`{"n":2}`))
	if err != nil || !strings.Contains(string(res.Payload), `{\"n\":2}`) {
		t.Fatalf("invoke on node 2: %v %s", err, res.Payload)
	}
	if _, err := n1.a.DeleteFunction(ctxT(t), &lambda.DeleteFunctionInput{FunctionName: aws.String("shared")}); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool {
		_, ok := n2.host.Function(arn)
		return !ok && !n2.srv.AllowsInvoke(arn, apigatewayPrincipal, src)
	})
}

func TestPythonFunctionThroughAPI(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3")
	}
	st, _ := openStore(t)
	n := newNode(t, st, nil)
	ctx := ctxT(t)
	src, err := os.ReadFile("../../examples/functions/echo-python/handler.py")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.a.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("py"), Runtime: types.RuntimePython312,
		Handler: aws.String("handler.handler"), Role: aws.String(role),
		Code: &types.FunctionCode{ZipFile: makeZip(t, zipEntry{name: "handler.py", data: string(src)})}}); err != nil {
		t.Fatal(err)
	}
	out, err := n.a.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("py"), Payload: []byte(`{"path":"/py"}`)})
	if err != nil || out.FunctionError != nil || !strings.Contains(string(out.Payload), `"statusCode": 200`) {
		t.Fatalf("python invoke: %v %+v %s", err, out, out.Payload)
	}
	out, err = n.a.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("py"), Payload: []byte(`{"action":"fail"}`)})
	if err != nil || aws.ToString(out.FunctionError) != "Unhandled" || !strings.Contains(string(out.Payload), `"errorType": "ValueError"`) {
		t.Fatalf("python error: %v %s", err, out.Payload)
	}
}

func TestVpcConfig(t *testing.T) {
	st, _ := openStore(t)
	n := newNode(t, st, nil, func(o *Options) {
		o.VPCOf = func(account string, subnets []string) (*function.VPC, error) {
			if len(subnets) == 1 && subnets[0] == "subnet-0aaaaaaaaaaaaaaa1" {
				return &function.VPC{ID: "vpc-0aaaaaaaaaaaaaaa1", CIDR: "127.10.0.0/16", Resolver: "127.10.0.2"}, nil
			}
			return nil, fmt.Errorf("The subnet ID '%s' does not exist", subnets[0])
		}
	})
	ctx := ctxT(t)
	in := &lambda.CreateFunctionInput{FunctionName: aws.String("in-vpc"), Runtime: types.RuntimeProvidedal2023, Role: aws.String(role),
		Code:      &types.FunctionCode{ZipFile: zipOf(t, "faulty", "bootstrap")},
		VpcConfig: &types.VpcConfig{SubnetIds: []string{"subnet-0aaaaaaaaaaaaaaa1"}, SecurityGroupIds: []string{"sg-0aaaaaaaaaaaaaaa1"}}}
	out, err := n.a.CreateFunction(ctx, in)
	if err != nil || aws.ToString(out.VpcConfig.VpcId) != "vpc-0aaaaaaaaaaaaaaa1" || out.VpcConfig.SecurityGroupIds[0] != "sg-0aaaaaaaaaaaaaaa1" {
		t.Fatalf("CreateFunction: %v %+v", err, out)
	}
	res, err := n.a.Invoke(ctx, &lambda.InvokeInput{FunctionName: aws.String("in-vpc"), Payload: []byte(`{"action":"context"}`)})
	if err != nil || !strings.Contains(string(res.Payload), `"GATEHOUSE_VPC_ID":"vpc-0aaaaaaaaaaaaaaa1"`) ||
		!strings.Contains(string(res.Payload), `"GATEHOUSE_VPC_RESOLVER":"127.10.0.2"`) {
		t.Fatalf("invoke: %v %s", err, res.Payload)
	}
	in.FunctionName = aws.String("bad-vpc")
	in.VpcConfig.SubnetIds = []string{"subnet-0zzzzzzzzzzzzzzz9"}
	_, err = n.a.CreateFunction(ctx, in)
	wantAPIError(t, err, "InvalidParameterValueException", "The subnet ID 'subnet-0zzzzzzzzzzzzzzz9' does not exist")
}
