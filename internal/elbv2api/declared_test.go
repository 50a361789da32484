package elbv2api

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/config"
)

// declaredYAML declares, in account A's vpcA, a network load balancer with a TCP
// listener, an application load balancer with an HTTP listener and a path rule, and
// the two target groups they forward to. extraTGs is appended to targetGroups.
func declaredYAML(extraTGs string) string {
	return topology + `
targetGroups:
  - name: topo-tcp
    vpc: vpc-0aaaaaaaaaaaaaaa1
    protocol: TCP
    port: 9000
    targets: [{id: 10.1.1.30}, {id: 10.1.2.31, port: 9001}]
  - name: topo-web
    vpc: vpc-0aaaaaaaaaaaaaaa1
    protocol: HTTP
    port: 8080
    targets: [{id: 10.1.1.40}]
    healthCheck: {path: /healthz, intervalSeconds: 10, matcher: "200-299"}
    deregistrationDelaySeconds: 30
` + extraTGs + `
loadBalancers:
  - name: topo-nlb
    type: network
    vpc: vpc-0aaaaaaaaaaaaaaa1
    subnets: [subnet-0aaaaaaaaaaaaaaa1]
    listeners:
      - {port: 7000, protocol: TCP, defaultTargetGroup: topo-tcp}
  - name: topo-alb
    type: application
    vpc: vpc-0aaaaaaaaaaaaaaa1
    subnets: [subnet-0aaaaaaaaaaaaaaa1, subnet-0aaaaaaaaaaaaaaa2]
    listeners:
      - port: 80
        protocol: HTTP
        defaultTargetGroup: topo-web
        rules:
          - {priority: 10, pathPatterns: ["/v2/*"], targetGroup: topo-web}
`
}

// declaredARNs are the ARNs config.Topology computes for declaredYAML's objects.
type declaredARNs struct {
	nlb, alb, nlbListener, albListener, albRule, tcpTG, webTG string
}

func newDeclaredEnv(t *testing.T, extraTGs string) (*env, *config.Topology, declaredARNs) {
	t.Helper()
	topo, err := config.Parse([]byte(declaredYAML(extraTGs)))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(o *Options) { o.Topology = topo })
	nlb, alb := &topo.LoadBalancers[0], &topo.LoadBalancers[1]
	tcp, _ := topo.TargetGroup(accountA, "topo-tcp")
	web, _ := topo.TargetGroup(accountA, "topo-web")
	return e, topo, declaredARNs{
		nlb: topo.LoadBalancerARN(nlb), alb: topo.LoadBalancerARN(alb),
		nlbListener: topo.ListenerARN(nlb, &nlb.Listeners[0]), albListener: topo.ListenerARN(alb, &alb.Listeners[0]),
		albRule: topo.ListenerRuleARN(alb, &alb.Listeners[0], 0),
		tcpTG:   topo.TargetGroupARN(tcp), webTG: topo.TargetGroupARN(web),
	}
}

func lbNames(lbs []types.LoadBalancer) []string {
	var out []string
	for _, lb := range lbs {
		out = append(out, *lb.LoadBalancerName)
	}
	return out
}

func tgNames(tgs []types.TargetGroup) []string {
	var out []string
	for _, tg := range tgs {
		out = append(out, *tg.TargetGroupName)
	}
	return out
}

