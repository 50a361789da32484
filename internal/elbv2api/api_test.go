package elbv2api

import (
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"gatehouse/internal/apimodel"
)

func TestLoadBalancerLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	lb := e.nlb(t, "my-nlb", subnetA1, subnetA2)
	if !regexp.MustCompile(`^arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/net/my-nlb/[0-9a-f]{16}$`).MatchString(*lb.LoadBalancerArn) {
		t.Errorf("ARN %s", *lb.LoadBalancerArn)
	}
	if !regexp.MustCompile(`^my-nlb-[0-9a-f]{16}\.elb\.us-east-1\.amazonaws\.com$`).MatchString(*lb.DNSName) {
		t.Errorf("DNS name %s", *lb.DNSName)
	}
	if *lb.VpcId != vpcA || lb.State.Code != types.LoadBalancerStateEnumActive || lb.Type != types.LoadBalancerTypeEnumNetwork ||
		lb.Scheme != types.LoadBalancerSchemeEnumInternal || *lb.CanonicalHostedZoneId != "Z26RNL4JYFTOTI" || lb.CreatedTime == nil {
		t.Errorf("load balancer %+v", lb)
	}
	if len(lb.AvailabilityZones) != 2 || *lb.AvailabilityZones[0].ZoneName != "us-east-1a" || *lb.AvailabilityZones[1].SubnetId != subnetA2 {
		t.Errorf("zones %+v", lb.AvailabilityZones)
	}
	alb := e.alb(t, "my-alb")
	if !regexp.MustCompile(`^internal-my-alb-\d{10}\.us-east-1\.elb\.amazonaws\.com$`).MatchString(*alb.DNSName) ||
		!strings.Contains(*alb.LoadBalancerArn, ":loadbalancer/app/my-alb/") {
		t.Errorf("ALB %s %s", *alb.DNSName, *alb.LoadBalancerArn)
	}

	// The same request again returns the same load balancer.
	again := e.nlb(t, "my-nlb", subnetA1, subnetA2)
	if *again.LoadBalancerArn != *lb.LoadBalancerArn {
		t.Errorf("idempotent create gave %s", *again.LoadBalancerArn)
	}
	_, err := e.a.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("my-nlb"), Type: types.LoadBalancerTypeEnumNetwork, Subnets: []string{subnetA1}})
	wantCode(t, err, "DuplicateLoadBalancerName", "A load balancer with the same name 'my-nlb' exists, but with different settings")

	all := mustT[*elb.DescribeLoadBalancersOutput](t)(e.a.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{}))
	if len(all.LoadBalancers) != 2 || *all.LoadBalancers[0].LoadBalancerName != "my-alb" {
		t.Errorf("describe all: %d", len(all.LoadBalancers))
	}
	byName := mustT[*elb.DescribeLoadBalancersOutput](t)(e.a.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{Names: []string{"my-nlb"}}))
	if len(byName.LoadBalancers) != 1 || *byName.LoadBalancers[0].LoadBalancerArn != *lb.LoadBalancerArn {
		t.Errorf("by name %+v", byName.LoadBalancers)
	}
	byARN := mustT[*elb.DescribeLoadBalancersOutput](t)(e.a.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{*alb.LoadBalancerArn}}))
	if len(byARN.LoadBalancers) != 1 || *byARN.LoadBalancers[0].LoadBalancerName != "my-alb" {
		t.Errorf("by ARN %+v", byARN.LoadBalancers)
	}
	paged := mustT[*elb.DescribeLoadBalancersOutput](t)(e.a.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{PageSize: aws.Int32(1)}))
	if len(paged.LoadBalancers) != 1 || paged.NextMarker == nil {
		t.Fatalf("page 1: %d, marker %v", len(paged.LoadBalancers), paged.NextMarker)
	}
	paged = mustT[*elb.DescribeLoadBalancersOutput](t)(e.a.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{PageSize: aws.Int32(1), Marker: paged.NextMarker}))
	if len(paged.LoadBalancers) != 1 || *paged.LoadBalancers[0].LoadBalancerName != "my-nlb" || paged.NextMarker != nil {
		t.Errorf("page 2: %+v", paged)
	}

	t.Run("not found by name", func(t *testing.T) {
		_, err := e.a.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{Names: []string{"nope", "my-nlb", "gone"}})
		wantCode(t, err, "LoadBalancerNotFound", "Load balancers '[nope, gone]' not found")
	})
	t.Run("other account sees nothing", func(t *testing.T) {
		out := mustT[*elb.DescribeLoadBalancersOutput](t)(e.b.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{}))
		if len(out.LoadBalancers) != 0 {
			t.Errorf("account B sees %d", len(out.LoadBalancers))
		}
		_, err := e.b.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{*lb.LoadBalancerArn}})
		wantCode(t, err, "LoadBalancerNotFound", "One or more load balancers not found")
	})
	t.Run("names and ARNs together", func(t *testing.T) {
		_, err := e.a.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{Names: []string{"a"}, LoadBalancerArns: []string{*lb.LoadBalancerArn}})
		wantCode(t, err, "ValidationError", "")
	})
	t.Run("page size out of range", func(t *testing.T) {
		_, err := e.a.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{PageSize: aws.Int32(401)})
		wantCode(t, err, "ValidationError", "1 validation error detected: Value '401' at 'pageSize' failed to satisfy constraint: Member must have value less than or equal to 400")
	})

	mustT[*elb.DeleteLoadBalancerOutput](t)(e.a.DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: lb.LoadBalancerArn}))
	_, err = e.a.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{*lb.LoadBalancerArn}})
	wantCode(t, err, "LoadBalancerNotFound", "One or more load balancers not found")
	// Deleting again succeeds, as on AWS.
	mustT[*elb.DeleteLoadBalancerOutput](t)(e.a.DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: lb.LoadBalancerArn}))
}

