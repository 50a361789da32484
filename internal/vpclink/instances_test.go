package vpclink

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/config"
)

const (
	inst1 = "i-0aaaaaaaaaaaaaaa1" // vpcA, 127.71.1.21
	inst2 = "i-0aaaaaaaaaaaaaaa2" // vpcA, 127.71.1.22
	inst3 = "i-0aaaaaaaaaaaaaaa3" // vpcA, 127.71.1.23, stopped
	instB = "i-0bbbbbbbbbbbbbbb1" // vpcB (agents), 127.72.1.21
)

// instanceTopology is testTopology with four instances and, when webPort is not 0, an
// instance target group "web" (inst1 on the group's port webPort, inst2 on port2)
// behind a network load balancer "web-nlb" listening on TCP 80.
func instanceTopology(webPort, port2 int) string {
	doc := testTopology + `instances:
  - {id: i-0aaaaaaaaaaaaaaa1, subnet: subnet-0aaaaaaaaaaaaaaa1, privateIp: 127.71.1.21, name: web-1}
  - {id: i-0aaaaaaaaaaaaaaa2, subnet: subnet-0aaaaaaaaaaaaaaa1, privateIp: 127.71.1.22, name: web-2}
  - {id: i-0aaaaaaaaaaaaaaa3, subnet: subnet-0aaaaaaaaaaaaaaa1, privateIp: 127.71.1.23, state: stopped}
  - {id: i-0bbbbbbbbbbbbbbb1, subnet: subnet-0bbbbbbbbbbbbbbb2, privateIp: 127.72.1.21}
`
	if webPort == 0 {
		return doc
	}
	return doc + fmt.Sprintf(`targetGroups:
  - name: web
    vpc: vpc-0aaaaaaaaaaaaaaa1
    protocol: TCP
    port: %d
    targetType: instance
    targets: [{id: i-0aaaaaaaaaaaaaaa1}, {id: i-0aaaaaaaaaaaaaaa2, port: %d}]
    healthCheck: {protocol: HTTP, path: /health, healthyThreshold: 2, unhealthyThreshold: 2}
    deregistrationDelaySeconds: 1
loadBalancers:
  - name: web-nlb
    type: network
    vpc: vpc-0aaaaaaaaaaaaaaa1
    listeners: [{port: 80, protocol: TCP, defaultTargetGroup: web}]
`, webPort, port2)
}

func TestInstanceSetResolve(t *testing.T) {
	topo := parseTopology(t, instanceTopology(0, 0))
	set, err := newInstanceSet(topo, topo.Instances)
	if err != nil {
		t.Fatal(err)
	}
	reg := func(id string, port int) apimodel.TargetRegistration {
		return apimodel.TargetRegistration{TargetDescription: apimodel.TargetDescription{ID: id, Port: port}}
	}
	tests := []struct {
		name string
		vpc  string
		regs []apimodel.TargetRegistration
		want []apimodel.TargetRegistration
	}{
		{"running instance, group port", vpcA, []apimodel.TargetRegistration{reg(inst1, 0)}, []apimodel.TargetRegistration{reg("127.71.1.21", 0)}},
		{"registration port kept", vpcA, []apimodel.TargetRegistration{reg(inst2, 8081)}, []apimodel.TargetRegistration{reg("127.71.1.22", 8081)}},
		{"one instance on two ports", vpcA, []apimodel.TargetRegistration{reg(inst1, 80), reg(inst1, 81)},
			[]apimodel.TargetRegistration{reg("127.71.1.21", 80), reg("127.71.1.21", 81)}},
		{"stopped instance left out", vpcA, []apimodel.TargetRegistration{reg(inst3, 0), reg(inst1, 0)}, []apimodel.TargetRegistration{reg("127.71.1.21", 0)}},
		{"unknown instance left out", vpcA, []apimodel.TargetRegistration{reg("i-0123456789abcdef0", 0)}, []apimodel.TargetRegistration{}},
		{"instance of another VPC left out", vpcA, []apimodel.TargetRegistration{reg(instB, 0)}, []apimodel.TargetRegistration{}},
		{"instance of the group's VPC", vpcB, []apimodel.TargetRegistration{reg(instB, 9000)}, []apimodel.TargetRegistration{reg("127.72.1.21", 9000)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := apimodel.TargetGroup{TargetGroupArn: "arn:tg", VpcID: tt.vpc, TargetType: apimodel.TargetTypeInstance, Port: 80, Targets: tt.regs}
			regs := slices.Clone(tt.regs)
			got := set.resolve(in)
			if !slices.Equal(got.Targets, tt.want) {
				t.Fatalf("targets %+v, want %+v", got.Targets, tt.want)
			}
			if !slices.Equal(in.Targets, regs) {
				t.Fatal("resolve modified the document's targets")
			}
			if got.TargetGroupArn != in.TargetGroupArn || got.Port != 80 || got.TargetType != apimodel.TargetTypeInstance {
				t.Fatalf("group %+v", got)
			}
		})
	}
}

