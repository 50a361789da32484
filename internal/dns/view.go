package dns

import (
	"cmp"
	"net/netip"
	"slices"
	"strings"

	mdns "github.com/miekg/dns"

	"gatehouse/internal/config"
	"gatehouse/internal/dns/r53"
)

// syntheticTTL is the TTL of the names gatehouse synthesizes (endpoint
// addresses, execute-api names), and of their negative answers.
const syntheticTTL = 60

// apiInfo is what DNS needs to know about a REST API.
type apiInfo struct {
	private bool
	vpces   []string // endpointConfiguration.vpcEndpointIds
}

// authKind tells what answers for a domain.
type authKind int

const (
	authZone       authKind = iota // a hosted zone
	authCapture                    // an endpoint's private DNS zone
	authExecPublic                 // execute-api.{region}.amazonaws.com, public view
	authVPCE                       // execute-api.{region}.vpce.amazonaws.com
	authRule                       // a forwarding rule
)

// authority is one domain a horizon knows how to answer for.
type authority struct {
	name    string // canonical
	kind    authKind
	zone    *zoneView        // authZone
	addrs   []netip.Addr     // authCapture
	targets []netip.AddrPort // authRule
	soa     mdns.RR          // synthesized zones
}

// horizonView is what one horizon (a VPC, or public) sees.
type horizonView struct {
	vpc string // "" for public
	// private are the private authorities (private zones, capture zone,
	// forwarding rules), most specific first, a rule before a zone of the
	// same name.
	private []*authority
	// public are the public authorities, most specific first.
	public []*authority
	// upstreams receive names no authority covers; nil means REFUSED.
	upstreams []netip.AddrPort
	cache     *respCache
}

// view is an immutable snapshot of everything DNS answers from.
type view struct {
	region     string
	execZone   string // "execute-api.{region}.amazonaws.com."
	vpceZone   string // "execute-api.{region}.vpce.amazonaws.com."
	apis       map[string]apiInfo
	endpoints  map[string][]netip.Addr // vpce id → addresses
	vpceNames  map[string][]netip.Addr // first label under vpceZone → addresses
	publicIPs  []netip.Addr
	zonesByID  map[string]*zoneView
	horizons   map[string]*horizonView // by VPC id; "" is public
	publicView *horizonView
	execSOA    mdns.RR
	vpceSOA    mdns.RR
}

// viewInputs are the sources a view is built from.
type viewInputs struct {
	topo      *config.Topology
	publicIPs []netip.Addr
	apis      map[string]apiInfo
	// zones are the compiled zones: topology zones and stored ones.
	zones []*zoneView
	// cacheSize bounds each horizon's response cache.
	cacheSize int
}

func buildView(in viewInputs) *view {
	t := in.topo
	v := &view{
		region:    t.Region,
		execZone:  "execute-api." + t.Region + ".amazonaws.com.",
		vpceZone:  "execute-api." + t.Region + ".vpce.amazonaws.com.",
		apis:      in.apis,
		endpoints: map[string][]netip.Addr{},
		vpceNames: map[string][]netip.Addr{},
		publicIPs: in.publicIPs,
		zonesByID: map[string]*zoneView{},
		horizons:  map[string]*horizonView{},
	}
	v.execSOA = syntheticSOA(v.execZone)
	v.vpceSOA = syntheticSOA(v.vpceZone)
	for i := range t.VPCEndpoints {
		e := &t.VPCEndpoints[i]
		v.endpoints[e.ID] = e.Addresses
		regional := e.ID + "-" + e.DNSSuffix()
		v.vpceNames[regional] = e.Addresses
		azs, byAZ := t.EndpointZones(e)
		for _, az := range azs {
			v.vpceNames[regional+"-"+az] = byAZ[az]
		}
	}
	for _, z := range in.zones {
		v.zonesByID[z.id] = z
	}

	publicAuth := []*authority{
		{name: v.execZone, kind: authExecPublic, soa: v.execSOA},
		{name: v.vpceZone, kind: authVPCE, soa: v.vpceSOA},
	}
	for _, z := range in.zones {
		if !z.private {
			publicAuth = append(publicAuth, &authority{name: z.name, kind: authZone, zone: z})
		}
	}
	sortAuthorities(publicAuth)

	var upstreams []netip.AddrPort
	for _, u := range t.DNS.Upstreams {
		if ap, err := config.DNSServerAddr(u); err == nil {
			upstreams = append(upstreams, ap)
		}
	}
	newHorizon := func(vpc string) *horizonView {
		h := &horizonView{vpc: vpc, public: publicAuth, cache: newRespCache(in.cacheSize)}
		for _, r := range t.DNS.ForwardingRules {
			if (vpc == "" && !r.PublicResolver) || (vpc != "" && !slices.Contains(r.VPCs, vpc)) {
				continue
			}
			name, err := r53.CanonicalName(r.Domain)
			if err != nil {
				continue
			}
			a := &authority{name: name, kind: authRule}
			for _, tg := range r.Targets {
				if ap, err := config.DNSServerAddr(tg); err == nil {
					a.targets = append(a.targets, ap)
				}
			}
			h.private = append(h.private, a)
		}
		if vpc == "" {
			if t.DNS.PublicResolver.Recursion {
				h.upstreams = upstreams
			}
		} else {
			h.upstreams = upstreams
			for _, z := range in.zones {
				if z.private && slices.Contains(z.vpcs, vpc) {
					h.private = append(h.private, &authority{name: z.name, kind: authZone, zone: z})
				}
			}
			if addrs := captureAddrs(t, vpc); len(addrs) > 0 {
				h.private = append(h.private, &authority{name: v.execZone, kind: authCapture, addrs: addrs, soa: syntheticSOA(v.execZone)})
			}
		}
		sortAuthorities(h.private)
		return h
	}
	v.publicView = newHorizon("")
	v.horizons[""] = v.publicView
	for _, vpc := range t.VPCs {
		v.horizons[vpc.ID] = newHorizon(vpc.ID)
	}
	return v
}

