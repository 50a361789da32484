package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"gatehouse/internal/gwtest"
)

// linkTopology is one account with a VPC that has two subnets (an ALB needs two
// availability zones); the VPC is routable, so no link agent is needed (peering).
const linkTopology = `
region: us-east-1
dnsPort: 0
controlPlane: {listen: 127.0.0.1:0}
publicListener: {listen: 127.0.0.1:0}
accounts:
  - id: "111111111111"
    accessKeys: [{id: AKIAPROVIDER00000001, secret: provider-secret}]
vpcs:
  - id: vpc-0aaaaaaaaaaaaaaa1
    account: "111111111111"
    cidr: 127.10.0.0/16
    subnets:
      - {id: subnet-0aaaaaaaaaaaaaa01, cidr: 127.10.1.0/24}
      - {id: subnet-0aaaaaaaaaaaaaa02, cidr: 127.10.2.0/24}
vpcEndpoints:
  - {id: vpce-0aaaaaaaaaaaaaaa1, vpc: vpc-0aaaaaaaaaaaaaaa1, addresses: [127.10.1.10], port: 0, privateDnsEnabled: true}
`

// backendOn serves name on addr (an address inside the VPC).
func backendOn(t *testing.T, addr, name string) (ip string, port int) {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s host=%s", name, r.URL.Path, r.Host)
	}))
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	host, p, _ := net.SplitHostPort(l.Addr().String())
	port, _ = strconv.Atoi(p)
	return host, port
}

