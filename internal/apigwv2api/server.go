// Package apigwv2api serves the VPC link operations of the API Gateway v2 API
// (apigatewayv2 2018-11-29, REST-JSON, camelCase members): CreateVpcLink with
// subnets and security groups, GetVpcLink, GetVpcLinks, UpdateVpcLink (name)
// and DeleteVpcLink. HTTP APIs use these links, and REST APIs too (with an
// integration's integrationTarget).
//
// Requests are signed for SigV4 service "apigateway", like the v1 API: the
// app tells them apart by path, every v2 operation's path starting with /v2/.
// ServeAPIGatewayV2 gets the caller's account; each account sees only its own
// links.
//
// Links are apimodel.VpcLinkRecord documents (Version V2) in bucket
// apimodel.BucketVpcLinks, sharing one id space per account with v1 links.
// Lifecycle (the same as the control plane's v1 links): CreateVpcLink stores
// the link PENDING; it is settled when next read: Options.Check decides
// (AVAILABLE, FAILED or still PENDING), or, without a check, it becomes
// AVAILABLE. DeleteVpcLink marks it DELETING and it is removed when read
// Options.DeleteDelay later.
package apigwv2api

import (
	"context"
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
	"gatehouse/internal/vpclinkstore"
)

const (
	// MaxBodySize is the largest request body accepted.
	MaxBodySize          = 1 << 20
	maxVpcLinks          = 10
	maxSubnets           = 10
	maxNameLen           = 128
	defaultDeleteDelay   = 2 * time.Second
	defaultMaxResults    = 100
	codeUnknownOperation = "UnknownOperationException"
)

// Store is the part of the state store the API uses (the VPC link records);
// *store.Store satisfies it.
type Store = vpclinkstore.Store

// Options configures New.
type Options struct {
	// Store holds the links. Required.
	Store Store
	// Topology gives the VPCs and subnets of each account. Required.
	Topology *config.Topology
	// Check decides the status of a PENDING link: AVAILABLE, FAILED (with a message) or
	// PENDING. Nil makes a link AVAILABLE when it is next read.
	Check func(ctx context.Context, link *apimodel.VpcLinkRecord) (status, message string)
	// DeleteDelay is how long a deleted link stays DELETING. Default 2 s.
	DeleteDelay time.Duration
	// Logger receives internal errors. Nil discards.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Caller is the verified identity of a request.
type Caller struct {
	Account, AccessKeyID string
}

// Server serves the v2 VPC link API. It is safe for concurrent use.
type Server struct {
	store       Store
	topo        *config.Topology
	check       func(ctx context.Context, link *apimodel.VpcLinkRecord) (string, string)
	deleteDelay time.Duration
	log         *slog.Logger
	now         func() time.Time
	mux         *http.ServeMux

	// mu serializes this process's link creations (the per-account quota check).
	mu sync.Mutex
}

// New returns a Server.
func New(opts Options) *Server {
	s := &Server{store: opts.Store, topo: opts.Topology, check: opts.Check, deleteDelay: opts.DeleteDelay,
		log: opts.Logger, now: opts.Now, mux: http.NewServeMux()}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "apigwv2api")
	if s.now == nil {
		s.now = time.Now
	}
	if s.deleteDelay <= 0 {
		s.deleteDelay = defaultDeleteDelay
	}
	s.routes()
	return s
}

type call struct {
	ctx    context.Context
	r      *http.Request
	caller Caller
	body   []byte
	now    apimodel.Epoch
}

type callKey struct{}

type op func(c *call) (int, any, error)

func (s *Server) routes() {
	s.handle("POST /v2/vpclinks", s.createVpcLink)
	s.handle("GET /v2/vpclinks", s.getVpcLinks)
	s.handle("GET /v2/vpclinks/{vpcLinkId}", s.getVpcLink)
	s.handle("PATCH /v2/vpclinks/{vpcLinkId}", s.updateVpcLink)
	s.handle("DELETE /v2/vpclinks/{vpcLinkId}", s.deleteVpcLink)
	s.handle("/", func(*call) (int, any, error) {
		return 0, nil, &awsproto.Error{Status: http.StatusNotFound, Code: codeUnknownOperation, Message: "Unknown operation"}
	})
}

