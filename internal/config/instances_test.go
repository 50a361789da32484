package config

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// instancesYAML adds subnets to baseYAML's VPCs, three instances and an instance target
// group.
func instancesYAML(tb testing.TB) string {
	tb.Helper()
	return edit(tb,
		"    cidr: 127.10.0.0/16\n", "    cidr: 127.10.0.0/16\n    subnets:\n      - {id: subnet-0aaaaaaaaaaaaaaa1, cidr: 127.10.1.0/24}\n      - {id: subnet-0aaaaaaaaaaaaaaa2, cidr: 127.10.2.0/24}\n",
		"    cidr: 127.20.0.0/16\n", "    cidr: 127.20.0.0/16\n    subnets: [{id: subnet-0bbbbbbbbbbbbbbb1, cidr: 127.20.1.0/24}]\n",
	) + `instances:
  - {id: i-0aaaaaaaaaaaaaaa1, subnet: subnet-0aaaaaaaaaaaaaaa1, privateIp: 127.10.1.21, name: web-1}
  - {id: i-0aaaaaaaaaaaaaaa2, subnet: subnet-0aaaaaaaaaaaaaaa2, privateIp: 127.10.2.22, state: stopped}
  - {id: i-0bbbbbbb, subnet: subnet-0bbbbbbbbbbbbbbb1, privateIp: 127.20.1.21}
targetGroups:
  - name: web
    vpc: vpc-0aaaaaaaaaaaaaaa1
    protocol: TCP
    port: 8080
    targetType: instance
    targets: [{id: i-0aaaaaaaaaaaaaaa1}, {id: i-0aaaaaaaaaaaaaaa2, port: 8081}, {id: i-0aaaaaaaaaaaaaaa1, port: 8082}]
`
}

func TestParseInstances(t *testing.T) {
	topo, err := Parse([]byte(instancesYAML(t)))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := []Instance{
		{ID: "i-0aaaaaaaaaaaaaaa1", Subnet: "subnet-0aaaaaaaaaaaaaaa1", PrivateIP: netip.MustParseAddr("127.10.1.21"), State: InstanceRunning, Name: "web-1"},
		{ID: "i-0aaaaaaaaaaaaaaa2", Subnet: "subnet-0aaaaaaaaaaaaaaa2", PrivateIP: netip.MustParseAddr("127.10.2.22"), State: InstanceStopped},
		{ID: "i-0bbbbbbb", Subnet: "subnet-0bbbbbbbbbbbbbbb1", PrivateIP: netip.MustParseAddr("127.20.1.21"), State: InstanceRunning},
	}
	if !reflect.DeepEqual(topo.Instances, want) {
		t.Errorf("instances:\n got %+v\nwant %+v", topo.Instances, want)
	}
	tg := topo.TargetGroups[0]
	wantTargets := []TargetSpec{{InstanceID: "i-0aaaaaaaaaaaaaaa1"}, {InstanceID: "i-0aaaaaaaaaaaaaaa2", Port: 8081}, {InstanceID: "i-0aaaaaaaaaaaaaaa1", Port: 8082}}
	if tg.TargetType != TargetTypeInstance || !reflect.DeepEqual(tg.Targets, wantTargets) {
		t.Errorf("target group %s targets %+v", tg.TargetType, tg.Targets)
	}

	lookups := []struct {
		name, id   string
		ok         bool
		vpc, state string
	}{
		{"running", "i-0aaaaaaaaaaaaaaa1", true, "vpc-0aaaaaaaaaaaaaaa1", InstanceRunning},
		{"stopped", "i-0aaaaaaaaaaaaaaa2", true, "vpc-0aaaaaaaaaaaaaaa1", InstanceStopped},
		{"short id, other account", "i-0bbbbbbb", true, "vpc-0bbbbbbbbbbbbbbb2", InstanceRunning},
		{"unknown", "i-0123456789abcdef0", false, "", ""},
	}
	for _, tt := range lookups {
		t.Run(tt.name, func(t *testing.T) {
			in, ok := topo.Instance(tt.id)
			if ok != tt.ok {
				t.Fatalf("Instance(%q) ok = %v", tt.id, ok)
			}
			if !ok {
				return
			}
			v, sn, ok := topo.FindSubnet(in.Subnet)
			if !ok || v.ID != tt.vpc || sn.ID != in.Subnet || !sn.CIDR.Contains(in.PrivateIP) || in.State != tt.state {
				t.Fatalf("instance %+v: vpc %v subnet %v ok %v", in, v, sn, ok)
			}
		})
	}
	if _, _, ok := topo.FindSubnet("subnet-00000000"); ok {
		t.Error("FindSubnet found an unknown subnet")
	}
}

