package accesslog

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// AWS console sample formats for REST stages (developer guide, "set-up-logging").
const (
	// CLF is the Common Log Format sample.
	CLF = `$context.identity.sourceIp $context.identity.caller $context.identity.user [$context.requestTime] "$context.httpMethod $context.resourcePath $context.protocol" $context.status $context.responseLength $context.requestId $context.extendedRequestId`
	// JSON is the JSON sample.
	JSON = `{ "requestId":"$context.requestId", "extendedRequestId":"$context.extendedRequestId", "ip": "$context.identity.sourceIp", "caller":"$context.identity.caller", "user":"$context.identity.user", "requestTime":"$context.requestTime", "httpMethod":"$context.httpMethod", "resourcePath":"$context.resourcePath", "status":"$context.status", "protocol":"$context.protocol", "responseLength":"$context.responseLength" }`
)

// MaxFormatSize is the largest format Compile accepts, in bytes (AWS: 3 KB).
const MaxFormatSize = 3 * 1024

// Control-plane messages Compile reports (see the package documentation for sources).
const (
	msgSingleLine   = "Access Log format must be single line, new line character is allowed only at end of the format: '"
	MsgNeedID       = "Access Log format must include either $context.requestId or $context.extendedRequestId"
	MsgFormatTooBig = "Access Log format must not exceed 3 KB (3072 bytes)"
)

// FormatError is a format Compile refused. Message is the text the control plane returns
// in its BadRequestException.
type FormatError struct {
	Message string
}

func (e *FormatError) Error() string { return e.Message }

// clfTime is $context.requestTime's layout.
const clfTime = "02/Jan/2006:15:04:05 -0700"

// Format is a compiled access-log format. It is immutable and safe for concurrent use.
type Format struct {
	src    string
	pieces []piece
}

// piece is a literal chunk optionally followed by one variable.
type piece struct {
	lit  string
	v    variable
	key  string  // map key for vAuthorizerProp and vAuthorizerClaim
	esc  escMode // how the variable's value is escaped
	name string  // the variable as written after "context.", for Variables
}

type escMode uint8

const (
	escPlain      escMode = iota // raw, control characters escaped
	escJSONString                // inside a JSON string: full JSON string escaping
)

// String returns the format as given to Compile.
func (f *Format) String() string { return f.src }

// Variables returns the variable names the format references, without the "context."
// prefix, in order of appearance (duplicates included).
func (f *Format) Variables() []string {
	var out []string
	for _, p := range f.pieces {
		if p.name != "" {
			out = append(out, p.name)
		}
	}
	return out
}

// Compile parses a stage's access-log format. It returns a *FormatError with AWS's
// message when the control plane must refuse the format.
func Compile(format string) (*Format, error) {
	if len(format) > MaxFormatSize {
		return nil, &FormatError{Message: MsgFormatTooBig}
	}
	body := strings.TrimSuffix(format, "\n")
	if len(body) != len(format) {
		body = strings.TrimSuffix(body, "\r")
	}
	if strings.ContainsAny(body, "\r\n") {
		return nil, &FormatError{Message: msgSingleLine + format + "'"}
	}

	f := &Format{src: format}
	jsonFormat := strings.HasPrefix(strings.TrimLeft(body, " \t"), "{")
	inString, backslash := false, false
	haveID := false
	start := 0 // start of the pending literal
	for i := 0; i < len(body); {
		c := body[i]
		if c == '$' {
			if name, end, ok := scanVariable(body, i); ok {
				v, key := resolve(name)
				esc := escPlain
				if jsonFormat && inString {
					esc = escJSONString
				}
				f.pieces = append(f.pieces, piece{lit: body[start:i], v: v, key: key, esc: esc, name: name})
				if v == vRequestID || v == vExtendedRequestID {
					haveID = true
				}
				i, start = end, end
				continue
			}
		}
		if jsonFormat {
			switch {
			case backslash:
				backslash = false
			case inString && c == '\\':
				backslash = true
			case c == '"':
				inString = !inString
			}
		}
		i++
	}
	if start < len(body) {
		f.pieces = append(f.pieces, piece{lit: body[start:]})
	}
	if !haveID {
		return nil, &FormatError{Message: MsgNeedID}
	}
	return f, nil
}

