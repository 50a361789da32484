package ec2api

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"gatehouse/internal/config"
)

// EC2 instance state codes (InstanceState.Code) of the states the topology declares.
var instanceStateCodes = map[string]int{
	config.InstanceRunning: 16,
	config.InstanceStopped: 80,
}

type instanceStateXML struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

type placementXML struct {
	AvailabilityZone string `xml:"availabilityZone"`
	GroupName        string `xml:"groupName"`
	Tenancy          string `xml:"tenancy"`
}

type stateReasonXML struct {
	Code    string `xml:"code"`
	Message string `xml:"message"`
}

type tagXML struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type eniAttachmentXML struct {
	AttachmentID        string `xml:"attachmentId"`
	DeviceIndex         int    `xml:"deviceIndex"`
	Status              string `xml:"status"`
	AttachTime          string `xml:"attachTime"`
	DeleteOnTermination bool   `xml:"deleteOnTermination"`
	NetworkCardIndex    int    `xml:"networkCardIndex"`
}

type eniPrivateIPXML struct {
	PrivateIPAddress string `xml:"privateIpAddress"`
	PrivateDNSName   string `xml:"privateDnsName"`
	Primary          bool   `xml:"primary"`
}

type instanceENIXML struct {
	NetworkInterfaceID string            `xml:"networkInterfaceId"`
	SubnetID           string            `xml:"subnetId"`
	VpcID              string            `xml:"vpcId"`
	Description        string            `xml:"description"`
	OwnerID            string            `xml:"ownerId"`
	Status             string            `xml:"status"`
	PrivateIPAddress   string            `xml:"privateIpAddress"`
	PrivateDNSName     string            `xml:"privateDnsName"`
	SourceDestCheck    bool              `xml:"sourceDestCheck"`
	Attachment         eniAttachmentXML  `xml:"attachment"`
	PrivateIPAddresses []eniPrivateIPXML `xml:"privateIpAddressesSet>item"`
	InterfaceType      string            `xml:"interfaceType"`
}

type instanceXML struct {
	InstanceID        string            `xml:"instanceId"`
	InstanceState     instanceStateXML  `xml:"instanceState"`
	PrivateDNSName    string            `xml:"privateDnsName"`
	DNSName           string            `xml:"dnsName"`
	Reason            string            `xml:"reason"`
	AmiLaunchIndex    int               `xml:"amiLaunchIndex"`
	LaunchTime        string            `xml:"launchTime"`
	Placement         placementXML      `xml:"placement"`
	Monitoring        string            `xml:"monitoring>state"`
	SubnetID          string            `xml:"subnetId"`
	VpcID             string            `xml:"vpcId"`
	PrivateIPAddress  string            `xml:"privateIpAddress"`
	SourceDestCheck   bool              `xml:"sourceDestCheck"`
	StateReason       *stateReasonXML   `xml:"stateReason,omitempty"`
	Tags              []tagXML          `xml:"tagSet>item"`
	NetworkInterfaces []instanceENIXML  `xml:"networkInterfaceSet>item"`
	BlockDevices      *struct{}         `xml:"blockDeviceMapping,omitempty"`
	ProductCodes      *struct{}         `xml:"productCodes,omitempty"`
	Hibernation       *hibernationXML   `xml:"hibernationOptions,omitempty"`
	PrivateDNSOptions *privateDNSOptXML `xml:"privateDnsNameOptions,omitempty"`
}

type hibernationXML struct {
	Configured bool `xml:"configured"`
}

type privateDNSOptXML struct {
	HostnameType string `xml:"hostnameType"`
}

type reservationXML struct {
	ReservationID string        `xml:"reservationId"`
	OwnerID       string        `xml:"ownerId"`
	Instances     []instanceXML `xml:"instancesSet>item"`
}

// reservationSet is always written, empty or not: EC2 answers <reservationSet/> when
// nothing matches, which SDKs read as an empty list.
type reservationSet struct {
	Items []reservationXML `xml:"item"`
}

type describeInstancesResponse struct {
	XMLName      xml.Name       `xml:"DescribeInstancesResponse"`
	Xmlns        string         `xml:"xmlns,attr"`
	RequestID    string         `xml:"requestId"`
	Reservations reservationSet `xml:"reservationSet"`
	NextToken    string         `xml:"nextToken,omitempty"`
}

// privateDNSName is EC2's IP-based private host name of addr in the Region:
// ip-10-0-1-5.ec2.internal in us-east-1, ip-10-0-1-5.{region}.compute.internal elsewhere.
func privateDNSName(region, addr string) string {
	host := "ip-" + strings.ReplaceAll(addr, ".", "-")
	if region == "us-east-1" {
		return host + ".ec2.internal"
	}
	return host + "." + region + ".compute.internal"
}