func TestDeclaredDescribe(t *testing.T) {
	e, _, arn := newDeclaredEnv(t, "")
	ctx := ctxT(t)
	// Stored objects next to the declared ones.
	stored := e.nlb(t, "my-nlb")
	storedTG := e.tg(t, "my-tg", types.ProtocolEnumTcp, 80)
	storedL := mustT[*elb.CreateListenerOutput](t)(e.a.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: stored.LoadBalancerArn,
		Protocol: "TCP", Port: aws.Int32(80), DefaultActions: forward(*storedTG.TargetGroupArn)})).Listeners[0]

	t.Run("load balancers", func(t *testing.T) {
		tests := []struct {
			name string
			in   elb.DescribeLoadBalancersInput
			want []string
		}{
			{"all", elb.DescribeLoadBalancersInput{}, []string{"my-nlb", "topo-alb", "topo-nlb"}},
			{"by names", elb.DescribeLoadBalancersInput{Names: []string{"topo-nlb", "my-nlb"}}, []string{"topo-nlb", "my-nlb"}},
			{"by ARNs", elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{arn.alb, *stored.LoadBalancerArn, arn.nlb}},
				[]string{"topo-alb", "my-nlb", "topo-nlb"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				out := mustT[*elb.DescribeLoadBalancersOutput](t)(e.a.DescribeLoadBalancers(ctx, &tt.in))
				if got := lbNames(out.LoadBalancers); !slices.Equal(got, tt.want) {
					t.Errorf("got %v, want %v", got, tt.want)
				}
			})
		}
	})
	t.Run("load balancer fields", func(t *testing.T) {
		out := mustT[*elb.DescribeLoadBalancersOutput](t)(e.a.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{Names: []string{"topo-nlb", "topo-alb"}}))
		nlb, alb := out.LoadBalancers[0], out.LoadBalancers[1]
		if *nlb.LoadBalancerArn != arn.nlb || nlb.Type != types.LoadBalancerTypeEnumNetwork || nlb.Scheme != types.LoadBalancerSchemeEnumInternal ||
			*nlb.VpcId != vpcA || nlb.State.Code != types.LoadBalancerStateEnumActive || *nlb.CanonicalHostedZoneId != "Z26RNL4JYFTOTI" ||
			nlb.CreatedTime == nil || !strings.HasPrefix(*nlb.DNSName, "topo-nlb-") {
			t.Errorf("NLB %s", dump(nlb))
		}
		if len(nlb.AvailabilityZones) != 1 || *nlb.AvailabilityZones[0].SubnetId != subnetA1 || *nlb.AvailabilityZones[0].ZoneName != "us-east-1a" {
			t.Errorf("NLB zones %s", dump(nlb.AvailabilityZones))
		}
		if *alb.LoadBalancerArn != arn.alb || alb.Type != types.LoadBalancerTypeEnumApplication || *alb.CanonicalHostedZoneId != "Z35SXDOTRQ7X7K" ||
			len(alb.AvailabilityZones) != 2 || *alb.AvailabilityZones[1].ZoneName != "us-east-1b" || !strings.HasPrefix(*alb.DNSName, "internal-topo-alb-") {
			t.Errorf("ALB %s", dump(alb))
		}
	})
	t.Run("load balancer pages", func(t *testing.T) {
		var got []string
		var marker *string
		for range 4 {
			out := mustT[*elb.DescribeLoadBalancersOutput](t)(e.a.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{PageSize: aws.Int32(2), Marker: marker}))
			got = append(got, lbNames(out.LoadBalancers)...)
			if marker = out.NextMarker; marker == nil {
				break
			}
		}
		if want := []string{"my-nlb", "topo-alb", "topo-nlb"}; !slices.Equal(got, want) {
			t.Errorf("pages gave %v, want %v", got, want)
		}
	})

	t.Run("target groups", func(t *testing.T) {
		tests := []struct {
			name string
			in   elb.DescribeTargetGroupsInput
			want []string
		}{
			{"all", elb.DescribeTargetGroupsInput{}, []string{"my-tg", "topo-tcp", "topo-web"}},
			{"by names", elb.DescribeTargetGroupsInput{Names: []string{"topo-web", "my-tg"}}, []string{"topo-web", "my-tg"}},
			{"by ARNs", elb.DescribeTargetGroupsInput{TargetGroupArns: []string{arn.tcpTG, *storedTG.TargetGroupArn}}, []string{"topo-tcp", "my-tg"}},
			{"by declared NLB", elb.DescribeTargetGroupsInput{LoadBalancerArn: aws.String(arn.nlb)}, []string{"topo-tcp"}},
			{"by declared ALB", elb.DescribeTargetGroupsInput{LoadBalancerArn: aws.String(arn.alb)}, []string{"topo-web"}},
			{"by stored NLB", elb.DescribeTargetGroupsInput{LoadBalancerArn: stored.LoadBalancerArn}, []string{"my-tg"}},
			{"page 2 of size 2", elb.DescribeTargetGroupsInput{PageSize: aws.Int32(2), Marker: aws.String("2")}, []string{"topo-web"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				out := mustT[*elb.DescribeTargetGroupsOutput](t)(e.a.DescribeTargetGroups(ctx, &tt.in))
				if got := tgNames(out.TargetGroups); !slices.Equal(got, tt.want) {
					t.Errorf("got %v, want %v", got, tt.want)
				}
			})
		}
	})
	t.Run("target group fields", func(t *testing.T) {
		out := mustT[*elb.DescribeTargetGroupsOutput](t)(e.a.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{Names: []string{"topo-tcp", "topo-web"}}))
		tcp, web := out.TargetGroups[0], out.TargetGroups[1]
		if *tcp.TargetGroupArn != arn.tcpTG || tcp.Protocol != "TCP" || *tcp.Port != 9000 || *tcp.VpcId != vpcA || tcp.TargetType != "ip" ||
			tcp.HealthCheckProtocol != "TCP" || *tcp.HealthCheckPort != "traffic-port" || !*tcp.HealthCheckEnabled || tcp.HealthCheckPath != nil ||
			*tcp.HealthCheckIntervalSeconds != 30 || *tcp.HealthCheckTimeoutSeconds != 10 || *tcp.HealthyThresholdCount != 5 ||
			*tcp.UnhealthyThresholdCount != 2 || tcp.Matcher != nil || !slices.Equal(tcp.LoadBalancerArns, []string{arn.nlb}) {
			t.Errorf("topo-tcp %s", dump(tcp))
		}
		if *web.TargetGroupArn != arn.webTG || web.HealthCheckProtocol != "HTTP" || *web.HealthCheckPath != "/healthz" ||
			*web.HealthCheckIntervalSeconds != 10 || *web.HealthCheckTimeoutSeconds != 5 || *web.Matcher.HttpCode != "200-299" ||
			*web.ProtocolVersion != "HTTP1" || !slices.Equal(web.LoadBalancerArns, []string{arn.alb}) {
			t.Errorf("topo-web %s", dump(web))
		}
	})

	t.Run("listeners", func(t *testing.T) {
		tests := []struct {
			name string
			in   elb.DescribeListenersInput
			want []string
		}{
			{"by declared NLB", elb.DescribeListenersInput{LoadBalancerArn: aws.String(arn.nlb)}, []string{arn.nlbListener}},
			{"by declared ALB", elb.DescribeListenersInput{LoadBalancerArn: aws.String(arn.alb)}, []string{arn.albListener}},
			{"by ARNs", elb.DescribeListenersInput{ListenerArns: []string{arn.albListener, *storedL.ListenerArn, arn.nlbListener}},
				[]string{arn.albListener, *storedL.ListenerArn, arn.nlbListener}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				out := mustT[*elb.DescribeListenersOutput](t)(e.a.DescribeListeners(ctx, &tt.in))
				var got []string
				for _, l := range out.Listeners {
					got = append(got, *l.ListenerArn)
				}
				if !slices.Equal(got, tt.want) {
					t.Errorf("got %v, want %v", got, tt.want)
				}
			})
		}
		out := mustT[*elb.DescribeListenersOutput](t)(e.a.DescribeListeners(ctx, &elb.DescribeListenersInput{ListenerArns: []string{arn.nlbListener, arn.albListener}}))
		nl, al := out.Listeners[0], out.Listeners[1]
		if *nl.LoadBalancerArn != arn.nlb || *nl.Port != 7000 || nl.Protocol != "TCP" || len(nl.DefaultActions) != 1 ||
			nl.DefaultActions[0].Type != types.ActionTypeEnumForward || *nl.DefaultActions[0].TargetGroupArn != arn.tcpTG {
			t.Errorf("NLB listener %s", dump(nl))
		}
		if *al.LoadBalancerArn != arn.alb || *al.Port != 80 || al.Protocol != "HTTP" || *al.DefaultActions[0].TargetGroupArn != arn.webTG {
			t.Errorf("ALB listener %s", dump(al))
		}
	})

	t.Run("rules", func(t *testing.T) {
		out := mustT[*elb.DescribeRulesOutput](t)(e.a.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: aws.String(arn.albListener)}))
		if len(out.Rules) != 2 {
			t.Fatalf("rules %s", dump(out.Rules))
		}
		r, def := out.Rules[0], out.Rules[1]
		if *r.RuleArn != arn.albRule || *r.Priority != "10" || *r.IsDefault || len(r.Conditions) != 1 || *r.Conditions[0].Field != "path-pattern" ||
			r.Conditions[0].PathPatternConfig.Values[0] != "/v2/*" || *r.Actions[0].TargetGroupArn != arn.webTG {
			t.Errorf("rule %s", dump(r))
		}
		if !*def.IsDefault || *def.Priority != "default" || len(def.Conditions) != 0 || *def.Actions[0].TargetGroupArn != arn.webTG ||
			!strings.HasPrefix(*def.RuleArn, strings.Replace(arn.albListener, ":listener/", ":listener-rule/", 1)+"/") {
			t.Errorf("default rule %s", dump(def))
		}
		byARN := mustT[*elb.DescribeRulesOutput](t)(e.a.DescribeRules(ctx, &elb.DescribeRulesInput{RuleArns: []string{*def.RuleArn, arn.albRule}}))
		if len(byARN.Rules) != 2 || *byARN.Rules[0].RuleArn != *def.RuleArn || *byARN.Rules[1].RuleArn != arn.albRule {
			t.Errorf("by ARNs %s", dump(byARN.Rules))
		}
		nlbRules := mustT[*elb.DescribeRulesOutput](t)(e.a.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: aws.String(arn.nlbListener)}))
		if len(nlbRules.Rules) != 1 || !*nlbRules.Rules[0].IsDefault || *nlbRules.Rules[0].Actions[0].TargetGroupArn != arn.tcpTG {
			t.Errorf("NLB listener rules %s", dump(nlbRules.Rules))
		}
		paged := mustT[*elb.DescribeRulesOutput](t)(e.a.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: aws.String(arn.albListener), PageSize: aws.Int32(1)}))
		if len(paged.Rules) != 1 || *paged.Rules[0].RuleArn != arn.albRule || paged.NextMarker == nil || *paged.NextMarker != "1" {
			t.Errorf("page 1 %s", dump(paged))
		}
	})

	t.Run("other account", func(t *testing.T) {
		lbs := mustT[*elb.DescribeLoadBalancersOutput](t)(e.b.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{}))
		tgs := mustT[*elb.DescribeTargetGroupsOutput](t)(e.b.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{}))
		if len(lbs.LoadBalancers) != 0 || len(tgs.TargetGroups) != 0 {
			t.Errorf("account B sees %v %v", lbNames(lbs.LoadBalancers), tgNames(tgs.TargetGroups))
		}
		_, err := e.b.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{arn.nlb}})
		wantCode(t, err, "LoadBalancerNotFound", "One or more load balancers not found")
		_, err = e.b.DescribeListeners(ctx, &elb.DescribeListenersInput{ListenerArns: []string{arn.nlbListener}})
		wantCode(t, err, "ListenerNotFound", "One or more listeners not found")
		_, err = e.b.DescribeRules(ctx, &elb.DescribeRulesInput{RuleArns: []string{arn.albRule}})
		wantCode(t, err, "RuleNotFound", "One or more rules not found")
		_, err = e.b.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(arn.tcpTG)})
		wantCode(t, err, "TargetGroupNotFound", "Target groups '"+arn.tcpTG+"' not found")
	})
}

