// Package dns is gatehouse's DNS server: the resolver of every VPC, Route 53
// Resolver inbound endpoints, a public resolver, and the authoritative data
// behind them — the names of API Gateway private APIs, Route 53 hosted zones
// with their routing policies and health checks, and conditional forwarding.
//
// # Listeners and split horizon
//
// [New] binds UDP and TCP listeners on each VPC's resolver address
// (topology vpcs[].dnsAddress, port dnsPort), on each inbound resolver
// endpoint address (answering as its VPC) and on the public resolver
// (publicResolver.listen). The answer depends only on which listener was
// asked: the horizon is the listener's VPC, or public.
//
// # What a horizon sees
//
// Inside a VPC, names are looked up in the most specific of: the VPC's
// private hosted zones, the forwarding rules associated with the VPC (a rule
// wins over a private zone of the same name, as in Route 53 Resolver), and
// — when an execute-api endpoint in the VPC has private DNS on and the VPC
// has enableDnsSupport and enableDnsHostnames — the endpoint's private zone
// execute-api.{region}.amazonaws.com, which answers every name below it with
// the endpoint's addresses, for every API id, private or not (the documented
// pitfall: public APIs called that way get 403). A name in none of them
// falls through to the public view.
//
// The public view: public hosted zones; the endpoint zone
// execute-api.{region}.vpce.amazonaws.com with each endpoint's regional name
// {vpce}-{suffix} and one zonal name {vpce}-{suffix}-{az} per availability
// zone; and execute-api.{region}.amazonaws.com, where a public API id
// resolves to the public listener, an id of no known API resolves there too
// (AWS's public zone is a wildcard), the Route 53 alias
// {api}-{vpce}.execute-api... resolves to the endpoint's addresses only when
// the vpce is in the API's vpcEndpointIds, and a private API's id is
// NXDOMAIN. That last choice: AWS's own answer is unconfirmed
// (aws-reference §1.3); NXDOMAIN makes "the default URL of a private API
// does not resolve outside the VPC" literal, and fails fast instead of
// sending clients to a listener that must refuse them.
//
// Anything else is forwarded to the configured upstreams (VPC horizons, and
// the public one only with publicResolver.recursion) or REFUSED: gatehouse is
// never an open resolver by default.
//
// # Hosted zones
//
// Zones come from the topology (read-only) and from the store bucket
// r53.BucketZones (the Route 53 API). A, AAAA, CNAME, TXT, SRV, MX, NS, SOA,
// CAA, PTR and the other Route 53 types are served; CNAMEs are followed
// through gatehouse's own data; wildcards follow RFC 4592; an NS record set
// below the apex is a delegation (referral). Alias records answer with their
// target's records (another record of the zone, or any name gatehouse is
// authoritative for, such as a vpce name). Routing policies simple, weighted,
// failover and multivalue answer follow Route 53 (aws-reference §9).
//
// # Cloud Map
//
// AWS Cloud Map DNS namespaces (the apimodel.BucketCloudMap documents the
// Cloud Map API writes) are served as the hosted zones Cloud Map creates
// for them. A private DNS namespace is a private hosted zone associated with
// the namespace's VPC, so it answers only in that VPC's horizon; a public
// DNS namespace is a public hosted zone; HTTP namespaces have no DNS. The
// zone has Route 53's SOA (its TTL is the namespace's SOA TTL, and so the
// negative-caching TTL) and NS records at the apex, and any other name
// that is not there is NXDOMAIN.
//
// For a service with a DnsConfig, each registered instance adds records
// named {service}.{namespace}, with the TTLs of the service's DnsRecords:
// A (AWS_INSTANCE_IPV4), AAAA (AWS_INSTANCE_IPV6), CNAME
// (AWS_INSTANCE_CNAME), and SRV "1 1 {AWS_INSTANCE_PORT}
// {instance-id}.{service}.{namespace}". For SRV, the target name also gets
// A/AAAA records for the instance's addresses; AWS does not document their
// TTL, so they use the SRV TTL. Routing policy MULTIVALUE answers up to
// eight records in random order; WEIGHTED answers one, chosen uniformly
// (Cloud Map gives every record the same weight). When the service has a
// health check, only HEALTHY instances answer. If no record of a name and
// type is healthy, all of them answer, as Route 53 does for both policies.
// A new health status takes effect at once; gatehouse does not model Cloud
// Map's roughly 30 second delay for custom health checks.
//
// # Health checks
//
// Health checks from the topology and from r53.BucketHealthChecks are run
// by gatehouse itself against their real addresses (HTTP, HTTPS,
// HTTP_STR_MATCH, HTTPS_STR_MATCH, TCP; CALCULATED from children), with
// Route 53's failure threshold and inversion. Answers read the status at
// query time, so a flip takes effect on the next query.
//
// # Changes
//
// The store buckets (zones, health checks, REST APIs, Cloud Map) are
// watched; every change rebuilds an immutable view that is swapped in
// atomically, well within a second.
//
// # Robustness
//
// Every query goes through one function that recovers panics (SERVFAIL).
// Malformed messages get FORMERR; responses are never sent for responses.
// UDP answers are bounded by the client's EDNS0 buffer size (512 bytes
// without EDNS0, at most 1232 with it) and truncated with TC set beyond
// that; ANY is answered with RFC 8482's HINFO. Concurrent forwarded queries
// and TCP connections are bounded.
package dns
