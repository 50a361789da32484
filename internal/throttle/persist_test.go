package throttle

import (
	"context"
	"reflect"
	"testing"
	"time"
)

// TestQuotaSurvivesRestart is aws-reference §12 item 15 across a restart: a quota of N
// refuses request N+1, and still does after the limiter and the store are closed and
// reopened on the same data directory.
func TestQuotaSurvivesRestart(t *testing.T) {
	const n = 3
	dir := t.TempDir()
	in := fixture()
	in.Plans[0].Quota = &QuotaSettings{Limit: n, Period: PeriodDay}
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

	t.Run("GetUsage reports both days", func(t *testing.T) {
		st := openStore(t, dir)
		defer st.Close()
		u, err := ReadUsage(testCtx(t), st, &in.Plans[0], []string{keyID}, "2024-05-14", "2024-05-17")
		if err != nil {
			t.Fatal(err)
		}
		want := &Usage{UsagePlanID: planID, StartDate: "2024-05-14", EndDate: "2024-05-17", Items: map[string][][2]int64{
			keyID: {{0, 3}, {3, 0}, {3, 0}, {0, 3}},
		}}
		if !reflect.DeepEqual(u, want) {
			t.Fatalf("usage = %+v, want %+v", u, want)
		}
	})
}

// TestQuotaSharedAcrossNodes: two limiters on one store enforce one quota; each sees the
// other's counts after a write-back.
func TestQuotaSharedAcrossNodes(t *testing.T) {
	st := openStore(t, t.TempDir())
	t.Cleanup(func() { st.Close() })
	in := fixture()
	in.Plans[0].Quota = &QuotaSettings{Limit: 5, Period: PeriodMonth}
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
	u, err := a.Usage(testCtx(t), &in.Plans[0], []string{keyID}, "2024-05-15", "2024-05-15")
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Items[keyID]; !reflect.DeepEqual(got, [][2]int64{{5, 0}}) {
		t.Fatalf("usage = %v", got)
	}
}

// TestSetRemaining is UpdateUsage: the remaining quota is replaced, persistently.
func TestSetRemaining(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	in := fixture()
	in.Plans[0].Quota = &QuotaSettings{Limit: 10, Period: PeriodWeek}
	clk := newClock(t0)
	l := newLimiter(t, clk, in, Options{Store: st})
	c := check("/pets", "GET", keyValue)
	if n := countAllowed(t, l, c, 4); n != 4 {
		t.Fatalf("admitted %d", n)
	}
	if err := l.SetRemaining(testCtx(t), planID, keyID, 2); err != nil {
		t.Fatal(err)
	}
	if n := countAllowed(t, l, c, 5); n != 2 {
		t.Fatalf("admitted %d after remaining=2", n)
	}
	u, err := l.Usage(testCtx(t), &in.Plans[0], []string{keyID}, "2024-05-15", "2024-05-15")
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Items[keyID]; !reflect.DeepEqual(got, [][2]int64{{6, 0}}) {
		t.Fatalf("usage = %v", got)
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
}

// TestWriterFlushesEarly: FlushEvery wakes the writer without waiting for the interval.
func TestWriterFlushesEarly(t *testing.T) {
	st := openStore(t, t.TempDir())
	t.Cleanup(func() { st.Close() })
	in := fixture()
	in.Plans[0].Quota = &QuotaSettings{Limit: 100, Period: PeriodDay}
	clk := newClock(t0)
	l := newLimiter(t, clk, in, Options{Store: st, FlushInterval: time.Hour, FlushEvery: 5})
	c := check("/pets", "GET", keyValue)
	countAllowed(t, l, c, 5)
	// The write is asynchronous: watch the bucket until the document shows up.
	ctx := testCtx(t)
	events, err := st.Watch(ctx, BucketUsage)
	if err != nil {
		t.Fatal(err)
	}
	for ev := range events {
		if ev.InitialDone || ev.Deleted {
			continue
		}
		d, err := parseUsageDoc(ev.Value)
		if err != nil {
			t.Fatal(err)
		}
		if d.Days["2024-05-15"] >= 5 {
			return
		}
	}
	t.Fatal("watch ended before the counter was written")
}

func TestMemoryUsage(t *testing.T) {
	in := fixture()
	in.Plans[0].Quota = &QuotaSettings{Limit: 10, Period: PeriodDay}
	l := newLimiter(t, newClock(t0), in, Options{})
	countAllowed(t, l, check("/pets", "GET", keyValue), 4)
	u, err := l.Usage(context.Background(), &in.Plans[0], []string{keyID}, "2024-05-14", "2024-05-15")
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Items[keyID]; !reflect.DeepEqual(got, [][2]int64{{0, 10}, {4, 6}}) {
		t.Fatalf("usage = %v", got)
	}
}
