package validation

import (
	"testing"

	"gatehouse/internal/apimodel"
)

// FuzzCompileModels loads arbitrary schemas as a model (beside one that references it)
// and validates an arbitrary body against each: nothing may panic, and whatever
// compiles must validate.
func FuzzCompileModels(f *testing.F) {
	seeds := []struct{ schema, body string }{
		{apimodel.DefaultModels("e", "r")[apimodel.ModelEmpty].Schema, `{}`},
		{apimodel.DefaultModels("e", "r")[apimodel.ModelError].Schema, `{"message": 1}`},
		{`{"type":"object","required":["a"],"properties":{"a":{"type":"string","minLength":2}},"additionalProperties":false}`, `{"a":"x","b":1}`},
		{`{"type":"array","items":[{"type":"integer"}],"additionalItems":false,"uniqueItems":true}`, `[1,2,2]`},
		{`{"allOf":[{"minimum":3},{"maximum":1,"exclusiveMaximum":true}],"oneOf":[{},{}],"not":{"type":"null"}}`, `2`},
		{`{"definitions":{"n":{"$ref":"#/definitions/n"}},"$ref":"#/definitions/n"}`, `1`},
		{`{"$ref":"https://apigateway.amazonaws.com/restapis/fuzz/models/Other"}`, `{}`},
		{`{"dependencies":{"a":["b"],"c":{"required":["d"]}},"patternProperties":{"^x":{"enum":[1]}}}`, `{"a":1,"c":2,"xy":3}`},
		{`{"$schema":"http://json-schema.org/draft-07/schema#","const":1}`, `2`},
		{`{"$schema":"http://example.com/unknown"}`, `{}`},
		{`{"pattern":"\\p{L}+","format":"regex","multipleOf":0.01}`, `"(("`},
		{`[`, ``},
	}
	for _, s := range seeds {
		f.Add(s.schema, s.body)
	}
	f.Fuzz(func(t *testing.T, schema, body string) {
		ms, err := CompileModels("fuzz", []Model{
			{Name: "M", Schema: schema},
			{Name: "Other", Schema: `{"type":"object","properties":{"m":{"$ref":"https://apigateway.amazonaws.com/restapis/fuzz/models/M"}}}`},
		})
		if err != nil {
			return
		}
		for _, name := range []string{"M", "Other"} {
			v, err := New(&RequestValidator{ValidateRequestBody: true}, &apimodel.Method{RequestModels: map[string]string{"$default": name}}, ms)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if f := v.Validate(&Request{Body: []byte(body)}); f != nil && f.ValidationErrorString == "" {
				t.Fatalf("failure without a validationErrorString: %+v", f)
			}
		}
	})
}
