package router

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// label is the value every test route carries: "METHOD PATH".
func routesOf(specs ...string) []Route[string] {
	rs := make([]Route[string], 0, len(specs))
	for _, s := range specs {
		m, p, _ := strings.Cut(s, " ")
		rs = append(rs, Route[string]{Path: p, Method: m, Value: s})
	}
	return rs
}

func mustBuild(t testing.TB, specs ...string) *Tree[string] {
	t.Helper()
	tr, err := Build(routesOf(specs...))
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return tr
}

type matchCase struct {
	name   string
	method string
	path   string
	want   string   // route label; "" means ok=false
	tmpl   string   // expected resource path when want != ""
	params []string // name=value pairs in order
}

func runMatchCases(t *testing.T, tr *Tree[string], cases []matchCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var p Params
			v, rp, ok := tr.Match(tc.method, tc.path, &p)
			if tc.want == "" {
				if ok {
					t.Fatalf("Match(%s %q) = %q (%s), want no match", tc.method, tc.path, v, rp)
				}
				if p.Len() != 0 {
					t.Errorf("params not empty on miss: %d", p.Len())
				}
				return
			}
			if !ok {
				t.Fatalf("Match(%s %q): no match, want %q", tc.method, tc.path, tc.want)
			}
			if v != tc.want || rp != tc.tmpl {
				t.Fatalf("Match(%s %q) = %q, %q; want %q, %q", tc.method, tc.path, v, rp, tc.want, tc.tmpl)
			}
			var got []string
			for i := range p.Len() {
				n, val := p.At(i)
				got = append(got, n+"="+val)
			}
			if !slices.Equal(got, tc.params) {
				t.Fatalf("params = %q, want %q", got, tc.params)
			}
		})
	}
}

