package accesslog

import "time"

// NA marks a latency, or Record.ResponseLength, as not applicable; it renders "-".
const NA = -1

// Record is everything the pipeline knows about one request, typed. Each field names the
// $context variables it feeds. Empty strings, zero statuses, a zero RequestTime and
// negative latencies or lengths render "-".
type Record struct {
	// API and stage.
	AccountID                   string // accountId
	APIID                       string // apiId
	Stage                       string // stage
	DomainName                  string // domainName
	DomainPrefix                string // domainPrefix
	ResourceID                  string // resourceId
	ResourcePath                string // resourcePath (template, e.g. /pets/{petId})
	Path                        string // path (as requested, with the stage)
	HTTPMethod                  string // httpMethod
	Protocol                    string // protocol, e.g. HTTP/1.1
	CustomDomainBasePathMatched string // customDomain.basePathMatched

	// Request.
	RequestID         string    // requestId
	ExtendedRequestID string    // extendedRequestId
	XrayTraceID       string    // xrayTraceId
	RequestTime       time.Time // requestTime, requestTimeEpoch
	TLSVersion        string    // tlsVersion
	CipherSuite       string    // cipherSuite

	// Identity.
	SourceIP                      string // identity.sourceIp
	UserAgent                     string // identity.userAgent
	Caller                        string // identity.caller
	User                          string // identity.user
	UserArn                       string // identity.userArn
	AccessKey                     string // identity.accessKey
	IdentityAccountID             string // identity.accountId
	PrincipalOrgID                string // identity.principalOrgId
	CognitoAuthenticationProvider string // identity.cognitoAuthenticationProvider
	CognitoAuthenticationType     string // identity.cognitoAuthenticationType
	CognitoIdentityID             string // identity.cognitoIdentityId
	CognitoIdentityPoolID         string // identity.cognitoIdentityPoolId
	APIKey                        string // identity.apiKey
	APIKeyID                      string // identity.apiKeyId
	VpcID                         string // identity.vpcId (gatehouse addition)
	VpceID                        string // identity.vpceId (gatehouse addition)
	ClientCert                    ClientCert

	// Response.
	Status          int           // status
	ResponseLength  int64         // responseLength; negative = not applicable
	ResponseLatency time.Duration // responseLatency; negative = not applicable

	// Integration.
	IntegrationStatus         int           // integrationStatus, integration.integrationStatus (for Lambda: the Lambda service's status)
	IntegrationResponseStatus int           // integration.status (for Lambda proxy: the status the function returned)
	IntegrationLatency        time.Duration // integrationLatency, integration.latency
	IntegrationError          string        // integration.error
	IntegrationErrorMessage   string        // integrationErrorMessage
	IntegrationRequestID      string        // integration.requestId
	AWSEndpointRequestID      string        // awsEndpointRequestId

	// Authorizer.
	AuthorizerPrincipalID        string            // authorizer.principalId
	Authorizer                   map[string]string // authorizer.<key> (Lambda authorizer context, stringified)
	AuthorizerClaims             map[string]string // authorizer.claims.<key> (Cognito)
	AuthorizerError              string            // authorizer.error
	AuthorizerRequestID          string            // authorizer.requestId
	AuthorizerStatus             int               // authorizer.status
	AuthorizerIntegrationStatus  int               // authorizer.integrationStatus
	AuthorizerLatency            time.Duration     // authorizer.latency
	AuthorizerIntegrationLatency time.Duration     // authorizer.integrationLatency
	Authorize                    Phase             // authorize.error|latency|status
	Authenticate                 Phase             // authenticate.error|latency|status

	// WAF.
	WAF             Phase  // waf.error|latency|status
	WAFResponseCode string // wafResponseCode
	WebACLArn       string // webaclArn

	// Errors.
	ErrorMessage               string // error.message, error.messageString
	ErrorResponseType          string // error.responseType
	ErrorValidationErrorString string // error.validationErrorString
}

// Phase is the outcome of one step AWS reports as error/latency/status triples.
type Phase struct {
	Error   string
	Latency time.Duration // negative = not applicable
	Status  int
}

// ClientCert describes a mutual-TLS client certificate (identity.clientCert.*).
type ClientCert struct {
	PEM          string // clientCertPem
	SubjectDN    string // subjectDN
	IssuerDN     string // issuerDN
	SerialNumber string // serialNumber
	NotBefore    string // validity.notBefore, as AWS formats it
	NotAfter     string // validity.notAfter
}

// Reset clears r for reuse and marks every latency and the response length not
// applicable. The Authorizer and AuthorizerClaims maps are emptied but kept.
func (r *Record) Reset() {
	auth, claims := r.Authorizer, r.AuthorizerClaims
	clear(auth)
	clear(claims)
	*r = Record{
		Authorizer:                   auth,
		AuthorizerClaims:             claims,
		ResponseLength:               NA,
		ResponseLatency:              NA,
		IntegrationLatency:           NA,
		AuthorizerLatency:            NA,
		AuthorizerIntegrationLatency: NA,
		Authorize:                    Phase{Latency: NA},
		Authenticate:                 Phase{Latency: NA},
		WAF:                          Phase{Latency: NA},
	}
}
