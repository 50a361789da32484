package validation_test

import (
	"fmt"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/validation"
)

// Example compiles an API's models and one method's validator at deployment time, then
// validates a request.
func Example() {
	models, err := validation.CompileModels("api1", append([]validation.Model{*apimodel.DefaultModels("e", "r")[apimodel.ModelEmpty]}, validation.Model{
		Name:   "Pet",
		Schema: `{"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}`,
	}))
	if err != nil {
		panic(err)
	}
	v, err := validation.New(
		&validation.RequestValidator{ValidateRequestBody: true, ValidateRequestParameters: true},
		&apimodel.Method{
			RequestParameters: map[string]bool{"method.request.querystring.q1": true},
			RequestModels:     map[string]string{"application/json": "Pet"},
		},
		models)
	if err != nil {
		panic(err)
	}
	for _, r := range []*validation.Request{
		{RawQuery: "q1="},
		{RawQuery: "q1=x", Body: []byte(`{"nick": "rex"}`)},
		{RawQuery: "q1=x", Body: []byte(`{"name": "rex"}`)},
	} {
		if f := v.Validate(r); f != nil {
			fmt.Printf("%s %q %s\n", f.Type, f.Message, f.ValidationErrorString)
			continue
		}
		fmt.Println("valid")
	}
	// Output:
	// BAD_REQUEST_PARAMETERS "Missing required request parameters: [q1]" Missing required request parameters: [q1]
	// BAD_REQUEST_BODY "Invalid request body" [object has missing required properties (["name"])]
	// valid
}
