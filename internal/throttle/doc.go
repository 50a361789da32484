// Package throttle enforces API Gateway's API keys, usage plans, throttles and quotas for
// REST APIs.
//
// # Contract
//
//   - Compile turns the stored documents — apimodel.UsagePlan, APIKey and UsagePlanKey as
//     the control plane writes them, and the stages' methodSettings — into an immutable
//     *Plans. It never fails as a whole; entries it cannot serve are left out and
//     reported in the returned error.
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
// (apiStages[].throttle["/res/METHOD"], or "/*/*"), else the plan's per-client limit
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
// calendar day, a week starting on Sunday 00:00 UTC, or a calendar month
// (apimodel.QuotaPeriodStart). QuotaSettings.offset is not applied (the stored plan has
// no creation date to tell its initial period; GetUsage does the same). Only requests
// that passed the key check and every throttle are counted; the one that would exceed
// the limit is refused with QUOTA_EXCEEDED and not counted.
//
// # Usage counters
//
// The store holds apimodel's usage counters: bucket apimodel.BucketUsage, key
// apimodel.UsageKey(planId, keyId, day) = "{usagePlanId}.{keyId}.{yyyy-mm-dd}", value a
// JSON number — the requests counted that UTC day. A period's usage is the sum of its
// days' counters; the control plane's GetUsage reads the same counters, so what this
// package enforces is what GetUsage reports (less at most one write-back of counts).
//
// Counters live in memory (atomics) and are written back every FlushInterval, early
// when one counter has FlushEvery unwritten requests, when its plan changes, and on
// Close. Each write adds this node's count to the day's counter with a
// read-modify-write, so several gatehouse nodes sharing a NATS cluster add up; the
// merged figure (plus the period's earlier days, re-read when the day changes and for
// the first minute or so of each day) becomes the node's view, so each node sees the
// others' counts at most one write-back late. SetPlans loads the current period of
// every new plan/key pair: a quota of N refuses request N+1 after a restart too, as
// long as the previous process closed (or wrote back) cleanly; a crash loses at most
// the counts of the last FlushInterval. Limiter.SetRemaining (UpdateUsage) rewrites
// the period's counters.
package throttle
