package controlplane

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"gatehouse/internal/apimodel"
)

var idRe = regexp.MustCompile(`^[a-z0-9]{10}$`)

func TestRestAPILifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)

	created := e.newAPI(t, &apigateway.CreateRestApiInput{Name: aws.String("pets"), Description: aws.String("my api"),
		Tags: map[string]string{"team": "a"}})
	if !idRe.MatchString(*created.Id) || !idRe.MatchString(*created.RootResourceId) {
		t.Fatalf("ids %q/%q not shaped like AWS's", *created.Id, *created.RootResourceId)
	}
	if created.ApiKeySource != types.ApiKeySourceTypeHeader || created.DisableExecuteApiEndpoint ||
		created.EndpointConfiguration == nil || len(created.EndpointConfiguration.Types) != 1 ||
		created.EndpointConfiguration.Types[0] != types.EndpointTypeEdge ||
		created.EndpointConfiguration.IpAddressType != types.IpAddressTypeIpv4 {
		t.Fatalf("defaults not applied: %+v %+v", created, created.EndpointConfiguration)
	}
	if created.CreatedDate == nil || created.CreatedDate.IsZero() || created.Tags["team"] != "a" {
		t.Fatalf("createdDate/tags: %+v", created)
	}

	got := must[*apigateway.GetRestApiOutput](t)(e.a.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: created.Id}))
	if *got.Name != "pets" || *got.Description != "my api" || *got.RootResourceId != *created.RootResourceId {
		t.Fatalf("GetRestApi = %+v", got)
	}

	res := must[*apigateway.GetResourcesOutput](t)(e.a.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: created.Id}))
	if len(res.Items) != 1 || *res.Items[0].Path != "/" || *res.Items[0].Id != *created.RootResourceId {
		t.Fatalf("root resource: %+v", res.Items)
	}

	upd := must[*apigateway.UpdateRestApiOutput](t)(e.a.UpdateRestApi(ctx, &apigateway.UpdateRestApiInput{
		RestApiId: created.Id,
		PatchOperations: []types.PatchOperation{
			patch(types.OpReplace, "/name", "renamed"),
			patch(types.OpReplace, "/description", "changed"),
			patch(types.OpReplace, "/minimumCompressionSize", "1024"),
			patch(types.OpReplace, "/apiKeySource", "AUTHORIZER"),
			patch(types.OpReplace, "/disableExecuteApiEndpoint", "true"),
		},
	}))
	if *upd.Name != "renamed" || *upd.Description != "changed" || *upd.MinimumCompressionSize != 1024 ||
		upd.ApiKeySource != types.ApiKeySourceTypeAuthorizer || !upd.DisableExecuteApiEndpoint {
		t.Fatalf("UpdateRestApi = %+v", upd)
	}

	list := must[*apigateway.GetRestApisOutput](t)(e.a.GetRestApis(ctx, &apigateway.GetRestApisInput{}))
	if len(list.Items) != 1 || *list.Items[0].Id != *created.Id {
		t.Fatalf("GetRestApis = %+v", list.Items)
	}

	if _, err := e.a.DeleteRestApi(ctx, &apigateway.DeleteRestApiInput{RestApiId: created.Id}); err != nil {
		t.Fatal(err)
	}
	_, err := e.a.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: created.Id})
	wantAPIError(t, err, "NotFoundException", "Invalid API identifier specified "+accountA+":"+*created.Id)
	wantStatus(t, err, http.StatusNotFound)
	_, err = e.a.DeleteRestApi(ctx, &apigateway.DeleteRestApiInput{RestApiId: created.Id})
	wantAPIError(t, err, "NotFoundException", "Invalid API identifier specified "+accountA+":"+*created.Id)
}

func TestDeleteRestAPIRemovesDeploymentsAndStages(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	f := e.deployable(t, nil)
	must[*apigateway.CreateDeploymentOutput](t)(e.a.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{
		RestApiId: aws.String(f.apiID), StageName: aws.String("prod")}))
	if _, err := e.a.DeleteRestApi(ctx, &apigateway.DeleteRestApiInput{RestApiId: aws.String(f.apiID)}); err != nil {
		t.Fatal(err)
	}
	for _, bucket := range []string{apimodel.BucketStages, apimodel.BucketDeployments} {
		entries, err := e.store.List(ctx, bucket, f.apiID+".")
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) != 0 {
			t.Errorf("%s left behind: %d entries", bucket, len(entries))
		}
	}
}

