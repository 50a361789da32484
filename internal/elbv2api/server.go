package elbv2api

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/awsproto"
	"gatehouse/internal/config"
	"gatehouse/internal/store"
)

// Namespace is the ELBv2 XML namespace.
const Namespace = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"

// APIVersion is the only Version the API accepts.
const APIVersion = "2015-12-01"

// MaxBodySize is the largest request body accepted.
const MaxBodySize = 1 << 20

// Store is the part of the state store the API uses; *store.Store satisfies it.
type Store interface {
	Get(ctx context.Context, bucket, key string) (store.Entry, error)
	Create(ctx context.Context, bucket, key string, value []byte) (uint64, error)
	Delete(ctx context.Context, bucket, key string, rev uint64) error
	List(ctx context.Context, bucket, prefix string) ([]store.Entry, error)
	Modify(ctx context.Context, bucket, key string, fn func(cur []byte) ([]byte, error)) (uint64, error)
}

var _ Store = (*store.Store)(nil)

// HealthSource reports the live health of a target group's targets: the runtime's
// view (internal/vpclink), including targets that are still draining after
// deregistration. A target it does not report is shown as "initial"
// (Elb.RegistrationInProgress).
type HealthSource interface {
	TargetHealth(targetGroupARN string) []apimodel.TargetHealthDescription
}

// Options configures New.
type Options struct {
	// Store holds the documents (bucket apimodel.BucketELB). Required.
	Store Store
	// Topology gives the Region and the VPCs and subnets of each account. Required.
	Topology *config.Topology
	// Health reports target health. Nil reports none (every target in use is "initial").
	Health HealthSource
	// CertificateExists, when set, reports whether a listener certificate ARN names a
	// certificate of gatehouse's certificate store; unknown ones are refused with
	// CertificateNotFound. Nil accepts any well-formed ACM or IAM certificate ARN.
	CertificateExists func(account, arn string) bool
	// LoadBalancerInUse, when set, reports whether a load balancer is the target of a
	// VPC link (DeleteLoadBalancer then fails with ResourceInUse). Nil checks the
	// store's vpclinks bucket.
	LoadBalancerInUse func(ctx context.Context, account, lbARN string) (bool, error)
	// Logger receives internal errors. Nil discards.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Caller is the verified identity of a request.
type Caller struct {
	Account, AccessKeyID string
}

// Server serves the ELBv2 API. It is safe for concurrent use.
type Server struct {
	store      Store
	topo       *config.Topology
	health     HealthSource
	certExists func(account, arn string) bool
	lbInUse    func(ctx context.Context, account, lbARN string) (bool, error)
	log        *slog.Logger
	now        func() time.Time
	// declared are the topology's load balancers, listeners, rules and target groups
	// (declared.go): listed with the stored ones, read-only.
	declared *declaredELB

	// mu serializes this process's writers of ELB documents of one account that
	// check cross-document invariants (unique names, listener ports, rule
	// priorities, target group associations).
	mu sync.Mutex
}

// New returns a Server.
func New(opts Options) *Server {
	s := &Server{store: opts.Store, topo: opts.Topology, health: opts.Health, certExists: opts.CertificateExists,
		lbInUse: opts.LoadBalancerInUse, log: opts.Logger, now: opts.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "elbv2api")
	if s.now == nil {
		s.now = time.Now
	}
	if s.lbInUse == nil {
		s.lbInUse = s.vpcLinkUsesLB
	}
	s.declared = newDeclaredELB(s.topo, apimodel.Epoch(s.now().UTC().Truncate(time.Millisecond)))
	return s
}

// call is one request on its way through a handler.
type call struct {
	ctx    context.Context
	caller Caller
	p      url.Values
	reqID  string
	now    time.Time
}

// apiError is an ELBv2 error: always an HTTP 400 sender fault unless status says otherwise.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func newErr(code, format string, args ...any) *apiError {
	return &apiError{http.StatusBadRequest, code, fmt.Sprintf(format, args...)}
}

