package route53api

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"hash/fnv"
	mrand "math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"gatehouse/internal/dns/r53"
	"gatehouse/internal/store"
)

type vpcXML struct {
	VPCRegion string `xml:"VPCRegion,omitempty"`
	VPCId     string `xml:"VPCId,omitempty"`
}

type hostedZoneConfigXML struct {
	Comment     string `xml:"Comment,omitempty"`
	PrivateZone bool   `xml:"PrivateZone"`
}

type hostedZoneXML struct {
	ID                     string `xml:"Id"`
	Name                   string
	CallerReference        string
	Config                 hostedZoneConfigXML `xml:"Config"`
	ResourceRecordSetCount int
}

type delegationSetXML struct {
	NameServers []string `xml:"NameServers>NameServer"`
}

func zoneXML(z *r53.Zone) hostedZoneXML {
	return hostedZoneXML{
		ID: "/hostedzone/" + z.ID, Name: z.Name, CallerReference: z.CallerReference,
		Config:                 hostedZoneConfigXML{Comment: z.Comment, PrivateZone: z.Private},
		ResourceRecordSetCount: len(z.Records),
	}
}

func delegationSet(z *r53.Zone) *delegationSetXML {
	if z.Private {
		return nil
	}
	var ns []string
	for _, n := range r53.NameServers(z.ID, false) {
		ns = append(ns, strings.TrimSuffix(n, "."))
	}
	return &delegationSetXML{NameServers: ns}
}

type createHostedZoneRequest struct {
	XMLName          xml.Name `xml:"CreateHostedZoneRequest"`
	Name             string
	VPC              *vpcXML
	CallerReference  string
	HostedZoneConfig *struct {
		Comment     string
		PrivateZone *bool
	}
	DelegationSetID string `xml:"DelegationSetId"`
}

type createHostedZoneResponse struct {
	XMLName       xml.Name          `xml:"CreateHostedZoneResponse"`
	Xmlns         string            `xml:"xmlns,attr"`
	HostedZone    hostedZoneXML     `xml:"HostedZone"`
	ChangeInfo    changeInfoXML     `xml:"ChangeInfo"`
	DelegationSet *delegationSetXML `xml:"DelegationSet,omitempty"`
	VPC           *vpcXML           `xml:"VPC,omitempty"`
}

// refKey is the store key of a caller reference of kind ("zone" or "hc").
func refKey(kind, account, ref string) string {
	sum := sha256.Sum256([]byte(ref))
	return kind + "." + account + "." + hex.EncodeToString(sum[:16])
}

