package authorizer

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// This file parses and checks compact-serialized JWS tokens (RFC 7515,
// 7519) with the standard library only: split, decode the header, check the
// algorithm, verify the RS256 signature over the exact signed bytes, and only
// then parse the claims. The claims parser renders every claim straight into
// its $context.authorizer.claims string form while picking out the
// registered claims, so a token costs one pass and no reflection.

// Limits on what is parsed.
const (
	maxTokenBytes = 16 << 10 // far above any real JWT; bounds work on garbage
	maxJSONDepth  = 32
)

var (
	errMalformed = errors.New("malformed token")
	errBadJSON   = errors.New("malformed JSON")
)

// jwsParts is a token split into its three segments.
type jwsParts struct {
	signed  string // header "." payload: the signing input
	header  string // base64url
	payload string // base64url
	sig     string // base64url
}

func splitJWS(tok string) (jwsParts, error) {
	if len(tok) > maxTokenBytes {
		return jwsParts{}, fmt.Errorf("%w: longer than %d bytes", errMalformed, maxTokenBytes)
	}
	h, rest, ok1 := strings.Cut(tok, ".")
	p, s, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || strings.IndexByte(s, '.') >= 0 || h == "" || p == "" || s == "" {
		return jwsParts{}, fmt.Errorf("%w: want three dot-separated segments", errMalformed)
	}
	return jwsParts{signed: tok[:len(h)+1+len(p)], header: h, payload: p, sig: s}, nil
}

// jwsHeader is the part of the JOSE header that matters.
type jwsHeader struct {
	alg, kid string
	crit     bool
}

func parseJWSHeader(seg string) (jwsHeader, error) {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return jwsHeader{}, fmt.Errorf("%w: header: %v", errMalformed, err)
	}
	var h jwsHeader
	err = scanObject(b, func(name string, v jsonValue) error {
		switch name {
		case "alg":
			if v.kind != '"' {
				return errors.New("alg is not a string")
			}
			h.alg = v.str
		case "kid":
			if v.kind != '"' {
				return errors.New("kid is not a string")
			}
			h.kid = v.str
		case "crit":
			h.crit = true
		}
		return nil
	})
	if err != nil {
		return jwsHeader{}, fmt.Errorf("%w: header: %v", errMalformed, err)
	}
	return h, nil
}

// verifyRS256 checks the RSASSA-PKCS1-v1_5 SHA-256 signature of p.
func verifyRS256(p *jwsParts, key *rsa.PublicKey) error {
	sig, err := base64.RawURLEncoding.DecodeString(p.sig)
	if err != nil {
		return fmt.Errorf("%w: signature: %v", errMalformed, err)
	}
	sum := sha256.Sum256([]byte(p.signed))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, sum[:], sig); err != nil {
		return errors.New("signature is not valid")
	}
	return nil
}

// tokenClaims are a verified token's claims.
type tokenClaims struct {
	all map[string]string // rendered for $context.authorizer.claims

	iss, tokenUse, clientID string
	aud                     []string
	scopes                  []string
	exp, nbf, iat           float64 // seconds since the epoch
	hasExp, hasNbf, hasIat  bool
}

