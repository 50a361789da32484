package validation

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/gatewayresponse"
)

// PathParams gives a matched request's path parameters (router.Params satisfies it).
type PathParams interface {
	Get(name string) (string, bool)
}

// Request is what validation reads from a request. Nothing is copied: the pipeline
// points the fields at what it already has.
type Request struct {
	Header   http.Header // canonical keys, as net/http delivers them
	Host     string      // the Host header (net/http moves it out of Header)
	RawQuery string
	Path     PathParams
	// ContentType is the Content-Type header; empty means application/json, as API
	// Gateway assumes.
	ContentType string
	Body        []byte
}

// Failure is a request that failed validation: the gateway response type, the message
// ($context.error.message) and $context.error.validationErrorString.
type Failure struct {
	Type                  gatewayresponse.Type
	Message               string
	ValidationErrorString string
}

func (f *Failure) Error() string {
	if f.ValidationErrorString != "" && f.ValidationErrorString != f.Message {
		return f.Message + ": " + f.ValidationErrorString
	}
	return f.Message
}

// Messages AWS sends.
const (
	MessageInvalidBody = "Invalid request body"
)

// Validator is one method's compiled request validation. A nil *Validator validates
// nothing. It is immutable and safe for concurrent use.
type Validator struct {
	params []param // nil unless the validator checks parameters
	body   bool
	models *Models
	// byType maps a lower-case media type to its model name; def is the "$default"
	// model ("" = none).
	byType map[string]string
	def    string
}

// New compiles the validation of one method: rv is the method's request validator (nil
// when the method has no requestValidatorId), models the API's compiled models. It
// returns nil when there is nothing to check. Errors name configuration AWS would have
// refused: an unknown model, a malformed request parameter key.
func New(rv *RequestValidator, m *apimodel.Method, models *Models) (*Validator, error) {
	if rv == nil || m == nil || !rv.ValidateRequestBody && !rv.ValidateRequestParameters {
		return nil, nil
	}
	v := &Validator{models: models}
	if rv.ValidateRequestParameters {
		ps, err := parseParams(m.RequestParameters)
		if err != nil {
			return nil, err
		}
		v.params = ps
	}
	if rv.ValidateRequestBody && len(m.RequestModels) > 0 {
		v.byType = map[string]string{}
		for ct, name := range m.RequestModels {
			if !models.Has(name) {
				return nil, fmt.Errorf("request model %q for %s: no such model", name, ct)
			}
			if ct == "$default" {
				v.def = name
				continue
			}
			v.byType[strings.ToLower(ct)] = name
		}
		v.body = true
	}
	if len(v.params) == 0 && !v.body {
		return nil, nil
	}
	return v, nil
}

// Validate checks r: required parameters first (400 BAD_REQUEST_PARAMETERS with every
// missing one listed), then the body against the model for its content type, or the
// "$default" model (400 BAD_REQUEST_BODY). A content type with no model is not
// validated. It returns nil when the request passes.
func (v *Validator) Validate(r *Request) *Failure {
	if v == nil {
		return nil
	}
	if len(v.params) > 0 {
		var missing []string
		for i := range v.params {
			if !v.params[i].present(r) {
				missing = append(missing, v.params[i].name)
			}
		}
		if len(missing) > 0 {
			msg := missingMessage(missing)
			return &Failure{Type: gatewayresponse.BadRequestParameters, Message: msg, ValidationErrorString: msg}
		}
	}
	if v.body {
		if name := v.modelFor(r.ContentType); name != "" {
			if detail, ok := v.models.validate(name, r.Body); !ok {
				return &Failure{Type: gatewayresponse.BadRequestBody, Message: MessageInvalidBody, ValidationErrorString: detail}
			}
		}
	}
	return nil
}

// modelFor picks the model for a Content-Type: an exact media-type match (case
// insensitive, parameters ignored), else "$default".
func (v *Validator) modelFor(contentType string) string {
	mt := contentType
	if i := strings.IndexByte(mt, ';'); i >= 0 {
		mt = mt[:i]
	}
	mt = strings.TrimSpace(mt)
	if mt == "" {
		mt = "application/json"
	}
	if name, ok := v.byType[mt]; ok {
		return name
	}
	if hasUpper(mt) {
		if name, ok := v.byType[strings.ToLower(mt)]; ok {
			return name
		}
	}
	return v.def
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// validate checks body against the named model and returns the validationErrorString
// on failure. An empty body is validated as {} (LocalStack's reading of AWS); a body
// that is not JSON fails.
func (m *Models) validate(name string, body []byte) (string, bool) {
	s := m.schemas[name]
	if s == nil {
		return "", true
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return "[Invalid JSON: " + err.Error() + "]", false
	}
	err = s.Validate(inst)
	if err == nil {
		return "", true
	}
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return "[" + err.Error() + "]", false
	}
	detail := m.validationErrorString(body, inst, verr)
	if detail == "[]" {
		// Only format errors, which API Gateway does not assert.
		return "", true
	}
	return detail, false
}

// NeedsBody reports whether Validate reads Request.Body (so the pipeline buffers it).
func (v *Validator) NeedsBody() bool { return v != nil && v.body }