func (s *Server) createHostedZone(c *call) (int, any, error) {
	var req createHostedZoneRequest
	if err := c.decode("CreateHostedZoneRequest", &req); err != nil {
		return 0, nil, err
	}
	if req.Name == "" {
		return 0, nil, invalidInput("Invalid request: Missing field 'Name' in CreateHostedZoneRequest")
	}
	if req.CallerReference == "" || len(req.CallerReference) > 128 {
		return 0, nil, invalidInput("Invalid request: CallerReference must be 1 to 128 characters")
	}
	if req.DelegationSetID != "" {
		return 0, nil, errf(http.StatusBadRequest, "NoSuchDelegationSet", "Reusable delegation sets are not supported by gatehouse: %s", req.DelegationSetID)
	}
	name, err := r53.CanonicalName(req.Name)
	if err != nil || strings.HasPrefix(name, "*") {
		return 0, nil, errf(http.StatusBadRequest, "InvalidDomainName", "%s is not a valid domain name.", req.Name)
	}
	private := req.VPC != nil
	comment := ""
	if cfg := req.HostedZoneConfig; cfg != nil {
		comment = cfg.Comment
		if cfg.PrivateZone != nil && *cfg.PrivateZone && !private {
			return 0, nil, invalidInput("Invalid request: a private hosted zone requires a VPC")
		}
	}
	if len(comment) > 256 {
		return 0, nil, invalidInput("Invalid request: Comment is longer than 256 characters")
	}
	if !private && (name == "amazonaws.com." || strings.HasSuffix(name, ".amazonaws.com.")) {
		return 0, nil, errf(http.StatusBadRequest, "InvalidDomainName", "%s is reserved by AWS!", name)
	}
	zone := &r53.Zone{ID: "Z" + newID(20), Name: name, Account: c.caller.Account, CallerReference: req.CallerReference,
		Comment: comment, Private: private, Created: s.now().UTC()}
	if private {
		ref, err := s.checkVPC(c, req.VPC)
		if err != nil {
			return 0, nil, err
		}
		if err := s.checkConflict(c, zone, ref.ID); err != nil {
			return 0, nil, err
		}
		zone.VPCs = []r53.VPCRef{ref}
	}
	zone.Records = r53.InitialRecords(name, zone.ID, private)
	if _, err := s.store.Create(c.ctx, refsBucket, refKey("zone", c.caller.Account, req.CallerReference), []byte(zone.ID)); err != nil {
		if errors.Is(err, store.ErrExists) {
			return 0, nil, errf(http.StatusConflict, "HostedZoneAlreadyExists", "A hosted zone has already been created with the specified caller reference.")
		}
		return 0, nil, s.storeErr("create zone ref", err)
	}
	b, _ := json.Marshal(zone)
	if _, err := s.store.Create(c.ctx, r53.BucketZones, zone.ID, b); err != nil {
		_ = s.store.Delete(c.ctx, refsBucket, refKey("zone", c.caller.Account, req.CallerReference), 0)
		return 0, nil, s.storeErr("create zone", err)
	}
	out := createHostedZoneResponse{Xmlns: Namespace, HostedZone: zoneXML(zone), ChangeInfo: s.changeInfo(""), DelegationSet: delegationSet(zone)}
	if private {
		out.VPC = &vpcXML{VPCRegion: zone.VPCs[0].Region, VPCId: zone.VPCs[0].ID}
	}
	c.w.Header().Set("Location", "https://route53.amazonaws.com/2013-04-01/hostedzone/"+zone.ID)
	return http.StatusCreated, out, nil
}

// checkVPC checks a VPC named in a request: known, in gatehouse's Region,
// owned by the caller.
func (s *Server) checkVPC(c *call, v *vpcXML) (r53.VPCRef, error) {
	if v == nil || v.VPCId == "" {
		return r53.VPCRef{}, invalidInput("Invalid request: Missing field 'VPCId' in VPC")
	}
	region := v.VPCRegion
	if region == "" {
		region = s.topo.Region
	}
	vpc, ok := s.topo.VPC(v.VPCId)
	if !ok || region != s.topo.Region {
		return r53.VPCRef{}, errf(http.StatusBadRequest, "InvalidVPCId", "The VPC ID '%s' in region %s is not valid.", v.VPCId, region)
	}
	if vpc.Account != c.caller.Account {
		return r53.VPCRef{}, errf(http.StatusUnauthorized, "NotAuthorizedException",
			"The VPC %s belongs to another account; Route 53 cross-account VPC association authorizations are not supported by gatehouse.", v.VPCId)
	}
	return r53.VPCRef{Region: region, ID: vpc.ID}, nil
}

// checkConflict reports a private zone of the same name already associated
// with vpc.
func (s *Server) checkConflict(c *call, z *r53.Zone, vpc string) error {
	zones, err := s.allZones(c)
	if err != nil {
		return err
	}
	for _, o := range zones {
		if o.ID == z.ID || !o.Private || o.Name != z.Name {
			continue
		}
		if slices.ContainsFunc(o.VPCs, func(v r53.VPCRef) bool { return v.ID == vpc }) {
			return errf(http.StatusBadRequest, "ConflictingDomainExists",
				"A conflicting domain %s is already associated with the given VPC %s (hosted zone %s).", z.Name, vpc, o.ID)
		}
	}
	for _, tz := range s.topo.DNS.HostedZones {
		if tz.Private && tz.Name == z.Name && slices.Contains(tz.VPCs, vpc) {
			return errf(http.StatusBadRequest, "ConflictingDomainExists",
				"A conflicting domain %s is already associated with the given VPC %s (hosted zone %s, from the topology).", z.Name, vpc, tz.ID)
		}
	}
	return nil
}

