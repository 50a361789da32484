package controlplane

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"gatehouse/internal/apimodel"
)

const (
	testLambdaURI = "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:111111111111:function:auth/invocations"
	testPoolARN   = "arn:aws:cognito-idp:us-east-1:111111111111:userpool/us-east-1_AbCdEf123"
	testIssuer    = "https://issuer.example.com/realms/main"
)

// tokenAuthorizer creates a TOKEN authorizer on apiID and returns its id.
func (e *env) tokenAuthorizer(t testing.TB, apiID, name string) string {
	t.Helper()
	out := must[*apigateway.CreateAuthorizerOutput](t)(e.a.CreateAuthorizer(ctxT(t), &apigateway.CreateAuthorizerInput{
		RestApiId: aws.String(apiID), Name: aws.String(name), Type: types.AuthorizerTypeToken,
		AuthorizerUri: aws.String(testLambdaURI), IdentitySource: aws.String("method.request.header.Authorization")}))
	return *out.Id
}

// staged is a deployable API with a stage "prod".
func (e *env) staged(t testing.TB) fixture {
	t.Helper()
	f := e.deployable(t, nil)
	must[*apigateway.CreateDeploymentOutput](t)(e.a.CreateDeployment(ctxT(t), &apigateway.CreateDeploymentInput{
		RestApiId: aws.String(f.apiID), StageName: aws.String("prod")}))
	return f
}

// raw sends a request straight to the server as account A and returns the status and
// the decoded error (if any).
func (e *env) raw(t testing.TB, method, path, body string) (int, string, string) {
	t.Helper()
	req := httptest.NewRequestWithContext(context.Background(), method, path, strings.NewReader(body))
	rec := httptest.NewRecorder()
	e.server.ServeAPIGateway(rec, req, Caller{Account: accountA, AccessKeyID: "AKIDEXAMPLE"}, []byte(body))
	var out struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, rec.Header().Get("X-Amzn-Errortype"), out.Message
}

func TestAuthorizerLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	f := e.staged(t)
	api := aws.String(f.apiID)

	tok := must[*apigateway.CreateAuthorizerOutput](t)(e.a.CreateAuthorizer(ctx, &apigateway.CreateAuthorizerInput{
		RestApiId: api, Name: aws.String("token"), Type: types.AuthorizerTypeToken, AuthorizerUri: aws.String(testLambdaURI),
		IdentitySource: aws.String("method.request.header.Auth"), IdentityValidationExpression: aws.String(`^Bearer [-0-9a-zA-Z._]*$`)}))
	if len(*tok.Id) != authorizerIDLen || *tok.AuthorizerResultTtlInSeconds != 300 || *tok.IdentitySource != "method.request.header.Auth" {
		t.Fatalf("CreateAuthorizer TOKEN = %+v", tok)
	}
	req := must[*apigateway.CreateAuthorizerOutput](t)(e.a.CreateAuthorizer(ctx, &apigateway.CreateAuthorizerInput{
		RestApiId: api, Name: aws.String("request"), Type: types.AuthorizerTypeRequest, AuthorizerUri: aws.String(testLambdaURI),
		IdentitySource:               aws.String("method.request.header.Auth,method.request.querystring.q , stageVariables.v, context.requestId"),
		AuthorizerResultTtlInSeconds: aws.Int32(0)}))
	if *req.IdentitySource != "method.request.header.Auth,method.request.querystring.q , stageVariables.v, context.requestId" ||
		*req.AuthorizerResultTtlInSeconds != 0 {
		t.Fatalf("CreateAuthorizer REQUEST = %+v", req)
	}
	cog := must[*apigateway.CreateAuthorizerOutput](t)(e.a.CreateAuthorizer(ctx, &apigateway.CreateAuthorizerInput{
		RestApiId: api, Name: aws.String("cognito"), Type: types.AuthorizerTypeCognitoUserPools,
		ProviderARNs: []string{testPoolARN, testIssuer}, IdentitySource: aws.String("method.request.header.Authorization"),
		AuthorizerUri: aws.String(testLambdaURI)}))
	if !slices.Equal(cog.ProviderARNs, []string{testPoolARN, testIssuer}) || cog.AuthorizerUri != nil {
		t.Fatalf("CreateAuthorizer COGNITO = %+v", cog)
	}

	got := must[*apigateway.GetAuthorizerOutput](t)(e.a.GetAuthorizer(ctx, &apigateway.GetAuthorizerInput{RestApiId: api, AuthorizerId: tok.Id}))
	if *got.Name != "token" || *got.IdentityValidationExpression != `^Bearer [-0-9a-zA-Z._]*$` {
		t.Fatalf("GetAuthorizer = %+v", got)
	}
	all := must[*apigateway.GetAuthorizersOutput](t)(e.a.GetAuthorizers(ctx, &apigateway.GetAuthorizersInput{RestApiId: api}))
	if len(all.Items) != 3 {
		t.Fatalf("GetAuthorizers = %d items", len(all.Items))
	}
	page := must[*apigateway.GetAuthorizersOutput](t)(e.a.GetAuthorizers(ctx, &apigateway.GetAuthorizersInput{RestApiId: api, Limit: aws.Int32(2)}))
	if len(page.Items) != 2 || page.Position == nil {
		t.Fatalf("GetAuthorizers limit 2 = %+v", page)
	}

	upd := must[*apigateway.UpdateAuthorizerOutput](t)(e.a.UpdateAuthorizer(ctx, &apigateway.UpdateAuthorizerInput{RestApiId: api, AuthorizerId: tok.Id,
		PatchOperations: []types.PatchOperation{
			patch(types.OpReplace, "/name", "renamed"),
			patch(types.OpReplace, "/authorizerResultTtlInSeconds", "60"),
			patch(types.OpReplace, "/identitySource", "method.request.header.X-Token"),
			patch(types.OpReplace, "/authorizerCredentials", "arn:aws:iam::111111111111:role/invoker"),
		}}))
	if *upd.Name != "renamed" || *upd.AuthorizerResultTtlInSeconds != 60 || *upd.IdentitySource != "method.request.header.X-Token" ||
		*upd.AuthorizerCredentials != "arn:aws:iam::111111111111:role/invoker" {
		t.Fatalf("UpdateAuthorizer = %+v", upd)
	}
	updCog := must[*apigateway.UpdateAuthorizerOutput](t)(e.a.UpdateAuthorizer(ctx, &apigateway.UpdateAuthorizerInput{RestApiId: api, AuthorizerId: cog.Id,
		PatchOperations: []types.PatchOperation{
			patch(types.OpRemove, "/providerARNs", testPoolARN),
			patch(types.OpAdd, "/providerARNs", "http://127.0.0.1:8080/issuer"),
		}}))
	if !slices.Equal(updCog.ProviderARNs, []string{testIssuer, "http://127.0.0.1:8080/issuer"}) {
		t.Fatalf("UpdateAuthorizer providerARNs = %v", updCog.ProviderARNs)
	}

	// Deployed with the API.
	dep := must[*apigateway.CreateDeploymentOutput](t)(e.a.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api}))
	entry := must[storeEntry](t)(e.store.Get(ctx, apimodel.BucketDeployments, apimodel.DeploymentKey(f.apiID, *dep.Id)))
	var d apimodel.Deployment
	if err := json.Unmarshal(entry.Value, &d); err != nil {
		t.Fatal(err)
	}
	if d.API.Authorizers[*tok.Id] == nil || d.API.Authorizers[*tok.Id].FunctionARN() != "arn:aws:lambda:us-east-1:111111111111:function:auth" {
		t.Fatalf("deployment authorizers = %+v", d.API.Authorizers)
	}

	// Methods must name existing authorizers; an authorizer in use cannot be deleted.
	_, err := e.a.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api, ResourceId: aws.String(f.resID), HttpMethod: aws.String("POST"),
		AuthorizationType: aws.String("CUSTOM"), AuthorizerId: aws.String("nope00")})
	wantAPIError(t, err, "BadRequestException", msgInvalidAuthorizer)
	must[*apigateway.PutMethodOutput](t)(e.a.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api, ResourceId: aws.String(f.resID),
		HttpMethod: aws.String("POST"), AuthorizationType: aws.String("CUSTOM"), AuthorizerId: tok.Id}))
	put := must[*apigateway.PutMethodOutput](t)(e.a.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api, ResourceId: aws.String(f.resID),
		HttpMethod: aws.String("PUT"), AuthorizationType: aws.String("COGNITO_USER_POOLS"), AuthorizerId: cog.Id,
		AuthorizationScopes: []string{"pets/write"}}))
	if !slices.Equal(put.AuthorizationScopes, []string{"pets/write"}) {
		t.Fatalf("PutMethod scopes = %v", put.AuthorizationScopes)
	}
	_, err = e.a.DeleteAuthorizer(ctx, &apigateway.DeleteAuthorizerInput{RestApiId: api, AuthorizerId: tok.Id})
	wantAPIError(t, err, "ConflictException", "Cannot delete authorizer, is referenced in method: POST//pets")
	wantStatus(t, err, 409)

	must[*apigateway.DeleteMethodOutput](t)(e.a.DeleteMethod(ctx, &apigateway.DeleteMethodInput{RestApiId: api, ResourceId: aws.String(f.resID),
		HttpMethod: aws.String("POST")}))
	must[*apigateway.DeleteAuthorizerOutput](t)(e.a.DeleteAuthorizer(ctx, &apigateway.DeleteAuthorizerInput{RestApiId: api, AuthorizerId: tok.Id}))
	_, err = e.a.GetAuthorizer(ctx, &apigateway.GetAuthorizerInput{RestApiId: api, AuthorizerId: tok.Id})
	wantAPIError(t, err, "NotFoundException", msgAuthorizerNotFound)
	_, err = e.b.GetAuthorizer(ctx, &apigateway.GetAuthorizerInput{RestApiId: api, AuthorizerId: req.Id})
	wantAPIError(t, err, "NotFoundException", "Invalid API identifier specified "+accountB+":"+f.apiID)

	// FlushStageAuthorizersCache bumps the stage's generation, invisible on the wire.
	for range 2 {
		must[*apigateway.FlushStageAuthorizersCacheOutput](t)(e.a.FlushStageAuthorizersCache(ctx, &apigateway.FlushStageAuthorizersCacheInput{
			RestApiId: api, StageName: aws.String("prod")}))
	}
	st := must[storeEntry](t)(e.store.Get(ctx, apimodel.BucketStages, apimodel.StageKey(f.apiID, "prod")))
	stage, err := decodeStage(st.Value)
	if err != nil || stage.AuthorizerCacheGeneration != 2 {
		t.Fatalf("stage generation = %d (%v)", stage.AuthorizerCacheGeneration, err)
	}
	code, _, _ := e.raw(t, "GET", "/restapis/"+f.apiID+"/stages/prod", "")
	if code != 200 {
		t.Fatalf("GetStage %d", code)
	}
	req2 := httptest.NewRequestWithContext(ctx, "GET", "/restapis/"+f.apiID+"/stages/prod", nil)
	rec := httptest.NewRecorder()
	e.server.ServeAPIGateway(rec, req2, Caller{Account: accountA}, nil)
	if strings.Contains(rec.Body.String(), "authorizerCacheGeneration") {
		t.Fatalf("GetStage leaks the flush generation: %s", rec.Body.String())
	}
	_, err = e.a.FlushStageAuthorizersCache(ctx, &apigateway.FlushStageAuthorizersCacheInput{RestApiId: api, StageName: aws.String("nope")})
	wantAPIError(t, err, "NotFoundException", msgStageNotFound)
}

