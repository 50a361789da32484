package policy

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// pattern is a compiled IAM string pattern: an Action or Resource element, or
// one value of a string or ARN condition. It is built once by compilePattern
// and matched without allocating.
type pattern struct {
	kind patKind
	lit  string  // patExact, patPrefix
	toks []token // patTokens
	fold bool    // case-insensitive (Action names, ...IgnoreCase operators)
}

type patKind uint8

const (
	patExact  patKind = iota // s == lit
	patAny                   // "*": everything, including ""
	patPrefix                // lit followed by a single trailing "*"
	patTokens                // anything else: general glob and/or policy variables
)

type tokKind uint8

const (
	tokLit  tokKind = iota // literal text
	tokStar                // "*": any run of characters, including ':' and '/'
	tokOne                 // "?": exactly one character (rune)
	tokVar                 // ${key} or ${key, 'default'}
)

type token struct {
	kind   tokKind
	lit    string // tokLit text; tokVar default value
	hasDef bool   // tokVar has a default value
	key    keyRef // tokVar key
}

// patternOpts says how the text of a pattern is read.
type patternOpts struct {
	wildcards bool // '*' and '?' are wildcards (StringLike, ArnLike, Action, Resource)
	vars      bool // ${...} policy variables are substituted (Version 2012-10-17)
	fold      bool // match ignoring case
}

// compilePattern compiles IAM pattern text. It never fails: text that is not a
// well-formed policy variable is literal, as IAM treats it.
//
// Policy variables (IAM "Policy variables": ${aws:username}, the escapes ${*},
// ${?} and ${$}, and defaults ${key, 'value'}) are recognised only when
// opts.vars is set, i.e. in Version 2012-10-17 documents; a value substituted
// from the request is always literal, never a wildcard.
func compilePattern(text string, opts patternOpts) pattern {
	var toks []token
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			toks = append(toks, token{kind: tokLit, lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case opts.wildcards && c == '*':
			flush()
			if n := len(toks); n == 0 || toks[n-1].kind != tokStar {
				toks = append(toks, token{kind: tokStar})
			}
			i++
			continue
		case opts.wildcards && c == '?':
			flush()
			toks = append(toks, token{kind: tokOne})
			i++
			continue
		case opts.vars && c == '$' && strings.HasPrefix(text[i:], "${"):
			if tok, n, ok := parseVariable(text[i:]); ok {
				if tok.kind == tokLit {
					lit.WriteString(tok.lit)
				} else {
					flush()
					toks = append(toks, tok)
				}
				i += n
				continue
			}
		}
		lit.WriteByte(c)
		i++
	}
	flush()

	p := pattern{fold: opts.fold}
	switch {
	case len(toks) == 0:
		p.kind = patExact
	case len(toks) == 1 && toks[0].kind == tokLit:
		p.kind, p.lit = patExact, toks[0].lit
	case len(toks) == 1 && toks[0].kind == tokStar:
		p.kind = patAny
	case len(toks) == 2 && toks[0].kind == tokLit && toks[1].kind == tokStar:
		p.kind, p.lit = patPrefix, toks[0].lit
	default:
		p.kind, p.toks = patTokens, toks
	}
	return p
}

// parseVariable parses "${...}" at the start of s. It returns the token, the
// number of bytes consumed, and false when s does not start a variable.
func parseVariable(s string) (token, int, bool) {
	end := strings.IndexByte(s, '}')
	if end < 0 {
		return token{}, 0, false
	}
	inner := s[2:end]
	switch inner {
	case "*", "?", "$":
		return token{kind: tokLit, lit: inner}, end + 1, true
	}
	name, def, hasDef := inner, "", false
	if comma := strings.IndexByte(inner, ','); comma >= 0 {
		name = inner[:comma]
		d := strings.TrimSpace(inner[comma+1:])
		if len(d) < 2 || d[0] != '\'' || d[len(d)-1] != '\'' {
			return token{}, 0, false
		}
		def, hasDef = d[1:len(d)-1], true
	}
	name = strings.TrimSpace(name)
	if name == "" || strings.ContainsAny(name, " \t${") {
		return token{}, 0, false
	}
	return token{kind: tokVar, key: newKeyRef(name), lit: def, hasDef: hasDef}, end + 1, true
}

// match reports whether s matches p. r supplies policy-variable values and may
// be nil only for patterns without variables. A variable with no value (and no
// default) makes the pattern match nothing: IAM says such a value "is
// effectively null. There is no equal or like value."
func (p *pattern) match(s string, r *Request) bool {
	switch p.kind {
	case patAny:
		return true
	case patExact:
		if p.fold {
			n, ok := hasPrefix(s, p.lit, true)
			return ok && n == len(s)
		}
		return s == p.lit
	case patPrefix:
		_, ok := hasPrefix(s, p.lit, p.fold)
		return ok
	}
	return matchTokens(p.toks, s, p.fold, r)
}

