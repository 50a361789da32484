package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	neturl "net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"gatehouse/internal/store/natsembed"
)

const (
	// MaxValueSize is the largest value a key may hold, in bytes.
	MaxValueSize = 8 << 20

	// bucketMaxMsgSize is the buckets' MaxValueSize. JetStream counts
	// the KV headers (operation, expected revision) against it, so it
	// leaves room above MaxValueSize, which the store enforces exactly.
	bucketMaxMsgSize = MaxValueSize + 4<<10
	// embeddedMaxPayload is the embedded server's max_payload: a full
	// value plus headers and protocol overhead.
	embeddedMaxPayload = MaxValueSize + 64<<10

	// modifyAttempts bounds Modify's read-modify-write loop.
	modifyAttempts = 20
	// modifyBackoffBase and modifyBackoffMax shape the jittered
	// exponential backoff between Modify attempts.
	modifyBackoffBase = time.Millisecond
	modifyBackoffMax  = 100 * time.Millisecond
)

// Entry is a key's value at a revision.
type Entry struct {
	Key      string
	Value    []byte
	Revision uint64
}

// Event is one item of a Watch stream. For a delete, Deleted is set, Value
// is nil and Revision is the delete's revision. The InitialDone marker has
// only InitialDone set.
type Event struct {
	Entry
	Deleted     bool
	InitialDone bool
}

// Options configures Open.
type Options struct {
	// DataDir is the gatehouse data directory; the embedded server keeps
	// its files in DataDir/nats. Required when URL is empty.
	DataDir string
	// URL, when set, selects external mode: a NATS server URL (or a
	// comma-separated list) with JetStream enabled.
	URL string
	// Logger receives connection state changes and, in embedded mode,
	// the server's log. Nil discards.
	Logger *slog.Logger
	// Replicas is the replica count of buckets created by this store.
	// Zero means 1. Embedded mode supports only 1.
	Replicas int
	// NATSOptions are extra client options for external mode
	// (credentials, TLS, reconnect policy, ...). They override the store's
	// defaults (name "gatehouse", reconnect forever) but not its
	// connection event handlers.
	NATSOptions []nats.Option
}

// Store is a set of key-value buckets on NATS JetStream. It is safe for
// concurrent use.
type Store struct {
	nc       *nats.Conn
	js       jetstream.JetStream
	srv      *natsembed.Server // nil in external mode
	log      *slog.Logger
	replicas int

	connClosed chan struct{} // closed by the connection's ClosedHandler

	// mu guards buckets, and orders closing done against watches.Add so
	// that Close never waits on a WaitGroup that is still growing. It is
	// never held while waiting on NATS or on another lock.
	mu      sync.Mutex
	buckets map[string]*bucketEntry
	done    chan struct{} // closed when Close starts
	watches sync.WaitGroup

	closeOnce sync.Once
	closeErr  error
}

// bucketEntry caches one bucket's handle.
type bucketEntry struct {
	kv atomic.Pointer[jetstream.KeyValue]
	mu sync.Mutex // serializes the bucket's lookup/creation
}

