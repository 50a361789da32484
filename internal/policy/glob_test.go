package policy

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPatternMatch(t *testing.T) {
	like := patternOpts{wildcards: true}
	fold := patternOpts{wildcards: true, fold: true}
	exact := patternOpts{}
	tests := []struct {
		pattern string
		opts    patternOpts
		s       string
		want    bool
	}{
		{"*", like, "", true},
		{"*", like, "anything:at/all", true},
		{"**", like, "x", true},
		{"", like, "", true},
		{"", like, "x", false},
		{"abc", like, "abc", true},
		{"abc", like, "abcd", false},
		{"abc*", like, "abcd", true},
		{"abc*", like, "ab", false},
		{"*abc", like, "xxabc", true},
		{"*abc", like, "xxabcx", false},
		{"a*b*c", like, "aXbYc", true},
		{"a*b*c", like, "abc", true},
		{"a*b*c", like, "acb", false},
		{"a*a*a", like, "aaaa", true},
		{"a*ab", like, "aaab", true},
		{"*a*b*", like, "xxaxxbxx", true},
		{"?", like, "é", true},
		{"??", like, "é", false},
		{"a?c", like, "abc", true},
		{"a?c", like, "ac", false},
		{"*?", like, "", false},
		{"*?", like, "x", true},
		{"arn:aws:execute-api:*:*:*", like, "arn:aws:execute-api:us-east-1:111111111111:abc/prod/GET/", true},
		{"arn:aws:execute-api:*:*:*", like, "arn:aws:execute-api:us-east-1:111111111111", false},
		{"*/GET/*", like, "arn:aws:execute-api:us-east-1:1:abc/prod/GET/pets", true},
		{"*/GET/*", like, "arn:aws:execute-api:us-east-1:1:abc/prod/GETX/pets", false},
		{"*/GET/*", like, "/GET/", true},
		{"a*", exact, "a*", true},
		{"a*", exact, "ab", false},
		{"a?", exact, "ab", false},
		{"EXECUTE-API:Invoke", fold, "execute-api:invoke", true},
		{"execute-api:*", fold, "Execute-Api:Invoke", true},
		{"execute-api:inv?ke", fold, "EXECUTE-API:INVOKE", true},
		{"straße", fold, "STRASSE", false}, // simple folding only
		{"ǅ*", fold, "ǆx", true},
		{"k", fold, "\u212a", true}, // KELVIN SIGN folds to k
		{"\xff", fold, "\xfe", false},
		{"\xff", fold, "\xff", true},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+"~"+tt.s, func(t *testing.T) {
			p := compilePattern(tt.pattern, tt.opts)
			if got := p.match(tt.s, nil); got != tt.want {
				t.Errorf("match(%q, %q) = %v, want %v (kind %d)", tt.pattern, tt.s, got, tt.want, p.kind)
			}
		})
	}
}

func TestCompilePatternKinds(t *testing.T) {
	opts := patternOpts{wildcards: true, vars: true}
	for _, tt := range []struct {
		in   string
		kind patKind
	}{
		{"abc", patExact},
		{"*", patAny},
		{"***", patAny},
		{"abc*", patPrefix},
		{"abc**", patPrefix},
		{"*abc", patTokens},
		{"a?c", patTokens},
		{"a${aws:username}", patTokens},
		{"a${*}", patExact},
		{"a${unclosed", patExact},
	} {
		if got := compilePattern(tt.in, opts).kind; got != tt.kind {
			t.Errorf("compilePattern(%q).kind = %d, want %d", tt.in, got, tt.kind)
		}
	}
}

func TestParseVariable(t *testing.T) {
	for _, tt := range []struct {
		in     string
		ok     bool
		kind   tokKind
		key    string
		def    string
		hasDef bool
		n      int
	}{
		{"${aws:username}x", true, tokVar, "aws:username", "", false, 15},
		{"${aws:PrincipalTag/team, 'company-wide'}", true, tokVar, "aws:PrincipalTag/team", "company-wide", true, 40},
		{"${aws:username,''}", true, tokVar, "aws:username", "", true, 18},
		{"${*}", true, tokLit, "", "*", false, 4},
		{"${$}", true, tokLit, "", "$", false, 4},
		{"${}", false, 0, "", "", false, 0},
		{"${aws:username", false, 0, "", "", false, 0},
		{"${aws:username, default}", false, 0, "", "", false, 0},
		{"${a b}", false, 0, "", "", false, 0},
	} {
		tok, n, ok := parseVariable(tt.in)
		if ok != tt.ok {
			t.Errorf("parseVariable(%q) ok = %v, want %v", tt.in, ok, tt.ok)
			continue
		}
		if !ok {
			continue
		}
		if tok.kind != tt.kind || tok.key.orig != tt.key || tok.lit != tt.def || tok.hasDef != tt.hasDef || n != tt.n {
			t.Errorf("parseVariable(%q) = %+v, %d", tt.in, tok, n)
		}
	}
}

func TestSplitArn(t *testing.T) {
	segs, ok := splitArn("arn:aws:iam::${aws:PrincipalAccount}:role/a:b", true)
	want := [6]string{"arn", "aws", "iam", "", "${aws:PrincipalAccount}", "role/a:b"}
	if !ok || segs != want {
		t.Errorf("splitArn = %q, %v", segs, ok)
	}
	if _, ok := splitArn("arn:aws:sns:*", true); ok {
		t.Error("a 4-component ARN must not split")
	}
}

// globRegexp is the reference implementation FuzzGlob checks against.
func globRegexp(pattern string, fold bool) *regexp.Regexp {
	var b strings.Builder
	b.WriteString(`^(?s)`)
	if fold {
		b.WriteString(`(?i)`)
	}
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString(`$`)
	return regexp.MustCompile(b.String())
}

func FuzzGlob(f *testing.F) {
	for _, seed := range [][2]string{
		{"*", ""},
		{"arn:aws:execute-api:*:*:*", "arn:aws:execute-api:us-east-1:111111111111:abc/prod/GET/"},
		{"*/GET/*", "arn:aws:execute-api:us-east-1:1:abc/prod/GET/pets"},
		{"a*b?c*", "aXXbYcZZ"},
		{"a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
		{"?é*", "xé"},
		{"execute-api:*", "EXECUTE-API:Invoke"},
		{"${aws:username}/*", "alice/x"},
	} {
		f.Add(seed[0], seed[1], false)
		f.Add(seed[0], seed[1], true)
	}
	f.Fuzz(func(t *testing.T, pat, s string, fold bool) {
		if len(pat) > 512 || len(s) > 2048 {
			return // policy strings are short; keep each run cheap
		}
		p := compilePattern(pat, patternOpts{wildcards: true, fold: fold})
		got := p.match(s, nil)
		// Variables only change what is compared, never whether matching
		// terminates: exercise that path too, with no request and an empty one.
		pv := compilePattern(pat, patternOpts{wildcards: true, vars: true, fold: fold})
		pv.match(s, nil)
		pv.match(s, &Request{Context: &Context{}})
		ap := compileArnPattern(pat, patternOpts{vars: true})
		ap.match(s, nil)

		if !utf8.ValidString(pat) || !utf8.ValidString(s) {
			return
		}
		if want := globRegexp(pat, fold).MatchString(s); got != want {
			t.Fatalf("match(%q, %q, fold=%v) = %v, regexp says %v", pat, s, fold, got, want)
		}
	})
}
