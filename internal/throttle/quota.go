package throttle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"gatehouse/internal/store"
)

const dateLayout = "2006-01-02"

// periodBounds returns the quota period containing t, in UTC: a calendar day, a week
// starting on Sunday, or a calendar month.
func periodBounds(period string, t time.Time) (start, end time.Time) {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch period {
	case PeriodWeek:
		start = day.AddDate(0, 0, -int(day.Weekday()))
		return start, start.AddDate(0, 0, 7)
	case PeriodMonth:
		start = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
		return start, start.AddDate(0, 1, 0)
	default:
		return day, day.AddDate(0, 0, 1)
	}
}

// effectiveLimit is the quota limit of the period starting at start: the plan's limit,
// less the offset in the plan's initial period.
func effectiveLimit(q *QuotaSettings, created, start time.Time) int64 {
	l := int64(q.Limit)
	if !created.IsZero() {
		if cs, _ := periodBounds(q.Period, created); cs.Equal(start) {
			l -= int64(q.Offset)
		}
	}
	return max(l, 0)
}

// usageDocKey is the store key of one plan/key/period counter document.
func usageDocKey(planID, keyID, period string, start time.Time) string {
	return planID + "/" + keyID + "/" + period + "/" + start.Format(dateLayout)
}

// usageDoc is the stored counter of one API key in one usage plan for one quota period:
// requests admitted per UTC day, from every gatehouse node (each adds its own counts
// with a read-modify-write), and the adjustment UpdateUsage made to the remaining quota.
type usageDoc struct {
	UsagePlanID string           `json:"usagePlanId"`
	KeyID       string           `json:"keyId"`
	Period      string           `json:"period"`
	Start       string           `json:"start"`
	Adjust      int64            `json:"adjust,omitempty"`
	Days        map[string]int64 `json:"days"`
}

func (d *usageDoc) used() int64 {
	var n int64
	for _, v := range d.Days {
		n += v
	}
	return n + d.Adjust
}

func parseUsageDoc(b []byte) (*usageDoc, error) {
	d := &usageDoc{}
	if len(b) > 0 {
		if err := json.Unmarshal(b, d); err != nil {
			return nil, err
		}
	}
	if d.Days == nil {
		d.Days = map[string]int64{}
	}
	return d, nil
}

// window is the counter's current day and quota period. It is replaced, never changed.
type window struct {
	dayStart, dayEnd int64 // unix ns
	day              string
	periodStart      time.Time
	limit            int64
	doc              string // store key of the period's document
}

type docDay struct{ doc, day string }

// counter counts one API key's requests against one usage plan's quota. The request path
// touches only atomics: base (the period's count as last known, from the store and from
// this node) plus pending (this node's requests since the last flush or roll) is the
// period's usage. A mutex serializes day/period rollover and the write-back.
type counter struct {
	planID, keyID string
	quota         QuotaSettings
	created       time.Time
	kick          chan<- struct{}
	kickAt        int64

	win     atomic.Pointer[window]
	base    atomic.Int64
	pending atomic.Int64

	mu        sync.Mutex       // guards unflushed, and orders rollover against flush
	unflushed map[docDay]int64 // counted here, not yet written to the store
}

func newCounter(planID, keyID string, q QuotaSettings, created, now time.Time, kick chan<- struct{}, kickAt int64) *counter {
	c := &counter{planID: planID, keyID: keyID, quota: q, created: created, kick: kick, kickAt: kickAt,
		unflushed: map[docDay]int64{}}
	c.win.Store(c.windowAt(now))
	return c
}

func (c *counter) windowAt(now time.Time) *window {
	ps, _ := periodBounds(c.quota.Period, now)
	ds, de := periodBounds(PeriodDay, now)
	return &window{
		dayStart:    ds.UnixNano(),
		dayEnd:      de.UnixNano(),
		day:         ds.Format(dateLayout),
		periodStart: ps,
		limit:       effectiveLimit(&c.quota, c.created, ps),
		doc:         usageDocKey(c.planID, c.keyID, c.quota.Period, ps),
	}
}

