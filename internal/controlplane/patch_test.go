package controlplane

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
)

const stagePathMsg = "Invalid method setting path: /nope. Must be one of: [/deploymentId, /description, /cacheClusterEnabled, " +
	"/cacheClusterSize, /clientCertificateId, /accessLogSettings, /accessLogSettings/destinationArn, /accessLogSettings/format, " +
	"/{resourcePath}/{httpMethod}/metrics/enabled, /{resourcePath}/{httpMethod}/logging/dataTrace, /{resourcePath}/{httpMethod}/logging/loglevel, " +
	"/{resourcePath}/{httpMethod}/throttling/burstLimit/{resourcePath}/{httpMethod}/throttling/rateLimit/{resourcePath}/{httpMethod}/caching/ttlInSeconds, " +
	"/{resourcePath}/{httpMethod}/caching/enabled, /{resourcePath}/{httpMethod}/caching/dataEncrypted, " +
	"/{resourcePath}/{httpMethod}/caching/requireAuthorizationForCacheControl, /{resourcePath}/{httpMethod}/caching/unauthorizedCacheControlHeaderStrategy, " +
	"/*/*/metrics/enabled, /*/*/logging/dataTrace, /*/*/logging/loglevel, /*/*/throttling/burstLimit /*/*/throttling/rateLimit /*/*/caching/ttlInSeconds, " +
	"/*/*/caching/enabled, /*/*/caching/dataEncrypted, /*/*/caching/requireAuthorizationForCacheControl, " +
	"/*/*/caching/unauthorizedCacheControlHeaderStrategy, /variables/{variable_name}, /tracingEnabled]"

