package config

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"log/slog"
	"net/netip"
)

// Topology is the infrastructure gatehouse plays: Region, listeners,
// accounts, VPCs and interface VPC endpoints for execute-api.
//
// A Topology returned by [Parse], [Load] or [Default] is valid; treat it as
// read-only and share it freely.
type Topology struct {
	// Region is the AWS Region gatehouse answers as, e.g. "us-east-1". Required.
	Region string
	// ControlPlane is where the AWS-compatible management API listens.
	ControlPlane ControlPlane
	// PublicListener is the public (regional) data-plane endpoint.
	PublicListener PublicListener
	// Accounts are the AWS accounts and their access keys.
	Accounts []Account
	// VPCs are the networks private APIs are reached from.
	VPCs []VPC
	// VPCEndpoints are interface VPC endpoints for execute-api.
	VPCEndpoints []VPCEndpoint
	// DNS is the built-in DNS server's topology (dns.go).
	DNS DNS
	// Functions are Lambda functions defined in the topology (functions.go).
	Functions []Function
	// Instances are EC2 instances, the targets of instance target groups (YAML list
	// instances; instances.go).
	Instances []Instance
	// TunnelListener, TargetGroups and LoadBalancers are the private-integration
	// infrastructure: where link agents connect, and ELBv2 objects (vpclink.go).
	TunnelListener TunnelListener
	TargetGroups   []TargetGroup
	LoadBalancers  []LoadBalancer
}

// ControlPlane configures the control-plane listener (YAML key controlPlane).
type ControlPlane struct {
	// Listen is a host:port (net.SplitHostPort form). Port 0 picks a free
	// port. Required. YAML key listen.
	Listen string
}

// PublicListener configures the public data-plane listener (YAML key
// publicListener). Private APIs are never served here.
type PublicListener struct {
	// Listen is the TLS host:port. Port 0 picks a free port. Required.
	// YAML key listen.
	Listen string
	// HTTPListen is an optional plain-HTTP host:port; "" (the default)
	// means none. YAML key httpListen.
	HTTPListen string
}

// Account is an AWS account (YAML list accounts).
type Account struct {
	// ID is the 12-digit account id. Write it quoted in YAML, or it may be
	// read as a number; unquoted digits are accepted as written.
	ID string
	// AccessKeys are the account's credentials (YAML key accessKeys).
	AccessKeys []AccessKey
	// OrgID is the AWS Organizations id the account belongs to ("o-..."), the value of
	// aws:PrincipalOrgID for its principals (YAML key orgId).
	OrgID string
	// Users are IAM users: their access keys sign AWS_IAM calls to execute-api, and their
	// identity policies are evaluated with the API's resource policy (YAML key users).
	Users []User
	// Roles are IAM roles that STS AssumeRole turns into temporary credentials (YAML key
	// roles: [{name, trust, policies}]).
	Roles []Role
	// Throttle is the account-level request limit across its APIs (YAML key throttle:
	// {rateLimit, burstLimit}); 0 means AWS's default, 10,000 requests/s with a burst of 5,000.
	Throttle AccountThrottle
}

// User is an IAM user (YAML list accounts[].users).
type User struct {
	Name       string
	AccessKeys []AccessKey
	// Policies are the user's inline identity policies (YAML key policies: [{name, document}]).
	Policies []IdentityPolicy
}

// Role is an IAM role (YAML list accounts[].roles).
type Role struct {
	Name string
	// Trust lists who may assume the role (YAML key trust): "*", account ids (every
	// principal of that account), or principal ARNs (arn:aws:iam::ACCOUNT:root is the whole
	// account). Empty means the role's own account.
	Trust []string
	// Policies are the role's inline identity policies; its sessions get them.
	Policies []IdentityPolicy
}

// IdentityPolicy is a named IAM policy document (JSON text).
type IdentityPolicy struct {
	Name     string
	Document []byte
}

