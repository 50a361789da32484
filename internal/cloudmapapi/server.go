// Package cloudmapapi serves the AWS Cloud Map (servicediscovery, awsJson1.1,
// target prefix Route53AutoNaming_v20170314) operations private integrations
// need: private DNS and HTTP namespaces, services, instance registration with
// attributes, DiscoverInstances (QueryParameters and OptionalParameters
// filtering, HealthStatus), custom health status, and GetOperation for the
// asynchronous calls.
//
// Requests arrive already authenticated (SigV4, service "servicediscovery");
// ServeCloudMap gets the caller's account, and each account sees only its own
// namespaces. DiscoverInstances is served by the same entry point: AWS sends it
// to the data-servicediscovery host (the SDKs prepend "data-" to the endpoint
// host), so that name must reach gatehouse too, or clients must disable host
// prefixing.
//
// Documents are apimodel's (network.go) in bucket apimodel.BucketCloudMap, where
// the vpclink runtime reads them to resolve Cloud Map integration URIs
// (arn:aws:servicediscovery:...:service/srv-...?stage=prod filters instances by
// attributes the way DiscoverInstances' QueryParameters does: Discover exposes
// that filter). Operations complete synchronously: the OperationId that
// CreatePrivateDnsNamespace, RegisterInstance and the like return names an
// operation already in status SUCCESS (bucket OperationsBucket).
//
// Errors are awsJson1.1 errors: HTTP 400 with {"__type": Code, "Message": ...}
// and the x-amzn-ErrorType header.
package cloudmapapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/awsproto"
	"gatehouse/internal/config"
	"gatehouse/internal/store"
)

// TargetPrefix is the X-Amz-Target prefix of Cloud Map operations.
const TargetPrefix = "Route53AutoNaming_v20170314."

// OperationsBucket holds the asynchronous operations GetOperation reports, under
// {account}.{operationId}.
const OperationsBucket = "cloudmapops"

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

// Options configures New.
type Options struct {
	// Store holds the documents. Required.
	Store Store
	// Topology gives the Region and the VPCs of each account. Required.
	Topology *config.Topology
	// Logger receives internal errors. Nil discards.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Caller is the verified identity of a request.
type Caller struct {
	Account, AccessKeyID string
}

// Server serves the Cloud Map API. It is safe for concurrent use.
type Server struct {
	store Store
	topo  *config.Topology
	log   *slog.Logger
	now   func() time.Time

	// mu serializes this process's writers that check cross-document invariants
	// (unique namespace and service names, deleting only empty containers).
	mu sync.Mutex
}

// New returns a Server.
func New(opts Options) *Server {
	s := &Server{store: opts.Store, topo: opts.Topology, log: opts.Logger, now: opts.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "cloudmapapi")
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

type call struct {
	ctx    context.Context
	caller Caller
	body   []byte
	reqID  string
	now    apimodel.Epoch
}

// apiError is a Cloud Map error (always HTTP 400 unless status says otherwise).
type apiError struct {
	status int
	code   string
	msg    string
	extra  map[string]string // additional members (NamespaceId, ServiceId, ...)
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func newErr(code, format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, msg: fmt.Sprintf(format, args...)}
}

func invalidInput(format string, args ...any) *apiError {
	return newErr("InvalidInput", format, args...)
}

// ServeCloudMap handles one servicediscovery request whose SigV4 signature was already
// verified. body is the full request body.
func (s *Server) ServeCloudMap(w http.ResponseWriter, r *http.Request, caller Caller, body []byte) {
	reqID := awsproto.NewRequestID()
	w.Header().Set("X-Amzn-Requestid", reqID)
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("panic in Cloud Map handler", "requestId", reqID, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			writeError(w, &apiError{status: http.StatusInternalServerError, code: "InternalFailure", msg: "An internal error occurred"})
		}
	}()
	if len(body) > MaxBodySize {
		writeError(w, &apiError{status: http.StatusRequestEntityTooLarge, code: "RequestEntityTooLarge", msg: "Request body too large"})
		return
	}
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, TargetPrefix)
	h := s.operations()[op]
	if !ok || h == nil {
		writeError(w, &apiError{status: http.StatusBadRequest, code: "UnknownOperationException",
			msg: "Operation " + strconv.Quote(target) + " is not supported"})
		return
	}
	c := &call{ctx: r.Context(), caller: caller, body: body, reqID: reqID,
		now: apimodel.Epoch(s.now().UTC().Truncate(time.Millisecond))}
	out, err := h(c)
	if err != nil {
		var ae *apiError
		switch {
		case errors.As(err, &ae):
		case errors.Is(err, store.ErrConflict):
			ae = newErr("DuplicateRequest", "Another request is modifying this resource; try again")
		case errors.Is(err, context.Canceled):
			ae = &apiError{status: 499, code: "InternalFailure", msg: "Request canceled"}
		default:
			s.log.Error("Cloud Map request failed", "requestId", reqID, "operation", op, "err", err)
			ae = &apiError{status: http.StatusInternalServerError, code: "InternalFailure", msg: "An internal error occurred"}
		}
		writeError(w, ae)
		return
	}
	if out == nil {
		out = struct{}{}
	}
	writeJSON(w, http.StatusOK, out)
}

