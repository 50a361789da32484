package authorizer

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Limits AWS applies to JWT authorizers (HTTP API quotas, used for Cognito
// user-pool authorizers too).
const (
	DefaultJWKSFetchTimeout = 1500 * time.Millisecond
	DefaultMaxJWKSBytes     = 150000
	DefaultJWKSTTL          = time.Hour
	DefaultJWKSRefreshLimit = 10 * time.Second
	DefaultMaxCachedTokens  = 10000
)

// JWTConfig configures a JWTVerifier.
type JWTConfig struct {
	// Issuer is the exact value the iss claim must have, e.g.
	// https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123. Required.
	Issuer string
	// Audiences, when not empty, must contain the token's aud (any of them
	// when aud is a list) or its client_id (Cognito access tokens).
	Audiences []string
	// TokenUse, when not empty, lists the accepted values of the token_use
	// claim: {"id", "access"} for Cognito user pools.
	TokenUse []string
	// DiscoveryURL is the OpenID discovery document; "" means
	// Issuer + "/.well-known/openid-configuration".
	DiscoveryURL string
	// JWKSURL skips discovery when set.
	JWKSURL string
	// HTTPClient fetches the discovery document and the JWKS; nil means a
	// client of its own.
	HTTPClient *http.Client
	// FetchTimeout bounds each fetch; 0 means 1500 ms (AWS's limit).
	FetchTimeout time.Duration
	// MaxJWKSBytes bounds each fetched document; 0 means 150,000 (AWS's limit).
	MaxJWKSBytes int64
	// JWKSTTL is how long a fetched key set is used before it is fetched
	// again; 0 means 1 hour. A stale set keeps serving while a fetch fails.
	JWKSTTL time.Duration
	// RefreshInterval is the least time between two fetches, which bounds
	// refetches caused by tokens with unknown kids; 0 means 10 seconds.
	RefreshInterval time.Duration
	// Leeway is the clock skew allowed on exp, nbf and iat; 0 (the default)
	// allows none.
	Leeway time.Duration
	// MaxCachedTokens bounds the verified-token cache; 0 means 10,000 and a
	// negative value disables the cache.
	MaxCachedTokens int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// JWTResult is a verified token. It is shared between requests that present
// the same token and must not be modified.
type JWTResult struct {
	// Claims are the token's claims as $context.authorizer.claims.* shows
	// them (REST API form): strings as they are, numbers in decimal, exp and
	// iat as "Mon Jan 02 15:04:05 UTC 2006", booleans as true/false, arrays
	// joined with ",", objects as compact JSON.
	Claims map[string]string
	// Scopes are the token's OAuth scopes (the scope claim split on spaces,
	// or the scp claim).
	Scopes []string
	// Expires is the token's exp.
	Expires time.Time
}

// HasScope reports whether the token carries at least one of scopes (true
// when scopes is empty: the method requires none).
func (r *JWTResult) HasScope(scopes []string) bool {
	if len(scopes) == 0 {
		return true
	}
	for _, want := range scopes {
		for _, have := range r.Scopes {
			if want == have {
				return true
			}
		}
	}
	return false
}

// JWTVerifier verifies RS256 JSON Web Tokens from one OIDC issuer: Cognito
// user-pool authorizers and JWT authorizers. Keys come from the issuer's
// JWKS (found through its discovery document), fetched lazily, cached for
// JWKSTTL and refetched, at most once per RefreshInterval, when a token names
// an unknown kid (key rotation). No lock is held during a fetch. Verified
// tokens are cached by their text until they expire, so a repeated token
// costs a map lookup, not an RSA verification. Safe for concurrent use.
type JWTVerifier struct {
	cfg    JWTConfig
	now    func() time.Time
	client *http.Client
	tokens *ttlCache[*JWTResult] // nil when disabled

	keys atomic.Pointer[keySet]

	mu        sync.Mutex    // guards the fields below
	fetching  chan struct{} // closed when the running fetch ends; nil when none runs
	lastFetch time.Time     // start of the last fetch
	lastErr   error         // result of the last fetch
	jwksURL   string        // from the config or discovery
}

type keySet struct {
	keys    map[string]*rsa.PublicKey // by kid
	fetched time.Time
}

// NewJWTVerifier returns a verifier for cfg. It does not fetch anything.
func NewJWTVerifier(cfg JWTConfig) (*JWTVerifier, error) {
	if cfg.Issuer == "" {
		return nil, errors.New("jwt: issuer is required")
	}
	if cfg.FetchTimeout <= 0 {
		cfg.FetchTimeout = DefaultJWKSFetchTimeout
	}
	if cfg.MaxJWKSBytes <= 0 {
		cfg.MaxJWKSBytes = DefaultMaxJWKSBytes
	}
	if cfg.JWKSTTL <= 0 {
		cfg.JWKSTTL = DefaultJWKSTTL
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = DefaultJWKSRefreshLimit
	}
	if cfg.DiscoveryURL == "" {
		cfg.DiscoveryURL = strings.TrimSuffix(cfg.Issuer, "/") + "/.well-known/openid-configuration"
	}
	v := &JWTVerifier{cfg: cfg, now: cfg.Now, client: cfg.HTTPClient, jwksURL: cfg.JWKSURL}
	if v.now == nil {
		v.now = time.Now
	}
	if v.client == nil {
		v.client = &http.Client{}
	}
	switch {
	case cfg.MaxCachedTokens == 0:
		v.tokens = newTTLCache[*JWTResult](DefaultMaxCachedTokens)
	case cfg.MaxCachedTokens > 0:
		v.tokens = newTTLCache[*JWTResult](cfg.MaxCachedTokens)
	}
	return v, nil
}

// Verify checks token (bare, or after "Bearer ") and, when scopes is not
// empty, that the token carries one of them (the method's
// authorizationScopes). Every failure is UNAUTHORIZED 401
// {"message":"Unauthorized"}, with the reason in Failure.Err.
func (v *JWTVerifier) Verify(ctx context.Context, token string, scopes []string) (*JWTResult, *Failure) {
	token = stripBearer(token)
	if token == "" {
		return nil, unauthorized(errors.New("jwt: no token"))
	}
	if v.tokens != nil {
		if r, ok := v.tokens.get(token, v.now().UnixNano()); ok {
			if !r.HasScope(scopes) {
				return nil, unauthorized(errors.New("jwt: token has none of the method's scopes"))
			}
			return r, nil
		}
	}
	r, err := v.verify(ctx, token)
	if err != nil {
		return nil, unauthorized(err)
	}
	if v.tokens != nil {
		exp := r.Expires.Add(v.cfg.Leeway)
		v.tokens.put(token, r, exp.UnixNano(), v.now().UnixNano())
	}
	if !r.HasScope(scopes) {
		return nil, unauthorized(errors.New("jwt: token has none of the method's scopes"))
	}
	return r, nil
}

// Prefetch fetches the issuer's keys now (discovery document, then JWKS),
// so that the first request does not wait for them. It is subject to
// RefreshInterval like any other fetch.
func (v *JWTVerifier) Prefetch(ctx context.Context) error {
	_, err := v.refresh(ctx, true)
	return err
}

// FlushCache forgets every verified token.
func (v *JWTVerifier) FlushCache() {
	if v.tokens != nil {
		v.tokens.flush()
	}
}

func stripBearer(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 7 && strings.EqualFold(s[:7], "bearer ") {
		s = strings.TrimSpace(s[7:])
	}
	return s
}

// verify does the full check of an uncached token: structure, RS256 only,
// kid in the JWKS, signature, then exp/nbf/iat, iss, token_use and
// audience. The claims are parsed only after the signature checks out.
func (v *JWTVerifier) verify(ctx context.Context, token string) (*JWTResult, error) {
	parts, err := splitJWS(token)
	if err != nil {
		return nil, fmt.Errorf("jwt: %w", err)
	}
	h, err := parseJWSHeader(parts.header)
	if err != nil {
		return nil, fmt.Errorf("jwt: %w", err)
	}
	if h.alg != "RS256" {
		return nil, fmt.Errorf("jwt: algorithm %q is not accepted (RS256 only)", h.alg)
	}
	if h.crit {
		return nil, errors.New("jwt: critical header extensions are not supported")
	}
	if h.kid == "" {
		return nil, errors.New("jwt: token header has no kid")
	}
	key, err := v.key(ctx, h.kid)
	if err != nil {
		return nil, fmt.Errorf("jwt: %w", err)
	}
	if err := verifyRS256(&parts, key); err != nil {
		return nil, fmt.Errorf("jwt: %w", err)
	}
	c, err := parseClaims(parts.payload)
	if err != nil {
		return nil, fmt.Errorf("jwt: %w", err)
	}
	if err := c.checkTimes(v.now(), v.cfg.Leeway); err != nil {
		return nil, fmt.Errorf("jwt: %w", err)
	}
	if c.iss != v.cfg.Issuer {
		return nil, fmt.Errorf("jwt: issuer %q is not %q", c.iss, v.cfg.Issuer)
	}
	if len(v.cfg.TokenUse) > 0 && !contains(v.cfg.TokenUse, c.tokenUse) {
		return nil, fmt.Errorf("jwt: token_use %q is not accepted", c.tokenUse)
	}
	if len(v.cfg.Audiences) > 0 && !v.audienceOK(c) {
		return nil, errors.New("jwt: the token does not have a valid audience")
	}
	sec := int64(c.exp)
	exp := time.Unix(sec, int64((c.exp-float64(sec))*1e9)).UTC()
	return &JWTResult{Claims: c.all, Scopes: c.scopes, Expires: exp}, nil
}

func (v *JWTVerifier) audienceOK(c *tokenClaims) bool {
	for _, a := range c.aud {
		if contains(v.cfg.Audiences, a) {
			return true
		}
	}
	return c.clientID != "" && contains(v.cfg.Audiences, c.clientID)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// key returns the public key for kid, fetching the JWKS when there is none
// yet, when it is older than JWKSTTL, or when kid is unknown (rate-limited).
func (v *JWTVerifier) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	ks := v.keys.Load()
	if ks != nil {
		if k, ok := ks.keys[kid]; ok {
			if v.now().Sub(ks.fetched) < v.cfg.JWKSTTL {
				return k, nil
			}
			// Stale: refresh unless someone else is, and fall back to the
			// stale key when the refresh fails.
			if nks, err := v.refresh(ctx, false); err == nil && nks != nil {
				if k2, ok := nks.keys[kid]; ok {
					return k2, nil
				}
				if nks != ks {
					return nil, fmt.Errorf("kid %q is no longer in the JWKS", kid)
				}
			}
			return k, nil
		}
	}
	nks, err := v.refresh(ctx, true)
	if err != nil {
		return nil, err
	}
	if nks != nil {
		if k, ok := nks.keys[kid]; ok {
			return k, nil
		}
	}
	return nil, fmt.Errorf("kid %q is not in the JWKS", kid)
}

// refresh fetches the key set unless a fetch started less than
// RefreshInterval ago (then it returns the current set and the last error).
// When a fetch is already running, wait says whether to wait for it or
// return the current set at once. No lock is held during the fetch, which
// runs with the caller's context values but not its cancellation, bounded by
// FetchTimeout per request.
func (v *JWTVerifier) refresh(ctx context.Context, wait bool) (*keySet, error) {
	v.mu.Lock()
	if ch := v.fetching; ch != nil {
		v.mu.Unlock()
		if !wait {
			return v.keys.Load(), nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
		v.mu.Lock()
		err := v.lastErr
		v.mu.Unlock()
		return v.keys.Load(), err
	}
	now := v.now()
	if !v.lastFetch.IsZero() && now.Sub(v.lastFetch) < v.cfg.RefreshInterval {
		err := v.lastErr
		v.mu.Unlock()
		ks := v.keys.Load()
		if ks == nil && err == nil {
			err = errors.New("no JWKS")
		}
		return ks, err
	}
	ch := make(chan struct{})
	v.fetching, v.lastFetch = ch, now
	jwksURL := v.jwksURL
	v.mu.Unlock()

	ks, discovered, err := v.fetch(context.WithoutCancel(ctx), jwksURL)

	v.mu.Lock()
	v.fetching, v.lastErr = nil, err
	if discovered != "" {
		v.jwksURL = discovered
	}
	if err == nil {
		v.keys.Store(ks)
	}
	v.mu.Unlock()
	close(ch)
	if err != nil {
		return v.keys.Load(), err
	}
	return ks, nil
}

// fetch gets the discovery document (when jwksURL is empty) and the JWKS.
func (v *JWTVerifier) fetch(ctx context.Context, jwksURL string) (ks *keySet, discovered string, err error) {
	if jwksURL == "" {
		body, err := v.get(ctx, v.cfg.DiscoveryURL)
		if err != nil {
			return nil, "", fmt.Errorf("discovery: %w", err)
		}
		var doc struct {
			JWKSURI string `json:"jwks_uri"`
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			return nil, "", fmt.Errorf("discovery %s: %w", v.cfg.DiscoveryURL, err)
		}
		if doc.JWKSURI == "" {
			return nil, "", fmt.Errorf("discovery %s: no jwks_uri", v.cfg.DiscoveryURL)
		}
		jwksURL, discovered = doc.JWKSURI, doc.JWKSURI
	}
	body, err := v.get(ctx, jwksURL)
	if err != nil {
		return nil, discovered, fmt.Errorf("jwks: %w", err)
	}
	keys, err := ParseJWKS(body)
	if err != nil {
		return nil, discovered, fmt.Errorf("jwks %s: %w", jwksURL, err)
	}
	return &keySet{keys: keys, fetched: v.now()}, discovered, nil
}

func (v *JWTVerifier) get(ctx context.Context, url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, v.cfg.FetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d", url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, v.cfg.MaxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if int64(len(body)) > v.cfg.MaxJWKSBytes {
		return nil, fmt.Errorf("GET %s: response exceeds %d bytes", url, v.cfg.MaxJWKSBytes)
	}
	return body, nil
}

// ParseJWKS returns the RSA signing keys of a JWK Set by kid. Keys that are
// not RSA, are marked for another use than "sig", name another algorithm
// than RS256, or have no kid are skipped; a malformed RSA key is an error.
func ParseJWKS(b []byte) (map[string]*rsa.PublicKey, error) {
	var set struct {
		Keys []struct {
			Kty string `json:"kty"`
			Kid string `json:"kid"`
			Use string `json:"use"`
			Alg string `json:"alg"`
			N   string `json:"n"`
			E   string `json:"e"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return nil, err
	}
	keys := make(map[string]*rsa.PublicKey, len(set.Keys))
	for _, k := range set.Keys {
		if k.Kty != "RSA" || k.Kid == "" || (k.Use != "" && k.Use != "sig") || (k.Alg != "" && k.Alg != "RS256") {
			continue
		}
		n, err := decodeB64URL(k.N)
		if err != nil || len(n) == 0 {
			return nil, fmt.Errorf("key %q: bad modulus", k.Kid)
		}
		e, err := decodeB64URL(k.E)
		if err != nil || len(e) == 0 || len(e) > 4 {
			return nil, fmt.Errorf("key %q: bad exponent", k.Kid)
		}
		exp := 0
		for _, c := range e {
			exp = exp<<8 | int(c)
		}
		if exp < 3 || exp%2 == 0 {
			return nil, fmt.Errorf("key %q: bad exponent %d", k.Kid, exp)
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}
		if pub.N.BitLen() < 1024 {
			return nil, fmt.Errorf("key %q: modulus of %d bits is too small", k.Kid, pub.N.BitLen())
		}
		keys[k.Kid] = pub
	}
	return keys, nil
}

func decodeB64URL(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}
