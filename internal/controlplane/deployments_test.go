package controlplane

import (
	"encoding/json"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"gatehouse/internal/apimodel"
)

var deploymentIDRe = regexp.MustCompile(`^[a-z0-9]{6}$`)

func TestDeploymentAndStageLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	f := e.deployable(t, nil)
	id := aws.String(f.apiID)

	dep := must[*apigateway.CreateDeploymentOutput](t)(e.a.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: id,
		StageName: aws.String("prod"), StageDescription: aws.String("production"), Description: aws.String("first"),
		Variables: map[string]string{"host": "example.com"}}))
	if !deploymentIDRe.MatchString(*dep.Id) || *dep.Description != "first" || dep.CreatedDate == nil || dep.ApiSummary != nil {
		t.Fatalf("CreateDeployment = %+v", dep)
	}

	// The stored deployment is a frozen copy: later edits do not reach it.
	must[*apigateway.UpdateResourceOutput](t)(e.a.UpdateResource(ctx, &apigateway.UpdateResourceInput{RestApiId: id,
		ResourceId: aws.String(f.resID), PatchOperations: []types.PatchOperation{patch(types.OpReplace, "/pathPart", "cats")}}))
	entry, err := e.store.Get(ctx, apimodel.BucketDeployments, apimodel.DeploymentKey(f.apiID, *dep.Id))
	if err != nil {
		t.Fatal(err)
	}
	var stored apimodel.Deployment
	if err := json.Unmarshal(entry.Value, &stored); err != nil {
		t.Fatal(err)
	}
	if stored.Account != accountA || stored.APIID != f.apiID || stored.API.Resources[f.resID].Path != "/pets" {
		t.Fatalf("frozen copy: account %q api %q path %q", stored.Account, stored.APIID, stored.API.Resources[f.resID].Path)
	}

	got := must[*apigateway.GetDeploymentOutput](t)(e.a.GetDeployment(ctx, &apigateway.GetDeploymentInput{RestApiId: id,
		DeploymentId: dep.Id, Embed: []string{"apisummary"}}))
	if s := got.ApiSummary["/pets"]["GET"]; s.AuthorizationType == nil || *s.AuthorizationType != "NONE" {
		t.Fatalf("apiSummary = %+v", got.ApiSummary)
	}
	deps := must[*apigateway.GetDeploymentsOutput](t)(e.a.GetDeployments(ctx, &apigateway.GetDeploymentsInput{RestApiId: id}))
	if len(deps.Items) != 1 || *deps.Items[0].Id != *dep.Id || deps.Items[0].ApiSummary != nil {
		t.Fatalf("GetDeployments = %+v", deps.Items)
	}

	// CreateDeployment with a stage name created the stage.
	st := must[*apigateway.GetStageOutput](t)(e.a.GetStage(ctx, &apigateway.GetStageInput{RestApiId: id, StageName: aws.String("prod")}))
	if *st.DeploymentId != *dep.Id || *st.Description != "production" || st.Variables["host"] != "example.com" ||
		st.CacheClusterStatus != types.CacheClusterStatusNotAvailable || st.MethodSettings == nil || st.CreatedDate == nil {
		t.Fatalf("stage = %+v", st)
	}

	_, err = e.a.DeleteDeployment(ctx, &apigateway.DeleteDeploymentInput{RestApiId: id, DeploymentId: dep.Id})
	wantAPIError(t, err, "BadRequestException", msgActiveStages)

	// A second deployment moves the stage; a second stage points at the first.
	dep2 := must[*apigateway.CreateDeploymentOutput](t)(e.a.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: id,
		StageName: aws.String("prod")}))
	st = must[*apigateway.GetStageOutput](t)(e.a.GetStage(ctx, &apigateway.GetStageInput{RestApiId: id, StageName: aws.String("prod")}))
	if *st.DeploymentId != *dep2.Id || st.Variables["host"] != "example.com" {
		t.Fatalf("redeployed stage = %+v", st)
	}
	beta := must[*apigateway.CreateStageOutput](t)(e.a.CreateStage(ctx, &apigateway.CreateStageInput{RestApiId: id,
		StageName: aws.String("beta"), DeploymentId: dep.Id, Variables: map[string]string{"v": "1"}, Tags: map[string]string{"k": "v"}}))
	if *beta.StageName != "beta" || *beta.DeploymentId != *dep.Id || beta.Tags["k"] != "v" {
		t.Fatalf("CreateStage = %+v", beta)
	}
	_, err = e.a.CreateStage(ctx, &apigateway.CreateStageInput{RestApiId: id, StageName: aws.String("beta"), DeploymentId: dep.Id})
	wantAPIError(t, err, "ConflictException", msgStageExists)

	stages := must[*apigateway.GetStagesOutput](t)(e.a.GetStages(ctx, &apigateway.GetStagesInput{RestApiId: id}))
	if len(stages.Item) != 2 || *stages.Item[0].StageName != "beta" || *stages.Item[1].StageName != "prod" {
		t.Fatalf("GetStages = %+v", stages.Item)
	}
	stages = must[*apigateway.GetStagesOutput](t)(e.a.GetStages(ctx, &apigateway.GetStagesInput{RestApiId: id, DeploymentId: dep2.Id}))
	if len(stages.Item) != 1 || *stages.Item[0].StageName != "prod" {
		t.Fatalf("GetStages(deploymentId) = %+v", stages.Item)
	}

	upd := must[*apigateway.UpdateStageOutput](t)(e.a.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: id, StageName: aws.String("beta"),
		PatchOperations: []types.PatchOperation{
			patch(types.OpReplace, "/deploymentId", *dep2.Id),
			patch(types.OpReplace, "/description", "beta stage"),
			patch(types.OpReplace, "/variables/color", "blue"),
			patch(types.OpRemove, "/variables/v", ""),
			patch(types.OpReplace, "/*/*/throttling/rateLimit", "100"),
			patch(types.OpReplace, "/*/*/throttling/burstLimit", "50"),
			patch(types.OpReplace, "/~1pets/GET/logging/loglevel", "INFO"),
			patch(types.OpReplace, "/~1pets/GET/caching/ttlInSeconds", "60"),
			patch(types.OpReplace, "/accessLogSettings/format", `{"requestId":"$context.requestId"}`),
			patch(types.OpReplace, "/accessLogSettings/destinationArn", "arn:aws:logs:us-east-1:"+accountA+":log-group:api-logs"),
			patch(types.OpReplace, "/tracingEnabled", "true"),
		}}))
	all := upd.MethodSettings["*/*"]
	pets := upd.MethodSettings["pets/GET"]
	if *upd.DeploymentId != *dep2.Id || *upd.Description != "beta stage" || upd.Variables["color"] != "blue" || upd.Variables["v"] != "" ||
		all.ThrottlingRateLimit != 100 || all.ThrottlingBurstLimit != 50 || pets.LoggingLevel == nil || *pets.LoggingLevel != "INFO" ||
		pets.CacheTtlInSeconds != 60 || pets.ThrottlingBurstLimit != 5000 || !upd.TracingEnabled ||
		upd.AccessLogSettings == nil || *upd.AccessLogSettings.DestinationArn != "arn:aws:logs:us-east-1:"+accountA+":log-group:api-logs" {
		t.Fatalf("UpdateStage = %+v\n%+v %+v", upd, all, pets)
	}
	upd = must[*apigateway.UpdateStageOutput](t)(e.a.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: id, StageName: aws.String("beta"),
		PatchOperations: []types.PatchOperation{patch(types.OpRemove, "/*/*", ""), patch(types.OpRemove, "/accessLogSettings", "")}}))
	if _, ok := upd.MethodSettings["*/*"]; ok || upd.AccessLogSettings != nil {
		t.Fatalf("removals: %+v", upd)
	}

	if _, err := e.a.DeleteStage(ctx, &apigateway.DeleteStageInput{RestApiId: id, StageName: aws.String("beta")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.a.GetStage(ctx, &apigateway.GetStageInput{RestApiId: id, StageName: aws.String("beta")})
	wantAPIError(t, err, "NotFoundException", msgStageNotFound)
	_, err = e.a.DeleteStage(ctx, &apigateway.DeleteStageInput{RestApiId: id, StageName: aws.String("beta")})
	wantAPIError(t, err, "NotFoundException", msgStageNotFound)

	// The first deployment is now unused and can go.
	if _, err := e.a.DeleteDeployment(ctx, &apigateway.DeleteDeploymentInput{RestApiId: id, DeploymentId: dep.Id}); err != nil {
		t.Fatal(err)
	}
	_, err = e.a.GetDeployment(ctx, &apigateway.GetDeploymentInput{RestApiId: id, DeploymentId: dep.Id})
	wantAPIError(t, err, "NotFoundException", msgDeploymentNotFound)

	ud := must[*apigateway.UpdateDeploymentOutput](t)(e.a.UpdateDeployment(ctx, &apigateway.UpdateDeploymentInput{RestApiId: id,
		DeploymentId: dep2.Id, PatchOperations: []types.PatchOperation{patch(types.OpReplace, "/description", "second")}}))
	if *ud.Description != "second" {
		t.Fatalf("UpdateDeployment = %+v", ud)
	}
}

func TestCanaryDeployment(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	f := e.deployable(t, nil)
	id := aws.String(f.apiID)
	dep := must[*apigateway.CreateDeploymentOutput](t)(e.a.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: id,
		StageName: aws.String("prod")}))
	canary := must[*apigateway.CreateDeploymentOutput](t)(e.a.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: id,
		StageName: aws.String("prod"), CanarySettings: &types.DeploymentCanarySettings{PercentTraffic: 25,
			StageVariableOverrides: map[string]string{"color": "green"}}}))
	st := must[*apigateway.GetStageOutput](t)(e.a.GetStage(ctx, &apigateway.GetStageInput{RestApiId: id, StageName: aws.String("prod")}))
	if *st.DeploymentId != *dep.Id || st.CanarySettings == nil || *st.CanarySettings.DeploymentId != *canary.Id ||
		st.CanarySettings.PercentTraffic != 25 {
		t.Fatalf("canary stage = %+v %+v", st, st.CanarySettings)
	}
	// Promote: copy the canary over the stage, then drop the canary.
	upd := must[*apigateway.UpdateStageOutput](t)(e.a.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: id, StageName: aws.String("prod"),
		PatchOperations: []types.PatchOperation{
			{Op: types.OpCopy, From: aws.String("/canarySettings/deploymentId"), Path: aws.String("/deploymentId")},
			{Op: types.OpCopy, From: aws.String("/canarySettings/stageVariableOverrides"), Path: aws.String("/variables")},
			patch(types.OpRemove, "/canarySettings", ""),
		}}))
	if *upd.DeploymentId != *canary.Id || upd.Variables["color"] != "green" || upd.CanarySettings != nil {
		t.Fatalf("promoted stage = %+v", upd)
	}
	_, err := e.a.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: id,
		CanarySettings: &types.DeploymentCanarySettings{PercentTraffic: 1}})
	wantAPIError(t, err, "BadRequestException",
		"Invalid deployment content specified.Non null and non empty stageName must be provided for canary deployment. Provided value is null")
}