func TestCreateRestAPIPrivateDefaults(t *testing.T) {
	e := newEnv(t)
	out := e.newAPI(t, &apigateway.CreateRestApiInput{Name: aws.String("p"),
		EndpointConfiguration: &types.EndpointConfiguration{Types: []types.EndpointType{types.EndpointTypePrivate},
			VpcEndpointIds: []string{"vpce-0123456789abcdef0", "vpce-0123456789abcdef0"}}})
	ec := out.EndpointConfiguration
	if ec.IpAddressType != types.IpAddressTypeDualstack || len(ec.VpcEndpointIds) != 1 {
		t.Fatalf("private defaults: %+v", ec)
	}
}

func TestCloneFrom(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	f := e.deployable(t, nil)
	clone := e.newAPI(t, &apigateway.CreateRestApiInput{Name: aws.String("clone"), CloneFrom: aws.String(f.apiID)})
	res := must[*apigateway.GetResourcesOutput](t)(e.a.GetResources(ctx, &apigateway.GetResourcesInput{
		RestApiId: clone.Id, Embed: []string{"methods"}}))
	if len(res.Items) != 2 || *res.Items[1].Path != "/pets" || *res.Items[1].ParentId != *clone.RootResourceId ||
		*res.Items[1].Id == f.resID || res.Items[1].ResourceMethods["GET"].MethodIntegration == nil {
		t.Fatalf("clone resources: %+v", res.Items)
	}
}

func TestAccountIsolation(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	f := e.deployable(t, nil)
	id := aws.String(f.apiID)
	msg := "Invalid API identifier specified " + accountB + ":" + f.apiID

	_, err := e.b.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: id})
	wantAPIError(t, err, "NotFoundException", msg)
	_, err = e.b.UpdateRestApi(ctx, &apigateway.UpdateRestApiInput{RestApiId: id,
		PatchOperations: []types.PatchOperation{patch(types.OpReplace, "/name", "stolen")}})
	wantAPIError(t, err, "NotFoundException", msg)
	_, err = e.b.DeleteRestApi(ctx, &apigateway.DeleteRestApiInput{RestApiId: id})
	wantAPIError(t, err, "NotFoundException", msg)
	_, err = e.b.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: id})
	wantAPIError(t, err, "NotFoundException", msg)
	_, err = e.b.GetMethod(ctx, &apigateway.GetMethodInput{RestApiId: id, ResourceId: aws.String(f.resID), HttpMethod: aws.String("GET")})
	wantAPIError(t, err, "NotFoundException", msgResourceNotFound)
	_, err = e.b.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: id})
	wantAPIError(t, err, "NotFoundException", msg)
	_, err = e.b.GetTags(ctx, &apigateway.GetTagsInput{ResourceArn: aws.String("arn:aws:apigateway:us-east-1::/restapis/" + f.apiID)})
	wantAPIError(t, err, "NotFoundException", msg)

	list := must[*apigateway.GetRestApisOutput](t)(e.b.GetRestApis(ctx, &apigateway.GetRestApisInput{}))
	if len(list.Items) != 0 {
		t.Fatalf("account B sees %d APIs", len(list.Items))
	}
	// A still has it, unchanged.
	got := must[*apigateway.GetRestApiOutput](t)(e.a.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: id}))
	if *got.Name != "api" {
		t.Fatalf("name changed to %q", *got.Name)
	}
}

