package config

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"gatehouse/internal/dns/r53"
)

// defaultDNSPort is the port of every resolver listener when the file gives
// none.
const defaultDNSPort = 53

// defaultRecordTTL is a topology record's TTL when the file gives none.
const defaultRecordTTL = 300

// DNS is the topology of gatehouse's built-in DNS server (YAML top-level
// keys dnsPort, publicResolver, resolverEndpoints, forwardingRules,
// upstreams, hostedZones and healthChecks). Each VPC's resolver address is
// VPC.DNSAddress.
type DNS struct {
	// Port is the UDP and TCP port of every VPC resolver and inbound
	// resolver endpoint address. Default 53; 0 picks a free port per
	// listener. YAML key dnsPort.
	Port int
	// PublicResolver is the resolver for clients outside every VPC (the
	// internet, on-premises). YAML key publicResolver.
	PublicResolver PublicResolver
	// ResolverEndpoints are Route 53 Resolver inbound endpoints: addresses
	// that answer as their VPC's resolver would, for on-premises clients.
	// YAML key resolverEndpoints.
	ResolverEndpoints []ResolverEndpoint
	// ForwardingRules are conditional forwarders: queries for a domain (and
	// below) go to other DNS servers. YAML key forwardingRules.
	ForwardingRules []ForwardingRule
	// Upstreams are DNS servers (host:port, port default 53) that VPC
	// resolvers forward all other names to. None (the default) means other
	// names are REFUSED: gatehouse is never an open resolver unless asked.
	// YAML key upstreams.
	Upstreams []string
	// HostedZones are Route 53 hosted zones defined in the file. They are
	// read-only: the Route 53 API manages the zones in the store. YAML key
	// hostedZones.
	HostedZones []HostedZone
	// HealthChecks are Route 53 health checks defined in the file, for the
	// file's records to refer to by id. YAML key healthChecks.
	HealthChecks []HealthCheck
}

// PublicResolver configures the public resolver listener (YAML key
// publicResolver).
type PublicResolver struct {
	// Listen is a host:port for UDP and TCP; "" (the default) means none.
	// YAML key listen.
	Listen string
	// Recursion lets the public resolver forward names it is not
	// authoritative for to Upstreams. Default false: an internet-facing
	// resolver must not be open. YAML key recursion.
	Recursion bool
}

// Subnet is a subnet of a VPC (YAML list vpcs[].subnets). Interface
// endpoints get one zonal DNS name per availability zone of the subnets
// holding their addresses.
type Subnet struct {
	// ID is "subnet-" followed by 8 or 17 lowercase hex digits.
	ID string
	// CIDR is the subnet's block, inside the VPC's.
	CIDR netip.Prefix
	// AvailabilityZone is e.g. "us-east-1a". Default: the Region followed
	// by a letter for the subnet's position (a, b, c, ...). YAML key
	// availabilityZone.
	AvailabilityZone string
}

// ResolverEndpoint is a Route 53 Resolver inbound endpoint (YAML list
// resolverEndpoints).
type ResolverEndpoint struct {
	// ID is "rslvr-in-" followed by 17 lowercase hex digits.
	ID string
	// VPC is the VPC whose view of DNS the endpoint answers with.
	VPC string
	// Addresses are the endpoint's IP addresses, inside the VPC's CIDR.
	// gatehouse's DNS listens on each, at dnsPort.
	Addresses []netip.Addr
}

// ForwardingRule is a Route 53 Resolver forwarding rule (YAML list
// forwardingRules).
type ForwardingRule struct {
	// Domain is the domain whose names (and subdomains) are forwarded.
	Domain string
	// Targets are the DNS servers, IP:port (port default 53), tried in order.
	Targets []string
	// VPCs are the VPCs whose resolvers (and inbound endpoints) apply the
	// rule.
	VPCs []string
	// PublicResolver makes the public resolver apply the rule too: the
	// "on-premises DNS server with a conditional forwarder" of AWS's
	// hybrid architectures. YAML key publicResolver.
	PublicResolver bool
}

// HostedZone is a Route 53 hosted zone written in the topology (YAML list
// hostedZones).
type HostedZone struct {
	// ID is the hosted zone id; default derived from the name, the account
	// and whether the zone is private.
	ID string
	// Name is the zone's domain name, canonical after Parse
	// ("example.com.").
	Name string
	// Account owns the zone. Default: the first account.
	Account string
	// Private makes the zone visible only inside VPCs.
	Private bool
	// VPCs are the VPCs a private zone is associated with; at least one for
	// a private zone, none for a public one.
	VPCs []string
	// Comment is the zone's comment.
	Comment string
	// Records are the zone's record sets. An SOA and an NS record set at the
	// apex are added unless given. Names may be relative to the zone ("www",
	// "@" for the apex) or absolute.
	Records []r53.RecordSet
}

