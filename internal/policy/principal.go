package policy

import (
	"fmt"
	"strings"
)

// Principal is the caller a request is evaluated for.
type Principal struct {
	// Anonymous is true when the request carries no IAM identity (no SigV4,
	// or a non-SigV4 Authorization header behind a VPC endpoint policy).
	Anonymous bool
	// Account is the caller's 12-digit AWS account id.
	Account string
	// ARN is the caller's IAM ARN, e.g. arn:aws:iam::123456789012:user/alice
	// or arn:aws:sts::123456789012:assumed-role/app/session-1.
	ARN string
	// Service is set instead of Account/ARN for AWS service principals,
	// e.g. "lambda.amazonaws.com".
	Service string
}

// account returns p.Account, or the account component of p.ARN when Account
// is empty.
func (p *Principal) account() string {
	if p.Account != "" || p.ARN == "" {
		return p.Account
	}
	s := p.ARN
	for i := 0; i < 4; i++ {
		j := strings.IndexByte(s, ':')
		if j < 0 {
			return ""
		}
		s = s[j+1:]
	}
	if j := strings.IndexByte(s, ':'); j >= 0 {
		return s[:j]
	}
	return ""
}

// principalSet is a compiled Principal or NotPrincipal element.
type principalSet struct {
	all         bool     // "Principal": "*"
	allAWS      bool     // {"AWS": "*"}: every IAM identity, and anonymous callers
	accounts    []string // "123456789012" or "arn:aws:iam::123456789012:root"
	arns        []string // exact principal ARNs
	sessions    []string // role ARN -> "arn:aws:sts::ACCOUNT:assumed-role/NAME/" prefix
	services    []string
	allServices bool
}

// match reports whether p is one of the principals in s.
//
// An account (id or :root ARN) stands for every principal of that account.
// A role ARN also matches that role's sessions
// (arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE-NAME/SESSION), as IAM does.
// "*" and {"AWS":"*"} match anonymous callers too; {"AWS": ...} never matches
// a service principal, and {"Service": ...} never matches an IAM identity.
// Federated and CanonicalUser principals are accepted by Parse but match
// nothing: gatehouse has no such callers.
func (s *principalSet) match(p *Principal) bool {
	if s.all {
		return true
	}
	if p.Service != "" {
		if s.allServices {
			return true
		}
		for _, v := range s.services {
			if strings.EqualFold(v, p.Service) {
				return true
			}
		}
		return false
	}
	if s.allAWS {
		return true
	}
	if p.Anonymous {
		return false
	}
	if acct := p.account(); acct != "" {
		for _, a := range s.accounts {
			if a == acct {
				return true
			}
		}
	}
	if p.ARN != "" {
		for _, a := range s.arns {
			if a == p.ARN {
				return true
			}
		}
		for _, pre := range s.sessions {
			if len(p.ARN) > len(pre) && strings.HasPrefix(p.ARN, pre) {
				return true
			}
		}
	}
	return false
}

// addAWS adds one value of a {"AWS": ...} principal.
func (s *principalSet) addAWS(v string) error {
	switch {
	case v == "*":
		s.allAWS = true
		return nil
	case isAccountID(v):
		s.accounts = append(s.accounts, v)
		return nil
	case strings.HasPrefix(v, "arn:"):
		if strings.ContainsAny(v, "*?") {
			return fmt.Errorf("principal %q: wildcards are not allowed in principal ARNs (use \"*\")", v)
		}
		parts := strings.SplitN(v, ":", 6)
		if len(parts) != 6 || parts[1] == "" || parts[2] == "" || parts[5] == "" {
			return fmt.Errorf("principal %q is not a valid ARN", v)
		}
		partition, service, account, resource := parts[1], parts[2], parts[4], parts[5]
		if service == "iam" && resource == "root" && isAccountID(account) {
			s.accounts = append(s.accounts, account)
			return nil
		}
		s.arns = append(s.arns, v)
		if service == "iam" && strings.HasPrefix(resource, "role/") {
			name := resource[strings.LastIndexByte(resource, '/')+1:]
			if name != "" {
				s.sessions = append(s.sessions,
					"arn:"+partition+":sts::"+account+":assumed-role/"+name+"/")
			}
		}
		return nil
	}
	return fmt.Errorf("principal %q must be \"*\", a 12-digit account id or an ARN", v)
}

func (s *principalSet) addService(v string) error {
	if v == "*" {
		s.allServices = true
		return nil
	}
	if v == "" {
		return fmt.Errorf("empty service principal")
	}
	s.services = append(s.services, v)
	return nil
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}