func TestRestAPIPatchOperations(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	api := e.newAPI(t, nil)
	update := func(ops ...types.PatchOperation) (*apigateway.UpdateRestApiOutput, error) {
		return e.a.UpdateRestApi(ctx, &apigateway.UpdateRestApiInput{RestApiId: api.Id, PatchOperations: ops})
	}
	// Successful sequences, applied in order on one API.
	steps := []struct {
		name  string
		ops   []types.PatchOperation
		check func(*apigateway.UpdateRestApiOutput) bool
	}{
		{"add binary media types", []types.PatchOperation{patch(types.OpAdd, "/binaryMediaTypes/image~1png", ""),
			patch(types.OpAdd, "/binaryMediaTypes/*~1*", "")},
			func(o *apigateway.UpdateRestApiOutput) bool {
				return slices.Equal(o.BinaryMediaTypes, []string{"image/png", "*/*"})
			}},
		{"replace moves the type last", []types.PatchOperation{patch(types.OpReplace, "/binaryMediaTypes/image~1png", "image/jpeg")},
			func(o *apigateway.UpdateRestApiOutput) bool {
				return slices.Equal(o.BinaryMediaTypes, []string{"*/*", "image/jpeg"})
			}},
		{"remove binary media type", []types.PatchOperation{patch(types.OpRemove, "/binaryMediaTypes/*~1*", "")},
			func(o *apigateway.UpdateRestApiOutput) bool {
				return slices.Equal(o.BinaryMediaTypes, []string{"image/jpeg"})
			}},
		{"edge to regional", []types.PatchOperation{patch(types.OpReplace, "/endpointConfiguration/types/EDGE", "REGIONAL")},
			func(o *apigateway.UpdateRestApiOutput) bool {
				return o.EndpointConfiguration.Types[0] == types.EndpointTypeRegional && o.EndpointConfiguration.IpAddressType == types.IpAddressTypeIpv4
			}},
		{"regional to private turns dualstack", []types.PatchOperation{patch(types.OpReplace, "/endpointConfiguration/types/REGIONAL", "PRIVATE")},
			func(o *apigateway.UpdateRestApiOutput) bool {
				return o.EndpointConfiguration.Types[0] == types.EndpointTypePrivate && o.EndpointConfiguration.IpAddressType == types.IpAddressTypeDualstack
			}},
		{"add vpc endpoints", []types.PatchOperation{patch(types.OpAdd, "/endpointConfiguration/vpcEndpointIds", "vpce-aaaaaaaaaaaaaaaaa"),
			patch(types.OpAdd, "/endpointConfiguration/vpcEndpointIds", "vpce-bbbbbbbbbbbbbbbbb")},
			func(o *apigateway.UpdateRestApiOutput) bool { return len(o.EndpointConfiguration.VpcEndpointIds) == 2 }},
		{"remove a vpc endpoint by path", []types.PatchOperation{patch(types.OpRemove, "/endpointConfiguration/vpcEndpointIds/vpce-aaaaaaaaaaaaaaaaa", "")},
			func(o *apigateway.UpdateRestApiOutput) bool {
				return slices.Equal(o.EndpointConfiguration.VpcEndpointIds, []string{"vpce-bbbbbbbbbbbbbbbbb"})
			}},
		{"remove a vpc endpoint by value", []types.PatchOperation{patch(types.OpRemove, "/endpointConfiguration/vpcEndpointIds", "vpce-bbbbbbbbbbbbbbbbb")},
			func(o *apigateway.UpdateRestApiOutput) bool { return len(o.EndpointConfiguration.VpcEndpointIds) == 0 }},
		{"private to regional", []types.PatchOperation{patch(types.OpReplace, "/endpointConfiguration/types/PRIVATE", "REGIONAL"),
			patch(types.OpReplace, "/endpointConfiguration/ipAddressType", "ipv4")},
			func(o *apigateway.UpdateRestApiOutput) bool {
				return o.EndpointConfiguration.IpAddressType == types.IpAddressTypeIpv4
			}},
		{"compression removed by empty value", []types.PatchOperation{patch(types.OpReplace, "/minimumCompressionSize", "0"),
			{Op: types.OpReplace, Path: aws.String("/minimumCompressionSize"), Value: aws.String("")}},
			func(o *apigateway.UpdateRestApiOutput) bool { return o.MinimumCompressionSize == nil && o.Tags != nil }},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			out, err := update(st.ops...)
			if err != nil {
				t.Fatal(err)
			}
			if !st.check(out) {
				t.Fatalf("unexpected result: %+v %+v", out, out.EndpointConfiguration)
			}
		})
	}

	invalid := []struct {
		name      string
		ops       []types.PatchOperation
		code, msg string
	}{
		{"bare binaryMediaTypes", []types.PatchOperation{patch(types.OpAdd, "/binaryMediaTypes", "image/png")},
			"BadRequestException", "Invalid patch path /binaryMediaTypes"},
		{"unknown path", []types.PatchOperation{patch(types.OpReplace, "/nope", "x")}, "BadRequestException", "Invalid patch path /nope"},
		{"missing path", []types.PatchOperation{{Op: types.OpReplace, Value: aws.String("x")}}, "BadRequestException", "Invalid patch path null"},
		{"compression with add", []types.PatchOperation{patch(types.OpAdd, "/minimumCompressionSize", "1")},
			"BadRequestException", "Invalid patch operation specified. Must be one of: [replace]"},
		{"compression not a number", []types.PatchOperation{patch(types.OpReplace, "/minimumCompressionSize", "abc")},
			"BadRequestException", msgCompressionSize},
		{"endpoint type with copy", []types.PatchOperation{patch(types.OpCopy, "/endpointConfiguration/types/REGIONAL", "EDGE")},
			"BadRequestException", "Invalid patch operation specified. Must be 'add'|'remove'|'replace'"},
		{"second endpoint type", []types.PatchOperation{patch(types.OpAdd, "/endpointConfiguration/types/EDGE", "")},
			"BadRequestException", msgMultipleTypes},
		{"ip address type with add", []types.PatchOperation{patch(types.OpAdd, "/endpointConfiguration/ipAddressType", "ipv4")},
			"BadRequestException", "Invalid patch operation specified. Must be one of: [replace]"},
		{"invalid ops", []types.PatchOperation{patch("wrong", "/name", "x"), patch(types.OpReplace, "/name", "x"), patch("wrong", "/name", "x")},
			"ValidationException", "2 validation errors detected: " +
				"Value 'wrong' at 'updateRestApiInput.patchOperations.1.member.op' failed to satisfy constraint: Member must satisfy enum value set: [add, remove, move, test, replace, copy]; " +
				"Value 'wrong' at 'updateRestApiInput.patchOperations.3.member.op' failed to satisfy constraint: Member must satisfy enum value set: [add, remove, move, test, replace, copy]"},
		{"failed op leaves the api unchanged", []types.PatchOperation{patch(types.OpReplace, "/name", "partial"), patch(types.OpReplace, "/nope", "")},
			"BadRequestException", "Invalid patch path /nope"},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			_, err := update(tt.ops...)
			wantAPIError(t, err, tt.code, tt.msg)
			wantStatus(t, err, 400)
		})
	}
	got := must[*apigateway.GetRestApiOutput](t)(e.a.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: api.Id}))
	if *got.Name != "api" {
		t.Fatalf("a rejected patch was partly applied: name %q", *got.Name)
	}
}

