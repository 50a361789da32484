package dns

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	mdns "github.com/miekg/dns"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/dns/r53"
)

// Cloud Map: a DNS namespace is served as the hosted zone AWS Cloud Map
// creates for it, holding the records RegisterInstance creates (see the
// package comment). The zones are compiled from the apimodel.BucketCloudMap
// documents whenever they change, and take part in views like any other
// hosted zone.

// cloudMapDefaultSOATTL is the namespace SOA TTL when a namespace document
// has none (cloudmapapi's default).
const cloudMapDefaultSOATTL = 15

// cloudMapDocs are the Cloud Map documents DNS reads, by store key.
type cloudMapDocs struct {
	namespaces map[string]*apimodel.Namespace
	services   map[string]*apimodel.Service
	instances  map[string]*apimodel.Instance
}

func newCloudMapDocs() cloudMapDocs {
	return cloudMapDocs{
		namespaces: map[string]*apimodel.Namespace{},
		services:   map[string]*apimodel.Service{},
		instances:  map[string]*apimodel.Instance{},
	}
}

// put decodes one stored document into d (replacing what the key held).
// Keys of other kinds are ignored; an undecodable document is removed and
// its error returned.
func (d cloudMapDocs) put(key string, value []byte) error {
	d.remove(key)
	var err error
	switch apimodel.KeyKind(key) {
	case "ns":
		var x apimodel.Namespace
		if err = json.Unmarshal(value, &x); err == nil {
			d.namespaces[key] = &x
		}
	case "srv":
		var x apimodel.Service
		if err = json.Unmarshal(value, &x); err == nil {
			d.services[key] = &x
		}
	case "inst":
		var x apimodel.Instance
		if err = json.Unmarshal(value, &x); err == nil {
			d.instances[key] = &x
		}
	}
	return err
}

// remove forgets the document under key.
func (d cloudMapDocs) remove(key string) {
	delete(d.namespaces, key)
	delete(d.services, key)
	delete(d.instances, key)
}

// compileCloudMap compiles every DNS namespace of d into a zone, in
// namespace id order. HTTP namespaces, private namespaces without a VPC and
// namespaces whose name is not a DNS name are left out; the error lists
// what was left out or skipped (the rest still serves).
func compileCloudMap(d cloudMapDocs) ([]*zoneView, error) {
	type ref struct{ account, id string }
	services := map[ref][]*apimodel.Service{}
	for _, sv := range d.services {
		r := ref{sv.Account, sv.NamespaceID}
		services[r] = append(services[r], sv)
	}
	instances := map[ref][]*apimodel.Instance{}
	for _, inst := range d.instances {
		r := ref{inst.Account, inst.ServiceID}
		instances[r] = append(instances[r], inst)
	}
	nss := make([]*apimodel.Namespace, 0, len(d.namespaces))
	for _, ns := range d.namespaces {
		nss = append(nss, ns)
	}
	slices.SortFunc(nss, func(a, b *apimodel.Namespace) int {
		return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Account, b.Account))
	})
	var zones []*zoneView
	var bad []string
	for _, ns := range nss {
		if ns.Type != apimodel.NamespaceDNSPrivate && ns.Type != apimodel.NamespaceDNSPublic {
			continue
		}
		svcs := services[ref{ns.Account, ns.ID}]
		byService := make(map[string][]*apimodel.Instance, len(svcs))
		for _, sv := range svcs {
			byService[sv.ID] = instances[ref{sv.Account, sv.ID}]
		}
		zv, err := compileNamespace(ns, svcs, byService)
		if err != nil {
			bad = append(bad, err.Error())
		}
		if zv != nil {
			zones = append(zones, zv)
		}
	}
	if len(bad) > 0 {
		return zones, fmt.Errorf("cloud map: %s", strings.Join(bad, "; "))
	}
	return zones, nil
}

// cmEntry is one record a namespace zone will hold, before health is
// applied.
type cmEntry struct {
	rec     *record
	healthy bool
}

// cmGroup is the records of one name and type in a namespace zone.
type cmGroup struct {
	policy  string
	entries []cmEntry
}

