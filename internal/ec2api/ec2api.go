// Package ec2api serves the part of the Amazon EC2 API (query protocol,
// version 2016-11-15) that describes what gatehouse's topology defines:
// DescribeVpcEndpoints — with the DnsEntries AWS reports for an execute-api
// interface endpoint (the regional and zonal public names, and with private
// DNS on, the private execute-api.{region}.amazonaws.com names) —, DescribeVpcs,
// and DescribeInstances for the topology's EC2 instances (instances.go). The
// topology is read-only, so these are the only actions.
//
// Requests arrive already authenticated (SigV4, service "ec2"); a caller sees
// the VPCs, endpoints and instances of its own account. Errors use EC2's XML shape:
// <Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>.
package ec2api

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"gatehouse/internal/awsproto"
	"gatehouse/internal/config"
	"gatehouse/internal/dns/r53"
)

// Namespace is EC2's XML namespace.
const Namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"

// defaultPolicy is the policy AWS reports for an endpoint without one (full
// access).
const defaultPolicy = `{"Statement":[{"Action":"*","Effect":"Allow","Principal":"*","Resource":"*"}]}`

// Options configures New.
type Options struct {
	// Topology is what the API describes. Required.
	Topology *config.Topology
	// Logger receives internal errors. Nil discards.
	Logger *slog.Logger
	// Created is the creation time reported for every endpoint. Default:
	// when New was called.
	Created time.Time
}

// Caller is the verified identity of a request.
type Caller struct {
	Account, AccessKeyID string
}

// Server serves the EC2 API. It is safe for concurrent use.
type Server struct {
	topo    *config.Topology
	log     *slog.Logger
	created time.Time
}

// New returns a Server.
func New(opts Options) *Server {
	s := &Server{topo: opts.Topology, log: opts.Logger, created: opts.Created}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.created.IsZero() {
		s.created = time.Now().UTC()
	}
	return s
}

// apiError is an EC2 error.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func badParam(format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, "InvalidParameterValue", fmt.Sprintf(format, args...)}
}

type errorResponse struct {
	XMLName   xml.Name   `xml:"Response"`
	Errors    []errorXML `xml:"Errors>Error"`
	RequestID string     `xml:"RequestID"`
}

type errorXML struct {
	Code    string
	Message string
}

// ServeEC2 handles one EC2 query-protocol request whose SigV4 signature was
// already verified. body is the full (form-encoded) request body.
func (s *Server) ServeEC2(w http.ResponseWriter, r *http.Request, caller Caller, body []byte) {
	reqID := awsproto.NewRequestID()
	w.Header().Set("X-Amzn-Requestid", reqID)
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("panic in EC2 handler", "panic", v, "stack", string(debug.Stack()))
			writeError(w, &apiError{http.StatusInternalServerError, "InternalError", "An internal error has occurred."}, reqID)
		}
	}()
	params, err := url.ParseQuery(string(body))
	if err != nil {
		writeError(w, &apiError{http.StatusBadRequest, "MalformedQueryString", "The request body is not a valid form: " + err.Error()}, reqID)
		return
	}
	for k, v := range r.URL.Query() {
		if _, ok := params[k]; !ok {
			params[k] = v
		}
	}
	var out any
	switch action := params.Get("Action"); action {
	case "DescribeVpcEndpoints":
		out, err = s.describeVpcEndpoints(caller, params, reqID)
	case "DescribeVpcs":
		out, err = s.describeVpcs(caller, params, reqID)
	case "DescribeInstances":
		out, err = s.describeInstances(caller, params, reqID)
	case "":
		err = &apiError{http.StatusBadRequest, "MissingAction", "The request must contain the parameter Action."}
	default:
		err = &apiError{http.StatusBadRequest, "InvalidAction", fmt.Sprintf("The action %s is not valid for this web service.", action)}
	}
	if err == nil && params.Get("DryRun") == "true" {
		err = &apiError{http.StatusPreconditionFailed, "DryRunOperation", "Request would have succeeded, but DryRun flag is set."}
	}
	if err != nil {
		writeError(w, err, reqID)
		return
	}
	writeXML(w, http.StatusOK, out)
}

