package throttle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/store"
)

// parseCount reads a usage counter (apimodel.BucketUsage) the way the control plane's
// GetUsage reads it: a JSON number of requests. A missing, malformed, negative or
// absurdly large value counts as zero.
func parseCount(b []byte) int64 {
	if len(b) == 0 {
		return 0
	}
	var n float64
	if json.Unmarshal(b, &n) != nil || n < 0 || math.IsNaN(n) || n > math.MaxInt64/2 {
		return 0
	}
	return int64(n)
}

// formatCount is a usage counter's stored form: a JSON integer.
func formatCount(n int64) []byte { return strconv.AppendInt(nil, n, 10) }

// window is the counter's current UTC day and the quota period containing it. It is
// replaced, never changed.
type window struct {
	dayStart, dayEnd int64     // unix ns
	day              time.Time // UTC midnight
	periodStart      time.Time // apimodel.QuotaPeriodStart of day
}

// counter counts one API key's requests against one usage plan's quota. The request path
// touches only atomics: base (the period's count as last known, from the store and from
// this node) plus pending (this node's requests since the last flush or roll) is the
// period's usage. A mutex serializes day/period rollover and the bookkeeping of the
// write-back; io serializes the store I/O (flush, load, setRemaining).
//
// In the store, the period's usage is the sum of the daily counters
// apimodel.UsageKey(plan, key, day) from the period's start to today. The counter keeps
// the sum of the earlier days (prior) and reads it again when the day changes, and
// during the first minutes of a day (other nodes may still be writing the day before).
type counter struct {
	planID, keyID string
	period        string
	limit         int64
	kick          chan<- struct{}
	kickAt        int64
	settle        time.Duration

	win     atomic.Pointer[window]
	base    atomic.Int64
	pending atomic.Int64

	io sync.Mutex // held for a whole flush, load or setRemaining

	mu        sync.Mutex          // guards the fields below, and orders rollover against flush
	unflushed map[time.Time]int64 // by UTC day: counted here, not yet written to the store
	prior     int64               // stored requests of the period's days before priorDay
	priorDay  time.Time           // the day prior was read for; zero: not read
}

func newCounter(planID, keyID string, q *quotaConf, now time.Time, kick chan<- struct{}, kickAt int64, settle time.Duration) *counter {
	c := &counter{planID: planID, keyID: keyID, period: q.period, limit: q.limit,
		kick: kick, kickAt: kickAt, settle: settle, unflushed: map[time.Time]int64{}}
	c.win.Store(c.windowAt(now))
	return c
}

func (c *counter) windowAt(now time.Time) *window {
	ds := apimodel.QuotaPeriodStart(apimodel.QuotaDay, now)
	return &window{
		dayStart:    ds.UnixNano(),
		dayEnd:      ds.AddDate(0, 0, 1).UnixNano(),
		day:         ds,
		periodStart: apimodel.QuotaPeriodStart(c.period, now),
	}
}

func (c *counter) usageKey(day time.Time) string { return apimodel.UsageKey(c.planID, c.keyID, day) }

// take counts one request at now; it reports false, counting nothing, when the period's
// quota is used up.
func (c *counter) take(now time.Time) bool {
	t := now.UnixNano()
	w := c.win.Load()
	if t < w.dayStart || t >= w.dayEnd {
		w = c.roll(now)
	}
	n := c.pending.Add(1)
	if c.base.Load()+n > c.limit {
		c.pending.Add(-1)
		return false
	}
	if n == c.kickAt && c.kick != nil {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
	return true
}

// roll moves the counter to the day (and, at a boundary, the period) containing now.
func (c *counter) roll(now time.Time) *window {
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.win.Load()
	t := now.UnixNano()
	if t >= w.dayStart && t < w.dayEnd {
		return w // another request rolled first
	}
	c.drainLocked(w)
	nw := c.windowAt(now)
	if !nw.periodStart.Equal(w.periodStart) {
		// A new period starts empty here; other nodes' counts arrive with the next flush.
		c.base.Store(0)
	}
	c.win.Store(nw)
	return nw
}

// drainLocked moves pending into base and into the write-back set.
func (c *counter) drainLocked(w *window) {
	d := c.pending.Load()
	if d == 0 {
		return
	}
	c.base.Add(d)
	c.pending.Add(-d)
	c.unflushed[w.day] += d
}

// readDay reads one day's stored counter.
func (c *counter) readDay(ctx context.Context, st *store.Store, day time.Time) (int64, error) {
	key := c.usageKey(day)
	e, err := st.Get(ctx, apimodel.BucketUsage, key)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("throttle: read usage counter %s: %w", key, err)
	}
	return parseCount(e.Value), nil
}

// readDays sums the stored counters of the days from from up to (not including) to.
func (c *counter) readDays(ctx context.Context, st *store.Store, from, to time.Time) (int64, error) {
	var sum int64
	for d := from; d.Before(to); d = d.AddDate(0, 0, 1) {
		n, err := c.readDay(ctx, st, d)
		if err != nil {
			return 0, err
		}
		sum += n
	}
	return sum, nil
}