// AccountThrottle is an account's token bucket: RateLimit requests per second, BurstLimit
// the bucket size.
type AccountThrottle struct {
	RateLimit, BurstLimit int
}

// AccessKey is one access key id and its secret.
type AccessKey struct {
	// ID is the access key id: 16 to 128 characters of A-Z and 0-9.
	ID string
	// Secret is the secret access key. Required. Never printed: see String.
	Secret string
}

// String describes the key without its secret.
func (k AccessKey) String() string { return k.ID + "/<redacted>" }

// LogValue logs the key without its secret.
func (k AccessKey) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", k.ID), slog.String("secret", "<redacted>"))
}

// VPC is a network (YAML list vpcs).
type VPC struct {
	// ID is "vpc-" followed by 8 or 17 lowercase hex digits.
	ID string
	// Account is the id of the owning account; it must be listed in accounts.
	Account string
	// CIDR is the VPC's address block, in network form (host bits zero).
	// IPv4 blocks are /16 to /28 as in AWS. VPCs of one account must not
	// overlap; VPCs of different accounts may.
	CIDR netip.Prefix
	// EnableDNSSupport is the VPC's enableDnsSupport attribute. Default true.
	EnableDNSSupport bool
	// EnableDNSHostnames is the VPC's enableDnsHostnames attribute. Default true.
	EnableDNSHostnames bool
	// DNSAddress is the VPC's resolver address (AmazonProvidedDNS), where
	// gatehouse's DNS listens at dnsPort. Default: the CIDR's base address
	// plus two, unless another VPC (of another account, with an overlapping
	// CIDR) has that address: then none. The zero Addr means the VPC has no
	// resolver. YAML key dnsAddress.
	DNSAddress netip.Addr
	// Subnets are the VPC's subnets (optional; dns.go).
	Subnets []Subnet
	// Routable says whether gatehouse reaches the VPC's addresses directly (YAML key
	// routable); nil means the default, see DirectlyRoutable (vpclink.go).
	Routable *bool
	// AgentTokens are tokens link agents join this VPC with (YAML key agentTokens).
	AgentTokens []string
}

// VPCEndpoint is an interface VPC endpoint for execute-api
// (YAML list vpcEndpoints).
type VPCEndpoint struct {
	// ID is "vpce-" followed by 17 (or 8) lowercase hex digits.
	ID string
	// VPC is the id of the VPC the endpoint lives in.
	VPC string
	// Addresses are the endpoint's "ENI" addresses, which gatehouse listens
	// on. At least one; each inside the VPC's CIDR and unique across all
	// endpoints.
	Addresses []netip.Addr
	// Port is the TLS port on every address. Default 8443 (gatehouse runs
	// unprivileged; AWS uses 443). An explicit 0 picks a free port.
	Port int
	// HTTPPort is an optional plain-HTTP port on every address; 0 (the
	// default) means none. YAML key httpPort.
	HTTPPort int
	// PrivateDNSEnabled makes {api-id}.execute-api.{region}.amazonaws.com
	// resolve to this endpoint inside its VPC. Default true, as in AWS; it
	// requires the VPC's DNS support and DNS hostnames attributes.
	// YAML key privateDnsEnabled.
	PrivateDNSEnabled bool
	// Ingress is the endpoint's security group: the source CIDRs allowed to
	// connect. Default (key absent): the VPC's CIDR. An empty list allows
	// nothing.
	Ingress []netip.Prefix
	// Policy is the VPC endpoint policy as compact JSON text, or nil for
	// the default policy (full access). In YAML it is a mapping or a JSON
	// string.
	Policy []byte
}

// Account returns the account with the given id.
func (t *Topology) Account(id string) (*Account, bool) {
	for i := range t.Accounts {
		if t.Accounts[i].ID == id {
			return &t.Accounts[i], true
		}
	}
	return nil, false
}

// VPC returns the VPC with the given id.
func (t *Topology) VPC(id string) (*VPC, bool) {
	for i := range t.VPCs {
		if t.VPCs[i].ID == id {
			return &t.VPCs[i], true
		}
	}
	return nil, false
}

