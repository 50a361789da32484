package throttle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"gatehouse/internal/gatewayresponse"
	"gatehouse/internal/store"
)

// AWS's default account-level throttle per Region (REST, HTTP and WebSocket APIs share it).
const (
	DefaultAccountRate  = 10000
	DefaultAccountBurst = 5000
)

// Defaults of the quota write-back.
const (
	DefaultFlushInterval = time.Second
	DefaultFlushEvery    = 1000
)

// ErrClosed is returned by Allow and the other methods after Close.
var ErrClosed = errors.New("throttle: limiter closed")

// Options configure a Limiter.
type Options struct {
	// Store persists quota counters (apimodel.BucketUsage, one counter per plan, key
	// and UTC day; see apimodel.UsageKey). Nil keeps them in memory only.
	Store *store.Store
	// Account is the account-level limit (default 10,000 rps, burst 5,000);
	// AccountOverrides replaces it for single accounts.
	Account          Limit
	AccountOverrides map[string]Limit
	// Now is the clock (default time.Now). Tests inject a fake one.
	Now func() time.Time
	// FlushInterval is how often quota counters are written back (default 1s);
	// FlushEvery wakes the writer early once one counter has this many unwritten
	// requests (default 1,000). Together they bound what a crash can lose.
	FlushInterval time.Duration
	FlushEvery    int64
	Logger        *slog.Logger
}

// Check is one request as the limiter sees it.
type Check struct {
	// Account owns the API (the account-level bucket).
	Account string
	APIID   string
	Stage   string
	// ResourcePath and Method name the API method that matched, as configured
	// ("/pets/{id}", "GET" or "ANY").
	ResourcePath string
	Method       string
	// APIKey is the key the request presents (see KeyFromRequest); KeyRequired is the
	// method's apiKeyRequired. API keys and usage plans apply only when it is set.
	APIKey      string
	KeyRequired bool
}

// Result is the limiter's decision.
type Result uint8

const (
	Allowed       Result = iota
	InvalidAPIKey        // 403 {"message":"Forbidden"}
	Throttled            // 429 {"message":"Too Many Requests"}
	QuotaExceeded        // 429 {"message":"Limit Exceeded"}
)

func (r Result) String() string {
	switch r {
	case Allowed:
		return "Allowed"
	case InvalidAPIKey:
		return "InvalidAPIKey"
	case Throttled:
		return "Throttled"
	case QuotaExceeded:
		return "QuotaExceeded"
	}
	return "Result(" + strconv.Itoa(int(r)) + ")"
}

// Level names the throttle that refused a request.
type Level uint8

const (
	LevelNone      Level = iota
	LevelUsagePlan       // the usage plan's per-client or per-method limit
	LevelStage           // the stage's methodSettings
	LevelAccount         // the account-level limit
)

func (l Level) String() string {
	switch l {
	case LevelNone:
		return "none"
	case LevelUsagePlan:
		return "usage plan"
	case LevelStage:
		return "stage"
	case LevelAccount:
		return "account"
	}
	return "Level(" + strconv.Itoa(int(l)) + ")"
}

// Outcome is Allow's answer. On success with an API key, APIKeyID and UsagePlanID
// identify the key and plan ($context.identity.apiKeyId).
type Outcome struct {
	Result      Result
	Level       Level
	APIKeyID    string
	UsagePlanID string
}

// ResponseType is the gateway response type for a refusal ("" when allowed).
func (o Outcome) ResponseType() gatewayresponse.Type {
	switch o.Result {
	case InvalidAPIKey:
		return gatewayresponse.InvalidAPIKey
	case Throttled:
		return gatewayresponse.Throttled
	case QuotaExceeded:
		return gatewayresponse.QuotaExceeded
	}
	return ""
}

// Message is AWS's $context.error.message for a refusal.
func (o Outcome) Message() string {
	switch o.Result {
	case InvalidAPIKey:
		return "Forbidden"
	case Throttled:
		return "Too Many Requests"
	case QuotaExceeded:
		return "Limit Exceeded"
	}
	return ""
}

// Limiter enforces API keys, throttles and quotas. Allow is safe for any number of
// goroutines; it takes no lock and does not allocate (a lock is taken once per new API
// method or account, to create its bucket).
type Limiter struct {
	opts   Options
	now    func() time.Time
	epoch  time.Time
	log    *slog.Logger
	settle time.Duration // after midnight, how long flushes re-read the period's earlier days

	rt       atomic.Pointer[state]
	accounts cowMap[string, *bucket]

	mu       sync.Mutex // serializes SetPlans, Flush and Close; guards the fields below
	buckets  map[string]*bucket
	counters map[counterKey]*counter
	retired  []*counter // replaced counters, written back once more by the next Flush

	kick   chan struct{}
	stop   chan struct{}
	done   chan struct{}
	closed atomic.Bool
}

type counterKey struct{ plan, key string }

// state is one Plans with the state its requests touch.
type state struct {
	plans  *Plans
	stages map[stageRef]*stageRT
}

type stageRT struct {
	conf    *stageConf
	methods *methodBuckets
	keys    map[string]*bindingRT // by key value
}