// scanVariable recognises $context.a.b or ${context.a.b} at s[i] (s[i] == '$'). It returns
// the name after "context." and the index just past the reference.
func scanVariable(s string, i int) (name string, end int, ok bool) {
	j := i + 1
	braced := j < len(s) && s[j] == '{'
	if braced {
		j++
	}
	if !strings.HasPrefix(s[j:], "context.") {
		return "", 0, false
	}
	j += len("context.")
	begin := j
	for {
		k := j
		for k < len(s) && identByte(s[k]) {
			k++
		}
		if k == j {
			break // no identifier here; a preceding '.' is literal
		}
		j = k
		if j+1 < len(s) && s[j] == '.' && identByte(s[j+1]) {
			j++
			continue
		}
		break
	}
	if j == begin {
		return "", 0, false
	}
	name = s[begin:j]
	if braced {
		if j >= len(s) || s[j] != '}' {
			return "", 0, false
		}
		j++
	}
	return name, j, true
}

func identByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// variable identifies a $context variable.
type variable uint8

const (
	vNone variable = iota
	vUnknown
	vAccountID
	vAPIID
	vStage
	vDomainName
	vDomainPrefix
	vResourceID
	vResourcePath
	vPath
	vHTTPMethod
	vProtocol
	vCustomDomainBasePathMatched
	vRequestID
	vExtendedRequestID
	vXrayTraceID
	vRequestTime
	vRequestTimeEpoch
	vTLSVersion
	vCipherSuite
	vSourceIP
	vUserAgent
	vCaller
	vUser
	vUserArn
	vAccessKey
	vIdentityAccountID
	vPrincipalOrgID
	vCognitoAuthenticationProvider
	vCognitoAuthenticationType
	vCognitoIdentityID
	vCognitoIdentityPoolID
	vAPIKey
	vAPIKeyID
	vVpcID
	vVpceID
	vClientCertPEM
	vClientCertSubjectDN
	vClientCertIssuerDN
	vClientCertSerialNumber
	vClientCertNotBefore
	vClientCertNotAfter
	vStatus
	vResponseLength
	vResponseLatency
	vIntegrationStatus
	vIntegrationResponseStatus
	vIntegrationLatency
	vIntegrationError
	vIntegrationErrorMessage
	vIntegrationRequestID
	vAWSEndpointRequestID
	vAuthorizerPrincipalID
	vAuthorizerProp
	vAuthorizerClaim
	vAuthorizerError
	vAuthorizerRequestID
	vAuthorizerStatus
	vAuthorizerIntegrationStatus
	vAuthorizerLatency
	vAuthorizerIntegrationLatency
	vAuthorizeError
	vAuthorizeLatency
	vAuthorizeStatus
	vAuthenticateError
	vAuthenticateLatency
	vAuthenticateStatus
	vWAFError
	vWAFLatency
	vWAFStatus
	vWAFResponseCode
	vWebACLArn
	vErrorMessage
	vErrorMessageString
	vErrorResponseType
	vErrorValidationErrorString
)

