package throttle

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/gatewayresponse"
)

func TestAPIKey(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Inputs)
		check  Check
		want   Result
	}{
		{name: "valid key", check: check("/pets", "GET", keyValue), want: Allowed},
		{name: "no key on a key-required method", check: Check{Account: acct, APIID: apiID, Stage: stage, ResourcePath: "/pets", Method: "GET", KeyRequired: true}, want: InvalidAPIKey},
		{name: "unknown key", check: check("/pets", "GET", "nope-nope-nope-nope-nope"), want: InvalidAPIKey},
		{name: "key value differs in case", check: check("/pets", "GET", strings.ToUpper(keyValue)), want: InvalidAPIKey},
		{name: "disabled key", mutate: func(in *Inputs) { in.Keys[0].Enabled = false }, check: check("/pets", "GET", keyValue), want: InvalidAPIKey},
		{name: "key in no usage plan", mutate: func(in *Inputs) { in.PlanKeys = nil }, check: check("/pets", "GET", keyValue), want: InvalidAPIKey},
		{name: "plan not attached to this stage", mutate: func(in *Inputs) { in.Plans[0].APIStages[0].Stage = "dev" }, check: check("/pets", "GET", keyValue), want: InvalidAPIKey},
		{name: "plan attached to another API", mutate: func(in *Inputs) { in.Plans[0].APIStages[0].APIID = "zzzzzzzzzz" }, check: check("/pets", "GET", keyValue), want: InvalidAPIKey},
		{name: "unknown stage", check: Check{Account: acct, APIID: apiID, Stage: "nostage", ResourcePath: "/", Method: "GET", APIKey: keyValue, KeyRequired: true}, want: InvalidAPIKey},
		{name: "key not required: any key passes unmetered", check: Check{Account: acct, APIID: apiID, Stage: stage, ResourcePath: "/pets", Method: "GET", APIKey: "garbage"}, want: Allowed},
		{name: "key not required: disabled key passes", mutate: func(in *Inputs) { in.Keys[0].Enabled = false }, check: Check{Account: acct, APIID: apiID, Stage: stage, ResourcePath: "/pets", Method: "GET", APIKey: keyValue}, want: Allowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := fixture()
			if tt.mutate != nil {
				tt.mutate(&in)
			}
			p, _ := Compile(in) // some mutations make Compile report skipped entries
			l := New(Options{Now: newClock(t0).Now})
			t.Cleanup(func() { _ = l.Close(context.Background()) })
			if err := l.SetPlans(context.Background(), p); err != nil {
				t.Fatal(err)
			}
			o := allow(t, l, tt.check)
			if o.Result != tt.want {
				t.Fatalf("Result = %v, want %v", o.Result, tt.want)
			}
			if o.Result == InvalidAPIKey && (o.ResponseType() != gatewayresponse.InvalidAPIKey || o.Message() != "Forbidden") {
				t.Errorf("response = %s %q", o.ResponseType(), o.Message())
			}
			if o.Result == Allowed && tt.check.KeyRequired && (o.APIKeyID != keyID || o.UsagePlanID != planID) {
				t.Errorf("identity = %q/%q", o.APIKeyID, o.UsagePlanID)
			}
			if o.Result == Allowed && !tt.check.KeyRequired && o.APIKeyID != "" {
				t.Errorf("unmetered request got key id %q", o.APIKeyID)
			}
		})
	}
}