// captureAddrs returns the addresses that execute-api names resolve to
// inside vpc: those of its endpoints with private DNS on, provided the VPC
// has DNS support and DNS hostnames.
func captureAddrs(t *config.Topology, vpcID string) []netip.Addr {
	vpc, ok := t.VPC(vpcID)
	if !ok || !vpc.EnableDNSSupport || !vpc.EnableDNSHostnames {
		return nil
	}
	var addrs []netip.Addr
	for _, e := range t.VPCEndpoints {
		if e.VPC == vpcID && e.PrivateDNSEnabled {
			addrs = append(addrs, e.Addresses...)
		}
	}
	return addrs
}

// sortAuthorities orders authorities most specific first; on equal names a
// forwarding rule comes first (Route 53 Resolver: a rule wins over a private
// zone of the same name).
func sortAuthorities(as []*authority) {
	slices.SortStableFunc(as, func(a, b *authority) int {
		if c := cmp.Compare(labelCount(b.name), labelCount(a.name)); c != 0 {
			return c
		}
		if (a.kind == authRule) != (b.kind == authRule) {
			if a.kind == authRule {
				return -1
			}
			return 1
		}
		return 0
	})
}

func labelCount(name string) int { return strings.Count(name, ".") }

// find returns the authority for qname in h, or nil.
func (h *horizonView) find(qname string) *authority {
	for _, a := range h.private {
		if r53.InZone(qname, a.name) {
			return a
		}
	}
	for _, a := range h.public {
		if r53.InZone(qname, a.name) {
			return a
		}
	}
	return nil
}

func syntheticSOA(zone string) mdns.RR {
	return &mdns.SOA{
		Hdr:     mdns.RR_Header{Name: zone, Rrtype: mdns.TypeSOA, Class: mdns.ClassINET, Ttl: syntheticTTL},
		Ns:      "ns-0.awsdns-00.com.",
		Mbox:    "awsdns-hostmaster.amazon.com.",
		Serial:  1,
		Refresh: 7200,
		Retry:   900,
		Expire:  1209600,
		Minttl:  syntheticTTL,
	}
}

// addrRRs makes A (or AAAA) records for the addresses of the matching family.
func addrRRs(name string, qtype uint16, addrs []netip.Addr, ttl uint32) []mdns.RR {
	var out []mdns.RR
	for _, a := range addrs {
		switch {
		case qtype == mdns.TypeA && a.Is4():
			out = append(out, &mdns.A{Hdr: mdns.RR_Header{Name: name, Rrtype: mdns.TypeA, Class: mdns.ClassINET, Ttl: ttl}, A: a.AsSlice()})
		case qtype == mdns.TypeAAAA && a.Is6() && !a.Is4In6():
			out = append(out, &mdns.AAAA{Hdr: mdns.RR_Header{Name: name, Rrtype: mdns.TypeAAAA, Class: mdns.ClassINET, Ttl: ttl}, AAAA: a.AsSlice()})
		}
	}
	return out
}
