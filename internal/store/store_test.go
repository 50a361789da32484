package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// testLogger discards logs unless GW_TEST_LOG=debug.
func testLogger(t testing.TB) *slog.Logger {
	t.Helper()
	if os.Getenv("GW_TEST_LOG") == "debug" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return nil
}

// openEmbedded opens a store with an embedded server in a fresh directory
// and closes it when the test ends.
func openEmbedded(t testing.TB) *Store {
	t.Helper()
	return openAt(t, t.TempDir())
}

func openAt(t testing.TB, dir string) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, Options{DataDir: dir, Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// testCtx is a context that ends with the test (or after a minute).
func testCtx(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// bucketFor derives a valid, test-unique bucket name from the test name.
func bucketFor(t testing.TB) string {
	t.Helper()
	return strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, t.Name())
}

func TestEmbedded(t *testing.T) {
	s := openEmbedded(t)
	testConformance(t, s)
}

// testConformance runs the store contract against s; it is shared by the
// embedded and the external mode tests.
func testConformance(t *testing.T, s *Store) {
	t.Run("CRUD", func(t *testing.T) { testCRUD(t, s) })
	t.Run("Errors", func(t *testing.T) { testErrors(t, s) })
	t.Run("Keys", func(t *testing.T) { testKeys(t, s) })
	t.Run("Values", func(t *testing.T) { testValues(t, s) })
	t.Run("List", func(t *testing.T) { testList(t, s) })
	t.Run("Modify", func(t *testing.T) { testModify(t, s) })
	t.Run("ModifyConcurrent", func(t *testing.T) { testModifyConcurrent(t, s) })
	t.Run("Watch", func(t *testing.T) { testWatch(t, s) })
}

func testCRUD(t *testing.T, s *Store) {
	ctx := testCtx(t)
	b := bucketFor(t)

	if _, err := s.Get(ctx, b, "k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get on a new bucket: err = %v, want ErrNotFound", err)
	}
	rev1, err := s.Create(ctx, b, "k", []byte("v1"))
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	mustGet(t, s, b, "k", "v1", rev1)

	rev2, err := s.Update(ctx, b, "k", []byte("v2"), rev1)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if rev2 <= rev1 {
		t.Errorf("Update revision %d, want > %d", rev2, rev1)
	}
	mustGet(t, s, b, "k", "v2", rev2)

	if err := s.Delete(ctx, b, "k", rev2); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Get(ctx, b, "k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: err = %v, want ErrNotFound", err)
	}
	// A deleted key can be created again.
	rev3, err := s.Create(ctx, b, "k", []byte("v3"))
	if err != nil {
		t.Fatalf("Create after Delete: %v", err)
	}
	mustGet(t, s, b, "k", "v3", rev3)

	// Unconditional delete, also of an absent key.
	if err := s.Delete(ctx, b, "k", 0); err != nil {
		t.Fatalf("Delete rev 0: %v", err)
	}
	if err := s.Delete(ctx, b, "never", 0); err != nil {
		t.Fatalf("Delete rev 0 of an absent key: %v", err)
	}
}

func mustGet(t *testing.T, s *Store, bucket, key, want string, wantRev uint64) {
	t.Helper()
	e, err := s.Get(testCtx(t), bucket, key)
	if err != nil {
		t.Fatalf("Get(%s): %v", key, err)
	}
	if e.Key != key || string(e.Value) != want || e.Revision != wantRev {
		t.Fatalf("Get(%s) = {%s %q %d}, want {%s %q %d}", key, e.Key, e.Value, e.Revision, key, want, wantRev)
	}
}