// methodBuckets are a stage's per-method buckets, created on first use; they are
// carried to the next state when the stage's limits did not change.
type methodBuckets struct {
	m cowMap[methodRef, *bucket] // nil value: no stage-level limit for the method
}

type bindingRT struct {
	b         *binding
	client    *bucket // the plan's per-client throttle; nil = none
	stageWide *bucket
	methods   map[methodRef]*bucket
	quota     *counter // nil = no quota
}

// New returns a Limiter with no plans (only the account limits apply until
// SetPlans) and starts its quota writer. Close stops it.
func New(opts Options) *Limiter {
	if opts.Account == (Limit{}) {
		opts.Account = Limit{Rate: DefaultAccountRate, Burst: DefaultAccountBurst}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = DefaultFlushInterval
	}
	if opts.FlushEvery <= 0 {
		opts.FlushEvery = DefaultFlushEvery
	}
	l := &Limiter{
		opts:     opts,
		now:      opts.Now,
		log:      opts.Logger,
		settle:   time.Minute + 2*opts.FlushInterval,
		buckets:  map[string]*bucket{},
		counters: map[counterKey]*counter{},
		kick:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	l.log = l.log.With("component", "throttle")
	l.epoch = l.now()
	empty, _ := Compile(Inputs{})
	l.rt.Store(&state{plans: empty, stages: map[stageRef]*stageRT{}})
	go l.writer()
	return l
}

// Allow decides one request: the API key first (for methods that require one), then the
// throttles in AWS's order — the usage plan's per-method or per-client limit, the
// stage's method limit, the account limit — and the usage plan's quota last. Every
// applicable throttle must admit the request; a token taken from an earlier level is
// given back when a later one refuses. Refused requests do not count against the quota.
func (l *Limiter) Allow(_ context.Context, c Check) (Outcome, error) {
	if l.closed.Load() {
		return Outcome{}, ErrClosed
	}
	rt := l.rt.Load()
	now := l.now()
	t := int64(now.Sub(l.epoch))
	st := rt.stages[stageRef{c.APIID, c.Stage}]
	m := methodRef{c.ResourcePath, c.Method}

	var out Outcome
	var bind *bindingRT
	if c.KeyRequired {
		if st != nil && c.APIKey != "" {
			bind = st.keys[c.APIKey]
		}
		if bind == nil || !bind.b.key.enabled {
			return Outcome{Result: InvalidAPIKey}, nil
		}
		out.APIKeyID, out.UsagePlanID = bind.b.key.id, bind.b.plan.id
	}

	// Level 1: the usage plan.
	var planBucket *bucket
	if bind != nil {
		planBucket = bind.methods[m]
		if planBucket == nil {
			planBucket = bind.stageWide
		}
		if planBucket == nil {
			planBucket = bind.client
		}
		if planBucket != nil && !planBucket.take(t) {
			out.Result, out.Level = Throttled, LevelUsagePlan
			return out, nil
		}
	}
	// Level 2: the stage's method settings.
	var stageBucket *bucket
	if st != nil {
		b, ok := st.methods.m.load(m)
		if !ok {
			b = l.stageBucket(st, m)
		}
		if b != nil && !b.take(t) {
			refund(planBucket)
			out.Result, out.Level = Throttled, LevelStage
			return out, nil
		}
		stageBucket = b
	}
	// Level 3: the account.
	ab, ok := l.accounts.load(c.Account)
	if !ok {
		ab = l.accountBucket(c.Account)
	}
	if !ab.take(t) {
		refund(planBucket)
		refund(stageBucket)
		out.Result, out.Level = Throttled, LevelAccount
		return out, nil
	}
	// The quota.
	if bind != nil && bind.quota != nil && !bind.quota.take(now) {
		out.Result = QuotaExceeded
		return out, nil
	}
	return out, nil
}

func refund(b *bucket) {
	if b != nil {
		b.refund()
	}
}

func (l *Limiter) stageBucket(st *stageRT, m methodRef) *bucket {
	return st.methods.m.loadOrStore(m, func() *bucket {
		if lim := st.conf.stageLimit(m); lim.set {
			return newBucket(lim.Limit)
		}
		return nil
	})
}

func (l *Limiter) accountBucket(account string) *bucket {
	return l.accounts.loadOrStore(account, func() *bucket {
		lim, ok := l.opts.AccountOverrides[account]
		if !ok {
			lim = l.opts.Account
		}
		return newBucket(lim)
	})
}

// SetPlans makes p the limiter's configuration. Throttle buckets whose limits did not
// change keep their state; quota counters of plan/key pairs new to this limiter are
// loaded from the store (this is how counts survive a restart), and counters whose quota
// changed are written back and replaced. Errors loading counters are returned after p
// is in force (those counters start from zero until the next successful write-back).
func (l *Limiter) SetPlans(ctx context.Context, p *Plans) error {
	if l.closed.Load() {
		return ErrClosed
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	old := l.rt.Load()
	rt := &state{plans: p, stages: make(map[stageRef]*stageRT, len(p.stages))}
	buckets := map[string]*bucket{}
	counters := map[counterKey]*counter{}
	var toLoad []*counter
	bucketFor := func(id string, lim Limit) *bucket {
		if b := buckets[id]; b != nil {
			return b
		}
		b := l.buckets[id]
		if b == nil || b.limit != lim {
			b = newBucket(lim)
		}
		buckets[id] = b
		return b
	}
	for ref, sc := range p.stages {
		srt := &stageRT{conf: sc, keys: make(map[string]*bindingRT, len(sc.keys))}
		if os := old.stages[ref]; os != nil && sameStageLimits(os.conf, sc) {
			srt.methods = os.methods
		} else {
			srt.methods = &methodBuckets{}
		}
		for value, b := range sc.keys {
			br := &bindingRT{b: b}
			clientID := "p/" + b.plan.id + "/" + b.key.id
			if b.plan.throttle.set {
				br.client = bucketFor(clientID, b.plan.throttle.Limit)
			}
			if b.stageWide.set {
				br.stageWide = bucketFor(clientID+"/"+ref.api+"/"+ref.stage+"/*/*", b.stageWide.Limit)
			}
			for m, lim := range b.methods {
				if br.methods == nil {
					br.methods = make(map[methodRef]*bucket, len(b.methods))
				}
				br.methods[m] = bucketFor(clientID+"/"+ref.api+"/"+ref.stage+"/"+m.path+"/"+m.method, lim)
			}
			if q := b.plan.quota; q != nil {
				ck := counterKey{b.plan.id, b.key.id}
				c := counters[ck]
				if c == nil {
					c = l.counters[ck]
					if c == nil || c.limit != q.limit || c.period != q.period {
						if c != nil {
							l.retired = append(l.retired, c)
						}
						c = newCounter(b.plan.id, b.key.id, q, now, l.kick, l.opts.FlushEvery, l.settle)
						toLoad = append(toLoad, c)
					}
					counters[ck] = c
				}
				br.quota = c
			}
			srt.keys[value] = br
		}
		rt.stages[ref] = srt
	}
	for ck, c := range l.counters {
		if counters[ck] == nil {
			l.retired = append(l.retired, c)
		}
	}
	// Replaced counters write their counts before the new ones read theirs. They stay
	// in retired until the next Flush, which writes what requests still in flight on
	// the old plans count on them.
	var errs []error
	for _, c := range l.retired {
		if err := c.flush(ctx, l.opts.Store, now); err != nil {
			errs = append(errs, err)
		}
	}
	for _, c := range toLoad {
		if err := c.load(ctx, l.opts.Store); err != nil {
			errs = append(errs, err)
		}
	}
	l.buckets, l.counters = buckets, counters
	l.rt.Store(rt)
	return errors.Join(errs...)
}

// Flush writes every quota counter's unwritten counts to the store now.
func (l *Limiter) Flush(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.flushLocked(ctx)
}

func (l *Limiter) flushLocked(ctx context.Context) error {
	now := l.now()
	var errs []error
	kept := l.retired[:0]
	for _, c := range l.retired {
		if err := c.flush(ctx, l.opts.Store, now); err != nil {
			errs = append(errs, err)
			kept = append(kept, c) // retry at the next Flush
		}
	}
	clear(l.retired[len(kept):])
	l.retired = kept
	for _, c := range l.counters {
		if err := c.flush(ctx, l.opts.Store, now); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// writer is the background write-back loop.
func (l *Limiter) writer() {
	defer close(l.done)
	tick := time.NewTicker(l.opts.FlushInterval)
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-tick.C:
		case <-l.kick:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*l.opts.FlushInterval+10*time.Second)
		if err := l.Flush(ctx); err != nil {
			l.log.Warn("quota write-back failed; will retry", "err", err)
		}
		cancel()
	}
}

// Close stops the writer and writes every counter back a last time. Later calls to
// Allow, SetPlans and Close return ErrClosed.
func (l *Limiter) Close(ctx context.Context) error {
	if !l.closed.CompareAndSwap(false, true) {
		return ErrClosed
	}
	close(l.stop)
	<-l.done
	return l.Flush(ctx)
}

// SetRemaining sets the remaining quota of an API key in a usage plan for the current
// period (UpdateUsage with op "replace", path "/remaining"): it writes this limiter's
// counts back, then rewrites the period's daily usage counters so that they add up to
// the quota limit less remaining (today's counter absorbs the difference; earlier days
// are lowered, latest first, only when they alone exceed it). GetUsage then reports
// remaining for today. Counters are never negative, so remaining is held to
// [0, limit].
func (l *Limiter) SetRemaining(ctx context.Context, planID, keyID string, remaining int64) error {
	if l.closed.Load() {
		return ErrClosed
	}
	l.mu.Lock()
	c := l.counters[counterKey{planID, keyID}]
	l.mu.Unlock()
	if c == nil {
		return fmt.Errorf("throttle: usage plan %s has no quota for api key %s", planID, keyID)
	}
	return c.setRemaining(ctx, l.opts.Store, remaining, l.now())
}
