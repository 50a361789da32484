package dns

import (
	"net/netip"
	"strings"

	mdns "github.com/miekg/dns"

	"gatehouse/internal/dns/r53"
)

// maxChain bounds CNAME chains and alias indirections.
const maxChain = 8

// maxMultiValue is the most records a multivalue answer returns.
const maxMultiValue = 8

// result is the answer to one question.
type result struct {
	rcode  int
	aa     bool
	answer []mdns.RR
	ns     []mdns.RR
	// cacheable is false when the answer depends on health, chance or an
	// upstream server.
	cacheable bool
	// forward, when set, says the question must be forwarded there.
	forward []netip.AddrPort
}

// resolver answers questions from one view.
type resolver struct {
	v      *view
	health func(id string) bool
	randN  func(n int64) int64
}

// resolve answers qname/qtype (qname canonical) in horizon h, following
// CNAMEs through gatehouse's own data.
func (r *resolver) resolve(h *horizonView, qname string, qtype uint16) result {
	res := r.lookup(h, qname, qtype, 0)
	if qtype == mdns.TypeCNAME || res.forward != nil || res.rcode != mdns.RcodeSuccess {
		return res
	}
	seen := map[string]bool{qname: true}
	for range maxChain {
		if len(res.answer) == 0 {
			break
		}
		last, ok := res.answer[len(res.answer)-1].(*mdns.CNAME)
		if !ok {
			break
		}
		target := strings.ToLower(last.Target)
		if seen[target] {
			break
		}
		seen[target] = true
		next := r.lookup(h, target, qtype, 0)
		if next.rcode == mdns.RcodeRefused {
			break // outside gatehouse's data; the client follows it
		}
		if next.forward != nil {
			// The target is outside gatehouse's data: the client's
			// resolver follows it.
			res.cacheable = false
			break
		}
		res.answer = append(res.answer, next.answer...)
		res.ns = next.ns
		res.rcode = next.rcode
		res.cacheable = res.cacheable && next.cacheable
		if next.rcode != mdns.RcodeSuccess {
			break
		}
	}
	return res
}

// lookup answers without following CNAMEs.
func (r *resolver) lookup(h *horizonView, qname string, qtype uint16, depth int) result {
	a := h.find(qname)
	if a == nil {
		if len(h.upstreams) > 0 {
			return result{forward: h.upstreams}
		}
		return result{rcode: mdns.RcodeRefused, cacheable: true}
	}
	switch a.kind {
	case authRule:
		return result{forward: a.targets}
	case authCapture:
		if qname == a.name {
			return apexAnswer(a.soa, qname, qtype)
		}
		return addrAnswer(a.soa, qname, qtype, a.addrs)
	case authExecPublic:
		return r.execPublic(a, qname, qtype)
	case authVPCE:
		if qname == a.name {
			return apexAnswer(a.soa, qname, qtype)
		}
		label, rest, _ := strings.Cut(qname, ".")
		addrs, ok := r.v.vpceNames[label]
		if rest != a.name || !ok {
			return nxdomain(a.soa)
		}
		return addrAnswer(a.soa, qname, qtype, addrs)
	default:
		return r.zoneLookup(a.zone, qname, qtype, depth)
	}
}