// TestVPCLinkToALB is the whitepaper's ALB architecture: a private REST API → VPC link
// (V2) → an application load balancer with two path rules → two target groups.
func TestVPCLinkToALB(t *testing.T) {
	ctx := context.Background()
	gw := gwtest.Start(t, linkTopology, "")
	creds := credentials.NewStaticCredentialsProvider("AKIAPROVIDER00000001", "provider-secret", "")
	ec := elb.New(elb.Options{Region: "us-east-1", BaseEndpoint: aws.String(gw.ControlPlaneURL()), Credentials: creds, RetryMaxAttempts: 1})
	v2 := apigatewayv2.New(apigatewayv2.Options{Region: "us-east-1", BaseEndpoint: aws.String(gw.ControlPlaneURL()), Credentials: creds, RetryMaxAttempts: 1})
	cp := gw.APIGateway("AKIAPROVIDER00000001", "provider-secret")

	petsIP, petsPort := backendOn(t, "127.10.3.11:0", "pets")
	usersIP, usersPort := backendOn(t, "127.10.3.12:0", "users")

	lb, err := ec.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("private-alb"), Type: elbtypes.LoadBalancerTypeEnumApplication,
		Scheme: elbtypes.LoadBalancerSchemeEnumInternal, Subnets: []string{"subnet-0aaaaaaaaaaaaaa01", "subnet-0aaaaaaaaaaaaaa02"}})
	if err != nil {
		t.Fatalf("CreateLoadBalancer: %v", err)
	}
	lbARN := lb.LoadBalancers[0].LoadBalancerArn
	tg := func(name, ip string, port int) *string {
		out, err := ec.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp,
			Port: aws.Int32(int32(port)), VpcId: aws.String("vpc-0aaaaaaaaaaaaaaa1"), TargetType: elbtypes.TargetTypeEnumIp})
		if err != nil {
			t.Fatalf("CreateTargetGroup %s: %v", name, err)
		}
		arn := out.TargetGroups[0].TargetGroupArn
		if _, err := ec.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: arn,
			Targets: []elbtypes.TargetDescription{{Id: aws.String(ip), Port: aws.Int32(int32(port))}}}); err != nil {
			t.Fatalf("RegisterTargets %s: %v", name, err)
		}
		return arn
	}
	petsTG, usersTG := tg("pets", petsIP, petsPort), tg("users", usersIP, usersPort)
	lis, err := ec.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: lbARN, Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: petsTG}}})
	if err != nil {
		t.Fatalf("CreateListener: %v", err)
	}
	listenerARN := lis.Listeners[0].ListenerArn
	if _, err := ec.CreateRule(ctx, &elb.CreateRuleInput{ListenerArn: listenerARN, Priority: aws.Int32(10),
		Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/users/*"}}},
		Actions:    []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: usersTG}}}); err != nil {
		t.Fatalf("CreateRule: %v", err)
	}
	link, err := v2.CreateVpcLink(ctx, &apigatewayv2.CreateVpcLinkInput{Name: aws.String("alb-link"), SubnetIds: []string{"subnet-0aaaaaaaaaaaaaa01", "subnet-0aaaaaaaaaaaaaa02"}})
	if err != nil {
		t.Fatalf("CreateVpcLink: %v", err)
	}

	api, err := cp.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("alb"),
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
	// A third path goes to a target that accepts connections and never answers, a fourth
	// gets the listener rule's fixed response.
	silent, err := net.Listen("tcp", "127.10.3.13:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	silentPort := silent.Addr().(*net.TCPAddr).Port
	slowTG := tg("slow", "127.10.3.13", silentPort)
	if _, err := ec.CreateRule(ctx, &elb.CreateRuleInput{ListenerArn: listenerARN, Priority: aws.Int32(20),
		Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/slow/*"}}},
		Actions:    []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: slowTG}}}); err != nil {
		t.Fatalf("CreateRule slow: %v", err)
	}
	if _, err := ec.CreateRule(ctx, &elb.CreateRuleInput{ListenerArn: listenerARN, Priority: aws.Int32(30),
		Conditions: []elbtypes.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/maintenance/*"}}},
		Actions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumFixedResponse, FixedResponseConfig: &elbtypes.FixedResponseActionConfig{
			StatusCode: aws.String("503"), ContentType: aws.String("text/plain"), MessageBody: aws.String("down for maintenance")}}}}); err != nil {
		t.Fatalf("CreateRule fixed-response: %v", err)
	}
	if _, err := cp.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("ANY"),
		Type: types.IntegrationTypeHttpProxy, IntegrationHttpMethod: aws.String("ANY"), Uri: aws.String("http://alb.internal.example.com/{proxy}"),
		ConnectionType: types.ConnectionTypeVpcLink, ConnectionId: link.VpcLinkId, IntegrationTarget: listenerARN, TimeoutInMillis: aws.Int32(400),
		RequestParameters: map[string]string{"integration.request.path.proxy": "method.request.path.proxy"}}); err != nil {
		t.Fatalf("PutIntegration VPC_LINK: %v", err)
	}
	if _, err := cp.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id, StageName: aws.String("prod")}); err != nil {
		t.Fatalf("CreateDeployment: %v", err)
	}
	c := gw.Client(inA, gw.EndpointTLS(vpceA))
	base := "https://" + gw.ExecuteAPIHost(*api.Id) + "/prod"
	for path, want := range map[string]string{
		"/pets/1":  "pets /pets/1 host=alb.internal.example.com",
		"/users/7": "users /users/7 host=alb.internal.example.com",
	} {
		// The link runtime follows the store like the data plane does: allow it to catch up.
		var status int
		var body string
		for deadline := time.Now().Add(3 * time.Second); ; {
			status, _, body = get(t, c, base+path, nil, 200)
			if strings.HasPrefix(body, want) || time.Now().After(deadline) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if status != 200 || !strings.HasPrefix(body, want) {
			t.Errorf("%s: %d %q, want %q", path, status, body, want)
		}
	}
	t.Run("a target that never answers is a 504 at timeoutInMillis", func(t *testing.T) {
		start := time.Now()
		status, _, body := get(t, c, base+"/slow/1", nil, 504)
		took := time.Since(start)
		if status != 504 || body != `{"message": "Endpoint request timed out"}` {
			t.Errorf("got %d %q", status, body)
		}
		if took < 400*time.Millisecond || took > 3*time.Second {
			t.Errorf("answered after %v, want about the 400 ms timeout", took)
		}
	})
	t.Run("a rule's fixed response goes back as the backend's", func(t *testing.T) {
		status, hdr, body := get(t, c, base+"/maintenance/now", nil, 503)
		if status != 503 || body != "down for maintenance" || hdr.Get("Content-Type") != "text/plain" || hdr.Get("x-amzn-RequestId") == "" {
			t.Errorf("got %d %q %v", status, body, hdr)
		}
	})
}
