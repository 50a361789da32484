package function

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// pool is one function: its configuration, its concurrency slots and its
// instances.
type pool struct {
	h      *Host
	key    string        // StoreKey
	static bool          // from HostOptions.Functions; immutable
	gone   chan struct{} // closed by remove

	// mu guards the fields below. It is never held while waiting for a
	// process or the network.
	mu      sync.Mutex
	fn      Function
	fp      string // fn's fingerprint; instances of another one are replaced
	rev     uint64
	limit   int
	running int             // concurrency slots in use
	waiters []chan struct{} // queued invocations, oldest first; closing one hands it a slot
	idle    []*instance     // warm instances, most recently used last
	all     map[*instance]struct{}
	removed bool
	logf    *os.File // {DataDir}/functions/{name}.log, opened on first use
}

// update installs a new configuration; warm instances of an older one stop.
func (p *pool) update(fn Function, rev uint64) {
	fp := fn.fingerprint()
	p.mu.Lock()
	p.fn, p.rev = fn, rev
	p.limit = fn.Concurrency
	if p.limit <= 0 {
		p.limit = p.h.opts.DefaultConcurrency
	}
	var stale []*instance
	if fp != p.fp {
		p.fp = fp
		stale = p.idle
		p.idle = nil
	}
	// A higher limit may admit queued invocations.
	for p.running < p.limit && len(p.waiters) > 0 {
		p.running++
		close(p.waiters[0])
		p.waiters = p.waiters[1:]
	}
	p.mu.Unlock()
	for _, inst := range stale {
		inst.kill()
	}
}

// snapshot returns the current configuration, its fingerprint and revision.
func (p *pool) snapshot() (Function, string, uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fn, p.fp, p.rev
}

// acquire takes a concurrency slot, waiting for one until ctx ends when queue
// is set.
func (p *pool) acquire(ctx context.Context, queue bool) error {
	p.mu.Lock()
	if p.removed {
		p.mu.Unlock()
		return notFound(p.fn.arn())
	}
	if p.running < p.limit {
		p.running++
		p.mu.Unlock()
		return nil
	}
	if !queue {
		p.mu.Unlock()
		return throttled()
	}
	ch := make(chan struct{})
	p.waiters = append(p.waiters, ch)
	p.mu.Unlock()
	var err error
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-p.h.done:
		err = ErrClosed
	case <-p.gone:
		err = notFound(p.snapshotARN())
	}
	p.mu.Lock()
	if i := slices.Index(p.waiters, ch); i >= 0 {
		p.waiters = slices.Delete(p.waiters, i, i+1)
		p.mu.Unlock()
		return err
	}
	p.mu.Unlock()
	// The slot was handed over while we gave up: pass it on.
	p.release()
	return err
}

// release frees a slot, handing it to the oldest queued invocation.
func (p *pool) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.waiters) > 0 && p.running <= p.limit {
		close(p.waiters[0])
		p.waiters = p.waiters[1:]
		return
	}
	p.running--
}

// get returns a warm instance of fingerprint fp, or starts a new one.
func (p *pool) get(fn *Function, fp string) (*instance, error) {
	var stale []*instance
	p.mu.Lock()
	for len(p.idle) > 0 {
		inst := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if inst.fp == fp {
			p.mu.Unlock()
			for _, s := range stale {
				s.kill()
			}
			return inst, nil
		}
		stale = append(stale, inst)
	}
	logf, err := p.logFile()
	p.mu.Unlock()
	for _, s := range stale {
		s.kill()
	}
	if err != nil {
		return nil, err
	}
	inst, err := startInstance(p, fn, fp, logf)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	if p.removed {
		p.mu.Unlock()
		inst.kill()
		return inst, nil // the invocation ends with the instance
	}
	p.all[inst] = struct{}{}
	p.mu.Unlock()
	return inst, nil
}

// putIdle returns an instance whose invocation ended to the warm set, or
// stops it if the function changed or went away.
func (p *pool) putIdle(inst *instance) {
	p.mu.Lock()
	if p.removed || inst.fp != p.fp {
		p.mu.Unlock()
		inst.kill()
		return
	}
	inst.lastUsed = time.Now()
	p.idle = append(p.idle, inst)
	p.mu.Unlock()
}

// forget drops an instance whose process has exited; the last instance of a
// removed function closes its log.
func (p *pool) forget(inst *instance) {
	p.mu.Lock()
	delete(p.all, inst)
	if i := slices.Index(p.idle, inst); i >= 0 {
		p.idle = slices.Delete(p.idle, i, i+1)
	}
	if p.removed && len(p.all) == 0 && p.logf != nil {
		_ = p.logf.Close()
		p.logf = nil
	}
	p.mu.Unlock()
}

// reap stops instances idle since before cutoff.
func (p *pool) reap(cutoff time.Time) {
	var old []*instance
	p.mu.Lock()
	keep := p.idle[:0]
	for _, inst := range p.idle {
		if inst.lastUsed.Before(cutoff) {
			old = append(old, inst)
		} else {
			keep = append(keep, inst)
		}
	}
	clear(p.idle[len(keep):])
	p.idle = keep
	p.mu.Unlock()
	for _, inst := range old {
		inst.kill()
	}
}

// dropIdle stops every warm instance (the next invocation is a cold start).
func (p *pool) dropIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, inst := range idle {
		inst.kill()
	}
}

// remove marks the function gone and stops its instances; queued
// invocations fail.
func (p *pool) remove() {
	p.mu.Lock()
	if !p.removed {
		close(p.gone)
	}
	p.removed = true
	all := make([]*instance, 0, len(p.all))
	for inst := range p.all {
		all = append(all, inst)
	}
	p.idle = nil
	if len(all) == 0 && p.logf != nil {
		_ = p.logf.Close()
		p.logf = nil
	}
	p.mu.Unlock()
	closing := false
	select {
	case <-p.h.done:
		closing = true
	default:
	}
	for _, inst := range all {
		if closing {
			inst.abort(ErrClosed)
		} else if inst.isIdle() {
			inst.kill()
		}
		// A busy instance of a deleted function finishes its invocation,
		// then putIdle stops it.
	}
}

// logFile opens the function's log file. p.mu is held.
func (p *pool) logFile() (*os.File, error) {
	if p.logf != nil {
		return p.logf, nil
	}
	dir := filepath.Join(p.h.opts.DataDir, "functions")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, p.fn.Name+".log"), os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	p.logf = f
	return f, nil
}

// logLines appends text to the function's log.
func (p *pool) logLines(s string) {
	p.mu.Lock()
	f, err := p.logFile()
	p.mu.Unlock()
	if err == nil {
		_, _ = f.WriteString(s)
	}
}

func (p *pool) closeLog() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.logf != nil {
		_ = p.logf.Close()
		p.logf = nil
	}
}

func (p *pool) snapshotARN() string {
	fn, _, _ := p.snapshot()
	return fn.arn()
}

func (f *Function) arn() string { return ARN(f.Region, f.Account, f.Name) }
