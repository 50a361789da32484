package cloudmapapi

import (
	"regexp"
	"slices"
	"strings"

	"gatehouse/internal/apimodel"
)

const (
	maxNamespaces   = 50
	defaultSOATTL   = 15
	maxDescription  = 1024
	maxTagsPerThing = 200
)

var (
	dnsNameRe  = regexp.MustCompile(`^([a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?\.)*[a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9_])?\.?$`)
	httpNameRe = regexp.MustCompile(`^[!-~]+$`)
)

type tag struct {
	Key   *string `json:"Key"`
	Value *string `json:"Value"`
}

func checkTags(tags []tag) error {
	if len(tags) > maxTagsPerThing {
		return newErr("TooManyTagsException", "The number of tags exceeds the limit of %d", maxTagsPerThing)
	}
	for _, t := range tags {
		if t.Key == nil || t.Value == nil || *t.Key == "" || len(*t.Key) > 128 || len(*t.Value) > 256 {
			return invalidInput("Each tag must have a Key of 1 to 128 characters and a Value of at most 256 characters")
		}
	}
	return nil
}

type namespaceInput struct {
	Name             *string `json:"Name"`
	CreatorRequestID string  `json:"CreatorRequestId"`
	Description      string  `json:"Description"`
	Vpc              *string `json:"Vpc"`
	Tags             []tag   `json:"Tags"`
	Properties       *struct {
		DNSProperties *struct {
			SOA *struct {
				TTL *int64 `json:"TTL"`
			} `json:"SOA"`
		} `json:"DnsProperties"`
	} `json:"Properties"`
}

// decodeNamespaceInput reads a Create*Namespace request, whose Name is required.
func decodeNamespaceInput(c *call) (*namespaceInput, error) {
	var in namespaceInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	if in.Name == nil {
		return nil, invalidInput("Name is required")
	}
	return &in, nil
}

func (s *Server) createPrivateDNSNamespace(c *call) (any, error) {
	in, err := decodeNamespaceInput(c)
	if err != nil {
		return nil, err
	}
	if in.Vpc == nil || *in.Vpc == "" {
		return nil, invalidInput("Vpc is required")
	}
	name := strings.TrimSuffix(*in.Name, ".")
	if len(*in.Name) > 253 || strings.HasPrefix(*in.Name, "arn:") || !dnsNameRe.MatchString(*in.Name) {
		return nil, invalidInput("Namespace name %s is not a valid domain name", *in.Name)
	}
	vpc, ok := s.topo.VPC(*in.Vpc)
	if !ok || vpc.Account != c.caller.Account {
		return nil, invalidInput("VPC %s does not exist or does not belong to account %s", *in.Vpc, c.caller.Account)
	}
	ttl := int64(defaultSOATTL)
	if p := in.Properties; p != nil && p.DNSProperties != nil && p.DNSProperties.SOA != nil && p.DNSProperties.SOA.TTL != nil {
		ttl = *p.DNSProperties.SOA.TTL
		if ttl < 0 || ttl > 2147483647 {
			return nil, invalidInput("SOA TTL must be between 0 and 2147483647")
		}
	}
	ns := &apimodel.Namespace{VpcID: vpc.ID, Name: name, Type: apimodel.NamespaceDNSPrivate,
		Properties: &apimodel.NamespaceProperties{
			DNSProperties:  &apimodel.DNSProperties{HostedZoneID: s.hostedZoneID()},
			HTTPProperties: &apimodel.HTTPProperties{HTTPName: name},
		}}
	ns.Properties.DNSProperties.SOA = &struct {
		TTL int64 `json:"TTL"`
	}{TTL: ttl}
	return s.createNamespace(c, ns, in)
}

// hostedZoneID returns a Route 53 style zone id for a DNS namespace's zone.
func (s *Server) hostedZoneID() string {
	return "Z" + strings.ToUpper(randomID(20))
}

func (s *Server) createHTTPNamespace(c *call) (any, error) {
	in, err := decodeNamespaceInput(c)
	if err != nil {
		return nil, err
	}
	if len(*in.Name) > 1024 || strings.HasPrefix(*in.Name, "arn:") || !httpNameRe.MatchString(*in.Name) {
		return nil, invalidInput("Namespace name %s is not valid", *in.Name)
	}
	ns := &apimodel.Namespace{Name: *in.Name, Type: apimodel.NamespaceHTTP,
		Properties: &apimodel.NamespaceProperties{HTTPProperties: &apimodel.HTTPProperties{HTTPName: *in.Name}}}
	return s.createNamespace(c, ns, in)
}

