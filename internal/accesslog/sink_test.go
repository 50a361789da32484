package accesslog

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// newTestSinks returns Sinks in a temp dir whose flushes are reported on the returned
// channel, closed at cleanup.
func newTestSinks(t *testing.T, tune func(*Sinks)) (*Sinks, <-chan struct{}) {
	t.Helper()
	s := NewSinks(t.TempDir(), nil)
	flushed := make(chan struct{}, 1)
	s.onFlush = func() {
		select {
		case flushed <- struct{}{}:
		default:
		}
	}
	if tune != nil {
		tune(s)
	}
	t.Cleanup(func() { s.Close() })
	return s, flushed
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(b) == 0 {
		return nil
	}
	if b[len(b)-1] != '\n' {
		t.Fatalf("file does not end in a newline: %q", b[max(0, len(b)-20):])
	}
	return strings.Split(string(b[:len(b)-1]), "\n")
}

func TestWriterARN(t *testing.T) {
	tests := []struct {
		name string
		arn  string
		file string // relative to {dir}/logs; "" = want *ARNError
	}{
		{name: "apigateway group", arn: "arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway/welcome", file: "aws/apigateway/welcome.log"},
		{name: "star suffix", arn: "arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway/welcome:*", file: "aws/apigateway/welcome.log"},
		{name: "plain name", arn: "arn:aws:logs:eu-west-1:123456789012:log-group:access", file: "access.log"},
		{name: "other partition", arn: "arn:aws-us-gov:logs:us-gov-west-1:123456789012:log-group:a.b-c_d#e", file: "a.b-c_d#e.log"},
		{name: "dot segments are encoded", arn: "arn:aws:logs:us-east-1:123456789012:log-group:../../etc/passwd", file: "%2E%2E/%2E%2E/etc/passwd.log"},
		{name: "single dot segment", arn: "arn:aws:logs:us-east-1:123456789012:log-group:a/./b", file: "a/%2E/b.log"},
		{name: "empty segments dropped", arn: "arn:aws:logs:us-east-1:123456789012:log-group://a//b", file: "a/b.log"},
		{name: "dots inside names kept", arn: "arn:aws:logs:us-east-1:123456789012:log-group:a..b/...c", file: "a..b/...c.log"},
		{name: "not an ARN", arn: "/aws/apigateway/welcome"},
		{name: "empty", arn: ""},
		{name: "too few fields", arn: "arn:aws:logs:us-east-1:123456789012"},
		{name: "wrong service", arn: "arn:aws:s3:us-east-1:123456789012:log-group:x"},
		{name: "firehose", arn: "arn:aws:firehose:us-east-1:123456789012:deliverystream/amazon-apigateway-x"},
		{name: "bad partition", arn: "arn:gcp:logs:us-east-1:123456789012:log-group:x"},
		{name: "no region", arn: "arn:aws:logs::123456789012:log-group:x"},
		{name: "short account", arn: "arn:aws:logs:us-east-1:1234:log-group:x"},
		{name: "letters in account", arn: "arn:aws:logs:us-east-1:12345678901a:log-group:x"},
		{name: "not a log group", arn: "arn:aws:logs:us-east-1:123456789012:destination:x"},
		{name: "empty name", arn: "arn:aws:logs:us-east-1:123456789012:log-group:"},
		{name: "star only", arn: "arn:aws:logs:us-east-1:123456789012:log-group::*"},
		{name: "bad character", arn: "arn:aws:logs:us-east-1:123456789012:log-group:a b"},
		{name: "backslash", arn: `arn:aws:logs:us-east-1:123456789012:log-group:a\..\b`},
		{name: "only slashes", arn: "arn:aws:logs:us-east-1:123456789012:log-group:///"},
		{name: "name too long", arn: "arn:aws:logs:us-east-1:123456789012:log-group:" + strings.Repeat("a", 513)},
	}
	s, _ := newTestSinks(t, nil)
	root := filepath.Join(s.dir, "logs")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := s.Writer(tt.arn)
			if tt.file == "" {
				var ae *ARNError
				if !errors.As(err, &ae) || err.Error() != MsgInvalidARN || ae.Reason == "" {
					t.Fatalf("Writer(%q) = %v, %v; want *ARNError", tt.arn, w, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Writer(%q): %v", tt.arn, err)
			}
			if want := filepath.Join(root, filepath.FromSlash(tt.file)); w.Path() != want {
				t.Fatalf("Path = %s, want %s", w.Path(), want)
			}
		})
	}
}