// resolve maps a variable name (after "context.") to its variable and map key.
func resolve(name string) (variable, string) {
	switch name {
	case "accountId":
		return vAccountID, ""
	case "apiId":
		return vAPIID, ""
	case "stage":
		return vStage, ""
	case "domainName":
		return vDomainName, ""
	case "domainPrefix":
		return vDomainPrefix, ""
	case "resourceId":
		return vResourceID, ""
	case "resourcePath":
		return vResourcePath, ""
	case "path":
		return vPath, ""
	case "httpMethod":
		return vHTTPMethod, ""
	case "protocol":
		return vProtocol, ""
	case "customDomain.basePathMatched":
		return vCustomDomainBasePathMatched, ""
	case "requestId":
		return vRequestID, ""
	case "extendedRequestId":
		return vExtendedRequestID, ""
	case "xrayTraceId":
		return vXrayTraceID, ""
	case "requestTime":
		return vRequestTime, ""
	case "requestTimeEpoch":
		return vRequestTimeEpoch, ""
	case "tlsVersion":
		return vTLSVersion, ""
	case "cipherSuite":
		return vCipherSuite, ""
	case "identity.sourceIp":
		return vSourceIP, ""
	case "identity.userAgent":
		return vUserAgent, ""
	case "identity.caller":
		return vCaller, ""
	case "identity.user":
		return vUser, ""
	case "identity.userArn":
		return vUserArn, ""
	case "identity.accessKey":
		return vAccessKey, ""
	case "identity.accountId":
		return vIdentityAccountID, ""
	case "identity.principalOrgId":
		return vPrincipalOrgID, ""
	case "identity.cognitoAuthenticationProvider":
		return vCognitoAuthenticationProvider, ""
	case "identity.cognitoAuthenticationType":
		return vCognitoAuthenticationType, ""
	case "identity.cognitoIdentityId":
		return vCognitoIdentityID, ""
	case "identity.cognitoIdentityPoolId":
		return vCognitoIdentityPoolID, ""
	case "identity.apiKey":
		return vAPIKey, ""
	case "identity.apiKeyId":
		return vAPIKeyID, ""
	case "identity.vpcId":
		return vVpcID, ""
	case "identity.vpceId":
		return vVpceID, ""
	case "identity.clientCert.clientCertPem":
		return vClientCertPEM, ""
	case "identity.clientCert.subjectDN":
		return vClientCertSubjectDN, ""
	case "identity.clientCert.issuerDN":
		return vClientCertIssuerDN, ""
	case "identity.clientCert.serialNumber":
		return vClientCertSerialNumber, ""
	case "identity.clientCert.validity.notBefore":
		return vClientCertNotBefore, ""
	case "identity.clientCert.validity.notAfter":
		return vClientCertNotAfter, ""
	case "status":
		return vStatus, ""
	case "responseLength":
		return vResponseLength, ""
	case "responseLatency":
		return vResponseLatency, ""
	case "integrationStatus", "integration.integrationStatus":
		return vIntegrationStatus, ""
	case "integration.status":
		return vIntegrationResponseStatus, ""
	case "integrationLatency", "integration.latency":
		return vIntegrationLatency, ""
	case "integration.error":
		return vIntegrationError, ""
	case "integrationErrorMessage":
		return vIntegrationErrorMessage, ""
	case "integration.requestId":
		return vIntegrationRequestID, ""
	case "awsEndpointRequestId":
		return vAWSEndpointRequestID, ""
	case "authorizer.principalId":
		return vAuthorizerPrincipalID, ""
	case "authorizer.error":
		return vAuthorizerError, ""
	case "authorizer.requestId":
		return vAuthorizerRequestID, ""
	case "authorizer.status":
		return vAuthorizerStatus, ""
	case "authorizer.integrationStatus":
		return vAuthorizerIntegrationStatus, ""
	case "authorizer.latency":
		return vAuthorizerLatency, ""
	case "authorizer.integrationLatency":
		return vAuthorizerIntegrationLatency, ""
	case "authorizer.claims":
		return vUnknown, "" // AWS: returns null
	case "authorize.error":
		return vAuthorizeError, ""
	case "authorize.latency":
		return vAuthorizeLatency, ""
	case "authorize.status":
		return vAuthorizeStatus, ""
	case "authenticate.error":
		return vAuthenticateError, ""
	case "authenticate.latency":
		return vAuthenticateLatency, ""
	case "authenticate.status":
		return vAuthenticateStatus, ""
	case "waf.error":
		return vWAFError, ""
	case "waf.latency":
		return vWAFLatency, ""
	case "waf.status":
		return vWAFStatus, ""
	case "wafResponseCode":
		return vWAFResponseCode, ""
	case "webaclArn":
		return vWebACLArn, ""
	case "error.message":
		return vErrorMessage, ""
	case "error.messageString":
		return vErrorMessageString, ""
	case "error.responseType":
		return vErrorResponseType, ""
	case "error.validationErrorString":
		return vErrorValidationErrorString, ""
	}
	if key, ok := strings.CutPrefix(name, "authorizer.claims."); ok {
		return vAuthorizerClaim, key
	}
	if key, ok := strings.CutPrefix(name, "authorizer."); ok {
		return vAuthorizerProp, key
	}
	return vUnknown, ""
}

// Append renders r as one line (without a newline) appended to dst.
func (f *Format) Append(dst []byte, r *Record) []byte {
	for i := range f.pieces {
		p := &f.pieces[i]
		dst = append(dst, p.lit...)
		if p.v != vNone {
			dst = appendVariable(dst, r, p)
		}
	}
	return dst
}

