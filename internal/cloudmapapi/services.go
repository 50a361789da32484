package cloudmapapi

import (
	"encoding/json"
	"errors"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/store"
)

const (
	maxServicesPerNamespace = 1000
	maxInstancesPerService  = 1000
	maxAttributes           = 30
	maxAttributesBytes      = 5000
)

var (
	serviceNameRe = regexp.MustCompile(`^(([a-zA-Z0-9_][a-zA-Z0-9-_]{0,61}[a-zA-Z0-9_]|[a-zA-Z0-9])(\.([a-zA-Z0-9_][a-zA-Z0-9-_]{0,61}[a-zA-Z0-9_]|[a-zA-Z0-9]))*)$`)
	instanceIDRe  = regexp.MustCompile(`^[0-9a-zA-Z_/:.@-]{1,64}$`)
	attrKeyRe     = regexp.MustCompile(`^[a-zA-Z0-9!-~]{1,255}$`)
	attrValueRe   = regexp.MustCompile(`^([a-zA-Z0-9!-~][ \ta-zA-Z0-9!-~]*)?[a-zA-Z0-9!-~]?$`)
)

type serviceInput struct {
	Name                    *string                           `json:"Name"`
	NamespaceID             string                            `json:"NamespaceId"`
	CreatorRequestID        string                            `json:"CreatorRequestId"`
	Description             string                            `json:"Description"`
	DNSConfig               *apimodel.DNSConfig               `json:"DnsConfig"`
	HealthCheckConfig       *apimodel.HealthCheckConfig       `json:"HealthCheckConfig"`
	HealthCheckCustomConfig *apimodel.HealthCheckCustomConfig `json:"HealthCheckCustomConfig"`
	Tags                    []tag                             `json:"Tags"`
	Type                    string                            `json:"Type"`
}

// serviceWire is the Service (and ServiceSummary) shape with the live instance count.
type serviceWire struct {
	ID                      string                            `json:"Id"`
	Arn                     string                            `json:"Arn"`
	ResourceOwner           string                            `json:"ResourceOwner"`
	Name                    string                            `json:"Name"`
	NamespaceID             string                            `json:"NamespaceId,omitempty"`
	Description             string                            `json:"Description,omitempty"`
	InstanceCount           int                               `json:"InstanceCount"`
	DNSConfig               *apimodel.DNSConfig               `json:"DnsConfig,omitempty"`
	Type                    string                            `json:"Type,omitempty"`
	HealthCheckConfig       *apimodel.HealthCheckConfig       `json:"HealthCheckConfig,omitempty"`
	HealthCheckCustomConfig *apimodel.HealthCheckCustomConfig `json:"HealthCheckCustomConfig,omitempty"`
	CreateDate              apimodel.Epoch                    `json:"CreateDate"`
	CreatorRequestID        string                            `json:"CreatorRequestId,omitempty"`
	CreatedByAccount        string                            `json:"CreatedByAccount"`
}

func toServiceWire(sv *apimodel.Service, instances int, summary bool) serviceWire {
	w := serviceWire{ID: sv.ID, Arn: sv.Arn, ResourceOwner: sv.Account, Name: sv.Name, NamespaceID: sv.NamespaceID,
		Description: sv.Description, InstanceCount: instances, DNSConfig: sv.DNSConfig, Type: sv.Type,
		HealthCheckConfig: sv.HealthCheckConfig, HealthCheckCustomConfig: sv.HealthCheckCustomConfig,
		CreateDate: sv.CreateDate, CreatedByAccount: sv.Account}
	if summary {
		w.NamespaceID = ""
	} else {
		w.CreatorRequestID = sv.CreatorRequestID
	}
	return w
}

