// Package r53 is the Route 53 data model that the topology file, the Route 53
// API (internal/route53api) and the DNS server (internal/dns) share: hosted
// zones and their record sets, health checks, how names are written, and the
// rules AWS applies when record sets change (ChangeResourceRecordSets).
//
// The model is plain data with JSON tags: a hosted zone, records included, is
// one document in the store bucket [BucketZones] (so a change batch is one
// conditional write and therefore atomic), and a health check is one document
// in [BucketHealthChecks].
//
// Names are kept in one canonical form everywhere: lowercase, fully qualified
// with a trailing dot, a wildcard label written as "*" (Route 53 shows it as
// "\052" on the wire of its API; see [APIName]).
package r53

import (
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Store buckets.
const (
	// BucketZones holds one Zone document per hosted zone, keyed by zone id.
	BucketZones = "hostedzones"
	// BucketHealthChecks holds one HealthCheck document per health check,
	// keyed by health check id.
	BucketHealthChecks = "healthchecks"
)

// Record types Route 53 accepts in ChangeResourceRecordSets.
var recordTypes = map[string]bool{
	"SOA": true, "A": true, "TXT": true, "NS": true, "CNAME": true, "MX": true, "NAPTR": true,
	"PTR": true, "SRV": true, "SPF": true, "AAAA": true, "CAA": true, "DS": true, "TLSA": true,
	"SSHFP": true, "SVCB": true, "HTTPS": true,
}

// IsRecordType reports whether t is a record type Route 53 accepts.
func IsRecordType(t string) bool { return recordTypes[t] }

// Failover values.
const (
	FailoverPrimary   = "PRIMARY"
	FailoverSecondary = "SECONDARY"
)

// AliasTarget is Route 53's AliasTarget: the record answers with the records
// of DNSName (of the same type) instead of values of its own.
type AliasTarget struct {
	HostedZoneID         string `json:"hostedZoneId"`
	DNSName              string `json:"dnsName"`
	EvaluateTargetHealth bool   `json:"evaluateTargetHealth"`
}

// RecordSet is Route 53's ResourceRecordSet, restricted to the routing
// policies gatehouse implements: simple, weighted, failover and multivalue
// answer. Exactly one of TTL+Values and Alias is set.
type RecordSet struct {
	// Name is the canonical owner name (see the package comment).
	Name string `json:"name"`
	// Type is the record type, e.g. "A".
	Type string `json:"type"`
	// SetIdentifier tells apart the records of one routing group (same Name
	// and Type); "" for a simple record.
	SetIdentifier string `json:"setIdentifier,omitempty"`
	// Weight makes the record part of a weighted group (0-255).
	Weight *int64 `json:"weight,omitempty"`
	// Failover is PRIMARY or SECONDARY for a failover group.
	Failover string `json:"failover,omitempty"`
	// MultiValueAnswer makes the record part of a multivalue answer group.
	MultiValueAnswer *bool `json:"multiValueAnswer,omitempty"`
	// TTL is the time to live in seconds; nil for alias records.
	TTL *int64 `json:"ttl,omitempty"`
	// Values are the record values in Route 53's presentation format
	// (e.g. "10 mail.example.com" for MX, "\"text\"" for TXT).
	Values []string `json:"values,omitempty"`
	// Alias, when set, makes this an alias record.
	Alias *AliasTarget `json:"alias,omitempty"`
	// HealthCheckID is the health check that decides whether the record is
	// healthy; "" means healthy (or, for an alias with
	// EvaluateTargetHealth, the target's health).
	HealthCheckID string `json:"healthCheckId,omitempty"`
}

// Key identifies a record set within a zone: name, type and set identifier.
type Key struct{ Name, Type, SetIdentifier string }

// Key returns the record set's identity.
func (r *RecordSet) Key() Key { return Key{r.Name, r.Type, r.SetIdentifier} }

// Policy names the record's routing policy: "simple", "weighted",
// "failover" or "multivalue".
func (r *RecordSet) Policy() string {
	switch {
	case r.Weight != nil:
		return "weighted"
	case r.Failover != "":
		return "failover"
	case r.MultiValueAnswer != nil:
		return "multivalue"
	}
	return "simple"
}

// VPCRef is a VPC a private hosted zone is associated with.
type VPCRef struct {
	Region string `json:"region"`
	ID     string `json:"id"`
}

// Zone is a hosted zone with its records: the document stored under its id
// in BucketZones.
type Zone struct {
	ID              string      `json:"id"`
	Name            string      `json:"name"`
	Account         string      `json:"account"`
	CallerReference string      `json:"callerReference,omitempty"`
	Comment         string      `json:"comment,omitempty"`
	Private         bool        `json:"private"`
	VPCs            []VPCRef    `json:"vpcs,omitempty"`
	Created         time.Time   `json:"created"`
	Records         []RecordSet `json:"records"`
}

// HealthCheckConfig is Route 53's HealthCheckConfig for the types gatehouse
// runs: HTTP, HTTPS, HTTP_STR_MATCH, HTTPS_STR_MATCH, TCP and CALCULATED.
type HealthCheckConfig struct {
	Type                     string   `json:"type"`
	IPAddress                string   `json:"ipAddress,omitempty"`
	Port                     int      `json:"port,omitempty"`
	ResourcePath             string   `json:"resourcePath,omitempty"`
	FullyQualifiedDomainName string   `json:"fullyQualifiedDomainName,omitempty"`
	SearchString             string   `json:"searchString,omitempty"`
	RequestInterval          int      `json:"requestInterval,omitempty"`
	FailureThreshold         int      `json:"failureThreshold,omitempty"`
	MeasureLatency           bool     `json:"measureLatency,omitempty"`
	Inverted                 bool     `json:"inverted,omitempty"`
	Disabled                 bool     `json:"disabled,omitempty"`
	HealthThreshold          int      `json:"healthThreshold,omitempty"`
	ChildHealthChecks        []string `json:"childHealthChecks,omitempty"`
	EnableSNI                bool     `json:"enableSni,omitempty"`
	Regions                  []string `json:"regions,omitempty"`
}

// HealthCheck is the document stored under its id in BucketHealthChecks.
type HealthCheck struct {
	ID              string            `json:"id"`
	Account         string            `json:"account"`
	CallerReference string            `json:"callerReference"`
	Config          HealthCheckConfig `json:"config"`
	Version         int64             `json:"version"`
	Created         time.Time         `json:"created"`
}

// Health check types.
const (
	CheckHTTP          = "HTTP"
	CheckHTTPS         = "HTTPS"
	CheckHTTPStrMatch  = "HTTP_STR_MATCH"
	CheckHTTPSStrMatch = "HTTPS_STR_MATCH"
	CheckTCP           = "TCP"
	CheckCalculated    = "CALCULATED"
)

// Defaults AWS applies to a health check.
const (
	DefaultRequestInterval  = 30
	DefaultFailureThreshold = 3
)

// WithDefaults returns c with AWS's defaults for absent fields: request
// interval 30 s, failure threshold 3, port 80 (HTTP) or 443 (HTTPS), and
// resource path "/" for HTTP(S) checks.
func (c HealthCheckConfig) WithDefaults() HealthCheckConfig {
	if c.Type == CheckCalculated {
		return c
	}
	if c.RequestInterval == 0 {
		c.RequestInterval = DefaultRequestInterval
	}
	if c.FailureThreshold == 0 {
		c.FailureThreshold = DefaultFailureThreshold
	}
	if c.Port == 0 {
		switch c.Type {
		case CheckHTTP, CheckHTTPStrMatch:
			c.Port = 80
		case CheckHTTPS, CheckHTTPSStrMatch:
			c.Port = 443
		}
	}
	return c
}

// ValidateHealthCheck checks a health check configuration (after
// WithDefaults) and returns a message for Route 53's InvalidInput error, or
// "" if it is acceptable.
func ValidateHealthCheck(c HealthCheckConfig) string {
	switch c.Type {
	case CheckHTTP, CheckHTTPS, CheckHTTPStrMatch, CheckHTTPSStrMatch, CheckTCP:
		if c.IPAddress == "" && c.FullyQualifiedDomainName == "" {
			return "Invalid health check: IP address or fully qualified domain name is required."
		}
		if c.IPAddress != "" && !isIP(c.IPAddress) {
			return "Invalid IP address: " + c.IPAddress
		}
		if c.Port < 1 || c.Port > 65535 {
			return "Invalid request: Missing field 'Port' for TCP health check."
		}
		if (c.Type == CheckHTTPStrMatch || c.Type == CheckHTTPSStrMatch) && c.SearchString == "" {
			return "Invalid health check: SearchString is required for type " + c.Type + "."
		}
		if c.RequestInterval != 10 && c.RequestInterval != 30 {
			return "Invalid request interval: must be 10 or 30 seconds."
		}
		if c.FailureThreshold < 1 || c.FailureThreshold > 10 {
			return "Invalid failure threshold: must be between 1 and 10."
		}
		if len(c.ResourcePath) > 255 {
			return "Invalid resource path: longer than 255 characters."
		}
	case CheckCalculated:
		if len(c.ChildHealthChecks) > 256 {
			return "Invalid health check: at most 256 child health checks."
		}
		if c.HealthThreshold < 0 || c.HealthThreshold > 256 {
			return "Invalid health threshold: must be between 0 and 256."
		}
	case "CLOUDWATCH_METRIC", "RECOVERY_CONTROL":
		return "Health checks of type " + c.Type + " are not supported by gatehouse."
	case "":
		return "Invalid request: Missing field 'Type' in HealthCheckConfig."
	default:
		return "Invalid health check type: " + c.Type
	}
	return ""
}

// NameServers returns the four name servers written in a zone's NS record and
// delegation set: AWS's fixed set for private zones, and for public zones an
// awsdns-style set derived from the zone id (stable, not resolvable).
func NameServers(zoneID string, private bool) []string {
	if private {
		return []string{"ns-0.awsdns-00.com.", "ns-512.awsdns-00.net.", "ns-1024.awsdns-00.org.", "ns-1536.awsdns-00.co.uk."}
	}
	sum := sha256.Sum256([]byte(zoneID))
	n := (int(sum[0])<<8 | int(sum[1])) % 512
	g := int(sum[2]) % 64
	return []string{
		nsName(n, g, "com"), nsName(512+n, g, "net"), nsName(1024+n, g, "org"), nsName(1536+n, g, "co.uk"),
	}
}

func nsName(n, group int, tld string) string {
	return "ns-" + itoa(n) + ".awsdns-" + pad2(group) + "." + tld + "."
}

// SOAValue is the SOA record value of a new zone, as Route 53 writes it.
func SOAValue(zoneID string, private bool) string {
	return NameServers(zoneID, private)[0] + " awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"
}

// Default TTLs of a new zone's records (Route 53's).
const (
	SOATTL = 900
	NSTTL  = 172800
)

// InitialRecords returns the SOA and NS record sets Route 53 creates with a
// zone.
func InitialRecords(zoneName, zoneID string, private bool) []RecordSet {
	soaTTL, nsTTL := int64(SOATTL), int64(NSTTL)
	return []RecordSet{
		{Name: zoneName, Type: "NS", TTL: &nsTTL, Values: NameServers(zoneID, private)},
		{Name: zoneName, Type: "SOA", TTL: &soaTTL, Values: []string{SOAValue(zoneID, private)}},
	}
}

// DerivedZoneID returns a stable hosted zone id for seed (used for zones from
// the topology file and for gatehouse's built-in zones): "Z" followed by 20
// characters of [A-Z2-7].
func DerivedZoneID(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return "Z" + base32.StdEncoding.EncodeToString(sum[:])[:20]
}

// SortRecords orders record sets as Route 53 lists them: by name with its
// labels reversed (example.com., www.example.com.), then type, then set
// identifier.
func SortRecords(rs []RecordSet) {
	sortRecords(rs)
}

// CompareNames orders two canonical names by their reversed labels.
func CompareNames(a, b string) int {
	la := strings.Split(strings.TrimSuffix(a, "."), ".")
	lb := strings.Split(strings.TrimSuffix(b, "."), ".")
	for i, j := len(la)-1, len(lb)-1; i >= 0 && j >= 0; i, j = i-1, j-1 {
		if c := strings.Compare(la[i], lb[j]); c != 0 {
			return c
		}
	}
	return len(la) - len(lb)
}

func itoa(n int) string { return strconv.Itoa(n) }

func pad2(n int) string { return fmt.Sprintf("%02d", n) }

// HealthObservation is the latest report of gatehouse's health checker on a
// health check (Route 53's HealthCheckObservation).
type HealthObservation struct {
	// Region is the checker's Region (gatehouse's).
	Region string
	// IPAddress is the address the checker probed from.
	IPAddress string
	// Status is Route 53's status text, e.g. "Success: HTTP Status Code
	// 200, OK".
	Status string
	// CheckedTime is when the probe finished; zero before the first one.
	CheckedTime time.Time
	// Healthy is the health check's status (after the failure threshold
	// and inversion).
	Healthy bool
}

// VPCEHostedZoneID is the hosted zone id of the public endpoint names of a
// Region (execute-api.{region}.vpce.amazonaws.com), as DescribeVpcEndpoints
// reports it in DnsEntries and as alias records may name it.
func VPCEHostedZoneID(region string) string { return DerivedZoneID("vpce/" + region) }

// PrivateDNSHostedZoneID is the id of the private hosted zone that private
// DNS of endpoint vpce creates (execute-api.{region}.amazonaws.com).
func PrivateDNSHostedZoneID(vpce string) string { return DerivedZoneID("privatedns/" + vpce) }