func TestChildPatchOperations(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	f := e.deployable(t, nil)
	api, res, get := aws.String(f.apiID), aws.String(f.resID), aws.String("GET")
	must[*apigateway.CreateDeploymentOutput](t)(e.a.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api, StageName: aws.String("prod")}))

	tests := []struct {
		name      string
		call      func(ops []types.PatchOperation) error
		ops       []types.PatchOperation
		code, msg string
	}{
		{"resource: unknown path", updResource(e, api, res), []types.PatchOperation{patch(types.OpReplace, "/invalid", "x")},
			"BadRequestException", "Invalid patch path  '/invalid' specified for op 'replace'. Must be one of: [/parentId, /pathPart]"},
		{"resource: remove pathPart", updResource(e, api, res), []types.PatchOperation{patch(types.OpRemove, "/pathPart", "")},
			"BadRequestException", "Invalid patch path  '/pathPart' specified for op 'remove'. Please choose supported operations"},
		{"resource: unknown parent", updResource(e, api, res), []types.PatchOperation{patch(types.OpReplace, "/parentId", "nope12")},
			"NotFoundException", msgResourceNotFound},
		{"method: add apiKeyRequired", updMethod(e, api, res, get), []types.PatchOperation{patch(types.OpAdd, "/apiKeyRequired", "true")},
			"BadRequestException", "Invalid patch operation specified. Must be one of: [replace]"},
		{"method: httpMethod", updMethod(e, api, res, get), []types.PatchOperation{patch(types.OpReplace, "/httpMethod", "POST")},
			"BadRequestException", "Invalid patch path /httpMethod"},
		{"method: bare requestParameters", updMethod(e, api, res, get), []types.PatchOperation{patch(types.OpAdd, "/requestParameters", "x")},
			"BadRequestException", "Invalid patch path /requestParameters"},
		{"method: unescaped content type", updMethod(e, api, res, get), []types.PatchOperation{patch(types.OpAdd, "/requestModels/application/json", "Empty")},
			"BadRequestException", "Invalid patch path /requestModels/application/json"},
		{"method: custom without authorizer", updMethod(e, api, res, get), []types.PatchOperation{patch(types.OpReplace, "/authorizationType", "CUSTOM")},
			"BadRequestException", msgInvalidAuthorizer},
		{"integration: timeout", updIntegration(e, api, res, get), []types.PatchOperation{patch(types.OpReplace, "/timeoutInMillis", "10")},
			"BadRequestException", msgTimeout},
		{"integration: unknown path", updIntegration(e, api, res, get), []types.PatchOperation{patch(types.OpReplace, "/nope", "x")},
			"BadRequestException", "Invalid patch path /nope"},
		{"stage: unknown path", updStage(e, api), []types.PatchOperation{patch(types.OpReplace, "/nope", "x")},
			"BadRequestException", stagePathMsg},
		{"stage: unknown method setting", updStage(e, api), []types.PatchOperation{patch(types.OpReplace, "/*/*/throttling/wrong", "1")},
			"BadRequestException", "Invalid method setting path: /*/*/throttling/wrong" + stagePathMsg[len("Invalid method setting path: /nope"):]},
		{"stage: remove absent method setting", updStage(e, api), []types.PatchOperation{patch(types.OpRemove, "/*/*", "")},
			"BadRequestException", "Cannot remove method setting */* because there is no method setting for this method "},
		{"stage: bad copy", updStage(e, api), []types.PatchOperation{{Op: types.OpCopy, Path: aws.String("/description"), From: aws.String("/variables")}},
			"BadRequestException", "Invalid copy operation with path: /description and from /variables. Valid copy:path are [/deploymentId, /variables] and valid copy:from are [/canarySettings/deploymentId, /canarySettings/stageVariableOverrides]"},
		{"stage: promote without canary", updStage(e, api), []types.PatchOperation{{Op: types.OpCopy, Path: aws.String("/deploymentId"), From: aws.String("/canarySettings/deploymentId")}},
			"BadRequestException", "Promotion not available. Canary does not exist."},
		{"stage: invalid op", updStage(e, api), []types.PatchOperation{patch("wrong", "/description", "x")},
			"ValidationException", "1 validation error detected: Value 'wrong' at 'updateStageInput.patchOperations.1.member.op' failed to satisfy constraint: Member must satisfy enum value set: [add, remove, move, test, replace, copy]"},
		{"gateway response: add statusCode", updGatewayResponse(e, api), []types.PatchOperation{patch(types.OpAdd, "/statusCode", "404")},
			"BadRequestException", "Invalid patch path /statusCode"},
		{"gateway response: replace absent parameter", updGatewayResponse(e, api), []types.PatchOperation{patch(types.OpReplace, "/responseParameters/gatewayresponse.header.x", "'v'")},
			"NotFoundException", msgInvalidParameterName},
		{"gateway response: null template", updGatewayResponse(e, api), []types.PatchOperation{patch(types.OpAdd, "/responseTemplates/application~1xml", "")},
			"BadRequestException", "Invalid null or empty value in responseTemplates"},
		{"gateway response: no path", updGatewayResponse(e, api), []types.PatchOperation{{Op: types.OpReplace}},
			"BadRequestException", "Invalid patch path null"},
		{"gateway response: wrong path", updGatewayResponse(e, api), []types.PatchOperation{patch(types.OpReplace, "/wrongPath", "x")},
			"BadRequestException", "Invalid patch path /wrongPath"},
		{"gateway response: invalid op", updGatewayResponse(e, api), []types.PatchOperation{patch("wrong-op", "/statusCode", "400")},
			"ValidationException", "1 validation error detected: Value 'wrong-op' at 'updateGatewayResponseInput.patchOperations.1.member.op' failed to satisfy constraint: Member must satisfy enum value set: [add, remove, move, test, replace, copy]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantAPIError(t, tt.call(tt.ops), tt.code, tt.msg)
		})
	}

	// Canary sub-paths create a canary with AWS's defaults.
	st := must[*apigateway.UpdateStageOutput](t)(e.a.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: api, StageName: aws.String("prod"),
		PatchOperations: []types.PatchOperation{patch(types.OpReplace, "/canarySettings/percentTraffic", "10"),
			patch(types.OpReplace, "/canarySettings/stageVariableOverrides/color", "green")}}))
	if st.CanarySettings == nil || st.CanarySettings.PercentTraffic != 10 || *st.CanarySettings.DeploymentId != *st.DeploymentId ||
		st.CanarySettings.StageVariableOverrides["color"] != "green" {
		t.Fatalf("canary = %+v", st.CanarySettings)
	}
}