// Error codes (botocore's elbv2 error codes).
const (
	codeValidation            = "ValidationError"
	codeLBNotFound            = "LoadBalancerNotFound"
	codeTGNotFound            = "TargetGroupNotFound"
	codeListenerNotFound      = "ListenerNotFound"
	codeRuleNotFound          = "RuleNotFound"
	codeSubnetNotFound        = "SubnetNotFound"
	codeInvalidSubnet         = "InvalidSubnet"
	codeInvalidConfig         = "InvalidConfigurationRequest"
	codeDuplicateLBName       = "DuplicateLoadBalancerName"
	codeDuplicateTGName       = "DuplicateTargetGroupName"
	codeDuplicateListener     = "DuplicateListener"
	codeTooManyLBs            = "TooManyLoadBalancers"
	codeTooManyTGs            = "TooManyTargetGroups"
	codeTooManyTargets        = "TooManyTargets"
	codeTooManyListeners      = "TooManyListeners"
	codeTooManyRules          = "TooManyRules"
	codeTooManyActions        = "TooManyActions"
	codeTooManyTags           = "TooManyTags"
	codeDuplicateTagKeys      = "DuplicateTagKeys"
	codeInvalidTarget         = "InvalidTarget"
	codeIncompatibleProtocols = "IncompatibleProtocols"
	codeUnsupportedProtocol   = "UnsupportedProtocol"
	codeInvalidAction         = "InvalidLoadBalancerAction"
	codeTGAssociationLimit    = "TargetGroupAssociationLimit"
	codePriorityInUse         = "PriorityInUse"
	codeResourceInUse         = "ResourceInUse"
	codeOperationNotPermitted = "OperationNotPermitted"
	codeCertificateNotFound   = "CertificateNotFound"
	codeInvalidSecurityGroup  = "InvalidSecurityGroup"
	codeUnknownAction         = "InvalidAction"
	codeMissingAction         = "MissingAction"
	codeInternalFailure       = "InternalFailure"
	codeMalformedQuery        = "MalformedQueryString"
	codeRequestEntityTooLarge = "RequestEntityTooLarge"
	codeTooManyCertificates   = "TooManyCertificates"
	codeSSLPolicyNotFound     = "SSLPolicyNotFound"
)

// validationf returns a ValidationError.
func validationf(format string, args ...any) *apiError {
	return newErr(codeValidation, format, args...)
}

// validationErrors collects coral-style constraint violations.
type validationErrors []string

func (v *validationErrors) add(format string, args ...any) {
	*v = append(*v, fmt.Sprintf(format, args...))
}

func (v *validationErrors) null(at string) {
	v.add("Value null at '%s' failed to satisfy constraint: Member must not be null", at)
}

func (v *validationErrors) enum(value, at, set string) {
	v.add("Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]", value, at, set)
}

func (v *validationErrors) rangeInt(value int, at string, lo, hi int) {
	switch {
	case value < lo:
		v.add("Value '%d' at '%s' failed to satisfy constraint: Member must have value greater than or equal to %d", value, at, lo)
	case value > hi:
		v.add("Value '%d' at '%s' failed to satisfy constraint: Member must have value less than or equal to %d", value, at, hi)
	}
}

func (v validationErrors) err() error {
	switch len(v) {
	case 0:
		return nil
	case 1:
		return validationf("1 validation error detected: %s", v[0])
	}
	return validationf("%d validation errors detected: %s", len(v), joinSemi(v))
}

func joinSemi(v []string) string {
	var b bytes.Buffer
	for i, s := range v {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(s)
	}
	return b.String()
}

