package validation

import (
	"fmt"
	"net/textproto"
	"slices"
	"strings"
)

type paramKind uint8

const (
	paramHeader paramKind = iota
	paramPath
	paramQuery
)

// param is one required method request parameter.
type param struct {
	kind  paramKind
	name  string // as declared; what the error message shows
	canon string // canonical header key (headers only)
}

// parseParams turns a method's requestParameters into the required ones, in the order
// AWS lists missing parameters: sorted by the full key, so headers, then path
// parameters, then query strings, each by name ("[x-header-param, issuer, qs1]").
func parseParams(rp map[string]bool) ([]param, error) {
	keys := make([]string, 0, len(rp))
	for k, required := range rp {
		if required {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	out := make([]param, 0, len(keys))
	for _, k := range keys {
		rest, ok := strings.CutPrefix(k, "method.request.")
		if !ok {
			return nil, fmt.Errorf("request parameter %q: not method.request.{location}.{name}", k)
		}
		loc, name, ok := strings.Cut(rest, ".")
		if !ok || name == "" {
			return nil, fmt.Errorf("request parameter %q: not method.request.{location}.{name}", k)
		}
		var p param
		switch loc {
		case "header", "multivalueheader":
			p = param{kind: paramHeader, name: name, canon: textproto.CanonicalMIMEHeaderKey(name)}
		case "path":
			p = param{kind: paramPath, name: name}
		case "querystring", "multivaluequerystring":
			p = param{kind: paramQuery, name: name}
		default:
			return nil, fmt.Errorf("request parameter %q: unknown location %q", k, loc)
		}
		out = append(out, p)
	}
	return out, nil
}

// present reports whether r carries p with a value that is not blank.
func (p *param) present(r *Request) bool {
	switch p.kind {
	case paramHeader:
		if p.canon == "Host" {
			return !blank(r.Host)
		}
		for _, v := range r.Header[p.canon] {
			if !blank(v) {
				return true
			}
		}
		return false
	case paramPath:
		if r.Path == nil {
			return false
		}
		v, ok := r.Path.Get(p.name)
		return ok && v != ""
	default:
		return queryHas(r.RawQuery, p.name)
	}
}

// queryHas reports whether the raw query string has name with a non-blank value
// ("?q1=" and "?q1" count as missing). It decodes on the fly and does not allocate.
func queryHas(raw, name string) bool {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(kv, "=")
		if decodedEqual(k, name) && !decodedBlank(v) {
			return true
		}
	}
	return false
}

// decodedEqual compares a query component, %XX- and '+'-decoded, with s.
func decodedEqual(enc, s string) bool {
	j := 0
	for i := 0; i < len(enc); i++ {
		c := enc[i]
		switch {
		case c == '+':
			c = ' '
		case c == '%' && i+2 < len(enc) && isHex(enc[i+1]) && isHex(enc[i+2]):
			c = unhex(enc[i+1])<<4 | unhex(enc[i+2])
			i += 2
		}
		if j >= len(s) || s[j] != c {
			return false
		}
		j++
	}
	return j == len(s)
}

// decodedBlank reports whether a query component decodes to nothing but white space.
func decodedBlank(enc string) bool {
	for i := 0; i < len(enc); i++ {
		c := enc[i]
		switch {
		case c == '+':
			c = ' '
		case c == '%' && i+2 < len(enc) && isHex(enc[i+1]) && isHex(enc[i+2]):
			c = unhex(enc[i+1])<<4 | unhex(enc[i+2])
			i += 2
		}
		if !isSpace(c) {
			return false
		}
	}
	return true
}

func blank(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isSpace(s[i]) {
			return false
		}
	}
	return true
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// missingMessage builds "Missing required request parameters: [a, b]".
func missingMessage(missing []string) string {
	return "Missing required request parameters: [" + strings.Join(missing, ", ") + "]"
}