func updResource(e *env, api, res *string) func([]types.PatchOperation) error {
	return func(ops []types.PatchOperation) error {
		_, err := e.a.UpdateResource(e.bg(), &apigateway.UpdateResourceInput{RestApiId: api, ResourceId: res, PatchOperations: ops})
		return err
	}
}

func updMethod(e *env, api, res, verb *string) func([]types.PatchOperation) error {
	return func(ops []types.PatchOperation) error {
		_, err := e.a.UpdateMethod(e.bg(), &apigateway.UpdateMethodInput{RestApiId: api, ResourceId: res, HttpMethod: verb, PatchOperations: ops})
		return err
	}
}

func updIntegration(e *env, api, res, verb *string) func([]types.PatchOperation) error {
	return func(ops []types.PatchOperation) error {
		_, err := e.a.UpdateIntegration(e.bg(), &apigateway.UpdateIntegrationInput{RestApiId: api, ResourceId: res, HttpMethod: verb, PatchOperations: ops})
		return err
	}
}

func updStage(e *env, api *string) func([]types.PatchOperation) error {
	return func(ops []types.PatchOperation) error {
		_, err := e.a.UpdateStage(e.bg(), &apigateway.UpdateStageInput{RestApiId: api, StageName: aws.String("prod"), PatchOperations: ops})
		return err
	}
}

func updGatewayResponse(e *env, api *string) func([]types.PatchOperation) error {
	return func(ops []types.PatchOperation) error {
		_, err := e.a.UpdateGatewayResponse(e.bg(), &apigateway.UpdateGatewayResponseInput{RestApiId: api,
			ResponseType: types.GatewayResponseTypeDefault4xx, PatchOperations: ops})
		return err
	}
}

func TestSplitPatchPath(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"/name", []string{"name"}},
		{"/binaryMediaTypes/image~1png", []string{"binaryMediaTypes", "image/png"}},
		{"/a~0b/c", []string{"a~b", "c"}},
		{"/", nil},
		{"", nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := splitPatchPath(tt.in); !slices.Equal(got, tt.want) {
				t.Fatalf("splitPatchPath(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMethodSettingKey(t *testing.T) {
	tests := []struct {
		path string
		want string
		ok   bool
	}{
		{"*/*", "*/*", true},
		{"~1pets/GET", "pets/GET", true},
		{"~1pets~1{id}/POST", "pets/{id}/POST", true},
		{"pets/child/GET", "pets/child/GET", true},
		{"pets/FETCH", "", false},
		{"GET", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			got, ok := methodSettingKey(splitRaw(tt.path))
			if got != tt.want || ok != tt.ok {
				t.Fatalf("methodSettingKey(%q) = %q, %v; want %q, %v", tt.path, got, ok, tt.want, tt.ok)
			}
		})
	}
}