func (s *Server) handle(pattern string, fn op) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Context().Value(callKey{}).(*call)
		if c == nil {
			c = &call{now: apimodel.Epoch(s.now().UTC().Truncate(time.Millisecond))}
		}
		c.ctx, c.r = r.Context(), r
		reqID := w.Header().Get("X-Amzn-Requestid")
		status, out, err := fn(c)
		if err != nil {
			var ae *awsproto.Error
			switch {
			case errors.As(err, &ae):
			case errors.Is(err, store.ErrConflict):
				ae = awsproto.Conflict("Unable to complete operation due to concurrent modification. Please try again later.")
			default:
				s.log.Error("apigatewayv2 request failed", "requestId", reqID, "path", r.URL.Path, "err", err)
				ae = &awsproto.Error{Status: http.StatusInternalServerError, Code: "InternalServerErrorException", Message: "Internal server error"}
			}
			ae.Write(w, reqID)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if out == nil {
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(status)
			return
		}
		b, err := json.Marshal(out)
		if err != nil { // plain data only
			panic(err)
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(status)
		_, _ = w.Write(b)
	})
}

// ServeAPIGatewayV2 handles one apigatewayv2 request (path /v2/...) whose SigV4
// signature was already verified. body is the full request body.
func (s *Server) ServeAPIGatewayV2(w http.ResponseWriter, r *http.Request, caller Caller, body []byte) {
	reqID := awsproto.NewRequestID()
	w.Header().Set("X-Amzn-Requestid", reqID)
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("panic in apigatewayv2 handler", "requestId", reqID, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			awsproto.WriteJSONError(w, http.StatusInternalServerError, "InternalServerErrorException", "Internal server error", reqID)
		}
	}()
	if len(body) > MaxBodySize {
		awsproto.WriteJSONError(w, http.StatusRequestEntityTooLarge, awsproto.CodeBadRequest, "Request body too large", reqID)
		return
	}
	c := &call{caller: caller, body: body, now: apimodel.Epoch(s.now().UTC().Truncate(time.Millisecond))}
	s.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callKey{}, c)))
}

// vpcLinkWire is apigatewayv2's VpcLink (createdDate as ISO 8601).
type vpcLinkWire struct {
	CreatedDate          string            `json:"createdDate,omitempty"`
	Name                 string            `json:"name"`
	SecurityGroupIDs     []string          `json:"securityGroupIds"`
	SubnetIDs            []string          `json:"subnetIds"`
	Tags                 map[string]string `json:"tags,omitempty"`
	VpcLinkID            string            `json:"vpcLinkId"`
	VpcLinkStatus        string            `json:"vpcLinkStatus"`
	VpcLinkStatusMessage string            `json:"vpcLinkStatusMessage,omitempty"`
	VpcLinkVersion       string            `json:"vpcLinkVersion"`
}

func toWire(l *apimodel.VpcLinkV2) vpcLinkWire {
	w := vpcLinkWire{Name: l.Name, SecurityGroupIDs: l.SecurityGroupIDs, SubnetIDs: l.SubnetIDs, Tags: l.Tags, VpcLinkID: l.VpcLinkID,
		VpcLinkStatus: l.VpcLinkStatus, VpcLinkStatusMessage: l.VpcLinkStatusMessage, VpcLinkVersion: l.VpcLinkVersion}
	if t := l.CreatedDate.Time(); !t.IsZero() {
		w.CreatedDate = t.UTC().Format(time.RFC3339)
	}
	if w.SecurityGroupIDs == nil {
		w.SecurityGroupIDs = []string{}
	}
	if w.SubnetIDs == nil {
		w.SubnetIDs = []string{}
	}
	return w
}

func badRequest(format string, args ...any) error {
	return awsproto.BadRequest(fmt.Sprintf(format, args...))
}

func notFound(id string) error {
	return awsproto.NotFound("Invalid VpcLink identifier specified " + id)
}

// decode reads the JSON body into v (an empty body is an empty object).
func decode(c *call, v any) error {
	b := strings.TrimSpace(string(c.body))
	if b == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(b), v); err != nil {
		return badRequest("Invalid request body: %v", err)
	}
	return nil
}