func TestCreateLoadBalancerValidation(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	tests := []struct {
		name    string
		in      elb.CreateLoadBalancerInput
		code    string
		message string
	}{
		{"name too long", elb.CreateLoadBalancerInput{Name: aws.String(strings.Repeat("a", 33)), Type: "network", Subnets: []string{subnetA1}},
			"ValidationError", "Load balancer name '" + strings.Repeat("a", 33) + "' cannot be longer than '32' characters"},
		{"name with invalid characters", elb.CreateLoadBalancerInput{Name: aws.String("my_lb"), Type: "network", Subnets: []string{subnetA1}},
			"ValidationError", "Load balancer name 'my_lb' can only contain characters that are alphanumeric characters or hyphens(-)"},
		{"name begins with hyphen", elb.CreateLoadBalancerInput{Name: aws.String("-lb"), Type: "network", Subnets: []string{subnetA1}},
			"ValidationError", "Load balancer name '-lb' cannot begin or end with '-'"},
		{"name begins with internal-", elb.CreateLoadBalancerInput{Name: aws.String("internal-lb"), Type: "network", Subnets: []string{subnetA1}},
			"ValidationError", "Load balancer name 'internal-lb' cannot begin with 'internal-'"},
		{"no subnets", elb.CreateLoadBalancerInput{Name: aws.String("lb"), Type: "network"},
			"ValidationError", "At least one subnet must be specified"},
		{"unknown subnet", elb.CreateLoadBalancerInput{Name: aws.String("lb"), Type: "network", Subnets: []string{"subnet-0123456789abcdef0"}},
			"SubnetNotFound", "The subnet ID 'subnet-0123456789abcdef0' is not valid"},
		{"another account's subnet", elb.CreateLoadBalancerInput{Name: aws.String("lb"), Type: "network", Subnets: []string{subnetB1}},
			"SubnetNotFound", "The subnet ID '" + subnetB1 + "' is not valid"},
		{"subnets of two VPCs", elb.CreateLoadBalancerInput{Name: aws.String("lb"), Type: "network", Subnets: []string{subnetA1, subnetC1}},
			"InvalidSubnet", ""},
		{"two subnets in one zone", elb.CreateLoadBalancerInput{Name: aws.String("lb"), Type: "network", Subnets: []string{subnetA1, subnetA3}},
			"InvalidConfigurationRequest", "A load balancer cannot be attached to multiple subnets in the same Availability Zone"},
		{"application load balancer in one zone", elb.CreateLoadBalancerInput{Name: aws.String("lb"), Subnets: []string{subnetA1}},
			"ValidationError", "At least two subnets in two different Availability Zones must be specified"},
		{"gateway load balancer", elb.CreateLoadBalancerInput{Name: aws.String("lb"), Type: "gateway", Subnets: []string{subnetA1}},
			"InvalidConfigurationRequest", "Gateway load balancers are not supported by gatehouse"},
		{"unknown type", elb.CreateLoadBalancerInput{Name: aws.String("lb"), Type: "classic", Subnets: []string{subnetA1}},
			"ValidationError", "1 validation error detected: Value 'classic' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [application, network, gateway]"},
		{"unknown scheme", elb.CreateLoadBalancerInput{Name: aws.String("lb"), Type: "network", Scheme: "public", Subnets: []string{subnetA1}},
			"ValidationError", "1 validation error detected: Value 'public' at 'scheme' failed to satisfy constraint: Member must satisfy enum value set: [internet-facing, internal]"},
		{"bad security group", elb.CreateLoadBalancerInput{Name: aws.String("lb"), Subnets: []string{subnetA1, subnetA2}, SecurityGroups: []string{"default"}},
			"InvalidSecurityGroup", "Invalid security group 'default'"},
		{"subnets and mappings", elb.CreateLoadBalancerInput{Name: aws.String("lb"), Type: "network", Subnets: []string{subnetA1},
			SubnetMappings: []types.SubnetMapping{{SubnetId: aws.String(subnetA2)}}}, "ValidationError", "You cannot specify both subnets and subnet mappings"},
		{"duplicate tag keys", elb.CreateLoadBalancerInput{Name: aws.String("lb"), Type: "network", Subnets: []string{subnetA1},
			Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("1")}, {Key: aws.String("k"), Value: aws.String("2")}}}, "DuplicateTagKeys", "Tag key was specified more than once: k"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.a.CreateLoadBalancer(ctx, &tt.in)
			wantCode(t, err, tt.code, tt.message)
		})
	}
	t.Run("subnet mappings are accepted", func(t *testing.T) {
		out := mustT[*elb.CreateLoadBalancerOutput](t)(e.a.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("mapped"), Type: "network",
			SubnetMappings: []types.SubnetMapping{{SubnetId: aws.String(subnetA2)}}}))
		if *out.LoadBalancers[0].AvailabilityZones[0].SubnetId != subnetA2 {
			t.Errorf("zones %+v", out.LoadBalancers[0].AvailabilityZones)
		}
	})
}