// take counts one request at now; it reports false, counting nothing, when the period's
// quota is used up.
func (c *counter) take(now time.Time) bool {
	t := now.UnixNano()
	w := c.win.Load()
	if t < w.dayStart || t >= w.dayEnd {
		w = c.roll(now)
	}
	n := c.pending.Add(1)
	if c.base.Load()+n > w.limit {
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
	if nw.doc != w.doc {
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
	c.unflushed[docDay{w.doc, w.day}] += d
}

// load reads the current period's count from the store.
func (c *counter) load(ctx context.Context, st *store.Store) error {
	if st == nil {
		return nil
	}
	w := c.win.Load()
	e, err := st.Get(ctx, BucketUsage, w.doc)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("throttle: load quota counter: %w", err)
	}
	d, err := parseUsageDoc(e.Value)
	if err != nil {
		return fmt.Errorf("throttle: load quota counter %s: %w", w.doc, err)
	}
	c.mu.Lock()
	if c.win.Load() == w {
		c.base.Store(d.used())
	}
	c.mu.Unlock()
	return nil
}

// flush writes this node's uncounted requests to the store, merging them into what the
// other nodes wrote, and refreshes base from the merged document.
func (c *counter) flush(ctx context.Context, st *store.Store) error {
	c.mu.Lock()
	w := c.win.Load()
	c.drainLocked(w)
	if len(c.unflushed) == 0 {
		c.mu.Unlock()
		return nil
	}
	byDoc := map[string]map[string]int64{}
	for dd, n := range c.unflushed {
		if byDoc[dd.doc] == nil {
			byDoc[dd.doc] = map[string]int64{}
		}
		byDoc[dd.doc][dd.day] += n
	}
	clear(c.unflushed)
	baseSnap := c.base.Load()
	c.mu.Unlock()

	if st == nil {
		return nil
	}
	docs := make([]string, 0, len(byDoc))
	for k := range byDoc {
		docs = append(docs, k)
	}
	sort.Strings(docs)
	var errs []error
	for _, key := range docs {
		days := byDoc[key]
		var merged *usageDoc
		_, err := st.Modify(ctx, BucketUsage, key, func(cur []byte) ([]byte, error) {
			d, err := parseUsageDoc(cur)
			if err != nil {
				return nil, err
			}
			if d.UsagePlanID == "" {
				d.UsagePlanID, d.KeyID, d.Period = c.planID, c.keyID, c.quota.Period
				d.Start = key[len(key)-len(dateLayout):]
			}
			for day, n := range days {
				d.Days[day] += n
			}
			merged = d
			return json.Marshal(d)
		})
		if err != nil {
			c.mu.Lock()
			for day, n := range days {
				c.unflushed[docDay{key, day}] += n
			}
			c.mu.Unlock()
			errs = append(errs, fmt.Errorf("throttle: write quota counter %s: %w", key, err))
			continue
		}
		if key == w.doc {
			c.mu.Lock()
			if cw := c.win.Load(); cw.doc == key {
				// Keep what this node added (by rollover) while the write was in flight.
				c.base.Store(merged.used() + c.base.Load() - baseSnap)
			}
			c.mu.Unlock()
		}
	}
	return errors.Join(errs...)
}

// setRemaining makes the current period's remaining quota r (UpdateUsage).
func (c *counter) setRemaining(ctx context.Context, st *store.Store, r int64) error {
	if err := c.flush(ctx, st); err != nil {
		return err
	}
	c.mu.Lock()
	w := c.win.Load()
	c.mu.Unlock()
	want := w.limit - r
	if st != nil {
		var merged *usageDoc
		_, err := st.Modify(ctx, BucketUsage, w.doc, func(cur []byte) ([]byte, error) {
			d, err := parseUsageDoc(cur)
			if err != nil {
				return nil, err
			}
			d.UsagePlanID, d.KeyID, d.Period, d.Start = c.planID, c.keyID, c.quota.Period, w.periodStart.Format(dateLayout)
			d.Adjust = 0
			d.Adjust = want - d.used()
			merged = d
			return json.Marshal(d)
		})
		if err != nil {
			return fmt.Errorf("throttle: update usage %s: %w", w.doc, err)
		}
		want = merged.used()
	}
	c.mu.Lock()
	if c.win.Load().doc == w.doc {
		c.drainLocked(c.win.Load())
		// Requests drained into base while the write ran belong on top of the new figure.
		c.base.Store(want)
	}
	c.mu.Unlock()
	return nil
}
