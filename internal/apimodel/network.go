package apimodel

// Private-integration documents: Elastic Load Balancing v2 load balancers, listeners,
// rules and target groups; AWS Cloud Map namespaces, services and instances; API Gateway
// VPC links (v1 for REST, v2 for HTTP and REST APIs); client certificates; and the
// tokens link agents join a VPC with.
//
// Field names are AWS's wire names: ELBv2 (query protocol) and Cloud Map (awsJson1.1)
// use PascalCase member names, API Gateway (REST-JSON) uses camelCase. The control plane
// writes these documents; the vpclink package builds its runtime from them (plus the
// topology file's load balancers) and never writes them.
//
// Storage layout (bucket → key → value). Keys cannot hold ':' so they are built from
// ids, never from ARNs; use the *Key helpers below.
//
//	elb         {account}.lb.{lbId}                 LoadBalancer
//	elb         {account}.listener.{listenerId}     Listener
//	elb         {account}.rule.{ruleId}             Rule
//	elb         {account}.tg.{tgId}                 TargetGroup (with its registered targets)
//	cloudmap    {account}.ns.{namespaceId}          Namespace
//	cloudmap    {account}.srv.{serviceId}           Service
//	cloudmap    {account}.inst.{serviceId}.{escInstanceId}  Instance (KeyEscape(instanceId))
//	vpclinks    {account}.{vpcLinkId}               VpcLinkRecord (V1 or V2; one id space)
//	clientcerts {account}.{clientCertificateId}     ClientCertificateRecord
//	agenttokens {sha256hex(token)}                  AgentToken
//
// ARN forms (region and account from the topology):
//
//	arn:aws:elasticloadbalancing:{region}:{account}:loadbalancer/{net|app}/{name}/{lbId}
//	arn:aws:elasticloadbalancing:{region}:{account}:listener/{net|app}/{name}/{lbId}/{listenerId}
//	arn:aws:elasticloadbalancing:{region}:{account}:listener-rule/{net|app}/{name}/{lbId}/{listenerId}/{ruleId}
//	arn:aws:elasticloadbalancing:{region}:{account}:targetgroup/{name}/{tgId}
//	arn:aws:servicediscovery:{region}:{account}:namespace/{ns-…}
//	arn:aws:servicediscovery:{region}:{account}:service/{srv-…}
//
// ParseELBARN and ParseCloudMapARN take them apart.

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Bucket names of the private-integration documents.
const (
	BucketELB         = "elb"
	BucketCloudMap    = "cloudmap"
	BucketVpcLinks    = "vpclinks"
	BucketClientCerts = "clientcerts"
	BucketAgentTokens = "agenttokens"
)

// Load balancer types (LoadBalancer.Type) and the ARN path segment of each.
const (
	LoadBalancerNetwork     = "network"
	LoadBalancerApplication = "application"
)

// Load balancer schemes. gatehouse only has internal load balancers; internet-facing is
// accepted and behaves the same.
const (
	SchemeInternal       = "internal"
	SchemeInternetFacing = "internet-facing"
)

// Load balancer states (LoadBalancerState.Code).
const (
	LoadBalancerActive         = "active"
	LoadBalancerProvisioning   = "provisioning"
	LoadBalancerActiveImpaired = "active_impaired"
	LoadBalancerFailed         = "failed"
)

// Listener and target group protocols.
const (
	ProtocolTCP   = "TCP"
	ProtocolTLS   = "TLS"
	ProtocolUDP   = "UDP"
	ProtocolHTTP  = "HTTP"
	ProtocolHTTPS = "HTTPS"
)

// Action types (Action.Type).
const (
	ActionForward       = "forward"
	ActionFixedResponse = "fixed-response"
	ActionRedirect      = "redirect"
)

// Rule condition fields (RuleCondition.Field) gatehouse evaluates.
const (
	ConditionPathPattern = "path-pattern"
	ConditionHostHeader  = "host-header"
)

