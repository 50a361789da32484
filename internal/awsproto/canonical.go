package awsproto

import (
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
)

// This file builds the SigV4 canonical request for non-S3 services:
//
//	METHOD \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n PayloadHash
//
// CanonicalURI is the request path as sent (already percent-encoded once)
// encoded again byte by byte, keeping only RFC 3986 unreserved characters and
// '/': "/dev/mypath%2Fnext" becomes "/dev/mypath%252Fnext". CanonicalQuery is
// every key=value pair, each side decoded and re-encoded with RFC 3986
// (uppercase hex, space as %20), sorted by key then value.

const upperHex = "0123456789ABCDEF"

// unreserved reports RFC 3986 unreserved characters: ALPHA DIGIT - . _ ~
func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// appendURIEncoded appends s percent-encoded (everything but unreserved
// characters, and '/' when keepSlash).
func appendURIEncoded(dst []byte, s string, keepSlash bool) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || c == '/' && keepSlash {
			dst = append(dst, c)
		} else {
			dst = append(dst, '%', upperHex[c>>4], upperHex[c&15])
		}
	}
	return dst
}

// rawPath returns the request path exactly as the client sent it: the path
// part of RequestURI when it is in origin form (server requests), else
// URL.EscapedPath() (requests built in-process).
func rawPath(r *http.Request) string {
	if u := r.RequestURI; u != "" && u[0] == '/' {
		if i := strings.IndexByte(u, '?'); i >= 0 {
			u = u[:i]
		}
		return u
	}
	if r.URL == nil {
		return "/"
	}
	if r.URL.Opaque != "" { // "//host/path" form, as the AWS SDKs accept
		o := r.URL.Opaque
		if i := strings.IndexByte(o, '?'); i >= 0 {
			o = o[:i]
		}
		if strings.HasPrefix(o, "//") {
			o = o[2:]
		}
		if i := strings.IndexByte(o, '/'); i >= 0 {
			return o[i:]
		}
		return "/"
	}
	return r.URL.EscapedPath()
}

// normalizePath removes "." and ".." segments and empty segments (repeated
// slashes), keeping a leading and trailing slash, as botocore does and the
// SigV4 specification asks for non-S3 services. It returns p unchanged (no
// allocation) when there is nothing to remove.
func normalizePath(p string) string {
	if p == "" {
		return "/"
	}
	if !strings.Contains(p, "//") && !strings.Contains(p, "/.") && !strings.HasPrefix(p, ".") {
		return p
	}
	var out []string
	for seg := range strings.SplitSeq(p, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	var b strings.Builder
	if p[0] == '/' {
		b.WriteByte('/')
	}
	b.WriteString(strings.Join(out, "/"))
	if p[len(p)-1] == '/' && len(out) > 0 {
		b.WriteByte('/')
	}
	return b.String()
}

// queryPair is one canonical (encoded) query parameter.
type queryPair struct{ k, v string }

// canonicalQueryComponent decodes a raw query key or value ('+' is a space,
// %XX a byte; a malformed escape stays literal) and re-encodes it per RFC
// 3986. It returns raw itself when raw is already canonical.
func canonicalQueryComponent(raw string) string {
	canonical := true
	for i := 0; i < len(raw) && canonical; i++ {
		c := raw[i]
		switch {
		case unreserved(c):
		case c == '%' && i+2 < len(raw) && isUpperHex(raw[i+1]) && isUpperHex(raw[i+2]) &&
			!unreserved(unhex(raw[i+1])<<4|unhex(raw[i+2])):
			i += 2
		default:
			canonical = false
		}
	}
	if canonical {
		return raw
	}
	dec := queryUnescape(raw)
	return string(appendURIEncoded(make([]byte, 0, len(dec)*3), dec, false))
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isUpperHex(c byte) bool { return '0' <= c && c <= '9' || 'A' <= c && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10
	}
	return 0
}

// queryUnescape decodes a raw query component ('+' is a space; malformed
// escapes stay literal).
func queryUnescape(raw string) string {
	if strings.IndexByte(raw, '%') < 0 && strings.IndexByte(raw, '+') < 0 {
		return raw
	}
	dec := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '+':
			dec = append(dec, ' ')
		case c == '%' && i+2 < len(raw) && isHex(raw[i+1]) && isHex(raw[i+2]):
			dec = append(dec, unhex(raw[i+1])<<4|unhex(raw[i+2]))
			i += 2
		default:
			dec = append(dec, c)
		}
	}
	return string(dec)
}

