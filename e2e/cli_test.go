package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"gatehouse/internal/gwtest"
)

// patchJSON renders patch operations in the aws CLI's JSON form.
func patchJSON(t *testing.T, ops ...map[string]string) string {
	t.Helper()
	b, err := json.Marshal(ops)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// cliCreateAPI creates a PRIVATE API with the aws CLI and returns its id and root resource id.
func cliCreateAPI(t *testing.T, cli awsCLI, name string, extra ...string) (id, root string) {
	t.Helper()
	args := append([]string{"apigateway", "create-rest-api", "--name", name, "--endpoint-configuration", "types=PRIVATE",
		"--query", "[id,rootResourceId]", "--output", "text"}, extra...)
	id, root, ok := strings.Cut(cli.must(t, args...), "\t")
	if !ok || id == "" || root == "" {
		t.Fatalf("create-rest-api printed %q %q", id, root)
	}
	return id, root
}

// TestAWSCLIFlow is the first "done means" bullet, driven by the real aws CLI for
// the control plane and real curl for the data plane.
func TestAWSCLIFlow(t *testing.T) {
	needAWSCLI(t)
	needCurl(t)
	t.Parallel()
	gw := gwtest.Start(t, gwtest.TwoVPCs, "")
	backend := echoBackend(t)
	cli := awsCLI{endpoint: gw.ControlPlaneURL(), key: "AKIAPROVIDER00000001", secret: "provider-secret", region: "us-east-1"}

	api, root := cliCreateAPI(t, cli, "cli-private")
	proxy := cli.must(t, "apigateway", "create-resource", "--rest-api-id", api, "--parent-id", root,
		"--path-part", "{proxy+}", "--query", "id", "--output", "text")
	cli.must(t, "apigateway", "put-method", "--rest-api-id", api, "--resource-id", proxy, "--http-method", "ANY",
		"--authorization-type", "NONE", "--request-parameters", "method.request.path.proxy=true")
	cli.must(t, "apigateway", "put-integration", "--rest-api-id", api, "--resource-id", proxy, "--http-method", "ANY",
		"--type", "HTTP_PROXY", "--integration-http-method", "ANY", "--uri", backend.URL+"/{proxy}",
		"--request-parameters", "integration.request.path.proxy=method.request.path.proxy")

	// Deploying a PRIVATE API without a resource policy: AWS's exact 400, as the CLI shows it.
	out, errOut, code := cli.run(t, "apigateway", "create-deployment", "--rest-api-id", api, "--stage-name", "prod")
	const noPolicy = "Private REST API doesn't have a resource policy attached to it"
	if code != 255 || !strings.Contains(errOut, "BadRequestException") || !strings.Contains(errOut, noPolicy) {
		t.Fatalf("create-deployment without a policy: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}

	stored := cli.must(t, "apigateway", "update-rest-api", "--rest-api-id", api, "--patch-operations",
		patchJSON(t, map[string]string{"op": "replace", "path": "/policy", "value": policyOnlyFrom(vpceA)}),
		"--query", "policy", "--output", "text")
	if want := "arn:aws:execute-api:us-east-1:111111111111:" + api + "/*"; !strings.Contains(strings.NewReplacer(`\"`, `"`, `\/`, `/`).Replace(stored), want) {
		t.Errorf("stored policy does not name %s: %s", want, stored)
	}
	cli.must(t, "apigateway", "create-deployment", "--rest-api-id", api, "--stage-name", "prod")

	ca := gw.CAFile()
	execHost := gw.ExecuteAPIHost(api)
	denied := `{"Message":"User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********1111:` +
		api + `/prod/GET/pets/1 with an explicit deny"}`

	t.Run("vpce-A with x-apigw-api-id reaches the backend", func(t *testing.T) {
		r := curlReq{url: "https://" + gw.EndpointHost(vpceA) + "/prod/pets/1?color=red", source: inA,
			connectTo: gw.EndpointTLS(vpceA), cacert: ca, headers: []string{"x-apigw-api-id: " + api}}.until(t, 200)
		if r.status != 200 {
			t.Fatalf("status %d body %q stderr %s", r.status, r.body, r.stderr)
		}
		var echo map[string]string
		if err := json.Unmarshal([]byte(r.body), &echo); err != nil {
			t.Fatalf("backend body %q: %v", r.body, err)
		}
		if echo["path"] != "/pets/1" || echo["query"] != "color=red" || echo["vpce"] != vpceA || echo["xff"] != inA || echo["method"] != "GET" {
			t.Errorf("backend saw %v", echo)
		}
		if r.header.Get("X-Backend") != "echo" || r.header.Get("x-amzn-RequestId") == "" {
			t.Errorf("headers %v", r.header)
		}
	})
	t.Run("vpce-B gets AWS's explicit-deny 403", func(t *testing.T) {
		r := curlReq{url: "https://" + execHost + "/prod/pets/1", source: inB, connectTo: gw.EndpointTLS(vpceB), cacert: ca}.until(t, 403)
		if r.status != 403 || r.body != denied {
			t.Fatalf("status %d body %s\nwant %s", r.status, r.body, denied)
		}
		if got := r.header.Get("x-amzn-ErrorType"); got != "AccessDeniedException" {
			t.Errorf("x-amzn-ErrorType %q", got)
		}
	})
	t.Run("public listener refuses the private API", func(t *testing.T) {
		r := curlReq{url: "https://" + execHost + "/prod/pets/1", connectTo: gw.App.Addrs().Public, cacert: ca}.do(t)
		if r.status != 403 || r.body != `{"message":"Forbidden"}` {
			t.Fatalf("status %d body %s stderr %s", r.status, r.body, r.stderr)
		}
	})
	t.Run("alias name only once vpce-A is associated", func(t *testing.T) {
		alias := curlReq{url: "https://" + api + "-" + vpceA + ".execute-api.us-east-1.amazonaws.com/prod/pets",
			source: inA, connectTo: gw.EndpointTLS(vpceA), cacert: ca}
		if r := alias.do(t); r.status != 403 || r.body != `{"message":"Forbidden"}` {
			t.Fatalf("before association: status %d body %s stderr %s", r.status, r.body, r.stderr)
		}
		ids := cli.must(t, "apigateway", "update-rest-api", "--rest-api-id", api, "--patch-operations",
			"op=add,path=/endpointConfiguration/vpcEndpointIds,value="+vpceA,
			"--query", "endpointConfiguration.vpcEndpointIds", "--output", "text")
		if ids != vpceA {
			t.Errorf("vpcEndpointIds = %q", ids)
		}
		if r := alias.until(t, 200); r.status != 200 || !strings.Contains(r.body, `"path":"/pets"`) {
			t.Fatalf("after association: status %d body %s stderr %s", r.status, r.body, r.stderr)
		}
	})
}

// TestAWSCLIMissingAuthenticationToken: an unknown path on a CLI-built API without
// {proxy+} is AWS's Missing Authentication Token 403, as curl sees it.
func TestAWSCLIMissingAuthenticationToken(t *testing.T) {
	needAWSCLI(t)
	needCurl(t)
	t.Parallel()
	gw := gwtest.Start(t, gwtest.TwoVPCs, "")
	cli := awsCLI{endpoint: gw.ControlPlaneURL(), key: "AKIAPROVIDER00000001", secret: "provider-secret", region: "us-east-1"}
	ca := gw.CAFile()
	api, root := cliCreateAPI(t, cli, "cli-mock", "--policy", policyOnlyFrom(vpceA))
	health := cli.must(t, "apigateway", "create-resource", "--rest-api-id", api, "--parent-id", root, "--path-part", "health", "--query", "id", "--output", "text")
	cli.must(t, "apigateway", "put-method", "--rest-api-id", api, "--resource-id", health, "--http-method", "GET", "--authorization-type", "NONE")
	cli.must(t, "apigateway", "put-integration", "--rest-api-id", api, "--resource-id", health, "--http-method", "GET",
		"--type", "MOCK", "--request-templates", `{"application/json":"{\"statusCode\": 200}"}`)
	cli.must(t, "apigateway", "put-method-response", "--rest-api-id", api, "--resource-id", health, "--http-method", "GET", "--status-code", "200")
	cli.must(t, "apigateway", "put-integration-response", "--rest-api-id", api, "--resource-id", health, "--http-method", "GET",
		"--status-code", "200", "--response-templates", `{"application/json":"{\"ok\":true}"}`)
	cli.must(t, "apigateway", "create-deployment", "--rest-api-id", api, "--stage-name", "prod")

	host := gw.ExecuteAPIHost(api)
	ok := curlReq{url: "https://" + host + "/prod/health", source: inA, connectTo: gw.EndpointTLS(vpceA), cacert: ca}.until(t, 200)
	if ok.status != 200 || ok.body != `{"ok":true}` {
		t.Fatalf("known path: status %d body %s", ok.status, ok.body)
	}
	r := curlReq{url: "https://" + host + "/prod/nothing/here", source: inA, connectTo: gw.EndpointTLS(vpceA), cacert: ca}.do(t)
	if r.status != 403 || r.body != `{"message":"Missing Authentication Token"}` || r.header.Get("x-amzn-ErrorType") != "MissingAuthenticationTokenException" {
		t.Fatalf("unknown path: status %d body %s headers %v", r.status, r.body, r.header)
	}
}