func testErrors(t *testing.T, s *Store) {
	ctx := testCtx(t)
	b := bucketFor(t)
	rev1, err := s.Create(ctx, b, "k", []byte("v1"))
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	rev2, err := s.Update(ctx, b, "k", []byte("v2"), rev1)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	_ = rev2

	tests := []struct {
		name string
		op   func() error
		want error
	}{
		{"get absent", func() error { _, err := s.Get(ctx, b, "absent"); return err }, ErrNotFound},
		{"create existing", func() error { _, err := s.Create(ctx, b, "k", nil); return err }, ErrExists},
		{"update stale", func() error { _, err := s.Update(ctx, b, "k", []byte("x"), rev1); return err }, ErrConflict},
		{"update future", func() error { _, err := s.Update(ctx, b, "k", []byte("x"), rev2+100); return err }, ErrConflict},
		{"update absent", func() error { _, err := s.Update(ctx, b, "absent", []byte("x"), rev1); return err }, ErrNotFound},
		{"delete stale", func() error { return s.Delete(ctx, b, "k", rev1) }, ErrConflict},
		{"delete absent with revision", func() error { return s.Delete(ctx, b, "absent", rev1) }, ErrNotFound},
		{"modify existing absent", func() error {
			_, err := s.ModifyExisting(ctx, b, "absent", func(cur []byte) ([]byte, error) {
				t.Error("fn called for an absent key")
				return cur, nil
			})
			return err
		}, ErrNotFound},
		{"invalid key", func() error { _, err := s.Get(ctx, b, "a b"); return err }, ErrInvalidKey},
		{"invalid bucket", func() error { _, err := s.Get(ctx, "a.b", "k"); return err }, ErrInvalidBucket},
		{"empty bucket name", func() error { _, err := s.List(ctx, "", ""); return err }, ErrInvalidBucket},
		{"invalid prefix", func() error { _, err := s.List(ctx, b, "a*"); return err }, ErrInvalidKey},
		{"too large", func() error { _, err := s.Create(ctx, b, "big", make([]byte, MaxValueSize+1)); return err }, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.op()
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
		})
	}
	// Failed writes changed nothing.
	mustGet(t, s, b, "k", "v2", rev2)

	if _, err := s.Update(ctx, b, "k", nil, 0); err == nil {
		t.Error("Update with revision 0 succeeded, want error")
	}
}

