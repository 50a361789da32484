package authorizer

import "gatehouse/internal/policy"

// Combine merges an authorizer's (or the caller's IAM identity policies')
// decision with the resource policy's decision, by AWS's tables
// (aws-reference §2.3, from the Developer Guide's "API Gateway resource
// policies affect authorization workflow"):
//
// Table A, same account (IAM caller in the API's account; Lambda and Cognito
// authorizers always):
//
//	authorizer \ resource | Allow         | Neither       | Deny
//	Allow                 | Allow         | Allow         | Explicit Deny
//	Neither               | Allow         | Implicit Deny | Explicit Deny
//	Deny                  | Explicit Deny | Explicit Deny | Explicit Deny
//
// Table B, cross account (IAM caller from another account): both sides must
// allow.
//
//	authorizer \ resource | Allow         | Neither       | Deny
//	Allow                 | Allow         | Implicit Deny | Explicit Deny
//	Neither               | Implicit Deny | Implicit Deny | Explicit Deny
//	Deny                  | Explicit Deny | Explicit Deny | Explicit Deny
//
// Explicit Deny is policy.Deny, Implicit Deny is policy.NotApplicable.
func Combine(sameAccount bool, authz, resource policy.Decision) policy.Decision {
	if authz == policy.Deny || resource == policy.Deny {
		return policy.Deny
	}
	if sameAccount {
		if authz == policy.Allow || resource == policy.Allow {
			return policy.Allow
		}
		return policy.NotApplicable
	}
	if authz == policy.Allow && resource == policy.Allow {
		return policy.Allow
	}
	return policy.NotApplicable
}

// AuthorizerVerdict is phase 2 for Lambda authorizers: it combines the
// authorizer's decision with the resource policy's decision by Table A and
// returns nil when the request may go on, or the 403 ACCESS_DENIED AWS sends
// (see AuthorizerDenied).
func AuthorizerVerdict(authz, resource policy.Decision) *Failure {
	switch Combine(true, authz, resource) {
	case policy.Allow:
		return nil
	case policy.Deny:
		return AuthorizerDenied(true)
	}
	return AuthorizerDenied(false)
}
