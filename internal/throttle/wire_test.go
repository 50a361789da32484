package throttle

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"gatehouse/internal/apimodel"
)

func TestValidateKeyValue(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  error
	}{
		{"19 chars", strings.Repeat("a", 19), ErrKeyValueTooShort},
		{"20 chars", strings.Repeat("a", 20), nil},
		{"128 chars", strings.Repeat("a", 128), nil},
		{"129 chars", strings.Repeat("a", 129), ErrKeyValueTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := ValidateKeyValue(tt.value); !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	if ErrKeyValueTooShort.Error() != "API Key value should be at least 20 characters" ||
		ErrKeyValueTooLong.Error() != "API Key value exceeds maximum size of 128 characters" {
		t.Error("messages differ from AWS's")
	}
}

func TestNewKeyValue(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		v := NewKeyValue()
		if len(v) != 40 || ValidateKeyValue(v) != nil {
			t.Fatalf("bad value %q", v)
		}
		for _, c := range v {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
				t.Fatalf("value %q has %q", v, c)
			}
		}
		if seen[v] {
			t.Fatalf("repeated value %q", v)
		}
		seen[v] = true
	}
}

func TestKeyFromRequest(t *testing.T) {
	h := http.Header{}
	h.Set("x-api-KEY", "from-header") // any case, canonicalized as net/http does
	tests := []struct {
		name, source, authorizer, want string
		header                         http.Header
	}{
		{"header source", KeySourceHeader, "from-authorizer", "from-header", h},
		{"default source is the header", "", "", "from-header", h},
		{"authorizer source ignores the header", KeySourceAuthorizer, "from-authorizer", "from-authorizer", h},
		{"no header", KeySourceHeader, "", "", http.Header{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := KeyFromRequest(tt.source, tt.header, tt.authorizer); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestWireNames pins the JSON member names to AWS's.
func TestWireNames(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"usage plan", UsagePlan{ID: "p", Name: "n", APIStages: []APIStage{{APIID: "a", Stage: "s", Throttle: map[string]ThrottleSettings{"/x/GET": {BurstLimit: 1, RateLimit: 2}}}},
			Throttle: &ThrottleSettings{BurstLimit: 3, RateLimit: 4.5}, Quota: &QuotaSettings{Limit: 5, Offset: 1, Period: "DAY"}},
			`{"id":"p","name":"n","apiStages":[{"apiId":"a","stage":"s","throttle":{"/x/GET":{"burstLimit":1,"rateLimit":2}}}],"throttle":{"burstLimit":3,"rateLimit":4.5},"quota":{"limit":5,"offset":1,"period":"DAY"}}`},
		{"usage plan key", UsagePlanKey{ID: "k", Type: KeyTypeAPIKey, Value: "v", Name: "n"}, `{"id":"k","type":"API_KEY","value":"v","name":"n"}`},
		{"usage", Usage{UsagePlanID: "p", StartDate: "2024-01-01", EndDate: "2024-01-01", Items: map[string][][2]int64{"k": {{1, 2}}}},
			`{"usagePlanId":"p","startDate":"2024-01-01","endDate":"2024-01-01","values":{"k":[[1,2]]}}`},
		{"api key", APIKey{ID: "k", Value: "v", Enabled: true, StageKeys: []string{}}, `{"id":"k","value":"v","enabled":true,"createdDate":null,"lastUpdatedDate":null,"stageKeys":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Fatalf("got  %s\nwant %s", b, tt.want)
			}
		})
	}
}

// FuzzCompile feeds arbitrary method keys, limits and quotas through Compile and Allow:
// nothing may panic, and Compile always returns usable Plans.
func FuzzCompile(f *testing.F) {
	f.Add("/pets/GET", "pets/GET", "/pets", "GET", 1.0, 1, 3, 0, "DAY")
	f.Add("//GET", "/GET", "/", "GET", 0.0, 0, 0, 0, "WEEK")
	f.Add("*/*", "*/*", "/a/{b}", "ANY", -1.0, -1, -5, 9, "MONTH")
	f.Add("", "", "", "", 1e308, 1<<62, 1<<31, -1, "YEAR")
	f.Fuzz(func(t *testing.T, planKey, stageKey, path, method string, rate float64, burst, limit, offset int, period string) {
		in := fixture()
		in.Plans[0].Throttle = &ThrottleSettings{RateLimit: rate, BurstLimit: burst}
		in.Plans[0].APIStages[0].Throttle = map[string]ThrottleSettings{planKey: {RateLimit: rate, BurstLimit: burst}}
		in.Plans[0].Quota = &QuotaSettings{Limit: limit, Offset: offset, Period: period}
		in.Stages[0].MethodSettings = map[string]*apimodel.MethodSetting{stageKey: {ThrottlingRateLimit: rate, ThrottlingBurstLimit: burst}}
		p, _ := Compile(in)
		if p == nil {
			t.Fatal("nil Plans")
		}
		clk := newClock(t0)
		l := New(Options{Now: clk.Now})
		defer l.Close(context.Background())
		if err := l.SetPlans(context.Background(), p); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := l.Allow(context.Background(), check(path, method, keyValue)); err != nil {
				t.Fatal(err)
			}
			if _, err := l.Allow(context.Background(), check(path, method, "")); err != nil {
				t.Fatal(err)
			}
		}
	})
}
