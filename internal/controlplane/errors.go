package controlplane

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"

	"gatehouse/internal/awsproto"
	"gatehouse/internal/store"
)

// Error codes beyond awsproto's.
const (
	codeValidation       = "ValidationException"
	codeSerialization    = "SerializationException"
	codeUnknownOperation = "UnknownOperationException"
	codeInternalFailure  = "InternalFailure"
)

// AWS's messages, recorded against real API Gateway (LocalStack snapshot tests,
// observed CLI/Terraform output; see the report for the few that are unconfirmed).
const (
	msgResourceNotFound     = "Invalid Resource identifier specified"
	msgMethodNotFound       = "Invalid Method identifier specified"
	msgIntegrationNotFound  = "Invalid Integration identifier specified"
	msgResponseNotFound     = "Invalid Response status code specified"
	msgStageNotFound        = "Invalid Stage identifier specified"
	msgDeploymentNotFound   = "Invalid Deployment identifier specified"
	msgNoIntegration        = "No integration defined for method"
	msgNoMethods            = "The REST API doesn't contain any methods"
	msgPrivateNoPolicy      = "Private REST API doesn't have a resource policy attached to it"
	msgActiveStages         = "Active stages pointing to this deployment must be moved or deleted"
	msgStageExists          = "Stage already exists"
	msgStageName            = "Stage name only allows a-zA-Z0-9_-"
	msgConcurrent           = "Unable to complete operation due to concurrent modification. Please try again later."
	msgDualstackOnly        = "Only dualstack ipAddressType is supported for Private APIs."
	msgMultipleTypes        = "Cannot create an api with multiple Endpoint Types."
	msgInvalidTypes         = "Invalid EndpointTypes specified. Valid options are REGIONAL,EDGE,PRIVATE"
	msgNoTypes              = "REGIONAL Configuration and EDGE Configuration cannot be both DISABLED."
	msgVPCEOnlyPrivate      = "VPCEndpoints can only be specified with PRIVATE apis."
	msgEmptyDescription     = "Description cannot be an empty string"
	msgCompressionSize      = "Invalid minimum compression size, must be between 0 and 10485760"
	msgIPAddressType        = "ipAddressType must be either ipv4 or dualstack."
	msgInvalidPolicy        = "Invalid policy document. Please check the policy syntax and try again."
	msgTimeout              = "Timeout should be between 50 ms and 29000 ms"
	msgEmptyHTTPMethod      = "Enumeration value for HttpMethod must be non-empty"
	msgInvalidHTTPEndpoint  = "Invalid HTTP endpoint specified for URI"
	msgInvalidARN           = "Invalid ARN specified in the request"
	msgARNPathOrAction      = "AWS ARN for integration must contain path or action"
	msgAWSProxyTarget       = "Integrations of type 'AWS_PROXY' currently only supports Lambda function and Firehose stream invocations."
	msgInvalidHTTPMethod    = "Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY"
	msgInvalidAuthorizer    = "Invalid authorizer ID specified. Setting the authorization type to CUSTOM or COGNITO_USER_POOLS requires a valid authorizer."
	msgParamsUnique         = "Parameter names must be unique across querystring, header and path"
	msgMethodExists         = "Method already exists for this resource"
	msgGreedyParent         = "Cannot create a child of a resource with a greedy path variable: %s"
	msgVariableSibling      = "A sibling (%s) of this resource already has a variable path part -- only one is allowed"
	msgSiblingName          = "Another resource with the same parent already has this name: %s"
	msgCyclical             = "Resources cannot be cyclical."
	msgPathPart             = "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an optional plus sign before the closing brace."
	msgGatewayRespNotSet    = "Gateway response type not defined on api"
	msgInvalidParameterName = "Invalid parameter name specified"
	msgContentTypeNotFound  = "Content-Type specified was not found"
	msgDeploymentIDNotExist = "Deployment id does not exist"
)

// errUnknownOperation answers a request no apigateway operation matches.
func errUnknownOperation() error {
	return &awsproto.Error{Status: http.StatusNotFound, Code: codeUnknownOperation, Message: "Unknown operation"}
}

func notFound(msg string) error   { return awsproto.NotFound(msg) }
func badRequest(msg string) error { return awsproto.BadRequest(msg) }
func conflict(msg string) error   { return awsproto.Conflict(msg) }