// Target types (TargetGroup.TargetType). gatehouse treats an instance id target as
// unresolvable unless the topology maps it; use ip.
const (
	TargetTypeIP       = "ip"
	TargetTypeInstance = "instance"
)

// Target health states (TargetHealth.State), as DescribeTargetHealth reports them.
const (
	TargetHealthInitial     = "initial"
	TargetHealthHealthy     = "healthy"
	TargetHealthUnhealthy   = "unhealthy"
	TargetHealthUnused      = "unused"
	TargetHealthDraining    = "draining"
	TargetHealthUnavailable = "unavailable"
)

// Target group attribute keys gatehouse honours, and their values.
const (
	AttrDeregistrationDelay      = "deregistration_delay.timeout_seconds" // default "300"
	AttrLoadBalancingAlgorithm   = "load_balancing.algorithm.type"        // ALB: round_robin | least_outstanding_requests
	AlgorithmRoundRobin          = "round_robin"
	AlgorithmLeastOutstanding    = "least_outstanding_requests"
	DefaultDeregistrationSeconds = 300
)

// HealthCheckPortTraffic is HealthCheckPort's default: check on the target's own port.
const HealthCheckPortTraffic = "traffic-port"

// LoadBalancerState is ELBv2's LoadBalancerState.
type LoadBalancerState struct {
	Code   string `json:"Code"`
	Reason string `json:"Reason,omitempty"`
}

// AvailabilityZone is ELBv2's AvailabilityZone: one subnet of the load balancer.
type AvailabilityZone struct {
	ZoneName string `json:"ZoneName,omitempty"`
	SubnetID string `json:"SubnetId"`
}

// LoadBalancer is ELBv2's LoadBalancer shape plus the owning account. Type is network or
// application; Scheme is internal. DNSName is
// {name}-{hex}.elb.{region}.amazonaws.com (internal-… for application load balancers).
type LoadBalancer struct {
	Account               string             `json:"account"`
	LoadBalancerArn       string             `json:"LoadBalancerArn"`
	LoadBalancerName      string             `json:"LoadBalancerName"`
	DNSName               string             `json:"DNSName,omitempty"`
	CanonicalHostedZoneID string             `json:"CanonicalHostedZoneId,omitempty"`
	CreatedTime           Epoch              `json:"CreatedTime"`
	Scheme                string             `json:"Scheme"`
	VpcID                 string             `json:"VpcId"`
	State                 LoadBalancerState  `json:"State"`
	Type                  string             `json:"Type"`
	AvailabilityZones     []AvailabilityZone `json:"AvailabilityZones,omitempty"`
	SecurityGroups        []string           `json:"SecurityGroups,omitempty"`
	IPAddressType         string             `json:"IpAddressType,omitempty"`
	Tags                  map[string]string  `json:"Tags,omitempty"`
}

// Subnets returns the load balancer's subnet ids.
func (lb *LoadBalancer) Subnets() []string {
	out := make([]string, 0, len(lb.AvailabilityZones))
	for _, az := range lb.AvailabilityZones {
		out = append(out, az.SubnetID)
	}
	return out
}

// Certificate is ELBv2's Certificate: a listener's server certificate. CertificateArn
// names a certificate of gatehouse's certificate store (an ACM-style ARN).
type Certificate struct {
	CertificateArn string `json:"CertificateArn"`
	IsDefault      bool   `json:"IsDefault,omitempty"`
}

// TargetGroupTuple is ELBv2's TargetGroupTuple (a weighted forward target).
type TargetGroupTuple struct {
	TargetGroupArn string `json:"TargetGroupArn"`
	Weight         *int   `json:"Weight,omitempty"`
}

// ForwardActionConfig is ELBv2's ForwardActionConfig.
type ForwardActionConfig struct {
	TargetGroups []TargetGroupTuple `json:"TargetGroups,omitempty"`
}

// FixedResponseActionConfig is ELBv2's FixedResponseActionConfig.
type FixedResponseActionConfig struct {
	StatusCode  string `json:"StatusCode"`
	ContentType string `json:"ContentType,omitempty"`
	MessageBody string `json:"MessageBody,omitempty"`
}

