package throttle

import (
	"math"
	"sync"
	"sync/atomic"
)

// Limit is one token bucket's configuration: Rate tokens per second refill a bucket of
// Burst tokens. A Limit with Rate <= 0 or Burst <= 0 admits nothing (AWS answers every
// request with 429 when a throttle is set to 0).
type Limit struct {
	Rate  float64
	Burst int
}

// bucket is a token bucket implemented as GCRA (the generic cell rate algorithm): the
// whole state is one "theoretical arrival time" updated with compare-and-swap, so taking
// a token never locks and never allocates. GCRA with emission interval T = 1/rate and
// tolerance burst*T admits exactly the requests a token bucket of that rate and size
// admits.
type bucket struct {
	tat       atomic.Int64 // theoretical arrival time, in ns since the limiter's epoch
	interval  int64        // ns per token; 0 = admits nothing
	tolerance int64        // burst * interval
	limit     Limit
}

func newBucket(l Limit) *bucket {
	b := &bucket{limit: l}
	if l.Rate <= 0 || l.Burst <= 0 || math.IsNaN(l.Rate) {
		return b
	}
	iv := 1e9 / l.Rate
	if iv < 1 {
		iv = 1
	}
	if iv > math.MaxInt64/(float64(l.Burst)+1) {
		iv = math.MaxInt64 / (float64(l.Burst) + 1)
	}
	b.interval = int64(iv)
	b.tolerance = b.interval * int64(l.Burst)
	return b
}

// take admits one request at now (ns since the epoch) and consumes a token.
func (b *bucket) take(now int64) bool {
	if b.interval == 0 {
		return false
	}
	for {
		tat := b.tat.Load()
		next := max(tat, now) + b.interval
		if next-now > b.tolerance {
			return false
		}
		if b.tat.CompareAndSwap(tat, next) {
			return true
		}
	}
}

// refund gives back a token taken by take (when a later level rejected the request).
func (b *bucket) refund() {
	if b.interval != 0 {
		b.tat.Add(-b.interval)
	}
}

// cowMap is a copy-on-write map: Load is lock-free and allocation-free, Store copies the
// map under a mutex. It suits maps that are read on every request and written a few
// times in their life (one entry per API method, per account).
type cowMap[K comparable, V any] struct {
	mu sync.Mutex // serializes writers
	m  atomic.Pointer[map[K]V]
}

func (c *cowMap[K, V]) load(k K) (V, bool) {
	if p := c.m.Load(); p != nil {
		v, ok := (*p)[k]
		return v, ok
	}
	var zero V
	return zero, false
}

// loadOrStore returns the value for k, storing mk() first if k is absent.
func (c *cowMap[K, V]) loadOrStore(k K, mk func() V) V {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.m.Load()
	if old != nil {
		if v, ok := (*old)[k]; ok {
			return v
		}
	}
	n := make(map[K]V, 1+lenOf(old))
	if old != nil {
		for kk, vv := range *old {
			n[kk] = vv
		}
	}
	v := mk()
	n[k] = v
	c.m.Store(&n)
	return v
}

func lenOf[K comparable, V any](p *map[K]V) int {
	if p == nil {
		return 0
	}
	return len(*p)
}