// Open connects to NATS and returns a Store. With opts.URL empty it first
// starts an embedded server on opts.DataDir/nats.
func Open(ctx context.Context, opts Options) (*Store, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	replicas := opts.Replicas
	switch {
	case replicas < 0:
		return nil, fmt.Errorf("store: Replicas %d is negative", replicas)
	case replicas == 0:
		replicas = 1
	case replicas > 1 && opts.URL == "":
		return nil, fmt.Errorf("store: Replicas %d needs an external NATS cluster (set URL)", replicas)
	}

	s := &Store{
		log:        log.With("component", "store"),
		replicas:   replicas,
		connClosed: make(chan struct{}),
		done:       make(chan struct{}),
		buckets:    make(map[string]*bucketEntry),
	}
	var closedOnce sync.Once
	// The store's handlers come last so that NATSOptions cannot replace
	// them (Close relies on the ClosedHandler).
	handlers := []nats.Option{
		nats.ClosedHandler(func(*nats.Conn) { closedOnce.Do(func() { close(s.connClosed) }) }),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				s.log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			s.log.Info("nats reconnected", "url", nc.ConnectedUrlRedacted())
		}),
	}

	copts := []nats.Option{nats.Name("gatehouse")}
	url := opts.URL
	if url == "" {
		if opts.DataDir == "" {
			return nil, errors.New("store: DataDir is required for the embedded server")
		}
		srv, err := natsembed.Start(ctx, natsembed.Config{
			StoreDir:   filepath.Join(opts.DataDir, "nats"),
			MaxPayload: embeddedMaxPayload,
			Logger:     log.With("component", "natsembed"),
		})
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		s.srv = srv
		copts = append(copts, nats.InProcessServer(srv))
	} else {
		copts = append(copts, nats.MaxReconnects(-1))
		copts = append(copts, opts.NATSOptions...)
	}
	copts = append(copts, handlers...)

	nc, err := nats.Connect(url, copts...)
	if err != nil {
		s.shutdownServer()
		return nil, fmt.Errorf("store: connect to NATS %s: %w", describeURL(url), err)
	}
	s.nc = nc
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		s.shutdownServer()
		return nil, fmt.Errorf("store: jetstream: %w", err)
	}
	s.js = js
	// Fail now, not on first use, if JetStream is unavailable.
	if _, err := js.AccountInfo(ctx); err != nil {
		nc.Close()
		s.shutdownServer()
		return nil, fmt.Errorf("store: JetStream unavailable at %s: %w", describeURL(url), err)
	}
	return s, nil
}

// describeURL names the server(s) in errors, without credentials.
func describeURL(servers string) string {
	if servers == "" {
		return "embedded server"
	}
	parts := strings.Split(servers, ",")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if u, err := neturl.Parse(p); err == nil && u.User != nil {
			p = u.Redacted()
		}
		parts[i] = p
	}
	return strings.Join(parts, ",")
}

func (s *Store) shutdownServer() {
	if s.srv != nil {
		s.srv.Shutdown()
	}
}

// Conn returns the store's NATS connection, for cross-node messaging on
// plain subjects. Callers must not close it.
func (s *Store) Conn() *nats.Conn { return s.nc }

// Close stops watches, drains the connection and shuts the embedded server
// down. It is idempotent; later calls return the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		close(s.done)
		s.mu.Unlock()
		s.watches.Wait()
		if err := s.nc.Drain(); err != nil {
			if !errors.Is(err, nats.ErrConnectionClosed) {
				s.closeErr = fmt.Errorf("store: drain: %w", err)
			}
			s.nc.Close()
		}
		// Drain is asynchronous; it ends in Close (bounded by the
		// client's drain timeout), which fires the ClosedHandler.
		<-s.connClosed
		s.shutdownServer()
	})
	return s.closeErr
}

func (s *Store) checkOpen() error {
	select {
	case <-s.done:
		return fmt.Errorf("store: %w", ErrClosed)
	default:
		return nil
	}
}

