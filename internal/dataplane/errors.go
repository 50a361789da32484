package dataplane

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"gatehouse/internal/deployment"
	"gatehouse/internal/gatewayresponse"
)

// Error is what a pipeline phase returns when the request ends in a gateway response.
// Message is public ($context.error.message); Err is the private cause, logged only.
type Error struct {
	Type    gatewayresponse.Type
	Status  int    // 0 = the type's default status
	Message string // $context.error.message
	// CapitalMessage renders the default body as {"Message": ...} (the AccessDenied family).
	CapitalMessage bool
	// Body, when set, is the exact default body (AWS's integration errors carry a space:
	// {"message": "Internal server error"}).
	Body string
	// ErrorType overrides the type's x-amzn-ErrorType.
	ErrorType string
	// ValidationErrorString is $context.error.validationErrorString.
	ValidationErrorString string
	Err                   error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return string(e.Type) + ": " + e.Message + ": " + e.Err.Error()
	}
	return string(e.Type) + ": " + e.Message
}

// Errors the pipeline raises; each constructor names the AWS situation.
var errNoIAM = errors.New("AWS_IAM authorization is not configured")

func errForbidden() *Error {
	return &Error{Type: gatewayresponse.Default4XX, Status: http.StatusForbidden, Message: "Forbidden", ErrorType: "ForbiddenException"}
}

func errMissingAuthToken() *Error {
	return &Error{Type: gatewayresponse.MissingAuthenticationToken, Message: "Missing Authentication Token"}
}

func errAccessDenied(resourceARN string, explicit bool) *Error {
	msg := "User: anonymous is not authorized to perform: execute-api:Invoke on resource: " + resourceARN
	if explicit {
		msg += " with an explicit deny"
	}
	return &Error{Type: gatewayresponse.AccessDenied, Message: msg, CapitalMessage: true}
}

func errTimeout(err error) *Error {
	return &Error{Type: gatewayresponse.IntegrationTimeout, Message: "Endpoint request timed out",
		Body: `{"message": "Endpoint request timed out"}`, Err: err}
}

func errIntegration(status int, err error) *Error {
	return &Error{Type: gatewayresponse.IntegrationFailure, Status: status, Message: "Internal server error",
		Body: `{"message": "Internal server error"}`, Err: err}
}

func errConfig(err error) *Error {
	return &Error{Type: gatewayresponse.APIConfigurationError, Message: "Internal server error", Err: err}
}

func errTooLarge(status int, msg string) *Error {
	return &Error{Type: gatewayresponse.RequestTooLarge, Status: status, Message: msg}
}

// rendered is a gateway response ready to write.
type rendered struct {
	status    int
	errorType string
	headers   map[string]string
	body      string
}

// render turns e into the response AWS would send, applying the deployment's gateway
// response overrides (type first, then DEFAULT_4XX/DEFAULT_5XX, then AWS's defaults).
func render(e *Error, comp *deployment.Compiled, rc *request) rendered {
	def, _ := gatewayresponse.Lookup(e.Type)
	status := e.Status
	if status == 0 {
		status = def.Status
	}
	errType := e.ErrorType
	if errType == "" {
		errType = def.ErrorType
	}
	out := rendered{status: status, errorType: errType}
	var spec, parent *deployment.GatewayResponse
	if comp != nil {
		spec = comp.GatewayResponses[e.Type]
		if status >= 500 {
			parent = comp.GatewayResponses[gatewayresponse.Default5XX]
		} else {
			parent = comp.GatewayResponses[gatewayresponse.Default4XX]
		}
	}
	tpl, hasTpl := "", false
	for _, g := range []*deployment.GatewayResponse{parent, spec} {
		if g == nil {
			continue
		}
		if g.StatusCode != 0 {
			out.status = g.StatusCode
		}
		for k, v := range g.Headers {
			if out.headers == nil {
				out.headers = map[string]string{}
			}
			out.headers[k] = v
		}
		if g.HasTemplate {
			tpl, hasTpl = g.Template, true
		}
	}
	switch {
	case hasTpl:
		out.body = renderTemplate(tpl, e, rc)
	case e.Body != "":
		out.body = e.Body
	case e.CapitalMessage:
		out.body = `{"Message":` + strconv.Quote(e.Message) + `}`
	default:
		out.body = `{"message":` + strconv.Quote(e.Message) + `}`
	}
	return out
}

// renderTemplate substitutes the $context variables a gateway response template may use.
// (Full VTL is a later issue; variables are the common case.)
func renderTemplate(tpl string, e *Error, rc *request) string {
	if !strings.Contains(tpl, "$") {
		return tpl
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(tpl, '$')
		if i < 0 {
			b.WriteString(tpl)
			break
		}
		b.WriteString(tpl[:i])
		tpl = tpl[i:]
		name, rest, _ := cutVar(tpl)
		if name == "" {
			b.WriteByte('$')
			tpl = tpl[1:]
			continue
		}
		if v, ok := contextVar(name, e, rc); ok {
			b.WriteString(v)
		} else {
			b.WriteString(tpl[:len(tpl)-len(rest)]) // unknown variables are left as written
		}
		tpl = rest
	}
	return b.String()
}

func cutVar(s string) (name, rest string, braced bool) {
	if strings.HasPrefix(s, "${") {
		j := strings.IndexByte(s, '}')
		if j < 0 {
			return "", s, false
		}
		return s[2:j], s[j+1:], true
	}
	j := 1
	for j < len(s) && (isNameByte(s[j]) || s[j] == '.') {
		j++
	}
	for j > 1 && s[j-1] == '.' {
		j--
	}
	return s[1:j], s[j:], false
}

func isNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func contextVar(name string, e *Error, rc *request) (string, bool) {
	switch name {
	case "context.error.messageString":
		return strconv.Quote(e.Message), true
	case "context.error.message":
		return e.Message, true
	case "context.error.validationErrorString":
		return e.ValidationErrorString, true
	case "context.error.responseType":
		return string(e.Type), true
	case "context.requestId":
		return rc.requestID, true
	case "context.extendedRequestId":
		return rc.extendedID, true
	case "context.apiId":
		return rc.apiID, true
	case "context.stage":
		return rc.stageName, true
	case "context.httpMethod":
		return rc.r.Method, true
	case "context.resourcePath":
		return rc.resourcePath(), true
	case "context.path":
		return rc.r.URL.Path, true
	case "context.identity.sourceIp":
		return rc.sourceIP.String(), true
	case "context.identity.userAgent":
		return rc.r.UserAgent(), true
	case "context.domainName":
		return rc.host, true
	}
	return "", false
}
