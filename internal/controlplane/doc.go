// Package controlplane is gatehouse's AWS-compatible control plane for REST APIs: the
// `apigateway` service (REST-JSON, API version 2015-07-09) exactly as botocore's model
// defines its paths, methods, status codes and shapes, so the aws CLI, boto3 and
// aws-sdk-go-v2 work against it unchanged.
//
// It owns the REST API documents in the store (see package apimodel for the layout):
// RestApis with their resource trees, methods, integrations and gateway responses,
// Deployments (frozen copies of an API) and Stages. It validates every write the way
// API Gateway does, with AWS's error codes and messages, and writes through the store's
// optimistic read-modify-write so that concurrent writers never lose an update.
//
// The caller's SigV4 signature is verified before a request reaches ServeAPIGateway;
// the verified account scopes every lookup, so one account never sees another's APIs.
//
// One file per resource family: restapis.go, resources.go, methods.go,
// integrations.go, deployments.go, stages.go, gatewayresponses.go, tags.go; patch.go
// holds the PatchOperation plumbing shared by the Update* operations, errors.go the
// AWS error envelope and wire.go the response shapes.
package controlplane