// Action is ELBv2's Action. For forward, TargetGroupArn or ForwardConfig names the target
// group(s); ForwardTargetGroups returns them either way.
type Action struct {
	Type                string                     `json:"Type"`
	TargetGroupArn      string                     `json:"TargetGroupArn,omitempty"`
	Order               int                        `json:"Order,omitempty"`
	ForwardConfig       *ForwardActionConfig       `json:"ForwardConfig,omitempty"`
	FixedResponseConfig *FixedResponseActionConfig `json:"FixedResponseConfig,omitempty"`
}

// ForwardTargetGroups returns the target groups a forward action sends to (with weights;
// a missing weight is 1).
func (a *Action) ForwardTargetGroups() []TargetGroupTuple {
	if a.Type != ActionForward {
		return nil
	}
	if a.ForwardConfig != nil && len(a.ForwardConfig.TargetGroups) > 0 {
		return a.ForwardConfig.TargetGroups
	}
	if a.TargetGroupArn != "" {
		return []TargetGroupTuple{{TargetGroupArn: a.TargetGroupArn}}
	}
	return nil
}

// Listener is ELBv2's Listener shape plus the owning account. Protocol is TCP or TLS on a
// network load balancer, HTTP or HTTPS on an application load balancer.
type Listener struct {
	Account         string        `json:"account"`
	ListenerArn     string        `json:"ListenerArn"`
	LoadBalancerArn string        `json:"LoadBalancerArn"`
	Port            int           `json:"Port"`
	Protocol        string        `json:"Protocol"`
	Certificates    []Certificate `json:"Certificates,omitempty"`
	SslPolicy       string        `json:"SslPolicy,omitempty"`
	DefaultActions  []Action      `json:"DefaultActions"`
	AlpnPolicy      []string      `json:"AlpnPolicy,omitempty"`
}

// PathPatternConditionConfig is ELBv2's PathPatternConditionConfig.
type PathPatternConditionConfig struct {
	Values []string `json:"Values"`
}

// HostHeaderConditionConfig is ELBv2's HostHeaderConditionConfig.
type HostHeaderConditionConfig struct {
	Values []string `json:"Values"`
}

// RuleCondition is ELBv2's RuleCondition. Values (legacy) or the typed config holds the
// patterns; Patterns returns them either way.
type RuleCondition struct {
	Field             string                      `json:"Field"`
	Values            []string                    `json:"Values,omitempty"`
	PathPatternConfig *PathPatternConditionConfig `json:"PathPatternConfig,omitempty"`
	HostHeaderConfig  *HostHeaderConditionConfig  `json:"HostHeaderConfig,omitempty"`
}

// Patterns returns the condition's match patterns.
func (c *RuleCondition) Patterns() []string {
	switch {
	case c.Field == ConditionPathPattern && c.PathPatternConfig != nil && len(c.PathPatternConfig.Values) > 0:
		return c.PathPatternConfig.Values
	case c.Field == ConditionHostHeader && c.HostHeaderConfig != nil && len(c.HostHeaderConfig.Values) > 0:
		return c.HostHeaderConfig.Values
	}
	return c.Values
}

// RulePriorityDefault is the Priority of a listener's default rule (its DefaultActions),
// as DescribeRules reports it.
const RulePriorityDefault = "default"

// Rule is ELBv2's Rule shape plus the owning account and listener. Priority is a decimal
// string 1–50000 (lower is evaluated first) or "default". Only application load balancer
// listeners have rules besides the default.
type Rule struct {
	Account     string          `json:"account"`
	ListenerArn string          `json:"listenerArn"`
	RuleArn     string          `json:"RuleArn"`
	Priority    string          `json:"Priority"`
	Conditions  []RuleCondition `json:"Conditions"`
	Actions     []Action        `json:"Actions"`
	IsDefault   bool            `json:"IsDefault"`
}

