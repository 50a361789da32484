package throttle

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/store"
)

// fakeClock is a manually advanced clock.
type fakeClock struct{ ns atomic.Int64 }

func newClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }
func (c *fakeClock) Set(t time.Time)         { c.ns.Store(t.UnixNano()) }

// t0 is a Wednesday, mid-morning UTC.
var t0 = time.Date(2024, 5, 15, 10, 0, 0, 0, time.UTC)

const (
	acct     = "111111111111"
	apiID    = "a1b2c3d4e5"
	stage    = "prod"
	keyID    = "key0000001"
	keyValue = "k1-abcdefghijklmnopqrstuvwxyz0123"
	planID   = "plan000001"
)

// fixture is one API stage, one usage plan on it and one enabled key in the plan.
func fixture() Inputs {
	return Inputs{
		Plans: []apimodel.UsagePlan{{Account: acct, ID: planID, Name: "gold", APIStages: []apimodel.APIStage{{APIID: apiID, Stage: stage}}}},
		Keys:  []apimodel.APIKey{{Account: acct, ID: keyID, Value: keyValue, Enabled: true}},
		PlanKeys: []apimodel.UsagePlanKey{
			{Account: acct, UsagePlanID: planID, KeyID: keyID, Type: apimodel.UsagePlanKeyTypeAPIKey},
		},
		Stages: []apimodel.Stage{{Account: acct, APIID: apiID, StageName: stage}},
	}
}

func check(path, method string, key string) Check {
	return Check{Account: acct, APIID: apiID, Stage: stage, ResourcePath: path, Method: method, APIKey: key, KeyRequired: key != ""}
}

// newLimiter returns a limiter on clk with plans compiled from in, closed at the end of
// the test.
func newLimiter(t testing.TB, clk *fakeClock, in Inputs, opts Options) *Limiter {
	t.Helper()
	opts.Now = clk.Now
	l := New(opts)
	t.Cleanup(func() { _ = l.Close(context.Background()) })
	p, err := Compile(in)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	if err := l.SetPlans(context.Background(), p); err != nil {
		t.Fatalf("SetPlans: %v", err)
	}
	return l
}

func allow(t testing.TB, l *Limiter, c Check) Outcome {
	t.Helper()
	o, err := l.Allow(context.Background(), c)
	if err != nil {
		t.Fatalf("Allow: %v", err)
	}
	return o
}

// countAllowed sends n requests at the current instant and counts the admitted ones.
func countAllowed(t testing.TB, l *Limiter, c Check, n int) int {
	t.Helper()
	k := 0
	for range n {
		if allow(t, l, c).Result == Allowed {
			k++
		}
	}
	return k
}

func openStore(t testing.TB, dir string) *store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := store.Open(ctx, store.Options{DataDir: dir})
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	return s
}

func testCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// storedCount reads one day's usage counter of the fixture's key (0 when absent).
func storedCount(t testing.TB, st *store.Store, day time.Time) int64 {
	t.Helper()
	e, err := st.Get(testCtx(t), apimodel.BucketUsage, apimodel.UsageKey(planID, keyID, day))
	if errors.Is(err, store.ErrNotFound) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return parseCount(e.Value)
}

// day returns UTC midnight of 2024-05-d.
func day(d int) time.Time { return time.Date(2024, 5, d, 0, 0, 0, 0, time.UTC) }