func TestMatchPetStore(t *testing.T) {
	tr := mustBuild(t,
		"GET /",
		"GET /pets",
		"POST /pets",
		"GET /pets/{petId}",
		"DELETE /pets/{petId}",
		"GET /pets/dog",
		"GET /pets/dog/food",
		"ANY /pets/{petId}/toys/{proxy+}",
		"GET /a/b/c",
		"GET /a/{x}/d",
		"ANY /files/{path+}",
		"GET /files/special/x",
		"ANY /mixed",
		"GET /mixed",
		"GET /v1:batch",
		"ANY /{proxy+}",
	)
	runMatchCases(t, tr, []matchCase{
		{name: "root", method: "GET", path: "/", want: "GET /", tmpl: "/"},
		{name: "root double slash", method: "GET", path: "//", want: "GET /", tmpl: "/"},
		{name: "greedy never matches root", method: "POST", path: "/"},
		{name: "literal", method: "GET", path: "/pets", want: "GET /pets", tmpl: "/pets"},
		{name: "literal other method", method: "POST", path: "/pets", want: "POST /pets", tmpl: "/pets"},
		{name: "trailing slash", method: "GET", path: "/pets/", want: "GET /pets", tmpl: "/pets"},
		{name: "trailing slashes", method: "GET", path: "/pets///", want: "GET /pets", tmpl: "/pets"},
		{name: "param", method: "GET", path: "/pets/42", want: "GET /pets/{petId}", tmpl: "/pets/{petId}", params: []string{"petId=42"}},
		{name: "param trailing slash", method: "GET", path: "/pets/42/", want: "GET /pets/{petId}", tmpl: "/pets/{petId}", params: []string{"petId=42"}},
		{name: "param stays escaped", method: "GET", path: "/pets/a%2Fb%20c", want: "GET /pets/{petId}", tmpl: "/pets/{petId}", params: []string{"petId=a%2Fb%20c"}},
		{name: "literal beats param", method: "GET", path: "/pets/dog", want: "GET /pets/dog", tmpl: "/pets/dog"},
		{name: "literal without method falls to param", method: "DELETE", path: "/pets/dog", want: "DELETE /pets/{petId}", tmpl: "/pets/{petId}", params: []string{"petId=dog"}},
		{name: "deeper literal", method: "GET", path: "/pets/dog/food", want: "GET /pets/dog/food", tmpl: "/pets/dog/food"},
		{name: "param then greedy", method: "PATCH", path: "/pets/7/toys/ball/red", want: "ANY /pets/{petId}/toys/{proxy+}", tmpl: "/pets/{petId}/toys/{proxy+}", params: []string{"petId=7", "proxy=ball/red"}},
		{name: "literal branch then param then greedy", method: "GET", path: "/pets/dog/toys/ball", want: "ANY /pets/{petId}/toys/{proxy+}", tmpl: "/pets/{petId}/toys/{proxy+}", params: []string{"petId=dog", "proxy=ball"}},
		{name: "greedy needs one segment", method: "GET", path: "/pets/7/toys", want: "ANY /{proxy+}", tmpl: "/{proxy+}", params: []string{"proxy=pets/7/toys"}},
		{name: "greedy needs one segment trailing slash", method: "GET", path: "/pets/7/toys/", want: "ANY /{proxy+}", tmpl: "/{proxy+}", params: []string{"proxy=pets/7/toys"}},
		{name: "method missing on resource falls to root greedy", method: "PUT", path: "/pets", want: "ANY /{proxy+}", tmpl: "/{proxy+}", params: []string{"proxy=pets"}},
		{name: "backtrack literal to param", method: "GET", path: "/a/b/d", want: "GET /a/{x}/d", tmpl: "/a/{x}/d", params: []string{"x=b"}},
		{name: "backtrack keeps literal when it matches", method: "GET", path: "/a/b/c", want: "GET /a/b/c", tmpl: "/a/b/c"},
		{name: "backtrack param discarded", method: "GET", path: "/a/z/q", want: "ANY /{proxy+}", tmpl: "/{proxy+}", params: []string{"proxy=a/z/q"}},
		{name: "backtrack literal to greedy", method: "GET", path: "/files/special/y", want: "ANY /files/{path+}", tmpl: "/files/{path+}", params: []string{"path=special/y"}},
		{name: "literal under greedy sibling", method: "GET", path: "/files/special/x", want: "GET /files/special/x", tmpl: "/files/special/x"},
		{name: "literal under greedy sibling other method", method: "POST", path: "/files/special/x", want: "ANY /files/{path+}", tmpl: "/files/{path+}", params: []string{"path=special/x"}},
		{name: "greedy keeps inner empty segments", method: "GET", path: "/files/a//b", want: "ANY /files/{path+}", tmpl: "/files/{path+}", params: []string{"path=a//b"}},
		{name: "empty segment skips literal and param", method: "GET", path: "/pets//42", want: "ANY /{proxy+}", tmpl: "/{proxy+}", params: []string{"proxy=pets//42"}},
		{name: "exact method beats ANY", method: "GET", path: "/mixed", want: "GET /mixed", tmpl: "/mixed"},
		{name: "ANY serves other methods", method: "DELETE", path: "/mixed", want: "ANY /mixed", tmpl: "/mixed"},
		{name: "ANY serves HEAD and OPTIONS", method: "OPTIONS", path: "/mixed", want: "ANY /mixed", tmpl: "/mixed"},
		{name: "colon literal", method: "GET", path: "/v1:batch", want: "GET /v1:batch", tmpl: "/v1:batch"},
		{name: "unknown verb never matches ANY", method: "TRACE", path: "/mixed"},
		{name: "verbs are case-sensitive", method: "get", path: "/pets"},
		{name: "empty path", method: "GET", path: ""},
		{name: "relative path", method: "GET", path: "pets"},
	})
}

