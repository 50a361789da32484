// Package throttle enforces API Gateway's API keys, usage plans, throttles and quotas for
// REST APIs.
//
// # Contract
//
//   - Compile turns the stored documents (UsagePlan, APIKey, UsagePlanKey, and the
//     stages' methodSettings) into an immutable *Plans. It never fails as a whole;
//     entries it cannot serve are left out and reported in the returned error.
//   - A *Limiter owns all mutable state. SetPlans installs a new *Plans (control-plane
//     speed, may do store I/O); Allow decides one request (hot path: no lock, no
//     allocation, about 100 ns). Buckets whose limits did not change keep their state
//     across SetPlans.
//   - Outcome.ResponseType and Outcome.Message give the gateway response: INVALID_API_KEY
//     403 {"message":"Forbidden"}, THROTTLED 429 {"message":"Too Many Requests"},
//     QUOTA_EXCEEDED 429 {"message":"Limit Exceeded"}.
//
// # API keys
//
// Keys matter only for methods with apiKeyRequired. The key comes from the X-API-Key
// header (any case) when the API's apiKeySource is HEADER, or from the Lambda
// authorizer's usageIdentifierKey when it is AUTHORIZER (KeyFromRequest). The request
// is refused with INVALID_API_KEY unless the key exists, is enabled, and is in a usage
// plan that lists this API stage.
//
// # Throttling
//
// Each level is a token bucket (GCRA: one atomic word per bucket). AWS lists the levels
// "in the following order": (1) the usage plan's per-method limit for the stage
// (apiStages[].throttle["/res/METHOD"], or "*/*"), else the plan's per-client limit
// (throttle) — one bucket per API key; (2) the stage's per-method limit
// (methodSettings["res/METHOD"], each field falling back to "*/*" when negative, -1
// being AWS's "inherit") — one bucket per API method; (3) the account limit (default
// 10,000 rps, burst 5,000) — one bucket per account. AWS's regional limit is not
// modelled. A request must pass every level that applies (the levels nest: a usage
// plan cannot lift a client above its stage or account limit); when a later level
// refuses, tokens taken at earlier levels are given back. A limit set to 0 (rate or
// burst) refuses everything, as on AWS.
//
// # Quotas
//
// A quota counts the requests of one API key in one usage plan per period: a UTC
// calendar day, a week starting on Sunday 00:00 UTC, or a calendar month. In the plan's
// first period the limit is reduced by QuotaSettings.offset. Only requests that passed
// the key check and every throttle are counted; the one that would exceed the limit is
// refused with QUOTA_EXCEEDED and not counted.
//
// Counters live in memory (atomics) and are written back to the store (bucket "usage",
// key {planId}/{keyId}/{PERIOD}/{periodStart}, one document per period holding a count
// per UTC day) every FlushInterval, early when one counter has FlushEvery unwritten
// requests, when its plan changes, and on Close. Each write is a read-modify-write that
// adds this node's counts to what other nodes wrote, and the merged figure becomes the
// node's view; so several gatehouse nodes sharing a NATS cluster enforce one quota,
// each seeing the others' counts at most one write-back late. SetPlans loads the
// current period of every new plan/key pair: a quota of N refuses request N+1 after a
// restart too, as long as the previous process closed (or wrote back) cleanly; a crash
// loses at most the counts of the last FlushInterval.
//
// GetUsage (ReadUsage, Limiter.Usage) reads the same documents; UpdateUsage is
// Limiter.SetRemaining.
//
// # Storage layout (proposed; the control plane writes the first three)
//
//	usageplans     {usagePlanId}                                UsagePlan
//	apikeys        {apiKeyId}                                   APIKey
//	usageplankeys  {usagePlanId}/{keyId}                        UsagePlanKey
//	usage          {usagePlanId}/{keyId}/{PERIOD}/{yyyy-mm-dd}  quota counter (this package)
package throttle