// Matcher is ELBv2's Matcher: HttpCode is "200", "200,202" or "200-299".
type Matcher struct {
	HTTPCode string `json:"HttpCode,omitempty"`
	GrpcCode string `json:"GrpcCode,omitempty"`
}

// TargetDescription is ELBv2's TargetDescription: Id is an IP address for ip targets.
// A zero Port means the target group's port.
type TargetDescription struct {
	ID               string `json:"Id"`
	Port             int    `json:"Port,omitempty"`
	AvailabilityZone string `json:"AvailabilityZone,omitempty"`
}

// TargetRegistration is one registered target with the time it was registered.
type TargetRegistration struct {
	TargetDescription
	RegisteredAt Epoch `json:"registeredAt"`
}

// TargetGroup is ELBv2's TargetGroup shape plus the owning account, its attributes
// (DescribeTargetGroupAttributes; AttrDeregistrationDelay, AttrLoadBalancingAlgorithm)
// and its registered targets. Health check defaults, applied by the control plane when
// the caller omits them as ELBv2 does, and by the runtime to zero values:
// HealthCheckProtocol = Protocol for HTTP/HTTPS groups, TCP for TCP/TLS groups;
// HealthCheckPort "traffic-port"; HealthCheckPath "/"; interval 30 s; timeout 5 s for
// HTTP/HTTPS groups, 10 s for TCP checks and 6 s for HTTP checks of TCP/TLS groups;
// healthy threshold 5; unhealthy threshold 2; matcher "200" for HTTP/HTTPS groups,
// "200-399" for TCP/TLS groups.
//
// Deregistering a target removes it from Targets at once; the runtime drains it (no new
// connections, in-flight ones kept) for the deregistration delay.
type TargetGroup struct {
	Account                    string               `json:"account"`
	TargetGroupArn             string               `json:"TargetGroupArn"`
	TargetGroupName            string               `json:"TargetGroupName"`
	Protocol                   string               `json:"Protocol"`
	Port                       int                  `json:"Port"`
	VpcID                      string               `json:"VpcId"`
	HealthCheckProtocol        string               `json:"HealthCheckProtocol,omitempty"`
	HealthCheckPort            string               `json:"HealthCheckPort,omitempty"`
	HealthCheckEnabled         *bool                `json:"HealthCheckEnabled,omitempty"`
	HealthCheckIntervalSeconds int                  `json:"HealthCheckIntervalSeconds,omitempty"`
	HealthCheckTimeoutSeconds  int                  `json:"HealthCheckTimeoutSeconds,omitempty"`
	HealthyThresholdCount      int                  `json:"HealthyThresholdCount,omitempty"`
	UnhealthyThresholdCount    int                  `json:"UnhealthyThresholdCount,omitempty"`
	HealthCheckPath            string               `json:"HealthCheckPath,omitempty"`
	Matcher                    *Matcher             `json:"Matcher,omitempty"`
	LoadBalancerArns           []string             `json:"LoadBalancerArns,omitempty"`
	TargetType                 string               `json:"TargetType"`
	ProtocolVersion            string               `json:"ProtocolVersion,omitempty"`
	IPAddressType              string               `json:"IpAddressType,omitempty"`
	Attributes                 map[string]string    `json:"attributes,omitempty"`
	Targets                    []TargetRegistration `json:"targets,omitempty"`
	Tags                       map[string]string    `json:"Tags,omitempty"`
}

// TargetHealth is ELBv2's TargetHealth; TargetHealthDescription pairs it with the target.
// These are computed by the runtime (vpclink) for DescribeTargetHealth; they are not stored.
type TargetHealth struct {
	State       string `json:"State"`
	Reason      string `json:"Reason,omitempty"`
	Description string `json:"Description,omitempty"`
}

// TargetHealthDescription is ELBv2's TargetHealthDescription.
type TargetHealthDescription struct {
	Target          TargetDescription `json:"Target"`
	HealthCheckPort string            `json:"HealthCheckPort,omitempty"`
	TargetHealth    TargetHealth      `json:"TargetHealth"`
}

// ELB key helpers.

