package throttle

import (
	"context"
	"math"
	"testing"

	"gatehouse/internal/apimodel"
)

// FuzzCompile feeds arbitrary method keys, limits and quotas through Compile and Allow:
// nothing may panic, and Compile always returns usable Plans.
func FuzzCompile(f *testing.F) {
	f.Add("/pets/GET", "pets/GET", "/pets", "GET", 1.0, 1, 3, 0, "DAY")
	f.Add("//GET", "/GET", "/", "GET", 0.0, 0, 0, 0, "WEEK")
	f.Add("/*/*", "*/*", "/a/{b}", "ANY", -1.0, -1, -5, 9, "MONTH")
	f.Add("", "", "", "", 1e308, 1<<62, 1<<31, -1, "YEAR")
	f.Fuzz(func(t *testing.T, planKey, stageKey, path, method string, rate float64, burst, limit, offset int, period string) {
		in := fixture()
		in.Plans[0].Throttle = &apimodel.ThrottleSettings{RateLimit: rate, BurstLimit: burst}
		in.Plans[0].APIStages[0].Throttle = map[string]*apimodel.ThrottleSettings{planKey: {RateLimit: rate, BurstLimit: burst}}
		in.Plans[0].Quota = &apimodel.QuotaSettings{Limit: limit, Offset: offset, Period: period}
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

// FuzzParseCount: a stored usage counter never reads as negative, and what formatCount
// writes reads back unchanged.
func FuzzParseCount(f *testing.F) {
	for _, s := range []string{"17", "0", "-1", "1e3", "3.7", "null", `"5"`, "", "{}", "1e400", "NaN", " 4 "} {
		f.Add([]byte(s), int64(len(s)))
	}
	f.Fuzz(func(t *testing.T, b []byte, n int64) {
		if got := parseCount(b); got < 0 || got > math.MaxInt64/2 {
			t.Fatalf("parseCount(%q) = %d", b, got)
		}
		n = max(n, 0) % (1 << 53) // counts the control plane reads exactly (a float64)
		if got := parseCount(formatCount(n)); got != n {
			t.Fatalf("round trip of %d gave %d", n, got)
		}
	})
}
