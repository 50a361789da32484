package authorizer

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"

	"gatehouse/internal/gatewayresponse"
	"gatehouse/internal/policy"
)

// FuzzIdentitySource drives identity-source parsing, the validation
// expression and identity extraction with arbitrary configs and requests.
// Invariants: no panic; configuration errors only at NewLambda; a request
// either fails with 401 without calling the function, or calls it exactly
// once with a valid JSON event; a TOKEN that reached the function fully
// matches the validation expression.
func FuzzIdentitySource(f *testing.F) {
	f.Add(true, "method.request.header.Authorization", "", "allow", "", "")
	f.Add(true, "method.request.header.Authorization", "^Bearer [-0-9a-zA-Z._]+$", "Bearer abc.def", "", "")
	f.Add(true, "method.request.header.Authorization", "[a-z]+", "ALLOW", "", "")
	f.Add(true, "method.request.querystring.token", "", "x", "token=1", "")
	f.Add(true, "method.request.header.A, method.request.header.B", "", "x", "", "")
	f.Add(false, "method.request.header.HeaderAuth1, method.request.querystring.QueryString1, stageVariables.StageVar1, context.identity.sourceIp", "", "v", "QueryString1=q%20x&QueryString1=", "s")
	f.Add(false, "method.request.querystring.a,method.request.querystring.%61", "", "", "a=1&%61=2&a=%zz", "")
	f.Add(false, " , ", "", "", "", "")
	f.Add(false, "context.", "(", "", "", "")
	f.Add(true, "method.request.header.Authorization", "(?i)ALLOW|deny", "allow", "", "")
	f.Add(false, "method.request.multivalueheader.A, method.request.multivaluequerystring.a", "", "x", "a=1&a=%2C", "")
	f.Fuzz(func(t *testing.T, token bool, spec, validation, header, rawQuery, stageVar string) {
		typ := TypeRequest
		if token {
			typ = TypeToken
		}
		inv := &fakeInvoker{handler: func(ev map[string]any) ([]byte, string, error) {
			return policyOutput("u", "Allow", "*", nil), "", nil
		}}
		l, err := NewLambda(LambdaConfig{Type: typ, FunctionARN: fnARN, IdentitySource: spec,
			IdentityValidationExpression: validation, Now: func() time.Time { return t0 }}, inv)
		if err != nil {
			return
		}
		r := &http.Request{Method: "GET", Host: apiHost, Header: http.Header{}, URL: &url.URL{Path: "/prod/pets", RawQuery: rawQuery}}
		for _, src := range l.sources {
			if src.kind == sourceHeader || src.kind == sourceMultiHeader {
				r.Header[src.name] = []string{header, header}
			}
		}
		in := &LambdaInput{HTTP: r, MethodARN: arnPrefix + "GET/pets", Resource: "/pets", Path: "/pets",
			StageVariables: map[string]string{}, Context: &fakeContext{vars: map[string]string{}}}
		for _, src := range l.sources {
			switch src.kind {
			case sourceStageVar:
				in.StageVariables[src.name] = stageVar
			case sourceContext:
				in.Context.(*fakeContext).vars[src.name] = stageVar
			}
		}
		_, d, fail := l.Authorize(context.Background(), in)
		calls := inv.Calls()
		if fail != nil {
			if fail.Type != gatewayresponse.Unauthorized || calls != 0 {
				t.Fatalf("failure %v after %d calls", fail, calls)
			}
			return
		}
		if d != policy.Allow || calls != 1 {
			t.Fatalf("decision %v after %d calls", d, calls)
		}
		if !json.Valid([]byte(inv.LastEvent())) {
			t.Fatalf("event is not JSON: %s", inv.LastEvent())
		}
		if token && validation != "" {
			re, err := compileValidation(validation)
			if err != nil || !re.MatchString(header) {
				t.Fatalf("token %q reached the function without matching %q", header, validation)
			}
		}
	})
}

