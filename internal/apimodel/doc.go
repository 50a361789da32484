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
//	apikeys      {keyId}                 APIKey (account-level)
//	apikeyvalues {account}.{sha256hex(value)}  APIKeyValue (value → key id; see APIKeyValueKey)
//	usageplans   {usagePlanId}           UsagePlan (account-level)
//	usageplankeys {usagePlanId}.{keyId}  UsagePlanKey
//	usage        {usagePlanId}.{keyId}.{yyyy-mm-dd}  JSON number: requests that day (UTC)
//
// Authorizers, request validators and models live inside the API document, so a
// deployment freezes them with the rest of the API.
//
// The usage bucket is the contract between the data plane's throttle package, which
// increments a key's counter for the current UTC day on every request counted against
// its usage plan, and the control plane's GetUsage, which reads the counters. A quota
// period's usage is the sum of its days' counters (QuotaPeriodStart).
package apimodel