func TestNewInstanceSetErrors(t *testing.T) {
	topo := parseTopology(t, instanceTopology(0, 0))
	ok := topo.Instances[0]
	tests := []struct {
		name    string
		in      config.Instance
		wantErr string
	}{
		{"duplicate id", ok, "instance i-0aaaaaaaaaaaaaaa1: duplicate id"},
		{"unknown subnet", config.Instance{ID: "i-0aaaaaaaaaaaaaaa9", Subnet: "subnet-0123456789abcdef0", PrivateIP: ok.PrivateIP}, `unknown subnet "subnet-0123456789abcdef0"`},
		{"no address", config.Instance{ID: "i-0aaaaaaaaaaaaaaa9", Subnet: ok.Subnet}, "no private IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := newInstanceSet(topo, []config.Instance{ok, tt.in})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err %v, want %q", err, tt.wantErr)
			}
			// The bad instance is left out, the good one kept.
			if len(set.byID) != 1 || set.byID[ok.ID].ip != ok.PrivateIP || !set.byID[ok.ID].running {
				t.Fatalf("set %+v", set.byID)
			}
		})
	}
}

func TestTopologyInstanceTargetGroup(t *testing.T) {
	topo := parseTopology(t, instanceTopology(8080, 8081))
	docs := TopologyDocuments(topo)
	if len(docs.TargetGroups) != 1 {
		t.Fatalf("target groups %+v", docs.TargetGroups)
	}
	tg := docs.TargetGroups[0]
	want := []apimodel.TargetRegistration{
		{TargetDescription: apimodel.TargetDescription{ID: inst1}},
		{TargetDescription: apimodel.TargetDescription{ID: inst2, Port: 8081}},
	}
	if tg.TargetType != apimodel.TargetTypeInstance || !slices.Equal(tg.Targets, want) {
		t.Fatalf("target group %s targets %+v", tg.TargetType, tg.Targets)
	}
}

// TestInstanceTargetsThroughNLB: a network load balancer forwards to an instance target
// group of two instances on two loopback addresses; stopping one (a topology change)
// takes it out of rotation, starting it again puts it back.
func TestInstanceTargetsThroughNLB(t *testing.T) {
	leakCheck(t)
	b1 := startBackend(t, "127.71.1.21", "web-1")
	b2 := startBackend(t, "127.71.1.22", "web-2")
	e := newEnv(t, instanceTopology(int(b1.addr.Port()), int(b2.addr.Port())), nil)
	nlb := &e.topo.LoadBalancers[0]
	tgArn := e.topo.TargetGroupARN(&e.topo.TargetGroups[0])
	e.update(Documents{Links: []apimodel.VpcLinkRecord{linkV1(acct1, "weblink", e.topo.LoadBalancerARN(nlb))}})

	waitFor(t, "both instances healthy", func() bool {
		return targetState(e.m, tgArn, b1.addr) == "healthy" && targetState(e.m, tgArn, b2.addr) == "healthy"
	})
	if hs := e.m.TargetHealth(tgArn); len(hs) != 2 {
		t.Fatalf("target health %+v", hs)
	}
	ctx := context.Background()
	send := func(t *testing.T, n int) {
		t.Helper()
		r := e.resolve(acct1, "weblink", "", "http://web.internal")
		for i := range n {
			body, err := get(ctx, r, TLSOptions{}, "http://web.internal/page")
			if err != nil || !strings.HasPrefix(body, "web-") {
				t.Fatalf("request %d: %q, %v", i, body, err)
			}
		}
	}

	t.Run("both instances serve", func(t *testing.T) {
		h1, h2 := b1.hits.Load(), b2.hits.Load()
		send(t, 20)
		if d1, d2 := b1.hits.Load()-h1, b2.hits.Load()-h2; d1 != 10 || d2 != 10 {
			t.Fatalf("web-1 %d, web-2 %d requests; want 10 each", d1, d2)
		}
	})
	t.Run("a stopped instance leaves rotation", func(t *testing.T) {
		stopped := slices.Clone(e.topo.Instances)
		stopped[1].State = config.InstanceStopped // inst2
		if err := e.m.SetInstances(stopped); err != nil {
			t.Fatal(err)
		}
		if s := targetState(e.m, tgArn, b2.addr); s != "draining" && s != "absent" {
			t.Fatalf("stopped instance's target is %q", s)
		}
		h1, h2 := b1.hits.Load(), b2.hits.Load()
		send(t, 10)
		if d1, d2 := b1.hits.Load()-h1, b2.hits.Load()-h2; d1 != 10 || d2 != 0 {
			t.Fatalf("web-1 %d, web-2 %d requests; want 10 and 0", d1, d2)
		}
		waitFor(t, "the stopped instance's target gone", func() bool { return targetState(e.m, tgArn, b2.addr) == "absent" })
		if s := targetState(e.m, tgArn, b1.addr); s != "healthy" {
			t.Fatalf("running instance %q", s)
		}
	})
	t.Run("a started instance rejoins", func(t *testing.T) {
		if err := e.m.SetInstances(e.topo.Instances); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the started instance healthy", func() bool { return targetState(e.m, tgArn, b2.addr) == "healthy" })
		h2 := b2.hits.Load()
		send(t, 10)
		if b2.hits.Load() == h2 {
			t.Fatal("web-2 served nothing after it started")
		}
	})
	t.Run("stored documents survive an instance change", func(t *testing.T) {
		// SetInstances rebuilds from the last Update's documents: the link stays.
		if err := e.m.SetInstances(e.topo.Instances); err != nil {
			t.Fatal(err)
		}
		send(t, 2)
	})
}