// TestMatchMethodFallthrough mirrors measurements on real API Gateway published in
// floci-io/floci#3399 and ministackorg/ministack#1423: a resource that matches the path
// but lacks the method does not end the search.
func TestMatchMethodFallthrough(t *testing.T) {
	tr := mustBuild(t,
		"PATCH /users/me",
		"GET /users/{userId}",
		"POST /roles/provision",
		"GET /roles/{roleId}",
		"GET /things/real",
		"ANY /things/{proxy+}",
		"GET /jobs/{op}",
		"OPTIONS /cors_only",
	)
	runMatchCases(t, tr, []matchCase{
		{name: "GET /users/me reaches param", method: "GET", path: "/users/me", want: "GET /users/{userId}", tmpl: "/users/{userId}", params: []string{"userId=me"}},
		{name: "PATCH /users/me stays literal", method: "PATCH", path: "/users/me", want: "PATCH /users/me", tmpl: "/users/me"},
		{name: "POST /users/me nothing has POST", method: "POST", path: "/users/me"},
		{name: "POST /roles/provision literal", method: "POST", path: "/roles/provision", want: "POST /roles/provision", tmpl: "/roles/provision"},
		{name: "GET /roles/provision param", method: "GET", path: "/roles/provision", want: "GET /roles/{roleId}", tmpl: "/roles/{roleId}", params: []string{"roleId=provision"}},
		{name: "GET /things/real literal", method: "GET", path: "/things/real", want: "GET /things/real", tmpl: "/things/real"},
		{name: "POST /things/real greedy", method: "POST", path: "/things/real", want: "ANY /things/{proxy+}", tmpl: "/things/{proxy+}", params: []string{"proxy=real"}},
		{name: "methodless intermediate", method: "GET", path: "/jobs"},
		{name: "methodless root", method: "GET", path: "/"},
		{name: "greedy parent without method", method: "GET", path: "/things"},
		{name: "unknown path", method: "GET", path: "/nope"},
		{name: "resource has only OPTIONS", method: "GET", path: "/cors_only"},
		{name: "param resource", method: "GET", path: "/jobs/reboot", want: "GET /jobs/{op}", tmpl: "/jobs/{op}", params: []string{"op=reboot"}},
	})
}

func TestMatchNilParamsAndNilTree(t *testing.T) {
	tr := mustBuild(t, "GET /a/{b}")
	if v, rp, ok := tr.Match("GET", "/a/x", nil); !ok || v != "GET /a/{b}" || rp != "/a/{b}" {
		t.Fatalf("nil params: %q %q %v", v, rp, ok)
	}
	var nilTree *Tree[string]
	var p Params
	p.push("stale", "x")
	if _, _, ok := nilTree.Match("GET", "/", &p); ok || p.Len() != 0 {
		t.Fatalf("nil tree matched or left params: ok=%v len=%d", ok, p.Len())
	}
}

func TestMatchResetsParams(t *testing.T) {
	tr := mustBuild(t, "GET /a/{b}", "GET /c")
	var p Params
	tr.Match("GET", "/a/x", &p)
	if _, _, ok := tr.Match("GET", "/c", &p); !ok || p.Len() != 0 {
		t.Fatalf("ok=%v len=%d, want ok and no params", ok, p.Len())
	}
}

