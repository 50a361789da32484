package route53api

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"gatehouse/internal/dns/r53"
	"gatehouse/internal/store"
)

// presence records that an element was sent, whatever it held.
type presence struct {
	Inner string `xml:",innerxml"`
}

type valueXML struct {
	Value string
}

type aliasXML struct {
	HostedZoneID         string `xml:"HostedZoneId"`
	DNSName              string
	EvaluateTargetHealth bool
}

// rrsetXML is Route 53's ResourceRecordSet.
type rrsetXML struct {
	Name                    string
	Type                    string
	SetIdentifier           string     `xml:",omitempty"`
	Weight                  *int64     `xml:",omitempty"`
	Region                  string     `xml:",omitempty"`
	GeoLocation             *presence  `xml:",omitempty"`
	Failover                string     `xml:",omitempty"`
	MultiValueAnswer        *bool      `xml:",omitempty"`
	TTL                     *int64     `xml:",omitempty"`
	ResourceRecords         []valueXML `xml:"ResourceRecords>ResourceRecord,omitempty"`
	AliasTarget             *aliasXML  `xml:",omitempty"`
	HealthCheckID           string     `xml:"HealthCheckId,omitempty"`
	TrafficPolicyInstanceID string     `xml:"TrafficPolicyInstanceId,omitempty"`
	CidrRoutingConfig       *presence  `xml:",omitempty"`
	GeoProximityLocation    *presence  `xml:",omitempty"`
}

type changeXML struct {
	Action            string
	ResourceRecordSet *rrsetXML
}

type changeRequest struct {
	XMLName     xml.Name `xml:"ChangeResourceRecordSetsRequest"`
	ChangeBatch *struct {
		Comment string
		Changes []changeXML `xml:"Changes>Change"`
	}
}

type changeResponse struct {
	XMLName    xml.Name      `xml:"ChangeResourceRecordSetsResponse"`
	Xmlns      string        `xml:"xmlns,attr"`
	ChangeInfo changeInfoXML `xml:"ChangeInfo"`
}

func toRecordSet(x *rrsetXML) r53.RecordSet {
	r := r53.RecordSet{Name: x.Name, Type: x.Type, SetIdentifier: x.SetIdentifier, Weight: x.Weight,
		Failover: x.Failover, MultiValueAnswer: x.MultiValueAnswer, TTL: x.TTL, HealthCheckID: x.HealthCheckID}
	for _, v := range x.ResourceRecords {
		r.Values = append(r.Values, v.Value)
	}
	if a := x.AliasTarget; a != nil {
		r.Alias = &r53.AliasTarget{HostedZoneID: strings.TrimPrefix(a.HostedZoneID, "/hostedzone/"), DNSName: a.DNSName, EvaluateTargetHealth: a.EvaluateTargetHealth}
	}
	return r
}

func fromRecordSet(r *r53.RecordSet) rrsetXML {
	x := rrsetXML{Name: r53.APIName(r.Name), Type: r.Type, SetIdentifier: r.SetIdentifier, Weight: r.Weight,
		Failover: r.Failover, MultiValueAnswer: r.MultiValueAnswer, TTL: r.TTL, HealthCheckID: r.HealthCheckID}
	for _, v := range r.Values {
		x.ResourceRecords = append(x.ResourceRecords, valueXML{Value: v})
	}
	if a := r.Alias; a != nil {
		x.AliasTarget = &aliasXML{HostedZoneID: a.HostedZoneID, DNSName: r53.APIName(a.DNSName), EvaluateTargetHealth: a.EvaluateTargetHealth}
	}
	return x
}

// unsupported names a routing feature of x that gatehouse does not
// implement, or "".
func unsupported(x *rrsetXML) string {
	switch {
	case x.Region != "":
		return "Latency-based routing (Region)"
	case x.GeoLocation != nil:
		return "Geolocation routing (GeoLocation)"
	case x.GeoProximityLocation != nil:
		return "Geoproximity routing (GeoProximityLocation)"
	case x.CidrRoutingConfig != nil:
		return "IP-based routing (CidrRoutingConfig)"
	case x.TrafficPolicyInstanceID != "":
		return "Traffic policies (TrafficPolicyInstanceId)"
	}
	return ""
}

