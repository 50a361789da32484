package upstream

import (
	"bufio"
	"strings"
)

// Byte classes as 128-bit masks (bit b set = byte b belongs), bytes >= 0x80 excluded.
const (
	// tchar (RFC 9110 §5.6.2): header field names and methods.
	tokenLo, tokenHi = 0x03ff6cfa00000000, 0x57ffffffc7fffffe
	// Bytes of a request-target that are percent-encoded: controls, space, DEL and
	// "#<>\^`{|} (bytes >= 0x80 too).
	escapeLo, escapeHi = 0x5000000dffffffff, 0xb800000150000000
	// Bytes allowed in a Host (reg-name, IP literal, port, pct-encoding).
	hostLo, hostHi = 0x2fff7ff200000000, 0x47fffffeaffffffe
)

func inClass(b byte, lo, hi uint64) bool {
	switch {
	case b < 64:
		return lo&(1<<b) != 0
	case b < 128:
		return hi&(1<<(b-64)) != 0
	}
	return false
}

func validToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !inClass(s[i], tokenLo, tokenHi) {
			return false
		}
	}
	return true
}

func validHost(s string) bool {
	for i := 0; i < len(s); i++ {
		if !inClass(s[i], hostLo, hostHi) {
			return false
		}
	}
	return true
}

// validValue reports whether a request header value has no control character but HT.
func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b < ' ' && b != '\t' || b == 0x7f {
			return false
		}
	}
	return true
}

func validValueBytes(s []byte) bool {
	for _, b := range s {
		if b < ' ' && b != '\t' || b == 0x7f {
			return false
		}
	}
	return true
}

// writeTarget writes the request-target, percent-encoding the bytes that cannot appear
// in one; "" and a bare "?query" get the path "/".
func writeTarget(bw *bufio.Writer, t string) {
	const hexUpper = "0123456789ABCDEF"
	if t == "" || t[0] == '?' {
		_ = bw.WriteByte('/')
	}
	i := 0
	for j := 0; j < len(t); j++ {
		b := t[j]
		if b < 0x80 && !inClass(b, escapeLo, escapeHi) {
			continue
		}
		_, _ = bw.WriteString(t[i:j])
		_ = bw.WriteByte('%')
		_ = bw.WriteByte(hexUpper[b>>4])
		_ = bw.WriteByte(hexUpper[b&0xf])
		i = j + 1
	}
	_, _ = bw.WriteString(t[i:])
}

func lower(b byte) byte {
	if 'A' <= b && b <= 'Z' {
		return b + 'a' - 'A'
	}
	return b
}

func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func asciiEqualFoldBytes(a []byte, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}

func trimOWS(s string) string {
	return strings.Trim(s, " \t")
}

// trimRightOWS returns the end of b[start:end] without trailing spaces and tabs.
func trimRightOWS(b []byte, start, end int) int {
	for end > start && (b[end-1] == ' ' || b[end-1] == '\t') {
		end--
	}
	return end
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

func indexByteString(s string, c byte) int { return strings.IndexByte(s, c) }

// canonicalize checks that name is a token and rewrites it in place to canonical form
// (textproto.CanonicalMIMEHeaderKey: upper case first and after '-', lower case
// elsewhere).
func canonicalize(name []byte) bool {
	upper := true
	for i, b := range name {
		if !inClass(b, tokenLo, tokenHi) {
			return false
		}
		switch {
		case upper && 'a' <= b && b <= 'z':
			name[i] = b - ('a' - 'A')
		case !upper && 'A' <= b && b <= 'Z':
			name[i] = b + ('a' - 'A')
		}
		upper = b == '-'
	}
	return true
}