// WriteError writes a request-authentication error found before the request reached the
// Server (code is awsproto's) as EC2's error response. EC2 answers an unknown access key
// and a signature that does not match alike: 401 AuthFailure, "AWS was not able to
// validate the provided access credentials"; the other errors keep AWS's common codes
// (IncompleteSignature, MissingAuthenticationToken).
func WriteError(w http.ResponseWriter, status int, code, message, requestID string) {
	switch code {
	case awsproto.CodeUnrecognizedClient, awsproto.CodeAccessDenied, awsproto.CodeInvalidSignature:
		status, code, message = http.StatusUnauthorized, "AuthFailure", "AWS was not able to validate the provided access credentials"
	default:
		code = awsproto.QueryAuthCode(code)
	}
	writeError(w, &apiError{status, code, message}, requestID)
}

func writeError(w http.ResponseWriter, err error, reqID string) {
	ae, ok := err.(*apiError)
	if !ok {
		ae = &apiError{http.StatusInternalServerError, "InternalError", "An internal error has occurred."}
	}
	writeXML(w, ae.status, errorResponse{Errors: []errorXML{{Code: ae.code, Message: ae.msg}}, RequestID: reqID})
}

func writeXML(w http.ResponseWriter, status int, v any) {
	b, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n"))
	_, _ = w.Write(b)
}

// listParam returns the values of a query-protocol list: prefix.1, prefix.2, ...
func listParam(params url.Values, prefix string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := params[prefix+"."+strconv.Itoa(i)]
		if !ok {
			return out
		}
		out = append(out, v...)
	}
}

// filter is one Filter.N.
type filter struct {
	name   string
	values []string
}

func filters(params url.Values, known []string) ([]filter, error) {
	var out []filter
	for i := 1; ; i++ {
		p := "Filter." + strconv.Itoa(i)
		name, ok := params[p+".Name"]
		if !ok {
			return out, nil
		}
		f := filter{name: name[0], values: listParam(params, p+".Value")}
		if !slices.Contains(known, f.name) {
			return nil, badParam("The filter '%s' is invalid", f.name)
		}
		out = append(out, f)
	}
}

