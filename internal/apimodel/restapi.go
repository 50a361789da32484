package apimodel

import (
	"encoding/json"
	"strconv"
	"time"
)

// Bucket names in the store.
const (
	BucketRestAPIs    = "restapis"
	BucketDeployments = "deployments"
	BucketStages      = "stages"
)

// Endpoint types (EndpointConfiguration.types).
const (
	EndpointEdge     = "EDGE"
	EndpointRegional = "REGIONAL"
	EndpointPrivate  = "PRIVATE"
)

// Epoch is a timestamp that AWS's REST-JSON protocol sends as epoch seconds (a JSON number,
// fractional allowed).
type Epoch time.Time

// Now returns the current time truncated to milliseconds.
func Now() Epoch { return Epoch(time.Now().UTC().Truncate(time.Millisecond)) }

// Time converts back to time.Time.
func (e Epoch) Time() time.Time { return time.Time(e) }

// MarshalJSON writes epoch seconds.
func (e Epoch) MarshalJSON() ([]byte, error) {
	t := time.Time(e)
	if t.IsZero() {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, float64(t.UnixMilli())/1000, 'f', -1, 64), nil
}

// UnmarshalJSON reads epoch seconds.
func (e *Epoch) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*e = Epoch{}
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return err
	}
	*e = Epoch(time.UnixMilli(int64(f * 1000)).UTC())
	return nil
}

// EndpointConfiguration is AWS's EndpointConfiguration.
type EndpointConfiguration struct {
	Types          []string `json:"types,omitempty"`
	IPAddressType  string   `json:"ipAddressType,omitempty"`
	VpcEndpointIds []string `json:"vpcEndpointIds,omitempty"`
}

// RestApi is AWS's RestApi shape.
type RestApi struct {
	ID                        string                 `json:"id"`
	Name                      string                 `json:"name"`
	Description               string                 `json:"description,omitempty"`
	CreatedDate               Epoch                  `json:"createdDate"`
	Version                   string                 `json:"version,omitempty"`
	Warnings                  []string               `json:"warnings,omitempty"`
	BinaryMediaTypes          []string               `json:"binaryMediaTypes,omitempty"`
	MinimumCompressionSize    *int                   `json:"minimumCompressionSize,omitempty"`
	APIKeySource              string                 `json:"apiKeySource,omitempty"`
	EndpointConfiguration     *EndpointConfiguration `json:"endpointConfiguration,omitempty"`
	Policy                    string                 `json:"policy,omitempty"`
	Tags                      map[string]string      `json:"tags,omitempty"`
	DisableExecuteAPIEndpoint bool                   `json:"disableExecuteApiEndpoint"`
	RootResourceID            string                 `json:"rootResourceId,omitempty"`
	APIStatus                 string                 `json:"apiStatus,omitempty"`
	SecurityPolicy            string                 `json:"securityPolicy,omitempty"`
	EndpointAccessMode        string                 `json:"endpointAccessMode,omitempty"`
}

// IsPrivate reports whether the API's endpoint type is PRIVATE.
func (r *RestApi) IsPrivate() bool {
	return r.EndpointConfiguration != nil && len(r.EndpointConfiguration.Types) == 1 &&
		r.EndpointConfiguration.Types[0] == EndpointPrivate
}

// Resource is AWS's Resource shape; ResourceMethods embeds the methods as GetResource returns them.
type Resource struct {
	ID              string             `json:"id"`
	ParentID        string             `json:"parentId,omitempty"`
	PathPart        string             `json:"pathPart,omitempty"`
	Path            string             `json:"path"`
	ResourceMethods map[string]*Method `json:"resourceMethods,omitempty"`
}

// Method is AWS's Method shape.
type Method struct {
	HTTPMethod          string                     `json:"httpMethod"`
	AuthorizationType   string                     `json:"authorizationType"`
	AuthorizerID        string                     `json:"authorizerId,omitempty"`
	APIKeyRequired      bool                       `json:"apiKeyRequired"`
	RequestValidatorID  string                     `json:"requestValidatorId,omitempty"`
	OperationName       string                     `json:"operationName,omitempty"`
	RequestParameters   map[string]bool            `json:"requestParameters,omitempty"`
	RequestModels       map[string]string          `json:"requestModels,omitempty"`
	MethodResponses     map[string]*MethodResponse `json:"methodResponses,omitempty"`
	MethodIntegration   *Integration               `json:"methodIntegration,omitempty"`
	AuthorizationScopes []string                   `json:"authorizationScopes,omitempty"`
}