// execPublic answers execute-api.{region}.amazonaws.com in the public view.
func (r *resolver) execPublic(a *authority, qname string, qtype uint16) result {
	if qname == a.name {
		return apexAnswer(a.soa, qname, qtype)
	}
	label, rest, _ := strings.Cut(qname, ".")
	if rest != a.name {
		return nxdomain(a.soa)
	}
	if i := strings.Index(label, "-vpce-"); i > 0 {
		apiID, vpce := label[:i], label[i+1:]
		api, ok := r.v.apis[apiID]
		addrs, known := r.v.endpoints[vpce]
		if !ok || !api.private || !known || !contains(api.vpces, vpce) {
			return nxdomain(a.soa)
		}
		return addrAnswer(a.soa, qname, qtype, addrs)
	}
	if api, ok := r.v.apis[label]; ok && api.private {
		return nxdomain(a.soa)
	}
	return addrAnswer(a.soa, qname, qtype, r.v.publicIPs)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func apexAnswer(soa mdns.RR, qname string, qtype uint16) result {
	if qtype == mdns.TypeSOA {
		return result{rcode: mdns.RcodeSuccess, aa: true, answer: []mdns.RR{soa}, cacheable: true}
	}
	return nodata(soa)
}

func addrAnswer(soa mdns.RR, qname string, qtype uint16, addrs []netip.Addr) result {
	rrs := addrRRs(qname, qtype, addrs, syntheticTTL)
	if len(rrs) == 0 {
		return nodata(soa)
	}
	return result{rcode: mdns.RcodeSuccess, aa: true, answer: rrs, cacheable: true}
}

func nodata(soa mdns.RR) result {
	return result{rcode: mdns.RcodeSuccess, aa: true, ns: []mdns.RR{negativeSOA(soa)}, cacheable: true}
}

func nxdomain(soa mdns.RR) result {
	return result{rcode: mdns.RcodeNameError, aa: true, ns: []mdns.RR{negativeSOA(soa)}, cacheable: true}
}

// zoneLookup answers qname/qtype from a hosted zone: delegations, exact
// names, empty non-terminals, wildcards (RFC 4592), CNAMEs, aliases and
// routing policies.
func (r *resolver) zoneLookup(z *zoneView, qname string, qtype uint16, depth int) result {
	if len(z.cuts) > 0 {
		for n := qname; n != z.name && n != ""; n = parent(n) {
			if z.cuts[n] && (n != qname || qtype != mdns.TypeDS) {
				g := z.names[n][mdns.TypeNS]
				rrs, _ := r.answerGroup(z, g, n, depth)
				return result{rcode: mdns.RcodeSuccess, ns: rrs, cacheable: !g.dynamic}
			}
		}
	}
	types, ok := z.names[qname]
	if !ok {
		if z.ents[qname] {
			return nodata(z.soa)
		}
		ce := parent(qname)
		for ce != "" && ce != z.name {
			if _, ok := z.names[ce]; ok || z.ents[ce] {
				break
			}
			ce = parent(ce)
		}
		types, ok = z.names["*."+ce]
		if !ok {
			return nxdomain(z.soa)
		}
	}
	if g := types[mdns.TypeCNAME]; g != nil && qtype != mdns.TypeCNAME {
		rrs, cacheable := r.answerGroup(z, g, qname, depth)
		if len(rrs) == 0 {
			return nodata(z.soa)
		}
		return result{rcode: mdns.RcodeSuccess, aa: true, answer: rrs, cacheable: cacheable}
	}
	g := types[qtype]
	if g == nil {
		return nodata(z.soa)
	}
	rrs, cacheable := r.answerGroup(z, g, qname, depth)
	if len(rrs) == 0 {
		res := nodata(z.soa)
		res.cacheable = cacheable
		return res
	}
	return result{rcode: mdns.RcodeSuccess, aa: true, answer: rrs, cacheable: cacheable}
}

// answerGroup returns the records a group answers with, owned by owner.
func (r *resolver) answerGroup(z *zoneView, g *group, owner string, depth int) ([]mdns.RR, bool) {
	cacheable := !g.dynamic
	var out []mdns.RR
	for _, rec := range r.route(z, g, depth) {
		if rec.set.Alias != nil {
			rrs, ok := r.aliasRRs(z, rec, owner, g.rtype, depth)
			out = append(out, rrs...)
			cacheable = cacheable && ok
			continue
		}
		for _, rr := range rec.rrs {
			if rr.Header().Name != owner {
				rr = mdns.Copy(rr)
				rr.Header().Name = owner
			}
			out = append(out, rr)
		}
	}
	return out, cacheable
}

// aliasRRs resolves an alias record: the target's records of the same type,
// renamed to owner, with the target's TTL.
func (r *resolver) aliasRRs(z *zoneView, rec *record, owner string, rtype uint16, depth int) ([]mdns.RR, bool) {
	if depth >= maxChain {
		return nil, false
	}
	res := r.aliasTarget(rec.set.Alias, rtype, depth+1)
	var out []mdns.RR
	for _, rr := range res.answer {
		if rr.Header().Rrtype != rtype {
			continue
		}
		c := mdns.Copy(rr)
		c.Header().Name = owner
		out = append(out, c)
	}
	return out, res.cacheable
}

// aliasTarget looks an alias target up: in its hosted zone when the target
// zone is one of gatehouse's, otherwise in the public view (vpce names,
// execute-api names).
func (r *resolver) aliasTarget(t *r53.AliasTarget, rtype uint16, depth int) result {
	if tz := r.v.zonesByID[t.HostedZoneID]; tz != nil && r53.InZone(t.DNSName, tz.name) {
		return r.zoneLookup(tz, t.DNSName, rtype, depth)
	}
	res := r.lookup(r.v.publicView, t.DNSName, rtype, depth)
	if res.forward != nil {
		return result{}
	}
	return res
}

// healthy reports whether a record counts as healthy: its health check's
// status, or for an alias that evaluates target health, its target's.
func (r *resolver) healthy(z *zoneView, rec *record, rtype uint16, depth int) bool {
	if id := rec.set.HealthCheckID; id != "" {
		return r.health(id)
	}
	if a := rec.set.Alias; a != nil && a.EvaluateTargetHealth {
		if depth >= maxChain {
			return false
		}
		if tz := r.v.zonesByID[a.HostedZoneID]; tz != nil && r53.InZone(a.DNSName, tz.name) {
			types := tz.names[a.DNSName]
			g := types[rtype]
			if g == nil {
				g = types[mdns.TypeCNAME]
			}
			if g == nil {
				return false
			}
			for _, t := range g.records {
				if r.healthy(tz, t, rtype, depth+1) {
					return true
				}
			}
			return false
		}
		return len(r.aliasTarget(a, rtype, depth+1).answer) > 0
	}
	return true
}

// route applies the group's routing policy (Route 53 semantics).
func (r *resolver) route(z *zoneView, g *group, depth int) []*record {
	switch g.policy {
	case "weighted":
		return r.weighted(z, g, depth)
	case "failover":
		return r.failover(z, g, depth)
	case "multivalue":
		return r.multivalue(z, g, depth)
	}
	return g.records
}

// weighted picks one record with probability weight/sum over the healthy
// records with a non-zero weight; if there are none, the healthy records
// with weight 0, equally likely; if no record is healthy, all records are
// considered (weighted, or equally likely if all weights are 0).
func (r *resolver) weighted(z *zoneView, g *group, depth int) []*record {
	healthy := make([]*record, 0, len(g.records))
	for _, rec := range g.records {
		if r.healthy(z, rec, g.rtype, depth) {
			healthy = append(healthy, rec)
		}
	}
	if len(healthy) == 0 {
		healthy = g.records
	}
	var total int64
	for _, rec := range healthy {
		total += rec.weight
	}
	if total == 0 {
		return []*record{healthy[r.randN(int64(len(healthy)))]}
	}
	n := r.randN(total)
	for _, rec := range healthy {
		if n < rec.weight {
			return []*record{rec}
		}
		n -= rec.weight
	}
	return []*record{healthy[len(healthy)-1]}
}

// failover answers the primary when it is healthy; otherwise the secondary
// when it is healthy (a secondary without a health check always is); when
// both are unhealthy, the primary.
func (r *resolver) failover(z *zoneView, g *group, depth int) []*record {
	var primary, secondary *record
	for _, rec := range g.records {
		switch rec.set.Failover {
		case r53.FailoverPrimary:
			primary = rec
		case r53.FailoverSecondary:
			secondary = rec
		}
	}
	switch {
	case primary != nil && r.healthy(z, primary, g.rtype, depth):
		return []*record{primary}
	case secondary != nil && r.healthy(z, secondary, g.rtype, depth):
		return []*record{secondary}
	case primary != nil:
		return []*record{primary}
	case secondary != nil:
		return []*record{secondary}
	}
	return nil
}

// multivalue answers up to eight healthy records in random order, or up to
// eight records when none is healthy.
func (r *resolver) multivalue(z *zoneView, g *group, depth int) []*record {
	var out []*record
	for _, rec := range g.records {
		if r.healthy(z, rec, g.rtype, depth) {
			out = append(out, rec)
		}
	}
	if len(out) == 0 {
		out = append(out, g.records...)
	}
	for i := len(out) - 1; i > 0; i-- {
		j := r.randN(int64(i + 1))
		out[i], out[j] = out[j], out[i]
	}
	if len(out) > maxMultiValue {
		out = out[:maxMultiValue]
	}
	return out
}