// HealthCheck is a Route 53 health check written in the topology (YAML list
// healthChecks); records refer to it by ID.
type HealthCheck struct {
	// ID names the health check; records refer to it with healthCheck.
	ID string
	// Config is the check, with Route 53's defaults applied (see
	// r53.HealthCheckConfig.WithDefaults).
	Config r53.HealthCheckConfig
}

// DefaultDNSAddress returns the default resolver address of a VPC with CIDR
// block p: the block's base address plus two, as in AWS (127.10.0.2 for
// 127.10.0.0/16).
func DefaultDNSAddress(p netip.Prefix) netip.Addr {
	if !p.IsValid() {
		return netip.Addr{}
	}
	return p.Masked().Addr().Next().Next()
}

// dnsFields are the DNS keys of the topology's root mapping. The dnsPort
// default is set here, before the file is read.
func (d *decoder) dnsFields(t *Topology) []fieldDecoder {
	t.DNS.Port = defaultDNSPort
	dns := &t.DNS
	return []fieldDecoder{
		{"dnsPort", d.integer(&dns.Port)},
		{"publicResolver", func(n *yaml.Node, path string) {
			d.object(n, path, []fieldDecoder{
				{"listen", d.str(&dns.PublicResolver.Listen)},
				{"recursion", d.boolean(&dns.PublicResolver.Recursion)},
			})
		}},
		{"resolverEndpoints", func(n *yaml.Node, path string) {
			d.list(n, path, func(n *yaml.Node, path string) {
				var e ResolverEndpoint
				d.object(n, path, []fieldDecoder{
					{"id", d.str(&e.ID)},
					{"vpc", d.str(&e.VPC)},
					{"addresses", func(n *yaml.Node, path string) {
						d.list(n, path, func(n *yaml.Node, path string) {
							e.Addresses = append(e.Addresses, d.addr(n, path))
						})
					}},
				})
				dns.ResolverEndpoints = append(dns.ResolverEndpoints, e)
			})
		}},
		{"forwardingRules", func(n *yaml.Node, path string) {
			d.list(n, path, func(n *yaml.Node, path string) {
				var r ForwardingRule
				d.object(n, path, []fieldDecoder{
					{"domain", d.str(&r.Domain)},
					{"targets", d.strings(&r.Targets)},
					{"vpcs", d.strings(&r.VPCs)},
					{"publicResolver", d.boolean(&r.PublicResolver)},
				})
				dns.ForwardingRules = append(dns.ForwardingRules, r)
			})
		}},
		{"upstreams", d.strings(&dns.Upstreams)},
		{"hostedZones", func(n *yaml.Node, path string) {
			d.list(n, path, func(n *yaml.Node, path string) {
				dns.HostedZones = append(dns.HostedZones, d.hostedZone(n, path))
			})
		}},
		{"healthChecks", func(n *yaml.Node, path string) {
			d.list(n, path, func(n *yaml.Node, path string) {
				dns.HealthChecks = append(dns.HealthChecks, d.healthCheck(n, path))
			})
		}},
	}
}

// vpcDNSFields are the DNS keys of a VPC.
func (d *decoder) vpcDNSFields(v *VPC) []fieldDecoder {
	return []fieldDecoder{
		{"dnsAddress", func(n *yaml.Node, path string) { v.DNSAddress = d.addr(n, path) }},
		{"subnets", func(n *yaml.Node, path string) {
			d.list(n, path, func(n *yaml.Node, path string) {
				var s Subnet
				d.object(n, path, []fieldDecoder{
					{"id", d.str(&s.ID)},
					{"cidr", func(n *yaml.Node, path string) { s.CIDR = d.prefix(n, path, false) }},
					{"availabilityZone", d.str(&s.AvailabilityZone)},
				})
				v.Subnets = append(v.Subnets, s)
			})
		}},
	}
}

// strings decodes a list of scalars as text.
func (d *decoder) strings(dst *[]string) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		*dst = []string{}
		if !d.list(n, path, func(n *yaml.Node, path string) {
			var s string
			d.str(&s)(n, path)
			*dst = append(*dst, s)
		}) {
			*dst = nil
		}
	}
}

