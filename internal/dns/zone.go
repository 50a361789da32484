package dns

import (
	"fmt"
	"strings"

	mdns "github.com/miekg/dns"

	"gatehouse/internal/dns/r53"
)

// record is one compiled record set.
type record struct {
	set    r53.RecordSet
	rrs    []mdns.RR // parsed values; nil for an alias
	weight int64
}

// group is the record sets of one name and type.
type group struct {
	rtype   uint16
	policy  string // "simple", "weighted", "failover", "multivalue"
	records []*record
	// dynamic is set when the answer may change between queries (routing
	// policies, health checks, aliases): such answers are never cached.
	dynamic bool
}

// zoneView is a compiled hosted zone.
type zoneView struct {
	id      string
	name    string
	private bool
	vpcs    []string
	rev     uint64
	soa     mdns.RR
	names   map[string]map[uint16]*group
	// ents are the empty non-terminals: names with no records but with
	// records below them.
	ents map[string]bool
	// cuts are the names below the apex that have NS records (delegations).
	cuts map[string]bool
}

// compileZone turns a zone document into a zoneView. Record sets whose
// values do not parse are skipped and reported in the returned error (the
// rest of the zone still serves).
func compileZone(z *r53.Zone, rev uint64) (*zoneView, error) {
	zv := &zoneView{
		id: z.ID, name: z.Name, private: z.Private, rev: rev,
		names: map[string]map[uint16]*group{},
		ents:  map[string]bool{},
		cuts:  map[string]bool{},
	}
	for _, v := range z.VPCs {
		zv.vpcs = append(zv.vpcs, v.ID)
	}
	var bad []string
	for i := range z.Records {
		rs := z.Records[i]
		rtype, ok := mdns.StringToType[rs.Type]
		if !ok || !r53.InZone(rs.Name, z.Name) {
			bad = append(bad, rs.Name+" "+rs.Type)
			continue
		}
		rec := &record{set: rs}
		if rs.Weight != nil {
			rec.weight = *rs.Weight
		}
		if rs.Alias == nil {
			ttl := uint32(0)
			if rs.TTL != nil {
				ttl = uint32(min(max(*rs.TTL, 0), 1<<31-1))
			}
			for _, val := range rs.Values {
				rr, err := r53.ParseValue(rs.Name, rs.Type, ttl, val)
				if err != nil {
					bad = append(bad, rs.Name+" "+rs.Type+": "+err.Error())
					continue
				}
				rec.rrs = append(rec.rrs, rr)
			}
			if len(rec.rrs) == 0 {
				continue
			}
		}
		types := zv.names[rs.Name]
		if types == nil {
			types = map[uint16]*group{}
			zv.names[rs.Name] = types
		}
		g := types[rtype]
		if g == nil {
			g = &group{rtype: rtype, policy: rs.Policy()}
			types[rtype] = g
		}
		g.records = append(g.records, rec)
		if g.policy != "simple" || rs.HealthCheckID != "" || rs.Alias != nil || len(g.records) > 1 {
			g.dynamic = true
		}
		if rtype == mdns.TypeSOA && rs.Name == z.Name && len(rec.rrs) > 0 {
			zv.soa = rec.rrs[0]
		}
		if rtype == mdns.TypeNS && rs.Name != z.Name {
			zv.cuts[rs.Name] = true
		}
	}
	if zv.soa == nil {
		zv.soa = syntheticSOA(z.Name)
	}
	for name := range zv.names {
		for p := parent(name); p != "" && r53.InZone(p, z.Name) && p != z.Name; p = parent(p) {
			if _, ok := zv.names[p]; !ok {
				zv.ents[p] = true
			}
		}
	}
	if len(bad) > 0 {
		return zv, fmt.Errorf("zone %s (%s): skipped record sets: %s", z.Name, z.ID, strings.Join(bad, "; "))
	}
	return zv, nil
}

// parent returns name without its first label ("" for the root).
func parent(name string) string {
	i := strings.IndexByte(name, '.')
	if i < 0 || i == len(name)-1 {
		return ""
	}
	return name[i+1:]
}

// negativeSOA is the SOA for a negative answer: its TTL is the smaller of
// the SOA's TTL and its minimum (RFC 2308).
func negativeSOA(soa mdns.RR) mdns.RR {
	s, ok := soa.(*mdns.SOA)
	if !ok {
		return soa
	}
	c := *s
	c.Hdr.Ttl = min(s.Hdr.Ttl, s.Minttl)
	return &c
}