type handler func(c *call) (any, error)

func (s *Server) operations() map[string]handler {
	return map[string]handler{
		"CreatePrivateDnsNamespace":        s.createPrivateDNSNamespace,
		"CreateHttpNamespace":              s.createHTTPNamespace,
		"GetNamespace":                     s.getNamespace,
		"ListNamespaces":                   s.listNamespaces,
		"DeleteNamespace":                  s.deleteNamespace,
		"GetOperation":                     s.getOperation,
		"CreateService":                    s.createService,
		"GetService":                       s.getService,
		"ListServices":                     s.listServices,
		"DeleteService":                    s.deleteService,
		"RegisterInstance":                 s.registerInstance,
		"DeregisterInstance":               s.deregisterInstance,
		"GetInstance":                      s.getInstance,
		"ListInstances":                    s.listInstances,
		"DiscoverInstances":                s.discoverInstances,
		"GetInstancesHealthStatus":         s.getInstancesHealthStatus,
		"UpdateInstanceCustomHealthStatus": s.updateInstanceCustomHealthStatus,
	}
}

// WriteError writes a request-authentication error found before the request reached the
// Server (code is awsproto's, e.g. UnrecognizedClientException) as an awsJson1.1 error,
// whose code SDKs read from the body's __type.
func WriteError(w http.ResponseWriter, status int, code, message, requestID string) {
	if requestID != "" {
		w.Header().Set("X-Amzn-Requestid", requestID)
	}
	writeError(w, &apiError{status: status, code: code, msg: message})
}

func writeError(w http.ResponseWriter, e *apiError) {
	body := map[string]string{"__type": e.code, "Message": e.msg}
	for k, v := range e.extra {
		body[k] = v
	}
	w.Header().Set("X-Amzn-Errortype", e.code)
	writeJSON(w, e.status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // only plain data is encoded
		panic(err)
	}
	b := bytes.TrimRight(buf.Bytes(), "\n")
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// decode reads the JSON request body into v; malformed JSON is a SerializationException.
func decode(c *call, v any) error {
	b := bytes.TrimSpace(c.body)
	if len(b) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return newErr("SerializationException", "Could not parse the request body: %v", err)
	}
	return nil
}

type idInput struct {
	ID *string `json:"Id"`
}

// decodeID reads a request whose only parameter is a required Id.
func decodeID(c *call) (string, error) {
	var in idInput
	if err := decode(c, &in); err != nil {
		return "", err
	}
	if in.ID == nil {
		return "", invalidInput("Id is required")
	}
	return *in.ID, nil
}

// Store helpers.