// parseClaims decodes the payload segment and renders its claims.
func parseClaims(seg string) (*tokenClaims, error) {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %v", errMalformed, err)
	}
	c := &tokenClaims{all: make(map[string]string, 16)}
	var scope, scp []string
	err = scanObject(b, func(name string, v jsonValue) error {
		switch name {
		case "iss", "token_use", "client_id":
			if v.kind != '"' {
				return fmt.Errorf("%s is not a string", name)
			}
			switch name {
			case "iss":
				c.iss = v.str
			case "token_use":
				c.tokenUse = v.str
			default:
				c.clientID = v.str
			}
		case "exp", "nbf", "iat":
			if v.kind != '0' {
				return fmt.Errorf("%s is not a number", name)
			}
			f, err := strconv.ParseFloat(string(v.raw), 64)
			if err != nil {
				return fmt.Errorf("%s: %v", name, err)
			}
			switch name {
			case "exp":
				c.exp, c.hasExp = f, true
			case "nbf":
				c.nbf, c.hasNbf = f, true
			default:
				c.iat, c.hasIat = f, true
			}
		case "aud":
			list, ok := stringOrList(v)
			if !ok {
				return errors.New("aud is not a string or a list of strings")
			}
			c.aud = list
		case "scope":
			if v.kind == '"' {
				scope = strings.Fields(v.str)
			}
		case "scp":
			if list, ok := stringOrList(v); ok {
				if v.kind == '"' {
					list = strings.Fields(v.str)
				}
				scp = list
			}
		}
		if s, ok := renderClaim(name, v); ok {
			c.all[name] = s
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%w: claims: %v", errMalformed, err)
	}
	if scope != nil {
		c.scopes = scope
	} else {
		c.scopes = scp
	}
	return c, nil
}

func stringOrList(v jsonValue) ([]string, bool) {
	switch v.kind {
	case '"':
		return []string{v.str}, true
	case '[':
		var out []string
		ok := true
		err := scanArray(v.raw, func(e jsonValue) error {
			if e.kind != '"' {
				ok = false
				return nil
			}
			out = append(out, e.str)
			return nil
		})
		return out, ok && err == nil
	}
	return nil, false
}

// renderClaim renders a claim as API Gateway's REST Cognito authorizer shows
// it in $context.authorizer.claims: strings as they are, numbers as written
// except exp and iat, which are dates in java.util.Date.toString form,
// booleans as true/false, arrays with their elements joined by ",", objects
// as compact JSON. null claims are left out.
func renderClaim(name string, v jsonValue) (string, bool) {
	switch v.kind {
	case '"':
		return v.str, true
	case '0':
		if name == "exp" || name == "iat" {
			if sec, err := strconv.ParseInt(string(v.raw), 10, 64); err == nil {
				return time.Unix(sec, 0).UTC().Format(javaDate), true
			}
		}
		return string(v.raw), true
	case 't':
		return "true", true
	case 'f':
		return "false", true
	case 'n':
		return "", false
	case '[':
		var parts []string
		_ = scanArray(v.raw, func(e jsonValue) error {
			s, _ := renderClaim("", e)
			if e.kind == 'n' {
				s = "null"
			}
			parts = append(parts, s)
			return nil
		})
		return strings.Join(parts, ","), true
	case '{':
		var buf bytes.Buffer
		if json.Compact(&buf, v.raw) != nil {
			return string(v.raw), true
		}
		return buf.String(), true
	}
	return "", false
}

// javaDate is how API Gateway's REST Cognito authorizer renders exp and iat
// in $context.authorizer.claims (java.util.Date.toString in UTC), e.g.
// "Wed Feb 08 22:42:26 UTC 2023".
const javaDate = "Mon Jan 02 15:04:05 UTC 2006"

// checkTimes applies exp (required), nbf and iat with leeway.
func (c *tokenClaims) checkTimes(now time.Time, leeway time.Duration) error {
	n := float64(now.UnixNano()) / 1e9
	l := leeway.Seconds()
	if !c.hasExp {
		return errors.New("token has no exp")
	}
	if n >= c.exp+l {
		return errors.New("token is expired")
	}
	if c.hasNbf && n+l < c.nbf {
		return errors.New("token is not valid yet (nbf)")
	}
	if c.hasIat && n+l < c.iat {
		return errors.New("token is issued in the future (iat)")
	}
	return nil
}

// A small JSON scanner: enough to walk one object's members or one array's
// elements, validating the grammar (RFC 8259) of everything it passes over.

// jsonValue is one scanned value. kind is '"' (string: str holds it
// decoded), '0' (number), 't', 'f', 'n', '[' or '{'; raw is its exact text.
type jsonValue struct {
	kind byte
	raw  []byte
	str  string
}

// scanObject calls fn for each member of the JSON object b (the whole input,
// surrounding whitespace allowed).
func scanObject(b []byte, fn func(name string, v jsonValue) error) error {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errBadJSON
	}
	end, err := scanMembers(b, i, 1, fn)
	if err != nil {
		return err
	}
	if skipWS(b, end) != len(b) {
		return errBadJSON
	}
	return nil
}

// scanArray calls fn for each element of the JSON array b.
func scanArray(b []byte, fn func(v jsonValue) error) error {
	i := skipWS(b, 0)
	if i >= len(b) || b[i] != '[' {
		return errBadJSON
	}
	end, err := scanElements(b, i, 1, fn)
	if err != nil {
		return err
	}
	if skipWS(b, end) != len(b) {
		return errBadJSON
	}
	return nil
}

// scanMembers walks the object starting at b[i] == '{' and returns the index
// after its closing brace.
func scanMembers(b []byte, i, depth int, fn func(string, jsonValue) error) (int, error) {
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, errBadJSON
		}
		name, next, err := scanString(b, i)
		if err != nil {
			return 0, err
		}
		i = skipWS(b, next)
		if i >= len(b) || b[i] != ':' {
			return 0, errBadJSON
		}
		v, next, err := scanValue(b, skipWS(b, i+1), depth)
		if err != nil {
			return 0, err
		}
		if fn != nil {
			if err := fn(name, v); err != nil {
				return 0, err
			}
		}
		i = skipWS(b, next)
		if i >= len(b) {
			return 0, errBadJSON
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case '}':
			return i + 1, nil
		default:
			return 0, errBadJSON
		}
	}
}

