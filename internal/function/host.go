package function

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

//go:embed runtime/python/bootstrap.py
var pythonBootstrap []byte

// HostOptions configure NewHost.
type HostOptions struct {
	// Region is the Region of function ARNs. Default us-east-1.
	Region string
	// DataDir holds function logs ({DataDir}/functions/{name}.log) and the
	// Python runtime loop ({DataDir}/functions/runtime/python/bootstrap.py).
	// Required.
	DataDir string
	// Logger receives the host's own events (instances started and ended).
	// Nil discards.
	Logger *slog.Logger
	// DefaultConcurrency is a function's concurrency limit when it sets
	// none. Default 64.
	DefaultConcurrency int
	// QueueThrottled makes invocations beyond a function's concurrency
	// limit wait for a free slot until their context ends, instead of
	// failing at once with TooManyRequestsException as AWS does for
	// synchronous invocations.
	QueueThrottled bool
	// IdleTimeout is how long a warm instance waits for its next invocation
	// before it is stopped. Default 10 minutes.
	IdleTimeout time.Duration
	// InitTimeout bounds a new instance's init phase (until the runtime's
	// first /next). Default 10 seconds, as AWS's init phase.
	InitTimeout time.Duration
	// Python is the interpreter for python3.N functions. Default: the first
	// of "python3.N" and "python3" found on PATH.
	Python string
	// HTTPClient invokes Endpoint functions. Default: a client without a
	// timeout (each call is bounded by its context and the function's
	// timeout plus 30 seconds).
	HTTPClient *http.Client
	// Functions are defined up front (the topology file's); they are never
	// removed by Sync.
	Functions []Function
}

// InvokeOptions adjust one invocation.
type InvokeOptions struct {
	// LogTail fills Result.LogResult with the last 4 KB of the invocation's
	// log, base64-encoded (the Invoke API's LogType Tail).
	LogTail bool
	// Queue waits for a concurrency slot until ctx ends instead of failing
	// with TooManyRequestsException (as AWS does for asynchronous
	// invocations). HostOptions.QueueThrottled makes this the default.
	Queue bool
	// ClientContext is the Invoke API's X-Amz-Client-Context (base64 JSON),
	// passed to the runtime decoded in Lambda-Runtime-Client-Context.
	ClientContext string
}

// Result is the outcome of an invocation that reached the function.
type Result struct {
	// Payload is the function's response, or the error document when
	// FunctionError is set.
	Payload []byte
	// FunctionError is "Unhandled" when the function failed (an error the
	// runtime reported, a crash, a timeout), "" otherwise.
	FunctionError string
	// StatusCode is the Invoke API status: 200 (RequestResponse).
	StatusCode int
	// LogResult is the base64 last 4 KB of the invocation's log when
	// InvokeOptions.LogTail was set.
	LogResult string
	// RequestID is the invocation's request id.
	RequestID string
	// ExecutedVersion is "$LATEST".
	ExecutedVersion string
}

// Host runs functions: local ones as processes under the Lambda Runtime API
// it serves, remote ones through the Lambda Invoke API. It is safe for
// concurrent use.
type Host struct {
	opts       HostOptions
	log        *slog.Logger
	bootstrap  string // path of the Python runtime loop
	httpClient *http.Client
	done       chan struct{} // closed by Close
	synced     chan struct{} // closed after Sync's first snapshot
	syncedOnce sync.Once

	// mu guards pools, tombs and closed. Never held while a pool's mu is
	// taken.
	mu     sync.Mutex
	pools  map[string]*pool  // by StoreKey
	tombs  map[string]uint64 // StoreKey -> revision of its delete
	closed bool

	pyMu    sync.Mutex        // guards pythons
	pythons map[string]string // runtime -> interpreter

	wg        sync.WaitGroup // instance goroutines and the janitor
	closeOnce sync.Once
}