func TestInstanceTargetThroughAgent(t *testing.T) {
	leakCheck(t)
	e := newEnv(t, instanceTopology(0, 0), nil)
	b := startBackend(t, "127.72.1.21", "private-instance")
	docs := agentDocs(acct1, vpcB, "ilink")
	docs.TargetGroups[0].TargetType = apimodel.TargetTypeInstance
	docs.TargetGroups[0].Targets = []apimodel.TargetRegistration{
		{TargetDescription: apimodel.TargetDescription{ID: instB, Port: int(b.addr.Port())}},
	}
	e.update(docs)
	tgArn := docs.TargetGroups[0].TargetGroupArn
	if s := targetState(e.m, tgArn, b.addr); s != "unavailable" {
		t.Fatalf("instance target %q, want unavailable (checks off)", s)
	}
	a := e.startAgent(tokenB, "agent-1", nil)
	a.waitJoined(t)
	waitFor(t, "agent registered", func() bool { return len(e.m.Agents(vpcB)) == 1 })
	r := e.resolve(acct1, "ilink", "", "http://nlb.internal")
	body, err := get(context.Background(), r, TLSOptions{}, "http://nlb.internal/x")
	if err != nil || !strings.HasPrefix(body, "private-instance GET /x") {
		t.Fatalf("through the agent: %q, %v", body, err)
	}

	// Stopped: no targets left.
	stopped := slices.Clone(e.topo.Instances)
	stopped[3].State = config.InstanceStopped // instB
	if err := e.m.SetInstances(stopped); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "target gone", func() bool { return targetState(e.m, tgArn, b.addr) == "absent" })
	_, err = get(context.Background(), e.resolve(acct1, "ilink", "", "http://nlb.internal"), TLSOptions{}, "http://nlb.internal/x")
	if err == nil {
		t.Fatal("a request reached a stopped instance")
	}
}

func TestSetInstancesErrors(t *testing.T) {
	e := newEnv(t, instanceTopology(0, 0), nil)
	bad := append(slices.Clone(e.topo.Instances), config.Instance{ID: "i-0aaaaaaaaaaaaaaa9", Subnet: "subnet-0123456789abcdef0",
		PrivateIP: netip.MustParseAddr("127.71.1.99"), State: config.InstanceRunning})
	if err := e.m.SetInstances(bad); err == nil || !strings.Contains(err.Error(), "i-0aaaaaaaaaaaaaaa9: unknown subnet") {
		t.Fatalf("SetInstances: %v", err)
	}
	e.m.Close()
	if err := e.m.SetInstances(e.topo.Instances); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}