func (s *Server) loadDoc(ctx context.Context, bucket, key string, v any) (rev uint64, found bool, err error) {
	e, err := s.store.Get(ctx, bucket, key)
	if errors.Is(err, store.ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	if err := json.Unmarshal(e.Value, v); err != nil {
		return 0, false, fmt.Errorf("decode %s/%s: %w", bucket, key, err)
	}
	return e.Revision, true, nil
}

func (s *Server) saveDoc(ctx context.Context, bucket, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = s.store.Modify(ctx, bucket, key, func([]byte) ([]byte, error) { return b, nil })
	return err
}

// listDocs decodes the documents under prefix, with their revisions.
func listDocs[T any](ctx context.Context, s *Server, bucket, prefix string) ([]*T, []uint64, error) {
	entries, err := s.store.List(ctx, bucket, prefix)
	if err != nil {
		return nil, nil, err
	}
	out := make([]*T, 0, len(entries))
	revs := make([]uint64, 0, len(entries))
	for _, e := range entries {
		v := new(T)
		if err := json.Unmarshal(e.Value, v); err != nil {
			return nil, nil, fmt.Errorf("decode %s/%s: %w", bucket, e.Key, err)
		}
		out = append(out, v)
		revs = append(revs, e.Revision)
	}
	return out, revs, nil
}

// loadByID returns the caller's document of kind with id (or ARN), stored under
// key(account, id); a missing one is the error code with message
// fmt.Sprintf(notFound, idOrARN).
func loadByID[T any](c *call, s *Server, idOrARN, kind string, key func(account, id string) string, code, notFound string) (*T, error) {
	id, ok := s.resolveID(c, idOrARN, kind)
	var doc T
	if ok && validKeyToken(id) {
		_, found, err := s.loadDoc(c.ctx, apimodel.BucketCloudMap, key(c.caller.Account, id), &doc)
		if err != nil {
			return nil, err
		}
		if found {
			return &doc, nil
		}
	}
	return nil, newErr(code, notFound, idOrARN)
}

const idChars = "abcdefghijklmnopqrstuvwxyz0123456789"

// randomID returns n characters of [a-z0-9].
func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = idChars[int(b[i])%len(idChars)]
	}
	return string(b)
}

// arn returns arn:aws:servicediscovery:{region}:{account}:{kind}/{id}.
func (s *Server) arn(account, kind, id string) string {
	return "arn:aws:servicediscovery:" + s.topo.Region + ":" + account + ":" + kind + "/" + id
}

// resolveID turns an Id-or-ARN parameter into the caller's id of kind; ok is false for
// an ARN of another account, Region or kind.
func (s *Server) resolveID(c *call, idOrARN, kind string) (string, bool) {
	if !strings.HasPrefix(idOrARN, "arn:") {
		return idOrARN, true
	}
	a, err := apimodel.ParseCloudMapARN(idOrARN)
	if err != nil || a.Kind != kind || a.Account != c.caller.Account || a.Region != s.topo.Region {
		return "", false
	}
	return a.ID, true
}

// Operations.

// Operation is Cloud Map's Operation plus the owning account.
type Operation struct {
	Account      string            `json:"account"`
	ID           string            `json:"Id"`
	OwnerAccount string            `json:"OwnerAccount"`
	Type         string            `json:"Type"`
	Status       string            `json:"Status"`
	ErrorMessage string            `json:"ErrorMessage,omitempty"`
	ErrorCode    string            `json:"ErrorCode,omitempty"`
	CreateDate   apimodel.Epoch    `json:"CreateDate"`
	UpdateDate   apimodel.Epoch    `json:"UpdateDate"`
	Targets      map[string]string `json:"Targets"`
}

// recordOperation stores a completed operation and returns its id.
func (s *Server) recordOperation(c *call, typ string, targets map[string]string) (string, error) {
	id := randomID(32) + "-" + randomID(8)
	op := Operation{Account: c.caller.Account, ID: id, OwnerAccount: c.caller.Account, Type: typ, Status: "SUCCESS",
		CreateDate: c.now, UpdateDate: c.now, Targets: targets}
	b, err := json.Marshal(op)
	if err != nil {
		return "", err
	}
	if _, err := s.store.Create(c.ctx, OperationsBucket, c.caller.Account+"."+id, b); err != nil {
		return "", err
	}
	return id, nil
}

