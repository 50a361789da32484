// Package config owns gatehouse's topology file: the declarative description
// of what AWS calls infrastructure — the Region, the accounts and their access
// keys, the VPCs and the interface VPC endpoints for execute-api, EC2 instances
// (instances.go), load balancers and target groups (vpclink.go) — plus the
// addresses of the control plane and the public (regional) listener.
//
// # Contract
//
// The package parses bytes and files only; flags and environment variables
// belong to cmd/gatehouse. [Parse] runs three steps in order:
//
//  1. Decode. The YAML is decoded strictly: an unknown key, a duplicate key,
//     a value of the wrong kind, a YAML merge key ("<<") or a custom tag is an
//     error that names the key path, e.g. "vpcEndpoints[0].prot: unknown key".
//     Input is limited to [MaxFileSize] bytes and to one YAML document.
//     Anchors and aliases are allowed; they are followed without copying and
//     the only free-form value (an endpoint policy) is converted to JSON under
//     a size budget, so alias "bombs" fail fast instead of expanding.
//  2. Defaults. Fields that were absent from the file get their defaults,
//     documented on each struct field (for example an endpoint's port is
//     8443 and its ingress rules are its VPC's CIDR). Defaults depend on
//     whether a key was present, so they are applied only by Parse; a
//     hand-built [Topology] is taken as it is.
//  3. Validate. [Topology.Validate] checks every rule and reports all
//     violations at once, joined with [errors.Join]. Every error, from decode
//     or validation, is a [*FieldError] carrying the key path and, when the
//     value came from a file, its line.
//
// # Key paths
//
// Paths use the YAML key names with list indexes in brackets:
// "region", "controlPlane.listen", "accounts[0].accessKeys[1].id",
// "vpcEndpoints[2].addresses[0]".
//
// # Endpoint policies
//
// A VPC endpoint policy may be written as a YAML mapping or as a string
// holding JSON. Either way it is stored as compact JSON text in
// [VPCEndpoint.Policy], keeping the key order of the file, so both spellings
// of the same policy give the same bytes. This package checks only that the
// policy is a JSON object with a "Statement" key and at most 20,480
// characters (AWS's endpoint policy quota); the policy language itself is
// checked by the policy package.
//
// # Defaults
//
// [Default] returns the built-in single-host topology and [DefaultYAML] the
// same topology as a commented YAML file, suitable as an example to print or
// write next to a deployment. Parse(DefaultYAML()) equals Default().
package config