// MethodResponse is AWS's MethodResponse shape.
type MethodResponse struct {
	StatusCode         string            `json:"statusCode"`
	ResponseParameters map[string]bool   `json:"responseParameters,omitempty"`
	ResponseModels     map[string]string `json:"responseModels,omitempty"`
}

// Integration types.
const (
	IntegrationHTTP      = "HTTP"
	IntegrationHTTPProxy = "HTTP_PROXY"
	IntegrationMock      = "MOCK"
	IntegrationAWS       = "AWS"
	IntegrationAWSProxy  = "AWS_PROXY"
)

// DefaultIntegrationTimeoutMillis is AWS's default and maximum integration timeout for REST APIs.
const DefaultIntegrationTimeoutMillis = 29000

// TLSConfig is AWS's TlsConfig shape.
type TLSConfig struct {
	InsecureSkipVerification bool `json:"insecureSkipVerification"`
}

// Integration is AWS's Integration shape.
type Integration struct {
	Type                 string                          `json:"type"`
	HTTPMethod           string                          `json:"httpMethod,omitempty"`
	URI                  string                          `json:"uri,omitempty"`
	ConnectionType       string                          `json:"connectionType,omitempty"`
	ConnectionID         string                          `json:"connectionId,omitempty"`
	Credentials          string                          `json:"credentials,omitempty"`
	RequestParameters    map[string]string               `json:"requestParameters,omitempty"`
	RequestTemplates     map[string]string               `json:"requestTemplates,omitempty"`
	PassthroughBehavior  string                          `json:"passthroughBehavior,omitempty"`
	ContentHandling      string                          `json:"contentHandling,omitempty"`
	TimeoutInMillis      int                             `json:"timeoutInMillis"`
	CacheNamespace       string                          `json:"cacheNamespace,omitempty"`
	CacheKeyParameters   []string                        `json:"cacheKeyParameters"`
	IntegrationResponses map[string]*IntegrationResponse `json:"integrationResponses,omitempty"`
	TLSConfig            *TLSConfig                      `json:"tlsConfig,omitempty"`
	IntegrationTarget    string                          `json:"integrationTarget,omitempty"`
	ResponseTransferMode string                          `json:"responseTransferMode,omitempty"`
}

// IntegrationResponse is AWS's IntegrationResponse shape.
type IntegrationResponse struct {
	StatusCode         string            `json:"statusCode"`
	SelectionPattern   string            `json:"selectionPattern,omitempty"`
	ResponseParameters map[string]string `json:"responseParameters,omitempty"`
	ResponseTemplates  map[string]string `json:"responseTemplates,omitempty"`
	ContentHandling    string            `json:"contentHandling,omitempty"`
}

// GatewayResponse is AWS's GatewayResponse shape.
type GatewayResponse struct {
	ResponseType       string            `json:"responseType"`
	StatusCode         string            `json:"statusCode,omitempty"`
	ResponseParameters map[string]string `json:"responseParameters,omitempty"`
	ResponseTemplates  map[string]string `json:"responseTemplates,omitempty"`
	DefaultResponse    bool              `json:"defaultResponse"`
}

// API is the stored document for one REST API: the RestApi, its resource tree and the
// gateway responses the user has put. Account is the owner.
type API struct {
	Account          string                      `json:"account"`
	RestAPI          RestApi                     `json:"restApi"`
	Resources        map[string]*Resource        `json:"resources"`
	GatewayResponses map[string]*GatewayResponse `json:"gatewayResponses,omitempty"`
	// Authorizers, RequestValidators and Models are keyed by id, id and name.
	Authorizers       map[string]*Authorizer       `json:"authorizers,omitempty"`
	RequestValidators map[string]*RequestValidator `json:"requestValidators,omitempty"`
	// Models is nil only in documents written before models were managed: such an API
	// has the two default models (see DefaultModels). Once set it is kept even when
	// empty (no omitempty), since a user may delete the defaults.
	Models map[string]*Model `json:"models"`
}

// DeploymentMeta is AWS's Deployment shape.
type DeploymentMeta struct {
	ID          string                               `json:"id"`
	Description string                               `json:"description,omitempty"`
	CreatedDate Epoch                                `json:"createdDate"`
	APISummary  map[string]map[string]MethodSnapshot `json:"apiSummary,omitempty"`
}