type operationIDOutput struct {
	OperationID string `json:"OperationId"`
}

// operationResult records a completed operation and answers with its OperationId.
func (s *Server) operationResult(c *call, typ string, targets map[string]string) (any, error) {
	id, err := s.recordOperation(c, typ, targets)
	if err != nil {
		return nil, err
	}
	return operationIDOutput{OperationID: id}, nil
}

func (s *Server) getOperation(c *call) (any, error) {
	var in struct {
		OperationID  *string `json:"OperationId"`
		OwnerAccount string  `json:"OwnerAccount"`
	}
	if err := decode(c, &in); err != nil {
		return nil, err
	}
	if in.OperationID == nil {
		return nil, invalidInput("OperationId is required")
	}
	var op Operation
	found := false
	if validKeyToken(*in.OperationID) {
		var err error
		if _, found, err = s.loadDoc(c.ctx, OperationsBucket, c.caller.Account+"."+*in.OperationID, &op); err != nil {
			return nil, err
		}
	}
	if !found {
		return nil, newErr("OperationNotFound", "No operation found with ID %s", *in.OperationID)
	}
	return map[string]any{"Operation": op}, nil
}

// validKeyToken reports whether s can be one store key token.
func validKeyToken(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// page applies NextToken (an index) and MaxResults (1..max, default def) to n items.
func page(next *string, maxResults *int, n, def, maxAllowed int) (start, end int, token *string, err error) {
	if next != nil && *next != "" {
		start, err = strconv.Atoi(*next)
		if err != nil || start < 0 || start > n {
			return 0, 0, nil, invalidInput("The NextToken %q is not valid", *next)
		}
	}
	size := def
	if maxResults != nil {
		if *maxResults < 1 || *maxResults > maxAllowed {
			return 0, 0, nil, invalidInput("MaxResults must be between 1 and %d", maxAllowed)
		}
		size = *maxResults
	}
	end = min(start+size, n)
	if end < n {
		t := strconv.Itoa(end)
		token = &t
	}
	return start, end, token, nil
}

// pageOf applies NextToken and MaxResults (1..100, default 100) to items and returns
// the page with the token of the next one.
func pageOf[T any](items []T, next *string, maxResults *int) ([]T, *string, error) {
	start, end, token, err := page(next, maxResults, len(items), 100, 100)
	if err != nil {
		return nil, nil, err
	}
	return items[start:end], token, nil
}

// filterPage sorts items by id, keeps those every filter of in matches (see
// selectMatching) and returns the page in asks for with the next page's token.
func filterPage[T any](items []*T, id func(*T) string, in *listInput, value func(*T, *filter) (string, error)) ([]*T, *string, error) {
	sort.Slice(items, func(i, j int) bool { return id(items[i]) < id(items[j]) })
	sel, err := selectMatching(items, in.Filters, value)
	if err != nil {
		return nil, nil, err
	}
	return pageOf(sel, in.NextToken, in.MaxResults)
}

// selectMatching returns the items that every filter matches, in order. value gives
// the item's field a filter tests, or an error for a filter the operation does not
// support; every filter is checked against every item, so such errors are not hidden
// by an earlier mismatch.
func selectMatching[T any](items []*T, filters []filter, value func(*T, *filter) (string, error)) ([]*T, error) {
	var sel []*T
	for _, it := range items {
		ok := true
		for i := range filters {
			f := &filters[i]
			v, err := value(it, f)
			if err != nil {
				return nil, err
			}
			m, err := f.match(v)
			if err != nil {
				return nil, err
			}
			ok = ok && m
		}
		if ok {
			sel = append(sel, it)
		}
	}
	return sel, nil
}
