package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
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

// killableBackend is an HTTP backend on a fixed address that can be killed and brought
// back on the same address.
type killableBackend struct {
	addr, name string
	mu         sync.Mutex
	srv        *httptest.Server
}

func newKillableBackend(t *testing.T, ip, name string) *killableBackend {
	t.Helper()
	b := &killableBackend{name: name}
	l, err := net.Listen("tcp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	b.addr = l.Addr().String()
	b.serve(l)
	t.Cleanup(b.kill)
	return b
}

func (b *killableBackend) serve(l net.Listener) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s", b.name, r.URL.Path)
	}))
	srv.Listener = l
	srv.Start()
	b.mu.Lock()
	b.srv = srv
	b.mu.Unlock()
}

// kill stops accepting, closes idle connections and waits for requests in flight.
func (b *killableBackend) kill() {
	b.mu.Lock()
	srv := b.srv
	b.srv = nil
	b.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// restore listens on the same address again.
func (b *killableBackend) restore(t *testing.T) {
	t.Helper()
	l, err := net.Listen("tcp", b.addr)
	if err != nil {
		t.Fatalf("listen again on %s: %v", b.addr, err)
	}
	b.serve(l)
}

// TestTargetHealthThroughApp: a private REST API → VPC link (V2) → ALB → one target
// group with two targets and active HTTP health checks (interval 5 s, the ELBv2
// minimum; thresholds 2). Killing one target takes it out of rotation within
// interval × threshold with zero failed client requests (connects that fail are
// retried on the healthy target; passive ejection covers the time until the checks
// notice); restoring it brings it back.
//
// The runtime's health is read from gateway_vpclink_healthy_targets: DescribeTargetHealth
// through the app fails with InternalFailure (a nil health source, reported as a bug).
func TestTargetHealthThroughApp(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for health checks (≈ 25 s)")
	}
	ctx := context.Background()
	gw := gwtest.Start(t, linkTopology, "")
	creds := credentials.NewStaticCredentialsProvider("AKIAPROVIDER00000001", "provider-secret", "")
	ec := elb.New(elb.Options{Region: "us-east-1", BaseEndpoint: aws.String(gw.ControlPlaneURL()), Credentials: creds, RetryMaxAttempts: 1})
	v2 := apigatewayv2.New(apigatewayv2.Options{Region: "us-east-1", BaseEndpoint: aws.String(gw.ControlPlaneURL()), Credentials: creds, RetryMaxAttempts: 1})
	cp := gw.APIGateway("AKIAPROVIDER00000001", "provider-secret")

	a := newKillableBackend(t, "127.10.3.41", "a")
	b := newKillableBackend(t, "127.10.3.42", "b")

	const interval, threshold = 5, 2
	lb, err := ec.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("health-alb"), Type: elbtypes.LoadBalancerTypeEnumApplication,
		Scheme: elbtypes.LoadBalancerSchemeEnumInternal, Subnets: []string{"subnet-0aaaaaaaaaaaaaa01", "subnet-0aaaaaaaaaaaaaa02"}})
	if err != nil {
		t.Fatalf("CreateLoadBalancer: %v", err)
	}
	tg, err := ec.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("app"), Protocol: elbtypes.ProtocolEnumHttp,
		Port: aws.Int32(80), VpcId: aws.String("vpc-0aaaaaaaaaaaaaaa1"), TargetType: elbtypes.TargetTypeEnumIp,
		HealthCheckPath: aws.String("/health"), HealthCheckIntervalSeconds: aws.Int32(interval), HealthCheckTimeoutSeconds: aws.Int32(2),
		HealthyThresholdCount: aws.Int32(threshold), UnhealthyThresholdCount: aws.Int32(threshold)})
	if err != nil {
		t.Fatalf("CreateTargetGroup: %v", err)
	}
	tgARN := tg.TargetGroups[0].TargetGroupArn
	var targets []elbtypes.TargetDescription
	for _, k := range []*killableBackend{a, b} {
		ap, err := netipAddrPort(k.addr)
		if err != nil {
			t.Fatal(err)
		}
		targets = append(targets, elbtypes.TargetDescription{Id: aws.String(ap.ip), Port: aws.Int32(int32(ap.port))})
	}
	if _, err := ec.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: tgARN, Targets: targets}); err != nil {
		t.Fatalf("RegisterTargets: %v", err)
	}
	lis, err := ec.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttp,
		Port: aws.Int32(80), DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: tgARN}}})
	if err != nil {
		t.Fatalf("CreateListener: %v", err)
	}
	link, err := v2.CreateVpcLink(ctx, &apigatewayv2.CreateVpcLinkInput{Name: aws.String("alb-link"), SubnetIds: []string{"subnet-0aaaaaaaaaaaaaa01", "subnet-0aaaaaaaaaaaaaa02"}})
	if err != nil {
		t.Fatalf("CreateVpcLink: %v", err)
	}
	api, err := cp.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("health"),
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
		Type: types.IntegrationTypeHttpProxy, IntegrationHttpMethod: aws.String("ANY"), Uri: aws.String("http://app.internal.example.com/{proxy}"),
		ConnectionType: types.ConnectionTypeVpcLink, ConnectionId: link.VpcLinkId, IntegrationTarget: lis.Listeners[0].ListenerArn,
		RequestParameters: map[string]string{"integration.request.path.proxy": "method.request.path.proxy"}}); err != nil {
		t.Fatalf("PutIntegration: %v", err)
	}
	if _, err := cp.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id, StageName: aws.String("prod")}); err != nil {
		t.Fatalf("CreateDeployment: %v", err)
	}

	healthy := func() int {
		v, _ := runtimeGauge(t, gw, "gateway_vpclink_healthy_targets", "target_group", *tgARN)
		return int(v)
	}
	waitHealthy := func(n int, within time.Duration) time.Duration {
		t.Helper()
		start := time.Now()
		for healthy() != n {
			if time.Since(start) > within {
				t.Fatalf("%d healthy targets after %v, want %d", healthy(), within, n)
			}
			time.Sleep(50 * time.Millisecond)
		}
		return time.Since(start)
	}
	// Both targets pass threshold checks: the first at registration, the next an
	// interval later.
	waitHealthy(2, (threshold+1)*interval*time.Second)

	c := gw.Client(inA, gw.EndpointTLS(vpceA))
	base := "https://" + gw.ExecuteAPIHost(*api.Id) + "/prod"
	for deadline := time.Now().Add(5 * time.Second); ; {
		if s, _, _ := fetch(c, base+"/warmup"); s == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the API never answered 200")
		}
		time.Sleep(50 * time.Millisecond)
	}

	// Load: four clients, each request's answer recorded by phase.
	var mu sync.Mutex
	phase := "both"
	answers := map[string]map[string]int{} // phase → "a"|"b" → count
	var failures []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				s, body, err := fetch(c, fmt.Sprintf("%s/req/%d", base, i))
				mu.Lock()
				if s != 200 {
					failures = append(failures, fmt.Sprintf("[%s] %d %q %v", phase, s, body, err))
				} else {
					who, _, _ := strings.Cut(body, " ")
					if answers[phase] == nil {
						answers[phase] = map[string]int{}
					}
					answers[phase][who]++
				}
				mu.Unlock()
			}
		}()
	}
	setPhase := func(p string) {
		mu.Lock()
		phase = p
		mu.Unlock()
	}
	count := func(p, who string) int {
		mu.Lock()
		defer mu.Unlock()
		return answers[p][who]
	}
	waitAnswer := func(p, who string, within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		for count(p, who) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("[%s] %s never answered within %v", p, who, within)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	defer func() {
		close(stop)
		wg.Wait()
	}()

	waitAnswer("both", "a", 5*time.Second)
	waitAnswer("both", "b", 5*time.Second)

	setPhase("b killed")
	b.kill()
	took := waitHealthy(1, (threshold+1)*interval*time.Second)
	t.Logf("killed target marked unhealthy after %v (interval × threshold = %ds)", took.Round(time.Millisecond), interval*threshold)
	if took > threshold*interval*time.Second+3*time.Second {
		t.Errorf("the killed target left rotation after %v, want ≤ interval × threshold (%ds) + check timeout", took, interval*threshold)
	}
	setPhase("b unhealthy")
	time.Sleep(time.Second) // load keeps running against the remaining target
	if n := count("b unhealthy", "b"); n != 0 {
		t.Errorf("the unhealthy target answered %d requests", n)
	}
	if count("b unhealthy", "a") == 0 {
		t.Error("no request succeeded while b was unhealthy")
	}

	setPhase("b restored")
	b.restore(t)
	took = waitHealthy(2, (threshold+1)*interval*time.Second)
	t.Logf("restored target healthy again after %v", took.Round(time.Millisecond))
	waitAnswer("b restored", "b", 5*time.Second)

	mu.Lock()
	t.Logf("answers by phase: %v", answers)
	for _, f := range failures {
		t.Errorf("failed client request: %s", f)
	}
	mu.Unlock()
}

type ipPort struct {
	ip   string
	port int
}

func netipAddrPort(addr string) (ipPort, error) {
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return ipPort{}, err
	}
	return ipPort{ta.IP.String(), ta.Port}, nil
}