// TestUsagePlanRate1Burst1 is aws-reference §12 item 15: the second immediate request
// gets 429.
func TestUsagePlanRate1Burst1(t *testing.T) {
	in := fixture()
	in.Plans[0].Throttle = &apimodel.ThrottleSettings{RateLimit: 1, BurstLimit: 1}
	clk := newClock(t0)
	l := newLimiter(t, clk, in, Options{})
	c := check("/pets", "GET", keyValue)

	if o := allow(t, l, c); o.Result != Allowed {
		t.Fatalf("first request: %v", o.Result)
	}
	o := allow(t, l, c)
	if o.Result != Throttled || o.Level != LevelUsagePlan {
		t.Fatalf("second request: %v at level %v, want Throttled at the usage plan", o.Result, o.Level)
	}
	if o.ResponseType() != gatewayresponse.Throttled || o.Message() != "Too Many Requests" {
		t.Errorf("response = %s %q", o.ResponseType(), o.Message())
	}
	clk.Advance(999 * time.Millisecond)
	if o := allow(t, l, c); o.Result != Throttled {
		t.Fatalf("after 999ms: %v", o.Result)
	}
	clk.Advance(time.Millisecond)
	if o := allow(t, l, c); o.Result != Allowed {
		t.Fatalf("after 1s: %v", o.Result)
	}
}

// TestRateAccuracy drives buckets of several shapes with a fake clock and compares the
// admitted count with what a token bucket admits: burst at once, then rate per second.
func TestRateAccuracy(t *testing.T) {
	tests := []struct {
		name     string
		rate     float64
		burst    int
		step     time.Duration
		duration time.Duration
	}{
		{"rate 1 burst 1", 1, 1, 100 * time.Millisecond, 10 * time.Second},
		{"rate 10 burst 5", 10, 5, time.Millisecond, 10 * time.Second},
		{"rate 0.5 burst 2", 0.5, 2, 50 * time.Millisecond, 20 * time.Second},
		{"rate 1000 burst 100", 1000, 100, 100 * time.Microsecond, 2 * time.Second},
		{"rate 10000 burst 5000", 10000, 5000, 10 * time.Microsecond, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock(t0)
			b := newBucket(Limit{Rate: tt.rate, Burst: tt.burst})
			epoch := clk.Now()
			got := 0
			// Offer more than the bucket can take at every step.
			for el := time.Duration(0); el <= tt.duration; el += tt.step {
				for b.take(int64(clk.Now().Sub(epoch))) {
					got++
				}
				clk.Advance(tt.step)
			}
			want := tt.burst + int(tt.rate*tt.duration.Seconds())
			if got < want-1 || got > want+1 {
				t.Fatalf("admitted %d over %v, want %d (±1)", got, tt.duration, want)
			}
		})
	}
}

