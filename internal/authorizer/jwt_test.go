package authorizer

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"gatehouse/internal/gatewayresponse"
)

// testKeys are generated once: RSA key generation is slow.
var testKeys = sync.OnceValue(func() []*rsa.PrivateKey {
	keys := make([]*rsa.PrivateKey, 3)
	for i := range keys {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		keys[i] = k
	}
	return keys
})

// issuer is a real local OIDC issuer: discovery document and JWKS over HTTP.
type issuer struct {
	srv *httptest.Server

	mu   sync.Mutex
	keys map[string]*rsa.PublicKey // served JWKS
	jwks []byte                    // overrides the JWKS body when set
	fail bool                      // answer 500

	discoveryHits atomic.Int32
	jwksHits      atomic.Int32
	block         chan struct{} // when set, /jwks waits for it or the request's end
	arrived       chan struct{} // when set, /jwks signals here before blocking
}

func newIssuer(t testing.TB) *issuer {
	t.Helper()
	is := &issuer{keys: map[string]*rsa.PublicKey{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		is.discoveryHits.Add(1)
		is.mu.Lock()
		fail := is.fail
		is.mu.Unlock()
		if fail {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]string{
			"issuer":   is.srv.URL,
			"jwks_uri": is.srv.URL + "/keys.json",
		})
	})
	mux.HandleFunc("GET /keys.json", func(w http.ResponseWriter, r *http.Request) {
		is.jwksHits.Add(1)
		is.mu.Lock()
		block, body, fail := is.block, is.jwks, is.fail
		if body == nil {
			body = jwksJSON(is.keys)
		}
		is.mu.Unlock()
		if is.arrived != nil {
			select {
			case is.arrived <- struct{}{}:
			default:
			}
		}
		if block != nil {
			select {
			case <-block:
			case <-r.Context().Done():
				return
			}
		}
		if fail {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	is.srv = httptest.NewServer(mux)
	t.Cleanup(is.srv.Close)
	return is
}

func (is *issuer) setKeys(keys map[string]*rsa.PublicKey) {
	is.mu.Lock()
	is.keys = keys
	is.mu.Unlock()
}

func jwksJSON(keys map[string]*rsa.PublicKey) []byte {
	type jwk struct {
		Kty string `json:"kty"`
		Kid string `json:"kid"`
		Use string `json:"use"`
		Alg string `json:"alg"`
		N   string `json:"n"`
		E   string `json:"e"`
	}
	var set struct {
		Keys []jwk `json:"keys"`
	}
	set.Keys = []jwk{}
	for kid, k := range keys {
		set.Keys = append(set.Keys, jwk{Kty: "RSA", Kid: kid, Use: "sig", Alg: "RS256",
			N: base64.RawURLEncoding.EncodeToString(k.N.Bytes()),
			E: base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.E)).Bytes())})
	}
	b, _ := json.Marshal(set)
	return b
}

// mint signs claims with key under kid (RS256).
func mint(t testing.TB, key *rsa.PrivateKey, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func idClaims(iss string, now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"sub":              "11111111-2222-3333-4444-555555555555",
		"aud":              "client-abc",
		"iss":              iss,
		"token_use":        "id",
		"email":            "alice@example.com",
		"email_verified":   true,
		"cognito:groups":   []any{"admins", "operators"},
		"cognito:username": "alice",
		"auth_time":        now.Unix(),
		"iat":              now.Unix(),
		"exp":              now.Add(time.Hour).Unix(),
		"address":          map[string]any{"formatted": "1 Main St"},
	}
}

func accessClaims(iss string, now time.Time) jwt.MapClaims {
	return jwt.MapClaims{
		"sub":       "11111111-2222-3333-4444-555555555555",
		"client_id": "client-abc",
		"iss":       iss,
		"token_use": "access",
		"scope":     "pets/read pets/write",
		"iat":       now.Unix(),
		"exp":       now.Add(time.Hour).Unix(),
	}
}

func with(c jwt.MapClaims, kv ...any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		k := kv[i].(string)
		if kv[i+1] == nil {
			delete(out, k)
		} else {
			out[k] = kv[i+1]
		}
	}
	return out
}

