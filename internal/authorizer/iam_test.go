package authorizer

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"gatehouse/internal/gatewayresponse"
	"gatehouse/internal/policy"
)

const (
	apiAcct   = "111111111111"
	otherAcct = "222222222222"
	region    = "us-east-1"
	apiHost   = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"
	arnPrefix = "arn:aws:execute-api:us-east-1:111111111111:a1b2c3d4e5/prod/"
)

// t0 is the test clock's start.
var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time          { return c.t }
func (c *clock) Advance(d time.Duration) { c.t = c.t.Add(d) }

func allowAllPolicy() []byte {
	return []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:*:*:*"}]}`)
}

func testDirectoryConfig() DirectoryConfig {
	return DirectoryConfig{Accounts: []DirectoryAccount{
		{
			ID:         apiAcct,
			OrgID:      "o-abc123",
			AccessKeys: []AccessKey{{ID: "AKIAROOT000000000001", Secret: "root-secret"}},
			Users: []DirectoryUser{
				{Name: "alice", AccessKeys: []AccessKey{{ID: "AKIAALICE0000000001", Secret: "alice-secret"}},
					Policies: []InlinePolicy{{Name: "invoke", Document: allowAllPolicy()}}},
				{Name: "bob", Path: "/team/", AccessKeys: []AccessKey{{ID: "AKIABOB00000000001", Secret: "bob-secret"}},
					Policies: []InlinePolicy{
						{Name: "invoke", Document: allowAllPolicy()},
						{Name: "no-secret", Document: []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"execute-api:*","Resource":"arn:aws:execute-api:*:*:*/*/GET/secret"}]}`)},
					}},
				{Name: "carol", AccessKeys: []AccessKey{{ID: "AKIACAROL0000000001", Secret: "carol-secret"}}},
			},
			Roles: []DirectoryRole{
				{Name: "app", Policies: []InlinePolicy{{Name: "invoke", Document: allowAllPolicy()}},
					TrustedPrincipals: []string{apiAcct, "arn:aws:iam::222222222222:user/dave"}},
				{Name: "locked", TrustedPrincipals: []string{"arn:aws:iam::111111111111:user/alice"}},
			},
		},
		{
			ID: otherAcct,
			Users: []DirectoryUser{
				{Name: "dave", AccessKeys: []AccessKey{{ID: "AKIADAVE00000000001", Secret: "dave-secret"}},
					Policies: []InlinePolicy{{Name: "invoke", Document: allowAllPolicy()}}},
				{Name: "erin", AccessKeys: []AccessKey{{ID: "AKIAERIN00000000001", Secret: "erin-secret"}}},
			},
		},
	}}
}

type iamFixture struct {
	clk *clock
	dir *Directory
	iam *IAM
}

func newIAMFixture(t testing.TB) *iamFixture {
	t.Helper()
	clk := &clock{t: t0}
	dir, err := NewDirectory(testDirectoryConfig(), WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	return &iamFixture{clk: clk, dir: dir, iam: NewIAM(dir, IAMConfig{Region: region, Now: clk.Now})}
}

// signed builds a request to the test API signed with aws-sdk-go-v2's v4
// signer.
func signed(t testing.TB, method, path string, body []byte, akid, secret, token string, when time.Time, service string) *http.Request {
	t.Helper()
	r := httptest.NewRequest(method, "https://"+apiHost+path, bytes.NewReader(body))
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret, SessionToken: token}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, hex.EncodeToString(sum[:]), service, region, when); err != nil {
		t.Fatal(err)
	}
	return r
}

func mustPolicy(t testing.TB, doc string) *policy.Policy {
	t.Helper()
	p, err := policy.Parse([]byte(doc))
	if err != nil {
		t.Fatalf("parse %s: %v", doc, err)
	}
	return p
}

func TestIAMAuthenticate(t *testing.T) {
	fx := newIAMFixture(t)
	tests := []struct {
		name      string
		req       func() *http.Request
		wantARN   string
		wantType  gatewayresponse.Type
		wantCode  string // x-amzn-ErrorType
		wantMsg   string // exact, or prefix when it ends with "..."
		wantUpper bool
	}{
		{
			name: "user signed GET",
			req: func() *http.Request {
				return signed(t, "GET", "/prod/pets", nil, "AKIAALICE0000000001", "alice-secret", "", t0, "execute-api")
			},
			wantARN: "arn:aws:iam::111111111111:user/alice",
		},
		{
			name: "user with path signed POST",
			req: func() *http.Request {
				return signed(t, "POST", "/prod/pets?x=1", []byte(`{"a":1}`), "AKIABOB00000000001", "bob-secret", "", t0.Add(-4*time.Minute), "execute-api")
			},
			wantARN: "arn:aws:iam::111111111111:user/team/bob",
		},
		{
			name: "root user",
			req: func() *http.Request {
				return signed(t, "GET", "/prod/", nil, "AKIAROOT000000000001", "root-secret", "", t0, "execute-api")
			},
			wantARN: "arn:aws:iam::111111111111:root",
		},
		{
			name:     "no authorization header",
			req:      func() *http.Request { return httptest.NewRequest("GET", "https://"+apiHost+"/prod/pets", nil) },
			wantType: gatewayresponse.MissingAuthenticationToken, wantCode: "MissingAuthenticationTokenException",
			wantMsg: "Missing Authentication Token",
		},
		{
			name: "bearer token",
			req: func() *http.Request {
				r := httptest.NewRequest("GET", "https://"+apiHost+"/prod/pets", nil)
				r.Header.Set("Authorization", "Bearer x")
				return r
			},
			wantType: gatewayresponse.InvalidSignature, wantCode: "IncompleteSignatureException",
			wantMsg: "...",
		},
		{
			name: "tampered signature",
			req: func() *http.Request {
				r := signed(t, "GET", "/prod/pets", nil, "AKIAALICE0000000001", "alice-secret", "", t0, "execute-api")
				h := r.Header.Get("Authorization")
				last := h[len(h)-1]
				repl := byte('0')
				if last == '0' {
					repl = '1'
				}
				r.Header.Set("Authorization", h[:len(h)-1]+string(repl))
				return r
			},
			wantType: gatewayresponse.InvalidSignature, wantCode: "InvalidSignatureException",
			wantMsg: "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details....",
		},
		{
			name: "tampered path",
			req: func() *http.Request {
				r := signed(t, "GET", "/prod/pets", nil, "AKIAALICE0000000001", "alice-secret", "", t0, "execute-api")
				r.URL.Path = "/prod/admin"
				return r
			},
			wantType: gatewayresponse.InvalidSignature, wantCode: "InvalidSignatureException",
			wantMsg: "The request signature we calculated does not match...",
		},
		{
			name: "wrong secret",
			req: func() *http.Request {
				return signed(t, "GET", "/prod/pets", nil, "AKIAALICE0000000001", "not-alice-secret", "", t0, "execute-api")
			},
			wantType: gatewayresponse.InvalidSignature, wantCode: "InvalidSignatureException",
			wantMsg: "The request signature we calculated does not match...",
		},
		{
			name: "expired signature",
			req: func() *http.Request {
				return signed(t, "GET", "/prod/pets", nil, "AKIAALICE0000000001", "alice-secret", "", t0.Add(-6*time.Minute), "execute-api")
			},
			wantType: gatewayresponse.InvalidSignature, wantCode: "InvalidSignatureException",
			wantMsg: "Signature expired: 20250601T115400Z is now earlier than 20250601T115500Z (20250601T120000Z - 5 min.)",
		},
		{
			name: "future signature",
			req: func() *http.Request {
				return signed(t, "GET", "/prod/pets", nil, "AKIAALICE0000000001", "alice-secret", "", t0.Add(6*time.Minute), "execute-api")
			},
			wantType: gatewayresponse.InvalidSignature, wantCode: "InvalidSignatureException",
			wantMsg: "Signature not yet current: 20250601T120600Z is still later than 20250601T120500Z (20250601T120000Z + 5 min.)",
		},
		{
			name: "unknown access key",
			req: func() *http.Request {
				return signed(t, "GET", "/prod/pets", nil, "AKIANOBODY000000001", "x", "", t0, "execute-api")
			},
			wantType: gatewayresponse.AccessDenied, wantCode: "AccessDeniedException",
			wantMsg: "The security token included in the request is invalid.",
		},
		{
			name: "wrong service",
			req: func() *http.Request {
				return signed(t, "GET", "/prod/pets", nil, "AKIAALICE0000000001", "alice-secret", "", t0, "apigateway")
			},
			wantType: gatewayresponse.InvalidSignature, wantCode: "InvalidSignatureException",
			wantMsg: "Credential should be scoped to correct service: 'execute-api'. ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.req()
			id, f := fx.iam.Authenticate(r, readBody(t, r))
			if tt.wantARN != "" {
				if f != nil {
					t.Fatalf("Authenticate failed: %v", f)
				}
				if id.ARN != tt.wantARN {
					t.Errorf("ARN = %q, want %q", id.ARN, tt.wantARN)
				}
				return
			}
			if f == nil {
				t.Fatalf("Authenticate succeeded as %s, want failure", id.ARN)
			}
			checkFailure(t, f, tt.wantType, http.StatusForbidden, tt.wantCode, tt.wantMsg, false)
		})
	}
}

func readBody(t testing.TB, r *http.Request) []byte {
	t.Helper()
	if r.Body == nil {
		return nil
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r.Body); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// checkFailure compares a failure; a wantMsg ending in "..." is a prefix.
func checkFailure(t *testing.T, f *Failure, typ gatewayresponse.Type, status int, code, wantMsg string, capital bool) {
	t.Helper()
	if f.Type != typ || f.Status != status {
		t.Errorf("failure = %s %d, want %s %d (%v)", f.Type, f.Status, typ, status, f)
	}
	if code != "" && f.ErrorType != code {
		t.Errorf("ErrorType = %q, want %q", f.ErrorType, code)
	}
	if f.CapitalMessage != capital {
		t.Errorf("CapitalMessage = %v, want %v", f.CapitalMessage, capital)
	}
	if prefix, ok := strings.CutSuffix(wantMsg, "..."); ok {
		if !strings.HasPrefix(f.Message, prefix) {
			t.Errorf("message = %q, want prefix %q", f.Message, prefix)
		}
	} else if f.Message != wantMsg {
		t.Errorf("message = %q, want %q", f.Message, wantMsg)
	}
}

func TestIAMTemporaryCredentials(t *testing.T) {
	fx := newIAMFixture(t)
	alice, _, _ := fx.dir.LookupAccessKey("AKIAALICE0000000001")
	creds, err := fx.dir.AssumeRole(alice, "arn:aws:iam::111111111111:role/app", "sess-1", 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(creds.AccessKeyID, "ASIA") || len(creds.AccessKeyID) != 20 || creds.SessionToken == "" {
		t.Fatalf("credentials = %+v", creds)
	}
	if want := "arn:aws:sts::111111111111:assumed-role/app/sess-1"; creds.AssumedRoleARN != want {
		t.Errorf("AssumedRoleARN = %q, want %q", creds.AssumedRoleARN, want)
	}

	t.Run("signed with session token", func(t *testing.T) {
		r := signed(t, "GET", "/prod/pets", nil, creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken, fx.clk.Now(), "execute-api")
		id, f := fx.iam.Authenticate(r, nil)
		if f != nil {
			t.Fatal(f)
		}
		if id.ARN != creds.AssumedRoleARN || id.Type != PrincipalTypeAssumedRole || id.PolicyARN() != "arn:aws:iam::111111111111:role/app" ||
			!strings.HasSuffix(id.UserID, ":sess-1") || !strings.HasPrefix(id.UserID, "AROA") || id.SessionToken != "" {
			t.Errorf("identity = %+v", id)
		}
		if d := fx.iam.Authorize(id, arnPrefix+"GET/pets", nil, &policy.Context{}, apiAcct); d != policy.Allow {
			t.Errorf("role session decision = %v, want Allow (role policy)", d)
		}
	})
	t.Run("missing session token", func(t *testing.T) {
		r := signed(t, "GET", "/prod/pets", nil, creds.AccessKeyID, creds.SecretAccessKey, "", fx.clk.Now(), "execute-api")
		_, f := fx.iam.Authenticate(r, nil)
		if f == nil {
			t.Fatal("accepted without token")
		}
		checkFailure(t, f, gatewayresponse.AccessDenied, 403, "AccessDeniedException", "The security token included in the request is invalid.", false)
	})
	t.Run("wrong session token", func(t *testing.T) {
		r := signed(t, "GET", "/prod/pets", nil, creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken+"x", fx.clk.Now(), "execute-api")
		_, f := fx.iam.Authenticate(r, nil)
		if f == nil {
			t.Fatal("accepted with a wrong token")
		}
		checkFailure(t, f, gatewayresponse.AccessDenied, 403, "AccessDeniedException", "The security token included in the request is invalid.", false)
	})
	t.Run("expired credentials", func(t *testing.T) {
		fx.clk.Advance(16 * time.Minute)
		r := signed(t, "GET", "/prod/pets", nil, creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken, fx.clk.Now(), "execute-api")
		_, f := fx.iam.Authenticate(r, nil)
		if f == nil {
			t.Fatal("expired credentials accepted")
		}
		checkFailure(t, f, gatewayresponse.ExpiredToken, 403, "ExpiredTokenException", "The security token included in the request is expired", false)
	})
}

func TestAssumeRoleRules(t *testing.T) {
	fx := newIAMFixture(t)
	alice, _, _ := fx.dir.LookupAccessKey("AKIAALICE0000000001")
	carol, _, _ := fx.dir.LookupAccessKey("AKIACAROL0000000001")
	dave, _, _ := fx.dir.LookupAccessKey("AKIADAVE00000000001")
	erin, _, _ := fx.dir.LookupAccessKey("AKIAERIN00000000001")
	tests := []struct {
		name    string
		caller  Principal
		role    string
		session string
		dur     time.Duration
		wantErr bool
	}{
		{"same account trusted", carol, "arn:aws:iam::111111111111:role/app", "s1", 0, false},
		{"trusted cross-account user", dave, "arn:aws:iam::111111111111:role/app", "s2", time.Hour, false},
		{"untrusted cross-account user", erin, "arn:aws:iam::111111111111:role/app", "s3", 0, true},
		{"trusted by ARN only", alice, "arn:aws:iam::111111111111:role/locked", "s4", 0, false},
		{"not trusted by ARN", carol, "arn:aws:iam::111111111111:role/locked", "s5", 0, true},
		{"unknown role", alice, "arn:aws:iam::111111111111:role/nope", "s6", 0, true},
		{"session name too short", alice, "arn:aws:iam::111111111111:role/app", "s", 0, true},
		{"session name bad char", alice, "arn:aws:iam::111111111111:role/app", "a b", 0, true},
		{"duration too long", alice, "arn:aws:iam::111111111111:role/app", "s7", 2 * time.Hour, true},
		{"duration too short", alice, "arn:aws:iam::111111111111:role/app", "s8", time.Minute, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fx.dir.AssumeRole(tt.caller, tt.role, tt.session, tt.dur)
			if (err != nil) != tt.wantErr {
				t.Errorf("AssumeRole error = %v, wantErr %v", err, tt.wantErr)
			}
		})
	}
}

func TestDirectoryConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  DirectoryConfig
	}{
		{"bad account id", DirectoryConfig{Accounts: []DirectoryAccount{{ID: "123"}}}},
		{"duplicate account", DirectoryConfig{Accounts: []DirectoryAccount{{ID: apiAcct}, {ID: apiAcct}}}},
		{"bad key id", DirectoryConfig{Accounts: []DirectoryAccount{{ID: apiAcct, AccessKeys: []AccessKey{{ID: "short", Secret: "s"}}}}}},
		{"empty secret", DirectoryConfig{Accounts: []DirectoryAccount{{ID: apiAcct, AccessKeys: []AccessKey{{ID: "AKIA0000000000000000"}}}}}},
		{"duplicate key", DirectoryConfig{Accounts: []DirectoryAccount{{ID: apiAcct, AccessKeys: []AccessKey{
			{ID: "AKIA0000000000000000", Secret: "a"}, {ID: "AKIA0000000000000000", Secret: "b"}}}}}},
		{"bad user name", DirectoryConfig{Accounts: []DirectoryAccount{{ID: apiAcct, Users: []DirectoryUser{{Name: "a b"}}}}}},
		{"bad path", DirectoryConfig{Accounts: []DirectoryAccount{{ID: apiAcct, Users: []DirectoryUser{{Name: "a", Path: "x"}}}}}},
		{"bad policy", DirectoryConfig{Accounts: []DirectoryAccount{{ID: apiAcct, Users: []DirectoryUser{{Name: "a",
			Policies: []InlinePolicy{{Name: "p", Document: []byte(`{"Statement":[{"Effect":"Maybe"}]}`)}}}}}}}},
		{"duplicate role", DirectoryConfig{Accounts: []DirectoryAccount{{ID: apiAcct, Roles: []DirectoryRole{{Name: "r"}, {Name: "r"}}}}}},
		{"role max duration", DirectoryConfig{Accounts: []DirectoryAccount{{ID: apiAcct, Roles: []DirectoryRole{{Name: "r", MaxSessionDuration: 13 * time.Hour}}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewDirectory(tt.cfg); err == nil {
				t.Error("NewDirectory accepted an invalid config")
			}
		})
	}
}

func TestIAMAuthorize(t *testing.T) {
	fx := newIAMFixture(t)
	ident := func(akid, secret string) *Identity {
		t.Helper()
		r := signed(t, "GET", "/prod/pets", nil, akid, secret, "", t0, "execute-api")
		id, f := fx.iam.Authenticate(r, nil)
		if f != nil {
			t.Fatalf("authenticate %s: %v", akid, f)
		}
		return id
	}
	alice := ident("AKIAALICE0000000001", "alice-secret")
	bob := ident("AKIABOB00000000001", "bob-secret")
	carol := ident("AKIACAROL0000000001", "carol-secret")
	root := ident("AKIAROOT000000000001", "root-secret")
	dave := ident("AKIADAVE00000000001", "dave-secret")
	erin := ident("AKIAERIN00000000001", "erin-secret")

	allowOther := mustPolicy(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"222222222222"},"Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:111111111111:a1b2c3d4e5/*"}]}`)
	allowOwn := mustPolicy(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:111111111111:a1b2c3d4e5/*"}]}`)
	denyAlice := mustPolicy(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111111111111:user/alice"},"Action":"execute-api:Invoke","Resource":"*"}]}`)
	denyAll := mustPolicy(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"*"}]}`)
	orgOnly := mustPolicy(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}}]}`)
	usernameOnly := mustPolicy(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"*","Condition":{"StringEquals":{"aws:username":"carol","aws:PrincipalType":"User","aws:PrincipalAccount":"111111111111"}}}]}`)
	arnVar := mustPolicy(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:111111111111:a1b2c3d4e5/*/GET/users/${aws:username}"}]}`)

	tests := []struct {
		name     string
		id       *Identity
		resource string // path after the stage
		rp       *policy.Policy
		want     policy.Decision
	}{
		{"same account identity allow, no resource policy", alice, "GET/pets", nil, allow},
		{"same account no identity policy, no resource policy", carol, "GET/pets", nil, neither},
		{"same account no identity policy, resource policy allows the account", carol, "GET/pets", allowOwn, allow},
		{"same account identity allow, resource policy names another account", alice, "GET/pets", allowOther, allow},
		{"same account identity explicit deny", bob, "GET/secret", nil, deny},
		{"same account identity deny beats resource allow", bob, "GET/secret", allowOwn, deny},
		{"same account resource deny beats identity allow", alice, "GET/pets", denyAlice, deny},
		{"root user is allowed by identity", root, "GET/pets", nil, allow},
		{"root user still denied by resource policy", root, "GET/pets", denyAll, deny},
		{"cross account identity allow, no resource policy", dave, "GET/pets", nil, neither},
		{"cross account identity allow, resource allow", dave, "GET/pets", allowOther, allow},
		{"cross account no identity policy, resource allow", erin, "GET/pets", allowOther, neither},
		{"cross account identity allow, resource deny", dave, "GET/pets", denyAll, deny},
		{"condition aws:PrincipalOrgID in org", carol, "GET/pets", orgOnly, allow},
		{"condition aws:PrincipalOrgID outside org", erin, "GET/pets", orgOnly, neither},
		{"condition aws:username and type", carol, "GET/pets", usernameOnly, allow},
		{"condition aws:username other user", alice, "GET/pets", usernameOnly, allow}, // alice's identity policy allows
		{"policy variable aws:username matches", carol, "GET/users/carol", arnVar, allow},
		{"policy variable aws:username differs", carol, "GET/users/alice", arnVar, neither},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c policy.Context
			c.SetTime(t0)
			if got := fx.iam.Authorize(tt.id, arnPrefix+tt.resource, tt.rp, &c, apiAcct); got != tt.want {
				t.Errorf("Authorize = %v, want %v", got, tt.want)
			}
		})
	}

	t.Run("condition keys are set", func(t *testing.T) {
		var c policy.Context
		fx.iam.Authorize(carol, arnPrefix+"GET/pets", nil, &c, apiAcct)
		if c.PrincipalAccount != apiAcct || c.PrincipalArn != "arn:aws:iam::111111111111:user/carol" ||
			c.PrincipalOrgID != "o-abc123" || c.Username != "carol" || c.PrincipalType != "User" || !strings.HasPrefix(c.UserID, "AIDA") {
			t.Errorf("context = %+v", c)
		}
		var c2 policy.Context
		fx.iam.Authorize(erin, arnPrefix+"GET/pets", nil, &c2, apiAcct)
		if c2.Has(policy.KeyPrincipalOrgID) {
			t.Error("aws:PrincipalOrgID set for an account outside any organization")
		}
	})
	t.Run("denied message", func(t *testing.T) {
		f := fx.iam.Denied(bob, arnPrefix+"GET/secret", policy.Deny)
		want := "User: arn:aws:iam::111111111111:user/team/bob is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********1111:a1b2c3d4e5/prod/GET/secret with an explicit deny"
		checkFailure(t, f, gatewayresponse.AccessDenied, 403, "", want, true)
		f = fx.iam.Denied(erin, arnPrefix+"GET/pets", policy.NotApplicable)
		want = "User: arn:aws:iam::222222222222:user/erin is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********1111:a1b2c3d4e5/prod/GET/pets"
		checkFailure(t, f, gatewayresponse.AccessDenied, 403, "", want, true)
	})
}

func TestDirectoryLoadKeepsSessions(t *testing.T) {
	fx := newIAMFixture(t)
	alice, _, _ := fx.dir.LookupAccessKey("AKIAALICE0000000001")
	creds, err := fx.dir.AssumeRole(alice, "arn:aws:iam::111111111111:role/app", "keep", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := fx.dir.Load(testDirectoryConfig()); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := fx.dir.LookupAccessKey(creds.AccessKeyID); !ok {
		t.Error("session lost across a reload that kept its role")
	}
	cfg := testDirectoryConfig()
	cfg.Accounts[0].Roles = nil
	if err := fx.dir.Load(cfg); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := fx.dir.LookupAccessKey(creds.AccessKeyID); ok {
		t.Error("session kept after its role was removed")
	}
}
