package validation

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/gatewayresponse"
)

const testAPI = "api1234567"

// pathParams is a map-backed PathParams.
type pathParams map[string]string

func (p pathParams) Get(name string) (string, bool) {
	v, ok := p[name]
	return v, ok
}

var (
	bodyAndParams = &RequestValidator{ID: "v1", Name: "all", ValidateRequestBody: true, ValidateRequestParameters: true}
	paramsOnly    = &RequestValidator{ID: "v2", Name: "params", ValidateRequestParameters: true}
	bodyOnly      = &RequestValidator{ID: "v3", Name: "body", ValidateRequestBody: true}
	neither       = &RequestValidator{ID: "v4", Name: "none"}
)

func testModels(t testing.TB) *Models {
	t.Helper()
	d := apimodel.DefaultModels("e", "r")
	models := append([]Model{*d[apimodel.ModelEmpty], *d[apimodel.ModelError]},
		Model{Name: "Pet", ContentType: "application/json", Schema: `{
  "$schema": "http://json-schema.org/draft-04/schema#",
  "type": "object",
  "required": ["name", "kind"],
  "properties": {
    "name": {"type": "string", "minLength": 2, "maxLength": 10},
    "qty": {"type": "integer", "minimum": 1, "maximum": 1000},
    "kind": {"enum": ["STOCK", "BOND", "CASH"]},
    "price": {"type": "number", "minimum": 0, "exclusiveMinimum": true},
    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2, "uniqueItems": true},
    "code": {"type": "string", "pattern": "^[A-Z]{3}$"},
    "email": {"type": "string", "format": "email"},
    "owner": {"$ref": "https://apigateway.amazonaws.com/restapis/` + testAPI + `/models/Owner"},
    "size": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
    "step": {"type": "number", "multipleOf": 5}
  },
  "additionalProperties": false
}`},
		Model{Name: "Owner", ContentType: "application/json", Schema: `{"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}`},
		// The shape of an AWS workshop's order model whose validationErrorString is on
		// record (see TestBodyMessages).
		Model{Name: "Orders", ContentType: "application/json", Schema: `{
  "$schema": "http://json-schema.org/draft-04/schema#",
  "type": "array", "minItems": 1,
  "items": {"type": "object", "required": ["account-id", "type", "symbol", "shares", "details"],
    "properties": {
      "account-id": {"type": "string", "pattern": "[A-Za-z]{6}[0-9]{6}"},
      "type": {"enum": ["STOCK", "BOND", "CASH"]},
      "symbol": {"type": "string", "minLength": 1, "maxLength": 4},
      "shares": {"type": "number", "minimum": 1, "maximum": 1000},
      "details": {"type": "object", "required": ["limit"], "properties": {"limit": {"type": "number"}}}
    }}
}`},
	)
	ms, err := CompileModels(testAPI, models)
	if err != nil {
		t.Fatalf("CompileModels: %v", err)
	}
	return ms
}

func mustNew(t testing.TB, rv *RequestValidator, m *apimodel.Method, ms *Models) *Validator {
	t.Helper()
	v, err := New(rv, m, ms)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return v
}

