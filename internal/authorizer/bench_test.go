package authorizer

import (
	"context"
	"crypto/rsa"
	"net/http"
	"testing"
	"time"

	"gatehouse/internal/policy"
)

// BenchmarkLambdaCachedToken is the per-request overhead of a TOKEN
// authorizer whose result is cached: identity extraction, validation
// expression, cache lookup and policy re-evaluation. Target ≤ 2 µs.
func BenchmarkLambdaCachedToken(b *testing.B) {
	inv := &fakeInvoker{handler: tokenHandler}
	l := newTokenAuthorizer(b, inv, &clock{t: t0}, func(c *LambdaConfig) {
		c.IdentityValidationExpression = "[a-z-]+"
		c.Now = time.Now
	})
	in := tokenInput("allow-all", "GET/pets/1")
	ctx := context.Background()
	if _, d, f := l.Authorize(ctx, in); f != nil || d != policy.Allow {
		b.Fatal(d, f)
	}
	b.ReportAllocs()
	for b.Loop() {
		_, d, f := l.Authorize(ctx, in)
		if f != nil || d != policy.Allow {
			b.Fatal(d, f)
		}
	}
	if inv.Calls() != 1 {
		b.Fatalf("function called %d times", inv.Calls())
	}
}

// BenchmarkLambdaCachedTokenParallel is the same on every core.
func BenchmarkLambdaCachedTokenParallel(b *testing.B) {
	inv := &fakeInvoker{handler: tokenHandler}
	l := newTokenAuthorizer(b, inv, &clock{t: t0}, func(c *LambdaConfig) { c.Now = time.Now })
	ctx := context.Background()
	if _, _, f := l.Authorize(ctx, tokenInput("allow-all", "GET/pets/1")); f != nil {
		b.Fatal(f)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		in := tokenInput("allow-all", "GET/pets/1")
		for pb.Next() {
			if _, _, f := l.Authorize(ctx, in); f != nil {
				b.Fatal(f)
			}
		}
	})
}

// BenchmarkLambdaCachedRequest is a REQUEST authorizer with four identity
// sources (header, query string, stage variable, context variable).
func BenchmarkLambdaCachedRequest(b *testing.B) {
	inv := &fakeInvoker{handler: requestHandler}
	l, err := NewLambda(LambdaConfig{Type: TypeRequest, FunctionARN: fnARN,
		IdentitySource: "method.request.header.HeaderAuth1, method.request.querystring.QueryString1, stageVariables.StageVar1, context.identity.sourceIp"}, inv)
	if err != nil {
		b.Fatal(err)
	}
	in := requestInput("headerValue1", "a=1&QueryString1=queryValue1&z=2")
	ctx := context.Background()
	if _, d, f := l.Authorize(ctx, in); f != nil || d != policy.Allow {
		b.Fatal(d, f)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, f := l.Authorize(ctx, in); f != nil {
			b.Fatal(f)
		}
	}
}

// BenchmarkSigV4Authenticate is AWS_IAM authentication of a signed GET
// (signature verification with a warm signing-key cache, key lookup).
// Target ≤ 10 µs.
func BenchmarkSigV4Authenticate(b *testing.B) {
	fx := newIAMFixture(b)
	r := signed(b, "GET", "/prod/pets/1?limit=10", nil, "AKIAALICE0000000001", "alice-secret", "", t0, "execute-api")
	r.Header.Set("User-Agent", "aws-sdk-go-v2/1.0")
	r.Header.Set("Accept", "application/json")
	b.ReportAllocs()
	for b.Loop() {
		if _, f := fx.iam.Authenticate(r, nil); f != nil {
			b.Fatal(f)
		}
	}
}

// BenchmarkIAMAuthorize is identity policy plus resource policy evaluation
// for an authenticated caller.
func BenchmarkIAMAuthorize(b *testing.B) {
	fx := newIAMFixture(b)
	r := signed(b, "GET", "/prod/pets/1", nil, "AKIAALICE0000000001", "alice-secret", "", t0, "execute-api")
	id, f := fx.iam.Authenticate(r, nil)
	if f != nil {
		b.Fatal(f)
	}
	rp := mustPolicy(b, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"*"},{"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-abc123"}}}]}`)
	var c policy.Context
	methodARN := arnPrefix + "GET/pets/1"
	b.ReportAllocs()
	for b.Loop() {
		c.Reset()
		if d := fx.iam.Authorize(id, methodARN, rp, &c, apiAcct); d != policy.Allow {
			b.Fatal(d)
		}
	}
}

func benchVerifier(b *testing.B, cacheTokens bool) (*JWTVerifier, string) {
	keys := testKeys()
	is := newIssuer(b)
	is.setKeys(map[string]*rsa.PublicKey{"k1": &keys[0].PublicKey})
	now := time.Now()
	v, err := NewJWTVerifier(JWTConfig{
		Issuer:          is.srv.URL,
		Audiences:       []string{"client-abc"},
		TokenUse:        []string{"id", "access"},
		MaxCachedTokens: map[bool]int{true: 0, false: -1}[cacheTokens],
		HTTPClient:      &http.Client{},
	})
	if err != nil {
		b.Fatal(err)
	}
	tok := mint(b, keys[0], "k1", idClaims(is.srv.URL, now))
	if _, f := v.Verify(context.Background(), tok, nil); f != nil {
		b.Fatal(f)
	}
	return v, tok
}

// BenchmarkJWTVerifyUncached is a full RS256 verification with the JWKS
// cached (token cache off). Target ≤ 30 µs.
func BenchmarkJWTVerifyUncached(b *testing.B) {
	v, tok := benchVerifier(b, false)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, f := v.Verify(ctx, tok, nil); f != nil {
			b.Fatal(f)
		}
	}
}

// BenchmarkJWTVerifyCached is a repeated token served from the
// verified-token cache. Target about 0.1 µs.
func BenchmarkJWTVerifyCached(b *testing.B) {
	v, tok := benchVerifier(b, true)
	ctx := context.Background()
	scopes := []string(nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, f := v.Verify(ctx, tok, scopes); f != nil {
			b.Fatal(f)
		}
	}
}

// BenchmarkRSAVerifyReference is crypto/rsa's RS256 verification alone
// (the floor under BenchmarkJWTVerifyUncached), to normalize the figures
// on a loaded machine.
func BenchmarkRSAVerifyReference(b *testing.B) {
	keys := testKeys()
	tok := mint(b, keys[0], "k1", idClaims("https://issuer.example", time.Now()))
	parts, err := splitJWS(tok)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := verifyRS256(&parts, &keys[0].PublicKey); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJWTParse is everything an uncached verification does except the
// RSA operation: split, header, claims rendering and checks.
func BenchmarkJWTParse(b *testing.B) {
	keys := testKeys()
	tok := mint(b, keys[0], "k1", idClaims("https://issuer.example", time.Now()))
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		parts, err := splitJWS(tok)
		if err != nil {
			b.Fatal(err)
		}
		h, err := parseJWSHeader(parts.header)
		if err != nil || h.alg != "RS256" {
			b.Fatal(err)
		}
		c, err := parseClaims(parts.payload)
		if err != nil {
			b.Fatal(err)
		}
		if err := c.checkTimes(now, 0); err != nil {
			b.Fatal(err)
		}
	}
}
