package elbv2api

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/config"
)

// Quotas (AWS's defaults per Region and account, or per load balancer).
const (
	maxLoadBalancers = 50
	maxNameLen       = 32
)

var nameRe = regexp.MustCompile(`^[a-zA-Z0-9-]+$`)

// hostedZoneIDs are the canonical hosted zone ids of load balancer DNS names, per
// Region: [application, network].
var hostedZoneIDs = map[string][2]string{
	"us-east-1":      {"Z35SXDOTRQ7X7K", "Z26RNL4JYFTOTI"},
	"us-east-2":      {"Z3AADJGX6KTTL2", "ZLMOA37VPKANP"},
	"us-west-1":      {"Z368ELLRRE2KJ0", "Z24FKFUX50B4VW"},
	"us-west-2":      {"Z1H1FL5HABSF5", "Z18D5FSROUN65G"},
	"eu-west-1":      {"Z32O12XQLNTSW2", "Z2IFOLAFXWLO4F"},
	"eu-central-1":   {"Z215JYRZR1TBD5", "Z3F0SRJ5LGBH90"},
	"ap-southeast-1": {"Z1LMS91P8CMLE5", "ZKVM4W9LS7TM"},
	"ap-northeast-1": {"Z14GRHDCWA56QT", "Z31USIVHYNEOWT"},
}

// xLoadBalancer is ELBv2's LoadBalancer on the wire.
type xLoadBalancer struct {
	LoadBalancerArn       string
	DNSName               string
	CanonicalHostedZoneID string `xml:"CanonicalHostedZoneId"`
	CreatedTime           string
	LoadBalancerName      string
	Scheme                string
	VpcID                 string `xml:"VpcId"`
	State                 xState
	Type                  string
	AvailabilityZones     []xAZ    `xml:"AvailabilityZones>member"`
	SecurityGroups        []string `xml:"SecurityGroups>member"`
	IPAddressType         string   `xml:"IpAddressType,omitempty"`
}

type xState struct {
	Code   string
	Reason string `xml:",omitempty"`
}

type xAZ struct {
	ZoneName              string
	SubnetID              string          `xml:"SubnetId"`
	LoadBalancerAddresses []xLBAddressXML `xml:"LoadBalancerAddresses>member"`
}

type xLBAddressXML struct {
	IPAddress string `xml:"IpAddress,omitempty"`
}

func toXLB(lb *apimodel.LoadBalancer) xLoadBalancer {
	x := xLoadBalancer{
		LoadBalancerArn: lb.LoadBalancerArn, DNSName: lb.DNSName, CanonicalHostedZoneID: lb.CanonicalHostedZoneID,
		CreatedTime: isoTime(lb.CreatedTime), LoadBalancerName: lb.LoadBalancerName, Scheme: lb.Scheme, VpcID: lb.VpcID,
		State: xState{Code: lb.State.Code, Reason: lb.State.Reason}, Type: lb.Type, SecurityGroups: lb.SecurityGroups,
		IPAddressType: lb.IPAddressType,
	}
	for _, az := range lb.AvailabilityZones {
		x.AvailabilityZones = append(x.AvailabilityZones, xAZ{ZoneName: az.ZoneName, SubnetID: az.SubnetID})
	}
	return x
}

type lbList struct {
	LoadBalancers []xLoadBalancer `xml:"LoadBalancers>member"`
	NextMarker    string          `xml:",omitempty"`
}

// checkName applies ELBv2's name rules to a load balancer or target group name.
func checkName(what, name string) error {
	switch {
	case len(name) > maxNameLen:
		return validationf("%s name '%s' cannot be longer than '%d' characters", what, name, maxNameLen)
	case name == "":
		return validationf("%s name cannot be empty", what)
	case !nameRe.MatchString(name):
		return validationf("%s name '%s' can only contain characters that are alphanumeric characters or hyphens(-)", what, name)
	case strings.HasPrefix(name, "-") || strings.HasSuffix(name, "-"):
		return validationf("%s name '%s' cannot begin or end with '-'", what, name)
	}
	return nil
}

// subnetOwner finds subnet id among the VPCs of account.
func (s *Server) subnetOwner(account, id string) (*config.VPC, *config.Subnet, bool) {
	for i := range s.topo.VPCs {
		v := &s.topo.VPCs[i]
		if v.Account != account {
			continue
		}
		for j := range v.Subnets {
			if v.Subnets[j].ID == id {
				return v, &v.Subnets[j], true
			}
		}
	}
	return nil, nil, false
}

// accountVPC returns the VPC id of account.
func (s *Server) accountVPC(account, id string) (*config.VPC, bool) {
	v, ok := s.topo.VPC(id)
	if !ok || v.Account != account {
		return nil, false
	}
	return v, true
}