func TestPrecedence(t *testing.T) {
	ms := func(rate float64, burst int) *apimodel.MethodSetting {
		return &apimodel.MethodSetting{ThrottlingRateLimit: rate, ThrottlingBurstLimit: burst}
	}
	type step struct {
		check Check
		n     int    // requests sent at one instant
		want  int    // of which admitted
		level Level  // level of the first refusal (when want < n)
		note  string // what the step shows
	}
	tests := []struct {
		name   string
		mutate func(*Inputs)
		opts   Options
		steps  []step
	}{
		{
			name: "plan per-method override replaces the per-client limit",
			mutate: func(in *Inputs) {
				in.Plans[0].Throttle = &apimodel.ThrottleSettings{RateLimit: 1, BurstLimit: 1}
				in.Plans[0].APIStages[0].Throttle = map[string]*apimodel.ThrottleSettings{"/pets/GET": {RateLimit: 1, BurstLimit: 3}}
			},
			steps: []step{
				{check("/pets", "GET", keyValue), 5, 3, LevelUsagePlan, "override burst 3"},
				{check("/pets", "POST", keyValue), 5, 1, LevelUsagePlan, "plan burst 1"},
			},
		},
		{
			name: "plan override of the root resource",
			mutate: func(in *Inputs) {
				in.Plans[0].APIStages[0].Throttle = map[string]*apimodel.ThrottleSettings{"//GET": {RateLimit: 1, BurstLimit: 2}}
			},
			steps: []step{
				{check("/", "GET", keyValue), 5, 2, LevelUsagePlan, "root override"},
				{check("/pets", "GET", keyValue), 5, 5, 0, "no plan limit elsewhere"},
			},
		},
		{
			name: "plan /*/* override covers the stage's methods, a method override beats it",
			mutate: func(in *Inputs) {
				in.Plans[0].Throttle = &apimodel.ThrottleSettings{RateLimit: 1, BurstLimit: 1}
				in.Plans[0].APIStages[0].Throttle = map[string]*apimodel.ThrottleSettings{
					"/*/*": {RateLimit: 1, BurstLimit: 2}, "/pets/GET": {RateLimit: 1, BurstLimit: 4}}
			},
			steps: []step{
				{check("/toys", "GET", keyValue), 5, 2, LevelUsagePlan, "/*/* burst 2"},
				{check("/toys", "POST", keyValue), 5, 0, LevelUsagePlan, "one /*/* bucket for the stage"},
				{check("/pets", "GET", keyValue), 5, 4, LevelUsagePlan, "/pets/GET burst 4"},
			},
		},
		{
			name: "stage method setting beats */*, each method its own bucket",
			mutate: func(in *Inputs) {
				in.Stages[0].MethodSettings = map[string]*apimodel.MethodSetting{"*/*": ms(1, 4), "pets/GET": ms(1, 2)}
			},
			steps: []step{
				{check("/pets", "GET", ""), 5, 2, LevelStage, "pets/GET burst 2"},
				{check("/pets", "POST", ""), 6, 4, LevelStage, "*/* burst 4"},
				{check("/toys", "GET", ""), 6, 4, LevelStage, "another method, a fresh */* bucket"},
			},
		},
		{
			name: "stage method setting of the root resource",
			mutate: func(in *Inputs) {
				in.Stages[0].MethodSettings = map[string]*apimodel.MethodSetting{"/GET": ms(1, 1)}
			},
			steps: []step{
				{check("/", "GET", ""), 3, 1, LevelStage, "root"},
				{check("/pets", "GET", ""), 3, 3, 0, "no */*: account only"},
			},
		},
		{
			name: "negative fields inherit from */*",
			mutate: func(in *Inputs) {
				in.Stages[0].MethodSettings = map[string]*apimodel.MethodSetting{"*/*": ms(1, 3), "pets/GET": ms(-1, -1), "toys/GET": ms(1, -1)}
			},
			steps: []step{
				{check("/pets", "GET", ""), 5, 3, LevelStage, "both inherited"},
				{check("/toys", "GET", ""), 5, 3, LevelStage, "burst inherited"},
			},
		},
		{
			name: "a zero throttle refuses everything",
			mutate: func(in *Inputs) {
				in.Stages[0].MethodSettings = map[string]*apimodel.MethodSetting{"pets/DELETE": ms(0, 0)}
			},
			steps: []step{
				{check("/pets", "DELETE", ""), 3, 0, LevelStage, "blocked"},
				{check("/pets", "GET", ""), 3, 3, 0, "others pass"},
			},
		},
		{
			name: "a client under its plan limit is still held to the stage limit",
			mutate: func(in *Inputs) {
				in.Plans[0].Throttle = &apimodel.ThrottleSettings{RateLimit: 100, BurstLimit: 100}
				in.Stages[0].MethodSettings = map[string]*apimodel.MethodSetting{"pets/GET": ms(1, 2)}
			},
			steps: []step{
				{check("/pets", "GET", keyValue), 5, 2, LevelStage, "stage burst 2"},
			},
		},
		{
			name: "account limit applies across stages and methods",
			opts: Options{AccountOverrides: map[string]Limit{acct: {Rate: 1, Burst: 3}}},
			steps: []step{
				{check("/pets", "GET", ""), 2, 2, 0, "two of three"},
				{check("/toys", "POST", keyValue), 2, 1, LevelAccount, "last token"},
				{Check{Account: "222222222222", APIID: "other", Stage: "s", ResourcePath: "/", Method: "GET"}, 3, 3, 0, "another account"},
			},
		},
		{
			name: "default account limit is 10,000 rps burst 5,000",
			steps: []step{
				{check("/pets", "GET", ""), 5001, 5000, LevelAccount, "burst"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := fixture()
			if tt.mutate != nil {
				tt.mutate(&in)
			}
			l := newLimiter(t, newClock(t0), in, tt.opts)
			for _, s := range tt.steps {
				got, level := 0, LevelNone
				for range s.n {
					o := allow(t, l, s.check)
					if o.Result == Allowed {
						got++
					} else if level == LevelNone {
						if o.Result != Throttled {
							t.Fatalf("%s: result %v, want Throttled", s.note, o.Result)
						}
						level = o.Level
					}
				}
				if got != s.want || level != s.level {
					t.Errorf("%s: admitted %d of %d (first refusal at level %v), want %d (level %v)", s.note, got, s.n, level, s.want, s.level)
				}
			}
		})
	}
}

// TestRefund: when a later level refuses, the earlier level's token comes back.
func TestRefund(t *testing.T) {
	in := fixture()
	in.Plans[0].Throttle = &apimodel.ThrottleSettings{RateLimit: 1, BurstLimit: 2}
	in.Stages[0].MethodSettings = map[string]*apimodel.MethodSetting{"pets/GET": {ThrottlingRateLimit: 1, ThrottlingBurstLimit: 1}}
	l := newLimiter(t, newClock(t0), in, Options{})
	if n := countAllowed(t, l, check("/pets", "GET", keyValue), 3); n != 1 {
		t.Fatalf("GET admitted %d, want 1 (stage burst)", n)
	}
	// The plan bucket gave its tokens back for the refused GETs: one left for POST.
	if n := countAllowed(t, l, check("/pets", "POST", keyValue), 3); n != 1 {
		t.Fatalf("POST admitted %d, want 1 (plan burst 2, one used)", n)
	}
}

func TestQuota(t *testing.T) {
	tests := []struct {
		name  string
		quota apimodel.QuotaSettings
		// phases: at each time, send requests and expect that many admitted.
		phases []struct {
			at   time.Time
			n    int
			want int
		}
	}{
		{
			name:  "day: N then refused, reset at midnight UTC",
			quota: apimodel.QuotaSettings{Limit: 3, Period: apimodel.QuotaDay},
			phases: []struct {
				at   time.Time
				n    int
				want int
			}{
				{t0, 5, 3},
				{time.Date(2024, 5, 15, 23, 59, 59, 0, time.UTC), 1, 0},
				{time.Date(2024, 5, 16, 0, 0, 0, 0, time.UTC), 4, 3},
			},
		},
		{
			name:  "week starts on Sunday",
			quota: apimodel.QuotaSettings{Limit: 2, Period: apimodel.QuotaWeek},
			phases: []struct {
				at   time.Time
				n    int
				want int
			}{
				{t0, 1, 1}, // Wednesday
				{time.Date(2024, 5, 18, 23, 0, 0, 0, time.UTC), 3, 1}, // Saturday
				{time.Date(2024, 5, 19, 0, 0, 0, 0, time.UTC), 3, 2},  // Sunday
			},
		},
		{
			name:  "month",
			quota: apimodel.QuotaSettings{Limit: 2, Period: apimodel.QuotaMonth},
			phases: []struct {
				at   time.Time
				n    int
				want int
			}{
				{t0, 3, 2},
				{time.Date(2024, 5, 31, 23, 59, 0, 0, time.UTC), 1, 0},
				{time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), 3, 2},
			},
		},
		{
			// The stored plan has no creation date, so there is no "initial period";
			// GetUsage reports limit less usage, and enforcement agrees.
			name:  "offset is not applied",
			quota: apimodel.QuotaSettings{Limit: 3, Offset: 2, Period: apimodel.QuotaDay},
			phases: []struct {
				at   time.Time
				n    int
				want int
			}{
				{t0, 4, 3},
			},
		},
		{
			name:  "limit 0 refuses everything",
			quota: apimodel.QuotaSettings{Limit: 0, Period: apimodel.QuotaDay},
			phases: []struct {
				at   time.Time
				n    int
				want int
			}{{t0, 2, 0}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := fixture()
			q := tt.quota
			in.Plans[0].Quota = &q
			clk := newClock(t0)
			l := newLimiter(t, clk, in, Options{})
			for i, ph := range tt.phases {
				clk.Set(ph.at)
				got := 0
				for range ph.n {
					switch o := allow(t, l, check("/pets", "GET", keyValue)); o.Result {
					case Allowed:
						got++
					case QuotaExceeded:
						if o.ResponseType() != gatewayresponse.QuotaExceeded || o.Message() != "Limit Exceeded" {
							t.Errorf("response = %s %q", o.ResponseType(), o.Message())
						}
					default:
						t.Fatalf("phase %d: result %v", i, o.Result)
					}
				}
				if got != ph.want {
					t.Fatalf("phase %d (%s): admitted %d of %d, want %d", i, ph.at, got, ph.n, ph.want)
				}
			}
		})
	}
}

