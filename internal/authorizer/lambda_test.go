package authorizer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
	"time"

	"gatehouse/internal/gatewayresponse"
	"gatehouse/internal/policy"
)

const fnARN = "arn:aws:lambda:us-east-1:111111111111:function:auth"

// fakeInvoker stands in for the function host. Its handler sees the event
// and answers like Lambda: (payload, functionError, err).
type fakeInvoker struct {
	handler func(event map[string]any) ([]byte, string, error)
	gate    chan struct{} // when set, Invoke waits for it (or ctx)
	entered chan struct{} // when set, Invoke signals here first

	mu     sync.Mutex
	calls  int
	events [][]byte
}

func (f *fakeInvoker) Invoke(ctx context.Context, arn string, payload []byte) ([]byte, string, error) {
	f.mu.Lock()
	f.calls++
	f.events = append(f.events, append([]byte(nil), payload...))
	f.mu.Unlock()
	if arn != fnARN {
		return nil, "", fmt.Errorf("unknown function %s", arn)
	}
	if f.entered != nil {
		select {
		case f.entered <- struct{}{}:
		default:
		}
	}
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return nil, "", ctx.Err()
		}
	}
	var ev map[string]any
	if err := json.Unmarshal(payload, &ev); err != nil {
		return nil, "", err
	}
	return f.handler(ev)
}

func (f *fakeInvoker) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func (f *fakeInvoker) LastEvent() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.events) == 0 {
		return ""
	}
	return string(f.events[len(f.events)-1])
}

