package authorizer

import (
	"net/http"
	"testing"

	"gatehouse/internal/gatewayresponse"
	"gatehouse/internal/policy"
)

const (
	allow   = policy.Allow
	neither = policy.NotApplicable
	deny    = policy.Deny
)

// TestCombineTables checks all 18 cells of aws-reference §2.3.
func TestCombineTables(t *testing.T) {
	tests := []struct {
		name        string
		sameAccount bool
		authz       policy.Decision
		resource    policy.Decision
		want        policy.Decision
	}{
		// Table A: same account.
		{"A/authorizer Allow/resource Allow", true, allow, allow, allow},
		{"A/authorizer Allow/resource Neither", true, allow, neither, allow},
		{"A/authorizer Allow/resource Deny", true, allow, deny, deny},
		{"A/authorizer Neither/resource Allow", true, neither, allow, allow},
		{"A/authorizer Neither/resource Neither", true, neither, neither, neither},
		{"A/authorizer Neither/resource Deny", true, neither, deny, deny},
		{"A/authorizer Deny/resource Allow", true, deny, allow, deny},
		{"A/authorizer Deny/resource Neither", true, deny, neither, deny},
		{"A/authorizer Deny/resource Deny", true, deny, deny, deny},
		// Table B: cross account.
		{"B/authorizer Allow/resource Allow", false, allow, allow, allow},
		{"B/authorizer Allow/resource Neither", false, allow, neither, neither},
		{"B/authorizer Allow/resource Deny", false, allow, deny, deny},
		{"B/authorizer Neither/resource Allow", false, neither, allow, neither},
		{"B/authorizer Neither/resource Neither", false, neither, neither, neither},
		{"B/authorizer Neither/resource Deny", false, neither, deny, deny},
		{"B/authorizer Deny/resource Allow", false, deny, allow, deny},
		{"B/authorizer Deny/resource Neither", false, deny, neither, deny},
		{"B/authorizer Deny/resource Deny", false, deny, deny, deny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Combine(tt.sameAccount, tt.authz, tt.resource); got != tt.want {
				t.Errorf("Combine(%v, %v, %v) = %v, want %v", tt.sameAccount, tt.authz, tt.resource, got, tt.want)
			}
		})
	}
}

func TestAuthorizerVerdict(t *testing.T) {
	tests := []struct {
		name     string
		authz    policy.Decision
		resource policy.Decision
		wantMsg  string // "" = allowed
	}{
		{"allow", allow, neither, ""},
		{"resource allows what the authorizer does not mention", neither, allow, ""},
		{"authorizer deny", deny, allow, "User is not authorized to access this resource with an explicit deny"},
		{"implicit deny", neither, neither, "User is not authorized to access this resource"},
		{"resource deny", allow, deny, "User is not authorized to access this resource with an explicit deny"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := AuthorizerVerdict(tt.authz, tt.resource)
			if tt.wantMsg == "" {
				if f != nil {
					t.Fatalf("got failure %v, want none", f)
				}
				return
			}
			if f == nil {
				t.Fatal("got no failure")
			}
			if f.Type != gatewayresponse.AccessDenied || f.Status != http.StatusForbidden || !f.CapitalMessage || f.Message != tt.wantMsg {
				t.Errorf("got %+v, want ACCESS_DENIED 403 {\"Message\":%q}", f, tt.wantMsg)
			}
		})
	}
}

func TestMaskARN(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"method arn", "arn:aws:execute-api:us-west-2:123456782543:vd2gh6uqw3/api/GET/", "arn:aws:execute-api:us-west-2:********2543:vd2gh6uqw3/api/GET/"},
		{"path with colons", "arn:aws:execute-api:us-east-1:111122223333:abc/prod/GET/a:b", "arn:aws:execute-api:us-east-1:********3333:abc/prod/GET/a:b"},
		{"not an arn", "hello", "hello"},
		{"short account", "arn:aws:s3:::bucket", "arn:aws:s3:::bucket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MaskARN(tt.in); got != tt.want {
				t.Errorf("MaskARN(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestAccessDeniedMessage(t *testing.T) {
	f := AccessDenied("anonymous", "arn:aws:execute-api:us-west-2:********2543:vd2gh6uqw3/api/GET/", false)
	want := "User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-west-2:********2543:vd2gh6uqw3/api/GET/"
	if f.Message != want || !f.CapitalMessage || f.Status != 403 || f.Type != gatewayresponse.AccessDenied {
		t.Errorf("got %+v\nwant message %q", f, want)
	}
	f = AccessDenied("arn:aws:iam::111111111111:user/alice", "X", true)
	if want := "User: arn:aws:iam::111111111111:user/alice is not authorized to perform: execute-api:Invoke on resource: X with an explicit deny"; f.Message != want {
		t.Errorf("got %q, want %q", f.Message, want)
	}
}