// matchTokens is the usual single-backtrack-point glob matcher. It is exact
// for patterns whose non-star tokens each match a deterministic length at a
// given position, which literals, variables and '?' (one rune) all do.
func matchTokens(toks []token, s string, fold bool, r *Request) bool {
	ti, si := 0, 0
	starT, starS := -1, 0
	for {
		if ti < len(toks) {
			t := &toks[ti]
			switch t.kind {
			case tokStar:
				starT, starS = ti, si
				ti++
				continue
			case tokOne:
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					ti++
					continue
				}
			case tokLit:
				if n, ok := hasPrefix(s[si:], t.lit, fold); ok {
					si += n
					ti++
					continue
				}
			case tokVar:
				v, ok := "", false
				if r != nil {
					v, ok = r.varValue(&t.key)
				}
				if !ok {
					if !t.hasDef {
						return false
					}
					v = t.lit
				}
				if n, ok := hasPrefix(s[si:], v, fold); ok {
					si += n
					ti++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		if starT < 0 || starS >= len(s) {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starS:])
		starS += n
		si = starS
		ti = starT + 1
	}
}

// hasPrefix reports whether s starts with prefix (ignoring case when fold) and
// how many bytes of s the prefix covers.
func hasPrefix(s, prefix string, fold bool) (int, bool) {
	if !fold {
		if strings.HasPrefix(s, prefix) {
			return len(prefix), true
		}
		return 0, false
	}
	i := 0
	for j := 0; j < len(prefix); {
		if i >= len(s) {
			return 0, false
		}
		a, b := s[i], prefix[j]
		if a < utf8.RuneSelf && b < utf8.RuneSelf {
			if lowerASCII(a) != lowerASCII(b) {
				return 0, false
			}
			i++
			j++
			continue
		}
		ra, na := utf8.DecodeRuneInString(s[i:])
		rb, nb := utf8.DecodeRuneInString(prefix[j:])
		if (ra == utf8.RuneError && na == 1) || (rb == utf8.RuneError && nb == 1) {
			// Invalid UTF-8 folds to nothing: compare the bytes.
			if a != b {
				return 0, false
			}
			i++
			j++
			continue
		}
		if !equalFoldRune(ra, rb) {
			return 0, false
		}
		i += na
		j += nb
	}
	return i, true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func equalFoldRune(a, b rune) bool {
	if a == b {
		return true
	}
	for r := unicode.SimpleFold(a); r != a; r = unicode.SimpleFold(r) {
		if r == b {
			return true
		}
	}
	return false
}

// arnPattern is a compiled ArnEquals/ArnLike value. IAM: "Each of the six
// colon-delimited components of the ARN is checked separately and each can
// include multi-character match wildcards (*) or single-character match
// wildcards (?)." The sixth component (resource) keeps any further colons.
// A value with fewer than six components is matched as one whole-string glob
// (gatehouse's reading; AWS documents no such case).
type arnPattern struct {
	parts     [6]pattern
	whole     pattern
	segmented bool
}

func compileArnPattern(text string, opts patternOpts) arnPattern {
	opts.wildcards = true
	var ap arnPattern
	segs, ok := splitArn(text, opts.vars)
	if !ok {
		ap.whole = compilePattern(text, opts)
		return ap
	}
	ap.segmented = true
	for i, s := range segs {
		ap.parts[i] = compilePattern(s, opts)
	}
	return ap
}

// splitArn splits an ARN pattern at its first five colons, ignoring colons
// inside ${...} policy variables when vars is set.
func splitArn(s string, vars bool) ([6]string, bool) {
	var out [6]string
	n, start := 0, 0
	for i := 0; i < len(s) && n < 5; i++ {
		if vars && s[i] == '$' && strings.HasPrefix(s[i:], "${") {
			if _, adv, ok := parseVariable(s[i:]); ok {
				i += adv - 1
				continue
			}
		}
		if s[i] == ':' {
			out[n] = s[start:i]
			n++
			start = i + 1
		}
	}
	if n < 5 {
		return out, false
	}
	out[5] = s[start:]
	return out, true
}

func (ap *arnPattern) match(s string, r *Request) bool {
	if !ap.segmented {
		return ap.whole.match(s, r)
	}
	start := 0
	for i := 0; i < 5; i++ {
		j := strings.IndexByte(s[start:], ':')
		if j < 0 {
			return false
		}
		if !ap.parts[i].match(s[start:start+j], r) {
			return false
		}
		start += j + 1
	}
	return ap.parts[5].match(s[start:], r)
}
