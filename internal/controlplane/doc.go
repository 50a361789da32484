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
// It also owns the access-control documents: authorizers, request validators and
// models (inside the API document, so they deploy with it), and the account-level API
// keys, usage plans, usage plan keys and the usage counters GetUsage reports.
// Gatehouse extension: a COGNITO_USER_POOLS authorizer's providerARNs may name OIDC
// issuer URLs (https, or http to a loopback host) besides Cognito user pool ARNs, so any
// OIDC provider can stand in for Cognito (see apimodel.ProviderIssuer).
//
// One file per resource family: restapis.go, resources.go, methods.go,
// integrations.go, deployments.go, stages.go, gatewayresponses.go, tags.go,
// authorizers.go, models.go (models and request validators), apikeys.go,
// usageplans.go (plans, plan keys, usage); accountdocs.go the owner-checked store
// access of account-level documents; patch.go
// holds the PatchOperation plumbing shared by the Update* operations, errors.go the
// AWS error envelope and wire.go the response shapes.
package controlplane
