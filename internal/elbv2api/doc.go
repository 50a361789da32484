// Package elbv2api serves the part of the Elastic Load Balancing v2 API (query
// protocol, version 2015-12-01) that private integrations need: load balancers
// (network and application), target groups with their health check settings,
// target registration, listeners (TCP and TLS on network load balancers, HTTP
// and HTTPS on application load balancers), listener rules (path-pattern and
// host-header conditions, forward and fixed-response actions) and
// DescribeTargetHealth.
//
// Requests arrive already authenticated (SigV4, service "elasticloadbalancing");
// ServeELBv2 gets the caller's account, and each account sees only its own
// resources. Load balancers live in the topology's VPC subnets
// (config.VPC.Subnets); target groups in a VPC of the caller's account.
//
// The documents are apimodel's (network.go) in the store bucket
// apimodel.BucketELB: the internal/vpclink runtime watches them and builds its
// listeners, balancers and health checkers from them. Target health is not
// stored: DescribeTargetHealth asks the runtime through HealthSource.
//
// Topology-declared objects (declared.go): the load balancers, with their listeners
// and rules, and the target groups of the topology file (config.Topology.LoadBalancers
// and TargetGroups) are never stored. New converts them once with
// vpclink.TopologyDocuments, as the runtime does, so they carry the ARNs config
// computes, and every Describe* call of their account lists them next to the stored
// ones, in the same order and pages; DescribeTargetHealth asks HealthSource about them
// like about stored groups. They are read-only: DeleteLoadBalancer, DeleteTargetGroup,
// RegisterTargets, DeregisterTargets, CreateListener on a declared load balancer,
// DeleteListener, CreateRule on a declared listener and DeleteRule fail with
// OperationNotPermitted (HTTP 400), "Load balancer '{arn}' is declared in gatehouse's
// topology file and is read-only" (Target group, Listener, Rule alike). A stored load
// balancer or target group cannot take a declared one's name in the same account
// (DuplicateLoadBalancerName, DuplicateTargetGroupName), and declared ones count
// towards the per-account quotas. A stored listener or rule may forward to a declared
// target group that no declared load balancer uses (one that is used is refused with
// TargetGroupAssociationLimit); a declared group's LoadBalancerArns are computed from
// the listeners and rules forwarding to it.
//
// Wire format: form-encoded requests (Action=...&Version=2015-12-01, lists as
// Name.member.N), XML responses
// <{Action}Response xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">
// <{Action}Result>...</{Action}Result><ResponseMetadata><RequestId/></ResponseMetadata>
// </{Action}Response>, and errors as
// <ErrorResponse><Error><Type>Sender</Type><Code/><Message/></Error><RequestId/></ErrorResponse>
// with HTTP 400 (botocore's elbv2 model: every modelled error is a 400 sender
// fault).
//
// Behaviour notes (differences from AWS are deliberate and listed here):
//   - Load balancers are created in state "active" (AWS passes through
//     "provisioning" for a few minutes); waiters succeed at once.
//   - Only forward and fixed-response actions are accepted (fixed-response on
//     application load balancers only, as on AWS); redirect and the
//     authenticate actions are refused with InvalidLoadBalancerAction.
//   - Target groups support protocols HTTP, HTTPS, TCP and TLS and target types
//     ip and instance; UDP, TCP_UDP, GENEVE, lambda and alb targets are refused.
//     Instance targets are the topology's instances (config.Instance): one of the
//     caller's account, in the group's VPC, running when registered (instances.go
//     has AWS's InvalidTarget messages). The runtime reaches them at their private
//     IP; a registered instance that is stopped reports unused/Target.InvalidState.
//   - Topology-declared objects: OperationNotPermitted for changes is gatehouse's
//     (AWS has no read-only load balancers). Their CreatedTime is when this Server was
//     built; a declared listener's default rule has an id derived from the listener's
//     ARN; health check settings the topology leaves out show the defaults the runtime
//     applies (apimodel.TargetGroup), so a short interval may show the default
//     timeout above it where CreateTargetGroup would shorten it.
//   - Names are unique per account; the check is serialized within one process
//     (two gatehouse nodes creating the same name at the same instant may both
//     succeed).
package elbv2api