// instanceXML describes in, a topology instance in vpc and subnet.
func (s *Server) instanceXML(in *config.Instance, vpc *config.VPC, subnet *config.Subnet) instanceXML {
	ip := in.PrivateIP.String()
	dnsName := privateDNSName(s.topo.Region, ip)
	launched := s.created.Format("2006-01-02T15:04:05.000Z")
	x := instanceXML{
		InstanceID:       in.ID,
		InstanceState:    instanceStateXML{Code: instanceStateCodes[in.State], Name: in.State},
		PrivateDNSName:   dnsName,
		LaunchTime:       launched,
		Placement:        placementXML{AvailabilityZone: subnet.AvailabilityZone, Tenancy: "default"},
		Monitoring:       "disabled",
		SubnetID:         subnet.ID,
		VpcID:            vpc.ID,
		PrivateIPAddress: ip,
		SourceDestCheck:  true,
		NetworkInterfaces: []instanceENIXML{{
			NetworkInterfaceID: derivedID("eni-", in.ID), SubnetID: subnet.ID, VpcID: vpc.ID, OwnerID: vpc.Account,
			Status: "in-use", PrivateIPAddress: ip, PrivateDNSName: dnsName, SourceDestCheck: true,
			Attachment: eniAttachmentXML{AttachmentID: derivedID("eni-attach-", in.ID), Status: "attached",
				AttachTime: launched, DeleteOnTermination: true},
			PrivateIPAddresses: []eniPrivateIPXML{{PrivateIPAddress: ip, PrivateDNSName: dnsName, Primary: true}},
			InterfaceType:      "interface",
		}},
		BlockDevices:      &struct{}{},
		ProductCodes:      &struct{}{},
		Hibernation:       &hibernationXML{},
		PrivateDNSOptions: &privateDNSOptXML{HostnameType: "ip-name"},
	}
	if in.State == config.InstanceStopped {
		x.Reason = "User initiated"
		x.StateReason = &stateReasonXML{Code: "Client.UserInitiatedShutdown", Message: "Client.UserInitiatedShutdown: User initiated shutdown"}
	}
	if in.Name != "" {
		x.Tags = []tagXML{{Key: "Name", Value: in.Name}}
	}
	return x
}

// instanceFilters are the DescribeInstances filters gatehouse evaluates.
var instanceFilters = []string{
	"instance-id", "vpc-id", "subnet-id", "private-ip-address", "instance-state-name",
	"instance-state-code", "availability-zone", "owner-id", "private-dns-name", "tag:Name",
}

// describeInstances lists the caller's instances as one reservation each, in topology
// order.
func (s *Server) describeInstances(caller Caller, params url.Values, reqID string) (any, error) {
	ids := listParam(params, "InstanceId")
	fs, err := filters(params, instanceFilters)
	if err != nil {
		return nil, err
	}
	if len(ids) > 0 && params.Get("MaxResults") != "" {
		return nil, &apiError{http.StatusBadRequest, "InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults"}
	}
	owner := func(in *config.Instance) (*config.VPC, *config.Subnet, bool) {
		v, sn, ok := s.topo.FindSubnet(in.Subnet)
		return v, sn, ok && v.Account == caller.Account
	}
	var missing []string
	for _, id := range ids {
		if !validInstanceID(id) {
			return nil, &apiError{http.StatusBadRequest, "InvalidInstanceID.Malformed", fmt.Sprintf("Invalid id: %q", id)}
		}
		in, ok := s.topo.Instance(id)
		if ok {
			_, _, ok = owner(in)
		}
		if !ok && !slices.Contains(missing, id) {
			missing = append(missing, id)
		}
	}
	switch len(missing) {
	case 0:
	case 1:
		return nil, &apiError{http.StatusBadRequest, "InvalidInstanceID.NotFound", fmt.Sprintf("The instance ID '%s' does not exist", missing[0])}
	default:
		return nil, &apiError{http.StatusBadRequest, "InvalidInstanceID.NotFound", fmt.Sprintf("The instance IDs '%s' do not exist", strings.Join(missing, ", "))}
	}
	var list []reservationXML
	for i := range s.topo.Instances {
		in := &s.topo.Instances[i]
		vpc, subnet, mine := owner(in)
		if !mine || (len(ids) > 0 && !slices.Contains(ids, in.ID)) {
			continue
		}
		x := s.instanceXML(in, vpc, subnet)
		if !matches(fs, func(name string) []string {
			switch name {
			case "instance-id":
				return []string{x.InstanceID}
			case "vpc-id":
				return []string{x.VpcID}
			case "subnet-id":
				return []string{x.SubnetID}
			case "private-ip-address":
				return []string{x.PrivateIPAddress}
			case "instance-state-name":
				return []string{x.InstanceState.Name}
			case "instance-state-code":
				return []string{strconv.Itoa(x.InstanceState.Code)}
			case "availability-zone":
				return []string{x.Placement.AvailabilityZone}
			case "owner-id":
				return []string{vpc.Account}
			case "private-dns-name":
				return []string{x.PrivateDNSName}
			case "tag:Name":
				if in.Name != "" {
					return []string{in.Name}
				}
			}
			return nil
		}) {
			continue
		}
		list = append(list, reservationXML{ReservationID: derivedID("r-", in.ID), OwnerID: vpc.Account, Instances: []instanceXML{x}})
	}
	start, end, next, err := page(params, len(list), 5, 1000)
	if err != nil {
		return nil, err
	}
	return describeInstancesResponse{Xmlns: Namespace, RequestID: reqID, Reservations: reservationSet{Items: list[start:end]}, NextToken: next}, nil
}

// validInstanceID reports whether id is shaped like an instance id: i- and 8 or 17
// lowercase hex digits.
func validInstanceID(id string) bool {
	rest, ok := strings.CutPrefix(id, "i-")
	return ok && (len(rest) == 8 || len(rest) == 17) && strings.Trim(rest, "0123456789abcdef") == ""
}
