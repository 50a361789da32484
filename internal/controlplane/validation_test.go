package controlplane

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"gatehouse/internal/accesslog"
)

const allowAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*"}]}`

func endpoint(t types.EndpointType, ip types.IpAddressType, vpces ...string) *types.EndpointConfiguration {
	return &types.EndpointConfiguration{Types: []types.EndpointType{t}, IpAddressType: ip, VpcEndpointIds: vpces}
}

// TestValidationMessages checks AWS's status, error code and message for each
// validation rule, one named case per rule.
func TestValidationMessages(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	f := e.deployable(t, nil)
	api, res, root := aws.String(f.apiID), aws.String(f.resID), aws.String(f.rootID)
	private := e.newAPI(t, &apigateway.CreateRestApiInput{Name: aws.String("private"), Policy: aws.String(allowAll),
		EndpointConfiguration: endpoint(types.EndpointTypePrivate, "")})
	dep := must[*apigateway.CreateDeploymentOutput](t)(e.a.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api,
		StageName: aws.String("prod")}))
	_, formatErr := accesslog.Compile("$context.httpMethod")
	if formatErr == nil {
		t.Fatal("accesslog accepted a format without $context.requestId")
	}
	a := e.a
	updateAPI := func(id *string, ops ...types.PatchOperation) error {
		_, err := a.UpdateRestApi(ctx, &apigateway.UpdateRestApiInput{RestApiId: id, PatchOperations: ops})
		return err
	}
	updateStage := func(ops ...types.PatchOperation) error {
		_, err := a.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: api, StageName: aws.String("prod"), PatchOperations: ops})
		return err
	}
	createAPI := func(in apigateway.CreateRestApiInput) error {
		if in.Name == nil {
			in.Name = aws.String("x")
		}
		_, err := a.CreateRestApi(ctx, &in)
		return err
	}
	putIntegration := func(in apigateway.PutIntegrationInput) error {
		in.RestApiId, in.ResourceId, in.HttpMethod = api, res, aws.String("GET")
		_, err := a.PutIntegration(ctx, &in)
		return err
	}
	createResource := func(parent *string, part string) error {
		_, err := a.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api, ParentId: parent, PathPart: aws.String(part)})
		return err
	}
	proxy := must[*apigateway.CreateResourceOutput](t)(a.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api,
		ParentId: res, PathPart: aws.String("{proxy+}")}))
	bare := e.newAPI(t, &apigateway.CreateRestApiInput{Name: aws.String("bare")})
	noInteg := e.newAPI(t, &apigateway.CreateRestApiInput{Name: aws.String("no-integration")})
	must[*apigateway.PutMethodOutput](t)(a.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: noInteg.Id, ResourceId: noInteg.RootResourceId,
		HttpMethod: aws.String("GET"), AuthorizationType: aws.String("NONE")}))
	privateNoPolicy := e.newAPI(t, &apigateway.CreateRestApiInput{Name: aws.String("private-no-policy"),
		EndpointConfiguration: endpoint(types.EndpointTypePrivate, "")})

	longPolicy := `{"Version":"2012-10-17","Statement":[{"Sid":"` + strings.Repeat("a", 8200) +
		`","Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*"}]}`
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
		// Endpoint configuration.
		{"private api with ipv4", func() error {
			return createAPI(apigateway.CreateRestApiInput{EndpointConfiguration: endpoint(types.EndpointTypePrivate, types.IpAddressTypeIpv4)})
		}, 400, bad, msgDualstackOnly},
		{"multiple endpoint types", func() error {
			return createAPI(apigateway.CreateRestApiInput{EndpointConfiguration: &types.EndpointConfiguration{
				Types: []types.EndpointType{types.EndpointTypeRegional, types.EndpointTypeEdge}}})
		}, 400, bad, msgMultipleTypes},
		{"no endpoint types", func() error {
			return createAPI(apigateway.CreateRestApiInput{EndpointConfiguration: &types.EndpointConfiguration{Types: []types.EndpointType{}}})
		}, 400, bad, msgNoTypes},
		{"unknown endpoint type on create", func() error {
			return createAPI(apigateway.CreateRestApiInput{EndpointConfiguration: endpoint("WRONG", "")})
		}, 400, val, "1 validation error detected: Value '[WRONG]' at 'createRestApiInput.endpointConfiguration.types' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [PRIVATE, EDGE, REGIONAL]]"},
		{"unknown type and ip address type on create", func() error {
			return createAPI(apigateway.CreateRestApiInput{EndpointConfiguration: endpoint("WRONG", "wrong")})
		}, 400, val, "2 validation errors detected: Value '[WRONG]' at 'createRestApiInput.endpointConfiguration.types' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [PRIVATE, EDGE, REGIONAL]]; Value 'wrong' at 'createRestApiInput.endpointConfiguration.ipAddressType' failed to satisfy constraint: Member must satisfy enum value set: [ipv4, dualstack]"},
		{"unknown endpoint type on update", func() error {
			return updateAPI(api, patch(types.OpReplace, "/endpointConfiguration/types/EDGE", "WRONG"))
		}, 400, bad, msgInvalidTypes},
		{"vpc endpoints on a regional api", func() error {
			return createAPI(apigateway.CreateRestApiInput{EndpointConfiguration: endpoint(types.EndpointTypeRegional, "", "vpce-0123456789abcdef0")})
		}, 400, bad, msgVPCEOnlyPrivate},
		{"private to regional keeps vpc endpoints", func() error {
			if err := updateAPI(private.Id, patch(types.OpAdd, "/endpointConfiguration/vpcEndpointIds", "vpce-0123456789abcdef0")); err != nil {
				return err
			}
			return updateAPI(private.Id, patch(types.OpReplace, "/endpointConfiguration/types/PRIVATE", "REGIONAL"))
		}, 400, bad, msgVPCEOnlyPrivate},
		{"private to edge", func() error {
			return updateAPI(privateNoPolicy.Id, patch(types.OpReplace, "/endpointConfiguration/types/PRIVATE", "EDGE"))
		}, 400, bad, "Cannot update an api from PRIVATE to EDGE. Valid options are PRIVATE,REGIONAL"},
		{"ipv4 on a private api", func() error {
			return updateAPI(privateNoPolicy.Id, patch(types.OpReplace, "/endpointConfiguration/ipAddressType", "ipv4"))
		}, 400, bad, msgDualstackOnly},
		{"unknown ip address type on update", func() error {
			return updateAPI(api, patch(types.OpReplace, "/endpointConfiguration/ipAddressType", "wrong"))
		}, 400, bad, msgIPAddressType},
		{"empty description", func() error {
			return createAPI(apigateway.CreateRestApiInput{Description: aws.String("")})
		}, 400, bad, msgEmptyDescription},
		{"compression size out of range", func() error {
			return createAPI(apigateway.CreateRestApiInput{MinimumCompressionSize: aws.Int32(10485761)})
		}, 400, bad, msgCompressionSize},
		// Resource policies.
		{"invalid policy", func() error {
			return createAPI(apigateway.CreateRestApiInput{Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Maybe"}]}`)})
		}, 400, bad, msgInvalidPolicy},
		{"policy is not JSON", func() error { return createAPI(apigateway.CreateRestApiInput{Policy: aws.String("{")}) }, 400, bad, msgInvalidPolicy},
		{"policy too long", func() error {
			return createAPI(apigateway.CreateRestApiInput{Policy: aws.String(longPolicy)})
		}, 400, bad, fmt.Sprintf("Invalid policy document. The policy is %d characters long; the maximum is 8192.", len(longPolicy))},
		// Deployments.
		{"deploy private api without policy", func() error {
			_, err := a.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: privateNoPolicy.Id})
			return err
		}, 400, bad, msgPrivateNoPolicy},
		{"deploy api without methods", func() error {
			_, err := a.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: bare.Id})
			return err
		}, 400, bad, msgNoMethods},
		{"deploy method without integration", func() error {
			_, err := a.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: noInteg.Id})
			return err
		}, 400, bad, msgNoIntegration},
		{"delete deployment in use", func() error {
			_, err := a.DeleteDeployment(ctx, &apigateway.DeleteDeploymentInput{RestApiId: api, DeploymentId: dep.Id})
			return err
		}, 400, bad, msgActiveStages},
		{"deploy to invalid stage name", func() error {
			_, err := a.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api, StageName: aws.String("bad.name")})
			return err
		}, 400, bad, msgStageName},
		// Not found.
		{"unknown api", func() error {
			_, err := a.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: aws.String("nope123456")})
			return err
		}, 404, nf, "Invalid API identifier specified " + accountA + ":nope123456"},
		{"unknown resource", func() error {
			_, err := a.GetResource(ctx, &apigateway.GetResourceInput{RestApiId: api, ResourceId: aws.String("nope12")})
			return err
		}, 404, nf, msgResourceNotFound},
		{"method on unknown api", func() error {
			_, err := a.GetMethod(ctx, &apigateway.GetMethodInput{RestApiId: aws.String("nope123456"), ResourceId: res, HttpMethod: aws.String("GET")})
			return err
		}, 404, nf, msgResourceNotFound},
		{"unknown method", func() error {
			_, err := a.GetMethod(ctx, &apigateway.GetMethodInput{RestApiId: api, ResourceId: res, HttpMethod: aws.String("POST")})
			return err
		}, 404, nf, msgMethodNotFound},
		{"unknown integration", func() error {
			_, err := a.GetIntegration(ctx, &apigateway.GetIntegrationInput{RestApiId: noInteg.Id, ResourceId: noInteg.RootResourceId, HttpMethod: aws.String("GET")})
			return err
		}, 404, nf, msgIntegrationNotFound},
		{"unknown stage", func() error {
			_, err := a.GetStage(ctx, &apigateway.GetStageInput{RestApiId: api, StageName: aws.String("nope")})
			return err
		}, 404, nf, msgStageNotFound},
		{"unknown deployment", func() error {
			_, err := a.GetDeployment(ctx, &apigateway.GetDeploymentInput{RestApiId: api, DeploymentId: aws.String("nope12")})
			return err
		}, 404, nf, msgDeploymentNotFound},
		{"stage on unknown deployment", func() error {
			_, err := a.CreateStage(ctx, &apigateway.CreateStageInput{RestApiId: api, StageName: aws.String("s"), DeploymentId: aws.String("nope12")})
			return err
		}, 404, nf, msgDeploymentNotFound},
		{"stage moved to unknown deployment", func() error {
			return updateStage(patch(types.OpReplace, "/deploymentId", "nope12"))
		}, 400, bad, msgDeploymentIDNotExist},
		// Resources.
		{"duplicate resource path", func() error { return createResource(root, "pets") }, 409, conf,
			"Another resource with the same parent already has this name: pets"},
		{"second variable sibling", func() error { return createResource(res, "{id}") }, 400, bad,
			"A sibling ({proxy+}) of this resource already has a variable path part -- only one is allowed"},
		{"child of greedy resource", func() error { return createResource(proxy.Id, "child") }, 400, bad,
			"Cannot create a child of a resource with a greedy path variable: {proxy+}"},
		{"invalid path part", func() error { return createResource(root, "a b") }, 400, bad, msgPathPart},
		{"resource moved below itself", func() error {
			_, err := a.UpdateResource(ctx, &apigateway.UpdateResourceInput{RestApiId: api, ResourceId: res,
				PatchOperations: []types.PatchOperation{patch(types.OpReplace, "/parentId", *proxy.Id)}})
			return err
		}, 400, bad, msgCyclical},
		{"root resource renamed", func() error {
			_, err := a.UpdateResource(ctx, &apigateway.UpdateResourceInput{RestApiId: api, ResourceId: root,
				PatchOperations: []types.PatchOperation{patch(types.OpReplace, "/pathPart", "x")}})
			return err
		}, 400, bad, "Root resource cannot update its pathPart."},
		// Stages.
		{"duplicate stage", func() error {
			_, err := a.CreateStage(ctx, &apigateway.CreateStageInput{RestApiId: api, StageName: aws.String("prod"), DeploymentId: dep.Id})
			return err
		}, 409, conf, msgStageExists},
		{"invalid stage name", func() error {
			_, err := a.CreateStage(ctx, &apigateway.CreateStageInput{RestApiId: api, StageName: aws.String("a/b"), DeploymentId: dep.Id})
			return err
		}, 400, bad, msgStageName},
		{"stage name too long", func() error {
			_, err := a.CreateStage(ctx, &apigateway.CreateStageInput{RestApiId: api, StageName: aws.String(strings.Repeat("s", 129)), DeploymentId: dep.Id})
			return err
		}, 400, bad, msgStageName},
		{"invalid stage variable name", func() error {
			return updateStage(patch(types.OpReplace, "/variables/bad-name", "v"))
		}, 400, bad, "Invalid stage variable name specified: bad-name. Stage variable names must be 1 to 64 alphanumeric or underscore characters."},
		{"invalid stage variable value", func() error {
			return updateStage(patch(types.OpReplace, "/variables/ok", "has space"))
		}, 400, bad, "Invalid stage variable value specified for ok. Stage variable values must be 1 to 512 characters matching [A-Za-z0-9-._~:/?#&=,]+."},
		{"stage variable value too long", func() error {
			_, err := a.CreateStage(ctx, &apigateway.CreateStageInput{RestApiId: api, StageName: aws.String("long"), DeploymentId: dep.Id,
				Variables: map[string]string{"v": strings.Repeat("x", 513)}})
			return err
		}, 400, bad, "Invalid stage variable value specified for v. Stage variable values must be 1 to 512 characters matching [A-Za-z0-9-._~:/?#&=,]+."},
		{"access log format without request id", func() error {
			return updateStage(patch(types.OpReplace, "/accessLogSettings/format", "$context.httpMethod"))
		}, 400, bad, formatErr.Error()},
		{"access log destination not a log group", func() error {
			return updateStage(patch(types.OpReplace, "/accessLogSettings/destinationArn", "arn:aws:s3:::bucket"))
		}, 400, bad, msgInvalidARN},
		{"access log destination in another account", func() error {
			return updateStage(patch(types.OpReplace, "/accessLogSettings/destinationArn", "arn:aws:logs:us-east-1:999999999999:log-group:x"))
		}, 400, bad, msgInvalidARN},
		// Integrations.
		{"integration timeout too short", func() error {
			return putIntegration(apigateway.PutIntegrationInput{Type: types.IntegrationTypeMock, TimeoutInMillis: aws.Int32(49)})
		}, 400, bad, msgTimeout},
		{"integration timeout too long", func() error {
			return putIntegration(apigateway.PutIntegrationInput{Type: types.IntegrationTypeMock, TimeoutInMillis: aws.Int32(29001)})
		}, 400, bad, msgTimeout},
		{"http integration without uri", func() error {
			return putIntegration(apigateway.PutIntegrationInput{Type: types.IntegrationTypeHttp, IntegrationHttpMethod: aws.String("GET")})
		}, 400, bad, msgInvalidHTTPEndpoint},
		{"http integration without method", func() error {
			return putIntegration(apigateway.PutIntegrationInput{Type: types.IntegrationTypeHttpProxy, Uri: aws.String("http://example.com")})
		}, 400, bad, msgEmptyHTTPMethod},
		{"aws proxy integration to sqs", func() error {
			return putIntegration(apigateway.PutIntegrationInput{Type: types.IntegrationTypeAwsProxy, IntegrationHttpMethod: aws.String("POST"),
				Uri: aws.String("arn:aws:apigateway:us-east-1:sqs:path/123/q")})
		}, 400, bad, msgAWSProxyTarget},
		{"aws integration without arn", func() error {
			return putIntegration(apigateway.PutIntegrationInput{Type: types.IntegrationTypeAws, IntegrationHttpMethod: aws.String("POST"),
				Uri: aws.String("http://example.com")})
		}, 400, bad, msgInvalidARN},
		{"unknown integration type", func() error {
			return putIntegration(apigateway.PutIntegrationInput{Type: "HTTPS_PROXY"})
		}, 400, val, "1 validation error detected: Value 'HTTPS_PROXY' at 'putIntegrationInput.type' failed to satisfy constraint: Member must satisfy enum value set: [HTTP, MOCK, AWS_PROXY, HTTP_PROXY, AWS]"},
		{"vpc link without connection id", func() error {
			return putIntegration(apigateway.PutIntegrationInput{Type: types.IntegrationTypeHttpProxy, IntegrationHttpMethod: aws.String("GET"),
				Uri: aws.String("http://nlb"), ConnectionType: types.ConnectionTypeVpcLink})
		}, 400, bad, "Connection Id must be provided for VPC_LINK connection type"},
		// Methods.
		{"invalid http method", func() error {
			_, err := a.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api, ResourceId: res, HttpMethod: aws.String("FETCH"), AuthorizationType: aws.String("NONE")})
			return err
		}, 400, bad, msgInvalidHTTPMethod},
		{"custom authorization without authorizer", func() error {
			_, err := a.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api, ResourceId: res, HttpMethod: aws.String("POST"), AuthorizationType: aws.String("CUSTOM")})
			return err
		}, 400, bad, msgInvalidAuthorizer},
		{"request parameter names not unique", func() error {
			_, err := a.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api, ResourceId: res, HttpMethod: aws.String("PUT"), AuthorizationType: aws.String("NONE"),
				RequestParameters: map[string]bool{"method.request.header.id": true, "method.request.querystring.id": false}})
			return err
		}, 400, bad, msgParamsUnique},
		{"unknown request model", func() error {
			_, err := a.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api, ResourceId: res, HttpMethod: aws.String("PUT"), AuthorizationType: aws.String("NONE"),
				RequestModels: map[string]string{"application/json": "petModel"}})
			return err
		}, 400, bad, "Invalid model identifier specified: petModel"},
		{"invalid status code", func() error {
			_, err := a.GetMethodResponse(ctx, &apigateway.GetMethodResponseInput{RestApiId: api, ResourceId: res, HttpMethod: aws.String("GET"), StatusCode: aws.String("wrong")})
			return err
		}, 400, val, `1 validation error detected: Value 'wrong' at 'statusCode' failed to satisfy constraint: Member must satisfy regular expression pattern: [1-5]\d\d`},
		// Gateway responses.
		{"unknown gateway response type", func() error {
			_, err := a.GetGatewayResponse(ctx, &apigateway.GetGatewayResponseInput{RestApiId: api, ResponseType: "FAKE_RESPONSE_TYPE"})
			return err
		}, 400, val, "1 validation error detected: Value 'FAKE_RESPONSE_TYPE' at 'responseType' failed to satisfy constraint: Member must satisfy enum value set: [" + gatewayResponseTypeEnum + "]"},
		{"gateway response on unknown api", func() error {
			_, err := a.GetGatewayResponses(ctx, &apigateway.GetGatewayResponsesInput{RestApiId: aws.String("fakeapiid")})
			return err
		}, 404, nf, "Invalid API identifier specified " + accountA + ":fakeapiid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			wantAPIError(t, err, tt.code, tt.msg)
			wantStatus(t, err, tt.status)
		})
	}
}

func TestKnownVPCEndpoint(t *testing.T) {
	e := newEnv(t, func(o *Options) {
		o.KnownVPCEndpoint = func(id string) bool { return id == "vpce-0123456789abcdef0" }
	})
	ctx := context.Background()
	_, err := e.a.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("p"),
		EndpointConfiguration: endpoint(types.EndpointTypePrivate, "", "vpce-00000000000000000")})
	wantAPIError(t, err, "BadRequestException", "Invalid VPC Endpoint identifier specified: vpce-00000000000000000")
	e.newAPI(t, &apigateway.CreateRestApiInput{Name: aws.String("p"),
		EndpointConfiguration: endpoint(types.EndpointTypePrivate, "", "vpce-0123456789abcdef0")})
}