func appendVariable(dst []byte, r *Record, p *piece) []byte {
	switch p.v {
	case vRequestTime:
		if r.RequestTime.IsZero() {
			return append(dst, '-')
		}
		return r.RequestTime.UTC().AppendFormat(dst, clfTime)
	case vRequestTimeEpoch:
		if r.RequestTime.IsZero() {
			return append(dst, '-')
		}
		return strconv.AppendInt(dst, r.RequestTime.UnixMilli(), 10)
	case vStatus:
		return appendStatus(dst, r.Status)
	case vResponseLength:
		if r.ResponseLength < 0 {
			return append(dst, '-')
		}
		return strconv.AppendInt(dst, r.ResponseLength, 10)
	case vResponseLatency:
		return appendLatency(dst, r.ResponseLatency)
	case vIntegrationStatus:
		return appendStatus(dst, r.IntegrationStatus)
	case vIntegrationResponseStatus:
		return appendStatus(dst, r.IntegrationResponseStatus)
	case vIntegrationLatency:
		return appendLatency(dst, r.IntegrationLatency)
	case vAuthorizerStatus:
		return appendStatus(dst, r.AuthorizerStatus)
	case vAuthorizerIntegrationStatus:
		return appendStatus(dst, r.AuthorizerIntegrationStatus)
	case vAuthorizerLatency:
		return appendLatency(dst, r.AuthorizerLatency)
	case vAuthorizerIntegrationLatency:
		return appendLatency(dst, r.AuthorizerIntegrationLatency)
	case vAuthorizeLatency:
		return appendLatency(dst, r.Authorize.Latency)
	case vAuthorizeStatus:
		return appendStatus(dst, r.Authorize.Status)
	case vAuthenticateLatency:
		return appendLatency(dst, r.Authenticate.Latency)
	case vAuthenticateStatus:
		return appendStatus(dst, r.Authenticate.Status)
	case vWAFLatency:
		return appendLatency(dst, r.WAF.Latency)
	case vWAFStatus:
		return appendStatus(dst, r.WAF.Status)
	case vErrorMessageString:
		return appendMessageString(dst, r.ErrorMessage, p.esc)
	}
	return appendString(dst, stringValue(r, p), p.esc)
}

// stringValue returns a string variable's value ("" when unavailable).
func stringValue(r *Record, p *piece) string {
	switch p.v {
	case vAccountID:
		return r.AccountID
	case vAPIID:
		return r.APIID
	case vStage:
		return r.Stage
	case vDomainName:
		return r.DomainName
	case vDomainPrefix:
		return r.DomainPrefix
	case vResourceID:
		return r.ResourceID
	case vResourcePath:
		return r.ResourcePath
	case vPath:
		return r.Path
	case vHTTPMethod:
		return r.HTTPMethod
	case vProtocol:
		return r.Protocol
	case vCustomDomainBasePathMatched:
		return r.CustomDomainBasePathMatched
	case vRequestID:
		return r.RequestID
	case vExtendedRequestID:
		return r.ExtendedRequestID
	case vXrayTraceID:
		return r.XrayTraceID
	case vTLSVersion:
		return r.TLSVersion
	case vCipherSuite:
		return r.CipherSuite
	case vSourceIP:
		return r.SourceIP
	case vUserAgent:
		return r.UserAgent
	case vCaller:
		return r.Caller
	case vUser:
		return r.User
	case vUserArn:
		return r.UserArn
	case vAccessKey:
		return r.AccessKey
	case vIdentityAccountID:
		return r.IdentityAccountID
	case vPrincipalOrgID:
		return r.PrincipalOrgID
	case vCognitoAuthenticationProvider:
		return r.CognitoAuthenticationProvider
	case vCognitoAuthenticationType:
		return r.CognitoAuthenticationType
	case vCognitoIdentityID:
		return r.CognitoIdentityID
	case vCognitoIdentityPoolID:
		return r.CognitoIdentityPoolID
	case vAPIKey:
		return r.APIKey
	case vAPIKeyID:
		return r.APIKeyID
	case vVpcID:
		return r.VpcID
	case vVpceID:
		return r.VpceID
	case vClientCertPEM:
		return r.ClientCert.PEM
	case vClientCertSubjectDN:
		return r.ClientCert.SubjectDN
	case vClientCertIssuerDN:
		return r.ClientCert.IssuerDN
	case vClientCertSerialNumber:
		return r.ClientCert.SerialNumber
	case vClientCertNotBefore:
		return r.ClientCert.NotBefore
	case vClientCertNotAfter:
		return r.ClientCert.NotAfter
	case vIntegrationError:
		return r.IntegrationError
	case vIntegrationErrorMessage:
		return r.IntegrationErrorMessage
	case vIntegrationRequestID:
		return r.IntegrationRequestID
	case vAWSEndpointRequestID:
		return r.AWSEndpointRequestID
	case vAuthorizerPrincipalID:
		return r.AuthorizerPrincipalID
	case vAuthorizerProp:
		return r.Authorizer[p.key]
	case vAuthorizerClaim:
		return r.AuthorizerClaims[p.key]
	case vAuthorizerError:
		return r.AuthorizerError
	case vAuthorizerRequestID:
		return r.AuthorizerRequestID
	case vAuthorizeError:
		return r.Authorize.Error
	case vAuthenticateError:
		return r.Authenticate.Error
	case vWAFError:
		return r.WAF.Error
	case vWAFResponseCode:
		return r.WAFResponseCode
	case vWebACLArn:
		return r.WebACLArn
	case vErrorMessage:
		return r.ErrorMessage
	case vErrorResponseType:
		return r.ErrorResponseType
	case vErrorValidationErrorString:
		return r.ErrorValidationErrorString
	}
	return "" // vUnknown
}