// load reads the current period's count from the store (a new counter, before any
// request reaches it).
func (c *counter) load(ctx context.Context, st *store.Store) error {
	if st == nil {
		return nil
	}
	c.io.Lock()
	defer c.io.Unlock()
	w := c.win.Load()
	prior, err := c.readDays(ctx, st, w.periodStart, w.day)
	if err != nil {
		return err
	}
	today, err := c.readDay(ctx, st, w.day)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.win.Load() == w {
		c.base.Add(prior + today)
		c.prior, c.priorDay = prior, w.day
	}
	c.mu.Unlock()
	return nil
}

// flush writes this node's unwritten requests to the store, adding them to the daily
// counters other nodes write too, and refreshes base from the merged counters.
func (c *counter) flush(ctx context.Context, st *store.Store, now time.Time) error {
	c.io.Lock()
	defer c.io.Unlock()
	return c.flushIO(ctx, st, now)
}

func (c *counter) flushIO(ctx context.Context, st *store.Store, now time.Time) error {
	c.mu.Lock()
	w := c.win.Load()
	c.drainLocked(w)
	stale := !c.priorDay.Equal(w.day)
	if len(c.unflushed) == 0 && !stale {
		c.mu.Unlock()
		return nil
	}
	if st == nil {
		clear(c.unflushed)
		c.priorDay = w.day
		c.mu.Unlock()
		return nil
	}
	writes := maps.Clone(c.unflushed)
	clear(c.unflushed)
	baseSnap, prior := c.base.Load(), c.prior
	c.mu.Unlock()

	var errs []error
	var today int64
	wroteToday := false
	for _, day := range slices.SortedFunc(maps.Keys(writes), time.Time.Compare) {
		n, key := writes[day], c.usageKey(day)
		var merged int64
		_, err := st.Modify(ctx, apimodel.BucketUsage, key, func(cur []byte) ([]byte, error) {
			merged = parseCount(cur) + n
			return formatCount(merged), nil
		})
		if err != nil {
			c.mu.Lock()
			c.unflushed[day] += n
			c.mu.Unlock()
			errs = append(errs, fmt.Errorf("throttle: write usage counter %s: %w", key, err))
			continue
		}
		if day.Equal(w.day) {
			today, wroteToday = merged, true
		}
	}
	if len(errs) > 0 {
		// base keeps this node's view; the next flush retries and refreshes it.
		return errors.Join(errs...)
	}
	var err error
	if !wroteToday {
		if today, err = c.readDay(ctx, st, w.day); err != nil {
			return err
		}
	}
	if stale || now.UnixNano() < w.dayStart+int64(c.settle) {
		if prior, err = c.readDays(ctx, st, w.periodStart, w.day); err != nil {
			return err
		}
	}
	c.mu.Lock()
	if c.win.Load() == w {
		// Keep what this node drained (by rollover) while the writes were in flight.
		c.base.Store(prior + today + c.base.Load() - baseSnap)
		c.prior, c.priorDay = prior, w.day
	}
	c.mu.Unlock()
	return nil
}

// setRemaining makes the current period's remaining quota r (UpdateUsage), by rewriting
// the period's daily counters so that they add up to limit-r: today's counter takes
// the difference, and when the earlier days already hold more than that, they are
// lowered, latest first. Counters cannot go below zero, so r is held to [0, limit].
func (c *counter) setRemaining(ctx context.Context, st *store.Store, r int64, now time.Time) error {
	c.io.Lock()
	defer c.io.Unlock()
	if err := c.flushIO(ctx, st, now); err != nil {
		return err
	}
	w := c.win.Load()
	want := c.limit - min(max(r, 0), c.limit)
	if st != nil {
		if err := c.rewritePeriod(ctx, st, w, want); err != nil {
			return err
		}
	}
	c.mu.Lock()
	if c.win.Load() == w {
		c.drainLocked(w)
		// Requests counted since the flush are not in the store yet: they come on top.
		var unwritten int64
		for day, n := range c.unflushed {
			if !day.Before(w.periodStart) {
				unwritten += n
			}
		}
		c.base.Store(want + unwritten)
		c.priorDay = time.Time{} // read the earlier days again at the next flush
	}
	c.mu.Unlock()
	return nil
}

// rewritePeriod sets the stored counters of w's period so that they add up to want.
func (c *counter) rewritePeriod(ctx context.Context, st *store.Store, w *window, want int64) error {
	var earlier []time.Time // latest first
	var sum int64
	for d := w.day.AddDate(0, 0, -1); !d.Before(w.periodStart); d = d.AddDate(0, 0, -1) {
		n, err := c.readDay(ctx, st, d)
		if err != nil {
			return err
		}
		if n > 0 {
			earlier = append(earlier, d)
			sum += n
		}
	}
	today := max(want-sum, 0)
	if _, err := st.Modify(ctx, apimodel.BucketUsage, c.usageKey(w.day), func([]byte) ([]byte, error) {
		return formatCount(today), nil
	}); err != nil {
		return fmt.Errorf("throttle: update usage %s: %w", c.usageKey(w.day), err)
	}
	excess := sum - want
	for _, d := range earlier {
		if excess <= 0 {
			break
		}
		var cut int64
		if _, err := st.Modify(ctx, apimodel.BucketUsage, c.usageKey(d), func(cur []byte) ([]byte, error) {
			n := parseCount(cur)
			cut = min(n, excess)
			return formatCount(n - cut), nil
		}); err != nil {
			return fmt.Errorf("throttle: update usage %s: %w", c.usageKey(d), err)
		}
		excess -= cut
	}
	return nil
}