// policyOutput is an authorizer response allowing or denying resource.
func policyOutput(principal, effect, resource string, ctx map[string]any) []byte {
	out := map[string]any{
		"principalId": principal,
		"policyDocument": map[string]any{
			"Version":   "2012-10-17",
			"Statement": []any{map[string]any{"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}},
		},
	}
	if ctx != nil {
		out["context"] = ctx
	}
	b, _ := json.Marshal(out)
	return b
}

// tokenHandler is the AWS sample TOKEN authorizer: allow, deny,
// unauthorized, or anything else is an error.
func tokenHandler(ev map[string]any) ([]byte, string, error) {
	arn, _ := ev["methodArn"].(string)
	switch ev["authorizationToken"] {
	case "allow":
		return policyOutput("user|a1b2c3d4", "Allow", arn, map[string]any{"stringKey": "value", "numberKey": 123, "booleanKey": true}), "", nil
	case "allow-all":
		return policyOutput("user|all", "Allow", "arn:aws:execute-api:us-east-1:111111111111:a1b2c3d4e5/prod/*", nil), "", nil
	case "allow-get-pets":
		return policyOutput("user|pets", "Allow", arnPrefix+"GET/pets", nil), "", nil
	case "deny":
		return policyOutput("user|a1b2c3d4", "Deny", arn, nil), "", nil
	case "unauthorized":
		return []byte(`{"errorMessage":"Unauthorized","errorType":"Error","stackTrace":[]}`), "Unhandled", nil
	case "lowercase":
		return []byte(`{"errorMessage":"unauthorized","errorType":"Error"}`), "Unhandled", nil
	case "garbage":
		return []byte(`not json at all`), "", nil
	case "object-context":
		return policyOutput("u", "Allow", arn, map[string]any{"nested": map[string]any{"a": 1}}), "", nil
	case "array-context":
		return policyOutput("u", "Allow", arn, map[string]any{"list": []any{1, 2}}), "", nil
	case "no-principal":
		return []byte(`{"policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"}]}}`), "", nil
	case "no-policy":
		return []byte(`{"principalId":"u"}`), "", nil
	case "bad-policy":
		return []byte(`{"principalId":"u","policyDocument":{"Statement":[{"Effect":"Perhaps","Action":"*","Resource":"*"}]}}`), "", nil
	case "invoke-error":
		return nil, "", errors.New("function not found")
	}
	return []byte(`{"errorMessage":"Error: Invalid token","errorType":"Error"}`), "Unhandled", nil
}

func intp(n int) *int { return &n }

func newTokenAuthorizer(t testing.TB, inv Invoker, clk *clock, mod func(*LambdaConfig)) *Lambda {
	t.Helper()
	cfg := LambdaConfig{Type: TypeToken, FunctionARN: fnARN, IdentitySource: "method.request.header.Authorization", Now: clk.Now}
	if mod != nil {
		mod(&cfg)
	}
	l, err := NewLambda(cfg, inv)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func tokenInput(token, methodPath string) *LambdaInput {
	r := httptest.NewRequest("GET", "https://"+apiHost+"/prod/pets", nil)
	if token != "\x00" {
		r.Header.Set("Authorization", token)
	}
	return &LambdaInput{HTTP: r, MethodARN: arnPrefix + methodPath, Resource: "/pets", Path: "/pets"}
}

func TestLambdaToken(t *testing.T) {
	tests := []struct {
		name      string
		token     string // "\x00" = no header
		validate  string
		wantCalls int
		wantDec   policy.Decision
		wantType  gatewayresponse.Type // "" = success
	}{
		{name: "allow", token: "allow", wantCalls: 1, wantDec: allow},
		{name: "deny", token: "deny", wantCalls: 1, wantDec: deny},
		{name: "policy for another method", token: "allow-get-pets", wantCalls: 1, wantDec: neither}, // request is GET/pets/1
		{name: "missing header", token: "\x00", wantCalls: 0, wantType: gatewayresponse.Unauthorized},
		{name: "empty header", token: "", wantCalls: 0, wantType: gatewayresponse.Unauthorized},
		{name: "validation expression mismatch", token: "allow", validate: "^Bearer [a-z]+$", wantCalls: 0, wantType: gatewayresponse.Unauthorized},
		{name: "validation expression must match the whole token", token: "allow", validate: "all", wantCalls: 0, wantType: gatewayresponse.Unauthorized},
		{name: "validation expression match", token: "allow", validate: "[a-z]+", wantCalls: 1, wantDec: allow},
		{name: "function throws Unauthorized", token: "unauthorized", wantCalls: 1, wantType: gatewayresponse.Unauthorized},
		{name: "function throws unauthorized lowercase", token: "lowercase", wantCalls: 1, wantType: gatewayresponse.AuthorizerConfigurationError},
		{name: "function throws other error", token: "boom", wantCalls: 1, wantType: gatewayresponse.AuthorizerConfigurationError},
		{name: "invoke fails", token: "invoke-error", wantCalls: 1, wantType: gatewayresponse.AuthorizerConfigurationError},
		{name: "garbage output", token: "garbage", wantCalls: 1, wantType: gatewayresponse.AuthorizerConfigurationError},
		{name: "object in context", token: "object-context", wantCalls: 1, wantType: gatewayresponse.AuthorizerConfigurationError},
		{name: "array in context", token: "array-context", wantCalls: 1, wantType: gatewayresponse.AuthorizerConfigurationError},
		{name: "no principalId", token: "no-principal", wantCalls: 1, wantType: gatewayresponse.AuthorizerConfigurationError},
		{name: "no policyDocument", token: "no-policy", wantCalls: 1, wantType: gatewayresponse.AuthorizerConfigurationError},
		{name: "invalid policyDocument", token: "bad-policy", wantCalls: 1, wantType: gatewayresponse.AuthorizerConfigurationError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv := &fakeInvoker{handler: tokenHandler}
			l := newTokenAuthorizer(t, inv, &clock{t: t0}, func(c *LambdaConfig) { c.IdentityValidationExpression = tt.validate })
			res, d, f := l.Authorize(context.Background(), tokenInput(tt.token, "GET/pets/1"))
			if got := inv.Calls(); got != tt.wantCalls {
				t.Errorf("function called %d times, want %d", got, tt.wantCalls)
			}
			if tt.wantType != "" {
				if f == nil {
					t.Fatalf("got success (%v), want %s", d, tt.wantType)
				}
				switch tt.wantType {
				case gatewayresponse.Unauthorized:
					checkFailure(t, f, tt.wantType, 401, "", "Unauthorized", false)
				case gatewayresponse.AuthorizerConfigurationError:
					if f.Type != tt.wantType || f.Status != 500 || f.Body != `{"message": null}` {
						t.Errorf("failure = %+v, want 500 {\"message\": null}", f)
					}
				}
				return
			}
			if f != nil {
				t.Fatalf("Authorize failed: %v", f)
			}
			if d != tt.wantDec {
				t.Errorf("decision = %v, want %v", d, tt.wantDec)
			}
			if res.PrincipalID == "" {
				t.Error("no principalId")
			}
		})
	}
}

func TestLambdaTokenEventAndContext(t *testing.T) {
	inv := &fakeInvoker{handler: tokenHandler}
	l := newTokenAuthorizer(t, inv, &clock{t: t0}, nil)
	in := tokenInput("allow", "GET/pets/1")
	res, d, f := l.Authorize(context.Background(), in)
	if f != nil || d != allow {
		t.Fatalf("Authorize = %v, %v", d, f)
	}
	want := `{"type":"TOKEN","authorizationToken":"allow","methodArn":"arn:aws:execute-api:us-east-1:111111111111:a1b2c3d4e5/prod/GET/pets/1"}`
	if got := inv.LastEvent(); got != want {
		t.Errorf("event:\n got %s\nwant %s", got, want)
	}
	wantCtx := map[string]string{"stringKey": "value", "numberKey": "123", "booleanKey": "true"}
	if !reflect.DeepEqual(res.Context, wantCtx) || res.PrincipalID != "user|a1b2c3d4" {
		t.Errorf("result = %q %v, want user|a1b2c3d4 %v", res.PrincipalID, res.Context, wantCtx)
	}
	if v := AuthorizerVerdict(d, neither); v != nil {
		t.Errorf("verdict = %v", v)
	}
}

func TestLambdaDenyVerdict(t *testing.T) {
	inv := &fakeInvoker{handler: tokenHandler}
	l := newTokenAuthorizer(t, inv, &clock{t: t0}, nil)
	_, d, f := l.Authorize(context.Background(), tokenInput("deny", "GET/pets"))
	if f != nil {
		t.Fatal(f)
	}
	v := AuthorizerVerdict(d, allow)
	if v == nil {
		t.Fatal("deny did not deny")
	}
	checkFailure(t, v, gatewayresponse.AccessDenied, 403, "", "User is not authorized to access this resource with an explicit deny", true)
}

// fakeContext is the data plane's side of a REQUEST authorizer.
type fakeContext struct {
	vars map[string]string
}

func (c *fakeContext) ContextVar(name string) (string, bool) {
	v, ok := c.vars[name]
	return v, ok
}

func (c *fakeContext) RequestContext() any {
	return map[string]any{"accountId": apiAcct, "apiId": "a1b2c3d4e5", "stage": "prod", "identity": map[string]any{"sourceIp": c.vars["identity.sourceIp"]}}
}

func requestInput(header, query string) *LambdaInput {
	target := "https://" + apiHost + "/prod/pets/7"
	if query != "" {
		target += "?" + query
	}
	r := httptest.NewRequest("GET", target, nil)
	if header != "" {
		r.Header.Set("HeaderAuth1", header)
	}
	r.Header.Add("X-Multi", "one")
	r.Header.Add("X-Multi", "two")
	return &LambdaInput{
		HTTP:           r,
		MethodARN:      arnPrefix + "GET/pets/7",
		Resource:       "/pets/{petId}",
		Path:           "/pets/7",
		PathParameters: map[string]string{"petId": "7"},
		StageVariables: map[string]string{"StageVar1": "stageValue1"},
		Context:        &fakeContext{vars: map[string]string{"identity.sourceIp": "10.0.0.1"}},
	}
}

func requestHandler(ev map[string]any) ([]byte, string, error) {
	arn, _ := ev["methodArn"].(string)
	h, _ := ev["headers"].(map[string]any)
	if h["Headerauth1"] == "headerValue1" {
		return policyOutput("user", "Allow", arn, nil), "", nil
	}
	return policyOutput("user", "Deny", arn, nil), "", nil
}

func TestLambdaRequest(t *testing.T) {
	sources := "method.request.header.HeaderAuth1, method.request.querystring.QueryString1, stageVariables.StageVar1, context.identity.sourceIp"
	newAuth := func(t *testing.T, inv Invoker, clk *clock) *Lambda {
		l, err := NewLambda(LambdaConfig{Type: TypeRequest, FunctionARN: fnARN, IdentitySource: sources, Now: clk.Now}, inv)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}

	t.Run("event", func(t *testing.T) {
		inv := &fakeInvoker{handler: requestHandler}
		l := newAuth(t, inv, &clock{t: t0})
		_, d, f := l.Authorize(context.Background(), requestInput("headerValue1", "QueryString1=queryValue1&QueryString1=queryValue2&b=%20x"))
		if f != nil || d != allow {
			t.Fatalf("Authorize = %v, %v", d, f)
		}
		var got map[string]any
		if err := json.Unmarshal([]byte(inv.LastEvent()), &got); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{
			"type":       "REQUEST",
			"methodArn":  arnPrefix + "GET/pets/7",
			"resource":   "/pets/{petId}",
			"path":       "/pets/7",
			"httpMethod": "GET",
			"headers": map[string]any{
				"Headerauth1": "headerValue1", "X-Multi": "two", "Host": apiHost,
			},
			"multiValueHeaders": map[string]any{
				"Headerauth1": []any{"headerValue1"}, "X-Multi": []any{"one", "two"}, "Host": []any{apiHost},
			},
			"queryStringParameters":           map[string]any{"QueryString1": "queryValue2", "b": " x"},
			"multiValueQueryStringParameters": map[string]any{"QueryString1": []any{"queryValue1", "queryValue2"}, "b": []any{" x"}},
			"pathParameters":                  map[string]any{"petId": "7"},
			"stageVariables":                  map[string]any{"StageVar1": "stageValue1"},
			"requestContext": map[string]any{"accountId": apiAcct, "apiId": "a1b2c3d4e5", "stage": "prod",
				"identity": map[string]any{"sourceIp": "10.0.0.1"}},
		}
		if !reflect.DeepEqual(got, want) {
			gb, _ := json.MarshalIndent(got, "", " ")
			wb, _ := json.MarshalIndent(want, "", " ")
			t.Errorf("event:\n got %s\nwant %s", gb, wb)
		}
	})

	missing := []struct {
		name string
		in   func() *LambdaInput
	}{
		{"header missing", func() *LambdaInput { return requestInput("", "QueryString1=q") }},
		{"query missing", func() *LambdaInput { return requestInput("h", "other=1") }},
		{"query empty", func() *LambdaInput { return requestInput("h", "QueryString1=") }},
		{"query key case differs", func() *LambdaInput { return requestInput("h", "querystring1=q") }},
		{"stage variable missing", func() *LambdaInput {
			in := requestInput("h", "QueryString1=q")
			in.StageVariables = nil
			return in
		}},
		{"context variable missing", func() *LambdaInput {
			in := requestInput("h", "QueryString1=q")
			in.Context = nil
			return in
		}},
	}
	for _, tt := range missing {
		t.Run(tt.name, func(t *testing.T) {
			inv := &fakeInvoker{handler: requestHandler}
			l := newAuth(t, inv, &clock{t: t0})
			_, _, f := l.Authorize(context.Background(), tt.in())
			if f == nil {
				t.Fatal("authorized with a missing identity source")
			}
			checkFailure(t, f, gatewayresponse.Unauthorized, 401, "", "Unauthorized", false)
			if inv.Calls() != 0 {
				t.Errorf("function called %d times", inv.Calls())
			}
		})
	}

	t.Run("header name is case-insensitive and the cache key uses every source", func(t *testing.T) {
		inv := &fakeInvoker{handler: requestHandler}
		l := newAuth(t, inv, &clock{t: t0})
		in := requestInput("", "QueryString1=q")
		in.HTTP.Header["Headerauth1"] = []string{"headerValue1"}
		for range 3 {
			if _, d, f := l.Authorize(context.Background(), in); f != nil || d != allow {
				t.Fatalf("Authorize = %v, %v", d, f)
			}
		}
		if inv.Calls() != 1 {
			t.Errorf("function called %d times for identical requests, want 1", inv.Calls())
		}
		in2 := requestInput("headerValue1", "QueryString1=other")
		if _, _, f := l.Authorize(context.Background(), in2); f != nil {
			t.Fatal(f)
		}
		if inv.Calls() != 2 {
			t.Errorf("function called %d times after a source changed, want 2", inv.Calls())
		}
	})
	t.Run("multi-value sources", func(t *testing.T) {
		inv := &fakeInvoker{handler: requestHandler}
		l, err := NewLambda(LambdaConfig{Type: TypeRequest, FunctionARN: fnARN,
			IdentitySource: "method.request.multivalueheader.X-Multi, method.request.multivaluequerystring.q"}, inv)
		if err != nil {
			t.Fatal(err)
		}
		in := requestInput("headerValue1", "q=1&q=2")
		if key, f := l.identity(in); f != nil || key != "7:one,two3:1,2" {
			t.Errorf("key = %q, %v", key, f)
		}
		if _, _, f := l.Authorize(context.Background(), requestInput("headerValue1", "z=1")); f == nil || f.Status != 401 {
			t.Errorf("missing multi-value query: %v", f)
		}
	})
	t.Run("no identity sources and no caching", func(t *testing.T) {
		inv := &fakeInvoker{handler: requestHandler}
		l, err := NewLambda(LambdaConfig{Type: TypeRequest, FunctionARN: fnARN, ResultTTLInSeconds: intp(0)}, inv)
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if _, _, f := l.Authorize(context.Background(), requestInput("headerValue1", "")); f != nil {
				t.Fatal(f)
			}
		}
		if inv.Calls() != 2 {
			t.Errorf("function called %d times, want 2", inv.Calls())
		}
	})
}

func TestLambdaCache(t *testing.T) {
	ctx := context.Background()
	t.Run("one call within the TTL, policy re-evaluated per method", func(t *testing.T) {
		inv := &fakeInvoker{handler: tokenHandler}
		clk := &clock{t: t0}
		l := newTokenAuthorizer(t, inv, clk, nil)
		if l.TTL() != 300*time.Second {
			t.Errorf("default TTL = %v", l.TTL())
		}
		for range 5 {
			if _, d, f := l.Authorize(ctx, tokenInput("allow-get-pets", "GET/pets")); f != nil || d != allow {
				t.Fatalf("GET /pets: %v %v", d, f)
			}
		}
		// Same token on another method: the cached policy names only GET
		// /pets, so this is an implicit deny, without calling the function.
		_, d, f := l.Authorize(ctx, tokenInput("allow-get-pets", "POST/pets"))
		if f != nil || d != neither {
			t.Fatalf("POST /pets: %v %v, want NotApplicable", d, f)
		}
		if v := AuthorizerVerdict(d, neither); v == nil || v.Message != "User is not authorized to access this resource" {
			t.Errorf("verdict = %v", v)
		}
		if inv.Calls() != 1 {
			t.Errorf("function called %d times, want 1", inv.Calls())
		}
		clk.Advance(299 * time.Second)
		l.Authorize(ctx, tokenInput("allow-get-pets", "GET/pets"))
		if inv.Calls() != 1 {
			t.Errorf("function called %d times before the TTL, want 1", inv.Calls())
		}
		clk.Advance(time.Second)
		l.Authorize(ctx, tokenInput("allow-get-pets", "GET/pets"))
		if inv.Calls() != 2 {
			t.Errorf("function called %d times after the TTL, want 2", inv.Calls())
		}
		l.FlushCache()
		l.Authorize(ctx, tokenInput("allow-get-pets", "GET/pets"))
		if inv.Calls() != 3 {
			t.Errorf("function called %d times after FlushCache, want 3", inv.Calls())
		}
	})
	t.Run("deny is cached", func(t *testing.T) {
		inv := &fakeInvoker{handler: tokenHandler}
		l := newTokenAuthorizer(t, inv, &clock{t: t0}, nil)
		for range 3 {
			if _, d, _ := l.Authorize(ctx, tokenInput("deny", "GET/pets")); d != deny {
				t.Fatalf("decision %v", d)
			}
		}
		if inv.Calls() != 1 {
			t.Errorf("function called %d times, want 1", inv.Calls())
		}
	})
	t.Run("failures are not cached", func(t *testing.T) {
		inv := &fakeInvoker{handler: tokenHandler}
		l := newTokenAuthorizer(t, inv, &clock{t: t0}, nil)
		for range 3 {
			if _, _, f := l.Authorize(ctx, tokenInput("unauthorized", "GET/pets")); f == nil {
				t.Fatal("no failure")
			}
			if _, _, f := l.Authorize(ctx, tokenInput("boom", "GET/pets")); f == nil {
				t.Fatal("no failure")
			}
		}
		if inv.Calls() != 6 {
			t.Errorf("function called %d times, want 6", inv.Calls())
		}
	})
	t.Run("TTL 0 disables caching", func(t *testing.T) {
		inv := &fakeInvoker{handler: tokenHandler}
		l := newTokenAuthorizer(t, inv, &clock{t: t0}, func(c *LambdaConfig) { c.ResultTTLInSeconds = intp(0) })
		for range 4 {
			l.Authorize(ctx, tokenInput("allow", "GET/pets"))
		}
		if inv.Calls() != 4 {
			t.Errorf("function called %d times, want 4", inv.Calls())
		}
	})
	t.Run("bounded size", func(t *testing.T) {
		inv := &fakeInvoker{handler: func(ev map[string]any) ([]byte, string, error) {
			return policyOutput("u", "Allow", "*", nil), "", nil
		}}
		l := newTokenAuthorizer(t, inv, &clock{t: t0}, func(c *LambdaConfig) { c.MaxCachedResults = 32 })
		for i := range 500 {
			l.Authorize(ctx, tokenInput(fmt.Sprintf("tok-%d", i), "GET/pets"))
		}
		if n := l.cache.len(); n > 32 {
			t.Errorf("cache holds %d entries, limit 32", n)
		}
	})
}

func TestLambdaSingleflight(t *testing.T) {
	gate := make(chan struct{})
	inv := &fakeInvoker{handler: tokenHandler, gate: gate, entered: make(chan struct{}, 1)}
	l := newTokenAuthorizer(t, inv, &clock{t: t0}, nil)
	const n = 50
	var wg sync.WaitGroup
	results := make(chan policy.Decision, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, d, f := l.Authorize(context.Background(), tokenInput("allow-all", "GET/pets"))
			if f != nil {
				t.Error(f)
			}
			results <- d
		}()
	}
	<-inv.entered
	close(gate)
	wg.Wait()
	close(results)
	for d := range results {
		if d != allow {
			t.Errorf("decision %v", d)
		}
	}
	if c := inv.Calls(); c != 1 {
		t.Errorf("function called %d times by %d concurrent identical requests, want 1", c, n)
	}
}

