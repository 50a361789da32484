package store

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

// natsKeyRe and natsKeyValid restate nats.go's jetstream key rules
// (validKeyRe plus the '.' checks in keyValid), as the oracle for
// ValidateKey.
var natsKeyRe = regexp.MustCompile(`\A[-/_=\.a-zA-Z0-9]+\z`)

func natsKeyValid(key string) bool {
	if len(key) == 0 || key[0] == '.' || key[len(key)-1] == '.' || strings.Contains(key, "..") {
		return false
	}
	return natsKeyRe.MatchString(key)
}

// subjectMatches reports whether the NATS subject pattern matches the
// literal subject, for patterns whose only wildcard is a trailing '>'.
func subjectMatches(pattern, subject string) bool {
	pt, st := strings.Split(pattern, "."), strings.Split(subject, ".")
	for i, p := range pt {
		if p == ">" {
			return len(st) > i
		}
		if i >= len(st) || st[i] != p {
			return false
		}
	}
	return len(pt) == len(st)
}

func TestPrefixFilter(t *testing.T) {
	tests := []struct {
		prefix, want string
	}{
		{"", ">"},
		{"apis/a", ">"},
		{"vpc.", "vpc.>"},
		{"vpc.1", "vpc.>"},
		{"a.b.c", "a.b.>"},
		{"a/b.c/d.", "a/b.c/d.>"},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			if got := prefixFilter(tt.prefix); got != tt.want {
				t.Errorf("prefixFilter(%q) = %q, want %q", tt.prefix, got, tt.want)
			}
		})
	}
}

func TestValidateBucket(t *testing.T) {
	tests := []struct {
		name  string
		valid bool
	}{
		{"restapis", true},
		{"A-b_9", true},
		{"", false},
		{"a.b", false},
		{"a/b", false},
		{"a b", false},
		{"a*", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validateBucket(tt.name)
			if tt.valid != (err == nil) {
				t.Fatalf("validateBucket(%q) = %v, want valid=%v", tt.name, err, tt.valid)
			}
			if err != nil && !errors.Is(err, ErrInvalidBucket) {
				t.Fatalf("error %v does not wrap ErrInvalidBucket", err)
			}
		})
	}
}

func FuzzValidateKey(f *testing.F) {
	for _, seed := range []string{
		"", "a", "restapis/abc/resources/x", "vpc.1.eni.2", ".a", "a.", "a..b",
		"a b", "a*", ">", "ü", "=/-_", "a.b.", "\x00",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, key string) {
		err := ValidateKey(key)
		if want := natsKeyValid(key); want != (err == nil) {
			t.Fatalf("ValidateKey(%q) = %v, nats.go considers it valid=%v", key, err, want)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("ValidateKey(%q) error %v does not wrap ErrInvalidKey", key, err)
			}
			return
		}
		// Every prefix of a valid key is a valid List prefix, and the
		// server-side filter for it selects the key.
		for i := 0; i <= len(key); i++ {
			prefix := key[:i]
			if err := validatePrefix(prefix); err != nil {
				t.Fatalf("validatePrefix(%q), a prefix of valid key %q: %v", prefix, key, err)
			}
			if f := prefixFilter(prefix); !subjectMatches(f, key) {
				t.Fatalf("filter %q for prefix %q does not select key %q", f, prefix, key)
			}
		}
	})
}

func FuzzValidatePrefix(f *testing.F) {
	for _, seed := range []string{"", "a", "a.", "a.b", ".a", "a..", "a*", "vpc.1.eni."} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, prefix string) {
		err := validatePrefix(prefix)
		// A prefix is valid exactly when some valid key starts with it;
		// prefix+"x" is such a key when one exists.
		if want := prefix == "" || natsKeyValid(prefix+"x"); want != (err == nil) {
			t.Fatalf("validatePrefix(%q) = %v, want valid=%v", prefix, err, want)
		}
		if err != nil && !errors.Is(err, ErrInvalidKey) {
			t.Fatalf("validatePrefix(%q) error %v does not wrap ErrInvalidKey", prefix, err)
		}
	})
}

func TestDescribeURL(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", "embedded server"},
		{"nats://127.0.0.1:4222", "nats://127.0.0.1:4222"},
		{"nats://user:secret@a:4222, nats://b:4222", "nats://user:xxxxx@a:4222,nats://b:4222"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := describeURL(tt.in); got != tt.want {
				t.Errorf("describeURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