// appendCanonicalQuery appends the canonical query string of rawQuery,
// leaving out X-Amz-Signature when presigned. pairs is scratch space.
func appendCanonicalQuery(dst []byte, rawQuery string, presigned bool, pairs []queryPair) ([]byte, []queryPair) {
	pairs = pairs[:0]
	for rest := rawQuery; rest != ""; {
		var part string
		part, rest, _ = strings.Cut(rest, "&")
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		pairs = append(pairs, queryPair{canonicalQueryComponent(k), canonicalQueryComponent(v)})
	}
	if len(pairs) > 1 {
		slices.SortFunc(pairs, func(a, b queryPair) int {
			if c := strings.Compare(a.k, b.k); c != 0 {
				return c
			}
			return strings.Compare(a.v, b.v)
		})
	}
	for i, p := range pairs {
		if i > 0 {
			dst = append(dst, '&')
		}
		dst = append(dst, p.k...)
		dst = append(dst, '=')
		dst = append(dst, p.v...)
	}
	return dst, pairs
}

// headerValues returns the values of the header named by the lowercase name
// in SignedHeaders, or host (from r.Host) when name is host.
func headerValues(r *http.Request, name string) (vals []string, host string) {
	if strings.EqualFold(name, "host") || name == ":authority" {
		if r.Host != "" {
			return nil, r.Host
		}
		if r.URL != nil {
			return nil, r.URL.Host
		}
		return nil, ""
	}
	var kb [64]byte
	if len(name) <= len(kb) {
		k := kb[:len(name)]
		upper := true
		for i := 0; i < len(name); i++ {
			c := name[i]
			if upper && 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			} else if !upper && 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			k[i] = c
			upper = c == '-'
		}
		vals = r.Header[string(k)] // no allocation for a map lookup
	} else {
		vals = r.Header[textproto.CanonicalMIMEHeaderKey(name)]
	}
	if vals == nil {
		// A name that textproto does not canonicalize (it contains bytes that
		// are not token characters) is stored as received.
		for k, v := range r.Header {
			if strings.EqualFold(k, name) {
				return v, ""
			}
		}
	}
	if vals == nil && name == "transfer-encoding" {
		return r.TransferEncoding, "" // net/http moves it out of r.Header
	}
	return vals, ""
}

// appendHeaderValue appends v with runs of spaces collapsed to one and
// surrounding white space removed (the rule of the AWS SDKs' signers).
func appendHeaderValue(dst []byte, v string) []byte {
	v = strings.TrimSpace(v)
	space := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		dst = append(dst, c)
	}
	return dst
}

// appendCanonicalHeaders appends "name:value\n" for each name in the
// semicolon-separated signedHeaders, in the order given.
func appendCanonicalHeaders(dst []byte, r *http.Request, signedHeaders string) []byte {
	for rest := signedHeaders; rest != ""; {
		var name string
		name, rest, _ = strings.Cut(rest, ";")
		dst = append(dst, name...)
		dst = append(dst, ':')
		vals, host := headerValues(r, name)
		if vals == nil {
			if name == "content-length" && r.ContentLength > 0 {
				// Requests built in-process keep the length out of r.Header.
				dst = strconv.AppendInt(dst, r.ContentLength, 10)
			} else {
				dst = appendHeaderValue(dst, host)
			}
		}
		for i, v := range vals {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendHeaderValue(dst, v)
		}
		dst = append(dst, '\n')
	}
	return dst
}

// canonicalInput is everything the canonical request depends on.
type canonicalInput struct {
	r             *http.Request
	method        string
	path          string // raw (once-encoded) path, possibly normalized
	rawQuery      string
	presigned     bool
	signedHeaders string
	payloadHash   []byte
}

// appendCanonicalRequest appends the canonical request for in to dst.
func appendCanonicalRequest(dst []byte, in *canonicalInput, pairs []queryPair) ([]byte, []queryPair) {
	dst = append(dst, in.method...)
	dst = append(dst, '\n')
	if in.path == "" {
		dst = append(dst, '/')
	} else {
		dst = appendURIEncoded(dst, in.path, true)
	}
	dst = append(dst, '\n')
	dst, pairs = appendCanonicalQuery(dst, in.rawQuery, in.presigned, pairs)
	dst = append(dst, '\n')
	dst = appendCanonicalHeaders(dst, in.r, in.signedHeaders)
	dst = append(dst, '\n')
	dst = append(dst, in.signedHeaders...)
	dst = append(dst, '\n')
	dst = append(dst, in.payloadHash...)
	return dst, pairs
}