// checkDNSConfig validates a service's DnsConfig for a DNS namespace.
func checkDNSConfig(d *apimodel.DNSConfig) error {
	if len(d.DNSRecords) == 0 {
		return invalidInput("DnsConfig must contain at least one DnsRecord")
	}
	switch d.RoutingPolicy {
	case "":
		d.RoutingPolicy = "MULTIVALUE"
	case "MULTIVALUE", "WEIGHTED":
	default:
		return invalidInput("RoutingPolicy %s is not valid: use MULTIVALUE or WEIGHTED", d.RoutingPolicy)
	}
	seen := map[string]bool{}
	for _, r := range d.DNSRecords {
		switch r.Type {
		case "A", "AAAA", "SRV", "CNAME":
		default:
			return invalidInput("DnsRecord type %s is not valid: use SRV, A, AAAA or CNAME", r.Type)
		}
		if r.TTL < 0 || r.TTL > 2147483647 {
			return invalidInput("DnsRecord TTL must be between 0 and 2147483647")
		}
		if seen[r.Type] {
			return invalidInput("DnsRecord type %s is specified more than once", r.Type)
		}
		seen[r.Type] = true
	}
	switch {
	case seen["CNAME"] && len(d.DNSRecords) > 1:
		return invalidInput("A CNAME record cannot be combined with other record types")
	case seen["CNAME"] && d.RoutingPolicy != "WEIGHTED":
		return invalidInput("CNAME records require the WEIGHTED routing policy")
	case seen["SRV"] && !seen["A"] && !seen["AAAA"]:
		// SRV alone is allowed: the record points at the instance's address attribute.
	}
	return nil
}