// MethodSnapshot is AWS's MethodSnapshot shape (Deployment.apiSummary values).
type MethodSnapshot struct {
	AuthorizationType string `json:"authorizationType,omitempty"`
	APIKeyRequired    bool   `json:"apiKeyRequired"`
}

// Deployment is the stored deployment: AWS's fields plus the frozen API it deployed.
type Deployment struct {
	DeploymentMeta
	Account string `json:"account"`
	APIID   string `json:"apiId"`
	API     API    `json:"api"`
}

// AccessLogSettings is AWS's AccessLogSettings shape.
type AccessLogSettings struct {
	Format         string `json:"format,omitempty"`
	DestinationArn string `json:"destinationArn,omitempty"`
}

// MethodSetting is AWS's MethodSetting shape.
type MethodSetting struct {
	MetricsEnabled                         bool    `json:"metricsEnabled"`
	LoggingLevel                           string  `json:"loggingLevel,omitempty"`
	DataTraceEnabled                       bool    `json:"dataTraceEnabled"`
	ThrottlingBurstLimit                   int     `json:"throttlingBurstLimit"`
	ThrottlingRateLimit                    float64 `json:"throttlingRateLimit"`
	CachingEnabled                         bool    `json:"cachingEnabled"`
	CacheTTLInSeconds                      int     `json:"cacheTtlInSeconds"`
	CacheDataEncrypted                     bool    `json:"cacheDataEncrypted"`
	RequireAuthorizationForCacheControl    bool    `json:"requireAuthorizationForCacheControl"`
	UnauthorizedCacheControlHeaderStrategy string  `json:"unauthorizedCacheControlHeaderStrategy,omitempty"`
}

// CanarySettings is AWS's CanarySettings shape (a stage's canary release).
type CanarySettings struct {
	PercentTraffic         float64           `json:"percentTraffic"`
	DeploymentID           string            `json:"deploymentId,omitempty"`
	StageVariableOverrides map[string]string `json:"stageVariableOverrides,omitempty"`
	UseStageCache          bool              `json:"useStageCache"`
}

// Stage is AWS's Stage shape plus the owner.
type Stage struct {
	Account              string                    `json:"account,omitempty"`
	APIID                string                    `json:"apiId,omitempty"`
	DeploymentID         string                    `json:"deploymentId"`
	ClientCertificateID  string                    `json:"clientCertificateId,omitempty"`
	StageName            string                    `json:"stageName"`
	Description          string                    `json:"description,omitempty"`
	CacheClusterEnabled  bool                      `json:"cacheClusterEnabled"`
	CacheClusterSize     string                    `json:"cacheClusterSize,omitempty"`
	CacheClusterStatus   string                    `json:"cacheClusterStatus,omitempty"`
	MethodSettings       map[string]*MethodSetting `json:"methodSettings,omitempty"`
	Variables            map[string]string         `json:"variables,omitempty"`
	DocumentationVersion string                    `json:"documentationVersion,omitempty"`
	AccessLogSettings    *AccessLogSettings        `json:"accessLogSettings,omitempty"`
	CanarySettings       *CanarySettings           `json:"canarySettings,omitempty"`
	TracingEnabled       bool                      `json:"tracingEnabled"`
	Tags                 map[string]string         `json:"tags,omitempty"`
	CreatedDate          Epoch                     `json:"createdDate"`
	LastUpdatedDate      Epoch                     `json:"lastUpdatedDate"`
	// AuthorizerCacheGeneration is gatehouse's: FlushStageAuthorizersCache increments it,
	// and the data plane drops the stage's cached authorizer results when it changes.
	AuthorizerCacheGeneration uint64 `json:"authorizerCacheGeneration,omitempty"`
}

// DeploymentKey is the store key of a deployment.
func DeploymentKey(apiID, deploymentID string) string { return apiID + "." + deploymentID }

// StageKey is the store key of a stage.
func StageKey(apiID, stageName string) string { return apiID + "." + stageName }

// Clone deep-copies an API document (through JSON; used on the control plane only).
func (a *API) Clone() *API {
	b, err := json.Marshal(a)
	if err != nil {
		panic(err) // only plain data: cannot fail
	}
	var c API
	if err := json.Unmarshal(b, &c); err != nil {
		panic(err)
	}
	return &c
}