// ServeELBv2 handles one ELBv2 query-protocol request whose SigV4 signature was already
// verified. body is the full (form-encoded) request body.
func (s *Server) ServeELBv2(w http.ResponseWriter, r *http.Request, caller Caller, body []byte) {
	reqID := awsproto.NewRequestID()
	w.Header().Set("X-Amzn-Requestid", reqID)
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("panic in ELBv2 handler", "requestId", reqID, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			writeError(w, &apiError{http.StatusInternalServerError, codeInternalFailure, "An internal error has occurred"}, reqID)
		}
	}()
	if len(body) > MaxBodySize {
		writeError(w, &apiError{http.StatusRequestEntityTooLarge, codeRequestEntityTooLarge,
			"Request body exceeds " + strconv.Itoa(MaxBodySize) + " bytes"}, reqID)
		return
	}
	params, err := url.ParseQuery(string(body))
	if err != nil {
		writeError(w, newErr(codeMalformedQuery, "The request body is not a valid form: %v", err), reqID)
		return
	}
	for k, v := range r.URL.Query() {
		if _, ok := params[k]; !ok {
			params[k] = v
		}
	}
	c := &call{ctx: r.Context(), caller: caller, p: params, reqID: reqID, now: s.now().UTC().Truncate(time.Millisecond)}
	action := params.Get("Action")
	if action == "" {
		writeError(w, newErr(codeMissingAction, "The request must contain the parameter Action."), reqID)
		return
	}
	if v := params.Get("Version"); v != "" && v != APIVersion {
		writeError(w, newErr(codeUnknownAction, "Could not find operation %s for version %s", action, v), reqID)
		return
	}
	h, ok := s.actions()[action]
	if !ok {
		writeError(w, newErr(codeUnknownAction, "Could not find operation %s for version %s", action, APIVersion), reqID)
		return
	}
	out, err := h(c)
	if err != nil {
		var ae *apiError
		switch {
		case errors.As(err, &ae):
		case errors.Is(err, store.ErrConflict):
			ae = &apiError{http.StatusConflict, "PriorRequestNotComplete",
				"Another request is in progress on this resource. Please try again later."}
		case errors.Is(err, context.Canceled):
			ae = &apiError{499, codeInternalFailure, "Request canceled"}
		default:
			s.log.Error("ELBv2 request failed", "requestId", reqID, "action", action, "err", err)
			ae = &apiError{http.StatusInternalServerError, codeInternalFailure, "An internal error has occurred"}
		}
		writeError(w, ae, reqID)
		return
	}
	writeResult(w, action, out, reqID)
}

type handler func(c *call) (any, error)

func (s *Server) actions() map[string]handler {
	return map[string]handler{
		"CreateLoadBalancer":    s.createLoadBalancer,
		"DescribeLoadBalancers": s.describeLoadBalancers,
		"DeleteLoadBalancer":    s.deleteLoadBalancer,
		"CreateTargetGroup":     s.createTargetGroup,
		"DescribeTargetGroups":  s.describeTargetGroups,
		"DeleteTargetGroup":     s.deleteTargetGroup,
		"RegisterTargets":       s.registerTargets,
		"DeregisterTargets":     s.deregisterTargets,
		"DescribeTargetHealth":  s.describeTargetHealth,
		"CreateListener":        s.createListener,
		"DescribeListeners":     s.describeListeners,
		"DeleteListener":        s.deleteListener,
		"CreateRule":            s.createRule,
		"DescribeRules":         s.describeRules,
		"DeleteRule":            s.deleteRule,
	}
}

// Wire envelopes.

type errorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	Error     errorXML `xml:"Error"`
	RequestID string   `xml:"RequestId"`
}