func appendStatus(dst []byte, status int) []byte {
	if status == 0 {
		return append(dst, '-')
	}
	return strconv.AppendInt(dst, int64(status), 10)
}

func appendLatency(dst []byte, d time.Duration) []byte {
	if d < 0 {
		return append(dst, '-')
	}
	return strconv.AppendInt(dst, d.Milliseconds(), 10)
}

// appendString appends s, or "-" when empty, escaped for its position.
func appendString(dst []byte, s string, esc escMode) []byte {
	if s == "" {
		return append(dst, '-')
	}
	if esc == escJSONString {
		return appendJSONEscaped(dst, s, 1)
	}
	return appendPlain(dst, s)
}

// appendMessageString renders $context.error.messageString: the message as a JSON string
// literal. Inside a JSON string the whole literal is escaped once more.
func appendMessageString(dst []byte, msg string, esc escMode) []byte {
	if msg == "" {
		return append(dst, '-')
	}
	if esc == escJSONString {
		dst = append(dst, `\"`...)
		dst = appendJSONEscaped(dst, msg, 2)
		return append(dst, `\"`...)
	}
	dst = append(dst, '"')
	dst = appendJSONEscaped(dst, msg, 1)
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"

// appendPlain appends s raw except for control characters, which are escaped JSON-style
// so that a value can never break the line.
func appendPlain(dst []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != 0x7f {
			continue
		}
		dst = append(dst, s[last:i]...)
		dst = appendControl(dst, c)
		last = i + 1
	}
	return append(dst, s[last:]...)
}

func appendControl(dst []byte, c byte) []byte {
	switch c {
	case '\n':
		return append(dst, '\\', 'n')
	case '\r':
		return append(dst, '\\', 'r')
	case '\t':
		return append(dst, '\\', 't')
	}
	return append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
}

// appendJSONEscaped appends s escaped as the contents of a JSON string, applied levels
// times (2 = the escaped text itself placed inside another JSON string).
func appendJSONEscaped(dst []byte, s string, levels int) []byte {
	last := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
		}
		dst = append(dst, s[last:i]...)
		var buf [6]byte
		var esc []byte
		if c >= utf8.RuneSelf { // invalid UTF-8
			esc = append(buf[:0], `\ufffd`...)
		} else {
			esc = appendControlOrQuote(buf[:0], c)
		}
		dst = appendEscapedAgain(dst, esc, levels-1)
		i++
		last = i
	}
	return append(dst, s[last:]...)
}

// appendControlOrQuote escapes one ASCII byte that JSON strings cannot hold raw.
func appendControlOrQuote(dst []byte, c byte) []byte {
	switch c {
	case '"':
		return append(dst, '\\', '"')
	case '\\':
		return append(dst, '\\', '\\')
	}
	return appendControl(dst, c)
}

// appendEscapedAgain appends esc (printable ASCII) escaped levels more times. In such text
// only '\\' and '"' need escaping.
func appendEscapedAgain(dst []byte, esc []byte, levels int) []byte {
	if levels <= 0 {
		return append(dst, esc...)
	}
	for _, c := range esc {
		if c != '\\' && c != '"' {
			dst = append(dst, c)
			continue
		}
		pair := [2]byte{'\\', c}
		dst = appendEscapedAgain(dst, pair[:], levels-1)
	}
	return dst
}