func newCognitoVerifier(t testing.TB, is *issuer, clk *clock, mod func(*JWTConfig)) *JWTVerifier {
	t.Helper()
	cfg := JWTConfig{
		Issuer:    is.srv.URL,
		Audiences: []string{"client-abc"},
		TokenUse:  []string{"id", "access"},
		Now:       clk.Now,
	}
	if mod != nil {
		mod(&cfg)
	}
	v, err := NewJWTVerifier(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestJWTVerify(t *testing.T) {
	keys := testKeys()
	is := newIssuer(t)
	is.setKeys(map[string]*rsa.PublicKey{"k1": &keys[0].PublicKey})
	clk := &clock{t: t0}
	v := newCognitoVerifier(t, is, clk, nil)
	iss := is.srv.URL

	hs256 := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, idClaims(iss, t0))
		tok.Header["kid"] = "k1"
		s, err := tok.SignedString(keys[0].PublicKey.N.Bytes()) // the classic key-confusion attempt
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	none := func() string {
		tok := jwt.NewWithClaims(jwt.SigningMethodNone, idClaims(iss, t0))
		tok.Header["kid"] = "k1"
		s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	good := mint(t, keys[0], "k1", idClaims(iss, t0))
	tests := []struct {
		name   string
		token  string
		scopes []string
		ok     bool
	}{
		{"good id token", good, nil, true},
		{"good id token with Bearer prefix", "Bearer " + good, nil, true},
		{"good access token", mint(t, keys[0], "k1", accessClaims(iss, t0)), nil, true},
		{"access token with a required scope", mint(t, keys[0], "k1", accessClaims(iss, t0)), []string{"admin", "pets/write"}, true},
		{"access token without the required scope", mint(t, keys[0], "k1", accessClaims(iss, t0)), []string{"admin"}, false},
		{"id token where scopes are required", mint(t, keys[0], "k1", idClaims(iss, t0)), []string{"pets/read"}, false},
		{"scp array claim", mint(t, keys[0], "k1", with(accessClaims(iss, t0), "scope", nil, "scp", []any{"x", "pets/read"})), []string{"pets/read"}, true},
		{"audience list", mint(t, keys[0], "k1", with(idClaims(iss, t0), "aud", []any{"other", "client-abc"})), nil, true},
		{"expired", mint(t, keys[0], "k1", with(idClaims(iss, t0), "exp", t0.Add(-time.Second).Unix())), nil, false},
		{"expires now", mint(t, keys[0], "k1", with(idClaims(iss, t0), "exp", t0.Unix())), nil, false},
		{"no exp", mint(t, keys[0], "k1", with(idClaims(iss, t0), "exp", nil)), nil, false},
		{"nbf in the future", mint(t, keys[0], "k1", with(idClaims(iss, t0), "nbf", t0.Add(time.Minute).Unix())), nil, false},
		{"nbf in the past", mint(t, keys[0], "k1", with(idClaims(iss, t0), "nbf", t0.Add(-time.Minute).Unix())), nil, true},
		{"iat in the future", mint(t, keys[0], "k1", with(idClaims(iss, t0), "iat", t0.Add(time.Minute).Unix())), nil, false},
		{"wrong audience", mint(t, keys[0], "k1", with(idClaims(iss, t0), "aud", "someone-else")), nil, false},
		{"wrong client_id", mint(t, keys[0], "k1", with(accessClaims(iss, t0), "client_id", "someone-else")), nil, false},
		{"wrong issuer", mint(t, keys[0], "k1", with(idClaims(iss, t0), "iss", "https://evil.example.com")), nil, false},
		{"no issuer", mint(t, keys[0], "k1", with(idClaims(iss, t0), "iss", nil)), nil, false},
		{"refresh token_use", mint(t, keys[0], "k1", with(idClaims(iss, t0), "token_use", "refresh")), nil, false},
		{"no token_use", mint(t, keys[0], "k1", with(idClaims(iss, t0), "token_use", nil)), nil, false},
		{"signed with another key", mint(t, keys[2], "k1", idClaims(iss, t0)), nil, false},
		{"unknown kid", mint(t, keys[2], "k9", idClaims(iss, t0)), nil, false},
		{"no kid", mint(t, keys[0], "", idClaims(iss, t0)), nil, false},
		{"HS256", hs256(), nil, false},
		{"alg none", none(), nil, false},
		{"tampered payload", tamper(good), nil, false},
		{"malformed: empty", "", nil, false},
		{"malformed: bearer only", "Bearer ", nil, false},
		{"malformed: one segment", "abc", nil, false},
		{"malformed: dots", "..", nil, false},
		{"malformed: bad base64", "a$b.c$d.e$f", nil, false},
		{"malformed: four segments", good + ".x", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, f := v.Verify(context.Background(), tt.token, tt.scopes)
			if tt.ok {
				if f != nil {
					t.Fatalf("Verify failed: %v", f)
				}
				if res.Claims["sub"] != "11111111-2222-3333-4444-555555555555" {
					t.Errorf("claims = %v", res.Claims)
				}
				return
			}
			if f == nil {
				t.Fatalf("Verify accepted the token: %v", res.Claims)
			}
			if f.Type != gatewayresponse.Unauthorized || f.Status != 401 || f.Message != "Unauthorized" || f.CapitalMessage || f.Body != "" {
				t.Errorf("failure = %+v, want UNAUTHORIZED 401 {\"message\":\"Unauthorized\"}", f)
			}
		})
	}
}

// tamper changes the payload of a JWT while keeping its signature.
func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	payload = []byte(strings.Replace(string(payload), "alice@example.com", "mallory@example", 1))
	parts[1] = base64.RawURLEncoding.EncodeToString(payload)
	return strings.Join(parts, ".")
}

