package elbv2api

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/config"
)

// instanceTG creates an instance target group in vpcA.
func (e *env) instanceTG(t *testing.T, name string, port int32) types.TargetGroup {
	t.Helper()
	out := mustT[*elb.CreateTargetGroupOutput](t)(e.a.CreateTargetGroup(ctxT(t), &elb.CreateTargetGroupInput{
		Name: aws.String(name), Protocol: types.ProtocolEnumTcp, Port: aws.Int32(port), VpcId: aws.String(vpcA),
		TargetType: types.TargetTypeEnumInstance,
	}))
	return out.TargetGroups[0]
}

func instTarget(id string, port int32) types.TargetDescription {
	t := types.TargetDescription{Id: aws.String(id)}
	if port != 0 {
		t.Port = aws.Int32(port)
	}
	return t
}

func TestRegisterInstanceTargets(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	arn := e.instanceTG(t, "inst", 80).TargetGroupArn
	register := func(ts ...types.TargetDescription) error {
		_, err := e.a.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: arn, Targets: ts})
		return err
	}
	tests := []struct {
		name    string
		targets []types.TargetDescription
		code    string
		message string
	}{
		{"running instance", []types.TargetDescription{instTarget(instRunning, 0)}, "", ""},
		{"running instance on two ports", []types.TargetDescription{instTarget(instRunning2, 8080), instTarget(instRunning2, 8081)}, "", ""},
		{"stopped instance", []types.TargetDescription{instTarget(instStopped, 0)}, "InvalidTarget",
			"The following targets are not in a running state and cannot be registered: '" + instStopped + "'"},
		{"unknown instance", []types.TargetDescription{instTarget("i-0123456789abcdef0", 0)}, "InvalidTarget",
			"The following instances do not exist: 'i-0123456789abcdef0'"},
		{"another account's instance", []types.TargetDescription{instTarget(instAccountB, 0)}, "InvalidTarget",
			"The following instances do not exist: '" + instAccountB + "'"},
		{"instance of another VPC", []types.TargetDescription{instTarget(instOtherVPC, 0)}, "InvalidTarget",
			"The following targets are not in the target group VPC '" + vpcA + "': '" + instOtherVPC + "'"},
		{"every unknown instance is named", []types.TargetDescription{instTarget("i-0123456789abcdef0", 0), instTarget(instStopped, 0), instTarget("i-01234567", 0), instTarget("i-01234567", 81)},
			"InvalidTarget", "The following instances do not exist: 'i-0123456789abcdef0', 'i-01234567'"},
		{"other VPC before stopped", []types.TargetDescription{instTarget(instStopped, 0), instTarget(instOtherVPC, 0)}, "InvalidTarget",
			"The following targets are not in the target group VPC '" + vpcA + "': '" + instOtherVPC + "'"},
		{"a bad target fails the whole call", []types.TargetDescription{instTarget(instRunning, 9999), instTarget(instStopped, 0)}, "InvalidTarget",
			"The following targets are not in a running state and cannot be registered: '" + instStopped + "'"},
		{"not an instance id", []types.TargetDescription{instTarget("10.1.1.21", 0)}, "ValidationError", "Instance ID '10.1.1.21' is not valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := register(tt.targets...)
			if tt.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantCode(t, err, tt.code, tt.message)
		})
	}
	out := mustT[*elb.DescribeTargetHealthOutput](t)(e.a.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: arn}))
	var got []string
	for _, d := range out.TargetHealthDescriptions {
		got = append(got, *d.Target.Id+":"+itoa(*d.Target.Port))
	}
	want := []string{instRunning + ":80", instRunning2 + ":8080", instRunning2 + ":8081"}
	if dump(got) != dump(want) {
		t.Fatalf("registered %v, want %v", got, want)
	}
}

