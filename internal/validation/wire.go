package validation

import "gatehouse/internal/apimodel"

// RequestValidator and Model are the stored AWS shapes (see apimodel).
type (
	RequestValidator = apimodel.RequestValidator
	Model            = apimodel.Model
)

// MaxModelsSize is AWS's limit on the size of an API's models, in bytes ("Model size
// per API: 400 KB"), applied to the sum of the schema documents.
const MaxModelsSize = 400 << 10

// ModelURL is the URL by which one model of an API references another ("$ref").
func ModelURL(apiID, name string) string {
	return "https://apigateway.amazonaws.com/restapis/" + apiID + "/models/" + name
}