func limitExceeded(msg string) error { return awsproto.LimitExceeded(msg) }

func badRequestf(format string, args ...any) error {
	return awsproto.BadRequest(fmt.Sprintf(format, args...))
}

// apiNotFound is the NotFoundException for an unknown (or another account's) REST API.
func apiNotFound(account, apiID string) error {
	return awsproto.NotFound("Invalid API identifier specified " + account + ":" + apiID)
}

// isNotFound reports whether err is a NotFoundException.
func isNotFound(err error) bool {
	var ae *awsproto.Error
	return errors.As(err, &ae) && ae.Code == awsproto.CodeNotFound
}

func serialization(msg string) error {
	return &awsproto.Error{Status: http.StatusBadRequest, Code: codeSerialization, Message: msg}
}

// validationErrors collects coral-style constraint violations, reported together as
// one ValidationException ("2 validation errors detected: a; b").
type validationErrors []string

func (v *validationErrors) enum(value, at string, set string) {
	*v = append(*v, fmt.Sprintf("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]",
		value, at, set))
}

func (v *validationErrors) add(msg string) { *v = append(*v, msg) }

func (v validationErrors) err() error {
	switch len(v) {
	case 0:
		return nil
	case 1:
		return &awsproto.Error{Status: http.StatusBadRequest, Code: codeValidation,
			Message: "1 validation error detected: " + v[0]}
	}
	return &awsproto.Error{Status: http.StatusBadRequest, Code: codeValidation,
		Message: fmt.Sprintf("%d validation errors detected: %s", len(v), strings.Join(v, "; "))}
}

// decodeBody decodes the JSON request body into v. An empty body is an empty object.
// Malformed JSON and type mismatches are SerializationExceptions, as AWS reports them.
func decodeBody(c *call, v any) error {
	b := bytes.TrimSpace(c.body)
	if len(b) == 0 {
		return nil
	}
	err := json.Unmarshal(b, v)
	if err == nil {
		return nil
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return serialization("Invalid JSON in request body: " + se.Error())
	case errors.As(err, &te):
		return serialization(fmt.Sprintf("class %s can not be converted to an %s", javaClass(te.Value), javaType(te.Type)))
	}
	return serialization("Invalid JSON in request body: " + err.Error())
}

// javaClass names a JSON value kind the way AWS's Java deserializer does.
func javaClass(jsonKind string) string {
	switch {
	case jsonKind == "bool":
		return "java.lang.Boolean"
	case jsonKind == "string":
		return "java.lang.String"
	case jsonKind == "array":
		return "java.util.ArrayList"
	case jsonKind == "object":
		return "java.util.LinkedHashMap"
	case strings.HasPrefix(jsonKind, "number"):
		return "com.amazon.coral.value.json.numbers.TruncatingBigNumber"
	}
	return jsonKind
}

func javaType(t reflect.Type) string {
	if t == nil {
		return "Object"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "String"
	case reflect.Bool:
		return "Boolean"
	case reflect.Int, reflect.Int32, reflect.Int64:
		return "Integer"
	case reflect.Float32, reflect.Float64:
		return "Double"
	case reflect.Slice:
		return "List"
	case reflect.Map:
		return "Map"
	}
	return "Structure"
}

// writeError renders err as an AWS error. Unexpected errors are logged here (and only
// here) and answered with a 500.
func (s *Server) writeError(w http.ResponseWriter, c *call, err error) {
	var ae *awsproto.Error
	switch {
	case errors.As(err, &ae):
	case errors.Is(err, store.ErrConflict):
		ae = awsproto.Conflict(msgConcurrent)
	case errors.Is(err, store.ErrTooLarge):
		ae = awsproto.LimitExceeded("The REST API definition exceeds the maximum stored size")
	case errors.Is(err, context.Canceled):
		ae = &awsproto.Error{Status: 499, Code: codeInternalFailure, Message: "Request canceled"}
	default:
		s.log.Error("control plane request failed", "requestId", c.reqID, "method", c.r.Method,
			"path", c.r.URL.Path, "err", err)
		ae = &awsproto.Error{Status: http.StatusInternalServerError, Code: codeInternalFailure,
			Message: "Internal server error"}
	}
	ae.Write(w, c.reqID)
}