// Endpoint returns the VPC endpoint with the given id.
func (t *Topology) Endpoint(id string) (*VPCEndpoint, bool) {
	for i := range t.VPCEndpoints {
		if t.VPCEndpoints[i].ID == id {
			return &t.VPCEndpoints[i], true
		}
	}
	return nil, false
}

// FindAccessKey returns the account owning access key id akid and the key's
// secret.
func (t *Topology) FindAccessKey(akid string) (account *Account, secret string, ok bool) {
	for i := range t.Accounts {
		for _, k := range t.Accounts[i].AccessKeys {
			if k.ID == akid {
				return &t.Accounts[i], k.Secret, true
			}
		}
	}
	return nil, "", false
}

// DNSSuffix returns the 8 lowercase hex digits AWS appends to an endpoint id
// in its public DNS names (vpce-01234567abcdef012-01234567). gatehouse
// derives them from the id (the first 4 bytes of its SHA-256), so they are
// stable across restarts and nodes.
func (e *VPCEndpoint) DNSSuffix() string {
	sum := sha256.Sum256([]byte(e.ID))
	return hex.EncodeToString(sum[:4])
}

// EndpointPublicDNSName returns the endpoint-specific public DNS name of e,
// "{vpce-id}-{suffix}.execute-api.{region}.vpce.amazonaws.com".
func (t *Topology) EndpointPublicDNSName(e *VPCEndpoint) string {
	return e.ID + "-" + e.DNSSuffix() + ".execute-api." + t.Region + ".vpce.amazonaws.com"
}

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML returns the default topology as a commented YAML file that
// explains every key. Parse(DefaultYAML()) equals Default(). The caller owns
// the returned slice.
func DefaultYAML() []byte {
	return append([]byte(nil), defaultYAML...)
}

// Default returns the built-in single-host topology: Region us-east-1; the
// control plane on 127.0.0.1:4566; the public listener on 127.0.0.1:8443
// with plain HTTP on 127.0.0.1:8080; account 111111111111 with access key
// AKIAPROVIDER00000001 (secret "provider-secret"); vpc-0aaaaaaaaaaaaaaa1
// with CIDR 127.10.0.0/16; and endpoint vpce-0aaaaaaaaaaaaaaa1 on
// 127.10.1.10, port 8443, HTTP port 8080, private DNS on, ingress from the
// VPC. Each call returns a new value.
func Default() *Topology {
	vpcCIDR := netip.MustParsePrefix("127.10.0.0/16")
	return &Topology{
		Region:         "us-east-1",
		ControlPlane:   ControlPlane{Listen: "127.0.0.1:4566"},
		PublicListener: PublicListener{Listen: "127.0.0.1:8443", HTTPListen: "127.0.0.1:8080"},
		Accounts: []Account{{
			ID:         "111111111111",
			AccessKeys: []AccessKey{{ID: "AKIAPROVIDER00000001", Secret: "provider-secret"}},
		}},
		VPCs: []VPC{{
			ID:                 "vpc-0aaaaaaaaaaaaaaa1",
			Account:            "111111111111",
			CIDR:               vpcCIDR,
			EnableDNSSupport:   true,
			EnableDNSHostnames: true,
			DNSAddress:         netip.MustParseAddr("127.10.0.2"),
		}},
		VPCEndpoints: []VPCEndpoint{{
			ID:                "vpce-0aaaaaaaaaaaaaaa1",
			VPC:               "vpc-0aaaaaaaaaaaaaaa1",
			Addresses:         []netip.Addr{netip.MustParseAddr("127.10.1.10")},
			Port:              8443,
			HTTPPort:          8080,
			PrivateDNSEnabled: true,
			Ingress:           []netip.Prefix{vpcCIDR},
		}},
		DNS: DNS{Port: defaultDNSPort},
	}
}