// TestThrottledRequestsDoNotCount: a request refused by a throttle uses no quota.
func TestThrottledRequestsDoNotCount(t *testing.T) {
	in := fixture()
	in.Plans[0].Throttle = &apimodel.ThrottleSettings{RateLimit: 1, BurstLimit: 1}
	in.Plans[0].Quota = &apimodel.QuotaSettings{Limit: 2, Period: apimodel.QuotaDay}
	clk := newClock(t0)
	l := newLimiter(t, clk, in, Options{})
	c := check("/pets", "GET", keyValue)
	want := []Result{Allowed, Throttled, Throttled}
	for i, w := range want {
		if o := allow(t, l, c); o.Result != w {
			t.Fatalf("request %d: %v, want %v", i, o.Result, w)
		}
	}
	clk.Advance(time.Second)
	if o := allow(t, l, c); o.Result != Allowed {
		t.Fatalf("after 1s: %v", o.Result)
	}
	clk.Advance(time.Second)
	if o := allow(t, l, c); o.Result != QuotaExceeded {
		t.Fatalf("third admitted-by-throttle request: %v, want QuotaExceeded", o.Result)
	}
}

// TestSetPlansKeepsState: reinstalling unchanged limits keeps bucket and quota state;
// changing a limit starts that bucket afresh.
func TestSetPlansKeepsState(t *testing.T) {
	in := fixture()
	in.Plans[0].Throttle = &apimodel.ThrottleSettings{RateLimit: 1, BurstLimit: 1}
	in.Plans[0].Quota = &apimodel.QuotaSettings{Limit: 5, Period: apimodel.QuotaDay}
	in.Stages[0].MethodSettings = map[string]*apimodel.MethodSetting{"toys/GET": {ThrottlingRateLimit: 1, ThrottlingBurstLimit: 1}}
	clk := newClock(t0)
	l := newLimiter(t, clk, in, Options{})
	ctx := context.Background()
	if n := countAllowed(t, l, check("/pets", "GET", keyValue), 2); n != 1 {
		t.Fatalf("admitted %d", n)
	}
	if n := countAllowed(t, l, check("/toys", "GET", ""), 2); n != 1 {
		t.Fatalf("admitted %d", n)
	}
	// Same configuration plus an unrelated key: state is kept.
	in.Keys = append(in.Keys, apimodel.APIKey{Account: acct, ID: "key0000002", Value: "k2-abcdefghijklmnopqrstuvwxyz0123", Enabled: true})
	p, err := Compile(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.SetPlans(ctx, p); err != nil {
		t.Fatal(err)
	}
	if o := allow(t, l, check("/pets", "GET", keyValue)); o.Result != Throttled {
		t.Fatalf("plan bucket was reset: %v", o.Result)
	}
	if o := allow(t, l, check("/toys", "GET", "")); o.Result != Throttled {
		t.Fatalf("stage bucket was reset: %v", o.Result)
	}
	// A new burst: a fresh bucket. The quota (1 used of 5) is kept.
	in.Plans[0].Throttle = &apimodel.ThrottleSettings{RateLimit: 1, BurstLimit: 10}
	p, _ = Compile(in)
	if err := l.SetPlans(ctx, p); err != nil {
		t.Fatal(err)
	}
	if n := countAllowed(t, l, check("/pets", "GET", keyValue), 10); n != 4 {
		t.Fatalf("admitted %d after raising the burst, want 4 (quota 5, 1 used)", n)
	}
}

func TestCompileReportsSkippedEntries(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Inputs)
		wantErr string
	}{
		{name: "clean", mutate: func(*Inputs) {}},
		{name: "usage plan key names an unknown key", mutate: func(in *Inputs) {
			in.PlanKeys = append(in.PlanKeys, apimodel.UsagePlanKey{Account: acct, UsagePlanID: planID, KeyID: "ghost", Type: apimodel.UsagePlanKeyTypeAPIKey})
		}, wantErr: "usage plan key plan000001/ghost: unknown usage plan or api key"},
		{name: "key in two plans on one stage", mutate: func(in *Inputs) {
			in.Plans = append(in.Plans, apimodel.UsagePlan{Account: acct, ID: "plan000002", APIStages: []apimodel.APIStage{{APIID: apiID, Stage: stage}}})
			in.PlanKeys = append(in.PlanKeys, apimodel.UsagePlanKey{Account: acct, UsagePlanID: "plan000002", KeyID: keyID, Type: apimodel.UsagePlanKeyTypeAPIKey})
		}, wantErr: "api key key0000001 is in usage plans plan000001 and plan000002"},
		{name: "bad quota period", mutate: func(in *Inputs) {
			in.Plans[0].Quota = &apimodel.QuotaSettings{Limit: 1, Period: "YEAR"}
		}, wantErr: `quota period "YEAR"`},
		{name: "bad plan method key", mutate: func(in *Inputs) {
			in.Plans[0].APIStages[0].Throttle = map[string]*apimodel.ThrottleSettings{"pets": {}}
		}, wantErr: `throttle key "pets"`},
		{name: "plan key without the leading slash", mutate: func(in *Inputs) {
			in.Plans[0].APIStages[0].Throttle = map[string]*apimodel.ThrottleSettings{"*/*": {}}
		}, wantErr: `throttle key "*/*"`},
		{name: "bad stage method key", mutate: func(in *Inputs) {
			in.Stages[0].MethodSettings = map[string]*apimodel.MethodSetting{"GET": {}}
		}, wantErr: `method setting "GET"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := fixture()
			tt.mutate(&in)
			p, err := Compile(in)
			if p == nil {
				t.Fatal("Compile returned no Plans")
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
			// The valid binding still serves.
			l := New(Options{Now: newClock(t0).Now})
			defer l.Close(context.Background())
			if err := l.SetPlans(context.Background(), p); err != nil {
				t.Fatal(err)
			}
			if o := allow(t, l, check("/pets", "GET", keyValue)); o.Result != Allowed {
				t.Fatalf("valid key: %v", o.Result)
			}
		})
	}
}

func TestClosed(t *testing.T) {
	l := New(Options{})
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Allow(context.Background(), Check{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Allow after Close: %v", err)
	}
	if err := l.Close(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
}

func TestBucketExtremes(t *testing.T) {
	tests := []struct {
		name  string
		l     Limit
		first bool
	}{
		{"zero rate", Limit{Rate: 0, Burst: 5}, false},
		{"zero burst", Limit{Rate: 5, Burst: 0}, false},
		{"negative", Limit{Rate: -1, Burst: -1}, false},
		{"huge burst", Limit{Rate: 1e-9, Burst: int(^uint(0) >> 1)}, true},
		{"huge rate", Limit{Rate: 1e300, Burst: 1}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBucket(tt.l)
			if got := b.take(0); got != tt.first {
				t.Fatalf("take = %v, want %v", got, tt.first)
			}
			b.take(1 << 62)
			b.refund()
		})
	}
}
