package throttle

import (
	"context"
	"testing"
	"time"

	"gatehouse/internal/apimodel"
)

// TestQuotaSurvivesRestart is aws-reference §12 item 15 across a restart: a quota of N
// refuses request N+1, and still does after the limiter and the store are closed and
// reopened on the same data directory.
func TestQuotaSurvivesRestart(t *testing.T) {
	const n = 3
	dir := t.TempDir()
	in := fixture()
	in.Plans[0].Quota = &apimodel.QuotaSettings{Limit: n, Period: apimodel.QuotaDay}
	clk := newClock(t0)
	c := check("/pets", "GET", keyValue)

	run := func(t *testing.T, sends int, want []Result) {
		t.Helper()
		st := openStore(t, dir)
		l := New(Options{Store: st, Now: clk.Now})
		t.Cleanup(func() { _ = l.Close(context.Background()); _ = st.Close() })
		p, err := Compile(in)
		if err != nil {
			t.Fatal(err)
		}
		if err := l.SetPlans(testCtx(t), p); err != nil {
			t.Fatal(err)
		}
		for i := range sends {
			o := allow(t, l, c)
			if o.Result != want[i] {
				t.Fatalf("request %d: %v, want %v", i+1, o.Result, want[i])
			}
		}
		if err := l.Close(testCtx(t)); err != nil {
			t.Fatalf("limiter Close: %v", err)
		}
		if err := st.Close(); err != nil {
			t.Fatalf("store Close: %v", err)
		}
	}
	t.Run("first process uses 2 of 3", func(t *testing.T) { run(t, 2, []Result{Allowed, Allowed}) })
	t.Run("second process gets 1 more", func(t *testing.T) { run(t, 2, []Result{Allowed, QuotaExceeded}) })
	t.Run("third process is still refused", func(t *testing.T) { run(t, 1, []Result{QuotaExceeded}) })
	clk.Set(t0.Add(24 * time.Hour))
	t.Run("next day starts afresh", func(t *testing.T) { run(t, 4, []Result{Allowed, Allowed, Allowed, QuotaExceeded}) })

	t.Run("the store holds one counter per day in apimodel's format", func(t *testing.T) {
		st := openStore(t, dir)
		defer st.Close()
		entries, err := st.List(testCtx(t), apimodel.BucketUsage, "")
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, e := range entries {
			got[e.Key] = string(e.Value)
		}
		want := map[string]string{
			"plan000001.key0000001.2024-05-15": "3",
			"plan000001.key0000001.2024-05-16": "3",
		}
		if len(got) != len(want) || got["plan000001.key0000001.2024-05-15"] != "3" || got["plan000001.key0000001.2024-05-16"] != "3" {
			t.Fatalf("usage bucket = %q, want %q", got, want)
		}
	})
}