// allZones lists every stored zone (all accounts).
func (s *Server) allZones(c *call) ([]*r53.Zone, error) {
	entries, err := s.store.List(c.ctx, r53.BucketZones, "")
	if err != nil {
		return nil, s.storeErr("list zones", err)
	}
	out := make([]*r53.Zone, 0, len(entries))
	for _, e := range entries {
		var z r53.Zone
		if err := json.Unmarshal(e.Value, &z); err != nil {
			s.log.Error("bad stored zone", "key", e.Key, "err", err)
			continue
		}
		out = append(out, &z)
	}
	return out, nil
}

// loadZone returns the caller's zone id and its revision.
func (s *Server) loadZone(c *call, id string) (*r53.Zone, uint64, error) {
	if id == "" || store.ValidateKey(id) != nil {
		return nil, 0, noSuchZone(id)
	}
	e, err := s.store.Get(c.ctx, r53.BucketZones, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, noSuchZone(id)
	}
	if err != nil {
		return nil, 0, s.storeErr("get zone", err)
	}
	var z r53.Zone
	if err := json.Unmarshal(e.Value, &z); err != nil || z.Account != c.caller.Account {
		return nil, 0, noSuchZone(id)
	}
	return &z, e.Revision, nil
}

type getHostedZoneResponse struct {
	XMLName       xml.Name          `xml:"GetHostedZoneResponse"`
	Xmlns         string            `xml:"xmlns,attr"`
	HostedZone    hostedZoneXML     `xml:"HostedZone"`
	DelegationSet *delegationSetXML `xml:"DelegationSet,omitempty"`
	VPCs          []vpcXML          `xml:"VPCs>VPC,omitempty"`
}

func (s *Server) getHostedZone(c *call) (int, any, error) {
	z, _, err := s.loadZone(c, zoneIDParam(c))
	if err != nil {
		return 0, nil, err
	}
	out := getHostedZoneResponse{Xmlns: Namespace, HostedZone: zoneXML(z), DelegationSet: delegationSet(z)}
	for _, v := range z.VPCs {
		out.VPCs = append(out.VPCs, vpcXML{VPCRegion: v.Region, VPCId: v.ID})
	}
	return http.StatusOK, out, nil
}

type listHostedZonesResponse struct {
	XMLName     xml.Name        `xml:"ListHostedZonesResponse"`
	Xmlns       string          `xml:"xmlns,attr"`
	HostedZones []hostedZoneXML `xml:"HostedZones>HostedZone"`
	Marker      string
	IsTruncated bool
	NextMarker  string `xml:",omitempty"`
	MaxItems    string
}

// maxItems parses the maxitems parameter.
func maxItems(c *call, def, limit int) (int, error) {
	v := c.r.URL.Query().Get("maxitems")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, invalidInput("Invalid request: maxitems must be a positive integer, got '%s'", v)
	}
	return min(n, limit), nil
}

// accountZones lists the caller's zones.
func (s *Server) accountZones(c *call) ([]*r53.Zone, error) {
	all, err := s.allZones(c)
	if err != nil {
		return nil, err
	}
	var out []*r53.Zone
	for _, z := range all {
		if z.Account == c.caller.Account {
			out = append(out, z)
		}
	}
	return out, nil
}

func (s *Server) listHostedZones(c *call) (int, any, error) {
	limit, err := maxItems(c, 100, 100)
	if err != nil {
		return 0, nil, err
	}
	q := c.r.URL.Query()
	if q.Get("delegationsetid") != "" {
		return 0, nil, errf(http.StatusBadRequest, "NoSuchDelegationSet", "Reusable delegation sets are not supported by gatehouse.")
	}
	typ := q.Get("hostedzonetype")
	if typ != "" && typ != "PrivateHostedZone" {
		return 0, nil, invalidInput("Invalid request: hostedzonetype must be PrivateHostedZone")
	}
	zones, err := s.accountZones(c)
	if err != nil {
		return 0, nil, err
	}
	slices.SortFunc(zones, func(a, b *r53.Zone) int { return cmp.Compare(a.ID, b.ID) })
	marker := q.Get("marker")
	out := listHostedZonesResponse{Xmlns: Namespace, Marker: marker, MaxItems: strconv.Itoa(limit), HostedZones: []hostedZoneXML{}}
	for _, z := range zones {
		if (marker != "" && z.ID < marker) || (typ != "" && !z.Private) {
			continue
		}
		if len(out.HostedZones) == limit {
			out.IsTruncated = true
			out.NextMarker = z.ID
			break
		}
		out.HostedZones = append(out.HostedZones, zoneXML(z))
	}
	return http.StatusOK, out, nil
}