func testKeys(t *testing.T, s *Store) {
	ctx := testCtx(t)
	b := bucketFor(t)
	tests := []struct {
		key   string
		valid bool
	}{
		{"a", true},
		{"restapis/a1b2c3/resources/xyz", true},
		{"A-Z_a-z=0-9", true},
		{"a.b.c", true},
		{"/leading/slash/", true},
		{"=", true},
		{"", false},
		{"a b", false},
		{"a*", false},
		{"a>", false},
		{">", false},
		{".a", false},
		{"a.", false},
		{"a..b", false},
		{"ü", false},
		{"a\nb", false},
		{"a:b", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.key), func(t *testing.T) {
			_, err := s.Create(ctx, b, tt.key, []byte(tt.key))
			if !tt.valid {
				if !errors.Is(err, ErrInvalidKey) {
					t.Fatalf("Create err = %v, want ErrInvalidKey", err)
				}
				for name, err := range map[string]error{
					"Get":    func() error { _, err := s.Get(ctx, b, tt.key); return err }(),
					"Update": func() error { _, err := s.Update(ctx, b, tt.key, nil, 1); return err }(),
					"Delete": s.Delete(ctx, b, tt.key, 0),
					"Modify": func() error {
						_, err := s.Modify(ctx, b, tt.key, func(c []byte) ([]byte, error) { return c, nil })
						return err
					}(),
				} {
					if !errors.Is(err, ErrInvalidKey) {
						t.Errorf("%s err = %v, want ErrInvalidKey", name, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			e, err := s.Get(ctx, b, tt.key)
			if err != nil || string(e.Value) != tt.key {
				t.Fatalf("Get = %q, %v; want %q", e.Value, err, tt.key)
			}
		})
	}
}

func testValues(t *testing.T, s *Store) {
	ctx := testCtx(t)
	b := bucketFor(t)
	limit := min(MaxValueSize, int(s.Conn().MaxPayload())-1024)
	tests := []struct {
		name string
		size int
	}{
		{"empty", 0},
		{"small", 10},
		{"100KiB", 100 << 10},
		{"limit", limit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := bytes.Repeat([]byte{'x'}, tt.size)
			if _, err := s.Create(ctx, b, tt.name, v); err != nil {
				t.Fatalf("Create %d bytes: %v", tt.size, err)
			}
			e, err := s.Get(ctx, b, tt.name)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if e.Value == nil {
				t.Fatal("Get returned a nil value for a present key")
			}
			if !bytes.Equal(e.Value, v) {
				t.Fatalf("Get returned %d bytes, want %d", len(e.Value), tt.size)
			}
		})
	}
	t.Run("over the limit", func(t *testing.T) {
		_, err := s.Create(ctx, b, "over", make([]byte, limit+2048))
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("err = %v, want ErrTooLarge", err)
		}
	})
}

func testList(t *testing.T, s *Store) {
	ctx := testCtx(t)
	b := bucketFor(t)

	got, err := s.List(ctx, b, "")
	if err != nil {
		t.Fatalf("List of a new bucket: %v", err)
	}
	if got == nil || len(got) != 0 {
		t.Fatalf("List of a new bucket = %#v, want empty non-nil", got)
	}

	keys := []string{
		"apis/b/stages/prod", "apis/a/resources/1", "apis/a/resources/2", "apis/ab/x",
		"apis/a", "vpc.1.eni.2", "vpc.1.eni.10", "vpc.12", "vpc", "z",
	}
	revs := map[string]uint64{}
	for _, k := range keys {
		rev, err := s.Create(ctx, b, k, []byte("v:"+k))
		if err != nil {
			t.Fatalf("Create %s: %v", k, err)
		}
		revs[k] = rev
	}
	if err := s.Delete(ctx, b, "z", 0); err != nil {
		t.Fatalf("Delete: %v", err)
	}

	tests := []struct {
		prefix string
		want   []string
	}{
		{"", []string{"apis/a", "apis/a/resources/1", "apis/a/resources/2", "apis/ab/x", "apis/b/stages/prod", "vpc", "vpc.1.eni.10", "vpc.1.eni.2", "vpc.12"}},
		{"apis/a", []string{"apis/a", "apis/a/resources/1", "apis/a/resources/2", "apis/ab/x"}},
		{"apis/a/", []string{"apis/a/resources/1", "apis/a/resources/2"}},
		{"apis/c", nil},
		{"vpc", []string{"vpc", "vpc.1.eni.10", "vpc.1.eni.2", "vpc.12"}},
		{"vpc.", []string{"vpc.1.eni.10", "vpc.1.eni.2", "vpc.12"}},
		{"vpc.1", []string{"vpc.1.eni.10", "vpc.1.eni.2", "vpc.12"}},
		{"vpc.1.", []string{"vpc.1.eni.10", "vpc.1.eni.2"}},
		{"vpc.1.eni.1", []string{"vpc.1.eni.10"}},
		{"z", nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.prefix), func(t *testing.T) {
			got, err := s.List(ctx, b, tt.prefix)
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			var gotKeys []string
			for _, e := range got {
				gotKeys = append(gotKeys, e.Key)
				if string(e.Value) != "v:"+e.Key || e.Revision != revs[e.Key] {
					t.Errorf("entry %s = {%q %d}, want {%q %d}", e.Key, e.Value, e.Revision, "v:"+e.Key, revs[e.Key])
				}
			}
			if fmt.Sprint(gotKeys) != fmt.Sprint(tt.want) {
				t.Errorf("keys = %v, want %v", gotKeys, tt.want)
			}
		})
	}
}