func (s *Server) createLoadBalancer(c *call) (any, error) {
	p := c.p
	var v validationErrors
	name, ok := str(p, "Name")
	if !ok {
		v.null("name")
	}
	typ, ok := str(p, "Type")
	if !ok {
		typ = apimodel.LoadBalancerApplication
	}
	if !slices.Contains([]string{"application", "network", "gateway"}, typ) {
		v.enum(typ, "type", "application, network, gateway")
	}
	scheme, ok := str(p, "Scheme")
	if !ok {
		scheme = apimodel.SchemeInternetFacing
	}
	if scheme != apimodel.SchemeInternal && scheme != apimodel.SchemeInternetFacing {
		v.enum(scheme, "scheme", "internet-facing, internal")
	}
	ipType, ok := str(p, "IpAddressType")
	if !ok {
		ipType = "ipv4"
	}
	if !slices.Contains([]string{"ipv4", "dualstack", "dualstack-without-public-ipv4"}, ipType) {
		v.enum(ipType, "ipAddressType", "ipv4, dualstack, dualstack-without-public-ipv4")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	if typ == "gateway" {
		return nil, newErr(codeInvalidConfig, "Gateway load balancers are not supported by gatehouse")
	}
	if err := checkName("Load balancer", name); err != nil {
		return nil, err
	}
	if strings.HasPrefix(name, "internal-") {
		return nil, validationf("Load balancer name '%s' cannot begin with 'internal-'", name)
	}
	subnets := strList(p, "Subnets")
	for _, m := range structList(p, "SubnetMappings") {
		id, _ := str(p, m+".SubnetId")
		if id == "" {
			return nil, validationf("A subnet ID must be specified in each subnet mapping")
		}
		if _, ok := str(p, m+".AllocationId"); ok {
			return nil, newErr(codeInvalidConfig, "Elastic IP addresses are not supported by gatehouse load balancers")
		}
		subnets = append(subnets, id)
	}
	if len(structList(p, "SubnetMappings")) > 0 && len(strList(p, "Subnets")) > 0 {
		return nil, validationf("You cannot specify both subnets and subnet mappings")
	}
	if len(subnets) == 0 {
		return nil, validationf("At least one subnet must be specified")
	}
	var vpcID string
	azs := make([]apimodel.AvailabilityZone, 0, len(subnets))
	zones := map[string]string{}
	for _, id := range subnets {
		vpc, sn, ok := s.subnetOwner(c.caller.Account, id)
		if !ok {
			return nil, newErr(codeSubnetNotFound, "The subnet ID '%s' is not valid", id)
		}
		if vpcID == "" {
			vpcID = vpc.ID
		} else if vpc.ID != vpcID {
			return nil, newErr(codeInvalidSubnet, "Subnets '%s' and '%s' are in different VPCs: all subnets must belong to the same VPC", subnets[0], id)
		}
		if prev, dup := zones[sn.AvailabilityZone]; dup {
			if prev == id {
				return nil, validationf("Subnet '%s' was specified more than once", id)
			}
			return nil, newErr(codeInvalidConfig, "A load balancer cannot be attached to multiple subnets in the same Availability Zone")
		}
		zones[sn.AvailabilityZone] = id
		azs = append(azs, apimodel.AvailabilityZone{ZoneName: sn.AvailabilityZone, SubnetID: id})
	}
	if typ == apimodel.LoadBalancerApplication && len(zones) < 2 {
		return nil, validationf("At least two subnets in two different Availability Zones must be specified")
	}
	sgs := strList(p, "SecurityGroups")
	for _, sg := range sgs {
		if !strings.HasPrefix(sg, "sg-") || len(sg) < 4 {
			return nil, newErr(codeInvalidSecurityGroup, "Invalid security group '%s'", sg)
		}
	}
	tg, err := tags(p)
	if err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.declared.lbNamed(c.caller.Account, name) {
		return nil, newErr(codeDuplicateLBName, "A load balancer with the same name '%s' exists (declared in gatehouse's topology file)", name)
	}
	lbs, err := listKind[apimodel.LoadBalancer](c.ctx, s, c.caller.Account, "lb")
	if err != nil {
		return nil, err
	}
	for _, lb := range lbs {
		if lb.LoadBalancerName != name {
			continue
		}
		// CreateLoadBalancer is idempotent: the same request returns the existing one.
		if lb.Type == typ && lb.Scheme == scheme && slices.Equal(lb.Subnets(), subnets) &&
			slices.Equal(lb.SecurityGroups, sgs) && maps.Equal(lb.Tags, tg) {
			return lbList{LoadBalancers: []xLoadBalancer{toXLB(lb)}}, nil
		}
		return nil, newErr(codeDuplicateLBName, "A load balancer with the same name '%s' exists, but with different settings", name)
	}
	if declared, _ := s.declared.count(c.caller.Account); len(lbs)+declared >= maxLoadBalancers {
		return nil, newErr(codeTooManyLBs, "The maximum number of load balancers has been reached")
	}
	id := newID()
	short := "app"
	if typ == apimodel.LoadBalancerNetwork {
		short = "net"
	}
	lb := &apimodel.LoadBalancer{
		Account:           c.caller.Account,
		LoadBalancerArn:   s.arnPrefix(c.caller.Account) + "loadbalancer/" + short + "/" + name + "/" + id,
		LoadBalancerName:  name,
		DNSName:           s.dnsName(typ, scheme, name, id),
		CreatedTime:       apimodel.Epoch(c.now),
		Scheme:            scheme,
		VpcID:             vpcID,
		State:             apimodel.LoadBalancerState{Code: apimodel.LoadBalancerActive},
		Type:              typ,
		AvailabilityZones: azs,
		SecurityGroups:    sgs,
		IPAddressType:     ipType,
		Tags:              tg,
	}
	lb.CanonicalHostedZoneID = hostedZoneID(s.topo.Region, typ)
	if err := s.save(c.ctx, apimodel.LoadBalancerKey(c.caller.Account, id), lb); err != nil {
		return nil, err
	}
	return lbList{LoadBalancers: []xLoadBalancer{toXLB(lb)}}, nil
}

// dnsName is AWS's DNS name form: {name}-{16 hex}.elb.{region}.amazonaws.com for network
// load balancers; [internal-]{name}-{10 digits}.{region}.elb.amazonaws.com for application
// load balancers.
func (s *Server) dnsName(typ, scheme, name, id string) string {
	if typ == apimodel.LoadBalancerNetwork {
		return name + "-" + id + ".elb." + s.topo.Region + ".amazonaws.com"
	}
	n, _ := strconv.ParseUint(id[:8], 16, 64)
	digits := fmt.Sprintf("%010d", n%10000000000)
	prefix := ""
	if scheme == apimodel.SchemeInternal {
		prefix = "internal-"
	}
	return prefix + name + "-" + digits + "." + s.topo.Region + ".elb.amazonaws.com"
}

// loadLB returns the caller's load balancer with ARN arn (declared or stored), or
// LoadBalancerNotFound.
func (s *Server) loadLB(c *call, arn string) (*apimodel.LoadBalancer, error) {
	if lb, ok := s.declared.lb(c.caller.Account, arn); ok {
		return lb, nil
	}
	return loadStored(c, s, arn, "loadbalancer", "load balancer", apimodel.LoadBalancerKey, lbARNOf,
		newErr(codeLBNotFound, "One or more load balancers not found"))
}

func (s *Server) describeLoadBalancers(c *call) (any, error) {
	arns := strList(c.p, "LoadBalancerArns")
	names := strList(c.p, "Names")
	if len(arns) > 0 && len(names) > 0 {
		return nil, validationf("Load balancer names and load balancer ARNs cannot be specified at the same time")
	}
	all, err := s.allLBs(c)
	if err != nil {
		return nil, err
	}
	sortByName(all, lbNameOf, lbARNOf)
	sel := all
	switch {
	case len(arns) > 0:
		sel, err = pickByARN(all, arns, lbARNOf, "load balancer", newErr(codeLBNotFound, "One or more load balancers not found"))
	case len(names) > 0:
		sel, err = pickByName(all, names, lbNameOf, func(missing string) error {
			return newErr(codeLBNotFound, "Load balancers '[%s]' not found", missing)
		})
	}
	if err != nil {
		return nil, err
	}
	items, next, err := pageOf(c.p, sel, toXLB)
	if err != nil {
		return nil, err
	}
	return lbList{LoadBalancers: items, NextMarker: next}, nil
}

func lbNameOf(v *apimodel.LoadBalancer) string { return v.LoadBalancerName }

// deleteLoadBalancer deletes a load balancer with its listeners and rules. Deleting one
// that does not exist succeeds, as on AWS.
func (s *Server) deleteLoadBalancer(c *call) (any, error) {
	arn, err := s.writableARN(c, "LoadBalancerArn", "loadBalancerArn", "Load balancer")
	if err != nil {
		return nil, err
	}
	a, ok := s.parseARN(c, arn, "loadbalancer")
	if !ok {
		return nil, badARN(arn, "load balancer")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var lb apimodel.LoadBalancer
	found, err := s.load(c.ctx, apimodel.LoadBalancerKey(c.caller.Account, a.ID), &lb)
	if err != nil || !found || lb.LoadBalancerArn != arn {
		return nil, err
	}
	inUse, err := s.lbInUse(c.ctx, c.caller.Account, arn)
	if err != nil {
		return nil, err
	}
	if inUse {
		return nil, newErr(codeResourceInUse, "Load balancer '%s' cannot be deleted because it is currently associated with another service", arn)
	}
	listeners, err := listKind[apimodel.Listener](c.ctx, s, c.caller.Account, "listener")
	if err != nil {
		return nil, err
	}
	for _, l := range listeners {
		if l.LoadBalancerArn == arn {
			if err := s.removeListener(c, l); err != nil {
				return nil, err
			}
		}
	}
	if err := s.store.Delete(c.ctx, apimodel.BucketELB, apimodel.LoadBalancerKey(c.caller.Account, a.ID), 0); err != nil {
		return nil, err
	}
	return nil, s.syncAssociations(c)
}
