package controlplane

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/awsproto"
	"gatehouse/internal/store"
)

// MaxBodySize is the largest request body the control plane accepts (API Gateway's
// 6 MB import limit); larger bodies get 413.
const MaxBodySize = 6 << 20

// Store is the part of the state store the control plane uses. *store.Store
// satisfies it; every write that depends on the current value goes through Modify.
type Store interface {
	Get(ctx context.Context, bucket, key string) (store.Entry, error)
	Create(ctx context.Context, bucket, key string, value []byte) (uint64, error)
	Delete(ctx context.Context, bucket, key string, rev uint64) error
	List(ctx context.Context, bucket, prefix string) ([]store.Entry, error)
	Modify(ctx context.Context, bucket, key string, fn func(cur []byte) ([]byte, error)) (uint64, error)
}

var _ Store = (*store.Store)(nil)

// Options configures New.
type Options struct {
	// Store holds the documents. Required.
	Store Store
	// Region is the region this control plane serves (ARNs, policy shorthand). Default us-east-1.
	Region string
	// Logger receives internal errors. Nil discards.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// KnownVPCEndpoint, when set, reports whether a vpce id exists; vpcEndpointIds naming
	// an unknown endpoint are then rejected. Nil accepts any well-formed id.
	KnownVPCEndpoint func(id string) bool
	// IssueClientCert issues a client certificate (PEM certificate and key) from
	// gatehouse's CA for GenerateClientCertificate; cn is the certificate id. Nil makes
	// GenerateClientCertificate fail with BadRequestException.
	IssueClientCert func(cn string) (certPEM, keyPEM []byte, err error)
	// VPCOwner reports the account that owns a topology VPC (agent-token calls). Nil
	// makes every agent-token call fail with NotFoundException.
	VPCOwner func(vpcID string) (account string, ok bool)
	// TopologyLoadBalancer returns a load balancer declared in the topology file (read
	// only, not in the store) by ARN, for VPC links to it. Nil: none.
	TopologyLoadBalancer func(arn string) (*apimodel.LoadBalancer, bool)
	// VpcLinkCheck decides the status of PENDING VPC links (vpclinks.go). Nil makes a
	// link AVAILABLE when it is next read, as long as its load balancers exist.
	VpcLinkCheck VpcLinkChecker
	// VpcLinkWait bounds how long CreateDeployment waits for PENDING VPC links.
	// Default 30 s.
	VpcLinkWait time.Duration
	// VpcLinkDeleteDelay is how long a deleted VPC link stays DELETING before it is
	// removed. Default 2 s.
	VpcLinkDeleteDelay time.Duration
}

// Caller is the verified identity of a request: the account its access key belongs to.
type Caller struct {
	Account, AccessKeyID string
}

// Server serves the apigateway control plane. It is safe for concurrent use.
type Server struct {
	store     Store
	region    string
	log       *slog.Logger
	now       func() time.Time
	knownVPCE func(string) bool
	mux       *http.ServeMux

	issueClientCert    func(cn string) (certPEM, keyPEM []byte, err error)
	vpcOwner           func(vpcID string) (string, bool)
	vpcLinkCheck       VpcLinkChecker
	topologyLB         func(arn string) (*apimodel.LoadBalancer, bool)
	vpcLinkWait        time.Duration
	vpcLinkDeleteDelay time.Duration

	// locks serializes, within this process, read-modify-write cycles on one store
	// key (striped by key hash). The store's revisions already make concurrent writers
	// safe; the locks only keep many local writers on one API from burning through the
	// store's retry budget.
	locks [64]sync.Mutex
}

// New returns a Server.
func New(opts Options) *Server {
	s := &Server{
		store:     opts.Store,
		region:    opts.Region,
		log:       opts.Logger,
		now:       opts.Now,
		knownVPCE: opts.KnownVPCEndpoint,
		mux:       http.NewServeMux(),

		issueClientCert:    opts.IssueClientCert,
		vpcOwner:           opts.VPCOwner,
		vpcLinkCheck:       opts.VpcLinkCheck,
		topologyLB:         opts.TopologyLoadBalancer,
		vpcLinkWait:        opts.VpcLinkWait,
		vpcLinkDeleteDelay: opts.VpcLinkDeleteDelay,
	}
	if s.vpcLinkWait <= 0 {
		s.vpcLinkWait = defaultVpcLinkWait
	}
	if s.vpcLinkDeleteDelay <= 0 {
		s.vpcLinkDeleteDelay = defaultVpcLinkDelete
	}
	if s.region == "" {
		s.region = "us-east-1"
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "controlplane")
	if s.now == nil {
		s.now = time.Now
	}
	s.routes()
	return s
}

// call is one request on its way through a handler.
type call struct {
	ctx    context.Context
	r      *http.Request
	caller Caller
	body   []byte
	reqID  string
	now    apimodel.Epoch
}

// op is an operation handler: it returns the success status and the response shape
// (nil for no body), or an error that errors.go renders.
type op func(c *call) (int, any, error)

type callKey struct{}