func TestAuthorizerLimit(t *testing.T) {
	e := newEnv(t)
	api := *e.newAPI(t, nil).Id
	for i := range maxAuthorizers {
		e.tokenAuthorizer(t, api, fmt.Sprintf("a%d", i))
	}
	_, err := e.a.CreateAuthorizer(ctxT(t), &apigateway.CreateAuthorizerInput{RestApiId: aws.String(api), Name: aws.String("one-too-many"),
		Type: types.AuthorizerTypeToken, AuthorizerUri: aws.String(testLambdaURI), IdentitySource: aws.String("method.request.header.A")})
	wantAPIError(t, err, "LimitExceededException", msgTooManyAuthorizers)
	wantStatus(t, err, 429)
}

func TestModelsAndRequestValidators(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	f := e.deployable(t, nil)
	api, res := aws.String(f.apiID), aws.String(f.resID)

	models := must[*apigateway.GetModelsOutput](t)(e.a.GetModels(ctx, &apigateway.GetModelsInput{RestApiId: api}))
	if len(models.Items) != 2 || *models.Items[0].Name != "Empty" || *models.Items[1].Name != "Error" ||
		*models.Items[0].ContentType != "application/json" || !strings.Contains(*models.Items[1].Schema, "Error Schema") {
		t.Fatalf("default models = %+v", models.Items)
	}
	pet := must[*apigateway.CreateModelOutput](t)(e.a.CreateModel(ctx, &apigateway.CreateModelInput{RestApiId: api, Name: aws.String("Pet"),
		ContentType: aws.String("application/json"), Description: aws.String("a pet"),
		Schema: aws.String(`{"$schema":"http://json-schema.org/draft-04/schema#","type":"object","required":["name"]}`)}))
	if *pet.Name != "Pet" || len(*pet.Id) != modelIDLen || *pet.Description != "a pet" {
		t.Fatalf("CreateModel = %+v", pet)
	}
	upd := must[*apigateway.UpdateModelOutput](t)(e.a.UpdateModel(ctx, &apigateway.UpdateModelInput{RestApiId: api, ModelName: aws.String("Pet"),
		PatchOperations: []types.PatchOperation{patch(types.OpReplace, "/schema", `{"type":"object"}`), patch(types.OpReplace, "/description", "")}}))
	if *upd.Schema != `{"type":"object"}` || upd.Description != nil {
		t.Fatalf("UpdateModel = %+v", upd)
	}
	got := must[*apigateway.GetModelOutput](t)(e.a.GetModel(ctx, &apigateway.GetModelInput{RestApiId: api, ModelName: aws.String("Pet")}))
	if *got.Id != *pet.Id {
		t.Fatalf("GetModel = %+v", got)
	}

	rv := must[*apigateway.CreateRequestValidatorOutput](t)(e.a.CreateRequestValidator(ctx, &apigateway.CreateRequestValidatorInput{RestApiId: api,
		Name: aws.String("body"), ValidateRequestBody: true}))
	if *rv.Name != "body" || !rv.ValidateRequestBody || rv.ValidateRequestParameters {
		t.Fatalf("CreateRequestValidator = %+v", rv)
	}
	urv := must[*apigateway.UpdateRequestValidatorOutput](t)(e.a.UpdateRequestValidator(ctx, &apigateway.UpdateRequestValidatorInput{RestApiId: api,
		RequestValidatorId: rv.Id, PatchOperations: []types.PatchOperation{patch(types.OpReplace, "/validateRequestParameters", "true"),
			patch(types.OpReplace, "/name", "both")}}))
	if *urv.Name != "both" || !urv.ValidateRequestParameters {
		t.Fatalf("UpdateRequestValidator = %+v", urv)
	}
	rvs := must[*apigateway.GetRequestValidatorsOutput](t)(e.a.GetRequestValidators(ctx, &apigateway.GetRequestValidatorsInput{RestApiId: api}))
	if len(rvs.Items) != 1 || *rvs.Items[0].Id != *rv.Id {
		t.Fatalf("GetRequestValidators = %+v", rvs.Items)
	}

	// A method names the validator and the model; neither can then be deleted.
	must[*apigateway.PutMethodOutput](t)(e.a.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api, ResourceId: res, HttpMethod: aws.String("POST"),
		AuthorizationType: aws.String("NONE"), RequestValidatorId: rv.Id, RequestModels: map[string]string{"application/json": "Pet"}}))
	_, err := e.a.DeleteModel(ctx, &apigateway.DeleteModelInput{RestApiId: api, ModelName: aws.String("Pet")})
	wantAPIError(t, err, "ConflictException", "Cannot delete model 'Pet', is referenced in method request: /pets/POST")
	_, err = e.a.DeleteRequestValidator(ctx, &apigateway.DeleteRequestValidatorInput{RestApiId: api, RequestValidatorId: rv.Id})
	wantAPIError(t, err, "ConflictException", fmt.Sprintf(msgValidatorInUse, *rv.Id, "POST//pets"))
	um := must[*apigateway.UpdateMethodOutput](t)(e.a.UpdateMethod(ctx, &apigateway.UpdateMethodInput{RestApiId: api, ResourceId: res,
		HttpMethod: aws.String("POST"), PatchOperations: []types.PatchOperation{
			patch(types.OpReplace, "/requestValidatorId", ""),
			patch(types.OpReplace, "/requestModels/application~1json", "Empty"),
		}}))
	if um.RequestValidatorId != nil || um.RequestModels["application/json"] != "Empty" {
		t.Fatalf("UpdateMethod = %+v", um)
	}
	must[*apigateway.DeleteRequestValidatorOutput](t)(e.a.DeleteRequestValidator(ctx, &apigateway.DeleteRequestValidatorInput{RestApiId: api,
		RequestValidatorId: rv.Id}))
	must[*apigateway.DeleteModelOutput](t)(e.a.DeleteModel(ctx, &apigateway.DeleteModelInput{RestApiId: api, ModelName: aws.String("Pet")}))
	// The built-in models can be deleted when unused, and stay deleted.
	must[*apigateway.DeleteModelOutput](t)(e.a.DeleteModel(ctx, &apigateway.DeleteModelInput{RestApiId: api, ModelName: aws.String("Error")}))
	_, err = e.a.DeleteModel(ctx, &apigateway.DeleteModelInput{RestApiId: api, ModelName: aws.String("Empty")})
	wantAPIError(t, err, "ConflictException", "Cannot delete model 'Empty', is referenced in method request: /pets/POST")
	models = must[*apigateway.GetModelsOutput](t)(e.a.GetModels(ctx, &apigateway.GetModelsInput{RestApiId: api}))
	if len(models.Items) != 1 || *models.Items[0].Name != "Empty" {
		t.Fatalf("models after deletes = %+v", models.Items)
	}
	_, err = e.a.GetModel(ctx, &apigateway.GetModelInput{RestApiId: api, ModelName: aws.String("Error")})
	wantAPIError(t, err, "NotFoundException", "Invalid model name specified: Error")
	_, err = e.a.GetRequestValidator(ctx, &apigateway.GetRequestValidatorInput{RestApiId: api, RequestValidatorId: rv.Id})
	wantAPIError(t, err, "NotFoundException", msgValidatorNotFound)
}