// NewHost returns a Host with the static functions of opts loaded. It writes
// the Python runtime loop under DataDir and starts the idle-instance janitor;
// Close stops everything.
func NewHost(opts HostOptions) (*Host, error) {
	if opts.DataDir == "" {
		return nil, errors.New("function: HostOptions.DataDir is required")
	}
	if opts.Region == "" {
		opts.Region = "us-east-1"
	}
	if opts.DefaultConcurrency <= 0 {
		opts.DefaultConcurrency = 64
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 10 * time.Minute
	}
	if opts.InitTimeout <= 0 {
		opts.InitTimeout = 10 * time.Second
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Host{
		opts:       opts,
		log:        log.With("component", "function"),
		httpClient: opts.HTTPClient,
		done:       make(chan struct{}),
		synced:     make(chan struct{}),
		pools:      map[string]*pool{},
		tombs:      map[string]uint64{},
	}
	if h.httpClient == nil {
		h.httpClient = &http.Client{}
	}
	dir := filepath.Join(opts.DataDir, "functions", "runtime", "python")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("function: %w", err)
	}
	h.bootstrap = filepath.Join(dir, "bootstrap.py")
	if cur, err := os.ReadFile(h.bootstrap); err != nil || string(cur) != string(pythonBootstrap) {
		if err := writeFileAtomic(h.bootstrap, pythonBootstrap, 0o644); err != nil {
			return nil, fmt.Errorf("function: write the Python runtime: %w", err)
		}
	}
	for _, fn := range opts.Functions {
		if err := h.put(fn, 0, true); err != nil {
			return nil, err
		}
	}
	h.wg.Add(1)
	go h.janitor()
	return h, nil
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp.Name(), mode)); err != nil {
		_ = os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Put adds or replaces a function. rev is the store revision it was read at:
// a Put older than the function's current revision, or than its deletion,
// is ignored, so direct calls and Sync's watch may race safely. Warm
// instances of a changed function are replaced.
func (h *Host) Put(fn Function, rev uint64) error { return h.put(fn, rev, false) }

// Remove removes a function written at a revision before rev. Instances
// finish their current invocation and stop.
func (h *Host) Remove(account, name string, rev uint64) {
	key := StoreKey(account, name)
	h.mu.Lock()
	p := h.pools[key]
	if p != nil && p.static {
		h.mu.Unlock()
		return
	}
	if rev > h.tombs[key] {
		h.tombs[key] = rev
	}
	if p != nil && p.rev <= rev {
		delete(h.pools, key)
	} else {
		p = nil
	}
	h.mu.Unlock()
	if p != nil {
		p.remove()
	}
}

func (h *Host) put(fn Function, rev uint64, static bool) error {
	if err := validate(&fn); err != nil {
		return err
	}
	if fn.Region == "" {
		fn.Region = h.opts.Region
	}
	key := StoreKey(fn.Account, fn.Name)
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return ErrClosed
	}
	if !static && rev <= h.tombs[key] && h.tombs[key] != 0 {
		return nil
	}
	p := h.pools[key]
	if p == nil {
		p = &pool{h: h, key: key, static: static, gone: make(chan struct{}), all: map[*instance]struct{}{}}
		h.pools[key] = p
	} else if p.static && !static {
		h.log.Warn("a stored function has the name of a topology function; the topology's wins",
			"function", fn.Name, "account", fn.Account)
		return nil
	} else if !static && rev < p.rev {
		return nil
	}
	p.update(fn, rev)
	return nil
}

func validate(fn *Function) error {
	if !ValidName(fn.Name) {
		return fmt.Errorf("function: invalid name %q", fn.Name)
	}
	if !isAccountID(fn.Account) {
		return fmt.Errorf("function %s: invalid account %q", fn.Name, fn.Account)
	}
	kinds := 0
	if fn.Endpoint != nil {
		kinds++
	}
	if fn.Command != nil {
		kinds++
	}
	if fn.CodeDir != "" {
		kinds++
		if !SupportedRuntime(fn.Runtime) {
			return fmt.Errorf("function %s: runtime %q is not supported", fn.Name, fn.Runtime)
		}
	}
	if kinds != 1 {
		return fmt.Errorf("function %s: want exactly one of Endpoint, Command and CodeDir", fn.Name)
	}
	return nil
}

// Function returns the function ref names (see ParseRef) and whether it is
// known.
func (h *Host) Function(ref string) (Function, bool) {
	p, err := h.lookup(ref)
	if err != nil {
		return Function{}, false
	}
	fn, _, _ := p.snapshot()
	return fn, true
}