func (d *decoder) hostedZone(n *yaml.Node, path string) HostedZone {
	var z HostedZone
	d.object(n, path, []fieldDecoder{
		{"id", d.str(&z.ID)},
		{"name", d.str(&z.Name)},
		{"account", d.str(&z.Account)},
		{"private", d.boolean(&z.Private)},
		{"vpcs", d.strings(&z.VPCs)},
		{"comment", d.str(&z.Comment)},
		{"records", func(n *yaml.Node, path string) {
			d.list(n, path, func(n *yaml.Node, path string) {
				z.Records = append(z.Records, d.record(n, path))
			})
		}},
	})
	return z
}

func (d *decoder) record(n *yaml.Node, path string) r53.RecordSet {
	var r r53.RecordSet
	ttl, ttlSet := defaultRecordTTL, false
	var weight int
	weightSet, multiSet := false, false
	var multi bool
	d.object(n, path, []fieldDecoder{
		{"name", d.str(&r.Name)},
		{"type", d.str(&r.Type)},
		{"ttl", func(n *yaml.Node, path string) { ttlSet = true; d.integer(&ttl)(n, path) }},
		{"values", d.strings(&r.Values)},
		{"setIdentifier", d.str(&r.SetIdentifier)},
		{"weight", func(n *yaml.Node, path string) { weightSet = true; d.integer(&weight)(n, path) }},
		{"failover", d.str(&r.Failover)},
		{"multiValueAnswer", func(n *yaml.Node, path string) { multiSet = true; d.boolean(&multi)(n, path) }},
		{"healthCheck", d.str(&r.HealthCheckID)},
		{"alias", func(n *yaml.Node, path string) {
			a := &r53.AliasTarget{}
			d.object(n, path, []fieldDecoder{
				{"dnsName", d.str(&a.DNSName)},
				{"hostedZoneId", d.str(&a.HostedZoneID)},
				{"evaluateTargetHealth", d.boolean(&a.EvaluateTargetHealth)},
			})
			r.Alias = a
		}},
	})
	if r.Alias == nil || ttlSet {
		t := int64(ttl)
		r.TTL = &t
	}
	if weightSet {
		w := int64(weight)
		r.Weight = &w
	}
	if multiSet {
		r.MultiValueAnswer = &multi
	}
	return r
}

func (d *decoder) healthCheck(n *yaml.Node, path string) HealthCheck {
	var h HealthCheck
	c := &h.Config
	d.object(n, path, []fieldDecoder{
		{"id", d.str(&h.ID)},
		{"type", d.str(&c.Type)},
		{"ipAddress", d.str(&c.IPAddress)},
		{"port", d.integer(&c.Port)},
		{"resourcePath", d.str(&c.ResourcePath)},
		{"fullyQualifiedDomainName", d.str(&c.FullyQualifiedDomainName)},
		{"searchString", d.str(&c.SearchString)},
		{"requestInterval", d.integer(&c.RequestInterval)},
		{"failureThreshold", d.integer(&c.FailureThreshold)},
		{"inverted", d.boolean(&c.Inverted)},
		{"disabled", d.boolean(&c.Disabled)},
		{"healthThreshold", d.integer(&c.HealthThreshold)},
		{"childHealthChecks", d.strings(&c.ChildHealthChecks)},
		{"enableSni", d.boolean(&c.EnableSNI)},
	})
	return h
}