func (s *Server) createService(c *call) (any, error) {
	var in serviceInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, invalidInput("Name is required")
	}
	if len(*in.Name) > 127 || !serviceNameRe.MatchString(*in.Name) {
		return nil, invalidInput("Service name %s is not valid", *in.Name)
	}
	if len(in.Description) > maxDescription {
		return nil, invalidInput("Description must be at most %d characters", maxDescription)
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	nsID := in.NamespaceID
	if nsID == "" && in.DNSConfig != nil {
		nsID = in.DNSConfig.NamespaceID
	}
	if nsID == "" {
		return nil, invalidInput("NamespaceId is required")
	}
	if in.HealthCheckConfig != nil && in.HealthCheckCustomConfig != nil {
		return nil, invalidInput("HealthCheckConfig and HealthCheckCustomConfig cannot both be specified")
	}
	if in.Type != "" && in.Type != "HTTP" {
		return nil, invalidInput("1 validation error detected: Value '%s' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [HTTP]", in.Type)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ns, err := s.loadNamespace(c, nsID)
	if err != nil {
		return nil, err
	}
	if in.HealthCheckConfig != nil {
		return nil, invalidInput("HealthCheckConfig (Route 53 health checks) is supported only for public DNS namespaces; use HealthCheckCustomConfig")
	}
	sv := &apimodel.Service{Account: c.caller.Account, Name: *in.Name, NamespaceID: ns.ID, Description: in.Description,
		CreateDate: c.now, CreatorRequestID: in.CreatorRequestID}
	if in.HealthCheckCustomConfig != nil {
		sv.HealthCheckCustomConfig = &apimodel.HealthCheckCustomConfig{FailureThreshold: 1}
	}
	switch {
	case ns.Type == apimodel.NamespaceHTTP:
		if in.DNSConfig != nil {
			return nil, invalidInput("DnsConfig cannot be specified for a service in an HTTP namespace")
		}
		sv.Type = "HTTP"
	case in.Type == "HTTP":
		if in.DNSConfig != nil {
			return nil, invalidInput("DnsConfig cannot be specified for a service of type HTTP")
		}
		sv.Type = "HTTP"
	case in.DNSConfig != nil:
		d := *in.DNSConfig
		d.NamespaceID = ""
		d.DNSRecords = slices.Clone(d.DNSRecords)
		if err := checkDNSConfig(&d); err != nil {
			return nil, err
		}
		sv.DNSConfig = &d
		sv.Type = "DNS_HTTP"
	default:
		sv.Type = "HTTP"
	}
	_, all, err := s.serviceCounts(c)
	if err != nil {
		return nil, err
	}
	n := 0
	for _, o := range all {
		if o.NamespaceID != ns.ID {
			continue
		}
		n++
		if strings.EqualFold(o.Name, sv.Name) {
			if in.CreatorRequestID != "" && o.CreatorRequestID == in.CreatorRequestID {
				return map[string]any{"Service": toServiceWire(o, 0, false)}, nil
			}
			return nil, &apiError{status: 400, code: "ServiceAlreadyExists", msg: "Service already exists",
				extra: map[string]string{"ServiceId": o.ID, "ServiceArn": o.Arn, "CreatorRequestId": o.CreatorRequestID}}
		}
	}
	if n >= maxServicesPerNamespace {
		return nil, newErr("ResourceLimitExceeded", "The maximum number of services per namespace (%d) has been reached", maxServicesPerNamespace)
	}
	sv.ID = "srv-" + randomID(16)
	sv.Arn = s.arn(c.caller.Account, "service", sv.ID)
	if err := s.saveDoc(c.ctx, apimodel.BucketCloudMap, apimodel.ServiceKey(c.caller.Account, sv.ID), sv); err != nil {
		return nil, err
	}
	return map[string]any{"Service": toServiceWire(sv, 0, false)}, nil
}

// loadService returns the caller's service with id (or ARN), or ServiceNotFound.
func (s *Server) loadService(c *call, idOrARN string) (*apimodel.Service, error) {
	return loadByID[apimodel.Service](c, s, idOrARN, "service", apimodel.ServiceKey, "ServiceNotFound", "Service not found: %s")
}

// serviceInstances loads the caller's service with id (or ARN) and its instances
// sorted by id.
func (s *Server) serviceInstances(c *call, idOrARN string) (*apimodel.Service, []*apimodel.Instance, error) {
	sv, err := s.loadService(c, idOrARN)
	if err != nil {
		return nil, nil, err
	}
	insts, _, err := s.instances(c, sv.ID)
	if err != nil {
		return nil, nil, err
	}
	return sv, insts, nil
}

// instances returns a service's instances sorted by id, and the highest revision among
// them (the service's InstancesRevision).
func (s *Server) instances(c *call, serviceID string) ([]*apimodel.Instance, uint64, error) {
	insts, revs, err := listDocs[apimodel.Instance](c.ctx, s, apimodel.BucketCloudMap, apimodel.InstanceKeyPrefix(c.caller.Account, serviceID))
	if err != nil {
		return nil, 0, err
	}
	var rev uint64
	for _, r := range revs {
		rev = max(rev, r)
	}
	sort.Slice(insts, func(i, j int) bool { return insts[i].ID < insts[j].ID })
	return insts, rev, nil
}

func (s *Server) getService(c *call) (any, error) {
	id, err := decodeID(c)
	if err != nil {
		return nil, err
	}
	sv, insts, err := s.serviceInstances(c, id)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Service": toServiceWire(sv, len(insts), false)}, nil
}

// serviceFilterValue is the service field a ListServices filter tests; BEGINS_WITH
// is not supported.
func serviceFilterValue(sv *apimodel.Service, f *filter) (string, error) {
	var v string
	switch f.Name {
	case "NAMESPACE_ID":
		v = sv.NamespaceID
	case "RESOURCE_OWNER":
		v = sv.Account
	default:
		return "", invalidInput("Filter name %s is not valid: use NAMESPACE_ID or RESOURCE_OWNER", f.Name)
	}
	if f.Condition == "BEGINS_WITH" {
		return "", invalidInput("Condition BEGINS_WITH is not supported for filter %s", f.Name)
	}
	return v, nil
}

func (s *Server) listServices(c *call) (any, error) {
	var in listInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	_, all, err := s.serviceCounts(c)
	if err != nil {
		return nil, err
	}
	pg, next, err := filterPage(all, func(sv *apimodel.Service) string { return sv.ID }, &in, serviceFilterValue)
	if err != nil {
		return nil, err
	}
	out := struct {
		Services  []serviceWire `json:"Services"`
		NextToken *string       `json:"NextToken,omitempty"`
	}{Services: []serviceWire{}, NextToken: next}
	for _, sv := range pg {
		insts, _, err := s.instances(c, sv.ID)
		if err != nil {
			return nil, err
		}
		out.Services = append(out.Services, toServiceWire(sv, len(insts), true))
	}
	return out, nil
}

func (s *Server) deleteService(c *call) (any, error) {
	id, err := decodeID(c)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sv, insts, err := s.serviceInstances(c, id)
	if err != nil {
		return nil, err
	}
	if len(insts) > 0 {
		return nil, newErr("ResourceInUse", "Service %s has registered instances; deregister them first", sv.ID)
	}
	if err := s.store.Delete(c.ctx, apimodel.BucketCloudMap, apimodel.ServiceKey(c.caller.Account, sv.ID), 0); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// hasRecord reports whether the service's DNS config has a record of typ.
func hasRecord(sv *apimodel.Service, typ string) bool {
	return sv.DNSConfig != nil && slices.ContainsFunc(sv.DNSConfig.DNSRecords, func(r apimodel.DNSRecord) bool { return r.Type == typ })
}

// checkAttributes validates an instance's attributes for service sv.
func checkAttributes(sv *apimodel.Service, attrs map[string]string) error {
	if len(attrs) > maxAttributes {
		return invalidInput("An instance can have at most %d attributes", maxAttributes)
	}
	total := 0
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		v := attrs[k]
		total += len(k) + len(v)
		if !attrKeyRe.MatchString(k) {
			return invalidInput("Attribute key %s is not valid", k)
		}
		if len(v) > 1024 || !attrValueRe.MatchString(v) {
			return invalidInput("Attribute value for %s is not valid", k)
		}
	}
	if total > maxAttributesBytes {
		return invalidInput("The total size of an instance's attributes must be at most %d bytes", maxAttributesBytes)
	}
	if v, ok := attrs[apimodel.AttrInstanceIPv4]; ok {
		if a, err := netip.ParseAddr(v); err != nil || !a.Is4() {
			return invalidInput("AWS_INSTANCE_IPV4 %s is not a valid IPv4 address", v)
		}
	}
	if v, ok := attrs[apimodel.AttrInstanceIPv6]; ok {
		if a, err := netip.ParseAddr(v); err != nil || !a.Is6() || a.Is4In6() {
			return invalidInput("AWS_INSTANCE_IPV6 %s is not a valid IPv6 address", v)
		}
	}
	if v, ok := attrs[apimodel.AttrInstancePort]; ok {
		if p, err := strconv.Atoi(v); err != nil || p < 0 || p > 65535 {
			return invalidInput("AWS_INSTANCE_PORT %s is not a valid port: use an integer from 0 to 65535", v)
		}
	}
	if v, ok := attrs[apimodel.AttrInitHealthState]; ok {
		if sv.HealthCheckCustomConfig == nil {
			return invalidInput("AWS_INIT_HEALTH_STATUS can be specified only for services with a custom health check")
		}
		if v != apimodel.HealthHealthy && v != apimodel.HealthUnhealthy {
			return invalidInput("AWS_INIT_HEALTH_STATUS must be HEALTHY or UNHEALTHY")
		}
	}
	if _, ok := attrs[apimodel.AttrAliasDNSName]; ok {
		return invalidInput("AWS_ALIAS_DNS_NAME is not supported by gatehouse")
	}
	if _, ok := attrs[apimodel.AttrInstanceCNAME]; ok && !hasRecord(sv, "CNAME") {
		return invalidInput("AWS_INSTANCE_CNAME can be specified only for services with a CNAME record")
	}
	_, v4 := attrs[apimodel.AttrInstanceIPv4]
	_, v6 := attrs[apimodel.AttrInstanceIPv6]
	_, port := attrs[apimodel.AttrInstancePort]
	switch {
	case hasRecord(sv, "A") && !v4:
		return invalidInput("AWS_INSTANCE_IPV4 is required for services with an A record")
	case hasRecord(sv, "AAAA") && !v6:
		return invalidInput("AWS_INSTANCE_IPV6 is required for services with an AAAA record")
	case hasRecord(sv, "SRV") && !port:
		return invalidInput("AWS_INSTANCE_PORT is required for services with an SRV record")
	case hasRecord(sv, "SRV") && !v4 && !v6:
		return invalidInput("AWS_INSTANCE_IPV4 or AWS_INSTANCE_IPV6 is required for services with an SRV record")
	case hasRecord(sv, "CNAME"):
		if _, ok := attrs[apimodel.AttrInstanceCNAME]; !ok {
			return invalidInput("AWS_INSTANCE_CNAME is required for services with a CNAME record")
		}
	}
	return nil
}

func (s *Server) registerInstance(c *call) (any, error) {
	var in struct {
		ServiceID        *string           `json:"ServiceId"`
		InstanceID       *string           `json:"InstanceId"`
		CreatorRequestID string            `json:"CreatorRequestId"`
		Attributes       map[string]string `json:"Attributes"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	switch {
	case in.ServiceID == nil:
		return nil, invalidInput("ServiceId is required")
	case in.InstanceID == nil:
		return nil, invalidInput("InstanceId is required")
	case in.Attributes == nil:
		return nil, invalidInput("Attributes is required")
	case !instanceIDRe.MatchString(*in.InstanceID):
		return nil, invalidInput("InstanceId %s is not valid: use 1 to 64 characters of [0-9a-zA-Z_/:.@-]", *in.InstanceID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sv, err := s.loadService(c, *in.ServiceID)
	if err != nil {
		return nil, err
	}
	if err := checkAttributes(sv, in.Attributes); err != nil {
		return nil, err
	}
	key := apimodel.InstanceKey(c.caller.Account, sv.ID, *in.InstanceID)
	var prev apimodel.Instance
	_, exists, err := s.loadDoc(c.ctx, apimodel.BucketCloudMap, key, &prev)
	if err != nil {
		return nil, err
	}
	if !exists {
		insts, _, err := s.instances(c, sv.ID)
		if err != nil {
			return nil, err
		}
		if len(insts) >= maxInstancesPerService {
			return nil, newErr("ResourceLimitExceeded", "The maximum number of instances per service (%d) has been reached", maxInstancesPerService)
		}
	}
	inst := &apimodel.Instance{Account: c.caller.Account, ServiceID: sv.ID, ID: *in.InstanceID, CreatorRequestID: in.CreatorRequestID,
		Attributes: maps.Clone(in.Attributes)}
	if sv.HealthCheckCustomConfig != nil {
		inst.HealthStatus = apimodel.HealthHealthy
		if v, ok := in.Attributes[apimodel.AttrInitHealthState]; ok {
			inst.HealthStatus = v
		} else if exists && prev.HealthStatus != "" {
			inst.HealthStatus = prev.HealthStatus
		}
	}
	if err := s.saveDoc(c.ctx, apimodel.BucketCloudMap, key, inst); err != nil {
		return nil, err
	}
	return s.operationResult(c, "REGISTER_INSTANCE", map[string]string{"SERVICE": sv.ID, "INSTANCE": inst.ID})
}

type instanceRef struct {
	ServiceID  *string `json:"ServiceId"`
	InstanceID *string `json:"InstanceId"`
}

// loadInstance resolves a ServiceId/InstanceId pair.
func (s *Server) loadInstance(c *call, ref instanceRef) (*apimodel.Service, *apimodel.Instance, error) {
	switch {
	case ref.ServiceID == nil:
		return nil, nil, invalidInput("ServiceId is required")
	case ref.InstanceID == nil:
		return nil, nil, invalidInput("InstanceId is required")
	}
	sv, err := s.loadService(c, *ref.ServiceID)
	if err != nil {
		return nil, nil, err
	}
	var inst apimodel.Instance
	_, found, err := s.loadDoc(c.ctx, apimodel.BucketCloudMap, apimodel.InstanceKey(c.caller.Account, sv.ID, *ref.InstanceID), &inst)
	if err != nil {
		return nil, nil, err
	}
	if !found {
		return nil, nil, newErr("InstanceNotFound", "No instance found with ID %s", *ref.InstanceID)
	}
	return sv, &inst, nil
}

func (s *Server) deregisterInstance(c *call) (any, error) {
	var in instanceRef
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sv, inst, err := s.loadInstance(c, in)
	if err != nil {
		return nil, err
	}
	err = s.store.Delete(c.ctx, apimodel.BucketCloudMap, apimodel.InstanceKey(c.caller.Account, sv.ID, inst.ID), 0)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return s.operationResult(c, "DEREGISTER_INSTANCE", map[string]string{"SERVICE": sv.ID, "INSTANCE": inst.ID})
}

func (s *Server) getInstance(c *call) (any, error) {
	var in instanceRef
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	_, inst, err := s.loadInstance(c, in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"ResourceOwner": c.caller.Account, "Instance": map[string]any{
		"Id": inst.ID, "CreatorRequestId": inst.CreatorRequestID, "Attributes": inst.Attributes, "CreatedByAccount": inst.Account}}, nil
}

type instanceSummary struct {
	ID               string            `json:"Id"`
	Attributes       map[string]string `json:"Attributes"`
	CreatedByAccount string            `json:"CreatedByAccount"`
}

func (s *Server) listInstances(c *call) (any, error) {
	var in struct {
		ServiceID  *string `json:"ServiceId"`
		NextToken  *string `json:"NextToken"`
		MaxResults *int    `json:"MaxResults"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	if in.ServiceID == nil {
		return nil, invalidInput("ServiceId is required")
	}
	_, insts, err := s.serviceInstances(c, *in.ServiceID)
	if err != nil {
		return nil, err
	}
	pg, next, err := pageOf(insts, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	out := struct {
		ResourceOwner string            `json:"ResourceOwner"`
		Instances     []instanceSummary `json:"Instances"`
		NextToken     *string           `json:"NextToken,omitempty"`
	}{ResourceOwner: c.caller.Account, Instances: []instanceSummary{}, NextToken: next}
	for _, inst := range pg {
		out.Instances = append(out.Instances, instanceSummary{ID: inst.ID, Attributes: inst.Attributes, CreatedByAccount: inst.Account})
	}
	return out, nil
}

// healthOf is an instance's health status as Cloud Map reports it: the custom status,
// or HEALTHY for services without a health check.
func healthOf(inst *apimodel.Instance) string {
	if inst.HealthStatus == "" {
		return apimodel.HealthHealthy
	}
	return inst.HealthStatus
}

// Discover filters instances the way DiscoverInstances does: every QueryParameters
// attribute must match exactly; OptionalParameters narrow the result only when some
// instance matches all of them; health follows HealthStatus (HEALTHY by default,
// ignored for services without a health check). The vpclink runtime uses it for Cloud
// Map integration URIs (their query string is QueryParameters).
func Discover(sv *apimodel.Service, insts []*apimodel.Instance, query, optional map[string]string, healthStatus string) []*apimodel.Instance {
	matchAll := func(inst *apimodel.Instance, want map[string]string) bool {
		for k, v := range want {
			if got, ok := inst.Attributes[k]; !ok || got != v {
				return false
			}
		}
		return true
	}
	var sel []*apimodel.Instance
	for _, inst := range insts {
		if matchAll(inst, query) {
			sel = append(sel, inst)
		}
	}
	if len(optional) > 0 {
		var narrowed []*apimodel.Instance
		for _, inst := range sel {
			if matchAll(inst, optional) {
				narrowed = append(narrowed, inst)
			}
		}
		if len(narrowed) > 0 {
			sel = narrowed
		}
	}
	if sv.HealthCheckCustomConfig == nil && sv.HealthCheckConfig == nil {
		return sel
	}
	byHealth := func(want string) []*apimodel.Instance {
		var out []*apimodel.Instance
		for _, inst := range sel {
			if healthOf(inst) == want {
				out = append(out, inst)
			}
		}
		return out
	}
	switch healthStatus {
	case "ALL":
		return sel
	case "UNHEALTHY":
		return byHealth(apimodel.HealthUnhealthy)
	case "HEALTHY_OR_ELSE_ALL":
		if h := byHealth(apimodel.HealthHealthy); len(h) > 0 {
			return h
		}
		return sel
	}
	return byHealth(apimodel.HealthHealthy)
}

func (s *Server) discoverInstances(c *call) (any, error) {
	var in struct {
		NamespaceName      *string           `json:"NamespaceName"`
		ServiceName        *string           `json:"ServiceName"`
		MaxResults         *int              `json:"MaxResults"`
		QueryParameters    map[string]string `json:"QueryParameters"`
		OptionalParameters map[string]string `json:"OptionalParameters"`
		HealthStatus       string            `json:"HealthStatus"`
		OwnerAccount       string            `json:"OwnerAccount"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	switch {
	case in.NamespaceName == nil:
		return nil, invalidInput("NamespaceName is required")
	case in.ServiceName == nil:
		return nil, invalidInput("ServiceName is required")
	case in.MaxResults != nil && (*in.MaxResults < 1 || *in.MaxResults > 1000):
		return nil, invalidInput("MaxResults must be between 1 and 1000")
	case in.OwnerAccount != "" && in.OwnerAccount != c.caller.Account:
		return nil, newErr("NamespaceNotFound", "Namespace not found: %s", *in.NamespaceName)
	}
	switch in.HealthStatus {
	case "", "HEALTHY", "UNHEALTHY", "ALL", "HEALTHY_OR_ELSE_ALL":
	default:
		return nil, invalidInput("1 validation error detected: Value '%s' at 'healthStatus' failed to satisfy constraint: Member must satisfy enum value set: [HEALTHY, UNHEALTHY, ALL, HEALTHY_OR_ELSE_ALL]", in.HealthStatus)
	}
	nss, _, err := s.namespaces(c)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(nss, func(ns *apimodel.Namespace) bool { return strings.EqualFold(httpName(ns), *in.NamespaceName) })
	if i < 0 {
		return nil, newErr("NamespaceNotFound", "Namespace not found: %s", *in.NamespaceName)
	}
	ns := nss[i]
	_, svcs, err := s.serviceCounts(c)
	if err != nil {
		return nil, err
	}
	j := slices.IndexFunc(svcs, func(sv *apimodel.Service) bool {
		return sv.NamespaceID == ns.ID && strings.EqualFold(sv.Name, *in.ServiceName)
	})
	if j < 0 {
		return nil, newErr("ServiceNotFound", "Service not found: %s", *in.ServiceName)
	}
	sv := svcs[j]
	insts, rev, err := s.instances(c, sv.ID)
	if err != nil {
		return nil, err
	}
	sel := Discover(sv, insts, in.QueryParameters, in.OptionalParameters, in.HealthStatus)
	limit := 100
	if in.MaxResults != nil {
		limit = *in.MaxResults
	}
	type summary struct {
		InstanceID    string            `json:"InstanceId"`
		NamespaceName string            `json:"NamespaceName"`
		ServiceName   string            `json:"ServiceName"`
		HealthStatus  string            `json:"HealthStatus"`
		Attributes    map[string]string `json:"Attributes"`
	}
	out := struct {
		Instances         []summary `json:"Instances"`
		InstancesRevision uint64    `json:"InstancesRevision"`
	}{Instances: []summary{}, InstancesRevision: rev}
	for _, inst := range sel[:min(limit, len(sel))] {
		out.Instances = append(out.Instances, summary{InstanceID: inst.ID, NamespaceName: httpName(ns), ServiceName: sv.Name,
			HealthStatus: healthOf(inst), Attributes: inst.Attributes})
	}
	return out, nil
}

func (s *Server) getInstancesHealthStatus(c *call) (any, error) {
	var in struct {
		ServiceID  *string  `json:"ServiceId"`
		Instances  []string `json:"Instances"`
		MaxResults *int     `json:"MaxResults"`
		NextToken  *string  `json:"NextToken"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	if in.ServiceID == nil {
		return nil, invalidInput("ServiceId is required")
	}
	if in.Instances != nil && len(in.Instances) == 0 {
		return nil, invalidInput("Instances must contain at least one instance ID")
	}
	sv, insts, err := s.serviceInstances(c, *in.ServiceID)
	if err != nil {
		return nil, err
	}
	if in.Instances != nil {
		var sel []*apimodel.Instance
		for _, id := range in.Instances {
			k := slices.IndexFunc(insts, func(inst *apimodel.Instance) bool { return inst.ID == id })
			if k < 0 {
				return nil, newErr("InstanceNotFound", "No instance found with ID %s", id)
			}
			sel = append(sel, insts[k])
		}
		insts = sel
	}
	pg, next, err := pageOf(insts, in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	status := map[string]string{}
	for _, inst := range pg {
		st := apimodel.HealthUnknown
		if sv.HealthCheckCustomConfig != nil {
			st = healthOf(inst)
		}
		status[inst.ID] = st
	}
	return struct {
		Status    map[string]string `json:"Status"`
		NextToken *string           `json:"NextToken,omitempty"`
	}{Status: status, NextToken: next}, nil
}

func (s *Server) updateInstanceCustomHealthStatus(c *call) (any, error) {
	var in struct {
		instanceRef
		Status *string `json:"Status"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	if in.Status == nil {
		return nil, invalidInput("Status is required")
	}
	if *in.Status != apimodel.HealthHealthy && *in.Status != apimodel.HealthUnhealthy {
		return nil, invalidInput("1 validation error detected: Value '%s' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [HEALTHY, UNHEALTHY]", *in.Status)
	}
	sv, inst, err := s.loadInstance(c, in.instanceRef)
	if err != nil {
		return nil, err
	}
	if sv.HealthCheckCustomConfig == nil {
		return nil, newErr("CustomHealthNotFound", "Service %s does not have a custom health check configured", sv.ID)
	}
	key := apimodel.InstanceKey(c.caller.Account, sv.ID, inst.ID)
	_, err = s.store.Modify(c.ctx, apimodel.BucketCloudMap, key, func(cur []byte) ([]byte, error) {
		if cur == nil {
			return nil, newErr("InstanceNotFound", "No instance found with ID %s", inst.ID)
		}
		var doc apimodel.Instance
		if err := json.Unmarshal(cur, &doc); err != nil {
			return nil, err
		}
		doc.HealthStatus = *in.Status
		return json.Marshal(&doc)
	})
	if err != nil {
		return nil, err
	}
	return struct{}{}, nil
}
