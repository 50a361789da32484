package vpclink

// Instance targets. A target group of TargetType instance registers EC2 instance ids;
// the runtime resolves each one to the instance's private IP (config.Instance, the
// topology's instances until SetInstances replaces them) and from then on treats it
// exactly as an ip target on that address: the registration's port (or the group's),
// the same health checks, balancing and draining, and link agents for VPCs gatehouse
// does not route to.
//
// An instance that is stopped, unknown, or not in the target group's VPC takes no
// traffic: it is left out like a deregistered target (an address that was in service
// drains). Manager.TargetHealth reports the targets in service by address;
// elbv2api's DescribeTargetHealth names them by instance id and reports a stopped
// instance as unused with reason Target.InvalidState.

import (
	"errors"
	"fmt"
	"net/netip"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/config"
)

// instanceSet is an immutable index of the EC2 instances instance targets resolve
// against.
type instanceSet struct {
	byID map[string]instanceAddr
}

// instanceAddr is where an instance is and whether it can take traffic.
type instanceAddr struct {
	vpc     string
	ip      netip.Addr
	running bool
}

// newInstanceSet indexes instances, each in the VPC of its subnet in t. Instances it
// cannot place (unknown subnet, no address, a duplicate id) are left out and reported
// in the error.
func newInstanceSet(t *config.Topology, instances []config.Instance) (*instanceSet, error) {
	set := &instanceSet{byID: make(map[string]instanceAddr, len(instances))}
	var errs []error
	for _, in := range instances {
		v, _, ok := t.FindSubnet(in.Subnet)
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("instance %s: unknown subnet %q", in.ID, in.Subnet))
			continue
		case !in.PrivateIP.IsValid():
			errs = append(errs, fmt.Errorf("instance %s: no private IP", in.ID))
			continue
		}
		if _, dup := set.byID[in.ID]; dup {
			errs = append(errs, fmt.Errorf("instance %s: duplicate id", in.ID))
			continue
		}
		set.byID[in.ID] = instanceAddr{vpc: v.ID, ip: in.PrivateIP.Unmap(), running: in.State == config.InstanceRunning}
	}
	return set, errors.Join(errs...)
}

// resolve returns tg (an instance target group) with its instance targets replaced by
// the private IPs of the running instances in its VPC, keeping each registration's
// port. The others are left out.
func (s *instanceSet) resolve(tg apimodel.TargetGroup) apimodel.TargetGroup {
	regs := make([]apimodel.TargetRegistration, 0, len(tg.Targets))
	for _, r := range tg.Targets {
		in, ok := s.byID[r.ID]
		if !ok || !in.running || in.vpc != tg.VpcID {
			continue
		}
		r.ID = in.ip.String()
		regs = append(regs, r)
	}
	tg.Targets = regs
	return tg
}

// SetInstances replaces the EC2 instances that instance targets resolve against
// (initially the topology's instances): a change of the topology such as an instance
// stopped, started, replaced or moved to another address. It rebuilds the target
// groups from the Documents of the last Update: targets of instances that stopped or
// went away drain like deregistered targets, and new ones start with health checks.
// Instances whose subnet is not one of the topology's are left out and reported in the
// returned error; the rest takes effect.
func (m *Manager) SetInstances(instances []config.Instance) error {
	set, ierr := newInstanceSet(m.topo, instances)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	return errors.Join(ierr, m.updateLocked(m.snap.Load().docs, set))
}