// bucket returns the handle of bucket name, creating the bucket on first
// use.
func (s *Store) bucket(ctx context.Context, name string) (jetstream.KeyValue, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	if err := validateBucket(name); err != nil {
		return nil, err
	}
	s.mu.Lock()
	e := s.buckets[name]
	if e == nil {
		e = &bucketEntry{}
		s.buckets[name] = e
	}
	s.mu.Unlock()
	if kv := e.kv.Load(); kv != nil {
		return *kv, nil
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	if kv := e.kv.Load(); kv != nil {
		return *kv, nil
	}
	kv, err := s.openBucket(ctx, name)
	if err != nil {
		return nil, err
	}
	e.kv.Store(&kv)
	return kv, nil
}

func (s *Store) openBucket(ctx context.Context, name string) (jetstream.KeyValue, error) {
	cfg := jetstream.KeyValueConfig{
		Bucket:       name,
		Description:  "gatehouse " + name,
		History:      1,
		MaxValueSize: bucketMaxMsgSize,
		Storage:      jetstream.FileStorage,
		Replicas:     s.replicas,
	}
	kv, err := s.js.CreateKeyValue(ctx, cfg)
	if err == nil {
		return kv, nil
	}
	if !errors.Is(err, jetstream.ErrBucketExists) {
		return nil, fmt.Errorf("store: create bucket %s: %w", name, err)
	}
	// It exists with another configuration (an older gatehouse, or an
	// operator's change): use it as it is.
	kv, err = s.js.KeyValue(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("store: open bucket %s: %w", name, err)
	}
	s.log.Warn("bucket exists with a different configuration; using it as is", "bucket", name)
	return kv, nil
}

// Get returns key's current entry, or ErrNotFound.
func (s *Store) Get(ctx context.Context, bucket, key string) (Entry, error) {
	if err := ValidateKey(key); err != nil {
		return Entry{}, err
	}
	kv, err := s.bucket(ctx, bucket)
	if err != nil {
		return Entry{}, err
	}
	e, err := kv.Get(ctx, key)
	if err != nil {
		return Entry{}, s.mapErr("get", bucket, key, err)
	}
	return Entry{Key: key, Value: nonNil(e.Value()), Revision: e.Revision()}, nil
}

// Create stores value under key if the key is absent (never written, or
// deleted) and returns the new revision; ErrExists if it is present.
func (s *Store) Create(ctx context.Context, bucket, key string, value []byte) (uint64, error) {
	if err := checkValue(key, value); err != nil {
		return 0, err
	}
	kv, err := s.bucket(ctx, bucket)
	if err != nil {
		return 0, err
	}
	rev, err := kv.Create(ctx, key, value)
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) || isWrongLastSeq(err) {
			return 0, fmt.Errorf("store: create %s/%s: %w", bucket, key, ErrExists)
		}
		return 0, s.mapErr("create", bucket, key, err)
	}
	return rev, nil
}

// Update replaces key's value if its current revision is rev and returns
// the new revision. It fails with ErrNotFound if the key is absent and
// with ErrConflict if it has been written since rev. rev must not be 0
// (use Create).
func (s *Store) Update(ctx context.Context, bucket, key string, value []byte, rev uint64) (uint64, error) {
	if rev == 0 {
		return 0, fmt.Errorf("store: update %s/%s: revision 0 (use Create for new keys)", bucket, key)
	}
	if err := checkValue(key, value); err != nil {
		return 0, err
	}
	kv, err := s.bucket(ctx, bucket)
	if err != nil {
		return 0, err
	}
	nrev, err := kv.Update(ctx, key, value, rev)
	if err != nil {
		if isWrongLastSeq(err) {
			return 0, s.conflictOrNotFound(ctx, kv, "update", bucket, key, rev)
		}
		return 0, s.mapErr("update", bucket, key, err)
	}
	return nrev, nil
}

// Delete deletes key. With rev 0 it is unconditional, and deleting an
// absent key succeeds. Otherwise key's current revision must be rev:
// ErrNotFound if the key is absent, ErrConflict if it has been written
// since rev.
func (s *Store) Delete(ctx context.Context, bucket, key string, rev uint64) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	kv, err := s.bucket(ctx, bucket)
	if err != nil {
		return err
	}
	var opts []jetstream.KVDeleteOpt
	if rev != 0 {
		opts = append(opts, jetstream.LastRevision(rev))
	}
	if err := kv.Delete(ctx, key, opts...); err != nil {
		if isWrongLastSeq(err) {
			return s.conflictOrNotFound(ctx, kv, "delete", bucket, key, rev)
		}
		return s.mapErr("delete", bucket, key, err)
	}
	return nil
}

// conflictOrNotFound tells apart the two reasons for a rejected
// conditional write: the key is gone, or it has another revision.
func (s *Store) conflictOrNotFound(ctx context.Context, kv jetstream.KeyValue, op, bucket, key string, rev uint64) error {
	e, err := kv.Get(ctx, key)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return fmt.Errorf("store: %s %s/%s: %w", op, bucket, key, ErrNotFound)
	case err != nil:
		// The write was rejected for a revision mismatch either way.
		return fmt.Errorf("store: %s %s/%s at revision %d: %w", op, bucket, key, rev, ErrConflict)
	default:
		return fmt.Errorf("store: %s %s/%s at revision %d, current revision %d: %w",
			op, bucket, key, rev, e.Revision(), ErrConflict)
	}
}