// TestLegacyAPIDocumentModels checks that an API document stored before models were
// managed has the two default models, with ids that do not change between reads.
func TestLegacyAPIDocumentModels(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	api := e.newAPI(t, nil)
	_, err := e.store.Modify(ctx, apimodel.BucketRestAPIs, *api.Id, func(cur []byte) ([]byte, error) {
		var doc map[string]json.RawMessage
		if err := json.Unmarshal(cur, &doc); err != nil {
			return nil, err
		}
		delete(doc, "models")
		return json.Marshal(doc)
	})
	if err != nil {
		t.Fatal(err)
	}
	first := must[*apigateway.GetModelsOutput](t)(e.a.GetModels(ctx, &apigateway.GetModelsInput{RestApiId: api.Id}))
	second := must[*apigateway.GetModelsOutput](t)(e.a.GetModels(ctx, &apigateway.GetModelsInput{RestApiId: api.Id}))
	if len(first.Items) != 2 || *first.Items[0].Id != *second.Items[0].Id {
		t.Fatalf("legacy models = %+v / %+v", first.Items, second.Items)
	}
	must[*apigateway.PutMethodOutput](t)(e.a.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: api.RootResourceId,
		HttpMethod: aws.String("GET"), AuthorizationType: aws.String("NONE"), RequestModels: map[string]string{"application/json": "Error"}}))
	must[*apigateway.CreateModelOutput](t)(e.a.CreateModel(ctx, &apigateway.CreateModelInput{RestApiId: api.Id, Name: aws.String("X"),
		ContentType: aws.String("application/json"), Schema: aws.String(`{}`)}))
	after := must[*apigateway.GetModelsOutput](t)(e.a.GetModels(ctx, &apigateway.GetModelsInput{RestApiId: api.Id}))
	if len(after.Items) != 3 || *after.Items[0].Id != *first.Items[0].Id {
		t.Fatalf("materialized models = %+v", after.Items)
	}
}