type listHostedZonesByNameResponse struct {
	XMLName          xml.Name        `xml:"ListHostedZonesByNameResponse"`
	Xmlns            string          `xml:"xmlns,attr"`
	HostedZones      []hostedZoneXML `xml:"HostedZones>HostedZone"`
	DNSName          string          `xml:",omitempty"`
	HostedZoneID     string          `xml:"HostedZoneId,omitempty"`
	IsTruncated      bool
	NextDNSName      string `xml:",omitempty"`
	NextHostedZoneID string `xml:"NextHostedZoneId,omitempty"`
	MaxItems         string
}

func (s *Server) listHostedZonesByName(c *call) (int, any, error) {
	limit, err := maxItems(c, 100, 100)
	if err != nil {
		return 0, nil, err
	}
	q := c.r.URL.Query()
	dnsName, startID := q.Get("dnsname"), q.Get("hostedzoneid")
	if startID != "" && dnsName == "" {
		return 0, nil, invalidInput("Invalid request: hostedzoneid requires dnsname")
	}
	start := ""
	if dnsName != "" {
		if start, err = r53.CanonicalName(dnsName); err != nil {
			return 0, nil, errf(http.StatusBadRequest, "InvalidDomainName", "%s is not a valid domain name.", dnsName)
		}
	}
	zones, err := s.accountZones(c)
	if err != nil {
		return 0, nil, err
	}
	order := func(a, b *r53.Zone) int {
		return cmp.Or(r53.CompareNames(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	}
	slices.SortFunc(zones, order)
	out := listHostedZonesByNameResponse{Xmlns: Namespace, DNSName: dnsName, HostedZoneID: startID, MaxItems: strconv.Itoa(limit), HostedZones: []hostedZoneXML{}}
	for _, z := range zones {
		if start != "" {
			if c := r53.CompareNames(z.Name, start); c < 0 || c == 0 && startID != "" && z.ID < startID {
				continue
			}
		}
		if len(out.HostedZones) == limit {
			out.IsTruncated = true
			out.NextDNSName = z.Name
			out.NextHostedZoneID = z.ID
			break
		}
		out.HostedZones = append(out.HostedZones, zoneXML(z))
	}
	return http.StatusOK, out, nil
}

type deleteHostedZoneResponse struct {
	XMLName    xml.Name      `xml:"DeleteHostedZoneResponse"`
	Xmlns      string        `xml:"xmlns,attr"`
	ChangeInfo changeInfoXML `xml:"ChangeInfo"`
}

func (s *Server) deleteHostedZone(c *call) (int, any, error) {
	z, rev, err := s.loadZone(c, zoneIDParam(c))
	if err != nil {
		return 0, nil, err
	}
	for _, r := range z.Records {
		if r.Name != z.Name || (r.Type != "SOA" && r.Type != "NS") {
			return 0, nil, errf(http.StatusBadRequest, "HostedZoneNotEmpty",
				"The specified hosted zone contains non-required resource record sets and so cannot be deleted.")
		}
	}
	if err := s.store.Delete(c.ctx, r53.BucketZones, z.ID, rev); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return 0, nil, noSuchZone(z.ID)
		}
		return 0, nil, s.storeErr("delete zone", err)
	}
	return http.StatusOK, deleteHostedZoneResponse{Xmlns: Namespace, ChangeInfo: s.changeInfo("")}, nil
}

type associateVPCRequest struct {
	XMLName xml.Name `xml:"AssociateVPCWithHostedZoneRequest"`
	VPC     *vpcXML
	Comment string
}

type disassociateVPCRequest struct {
	XMLName xml.Name `xml:"DisassociateVPCFromHostedZoneRequest"`
	VPC     *vpcXML
	Comment string
}

type associateVPCResponse struct {
	XMLName    xml.Name      `xml:"AssociateVPCWithHostedZoneResponse"`
	Xmlns      string        `xml:"xmlns,attr"`
	ChangeInfo changeInfoXML `xml:"ChangeInfo"`
}