func TestParams(t *testing.T) {
	tr := mustBuild(t, "GET /{a}/{b}/{a}")
	var p Params
	if _, _, ok := tr.Match("GET", "/1/2/3", &p); !ok {
		t.Fatal("no match")
	}
	tests := []struct {
		name, key, want string
		ok              bool
	}{
		{name: "first", key: "a", want: "1", ok: true},
		{name: "second", key: "b", want: "2", ok: true},
		{name: "missing", key: "c", want: "", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := p.Get(tt.key)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("Get(%q) = %q, %v; want %q, %v", tt.key, got, ok, tt.want, tt.ok)
			}
		})
	}
	if p.Len() != 3 {
		t.Fatalf("Len = %d", p.Len())
	}
	if n, v := p.At(2); n != "a" || v != "3" {
		t.Fatalf("At(2) = %q %q", n, v)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("At(3) did not panic")
		}
	}()
	p.At(3)
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name  string
		specs []string
		msg   string
	}{
		{name: "sibling params", specs: []string{"GET /a/{x}", "GET /a/{y}"}, msg: "A sibling ({x}) of this resource already has a variable path part -- only one is allowed"},
		{name: "sibling param deeper", specs: []string{"GET /a/{x}/b", "GET /a/{y}/c"}, msg: "A sibling ({x}) of this resource already has a variable path part -- only one is allowed"},
		{name: "param beside greedy", specs: []string{"ANY /{proxy+}", "GET /{foo}"}, msg: "A sibling ({proxy+}) of this resource already has a variable path part -- only one is allowed"},
		{name: "greedy beside param", specs: []string{"GET /{foo}", "ANY /{proxy+}"}, msg: "A sibling ({foo}) of this resource already has a variable path part -- only one is allowed"},
		{name: "greedy beside greedy", specs: []string{"ANY /{proxy+}", "ANY /{rest+}"}, msg: "A sibling ({proxy+}) of this resource already has a variable path part -- only one is allowed"},
		{name: "child of greedy", specs: []string{"GET /{proxy+}/child"}, msg: "Cannot create a child of a resource with a greedy path variable: {proxy+}"},
		{name: "greedy in middle", specs: []string{"GET /parent/{proxy+}/{child}"}, msg: "Cannot create a child of a resource with a greedy path variable: {proxy+}"},
		{name: "duplicate method", specs: []string{"GET /pets", "GET /pets"}, msg: MsgMethodExists},
		{name: "duplicate ANY", specs: []string{"ANY /", "ANY /"}, msg: MsgMethodExists},
		{name: "invalid method", specs: []string{"FETCH /pets"}, msg: MsgInvalidMethod},
		{name: "lower-case method", specs: []string{"get /pets"}, msg: MsgInvalidMethod},
		{name: "empty method", specs: []string{" /pets"}, msg: MsgInvalidMethod},
		{name: "no leading slash", specs: []string{"GET pets"}, msg: MsgInvalidPath},
		{name: "empty path", specs: []string{"GET "}, msg: MsgInvalidPath},
		{name: "trailing slash", specs: []string{"GET /pets/"}, msg: MsgInvalidPath},
		{name: "empty part", specs: []string{"GET /a//b"}, msg: MsgInvalidPath},
		{name: "space in part", specs: []string{"GET /a b"}, msg: MsgInvalidPathPart},
		{name: "percent in part", specs: []string{"GET /a%20b"}, msg: MsgInvalidPathPart},
		{name: "empty braces", specs: []string{"GET /{}"}, msg: MsgInvalidPathPart},
		{name: "plus only", specs: []string{"GET /{+}"}, msg: MsgInvalidPathPart},
		{name: "unclosed brace", specs: []string{"GET /{a"}, msg: MsgInvalidPathPart},
		{name: "text after brace", specs: []string{"GET /{a}x"}, msg: MsgInvalidPathPart},
		{name: "text before brace", specs: []string{"GET /x{a}"}, msg: MsgInvalidPathPart},
		{name: "plus inside name", specs: []string{"GET /{a+b}"}, msg: MsgInvalidPathPart},
		{name: "colon in variable name", specs: []string{"GET /{a:b}"}, msg: MsgInvalidPathPart},
		{name: "too many variables", specs: []string{"GET /{a1}/{a2}/{a3}/{a4}/{a5}/{a6}/{a7}/{a8}/{a9}/{a10}/{a11}/{a12}/{a13}/{a14}/{a15}/{a16}/{a17}"}, msg: MsgTooManyParams},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := Build(routesOf(tt.specs...))
			if err == nil {
				t.Fatalf("Build succeeded, want %q", tt.msg)
			}
			if tr != nil {
				t.Error("tree returned with error")
			}
			var be *BuildError
			if !errors.As(err, &be) {
				t.Fatalf("error %T is not *BuildError", err)
			}
			if be.Message != tt.msg {
				t.Fatalf("message = %q, want %q", be.Message, tt.msg)
			}
		})
	}
}