func TestAPIKeys(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	f := e.staged(t)
	value := "abcdefghijklmnopqrstuvwxyz0123"

	k := must[*apigateway.CreateApiKeyOutput](t)(e.a.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("partner"),
		Value: aws.String(value), Enabled: true, CustomerId: aws.String("cust-1"),
		StageKeys: []types.StageKey{{RestApiId: aws.String(f.apiID), StageName: aws.String("prod")}}}))
	if *k.Value != value || !k.Enabled || len(*k.Id) != apiKeyIDLen || !slices.Equal(k.StageKeys, []string{f.apiID + "/prod"}) {
		t.Fatalf("CreateApiKey = %+v", k)
	}
	gen := must[*apigateway.CreateApiKeyOutput](t)(e.a.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("generated")}))
	if len(*gen.Value) != apiKeyValueLen || gen.Enabled || gen.StageKeys == nil {
		t.Fatalf("generated key = %+v", gen)
	}
	_, err := e.a.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Value: aws.String(value)})
	wantAPIError(t, err, "ConflictException", msgAPIKeyExists)
	// Another account may use the same value.
	must[*apigateway.CreateApiKeyOutput](t)(e.b.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Value: aws.String(value)}))

	// The value index lets the data plane find a key by value.
	idx := must[storeEntry](t)(e.store.Get(ctx, apimodel.BucketAPIKeyValues, apimodel.APIKeyValueKey(accountA, value)))
	var iv apimodel.APIKeyValue
	if err := json.Unmarshal(idx.Value, &iv); err != nil || iv.KeyID != *k.Id || iv.Account != accountA {
		t.Fatalf("value index = %s (%v)", idx.Value, err)
	}

	g := must[*apigateway.GetApiKeyOutput](t)(e.a.GetApiKey(ctx, &apigateway.GetApiKeyInput{ApiKey: k.Id}))
	if g.Value != nil || *g.CustomerId != "cust-1" {
		t.Fatalf("GetApiKey without value = %+v", g)
	}
	g = must[*apigateway.GetApiKeyOutput](t)(e.a.GetApiKey(ctx, &apigateway.GetApiKeyInput{ApiKey: k.Id, IncludeValue: aws.Bool(true)}))
	if *g.Value != value {
		t.Fatalf("GetApiKey includeValue = %+v", g)
	}
	_, err = e.b.GetApiKey(ctx, &apigateway.GetApiKeyInput{ApiKey: k.Id})
	wantAPIError(t, err, "NotFoundException", msgAPIKeyNotFound)

	list := must[*apigateway.GetApiKeysOutput](t)(e.a.GetApiKeys(ctx, &apigateway.GetApiKeysInput{NameQuery: aws.String("part"), IncludeValues: aws.Bool(true)}))
	if len(list.Items) != 1 || *list.Items[0].Value != value {
		t.Fatalf("GetApiKeys name=part = %+v", list.Items)
	}
	list = must[*apigateway.GetApiKeysOutput](t)(e.a.GetApiKeys(ctx, &apigateway.GetApiKeysInput{}))
	if len(list.Items) != 2 || list.Items[0].Value != nil {
		t.Fatalf("GetApiKeys = %+v", list.Items)
	}

	u := must[*apigateway.UpdateApiKeyOutput](t)(e.a.UpdateApiKey(ctx, &apigateway.UpdateApiKeyInput{ApiKey: k.Id, PatchOperations: []types.PatchOperation{
		patch(types.OpReplace, "/enabled", "false"),
		patch(types.OpReplace, "/name", "renamed"),
		patch(types.OpReplace, "/description", "d"),
		patch(types.OpRemove, "/stages", f.apiID+"/prod"),
	}}))
	if u.Enabled || *u.Name != "renamed" || *u.Description != "d" || len(u.StageKeys) != 0 || u.Value != nil || u.Tags == nil {
		t.Fatalf("UpdateApiKey = %+v", u)
	}
	_, err = e.a.UpdateApiKey(ctx, &apigateway.UpdateApiKeyInput{ApiKey: k.Id, PatchOperations: []types.PatchOperation{
		patch(types.OpAdd, "/stages", f.apiID+"/nope")}})
	wantAPIError(t, err, "BadRequestException", msgInvalidStageKey)

	must[*apigateway.DeleteApiKeyOutput](t)(e.a.DeleteApiKey(ctx, &apigateway.DeleteApiKeyInput{ApiKey: k.Id}))
	_, err = e.a.GetApiKey(ctx, &apigateway.GetApiKeyInput{ApiKey: k.Id})
	wantAPIError(t, err, "NotFoundException", msgAPIKeyNotFound)
	if _, err := e.store.Get(ctx, apimodel.BucketAPIKeyValues, apimodel.APIKeyValueKey(accountA, value)); err == nil {
		t.Fatal("value index outlived its key")
	}
	// The value is free again.
	must[*apigateway.CreateApiKeyOutput](t)(e.a.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Value: aws.String(value)}))
}