func TestRequiredParameters(t *testing.T) {
	method := &apimodel.Method{RequestParameters: map[string]bool{
		"method.request.header.x-header-param": true,
		"method.request.path.issuer":           true,
		"method.request.querystring.qs1":       true,
		"method.request.querystring.optional":  false,
	}}
	full := func() *Request {
		return &Request{
			Header:   http.Header{"X-Header-Param": {"h"}},
			RawQuery: "qs1=1",
			Path:     pathParams{"issuer": "i"},
		}
	}
	tests := []struct {
		name string
		req  func() *Request
		rv   *RequestValidator
		m    *apimodel.Method
		want string // "" = passes
	}{
		{name: "all present", req: full},
		{name: "all missing, AWS's order", req: func() *Request { return &Request{} },
			want: "Missing required request parameters: [x-header-param, issuer, qs1]"},
		{name: "query string missing", req: func() *Request { r := full(); r.RawQuery = "other=1"; return r },
			want: "Missing required request parameters: [qs1]"},
		{name: "query string present but empty", req: func() *Request { r := full(); r.RawQuery = "qs1="; return r },
			want: "Missing required request parameters: [qs1]"},
		{name: "query string without =", req: func() *Request { r := full(); r.RawQuery = "qs1"; return r },
			want: "Missing required request parameters: [qs1]"},
		{name: "query string blank", req: func() *Request { r := full(); r.RawQuery = "qs1=%20+"; return r },
			want: "Missing required request parameters: [qs1]"},
		{name: "query string repeated, one value", req: func() *Request { r := full(); r.RawQuery = "qs1=&qs1=x"; return r }},
		{name: "query string name percent-encoded", req: func() *Request { r := full(); r.RawQuery = "a=1&q%73%31=x"; return r }},
		{name: "query string name is a prefix only", req: func() *Request { r := full(); r.RawQuery = "qs10=x&qs=y"; return r },
			want: "Missing required request parameters: [qs1]"},
		{name: "malformed escape", req: func() *Request { r := full(); r.RawQuery = "qs1=%zz"; return r }},
		{name: "header missing", req: func() *Request { r := full(); r.Header = http.Header{}; return r },
			want: "Missing required request parameters: [x-header-param]"},
		{name: "header empty", req: func() *Request { r := full(); r.Header = http.Header{"X-Header-Param": {""}}; return r },
			want: "Missing required request parameters: [x-header-param]"},
		{name: "header and query missing", req: func() *Request { r := full(); r.Header = nil; r.RawQuery = ""; return r },
			want: "Missing required request parameters: [x-header-param, qs1]"},
		{name: "path parameter not in the route", req: func() *Request { r := full(); r.Path = pathParams{"test": "x"}; return r },
			want: "Missing required request parameters: [issuer]"},
		{name: "parameters not validated", rv: bodyOnly, req: func() *Request { return &Request{} }},
		{name: "validator checks nothing", rv: neither, req: func() *Request { return &Request{} }},
		{name: "Host header", m: &apimodel.Method{RequestParameters: map[string]bool{"method.request.header.host": true}},
			req: func() *Request { return &Request{Host: "api.example.com"} }},
		{name: "Host header missing", m: &apimodel.Method{RequestParameters: map[string]bool{"method.request.header.Host": true}},
			req: func() *Request { return &Request{} }, want: "Missing required request parameters: [Host]"},
		{name: "multi-value locations sort among the others", m: &apimodel.Method{RequestParameters: map[string]bool{
			"method.request.multivaluequerystring.mq": true, "method.request.multivalueheader.mh": true,
			"method.request.header.h": true, "method.request.path.p": true, "method.request.querystring.q": true}},
			req: func() *Request { return &Request{} }, want: "Missing required request parameters: [h, mh, mq, p, q]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rv, m := paramsOnly, method
			if tt.rv != nil {
				rv = tt.rv
			}
			if tt.m != nil {
				m = tt.m
			}
			v := mustNew(t, rv, m, nil)
			f := v.Validate(tt.req())
			switch {
			case tt.want == "" && f != nil:
				t.Fatalf("failed: %v", f)
			case tt.want != "" && f == nil:
				t.Fatalf("passed, want %q", tt.want)
			case f != nil && (f.Message != tt.want || f.Type != gatewayresponse.BadRequestParameters):
				t.Fatalf("got %s %q, want BAD_REQUEST_PARAMETERS %q", f.Type, f.Message, tt.want)
			}
		})
	}
}