// createNamespace stores ns (name unique per account) and records its operation.
func (s *Server) createNamespace(c *call, ns *apimodel.Namespace, in *namespaceInput) (any, error) {
	if len(in.Description) > maxDescription {
		return nil, invalidInput("Description must be at most %d characters", maxDescription)
	}
	if len(in.CreatorRequestID) > 64 {
		return nil, invalidInput("CreatorRequestId must be at most 64 characters")
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	all, _, err := s.namespaces(c)
	if err != nil {
		return nil, err
	}
	for _, o := range all {
		if in.CreatorRequestID != "" && o.CreatorRequestID == in.CreatorRequestID {
			// A retried request: answer with the original operation.
			if id, err := s.findOperation(c, "CREATE_NAMESPACE", "NAMESPACE", o.ID); err != nil || id != "" {
				return operationIDOutput{OperationID: id}, err
			}
		}
		if strings.EqualFold(httpName(o), httpName(ns)) {
			return nil, &apiError{status: 400, code: "NamespaceAlreadyExists",
				msg:   "Namespace with name " + ns.Name + " already exists",
				extra: map[string]string{"NamespaceId": o.ID, "CreatorRequestId": o.CreatorRequestID}}
		}
	}
	if len(all) >= maxNamespaces {
		return nil, newErr("ResourceLimitExceeded", "The maximum number of namespaces (%d) has been reached", maxNamespaces)
	}
	ns.Account = c.caller.Account
	ns.ID = "ns-" + randomID(16)
	ns.Arn = s.arn(c.caller.Account, "namespace", ns.ID)
	ns.Description = in.Description
	ns.CreateDate = c.now
	ns.CreatorRequestID = in.CreatorRequestID
	if err := s.saveDoc(c.ctx, apimodel.BucketCloudMap, apimodel.NamespaceKey(c.caller.Account, ns.ID), ns); err != nil {
		return nil, err
	}
	return s.operationResult(c, "CREATE_NAMESPACE", map[string]string{"NAMESPACE": ns.ID})
}

func httpName(ns *apimodel.Namespace) string {
	if ns.Properties != nil && ns.Properties.HTTPProperties != nil && ns.Properties.HTTPProperties.HTTPName != "" {
		return ns.Properties.HTTPProperties.HTTPName
	}
	return ns.Name
}

// findOperation returns the id of the caller's operation of typ whose target kind is id.
func (s *Server) findOperation(c *call, typ, kind, id string) (string, error) {
	ops, _, err := listDocs[Operation](c.ctx, s, OperationsBucket, c.caller.Account+".")
	if err != nil {
		return "", err
	}
	for _, op := range ops {
		if op.Type == typ && op.Targets[kind] == id {
			return op.ID, nil
		}
	}
	return "", nil
}

// namespaceWire is the Namespace (and NamespaceSummary) shape with the live service count.
type namespaceWire struct {
	ID               string                        `json:"Id"`
	Arn              string                        `json:"Arn"`
	ResourceOwner    string                        `json:"ResourceOwner"`
	Name             string                        `json:"Name"`
	Type             string                        `json:"Type"`
	Description      string                        `json:"Description,omitempty"`
	ServiceCount     int                           `json:"ServiceCount"`
	Properties       *apimodel.NamespaceProperties `json:"Properties,omitempty"`
	CreateDate       apimodel.Epoch                `json:"CreateDate"`
	CreatorRequestID string                        `json:"CreatorRequestId,omitempty"`
}

func toNamespaceWire(ns *apimodel.Namespace, services int, summary bool) namespaceWire {
	w := namespaceWire{ID: ns.ID, Arn: ns.Arn, ResourceOwner: ns.Account, Name: ns.Name, Type: ns.Type, Description: ns.Description,
		ServiceCount: services, Properties: ns.Properties, CreateDate: ns.CreateDate}
	if !summary {
		w.CreatorRequestID = ns.CreatorRequestID
	}
	return w
}

// loadNamespace returns the caller's namespace with id (or ARN), or NamespaceNotFound.
func (s *Server) loadNamespace(c *call, idOrARN string) (*apimodel.Namespace, error) {
	return loadByID[apimodel.Namespace](c, s, idOrARN, "namespace", apimodel.NamespaceKey, "NamespaceNotFound", "Namespace not found: %s")
}

// namespaces returns the caller's namespaces.
func (s *Server) namespaces(c *call) ([]*apimodel.Namespace, []uint64, error) {
	return listDocs[apimodel.Namespace](c.ctx, s, apimodel.BucketCloudMap, c.caller.Account+".ns.")
}

// serviceCounts counts the caller's services per namespace id.
func (s *Server) serviceCounts(c *call) (map[string]int, []*apimodel.Service, error) {
	svcs, _, err := listDocs[apimodel.Service](c.ctx, s, apimodel.BucketCloudMap, c.caller.Account+".srv.")
	if err != nil {
		return nil, nil, err
	}
	out := map[string]int{}
	for _, sv := range svcs {
		out[sv.NamespaceID]++
	}
	return out, svcs, nil
}

func (s *Server) getNamespace(c *call) (any, error) {
	id, err := decodeID(c)
	if err != nil {
		return nil, err
	}
	ns, services, err := s.namespaceServiceCount(c, id)
	if err != nil {
		return nil, err
	}
	return map[string]any{"Namespace": toNamespaceWire(ns, services, false)}, nil
}

// namespaceServiceCount returns the caller's namespace with id (or ARN) and the
// number of services in it.
func (s *Server) namespaceServiceCount(c *call, idOrARN string) (*apimodel.Namespace, int, error) {
	ns, err := s.loadNamespace(c, idOrARN)
	if err != nil {
		return nil, 0, err
	}
	counts, _, err := s.serviceCounts(c)
	if err != nil {
		return nil, 0, err
	}
	return ns, counts[ns.ID], nil
}

type filter struct {
	Name      string   `json:"Name"`
	Values    []string `json:"Values"`
	Condition string   `json:"Condition"`
}

// match applies a filter condition (EQ, IN, BEGINS_WITH; default EQ) to value.
func (f *filter) match(value string) (bool, error) {
	switch f.Condition {
	case "", "EQ":
		if len(f.Values) != 1 {
			return false, invalidInput("Filter %s with condition EQ takes exactly one value", f.Name)
		}
		return value == f.Values[0], nil
	case "IN":
		return slices.Contains(f.Values, value), nil
	case "BEGINS_WITH":
		if len(f.Values) != 1 {
			return false, invalidInput("Filter %s with condition BEGINS_WITH takes exactly one value", f.Name)
		}
		return strings.HasPrefix(value, f.Values[0]), nil
	}
	return false, invalidInput("Condition %s is not supported for filter %s", f.Condition, f.Name)
}

type listInput struct {
	NextToken  *string  `json:"NextToken"`
	MaxResults *int     `json:"MaxResults"`
	Filters    []filter `json:"Filters"`
}

// namespaceFilterValue is the namespace field a ListNamespaces filter tests.
func namespaceFilterValue(ns *apimodel.Namespace, f *filter) (string, error) {
	switch f.Name {
	case "TYPE":
		return ns.Type, nil
	case "NAME":
		return ns.Name, nil
	case "HTTP_NAME":
		return httpName(ns), nil
	case "RESOURCE_OWNER":
		return ns.Account, nil
	}
	return "", invalidInput("Filter name %s is not valid: use TYPE, NAME, HTTP_NAME or RESOURCE_OWNER", f.Name)
}

func (s *Server) listNamespaces(c *call) (any, error) {
	var in listInput
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	all, _, err := s.namespaces(c)
	if err != nil {
		return nil, err
	}
	counts, _, err := s.serviceCounts(c)
	if err != nil {
		return nil, err
	}
	pg, next, err := filterPage(all, func(ns *apimodel.Namespace) string { return ns.ID }, &in, namespaceFilterValue)
	if err != nil {
		return nil, err
	}
	out := struct {
		Namespaces []namespaceWire `json:"Namespaces"`
		NextToken  *string         `json:"NextToken,omitempty"`
	}{Namespaces: []namespaceWire{}, NextToken: next}
	for _, ns := range pg {
		out.Namespaces = append(out.Namespaces, toNamespaceWire(ns, counts[ns.ID], true))
	}
	return out, nil
}

func (s *Server) deleteNamespace(c *call) (any, error) {
	id, err := decodeID(c)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ns, services, err := s.namespaceServiceCount(c, id)
	if err != nil {
		return nil, err
	}
	if services > 0 {
		return nil, newErr("ResourceInUse", "Namespace %s has associated services; delete them first", ns.ID)
	}
	if err := s.store.Delete(c.ctx, apimodel.BucketCloudMap, apimodel.NamespaceKey(c.caller.Account, ns.ID), 0); err != nil {
		return nil, err
	}
	return s.operationResult(c, "DELETE_NAMESPACE", map[string]string{"NAMESPACE": ns.ID})
}