func testModify(t *testing.T, s *Store) {
	ctx := testCtx(t)
	b := bucketFor(t)

	var sawNil bool
	rev, err := s.Modify(ctx, b, "k", func(cur []byte) ([]byte, error) {
		sawNil = cur == nil
		return []byte("1"), nil
	})
	if err != nil {
		t.Fatalf("Modify of an absent key: %v", err)
	}
	if !sawNil {
		t.Error("fn got a non-nil value for an absent key")
	}
	mustGet(t, s, b, "k", "1", rev)

	rev, err = s.ModifyExisting(ctx, b, "k", func(cur []byte) ([]byte, error) {
		return append(cur, '2'), nil
	})
	if err != nil {
		t.Fatalf("ModifyExisting: %v", err)
	}
	mustGet(t, s, b, "k", "12", rev)

	fnErr := errors.New("fn failed")
	_, err = s.Modify(ctx, b, "k", func([]byte) ([]byte, error) { return nil, fnErr })
	if err != fnErr {
		t.Fatalf("Modify err = %v, want fn's error untouched", err)
	}
	mustGet(t, s, b, "k", "12", rev)

	// An empty present value reaches fn as empty, not nil.
	if _, err := s.Create(ctx, b, "empty", nil); err != nil {
		t.Fatalf("Create: %v", err)
	}
	_, err = s.Modify(ctx, b, "empty", func(cur []byte) ([]byte, error) {
		if cur == nil {
			t.Error("fn got nil for a present empty value")
		}
		return cur, nil
	})
	if err != nil {
		t.Fatalf("Modify: %v", err)
	}

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.Modify(canceled, b, "k", func(cur []byte) ([]byte, error) { return cur, nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Modify with a canceled context: err = %v, want context.Canceled", err)
	}
}

func testModifyConcurrent(t *testing.T, s *Store) {
	ctx := testCtx(t)
	b := bucketFor(t)
	const workers, perWorker = 20, 10

	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for range workers {
		wg.Go(func() {
			for range perWorker {
				_, err := s.Modify(ctx, b, "counter", func(cur []byte) ([]byte, error) {
					n := 0
					if cur != nil {
						var err error
						if n, err = strconv.Atoi(string(cur)); err != nil {
							return nil, err
						}
					}
					return []byte(strconv.Itoa(n + 1)), nil
				})
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Modify: %v", err)
	}
	e, err := s.Get(ctx, b, "counter")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got, want := string(e.Value), strconv.Itoa(workers*perWorker); got != want {
		t.Fatalf("counter = %s, want %s (lost updates)", got, want)
	}
}

func testWatch(t *testing.T, s *Store) {
	ctx := testCtx(t)
	b := bucketFor(t)
	r1, err := s.Create(ctx, b, "a", []byte("1"))
	if err != nil {
		t.Fatal(err)
	}
	r2, err := s.Create(ctx, b, "b", []byte("2"))
	if err != nil {
		t.Fatal(err)
	}
	// A key deleted before the watch starts is not part of the snapshot.
	if _, err := s.Create(ctx, b, "c", []byte("gone")); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, b, "c", 0); err != nil {
		t.Fatal(err)
	}

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch, err := s.Watch(wctx, b)
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	next := func() Event {
		t.Helper()
		select {
		case ev, ok := <-ch:
			if !ok {
				t.Fatal("watch channel closed early")
			}
			return ev
		case <-ctx.Done():
			t.Fatal("timed out waiting for an event")
		}
		return Event{}
	}
	want := []Event{
		{Entry: Entry{Key: "a", Value: []byte("1"), Revision: r1}},
		{Entry: Entry{Key: "b", Value: []byte("2"), Revision: r2}},
		{InitialDone: true},
	}
	for i, w := range want {
		if got := next(); !eventEqual(got, w) {
			t.Fatalf("initial event %d = %+v, want %+v", i, got, w)
		}
	}

	r3, err := s.Update(ctx, b, "a", []byte("3"), r1)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, b, "b", 0); err != nil {
		t.Fatal(err)
	}
	if got, w := next(), (Event{Entry: Entry{Key: "a", Value: []byte("3"), Revision: r3}}); !eventEqual(got, w) {
		t.Fatalf("update event = %+v, want %+v", got, w)
	}
	if got := next(); got.Key != "b" || !got.Deleted || got.Value != nil || got.Revision <= r3 {
		t.Fatalf("delete event = %+v, want a delete of b after revision %d", got, r3)
	}

	cancel()
	for range ch { // must be closed once ctx ends
	}

	// An empty bucket sends just the marker.
	ch, err = s.Watch(ctx, b+"_empty")
	if err != nil {
		t.Fatalf("Watch: %v", err)
	}
	if got := next(); !got.InitialDone {
		t.Fatalf("first event on an empty bucket = %+v, want the InitialDone marker", got)
	}
}

func eventEqual(a, b Event) bool {
	return a.Key == b.Key && bytes.Equal(a.Value, b.Value) && a.Revision == b.Revision &&
		a.Deleted == b.Deleted && a.InitialDone == b.InitialDone
}

func TestCloseEndsWatchAndOperations(t *testing.T) {
	dir := t.TempDir()
	ctx := testCtx(t)
	s, err := Open(ctx, Options{DataDir: dir})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if _, err := s.Create(ctx, "b", "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	ch, err := s.Watch(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	// Leave the channel unread: Close must not wait for the reader.
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	for range ch {
	}

	tests := []struct {
		name string
		op   func() error
	}{
		{"Get", func() error { _, err := s.Get(ctx, "b", "k"); return err }},
		{"Create", func() error { _, err := s.Create(ctx, "b", "k2", nil); return err }},
		{"Update", func() error { _, err := s.Update(ctx, "b", "k", nil, 1); return err }},
		{"Delete", func() error { return s.Delete(ctx, "b", "k", 0) }},
		{"List", func() error { _, err := s.List(ctx, "b", ""); return err }},
		{"Modify", func() error {
			_, err := s.Modify(ctx, "b", "k", func(c []byte) ([]byte, error) { return c, nil })
			return err
		}},
		{"Watch", func() error { _, err := s.Watch(ctx, "b"); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.op(); !errors.Is(err, ErrClosed) {
				t.Errorf("err = %v, want ErrClosed", err)
			}
		})
	}

	// The data survives a clean restart.
	s2 := openAt(t, dir)
	e, err := s2.Get(ctx, "b", "k")
	if err != nil || string(e.Value) != "v" {
		t.Fatalf("Get after reopen = %q, %v; want \"v\"", e.Value, err)
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := testCtx(t)
	busy := t.TempDir()
	openAt(t, busy)

	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"no data dir", Options{}, "DataDir is required"},
		{"negative replicas", Options{DataDir: t.TempDir(), Replicas: -1}, "negative"},
		{"replicas without cluster", Options{DataDir: t.TempDir(), Replicas: 3}, "external NATS cluster"},
		{"data dir in use", Options{DataDir: busy}, "in use"},
		{"unreachable url", Options{URL: "nats://127.0.0.1:1"}, "connect to NATS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(ctx, tt.opts)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded, want error")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestBucketCacheConcurrentFirstUse(t *testing.T) {
	s := openEmbedded(t)
	ctx := testCtx(t)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			if _, err := s.Create(ctx, "fresh", fmt.Sprintf("k%d", i), nil); err != nil {
				t.Errorf("Create: %v", err)
			}
		})
	}
	wg.Wait()
	got, err := s.List(ctx, "fresh", "")
	if err != nil || len(got) != 16 {
		t.Fatalf("List = %d entries, %v; want 16", len(got), err)
	}
}

func BenchmarkGet(b *testing.B) {
	s := openEmbedded(b)
	ctx := context.Background()
	value := bytes.Repeat([]byte("x"), 1024)
	if _, err := s.Create(ctx, "bench", "k", value); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Get(ctx, "bench", "k"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUpdate(b *testing.B) {
	s := openEmbedded(b)
	ctx := context.Background()
	value := bytes.Repeat([]byte("x"), 1024)
	rev, err := s.Create(ctx, "bench", "k", value)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if rev, err = s.Update(ctx, "bench", "k", value, rev); err != nil {
			b.Fatal(err)
		}
	}
}