// matches reports whether every filter matches: a filter matches when any
// of its values equals one of the object's values for that name (EC2
// filters also accept * and ? wildcards).
func matches(fs []filter, values func(name string) []string) bool {
	for _, f := range fs {
		have := values(f.name)
		ok := false
		for _, want := range f.values {
			for _, h := range have {
				if wildcard(want, h) {
					ok = true
				}
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// wildcard matches s against pattern with * (any run) and ? (any one).
func wildcard(pattern, s string) bool {
	if pattern == "" {
		return s == ""
	}
	switch pattern[0] {
	case '*':
		for i := 0; i <= len(s); i++ {
			if wildcard(pattern[1:], s[i:]) {
				return true
			}
		}
		return false
	case '?':
		return s != "" && wildcard(pattern[1:], s[1:])
	}
	return s != "" && s[0] == pattern[0] && wildcard(pattern[1:], s[1:])
}

// page applies MaxResults and NextToken (an index) to n items.
func page(params url.Values, n, minResults, maxResults int) (start, end int, next string, err error) {
	start = 0
	if t := params.Get("NextToken"); t != "" {
		start, err = strconv.Atoi(t)
		if err != nil || start < 0 || start > n {
			return 0, 0, "", &apiError{http.StatusBadRequest, "InvalidNextToken", "The token '" + t + "' is invalid."}
		}
	}
	end = n
	if m := params.Get("MaxResults"); m != "" {
		limit, err := strconv.Atoi(m)
		if err != nil || limit < minResults || limit > maxResults {
			return 0, 0, "", badParam("Value ( %s ) for parameter maxResults is invalid. Expecting a value between %d and %d.", m, minResults, maxResults)
		}
		if start+limit < n {
			end = start + limit
			next = strconv.Itoa(end)
		}
	}
	return start, end, next, nil
}

// derivedID makes a stable resource id: prefix and 17 hex digits.
func derivedID(prefix string, parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "/")))
	return prefix + hex.EncodeToString(sum[:9])[:17]
}

type itemList struct {
	Items []string `xml:"item"`
}

type groupXML struct {
	GroupID   string `xml:"groupId"`
	GroupName string `xml:"groupName"`
}

type dnsEntryXML struct {
	DNSName      string `xml:"dnsName"`
	HostedZoneID string `xml:"hostedZoneId"`
}

type vpcEndpointXML struct {
	VpcEndpointID       string        `xml:"vpcEndpointId"`
	VpcEndpointType     string        `xml:"vpcEndpointType"`
	VpcID               string        `xml:"vpcId"`
	ServiceName         string        `xml:"serviceName"`
	State               string        `xml:"state"`
	PolicyDocument      string        `xml:"policyDocument"`
	RouteTableIDs       itemList      `xml:"routeTableIdSet"`
	SubnetIDs           itemList      `xml:"subnetIdSet"`
	Groups              []groupXML    `xml:"groupSet>item"`
	IPAddressType       string        `xml:"ipAddressType"`
	DNSRecordIPType     string        `xml:"dnsOptions>dnsRecordIpType"`
	PrivateDNSEnabled   bool          `xml:"privateDnsEnabled"`
	RequesterManaged    bool          `xml:"requesterManaged"`
	NetworkInterfaceIDs itemList      `xml:"networkInterfaceIdSet"`
	DNSEntries          []dnsEntryXML `xml:"dnsEntrySet>item"`
	CreationTimestamp   string        `xml:"creationTimestamp"`
	Tags                itemList      `xml:"tagSet"`
	OwnerID             string        `xml:"ownerId"`
}

type describeVpcEndpointsResponse struct {
	XMLName      xml.Name         `xml:"DescribeVpcEndpointsResponse"`
	Xmlns        string           `xml:"xmlns,attr"`
	RequestID    string           `xml:"requestId"`
	VpcEndpoints []vpcEndpointXML `xml:"vpcEndpointSet>item"`
	NextToken    string           `xml:"nextToken,omitempty"`
}

// dnsEntries returns the DNS names of endpoint e in the order AWS lists
// them: the regional public name, one zonal public name per availability
// zone, and with private DNS on, the private names.
func dnsEntries(t *config.Topology, e *config.VPCEndpoint) []dnsEntryXML {
	zone := r53.VPCEHostedZoneID(t.Region)
	out := []dnsEntryXML{{DNSName: t.EndpointPublicDNSName(e), HostedZoneID: zone}}
	azs, _ := t.EndpointZones(e)
	for _, az := range azs {
		out = append(out, dnsEntryXML{DNSName: t.EndpointZonalDNSName(e, az), HostedZoneID: zone})
	}
	if vpc, ok := t.VPC(e.VPC); ok && e.PrivateDNSEnabled && vpc.EnableDNSSupport && vpc.EnableDNSHostnames {
		private := r53.PrivateDNSHostedZoneID(e.ID)
		out = append(out,
			dnsEntryXML{DNSName: "execute-api." + t.Region + ".amazonaws.com", HostedZoneID: private},
			dnsEntryXML{DNSName: "*.execute-api." + t.Region + ".amazonaws.com", HostedZoneID: private})
	}
	return out
}

func (s *Server) endpointXML(e *config.VPCEndpoint, owner string) vpcEndpointXML {
	t := s.topo
	x := vpcEndpointXML{
		VpcEndpointID: e.ID, VpcEndpointType: "Interface", VpcID: e.VPC,
		ServiceName: "com.amazonaws." + t.Region + ".execute-api", State: "available",
		PolicyDocument: defaultPolicy, IPAddressType: "ipv4", DNSRecordIPType: "ipv4",
		PrivateDNSEnabled: e.PrivateDNSEnabled, DNSEntries: dnsEntries(t, e),
		CreationTimestamp: s.created.Format("2006-01-02T15:04:05.000Z"), OwnerID: owner,
		Groups: []groupXML{{GroupID: derivedID("sg-", e.ID), GroupName: "gatehouse-" + e.ID + "-ingress"}},
	}
	if len(e.Policy) > 0 {
		x.PolicyDocument = string(e.Policy)
	}
	if vpc, ok := t.VPC(e.VPC); ok {
		seen := map[string]bool{}
		for _, a := range e.Addresses {
			if sn, ok := vpc.Subnet(a); ok && !seen[sn.ID] {
				seen[sn.ID] = true
				x.SubnetIDs.Items = append(x.SubnetIDs.Items, sn.ID)
			}
		}
	}
	for _, a := range e.Addresses {
		x.NetworkInterfaceIDs.Items = append(x.NetworkInterfaceIDs.Items, derivedID("eni-", e.ID, a.String()))
	}
	return x
}

func (s *Server) describeVpcEndpoints(caller Caller, params url.Values, reqID string) (any, error) {
	ids := listParam(params, "VpcEndpointId")
	fs, err := filters(params, []string{"vpc-endpoint-id", "vpc-id", "service-name", "vpc-endpoint-state", "vpc-endpoint-type", "ip-address-type"})
	if err != nil {
		return nil, err
	}
	var list []vpcEndpointXML
	for _, id := range ids {
		e, ok := s.topo.Endpoint(id)
		if !ok || s.owner(e.VPC) != caller.Account {
			return nil, &apiError{http.StatusBadRequest, "InvalidVpcEndpointId.NotFound", fmt.Sprintf("The Vpc Endpoint Id '%s' does not exist", id)}
		}
	}
	for i := range s.topo.VPCEndpoints {
		e := &s.topo.VPCEndpoints[i]
		owner := s.owner(e.VPC)
		if owner != caller.Account || (len(ids) > 0 && !slices.Contains(ids, e.ID)) {
			continue
		}
		x := s.endpointXML(e, owner)
		if !matches(fs, func(name string) []string {
			switch name {
			case "vpc-endpoint-id":
				return []string{x.VpcEndpointID}
			case "vpc-id":
				return []string{x.VpcID}
			case "service-name":
				return []string{x.ServiceName}
			case "vpc-endpoint-state":
				return []string{x.State}
			case "vpc-endpoint-type":
				return []string{x.VpcEndpointType}
			case "ip-address-type":
				return []string{x.IPAddressType}
			}
			return nil
		}) {
			continue
		}
		list = append(list, x)
	}
	start, end, next, err := page(params, len(list), 5, 1000)
	if err != nil {
		return nil, err
	}
	return describeVpcEndpointsResponse{Xmlns: Namespace, RequestID: reqID, VpcEndpoints: list[start:end], NextToken: next}, nil
}

// owner returns the account of a VPC.
func (s *Server) owner(vpcID string) string {
	if v, ok := s.topo.VPC(vpcID); ok {
		return v.Account
	}
	return ""
}

type cidrAssocXML struct {
	CidrBlock     string `xml:"cidrBlock"`
	AssociationID string `xml:"associationId"`
	State         string `xml:"cidrBlockState>state"`
}

type vpcXML struct {
	VpcID           string         `xml:"vpcId"`
	OwnerID         string         `xml:"ownerId"`
	State           string         `xml:"state"`
	CidrBlock       string         `xml:"cidrBlock"`
	CidrAssocs      []cidrAssocXML `xml:"cidrBlockAssociationSet>item"`
	DhcpOptionsID   string         `xml:"dhcpOptionsId"`
	InstanceTenancy string         `xml:"instanceTenancy"`
	IsDefault       bool           `xml:"isDefault"`
	Tags            itemList       `xml:"tagSet"`
}

type describeVpcsResponse struct {
	XMLName   xml.Name `xml:"DescribeVpcsResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	RequestID string   `xml:"requestId"`
	Vpcs      []vpcXML `xml:"vpcSet>item"`
	NextToken string   `xml:"nextToken,omitempty"`
}

func (s *Server) describeVpcs(caller Caller, params url.Values, reqID string) (any, error) {
	ids := listParam(params, "VpcId")
	fs, err := filters(params, []string{"vpc-id", "cidr", "cidr-block-association.cidr-block", "owner-id", "state", "is-default"})
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if v, ok := s.topo.VPC(id); !ok || v.Account != caller.Account {
			return nil, &apiError{http.StatusBadRequest, "InvalidVpcID.NotFound", fmt.Sprintf("The vpc ID '%s' does not exist", id)}
		}
	}
	var list []vpcXML
	for _, v := range s.topo.VPCs {
		if v.Account != caller.Account || (len(ids) > 0 && !slices.Contains(ids, v.ID)) {
			continue
		}
		cidr := prefixString(v.CIDR)
		x := vpcXML{VpcID: v.ID, OwnerID: v.Account, State: "available", CidrBlock: cidr,
			CidrAssocs:    []cidrAssocXML{{CidrBlock: cidr, AssociationID: derivedID("vpc-cidr-assoc-", v.ID), State: "associated"}},
			DhcpOptionsID: derivedID("dopt-", v.Account), InstanceTenancy: "default"}
		if !matches(fs, func(name string) []string {
			switch name {
			case "vpc-id":
				return []string{v.ID}
			case "cidr", "cidr-block-association.cidr-block":
				return []string{cidr}
			case "owner-id":
				return []string{v.Account}
			case "state":
				return []string{"available"}
			case "is-default":
				return []string{"false"}
			}
			return nil
		}) {
			continue
		}
		list = append(list, x)
	}
	start, end, next, err := page(params, len(list), 5, 1000)
	if err != nil {
		return nil, err
	}
	return describeVpcsResponse{Xmlns: Namespace, RequestID: reqID, Vpcs: list[start:end], NextToken: next}, nil
}

func prefixString(p netip.Prefix) string {
	if !p.IsValid() {
		return ""
	}
	return p.String()
}