// applyDNSDefaults fills the DNS defaults that depend on other keys.
func applyDNSDefaults(t *Topology) {
	// Written addresses first, so that a default never takes an address
	// another VPC asked for. VPCs of different accounts may overlap; when two
	// would default to the same address only the first gets it, and the
	// other has no resolver until its dnsAddress is set.
	used := map[netip.Addr]bool{}
	for _, v := range t.VPCs {
		used[v.DNSAddress] = true
	}
	for i := range t.VPCs {
		v := &t.VPCs[i]
		// A VPC reached only through link agents is not on this host: gatehouse cannot
		// listen on an address of it, so it gets no default resolver.
		if !v.DNSAddress.IsValid() && !(len(v.AgentTokens) > 0 && (v.Routable == nil || !*v.Routable)) {
			if a := DefaultDNSAddress(v.CIDR); a.IsValid() && !used[a] {
				v.DNSAddress = a
				used[a] = true
			}
		}
		for j := range v.Subnets {
			if v.Subnets[j].AvailabilityZone == "" && j < 26 {
				v.Subnets[j].AvailabilityZone = t.Region + string(rune('a'+j))
			}
		}
	}
	for i := range t.DNS.HostedZones {
		z := &t.DNS.HostedZones[i]
		if z.Account == "" && len(t.Accounts) > 0 {
			z.Account = t.Accounts[0].ID
		}
		name, err := r53.CanonicalName(z.Name)
		if err != nil {
			continue // reported by validation
		}
		z.Name = name
		if z.ID == "" {
			z.ID = r53.DerivedZoneID(fmt.Sprintf("topology/%s/%s/%t", z.Account, name, z.Private))
		}
		hasSOA, hasNS := false, false
		for j := range z.Records {
			r := &z.Records[j]
			switch {
			case r.Name == "@" || r.Name == "":
				r.Name = name
			case !strings.HasSuffix(r.Name, ".") && !r53.InZone(strings.ToLower(r.Name)+".", name):
				r.Name += "." + name
			}
			if cn, err := r53.CanonicalName(r.Name); err == nil {
				r.Name = cn
			}
			if r.Alias != nil && r.Alias.HostedZoneID == "" {
				r.Alias.HostedZoneID = z.ID
			}
			if r.Name == name && r.Type == "SOA" {
				hasSOA = true
			}
			if r.Name == name && r.Type == "NS" {
				hasNS = true
			}
		}
		initial := r53.InitialRecords(name, z.ID, z.Private)
		if !hasNS {
			z.Records = append(z.Records, initial[0])
		}
		if !hasSOA {
			z.Records = append(z.Records, initial[1])
		}
	}
	for i := range t.DNS.HealthChecks {
		t.DNS.HealthChecks[i].Config = t.DNS.HealthChecks[i].Config.WithDefaults()
	}
}

