package stsapi

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/authorizer"
)

const invokeAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}]}`

func testDirectory(t testing.TB, now func() time.Time) *authorizer.Directory {
	t.Helper()
	d, err := authorizer.NewDirectory(authorizer.DirectoryConfig{Accounts: []authorizer.DirectoryAccount{
		{
			ID:         "111111111111",
			AccessKeys: []authorizer.AccessKey{{ID: "AKIAPROVIDER00000001", Secret: "s"}},
			Users:      []authorizer.DirectoryUser{{Name: "alice", AccessKeys: []authorizer.AccessKey{{ID: "AKIAALICE00000000001", Secret: "s"}}}},
			Roles: []authorizer.DirectoryRole{
				{Name: "invoker", TrustedPrincipals: []string{"111111111111"}, Policies: []authorizer.InlinePolicy{{Name: "p", Document: []byte(invokeAll)}}},
				{Name: "alice-only", TrustedPrincipals: []string{"arn:aws:iam::111111111111:user/alice"}},
			},
		},
		{ID: "222222222222", AccessKeys: []authorizer.AccessKey{{ID: "AKIACONSUMER00000001", Secret: "s"}}},
	}}, authorizer.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

type result struct {
	status int
	body   string
}

func call(s *Server, akid string, form url.Values) result {
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form.Encode()))
	rec := httptest.NewRecorder()
	s.ServeSTS(rec, req, Caller{AccessKeyID: akid}, []byte(form.Encode()))
	return result{rec.Code, rec.Body.String()}
}

func assume(role, session, duration string) url.Values {
	v := url.Values{"Action": {"AssumeRole"}, "Version": {Version}}
	if role != "" {
		v.Set("RoleArn", role)
	}
	if session != "" {
		v.Set("RoleSessionName", session)
	}
	if duration != "" {
		v.Set("DurationSeconds", duration)
	}
	return v
}

func TestSTSAssumeRole(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s := New(Options{Directory: testDirectory(t, clock), Now: clock})
	const invoker = "arn:aws:iam::111111111111:role/invoker"
	tests := []struct {
		name   string
		akid   string
		form   url.Values
		status int
		want   []string // substrings of the body
	}{
		{"root of the role's account", "AKIAPROVIDER00000001", assume(invoker, "s1", ""), 200,
			[]string{"<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult><Credentials><AccessKeyId>ASIA",
				"<Expiration>2026-03-01T13:00:00Z</Expiration>", "<Arn>arn:aws:sts::111111111111:assumed-role/invoker/s1</Arn>", "<AssumedRoleId>AROA", ":s1</AssumedRoleId>",
				"<ResponseMetadata><RequestId>"}},
		{"IAM user trusted by ARN", "AKIAALICE00000000001", assume("arn:aws:iam::111111111111:role/alice-only", "s1", "900"), 200,
			[]string{"<Expiration>2026-03-01T12:15:00Z</Expiration>"}},
		{"other account not trusted", "AKIACONSUMER00000001", assume(invoker, "s1", ""), 403,
			[]string{"<Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::222222222222:root is not authorized to perform: sts:AssumeRole on resource: " + invoker + "</Message>"}},
		{"unknown role is AccessDenied", "AKIAPROVIDER00000001", assume("arn:aws:iam::111111111111:role/nope", "s1", ""), 403,
			[]string{"<Code>AccessDenied</Code>", "on resource: arn:aws:iam::111111111111:role/nope<"}},
		{"root not trusted by ARN-only role", "AKIAPROVIDER00000001", assume("arn:aws:iam::111111111111:role/alice-only", "s1", ""), 403,
			[]string{"<Code>AccessDenied</Code>"}},
		{"missing parameters", "AKIAPROVIDER00000001", assume("", "", ""), 400,
			[]string{"<Code>ValidationError</Code><Message>2 validation errors detected: Value null at &#39;roleArn&#39; failed to satisfy constraint: Member must not be null; Value null at &#39;roleSessionName&#39;"}},
		{"short session name", "AKIAPROVIDER00000001", assume(invoker, "x", ""), 400,
			[]string{"1 validation error detected: Value &#39;x&#39; at &#39;roleSessionName&#39; failed to satisfy constraint: Member must have length greater than or equal to 2"}},
		{"bad session name", "AKIAPROVIDER00000001", assume(invoker, "a b", ""), 400,
			[]string{`Member must satisfy regular expression pattern: [\w+=,.@-]*`}},
		{"duration too short", "AKIAPROVIDER00000001", assume(invoker, "s1", "899"), 400,
			[]string{"Value &#39;899&#39; at &#39;durationSeconds&#39; failed to satisfy constraint: Member must have value greater than or equal to 900"}},
		{"duration beyond role max", "AKIAPROVIDER00000001", assume(invoker, "s1", "7200"), 400,
			[]string{"The requested DurationSeconds exceeds the MaxSessionDuration set for this role."}},
		{"session policy refused", "AKIAPROVIDER00000001", func() url.Values { v := assume(invoker, "s1", ""); v.Set("Policy", "{}"); return v }(), 400,
			[]string{"not supported"}},
		{"unknown key", "AKIANOBODY0000000001", assume(invoker, "s1", ""), 403,
			[]string{"<Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message>"}},
		{"unknown action", "AKIAPROVIDER00000001", url.Values{"Action": {"GetSessionToken"}, "Version": {Version}}, 400,
			[]string{"<Code>InvalidAction</Code><Message>Could not find operation GetSessionToken for version 2011-06-15</Message>"}},
		{"wrong version", "AKIAPROVIDER00000001", url.Values{"Action": {"AssumeRole"}, "Version": {"2010-01-01"}}, 400,
			[]string{"<Code>InvalidAction</Code>"}},
		{"no action", "AKIAPROVIDER00000001", url.Values{}, 400, []string{"<Code>MissingAction</Code>"}},
		{"caller identity of a user", "AKIAALICE00000000001", url.Values{"Action": {"GetCallerIdentity"}, "Version": {Version}}, 200,
			[]string{"<Arn>arn:aws:iam::111111111111:user/alice</Arn><UserId>AIDA", "<Account>111111111111</Account>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := call(s, tt.akid, tt.form)
			if got.status != tt.status {
				t.Fatalf("status %d, want %d: %s", got.status, tt.status, got.body)
			}
			for _, w := range tt.want {
				if !strings.Contains(got.body, w) {
					t.Errorf("body lacks %q:\n%s", w, got.body)
				}
			}
		})
	}
}

func TestSTSSessionCredentials(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	dir := testDirectory(t, clock)
	s := New(Options{Directory: dir, Now: clock})
	res := call(s, "AKIAPROVIDER00000001", assume("arn:aws:iam::111111111111:role/invoker", "s1", "900"))
	var out assumeRoleResponse
	if err := xml.Unmarshal([]byte(res.body), &out); err != nil || res.status != 200 {
		t.Fatalf("%d %s %v", res.status, res.body, err)
	}
	akid := out.Credentials.AccessKeyID
	p, secret, ok := dir.LookupAccessKey(akid)
	if !ok || secret != out.Credentials.SecretAccessKey || p.SessionToken != out.Credentials.SessionToken || p.Type != authorizer.PrincipalTypeAssumedRole {
		t.Fatalf("directory does not know the issued credentials: %+v", p)
	}
	t.Run("caller identity of a session", func(t *testing.T) {
		got := call(s, akid, url.Values{"Action": {"GetCallerIdentity"}, "Version": {Version}})
		if !strings.Contains(got.body, "<Arn>arn:aws:sts::111111111111:assumed-role/invoker/s1</Arn>") {
			t.Fatal(got.body)
		}
	})
	t.Run("role chaining is capped at one hour", func(t *testing.T) {
		got := call(s, akid, assume("arn:aws:iam::111111111111:role/invoker", "s2", "3601"))
		if got.status != 400 || !strings.Contains(got.body, "1 hour session limit for roles assumed by role chaining") {
			t.Fatalf("%d %s", got.status, got.body)
		}
	})
	t.Run("expired session", func(t *testing.T) {
		now = now.Add(16 * time.Minute)
		got := call(s, akid, url.Values{"Action": {"GetCallerIdentity"}, "Version": {Version}})
		if got.status != 403 || !strings.Contains(got.body, "<Code>ExpiredToken</Code><Message>The security token included in the request is expired</Message>") {
			t.Fatalf("%d %s", got.status, got.body)
		}
	})
}

func TestSTSWriteError(t *testing.T) {
	tests := []struct{ in, want string }{
		{"UnrecognizedClientException", "InvalidClientTokenId"},
		{"InvalidSignatureException", "SignatureDoesNotMatch"},
		{"IncompleteSignatureException", "IncompleteSignature"},
		{"MissingAuthenticationTokenException", "MissingAuthenticationToken"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			rec := httptest.NewRecorder()
			WriteError(rec, 403, tt.in, "m", "rid")
			if !strings.Contains(rec.Body.String(), "<Code>"+tt.want+"</Code><Message>m</Message></Error><RequestId>rid</RequestId>") {
				t.Fatal(rec.Body.String())
			}
		})
	}
}

func FuzzSTSForm(f *testing.F) {
	f.Add([]byte(assume("arn:aws:iam::111111111111:role/invoker", "s1", "900").Encode()))
	f.Add([]byte("Action=AssumeRole&Version=2011-06-15&RoleArn=%zz"))
	f.Add([]byte("Action=GetCallerIdentity&Version=2011-06-15"))
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s := New(Options{Directory: testDirectory(f, clock), Now: clock})
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		rec := httptest.NewRecorder()
		s.ServeSTS(rec, req, Caller{AccessKeyID: "AKIAPROVIDER00000001"}, body)
		if rec.Code != 200 && !strings.Contains(rec.Body.String(), "<ErrorResponse") {
			t.Fatalf("%d without an error document: %s", rec.Code, rec.Body.String())
		}
	})
}
