package lambdaapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"gatehouse/internal/awsproto"
	"gatehouse/internal/function"
	"gatehouse/internal/policy"
	"gatehouse/internal/store"
)

// MaxRequestSize is the largest request the Lambda API accepts: a 50 MB
// zip, base64-encoded in JSON (AWS: "Request must be smaller than 70167211
// bytes for the CreateFunction operation").
const MaxRequestSize = 70167211

// Store is the part of the state store the Lambda API uses. *store.Store
// satisfies it.
type Store interface {
	Get(ctx context.Context, bucket, key string) (store.Entry, error)
	Create(ctx context.Context, bucket, key string, value []byte) (uint64, error)
	Delete(ctx context.Context, bucket, key string, rev uint64) error
	List(ctx context.Context, bucket, prefix string) ([]store.Entry, error)
	ModifyExisting(ctx context.Context, bucket, key string, fn func(cur []byte) ([]byte, error)) (uint64, error)
	Watch(ctx context.Context, bucket string) (<-chan store.Event, error)
}

var _ Store = (*store.Store)(nil)

// Options configure New.
type Options struct {
	// Store holds the functions (bucket function.Bucket). Required.
	Store Store
	// Host runs the functions; the server keeps it current with its own
	// writes and with Sync. Required.
	Host *function.Host
	// DataDir holds unpacked code under {DataDir}/functions/code/{name}/{sha256}/.
	// Required.
	DataDir string
	// Region is the Region of function ARNs. Default us-east-1.
	Region string
	// Topology are the topology file's functions: listed and invocable
	// through the API, read-only, and always invocable by API Gateway APIs of
	// their own account.
	Topology []function.Function
	// VPCOf resolves a VpcConfig's subnets to the VPC they are in (id, CIDR,
	// resolver). Nil records the subnets and security groups only.
	VPCOf func(account string, subnetIDs []string) (*function.VPC, error)
	// Logger receives internal errors. Nil discards.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Caller is the verified identity of a request: the account its access key
// belongs to.
type Caller struct {
	Account, AccessKeyID string
}

// Server serves the Lambda control plane subset and answers AllowsInvoke. It
// is safe for concurrent use.
type Server struct {
	store   Store
	host    *function.Host
	dataDir string
	region  string
	topo    map[string]function.Function // by StoreKey
	vpcOf   func(string, []string) (*function.VPC, error)
	log     *slog.Logger
	now     func() time.Time
	mux     *http.ServeMux

	// mu guards policies.
	mu       sync.RWMutex
	policies map[string]policyEntry // by StoreKey

	synced     chan struct{} // closed after Sync's first snapshot
	syncedOnce sync.Once

	bg       context.Context // cancelled by Close: asynchronous invocations
	cancel   context.CancelFunc
	async    sync.WaitGroup
	asyncSem chan struct{}
}

// policyEntry is a function's compiled resource policy at a store revision.
type policyEntry struct {
	rev    uint64
	policy *policy.Policy // nil: no statements
}

// New returns a Server.
func New(opts Options) (*Server, error) {
	if opts.Store == nil || opts.Host == nil || opts.DataDir == "" {
		return nil, errors.New("lambdaapi: Store, Host and DataDir are required")
	}
	s := &Server{
		store:    opts.Store,
		host:     opts.Host,
		dataDir:  opts.DataDir,
		region:   opts.Region,
		topo:     map[string]function.Function{},
		vpcOf:    opts.VPCOf,
		log:      opts.Logger,
		now:      opts.Now,
		mux:      http.NewServeMux(),
		policies: map[string]policyEntry{},
		asyncSem: make(chan struct{}, 1024),
		synced:   make(chan struct{}),
	}
	if s.region == "" {
		s.region = "us-east-1"
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "lambdaapi")
	if s.now == nil {
		s.now = time.Now
	}
	for _, fn := range opts.Topology {
		if fn.Region == "" {
			fn.Region = s.region
		}
		s.topo[function.StoreKey(fn.Account, fn.Name)] = fn
	}
	s.bg, s.cancel = context.WithCancel(context.Background())
	s.routes()
	return s, nil
}

// Close cancels asynchronous (Event) invocations still queued or running and
// waits for them.
func (s *Server) Close() error {
	s.cancel()
	s.async.Wait()
	return nil
}

// call is one request on its way through a handler.
type call struct {
	ctx    context.Context
	r      *http.Request
	w      http.ResponseWriter
	caller Caller
	body   []byte
	reqID  string
}

type callKey struct{}

// handler is an operation: it writes its own success response, or returns
// an error that writeError renders.
type handler func(c *call) error

func (s *Server) routes() {
	const f = "/2015-03-31/functions"
	s.handle("POST "+f, s.createFunction)
	s.handle("POST "+f+"/{$}", s.createFunction)
	s.handle("GET "+f, s.listFunctions)
	s.handle("GET "+f+"/{$}", s.listFunctions)
	s.handle("GET "+f+"/{name}", s.getFunction)
	s.handle("DELETE "+f+"/{name}", s.deleteFunction)
	s.handle("GET "+f+"/{name}/configuration", s.getFunctionConfiguration)
	s.handle("PUT "+f+"/{name}/configuration", s.updateFunctionConfiguration)
	s.handle("PUT "+f+"/{name}/code", s.updateFunctionCode)
	s.handle("POST "+f+"/{name}/invocations", s.invoke)
	s.handle("POST "+f+"/{name}/policy", s.addPermission)
	s.handle("GET "+f+"/{name}/policy", s.getPolicy)
	s.handle("DELETE "+f+"/{name}/policy/{sid}", s.removePermission)
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Context().Value(callKey{}).(*call)
		id := ""
		if c != nil {
			id = c.reqID
		}
		writeError(w, &apiError{Status: http.StatusNotFound, Code: "UnknownOperationException",
			Message: "Unknown operation " + r.Method + " " + r.URL.Path}, id)
	})
}

