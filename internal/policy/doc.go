// Package policy implements the IAM policy language as API Gateway uses it for
// resource policies and VPC endpoint policies: Parse compiles a JSON document,
// and Policy.Evaluate decides one request against it.
//
// # Contract
//
//   - Parse does all the work that can be done ahead of time: globs, CIDR
//     blocks, numbers, dates, ARN patterns and principals are compiled, and
//     invalid documents are rejected with a *ParseError that names the
//     statement, the element and the reason. Parse never panics.
//   - A *Policy is immutable. Evaluate may be called from any number of
//     goroutines and parses nothing from the policy. It does not allocate
//     when every condition reads its key with an operator of the key's own
//     type (the data-plane case: StringNotEquals on aws:SourceVpce,
//     NotIpAddress on aws:VpcSourceIp, Date* on aws:CurrentTime, ...). Only a
//     request value of another type is converted per request (a string in
//     Context.Extra read by IpAddress/Numeric*/Date*/Bool is parsed; a typed
//     key read by a string operator is formatted, which allocates). A
//     3-statement policy evaluates in about 100ns.
//   - Parse does not enforce MaxResourcePolicySize; the caller that stores
//     the policy does. Resource strings in API Gateway's short form
//     ("execute-api:/*") are not expanded by Parse; ExpandShorthand rewrites
//     them when a policy is saved, as API Gateway does.
//
// # Evaluation
//
// The IAM rule for one policy: a matching Deny statement gives Deny (explicit
// deny); otherwise a matching Allow statement gives Allow; otherwise
// NotApplicable (implicit deny). Combining the result with an authorizer or
// IAM decision (aws-reference §2.3, Tables A and B) is the caller's job.
//
// A statement matches when its Principal (or NotPrincipal), Action (or
// NotAction), Resource (or NotResource) and every condition match. Action
// matching ignores case; Resource matching is case-sensitive; in both, '*'
// and '?' are wildcards that may span ':' and '/'. ArnLike/ArnEquals compare
// the six colon-separated ARN components one by one.
//
// Condition semantics follow the IAM User Guide ("Condition operators"):
// operators are ANDed, keys are ANDed, the values of one key are ORed (NORed
// for negated operators). A key absent from the request makes a condition
// false, except that negated operators (StringNotEquals, StringNotLike,
// ArnNotEquals, ArnNotLike, NotIpAddress, NumericNotEquals, DateNotEquals,
// ...IgnoreCase variants) are true, ...IfExists operators are true,
// ForAllValues: is true and ForAnyValue: is false; Null tests presence. A
// string key present with an empty value counts as absent.
//
// Policy variables (${aws:SourceVpce}, ${aws:username}, the escapes ${*},
// ${?}, ${$}, and ${key, 'default'}) are substituted in Resource and in
// string, ARN and Bool condition values of Version 2012-10-17 documents;
// elsewhere, and in older documents, they are literal text. A variable whose
// key has no value makes that value match nothing.
package policy