func TestGatewayResponses(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	api := e.newAPI(t, nil)
	id := api.Id

	def := must[*apigateway.GetGatewayResponseOutput](t)(e.a.GetGatewayResponse(ctx, &apigateway.GetGatewayResponseInput{RestApiId: id,
		ResponseType: types.GatewayResponseTypeMissingAuthenticationToken}))
	if !def.DefaultResponse || *def.StatusCode != "403" || def.ResponseTemplates["application/json"] != `{"message":$context.error.messageString}` ||
		def.ResponseParameters == nil {
		t.Fatalf("default = %+v", def)
	}
	all := must[*apigateway.GetGatewayResponsesOutput](t)(e.a.GetGatewayResponses(ctx, &apigateway.GetGatewayResponsesInput{RestApiId: id}))
	if len(all.Items) != 21 || all.Items[0].ResponseType != types.GatewayResponseTypeAccessDenied || all.Position != nil {
		t.Fatalf("GetGatewayResponses: %d items, first %s", len(all.Items), all.Items[0].ResponseType)
	}

	put := must[*apigateway.PutGatewayResponseOutput](t)(e.a.PutGatewayResponse(ctx, &apigateway.PutGatewayResponseInput{RestApiId: id,
		ResponseType: types.GatewayResponseTypeDefault4xx, StatusCode: aws.String("418"),
		ResponseParameters: map[string]string{"gatewayresponse.header.x-teapot": "'yes'"}}))
	if put.DefaultResponse || *put.StatusCode != "418" || put.ResponseTemplates["application/json"] == "" {
		t.Fatalf("PutGatewayResponse = %+v", put)
	}
	// Unset 4XX types inherit DEFAULT_4XX; 5XX types do not.
	inh := must[*apigateway.GetGatewayResponseOutput](t)(e.a.GetGatewayResponse(ctx, &apigateway.GetGatewayResponseInput{RestApiId: id,
		ResponseType: types.GatewayResponseTypeUnauthorized}))
	if !inh.DefaultResponse || *inh.StatusCode != "418" || inh.ResponseParameters["gatewayresponse.header.x-teapot"] != "'yes'" {
		t.Fatalf("inherited = %+v", inh)
	}
	five := must[*apigateway.GetGatewayResponseOutput](t)(e.a.GetGatewayResponse(ctx, &apigateway.GetGatewayResponseInput{RestApiId: id,
		ResponseType: types.GatewayResponseTypeIntegrationTimeout}))
	if *five.StatusCode != "504" {
		t.Fatalf("5xx = %+v", five)
	}

	upd := must[*apigateway.UpdateGatewayResponseOutput](t)(e.a.UpdateGatewayResponse(ctx, &apigateway.UpdateGatewayResponseInput{RestApiId: id,
		ResponseType: types.GatewayResponseTypeThrottled, PatchOperations: []types.PatchOperation{
			patch(types.OpReplace, "/statusCode", "503"),
			patch(types.OpAdd, "/responseTemplates/application~1xml", "<e/>"),
		}}))
	if upd.DefaultResponse || *upd.StatusCode != "503" || upd.ResponseTemplates["application/xml"] != "<e/>" ||
		upd.ResponseTemplates["application/json"] == "" {
		t.Fatalf("UpdateGatewayResponse = %+v", upd)
	}
	if _, err := e.a.DeleteGatewayResponse(ctx, &apigateway.DeleteGatewayResponseInput{RestApiId: id,
		ResponseType: types.GatewayResponseTypeThrottled}); err != nil {
		t.Fatal(err)
	}
	_, err := e.a.DeleteGatewayResponse(ctx, &apigateway.DeleteGatewayResponseInput{RestApiId: id,
		ResponseType: types.GatewayResponseTypeThrottled})
	wantAPIError(t, err, "NotFoundException", msgGatewayRespNotSet)
	back := must[*apigateway.GetGatewayResponseOutput](t)(e.a.GetGatewayResponse(ctx, &apigateway.GetGatewayResponseInput{RestApiId: id,
		ResponseType: types.GatewayResponseTypeThrottled}))
	if !back.DefaultResponse || *back.StatusCode != "418" { // inherits DEFAULT_4XX again
		t.Fatalf("after delete = %+v", back)
	}
}