func TestWriterSharedPerGroup(t *testing.T) {
	s, _ := newTestSinks(t, nil)
	a, err := s.Writer("arn:aws:logs:us-east-1:123456789012:log-group:/x/y")
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Writer("arn:aws:logs:us-east-1:123456789012:log-group:/x/y:*")
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatal("same log group gave two Writers")
	}
}

func TestConcurrentWrites(t *testing.T) {
	const goroutines, lines = 16, 2000
	s, _ := newTestSinks(t, func(s *Sinks) { s.threshold = 4 << 10 }) // flush often
	arns := []string{
		"arn:aws:logs:us-east-1:123456789012:log-group:/a",
		"arn:aws:logs:us-east-1:123456789012:log-group:/b",
	}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			w, err := s.Writer(arns[g%len(arns)])
			if err != nil {
				t.Error(err)
				return
			}
			var buf []byte
			for i := range lines {
				buf = fmt.Appendf(buf[:0], "g%02d line %05d %s", g, i, strings.Repeat("x", i%50))
				w.Write(buf) // buf is reused: Write must not retain it
			}
		})
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if d := s.Dropped(); d != 0 {
		t.Fatalf("dropped %d lines", d)
	}
	seen := map[string]bool{}
	total := 0
	for _, arn := range arns {
		name := arn[strings.LastIndex(arn, "/")+1:]
		for _, l := range readLines(t, filepath.Join(s.dir, "logs", name+".log")) {
			var g, i int
			if _, err := fmt.Sscanf(l, "g%02d line %05d", &g, &i); err != nil {
				t.Fatalf("torn line %q: %v", l, err)
			}
			if want := fmt.Sprintf("g%02d line %05d %s", g, i, strings.Repeat("x", i%50)); l != want {
				t.Fatalf("line %q, want %q", l, want)
			}
			if seen[l] {
				t.Fatalf("duplicate line %q", l)
			}
			seen[l] = true
			total++
		}
	}
	if total != goroutines*lines {
		t.Fatalf("%d lines on disk, want %d", total, goroutines*lines)
	}
}

func TestFlushOnInterval(t *testing.T) {
	s, flushed := newTestSinks(t, func(s *Sinks) { s.interval = 5 * time.Millisecond })
	w, err := s.Writer("arn:aws:logs:us-east-1:123456789012:log-group:tick")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("one"))
	waitForLines(t, flushed, w.Path(), 1)
}

func TestFlushOnThreshold(t *testing.T) {
	s, flushed := newTestSinks(t, func(s *Sinks) {
		s.interval = time.Hour // only the threshold can trigger a flush
		s.threshold = 1000
	})
	w, err := s.Writer("arn:aws:logs:us-east-1:123456789012:log-group:big")
	if err != nil {
		t.Fatal(err)
	}
	line := bytes.Repeat([]byte("y"), 99)
	for range 10 { // 10 × 100 bytes reaches the threshold
		w.Write(line)
	}
	waitForLines(t, flushed, w.Path(), 10)
}

// waitForLines waits, flush by flush, until path holds want lines.
func waitForLines(t *testing.T, flushed <-chan struct{}, path string, want int) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		if got := len(readLines(t, path)); got == want {
			return
		} else if got > want {
			t.Fatalf("%d lines, want %d", got, want)
		}
		select {
		case <-flushed:
		case <-timeout:
			t.Fatalf("no flush of %d lines to %s", want, path)
		}
	}
}