// compileNamespace builds the hosted zone of one DNS namespace: SOA and NS
// at the apex, and for every service with a DnsConfig the records
// RegisterInstance creates for its instances. It returns nil when the
// namespace cannot be served at all.
func compileNamespace(ns *apimodel.Namespace, services []*apimodel.Service, instances map[string][]*apimodel.Instance) (*zoneView, error) {
	zoneName, err := r53.CanonicalName(ns.Name)
	if err != nil {
		return nil, fmt.Errorf("namespace %s: name %q: %v", ns.ID, ns.Name, err)
	}
	private := ns.Type == apimodel.NamespaceDNSPrivate
	if private && ns.VpcID == "" {
		return nil, fmt.Errorf("namespace %s: private DNS namespace without a VPC", ns.ID)
	}
	zoneID := ""
	soaTTL := int64(cloudMapDefaultSOATTL)
	if p := ns.Properties; p != nil && p.DNSProperties != nil {
		zoneID = p.DNSProperties.HostedZoneID
		if p.DNSProperties.SOA != nil {
			soaTTL = min(max(p.DNSProperties.SOA.TTL, 0), 1<<31-1)
		}
	}
	if zoneID == "" {
		zoneID = r53.DerivedZoneID("cloudmap/" + ns.Account + "/" + ns.ID)
	}
	zv := &zoneView{
		id: zoneID, name: zoneName, private: private,
		names: map[string]map[uint16]*group{},
		ents:  map[string]bool{},
		cuts:  map[string]bool{},
	}
	if private {
		zv.vpcs = []string{ns.VpcID}
	}
	groups := map[string]map[uint16]*cmGroup{}
	add := func(name, policy, setID string, rr mdns.RR, healthy bool) {
		types := groups[name]
		if types == nil {
			types = map[uint16]*cmGroup{}
			groups[name] = types
		}
		rtype := rr.Header().Rrtype
		g := types[rtype]
		if g == nil {
			g = &cmGroup{policy: policy}
			types[rtype] = g
		}
		ttl := int64(rr.Header().Ttl)
		rec := &record{rrs: []mdns.RR{rr}}
		rec.set = r53.RecordSet{Name: name, Type: mdns.TypeToString[rtype], SetIdentifier: setID, TTL: &ttl}
		switch policy {
		case "weighted":
			// Cloud Map gives every record the same weight.
			rec.weight = 1
			rec.set.Weight = &rec.weight
		case "multivalue":
			t := true
			rec.set.MultiValueAnswer = &t
		}
		g.entries = append(g.entries, cmEntry{rec: rec, healthy: healthy})
	}

	soa, err := r53.ParseValue(zoneName, "SOA", uint32(soaTTL), r53.SOAValue(zoneID, private))
	if err != nil {
		return nil, fmt.Errorf("namespace %s: SOA: %v", ns.ID, err)
	}
	zv.soa = soa
	add(zoneName, "simple", "", soa, true)
	for _, server := range r53.NameServers(zoneID, private) {
		add(zoneName, "simple", "", &mdns.NS{Hdr: rrHeader(zoneName, mdns.TypeNS, r53.NSTTL), Ns: server}, true)
	}

	var bad []string
	svcs := slices.Clone(services)
	slices.SortFunc(svcs, func(a, b *apimodel.Service) int { return cmp.Compare(a.ID, b.ID) })
	for _, sv := range svcs {
		if sv.DNSConfig == nil || len(sv.DNSConfig.DNSRecords) == 0 {
			continue
		}
		svcName, err := r53.CanonicalName(sv.Name + "." + zoneName)
		if err != nil || svcName == zoneName {
			bad = append(bad, fmt.Sprintf("service %s: name %q is not a DNS name", sv.ID, sv.Name))
			continue
		}
		policy := "multivalue"
		if sv.DNSConfig.RoutingPolicy == "WEIGHTED" {
			policy = "weighted"
		}
		insts := slices.Clone(instances[sv.ID])
		slices.SortFunc(insts, func(a, b *apimodel.Instance) int { return cmp.Compare(a.ID, b.ID) })
		for _, inst := range insts {
			if skipped := addInstance(sv, svcName, policy, inst, add); skipped != "" {
				bad = append(bad, fmt.Sprintf("service %s instance %q: %s", sv.ID, inst.ID, skipped))
			}
		}
	}

	for name, types := range groups {
		m := make(map[uint16]*group, len(types))
		for rtype, cg := range types {
			g := &group{rtype: rtype, policy: cg.policy}
			// Route 53: only healthy records answer; when none is
			// healthy, all of them do (weighted: as if all were healthy;
			// multivalue: up to eight unhealthy records).
			for _, e := range cg.entries {
				if e.healthy {
					g.records = append(g.records, e.rec)
				}
			}
			if len(g.records) == 0 {
				for _, e := range cg.entries {
					g.records = append(g.records, e.rec)
				}
			}
			g.dynamic = len(g.records) > 1 && g.policy != "simple"
			m[rtype] = g
		}
		zv.names[name] = m
	}
	for name := range zv.names {
		for p := parent(name); p != "" && r53.InZone(p, zoneName) && p != zoneName; p = parent(p) {
			if _, ok := zv.names[p]; !ok {
				zv.ents[p] = true
			}
		}
	}
	if len(bad) > 0 {
		return zv, fmt.Errorf("namespace %s (%s): skipped: %s", zoneName, ns.ID, strings.Join(bad, "; "))
	}
	return zv, nil
}

