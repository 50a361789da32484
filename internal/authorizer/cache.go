package authorizer

import (
	"context"
	"fmt"
	"hash/maphash"
	"sync"
)

// cacheShards is the number of independently locked parts of a ttlCache.
const cacheShards = 16

// ttlCache is a bounded map from string keys to values that expire. Reads
// take one shard's read lock; nothing is held across calls out of the cache.
// The zero value is not usable: use newTTLCache.
type ttlCache[V any] struct {
	seed     maphash.Seed
	perShard int // maximum entries per shard
	shards   [cacheShards]cacheShard[V]
}

type cacheShard[V any] struct {
	mu sync.RWMutex // guards m
	m  map[string]cacheEntry[V]
	_  [40]byte // keep shards on separate cache lines
}

type cacheEntry[V any] struct {
	v       V
	expires int64 // unix nanoseconds; the entry is dead at or after this time
}

// newTTLCache returns a cache holding at most about maxEntries entries
// (rounded up to a multiple of the shard count).
func newTTLCache[V any](maxEntries int) *ttlCache[V] {
	if maxEntries < cacheShards {
		maxEntries = cacheShards
	}
	c := &ttlCache[V]{seed: maphash.MakeSeed(), perShard: (maxEntries + cacheShards - 1) / cacheShards}
	for i := range c.shards {
		c.shards[i].m = make(map[string]cacheEntry[V])
	}
	return c
}

func (c *ttlCache[V]) shard(key string) *cacheShard[V] {
	return &c.shards[maphash.String(c.seed, key)%cacheShards]
}

// get returns the live value for key at time now (unix nanoseconds).
func (c *ttlCache[V]) get(key string, now int64) (V, bool) {
	s := c.shard(key)
	s.mu.RLock()
	e, ok := s.m[key]
	s.mu.RUnlock()
	if !ok || now >= e.expires {
		var zero V
		return zero, false
	}
	return e.v, true
}

// put stores v under key until expires (unix nanoseconds). When the shard is
// full it first drops expired entries, then arbitrary ones.
func (c *ttlCache[V]) put(key string, v V, expires, now int64) {
	s := c.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, exists := s.m[key]; !exists && len(s.m) >= c.perShard {
		for k, e := range s.m {
			if now >= e.expires {
				delete(s.m, k)
			}
		}
		for k := range s.m {
			if len(s.m) < c.perShard {
				break
			}
			delete(s.m, k) // map order is random: a random eviction
		}
	}
	s.m[key] = cacheEntry[V]{v: v, expires: expires}
}

// flush removes every entry.
func (c *ttlCache[V]) flush() {
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.Lock()
		clear(s.m)
		s.mu.Unlock()
	}
}

// len returns the number of entries, live or not yet swept.
func (c *ttlCache[V]) len() int {
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.m)
		s.mu.RUnlock()
	}
	return n
}

// flightGroup makes concurrent calls for the same key share one execution
// (a small singleflight whose waiters honour their own contexts).
type flightGroup[V any] struct {
	mu sync.Mutex // guards m
	m  map[string]*flight[V]
}

type flight[V any] struct {
	done chan struct{} // closed when v and f are set
	v    V
	f    *Failure
}

// do runs one execution for all concurrent callers with the same key. The
// caller that starts a flight calls prepare synchronously, outside any lock
// (so prepare may read request data the caller owns); the function prepare
// returns then runs in its own goroutine with a context that is not
// cancelled when the caller's is (one client going away does not fail the
// others). Each caller waits until that function returns or its own ctx is
// done. shared reports whether this caller joined a flight another started.
func (g *flightGroup[V]) do(ctx context.Context, key string, prepare func() (func(context.Context) (V, *Failure), *Failure)) (v V, f *Failure, shared bool) {
	g.mu.Lock()
	if g.m == nil {
		g.m = make(map[string]*flight[V])
	}
	fl, ok := g.m[key]
	if !ok {
		fl = &flight[V]{done: make(chan struct{})}
		g.m[key] = fl
	}
	g.mu.Unlock()
	if !ok {
		fn, pf := prepare()
		if pf != nil {
			fl.f = pf
			g.finish(key, fl)
			return v, pf, false
		}
		fctx := context.WithoutCancel(ctx)
		go func() {
			defer func() {
				if r := recover(); r != nil {
					var zero V
					fl.v, fl.f = zero, configError(fmt.Errorf("authorizer panic: %v", r))
				}
				g.finish(key, fl)
			}()
			fl.v, fl.f = fn(fctx)
		}()
	}
	select {
	case <-fl.done:
		return fl.v, fl.f, ok
	case <-ctx.Done():
		var zero V
		return zero, configError(context.Cause(ctx)), ok
	}
}

// finish removes fl from the group and releases its waiters.
func (g *flightGroup[V]) finish(key string, fl *flight[V]) {
	g.mu.Lock()
	if g.m[key] == fl {
		delete(g.m, key)
	}
	g.mu.Unlock()
	close(fl.done)
}