// subnetVPC finds subnet id among account's VPCs.
func (s *Server) subnetVPC(account, id string) (string, bool) {
	for i := range s.topo.VPCs {
		v := &s.topo.VPCs[i]
		if v.Account != account {
			continue
		}
		for _, sn := range v.Subnets {
			if sn.ID == id {
				return v.ID, true
			}
		}
	}
	return "", false
}

func (s *Server) createVpcLink(c *call) (int, any, error) {
	var in struct {
		Name             *string           `json:"name"`
		SecurityGroupIDs []string          `json:"securityGroupIds"`
		SubnetIDs        []string          `json:"subnetIds"`
		Tags             map[string]string `json:"tags"`
	}
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	switch {
	case in.Name == nil || *in.Name == "":
		return 0, nil, badRequest("Name is required and must be between 1 and %d characters", maxNameLen)
	case len(*in.Name) > maxNameLen:
		return 0, nil, badRequest("Name is required and must be between 1 and %d characters", maxNameLen)
	case len(in.SubnetIDs) == 0:
		return 0, nil, badRequest("SubnetIds must contain at least one subnet")
	case len(in.SubnetIDs) > maxSubnets:
		return 0, nil, badRequest("A VPC link can have at most %d subnets", maxSubnets)
	}
	vpc := ""
	seen := map[string]bool{}
	for _, id := range in.SubnetIDs {
		v, ok := s.subnetVPC(c.caller.Account, id)
		if !ok {
			return 0, nil, badRequest("Invalid subnet identifier specified: %s", id)
		}
		if seen[id] {
			return 0, nil, badRequest("Subnet %s is specified more than once", id)
		}
		seen[id] = true
		if vpc == "" {
			vpc = v
		} else if v != vpc {
			return 0, nil, badRequest("All subnets of a VPC link must belong to the same VPC")
		}
	}
	for _, sg := range in.SecurityGroupIDs {
		if !strings.HasPrefix(sg, "sg-") || len(sg) < 4 {
			return 0, nil, badRequest("Invalid security group identifier specified: %s", sg)
		}
	}
	for k, v := range in.Tags {
		if k == "" || len(k) > 128 || len(v) > 1600 || strings.HasPrefix(strings.ToLower(k), "aws:") {
			return 0, nil, badRequest("Invalid tag %q", k)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	recs, err := vpclinkstore.List(c.ctx, s.store, c.caller.Account)
	if err != nil {
		return 0, nil, err
	}
	n := 0
	for _, r := range recs {
		if r.V2 != nil && r.V2.VpcLinkStatus != apimodel.VpcLinkDeleting {
			n++
		}
	}
	if n >= maxVpcLinks {
		return 0, nil, awsproto.LimitExceeded(fmt.Sprintf("The maximum number of VPC links (%d) for this account has been reached", maxVpcLinks))
	}
	sgs := in.SecurityGroupIDs
	if sgs == nil {
		sgs = []string{}
	}
	rec := &apimodel.VpcLinkRecord{Account: c.caller.Account, Version: apimodel.VpcLinkVersion2, StatusDate: c.now,
		V2: &apimodel.VpcLinkV2{Name: *in.Name, CreatedDate: c.now, SubnetIDs: in.SubnetIDs, SecurityGroupIDs: sgs,
			VpcLinkStatus: apimodel.VpcLinkPending, VpcLinkVersion: apimodel.VpcLinkVersion2, Tags: in.Tags}}
	if err := vpclinkstore.Create(c.ctx, s.store, rec, func(id string) { rec.V2.VpcLinkID = id }); err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, toWire(rec.V2), nil
}

// settle advances a v2 link's lifecycle and persists the change; nil means gone.
func (s *Server) settle(c *call, rec *apimodel.VpcLinkRecord) (*apimodel.VpcLinkRecord, error) {
	return vpclinkstore.Settle(c.ctx, s.store, rec, c.now, s.deleteDelay, func() (string, string, error) {
		if s.check == nil {
			return apimodel.VpcLinkAvailable, "", nil
		}
		status, msg := s.check(c.ctx, rec)
		return status, msg, nil
	})
}

// load returns the caller's settled v2 link id, or a NotFoundException.
func (s *Server) load(c *call, id string) (*apimodel.VpcLinkRecord, error) {
	if id == "" || !validID(id) {
		return nil, notFound(id)
	}
	rec, err := vpclinkstore.Load(c.ctx, s.store, c.caller.Account, id)
	if err != nil {
		return nil, err
	}
	if rec == nil || rec.V2 == nil {
		return nil, notFound(id)
	}
	out, err := s.settle(c, rec)
	if err != nil {
		return nil, err
	}
	if out == nil {
		return nil, notFound(id)
	}
	return out, nil
}

// validID reports whether id can be a store key token.
func validID(id string) bool {
	if len(id) > 64 {
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

func (s *Server) getVpcLink(c *call) (int, any, error) {
	rec, err := s.load(c, c.r.PathValue("vpcLinkId"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toWire(rec.V2), nil
}

func (s *Server) getVpcLinks(c *call) (int, any, error) {
	q := c.r.URL.Query()
	limit := defaultMaxResults
	if m := q.Get("maxResults"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 1 || n > 500 {
			return 0, nil, badRequest("maxResults must be an integer between 1 and 500")
		}
		limit = n
	}
	after, err := awsproto.DecodePosition(q.Get("nextToken"))
	if err != nil {
		return 0, nil, badRequest("Invalid nextToken")
	}
	recs, err := vpclinkstore.List(c.ctx, s.store, c.caller.Account)
	if err != nil {
		return 0, nil, err
	}
	var links []*apimodel.VpcLinkV2
	for _, rec := range recs {
		if rec.V2 == nil {
			continue
		}
		if rec, err = s.settle(c, rec); err != nil {
			return 0, nil, err
		}
		if rec != nil {
			links = append(links, rec.V2)
		}
	}
	sort.Slice(links, func(i, j int) bool { return links[i].VpcLinkID < links[j].VpcLinkID })
	start := sort.Search(len(links), func(i int) bool { return links[i].VpcLinkID > after })
	end := min(start+limit, len(links))
	out := struct {
		Items     []vpcLinkWire `json:"items"`
		NextToken string        `json:"nextToken,omitempty"`
	}{Items: []vpcLinkWire{}}
	for _, l := range links[start:end] {
		out.Items = append(out.Items, toWire(l))
	}
	if end < len(links) {
		out.NextToken = awsproto.EncodePosition(links[end-1].VpcLinkID)
	}
	return http.StatusOK, out, nil
}

func (s *Server) updateVpcLink(c *call) (int, any, error) {
	id := c.r.PathValue("vpcLinkId")
	var in struct {
		Name *string `json:"name"`
	}
	if err := decode(c, &in); err != nil {
		return 0, nil, err
	}
	if in.Name != nil && (*in.Name == "" || len(*in.Name) > maxNameLen) {
		return 0, nil, badRequest("Name must be between 1 and %d characters", maxNameLen)
	}
	if _, err := s.load(c, id); err != nil {
		return 0, nil, err
	}
	var out *apimodel.VpcLinkV2
	_, err := s.store.Modify(c.ctx, apimodel.BucketVpcLinks, apimodel.VpcLinkKey(c.caller.Account, id), func(cur []byte) ([]byte, error) {
		if cur == nil {
			return nil, notFound(id)
		}
		var rec apimodel.VpcLinkRecord
		if err := json.Unmarshal(cur, &rec); err != nil {
			return nil, err
		}
		if rec.V2 == nil {
			return nil, notFound(id)
		}
		if in.Name != nil {
			rec.V2.Name = *in.Name
		}
		out = rec.V2
		return json.Marshal(&rec)
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toWire(out), nil
}

func (s *Server) deleteVpcLink(c *call) (int, any, error) {
	id := c.r.PathValue("vpcLinkId")
	rec, err := s.load(c, id)
	if err != nil {
		return 0, nil, err
	}
	if rec.V2.VpcLinkStatus == apimodel.VpcLinkDeleting {
		return http.StatusAccepted, nil, nil
	}
	err = vpclinkstore.MarkDeleting(c.ctx, s.store, c.caller.Account, id, c.now)
	if errors.Is(err, vpclinkstore.ErrNotFound) {
		return 0, nil, notFound(id)
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, nil, nil
}