// addInstance adds the records RegisterInstance creates for inst, as
// sv's DnsRecords ask: A (AWS_INSTANCE_IPV4) and AAAA (AWS_INSTANCE_IPV6)
// at the service name; SRV "1 1 {AWS_INSTANCE_PORT} {instance}.{service}"
// at the service name, with A/AAAA records for that target; CNAME
// (AWS_INSTANCE_CNAME) at the service name. It returns what it had to
// skip, if anything.
func addInstance(sv *apimodel.Service, svcName, policy string, inst *apimodel.Instance, add func(name, policy, setID string, rr mdns.RR, healthy bool)) string {
	healthy := cloudMapHealthy(sv, inst)
	v4, v6 := instanceAddrs(inst)
	var skipped []string
	for _, dr := range sv.DNSConfig.DNSRecords {
		ttl := uint32(min(max(dr.TTL, 0), 1<<31-1))
		switch dr.Type {
		case "A":
			if v4.IsValid() {
				add(svcName, policy, inst.ID, &mdns.A{Hdr: rrHeader(svcName, mdns.TypeA, ttl), A: v4.AsSlice()}, healthy)
			}
		case "AAAA":
			if v6.IsValid() {
				add(svcName, policy, inst.ID, &mdns.AAAA{Hdr: rrHeader(svcName, mdns.TypeAAAA, ttl), AAAA: v6.AsSlice()}, healthy)
			}
		case "SRV":
			port, err := strconv.ParseUint(inst.Attributes[apimodel.AttrInstancePort], 10, 16)
			if err != nil {
				skipped = append(skipped, "SRV: AWS_INSTANCE_PORT is not a port")
				continue
			}
			target, ok := instanceHostname(inst.ID, svcName)
			if !ok {
				skipped = append(skipped, "SRV: the instance id does not make a DNS name")
				continue
			}
			add(svcName, policy, inst.ID, &mdns.SRV{Hdr: rrHeader(svcName, mdns.TypeSRV, ttl),
				Priority: 1, Weight: 1, Port: uint16(port), Target: target}, healthy)
			// The SRV target's own A/AAAA records, with the SRV's TTL
			// (AWS does not document their TTL).
			if v4.IsValid() {
				add(target, policy, inst.ID, &mdns.A{Hdr: rrHeader(target, mdns.TypeA, ttl), A: v4.AsSlice()}, healthy)
			}
			if v6.IsValid() {
				add(target, policy, inst.ID, &mdns.AAAA{Hdr: rrHeader(target, mdns.TypeAAAA, ttl), AAAA: v6.AsSlice()}, healthy)
			}
		case "CNAME":
			cname, ok := hostname(inst.Attributes[apimodel.AttrInstanceCNAME])
			if !ok {
				skipped = append(skipped, "CNAME: AWS_INSTANCE_CNAME is not a domain name")
				continue
			}
			add(svcName, policy, inst.ID, &mdns.CNAME{Hdr: rrHeader(svcName, mdns.TypeCNAME, ttl), Target: cname}, healthy)
		}
	}
	return strings.Join(skipped, ", ")
}

// cloudMapHealthy reports whether an instance counts as healthy for DNS:
// always for a service without a health check; otherwise when its status
// is HEALTHY (an empty status is HEALTHY, as Cloud Map reports it).
func cloudMapHealthy(sv *apimodel.Service, inst *apimodel.Instance) bool {
	if sv.HealthCheckCustomConfig == nil && sv.HealthCheckConfig == nil {
		return true
	}
	return inst.HealthStatus == "" || inst.HealthStatus == apimodel.HealthHealthy
}

// instanceAddrs returns the instance's IPv4 and IPv6 attributes; an
// attribute that is missing or not an address of its family is invalid.
func instanceAddrs(inst *apimodel.Instance) (v4, v6 netip.Addr) {
	if a, err := netip.ParseAddr(inst.Attributes[apimodel.AttrInstanceIPv4]); err == nil && a.Is4() {
		v4 = a
	}
	if a, err := netip.ParseAddr(inst.Attributes[apimodel.AttrInstanceIPv6]); err == nil && a.Is6() && a.Zone() == "" {
		v6 = a
	}
	return v4, v6
}

// instanceHostname returns {instanceID}.{svcName} (svcName canonical) in the
// canonical presentation form queries arrive in: each '.'-separated part of
// the id is one label, escaped as the DNS library escapes received names,
// and lowercased. ok is false when that is not a valid DNS name (an empty
// label, a label over 63 bytes, a name over 255 bytes).
func instanceHostname(instanceID, svcName string) (string, bool) {
	wire := make([]byte, 0, 256)
	for label := range strings.SplitSeq(instanceID, ".") {
		if len(label) == 0 || len(label) > 63 {
			return "", false
		}
		wire = append(wire, byte(len(label)))
		wire = append(wire, label...)
	}
	rest := make([]byte, 256)
	n, err := mdns.PackDomainName(svcName, rest, 0, nil, false)
	if err != nil || len(wire)+n > 255 {
		return "", false
	}
	wire = append(wire, rest[:n]...)
	name, _, err := mdns.UnpackDomainName(wire, 0)
	if err != nil {
		return "", false
	}
	return strings.ToLower(name), true
}

// hostname returns s as a fully qualified, lowercase domain name, if it is
// one.
func hostname(s string) (string, bool) {
	if s == "" || s == "." {
		return "", false
	}
	name := strings.ToLower(mdns.Fqdn(s))
	if _, ok := mdns.IsDomainName(name); !ok {
		return "", false
	}
	return name, true
}

func rrHeader(name string, rtype uint16, ttl uint32) mdns.RR_Header {
	return mdns.RR_Header{Name: name, Rrtype: rtype, Class: mdns.ClassINET, Ttl: ttl}
}