func TestBuildAccepts(t *testing.T) {
	tests := []struct {
		name  string
		specs []string
	}{
		{name: "empty", specs: nil},
		{name: "root methods", specs: []string{"GET /", "ANY /"}},
		{name: "all verbs", specs: []string{"GET /x", "POST /x", "PUT /x", "DELETE /x", "PATCH /x", "HEAD /x", "OPTIONS /x", "ANY /x"}},
		{name: "same variable reused", specs: []string{"GET /a/{id}", "GET /a/{id}/b", "ANY /a/{id}/c/{proxy+}"}},
		{name: "variable name chars", specs: []string{"GET /{a.b-c_D9}"}},
		{name: "literal chars", specs: []string{"GET /v1.2_x-y:z"}},
		{name: "literal beside variable and greedy levels", specs: []string{"GET /a", "GET /{b}", "ANY /a/{proxy+}"}},
		{name: "sixteen variables", specs: []string{"GET /{a1}/{a2}/{a3}/{a4}/{a5}/{a6}/{a7}/{a8}/{a9}/{a10}/{a11}/{a12}/{a13}/{a14}/{a15}/{a16+}"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := Build(routesOf(tt.specs...))
			if err != nil {
				t.Fatalf("Build: %v", err)
			}
			if tr.Len() != len(tt.specs) {
				t.Fatalf("Len = %d, want %d", tr.Len(), len(tt.specs))
			}
		})
	}
}

func TestBuildErrorString(t *testing.T) {
	_, err := Build(routesOf("GET /a/{x}", "POST /a/{y}"))
	want := "router: POST /a/{y}: A sibling ({x}) of this resource already has a variable path part -- only one is allowed"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
}

// bigTree builds a realistic tree of 300 resources.
func bigTree(tb testing.TB) *Tree[int] {
	tb.Helper()
	var routes []Route[int]
	add := func(m, p string) { routes = append(routes, Route[int]{Path: p, Method: m, Value: len(routes)}) }
	for i := range 30 {
		base := fmt.Sprintf("/service%02d", i)
		add("GET", base)
		add("POST", base)
		add("GET", base+"/{id}")
		add("PUT", base+"/{id}")
		add("DELETE", base+"/{id}")
		for j := range 6 {
			add("GET", fmt.Sprintf("%s/{id}/sub%d", base, j))
		}
		add("ANY", base+"/{id}/files/{proxy+}")
	}
	add("GET", "/")
	add("ANY", "/{proxy+}")
	tr, err := Build(routes)
	if err != nil {
		tb.Fatal(err)
	}
	return tr
}

var benchPaths = []struct{ method, path string }{
	{"GET", "/service17/abc123/sub4"},
	{"GET", "/service29"},
	{"DELETE", "/service03/xyz"},
	{"PATCH", "/service11/42/files/a/b/c.txt"},
	{"GET", "/unknown/thing"},
	{"POST", "/service05/1/sub2"}, // method fallthrough to /{proxy+}
}

func TestMatchZeroAllocs(t *testing.T) {
	tr := bigTree(t)
	var p Params
	for _, bp := range benchPaths {
		allocs := testing.AllocsPerRun(100, func() {
			if _, _, ok := tr.Match(bp.method, bp.path, &p); !ok {
				t.Fatalf("no match for %s %s", bp.method, bp.path)
			}
		})
		if allocs != 0 {
			t.Errorf("%s %s: %v allocs per Match", bp.method, bp.path, allocs)
		}
	}
}

func BenchmarkMatch(b *testing.B) {
	tr := bigTree(b)
	for _, bp := range benchPaths {
		b.Run(strings.ReplaceAll(bp.method+bp.path, "/", "_"), func(b *testing.B) {
			var p Params
			b.ReportAllocs()
			for b.Loop() {
				tr.Match(bp.method, bp.path, &p)
			}
		})
	}
}