func TestTargetGroups(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	t.Run("HTTP defaults", func(t *testing.T) {
		tg := e.tg(t, "web", types.ProtocolEnumHttp, 8080)
		if !regexp.MustCompile(`^arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/web/[0-9a-f]{16}$`).MatchString(*tg.TargetGroupArn) {
			t.Errorf("ARN %s", *tg.TargetGroupArn)
		}
		if tg.HealthCheckProtocol != "HTTP" || *tg.HealthCheckPort != "traffic-port" || !*tg.HealthCheckEnabled || *tg.HealthCheckPath != "/" ||
			*tg.HealthCheckIntervalSeconds != 30 || *tg.HealthCheckTimeoutSeconds != 5 || *tg.HealthyThresholdCount != 5 ||
			*tg.UnhealthyThresholdCount != 2 || *tg.Matcher.HttpCode != "200" || tg.TargetType != "ip" || *tg.ProtocolVersion != "HTTP1" {
			t.Errorf("defaults %s", dump(tg))
		}
	})
	t.Run("TCP defaults", func(t *testing.T) {
		tg := e.tg(t, "tcp", types.ProtocolEnumTcp, 5432)
		if tg.HealthCheckProtocol != "TCP" || tg.HealthCheckPath != nil || *tg.HealthCheckTimeoutSeconds != 10 || tg.Matcher != nil {
			t.Errorf("defaults %s", dump(tg))
		}
	})
	t.Run("TCP group with HTTP checks", func(t *testing.T) {
		out := mustT[*elb.CreateTargetGroupOutput](t)(e.a.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("tcp-http"),
			Protocol: "TCP", Port: aws.Int32(80), VpcId: aws.String(vpcA), TargetType: "ip", HealthCheckProtocol: "HTTP", HealthCheckPath: aws.String("/healthz"),
			HealthCheckIntervalSeconds: aws.Int32(10), HealthyThresholdCount: aws.Int32(3), UnhealthyThresholdCount: aws.Int32(3)}))
		tg := out.TargetGroups[0]
		if *tg.HealthCheckPath != "/healthz" || *tg.HealthCheckTimeoutSeconds != 6 || *tg.Matcher.HttpCode != "200-399" || *tg.HealthCheckIntervalSeconds != 10 {
			t.Errorf("settings %s", dump(tg))
		}
	})
	t.Run("idempotent create and duplicate name", func(t *testing.T) {
		a := e.tg(t, "dup", types.ProtocolEnumTcp, 80)
		b := e.tg(t, "dup", types.ProtocolEnumTcp, 80)
		if *a.TargetGroupArn != *b.TargetGroupArn {
			t.Errorf("second create gave %s", *b.TargetGroupArn)
		}
		_, err := e.a.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("dup"), Protocol: "TCP", Port: aws.Int32(81), VpcId: aws.String(vpcA), TargetType: "ip"})
		wantCode(t, err, "DuplicateTargetGroupName", "A target group with the same name 'dup' exists, but with different settings")
	})

	base := func() elb.CreateTargetGroupInput {
		return elb.CreateTargetGroupInput{Name: aws.String("v"), Protocol: "HTTP", Port: aws.Int32(80), VpcId: aws.String(vpcA), TargetType: "ip"}
	}
	tests := []struct {
		name    string
		mod     func(*elb.CreateTargetGroupInput)
		code    string
		message string
	}{
		{"missing protocol", func(in *elb.CreateTargetGroupInput) { in.Protocol = "" }, "ValidationError", "A protocol must be specified"},
		{"missing port", func(in *elb.CreateTargetGroupInput) { in.Port = nil }, "ValidationError", "A port must be specified"},
		{"missing VPC", func(in *elb.CreateTargetGroupInput) { in.VpcId = nil }, "ValidationError", "A VPC ID must be specified"},
		{"unknown VPC", func(in *elb.CreateTargetGroupInput) { in.VpcId = aws.String("vpc-0123456789abcdef0") }, "ValidationError", "The VPC ID 'vpc-0123456789abcdef0' is not found"},
		{"another account's VPC", func(in *elb.CreateTargetGroupInput) { in.VpcId = aws.String(vpcB) }, "ValidationError", "The VPC ID '" + vpcB + "' is not found"},
		{"port out of range", func(in *elb.CreateTargetGroupInput) { in.Port = aws.Int32(70000) }, "ValidationError",
			"1 validation error detected: Value '70000' at 'port' failed to satisfy constraint: Member must have value less than or equal to 65535"},
		{"lambda targets", func(in *elb.CreateTargetGroupInput) { in.TargetType = "lambda" }, "InvalidConfigurationRequest", "Target type 'lambda' is not supported by gatehouse; use 'ip'"},
		{"UDP", func(in *elb.CreateTargetGroupInput) { in.Protocol = "UDP" }, "InvalidConfigurationRequest", "Protocol 'UDP' is not supported by gatehouse target groups"},
		{"interval not above timeout", func(in *elb.CreateTargetGroupInput) {
			in.HealthCheckIntervalSeconds, in.HealthCheckTimeoutSeconds = aws.Int32(5), aws.Int32(5)
		}, "ValidationError", "Health check interval must be greater than the timeout."},
		{"interval too short", func(in *elb.CreateTargetGroupInput) { in.HealthCheckIntervalSeconds = aws.Int32(4) }, "ValidationError",
			"1 validation error detected: Value '4' at 'healthCheckIntervalSeconds' failed to satisfy constraint: Member must have value greater than or equal to 5"},
		{"thresholds out of range", func(in *elb.CreateTargetGroupInput) {
			in.HealthyThresholdCount, in.UnhealthyThresholdCount = aws.Int32(1), aws.Int32(11)
		}, "ValidationError", "2 validation errors detected: Value '1' at 'healthyThresholdCount' failed to satisfy constraint: Member must have value greater than or equal to 2; " +
			"Value '11' at 'unhealthyThresholdCount' failed to satisfy constraint: Member must have value less than or equal to 10"},
		{"matcher on TCP checks", func(in *elb.CreateTargetGroupInput) {
			in.Protocol, in.Matcher = "TCP", &types.Matcher{HttpCode: aws.String("200")}
		}, "InvalidConfigurationRequest", "Custom health check matchers are not supported for health checks for target groups with the TCP protocol."},
		{"matcher out of range", func(in *elb.CreateTargetGroupInput) { in.Matcher = &types.Matcher{HttpCode: aws.String("200-550")} }, "ValidationError",
			"Health check matcher HTTP code '200-550' must be a code, a list of codes or a range of codes between 200 and 499"},
		{"path on TCP checks", func(in *elb.CreateTargetGroupInput) { in.Protocol, in.HealthCheckPath = "TCP", aws.String("/x") }, "ValidationError",
			"Health check path can only be specified for HTTP or HTTPS health checks"},
		{"TCP checks on an HTTP group", func(in *elb.CreateTargetGroupInput) { in.HealthCheckProtocol = "TCP" }, "ValidationError",
			"Health check protocol 'TCP' is not supported for target groups with the HTTP protocol"},
		{"bad health check port", func(in *elb.CreateTargetGroupInput) { in.HealthCheckPort = aws.String("http") }, "ValidationError",
			"Health check port 'http' must be 'traffic-port' or a port between 1 and 65535"},
		{"invalid name", func(in *elb.CreateTargetGroupInput) { in.Name = aws.String("tg.1") }, "ValidationError",
			"Target group name 'tg.1' can only contain characters that are alphanumeric characters or hyphens(-)"},
		{"protocol version on TCP", func(in *elb.CreateTargetGroupInput) { in.Protocol, in.ProtocolVersion = "TCP", aws.String("HTTP2") }, "ValidationError",
			"A protocol version can only be specified for HTTP or HTTPS target groups"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base()
			tt.mod(&in)
			_, err := e.a.CreateTargetGroup(ctx, &in)
			wantCode(t, err, tt.code, tt.message)
		})
	}

	t.Run("describe and delete", func(t *testing.T) {
		out := mustT[*elb.DescribeTargetGroupsOutput](t)(e.a.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{Names: []string{"web"}}))
		if len(out.TargetGroups) != 1 {
			t.Fatalf("by name: %d", len(out.TargetGroups))
		}
		arn := out.TargetGroups[0].TargetGroupArn
		_, err := e.a.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{Names: []string{"web", "nope"}})
		wantCode(t, err, "TargetGroupNotFound", "Target groups '[nope]' not found")
		_, err = e.b.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{TargetGroupArns: []string{*arn}})
		wantCode(t, err, "TargetGroupNotFound", "One or more target groups not found")
		mustT[*elb.DeleteTargetGroupOutput](t)(e.a.DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: arn}))
		mustT[*elb.DeleteTargetGroupOutput](t)(e.a.DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: arn}))
		_, err = e.a.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{TargetGroupArns: []string{*arn}})
		wantCode(t, err, "TargetGroupNotFound", "One or more target groups not found")
	})
}