// LoadBalancerKey is the elb key of a load balancer.
func LoadBalancerKey(account, lbID string) string { return account + ".lb." + lbID }

// KeyKind is the kind token of an elb or cloudmap key ({account}.{kind}.…): "lb",
// "listener", "rule", "tg", "ns", "srv" or "inst"; "" for a key without one.
func KeyKind(key string) string {
	_, rest, ok := strings.Cut(key, ".")
	if !ok {
		return ""
	}
	k, _, _ := strings.Cut(rest, ".")
	return k
}

// ListenerKey is the elb key of a listener.
func ListenerKey(account, listenerID string) string { return account + ".listener." + listenerID }

// RuleKey is the elb key of a listener rule.
func RuleKey(account, ruleID string) string { return account + ".rule." + ruleID }

// TargetGroupKey is the elb key of a target group.
func TargetGroupKey(account, tgID string) string { return account + ".tg." + tgID }

// ELBARN is a parsed Elastic Load Balancing ARN. Kind is "loadbalancer", "listener",
// "listener-rule" or "targetgroup". LBType is "net" or "app" (empty for target groups).
// ID is the last path segment: the id of the named resource. LBID is the load balancer's
// id for listeners and rules, ListenerID the listener's for rules.
type ELBARN struct {
	Partition, Region, Account string
	Kind, LBType, Name         string
	LBID, ListenerID, ID       string
}

// ParseELBARN parses an elasticloadbalancing ARN.
func ParseELBARN(arn string) (ELBARN, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "elasticloadbalancing" {
		return ELBARN{}, fmt.Errorf("not an elasticloadbalancing ARN: %q", arn)
	}
	a := ELBARN{Partition: parts[1], Region: parts[3], Account: parts[4]}
	seg := strings.Split(parts[5], "/")
	for _, s := range seg {
		if s == "" {
			return ELBARN{}, fmt.Errorf("malformed elasticloadbalancing ARN: %q", arn)
		}
	}
	a.Kind = seg[0]
	switch {
	case a.Kind == "targetgroup" && len(seg) == 3:
		a.Name, a.ID = seg[1], seg[2]
	case a.Kind == "loadbalancer" && len(seg) == 4:
		a.LBType, a.Name, a.LBID = seg[1], seg[2], seg[3]
		a.ID = a.LBID
	case a.Kind == "listener" && len(seg) == 5:
		a.LBType, a.Name, a.LBID, a.ListenerID = seg[1], seg[2], seg[3], seg[4]
		a.ID = a.ListenerID
	case a.Kind == "listener-rule" && len(seg) == 6:
		a.LBType, a.Name, a.LBID, a.ListenerID, a.ID = seg[1], seg[2], seg[3], seg[4], seg[5]
	default:
		return ELBARN{}, fmt.Errorf("malformed elasticloadbalancing ARN: %q", arn)
	}
	if a.LBType != "" && a.LBType != "net" && a.LBType != "app" {
		return ELBARN{}, fmt.Errorf("elasticloadbalancing ARN %q: load balancer type %q is not net or app", arn, a.LBType)
	}
	return a, nil
}

// Cloud Map.

// Namespace types (Namespace.Type).
const (
	NamespaceDNSPrivate = "DNS_PRIVATE"
	NamespaceDNSPublic  = "DNS_PUBLIC"
	NamespaceHTTP       = "HTTP"
)

// Cloud Map instance attribute names AWS reserves.
const (
	AttrInstanceIPv4    = "AWS_INSTANCE_IPV4"
	AttrInstanceIPv6    = "AWS_INSTANCE_IPV6"
	AttrInstancePort    = "AWS_INSTANCE_PORT"
	AttrInstanceCNAME   = "AWS_INSTANCE_CNAME"
	AttrAliasDNSName    = "AWS_ALIAS_DNS_NAME"
	AttrInitHealthState = "AWS_INIT_HEALTH_STATUS"
)

