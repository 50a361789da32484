package validation

import (
	"net/http"
	"testing"

	"gatehouse/internal/apimodel"
)

func BenchmarkValidate(b *testing.B) {
	ms := testModels(b)
	method := &apimodel.Method{
		RequestParameters: map[string]bool{
			"method.request.header.x-tenant":    true,
			"method.request.path.id":            true,
			"method.request.querystring.page":   true,
			"method.request.querystring.filter": false,
		},
		RequestModels: map[string]string{"application/json": "Pet"},
	}
	params := mustNew(b, paramsOnly, method, ms)
	all := mustNew(b, bodyAndParams, method, ms)
	req := &Request{
		Header:      http.Header{"X-Tenant": {"t1"}, "Content-Type": {"application/json"}},
		RawQuery:    "sort=asc&page=2&filter=x",
		Path:        pathParams{"id": "42"},
		ContentType: "application/json",
		Body:        []byte(`{"name":"rex","kind":"BOND","qty":3,"tags":["a","b"],"owner":{"id":"o1"}}`),
	}
	bad := *req
	bad.Body = []byte(`{"name":"r","kind":"WOW","qty":3000}`)
	cases := []struct {
		name string
		v    *Validator
		r    *Request
		ok   bool
	}{
		{"parameters", params, req, true},
		{"parameters+small body", all, req, true},
		{"parameters+invalid body", all, &bad, false},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if f := tc.v.Validate(tc.r); (f == nil) != tc.ok {
					b.Fatal(f)
				}
			}
		})
	}
}

func TestParametersDoNotAllocate(t *testing.T) {
	v := mustNew(t, paramsOnly, &apimodel.Method{RequestParameters: map[string]bool{
		"method.request.header.x-tenant": true, "method.request.path.id": true, "method.request.querystring.page": true,
	}}, nil)
	r := &Request{Header: http.Header{"X-Tenant": {"t1"}}, RawQuery: "a=1&p%61ge=2", Path: pathParams{"id": "42"}}
	if n := testing.AllocsPerRun(100, func() { v.Validate(r) }); n != 0 {
		t.Fatalf("%v allocations per Validate", n)
	}
}
