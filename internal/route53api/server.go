// Package route53api serves the Amazon Route 53 API (REST-XML, API version
// 2013-04-01) for the operations gatehouse's DNS needs: hosted zones
// (create, get, list, list by name, delete, associate a VPC), record sets
// (ChangeResourceRecordSets with CREATE/DELETE/UPSERT as one atomic batch,
// ListResourceRecordSets), health checks (create, get, list, status,
// delete) and GetChange.
//
// Zones, records included, and health checks live in the store as
// r53.Zone and r53.HealthCheck documents (buckets r53.BucketZones and
// r53.BucketHealthChecks), where internal/dns watches them: a change is
// served within a second. A change batch is one conditional write of the
// zone document, so it applies entirely or not at all, also with
// concurrent writers.
//
// Requests arrive already authenticated (SigV4, service "route53"):
// ServeRoute53 gets the caller's account. Each account sees only its own
// zones and health checks. Errors use Route 53's XML shape:
// <ErrorResponse><Error><Type>Sender</Type><Code/><Message/></Error><RequestId/></ErrorResponse>.
package route53api

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"gatehouse/internal/awsproto"
	"gatehouse/internal/config"
	"gatehouse/internal/dns/r53"
	"gatehouse/internal/store"
)

// Namespace is Route 53's XML namespace.
const Namespace = "https://route53.amazonaws.com/doc/2013-04-01/"

// refsBucket holds caller references (zones and health checks), so that a
// reference is used once per account.
const refsBucket = "route53refs"

// Store is the part of the state store the Route 53 API uses; *store.Store
// satisfies it.
type Store interface {
	Get(ctx context.Context, bucket, key string) (store.Entry, error)
	Create(ctx context.Context, bucket, key string, value []byte) (uint64, error)
	Update(ctx context.Context, bucket, key string, value []byte, rev uint64) (uint64, error)
	Delete(ctx context.Context, bucket, key string, rev uint64) error
	List(ctx context.Context, bucket, prefix string) ([]store.Entry, error)
}

var _ Store = (*store.Store)(nil)

