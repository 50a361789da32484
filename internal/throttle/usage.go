package throttle

import (
	"context"
	"fmt"
	"time"

	"gatehouse/internal/store"
)

// ReadUsage answers GetUsage from the stored counters: for each key id, one
// [used, remaining] pair per UTC day from start to end (inclusive, "yyyy-mm-dd"). Used
// is the requests admitted that day; remaining is the plan's current quota left at the
// end of that day in that day's period (0 when the plan has no quota). Counts a node has
// not written back yet are missing; Limiter.Usage flushes first.
func ReadUsage(ctx context.Context, st *store.Store, plan *UsagePlan, keyIDs []string, start, end string) (*Usage, error) {
	s, err := time.Parse(dateLayout, start)
	if err != nil {
		return nil, fmt.Errorf("throttle: start date %q: %w", start, err)
	}
	e, err := time.Parse(dateLayout, end)
	if err != nil {
		return nil, fmt.Errorf("throttle: end date %q: %w", end, err)
	}
	if e.Before(s) {
		return nil, fmt.Errorf("throttle: end date %s is before start date %s", end, start)
	}
	u := &Usage{UsagePlanID: plan.ID, StartDate: start, EndDate: end, Items: make(map[string][][2]int64, len(keyIDs))}
	for _, keyID := range keyIDs {
		days := map[string]int64{}
		adjust := map[string]int64{} // by period doc start, for the plan's current period type
		if st != nil {
			entries, err := st.List(ctx, BucketUsage, plan.ID+"/"+keyID+"/")
			if err != nil {
				return nil, fmt.Errorf("throttle: read usage: %w", err)
			}
			for _, en := range entries {
				d, err := parseUsageDoc(en.Value)
				if err != nil {
					return nil, fmt.Errorf("throttle: read usage %s: %w", en.Key, err)
				}
				for day, n := range d.Days {
					days[day] += n
				}
				if plan.Quota != nil && d.Period == plan.Quota.Period {
					adjust[d.Start] += d.Adjust
				}
			}
		}
		u.Items[keyID] = usageSeries(plan, days, adjust, s, e)
	}
	return u, nil
}

func usageSeries(plan *UsagePlan, days, adjust map[string]int64, s, e time.Time) [][2]int64 {
	var out [][2]int64
	q := plan.Quota
	var periodStart time.Time
	var usedInPeriod int64
	for d := s; !d.After(e); d = d.AddDate(0, 0, 1) {
		used := days[d.Format(dateLayout)]
		if q == nil {
			out = append(out, [2]int64{used, 0})
			continue
		}
		ps, _ := periodBounds(q.Period, d)
		if !ps.Equal(periodStart) {
			periodStart = ps
			// Days of the period before the requested range still count.
			usedInPeriod = adjust[ps.Format(dateLayout)]
			for pd := ps; pd.Before(d); pd = pd.AddDate(0, 0, 1) {
				usedInPeriod += days[pd.Format(dateLayout)]
			}
		}
		usedInPeriod += used
		limit := effectiveLimit(q, plan.CreatedDate.Time(), ps)
		out = append(out, [2]int64{used, max(limit-usedInPeriod, 0)})
	}
	return out
}

// Usage is ReadUsage after writing this limiter's own counts back.
func (l *Limiter) Usage(ctx context.Context, plan *UsagePlan, keyIDs []string, start, end string) (*Usage, error) {
	if err := l.Flush(ctx); err != nil {
		return nil, err
	}
	if l.opts.Store == nil {
		return l.memoryUsage(plan, keyIDs, start, end)
	}
	return ReadUsage(ctx, l.opts.Store, plan, keyIDs, start, end)
}

// memoryUsage reports usage without a store: only the current period's total is known,
// attributed to today.
func (l *Limiter) memoryUsage(plan *UsagePlan, keyIDs []string, start, end string) (*Usage, error) {
	s, err := time.Parse(dateLayout, start)
	if err != nil {
		return nil, fmt.Errorf("throttle: start date %q: %w", start, err)
	}
	e, err := time.Parse(dateLayout, end)
	if err != nil {
		return nil, fmt.Errorf("throttle: end date %q: %w", end, err)
	}
	u := &Usage{UsagePlanID: plan.ID, StartDate: start, EndDate: end, Items: map[string][][2]int64{}}
	today := l.now().UTC().Format(dateLayout)
	for _, keyID := range keyIDs {
		days := map[string]int64{}
		l.mu.Lock()
		if c := l.counters[counterKey{plan.ID, keyID}]; c != nil {
			days[today] = c.base.Load() + c.pending.Load()
		}
		l.mu.Unlock()
		u.Items[keyID] = usageSeries(plan, days, nil, s, e)
	}
	return u, nil
}
