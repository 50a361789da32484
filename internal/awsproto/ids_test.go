package awsproto

import (
	"encoding/base64"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestNewRequestID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := NewRequestID()
		if !re.MatchString(id) {
			t.Fatalf("NewRequestID() = %q is not a v4 UUID", id)
		}
		if seen[id] {
			t.Fatalf("duplicate id %q", id)
		}
		seen[id] = true
	}
	if n := testing.AllocsPerRun(100, func() { _ = NewRequestID() }); n > 1 && !raceEnabled {
		t.Errorf("NewRequestID allocates %v times, want 1", n)
	}
}

func TestNewID(t *testing.T) {
	re := regexp.MustCompile(`^[a-z0-9]+$`)
	for _, n := range []int{1, 6, 10, 32, 33, 100} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			id := NewID(n)
			if len(id) != n || !re.MatchString(id) {
				t.Errorf("NewID(%d) = %q", n, id)
			}
		})
	}
	for _, n := range []int{0, -1} {
		if id := NewID(n); id != "" {
			t.Errorf("NewID(%d) = %q, want empty", n, id)
		}
	}
	// Every character of the alphabet shows up, roughly uniformly.
	counts := map[rune]int{}
	const total = 36 * 2000
	for range total / 10 {
		for _, c := range NewID(10) {
			counts[c]++
		}
	}
	if len(counts) != 36 {
		t.Fatalf("saw %d distinct characters, want 36", len(counts))
	}
	for c, n := range counts {
		if n < 1500 || n > 2500 {
			t.Errorf("character %q appeared %d times, expected about 2000", c, n)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = NewID(10) }); n > 1 && !raceEnabled {
		t.Errorf("NewID(10) allocates %v times, want 1", n)
	}
}

func TestNewExtendedRequestID(t *testing.T) {
	for range 100 {
		id := NewExtendedRequestID()
		if len(id) != 16 || !strings.HasSuffix(id, "=") || strings.HasSuffix(id, "==") {
			t.Fatalf("NewExtendedRequestID() = %q", id)
		}
		if b, err := base64.StdEncoding.DecodeString(id); err != nil || len(b) != 11 {
			t.Fatalf("NewExtendedRequestID() = %q does not decode to 11 bytes: %v", id, err)
		}
	}
}

func BenchmarkNewRequestID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = NewRequestID()
	}
}

func BenchmarkNewID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = NewID(10)
	}
}