func TestInstanceTargetHealth(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	arn := e.instanceTG(t, "inst", 80).TargetGroupArn
	mustT[*elb.RegisterTargetsOutput](t)(e.a.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: arn,
		Targets: []types.TargetDescription{instTarget(instRunning, 0), instTarget(instRunning2, 8080)}}))
	lb := e.nlb(t, "inst-nlb")
	mustT[*elb.CreateListenerOutput](t)(e.a.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: "TCP",
		Port: aws.Int32(80), DefaultActions: forward(*arn)}))

	// A second server on the same store with a changed topology: the first instance
	// stopped, the second one gone.
	changed := parseTopology(t)
	changed.Instances = slices.DeleteFunc(changed.Instances, func(in config.Instance) bool { return in.ID == instRunning2 })
	changed.Instances[0].State = config.InstanceStopped // instRunning
	after := sdkClient(serveAs(t, New(Options{Store: e.store, Topology: changed, Health: e.health}), accountA))

	live := func(ip string, port int, state, reason string) apimodel.TargetHealthDescription {
		return apimodel.TargetHealthDescription{Target: apimodel.TargetDescription{ID: ip, Port: port},
			TargetHealth: apimodel.TargetHealth{State: state, Reason: reason}}
	}
	type result struct{ state, reason, description string }
	tests := []struct {
		name    string
		client  *elb.Client
		live    []apimodel.TargetHealthDescription
		targets []types.TargetDescription
		want    map[string]result
	}{
		{"runtime not reporting yet", e.a, nil, nil, map[string]result{
			instRunning + ":80":    {"initial", "Elb.RegistrationInProgress", "Target registration is in progress"},
			instRunning2 + ":8080": {"initial", "Elb.RegistrationInProgress", "Target registration is in progress"},
		}},
		{"runtime reports by private IP", e.a, []apimodel.TargetHealthDescription{
			live("10.1.1.21", 80, "healthy", ""), live("10.1.1.23", 8080, "unhealthy", "Target.FailedHealthChecks"),
		}, nil, map[string]result{
			instRunning + ":80":    {"healthy", "", ""},
			instRunning2 + ":8080": {"unhealthy", "Target.FailedHealthChecks", ""},
		}},
		{"runtime reports by instance id", e.a, []apimodel.TargetHealthDescription{
			live(instRunning, 80, "healthy", ""), live("10.1.1.23", 8080, "healthy", ""),
		}, nil, map[string]result{
			instRunning + ":80":    {"healthy", "", ""},
			instRunning2 + ":8080": {"healthy", "", ""},
		}},
		{"a port the runtime does not report", e.a, []apimodel.TargetHealthDescription{live("10.1.1.21", 81, "healthy", "")},
			[]types.TargetDescription{instTarget(instRunning, 0)}, map[string]result{
				instRunning + ":80": {"initial", "Elb.RegistrationInProgress", "Target registration is in progress"},
			}},
		{"deregistered instance still draining", e.a, []apimodel.TargetHealthDescription{
			live("10.1.1.21", 80, "healthy", ""), live("10.1.1.23", 8080, "healthy", ""),
			live("10.1.1.23", 9090, "draining", "Target.DeregistrationInProgress"),
		}, nil, map[string]result{
			instRunning + ":80":    {"healthy", "", ""},
			instRunning2 + ":8080": {"healthy", "", ""},
			instRunning2 + ":9090": {"draining", "Target.DeregistrationInProgress", ""},
		}},
		{"selected deregistered instance", e.a, []apimodel.TargetHealthDescription{
			live("10.1.1.23", 9090, "draining", "Target.DeregistrationInProgress"),
		}, []types.TargetDescription{instTarget(instRunning2, 9090), instTarget(instStopped, 0)}, map[string]result{
			instRunning2 + ":9090": {"draining", "Target.DeregistrationInProgress", ""},
			instStopped + ":80":    {"unused", "Target.NotRegistered", "Target is not registered to the target group"},
		}},
		{"stopped and terminated after a topology change", after, []apimodel.TargetHealthDescription{
			live("10.1.1.21", 80, "draining", "Target.DeregistrationInProgress"), live("10.1.1.23", 8080, "draining", "Target.DeregistrationInProgress"),
		}, nil, map[string]result{
			instRunning + ":80":    {"unused", "Target.InvalidState", "Target is in the stopped state"},
			instRunning2 + ":8080": {"unused", "Target.InvalidState", "Target is in the terminated state"},
		}},
		{"selected stopped instance", after, nil, []types.TargetDescription{instTarget(instRunning, 80)}, map[string]result{
			instRunning + ":80": {"unused", "Target.InvalidState", "Target is in the stopped state"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.health.set(*arn, tt.live...)
			out := mustT[*elb.DescribeTargetHealthOutput](t)(tt.client.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: arn, Targets: tt.targets}))
			got := map[string]result{}
			for _, d := range out.TargetHealthDescriptions {
				got[*d.Target.Id+":"+itoa(*d.Target.Port)] = result{string(d.TargetHealth.State), string(d.TargetHealth.Reason), aws.ToString(d.TargetHealth.Description)}
				if *d.HealthCheckPort != itoa(*d.Target.Port) {
					t.Errorf("%s: health check port %s", *d.Target.Id, *d.HealthCheckPort)
				}
			}
			if dump(got) != dump(tt.want) {
				t.Fatalf("\n got %v\nwant %v", got, tt.want)
			}
		})
	}
	t.Run("registering a stopped instance after the change", func(t *testing.T) {
		_, err := after.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: arn, Targets: []types.TargetDescription{instTarget(instRunning, 0)}})
		wantCode(t, err, "InvalidTarget", "The following targets are not in a running state and cannot be registered: '"+instRunning+"'")
	})
}

func TestInstanceAt(t *testing.T) {
	s := New(Options{Topology: parseTopology(t)})
	tgA := &apimodel.TargetGroup{Account: accountA, VpcID: vpcA}
	tgB := &apimodel.TargetGroup{Account: accountB, VpcID: vpcB}
	tests := []struct {
		name string
		tg   *apimodel.TargetGroup
		addr string
		want string
	}{
		{"account A's instance", tgA, "10.1.1.21", instRunning},
		{"same address in account B's VPC", tgB, "10.1.1.21", instAccountB},
		{"stopped instances keep their address", tgA, "10.1.2.22", instStopped},
		{"no instance there", tgA, "10.1.1.99", ""},
		{"another VPC's instance", tgA, "10.2.1.21", ""},
		{"not an address", tgA, "i-0aaaaaaaaaaaaaaa1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := s.instanceAt(tt.tg, tt.addr)
			if got != tt.want || ok != (tt.want != "") {
				t.Fatalf("instanceAt(%s) = %q, %v; want %q", tt.addr, got, ok, tt.want)
			}
		})
	}
}