// FuzzParseLambdaOutput checks the authorizer-output parser: no panic; an
// accepted output has a policy and only scalar context values, and
// encoding/json agrees that it is a JSON object.
func FuzzParseLambdaOutput(f *testing.F) {
	f.Add([]byte(`{"principalId":"u","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"}]},"context":{"a":1,"b":"x","c":true},"usageIdentifierKey":"k"}`))
	f.Add([]byte(`{"principalId":"u","policyDocument":{"Version":"2012-10-17","Statement":{"Action":"*","Effect":"Deny","Resource":"arn:aws:execute-api:*:*:*/*/GET/*"}}}`))
	f.Add([]byte(`{"principalId":1e400,"policyDocument":{}}`))
	f.Add([]byte(`{"principalId":"u","policyDocument":{"Statement":[]},"context":{"o":{}}}`))
	f.Add([]byte(`{"errorMessage":"Unauthorized"}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`"Unauthorized"`))
	f.Add([]byte(`{"principalId":"u","policyDocument":{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseLambdaOutput(b)
		if err != nil {
			return
		}
		if r.Policy == nil {
			t.Fatal("accepted output without a policy")
		}
		var top map[string]any
		if json.Unmarshal(b, &top) != nil || top == nil {
			t.Fatalf("accepted %q, which encoding/json does not read as an object", b)
		}
		req := policy.Request{Principal: policy.Principal{Anonymous: true}, Action: ActionInvoke, Resource: arnPrefix + "GET/pets"}
		_ = r.Policy.Evaluate(&req)
	})
}

// FuzzJWTVerify feeds arbitrary tokens to a verifier holding a real key
// (no network): no panic, every rejection is a 401, and an accepted token
// is signed by the key with the right issuer.
func FuzzJWTVerify(f *testing.F) {
	keys := testKeys()
	const iss = "https://issuer.example.com/pool"
	good := mint(f, keys[0], "k1", idClaims(iss, t0))
	f.Add(good)
	f.Add("Bearer " + good)
	f.Add(mint(f, keys[0], "k1", with(idClaims(iss, t0), "exp", t0.Add(-time.Hour).Unix())))
	f.Add(mint(f, keys[1], "k1", idClaims(iss, t0)))
	f.Add(mint(f, keys[0], "nope", idClaims(iss, t0)))
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, idClaims(iss, t0))
	hs.Header["kid"] = "k1"
	hsTok, _ := hs.SignedString([]byte("secret"))
	f.Add(hsTok)
	none := jwt.NewWithClaims(jwt.SigningMethodNone, idClaims(iss, t0))
	noneTok, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	f.Add(noneTok)
	f.Add("eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.e30.AAAA")
	f.Add("a.b.c")
	f.Add("...")
	f.Add(tamper(good))

	clk := &clock{t: t0}
	v, err := NewJWTVerifier(JWTConfig{Issuer: iss, Audiences: []string{"client-abc"}, TokenUse: []string{"id", "access"},
		JWKSURL: "http://127.0.0.1:1/unreachable", Now: clk.Now, MaxCachedTokens: -1})
	if err != nil {
		f.Fatal(err)
	}
	v.keys.Store(&keySet{keys: map[string]*rsa.PublicKey{"k1": &keys[0].PublicKey}, fetched: t0})
	v.lastFetch = t0 // rate-limits refetches: the fuzzer never reaches the network

	f.Fuzz(func(t *testing.T, tok string) {
		res, fail := v.Verify(context.Background(), tok, nil)
		if fail != nil {
			if fail.Status != 401 || fail.Type != gatewayresponse.Unauthorized {
				t.Fatalf("failure %+v", fail)
			}
			return
		}
		if res.Claims["iss"] != iss {
			t.Fatalf("accepted a token from %q", res.Claims["iss"])
		}
		parts, err := splitJWS(stripBearer(tok))
		if err != nil || verifyRS256(&parts, &keys[0].PublicKey) != nil {
			t.Fatalf("accepted a token not signed by the key: %q", tok)
		}
	})
}

// FuzzJWTClaims checks the claims scanner against encoding/json: it accepts
// an object exactly when encoding/json does (nesting within the depth
// limit), and string claims decode to the same text.
func FuzzJWTClaims(f *testing.F) {
	f.Add([]byte(`{"sub":"a","exp":1700000000,"aud":["x","y"],"email_verified":true,"n":null,"o":{"a":[1,{"b":2}]}}`))
	f.Add([]byte(`{"s":"\u00e9\ud83d\ude00\n\"\\\/","t":"\ud800","e":-0.5e+10}`))
	f.Add([]byte(` { } `))
	f.Add([]byte(`{"a":01}`))
	f.Add([]byte(`{"a":"x",}`))
	f.Add([]byte(`{"a":"\x"}`))
	f.Add([]byte("{\"a\":\"\xff\"}"))
	f.Add([]byte(`{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`))
	f.Add([]byte(`{"a":1,"a":"two"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		got := map[string]jsonValue{}
		err := scanObject(b, func(name string, v jsonValue) error {
			got[name] = v
			return nil
		})
		var want map[string]any
		jerr := json.Unmarshal(b, &want)
		isObject := jerr == nil && want != nil
		if err == nil && !isObject {
			t.Fatalf("scanner accepted %q; encoding/json: %v", b, jerr)
		}
		if err != nil {
			if isObject && !strings.Contains(err.Error(), "nested") {
				t.Fatalf("scanner rejected %q (%v), encoding/json accepts it", b, err)
			}
			return
		}
		for k, v := range got {
			if v.kind != '"' {
				continue
			}
			w, ok := want[k].(string)
			if !ok {
				t.Fatalf("claim %q: encoding/json has %T", k, want[k])
			}
			if w != v.str {
				t.Fatalf("claim %q: scanner %q, encoding/json %q", k, v.str, w)
			}
			if !utf8.ValidString(v.str) {
				t.Fatalf("claim %q is not valid UTF-8", k)
			}
		}
	})
}