func TestDeclaredTargetHealth(t *testing.T) {
	e, _, arn := newDeclaredEnv(t, `  - {name: topo-spare, vpc: vpc-0aaaaaaaaaaaaaaa1, protocol: TCP, port: 9100, targets: [{id: 10.1.1.60}]}`)
	ctx := ctxT(t)
	spare := mustT[*elb.DescribeTargetGroupsOutput](t)(e.a.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{Names: []string{"topo-spare"}})).TargetGroups[0]
	healthy := apimodel.TargetHealth{State: apimodel.TargetHealthHealthy}
	unhealthy := apimodel.TargetHealth{State: apimodel.TargetHealthUnhealthy, Reason: "Target.FailedHealthChecks", Description: "Health checks failed"}
	draining := apimodel.TargetHealth{State: apimodel.TargetHealthDraining, Reason: "Target.DeregistrationInProgress"}
	// The runtime reports topo-tcp's first target healthy and a target it still drains;
	// the second target has no report yet. topo-web's target fails its checks.
	e.health.set(arn.tcpTG,
		apimodel.TargetHealthDescription{Target: apimodel.TargetDescription{ID: "10.1.1.30", Port: 9000}, TargetHealth: healthy},
		apimodel.TargetHealthDescription{Target: apimodel.TargetDescription{ID: "10.1.1.99", Port: 9000}, TargetHealth: draining})
	e.health.set(arn.webTG, apimodel.TargetHealthDescription{Target: apimodel.TargetDescription{ID: "10.1.1.40", Port: 8080}, TargetHealth: unhealthy})

	type th struct {
		id    string
		port  int32
		az    string
		state string
	}
	tests := []struct {
		name    string
		tg      string
		targets []types.TargetDescription
		want    []th
	}{
		{"NLB group", arn.tcpTG, nil, []th{{"10.1.1.30", 9000, "us-east-1a", "healthy"}, {"10.1.2.31", 9001, "us-east-1b", "initial"}, {"10.1.1.99", 9000, "", "draining"}}},
		{"ALB group", arn.webTG, nil, []th{{"10.1.1.40", 8080, "us-east-1a", "unhealthy"}}},
		{"named targets", arn.tcpTG, []types.TargetDescription{{Id: aws.String("10.1.2.31"), Port: aws.Int32(9001)}, {Id: aws.String("10.1.1.77")}},
			[]th{{"10.1.2.31", 9001, "us-east-1b", "initial"}, {"10.1.1.77", 9000, "", "unused"}}},
		{"group no load balancer uses", *spare.TargetGroupArn, nil, []th{{"10.1.1.60", 9100, "us-east-1a", "unused"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := mustT[*elb.DescribeTargetHealthOutput](t)(e.a.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tt.tg), Targets: tt.targets}))
			var got []th
			for _, d := range out.TargetHealthDescriptions {
				got = append(got, th{*d.Target.Id, *d.Target.Port, aws.ToString(d.Target.AvailabilityZone), string(d.TargetHealth.State)})
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDeclaredReadOnly(t *testing.T) {
	e, _, arn := newDeclaredEnv(t, "")
	ctx := ctxT(t)
	rules := mustT[*elb.DescribeRulesOutput](t)(e.a.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: aws.String(arn.albListener)})).Rules
	defaultRule := *rules[1].RuleArn
	pathCond := []types.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/x"}}}
	msg := func(what, arn string) string {
		return what + " '" + arn + "' is declared in gatehouse's topology file and is read-only"
	}
	tests := []struct {
		name string
		call func() error
		msg  string
	}{
		{"DeleteLoadBalancer NLB", func() error {
			_, err := e.a.DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(arn.nlb)})
			return err
		}, msg("Load balancer", arn.nlb)},
		{"DeleteLoadBalancer ALB", func() error {
			_, err := e.a.DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(arn.alb)})
			return err
		}, msg("Load balancer", arn.alb)},
		{"DeleteTargetGroup", func() error {
			_, err := e.a.DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: aws.String(arn.tcpTG)})
			return err
		}, msg("Target group", arn.tcpTG)},
		{"RegisterTargets", func() error {
			_, err := e.a.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(arn.tcpTG), Targets: []types.TargetDescription{{Id: aws.String("10.1.1.50")}}})
			return err
		}, msg("Target group", arn.tcpTG)},
		{"DeregisterTargets", func() error {
			_, err := e.a.DeregisterTargets(ctx, &elb.DeregisterTargetsInput{TargetGroupArn: aws.String(arn.webTG), Targets: []types.TargetDescription{{Id: aws.String("10.1.1.40")}}})
			return err
		}, msg("Target group", arn.webTG)},
		{"CreateListener on the NLB", func() error {
			_, err := e.a.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(arn.nlb), Protocol: "TCP", Port: aws.Int32(7001), DefaultActions: forward(arn.tcpTG)})
			return err
		}, msg("Load balancer", arn.nlb)},
		{"CreateListener on the ALB", func() error {
			_, err := e.a.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(arn.alb), Protocol: "HTTP", Port: aws.Int32(8080), DefaultActions: forward(arn.webTG)})
			return err
		}, msg("Load balancer", arn.alb)},
		{"DeleteListener", func() error {
			_, err := e.a.DeleteListener(ctx, &elb.DeleteListenerInput{ListenerArn: aws.String(arn.nlbListener)})
			return err
		}, msg("Listener", arn.nlbListener)},
		{"CreateRule", func() error {
			_, err := e.a.CreateRule(ctx, &elb.CreateRuleInput{ListenerArn: aws.String(arn.albListener), Priority: aws.Int32(20), Conditions: pathCond, Actions: forward(arn.webTG)})
			return err
		}, msg("Listener", arn.albListener)},
		{"DeleteRule", func() error {
			_, err := e.a.DeleteRule(ctx, &elb.DeleteRuleInput{RuleArn: aws.String(arn.albRule)})
			return err
		}, msg("Rule", arn.albRule)},
		{"DeleteRule default", func() error {
			_, err := e.a.DeleteRule(ctx, &elb.DeleteRuleInput{RuleArn: aws.String(defaultRule)})
			return err
		}, msg("Rule", defaultRule)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, tt.call(), "OperationNotPermitted", tt.msg)
		})
	}

	t.Run("still there", func(t *testing.T) {
		lbs := mustT[*elb.DescribeLoadBalancersOutput](t)(e.a.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{}))
		ls := mustT[*elb.DescribeListenersOutput](t)(e.a.DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: aws.String(arn.nlb)}))
		rs := mustT[*elb.DescribeRulesOutput](t)(e.a.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: aws.String(arn.albListener)}))
		th := mustT[*elb.DescribeTargetHealthOutput](t)(e.a.DescribeTargetHealth(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(arn.tcpTG)}))
		if len(lbs.LoadBalancers) != 2 || len(ls.Listeners) != 1 || len(rs.Rules) != 2 || len(th.TargetHealthDescriptions) != 2 {
			t.Errorf("after refused writes: %d load balancers, %d listeners, %d rules, %d targets",
				len(lbs.LoadBalancers), len(ls.Listeners), len(rs.Rules), len(th.TargetHealthDescriptions))
		}
		entries, err := e.store.List(ctx, apimodel.BucketELB, "")
		if err != nil || len(entries) != 0 {
			t.Errorf("store holds %d documents (%v)", len(entries), err)
		}
	})

	t.Run("other account", func(t *testing.T) {
		// Another account's declared objects name nothing it can see: deletes succeed
		// as for any missing object, other writes do not find them.
		mustT[*elb.DeleteLoadBalancerOutput](t)(e.b.DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(arn.nlb)}))
		mustT[*elb.DeleteTargetGroupOutput](t)(e.b.DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: aws.String(arn.tcpTG)}))
		_, err := e.b.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(arn.tcpTG), Targets: []types.TargetDescription{{Id: aws.String("10.1.1.50")}}})
		wantCode(t, err, "TargetGroupNotFound", "Target groups '"+arn.tcpTG+"' not found")
		_, err = e.b.DeleteListener(ctx, &elb.DeleteListenerInput{ListenerArn: aws.String(arn.nlbListener)})
		wantCode(t, err, "ListenerNotFound", "One or more listeners not found")
		_, err = e.b.DeleteRule(ctx, &elb.DeleteRuleInput{RuleArn: aws.String(arn.albRule)})
		wantCode(t, err, "RuleNotFound", "One or more rules not found")
	})
}

