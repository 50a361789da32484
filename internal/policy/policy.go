package policy

// MaxResourcePolicySize is the API Gateway quota on the size of a resource
// policy, in characters (aws-reference §2.1; "can be raised"). Parse does not
// enforce it: callers that store policies (the control plane) check it, so
// that a raised quota needs no change here.
const MaxResourcePolicySize = 8192

// Decision is the outcome of evaluating a policy for one request.
type Decision uint8

const (
	// NotApplicable means no statement matched: an implicit deny.
	NotApplicable Decision = iota
	// Allow means an Allow statement matched and no Deny statement did.
	Allow
	// Deny means a Deny statement matched: an explicit deny.
	Deny
)

// String returns "NotApplicable", "Allow" or "Deny".
func (d Decision) String() string {
	switch d {
	case NotApplicable:
		return "NotApplicable"
	case Allow:
		return "Allow"
	case Deny:
		return "Deny"
	}
	return "Decision(?)"
}

// Request is what a policy is evaluated against.
type Request struct {
	Principal Principal // who is calling
	Action    string    // e.g. "execute-api:Invoke"
	Resource  string    // e.g. "arn:aws:execute-api:us-east-1:111111111111:abc123defg/prod/GET/pets/1"
	Context   *Context  // condition keys; nil means none are present
}

// Policy is a compiled policy document. It is immutable and safe for
// concurrent use by any number of goroutines.
type Policy struct {
	version string
	id      string
	n       int
	stmts   []statement // Deny statements first, then Allow, each in document order
}

// statement is one compiled Statement element.
type statement struct {
	index  int // position in the document
	sid    string
	effect Decision // Allow or Deny

	hasPrincipal bool // false: no Principal/NotPrincipal element, every caller matches
	notPrincipal bool
	principals   principalSet

	notAction bool
	actions   []pattern

	notResource bool
	resources   []pattern

	conds []condition
}

// Len returns the number of statements in the policy.
func (p *Policy) Len() int {
	if p == nil {
		return 0
	}
	return p.n
}

// Version returns the document's Version element ("" when absent).
func (p *Policy) Version() string {
	if p == nil {
		return ""
	}
	return p.version
}

// ID returns the document's Id element ("" when absent).
func (p *Policy) ID() string {
	if p == nil {
		return ""
	}
	return p.id
}

// Sid returns the Sid of statement i (document order), or "".
func (p *Policy) Sid(i int) string {
	if p == nil {
		return ""
	}
	for k := range p.stmts {
		if p.stmts[k].index == i {
			return p.stmts[k].sid
		}
	}
	return ""
}

// Evaluate decides r against the policy with the IAM rule for a single
// policy: any matching Deny statement gives Deny; otherwise any matching
// Allow statement gives Allow; otherwise NotApplicable (implicit deny).
// It does not allocate for requests whose condition keys are read with
// operators of their own type. A nil policy or request gives NotApplicable.
func (p *Policy) Evaluate(r *Request) Decision {
	d, _ := p.Decide(r)
	return d
}

// Decide is Evaluate that also returns the document index of the statement
// that decided (-1 for NotApplicable), for logs and debugging.
func (p *Policy) Decide(r *Request) (Decision, int) {
	if p == nil || r == nil {
		return NotApplicable, -1
	}
	for i := range p.stmts {
		s := &p.stmts[i]
		if s.applies(r) {
			return s.effect, s.index
		}
	}
	return NotApplicable, -1
}

// applies reports whether the statement matches r: principal, action,
// resource, and every condition.
func (s *statement) applies(r *Request) bool {
	if s.hasPrincipal && s.principals.match(&r.Principal) == s.notPrincipal {
		return false
	}
	if matchAnyPattern(s.actions, r.Action, r) == s.notAction {
		return false
	}
	if matchAnyPattern(s.resources, r.Resource, r) == s.notResource {
		return false
	}
	for i := range s.conds {
		if !s.conds[i].eval(r) {
			return false
		}
	}
	return true
}

func matchAnyPattern(ps []pattern, s string, r *Request) bool {
	for i := range ps {
		if ps[i].match(s, r) {
			return true
		}
	}
	return false
}