func TestImportAPIKeys(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	plan := must[*apigateway.CreateUsagePlanOutput](t)(e.a.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("p")}))
	csv := "Name,Key,description,Enabled,UsagePlanIds\n" +
		"one,aaaaaaaaaaaaaaaaaaaaaaaa,first,true," + *plan.Id + "\n" +
		"two,short,second,false,\n"
	out := must[*apigateway.ImportApiKeysOutput](t)(e.a.ImportApiKeys(ctx, &apigateway.ImportApiKeysInput{Body: []byte(csv),
		Format: types.ApiKeysFormatCsv}))
	if len(out.Ids) != 1 || len(out.Warnings) != 1 || !strings.Contains(out.Warnings[0], msgAPIKeyValueShort) {
		t.Fatalf("ImportApiKeys = %+v", out)
	}
	k := must[*apigateway.GetApiKeyOutput](t)(e.a.GetApiKey(ctx, &apigateway.GetApiKeyInput{ApiKey: aws.String(out.Ids[0]), IncludeValue: aws.Bool(true)}))
	if *k.Name != "one" || !k.Enabled || *k.Value != "aaaaaaaaaaaaaaaaaaaaaaaa" {
		t.Fatalf("imported key = %+v", k)
	}
	keys := must[*apigateway.GetUsagePlanKeysOutput](t)(e.a.GetUsagePlanKeys(ctx, &apigateway.GetUsagePlanKeysInput{UsagePlanId: plan.Id}))
	if len(keys.Items) != 1 || *keys.Items[0].Id != out.Ids[0] {
		t.Fatalf("imported key not in plan: %+v", keys.Items)
	}
	_, err := e.a.ImportApiKeys(ctx, &apigateway.ImportApiKeysInput{Body: []byte(csv), Format: types.ApiKeysFormatCsv, FailOnWarnings: true})
	wantAPIError(t, err, "BadRequestException", msgAPIKeyValueShort+" at line 3")
}