// Cloud Map health statuses (HttpInstanceSummary.HealthStatus).
const (
	HealthHealthy   = "HEALTHY"
	HealthUnhealthy = "UNHEALTHY"
	HealthUnknown   = "UNKNOWN"
)

// DNSProperties is Cloud Map's DnsProperties.
type DNSProperties struct {
	HostedZoneID string `json:"HostedZoneId,omitempty"`
	SOA          *struct {
		TTL int64 `json:"TTL"`
	} `json:"SOA,omitempty"`
}

// HTTPProperties is Cloud Map's HttpProperties.
type HTTPProperties struct {
	HTTPName string `json:"HttpName,omitempty"`
}

// NamespaceProperties is Cloud Map's NamespaceProperties.
type NamespaceProperties struct {
	DNSProperties  *DNSProperties  `json:"DnsProperties,omitempty"`
	HTTPProperties *HTTPProperties `json:"HttpProperties,omitempty"`
}

// Namespace is Cloud Map's Namespace plus the owning account and, for private DNS
// namespaces, the VPC (CreatePrivateDnsNamespace's Vpc).
type Namespace struct {
	Account          string               `json:"account"`
	VpcID            string               `json:"vpcId,omitempty"`
	ID               string               `json:"Id"`
	Arn              string               `json:"Arn"`
	Name             string               `json:"Name"`
	Type             string               `json:"Type"`
	Description      string               `json:"Description,omitempty"`
	ServiceCount     int                  `json:"ServiceCount,omitempty"`
	Properties       *NamespaceProperties `json:"Properties,omitempty"`
	CreateDate       Epoch                `json:"CreateDate"`
	CreatorRequestID string               `json:"CreatorRequestId,omitempty"`
}

// DNSRecord is Cloud Map's DnsRecord (Type A, AAAA, SRV or CNAME).
type DNSRecord struct {
	Type string `json:"Type"`
	TTL  int64  `json:"TTL"`
}

// DNSConfig is Cloud Map's DnsConfig.
type DNSConfig struct {
	NamespaceID   string      `json:"NamespaceId,omitempty"`
	RoutingPolicy string      `json:"RoutingPolicy,omitempty"`
	DNSRecords    []DNSRecord `json:"DnsRecords"`
}

// HealthCheckConfig is Cloud Map's HealthCheckConfig (Route 53 health check).
type HealthCheckConfig struct {
	Type             string `json:"Type"`
	ResourcePath     string `json:"ResourcePath,omitempty"`
	FailureThreshold int    `json:"FailureThreshold,omitempty"`
}

// HealthCheckCustomConfig is Cloud Map's HealthCheckCustomConfig.
type HealthCheckCustomConfig struct {
	FailureThreshold int `json:"FailureThreshold,omitempty"`
}

// Service is Cloud Map's Service plus the owning account.
type Service struct {
	Account                 string                   `json:"account"`
	ID                      string                   `json:"Id"`
	Arn                     string                   `json:"Arn"`
	Name                    string                   `json:"Name"`
	NamespaceID             string                   `json:"NamespaceId"`
	Description             string                   `json:"Description,omitempty"`
	InstanceCount           int                      `json:"InstanceCount,omitempty"`
	DNSConfig               *DNSConfig               `json:"DnsConfig,omitempty"`
	Type                    string                   `json:"Type,omitempty"`
	HealthCheckConfig       *HealthCheckConfig       `json:"HealthCheckConfig,omitempty"`
	HealthCheckCustomConfig *HealthCheckCustomConfig `json:"HealthCheckCustomConfig,omitempty"`
	CreateDate              Epoch                    `json:"CreateDate"`
	CreatorRequestID        string                   `json:"CreatorRequestId,omitempty"`
}

// Instance is Cloud Map's Instance plus the owning account and service, and its health
// status (HEALTHY, UNHEALTHY, UNKNOWN — set by UpdateInstanceCustomHealthStatus or
// AWS_INIT_HEALTH_STATUS; empty means HEALTHY for services without a custom health check).
// Attributes hold AWS_INSTANCE_IPV4, AWS_INSTANCE_PORT and custom key/values.
type Instance struct {
	Account          string            `json:"account"`
	ServiceID        string            `json:"serviceId"`
	ID               string            `json:"Id"`
	CreatorRequestID string            `json:"CreatorRequestId,omitempty"`
	Attributes       map[string]string `json:"Attributes"`
	HealthStatus     string            `json:"HealthStatus,omitempty"`
}