func TestParseInstanceErrors(t *testing.T) {
	base := instancesYAML(t)
	// inst replaces the first instance.
	inst := func(s string) string {
		return strings.Replace(base, "  - {id: i-0aaaaaaaaaaaaaaa1, subnet: subnet-0aaaaaaaaaaaaaaa1, privateIp: 127.10.1.21, name: web-1}\n", "  - "+s+"\n", 1)
	}
	// targets replaces the instance target group's targets.
	targets := func(s string) string {
		return strings.Replace(base, "    targets: [{id: i-0aaaaaaaaaaaaaaa1}, {id: i-0aaaaaaaaaaaaaaa2, port: 8081}, {id: i-0aaaaaaaaaaaaaaa1, port: 8082}]\n", "    targets: "+s+"\n", 1)
	}
	long := strings.Repeat("x", 257)
	tests := []struct {
		name, yaml, path, msg string
	}{
		{"id required", inst(`{subnet: subnet-0aaaaaaaaaaaaaaa1, privateIp: 127.10.1.21}`), "instances[0].id", "required"},
		{"bad id", inst(`{id: i-XYZ, subnet: subnet-0aaaaaaaaaaaaaaa1, privateIp: 127.10.1.21}`), "instances[0].id", `"i-XYZ" is not an instance id`},
		{"duplicate id", inst(`{id: i-0aaaaaaaaaaaaaaa2, subnet: subnet-0aaaaaaaaaaaaaaa1, privateIp: 127.10.1.21}`), "instances[1].id", `duplicate instance id "i-0aaaaaaaaaaaaaaa2" (also instances[0].id)`},
		{"subnet required", inst(`{id: i-0aaaaaaaaaaaaaaa1, privateIp: 127.10.1.21}`), "instances[0].subnet", "required"},
		{"unknown subnet", inst(`{id: i-0aaaaaaaaaaaaaaa1, subnet: subnet-0ccccccccccccccc1, privateIp: 127.10.1.21}`), "instances[0].subnet", `unknown subnet "subnet-0ccccccccccccccc1"`},
		{"subnet in two VPCs", strings.Replace(base, "subnets: [{id: subnet-0bbbbbbbbbbbbbbb1,", "subnets: [{id: subnet-0aaaaaaaaaaaaaaa1,", 1), "instances[0].subnet",
			`subnet "subnet-0aaaaaaaaaaaaaaa1" is listed in more than one VPC`},
		{"ip required", inst(`{id: i-0aaaaaaaaaaaaaaa1, subnet: subnet-0aaaaaaaaaaaaaaa1}`), "instances[0].privateIp", "required"},
		{"ip null", inst(`{id: i-0aaaaaaaaaaaaaaa1, subnet: subnet-0aaaaaaaaaaaaaaa1, privateIp: ~}`), "instances[0].privateIp", "want an IP address, got null"},
		{"ip malformed", inst(`{id: i-0aaaaaaaaaaaaaaa1, subnet: subnet-0aaaaaaaaaaaaaaa1, privateIp: 127.10.1}`), "instances[0].privateIp", `invalid IP address "127.10.1"`},
		{"ip outside the subnet", inst(`{id: i-0aaaaaaaaaaaaaaa1, subnet: subnet-0aaaaaaaaaaaaaaa1, privateIp: 127.10.2.21}`), "instances[0].privateIp", "127.10.2.21 is not inside subnet subnet-0aaaaaaaaaaaaaaa1's cidr 127.10.1.0/24"},
		{"ipv6", inst(`{id: i-0aaaaaaaaaaaaaaa1, subnet: subnet-0aaaaaaaaaaaaaaa1, privateIp: "::1"}`), "instances[0].privateIp", "::1 is not an IPv4 address"},
		{"ip taken in the VPC", inst(`{id: i-0aaaaaaaaaaaaaaa1, subnet: subnet-0aaaaaaaaaaaaaaa2, privateIp: 127.10.2.22}`), "instances[1].privateIp", "127.10.2.22 is already the address of instances[0] in vpc-0aaaaaaaaaaaaaaa1"},
		{"state", inst(`{id: i-0aaaaaaaaaaaaaaa1, subnet: subnet-0aaaaaaaaaaaaaaa1, privateIp: 127.10.1.21, state: terminated}`), "instances[0].state", `"terminated" is not running or stopped`},
		{"name too long", inst(`{id: i-0aaaaaaaaaaaaaaa1, subnet: subnet-0aaaaaaaaaaaaaaa1, privateIp: 127.10.1.21, name: ` + long + `}`), "instances[0].name", "at most 256 characters"},
		{"unknown key", inst(`{id: i-0aaaaaaaaaaaaaaa1, subnet: subnet-0aaaaaaaaaaaaaaa1, privateIp: 127.10.1.21, privateIP: 127.10.1.22}`), "instances[0].privateIP", `unknown key (did you mean "privateIp"?)`},
		{"not a list", baseYAML + "instances: {id: i-0aaaaaaaaaaaaaaa1}\n", "instances", "want a list, got a mapping"},
		{"unknown instance target", targets(`[{id: i-0ffffffffffffffff}]`), "targetGroups[0].targets[0].id", `unknown instance "i-0ffffffffffffffff"`},
		{"instance of another VPC", targets(`[{id: i-0bbbbbbb}]`), "targetGroups[0].targets[0].id", `instance "i-0bbbbbbb" is in vpc-0bbbbbbbbbbbbbbb2, not in the target group's VPC vpc-0aaaaaaaaaaaaaaa1`},
		{"malformed instance target", targets(`[{id: i-123}]`), "targetGroups[0].targets[0].id", `"i-123" is not an instance id`},
		{"IP in an instance group", targets(`[{id: 127.10.1.21}]`), "targetGroups[0].targets[0].id", "127.10.1.21 is an IP address; the targets of an instance target group are instance ids"},
		{"instance target without id", targets(`[{port: 80}]`), "targetGroups[0].targets[0].id", "required"},
		{"duplicate instance target", targets(`[{id: i-0aaaaaaaaaaaaaaa1}, {id: i-0aaaaaaaaaaaaaaa1, port: 8080}]`), "targetGroups[0].targets[1]", "duplicate target i-0aaaaaaaaaaaaaaa1:8080 (also targetGroups[0].targets[0])"},
		{"instance in an ip group", strings.Replace(targets(`[{id: i-0aaaaaaaaaaaaaaa1}]`), "targetType: instance", "targetType: ip", 1), "targetGroups[0].targets[0].id", `"i-0aaaaaaaaaaaaaaa1" is an instance id; the targets of an ip target group are IP addresses`},
		{"neither IP nor instance", targets(`[{id: web-1}]`), "targetGroups[0].targets[0].id", `invalid IP address "web-1" (or instance id i-...)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil {
				t.Fatalf("Parse succeeded, want %s: %s", tt.path, tt.msg)
			}
			checkFieldErrors(t, err)
			if !hasError(err, tt.path, tt.msg) {
				t.Fatalf("error %q\ndoes not contain %s: %s", err, tt.path, tt.msg)
			}
		})
	}
}

func TestValidateHandBuiltInstances(t *testing.T) {
	topo, err := Parse([]byte(instancesYAML(t)))
	if err != nil {
		t.Fatal(err)
	}
	// A hand-built instance gets no defaults: an empty state is invalid.
	topo.Instances = append(topo.Instances, Instance{ID: "i-0aaaaaaaaaaaaaaa9", Subnet: "subnet-0aaaaaaaaaaaaaaa1", PrivateIP: netip.MustParseAddr("127.10.1.99")})
	err = topo.Validate()
	if err == nil || !hasError(err, "instances[3].state", `"" is not running or stopped`) {
		t.Fatalf("Validate: %v", err)
	}
}

// FuzzParseInstances runs Parse on topologies with instances and instance targets.
func FuzzParseInstances(f *testing.F) {
	f.Add([]byte(instancesYAML(f)))
	f.Add([]byte(baseYAML + "instances: [{id: i-0aaaaaaaaaaaaaaa1, subnet: subnet-x, privateIp: 127.10.1.1, state: stopped}]\n"))
	f.Add([]byte(baseYAML + "targetGroups: [{name: t, vpc: vpc-0aaaaaaaaaaaaaaa1, protocol: TCP, port: 1, targetType: instance, targets: [{id: i-}, {id: ~}, {id: 127.10.0.1}]}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		topo, err := Parse(data)
		if err != nil {
			checkFieldErrors(t, err)
			return
		}
		if err := topo.Validate(); err != nil {
			t.Fatalf("Parse accepted a topology that Validate rejects: %v", err)
		}
		for _, in := range topo.Instances {
			_, sn, ok := topo.FindSubnet(in.Subnet)
			if !ok || !sn.CIDR.Contains(in.PrivateIP) {
				t.Fatalf("accepted instance %+v outside its subnet", in)
			}
		}
		for _, tg := range topo.TargetGroups {
			for _, s := range tg.Targets {
				if (tg.TargetType == TargetTypeInstance) != (s.InstanceID != "") {
					t.Fatalf("target group %s (%s) accepted target %+v", tg.Name, tg.TargetType, s)
				}
				if s.InstanceID != "" {
					in, ok := topo.Instance(s.InstanceID)
					if !ok {
						t.Fatalf("accepted unknown instance %s", s.InstanceID)
					}
					if v, _, _ := topo.FindSubnet(in.Subnet); v.ID != tg.VPC {
						t.Fatalf("accepted instance %s of %s in a group of %s", in.ID, v.ID, tg.VPC)
					}
				}
			}
		}
	})
}