func TestJWTClaimsRendering(t *testing.T) {
	keys := testKeys()
	is := newIssuer(t)
	is.setKeys(map[string]*rsa.PublicKey{"k1": &keys[0].PublicKey})
	clk := &clock{t: t0}
	v := newCognitoVerifier(t, is, clk, nil)
	res, f := v.Verify(context.Background(), mint(t, keys[0], "k1", idClaims(is.srv.URL, t0)), nil)
	if f != nil {
		t.Fatal(f)
	}
	want := map[string]string{
		"sub":              "11111111-2222-3333-4444-555555555555",
		"aud":              "client-abc",
		"iss":              is.srv.URL,
		"token_use":        "id",
		"email":            "alice@example.com",
		"email_verified":   "true",
		"cognito:groups":   "admins,operators",
		"cognito:username": "alice",
		"auth_time":        "1748779200",
		"iat":              "Sun Jun 01 12:00:00 UTC 2025",
		"exp":              "Sun Jun 01 13:00:00 UTC 2025",
		"address":          `{"formatted":"1 Main St"}`,
	}
	for k, w := range want {
		if got := res.Claims[k]; got != w {
			t.Errorf("claims[%q] = %q, want %q", k, got, w)
		}
	}
	if len(res.Claims) != len(want) {
		t.Errorf("claims = %v", res.Claims)
	}
	if !res.Expires.Equal(t0.Add(time.Hour)) {
		t.Errorf("Expires = %v", res.Expires)
	}
}

func TestJWTTokenCache(t *testing.T) {
	keys := testKeys()
	is := newIssuer(t)
	is.setKeys(map[string]*rsa.PublicKey{"k1": &keys[0].PublicKey})
	clk := &clock{t: t0}
	v := newCognitoVerifier(t, is, clk, nil)
	tok := mint(t, keys[0], "k1", with(accessClaims(is.srv.URL, t0), "exp", t0.Add(10*time.Minute).Unix()))

	r1, f := v.Verify(context.Background(), tok, nil)
	if f != nil {
		t.Fatal(f)
	}
	r2, f := v.Verify(context.Background(), tok, nil)
	if f != nil {
		t.Fatal(f)
	}
	if r1 != r2 {
		t.Error("second Verify of the same token did not come from the cache")
	}
	if _, f := v.Verify(context.Background(), tok, []string{"admin"}); f == nil {
		t.Error("cached token passed a scope it does not have")
	}
	clk.Advance(10 * time.Minute)
	if _, f := v.Verify(context.Background(), tok, nil); f == nil {
		t.Error("token accepted at its exp")
	}
	v.FlushCache()
	if n := v.tokens.len(); n != 0 {
		t.Errorf("cache holds %d tokens after FlushCache", n)
	}
}

