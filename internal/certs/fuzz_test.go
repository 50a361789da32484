package certs

import (
	"strings"
	"testing"
)

func FuzzCheckDNSName(f *testing.F) {
	for _, s := range []string{"*.execute-api.us-east-1.amazonaws.com", "a.b", "*.com", "a..b", "-a.b", "A.B.", strings.Repeat("a", 64) + ".com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		n, err := checkDNSName(name)
		if err != nil {
			return
		}
		if n != strings.ToLower(n) || strings.HasSuffix(n, ".") || len(n) > 253 {
			t.Fatalf("accepted %q as %q", name, n)
		}
		if i := strings.LastIndex(n, "*"); i > 0 || (i == 0 && !strings.HasPrefix(n, "*.")) {
			t.Fatalf("accepted misplaced wildcard %q", n)
		}
		if again, err := checkDNSName(n); err != nil || again != n {
			t.Fatalf("not idempotent: %q -> %q, %v", n, again, err)
		}
	})
}

func FuzzParseKey(f *testing.F) {
	_, key := nonCA(f)
	f.Add(key)
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := parseKey(data)
		if err == nil && k == nil {
			t.Fatal("nil key without error")
		}
	})
}
