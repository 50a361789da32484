package apimodel

import (
	"net/url"
	"slices"
	"testing"
	"time"
)

func TestAuthorizerFunctionARN(t *testing.T) {
	tests := []struct {
		name, uri, want string
	}{
		{"lambda invocation", "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:111111111111:function:auth/invocations",
			"arn:aws:lambda:us-east-1:111111111111:function:auth"},
		{"alias", "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:111111111111:function:auth:live/invocations",
			"arn:aws:lambda:eu-west-1:111111111111:function:auth:live"},
		{"bare function arn", "arn:aws:lambda:us-east-1:111111111111:function:auth", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := (&Authorizer{AuthorizerURI: tt.uri}).FunctionARN(); got != tt.want {
				t.Fatalf("FunctionARN = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAuthorizerIdentitySources(t *testing.T) {
	a := &Authorizer{IdentitySource: " method.request.header.A,method.request.querystring.q , ,context.requestId"}
	want := []string{"method.request.header.A", "method.request.querystring.q", "context.requestId"}
	if got := a.IdentitySources(); !slices.Equal(got, want) {
		t.Fatalf("IdentitySources = %q, want %q", got, want)
	}
	if got := (&Authorizer{}).IdentitySources(); got != nil {
		t.Fatalf("IdentitySources of none = %q", got)
	}
}

func TestProviderIssuer(t *testing.T) {
	tests := []struct {
		name, provider, want string
		ok                   bool
	}{
		{"user pool arn", "arn:aws:cognito-idp:us-east-1:111111111111:userpool/us-east-1_AbCdEf123",
			"https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123", true},
		{"https issuer", "https://issuer.example.com/realms/main/", "https://issuer.example.com/realms/main", true},
		{"loopback http issuer", "http://127.0.0.1:9000", "http://127.0.0.1:9000", true},
		{"localhost http issuer", "http://localhost:9000/oidc", "http://localhost:9000/oidc", true},
		{"ipv6 loopback http issuer", "http://[::1]:9000", "http://[::1]:9000", true},
		{"remote http issuer", "http://issuer.example.com", "", false},
		{"loopback user info", "http://127.0.0.1:80@evil.example.com", "", false},
		{"issuer with query", "https://issuer.example.com?x=1", "", false},
		{"no host", "https:///path", "", false},
		{"lambda arn", "arn:aws:lambda:us-east-1:111111111111:function:auth", "", false},
		{"empty", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ProviderIssuer(tt.provider)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("ProviderIssuer = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestStoreKeys(t *testing.T) {
	at := time.Date(2024, 3, 6, 23, 59, 0, 0, time.FixedZone("x", -3600)) // 2024-03-07 in UTC
	if got := UsageKey("plan01", "key0123456", at); got != "plan01.key0123456.2024-03-07" {
		t.Fatalf("UsageKey = %q", got)
	}
	if got := UsageKeyPrefix("plan01", "key0123456"); got != "plan01.key0123456." {
		t.Fatalf("UsageKeyPrefix = %q", got)
	}
	if got := UsagePlanKeyKey("plan01", "key0123456"); got != "plan01.key0123456" {
		t.Fatalf("UsagePlanKeyKey = %q", got)
	}
	a, b := APIKeyValueKey("111111111111", "v1"), APIKeyValueKey("222222222222", "v1")
	if a == b || len(a) != 12+1+64 || a[:13] != "111111111111." {
		t.Fatalf("APIKeyValueKey = %q, %q", a, b)
	}
}

func TestQuotaPeriodStart(t *testing.T) {
	at := time.Date(2024, 3, 6, 15, 4, 5, 0, time.UTC) // a Wednesday
	tests := []struct {
		period string
		want   time.Time
	}{
		{QuotaDay, time.Date(2024, 3, 6, 0, 0, 0, 0, time.UTC)},
		{QuotaWeek, time.Date(2024, 3, 3, 0, 0, 0, 0, time.UTC)},
		{QuotaMonth, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"", time.Date(2024, 3, 6, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run("period "+tt.period, func(t *testing.T) {
			if got := QuotaPeriodStart(tt.period, at); !got.Equal(tt.want) {
				t.Fatalf("QuotaPeriodStart = %v, want %v", got, tt.want)
			}
		})
	}
}

// FuzzProviderIssuer checks that any accepted provider yields an https issuer or a
// loopback http one, never panicking.
func FuzzProviderIssuer(f *testing.F) {
	for _, s := range []string{"https://a.example.com", "http://127.0.0.1:1/x", "http://[::1]", "arn:aws:cognito-idp:us-east-1:111111111111:userpool/us-east-1_x",
		"http://localhost@evil.com", "http://127.0.0.1.evil.com", "http://127.0.0.1:80@evil.com", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		iss, ok := ProviderIssuer(s)
		if !ok {
			return
		}
		switch {
		case len(iss) > 8 && iss[:8] == "https://":
		case len(iss) > 7 && iss[:7] == "http://":
			u, err := url.Parse(iss)
			if err != nil || (u.Hostname() != "localhost" && u.Hostname() != "127.0.0.1" && u.Hostname() != "::1") {
				t.Fatalf("ProviderIssuer(%q) = %q: not loopback", s, iss)
			}
		default:
			t.Fatalf("ProviderIssuer(%q) = %q", s, iss)
		}
	})
}
