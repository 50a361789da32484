package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	sdtypes "github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"gatehouse/internal/gwtest"
)

// TestCloudMapAttributeFilter is the whitepaper's Cloud Map architecture through the
// whole app: a private REST API → VPC link (V2) → a Cloud Map service whose two
// instances carry stage=prod and stage=dev; the integration target
// arn:aws:servicediscovery:…:service/srv-…?stage=prod sends every request to the prod
// instance only. (The data plane resolves instances itself, so DiscoverInstances'
// data-api host prefix does not matter here.)
func TestCloudMapAttributeFilter(t *testing.T) {
	ctx := context.Background()
	gw := gwtest.Start(t, linkTopology, "")
	creds := credentials.NewStaticCredentialsProvider("AKIAPROVIDER00000001", "provider-secret", "")
	// DiscoverInstances goes to data-{endpoint host} unless the host prefix is disabled.
	noHostPrefix := middleware.InitializeMiddlewareFunc("noHostPrefix",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
		})
	sdc := sd.New(sd.Options{Region: "us-east-1", BaseEndpoint: aws.String(gw.ControlPlaneURL()), Credentials: creds, RetryMaxAttempts: 1,
		APIOptions: []func(*middleware.Stack) error{func(s *middleware.Stack) error { return s.Initialize.Add(noHostPrefix, middleware.Before) }}})
	v2 := apigatewayv2.New(apigatewayv2.Options{Region: "us-east-1", BaseEndpoint: aws.String(gw.ControlPlaneURL()), Credentials: creds, RetryMaxAttempts: 1})
	cp := gw.APIGateway("AKIAPROVIDER00000001", "provider-secret")

	prodIP, prodPort := backendOn(t, "127.10.3.21:0", "prod")
	devIP, devPort := backendOn(t, "127.10.3.22:0", "dev")

	ns, err := sdc.CreatePrivateDnsNamespace(ctx, &sd.CreatePrivateDnsNamespaceInput{Name: aws.String("corp.internal"), Vpc: aws.String("vpc-0aaaaaaaaaaaaaaa1")})
	if err != nil {
		t.Fatalf("CreatePrivateDnsNamespace: %v", err)
	}
	op, err := sdc.GetOperation(ctx, &sd.GetOperationInput{OperationId: ns.OperationId})
	if err != nil || op.Operation.Status != sdtypes.OperationStatusSuccess {
		t.Fatalf("GetOperation: %+v %v", op, err)
	}
	nsID := op.Operation.Targets[string(sdtypes.OperationTargetTypeNamespace)]
	svc, err := sdc.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("orders"), NamespaceId: aws.String(nsID),
		DnsConfig: &sdtypes.DnsConfig{DnsRecords: []sdtypes.DnsRecord{{Type: sdtypes.RecordTypeA, TTL: aws.Int64(60)}}}})
	if err != nil {
		t.Fatalf("CreateService: %v", err)
	}
	for id, attrs := range map[string]map[string]string{
		"orders-prod": {"AWS_INSTANCE_IPV4": prodIP, "AWS_INSTANCE_PORT": fmt.Sprint(prodPort), "stage": "prod"},
		"orders-dev":  {"AWS_INSTANCE_IPV4": devIP, "AWS_INSTANCE_PORT": fmt.Sprint(devPort), "stage": "dev"},
	} {
		if _, err := sdc.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: svc.Service.Id, InstanceId: aws.String(id), Attributes: attrs}); err != nil {
			t.Fatalf("RegisterInstance %s: %v", id, err)
		}
	}
	// The control-plane view agrees with what the data plane must do.
	disc, err := sdc.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("corp.internal"), ServiceName: aws.String("orders"),
		QueryParameters: map[string]string{"stage": "prod"}})
	if err != nil {
		t.Fatalf("DiscoverInstances: %v", err)
	}
	if len(disc.Instances) != 1 || aws.ToString(disc.Instances[0].InstanceId) != "orders-prod" {
		t.Fatalf("DiscoverInstances stage=prod: %+v", disc.Instances)
	}

	link, err := v2.CreateVpcLink(ctx, &apigatewayv2.CreateVpcLinkInput{Name: aws.String("cloudmap-link"), SubnetIds: []string{"subnet-0aaaaaaaaaaaaaa01", "subnet-0aaaaaaaaaaaaaa02"}})
	if err != nil {
		t.Fatalf("CreateVpcLink: %v", err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		got, err := v2.GetVpcLink(ctx, &apigatewayv2.GetVpcLinkInput{VpcLinkId: link.VpcLinkId})
		if err != nil {
			t.Fatalf("GetVpcLink: %v", err)
		}
		if got.VpcLinkStatus == v2types.VpcLinkStatusAvailable {
			break
		}
		if got.VpcLinkStatus != v2types.VpcLinkStatusPending || time.Now().After(deadline) {
			t.Fatalf("VPC link is %s (%s), want AVAILABLE", got.VpcLinkStatus, aws.ToString(got.VpcLinkStatusMessage))
		}
		time.Sleep(50 * time.Millisecond)
	}

	api, err := cp.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("cloudmap"),
		EndpointConfiguration: &types.EndpointConfiguration{Types: []types.EndpointType{types.EndpointTypePrivate}},
		Policy:                aws.String(policyOnlyFrom(vpceA))})
	if err != nil {
		t.Fatal(err)
	}
	res, err := cp.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: api.RootResourceId, PathPart: aws.String("{proxy+}")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cp.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("ANY"), AuthorizationType: aws.String("NONE")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cp.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("ANY"),
		Type: types.IntegrationTypeHttpProxy, IntegrationHttpMethod: aws.String("ANY"), Uri: aws.String("http://orders.corp.internal/{proxy}"),
		ConnectionType: types.ConnectionTypeVpcLink, ConnectionId: link.VpcLinkId, IntegrationTarget: aws.String(*svc.Service.Arn + "?stage=prod"),
		RequestParameters: map[string]string{"integration.request.path.proxy": "method.request.path.proxy"}}); err != nil {
		t.Fatalf("PutIntegration VPC_LINK → Cloud Map: %v", err)
	}
	if _, err := cp.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id, StageName: aws.String("prod")}); err != nil {
		t.Fatalf("CreateDeployment: %v", err)
	}

	c := gw.Client(inA, gw.EndpointTLS(vpceA))
	base := "https://" + gw.ExecuteAPIHost(*api.Id) + "/prod"
	// The link runtime follows the store asynchronously: wait for the first answer.
	for deadline := time.Now().Add(5 * time.Second); ; {
		status, _, _ := fetch(c, base+"/warmup")
		if status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer through the Cloud Map integration: last status %d", status)
		}
		time.Sleep(50 * time.Millisecond)
	}
	seen := map[string]int{}
	for i := range 20 {
		status, body, err := fetch(c, fmt.Sprintf("%s/orders/%d", base, i))
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if want := fmt.Sprintf("prod /orders/%d host=orders.corp.internal", i); status != 200 || body != want {
			t.Errorf("request %d: %d %q, want 200 %q", i, status, body, want)
		}
		seen[body[:min(len(body), 4)]]++
	}
	if seen["dev "] != 0 {
		t.Errorf("the dev instance answered %d of 20 requests", seen["dev "])
	}
}