// lookup finds the pool of ref. A bare name must be unique across accounts.
func (h *Host) lookup(ref string) (*pool, error) {
	r, err := ParseRef(ref)
	if err != nil {
		return nil, notFound(ref)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	display := func(account string) string {
		if account == "" {
			account = "000000000000"
		}
		s := ARN(h.opts.Region, account, r.Name)
		if r.Qualifier != "" {
			s += ":" + r.Qualifier
		}
		return s
	}
	if (r.Region != "" && r.Region != h.opts.Region) || (r.Qualifier != "" && r.Qualifier != Version) {
		return nil, notFound(display(r.Account))
	}
	if r.Account != "" {
		if p := h.pools[StoreKey(r.Account, r.Name)]; p != nil {
			return p, nil
		}
		return nil, notFound(display(r.Account))
	}
	var found *pool
	for _, p := range h.pools {
		if strings.HasSuffix(p.key, "/"+r.Name) {
			if found != nil {
				return nil, notFound(display(""))
			}
			found = p
		}
	}
	if found == nil {
		return nil, notFound(display(""))
	}
	return found, nil
}

// Invoke runs the function ref names (a name, a partial or full ARN) with
// payload and waits for the result (the Invoke API's RequestResponse).
//
// A Result with FunctionError set is a failed invocation (an error the
// function reported, a crash, a timeout); the error return is for calls that
// did not reach the function: an *awsproto.Error carrying AWS's code
// (ResourceNotFoundException, TooManyRequestsException,
// RequestTooLargeException, or whatever a remote Lambda endpoint answered),
// ErrClosed, or ctx's error. When ctx ends first the invocation goes on, as
// on AWS, and its result is dropped.
func (h *Host) Invoke(ctx context.Context, ref string, payload []byte) (Result, error) {
	return h.InvokeWith(ctx, ref, payload, InvokeOptions{})
}

// InvokeWith is Invoke with options.
func (h *Host) InvokeWith(ctx context.Context, ref string, payload []byte, o InvokeOptions) (Result, error) {
	p, err := h.lookup(ref)
	if err != nil {
		return Result{}, err
	}
	if len(payload) > MaxPayloadSize {
		return Result{}, tooLarge()
	}
	if err := p.acquire(ctx, o.Queue || h.opts.QueueThrottled); err != nil {
		return Result{}, err
	}
	fn, fp, _ := p.snapshot()
	if fn.Endpoint != nil {
		defer p.release()
		return h.invokeRemote(ctx, &fn, payload, o)
	}
	inv := newInvocation(&fn, payload, o)
	inst, err := p.get(&fn, fp)
	if errors.Is(err, ErrClosed) {
		p.release()
		return Result{}, err
	}
	if err != nil {
		p.release()
		res := Result{
			Payload:         entrypointPayload(inv.id, err.Error()),
			FunctionError:   functionErrorUnhandle,
			StatusCode:      http.StatusOK,
			RequestID:       inv.id,
			ExecutedVersion: Version,
		}
		p.logLines(fmt.Sprintf("START RequestId: %s Version: %s\n%s\nEND RequestId: %s\n", inv.id, Version, res.Payload, inv.id))
		return res, nil
	}
	inst.assign(inv)
	select {
	case out := <-inv.result:
		return out.res, out.err
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

// Close stops every instance (in-flight invocations end with ErrClosed) and
// waits for their processes and goroutines. It is idempotent.
func (h *Host) Close() error {
	h.closeOnce.Do(func() {
		h.mu.Lock()
		h.closed = true
		pools := make([]*pool, 0, len(h.pools))
		for _, p := range h.pools {
			pools = append(pools, p)
		}
		h.pools = map[string]*pool{}
		h.mu.Unlock()
		close(h.done)
		for _, p := range pools {
			p.remove()
		}
		h.wg.Wait()
		for _, p := range pools {
			p.closeLog()
		}
	})
	return nil
}

// janitor stops instances idle for longer than IdleTimeout.
func (h *Host) janitor() {
	defer h.wg.Done()
	every := min(max(h.opts.IdleTimeout/4, 10*time.Millisecond), 30*time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-h.done:
			return
		case now := <-t.C:
			h.mu.Lock()
			pools := make([]*pool, 0, len(h.pools))
			for _, p := range h.pools {
				pools = append(pools, p)
			}
			h.mu.Unlock()
			for _, p := range pools {
				p.reap(now.Add(-h.opts.IdleTimeout))
			}
		}
	}
}

// Stats describes a function's instances, for tests and metrics.
type Stats struct {
	Instances, Idle, Running int
}

// Stats returns the instance counts of the function ref names.
func (h *Host) Stats(ref string) (Stats, error) {
	p, err := h.lookup(ref)
	if err != nil {
		return Stats{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return Stats{Instances: len(p.all), Idle: len(p.idle), Running: p.running}, nil
}