// NamespaceKey is the cloudmap key of a namespace.
func NamespaceKey(account, nsID string) string { return account + ".ns." + nsID }

// ServiceKey is the cloudmap key of a service.
func ServiceKey(account, serviceID string) string { return account + ".srv." + serviceID }

// InstanceKey is the cloudmap key of an instance. Instance ids may hold characters that
// keys cannot (':' '@'), so the id is escaped with KeyEscape.
func InstanceKey(account, serviceID, instanceID string) string {
	return account + ".inst." + serviceID + "." + KeyEscape(instanceID)
}

// InstanceKeyPrefix is the cloudmap key prefix of a service's instances (for List).
func InstanceKeyPrefix(account, serviceID string) string {
	return account + ".inst." + serviceID + "."
}

// KeyEscape makes s safe as one store key token: every byte outside [-_a-zA-Z0-9]
// (including '.', '/' and '=') becomes "=XX" (two uppercase hex digits). It is
// reversible and injective.
func KeyEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "=%02X", c)
	}
	return b.String()
}

// CloudMapARN is a parsed servicediscovery ARN: Kind "namespace" or "service".
type CloudMapARN struct {
	Partition, Region, Account string
	Kind, ID                   string
}

// ParseCloudMapARN parses a servicediscovery ARN (without a query string).
func ParseCloudMapARN(arn string) (CloudMapARN, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "servicediscovery" {
		return CloudMapARN{}, fmt.Errorf("not a servicediscovery ARN: %q", arn)
	}
	kind, id, ok := strings.Cut(parts[5], "/")
	if !ok || id == "" || strings.Contains(id, "/") || (kind != "service" && kind != "namespace") {
		return CloudMapARN{}, fmt.Errorf("malformed servicediscovery ARN: %q", arn)
	}
	return CloudMapARN{Partition: parts[1], Region: parts[3], Account: parts[4], Kind: kind, ID: id}, nil
}

// VPC links.

// VPC link versions (VpcLinkRecord.Version; apigatewayv2 vpcLinkVersion).
const (
	VpcLinkVersion1 = "V1"
	VpcLinkVersion2 = "V2"
)

// VPC link statuses: v1 status and v2 vpcLinkStatus share these values (v2 adds INACTIVE).
const (
	VpcLinkAvailable = "AVAILABLE"
	VpcLinkPending   = "PENDING"
	VpcLinkDeleting  = "DELETING"
	VpcLinkFailed    = "FAILED"
	VpcLinkInactive  = "INACTIVE"
)

// Connection types (Integration.connectionType).
const (
	ConnectionInternet = "INTERNET"
	ConnectionVpcLink  = "VPC_LINK"
)

// VpcLink is apigateway's VpcLink (v1, REST): TargetArns holds network load balancer
// ARNs of the owner's account.
type VpcLink struct {
	ID            string            `json:"id"`
	Name          string            `json:"name"`
	Description   string            `json:"description,omitempty"`
	TargetArns    []string          `json:"targetArns"`
	Status        string            `json:"status"`
	StatusMessage string            `json:"statusMessage,omitempty"`
	Tags          map[string]string `json:"tags,omitempty"`
}

// VpcLinkV2 is apigatewayv2's VpcLink. Its subnets (all of one VPC) decide which VPC the
// link reaches. REST APIs use V2 links too, with the integration's integrationTarget.
type VpcLinkV2 struct {
	VpcLinkID            string            `json:"vpcLinkId"`
	Name                 string            `json:"name"`
	CreatedDate          Epoch             `json:"createdDate"`
	SubnetIDs            []string          `json:"subnetIds"`
	SecurityGroupIDs     []string          `json:"securityGroupIds"`
	VpcLinkStatus        string            `json:"vpcLinkStatus"`
	VpcLinkStatusMessage string            `json:"vpcLinkStatusMessage,omitempty"`
	VpcLinkVersion       string            `json:"vpcLinkVersion"`
	Tags                 map[string]string `json:"tags,omitempty"`
}