func dump(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestTargetsAndHealth(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	tg := e.tg(t, "svc", types.ProtocolEnumTcp, 9000)
	arn := tg.TargetGroupArn
	register := func(ts ...types.TargetDescription) error {
		_, err := e.a.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: arn, Targets: ts})
		return err
	}
	if err := register(types.TargetDescription{Id: aws.String("10.1.1.5")}, types.TargetDescription{Id: aws.String("10.1.2.6"), Port: aws.Int32(9001)},
		types.TargetDescription{Id: aws.String("192.168.7.7"), AvailabilityZone: aws.String("all")}); err != nil {
		t.Fatal(err)
	}
	// Registering the same target again is a no-op.
	if err := register(types.TargetDescription{Id: aws.String("10.1.1.5")}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		target  types.TargetDescription
		code    string
		message string
	}{
		{"not an IP address", types.TargetDescription{Id: aws.String("i-0123456789abcdef0")}, "InvalidTarget", "The IP address 'i-0123456789abcdef0' is not a valid IP address"},
		{"outside the VPC", types.TargetDescription{Id: aws.String("10.9.0.1")}, "InvalidTarget",
			"The IP address '10.9.0.1' is not within the CIDR of VPC " + "'" + vpcA + "'; register it with AvailabilityZone 'all'"},
		{"public address with zone all", types.TargetDescription{Id: aws.String("8.8.8.8"), AvailabilityZone: aws.String("all")}, "InvalidTarget",
			"The IP address '8.8.8.8' is not a private IP address"},
		{"unknown zone", types.TargetDescription{Id: aws.String("10.1.1.9"), AvailabilityZone: aws.String("us-east-1z")}, "InvalidTarget",
			"The Availability Zone 'us-east-1z' is not valid for target '10.1.1.9'"},
		{"IPv6 in an IPv4 group", types.TargetDescription{Id: aws.String("fd00::1")}, "InvalidTarget", "The IP address 'fd00::1' is not of the target group's IP address type 'ipv4'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, register(tt.target), tt.code, tt.message) })
	}
	t.Run("instance targets", func(t *testing.T) {
		itg := mustT[*elb.CreateTargetGroupOutput](t)(e.a.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("inst"), Protocol: "TCP",
			Port: aws.Int32(80), VpcId: aws.String(vpcA)})).TargetGroups[0]
		if itg.TargetType != types.TargetTypeEnumInstance {
			t.Errorf("default target type %s", itg.TargetType)
		}
		mustT[*elb.RegisterTargetsOutput](t)(e.a.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: itg.TargetGroupArn,
			Targets: []types.TargetDescription{{Id: aws.String(instRunning)}}}))
		_, err := e.a.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: itg.TargetGroupArn, Targets: []types.TargetDescription{{Id: aws.String("10.1.1.1")}}})
		wantCode(t, err, "ValidationError", "Instance ID '10.1.1.1' is not valid")
	})
	t.Run("unknown target group", func(t *testing.T) {
		_, err := e.b.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: arn, Targets: []types.TargetDescription{{Id: aws.String("10.1.1.5")}}})
		wantCode(t, err, "TargetGroupNotFound", "Target groups '"+*arn+"' not found")
	})

	states := func(in *elb.DescribeTargetHealthInput) map[string]string {
		t.Helper()
		out := mustT[*elb.DescribeTargetHealthOutput](t)(e.a.DescribeTargetHealth(ctx, in))
		m := map[string]string{}
		for _, d := range out.TargetHealthDescriptions {
			m[*d.Target.Id+":"+itoa(*d.Target.Port)] = string(d.TargetHealth.State) + "/" + string(d.TargetHealth.Reason) + "/" + *d.HealthCheckPort
		}
		return m
	}
	got := states(&elb.DescribeTargetHealthInput{TargetGroupArn: arn})
	want := map[string]string{"10.1.1.5:9000": "unused/Target.NotInUse/9000", "10.1.2.6:9001": "unused/Target.NotInUse/9001",
		"192.168.7.7:9000": "unused/Target.NotInUse/9000"}
	if dump(got) != dump(want) {
		t.Errorf("not in use:\n got %v\nwant %v", got, want)
	}
	// Put the group behind a listener: targets become initial until the runtime reports.
	lb := e.nlb(t, "svc-nlb")
	mustT[*elb.CreateListenerOutput](t)(e.a.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: "TCP", Port: aws.Int32(9000), DefaultActions: forward(*arn)}))
	e.health.set(*arn,
		apimodel.TargetHealthDescription{Target: apimodel.TargetDescription{ID: "10.1.1.5", Port: 9000}, TargetHealth: apimodel.TargetHealth{State: "healthy"}},
		apimodel.TargetHealthDescription{Target: apimodel.TargetDescription{ID: "10.1.2.6", Port: 9001},
			TargetHealth: apimodel.TargetHealth{State: "unhealthy", Reason: "Target.Timeout", Description: "Request timed out"}},
		apimodel.TargetHealthDescription{Target: apimodel.TargetDescription{ID: "10.1.1.77", Port: 9000},
			TargetHealth: apimodel.TargetHealth{State: "draining", Reason: "Target.DeregistrationInProgress"}},
	)
	got = states(&elb.DescribeTargetHealthInput{TargetGroupArn: arn})
	want = map[string]string{"10.1.1.5:9000": "healthy//9000", "10.1.2.6:9001": "unhealthy/Target.Timeout/9001",
		"192.168.7.7:9000": "initial/Elb.RegistrationInProgress/9000", "10.1.1.77:9000": "draining/Target.DeregistrationInProgress/9000"}
	if dump(got) != dump(want) {
		t.Errorf("in use:\n got %v\nwant %v", got, want)
	}
	got = states(&elb.DescribeTargetHealthInput{TargetGroupArn: arn, Targets: []types.TargetDescription{{Id: aws.String("10.1.2.6"), Port: aws.Int32(9001)}, {Id: aws.String("10.1.1.99")}}})
	want = map[string]string{"10.1.2.6:9001": "unhealthy/Target.Timeout/9001", "10.1.1.99:9000": "unused/Target.NotRegistered/9000"}
	if dump(got) != dump(want) {
		t.Errorf("selected:\n got %v\nwant %v", got, want)
	}

	t.Run("deregister", func(t *testing.T) {
		mustT[*elb.DeregisterTargetsOutput](t)(e.a.DeregisterTargets(ctx, &elb.DeregisterTargetsInput{TargetGroupArn: arn, Targets: []types.TargetDescription{{Id: aws.String("10.1.1.5")}}}))
		_, err := e.a.DeregisterTargets(ctx, &elb.DeregisterTargetsInput{TargetGroupArn: arn, Targets: []types.TargetDescription{{Id: aws.String("10.1.1.5")}}})
		wantCode(t, err, "InvalidTarget", "The following targets are not registered in target group '"+*arn+"': '10.1.1.5'")
		var stored apimodel.TargetGroup
		a, _ := apimodel.ParseELBARN(*arn)
		ent, err := e.store.Get(ctx, apimodel.BucketELB, apimodel.TargetGroupKey(accountA, a.ID))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(ent.Value, &stored); err != nil {
			t.Fatal(err)
		}
		if len(stored.Targets) != 2 || stored.Targets[0].ID != "10.1.2.6" || stored.Targets[1].AvailabilityZone != "all" || stored.Targets[0].AvailabilityZone != "us-east-1b" {
			t.Errorf("stored targets %+v", stored.Targets)
		}
	})
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }

func TestListenersAndRules(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	alb := e.alb(t, "web")
	api := e.tg(t, "api", types.ProtocolEnumHttp, 8080)
	static := e.tg(t, "static", types.ProtocolEnumHttp, 8081)
	tcp := e.tg(t, "tcp", types.ProtocolEnumTcp, 8082)

	l := mustT[*elb.CreateListenerOutput](t)(e.a.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: alb.LoadBalancerArn, Protocol: "HTTP",
		Port: aws.Int32(80), DefaultActions: forward(*static.TargetGroupArn)})).Listeners[0]
	if !regexp.MustCompile(`^arn:aws:elasticloadbalancing:us-east-1:111111111111:listener/app/web/[0-9a-f]{16}/[0-9a-f]{16}$`).MatchString(*l.ListenerArn) {
		t.Errorf("listener ARN %s", *l.ListenerArn)
	}
	if len(l.DefaultActions) != 1 || *l.DefaultActions[0].TargetGroupArn != *static.TargetGroupArn || len(l.DefaultActions[0].ForwardConfig.TargetGroups) != 1 ||
		*l.DefaultActions[0].ForwardConfig.TargetGroups[0].Weight != 1 {
		t.Errorf("default actions %s", dump(l.DefaultActions))
	}
	rule := func(prio int32, conds []types.RuleCondition, tgARN string) (*elb.CreateRuleOutput, error) {
		return e.a.CreateRule(ctx, &elb.CreateRuleInput{ListenerArn: l.ListenerArn, Priority: aws.Int32(prio), Conditions: conds, Actions: forward(tgARN)})
	}
	path := func(v ...string) types.RuleCondition {
		return types.RuleCondition{Field: aws.String("path-pattern"), PathPatternConfig: &types.PathPatternConditionConfig{Values: v}}
	}
	r10 := mustT[*elb.CreateRuleOutput](t)(rule(10, []types.RuleCondition{path("/api/*")}, *api.TargetGroupArn)).Rules[0]
	if *r10.Priority != "10" || r10.IsDefault == nil || *r10.IsDefault || r10.Conditions[0].PathPatternConfig.Values[0] != "/api/*" || r10.Conditions[0].Values[0] != "/api/*" {
		t.Errorf("rule %s", dump(r10))
	}
	mustT[*elb.CreateRuleOutput](t)(rule(5, []types.RuleCondition{{Field: aws.String("host-header"), Values: []string{"api.example.com"}}}, *api.TargetGroupArn))

	ruleTests := []struct {
		name    string
		prio    int32
		conds   []types.RuleCondition
		tg      string
		code    string
		message string
	}{
		{"priority in use", 10, []types.RuleCondition{path("/x")}, *api.TargetGroupArn, "PriorityInUse", "Priority '10' is currently in use"},
		{"priority out of range", 50001, []types.RuleCondition{path("/x")}, *api.TargetGroupArn, "ValidationError",
			"1 validation error detected: Value '50001' at 'priority' failed to satisfy constraint: Member must have value less than or equal to 50000"},
		{"unknown field", 1, []types.RuleCondition{{Field: aws.String("cookie"), Values: []string{"a"}}}, *api.TargetGroupArn, "ValidationError",
			"Condition field 'cookie' must be one of '[http-header, http-request-method, host-header, path-pattern, query-string, source-ip]'"},
		{"unsupported field", 1, []types.RuleCondition{{Field: aws.String("source-ip"), Values: []string{"10.0.0.0/8"}}}, *api.TargetGroupArn, "InvalidConfigurationRequest",
			"Condition field 'source-ip' is not supported by gatehouse; use path-pattern or host-header"},
		{"no values", 1, []types.RuleCondition{{Field: aws.String("path-pattern")}}, *api.TargetGroupArn, "ValidationError",
			"A condition value must be specified for condition 'path-pattern'"},
		{"two path conditions", 1, []types.RuleCondition{path("/a"), path("/b")}, *api.TargetGroupArn, "ValidationError",
			"A rule can only have one 'path-pattern' condition"},
		{"too many values", 1, []types.RuleCondition{path("/1", "/2", "/3", "/4", "/5", "/6")}, *api.TargetGroupArn, "ValidationError",
			"A rule can only have '5' condition values"},
		{"invalid path characters", 1, []types.RuleCondition{path("/a b")}, *api.TargetGroupArn, "ValidationError",
			"The path-pattern condition value '/a b' contains invalid characters"},
		{"values and config", 1, []types.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/a"}, PathPatternConfig: &types.PathPatternConditionConfig{Values: []string{"/b"}}}},
			*api.TargetGroupArn, "ValidationError", "You cannot specify both 'Values' and 'PathPatternConfig' for condition 'path-pattern'"},
		{"TCP target group", 1, []types.RuleCondition{path("/x")}, *tcp.TargetGroupArn, "IncompatibleProtocols",
			"The listener and the following target groups have incompatible protocols: " + *tcp.TargetGroupArn},
		{"unknown target group", 1, []types.RuleCondition{path("/x")}, "arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/x/0123456789abcdef", "TargetGroupNotFound",
			"Target groups 'arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/x/0123456789abcdef' not found"},
	}
	for _, tt := range ruleTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rule(tt.prio, tt.conds, tt.tg)
			wantCode(t, err, tt.code, tt.message)
		})
	}

	rules := mustT[*elb.DescribeRulesOutput](t)(e.a.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: l.ListenerArn})).Rules
	var prios []string
	for _, r := range rules {
		prios = append(prios, *r.Priority)
	}
	if strings.Join(prios, ",") != "5,10,default" || !*rules[2].IsDefault || len(rules[2].Conditions) != 0 || *rules[2].Actions[0].TargetGroupArn != *static.TargetGroupArn {
		t.Errorf("rules %s", dump(rules))
	}
	t.Run("default rule cannot be deleted", func(t *testing.T) {
		_, err := e.a.DeleteRule(ctx, &elb.DeleteRuleInput{RuleArn: rules[2].RuleArn})
		wantCode(t, err, "OperationNotPermitted", "Default rule '"+*rules[2].RuleArn+"' cannot be deleted")
	})
	t.Run("target group associations", func(t *testing.T) {
		out := mustT[*elb.DescribeTargetGroupsOutput](t)(e.a.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{LoadBalancerArn: alb.LoadBalancerArn}))
		var names []string
		for _, tg := range out.TargetGroups {
			names = append(names, *tg.TargetGroupName)
			if len(tg.LoadBalancerArns) != 1 || tg.LoadBalancerArns[0] != *alb.LoadBalancerArn {
				t.Errorf("%s LoadBalancerArns %v", *tg.TargetGroupName, tg.LoadBalancerArns)
			}
		}
		if strings.Join(names, ",") != "api,static" {
			t.Errorf("groups of the ALB: %v", names)
		}
		_, err := e.a.DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: api.TargetGroupArn})
		wantCode(t, err, "ResourceInUse", "Target group '"+*api.TargetGroupArn+"' is currently in use by a listener or a rule")
		// A target group serves one load balancer.
		other := e.alb(t, "other")
		_, err = e.a.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: other.LoadBalancerArn, Protocol: "HTTP", Port: aws.Int32(80), DefaultActions: forward(*api.TargetGroupArn)})
		wantCode(t, err, "TargetGroupAssociationLimit", "The following target groups cannot be associated with more than one load balancer: "+*api.TargetGroupArn)
	})

	listenerTests := []struct {
		name    string
		in      elb.CreateListenerInput
		code    string
		message string
	}{
		{"duplicate port", elb.CreateListenerInput{LoadBalancerArn: alb.LoadBalancerArn, Protocol: "HTTP", Port: aws.Int32(80), DefaultActions: forward(*api.TargetGroupArn)},
			"DuplicateListener", "A listener already exists on this port for this load balancer '" + *alb.LoadBalancerArn + "'"},
		{"TCP on an ALB", elb.CreateListenerInput{LoadBalancerArn: alb.LoadBalancerArn, Protocol: "TCP", Port: aws.Int32(81), DefaultActions: forward(*tcp.TargetGroupArn)},
			"UnsupportedProtocol", "Protocol 'TCP' is not supported for load balancers of type 'application'"},
		{"HTTPS without a certificate", elb.CreateListenerInput{LoadBalancerArn: alb.LoadBalancerArn, Protocol: "HTTPS", Port: aws.Int32(443), DefaultActions: forward(*api.TargetGroupArn)},
			"ValidationError", "A certificate must be specified for HTTPS listeners"},
		{"certificate on HTTP", elb.CreateListenerInput{LoadBalancerArn: alb.LoadBalancerArn, Protocol: "HTTP", Port: aws.Int32(82), DefaultActions: forward(*api.TargetGroupArn),
			Certificates: []types.Certificate{{CertificateArn: aws.String("arn:aws:acm:us-east-1:111111111111:certificate/abc")}}}, "ValidationError", "A certificate cannot be specified for HTTP listeners"},
		{"bad certificate ARN", elb.CreateListenerInput{LoadBalancerArn: alb.LoadBalancerArn, Protocol: "HTTPS", Port: aws.Int32(443), DefaultActions: forward(*api.TargetGroupArn),
			Certificates: []types.Certificate{{CertificateArn: aws.String("cert")}}}, "ValidationError", "Certificate ARN 'cert' is not valid"},
		{"SSL policy on HTTP", elb.CreateListenerInput{LoadBalancerArn: alb.LoadBalancerArn, Protocol: "HTTP", Port: aws.Int32(82), DefaultActions: forward(*api.TargetGroupArn),
			SslPolicy: aws.String("ELBSecurityPolicy-2016-08")}, "ValidationError", "An SSL policy cannot be specified for HTTP listeners."},
		{"redirect action", elb.CreateListenerInput{LoadBalancerArn: alb.LoadBalancerArn, Protocol: "HTTP", Port: aws.Int32(83),
			DefaultActions: []types.Action{{Type: "redirect", RedirectConfig: &types.RedirectActionConfig{StatusCode: "HTTP_301"}}}}, "InvalidLoadBalancerAction", "The action type 'redirect' is not supported by gatehouse"},
		{"fixed response with a bad status", elb.CreateListenerInput{LoadBalancerArn: alb.LoadBalancerArn, Protocol: "HTTP", Port: aws.Int32(83),
			DefaultActions: []types.Action{{Type: "fixed-response", FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("302")}}}}, "ValidationError",
			`1 validation error detected: Value '302' at 'defaultActions.1.member.fixedResponseConfig.statusCode' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(2|4|5)\d\d$`},
		{"unknown load balancer", elb.CreateListenerInput{LoadBalancerArn: aws.String("arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/app/x/0123456789abcdef"),
			Protocol: "HTTP", Port: aws.Int32(80), DefaultActions: forward(*api.TargetGroupArn)}, "LoadBalancerNotFound", "One or more load balancers not found"},
	}
	for _, tt := range listenerTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.a.CreateListener(ctx, &tt.in)
			wantCode(t, err, tt.code, tt.message)
		})
	}
	t.Run("fixed response and HTTPS", func(t *testing.T) {
		out := mustT[*elb.CreateListenerOutput](t)(e.a.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: alb.LoadBalancerArn, Protocol: "HTTPS", Port: aws.Int32(443),
			Certificates:   []types.Certificate{{CertificateArn: aws.String("arn:aws:acm:us-east-1:111111111111:certificate/0a1b2c3d")}},
			DefaultActions: []types.Action{{Type: "fixed-response", FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("404"), ContentType: aws.String("text/plain"), MessageBody: aws.String("nope")}}}}))
		got := out.Listeners[0]
		if *got.SslPolicy != "ELBSecurityPolicy-2016-08" || *got.DefaultActions[0].FixedResponseConfig.StatusCode != "404" || *got.Certificates[0].CertificateArn != "arn:aws:acm:us-east-1:111111111111:certificate/0a1b2c3d" {
			t.Errorf("listener %s", dump(got))
		}
	})
	t.Run("NLB listeners", func(t *testing.T) {
		nlb := e.nlb(t, "net")
		tls := e.tg(t, "tls", types.ProtocolEnumTls, 443)
		_, err := e.a.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: nlb.LoadBalancerArn, Protocol: "HTTP", Port: aws.Int32(80), DefaultActions: forward(*tcp.TargetGroupArn)})
		wantCode(t, err, "UnsupportedProtocol", "Protocol 'HTTP' is not supported for load balancers of type 'network'")
		_, err = e.a.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: nlb.LoadBalancerArn, Protocol: "TCP", Port: aws.Int32(80), DefaultActions: forward(*tls.TargetGroupArn)})
		wantCode(t, err, "IncompatibleProtocols", "The listener and the following target groups have incompatible protocols: "+*tls.TargetGroupArn)
		_, err = e.a.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: nlb.LoadBalancerArn, Protocol: "TCP", Port: aws.Int32(80),
			DefaultActions: []types.Action{{Type: "fixed-response", FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("200")}}}})
		wantCode(t, err, "InvalidLoadBalancerAction", "The action type 'fixed-response' is not valid with network load balancers")
		ln := mustT[*elb.CreateListenerOutput](t)(e.a.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: nlb.LoadBalancerArn, Protocol: "TLS", Port: aws.Int32(443),
			Certificates: []types.Certificate{{CertificateArn: aws.String("arn:aws:acm:us-east-1:111111111111:certificate/0a1b2c3d")}}, AlpnPolicy: []string{"HTTP2Preferred"},
			DefaultActions: forward(*tcp.TargetGroupArn)})).Listeners[0]
		if ln.Protocol != "TLS" || ln.AlpnPolicy[0] != "HTTP2Preferred" {
			t.Errorf("TLS listener %s", dump(ln))
		}
		_, err = e.a.CreateRule(ctx, &elb.CreateRuleInput{ListenerArn: ln.ListenerArn, Priority: aws.Int32(1), Conditions: []types.RuleCondition{path("/x")}, Actions: forward(*tcp.TargetGroupArn)})
		wantCode(t, err, "UnsupportedProtocol", "Listener rules are not supported for listeners with the TLS protocol")
		// A target group in another VPC of the account cannot be used.
		other := mustT[*elb.CreateTargetGroupOutput](t)(e.a.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("elsewhere"), Protocol: "TCP",
			Port: aws.Int32(80), VpcId: aws.String(vpcA2), TargetType: "ip"})).TargetGroups[0]
		_, err = e.a.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: nlb.LoadBalancerArn, Protocol: "TCP", Port: aws.Int32(81), DefaultActions: forward(*other.TargetGroupArn)})
		wantCode(t, err, "InvalidConfigurationRequest", "The target group '"+*other.TargetGroupArn+"' and the load balancer '"+*nlb.LoadBalancerArn+"' are not in the same VPC")
	})

	t.Run("describe listeners", func(t *testing.T) {
		out := mustT[*elb.DescribeListenersOutput](t)(e.a.DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: alb.LoadBalancerArn}))
		if len(out.Listeners) != 2 || *out.Listeners[0].Port != 80 || *out.Listeners[1].Port != 443 {
			t.Errorf("listeners %s", dump(out.Listeners))
		}
		_, err := e.a.DescribeListeners(ctx, &elb.DescribeListenersInput{})
		wantCode(t, err, "ValidationError", "You must specify either listener ARNs or a load balancer ARN")
		_, err = e.b.DescribeListeners(ctx, &elb.DescribeListenersInput{ListenerArns: []string{*l.ListenerArn}})
		wantCode(t, err, "ListenerNotFound", "One or more listeners not found")
	})

	t.Run("delete rule, listener and load balancer", func(t *testing.T) {
		mustT[*elb.DeleteRuleOutput](t)(e.a.DeleteRule(ctx, &elb.DeleteRuleInput{RuleArn: r10.RuleArn}))
		_, err := e.a.DeleteRule(ctx, &elb.DeleteRuleInput{RuleArn: r10.RuleArn})
		wantCode(t, err, "RuleNotFound", "One or more rules not found")
		mustT[*elb.DeleteListenerOutput](t)(e.a.DeleteListener(ctx, &elb.DeleteListenerInput{ListenerArn: l.ListenerArn}))
		_, err = e.a.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: l.ListenerArn})
		wantCode(t, err, "ListenerNotFound", "One or more listeners not found")
		// The groups are free again.
		out := mustT[*elb.DescribeTargetGroupsOutput](t)(e.a.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{TargetGroupArns: []string{*api.TargetGroupArn}}))
		if len(out.TargetGroups[0].LoadBalancerArns) != 0 {
			t.Errorf("api still associated: %v", out.TargetGroups[0].LoadBalancerArns)
		}
		mustT[*elb.DeleteTargetGroupOutput](t)(e.a.DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: api.TargetGroupArn}))
		mustT[*elb.DeleteLoadBalancerOutput](t)(e.a.DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: alb.LoadBalancerArn}))
		entries, err := e.store.List(ctx, apimodel.BucketELB, accountA+".listener.")
		if err != nil {
			t.Fatal(err)
		}
		for _, ent := range entries {
			if strings.Contains(string(ent.Value), "/app/web/") {
				t.Errorf("listener of the deleted ALB left: %s", ent.Key)
			}
		}
	})
}