type disassociateVPCResponse struct {
	XMLName    xml.Name      `xml:"DisassociateVPCFromHostedZoneResponse"`
	Xmlns      string        `xml:"xmlns,attr"`
	ChangeInfo changeInfoXML `xml:"ChangeInfo"`
}

// updateZone applies fn to the caller's zone and writes it conditionally,
// retrying when another writer got there first.
func (s *Server) updateZone(c *call, id string, fn func(z *r53.Zone) error) error {
	defer s.lock(id)()
	for attempt := range 20 {
		if attempt > 0 {
			// Another node wrote the zone: back off a little, jittered.
			d := time.Duration(1+mrand.IntN(1<<min(attempt, 6))) * time.Millisecond
			select {
			case <-time.After(d):
			case <-c.ctx.Done():
				return priorRequest()
			}
		}
		z, rev, err := s.loadZone(c, id)
		if err != nil {
			return err
		}
		if err := fn(z); err != nil {
			return err
		}
		b, err := json.Marshal(z)
		if err != nil {
			return s.storeErr("encode zone", err)
		}
		_, err = s.store.Update(c.ctx, r53.BucketZones, id, b, rev)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, store.ErrConflict):
			continue
		case errors.Is(err, store.ErrNotFound):
			return noSuchZone(id)
		default:
			return s.storeErr("update zone", err)
		}
	}
	return priorRequest()
}

func (s *Server) associateVPC(c *call) (int, any, error) {
	var req associateVPCRequest
	if err := c.decode("AssociateVPCWithHostedZoneRequest", &req); err != nil {
		return 0, nil, err
	}
	id := zoneIDParam(c)
	err := s.updateZone(c, id, func(z *r53.Zone) error {
		if !z.Private {
			return errf(http.StatusBadRequest, "PublicZoneVPCAssociation", "Public hosted zones cannot be associated with VPCs.")
		}
		ref, err := s.checkVPC(c, req.VPC)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(z.VPCs, func(v r53.VPCRef) bool { return v.ID == ref.ID }) {
			return errf(http.StatusBadRequest, "ConflictingDomainExists",
				"The VPC %s in region %s has already been associated with the hosted zone %s with the same domain name.", ref.ID, ref.Region, z.ID)
		}
		if err := s.checkConflict(c, z, ref.ID); err != nil {
			return err
		}
		z.VPCs = append(z.VPCs, ref)
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, associateVPCResponse{Xmlns: Namespace, ChangeInfo: s.changeInfo(req.Comment)}, nil
}

func (s *Server) disassociateVPC(c *call) (int, any, error) {
	var req disassociateVPCRequest
	if err := c.decode("DisassociateVPCFromHostedZoneRequest", &req); err != nil {
		return 0, nil, err
	}
	if req.VPC == nil || req.VPC.VPCId == "" {
		return 0, nil, invalidInput("Invalid request: Missing field 'VPCId' in VPC")
	}
	err := s.updateZone(c, zoneIDParam(c), func(z *r53.Zone) error {
		i := slices.IndexFunc(z.VPCs, func(v r53.VPCRef) bool { return v.ID == req.VPC.VPCId })
		switch {
		case !z.Private || i < 0:
			return errf(http.StatusNotFound, "VPCAssociationNotFound", "The specified VPC %s is not associated with the hosted zone %s.", req.VPC.VPCId, z.ID)
		case len(z.VPCs) == 1:
			return errf(http.StatusBadRequest, "LastVPCAssociation", "The VPC %s cannot be disassociated from the hosted zone %s because it is the last VPC associated with it.", req.VPC.VPCId, z.ID)
		}
		z.VPCs = slices.Delete(z.VPCs, i, i+1)
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, disassociateVPCResponse{Xmlns: Namespace, ChangeInfo: s.changeInfo(req.Comment)}, nil
}

// lock serializes, within this process, read-modify-write cycles on one
// zone (striped by id). Revisions already make concurrent writers safe; the
// locks keep local writers from spending the retry budget on each other.
func (s *Server) lock(id string) func() {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	m := &s.locks[h.Sum32()%uint32(len(s.locks))]
	m.Lock()
	return m.Unlock
}