func TestJWTKeyRotation(t *testing.T) {
	keys := testKeys()
	is := newIssuer(t)
	is.setKeys(map[string]*rsa.PublicKey{"k1": &keys[0].PublicKey})
	clk := &clock{t: t0}
	v := newCognitoVerifier(t, is, clk, nil)
	iss := is.srv.URL
	ctx := context.Background()

	if _, f := v.Verify(ctx, mint(t, keys[0], "k1", idClaims(iss, t0)), nil); f != nil {
		t.Fatal(f)
	}
	if d, j := is.discoveryHits.Load(), is.jwksHits.Load(); d != 1 || j != 1 {
		t.Fatalf("fetches after first token: discovery %d, jwks %d; want 1, 1", d, j)
	}

	// The issuer rotates to k2. A token with k2 arrives within the refresh
	// interval of the first fetch: no refetch yet, so it fails.
	is.setKeys(map[string]*rsa.PublicKey{"k1": &keys[0].PublicKey, "k2": &keys[1].PublicKey})
	k2tok := mint(t, keys[1], "k2", with(idClaims(iss, t0), "jti", "a"))
	if _, f := v.Verify(ctx, k2tok, nil); f == nil {
		t.Fatal("unknown kid accepted without a refetch")
	}
	if j := is.jwksHits.Load(); j != 1 {
		t.Fatalf("jwks fetched %d times within the refresh interval, want 1", j)
	}

	// After the interval, the unknown kid triggers one refetch, and k2 works.
	clk.Advance(DefaultJWKSRefreshLimit)
	if _, f := v.Verify(ctx, k2tok, nil); f != nil {
		t.Fatalf("rotated key rejected: %v", f)
	}
	if d, j := is.discoveryHits.Load(), is.jwksHits.Load(); d != 1 || j != 2 {
		t.Fatalf("fetches after rotation: discovery %d, jwks %d; want 1, 2", d, j)
	}

	// A burst of tokens with random kids costs at most one fetch per interval.
	clk.Advance(DefaultJWKSRefreshLimit)
	for i := range 20 {
		tok := mint(t, keys[2], "bogus-"+string(rune('a'+i)), idClaims(iss, clk.Now()))
		if _, f := v.Verify(ctx, tok, nil); f == nil {
			t.Fatal("bogus kid accepted")
		}
	}
	if j := is.jwksHits.Load(); j != 3 {
		t.Errorf("jwks fetched %d times for a burst of unknown kids, want 3", j)
	}

	// The key set expires after its TTL and is fetched again; k1 was
	// dropped meanwhile, so new k1 tokens fail.
	is.setKeys(map[string]*rsa.PublicKey{"k2": &keys[1].PublicKey})
	clk.Advance(DefaultJWKSTTL)
	if _, f := v.Verify(ctx, mint(t, keys[0], "k1", with(idClaims(iss, clk.Now()), "jti", "b")), nil); f == nil {
		t.Error("token signed with a retired key accepted")
	}
	if j := is.jwksHits.Load(); j != 4 {
		t.Errorf("jwks fetched %d times after the TTL, want 4", j)
	}
}

func TestJWTFetchLimits(t *testing.T) {
	keys := testKeys()
	ctx := context.Background()

	t.Run("JWKS larger than 150000 bytes", func(t *testing.T) {
		is := newIssuer(t)
		big := jwksJSON(map[string]*rsa.PublicKey{"k1": &keys[0].PublicKey})
		pad := strings.Repeat(" ", DefaultMaxJWKSBytes-len(big)+1)
		is.jwks = append(big[:len(big)-1:len(big)-1], []byte(pad+"}")...)
		v := newCognitoVerifier(t, is, &clock{t: t0}, nil)
		_, f := v.Verify(ctx, mint(t, keys[0], "k1", idClaims(is.srv.URL, t0)), nil)
		if f == nil || !strings.Contains(f.Err.Error(), "exceeds 150000 bytes") {
			t.Fatalf("got %v, want a size failure", f)
		}
	})
	t.Run("JWKS of exactly 150000 bytes", func(t *testing.T) {
		is := newIssuer(t)
		big := jwksJSON(map[string]*rsa.PublicKey{"k1": &keys[0].PublicKey})
		pad := strings.Repeat(" ", DefaultMaxJWKSBytes-len(big))
		is.jwks = append(big[:len(big)-1:len(big)-1], []byte(pad+"}")...)
		v := newCognitoVerifier(t, is, &clock{t: t0}, nil)
		if _, f := v.Verify(ctx, mint(t, keys[0], "k1", idClaims(is.srv.URL, t0)), nil); f != nil {
			t.Fatal(f)
		}
	})
	t.Run("fetch timeout", func(t *testing.T) {
		is := newIssuer(t)
		is.setKeys(map[string]*rsa.PublicKey{"k1": &keys[0].PublicKey})
		release := make(chan struct{})
		t.Cleanup(func() { close(release) })
		is.block = release
		v := newCognitoVerifier(t, is, &clock{t: t0}, func(c *JWTConfig) { c.FetchTimeout = 50 * time.Millisecond })
		start := time.Now()
		_, f := v.Verify(ctx, mint(t, keys[0], "k1", idClaims(is.srv.URL, t0)), nil)
		if f == nil || f.Status != 401 {
			t.Fatalf("got %v, want 401", f)
		}
		if el := time.Since(start); el > 5*time.Second {
			t.Errorf("timed out after %v", el)
		}
	})
	t.Run("discovery failure", func(t *testing.T) {
		is := newIssuer(t)
		is.fail = true
		v := newCognitoVerifier(t, is, &clock{t: t0}, nil)
		if _, f := v.Verify(ctx, mint(t, keys[0], "k1", idClaims(is.srv.URL, t0)), nil); f == nil {
			t.Fatal("accepted without keys")
		}
	})
	t.Run("stale keys serve while the issuer is down", func(t *testing.T) {
		is := newIssuer(t)
		is.setKeys(map[string]*rsa.PublicKey{"k1": &keys[0].PublicKey})
		clk := &clock{t: t0}
		v := newCognitoVerifier(t, is, clk, nil)
		if _, f := v.Verify(ctx, mint(t, keys[0], "k1", idClaims(is.srv.URL, t0)), nil); f != nil {
			t.Fatal(f)
		}
		is.mu.Lock()
		is.fail = true
		is.mu.Unlock()
		clk.Advance(DefaultJWKSTTL + time.Minute)
		if _, f := v.Verify(ctx, mint(t, keys[0], "k1", idClaims(is.srv.URL, clk.Now())), nil); f != nil {
			t.Fatalf("stale key not used: %v", f)
		}
	})
	t.Run("prefetch", func(t *testing.T) {
		is := newIssuer(t)
		is.setKeys(map[string]*rsa.PublicKey{"k1": &keys[0].PublicKey})
		v := newCognitoVerifier(t, is, &clock{t: t0}, nil)
		if err := v.Prefetch(ctx); err != nil {
			t.Fatal(err)
		}
		if _, f := v.Verify(ctx, mint(t, keys[0], "k1", idClaims(is.srv.URL, t0)), nil); f != nil {
			t.Fatal(f)
		}
		if j := is.jwksHits.Load(); j != 1 {
			t.Errorf("jwks fetched %d times, want 1", j)
		}
	})
	t.Run("configured JWKS URL skips discovery", func(t *testing.T) {
		is := newIssuer(t)
		is.setKeys(map[string]*rsa.PublicKey{"k1": &keys[0].PublicKey})
		v := newCognitoVerifier(t, is, &clock{t: t0}, func(c *JWTConfig) { c.JWKSURL = is.srv.URL + "/keys.json" })
		if _, f := v.Verify(ctx, mint(t, keys[0], "k1", idClaims(is.srv.URL, t0)), nil); f != nil {
			t.Fatal(f)
		}
		if d := is.discoveryHits.Load(); d != 0 {
			t.Errorf("discovery fetched %d times", d)
		}
	})
}