// VpcLinkRecord is the stored document of one VPC link: exactly one of V1 and V2 is set,
// as Version says. V1 and V2 links share one id space per account, so an integration's
// connectionId names exactly one link.
type VpcLinkRecord struct {
	Account string     `json:"account"`
	Version string     `json:"version"`
	V1      *VpcLink   `json:"v1,omitempty"`
	V2      *VpcLinkV2 `json:"v2,omitempty"`
	// StatusDate is when the link entered its current status (the control plane
	// removes a DELETING link a short delay after it). Zero in older documents.
	StatusDate Epoch `json:"statusDate,omitzero"`
}

// LinkID returns the link's id.
func (r *VpcLinkRecord) LinkID() string {
	if r.V2 != nil {
		return r.V2.VpcLinkID
	}
	if r.V1 != nil {
		return r.V1.ID
	}
	return ""
}

// Status returns the link's status.
func (r *VpcLinkRecord) Status() string {
	if r.V2 != nil {
		return r.V2.VpcLinkStatus
	}
	if r.V1 != nil {
		return r.V1.Status
	}
	return ""
}

// SetStatus sets the link's status and message, entered at now.
func (r *VpcLinkRecord) SetStatus(status, message string, now Epoch) {
	r.StatusDate = now
	if r.V1 != nil {
		r.V1.Status, r.V1.StatusMessage = status, message
	}
	if r.V2 != nil {
		r.V2.VpcLinkStatus, r.V2.VpcLinkStatusMessage = status, message
	}
}

// VpcLinkKey is the vpclinks key of a link.
func VpcLinkKey(account, vpcLinkID string) string { return account + "." + vpcLinkID }

// Client certificates.

// ClientCertificate is apigateway's ClientCertificate.
type ClientCertificate struct {
	ClientCertificateID   string            `json:"clientCertificateId"`
	Description           string            `json:"description,omitempty"`
	PemEncodedCertificate string            `json:"pemEncodedCertificate"`
	CreatedDate           Epoch             `json:"createdDate"`
	ExpirationDate        Epoch             `json:"expirationDate"`
	Tags                  map[string]string `json:"tags,omitempty"`
}

// ClientCertificateRecord is the stored document of a client certificate: the wire shape
// plus the PEM private key, which never leaves the server. A stage's
// clientCertificateId makes gatehouse present this certificate to HTTP backends.
type ClientCertificateRecord struct {
	Account           string            `json:"account"`
	ClientCertificate ClientCertificate `json:"clientCertificate"`
	PrivateKeyPEM     string            `json:"privateKeyPem"`
}

// ClientCertificateKey is the clientcerts key of a certificate.
func ClientCertificateKey(account, id string) string { return account + "." + id }

// Link agent tokens.

// AgentToken lets a link agent join VPC VpcID. The token itself is never stored: the key
// (and TokenSHA256) is the lowercase hex SHA-256 of the token's text. A revoked token is
// kept (Revoked true) so agents presenting it get a clear "revoked" refusal; deleting the
// document makes the token unknown. Topology-file tokens (vpcs[].agentTokens) work the
// same way without a document.
type AgentToken struct {
	Account     string `json:"account"`
	VpcID       string `json:"vpcId"`
	TokenID     string `json:"tokenId"`
	TokenSHA256 string `json:"tokenSha256"`
	Description string `json:"description,omitempty"`
	CreatedDate Epoch  `json:"createdDate"`
	Revoked     bool   `json:"revoked"`
	RevokedDate Epoch  `json:"revokedDate,omitzero"`
}

// AgentTokenHash returns the lowercase hex SHA-256 of a token: its agenttokens key.
func AgentTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
