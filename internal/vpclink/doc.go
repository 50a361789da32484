// Package vpclink is the runtime of API Gateway private integrations: VPC links (V1 to
// network load balancers, V2 to network or application load balancers and Cloud Map
// services), the load balancers' listeners, rules and target groups with active and
// passive health checking, and the link-agent tunnels that reach VPCs gatehouse has no
// route into.
//
// A Manager is built from the topology (VPCs, their routability and agent tokens, and
// the load balancers and target groups declared there) and the stored documents of
// package apimodel (Update, or Run to follow the store). It compiles them into an
// immutable snapshot, swapped atomically on every change; target groups keep their
// targets' health across changes, and deregistered targets drain.
//
// The data plane uses it per request:
//
//	id, _ := vpclink.ConnectionID(integration.ConnectionID, stage.Variables)
//	route, err := m.Resolve(vpclink.Request{Account: api.Account, ConnectionID: id,
//		IntegrationTarget: integration.IntegrationTarget, URI: integration.URI})
//	done, fixed, err := route.Do(ctx, vpclink.TLSOptions{ServerName: uriHost,
//		InsecureSkipVerification: tlsCfg.InsecureSkipVerification,
//		ClientCertificateID: stage.ClientCertificateID}, &upstreamReq, &upstreamResp)
//	// read and close upstreamResp, then call done; fixed is an ALB rule's fixed response
//	// errors → vpclink.HTTPStatus(err): 500 configuration, 502 connect, 504 timeout
//
// and route.DialContext for raw TCP through network load balancers.
//
// Target groups of type ip name addresses; those of type instance name EC2 instances of
// the topology (config.Instance), reached at their private IP while running
// (SetInstances applies a changed instance list).
//
// Every connection to a target goes through DialVPC: directly when the target's VPC is
// routable, else through one of that VPC's link agents (ServeTunnel accepts them; see
// package linkagent and the wire format in tunnelwire). Agents of one VPC are never
// used for another VPC's addresses, so VPCs of different accounts may overlap.
//
// Metrics (namespace gateway, subsystem vpclink): agents{vpc},
// agent_joins_total{vpc,result}, agent_streams{vpc,agent},
// agent_streams_total{vpc,agent}, agent_bytes_total{vpc,agent,direction},
// agent_dial_errors_total{vpc,agent,reason}, healthy_targets{target_group},
// target_ejections_total{target_group}, target_connect_errors_total{target_group}.
//
// Locking: Manager.mu serializes Update and Close; targetGroup.mu guards a group's
// targets (taken under Manager.mu, never the other way); target.mu guards one target's
// state (innermost). Health checkers take no group or manager lock. Manager.cmMu guards
// Cloud Map targets and is never held while taking another lock.
package vpclink
