package validation

// RequestValidator is AWS's RequestValidator shape.
type RequestValidator struct {
	ID                        string `json:"id"`
	Name                      string `json:"name,omitempty"`
	ValidateRequestBody       bool   `json:"validateRequestBody"`
	ValidateRequestParameters bool   `json:"validateRequestParameters"`
}

// Model is AWS's Model shape. Schema is a JSON Schema draft 4 document as a string.
type Model struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Schema      string `json:"schema,omitempty"`
	ContentType string `json:"contentType,omitempty"`
}

// MaxModelsSize is AWS's limit on the size of an API's models, in bytes ("Model size
// per API: 400 KB"), applied to the sum of the schema documents.
const MaxModelsSize = 400 << 10

// ModelURL is the URL by which one model of an API references another ("$ref").
func ModelURL(apiID, name string) string {
	return "https://apigateway.amazonaws.com/restapis/" + apiID + "/models/" + name
}

// DefaultModels are the two models AWS creates with every REST API, exactly as AWS
// returns them (ids are the caller's to assign).
func DefaultModels() []Model {
	return []Model{
		{
			Name:        "Empty",
			Description: "This is a default empty schema model",
			ContentType: "application/json",
			Schema:      "{\n  \"$schema\": \"http://json-schema.org/draft-04/schema#\",\n  \"title\" : \"Empty Schema\",\n  \"type\" : \"object\"\n}",
		},
		{
			Name:        "Error",
			Description: "This is a default error schema model",
			ContentType: "application/json",
			Schema:      "{\n  \"$schema\" : \"http://json-schema.org/draft-04/schema#\",\n  \"title\" : \"Error Schema\",\n  \"type\" : \"object\",\n  \"properties\" : {\n    \"message\" : { \"type\" : \"string\" }\n  }\n}",
		},
	}
}