func (s *Server) handle(pattern string, h handler) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Context().Value(callKey{}).(*call)
		if c == nil {
			c = &call{reqID: awsproto.NewRequestID()}
		}
		c.ctx, c.r, c.w = r.Context(), r, w
		if err := h(c); err != nil {
			var ae *apiError
			if !errors.As(err, &ae) {
				var pe *awsproto.Error
				if errors.As(err, &pe) {
					ae = &apiError{Status: pe.Status, Code: pe.Code, Message: pe.Message}
				} else {
					s.log.Error("internal error", "method", r.Method, "path", r.URL.Path, "requestId", c.reqID, "err", err)
					ae = &apiError{Status: http.StatusInternalServerError, Code: codeService, Message: "An internal error occurred."}
				}
			}
			writeError(w, ae, c.reqID)
		}
	})
}

// ServeLambda handles one Lambda API request whose SigV4 signature (service
// "lambda") was already verified. body is the full request body.
func (s *Server) ServeLambda(w http.ResponseWriter, r *http.Request, caller Caller, body []byte) {
	reqID := awsproto.NewRequestID()
	w.Header().Set("X-Amzn-Requestid", reqID)
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("panic in lambda handler", "method", r.Method, "path", r.URL.Path,
				"requestId", reqID, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			writeError(w, &apiError{Status: http.StatusInternalServerError, Code: codeService, Message: "An internal error occurred."}, reqID)
		}
	}()
	if len(body) > MaxRequestSize {
		writeError(w, errRequestTooLarge(r), reqID)
		return
	}
	c := &call{caller: caller, body: body, reqID: reqID}
	s.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callKey{}, c)))
}