func TestPolicyShorthandExpansion(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*"},` +
		`{"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":["execute-api:/prod/GET/pets"],` +
		`"Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-0123456789abcdef0"}}}]}`
	out := e.newAPI(t, &apigateway.CreateRestApiInput{Name: aws.String("p"), Policy: aws.String(policy),
		EndpointConfiguration: &types.EndpointConfiguration{Types: []types.EndpointType{types.EndpointTypePrivate}}})
	prefix := "arn:aws:execute-api:" + testRegion + ":" + accountA + ":" + *out.Id

	// Stored: expanded, plain JSON (what the data plane compiles).
	entry, err := e.store.Get(ctx, apimodel.BucketRestAPIs, *out.Id)
	if err != nil {
		t.Fatal(err)
	}
	var doc apimodel.API
	if err := json.Unmarshal(entry.Value, &doc); err != nil {
		t.Fatal(err)
	}
	var stored struct {
		Statement []struct {
			Resource any
		}
	}
	if err := json.Unmarshal([]byte(doc.RestAPI.Policy), &stored); err != nil {
		t.Fatalf("stored policy is not JSON: %v\n%s", err, doc.RestAPI.Policy)
	}
	if stored.Statement[0].Resource != prefix+"/*" {
		t.Fatalf("stored Resource = %v, want %s/*", stored.Statement[0].Resource, prefix)
	}
	if r := stored.Statement[1].Resource.([]any); r[0] != prefix+"/prod/GET/pets" {
		t.Fatalf("stored Resource = %v", r)
	}

	// On the wire: escaped the way API Gateway returns policies.
	got := must[*apigateway.GetRestApiOutput](t)(e.a.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: out.Id}))
	wantFragment := `\"Resource\":\"` + strings.ReplaceAll(prefix+"/*", "/", `\/`) + `\"`
	if !strings.Contains(*got.Policy, wantFragment) {
		t.Fatalf("wire policy %s\nlacks %s", *got.Policy, wantFragment)
	}

	// Patching the policy expands again; an empty value removes it.
	upd := must[*apigateway.UpdateRestApiOutput](t)(e.a.UpdateRestApi(ctx, &apigateway.UpdateRestApiInput{RestApiId: out.Id,
		PatchOperations: []types.PatchOperation{patch(types.OpReplace, "/policy",
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/stage/*"}]}`)}}))
	if !strings.Contains(*upd.Policy, strings.ReplaceAll(prefix+"/stage/*", "/", `\/`)) {
		t.Fatalf("patched policy %s", *upd.Policy)
	}
	upd = must[*apigateway.UpdateRestApiOutput](t)(e.a.UpdateRestApi(ctx, &apigateway.UpdateRestApiInput{RestApiId: out.Id,
		PatchOperations: []types.PatchOperation{{Op: types.OpReplace, Path: aws.String("/policy"), Value: aws.String("")}}}))
	if upd.Policy != nil {
		t.Fatalf("policy not removed: %s", *upd.Policy)
	}
}

func TestUnknownOperationAndMalformedRequests(t *testing.T) {
	e := newEnv(t)
	api := e.newAPI(t, nil)
	tests := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"unknown path", "GET", "/nothing/here", "", 404, "UnknownOperationException"},
		{"unknown method on known path", "POST", "/restapis/" + *api.Id, "", 404, "UnknownOperationException"},
		{"malformed JSON", "POST", "/restapis", `{"name":`, 400, "SerializationException"},
		{"wrong member type", "POST", "/restapis", `{"name":true}`, 400, "SerializationException"},
		{"body too large", "POST", "/restapis", `{"name":"` + strings.Repeat("x", MaxBodySize) + `"}`, 413, "BadRequestException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(ctxT(t), tt.method, e.url+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatalf("error body is not JSON: %v", err)
			}
			if resp.StatusCode != tt.status || resp.Header.Get("X-Amzn-Errortype") != tt.code {
				t.Fatalf("got %d %s, want %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), tt.status, tt.code)
			}
			if _, ok := body["message"]; !ok || resp.Header.Get("X-Amzn-Requestid") == "" {
				t.Fatalf("missing message or request id: %v %v", body, resp.Header)
			}
		})
	}
}

// panicStore panics on every read, to exercise the recover path.
type panicStore struct{ Store }

func (panicStore) Get(context.Context, string, string) (storeEntry, error) { panic("boom") }

func TestPanicBecomes500(t *testing.T) {
	s := New(Options{Store: panicStore{}, Logger: testLogger()})
	url := serveAs(t, s, accountA)
	_, err := sdkClient(url).GetRestApi(ctxT(t), &apigateway.GetRestApiInput{RestApiId: aws.String("abcdefghij")})
	wantStatus(t, err, http.StatusInternalServerError)
	wantAPIError(t, err, "InternalFailure", "Internal server error")
}
