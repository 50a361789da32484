package throttle

import (
	"context"
	"testing"

	"gatehouse/internal/apimodel"
)

// benchLimiter is the full path: a key-required method with a plan throttle, a
// per-method plan override elsewhere, stage method settings and a daily quota too large
// to run out.
func benchLimiter(b testing.TB) *Limiter {
	in := fixture()
	in.Plans[0].Throttle = &apimodel.ThrottleSettings{RateLimit: 1e9, BurstLimit: 1 << 30}
	in.Plans[0].APIStages[0].Throttle = map[string]*apimodel.ThrottleSettings{"/toys/POST": {RateLimit: 1, BurstLimit: 1}}
	in.Plans[0].Quota = &apimodel.QuotaSettings{Limit: 1 << 30, Period: apimodel.QuotaDay}
	in.Stages[0].MethodSettings = map[string]*apimodel.MethodSetting{"*/*": {ThrottlingRateLimit: 1e9, ThrottlingBurstLimit: 1 << 30}}
	return newLimiter(b, newClock(t0), in, Options{Account: Limit{Rate: 1e9, Burst: 1 << 30}})
}

func BenchmarkAllow(b *testing.B) {
	ctx := context.Background()
	cases := []struct {
		name string
		c    Check
	}{
		{"no key", check("/pets/{id}", "GET", "")},
		{"key+plan+stage+account+quota", check("/pets/{id}", "GET", keyValue)},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			l := benchLimiter(b)
			b.ReportAllocs()
			for b.Loop() {
				if o, _ := l.Allow(ctx, tc.c); o.Result != Allowed {
					b.Fatal(o.Result)
				}
			}
		})
	}
}

// BenchmarkAllowParallel is many goroutines on one key (the contended case: every call
// CASes the same plan, stage and account words).
func BenchmarkAllowParallel(b *testing.B) {
	ctx := context.Background()
	l := benchLimiter(b)
	c := check("/pets/{id}", "GET", keyValue)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if o, _ := l.Allow(ctx, c); o.Result != Allowed {
				b.Error(o.Result)
				return
			}
		}
	})
}

func TestAllowDoesNotAllocate(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts are checked in full runs")
	}
	l := benchLimiter(t)
	ctx := context.Background()
	for _, c := range []Check{check("/pets/{id}", "GET", ""), check("/pets/{id}", "GET", keyValue), check("/nope", "GET", "bad-key-bad-key-bad-key")} {
		l.Allow(ctx, c) // create the method's bucket
		if n := testing.AllocsPerRun(100, func() { l.Allow(ctx, c) }); n != 0 {
			t.Errorf("%+v: %v allocations per Allow", c, n)
		}
	}
}