// TestQuotaSharedAcrossNodes: two limiters on one store enforce one quota; each sees the
// other's counts after a write-back.
func TestQuotaSharedAcrossNodes(t *testing.T) {
	st := openStore(t, t.TempDir())
	t.Cleanup(func() { st.Close() })
	in := fixture()
	in.Plans[0].Quota = &apimodel.QuotaSettings{Limit: 5, Period: apimodel.QuotaMonth}
	clk := newClock(t0)
	a := newLimiter(t, clk, in, Options{Store: st})
	c := check("/pets", "GET", keyValue)
	if n := countAllowed(t, a, c, 3); n != 3 {
		t.Fatalf("node a admitted %d", n)
	}
	if err := a.Flush(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	b := newLimiter(t, clk, in, Options{Store: st}) // loads 3
	if n := countAllowed(t, b, c, 1); n != 1 {
		t.Fatalf("node b admitted %d", n)
	}
	if err := b.Flush(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	// a learns b's request at its next write-back.
	if n := countAllowed(t, a, c, 1); n != 1 {
		t.Fatalf("node a admitted %d", n)
	}
	if err := a.Flush(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	if n := countAllowed(t, a, c, 2); n != 0 {
		t.Fatalf("node a admitted %d after the quota of 5 was used (3+1+1)", n)
	}
	if got := storedCount(t, st, day(15)); got != 5 {
		t.Fatalf("stored count = %d, want 5", got)
	}
}

// TestQuotaSumsEarlierDays: a WEEK quota is the sum of the daily counters since Sunday,
// read at load and again after midnight, when another node's late write for the day
// before is picked up.
func TestQuotaSumsEarlierDays(t *testing.T) {
	st := openStore(t, t.TempDir())
	t.Cleanup(func() { st.Close() })
	ctx := testCtx(t)
	seed := func(d time.Time, n int64) {
		t.Helper()
		if _, err := st.Modify(ctx, apimodel.BucketUsage, apimodel.UsageKey(planID, keyID, d), func(cur []byte) ([]byte, error) {
			return formatCount(parseCount(cur) + n), nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	seed(day(11), 100) // Saturday: the week before
	seed(day(12), 1)   // Sunday: this week
	in := fixture()
	in.Plans[0].Quota = &apimodel.QuotaSettings{Limit: 6, Period: apimodel.QuotaWeek}
	clk := newClock(day(13).Add(10 * time.Hour)) // Monday
	l := newLimiter(t, clk, in, Options{Store: st, FlushInterval: time.Hour})
	c := check("/pets", "GET", keyValue)
	if n := countAllowed(t, l, c, 2); n != 2 {
		t.Fatalf("Monday: admitted %d", n)
	}
	if err := l.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// Just after midnight another node writes one more Monday request.
	clk.Set(day(14).Add(30 * time.Second))
	seed(day(13), 1)
	if n := countAllowed(t, l, c, 1); n != 1 {
		t.Fatalf("Tuesday: admitted %d", n)
	}
	if err := l.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	// Sunday 1 + Monday 3 + Tuesday 1 = 5 of 6.
	if n := countAllowed(t, l, c, 3); n != 1 {
		t.Fatalf("Tuesday after the write-back: admitted %d, want 1", n)
	}
}

// TestSetRemaining is UpdateUsage: the remaining quota is replaced, persistently, by
// rewriting the period's daily counters.
func TestSetRemaining(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	in := fixture()
	in.Plans[0].Quota = &apimodel.QuotaSettings{Limit: 10, Period: apimodel.QuotaWeek}
	clk := newClock(t0) // Wednesday
	l := newLimiter(t, clk, in, Options{Store: st})
	c := check("/pets", "GET", keyValue)
	if n := countAllowed(t, l, c, 4); n != 4 {
		t.Fatalf("admitted %d", n)
	}
	if err := l.SetRemaining(testCtx(t), planID, keyID, 2); err != nil {
		t.Fatal(err)
	}
	if got := storedCount(t, st, day(15)); got != 8 {
		t.Fatalf("stored count after remaining=2: %d, want 8", got)
	}
	if n := countAllowed(t, l, c, 5); n != 2 {
		t.Fatalf("admitted %d after remaining=2", n)
	}
	if err := l.SetRemaining(testCtx(t), planID, keyID, 7); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	st.Close()

	// After a restart the adjustment holds.
	st = openStore(t, dir)
	t.Cleanup(func() { st.Close() })
	l = newLimiter(t, clk, in, Options{Store: st})
	if n := countAllowed(t, l, c, 9); n != 7 {
		t.Fatalf("admitted %d after restart with remaining=7", n)
	}
	if err := l.SetRemaining(testCtx(t), planID, "nokey", 1); err == nil {
		t.Fatal("SetRemaining for a key without a counter succeeded")
	}

	tests := []struct {
		name      string
		remaining int64
		// stored Wednesday and Thursday counters afterwards, and requests then admitted
		wed, thu int64
		admitted int
	}{
		// Wednesday holds 10: more than limit-4, so it is lowered and Thursday is 0.
		{"earlier day lowered", 4, 6, 0, 4},
		// Wednesday 6 + Thursday 4 = 10; remaining above the limit counts as the limit.
		{"remaining above the limit", 20, 0, 0, 10},
		{"negative remaining counts as 0", -3, 0, 10, 0},
	}
	clk.Set(day(16).Add(time.Hour)) // Thursday
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := l.SetRemaining(testCtx(t), planID, keyID, tt.remaining); err != nil {
				t.Fatal(err)
			}
			if wed, thu := storedCount(t, st, day(15)), storedCount(t, st, day(16)); wed != tt.wed || thu != tt.thu {
				t.Fatalf("stored Wednesday %d, Thursday %d; want %d, %d", wed, thu, tt.wed, tt.thu)
			}
			if n := countAllowed(t, l, c, 12); n != tt.admitted {
				t.Fatalf("admitted %d, want %d", n, tt.admitted)
			}
			if err := l.Flush(testCtx(t)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestSetRemainingInMemory: without a store SetRemaining replaces the in-memory count.
func TestSetRemainingInMemory(t *testing.T) {
	in := fixture()
	in.Plans[0].Quota = &apimodel.QuotaSettings{Limit: 10, Period: apimodel.QuotaDay}
	l := newLimiter(t, newClock(t0), in, Options{})
	c := check("/pets", "GET", keyValue)
	countAllowed(t, l, c, 4)
	if err := l.SetRemaining(context.Background(), planID, keyID, 1); err != nil {
		t.Fatal(err)
	}
	if n := countAllowed(t, l, c, 3); n != 1 {
		t.Fatalf("admitted %d after remaining=1", n)
	}
}

// TestWriterFlushesEarly: FlushEvery wakes the writer without waiting for the interval.
func TestWriterFlushesEarly(t *testing.T) {
	st := openStore(t, t.TempDir())
	t.Cleanup(func() { st.Close() })
	in := fixture()
	in.Plans[0].Quota = &apimodel.QuotaSettings{Limit: 100, Period: apimodel.QuotaDay}
	clk := newClock(t0)
	l := newLimiter(t, clk, in, Options{Store: st, FlushInterval: time.Hour, FlushEvery: 5})
	c := check("/pets", "GET", keyValue)
	countAllowed(t, l, c, 5)
	// The write is asynchronous: watch the bucket until the counter shows up.
	ctx := testCtx(t)
	events, err := st.Watch(ctx, apimodel.BucketUsage)
	if err != nil {
		t.Fatal(err)
	}
	want := apimodel.UsageKey(planID, keyID, t0)
	for ev := range events {
		if ev.InitialDone || ev.Deleted || ev.Key != want {
			continue
		}
		if parseCount(ev.Value) >= 5 {
			return
		}
	}
	t.Fatal("watch ended before the counter was written")
}

// TestUnparsableCounterCountsAsZero: a counter the control plane would read as zero is
// zero here too, and the next write-back replaces it.
func TestUnparsableCounterCountsAsZero(t *testing.T) {
	st := openStore(t, t.TempDir())
	t.Cleanup(func() { st.Close() })
	ctx := testCtx(t)
	if _, err := st.Create(ctx, apimodel.BucketUsage, apimodel.UsageKey(planID, keyID, t0), []byte(`{"days":{}}`)); err != nil {
		t.Fatal(err)
	}
	in := fixture()
	in.Plans[0].Quota = &apimodel.QuotaSettings{Limit: 2, Period: apimodel.QuotaDay}
	l := newLimiter(t, newClock(t0), in, Options{Store: st})
	if n := countAllowed(t, l, check("/pets", "GET", keyValue), 3); n != 2 {
		t.Fatalf("admitted %d", n)
	}
	if err := l.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := storedCount(t, st, t0); got != 2 {
		t.Fatalf("stored %d", got)
	}
}