func TestDeclaredNames(t *testing.T) {
	e, _, _ := newDeclaredEnv(t, "")
	ctx := ctxT(t)
	tests := []struct {
		name string
		call func(*elb.Client) error
		code string
		msg  string
	}{
		{"load balancer", func(c *elb.Client) error {
			_, err := c.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("topo-nlb"), Type: "network", Scheme: "internal", Subnets: []string{subnetA1}})
			return err
		}, "DuplicateLoadBalancerName", "A load balancer with the same name 'topo-nlb' exists (declared in gatehouse's topology file)"},
		{"load balancer of the other type", func(c *elb.Client) error {
			_, err := c.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("topo-nlb"), Scheme: "internal", Subnets: []string{subnetA1, subnetA2}})
			return err
		}, "DuplicateLoadBalancerName", "A load balancer with the same name 'topo-nlb' exists (declared in gatehouse's topology file)"},
		{"target group", func(c *elb.Client) error {
			_, err := c.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("topo-tcp"), Protocol: "TCP", Port: aws.Int32(9000), VpcId: aws.String(vpcA), TargetType: "ip"})
			return err
		}, "DuplicateTargetGroupName", "A target group with the same name 'topo-tcp' exists (declared in gatehouse's topology file)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, tt.call(e.a), tt.code, tt.msg)
		})
	}
	t.Run("names are per account", func(t *testing.T) {
		mustT[*elb.CreateLoadBalancerOutput](t)(e.b.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("topo-nlb"), Type: "network", Scheme: "internal", Subnets: []string{subnetB1}}))
		mustT[*elb.CreateTargetGroupOutput](t)(e.b.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("topo-tcp"), Protocol: "TCP", Port: aws.Int32(9000), VpcId: aws.String(vpcB), TargetType: "ip"}))
	})
}