// ServeAPIGateway handles one apigateway request whose SigV4 signature was already
// verified. body is the full request body.
func (s *Server) ServeAPIGateway(w http.ResponseWriter, r *http.Request, caller Caller, body []byte) {
	reqID := awsproto.NewRequestID()
	w.Header().Set("X-Amzn-Requestid", reqID)
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("panic in control plane handler", "method", r.Method, "path", r.URL.Path,
				"requestId", reqID, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			awsproto.WriteJSONError(w, http.StatusInternalServerError, codeInternalFailure,
				"Internal server error", reqID)
		}
	}()
	if len(body) > MaxBodySize {
		awsproto.WriteJSONError(w, http.StatusRequestEntityTooLarge, awsproto.CodeBadRequest,
			"Request body exceeds the maximum size of "+strconv.Itoa(MaxBodySize)+" bytes", reqID)
		return
	}
	c := &call{
		caller: caller,
		body:   body,
		reqID:  reqID,
		now:    apimodel.Epoch(s.now().UTC().Truncate(time.Millisecond)),
	}
	s.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callKey{}, c)))
}

// handle registers fn for a ServeMux pattern.
func (s *Server) handle(pattern string, fn op) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Context().Value(callKey{}).(*call)
		if c == nil { // reached the mux without ServeAPIGateway
			c = &call{reqID: awsproto.NewRequestID(), now: apimodel.Epoch(s.now().UTC().Truncate(time.Millisecond))}
		}
		c.ctx = r.Context()
		c.r = r
		status, out, err := fn(c)
		if err != nil {
			s.writeError(w, c, err)
			return
		}
		writeJSON(w, status, out)
	})
}

