package elbv2api

import (
	"net/netip"
	"slices"
	"strings"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/config"
)

// Instance targets. The instances are the topology's (config.Topology.Instances): an
// instance belongs to the account of its subnet's VPC. RegisterTargets accepts an
// instance of the caller's account, in the target group's VPC, in the running state,
// with AWS's InvalidTarget messages otherwise. The runtime (internal/vpclink) reaches
// an instance target at its private IP and may report it by that address; health of a
// registered instance that is stopped (or no longer exists) is
// unused/Target.InvalidState, as on AWS.

// instanceStatus classifies an instance target of a target group.
type instanceStatus int

const (
	instanceUsable     instanceStatus = iota // running, in the group's VPC
	instanceMissing                          // unknown, or another account's
	instanceOtherVPC                         // the caller's, in another VPC
	instanceNotRunning                       // in the group's VPC, stopped
)

// instance returns the instance id of the caller's account (the group's) and its status
// as a target of tg.
func (s *Server) instance(tg *apimodel.TargetGroup, id string) (*config.Instance, instanceStatus) {
	in, ok := s.topo.Instance(id)
	if !ok {
		return nil, instanceMissing
	}
	vpc, _, ok := s.topo.FindSubnet(in.Subnet)
	switch {
	case !ok || vpc.Account != tg.Account:
		return nil, instanceMissing
	case vpc.ID != tg.VpcID:
		return in, instanceOtherVPC
	case in.State != config.InstanceRunning:
		return in, instanceNotRunning
	}
	return in, instanceUsable
}

// checkInstanceTargets checks that every target of instance target group tg is a
// running instance in its VPC. Like AWS it names every offending target, one kind of
// problem at a time: unknown instances first, then instances of other VPCs, then
// instances that are not running.
func (s *Server) checkInstanceTargets(tg *apimodel.TargetGroup, ts []apimodel.TargetDescription) error {
	var bad [4][]string
	for _, t := range ts {
		_, st := s.instance(tg, t.ID)
		q := "'" + t.ID + "'"
		if st != instanceUsable && !slices.Contains(bad[st], q) {
			bad[st] = append(bad[st], q)
		}
	}
	switch {
	case len(bad[instanceMissing]) > 0:
		return newErr(codeInvalidTarget, "The following instances do not exist: %s", strings.Join(bad[instanceMissing], ", "))
	case len(bad[instanceOtherVPC]) > 0:
		return newErr(codeInvalidTarget, "The following targets are not in the target group VPC '%s': %s", tg.VpcID, strings.Join(bad[instanceOtherVPC], ", "))
	case len(bad[instanceNotRunning]) > 0:
		return newErr(codeInvalidTarget, "The following targets are not in a running state and cannot be registered: %s", strings.Join(bad[instanceNotRunning], ", "))
	}
	return nil
}

// Health of registered instance targets that cannot take traffic.
var (
	healthStopped = apimodel.TargetHealth{State: apimodel.TargetHealthUnused, Reason: "Target.InvalidState",
		Description: "Target is in the stopped state"}
	healthTerminated = apimodel.TargetHealth{State: apimodel.TargetHealthUnused, Reason: "Target.InvalidState",
		Description: "Target is in the terminated state"}
)

// instanceHealth returns the health of registered instance target id of tg when the
// instance's state decides it (stopped, gone or moved), and otherwise the instance's
// private IP, where the runtime reports it.
func (s *Server) instanceHealth(tg *apimodel.TargetGroup, id string) (h apimodel.TargetHealth, ip string, decided bool) {
	in, st := s.instance(tg, id)
	switch st {
	case instanceUsable:
		return apimodel.TargetHealth{}, in.PrivateIP.String(), false
	case instanceNotRunning:
		return healthStopped, "", true
	}
	return healthTerminated, "", true
}

// instanceAt returns the id of the caller's instance with private IP addr in tg's VPC:
// how an instance target the runtime reports by address is named.
func (s *Server) instanceAt(tg *apimodel.TargetGroup, addr string) (string, bool) {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return "", false
	}
	for i := range s.topo.Instances {
		in := &s.topo.Instances[i]
		if in.PrivateIP != a {
			continue
		}
		if vpc, _, ok := s.topo.FindSubnet(in.Subnet); ok && vpc.ID == tg.VpcID && vpc.Account == tg.Account {
			return in.ID, true
		}
	}
	return "", false
}
