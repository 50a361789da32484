package controlplane

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/smithy-go"
)

// rawError is an error answer to a request sent without the SDK (for inputs the SDK
// refuses to send, such as missing required members).
type rawError struct {
	status    int
	code, msg string
}

func (r *rawError) Error() string                 { return fmt.Sprintf("%d %s: %s", r.status, r.code, r.msg) }
func (r *rawError) ErrorCode() string             { return r.code }
func (r *rawError) ErrorMessage() string          { return r.msg }
func (r *rawError) ErrorFault() smithy.ErrorFault { return smithy.FaultClient }
func (r *rawError) HTTPStatusCode() int           { return r.status }

// rawCall sends a raw request and returns its error, or nil on success.
func (e *env) rawCall(t testing.TB, method, path, body string) error {
	t.Helper()
	status, code, msg := e.raw(t, method, path, body)
	if status < 300 {
		return nil
	}
	return &rawError{status: status, code: code, msg: msg}
}

// TestAccessValidationMessages checks AWS's status, error code and message for every
// validation rule of authorizers, models, request validators, API keys, usage plans
// and the method checks that refer to them — one named case per rule.
func TestAccessValidationMessages(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	f := e.staged(t)
	a := e.a
	api, res := aws.String(f.apiID), aws.String(f.resID)
	apiPath := "/restapis/" + f.apiID
	authz := e.tokenAuthorizer(t, f.apiID, "existing")
	rv := must[*apigateway.CreateRequestValidatorOutput](t)(a.CreateRequestValidator(ctx, &apigateway.CreateRequestValidatorInput{RestApiId: api,
		Name: aws.String("v")}))
	must[*apigateway.CreateModelOutput](t)(a.CreateModel(ctx, &apigateway.CreateModelInput{RestApiId: api, Name: aws.String("Used"),
		ContentType: aws.String("application/json"), Schema: aws.String(`{"type":"object"}`)}))
	must[*apigateway.PutMethodResponseOutput](t)(a.PutMethodResponse(ctx, &apigateway.PutMethodResponseInput{RestApiId: api, ResourceId: res,
		HttpMethod: aws.String("GET"), StatusCode: aws.String("200"), ResponseModels: map[string]string{"application/json": "Used"}}))
	key := must[*apigateway.CreateApiKeyOutput](t)(a.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("k")}))
	plan := must[*apigateway.CreateUsagePlanOutput](t)(a.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("p"),
		ApiStages: []types.ApiStage{{ApiId: api, Stage: aws.String("prod")}}}))

	createAuthorizer := func(in apigateway.CreateAuthorizerInput) error {
		in.RestApiId = api
		if in.Name == nil {
			in.Name = aws.String(fmt.Sprintf("a%p", &in))
		}
		_, err := a.CreateAuthorizer(ctx, &in)
		return err
	}
	token := func(in apigateway.CreateAuthorizerInput) error {
		in.Type = types.AuthorizerTypeToken
		if in.AuthorizerUri == nil {
			in.AuthorizerUri = aws.String(testLambdaURI)
		}
		if in.IdentitySource == nil {
			in.IdentitySource = aws.String("method.request.header.Authorization")
		}
		return createAuthorizer(in)
	}
	updateAuthorizer := func(ops ...types.PatchOperation) error {
		_, err := a.UpdateAuthorizer(ctx, &apigateway.UpdateAuthorizerInput{RestApiId: api, AuthorizerId: aws.String(authz), PatchOperations: ops})
		return err
	}
	updateMethod := func(ops ...types.PatchOperation) error {
		_, err := a.UpdateMethod(ctx, &apigateway.UpdateMethodInput{RestApiId: api, ResourceId: res, HttpMethod: aws.String("GET"), PatchOperations: ops})
		return err
	}
	putMethod := func(in apigateway.PutMethodInput) error {
		in.RestApiId, in.ResourceId, in.HttpMethod = api, res, aws.String("PATCH")
		if in.AuthorizationType == nil {
			in.AuthorizationType = aws.String("NONE")
		}
		_, err := a.PutMethod(ctx, &in)
		return err
	}
	createModel := func(name, schema string) error {
		in := &apigateway.CreateModelInput{RestApiId: api, Name: aws.String(name), ContentType: aws.String("application/json")}
		if schema != "" {
			in.Schema = aws.String(schema)
		}
		_, err := a.CreateModel(ctx, in)
		return err
	}
	updateModel := func(ops ...types.PatchOperation) error {
		_, err := a.UpdateModel(ctx, &apigateway.UpdateModelInput{RestApiId: api, ModelName: aws.String("Used"), PatchOperations: ops})
		return err
	}
	updateValidator := func(ops ...types.PatchOperation) error {
		_, err := a.UpdateRequestValidator(ctx, &apigateway.UpdateRequestValidatorInput{RestApiId: api, RequestValidatorId: rv.Id, PatchOperations: ops})
		return err
	}
	updateKey := func(ops ...types.PatchOperation) error {
		_, err := a.UpdateApiKey(ctx, &apigateway.UpdateApiKeyInput{ApiKey: key.Id, PatchOperations: ops})
		return err
	}
	createPlan := func(in apigateway.CreateUsagePlanInput) error {
		if in.Name == nil {
			in.Name = aws.String("plan")
		}
		_, err := a.CreateUsagePlan(ctx, &in)
		return err
	}
	updatePlan := func(ops ...types.PatchOperation) error {
		_, err := a.UpdateUsagePlan(ctx, &apigateway.UpdateUsagePlanInput{UsagePlanId: plan.Id, PatchOperations: ops})
		return err
	}
	getUsage := func(start, end string) error {
		_, err := a.GetUsage(ctx, &apigateway.GetUsageInput{UsagePlanId: plan.Id, StartDate: aws.String(start), EndDate: aws.String(end)})
		return err
	}
	const (
		bad  = "BadRequestException"
		nf   = "NotFoundException"
		conf = "ConflictException"
		val  = "ValidationException"
	)
	tests := []struct {
		name   string
		call   func() error
		status int
		code   string
		msg    string
	}{
		// Authorizers: CreateAuthorizer.
		{"authorizer name null", func() error {
			return e.rawCall(t, "POST", apiPath+"/authorizers", `{"type":"TOKEN"}`)
		}, 400, val, "1 validation error detected: Value null at 'createAuthorizerInput.name' failed to satisfy constraint: Member must not be null"},
		{"authorizer type null", func() error {
			return e.rawCall(t, "POST", apiPath+"/authorizers", `{"name":"x"}`)
		}, 400, val, "1 validation error detected: Value null at 'createAuthorizerInput.type' failed to satisfy constraint: Member must not be null"},
		{"authorizer type unknown", func() error {
			return createAuthorizer(apigateway.CreateAuthorizerInput{Type: "JWT"})
		}, 400, val, "1 validation error detected: Value 'JWT' at 'createAuthorizerInput.type' failed to satisfy constraint: Member must satisfy enum value set: [TOKEN, REQUEST, COGNITO_USER_POOLS]"},
		{"authorizer name empty", func() error { return token(apigateway.CreateAuthorizerInput{Name: aws.String("")}) }, 400, bad, msgAuthorizerName},
		{"authorizer name taken", func() error { return token(apigateway.CreateAuthorizerInput{Name: aws.String("existing")}) },
			400, bad, "Authorizer name must be unique. Authorizer existing already exists in this RestApi."},
		{"authorizer uri is a lambda arn", func() error {
			return token(apigateway.CreateAuthorizerInput{AuthorizerUri: aws.String("arn:aws:lambda:us-east-1:111111111111:function:auth")})
		}, 400, bad, "Invalid Authorizer URI: arn:aws:lambda:us-east-1:111111111111:function:auth. Authorizer URI should be a valid API Gateway ARN that represents a Lambda function invocation."},
		{"authorizer uri missing", func() error {
			return createAuthorizer(apigateway.CreateAuthorizerInput{Type: types.AuthorizerTypeRequest, AuthorizerResultTtlInSeconds: aws.Int32(0)})
		}, 400, bad, fmt.Sprintf(msgAuthorizerURI, "null")},
		{"authorizer credentials not a role", func() error {
			return token(apigateway.CreateAuthorizerInput{AuthorizerCredentials: aws.String("arn:aws:iam::111111111111:user/bob")})
		}, 400, bad, msgInvalidARN},
		{"authorizer ttl above 3600", func() error {
			return token(apigateway.CreateAuthorizerInput{AuthorizerResultTtlInSeconds: aws.Int32(3601)})
		},
			400, bad, msgAuthorizerTTL},
		{"authorizer ttl negative", func() error {
			return token(apigateway.CreateAuthorizerInput{AuthorizerResultTtlInSeconds: aws.Int32(-1)})
		},
			400, bad, msgAuthorizerTTL},
		{"token identity source missing", func() error {
			return createAuthorizer(apigateway.CreateAuthorizerInput{Type: types.AuthorizerTypeToken, AuthorizerUri: aws.String(testLambdaURI)})
		}, 400, bad, fmt.Sprintf(msgTokenSource, "null")},
		{"token identity source not a header", func() error {
			return token(apigateway.CreateAuthorizerInput{IdentitySource: aws.String("method.request.querystring.key")})
		}, 400, bad, "Invalid token source expression: method.request.querystring.key. The source must be a method request header, matching 'method.request.header.[a-zA-Z0-9._-]+'"},
		{"token identity source empty header name", func() error {
			return token(apigateway.CreateAuthorizerInput{IdentitySource: aws.String("method.request.header.")})
		}, 400, bad, fmt.Sprintf(msgTokenSource, "method.request.header.")},
		{"request identity source is a path parameter", func() error {
			return createAuthorizer(apigateway.CreateAuthorizerInput{Type: types.AuthorizerTypeRequest, AuthorizerUri: aws.String(testLambdaURI),
				IdentitySource: aws.String("method.request.header.A, method.request.path.id")})
		}, 400, bad, fmt.Sprintf(msgIdentitySource, "method.request.path.id")},
		{"request identity source required with caching", func() error {
			return createAuthorizer(apigateway.CreateAuthorizerInput{Type: types.AuthorizerTypeRequest, AuthorizerUri: aws.String(testLambdaURI)})
		}, 400, bad, msgIdentitySourceCache},
		{"cognito without provider arns", func() error {
			return createAuthorizer(apigateway.CreateAuthorizerInput{Type: types.AuthorizerTypeCognitoUserPools,
				IdentitySource: aws.String("method.request.header.Authorization")})
		}, 400, bad, msgProviderARNs},
		{"cognito provider neither pool arn nor issuer", func() error {
			return createAuthorizer(apigateway.CreateAuthorizerInput{Type: types.AuthorizerTypeCognitoUserPools, ProviderARNs: []string{"http://evil.example.com"},
				IdentitySource: aws.String("method.request.header.Authorization")})
		}, 400, bad, fmt.Sprintf(msgProviderARN, "http://evil.example.com")},
		{"cognito identity source missing", func() error {
			return createAuthorizer(apigateway.CreateAuthorizerInput{Type: types.AuthorizerTypeCognitoUserPools, ProviderARNs: []string{testPoolARN}})
		}, 400, bad, fmt.Sprintf(msgTokenSource, "null")},
		{"identity validation expression not a regex", func() error {
			return token(apigateway.CreateAuthorizerInput{IdentityValidationExpression: aws.String("Bearer (")})
		}, 400, bad, fmt.Sprintf(msgValidationExpression, "Bearer (")},
		// Authorizers: Get/Update/Delete.
		{"get unknown authorizer", func() error {
			_, err := a.GetAuthorizer(ctx, &apigateway.GetAuthorizerInput{RestApiId: api, AuthorizerId: aws.String("nope00")})
			return err
		}, 404, nf, msgAuthorizerNotFound},
		{"delete unknown authorizer", func() error {
			_, err := a.DeleteAuthorizer(ctx, &apigateway.DeleteAuthorizerInput{RestApiId: api, AuthorizerId: aws.String("nope00")})
			return err
		}, 404, nf, msgAuthorizerNotFound},
		{"authorizers of unknown api", func() error {
			_, err := a.GetAuthorizers(ctx, &apigateway.GetAuthorizersInput{RestApiId: aws.String("fakeapiid")})
			return err
		}, 404, nf, "Invalid API identifier specified " + accountA + ":fakeapiid"},
		{"update authorizer unknown path", func() error { return updateAuthorizer(patch(types.OpReplace, "/nope", "x")) }, 400, bad, "Invalid patch path /nope"},
		{"update authorizer add name", func() error { return updateAuthorizer(patch(types.OpAdd, "/name", "x")) },
			400, bad, "Invalid patch operation specified. Must be one of: [replace]"},
		{"update authorizer replace provider arns", func() error { return updateAuthorizer(patch(types.OpReplace, "/providerARNs", testPoolARN)) },
			400, bad, "Invalid patch operation specified. Must be one of: [add, remove]"},
		{"update authorizer ttl not a number", func() error { return updateAuthorizer(patch(types.OpReplace, "/authorizerResultTtlInSeconds", "soon")) },
			400, bad, msgAuthorizerTTL},
		{"update authorizer invalid result", func() error {
			return updateAuthorizer(patch(types.OpReplace, "/identitySource", "method.request.querystring.q"))
		}, 400, bad, fmt.Sprintf(msgTokenSource, "method.request.querystring.q")},
		{"update authorizer to a taken name", func() error {
			e.tokenAuthorizer(t, f.apiID, "second")
			return updateAuthorizer(patch(types.OpReplace, "/name", "second"))
		}, 400, bad, fmt.Sprintf(msgAuthorizerNameUnique, "second")},
		{"flush cache of unknown api", func() error {
			_, err := a.FlushStageAuthorizersCache(ctx, &apigateway.FlushStageAuthorizersCacheInput{RestApiId: aws.String("fakeapiid"), StageName: aws.String("prod")})
			return err
		}, 404, nf, "Invalid API identifier specified " + accountA + ":fakeapiid"},
		// Methods referring to authorizers, validators and models.
		{"put method unknown authorizer", func() error {
			return putMethod(apigateway.PutMethodInput{AuthorizationType: aws.String("COGNITO_USER_POOLS"), AuthorizerId: aws.String("nope00")})
		}, 400, bad, msgInvalidAuthorizer},
		{"put method scopes without cognito", func() error {
			return putMethod(apigateway.PutMethodInput{AuthorizationType: aws.String("CUSTOM"), AuthorizerId: aws.String(authz),
				AuthorizationScopes: []string{"read"}})
		}, 400, bad, msgScopesNotCognito},
		{"put method unknown validator", func() error { return putMethod(apigateway.PutMethodInput{RequestValidatorId: aws.String("nope00")}) },
			400, bad, msgValidatorNotFound},
		{"put method unknown model", func() error {
			return putMethod(apigateway.PutMethodInput{RequestModels: map[string]string{"application/json": "Nope"}})
		}, 400, bad, msgModelIdentifier + "Nope"},
		{"update method unknown authorizer", func() error {
			return updateMethod(patch(types.OpReplace, "/authorizationType", "CUSTOM"), patch(types.OpReplace, "/authorizerId", "nope00"))
		}, 400, bad, msgInvalidAuthorizer},
		{"update method scopes without cognito", func() error { return updateMethod(patch(types.OpAdd, "/authorizationScopes", "read")) },
			400, bad, msgScopesNotCognito},
		{"update method unknown validator", func() error { return updateMethod(patch(types.OpReplace, "/requestValidatorId", "nope00")) },
			400, bad, msgValidatorNotFound},
		{"update method unknown model", func() error { return updateMethod(patch(types.OpAdd, "/requestModels/application~1json", "Nope")) },
			400, bad, msgModelIdentifier + "Nope"},
		{"put method response unknown model", func() error {
			_, err := a.PutMethodResponse(ctx, &apigateway.PutMethodResponseInput{RestApiId: api, ResourceId: res, HttpMethod: aws.String("GET"),
				StatusCode: aws.String("404"), ResponseModels: map[string]string{"application/json": "Nope"}})
			return err
		}, 400, bad, msgModelIdentifier + "Nope"},
		{"update method response unknown model", func() error {
			_, err := a.UpdateMethodResponse(ctx, &apigateway.UpdateMethodResponseInput{RestApiId: api, ResourceId: res, HttpMethod: aws.String("GET"),
				StatusCode: aws.String("200"), PatchOperations: []types.PatchOperation{patch(types.OpAdd, "/responseModels/text~1plain", "Nope")}})
			return err
		}, 400, bad, msgModelIdentifier + "Nope"},
		// Models.
		{"model name null", func() error {
			return e.rawCall(t, "POST", apiPath+"/models", `{"contentType":"application/json"}`)
		}, 400, val, "1 validation error detected: Value null at 'createModelInput.name' failed to satisfy constraint: Member must not be null"},
		{"model content type null", func() error {
			return e.rawCall(t, "POST", apiPath+"/models", `{"name":"X","schema":"{}"}`)
		}, 400, val, "1 validation error detected: Value null at 'createModelInput.contentType' failed to satisfy constraint: Member must not be null"},
		{"model name empty", func() error { return createModel("", "{}") }, 400, bad, msgModelNameEmpty},
		{"model name not alphanumeric", func() error { return createModel("pet-model", "{}") }, 400, bad, msgModelName},
		{"model name taken", func() error { return createModel("Empty", "{}") }, 409, conf, msgModelExists},
		{"model schema missing", func() error { return createModel("NoSchema", "") }, 400, bad, msgModelSchemaEmpty},
		{"model schema not json", func() error { return createModel("BadSchema", "{type: object") }, 400, bad, msgModelSchema},
		{"model schema not an object", func() error { return createModel("ArraySchema", "[]") }, 400, bad, msgModelSchema},
		{"update model add", func() error { return updateModel(patch(types.OpAdd, "/schema", "{}")) }, 400, bad,
			"Invalid patch path  '/schema' specified for op 'add'. Please choose supported operations"},
		{"update model unknown path", func() error { return updateModel(patch(types.OpReplace, "/name", "X")) }, 400, bad,
			"Invalid patch path  '/name' specified for op 'replace'. Must be one of: [/description, /schema]"},
		{"update model invalid schema", func() error { return updateModel(patch(types.OpReplace, "/schema", "nope")) }, 400, bad, msgModelSchema},
		{"get unknown model", func() error {
			_, err := a.GetModel(ctx, &apigateway.GetModelInput{RestApiId: api, ModelName: aws.String("Nope")})
			return err
		}, 404, nf, "Invalid model name specified: Nope"},
		{"delete model used by a method response", func() error {
			_, err := a.DeleteModel(ctx, &apigateway.DeleteModelInput{RestApiId: api, ModelName: aws.String("Used")})
			return err
		}, 409, conf, "Cannot delete model 'Used', is referenced in method response: /pets/GET"},
		// Request validators.
		{"validator name blank on create", func() error {
			_, err := a.CreateRequestValidator(ctx, &apigateway.CreateRequestValidatorInput{RestApiId: api, Name: aws.String("")})
			return err
		}, 400, bad, msgValidatorBlank},
		{"validator name blank on update", func() error { return updateValidator(patch(types.OpReplace, "/name", "")) }, 400, bad, msgValidatorBlank},
		{"update validator add", func() error { return updateValidator(patch(types.OpAdd, "/name", "x")) }, 400, bad,
			"Invalid patch path  '/name' specified for op 'add'. Please choose supported operations"},
		{"update validator unknown path", func() error { return updateValidator(patch(types.OpReplace, "/id", "x")) }, 400, bad,
			"Invalid patch path  '/id' specified for op 'replace'. Must be one of: [/name, /validateRequestParameters, /validateRequestBody]"},
		{"get unknown validator", func() error {
			_, err := a.GetRequestValidator(ctx, &apigateway.GetRequestValidatorInput{RestApiId: api, RequestValidatorId: aws.String("nope00")})
			return err
		}, 404, nf, msgValidatorNotFound},
		// API keys.
		{"api key value too short", func() error {
			_, err := a.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Value: aws.String(strings.Repeat("a", 19))})
			return err
		}, 400, bad, "API Key value should be at least 20 characters"},
		{"api key value too long", func() error {
			_, err := a.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Value: aws.String(strings.Repeat("a", 129))})
			return err
		}, 400, bad, "API Key value exceeds maximum size of 128 characters"},
		{"api key name too long", func() error {
			_, err := a.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String(strings.Repeat("n", 1025))})
			return err
		}, 400, bad, msgAPIKeyName},
		{"api key description too long", func() error {
			_, err := a.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Description: aws.String(strings.Repeat("d", 125001))})
			return err
		}, 400, bad, msgAPIKeyDescription},
		{"api key reserved tag", func() error {
			_, err := a.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Tags: map[string]string{"aws:x": "y"}})
			return err
		}, 400, bad, "Tag keys starting with 'aws:' are reserved for AWS use"},
		{"api key unknown stage key", func() error {
			_, err := a.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{StageKeys: []types.StageKey{{RestApiId: api, StageName: aws.String("nope")}}})
			return err
		}, 400, bad, msgInvalidStageKey},
		{"update api key unknown path", func() error { return updateKey(patch(types.OpReplace, "/value", "x")) }, 400, bad, "Invalid patch path /value"},
		{"update api key add name", func() error { return updateKey(patch(types.OpAdd, "/name", "x")) }, 400, bad,
			"Invalid patch operation specified. Must be one of: [replace]"},
		{"get unknown api key", func() error {
			_, err := a.GetApiKey(ctx, &apigateway.GetApiKeyInput{ApiKey: aws.String("nope000000")})
			return err
		}, 404, nf, msgAPIKeyNotFound},
		{"delete unknown api key", func() error {
			_, err := a.DeleteApiKey(ctx, &apigateway.DeleteApiKeyInput{ApiKey: aws.String("nope000000")})
			return err
		}, 404, nf, msgAPIKeyNotFound},
		{"import api keys without format", func() error { return e.rawCall(t, "POST", "/apikeys?mode=import", "Key\n") }, 400, val,
			"1 validation error detected: Value null at 'importApiKeysInput.format' failed to satisfy constraint: Member must not be null"},
		{"import api keys as json", func() error { return e.rawCall(t, "POST", "/apikeys?mode=import&format=json", "{}") }, 400, val,
			"1 validation error detected: Value 'json' at 'importApiKeysInput.format' failed to satisfy constraint: Member must satisfy enum value set: [csv]"},
		{"import api keys without key column", func() error {
			_, err := a.ImportApiKeys(ctx, &apigateway.ImportApiKeysInput{Body: []byte("Name\nx\n"), Format: types.ApiKeysFormatCsv})
			return err
		}, 400, bad, "Invalid API key file: the header row has no Key column"},
		// Usage plans.
		{"usage plan name null", func() error { return e.rawCall(t, "POST", "/usageplans", `{}`) }, 400, val,
			"1 validation error detected: Value null at 'createUsagePlanInput.name' failed to satisfy constraint: Member must not be null"},
		{"usage plan name empty", func() error { return createPlan(apigateway.CreateUsagePlanInput{Name: aws.String("")}) }, 400, bad, msgUsagePlanName},
		{"usage plan quota period unknown", func() error {
			return createPlan(apigateway.CreateUsagePlanInput{Quota: &types.QuotaSettings{Limit: 5, Period: "YEAR"}})
		}, 400, val, "1 validation error detected: Value 'YEAR' at 'createUsagePlanInput.quota.period' failed to satisfy constraint: Member must satisfy enum value set: [DAY, WEEK, MONTH]"},
		{"usage plan quota without period", func() error {
			return e.rawCall(t, "POST", "/usageplans", `{"name":"x","quota":{"limit":5}}`)
		}, 400, bad, fmt.Sprintf(msgQuotaPeriod, "null")},
		{"usage plan quota limit zero", func() error {
			return createPlan(apigateway.CreateUsagePlanInput{Quota: &types.QuotaSettings{Period: types.QuotaPeriodTypeDay}})
		}, 400, bad, fmt.Sprintf(msgQuotaLimit, "0")},
		{"usage plan quota offset at limit", func() error {
			return createPlan(apigateway.CreateUsagePlanInput{Quota: &types.QuotaSettings{Limit: 5, Offset: 5, Period: types.QuotaPeriodTypeDay}})
		}, 400, bad, fmt.Sprintf(msgQuotaOffset, "5")},
		{"usage plan negative rate", func() error {
			return createPlan(apigateway.CreateUsagePlanInput{Throttle: &types.ThrottleSettings{RateLimit: -1}})
		}, 400, bad, fmt.Sprintf(msgThrottleRate, "-1")},
		{"usage plan negative burst", func() error {
			return createPlan(apigateway.CreateUsagePlanInput{Throttle: &types.ThrottleSettings{BurstLimit: -1}})
		}, 400, bad, fmt.Sprintf(msgThrottleBurst, "-1")},
		{"usage plan bad method throttle key", func() error {
			return createPlan(apigateway.CreateUsagePlanInput{ApiStages: []types.ApiStage{{ApiId: api, Stage: aws.String("prod"),
				Throttle: map[string]types.ThrottleSettings{"pets": {RateLimit: 1}}}}})
		}, 400, bad, fmt.Sprintf(msgThrottlePath, "pets")},
		{"usage plan stage without api id", func() error {
			return createPlan(apigateway.CreateUsagePlanInput{ApiStages: []types.ApiStage{{Stage: aws.String("prod")}}})
		}, 400, bad, msgInvalidAPIStage},
		{"update plan remove malformed stage", func() error { return updatePlan(patch(types.OpRemove, "/apiStages", "nocolon")) }, 400, bad, msgInvalidAPIStage},
		{"update plan remove absent stage", func() error { return updatePlan(patch(types.OpRemove, "/apiStages", f.apiID+":dev")) }, 404, nf,
			fmt.Sprintf(msgAPIStageNotFound, f.apiID, "dev", *plan.Id)},
		{"update plan add unknown stage", func() error { return updatePlan(patch(types.OpAdd, "/apiStages", f.apiID+":dev")) }, 404, nf,
			fmt.Sprintf(msgAPIStageNotFound, f.apiID, "dev", *plan.Id)},
		{"update plan add stage of unknown api", func() error { return updatePlan(patch(types.OpAdd, "/apiStages", "fakeapiid:prod")) }, 404, nf,
			fmt.Sprintf(msgAPIStageNotFound, "fakeapiid", "prod", *plan.Id)},
		{"update plan bad method throttle key", func() error {
			return updatePlan(patch(types.OpReplace, "/apiStages/"+f.apiID+":prod/throttle/pets/rateLimit", "1"))
		}, 400, bad, fmt.Sprintf(msgThrottlePath, "/pets")},
		{"update plan method rate not a number", func() error {
			return updatePlan(patch(types.OpReplace, "/apiStages/"+f.apiID+":prod/throttle//pets/GET/rateLimit", "fast"))
		}, 400, bad, fmt.Sprintf(msgThrottleRate, "fast")},
		{"update plan burst not a number", func() error { return updatePlan(patch(types.OpReplace, "/throttle/burstLimit", "1.5")) }, 400, bad,
			fmt.Sprintf(msgThrottleBurst, "1.5")},
		{"update plan quota period unknown", func() error { return updatePlan(patch(types.OpReplace, "/quota/period", "YEAR")) }, 400, bad,
			fmt.Sprintf(msgQuotaPeriod, "YEAR")},
		{"update plan quota limit only", func() error { return updatePlan(patch(types.OpAdd, "/quota/limit", "5")) }, 400, bad,
			fmt.Sprintf(msgQuotaPeriod, "null")},
		{"update plan unknown path", func() error { return updatePlan(patch(types.OpReplace, "/nope", "x")) }, 400, bad, "Invalid patch path /nope"},
		{"update plan add name", func() error { return updatePlan(patch(types.OpAdd, "/name", "x")) }, 400, bad,
			"Invalid patch operation specified. Must be one of: [replace]"},
		{"update plan empty name", func() error { return updatePlan(patch(types.OpReplace, "/name", "")) }, 400, bad, msgUsagePlanName},
		{"get unknown usage plan", func() error {
			_, err := a.GetUsagePlan(ctx, &apigateway.GetUsagePlanInput{UsagePlanId: aws.String("nope00")})
			return err
		}, 404, nf, msgUsagePlanNotFound},
		// Usage plan keys.
		{"usage plan key id null", func() error {
			return e.rawCall(t, "POST", "/usageplans/"+*plan.Id+"/keys", `{"keyType":"API_KEY"}`)
		}, 400, val, "1 validation error detected: Value null at 'createUsagePlanKeyInput.keyId' failed to satisfy constraint: Member must not be null"},
		{"usage plan key type unknown", func() error {
			_, err := a.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: plan.Id, KeyId: key.Id, KeyType: aws.String("COGNITO")})
			return err
		}, 400, bad, msgKeyType},
		{"usage plan key of unknown key", func() error {
			_, err := a.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: plan.Id, KeyId: aws.String("nope000000"), KeyType: aws.String("API_KEY")})
			return err
		}, 404, nf, msgAPIKeyNotFound},
		{"usage plan key of unknown plan", func() error {
			_, err := a.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: aws.String("nope00"), KeyId: key.Id, KeyType: aws.String("API_KEY")})
			return err
		}, 404, nf, msgUsagePlanNotFound},
		{"get usage plan key not in plan", func() error {
			_, err := a.GetUsagePlanKey(ctx, &apigateway.GetUsagePlanKeyInput{UsagePlanId: plan.Id, KeyId: key.Id})
			return err
		}, 404, nf, msgUsagePlanKeyNotFound},
		// GetUsage.
		{"usage without start date", func() error { return e.rawCall(t, "GET", "/usageplans/"+*plan.Id+"/usage?endDate=2024-01-01", "") }, 400, val,
			"1 validation error detected: Value null at 'getUsageInput.startDate' failed to satisfy constraint: Member must not be null"},
		{"usage bad date", func() error { return getUsage("2024/01/01", "2024-01-02") }, 400, bad, fmt.Sprintf(msgUsageDate, "2024/01/01")},
		{"usage end before start", func() error { return getUsage("2024-01-02", "2024-01-01") }, 400, bad, msgUsageRange},
		{"usage over 90 days", func() error { return getUsage("2024-01-01", "2024-03-31") }, 400, bad, msgUsageSpan},
		{"usage of unknown plan", func() error {
			_, err := a.GetUsage(ctx, &apigateway.GetUsageInput{UsagePlanId: aws.String("nope00"), StartDate: aws.String("2024-01-01"),
				EndDate: aws.String("2024-01-01")})
			return err
		}, 404, nf, msgUsagePlanNotFound},
		// RestApi.apiKeySource.
		{"api key source unknown on create", func() error {
			_, err := a.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("x"), ApiKeySource: "QUERY"})
			return err
		}, 400, val, "1 validation error detected: Value 'QUERY' at 'createRestApiInput.apiKeySource' failed to satisfy constraint: Member must satisfy enum value set: [HEADER, AUTHORIZER]"},
		{"api key source unknown on update", func() error {
			_, err := a.UpdateRestApi(ctx, &apigateway.UpdateRestApiInput{RestApiId: api,
				PatchOperations: []types.PatchOperation{patch(types.OpReplace, "/apiKeySource", "QUERY")}})
			return err
		}, 400, bad, "Invalid apiKeySource specified. Valid options are HEADER,AUTHORIZER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			wantAPIError(t, err, tt.code, tt.msg)
			wantStatus(t, err, tt.status)
		})
	}
}