// validateDNS checks the DNS part of the topology.
func (t *Topology) validateDNS(errs *fieldErrors, ls *listeners) {
	checkPort(errs, "dnsPort", t.DNS.Port)
	portOK := t.DNS.Port >= 0 && t.DNS.Port <= 65535
	dnsAt := map[netip.Addr]string{}
	addResolver := func(path string, a netip.Addr) {
		if at, dup := dnsAt[a]; dup {
			errs.add(path, "%s is already the resolver address of %s", a, at)
			return
		}
		dnsAt[a] = path
		if portOK {
			ls.add(path, net.JoinHostPort(a.String(), strconv.Itoa(t.DNS.Port)), a.String(), t.DNS.Port)
		}
	}

	for i, v := range t.VPCs {
		p := index("vpcs", i)
		if v.DNSAddress.IsValid() {
			switch {
			case v.DNSAddress.Zone() != "":
				errs.add(p+".dnsAddress", "%s: a resolver address has no zone", v.DNSAddress)
			case v.CIDR.IsValid() && !v.CIDR.Contains(v.DNSAddress):
				errs.add(p+".dnsAddress", "%s is not inside %s", v.DNSAddress, v.CIDR)
			default:
				addResolver(p+".dnsAddress", v.DNSAddress)
			}
		}
		subnetAt := map[string]string{}
		for j, s := range v.Subnets {
			sp := index(p+".subnets", j)
			switch {
			case s.ID == "":
				errs.add(sp+".id", "required")
			case !hasHexID(s.ID, "subnet-"):
				errs.add(sp+".id", "%q is not a subnet id: want subnet- and 8 or 17 lowercase hex digits", s.ID)
			case subnetAt[s.ID] != "":
				errs.add(sp+".id", "duplicate subnet id %q (also %s)", s.ID, subnetAt[s.ID])
			default:
				subnetAt[s.ID] = sp + ".id"
			}
			switch {
			case !s.CIDR.IsValid():
				errs.add(sp+".cidr", "required")
			case s.CIDR != s.CIDR.Masked():
				errs.add(sp+".cidr", "%s has host bits set (the block is %s)", s.CIDR, s.CIDR.Masked())
			case v.CIDR.IsValid() && (!v.CIDR.Contains(s.CIDR.Addr()) || s.CIDR.Bits() < v.CIDR.Bits()):
				errs.add(sp+".cidr", "%s is not inside %s", s.CIDR, v.CIDR)
			}
			for k := range j {
				if o := v.Subnets[k].CIDR; o.IsValid() && s.CIDR.IsValid() && o.Overlaps(s.CIDR) {
					errs.add(sp+".cidr", "%s overlaps %s (%s)", s.CIDR, o, index(p+".subnets", k))
					break
				}
			}
			if s.AvailabilityZone == "" || !strings.HasPrefix(s.AvailabilityZone, t.Region) || len(s.AvailabilityZone) == len(t.Region) {
				errs.add(sp+".availabilityZone", "%q is not an availability zone of %s (like %sa)", s.AvailabilityZone, t.Region, t.Region)
			}
		}
	}

	if l := t.DNS.PublicResolver.Listen; l != "" {
		ls.addListen("publicResolver.listen", l, false)
	}

	rslvrAt := map[string]string{}
	for i, e := range t.DNS.ResolverEndpoints {
		p := index("resolverEndpoints", i)
		switch {
		case e.ID == "":
			errs.add(p+".id", "required")
		case !isResolverEndpointID(e.ID):
			errs.add(p+".id", "%q is not an inbound resolver endpoint id: want rslvr-in- and 17 lowercase hex digits", e.ID)
		case rslvrAt[e.ID] != "":
			errs.add(p+".id", "duplicate resolver endpoint id %q (also %s)", e.ID, rslvrAt[e.ID])
		default:
			rslvrAt[e.ID] = p + ".id"
		}
		vpc := t.checkVPCRef(errs, p+".vpc", e.VPC)
		if len(e.Addresses) == 0 {
			errs.add(p+".addresses", "at least one address is required")
		}
		for j, a := range e.Addresses {
			ap := index(p+".addresses", j)
			switch {
			case !a.IsValid():
				errs.add(ap, "invalid IP address")
			case vpc != nil && vpc.CIDR.IsValid() && !vpc.CIDR.Contains(a):
				errs.add(ap, "%s is not inside %s's cidr %s", a, vpc.ID, vpc.CIDR)
			default:
				addResolver(ap, a)
			}
		}
	}

	for i, r := range t.DNS.ForwardingRules {
		p := index("forwardingRules", i)
		if _, err := r53.CanonicalName(r.Domain); err != nil || r.Domain == "" {
			errs.add(p+".domain", "%q is not a domain name", r.Domain)
		}
		if len(r.Targets) == 0 {
			errs.add(p+".targets", "at least one target is required")
		}
		for j, tg := range r.Targets {
			if _, err := DNSServerAddr(tg); err != nil {
				errs.add(index(p+".targets", j), "%v", err)
			}
		}
		for j, v := range r.VPCs {
			t.checkVPCRef(errs, index(p+".vpcs", j), v)
		}
		if len(r.VPCs) == 0 && !r.PublicResolver {
			errs.add(p, "the rule applies to no resolver: list vpcs or set publicResolver: true")
		}
	}
	for i, u := range t.DNS.Upstreams {
		if _, err := DNSServerAddr(u); err != nil {
			errs.add(index("upstreams", i), "%v", err)
		}
	}

	checkAt := map[string]string{}
	for i, h := range t.DNS.HealthChecks {
		p := index("healthChecks", i)
		switch {
		case h.ID == "":
			errs.add(p+".id", "required")
		case checkAt[h.ID] != "":
			errs.add(p+".id", "duplicate health check id %q (also %s)", h.ID, checkAt[h.ID])
		default:
			checkAt[h.ID] = p + ".id"
		}
		if msg := r53.ValidateHealthCheck(h.Config); msg != "" {
			errs.add(p, "%s", msg)
		}
	}
	for i, h := range t.DNS.HealthChecks {
		for j, c := range h.Config.ChildHealthChecks {
			if checkAt[c] == "" {
				errs.add(index(index("healthChecks", i)+".childHealthChecks", j), "unknown health check %q", c)
			}
		}
	}

	type zoneKey struct {
		name, scope string
	}
	zoneAt := map[zoneKey]string{}
	idAt := map[string]string{}
	for i, z := range t.DNS.HostedZones {
		p := index("hostedZones", i)
		name, err := r53.CanonicalName(z.Name)
		if err != nil || z.Name == "" {
			errs.add(p+".name", "%q is not a domain name", z.Name)
			continue
		}
		if z.Account != "" {
			if _, ok := t.Account(z.Account); !ok {
				errs.add(p+".account", "unknown account %q", z.Account)
			}
		}
		if at := idAt[z.ID]; at != "" {
			errs.add(p+".id", "duplicate hosted zone id %q (also %s)", z.ID, at)
		}
		idAt[z.ID] = p
		switch {
		case z.Private && len(z.VPCs) == 0:
			errs.add(p+".vpcs", "a private hosted zone needs at least one VPC")
		case !z.Private && len(z.VPCs) > 0:
			errs.add(p+".vpcs", "a public hosted zone cannot be associated with VPCs")
		}
		scopes := []string{"public"}
		if z.Private {
			scopes = z.VPCs
		}
		for j, v := range z.VPCs {
			t.checkVPCRef(errs, index(p+".vpcs", j), v)
		}
		for _, s := range scopes {
			k := zoneKey{name, s}
			if at := zoneAt[k]; at != "" {
				errs.add(p+".name", "zone %s is already defined for %s by %s", name, s, at)
				break
			}
			zoneAt[k] = p
		}
		rz := &r53.Zone{ID: z.ID, Name: name, Private: z.Private}
		for j := range z.Records {
			rp := index(p+".records", j)
			r := z.Records[j]
			if cerr := r53.CheckRecordSet(name, r53.ActionCreate, &r); cerr != nil {
				errs.add(rp, "%s", strings.Join(cerr.Messages, "; "))
				continue
			}
			if r.HealthCheckID != "" && checkAt[r.HealthCheckID] == "" {
				errs.add(rp+".healthCheck", "unknown health check %q", r.HealthCheckID)
			}
			if k := slicesIndexKey(rz.Records, r.Key()); k >= 0 {
				errs.add(rp, "duplicate record set (name %s, type %s, setIdentifier %q; also records[%d])", r.Name, r.Type, r.SetIdentifier, k)
				continue
			}
			rz.Records = append(rz.Records, r)
		}
		for _, msg := range r53.CheckZone(rz) {
			errs.add(p+".records", "%s", msg)
		}
	}
}