// scanElements walks the array starting at b[i] == '[' and returns the index
// after its closing bracket.
func scanElements(b []byte, i, depth int, fn func(jsonValue) error) (int, error) {
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for {
		v, next, err := scanValue(b, i, depth)
		if err != nil {
			return 0, err
		}
		if fn != nil {
			if err := fn(v); err != nil {
				return 0, err
			}
		}
		i = skipWS(b, next)
		if i >= len(b) {
			return 0, errBadJSON
		}
		switch b[i] {
		case ',':
			i = skipWS(b, i+1)
		case ']':
			return i + 1, nil
		default:
			return 0, errBadJSON
		}
	}
}

// scanValue scans the value at b[i].
func scanValue(b []byte, i, depth int) (jsonValue, int, error) {
	if i >= len(b) {
		return jsonValue{}, 0, errBadJSON
	}
	switch c := b[i]; {
	case c == '"':
		s, next, err := scanString(b, i)
		if err != nil {
			return jsonValue{}, 0, err
		}
		return jsonValue{kind: '"', raw: b[i:next], str: s}, next, nil
	case c == '{' || c == '[':
		if depth >= maxJSONDepth {
			return jsonValue{}, 0, errors.New("JSON nested too deeply")
		}
		var next int
		var err error
		if c == '{' {
			next, err = scanMembers(b, i, depth+1, nil)
		} else {
			next, err = scanElements(b, i, depth+1, nil)
		}
		if err != nil {
			return jsonValue{}, 0, err
		}
		return jsonValue{kind: c, raw: b[i:next]}, next, nil
	case c == 't':
		return literal(b, i, "true", 't')
	case c == 'f':
		return literal(b, i, "false", 'f')
	case c == 'n':
		return literal(b, i, "null", 'n')
	case c == '-' || c >= '0' && c <= '9':
		next, ok := scanNumber(b, i)
		if !ok {
			return jsonValue{}, 0, errBadJSON
		}
		return jsonValue{kind: '0', raw: b[i:next]}, next, nil
	}
	return jsonValue{}, 0, errBadJSON
}

func literal(b []byte, i int, word string, kind byte) (jsonValue, int, error) {
	if !bytes.HasPrefix(b[i:], []byte(word)) {
		return jsonValue{}, 0, errBadJSON
	}
	return jsonValue{kind: kind, raw: b[i : i+len(word)]}, i + len(word), nil
}

// scanNumber scans a JSON number: -?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?
func scanNumber(b []byte, i int) (int, bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return 0, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return 0, false
		}
	}
	return i, true
}

// scanString decodes the string starting at b[i] == '"' and returns it and
// the index after its closing quote. Invalid UTF-8 is replaced by U+FFFD, as
// encoding/json does.
func scanString(b []byte, i int) (string, int, error) {
	start := i + 1
	j := start
	for j < len(b) {
		c := b[j]
		if c == '"' {
			return fixUTF8(b[start:j]), j + 1, nil
		}
		if c == '\\' || c < 0x20 {
			break
		}
		j++
	}
	// Slow path: escapes.
	out := make([]byte, 0, j-start+16)
	out = append(out, b[start:j]...)
	for j < len(b) {
		c := b[j]
		switch {
		case c == '"':
			return fixUTF8(out), j + 1, nil
		case c < 0x20:
			return "", 0, errBadJSON
		case c != '\\':
			out = append(out, c)
			j++
			continue
		}
		if j+1 >= len(b) {
			return "", 0, errBadJSON
		}
		switch e := b[j+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(b, j+2)
			if !ok {
				return "", 0, errBadJSON
			}
			j += 6
			if utf16.IsSurrogate(r) {
				if r2, ok := hex4(b, j+2); ok && j+1 < len(b) && b[j] == '\\' && b[j+1] == 'u' {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						out = utf8.AppendRune(out, dec)
						j += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
			continue
		default:
			return "", 0, errBadJSON
		}
		j += 2
	}
	return "", 0, errBadJSON
}

// fixUTF8 returns b as a string with each byte of an invalid UTF-8 sequence
// replaced by U+FFFD, as encoding/json decodes strings.
func fixUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	out := make([]byte, 0, len(b)+8)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n == 1 {
			out = append(out, "\uFFFD"...)
		} else {
			out = append(out, b[:n]...)
		}
		b = b[n:]
	}
	return string(out)
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}
