package router

import (
	"slices"
	"strings"
	"testing"
)

// parseSpec turns "METHOD PATH" lines into routes.
func parseSpec(spec string) []Route[string] {
	var rs []Route[string]
	for line := range strings.SplitSeq(spec, "\n") {
		if line == "" {
			continue
		}
		m, p, _ := strings.Cut(line, " ")
		rs = append(rs, Route[string]{Path: p, Method: m, Value: line})
	}
	return rs
}

const seedSpec = "GET /\nGET /pets\nGET /pets/{petId}\nGET /pets/dog\nANY /pets/{petId}/toys/{proxy+}\nGET /a/b/c\nGET /a/{x}/d\nANY /{proxy+}\nPATCH /users/me\nGET /users/{id}"

// reference matching, written independently of the tree: score every route and take the
// best by AWS precedence.

type refResult struct {
	tmpl   string
	label  string
	params []string
	kinds  []int // 0 literal, 1 variable, 2 greedy per template position
}

func refMatch(routes []Route[string], method, path string) (refResult, bool) {
	if methodSlot(method) == noSlot || path == "" || path[0] != '/' {
		return refResult{}, false
	}
	for len(path) > 1 && strings.HasSuffix(path, "/") {
		path = path[:len(path)-1]
	}
	var segs []string
	if path != "/" {
		segs = strings.Split(path[1:], "/")
	}
	var best *refResult
	bestExact := false
	for _, r := range routes {
		if r.Method != method && r.Method != "ANY" {
			continue
		}
		res, ok := templateMatches(r.Path, segs)
		if !ok {
			continue
		}
		res.label = r.Value
		exact := r.Method == method
		if best == nil {
			best, bestExact = &res, exact
			continue
		}
		c := slices.Compare(res.kinds, best.kinds)
		if c < 0 || c == 0 && res.tmpl == best.tmpl && exact && !bestExact {
			best, bestExact = &res, exact
		}
	}
	if best == nil {
		return refResult{}, false
	}
	return *best, true
}

// templateMatches reports whether the template matches the (trailing-slash trimmed)
// request segments, and binds its variables.
func templateMatches(tmpl string, segs []string) (refResult, bool) {
	res := refResult{tmpl: tmpl}
	var parts []string
	if tmpl != "/" {
		parts = strings.Split(tmpl[1:], "/")
	}
	for i, part := range parts {
		if i >= len(segs) || segs[i] == "" {
			return res, false
		}
		switch {
		case strings.HasSuffix(part, "+}"):
			res.kinds = append(res.kinds, 2)
			res.params = append(res.params, part[1:len(part)-2]+"="+strings.Join(segs[i:], "/"))
			return res, true
		case strings.HasPrefix(part, "{"):
			res.kinds = append(res.kinds, 1)
			res.params = append(res.params, part[1:len(part)-1]+"="+segs[i])
		default:
			if part != segs[i] {
				return res, false
			}
			res.kinds = append(res.kinds, 0)
		}
	}
	return res, len(parts) == len(segs)
}

func paramsOf(p *Params) []string {
	var out []string
	for i := range p.Len() {
		n, v := p.At(i)
		out = append(out, n+"="+v)
	}
	return out
}

func FuzzBuild(f *testing.F) {
	f.Add(seedSpec)
	f.Add("GET /a/{x}\nGET /a/{y}")
	f.Add("ANY /{proxy+}/x")
	f.Add("GET /{a}/{b+}\nPOST /{a}/c")
	f.Add("GET /{}\nGET //\nGET /a/")
	f.Fuzz(func(t *testing.T, spec string) {
		routes := parseSpec(spec)
		tr, err := Build(routes)
		if err != nil {
			if tr != nil {
				t.Fatal("tree and error")
			}
			return
		}
		// Every route must be reachable by a concrete path built from its template,
		// and whatever serves it must match that path.
		for _, r := range routes {
			path := concretePath(r.Path)
			method := r.Method
			if method == "ANY" {
				method = "PUT"
			}
			var p Params
			v, tmpl, ok := tr.Match(method, path, &p)
			if !ok {
				t.Fatalf("route %q unreachable via %s %q", r.Value, method, path)
			}
			want, _ := refMatch(routes, method, path)
			if v != want.label || tmpl != want.tmpl {
				t.Fatalf("%s %q: got %q (%s), reference %q (%s)", method, path, v, tmpl, want.label, want.tmpl)
			}
		}
	})
}

func concretePath(tmpl string) string {
	if tmpl == "/" {
		return "/"
	}
	parts := strings.Split(tmpl[1:], "/")
	for i, p := range parts {
		switch {
		case strings.HasSuffix(p, "+}"):
			parts[i] = "g1/g2"
		case strings.HasPrefix(p, "{"):
			parts[i] = "v"
		}
	}
	return "/" + strings.Join(parts, "/")
}

func FuzzMatch(f *testing.F) {
	for _, s := range []struct{ m, p string }{
		{"GET", "/pets/dog"}, {"DELETE", "/pets/dog"}, {"GET", "/a/b/d"}, {"PUT", "/pets/1/toys/x/y/"},
		{"GET", "/"}, {"POST", "/"}, {"GET", "//"}, {"GET", "/pets//1"}, {"TRACE", "/x"}, {"GET", ""},
		{"POST", "/users/me"}, {"GET", "/users/me"}, {"GET", "/%2F/x"},
	} {
		f.Add(seedSpec, s.m, s.p)
	}
	f.Fuzz(func(t *testing.T, spec, method, path string) {
		routes := parseSpec(spec)
		tr, err := Build(routes)
		if err != nil {
			return
		}
		var p Params
		v, tmpl, ok := tr.Match(method, path, &p)
		want, wantOK := refMatch(routes, method, path)
		if ok != wantOK {
			t.Fatalf("%s %q: ok=%v (%q), reference ok=%v (%q)", method, path, ok, v, wantOK, want.label)
		}
		if !ok {
			if p.Len() != 0 {
				t.Fatalf("params left on miss: %q", paramsOf(&p))
			}
			return
		}
		// Invariant: the returned template matches the path.
		trimmed := path
		for len(trimmed) > 1 && strings.HasSuffix(trimmed, "/") {
			trimmed = trimmed[:len(trimmed)-1]
		}
		var segs []string
		if trimmed != "/" {
			segs = strings.Split(trimmed[1:], "/")
		}
		bound, match := templateMatches(tmpl, segs)
		if !match {
			t.Fatalf("%s %q: returned template %q does not match", method, path, tmpl)
		}
		if got := paramsOf(&p); !slices.Equal(got, bound.params) {
			t.Fatalf("%s %q: params %q, template binds %q", method, path, got, bound.params)
		}
		if v != want.label || tmpl != want.tmpl {
			t.Fatalf("%s %q: got %q (%s), reference %q (%s)", method, path, v, tmpl, want.label, want.tmpl)
		}
	})
}