func slicesIndexKey(rs []r53.RecordSet, k r53.Key) int {
	for i := range rs {
		if rs[i].Key() == k {
			return i
		}
	}
	return -1
}

// checkVPCRef reports an empty or unknown VPC id at path and returns the VPC.
func (t *Topology) checkVPCRef(errs *fieldErrors, path, id string) *VPC {
	if id == "" {
		errs.add(path, "required")
		return nil
	}
	v, ok := t.VPC(id)
	if !ok {
		errs.add(path, "unknown VPC %q", id)
		return nil
	}
	return v
}

// DNSServerAddr parses a DNS server address, "IP" or "IP:port" ("[v6]:port"),
// with port 53 by default.
func DNSServerAddr(s string) (netip.AddrPort, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return netip.AddrPortFrom(a, defaultDNSPort), nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil || ap.Port() == 0 {
		return netip.AddrPort{}, fmt.Errorf("%q is not a DNS server address: want IP or IP:port", s)
	}
	return ap, nil
}

func isResolverEndpointID(s string) bool {
	rest, ok := strings.CutPrefix(s, "rslvr-in-")
	return ok && len(rest) == 17 && strings.Trim(rest, "0123456789abcdef") == ""
}

// Subnet returns the subnet of v that contains a, if any.
func (v *VPC) Subnet(a netip.Addr) (*Subnet, bool) {
	for i := range v.Subnets {
		if v.Subnets[i].CIDR.Contains(a) {
			return &v.Subnets[i], true
		}
	}
	return nil, false
}

// EndpointZonalDNSName returns an endpoint's public DNS name for one
// availability zone, "{vpce-id}-{suffix}-{az}.execute-api.{region}.vpce.amazonaws.com".
func (t *Topology) EndpointZonalDNSName(e *VPCEndpoint, az string) string {
	return e.ID + "-" + e.DNSSuffix() + "-" + az + ".execute-api." + t.Region + ".vpce.amazonaws.com"
}

// EndpointZones returns the availability zones of e's addresses, in the
// order of first appearance, with the addresses in each. Addresses outside
// every subnet of the VPC are in no zone.
func (t *Topology) EndpointZones(e *VPCEndpoint) (azs []string, addrs map[string][]netip.Addr) {
	v, ok := t.VPC(e.VPC)
	if !ok {
		return nil, nil
	}
	addrs = map[string][]netip.Addr{}
	for _, a := range e.Addresses {
		s, ok := v.Subnet(a)
		if !ok {
			continue
		}
		if _, seen := addrs[s.AvailabilityZone]; !seen {
			azs = append(azs, s.AvailabilityZone)
		}
		addrs[s.AvailabilityZone] = append(addrs[s.AvailabilityZone], a)
	}
	return azs, addrs
}