// List returns the entries whose keys begin with prefix (all entries for
// ""), sorted by key. A new or empty bucket gives an empty list.
func (s *Store) List(ctx context.Context, bucket, prefix string) ([]Entry, error) {
	if err := validatePrefix(prefix); err != nil {
		return nil, err
	}
	kv, err := s.bucket(ctx, bucket)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := kv.Watch(wctx, prefixFilter(prefix), jetstream.IgnoreDeletes())
	if err != nil {
		return nil, s.mapErr("list", bucket, prefix+"*", err)
	}
	// Stop the watcher and let its delivery goroutine finish whatever we
	// return, so it is never left blocked on a full channel.
	defer func() {
		cancel()
		_ = w.Stop()
		for range w.Updates() {
		}
	}()

	entries := []Entry{}
	for {
		select {
		case e, ok := <-w.Updates():
			if !ok {
				if err := s.checkOpen(); err != nil {
					return nil, err
				}
				if err := ctx.Err(); err != nil {
					return nil, fmt.Errorf("store: list %s/%s*: %w", bucket, prefix, err)
				}
				return nil, fmt.Errorf("store: list %s/%s*: watch ended early", bucket, prefix)
			}
			if e == nil {
				sort.Slice(entries, func(i, j int) bool { return entries[i].Key < entries[j].Key })
				return entries, nil
			}
			if strings.HasPrefix(e.Key(), prefix) {
				entries = append(entries, Entry{Key: e.Key(), Value: nonNil(e.Value()), Revision: e.Revision()})
			}
		case <-ctx.Done():
			return nil, fmt.Errorf("store: list %s/%s*: %w", bucket, prefix, ctx.Err())
		case <-s.done:
			return nil, fmt.Errorf("store: %w", ErrClosed)
		}
	}
}

// Modify changes key with optimistic concurrency: it reads the current
// value, calls fn with it (nil if the key is absent) and writes fn's
// result conditionally on the revision it read, creating the key if it was
// absent. When another writer got there first it retries with the new
// value, up to 20 attempts with jittered backoff, then fails with
// ErrConflict. fn may run several times and must not have side effects
// beyond computing the new value. If fn fails, Modify returns fn's error
// unchanged and writes nothing.
func (s *Store) Modify(ctx context.Context, bucket, key string, fn func(cur []byte) ([]byte, error)) (uint64, error) {
	return s.modify(ctx, bucket, key, true, fn)
}

// ModifyExisting is Modify for a key that must exist: it fails with
// ErrNotFound, without calling fn, if the key is absent or is deleted
// while it retries.
func (s *Store) ModifyExisting(ctx context.Context, bucket, key string, fn func(cur []byte) ([]byte, error)) (uint64, error) {
	return s.modify(ctx, bucket, key, false, fn)
}

func (s *Store) modify(ctx context.Context, bucket, key string, create bool, fn func([]byte) ([]byte, error)) (uint64, error) {
	for attempt := 1; ; attempt++ {
		cur, err := s.Get(ctx, bucket, key)
		switch {
		case err == nil:
		case errors.Is(err, ErrNotFound) && create:
			cur = Entry{}
		default:
			return 0, err
		}
		next, err := fn(cur.Value)
		if err != nil {
			return 0, err
		}
		var rev uint64
		if cur.Revision == 0 {
			rev, err = s.Create(ctx, bucket, key, next)
		} else {
			rev, err = s.Update(ctx, bucket, key, next, cur.Revision)
		}
		switch {
		case err == nil:
			return rev, nil
		case errors.Is(err, ErrExists), errors.Is(err, ErrConflict),
			errors.Is(err, ErrNotFound) && create:
			// Lost a race; read again.
		default:
			return 0, err
		}
		if attempt == modifyAttempts {
			return 0, fmt.Errorf("store: modify %s/%s: gave up after %d attempts: %w",
				bucket, key, attempt, ErrConflict)
		}
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return 0, fmt.Errorf("store: modify %s/%s: %w", bucket, key, err)
		}
	}
}