func TestLambdaWaiterCancel(t *testing.T) {
	gate := make(chan struct{})
	inv := &fakeInvoker{handler: tokenHandler, gate: gate, entered: make(chan struct{}, 1)}
	l := newTokenAuthorizer(t, inv, &clock{t: t0}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan *Failure)
	go func() {
		_, _, f := l.Authorize(ctx, tokenInput("allow", "GET/pets"))
		done <- f
	}()
	<-inv.entered
	cancel()
	if f := <-done; f == nil || f.Status != 500 || !errors.Is(f, context.Canceled) {
		t.Errorf("cancelled waiter got %v", f)
	}
	// The flight goes on for others and fills the cache.
	close(gate)
	_, d, f := l.Authorize(context.Background(), tokenInput("allow", "GET/pets"))
	if f != nil || d != allow {
		t.Fatalf("Authorize = %v %v", d, f)
	}
	if c := inv.Calls(); c != 1 {
		t.Errorf("function called %d times, want 1", c)
	}
}

func TestLambdaTimeout(t *testing.T) {
	gate := make(chan struct{}) // never closed: the function hangs
	inv := &fakeInvoker{handler: tokenHandler, gate: gate}
	l := newTokenAuthorizer(t, inv, &clock{t: t0}, func(c *LambdaConfig) { c.Timeout = 20 * time.Millisecond })
	_, _, f := l.Authorize(context.Background(), tokenInput("allow", "GET/pets"))
	if f == nil || f.Type != gatewayresponse.AuthorizerConfigurationError || !errors.Is(f, context.DeadlineExceeded) {
		t.Errorf("got %v, want a configuration error from the timeout", f)
	}
}

