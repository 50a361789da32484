package throttle

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/internal/apimodel"
)

// TestConcurrentAllow hammers one key from many goroutines at a frozen instant: the
// bucket must admit exactly its burst and the quota exactly its limit, whatever the
// interleaving. Run with -race.
func TestConcurrentAllow(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Inputs)
		want   int64
	}{
		{"plan burst", func(in *Inputs) { in.Plans[0].Throttle = &apimodel.ThrottleSettings{RateLimit: 1, BurstLimit: 100} }, 100},
		{"stage burst", func(in *Inputs) {
			in.Stages[0].MethodSettings = map[string]*apimodel.MethodSetting{"*/*": {ThrottlingRateLimit: 1, ThrottlingBurstLimit: 77}}
		}, 77},
		{"quota", func(in *Inputs) { in.Plans[0].Quota = &apimodel.QuotaSettings{Limit: 500, Period: apimodel.QuotaDay} }, 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := fixture()
			tt.mutate(&in)
			l := newLimiter(t, newClock(t0), in, Options{})
			const workers, each = 32, 100
			var admitted atomic.Int64
			var wg sync.WaitGroup
			start := make(chan struct{})
			for range workers {
				wg.Go(func() {
					<-start
					for range each {
						o, err := l.Allow(context.Background(), check("/pets", "GET", keyValue))
						if err != nil {
							t.Error(err)
							return
						}
						if o.Result == Allowed {
							admitted.Add(1)
						}
					}
				})
			}
			close(start)
			wg.Wait()
			if got := admitted.Load(); got != tt.want {
				t.Fatalf("admitted %d of %d, want %d", got, workers*each, tt.want)
			}
		})
	}
}

// TestConcurrentEverything runs Allow on many goroutines while the clock moves across
// day boundaries, plans are swapped and counters are written back, to give the race
// detector every path at once. It checks only that the quota is never exceeded per day.
func TestConcurrentEverything(t *testing.T) {
	st := openStore(t, t.TempDir())
	t.Cleanup(func() { st.Close() })
	in := fixture()
	in.Plans[0].Quota = &apimodel.QuotaSettings{Limit: 50, Period: apimodel.QuotaDay}
	in.Plans[0].Throttle = &apimodel.ThrottleSettings{RateLimit: 1e6, BurstLimit: 1000}
	in.Stages[0].MethodSettings = map[string]*apimodel.MethodSetting{"*/*": {ThrottlingRateLimit: 1e6, ThrottlingBurstLimit: 1000}}
	clk := newClock(time.Date(2024, 5, 15, 23, 59, 59, 0, time.UTC))
	l := newLimiter(t, clk, in, Options{Store: st, FlushEvery: 7})
	ctx := testCtx(t)

	var wg sync.WaitGroup
	stop := make(chan struct{})
	var admitted atomic.Int64
	for i := range 16 {
		wg.Go(func() {
			paths := []string{"/pets", "/toys", "/", "/pets/{id}"}
			for j := 0; ; j++ {
				select {
				case <-stop:
					return
				default:
				}
				o, err := l.Allow(ctx, check(paths[(i+j)%len(paths)], "GET", keyValue))
				if err != nil {
					t.Error(err)
					return
				}
				if o.Result == Allowed {
					admitted.Add(1)
				}
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			p, _ := Compile(in)
			if err := l.SetPlans(ctx, p); err != nil {
				t.Error(err)
			}
			if err := l.Flush(ctx); err != nil {
				t.Error(err)
			}
		}
	})
	// Use up the first day's quota, cross midnight while the workers run, then use up
	// the second day's.
	waitFor := func(n int64) {
		for admitted.Load() < n && ctx.Err() == nil {
			runtime.Gosched()
		}
	}
	waitFor(50)
	for range 200 {
		clk.Advance(10 * time.Millisecond)
	}
	waitFor(100)
	close(stop)
	wg.Wait()
	if got := admitted.Load(); got > 100 {
		t.Fatalf("admitted %d over two days with a daily quota of 50", got)
	}
	if err := l.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var sum int64
	for _, d := range []time.Time{day(15), day(16)} {
		n := storedCount(t, st, d)
		if n > 50 {
			t.Errorf("%s used %d of a quota of 50", d.Format(apimodel.UsageDayLayout), n)
		}
		sum += n
	}
	if sum != admitted.Load() {
		t.Errorf("stored %d requests, admitted %d", sum, admitted.Load())
	}
}
