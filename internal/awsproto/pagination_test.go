package awsproto

import (
	"testing"
)

func TestPosition(t *testing.T) {
	for _, key := range []string{"a", "a1b2c3d4e5", "restapis/abc/resources/x y", "\x00\xff", "é/€"} {
		t.Run(key, func(t *testing.T) {
			tok := EncodePosition(key)
			got, err := DecodePosition(tok)
			if err != nil || got != key {
				t.Errorf("DecodePosition(EncodePosition(%q)) = %q, %v", key, got, err)
			}
		})
	}
	if tok := EncodePosition(""); tok != "" {
		t.Errorf("EncodePosition(\"\") = %q", tok)
	}
	if got, err := DecodePosition(""); got != "" || err != nil {
		t.Errorf("DecodePosition(\"\") = %q, %v", got, err)
	}
	for _, bad := range []string{"!!!", "a", "YQ==", "YR", "a b"} {
		t.Run("bad "+bad, func(t *testing.T) {
			_, err := DecodePosition(bad)
			if e := asError(t, err); e.Code != CodeBadRequest || e.Status != 400 {
				t.Errorf("DecodePosition(%q) = %v", bad, err)
			}
		})
	}
}

func TestParseLimit(t *testing.T) {
	tests := []struct {
		in   string
		want int
		bad  bool
	}{
		{"", 25, false},
		{"1", 1, false},
		{"25", 25, false},
		{"500", 500, false},
		{"501", 500, false},
		{"2147483647", 500, false},
		{"2147483648", 0, true},
		{"0", 0, true},
		{"-1", 0, true},
		{"abc", 0, true},
		{"1.5", 0, true},
		{" 5", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseLimit(tc.in)
			if tc.bad {
				if e := asError(t, err); e.Code != CodeBadRequest || e.Status != 400 {
					t.Errorf("ParseLimit(%q) error = %v", tc.in, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("ParseLimit(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
			}
		})
	}
}

func FuzzDecodePosition(f *testing.F) {
	for _, s := range []string{"", "cG9z", "!!", EncodePosition("restapis/abc")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		key, err := DecodePosition(tok)
		if err != nil {
			return
		}
		if EncodePosition(key) != tok {
			t.Fatalf("token %q decodes to %q which encodes to %q", tok, key, EncodePosition(key))
		}
	})
}

func FuzzParseLimit(f *testing.F) {
	for _, s := range []string{"", "25", "-1", "99999999999", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseLimit(s)
		if err == nil && (n < 1 || n > MaxLimit) {
			t.Fatalf("ParseLimit(%q) = %d", s, n)
		}
	})
}
