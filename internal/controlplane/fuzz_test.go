package controlplane

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"gatehouse/internal/apimodel"
)

// FuzzPatchOperations sends arbitrary patch documents to every Update* operation of one
// API. Invariants: no panic (no 500), and the stored documents stay valid: JSON that
// decodes, with a consistent resource tree.
func FuzzPatchOperations(f *testing.F) {
	e := newEnv(f)
	ctx := context.Background()
	fx := e.deployable(f, nil)
	must[*apigateway.PutMethodResponseOutput](f)(e.a.PutMethodResponse(ctx, &apigateway.PutMethodResponseInput{RestApiId: aws.String(fx.apiID),
		ResourceId: aws.String(fx.resID), HttpMethod: aws.String("GET"), StatusCode: aws.String("200")}))
	must[*apigateway.PutIntegrationResponseOutput](f)(e.a.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{RestApiId: aws.String(fx.apiID),
		ResourceId: aws.String(fx.resID), HttpMethod: aws.String("GET"), StatusCode: aws.String("200")}))
	dep := must[*apigateway.CreateDeploymentOutput](f)(e.a.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: aws.String(fx.apiID),
		StageName: aws.String("prod")}))
	authz := e.tokenAuthorizer(f, fx.apiID, "fuzz")
	cognito := must[*apigateway.CreateAuthorizerOutput](f)(e.a.CreateAuthorizer(ctx, &apigateway.CreateAuthorizerInput{RestApiId: aws.String(fx.apiID),
		Name: aws.String("cognito"), Type: "COGNITO_USER_POOLS", ProviderARNs: []string{testPoolARN},
		IdentitySource: aws.String("method.request.header.Authorization")}))
	rv := must[*apigateway.CreateRequestValidatorOutput](f)(e.a.CreateRequestValidator(ctx, &apigateway.CreateRequestValidatorInput{
		RestApiId: aws.String(fx.apiID), Name: aws.String("v")}))
	key := must[*apigateway.CreateApiKeyOutput](f)(e.a.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("k")}))
	plan := must[*apigateway.CreateUsagePlanOutput](f)(e.a.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("p"),
		ApiStages: []types.ApiStage{{ApiId: aws.String(fx.apiID), Stage: aws.String("prod")}}}))
	base := "/restapis/" + fx.apiID
	targets := []string{
		base + "/authorizers/" + authz,
		base + "/authorizers/" + *cognito.Id,
		base + "/models/Empty",
		base + "/requestvalidators/" + *rv.Id,
		"/apikeys/" + *key.Id,
		"/usageplans/" + *plan.Id,
		base,
		base + "/resources/" + fx.resID,
		base + "/resources/" + fx.resID + "/methods/GET",
		base + "/resources/" + fx.resID + "/methods/GET/integration",
		base + "/resources/" + fx.resID + "/methods/GET/responses/200",
		base + "/resources/" + fx.resID + "/methods/GET/integration/responses/200",
		base + "/stages/prod",
		base + "/gatewayresponses/DEFAULT_4XX",
		base + "/deployments/" + *dep.Id,
	}

	seeds := []string{
		`{"patchOperations":[{"op":"replace","path":"/name","value":"x"}]}`,
		`{"patchOperations":[{"op":"add","path":"/binaryMediaTypes/image~1png"},{"op":"replace","path":"/endpointConfiguration/types/EDGE","value":"PRIVATE"}]}`,
		`{"patchOperations":[{"op":"add","path":"/endpointConfiguration/vpcEndpointIds","value":"vpce-1,vpce-2"}]}`,
		`{"patchOperations":[{"op":"replace","path":"/policy","value":"{\"Version\":\"2012-10-17\",\"Statement\":[]}"}]}`,
		`{"patchOperations":[{"op":"replace","path":"/pathPart","value":"{proxy+}"},{"op":"replace","path":"/parentId","value":"` + fx.rootID + `"}]}`,
		`{"patchOperations":[{"op":"add","path":"/requestParameters/method.request.path.id","value":"true"}]}`,
		`{"patchOperations":[{"op":"replace","path":"/timeoutInMillis","value":"100"},{"op":"add","path":"/requestTemplates/application~1json","value":"{}"}]}`,
		`{"patchOperations":[{"op":"replace","path":"/*/*/throttling/rateLimit","value":"5"},{"op":"remove","path":"/*/*"}]}`,
		`{"patchOperations":[{"op":"copy","from":"/canarySettings/deploymentId","path":"/deploymentId"}]}`,
		`{"patchOperations":[{"op":"replace","path":"/statusCode","value":"444"},{"op":"add","path":"/responseParameters/x","value":"'y'"}]}`,
		`{"patchOperations":[{"op":"move","path":"/a/b/c/d/e"},{"op":"test"},{}]}`,
		`{"patchOperations":[{"op":"replace","path":"/authorizerResultTtlInSeconds","value":"0"},{"op":"replace","path":"/type","value":"REQUEST"},{"op":"replace","path":"/identitySource","value":"method.request.querystring.a, context.b"}]}`,
		`{"patchOperations":[{"op":"remove","path":"/providerARNs","value":"` + testPoolARN + `"},{"op":"add","path":"/providerARNs","value":"https://issuer.example.com"}]}`,
		`{"patchOperations":[{"op":"replace","path":"/schema","value":"{"type":"object"}"},{"op":"replace","path":"/description","value":"d"}]}`,
		`{"patchOperations":[{"op":"replace","path":"/validateRequestBody","value":"true"},{"op":"replace","path":"/name","value":""}]}`,
		`{"patchOperations":[{"op":"add","path":"/stages","value":"` + fx.apiID + `/prod"},{"op":"replace","path":"/enabled","value":"true"}]}`,
		`{"patchOperations":[{"op":"replace","path":"/apiStages/` + fx.apiID + `:prod/throttle//pets/GET/rateLimit","value":"1.5"},{"op":"add","path":"/quota/limit","value":"10"},{"op":"add","path":"/quota/period","value":"WEEK"}]}`,
		`{"patchOperations":[{"op":"remove","path":"/apiStages","value":"` + fx.apiID + `:prod"},{"op":"add","path":"/apiStages","value":"` + fx.apiID + `:prod"},{"op":"replace","path":"/throttle/burstLimit","value":"-1"}]}`,
		`{"patchOperations":[{"op":"remove","path":"/apiStages/` + fx.apiID + `:prod/throttle/~1*~1*"},{"op":"remove","path":"/quota"},{"op":"remove","path":"/throttle"}]}`,
		`{"patchOperations":null}`, `{}`, `[]`, `{"patchOperations":[{"op":1}]}`, "",
	}
	for i, s := range seeds {
		f.Add(uint8(i%len(targets)), s)
	}
	f.Fuzz(func(t *testing.T, target uint8, doc string) {
		path := targets[int(target)%len(targets)]
		req := httptest.NewRequestWithContext(ctx, "PATCH", path, strings.NewReader(doc))
		rec := httptest.NewRecorder()
		e.server.ServeAPIGateway(rec, req, Caller{Account: accountA}, []byte(doc))
		if rec.Code >= 500 {
			t.Fatalf("PATCH %s %q: %d %s", path, doc, rec.Code, rec.Body.String())
		}
		if !json.Valid(rec.Body.Bytes()) && rec.Body.Len() > 0 {
			t.Fatalf("response is not JSON: %q", rec.Body.String())
		}
		checkStoredAPI(t, e, fx.apiID)
		checkStoredAccessDocs(t, e, *key.Id, *plan.Id)
		entry, err := e.store.Get(ctx, apimodel.BucketStages, apimodel.StageKey(fx.apiID, "prod"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := decodeStage(entry.Value); err != nil {
			t.Fatal(err)
		}
	})
}

// checkStoredAccessDocs verifies the stored API key and usage plan decode and that the
// plan's throttles and quota are still valid.
func checkStoredAccessDocs(t *testing.T, e *env, keyID, planID string) {
	t.Helper()
	ctx := context.Background()
	kb, err := e.store.Get(ctx, apimodel.BucketAPIKeys, keyID)
	if err != nil {
		t.Fatal(err)
	}
	var k apimodel.APIKey
	if err := json.Unmarshal(kb.Value, &k); err != nil || k.ID != keyID || k.StageKeys == nil {
		t.Fatalf("stored API key %s: %v", kb.Value, err)
	}
	pb, err := e.store.Get(ctx, apimodel.BucketUsagePlans, planID)
	if err != nil {
		t.Fatal(err)
	}
	var p apimodel.UsagePlan
	if err := json.Unmarshal(pb.Value, &p); err != nil || p.ID != planID || p.Name == "" {
		t.Fatalf("stored usage plan %s: %v", pb.Value, err)
	}
	if err := validateThrottle(p.Throttle); err != nil {
		t.Fatalf("stored plan throttle: %v", err)
	}
	if err := validateQuota(p.Quota); err != nil {
		t.Fatalf("stored plan quota: %v", err)
	}
	for _, st := range p.APIStages {
		for key, th := range st.Throttle {
			if !throttleKeyRe.MatchString(key) || validateThrottle(th) != nil {
				t.Fatalf("stored stage throttle %q: %+v", key, th)
			}
		}
	}
}

// checkStoredAPI verifies the stored REST API decodes and its resource tree is
// consistent: every path follows from its parent's and there is no cycle.
func checkStoredAPI(t *testing.T, e *env, apiID string) {
	t.Helper()
	entry, err := e.store.Get(context.Background(), apimodel.BucketRestAPIs, apiID)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(entry.Value) {
		t.Fatalf("stored API is not JSON")
	}
	api, err := decodeAPI(entry.Value)
	if err != nil {
		t.Fatal(err)
	}
	root := api.Resources[api.RestAPI.RootResourceID]
	if root == nil || root.Path != "/" {
		t.Fatalf("root resource lost: %+v", root)
	}
	for id, a := range api.Authorizers {
		cp := *a
		if err := validateAuthorizer(&cp); err != nil || cp.ID != id {
			t.Fatalf("stored authorizer %s invalid: %v", id, err)
		}
	}
	for name, m := range apiModels(api) {
		if m.Name != name || validateSchema(m.Schema) != nil {
			t.Fatalf("stored model %s invalid: %+v", name, m)
		}
	}
	for _, r := range api.Resources {
		for verb, m := range r.ResourceMethods {
			if needsAuthorizer(m.AuthorizationType) && api.Authorizers[m.AuthorizerID] == nil {
				t.Fatalf("method %s %s names missing authorizer %q", verb, r.Path, m.AuthorizerID)
			}
			if m.RequestValidatorID != "" && api.RequestValidators[m.RequestValidatorID] == nil {
				t.Fatalf("method %s %s names missing validator %q", verb, r.Path, m.RequestValidatorID)
			}
			if len(m.AuthorizationScopes) > 0 && m.AuthorizationType != "COGNITO_USER_POOLS" {
				t.Fatalf("method %s %s has scopes with %s", verb, r.Path, m.AuthorizationType)
			}
		}
	}
	for id, r := range api.Resources {
		if id == root.ID {
			continue
		}
		parent := api.Resources[r.ParentID]
		if parent == nil {
			t.Fatalf("resource %s has no parent %s", id, r.ParentID)
		}
		if want := joinPath(parent.Path, r.PathPart); r.Path != want {
			t.Fatalf("resource %s path %q, want %q", id, r.Path, want)
		}
		if !isDescendant(api, id, root.ID) {
			t.Fatalf("resource %s is not below the root", id)
		}
	}
}

// FuzzParseAPIKeyCSV feeds arbitrary files to ImportApiKeys' CSV reader. Invariants: no
// panic; an accepted file yields rows whose warning is set exactly when the key value
// breaks AWS's length rules.
func FuzzParseAPIKeyCSV(f *testing.F) {
	for _, s := range []string{
		"Name,Key,Description,Enabled,UsagePlanIds\none,aaaaaaaaaaaaaaaaaaaaaaaa,d,true,p1:p2\n",
		"key\nshort\n", "\ufeffKey,Name\n\"a,b\",x\n", "Name\nx\n", "", "Key\n\"unterminated\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rows, err := parseAPIKeyCSV(body)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "BadRequestException: Invalid API key file") {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		for _, r := range rows {
			if (r.warning != "") != (validateAPIKeyValue(r.value) != nil) {
				t.Fatalf("row %+v: warning does not match the value rules", r)
			}
		}
	})
}