// Options configures New.
type Options struct {
	// Store holds zones and health checks. Required.
	Store Store
	// Topology names the Region and the VPCs zones may be associated with.
	// Required.
	Topology *config.Topology
	// HealthStatus returns the latest observation of a health check
	// (internal/dns's Server.HealthCheckStatus). Nil reports none.
	HealthStatus func(id string) (r53.HealthObservation, bool)
	// Logger receives internal errors. Nil discards.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Caller is the verified identity of a request.
type Caller struct {
	Account, AccessKeyID string
}

// Server serves the Route 53 API. It is safe for concurrent use.
type Server struct {
	store  Store
	topo   *config.Topology
	status func(string) (r53.HealthObservation, bool)
	log    *slog.Logger
	now    func() time.Time
	mux    *http.ServeMux
	locks  [64]sync.Mutex
}

// New returns a Server.
func New(opts Options) *Server {
	s := &Server{store: opts.Store, topo: opts.Topology, status: opts.HealthStatus, log: opts.Logger, now: opts.Now, mux: http.NewServeMux()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "route53api")
	if s.now == nil {
		s.now = time.Now
	}
	if s.status == nil {
		s.status = func(string) (r53.HealthObservation, bool) { return r53.HealthObservation{}, false }
	}
	s.routes()
	return s
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

type op func(c *call) (int, any, error)

func (s *Server) routes() {
	const p = "/2013-04-01/"
	handle := func(pattern string, f op) {
		s.mux.Handle(pattern, opHandler(f))
	}
	handle("POST "+p+"hostedzone", s.createHostedZone)
	handle("GET "+p+"hostedzone", s.listHostedZones)
	handle("GET "+p+"hostedzonesbyname", s.listHostedZonesByName)
	handle("GET "+p+"hostedzone/{id}", s.getHostedZone)
	handle("DELETE "+p+"hostedzone/{id}", s.deleteHostedZone)
	handle("POST "+p+"hostedzone/{id}/rrset", s.changeResourceRecordSets)
	handle("POST "+p+"hostedzone/{id}/rrset/", s.changeResourceRecordSets)
	handle("GET "+p+"hostedzone/{id}/rrset", s.listResourceRecordSets)
	handle("GET "+p+"hostedzone/{id}/rrset/", s.listResourceRecordSets)
	handle("POST "+p+"hostedzone/{id}/associatevpc", s.associateVPC)
	handle("POST "+p+"hostedzone/{id}/disassociatevpc", s.disassociateVPC)
	handle("POST "+p+"healthcheck", s.createHealthCheck)
	handle("GET "+p+"healthcheck", s.listHealthChecks)
	handle("GET "+p+"healthcheck/{id}", s.getHealthCheck)
	handle("GET "+p+"healthcheck/{id}/status", s.getHealthCheckStatus)
	handle("DELETE "+p+"healthcheck/{id}", s.deleteHealthCheck)
	handle("GET "+p+"change/{id}", s.getChange)
}

type callKey struct{}

// opHandler adapts an op to the mux; the call travels in the context.
type opHandler op

func (f opHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c := r.Context().Value(callKey{}).(*call)
	c.r = r
	status, out, err := f(c)
	if err != nil {
		writeError(w, err, c.reqID)
		return
	}
	writeXML(w, status, out)
}

// ServeRoute53 handles one Route 53 request whose SigV4 signature was
// already verified. body is the full request body.
func (s *Server) ServeRoute53(w http.ResponseWriter, r *http.Request, caller Caller, body []byte) {
	reqID := awsproto.NewRequestID()
	w.Header().Set("X-Amzn-Requestid", reqID)
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("panic in Route 53 handler", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			writeError(w, &apiError{status: http.StatusInternalServerError, code: "InternalFailure", msg: "An internal error occurred.", typ: "Receiver"}, reqID)
		}
	}()
	c := &call{ctx: r.Context(), w: w, caller: caller, body: body, reqID: reqID}
	if _, pattern := s.mux.Handler(r); pattern == "" {
		writeError(w, &apiError{status: http.StatusBadRequest, code: "InvalidAction",
			msg: fmt.Sprintf("The action %s %s is not valid for this web service.", r.Method, r.URL.Path)}, reqID)
		return
	}
	s.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callKey{}, c)))
}

// apiError is a Route 53 error.
type apiError struct {
	status int
	code   string
	msg    string
	typ    string // "Sender" (default) or "Receiver"
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func errf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

func invalidInput(format string, args ...any) *apiError {
	return errf(http.StatusBadRequest, "InvalidInput", format, args...)
}

func noSuchZone(id string) *apiError {
	return errf(http.StatusNotFound, "NoSuchHostedZone", "No hosted zone found with ID: %s", id)
}

func noSuchHealthCheck(id string) *apiError {
	return errf(http.StatusNotFound, "NoSuchHealthCheck", "A health check with id %s does not exist.", id)
}

func priorRequest() *apiError {
	return errf(http.StatusBadRequest, "PriorRequestNotComplete",
		"The request was rejected because Route 53 was still processing a prior request.")
}

type errorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	Error     errorXML `xml:"Error"`
	RequestID string   `xml:"RequestId"`
}

type errorXML struct {
	Type    string
	Code    string
	Message string
}

// WriteError writes a request-authentication error found before the request reached the
// Server (code is awsproto's, e.g. InvalidSignatureException) as Route 53's
// ErrorResponse, with the REST-XML protocol's code (SignatureDoesNotMatch, ...).
func WriteError(w http.ResponseWriter, status int, code, message, requestID string) {
	writeError(w, &apiError{status: status, code: awsproto.QueryAuthCode(code), msg: message}, requestID)
}

// writeError renders err as Route 53's ErrorResponse.
func writeError(w http.ResponseWriter, err error, reqID string) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{status: http.StatusInternalServerError, code: "InternalFailure", msg: "An internal error occurred.", typ: "Receiver"}
	}
	typ := ae.typ
	if typ == "" {
		typ = "Sender"
	}
	writeXML(w, ae.status, errorResponse{Xmlns: Namespace, Error: errorXML{Type: typ, Code: ae.code, Message: ae.msg}, RequestID: reqID})
}