// backoff returns the pause after the attempt-th failed attempt: an
// exponentially growing ceiling, capped, with full jitter in its upper half.
func backoff(attempt int) time.Duration {
	d := modifyBackoffMax
	if attempt < 8 {
		d = min(modifyBackoffBase<<attempt, modifyBackoffMax)
	}
	return d/2 + rand.N(d/2)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Watch streams the changes of bucket: an Event for each current entry
// (deleted keys are not sent), then one with InitialDone set, then each later write and delete in
// revision order. The channel is closed when ctx ends, when the store is
// closed, or when the underlying subscription ends (connection closed);
// call Watch again to resume. A consumer that stops reading stalls its
// watch only.
func (s *Store) Watch(ctx context.Context, bucket string) (<-chan Event, error) {
	kv, err := s.bucket(ctx, bucket)
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(ctx)
	w, err := kv.WatchAll(wctx)
	if err != nil {
		cancel()
		return nil, s.mapErr("watch", bucket, ">", err)
	}
	s.mu.Lock()
	if err := s.checkOpen(); err != nil {
		s.mu.Unlock()
		cancel()
		_ = w.Stop()
		for range w.Updates() {
		}
		return nil, err
	}
	s.watches.Add(1)
	s.mu.Unlock()
	out := make(chan Event, 64)
	go func() {
		defer s.watches.Done()
		defer close(out)
		defer func() {
			cancel()
			_ = w.Stop()
			for range w.Updates() {
			}
		}()
		initial := true
		for {
			var ev Event
			select {
			case e, ok := <-w.Updates():
				if !ok {
					return
				}
				ev = toEvent(e)
				if initial && ev.Deleted {
					// A delete marker from before the watch
					// started: not a current value.
					continue
				}
				if ev.InitialDone {
					initial = false
				}
			case <-wctx.Done():
				return
			case <-s.done:
				return
			}
			select {
			case out <- ev:
			case <-wctx.Done():
				return
			case <-s.done:
				return
			}
		}
	}()
	return out, nil
}

func toEvent(e jetstream.KeyValueEntry) Event {
	if e == nil {
		return Event{InitialDone: true}
	}
	ev := Event{Entry: Entry{Key: e.Key(), Revision: e.Revision()}}
	switch e.Operation() {
	case jetstream.KeyValueDelete, jetstream.KeyValuePurge:
		ev.Deleted = true
	default:
		ev.Value = nonNil(e.Value())
	}
	return ev
}

func checkValue(key string, value []byte) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	if len(value) > MaxValueSize {
		return fmt.Errorf("store: %w: %s is %d bytes, the limit is %d", ErrTooLarge, key, len(value), MaxValueSize)
	}
	return nil
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func isWrongLastSeq(err error) bool {
	var apiErr *jetstream.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	return apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant
}

// mapErr wraps a NATS error from operation op on bucket/key, translating
// the ones that have a store sentinel.
func (s *Store) mapErr(op, bucket, key string, err error) error {
	var sentinel error
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		sentinel = ErrNotFound
	case errors.Is(err, jetstream.ErrInvalidKey):
		sentinel = ErrInvalidKey
	case errors.Is(err, nats.ErrMaxPayload), errors.Is(err, jetstream.ErrStreamMessageExceedsMaximum):
		return fmt.Errorf("store: %s %s/%s: %w (the NATS server allows %d bytes per message): %w",
			op, bucket, key, ErrTooLarge, s.nc.MaxPayload(), err)
	case errors.Is(err, nats.ErrConnectionClosed), errors.Is(err, nats.ErrConnectionDraining):
		if s.checkOpen() != nil {
			sentinel = ErrClosed
		}
	}
	if sentinel != nil {
		return fmt.Errorf("store: %s %s/%s: %w", op, bucket, key, sentinel)
	}
	return fmt.Errorf("store: %s %s/%s: %w", op, bucket, key, err)
}