// TestDeclaredTargetGroupForStoredListener: a stored listener may forward to a declared
// target group no declared load balancer uses, and the group then lists it; one a
// declared load balancer uses is taken.
func TestDeclaredTargetGroupForStoredListener(t *testing.T) {
	e, _, arn := newDeclaredEnv(t, `  - {name: topo-spare, vpc: vpc-0aaaaaaaaaaaaaaa1, protocol: TCP, port: 9100}`)
	ctx := ctxT(t)
	spare := mustT[*elb.DescribeTargetGroupsOutput](t)(e.a.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{Names: []string{"topo-spare"}})).TargetGroups[0]
	lb := e.nlb(t, "mine")
	_, err := e.a.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: "TCP", Port: aws.Int32(80), DefaultActions: forward(arn.tcpTG)})
	wantCode(t, err, "TargetGroupAssociationLimit", "The following target groups cannot be associated with more than one load balancer: "+arn.tcpTG)

	l := mustT[*elb.CreateListenerOutput](t)(e.a.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: "TCP",
		Port: aws.Int32(80), DefaultActions: forward(*spare.TargetGroupArn)})).Listeners[0]
	byLB := mustT[*elb.DescribeTargetGroupsOutput](t)(e.a.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{LoadBalancerArn: lb.LoadBalancerArn}))
	if got := tgNames(byLB.TargetGroups); !slices.Equal(got, []string{"topo-spare"}) || !slices.Equal(byLB.TargetGroups[0].LoadBalancerArns, []string{*lb.LoadBalancerArn}) {
		t.Errorf("by stored load balancer: %s", dump(byLB.TargetGroups))
	}
	mustT[*elb.DeleteListenerOutput](t)(e.a.DeleteListener(ctx, &elb.DeleteListenerInput{ListenerArn: l.ListenerArn}))
	after := mustT[*elb.DescribeTargetGroupsOutput](t)(e.a.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{TargetGroupArns: []string{*spare.TargetGroupArn}}))
	if len(after.TargetGroups[0].LoadBalancerArns) != 0 {
		t.Errorf("after the listener's deletion: %s", dump(after.TargetGroups[0]))
	}
	_, err = e.a.DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: spare.TargetGroupArn})
	wantCode(t, err, "OperationNotPermitted", "Target group '"+*spare.TargetGroupArn+"' is declared in gatehouse's topology file and is read-only")
}

