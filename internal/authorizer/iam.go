package authorizer

import (
	"errors"
	"net/http"
	"time"

	"gatehouse/internal/awsproto"
	"gatehouse/internal/gatewayresponse"
	"gatehouse/internal/policy"
)

// ActionInvoke is the IAM action every execute-api request is authorized for.
const ActionInvoke = "execute-api:Invoke"

// IAMConfig configures AWS_IAM authorization.
type IAMConfig struct {
	// Region, when set, is the only region accepted in the SigV4 credential
	// scope ("Credential should be scoped to a valid region.").
	Region string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Skew is the allowed signing clock skew; 0 means 5 minutes.
	Skew time.Duration
	// HashAuthorization makes IncompleteSignatureException messages quote a
	// hash of the Authorization header instead of the header (see
	// awsproto.Verifier.HashAuthorization).
	HashAuthorization bool
}

// IAM authenticates SigV4-signed requests for service execute-api against a
// PrincipalDirectory and authorizes them with identity policies combined
// with the resource policy (Tables A and B). It is safe for concurrent use.
type IAM struct {
	dir PrincipalDirectory
	now func() time.Time
	v   awsproto.Verifier // not copied after construction
}

// NewIAM returns an IAM authorizer over dir.
func NewIAM(dir PrincipalDirectory, cfg IAMConfig) *IAM {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	a := &IAM{dir: dir, now: now}
	a.v = awsproto.Verifier{
		Lookup: func(akid string) (awsproto.Key, bool) {
			p, secret, ok := dir.LookupAccessKey(akid)
			if !ok {
				return awsproto.Key{}, false
			}
			return awsproto.Key{AccessKeyID: akid, Secret: secret, Account: p.Account, SessionToken: p.SessionToken}, true
		},
		Now:               now,
		Skew:              cfg.Skew,
		Service:           "execute-api",
		Region:            cfg.Region,
		HashAuthorization: cfg.HashAuthorization,
		InvalidKeyCode:    awsproto.CodeAccessDenied,
	}
	return a
}

// Identity is an authenticated IAM caller.
type Identity struct {
	// Principal is the caller; its SessionToken is cleared.
	Principal
	// AccessKeyID is the access key the request was signed with
	// ($context.identity.accessKey).
	AccessKeyID string
	// SignedAt is the signing time.
	SignedAt time.Time
}

// Authenticate verifies the SigV4 signature of r (service execute-api).
// body is the whole request body (nil for none). Failures carry AWS's
// responses, all 403:
//
//   - no Authorization header (and no presigned query):
//     MISSING_AUTHENTICATION_TOKEN "Missing Authentication Token"
//   - malformed Authorization header or date: INVALID_SIGNATURE with
//     x-amzn-ErrorType IncompleteSignatureException and AWS's text
//   - wrong signature, clock skew beyond ±5 minutes, wrong scope:
//     INVALID_SIGNATURE (InvalidSignatureException) with AWS's text
//   - unknown access key, missing or wrong security token: ACCESS_DENIED
//     "The security token included in the request is invalid."
//   - expired temporary credentials: EXPIRED_TOKEN
//     "The security token included in the request is expired"
func (a *IAM) Authenticate(r *http.Request, body []byte) (*Identity, *Failure) {
	sid, err := a.v.Verify(r, body)
	if err != nil {
		return nil, sigv4Failure(err)
	}
	p, _, ok := a.dir.LookupAccessKey(sid.Key.AccessKeyID)
	if !ok || p.SessionToken != sid.Key.SessionToken {
		// The key went away (or was replaced) between the two lookups.
		return nil, sigv4Failure(&awsproto.Error{Status: http.StatusForbidden, Code: awsproto.CodeAccessDenied, Message: msgInvalidToken})
	}
	if !p.Expiration.IsZero() && !a.now().Before(p.Expiration) {
		return nil, &Failure{Type: gatewayresponse.ExpiredToken, Status: http.StatusForbidden,
			Message: msgExpiredToken, ErrorType: "ExpiredTokenException"}
	}
	p.SessionToken = ""
	return &Identity{Principal: p, AccessKeyID: sid.Key.AccessKeyID, SignedAt: sid.Time}, nil
}

// sigv4Failure maps an awsproto verification error to its gateway response.
func sigv4Failure(err error) *Failure {
	var e *awsproto.Error
	if !errors.As(err, &e) {
		return &Failure{Type: gatewayresponse.InvalidSignature, Status: http.StatusForbidden,
			Message: "Invalid signature", Err: err}
	}
	f := &Failure{Status: e.Status, Message: e.Message, ErrorType: e.Code}
	switch e.Code {
	case awsproto.CodeMissingAuthenticationToken:
		f.Type = gatewayresponse.MissingAuthenticationToken
	case awsproto.CodeAccessDenied, awsproto.CodeUnrecognizedClient:
		f.Type = gatewayresponse.AccessDenied
		f.ErrorType = awsproto.CodeAccessDenied
	default: // IncompleteSignatureException, InvalidSignatureException
		f.Type = gatewayresponse.InvalidSignature
	}
	return f
}

// SetContext sets the principal condition keys of id on c:
// aws:PrincipalAccount, aws:PrincipalArn (the role ARN for role sessions),
// aws:PrincipalOrgID (when in an organization), aws:userid, aws:username
// (IAM users only) and aws:PrincipalType.
func (id *Identity) SetContext(c *policy.Context) {
	c.SetString(policy.KeyPrincipalAccount, id.Account)
	c.SetString(policy.KeyPrincipalArn, id.PolicyARN())
	if id.OrgID != "" {
		c.SetString(policy.KeyPrincipalOrgID, id.OrgID)
	}
	c.SetString(policy.KeyUserID, id.UserID)
	if id.Username != "" {
		c.SetString(policy.KeyUsername, id.Username)
	}
	c.SetString(policy.KeyPrincipalType, id.Type)
}

// Authorize decides whether id may invoke methodARN: its identity policies
// give one decision (the root user of an account is allowed everything), the
// resource policy (nil for none) evaluated for the caller gives another, and
// Combine merges them by Table A when id belongs to apiAccount and by Table
// B otherwise. It first sets id's principal condition keys on ctx (which
// may be nil). It does not allocate.
func (a *IAM) Authorize(id *Identity, methodARN string, resourcePolicy *policy.Policy, ctx *policy.Context, apiAccount string) policy.Decision {
	if ctx != nil {
		id.SetContext(ctx)
	}
	req := policy.Request{
		Principal: policy.Principal{Account: id.Account, ARN: id.ARN},
		Action:    ActionInvoke,
		Resource:  methodARN,
		Context:   ctx,
	}
	authz := policy.NotApplicable
	if id.Type == PrincipalTypeAccount {
		authz = policy.Allow
	} else {
		for _, p := range a.dir.IdentityPolicies(id.PolicyARN()) {
			d := p.Evaluate(&req)
			if d == policy.Deny {
				authz = policy.Deny
				break
			}
			if d == policy.Allow {
				authz = policy.Allow
			}
		}
	}
	return Combine(id.Account == apiAccount, authz, resourcePolicy.Evaluate(&req))
}

// Denied is the ACCESS_DENIED failure for an IAM caller whose Authorize
// decision d is not Allow: {"Message":"User: {arn} is not authorized to
// perform: execute-api:Invoke on resource: {masked method ARN}[ with an
// explicit deny]"}.
func (a *IAM) Denied(id *Identity, methodARN string, d policy.Decision) *Failure {
	return AccessDenied(id.ARN, MaskARN(methodARN), d == policy.Deny)
}
