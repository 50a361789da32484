package config

// EC2 instances in the topology file: the targets of instance target groups, and what
// the EC2 API's DescribeInstances reports. An instance lives in a subnet of a declared
// VPC; its VPC and account follow from the subnet.
//
//	vpcs:
//	  - id: vpc-0aaaaaaaaaaaaaaa1
//	    account: "111111111111"
//	    cidr: 127.10.0.0/16
//	    subnets: [{id: subnet-0aaaaaaaaaaaaaaa1, cidr: 127.10.1.0/24}]
//	instances:
//	  - {id: i-0aaaaaaaaaaaaaaa1, subnet: subnet-0aaaaaaaaaaaaaaa1, privateIp: 127.10.1.21, name: web-1}
//	  - {id: i-0aaaaaaaaaaaaaaa2, subnet: subnet-0aaaaaaaaaaaaaaa1, privateIp: 127.10.1.22, state: stopped}
//	targetGroups:
//	  - {name: web, vpc: vpc-0aaaaaaaaaaaaaaa1, protocol: TCP, port: 8080, targetType: instance,
//	     targets: [{id: i-0aaaaaaaaaaaaaaa1}, {id: i-0aaaaaaaaaaaaaaa2, port: 8081}]}

import (
	"net/netip"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Instance states (Instance.State): the EC2 instance-state-name values the topology
// can declare.
const (
	InstanceRunning = "running"
	InstanceStopped = "stopped"
)

// Instance is an EC2 instance (YAML list instances).
type Instance struct {
	// ID is "i-" followed by 8 or 17 lowercase hex digits, unique in the topology.
	ID string
	// Subnet is the id of the subnet the instance runs in. It must be a subnet of a VPC
	// in vpcs (vpcs[].subnets); the instance belongs to that VPC and its account.
	// Required.
	Subnet string
	// PrivateIP is the instance's primary private IPv4 address: inside the subnet's
	// CIDR and unique within the VPC. Instance targets are reached at this address.
	// Required. YAML key privateIp.
	PrivateIP netip.Addr
	// State is running or stopped. Default running. Stopped instances cannot be
	// registered with target groups, and registered ones receive no traffic.
	State string
	// Name is the instance's Name tag; "" (the default) means none. At most 256
	// characters.
	Name string
}

// Instance returns the EC2 instance with the given id.
func (t *Topology) Instance(id string) (*Instance, bool) {
	for i := range t.Instances {
		if t.Instances[i].ID == id {
			return &t.Instances[i], true
		}
	}
	return nil, false
}

// FindSubnet returns the subnet with the given id and the VPC it belongs to.
func (t *Topology) FindSubnet(id string) (*VPC, *Subnet, bool) {
	for i := range t.VPCs {
		v := &t.VPCs[i]
		for j := range v.Subnets {
			if v.Subnets[j].ID == id {
				return v, &v.Subnets[j], true
			}
		}
	}
	return nil, nil, false
}

// subnetVPCs counts the VPCs listing subnet id.
func (t *Topology) subnetVPCs(id string) int {
	n := 0
	for i := range t.VPCs {
		if t.VPCs[i].hasSubnet(id) {
			n++
		}
	}
	return n
}

// instanceFields are the top-level keys of this file.
func (d *decoder) instanceFields(t *Topology) []fieldDecoder {
	return []fieldDecoder{
		{"instances", func(n *yaml.Node, path string) {
			d.list(n, path, func(n *yaml.Node, path string) {
				t.Instances = append(t.Instances, d.instance(n, path))
			})
		}},
	}
}

func (d *decoder) instance(n *yaml.Node, path string) Instance {
	in := Instance{State: InstanceRunning}
	d.object(n, path, []fieldDecoder{
		{"id", d.str(&in.ID)},
		{"subnet", d.str(&in.Subnet)},
		{"privateIp", func(n *yaml.Node, path string) { in.PrivateIP = d.addr(n, path) }},
		{"state", d.str(&in.State)},
		{"name", d.str(&in.Name)},
	})
	return in
}

// maxTagValueChars is the longest EC2 tag value (the Name tag).
const maxTagValueChars = 256

func (t *Topology) validateInstances(errs *fieldErrors) {
	idAt := map[string]string{}
	ipAt := map[string]string{} // vpc|ip → path
	for i, in := range t.Instances {
		p := index("instances", i)
		switch {
		case in.ID == "":
			errs.add(p+".id", "required")
		case !hasHexID(in.ID, "i-"):
			errs.add(p+".id", "%q is not an instance id: want i- and 8 or 17 lowercase hex digits", in.ID)
		case idAt[in.ID] != "":
			errs.add(p+".id", "duplicate instance id %q (also %s)", in.ID, idAt[in.ID])
		default:
			idAt[in.ID] = p + ".id"
		}
		var vpc *VPC
		var subnet *Subnet
		switch {
		case in.Subnet == "":
			errs.add(p+".subnet", "required")
		case t.subnetVPCs(in.Subnet) > 1:
			errs.add(p+".subnet", "subnet %q is listed in more than one VPC; the instance's VPC is ambiguous", in.Subnet)
		default:
			var ok bool
			if vpc, subnet, ok = t.FindSubnet(in.Subnet); !ok {
				errs.add(p+".subnet", "unknown subnet %q: an instance's subnet must be listed in a VPC's subnets", in.Subnet)
			}
		}
		switch {
		case !in.PrivateIP.IsValid():
			errs.add(p+".privateIp", "required")
		case !in.PrivateIP.Is4() || in.PrivateIP.Zone() != "":
			errs.add(p+".privateIp", "%s is not an IPv4 address", in.PrivateIP)
		case subnet != nil && subnet.CIDR.IsValid() && !subnet.CIDR.Contains(in.PrivateIP):
			errs.add(p+".privateIp", "%s is not inside subnet %s's cidr %s", in.PrivateIP, subnet.ID, subnet.CIDR)
		case vpc != nil:
			key := vpc.ID + "|" + in.PrivateIP.String()
			if ipAt[key] != "" {
				errs.add(p+".privateIp", "%s is already the address of %s in %s", in.PrivateIP, ipAt[key], vpc.ID)
			} else {
				ipAt[key] = p
			}
		}
		switch in.State {
		case InstanceRunning, InstanceStopped:
		default:
			errs.add(p+".state", "%q is not running or stopped", in.State)
		}
		if n := utf8.RuneCountInString(in.Name); n > maxTagValueChars || !utf8.ValidString(in.Name) {
			errs.add(p+".name", "a name is at most %d characters of valid UTF-8", maxTagValueChars)
		}
	}
}

// targetID decodes a target's id: an instance id (i-...) or an IP address. Which one a
// target group needs is checked by validation, as the group's targetType may come later
// in the file.
func (d *decoder) targetID(n *yaml.Node, path string, s *TargetSpec) {
	v, null := d.scalar(n, path)
	if null {
		d.fail(n, path, "want an IP address or an instance id, got null")
	}
	if v == nil {
		return
	}
	if strings.HasPrefix(v.Value, "i-") {
		s.InstanceID = v.Value
		return
	}
	a, err := netip.ParseAddr(v.Value)
	if err != nil {
		d.fail(v, path, "invalid IP address %q (or instance id i-...)", v.Value)
		return
	}
	s.ID = a
}

// validateInstanceTarget checks the id of target s of instance target group tg, at path.
func (t *Topology) validateInstanceTarget(errs *fieldErrors, path string, s TargetSpec, tg *TargetGroup) {
	switch {
	case s.InstanceID == "" && s.ID.IsValid():
		errs.add(path, "%s is an IP address; the targets of an instance target group are instance ids", s.ID)
		return
	case s.InstanceID == "":
		errs.add(path, "required")
		return
	case !hasHexID(s.InstanceID, "i-"):
		errs.add(path, "%q is not an instance id: want i- and 8 or 17 lowercase hex digits", s.InstanceID)
		return
	}
	in, ok := t.Instance(s.InstanceID)
	if !ok {
		errs.add(path, "unknown instance %q: instance targets must be listed in instances", s.InstanceID)
		return
	}
	if v, _, ok := t.FindSubnet(in.Subnet); ok && v.ID != tg.VPC {
		errs.add(path, "instance %q is in %s, not in the target group's VPC %s", s.InstanceID, v.ID, tg.VPC)
	}
}