func TestDeclaredCLI(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws CLI not installed")
	}
	e, _, arn := newDeclaredEnv(t, "")
	run := func(args ...string) (map[string]any, string, error) {
		t.Helper()
		cmd := exec.Command("aws", append(args, "--endpoint-url", e.urlA, "--output", "json")...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret",
			"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_MAX_ATTEMPTS=1")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			return nil, stderr.String(), err
		}
		var out map[string]any
		if err := json.Unmarshal(stdout.Bytes(), &out); err != nil && stdout.Len() > 0 {
			t.Fatalf("aws %v output %q: %v", args, stdout.String(), err)
		}
		return out, "", nil
	}
	tests := []struct {
		args []string
		key  string
		n    int
	}{
		{[]string{"elbv2", "describe-load-balancers"}, "LoadBalancers", 2},
		{[]string{"elbv2", "describe-target-groups"}, "TargetGroups", 2},
		{[]string{"elbv2", "describe-listeners", "--load-balancer-arn", arn.alb}, "Listeners", 1},
		{[]string{"elbv2", "describe-rules", "--listener-arn", arn.albListener}, "Rules", 2},
		{[]string{"elbv2", "describe-target-health", "--target-group-arn", arn.tcpTG}, "TargetHealthDescriptions", 2},
	}
	for _, tt := range tests {
		t.Run(tt.args[1], func(t *testing.T) {
			out, stderr, err := run(tt.args...)
			if err != nil {
				t.Fatalf("aws %v: %v\n%s", tt.args, err, stderr)
			}
			if list, _ := out[tt.key].([]any); len(list) != tt.n {
				t.Errorf("aws %v: %v", tt.args, out)
			}
		})
	}
	t.Run("delete-load-balancer", func(t *testing.T) {
		_, stderr, err := run("elbv2", "delete-load-balancer", "--load-balancer-arn", arn.nlb)
		if err == nil || !strings.Contains(stderr, "(OperationNotPermitted)") || !strings.Contains(stderr, "read-only") {
			t.Errorf("delete-load-balancer: %v %s", err, stderr)
		}
	})
}