func TestBodyMessages(t *testing.T) {
	ms := testModels(t)
	pet := mustNew(t, bodyOnly, &apimodel.Method{RequestModels: map[string]string{"application/json": "Pet"}}, ms)
	orders := mustNew(t, bodyOnly, &apimodel.Method{RequestModels: map[string]string{"application/json": "Orders"}}, ms)
	empty := mustNew(t, bodyOnly, &apimodel.Method{RequestModels: map[string]string{"application/json": "Empty"}}, ms)
	tests := []struct {
		name string
		v    *Validator
		body string
		want string // validationErrorString; "" = passes
	}{
		{name: "valid", v: pet, body: `{"name":"rex","kind":"BOND","qty":3,"tags":["a"],"owner":{"id":"o"}}`},
		{name: "missing required", v: pet, body: `{"kind":"BOND"}`, want: `[object has missing required properties (["name"])]`},
		{name: "missing required are sorted", v: pet, body: `{}`, want: `[object has missing required properties (["kind","name"])]`},
		{name: "empty body is {}", v: pet, body: ``, want: `[object has missing required properties (["kind","name"])]`},
		{name: "wrong type", v: pet, body: `{"name":1,"kind":"BOND"}`, want: `[instance type (integer) does not match any allowed primitive type (allowed: ["string"])]`},
		{name: "wrong root type", v: pet, body: `[1]`, want: `[instance type (array) does not match any allowed primitive type (allowed: ["object"])]`},
		{name: "decimal is a number not an integer", v: pet, body: `{"name":"ab","kind":"BOND","qty":1.5}`, want: `[instance type (number) does not match any allowed primitive type (allowed: ["integer"])]`},
		{name: "enum", v: pet, body: `{"name":"ab","kind":"WOW"}`, want: `[instance value ("WOW") not found in enum (possible values: ["STOCK","BOND","CASH"])]`},
		{name: "maximum", v: pet, body: `{"name":"ab","kind":"BOND","qty":10000000}`, want: `[numeric instance is greater than the required maximum (maximum: 1000, found: 10000000)]`},
		{name: "minimum", v: pet, body: `{"name":"ab","kind":"BOND","qty":0}`, want: `[numeric instance is lower than the required minimum (minimum: 1, found: 0)]`},
		{name: "exclusive minimum", v: pet, body: `{"name":"ab","kind":"BOND","price":0}`, want: `[numeric instance is not strictly greater than the required minimum 0]`},
		{name: "multipleOf", v: pet, body: `{"name":"ab","kind":"BOND","step":7}`, want: `[remainder of division is not zero (7 / 5)]`},
		{name: "minLength", v: pet, body: `{"name":"a","kind":"BOND"}`, want: `[string "a" is too short (length: 1, required minimum: 2)]`},
		{name: "maxLength counts characters", v: pet, body: `{"name":"ééééééééééé","kind":"BOND"}`, want: `[string "ééééééééééé" is too long (length: 11, maximum allowed: 10)]`},
		{name: "pattern", v: pet, body: `{"name":"ab","kind":"BOND","code":"ab"}`, want: `[ECMA 262 regex "^[A-Z]{3}$" does not match input string "ab"]`},
		{name: "maxItems", v: pet, body: `{"name":"ab","kind":"BOND","tags":["a","b","c"]}`, want: `[array is too long: must have at most 2 elements but instance has 3 elements]`},
		{name: "uniqueItems", v: pet, body: `{"name":"ab","kind":"BOND","tags":["a","a"]}`, want: `[array must not contain duplicate elements]`},
		{name: "item type", v: pet, body: `{"name":"ab","kind":"BOND","tags":["a",2]}`, want: `[instance type (integer) does not match any allowed primitive type (allowed: ["string"])]`},
		{name: "additionalProperties", v: pet, body: `{"name":"ab","kind":"BOND","zz":1,"aa":2}`, want: `[object instance has properties which are not allowed by the schema: ["aa","zz"]]`},
		{name: "anyOf", v: pet, body: `{"name":"ab","kind":"BOND","size":true}`, want: `[instance failed to match at least one required schema among 2]`},
		{name: "format is not asserted", v: pet, body: `{"name":"ab","kind":"BOND","email":"not an email"}`},
		{name: "model referenced by $ref", v: pet, body: `{"name":"ab","kind":"BOND","owner":{}}`, want: `[object has missing required properties (["id"])]`},
		{name: "siblings reported in body order (1)", v: pet, body: `{"kind":"WOW","name":"ab","qty":10000000}`,
			want: `[instance value ("WOW") not found in enum (possible values: ["STOCK","BOND","CASH"]), numeric instance is greater than the required maximum (maximum: 1000, found: 10000000)]`},
		{name: "siblings reported in body order (2)", v: pet, body: `{"qty":10000000,"name":"ab","kind":"WOW"}`,
			want: `[numeric instance is greater than the required maximum (maximum: 1000, found: 10000000), instance value ("WOW") not found in enum (possible values: ["STOCK","BOND","CASH"])]`},
		{name: "a failing node stops descent", v: pet, body: `{"kind":"BOND","qty":0}`, want: `[object has missing required properties (["name"])]`},
		{name: "later siblings' own keywords still count", v: pet, body: `{"name":"ab","kind":"BOND","owner":{"id":1},"qty":0}`,
			want: `[instance type (integer) does not match any allowed primitive type (allowed: ["string"]), numeric instance is lower than the required minimum (minimum: 1, found: 0)]`},
		{name: "earlier siblings were already checked", v: pet, body: `{"name":"ab","kind":"BOND","qty":0,"owner":{"id":1}}`,
			want: `[numeric instance is lower than the required minimum (minimum: 1, found: 0)]`},
		{name: "sibling keywords checked, their children not", v: pet, body: `{"name":"a","kind":"BOND","owner":{}, "tags":[1,2,3]}`,
			want: `[string "a" is too short (length: 1, required minimum: 2), object has missing required properties (["id"]), array is too long: must have at most 2 elements but instance has 3 elements]`},
		// Recorded from AWS (an AWS workshop's walkthrough, aws-reference §0 "OBS").
		{name: "AWS workshop order", v: orders, body: `[{"account-id":"abcdef123456sss","type":"WOW","symbol":"AMZN","shares":10000000,"order-date":"2018-01-28","details":{"limit":1000}}]`,
			want: `[instance value ("WOW") not found in enum (possible values: ["STOCK","BOND","CASH"]), numeric instance is greater than the required maximum (maximum: 1000, found: 10000000)]`},
		{name: "not JSON", v: pet, body: `nope`, want: `[Invalid JSON: `},
		{name: "trailing garbage", v: pet, body: `{"name":"ab","kind":"BOND"} x`, want: `[Invalid JSON: `},
		{name: "Empty model takes any object", v: empty, body: `{"anything":[1,2]}`},
		{name: "Empty model refuses an array", v: empty, body: `[]`, want: `[instance type (array) does not match any allowed primitive type (allowed: ["object"])]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.v.Validate(&Request{Body: []byte(tt.body)})
			switch {
			case tt.want == "" && f != nil:
				t.Fatalf("failed: %v", f)
			case tt.want != "" && f == nil:
				t.Fatalf("passed, want %s", tt.want)
			case f == nil:
				return
			}
			if f.Type != gatewayresponse.BadRequestBody || f.Message != "Invalid request body" {
				t.Errorf("got %s %q", f.Type, f.Message)
			}
			if strings.HasSuffix(tt.want, ": ") {
				if !strings.HasPrefix(f.ValidationErrorString, tt.want) {
					t.Fatalf("validationErrorString = %s, want prefix %s", f.ValidationErrorString, tt.want)
				}
				return
			}
			if f.ValidationErrorString != tt.want {
				t.Fatalf("validationErrorString\n got %s\nwant %s", f.ValidationErrorString, tt.want)
			}
		})
	}
}

func TestModelSelection(t *testing.T) {
	ms := testModels(t)
	bad := []byte(`{}`) // fails Pet, passes Empty
	tests := []struct {
		name        string
		rv          *RequestValidator
		models      map[string]string
		contentType string
		wantFail    bool
	}{
		{"exact media type", bodyOnly, map[string]string{"application/json": "Pet"}, "application/json", true},
		{"parameters ignored", bodyOnly, map[string]string{"application/json": "Pet"}, "application/json; charset=utf-8", true},
		{"case-insensitive", bodyOnly, map[string]string{"application/json": "Pet"}, "Application/JSON", true},
		{"no Content-Type means application/json", bodyOnly, map[string]string{"application/json": "Pet"}, "", true},
		{"no model for the type: not validated", bodyOnly, map[string]string{"application/json": "Pet"}, "text/plain", false},
		{"$default catches other types", bodyOnly, map[string]string{"application/json": "Empty", "$default": "Pet"}, "text/plain", true},
		{"exact match beats $default", bodyOnly, map[string]string{"application/json": "Empty", "$default": "Pet"}, "application/json", false},
		{"body not validated by this validator", paramsOnly, map[string]string{"application/json": "Pet"}, "application/json", false},
		{"no request models", bodyOnly, nil, "application/json", false},
		{"both validated: body checked after parameters", bodyAndParams, map[string]string{"application/json": "Pet"}, "application/json", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := mustNew(t, tt.rv, &apimodel.Method{RequestModels: tt.models}, ms)
			f := v.Validate(&Request{ContentType: tt.contentType, Body: bad})
			if (f != nil) != tt.wantFail {
				t.Fatalf("failure = %v, want failure %v", f, tt.wantFail)
			}
		})
	}
	t.Run("parameters are checked before the body", func(t *testing.T) {
		v := mustNew(t, bodyAndParams, &apimodel.Method{
			RequestParameters: map[string]bool{"method.request.querystring.q1": true},
			RequestModels:     map[string]string{"application/json": "Pet"},
		}, ms)
		f := v.Validate(&Request{Body: bad})
		if f == nil || f.Type != gatewayresponse.BadRequestParameters || f.Message != "Missing required request parameters: [q1]" {
			t.Fatalf("got %+v", f)
		}
	})
	t.Run("nil validator", func(t *testing.T) {
		var v *Validator
		if f := v.Validate(&Request{}); f != nil {
			t.Fatal(f)
		}
		if v, err := New(nil, &apimodel.Method{RequestParameters: map[string]bool{"method.request.path.x": true}}, ms); v != nil || err != nil {
			t.Fatalf("no request validator: %v, %v", v, err)
		}
	})
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name    string
		models  []Model
		wantErr string
	}{
		{"not JSON", []Model{{Name: "A", Schema: `{`}}, "model A: invalid JSON"},
		{"not a schema", []Model{{Name: "A", Schema: `{"type": 5}`}}, "model A:"},
		{"bad pattern", []Model{{Name: "A", Schema: `{"pattern": "("}`}}, "model A:"},
		{"external reference", []Model{{Name: "A", Schema: `{"$ref": "https://example.com/schema.json"}`}}, "only models of API"},
		{"file reference", []Model{{Name: "A", Schema: `{"$ref": "file:///etc/passwd"}`}}, "only models of API"},
		{"another API's model", []Model{{Name: "A", Schema: `{"$ref": "https://apigateway.amazonaws.com/restapis/other/models/B"}`}}, "only models of API"},
		{"unknown sibling", []Model{{Name: "A", Schema: `{"$ref": "https://apigateway.amazonaws.com/restapis/` + testAPI + `/models/Nope"}`}}, "model A:"},
		{"no name", []Model{{Schema: `{}`}}, "no name"},
		{"too large", []Model{{Name: "A", Schema: `{"description": "` + strings.Repeat("x", MaxModelsSize) + `"}`}}, "exceed 400 KB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CompileModels(testAPI, tt.models)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
	t.Run("models that reference each other", func(t *testing.T) {
		u := func(n string) string { return ModelURL(testAPI, n) }
		ms, err := CompileModels(testAPI, []Model{
			{Name: "Tree", Schema: `{"type": "object", "properties": {"kids": {"type": "array", "items": {"$ref": "` + u("Tree") + `"}}, "leaf": {"$ref": "` + u("Leaf") + `"}}}`},
			{Name: "Leaf", Schema: `{"type": "object", "properties": {"up": {"$ref": "` + u("Tree") + `"}, "v": {"type": "integer"}}}`},
			{Name: "Blank", Schema: ""},
		})
		if err != nil {
			t.Fatal(err)
		}
		v := mustNew(t, bodyOnly, &apimodel.Method{RequestModels: map[string]string{"application/json": "Tree"}}, ms)
		f := v.Validate(&Request{Body: []byte(`{"kids":[{"kids":[{"leaf":{"up":{"leaf":{"v":"x"}}}}]}]}`)})
		if f == nil || f.ValidationErrorString != `[instance type (string) does not match any allowed primitive type (allowed: ["integer"])]` {
			t.Fatalf("got %v", f)
		}
	})
	t.Run("unknown model on a method", func(t *testing.T) {
		ms := testModels(t)
		_, err := New(bodyOnly, &apimodel.Method{RequestModels: map[string]string{"application/json": "Nope"}}, ms)
		if err == nil || !strings.Contains(err.Error(), `"Nope"`) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("malformed parameter key", func(t *testing.T) {
		for _, k := range []string{"querystring.q", "method.request.cookie.c", "method.request.header"} {
			if _, err := New(paramsOnly, &apimodel.Method{RequestParameters: map[string]bool{k: true}}, nil); err == nil {
				t.Errorf("%q accepted", k)
			}
		}
	})
	t.Run("ModelError unwraps", func(t *testing.T) {
		_, err := CompileModels(testAPI, []Model{{Name: "A", Schema: `{`}})
		var me *ModelError
		if !errors.As(err, &me) || me.Model != "A" {
			t.Fatalf("err = %#v", err)
		}
	})
}

// TestConcurrentValidate shares one Validator among goroutines (run with -race).
func TestConcurrentValidate(t *testing.T) {
	ms := testModels(t)
	v := mustNew(t, bodyAndParams, &apimodel.Method{
		RequestParameters: map[string]bool{"method.request.querystring.q": true},
		RequestModels:     map[string]string{"application/json": "Pet"},
	}, ms)
	bodies := []string{`{"name":"ab","kind":"BOND"}`, `{"kind":"WOW","qty":0}`, `nope`, ``}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 200 {
				b := bodies[(i+j)%len(bodies)]
				f := v.Validate(&Request{RawQuery: "q=1", Body: []byte(b)})
				if (f == nil) != (b == bodies[0]) {
					t.Errorf("body %s: %v", b, f)
					return
				}
			}
		})
	}
	wg.Wait()
}