type errorXML struct {
	Type    string `xml:"Type"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

// WriteError writes a request-authentication error found before the request reached the
// Server (code is awsproto's, e.g. InvalidSignatureException) as Elastic Load
// Balancing's ErrorResponse, with the query protocol's code (SignatureDoesNotMatch, ...).
func WriteError(w http.ResponseWriter, status int, code, message, requestID string) {
	writeError(w, &apiError{status, awsproto.QueryAuthCode(code), message}, requestID)
}

func writeError(w http.ResponseWriter, e *apiError, reqID string) {
	typ := "Sender"
	if e.status >= 500 {
		typ = "Receiver"
	}
	b, _ := xml.Marshal(errorResponse{Xmlns: Namespace, Error: errorXML{Type: typ, Code: e.code, Message: e.msg}, RequestID: reqID})
	writeXML(w, e.status, b)
}

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

// writeResult renders <{action}Response><{action}Result>out</...><ResponseMetadata/></...>.
func writeResult(w http.ResponseWriter, action string, out any, reqID string) {
	var buf bytes.Buffer
	enc := xml.NewEncoder(&buf)
	resp := xml.StartElement{Name: xml.Name{Local: action + "Response"}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: Namespace}}}
	must(enc.EncodeToken(resp))
	result := xml.StartElement{Name: xml.Name{Local: action + "Result"}}
	if out == nil {
		must(enc.EncodeToken(result))
		must(enc.EncodeToken(result.End()))
	} else {
		must(enc.EncodeElement(out, result))
	}
	must(enc.EncodeElement(responseMetadata{RequestID: reqID}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}}))
	must(enc.EncodeToken(resp.End()))
	must(enc.Flush())
	writeXML(w, http.StatusOK, buf.Bytes())
}

// must panics on an encoding error: only plain structs are encoded, so it cannot happen.
func must(err error) {
	if err != nil {
		panic(err)
	}
}

func writeXML(w http.ResponseWriter, status int, body []byte) {
	out := append([]byte(xml.Header), body...)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

// Store helpers.

// load reads and decodes the document at key into v; found is false when absent.
func (s *Server) load(ctx context.Context, key string, v any) (found bool, err error) {
	e, err := s.store.Get(ctx, apimodel.BucketELB, key)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(e.Value, v); err != nil {
		return false, fmt.Errorf("decode %s: %w", key, err)
	}
	return true, nil
}

// save writes v at key unconditionally (callers hold s.mu for cross-document checks).
func (s *Server) save(ctx context.Context, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = s.store.Modify(ctx, apimodel.BucketELB, key, func([]byte) ([]byte, error) { return b, nil })
	return err
}

// listKind decodes every document of one kind ("lb", "listener", "rule", "tg") of account.
func listKind[T any](ctx context.Context, s *Server, account, kind string) ([]*T, error) {
	entries, err := s.store.List(ctx, apimodel.BucketELB, account+"."+kind+".")
	if err != nil {
		return nil, err
	}
	out := make([]*T, 0, len(entries))
	for _, e := range entries {
		v := new(T)
		if err := json.Unmarshal(e.Value, v); err != nil {
			return nil, fmt.Errorf("decode %s: %w", e.Key, err)
		}
		out = append(out, v)
	}
	return out, nil
}

// newID returns 16 random lowercase hex digits, the id part of ELB ARNs.
func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// arnPrefix is "arn:aws:elasticloadbalancing:{region}:{account}:".
func (s *Server) arnPrefix(account string) string {
	return "arn:aws:elasticloadbalancing:" + s.topo.Region + ":" + account + ":"
}

// parseARN parses an ELB ARN of kind that belongs to the caller in this Region; ok is
// false for a malformed ARN or one of another account or Region (which names nothing
// the caller can see).
func (s *Server) parseARN(c *call, arn, kind string) (apimodel.ELBARN, bool) {
	a, err := apimodel.ParseELBARN(arn)
	if err != nil || a.Kind != kind || a.Account != c.caller.Account || a.Region != s.topo.Region || !keyToken(a.ID) {
		return apimodel.ELBARN{}, false
	}
	return a, true
}

// keyToken reports whether id can be one store key token (ids in ARNs are hex; anything
// else names nothing).
func keyToken(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// isoTime renders an ELBv2 timestamp.
func isoTime(e apimodel.Epoch) string {
	return e.Time().UTC().Format("2006-01-02T15:04:05.000Z")
}

// vpcLinkUsesLB reports whether a VPC link v1 of account targets lbARN.
func (s *Server) vpcLinkUsesLB(ctx context.Context, account, lbARN string) (bool, error) {
	entries, err := s.store.List(ctx, apimodel.BucketVpcLinks, account+".")
	if err != nil {
		return false, err
	}
	for _, e := range entries {
		var rec apimodel.VpcLinkRecord
		if err := json.Unmarshal(e.Value, &rec); err != nil {
			return false, fmt.Errorf("decode vpc link %s: %w", e.Key, err)
		}
		if rec.V1 == nil || rec.V1.Status == apimodel.VpcLinkDeleting {
			continue
		}
		for _, t := range rec.V1.TargetArns {
			if t == lbARN {
				return true, nil
			}
		}
	}
	return false, nil
}