// routes registers every operation (paths, methods and success codes are botocore's).
func (s *Server) routes() {
	const api = "/restapis/{restapi_id}"
	const res = api + "/resources/{resource_id}"
	const meth = res + "/methods/{http_method}"
	const integ = meth + "/integration"

	s.handle("POST /restapis", s.createRestAPI)
	s.handle("GET /restapis", s.getRestAPIs)
	s.handle("GET "+api, s.getRestAPI)
	s.handle("PATCH "+api, s.updateRestAPI)
	s.handle("DELETE "+api, s.deleteRestAPI)

	s.handle("GET "+api+"/resources", s.getResources)
	s.handle("GET "+res, s.getResource)
	s.handle("POST "+api+"/resources/{parent_id}", s.createResource)
	s.handle("PATCH "+res, s.updateResource)
	s.handle("DELETE "+res, s.deleteResource)

	s.handle("PUT "+meth, s.putMethod)
	s.handle("GET "+meth, s.getMethod)
	s.handle("PATCH "+meth, s.updateMethod)
	s.handle("DELETE "+meth, s.deleteMethod)
	s.handle("PUT "+meth+"/responses/{status_code}", s.putMethodResponse)
	s.handle("GET "+meth+"/responses/{status_code}", s.getMethodResponse)
	s.handle("PATCH "+meth+"/responses/{status_code}", s.updateMethodResponse)
	s.handle("DELETE "+meth+"/responses/{status_code}", s.deleteMethodResponse)

	s.handle("PUT "+integ, s.putIntegration)
	s.handle("GET "+integ, s.getIntegration)
	s.handle("PATCH "+integ, s.updateIntegration)
	s.handle("DELETE "+integ, s.deleteIntegration)
	s.handle("PUT "+integ+"/responses/{status_code}", s.putIntegrationResponse)
	s.handle("GET "+integ+"/responses/{status_code}", s.getIntegrationResponse)
	s.handle("PATCH "+integ+"/responses/{status_code}", s.updateIntegrationResponse)
	s.handle("DELETE "+integ+"/responses/{status_code}", s.deleteIntegrationResponse)

	s.handle("POST "+api+"/deployments", s.createDeployment)
	s.handle("GET "+api+"/deployments", s.getDeployments)
	s.handle("GET "+api+"/deployments/{deployment_id}", s.getDeployment)
	s.handle("PATCH "+api+"/deployments/{deployment_id}", s.updateDeployment)
	s.handle("DELETE "+api+"/deployments/{deployment_id}", s.deleteDeployment)

	s.handle("POST "+api+"/stages", s.createStage)
	s.handle("GET "+api+"/stages", s.getStages)
	s.handle("GET "+api+"/stages/{stage_name}", s.getStage)
	s.handle("PATCH "+api+"/stages/{stage_name}", s.updateStage)
	s.handle("DELETE "+api+"/stages/{stage_name}", s.deleteStage)

	s.handle("GET "+api+"/gatewayresponses", s.getGatewayResponses)
	s.handle("GET "+api+"/gatewayresponses/{response_type}", s.getGatewayResponse)
	s.handle("PUT "+api+"/gatewayresponses/{response_type}", s.putGatewayResponse)
	s.handle("PATCH "+api+"/gatewayresponses/{response_type}", s.updateGatewayResponse)
	s.handle("DELETE "+api+"/gatewayresponses/{response_type}", s.deleteGatewayResponse)

	s.handle("POST "+api+"/authorizers", s.createAuthorizer)
	s.handle("GET "+api+"/authorizers", s.getAuthorizers)
	s.handle("GET "+api+"/authorizers/{authorizer_id}", s.getAuthorizer)
	s.handle("PATCH "+api+"/authorizers/{authorizer_id}", s.updateAuthorizer)
	s.handle("DELETE "+api+"/authorizers/{authorizer_id}", s.deleteAuthorizer)
	s.handle("DELETE "+api+"/stages/{stage_name}/cache/authorizers", s.flushStageAuthorizersCache)

	s.handle("POST "+api+"/requestvalidators", s.createRequestValidator)
	s.handle("GET "+api+"/requestvalidators", s.getRequestValidators)
	s.handle("GET "+api+"/requestvalidators/{requestvalidator_id}", s.getRequestValidator)
	s.handle("PATCH "+api+"/requestvalidators/{requestvalidator_id}", s.updateRequestValidator)
	s.handle("DELETE "+api+"/requestvalidators/{requestvalidator_id}", s.deleteRequestValidator)

	s.handle("POST "+api+"/models", s.createModel)
	s.handle("GET "+api+"/models", s.getModels)
	s.handle("GET "+api+"/models/{model_name}", s.getModel)
	s.handle("PATCH "+api+"/models/{model_name}", s.updateModel)
	s.handle("DELETE "+api+"/models/{model_name}", s.deleteModel)

	// POST /apikeys is CreateApiKey, or ImportApiKeys with ?mode=import.
	s.handle("POST /apikeys", s.createAPIKey)
	s.handle("GET /apikeys", s.getAPIKeys)
	s.handle("GET /apikeys/{api_key}", s.getAPIKey)
	s.handle("PATCH /apikeys/{api_key}", s.updateAPIKey)
	s.handle("DELETE /apikeys/{api_key}", s.deleteAPIKey)

	const plan = "/usageplans/{usageplan_id}"
	s.handle("POST /usageplans", s.createUsagePlan)
	s.handle("GET /usageplans", s.getUsagePlans)
	s.handle("GET "+plan, s.getUsagePlan)
	s.handle("PATCH "+plan, s.updateUsagePlan)
	s.handle("DELETE "+plan, s.deleteUsagePlan)
	s.handle("POST "+plan+"/keys", s.createUsagePlanKey)
	s.handle("GET "+plan+"/keys", s.getUsagePlanKeys)
	s.handle("GET "+plan+"/keys/{key_id}", s.getUsagePlanKey)
	s.handle("DELETE "+plan+"/keys/{key_id}", s.deleteUsagePlanKey)
	s.handle("GET "+plan+"/usage", s.getUsage)

	// The ARN's slashes arrive %2F-escaped from the SDKs; {resource_arn...} also takes
	// clients that send them raw.
	s.handle("GET /tags/{resource_arn...}", s.getTags)
	s.handle("PUT /tags/{resource_arn...}", s.tagResource)
	s.handle("DELETE /tags/{resource_arn...}", s.untagResource)

	s.handle("POST /vpclinks", s.createVpcLink)
	s.handle("GET /vpclinks", s.getVpcLinks)
	s.handle("GET /vpclinks/{vpclink_id}", s.getVpcLink)
	s.handle("PATCH /vpclinks/{vpclink_id}", s.updateVpcLink)
	s.handle("DELETE /vpclinks/{vpclink_id}", s.deleteVpcLink)

	s.handle("POST /clientcertificates", s.generateClientCertificate)
	s.handle("GET /clientcertificates", s.getClientCertificates)
	s.handle("GET /clientcertificates/{clientcertificate_id}", s.getClientCertificate)
	s.handle("PATCH /clientcertificates/{clientcertificate_id}", s.updateClientCertificate)
	s.handle("DELETE /clientcertificates/{clientcertificate_id}", s.deleteClientCertificate)

	// gatehouse extension: link agent tokens (agenttokens.go).
	const tokens = "/gatehouse/vpcs/{vpc_id}/agenttokens"
	s.handle("POST "+tokens, s.createAgentToken)
	s.handle("GET "+tokens, s.getAgentTokens)
	s.handle("GET "+tokens+"/{token_id}", s.getAgentToken)
	s.handle("DELETE "+tokens+"/{token_id}", s.deleteAgentToken)

	s.handle("/", func(*call) (int, any, error) { return 0, nil, errUnknownOperation() })
}

// lock serializes this process's writers of one store key; call the returned func to unlock.
func (s *Server) lock(bucket, key string) func() {
	h := fnv.New32a()
	h.Write([]byte(bucket))
	h.Write([]byte{0})
	h.Write([]byte(key))
	m := &s.locks[h.Sum32()%uint32(len(s.locks))]
	m.Lock()
	return m.Unlock
}

// writeJSON writes a success response; out == nil writes an empty body.
func writeJSON(w http.ResponseWriter, status int, out any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if out == nil {
		h.Set("Content-Length", "0")
		w.WriteHeader(status)
		return
	}
	b, err := marshal(out)
	if err != nil { // only plain data is rendered: cannot happen
		panic(err)
	}
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// marshal encodes v as compact JSON without HTML escaping (AWS does not escape <, >, &).
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
