// Package apimodel holds API Gateway's REST API resources exactly as AWS puts them on
// the wire (the apigateway 2015-07-09 REST-JSON model: field names, enums, epoch-second
// timestamps), plus the few fields gatehouse keeps beside them (the owning account).
//
// The control plane stores these documents; the deployment package compiles them into
// the data plane's snapshot. Nothing here does I/O.
//
// Storage layout (bucket → key → value):
//
//	restapis     {apiId}                 API (the RestApi plus its resource tree and gateway responses)
//	deployments  {apiId}.{deploymentId}  Deployment (a frozen copy of the API at CreateDeployment)
//	stages       {apiId}.{stageName}     Stage
package apimodel