// Lambda error codes.
const (
	codeResourceNotFound    = "ResourceNotFoundException"
	codeResourceConflict    = "ResourceConflictException"
	codeInvalidParameter    = "InvalidParameterValueException"
	codeValidation          = "ValidationException"
	codeInvalidContent      = "InvalidRequestContentException"
	codeService             = "ServiceException"
	codePreconditionFailed  = "PreconditionFailedException"
	codeRequestTooLarge     = "RequestTooLargeException"
	codeEntityTooLarge      = "RequestEntityTooLargeException"
	codePolicyLength        = "PolicyLengthExceededException"
	codeAccessDenied        = "AccessDeniedException"
	codeTooManyRequests     = "TooManyRequestsException"
	msgFunctionNotFoundFmt  = "Function not found: %s"
	msgPolicyNotFound       = "The resource you requested does not exist."
	msgRevisionMismatch     = "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
	msgSidExists            = "The statement id (sid) provided already exists. Please specify a new statement id, or remove the existing statement."
	msgUnzip                = "Could not unzip uploaded file. Please check your file, then try to upload again."
	msgReservedEnvFmt       = "Lambda was unable to configure your environment variables because the environment variables you have provided contains reserved keys that are currently not supported for modification. Reserved keys used in this request: %s"
	msgEnvTooLargeFmt       = "Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: %s"
	msgTopologyFunctionFmt  = "Function %s is defined in gatehouse's topology file and cannot be changed through the API."
	maxEnvironmentBytes     = 4096
	maxPolicyBytes          = 20480
	maxAsyncPayload         = 1 << 20
	defaultListMaxItems     = 50
	maxListMaxItems         = 10000
	lastModifiedTimeFormat  = "2006-01-02T15:04:05.000-0700"
	invocationTypeEvent     = "Event"
	invocationTypeDryRun    = "DryRun"
	invocationTypeSync      = "RequestResponse"
	apigatewayPrincipal     = "apigateway.amazonaws.com"
	invokeAction            = "lambda:InvokeFunction"
	throttleReasonReserved  = function.ThrottleReason
	unsupportedRuntimeFmt   = "The runtime parameter of %s is not supported by gatehouse. Supported runtimes: provided.al2023, provided.al2, go1.x, python3.x."
	unsupportedCodeSource   = "gatehouse accepts function code as ZipFile only (S3 and container images are not supported)."
	missingCodeMessage      = "Please provide a source for function code."
	handlerRequiredFmt      = "Handler is required for runtime %s."
	unzippedTooLargeMessage = "Unzipped size must be smaller than 262144000 bytes"
)

// apiError is a Lambda API error: status, x-amzn-ErrorType and message; Reason
// is added for throttling errors.
type apiError struct {
	Status  int
	Code    string
	Message string
	Reason  string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func errNotFound(arn string) *apiError {
	return &apiError{Status: http.StatusNotFound, Code: codeResourceNotFound, Message: fmt.Sprintf(msgFunctionNotFoundFmt, arn)}
}

func errInvalid(format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: codeInvalidParameter, Message: fmt.Sprintf(format, args...)}
}

// errValidation is AWS's model-validation error, e.g. "1 validation error
// detected: Value '0' at 'timeout' failed to satisfy constraint: Member must
// have value greater than or equal to 1".
func errValidation(value, field, constraint string) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: codeValidation,
		Message: fmt.Sprintf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s", value, field, constraint)}
}

func errRequestTooLarge(r *http.Request) *apiError {
	op := "CreateFunction"
	if strings.HasSuffix(r.URL.Path, "/code") {
		op = "UpdateFunctionCode"
	}
	return &apiError{Status: http.StatusRequestEntityTooLarge, Code: codeEntityTooLarge,
		Message: fmt.Sprintf("Request must be smaller than %d bytes for the %s operation", MaxRequestSize, op)}
}