func TestTags(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	f := e.deployable(t, nil)
	must[*apigateway.CreateDeploymentOutput](t)(e.a.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{
		RestApiId: aws.String(f.apiID), StageName: aws.String("prod")}))
	apiARN := "arn:aws:apigateway:" + testRegion + "::/restapis/" + f.apiID
	stageARN := apiARN + "/stages/prod"
	for _, arn := range []string{apiARN, stageARN} {
		t.Run(arn, func(t *testing.T) {
			if _, err := e.a.TagResource(ctx, &apigateway.TagResourceInput{ResourceArn: aws.String(arn),
				Tags: map[string]string{"a": "1", "b": "2"}}); err != nil {
				t.Fatal(err)
			}
			if _, err := e.a.UntagResource(ctx, &apigateway.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"a"}}); err != nil {
				t.Fatal(err)
			}
			got := must[*apigateway.GetTagsOutput](t)(e.a.GetTags(ctx, &apigateway.GetTagsInput{ResourceArn: aws.String(arn)}))
			if len(got.Tags) != 1 || got.Tags["b"] != "2" {
				t.Fatalf("tags = %v", got.Tags)
			}
		})
	}
	api := must[*apigateway.GetRestApiOutput](t)(e.a.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: aws.String(f.apiID)}))
	st := must[*apigateway.GetStageOutput](t)(e.a.GetStage(ctx, &apigateway.GetStageInput{RestApiId: aws.String(f.apiID), StageName: aws.String("prod")}))
	if api.Tags["b"] != "2" || st.Tags["b"] != "2" {
		t.Fatalf("tags not on the resources: %v %v", api.Tags, st.Tags)
	}
	_, err := e.a.TagResource(ctx, &apigateway.TagResourceInput{ResourceArn: aws.String(apiARN), Tags: map[string]string{"aws:x": "1"}})
	wantAPIError(t, err, "BadRequestException", "Tag keys starting with 'aws:' are reserved for AWS use")
	_, err = e.a.GetTags(ctx, &apigateway.GetTagsInput{ResourceArn: aws.String(apiARN + "/stages/nope")})
	wantAPIError(t, err, "NotFoundException", msgStageNotFound)
	_, err = e.a.GetTags(ctx, &apigateway.GetTagsInput{ResourceArn: aws.String("arn:aws:s3:::bucket")})
	wantAPIError(t, err, "BadRequestException", "Invalid resource ARN specified: arn:aws:s3:::bucket")
}