func TestMemoryLimitDrops(t *testing.T) {
	s, _ := newTestSinks(t, func(s *Sinks) {
		s.interval = time.Hour
		s.max = 100
	})
	w, err := s.Writer("arn:aws:logs:us-east-1:123456789012:log-group:full")
	if err != nil {
		t.Fatal(err)
	}
	line := bytes.Repeat([]byte("z"), 19) // 20 bytes with the newline
	for range 8 {
		w.Write(line)
	}
	if d := s.Dropped(); d != 3 {
		t.Fatalf("Dropped = %d, want 3", d)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := len(readLines(t, w.Path())); got != 5 {
		t.Fatalf("%d lines on disk, want 5", got)
	}
	if b := s.buffered.Load(); b != 0 {
		t.Fatalf("buffered = %d after Close", b)
	}
}

func TestMemoryIsReleasedAfterFlush(t *testing.T) {
	s, flushed := newTestSinks(t, func(s *Sinks) {
		s.interval = 5 * time.Millisecond
		s.max = 100
	})
	w, err := s.Writer("arn:aws:logs:us-east-1:123456789012:log-group:cycle")
	if err != nil {
		t.Fatal(err)
	}
	line := bytes.Repeat([]byte("q"), 49) // 50 bytes: two fit
	for round := 1; round <= 3; round++ {
		w.Write(line)
		w.Write(line)
		waitForLines(t, flushed, w.Path(), 2*round)
	}
	if d := s.Dropped(); d != 0 {
		t.Fatalf("Dropped = %d", d)
	}
}

func TestClose(t *testing.T) {
	s, _ := newTestSinks(t, func(s *Sinks) { s.interval = time.Hour })
	w, err := s.Writer("arn:aws:logs:us-east-1:123456789012:log-group:c")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("before"))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	w.Write([]byte("after"))
	if d := s.Dropped(); d != 1 {
		t.Fatalf("Dropped = %d, want 1", d)
	}
	if _, err := s.Writer("arn:aws:logs:us-east-1:123456789012:log-group:d"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Writer after Close: %v", err)
	}
	if got := readLines(t, w.Path()); len(got) != 1 || got[0] != "before" {
		t.Fatalf("file holds %q", got)
	}
}

func TestCloseWithoutWriters(t *testing.T) {
	s := NewSinks(t.TempDir(), nil)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestDiskErrorDropsAndReports(t *testing.T) {
	dir := t.TempDir()
	// A file where the logs directory should be makes every open fail.
	if err := os.WriteFile(filepath.Join(dir, "logs"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s := NewSinks(dir, nil)
	s.interval = time.Hour
	w, err := s.Writer("arn:aws:logs:us-east-1:123456789012:log-group:x/y")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("a"))
	w.Write([]byte("b"))
	if err := s.Close(); err == nil {
		t.Fatal("Close reported no error")
	}
	if d := s.Dropped(); d != 2 {
		t.Fatalf("Dropped = %d, want 2", d)
	}
}

func BenchmarkWrite(b *testing.B) {
	s := NewSinks(b.TempDir(), nil)
	b.Cleanup(func() { s.Close() })
	w, err := s.Writer("arn:aws:logs:us-east-1:123456789012:log-group:bench")
	if err != nil {
		b.Fatal(err)
	}
	line := []byte(`10.0.1.7 - - [04/Mar/2020:19:15:17 +0000] "GET /pets/{petId} HTTP/1.1" 200 42 c6af9ac6-7b61-11e6-9a41-93e8deadbeef VwjwNFuUIAMFrRA=`)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w.Write(line)
		}
	})
}

func FuzzWriterARN(f *testing.F) {
	for _, s := range []string{
		"arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway/welcome:*",
		"arn:aws:logs:us-east-1:123456789012:log-group:../../x",
		"arn:aws:logs:us-east-1:123456789012:log-group:.",
		"arn:aws:firehose:us-east-1:123456789012:deliverystream/amazon-apigateway-x",
	} {
		f.Add(s)
	}
	root := filepath.Join(f.TempDir(), "logs")
	f.Fuzz(func(t *testing.T, arn string) {
		name, err := parseLogGroupARN(arn)
		if err != nil {
			return
		}
		rel, err := logGroupFile(name)
		if err != nil {
			return
		}
		p := filepath.Join(root, rel)
		r, err := filepath.Rel(root, p)
		if err != nil || r == ".." || strings.HasPrefix(r, "../") || filepath.IsAbs(r) || !strings.HasSuffix(p, ".log") {
			t.Fatalf("%q maps to %q outside %q", arn, p, root)
		}
	})
}
