package app

import (
	"net/http/httptest"
	"testing"

	"gatehouse/internal/authorizer"
	"gatehouse/internal/config"
)

func TestSTSIAMDirectoryRoles(t *testing.T) {
	topo := &config.Topology{Accounts: []config.Account{{
		ID:         "111111111111",
		AccessKeys: []config.AccessKey{{ID: "AKIAPROVIDER00000001", Secret: "s"}},
		Users:      []config.User{{Name: "alice", AccessKeys: []config.AccessKey{{ID: "AKIAALICE00000000001", Secret: "a"}}}},
		Roles: []config.Role{{Name: "invoker", Trust: []string{"arn:aws:iam::111111111111:user/alice"},
			Policies: []config.IdentityPolicy{{Name: "p", Document: []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)}}}},
	}}}
	dir, err := authorizer.NewDirectory(iamDirectory(topo))
	if err != nil {
		t.Fatal(err)
	}
	alice, _, ok := dir.LookupAccessKey("AKIAALICE00000000001")
	if !ok {
		t.Fatal("alice's key is unknown")
	}
	root, _, _ := dir.LookupAccessKey("AKIAPROVIDER00000001")
	tests := []struct {
		name   string
		caller authorizer.Principal
		ok     bool
	}{
		{"trusted user", alice, true},
		{"root not in the trust list", root, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creds, err := dir.AssumeRole(tt.caller, "arn:aws:iam::111111111111:role/invoker", "s1", 0)
			if (err == nil) != tt.ok {
				t.Fatalf("AssumeRole: %v", err)
			}
			if tt.ok && len(dir.IdentityPolicies("arn:aws:iam::111111111111:role/invoker")) != 1 {
				t.Errorf("role policies not mapped (%+v)", creds)
			}
		})
	}
}

func TestSTSSignedForService(t *testing.T) {
	tests := []struct{ name, target, auth, want string }{
		{"header form", "/", "AWS4-HMAC-SHA256 Credential=AKIAX/20260301/us-east-1/sts/aws4_request, SignedHeaders=host, Signature=00", "sts"},
		{"query form", "/?X-Amz-Credential=AKIAX%2F20260301%2Fus-east-1%2Flambda%2Faws4_request", "", "lambda"},
		{"no credential", "/", "Bearer x", ""},
		{"unsigned", "/", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", tt.target, nil)
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			if got := signedForService(r); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}
