// Package validation implements API Gateway's request validation for REST APIs: request
// validators, required request parameters and JSON Schema (draft 4) models.
//
// # Contract
//
//   - CompileModels compiles all models of an API once, at deployment time (the
//     santhosh-tekuri/jsonschema library, draft 4 by default). Models may reference one
//     another by "https://apigateway.amazonaws.com/restapis/{apiId}/models/{name}";
//     any other external reference is refused (nothing is fetched, no file is read).
//     The schemas of an API may total at most 400 KB.
//   - New compiles one method's validation from its request validator, its
//     requestParameters and requestModels. A nil *Validator validates nothing.
//   - Validator.Validate runs on the request path. Checking parameters does not
//     allocate; validating a body decodes it (allocates) and validates it.
//
// # Behaviour (aws-reference §6.2)
//
// With validateRequestParameters, every requestParameters entry marked true must be
// present and not blank: a header (any case; Host included), a path parameter, or a
// query string ("?q1=" counts as missing). All missing ones are reported at once, in
// AWS's order — sorted by the full "method.request.{location}.{name}" key, so headers,
// then path, then query strings — as 400 BAD_REQUEST_PARAMETERS
// {"message": "Missing required request parameters: [x-header-param, issuer, qs1]"}.
//
// With validateRequestBody, the body is validated against the requestModels entry for
// the request's media type (Content-Type without parameters, case-insensitive;
// application/json when absent), else the "$default" entry; with neither, the body is
// not validated (DG: "If no matching content type is found, request validation is not
// performed"). Parameters are checked before the body. An empty body is validated as
// {}. Failure is 400 BAD_REQUEST_BODY {"message": "Invalid request body"}, and
// $context.error.validationErrorString holds the validator's report as AWS prints it,
// e.g. [object has missing required properties (["name"])] — the messages and their
// order are those of the Java validator AWS uses (see messages.go). The "format"
// keyword is not asserted.
//
// # Unconfirmed against AWS
//
//   - Order within one location (alphabetical here; one live AWS answer listed
//     "[x-api-secret, x-api-key]").
//   - validationErrorString for a body that is not JSON ("[Invalid JSON: …]" here) and
//     for missing parameters (the message itself here).
//   - oneOf matching more than one schema reports "matched 2" even when more match.
package validation