// writeXML writes v as an XML document with status.
func writeXML(w http.ResponseWriter, status int, v any) {
	if v == nil {
		w.WriteHeader(status)
		return
	}
	b, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(b)
}

// decode parses the request body as XML into v; the root element's name
// must be root.
func (c *call) decode(root string, v any) error {
	if len(c.body) == 0 {
		return invalidInput("Invalid XML ; the request body is empty; expected a %s document", root)
	}
	if err := xml.Unmarshal(c.body, v); err != nil {
		return invalidInput("Invalid XML ; %s", strings.TrimPrefix(err.Error(), "xml: "))
	}
	return nil
}

// storeErr maps a store failure to a Route 53 error.
func (s *Server) storeErr(op string, err error) error {
	switch {
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrExists):
		return priorRequest()
	case errors.Is(err, store.ErrTooLarge):
		return errf(http.StatusBadRequest, "InvalidChangeBatch", "[The hosted zone is too large.]")
	}
	s.log.Error("store failure", "op", op, "err", err)
	return &apiError{status: http.StatusInternalServerError, code: "InternalFailure", msg: "An internal error occurred.", typ: "Receiver"}
}

// newID returns a random id of n characters of [A-Z2-7].
func newID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base32.StdEncoding.EncodeToString(b)[:n]
}

// newChangeID returns a change id that carries its submission time, so
// GetChange needs no storage: "C" followed by base32 of the time in
// milliseconds and four random bytes.
func (s *Server) newChangeID() (string, time.Time) {
	now := s.now().UTC().Truncate(time.Millisecond)
	var b [12]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli()))
	_, _ = rand.Read(b[8:])
	return "C" + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]), now
}

// changeTime decodes a change id's submission time.
func changeTime(id string) (time.Time, bool) {
	rest, ok := strings.CutPrefix(id, "C")
	if !ok {
		return time.Time{}, false
	}
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(rest)
	if err != nil || len(b) != 12 {
		return time.Time{}, false
	}
	return time.UnixMilli(int64(binary.BigEndian.Uint64(b[:8]))).UTC(), true
}

// syncDelay is how long after submission a change reports INSYNC: the DNS
// servers apply store changes well within it.
const syncDelay = time.Second

type changeInfoXML struct {
	ID          string `xml:"Id"`
	Status      string
	SubmittedAt string
	Comment     string `xml:",omitempty"`
}

func (s *Server) changeInfo(comment string) changeInfoXML {
	id, at := s.newChangeID()
	return changeInfoXML{ID: "/change/" + id, Status: "PENDING", SubmittedAt: timestamp(at), Comment: comment}
}

func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

type getChangeResponse struct {
	XMLName    xml.Name      `xml:"GetChangeResponse"`
	Xmlns      string        `xml:"xmlns,attr"`
	ChangeInfo changeInfoXML `xml:"ChangeInfo"`
}

func (s *Server) getChange(c *call) (int, any, error) {
	id := strings.TrimPrefix(c.r.PathValue("id"), "/change/")
	at, ok := changeTime(id)
	if !ok {
		return 0, nil, errf(http.StatusNotFound, "NoSuchChange", "A change with the specified change ID does not exist: %s", id)
	}
	status := "INSYNC"
	if s.now().Sub(at) < syncDelay {
		status = "PENDING"
	}
	return http.StatusOK, getChangeResponse{Xmlns: Namespace, ChangeInfo: changeInfoXML{ID: "/change/" + id, Status: status, SubmittedAt: timestamp(at)}}, nil
}

// zoneIDParam returns the hosted zone id of the request path, without a
// "/hostedzone/" prefix.
func zoneIDParam(c *call) string {
	id := c.r.PathValue("id")
	id = strings.TrimPrefix(id, "/hostedzone/")
	return strings.TrimPrefix(id, "hostedzone/")
}