func TestNewLambdaErrors(t *testing.T) {
	inv := &fakeInvoker{handler: tokenHandler}
	tests := []struct {
		name string
		cfg  LambdaConfig
	}{
		{"bad type", LambdaConfig{Type: "COGNITO_USER_POOLS", FunctionARN: fnARN, IdentitySource: "method.request.header.A"}},
		{"no function", LambdaConfig{Type: TypeToken, IdentitySource: "method.request.header.A"}},
		{"token without source", LambdaConfig{Type: TypeToken, FunctionARN: fnARN}},
		{"token from query", LambdaConfig{Type: TypeToken, FunctionARN: fnARN, IdentitySource: "method.request.querystring.a"}},
		{"token with two sources", LambdaConfig{Type: TypeToken, FunctionARN: fnARN, IdentitySource: "method.request.header.A, method.request.header.B"}},
		{"request without source but cached", LambdaConfig{Type: TypeRequest, FunctionARN: fnARN}},
		{"path parameter source", LambdaConfig{Type: TypeRequest, FunctionARN: fnARN, IdentitySource: "method.request.path.id"}},
		{"unknown source", LambdaConfig{Type: TypeRequest, FunctionARN: fnARN, IdentitySource: "$request.header.A"}},
		{"empty name", LambdaConfig{Type: TypeRequest, FunctionARN: fnARN, IdentitySource: "method.request.header."}},
		{"empty list element", LambdaConfig{Type: TypeRequest, FunctionARN: fnARN, IdentitySource: "method.request.header.A,,"}},
		{"TTL too large", LambdaConfig{Type: TypeToken, FunctionARN: fnARN, IdentitySource: "method.request.header.A", ResultTTLInSeconds: intp(3601)}},
		{"TTL negative", LambdaConfig{Type: TypeToken, FunctionARN: fnARN, IdentitySource: "method.request.header.A", ResultTTLInSeconds: intp(-1)}},
		{"unsupported regex", LambdaConfig{Type: TypeToken, FunctionARN: fnARN, IdentitySource: "method.request.header.A", IdentityValidationExpression: "(?=x)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewLambda(tt.cfg, inv); err == nil {
				t.Error("NewLambda accepted the config")
			}
		})
	}
	if _, err := NewLambda(LambdaConfig{Type: TypeToken, FunctionARN: fnARN, IdentitySource: "method.request.header.A", ResultTTLInSeconds: intp(3600)}, inv); err != nil {
		t.Errorf("TTL 3600 rejected: %v", err)
	}
}