func TestDeleteLoadBalancerUsedByVpcLink(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	lb := e.nlb(t, "linked")
	rec := apimodel.VpcLinkRecord{Account: accountA, Version: apimodel.VpcLinkVersion1,
		V1: &apimodel.VpcLink{ID: "abc123", Name: "l", TargetArns: []string{*lb.LoadBalancerArn}, Status: apimodel.VpcLinkAvailable}}
	b, _ := json.Marshal(rec)
	if _, err := e.store.Create(ctx, apimodel.BucketVpcLinks, apimodel.VpcLinkKey(accountA, "abc123"), b); err != nil {
		t.Fatal(err)
	}
	_, err := e.a.DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: lb.LoadBalancerArn})
	wantCode(t, err, "ResourceInUse", "Load balancer '"+*lb.LoadBalancerArn+"' cannot be deleted because it is currently associated with another service")
	if err := e.store.Delete(ctx, apimodel.BucketVpcLinks, apimodel.VpcLinkKey(accountA, "abc123"), 0); err != nil {
		t.Fatal(err)
	}
	mustT[*elb.DeleteLoadBalancerOutput](t)(e.a.DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: lb.LoadBalancerArn}))
}

func TestStoredDocuments(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	lb := e.nlb(t, "doc")
	a, _ := apimodel.ParseELBARN(*lb.LoadBalancerArn)
	ent, err := e.store.Get(ctx, apimodel.BucketELB, apimodel.LoadBalancerKey(accountA, a.ID))
	if err != nil {
		t.Fatal(err)
	}
	var doc apimodel.LoadBalancer
	if err := json.Unmarshal(ent.Value, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Account != accountA || doc.LoadBalancerArn != *lb.LoadBalancerArn || !slices.Equal(doc.Subnets(), []string{subnetA1}) || doc.Type != "network" {
		t.Errorf("stored %+v", doc)
	}
}