func (s *Server) changeResourceRecordSets(c *call) (int, any, error) {
	id := zoneIDParam(c)
	if _, _, err := s.loadZone(c, id); err != nil {
		return 0, nil, err
	}
	changes, comment, err := parseChangeBatch(c.body)
	if err != nil {
		return 0, nil, err
	}
	checks := map[string]bool{}
	exists := func(hcID string) bool {
		if ok, seen := checks[hcID]; seen {
			return ok
		}
		ok := false
		if store.ValidateKey(hcID) == nil {
			if e, err := s.store.Get(c.ctx, r53.BucketHealthChecks, hcID); err == nil {
				var h r53.HealthCheck
				ok = json.Unmarshal(e.Value, &h) == nil && h.Account == c.caller.Account
			}
		}
		checks[hcID] = ok
		return ok
	}
	err = s.updateZone(c, id, func(z *r53.Zone) error {
		records, cerr := r53.ApplyChanges(z, changes, exists)
		if cerr != nil {
			switch cerr.Code {
			case r53.CodeNoSuchHealthCheck:
				return errf(http.StatusNotFound, cerr.Code, "%s", cerr.Messages[0])
			case r53.CodeInvalidInput:
				return invalidInput("%s", cerr.Messages[0])
			default:
				return errf(http.StatusBadRequest, r53.CodeInvalidChangeBatch, "%s", cerr.Error())
			}
		}
		z.Records = records
		return nil
	})
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			return 0, nil, ae
		}
		return 0, nil, err
	}
	return http.StatusOK, changeResponse{Xmlns: Namespace, ChangeInfo: s.changeInfo(comment)}, nil
}

// parseChangeBatch decodes a ChangeResourceRecordSetsRequest document.
func parseChangeBatch(body []byte) ([]r53.Change, string, error) {
	var req changeRequest
	c := &call{body: body}
	if err := c.decode("ChangeResourceRecordSetsRequest", &req); err != nil {
		return nil, "", err
	}
	if req.ChangeBatch == nil {
		return nil, "", invalidInput("Invalid request: Missing field 'ChangeBatch' in ChangeResourceRecordSetsRequest")
	}
	if len(req.ChangeBatch.Comment) > 256 {
		return nil, "", invalidInput("Invalid request: Comment is longer than 256 characters")
	}
	changes := make([]r53.Change, 0, len(req.ChangeBatch.Changes))
	for i, ch := range req.ChangeBatch.Changes {
		if ch.ResourceRecordSet == nil {
			return nil, "", invalidInput("Invalid request: Missing field 'ResourceRecordSet' in Change %d", i+1)
		}
		if what := unsupported(ch.ResourceRecordSet); what != "" {
			return nil, "", invalidInput("Invalid request: %s is not supported by gatehouse (Change with [Action=%s, Name=%s, Type=%s])",
				what, ch.Action, ch.ResourceRecordSet.Name, ch.ResourceRecordSet.Type)
		}
		changes = append(changes, r53.Change{Action: ch.Action, Record: toRecordSet(ch.ResourceRecordSet)})
	}
	return changes, req.ChangeBatch.Comment, nil
}

type listRecordsResponse struct {
	XMLName              xml.Name   `xml:"ListResourceRecordSetsResponse"`
	Xmlns                string     `xml:"xmlns,attr"`
	ResourceRecordSets   []rrsetXML `xml:"ResourceRecordSets>ResourceRecordSet"`
	IsTruncated          bool
	NextRecordName       string `xml:",omitempty"`
	NextRecordType       string `xml:",omitempty"`
	NextRecordIdentifier string `xml:",omitempty"`
	MaxItems             string
}

func (s *Server) listResourceRecordSets(c *call) (int, any, error) {
	z, _, err := s.loadZone(c, zoneIDParam(c))
	if err != nil {
		return 0, nil, err
	}
	limit, err := maxItems(c, 300, 300)
	if err != nil {
		return 0, nil, err
	}
	q := c.r.URL.Query()
	startName, startType, startID := q.Get("name"), q.Get("type"), q.Get("identifier")
	if startType != "" && startName == "" {
		return 0, nil, invalidInput("Invalid request: type requires name")
	}
	if startID != "" && startType == "" {
		return 0, nil, invalidInput("Invalid request: identifier requires name and type")
	}
	if startType != "" && !r53.IsRecordType(startType) {
		return 0, nil, invalidInput("Invalid request: type '%s' is not a record type", startType)
	}
	if startName != "" {
		if startName, err = r53.CanonicalName(startName); err != nil {
			return 0, nil, invalidInput("Invalid request: name: %v", err)
		}
	}
	records := z.Records
	r53.SortRecords(records)
	out := listRecordsResponse{Xmlns: Namespace, MaxItems: strconv.Itoa(limit), ResourceRecordSets: []rrsetXML{}}
	for i := range records {
		r := &records[i]
		if startName != "" {
			c := r53.CompareNames(r.Name, startName)
			if c < 0 || c == 0 && (r.Type < startType || r.Type == startType && r.SetIdentifier < startID) {
				continue
			}
		}
		if len(out.ResourceRecordSets) == limit {
			out.IsTruncated = true
			out.NextRecordName = r53.APIName(r.Name)
			out.NextRecordType = r.Type
			out.NextRecordIdentifier = r.SetIdentifier
			break
		}
		out.ResourceRecordSets = append(out.ResourceRecordSets, fromRecordSet(r))
	}
	return http.StatusOK, out, nil
}