func TestParseLambdaOutput(t *testing.T) {
	const pd = `"policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"}]}`
	tests := []struct {
		name    string
		out     string
		want    *LambdaResult // Policy is not compared
		wantErr bool
	}{
		{"minimal", `{"principalId":"u",` + pd + `}`, &LambdaResult{PrincipalID: "u"}, false},
		{"context values", `{"principalId":"u",` + pd + `,"context":{"s":"x","n":1.50,"i":-3,"b":false,"z":null}}`,
			&LambdaResult{PrincipalID: "u", Context: map[string]string{"s": "x", "n": "1.50", "i": "-3", "b": "false"}}, false},
		{"usage identifier key", `{"principalId":"u",` + pd + `,"usageIdentifierKey":"k123"}`, &LambdaResult{PrincipalID: "u", UsageIdentifierKey: "k123"}, false},
		{"numeric principal", `{"principalId":42,` + pd + `}`, &LambdaResult{PrincipalID: "42"}, false},
		{"unknown keys ignored", `{"principalId":"u",` + pd + `,"extra":{"a":[1]}}`, &LambdaResult{PrincipalID: "u"}, false},
		{"null context", `{"principalId":"u",` + pd + `,"context":null}`, &LambdaResult{PrincipalID: "u"}, false},
		{"key names are case-sensitive", `{"PrincipalId":"u",` + pd + `}`, nil, true},
		{"object principal", `{"principalId":{},` + pd + `}`, nil, true},
		{"null principal", `{"principalId":null,` + pd + `}`, nil, true},
		{"context not an object", `{"principalId":"u",` + pd + `,"context":[1]}`, nil, true},
		{"usage key not a string", `{"principalId":"u",` + pd + `,"usageIdentifierKey":1}`, nil, true},
		{"policy as a string", `{"principalId":"u","policyDocument":"{}"}`, nil, true},
		{"array", `[1,2]`, nil, true},
		{"null", `null`, nil, true},
		{"empty", ``, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseLambdaOutput([]byte(tt.out))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if got.Policy == nil {
				t.Fatal("no policy")
			}
			got.Policy = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseAuthorizerURI(t *testing.T) {
	tests := []struct {
		name, uri, want string
		wantErr         bool
	}{
		{"function", "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/" + fnARN + "/invocations", fnARN, false},
		{"alias", "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/" + fnARN + ":live/invocations", fnARN + ":live", false},
		{"not lambda", "arn:aws:apigateway:us-east-1:s3:path/bucket", "", true},
		{"no function", "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions//invocations", "", true},
		{"function not an arn", "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/auth/invocations", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAuthorizerURI(tt.uri)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseAuthorizerURI = %q, %v; want %q, err %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestQueryLast(t *testing.T) {
	tests := []struct{ name, raw, key, want string }{
		{"simple", "a=1&b=2", "b", "2"},
		{"last wins", "a=1&a=2", "a", "2"},
		{"encoded value", "a=x%20y+z", "a", "x y z"},
		{"encoded key", "%61=1", "a", "1"},
		{"missing", "a=1", "b", ""},
		{"no value", "a", "a", ""},
		{"bad escape kept", "a=%zz", "a", "%zz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := queryLast(tt.raw, tt.key); got != tt.want {
				t.Errorf("queryLast(%q, %q) = %q, want %q", tt.raw, tt.key, got, tt.want)
			}
		})
	}
}

// Interface guard: the fake satisfies the consumer's interface.
var _ Invoker = (*fakeInvoker)(nil)