func TestUsagePlans(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	f := e.staged(t)
	g := e.staged(t)
	key := must[*apigateway.CreateApiKeyOutput](t)(e.a.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("k"), Enabled: true}))

	p := must[*apigateway.CreateUsagePlanOutput](t)(e.a.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("gold"),
		ApiStages: []types.ApiStage{{ApiId: aws.String(f.apiID), Stage: aws.String("prod"),
			Throttle: map[string]types.ThrottleSettings{"/pets/GET": {RateLimit: 5, BurstLimit: 10}}}},
		Throttle: &types.ThrottleSettings{RateLimit: 100, BurstLimit: 200},
		Quota:    &types.QuotaSettings{Limit: 1000, Period: types.QuotaPeriodTypeDay}}))
	if len(*p.Id) != usagePlanIDLen || len(p.ApiStages) != 1 || p.ApiStages[0].Throttle["/pets/GET"].BurstLimit != 10 ||
		p.Throttle.RateLimit != 100 || p.Quota.Limit != 1000 || p.Quota.Period != types.QuotaPeriodTypeDay {
		t.Fatalf("CreateUsagePlan = %+v", p)
	}

	// Terraform's update patterns.
	u := must[*apigateway.UpdateUsagePlanOutput](t)(e.a.UpdateUsagePlan(ctx, &apigateway.UpdateUsagePlanInput{UsagePlanId: p.Id,
		PatchOperations: []types.PatchOperation{
			patch(types.OpAdd, "/apiStages", g.apiID+":prod"),
			patch(types.OpReplace, "/apiStages/"+g.apiID+":prod/throttle//pets/GET/rateLimit", "2.5"),
			patch(types.OpReplace, "/apiStages/"+g.apiID+":prod/throttle/~1*~1*/burstLimit", "4"),
			patch(types.OpReplace, "/throttle/rateLimit", "50"),
			patch(types.OpReplace, "/quota/limit", "10"),
			patch(types.OpReplace, "/quota/period", "WEEK"),
			patch(types.OpReplace, "/name", "silver"),
		}}))
	if len(u.ApiStages) != 2 || u.ApiStages[1].Throttle["/pets/GET"].RateLimit != 2.5 || u.ApiStages[1].Throttle["/*/*"].BurstLimit != 4 ||
		u.Throttle.RateLimit != 50 || u.Quota.Limit != 10 || u.Quota.Period != types.QuotaPeriodTypeWeek || *u.Name != "silver" || u.Tags == nil {
		t.Fatalf("UpdateUsagePlan = %+v", u)
	}
	u = must[*apigateway.UpdateUsagePlanOutput](t)(e.a.UpdateUsagePlan(ctx, &apigateway.UpdateUsagePlanInput{UsagePlanId: p.Id,
		PatchOperations: []types.PatchOperation{
			patch(types.OpRemove, "/apiStages/"+g.apiID+":prod/throttle", ""),
			patch(types.OpRemove, "/throttle", ""),
			patch(types.OpRemove, "/quota", ""),
			patch(types.OpAdd, "/quota/limit", "3"),
			patch(types.OpAdd, "/quota/period", "DAY"),
		}}))
	if u.ApiStages[1].Throttle != nil || u.Throttle != nil || u.Quota.Limit != 3 {
		t.Fatalf("UpdateUsagePlan removes = %+v", u)
	}

	// Keys.
	pk := must[*apigateway.CreateUsagePlanKeyOutput](t)(e.a.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: p.Id,
		KeyId: key.Id, KeyType: aws.String("API_KEY")}))
	if *pk.Id != *key.Id || *pk.Type != "API_KEY" || *pk.Value != *key.Value || *pk.Name != "k" {
		t.Fatalf("CreateUsagePlanKey = %+v", pk)
	}
	_, err := e.a.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: p.Id, KeyId: key.Id, KeyType: aws.String("API_KEY")})
	wantAPIError(t, err, "ConflictException", msgUsagePlanKeyExists)
	must[*apigateway.GetUsagePlanKeyOutput](t)(e.a.GetUsagePlanKey(ctx, &apigateway.GetUsagePlanKeyInput{UsagePlanId: p.Id, KeyId: key.Id}))
	byKey := must[*apigateway.GetUsagePlansOutput](t)(e.a.GetUsagePlans(ctx, &apigateway.GetUsagePlansInput{KeyId: key.Id}))
	if len(byKey.Items) != 1 || *byKey.Items[0].Id != *p.Id {
		t.Fatalf("GetUsagePlans keyId = %+v", byKey.Items)
	}

	// A key cannot be in two plans that share a stage.
	other := must[*apigateway.CreateUsagePlanOutput](t)(e.a.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("other"),
		ApiStages: []types.ApiStage{{ApiId: aws.String(f.apiID), Stage: aws.String("prod")}}}))
	_, err = e.a.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: other.Id, KeyId: key.Id, KeyType: aws.String("API_KEY")})
	wantAPIError(t, err, "ConflictException", fmt.Sprintf(msgStageInTwoPlans, *other.Id, *key.Id, f.apiID, "prod"))
	third := must[*apigateway.CreateUsagePlanOutput](t)(e.a.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("third")}))
	must[*apigateway.CreateUsagePlanKeyOutput](t)(e.a.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: third.Id,
		KeyId: key.Id, KeyType: aws.String("API_KEY")}))
	_, err = e.a.UpdateUsagePlan(ctx, &apigateway.UpdateUsagePlanInput{UsagePlanId: third.Id,
		PatchOperations: []types.PatchOperation{patch(types.OpAdd, "/apiStages", g.apiID+":prod")}})
	wantAPIError(t, err, "ConflictException", fmt.Sprintf(msgStageInTwoPlans, *third.Id, *key.Id, g.apiID, "prod"))

	// GetUsage reads the daily counters the data plane writes.
	day := time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)
	for i, n := range []int{2, 1} {
		if _, err := e.store.Create(ctx, apimodel.BucketUsage, apimodel.UsageKey(*p.Id, *key.Id, day.AddDate(0, 0, i)),
			[]byte(fmt.Sprint(n))); err != nil {
			t.Fatal(err)
		}
	}
	usage := must[*apigateway.GetUsageOutput](t)(e.a.GetUsage(ctx, &apigateway.GetUsageInput{UsagePlanId: p.Id,
		StartDate: aws.String("2024-03-04"), EndDate: aws.String("2024-03-06")}))
	want := [][]int64{{2, 1}, {1, 2}, {0, 3}}
	if got := usage.Items[*key.Id]; fmt.Sprint(got) != fmt.Sprint(want) || *usage.UsagePlanId != *p.Id {
		t.Fatalf("GetUsage = %v, want %v", got, want)
	}
	usage = must[*apigateway.GetUsageOutput](t)(e.a.GetUsage(ctx, &apigateway.GetUsageInput{UsagePlanId: p.Id,
		StartDate: aws.String("2024-03-04"), EndDate: aws.String("2024-03-04"), KeyId: aws.String("other")}))
	if len(usage.Items) != 0 {
		t.Fatalf("GetUsage keyId=other = %v", usage.Items)
	}

	// Deletion: a plan with stages is refused; keys and counters go with the plan.
	_, err = e.a.DeleteUsagePlan(ctx, &apigateway.DeleteUsagePlanInput{UsagePlanId: p.Id})
	wantAPIError(t, err, "BadRequestException", fmt.Sprintf(msgPlanHasStages, *p.Id))
	must[*apigateway.DeleteUsagePlanKeyOutput](t)(e.a.DeleteUsagePlanKey(ctx, &apigateway.DeleteUsagePlanKeyInput{UsagePlanId: third.Id, KeyId: key.Id}))
	_, err = e.a.GetUsagePlanKey(ctx, &apigateway.GetUsagePlanKeyInput{UsagePlanId: third.Id, KeyId: key.Id})
	wantAPIError(t, err, "NotFoundException", msgUsagePlanKeyNotFound)
	must[*apigateway.UpdateUsagePlanOutput](t)(e.a.UpdateUsagePlan(ctx, &apigateway.UpdateUsagePlanInput{UsagePlanId: p.Id,
		PatchOperations: []types.PatchOperation{patch(types.OpRemove, "/apiStages", f.apiID+":prod"), patch(types.OpRemove, "/apiStages", g.apiID+":prod")}}))
	must[*apigateway.DeleteUsagePlanOutput](t)(e.a.DeleteUsagePlan(ctx, &apigateway.DeleteUsagePlanInput{UsagePlanId: p.Id}))
	_, err = e.a.GetUsagePlan(ctx, &apigateway.GetUsagePlanInput{UsagePlanId: p.Id})
	wantAPIError(t, err, "NotFoundException", msgUsagePlanNotFound)
	if left := must[[]storeEntry](t)(e.store.List(ctx, apimodel.BucketUsage, *p.Id+".")); len(left) != 0 {
		t.Fatalf("usage counters outlived the plan: %d", len(left))
	}
	if left := must[[]storeEntry](t)(e.store.List(ctx, apimodel.BucketUsagePlanKeys, *p.Id+".")); len(left) != 0 {
		t.Fatalf("plan keys outlived the plan: %d", len(left))
	}
	// Deleting a key removes its memberships.
	must[*apigateway.CreateUsagePlanKeyOutput](t)(e.a.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: other.Id,
		KeyId: key.Id, KeyType: aws.String("API_KEY")}))
	must[*apigateway.DeleteApiKeyOutput](t)(e.a.DeleteApiKey(ctx, &apigateway.DeleteApiKeyInput{ApiKey: key.Id}))
	keys := must[*apigateway.GetUsagePlanKeysOutput](t)(e.a.GetUsagePlanKeys(ctx, &apigateway.GetUsagePlanKeysInput{UsagePlanId: other.Id}))
	if len(keys.Items) != 0 {
		t.Fatalf("deleted key still in plan: %+v", keys.Items)
	}
	_, err = e.b.GetUsagePlan(ctx, &apigateway.GetUsagePlanInput{UsagePlanId: other.Id})
	wantAPIError(t, err, "NotFoundException", msgUsagePlanNotFound)
}