func TestJWTConcurrentColdStart(t *testing.T) {
	keys := testKeys()
	is := newIssuer(t)
	is.setKeys(map[string]*rsa.PublicKey{"k1": &keys[0].PublicKey})
	release := make(chan struct{})
	is.block = release
	is.arrived = make(chan struct{}, 1)
	v := newCognitoVerifier(t, is, &clock{t: t0}, nil)
	const n = 16
	toks := make([]string, n)
	for i := range toks {
		toks[i] = mint(t, keys[0], "k1", with(idClaims(is.srv.URL, t0), "jti", string(rune('a'+i))))
	}
	var wg sync.WaitGroup
	errs := make(chan *Failure, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, f := v.Verify(context.Background(), toks[i], nil)
			errs <- f
		}()
	}
	// Release the JWKS once the first fetch is waiting on it.
	<-is.arrived
	close(release)
	wg.Wait()
	close(errs)
	for f := range errs {
		if f != nil {
			t.Errorf("Verify failed: %v", f)
		}
	}
	if j := is.jwksHits.Load(); j != 1 {
		t.Errorf("jwks fetched %d times by %d concurrent requests, want 1", j, n)
	}
}

func TestParseJWKS(t *testing.T) {
	keys := testKeys()
	good := jwksJSON(map[string]*rsa.PublicKey{"k1": &keys[0].PublicKey})
	tests := []struct {
		name    string
		doc     string
		wantN   int
		wantErr bool
	}{
		{"one key", string(good), 1, false},
		{"skips EC and enc keys", `{"keys":[{"kty":"EC","kid":"e","crv":"P-256"},{"kty":"RSA","kid":"x","use":"enc","n":"AQAB","e":"AQAB"},{"kty":"RSA","kid":"y","alg":"RS512","n":"AQAB","e":"AQAB"}]}`, 0, false},
		{"bad modulus", `{"keys":[{"kty":"RSA","kid":"k","n":"!!","e":"AQAB"}]}`, 0, true},
		{"small modulus", `{"keys":[{"kty":"RSA","kid":"k","n":"AQAB","e":"AQAB"}]}`, 0, true},
		{"even exponent", `{"keys":[{"kty":"RSA","kid":"k","n":"AQAB","e":"Ag"}]}`, 0, true},
		{"not json", `nope`, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseJWKS([]byte(tt.doc))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if len(got) != tt.wantN {
				t.Errorf("got %d keys, want %d", len(got), tt.wantN)
			}
		})
	}
}
