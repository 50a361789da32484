package controlplane

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
)

func TestMethodLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	api := e.newAPI(t, nil)
	id, root, get := api.Id, api.RootResourceId, aws.String("GET")

	put := must[*apigateway.PutMethodOutput](t)(e.a.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: id, ResourceId: root,
		HttpMethod: get, AuthorizationType: aws.String("none"), ApiKeyRequired: true, OperationName: aws.String("ListPets"),
		RequestParameters: map[string]bool{"method.request.querystring.q": true, "method.request.header.h": false},
		RequestModels:     map[string]string{"application/json": "Empty"}}))
	if *put.HttpMethod != "GET" || *put.AuthorizationType != "NONE" || !*put.ApiKeyRequired ||
		!put.RequestParameters["method.request.querystring.q"] || put.RequestModels["application/json"] != "Empty" {
		t.Fatalf("PutMethod = %+v", put)
	}
	_, err := e.a.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: id, ResourceId: root, HttpMethod: get, AuthorizationType: aws.String("NONE")})
	wantAPIError(t, err, "ConflictException", msgMethodExists)

	upd := must[*apigateway.UpdateMethodOutput](t)(e.a.UpdateMethod(ctx, &apigateway.UpdateMethodInput{RestApiId: id, ResourceId: root, HttpMethod: get,
		PatchOperations: []types.PatchOperation{
			patch(types.OpReplace, "/authorizationType", "AWS_IAM"),
			patch(types.OpReplace, "/apiKeyRequired", "false"),
			patch(types.OpReplace, "/operationName", "Renamed"),
			patch(types.OpAdd, "/requestParameters/method.request.path.petId", "true"),
			patch(types.OpRemove, "/requestParameters/method.request.header.h", ""),
			patch(types.OpRemove, "/requestModels/application~1json", ""),
		}}))
	if *upd.AuthorizationType != "AWS_IAM" || *upd.ApiKeyRequired || *upd.OperationName != "Renamed" ||
		len(upd.RequestParameters) != 2 || !upd.RequestParameters["method.request.path.petId"] || upd.RequestModels != nil {
		t.Fatalf("UpdateMethod = %+v", upd)
	}
	authz := e.tokenAuthorizer(t, *id, "auth")
	upd = must[*apigateway.UpdateMethodOutput](t)(e.a.UpdateMethod(ctx, &apigateway.UpdateMethodInput{RestApiId: id, ResourceId: root, HttpMethod: get,
		PatchOperations: []types.PatchOperation{
			patch(types.OpReplace, "/authorizationType", "CUSTOM"),
			patch(types.OpReplace, "/authorizerId", authz),
		}}))
	if *upd.AuthorizationType != "CUSTOM" || *upd.AuthorizerId != authz {
		t.Fatalf("UpdateMethod authorizer = %+v", upd)
	}

	// Method responses.
	mr := must[*apigateway.PutMethodResponseOutput](t)(e.a.PutMethodResponse(ctx, &apigateway.PutMethodResponseInput{RestApiId: id,
		ResourceId: root, HttpMethod: get, StatusCode: aws.String("200")}))
	if *mr.StatusCode != "200" || mr.ResponseModels == nil || mr.ResponseParameters == nil {
		t.Fatalf("PutMethodResponse = %+v", mr)
	}
	umr := must[*apigateway.UpdateMethodResponseOutput](t)(e.a.UpdateMethodResponse(ctx, &apigateway.UpdateMethodResponseInput{RestApiId: id,
		ResourceId: root, HttpMethod: get, StatusCode: aws.String("200"), PatchOperations: []types.PatchOperation{
			patch(types.OpAdd, "/responseParameters/method.response.header.x-id", "true"),
			patch(types.OpAdd, "/responseModels/application~1json", "Empty"),
		}}))
	if !umr.ResponseParameters["method.response.header.x-id"] || umr.ResponseModels["application/json"] != "Empty" {
		t.Fatalf("UpdateMethodResponse = %+v", umr)
	}
	_, err = e.a.UpdateMethodResponse(ctx, &apigateway.UpdateMethodResponseInput{RestApiId: id, ResourceId: root, HttpMethod: get,
		StatusCode: aws.String("200"), PatchOperations: []types.PatchOperation{patch(types.OpRemove, "/responseParameters/nope", "")}})
	wantAPIError(t, err, "NotFoundException", msgInvalidParameterName)
	gmr := must[*apigateway.GetMethodResponseOutput](t)(e.a.GetMethodResponse(ctx, &apigateway.GetMethodResponseInput{RestApiId: id,
		ResourceId: root, HttpMethod: get, StatusCode: aws.String("200")}))
	if !gmr.ResponseParameters["method.response.header.x-id"] {
		t.Fatalf("GetMethodResponse = %+v", gmr)
	}
	_, err = e.a.GetMethodResponse(ctx, &apigateway.GetMethodResponseInput{RestApiId: id, ResourceId: root, HttpMethod: get, StatusCode: aws.String("404")})
	wantAPIError(t, err, "NotFoundException", msgResponseNotFound)

	// Integration and integration responses.
	_, err = e.a.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{RestApiId: id, ResourceId: root, HttpMethod: get,
		StatusCode: aws.String("200")})
	wantAPIError(t, err, "NotFoundException", msgNoIntegration)
	_, err = e.a.GetIntegration(ctx, &apigateway.GetIntegrationInput{RestApiId: id, ResourceId: root, HttpMethod: get})
	wantAPIError(t, err, "NotFoundException", msgIntegrationNotFound)

	in := must[*apigateway.PutIntegrationOutput](t)(e.a.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: id, ResourceId: root,
		HttpMethod: get, Type: types.IntegrationTypeHttpProxy, IntegrationHttpMethod: aws.String("GET"),
		Uri: aws.String("http://${stageVariables.host}/pets"), RequestParameters: map[string]string{"integration.request.header.x": "'static'"}}))
	if in.Type != types.IntegrationTypeHttpProxy || in.TimeoutInMillis != 29000 || in.ConnectionType != types.ConnectionTypeInternet ||
		*in.PassthroughBehavior != "WHEN_NO_MATCH" || *in.CacheNamespace != *root || in.CacheKeyParameters == nil {
		t.Fatalf("PutIntegration = %+v", in)
	}
	uin := must[*apigateway.UpdateIntegrationOutput](t)(e.a.UpdateIntegration(ctx, &apigateway.UpdateIntegrationInput{RestApiId: id, ResourceId: root,
		HttpMethod: get, PatchOperations: []types.PatchOperation{
			patch(types.OpReplace, "/timeoutInMillis", "5000"),
			patch(types.OpReplace, "/uri", "https://example.com/{proxy}"),
			patch(types.OpReplace, "/connectionType", "VPC_LINK"),
			patch(types.OpReplace, "/connectionId", "${stageVariables.vpcLinkId}"),
			patch(types.OpAdd, "/requestTemplates/application~1json", "{}"),
			patch(types.OpReplace, "/tlsConfig/insecureSkipVerification", "true"),
			patch(types.OpAdd, "/cacheKeyParameters/method.request.path.proxy", ""),
		}}))
	if uin.TimeoutInMillis != 5000 || *uin.Uri != "https://example.com/{proxy}" || uin.ConnectionType != types.ConnectionTypeVpcLink ||
		uin.RequestTemplates["application/json"] != "{}" || !uin.TlsConfig.InsecureSkipVerification || len(uin.CacheKeyParameters) != 1 {
		t.Fatalf("UpdateIntegration = %+v", uin)
	}
	must[*apigateway.PutIntegrationResponseOutput](t)(e.a.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{RestApiId: id,
		ResourceId: root, HttpMethod: get, StatusCode: aws.String("200"), SelectionPattern: aws.String("2\\d{2}"),
		ResponseTemplates: map[string]string{"application/json": `"created"`}}))
	uir := must[*apigateway.UpdateIntegrationResponseOutput](t)(e.a.UpdateIntegrationResponse(ctx, &apigateway.UpdateIntegrationResponseInput{RestApiId: id,
		ResourceId: root, HttpMethod: get, StatusCode: aws.String("200"), PatchOperations: []types.PatchOperation{
			patch(types.OpReplace, "/selectionPattern", "updated-pattern")}}))
	if *uir.SelectionPattern != "updated-pattern" || uir.ResponseTemplates["application/json"] != `"created"` {
		t.Fatalf("UpdateIntegrationResponse = %+v", uir)
	}
	gm := must[*apigateway.GetMethodOutput](t)(e.a.GetMethod(ctx, &apigateway.GetMethodInput{RestApiId: id, ResourceId: root, HttpMethod: get}))
	if gm.MethodIntegration == nil || gm.MethodIntegration.IntegrationResponses["200"].SelectionPattern == nil ||
		gm.MethodResponses["200"].StatusCode == nil {
		t.Fatalf("GetMethod = %+v", gm)
	}
	gir := must[*apigateway.GetIntegrationResponseOutput](t)(e.a.GetIntegrationResponse(ctx, &apigateway.GetIntegrationResponseInput{RestApiId: id,
		ResourceId: root, HttpMethod: get, StatusCode: aws.String("200")}))
	if *gir.StatusCode != "200" {
		t.Fatalf("GetIntegrationResponse = %+v", gir)
	}
	if _, err := e.a.DeleteIntegrationResponse(ctx, &apigateway.DeleteIntegrationResponseInput{RestApiId: id, ResourceId: root,
		HttpMethod: get, StatusCode: aws.String("200")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.a.DeleteIntegrationResponse(ctx, &apigateway.DeleteIntegrationResponseInput{RestApiId: id, ResourceId: root,
		HttpMethod: get, StatusCode: aws.String("200")})
	wantAPIError(t, err, "NotFoundException", msgResponseNotFound)
	if _, err := e.a.DeleteIntegration(ctx, &apigateway.DeleteIntegrationInput{RestApiId: id, ResourceId: root, HttpMethod: get}); err != nil {
		t.Fatal(err)
	}
	_, err = e.a.DeleteIntegration(ctx, &apigateway.DeleteIntegrationInput{RestApiId: id, ResourceId: root, HttpMethod: get})
	wantAPIError(t, err, "NotFoundException", msgIntegrationNotFound)
	if _, err := e.a.DeleteMethodResponse(ctx, &apigateway.DeleteMethodResponseInput{RestApiId: id, ResourceId: root,
		HttpMethod: get, StatusCode: aws.String("200")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.a.DeleteMethod(ctx, &apigateway.DeleteMethodInput{RestApiId: id, ResourceId: root, HttpMethod: get}); err != nil {
		t.Fatal(err)
	}
	_, err = e.a.GetMethod(ctx, &apigateway.GetMethodInput{RestApiId: id, ResourceId: root, HttpMethod: get})
	wantAPIError(t, err, "NotFoundException", msgMethodNotFound)
	_, err = e.a.DeleteMethod(ctx, &apigateway.DeleteMethodInput{RestApiId: id, ResourceId: root, HttpMethod: get})
	wantAPIError(t, err, "NotFoundException", msgMethodNotFound)
}

func TestIntegrationTypes(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	api := e.newAPI(t, nil)
	tests := []struct {
		name string
		in   apigateway.PutIntegrationInput
	}{
		{"MOCK drops uri", apigateway.PutIntegrationInput{Type: types.IntegrationTypeMock, Uri: aws.String("http://ignored")}},
		{"HTTP", apigateway.PutIntegrationInput{Type: types.IntegrationTypeHttp, IntegrationHttpMethod: aws.String("POST"), Uri: aws.String("https://example.com")}},
		{"AWS", apigateway.PutIntegrationInput{Type: types.IntegrationTypeAws, IntegrationHttpMethod: aws.String("POST"),
			Uri: aws.String("arn:aws:apigateway:us-east-1:sqs:path/123456789012/queue")}},
		{"AWS_PROXY", apigateway.PutIntegrationInput{Type: types.IntegrationTypeAwsProxy, IntegrationHttpMethod: aws.String("POST"),
			Uri: aws.String("arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:123456789012:function:f/invocations")}},
		{"VPC_LINK", apigateway.PutIntegrationInput{Type: types.IntegrationTypeHttpProxy, IntegrationHttpMethod: aws.String("GET"),
			Uri: aws.String("http://nlb.example.com"), ConnectionType: types.ConnectionTypeVpcLink, ConnectionId: aws.String("abc123"),
			TimeoutInMillis: aws.Int32(50)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := must[*apigateway.CreateResourceOutput](t)(e.a.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id,
				ParentId: api.RootResourceId, PathPart: aws.String(string(tt.in.Type) + "x")}))
			must[*apigateway.PutMethodOutput](t)(e.a.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: res.Id,
				HttpMethod: aws.String("ANY"), AuthorizationType: aws.String("NONE")}))
			in := tt.in
			in.RestApiId, in.ResourceId, in.HttpMethod = api.Id, res.Id, aws.String("ANY")
			out := must[*apigateway.PutIntegrationOutput](t)(e.a.PutIntegration(ctx, &in))
			if out.Type != tt.in.Type || (tt.in.Type == types.IntegrationTypeMock) != (out.Uri == nil) {
				t.Fatalf("PutIntegration = %+v", out)
			}
			got := must[*apigateway.GetIntegrationOutput](t)(e.a.GetIntegration(ctx, &apigateway.GetIntegrationInput{RestApiId: api.Id,
				ResourceId: res.Id, HttpMethod: aws.String("ANY")}))
			if got.Type != out.Type || got.TimeoutInMillis != out.TimeoutInMillis {
				t.Fatalf("GetIntegration = %+v", got)
			}
		})
	}
}