// writeError writes a Lambda REST-JSON error: x-amzn-ErrorType, and the body
// {"Type":"User","message":...} (plus "Reason" for throttling), which the
// SDKs read.
func writeError(w http.ResponseWriter, e *apiError, reqID string) {
	typ := "User"
	if e.Status >= 500 {
		typ = "Service"
	}
	var b bytes.Buffer
	b.WriteString(`{"Type":"` + typ + `",`)
	if e.Reason != "" {
		b.WriteString(`"Reason":`)
		writeJSONString(&b, e.Reason)
		b.WriteByte(',')
	}
	b.WriteString(`"message":`)
	writeJSONString(&b, e.Message)
	b.WriteByte('}')
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Amzn-Errortype", e.Code)
	if reqID != "" {
		h.Set("X-Amzn-Requestid", reqID)
	}
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(e.Status)
	_, _ = w.Write(b.Bytes())
}

func writeJSONString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	b.Truncate(b.Len() - 1)
}

// writeJSON writes a success response.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
	return nil
}

// decode reads the JSON body into v; an empty body is an empty object.
func decode(c *call, v any) error {
	body := bytes.TrimSpace(c.body)
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return &apiError{Status: http.StatusBadRequest, Code: codeInvalidContent,
			Message: "Could not parse request body into json: " + err.Error()}
	}
	return nil
}

// Sync keeps the server's view of stored functions (the resource policies
// AllowsInvoke evaluates) and the Host's functions current with the store
// until ctx ends, re-watching when a watch ends early. Writes made through
// this server are visible at once; Sync brings in other nodes' writes.
func (s *Server) Sync(ctx context.Context) error {
	for {
		ch, err := s.store.Watch(ctx, function.Bucket)
		if err == nil {
			seen := map[string]bool{}
			initial := true
			for ev := range ch {
				switch {
				case ev.InitialDone:
					initial = false
					s.dropUnseen(seen)
					s.syncedOnce.Do(func() { close(s.synced) })
				case ev.Deleted:
					account, name, ok := strings.Cut(ev.Key, "/")
					if ok {
						s.forget(account, name, ev.Revision)
					}
				default:
					rec, err := decodeRecord(ev.Value)
					if err != nil {
						s.log.Error("bad stored function", "key", ev.Key, "err", err)
						continue
					}
					if initial {
						seen[ev.Key] = true
					}
					s.learn(rec, ev.Revision)
				}
			}
		} else {
			s.log.Warn("watch functions", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// Synced is closed once Sync has loaded the stored functions for the first
// time; until then AllowsInvoke knows only this server's own writes, so the
// app should wait for it before the data plane serves.
func (s *Server) Synced() <-chan struct{} { return s.synced }

// learn records a stored function at rev: its policy, and the Host's copy.
func (s *Server) learn(rec *record, rev uint64) {
	key := function.StoreKey(rec.Account, rec.Name)
	s.mu.Lock()
	if cur, ok := s.policies[key]; ok && cur.rev > rev {
		s.mu.Unlock()
		return
	}
	s.policies[key] = policyEntry{rev: rev, policy: rec.compiledPolicy(s.log)}
	s.mu.Unlock()
	if err := s.host.Put(rec.Function, rev); err != nil {
		s.log.Error("function not loaded into the host", "function", rec.Name, "err", err)
	}
}

// forget drops a deleted function.
func (s *Server) forget(account, name string, rev uint64) {
	key := function.StoreKey(account, name)
	s.mu.Lock()
	if cur, ok := s.policies[key]; ok && cur.rev <= rev {
		delete(s.policies, key)
	}
	s.mu.Unlock()
	s.host.Remove(account, name, rev)
}

func (s *Server) dropUnseen(seen map[string]bool) {
	s.mu.Lock()
	var gone []string
	for key := range s.policies {
		if !seen[key] {
			gone = append(gone, key)
		}
	}
	s.mu.Unlock()
	for _, key := range gone {
		account, name, _ := strings.Cut(key, "/")
		s.mu.RLock()
		rev := s.policies[key].rev
		s.mu.RUnlock()
		s.forget(account, name, rev)
	}
}
