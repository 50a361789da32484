package controlplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/store"
	"gatehouse/internal/vpclinkstore"
)

// VPC links (v1, REST: CreateVpcLink with targetArns = network load balancers).
//
// Lifecycle. CreateVpcLink validates the targets (each an existing network load balancer
// of the caller's account) and stores the link as PENDING. The link is settled when it is
// next read (GetVpcLink(s), CreateDeployment): with Options.VpcLinkCheck unset it becomes
// AVAILABLE as long as its load balancers still exist (FAILED otherwise); with a check
// set (the vpclink runtime: targets registered and healthy) the check's verdict is kept,
// and a link the check still reports PENDING stays PENDING. DeleteVpcLink marks the link
// DELETING; it is removed from the store the first time it is read
// Options.VpcLinkDeleteDelay later (the runtime, which watches the bucket, tears the
// link down as soon as it sees DELETING). CreateDeployment waits (up to
// Options.VpcLinkWait) for PENDING links its VPC_LINK integrations use, and fails for
// DELETING and FAILED ones; connection ids that name no link are left to the data plane.

const (
	maxVpcLinksV1         = 20
	defaultVpcLinkWait    = 30 * time.Second
	defaultVpcLinkDelete  = 2 * time.Second
	vpcLinkPollInterval   = 100 * time.Millisecond
	msgVpcLinkNotFound    = "Invalid VPC link identifier specified"
	msgVpcLinkTargetsNull = "Value null at 'createVpcLinkInput.targetArns' failed to satisfy constraint: Member must not be null"
)

// VpcLinkChecker decides the status of a PENDING VPC link: AVAILABLE, FAILED (with a
// message for statusMessage) or PENDING (not decided yet).
type VpcLinkChecker func(ctx context.Context, link *apimodel.VpcLinkRecord) (status, message string)

// vpcLinkWire is apigateway's VpcLink shape.
type vpcLinkWire struct {
	ID            string            `json:"id"`
	Name          string            `json:"name"`
	Description   string            `json:"description,omitempty"`
	TargetArns    []string          `json:"targetArns"`
	Status        string            `json:"status"`
	StatusMessage string            `json:"statusMessage,omitempty"`
	Tags          map[string]string `json:"tags,omitempty"`
}

func toVpcLinkWire(l *apimodel.VpcLink) vpcLinkWire {
	return vpcLinkWire{ID: l.ID, Name: l.Name, Description: l.Description, TargetArns: l.TargetArns, Status: l.Status,
		StatusMessage: l.StatusMessage, Tags: l.Tags}
}

// loadNLB reports whether arn names an existing network load balancer of account.
func (s *Server) loadNLB(c *call, arn string) (lb *apimodel.LoadBalancer, err error) {
	a, perr := apimodel.ParseELBARN(arn)
	if perr != nil || a.Kind != "loadbalancer" || a.Account != c.caller.Account || a.Region != s.region || !validID(a.ID) {
		return nil, nil
	}
	e, err := s.store.Get(c.ctx, apimodel.BucketELB, apimodel.LoadBalancerKey(a.Account, a.ID))
	if errors.Is(err, store.ErrNotFound) {
		if s.topologyLB != nil {
			if lb, ok := s.topologyLB(arn); ok && lb.Account == c.caller.Account && lb.Type == apimodel.LoadBalancerNetwork {
				return lb, nil
			}
		}
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var doc apimodel.LoadBalancer
	if err := json.Unmarshal(e.Value, &doc); err != nil {
		return nil, fmt.Errorf("decode load balancer %s: %w", e.Key, err)
	}
	if doc.LoadBalancerArn != arn {
		return nil, nil
	}
	return &doc, nil
}

func (s *Server) createVpcLink(c *call) (int, any, error) {
	var in struct {
		Name        *string           `json:"name"`
		Description string            `json:"description"`
		TargetArns  []string          `json:"targetArns"`
		Tags        map[string]string `json:"tags"`
	}
	if err := decodeBody(c, &in); err != nil {
		return 0, nil, err
	}
	var v validationErrors
	if in.Name == nil {
		v.add("Value null at 'createVpcLinkInput.name' failed to satisfy constraint: Member must not be null")
	}
	if in.TargetArns == nil {
		v.add(msgVpcLinkTargetsNull)
	}
	if err := v.err(); err != nil {
		return 0, nil, err
	}
	if strings.TrimSpace(*in.Name) == "" {
		return 0, nil, badRequest("VPC link name must not be empty")
	}
	if len(in.TargetArns) != 1 {
		return 0, nil, badRequest("A VPC link must target exactly one network load balancer")
	}
	for _, arn := range in.TargetArns {
		a, err := apimodel.ParseELBARN(arn)
		if err != nil || a.Kind != "loadbalancer" {
			return 0, nil, badRequest("NLB ARN is malformed: " + arn)
		}
		if a.LBType != "net" {
			return 0, nil, badRequest("The target " + arn + " is not a network load balancer")
		}
		lb, err := s.loadNLB(c, arn)
		if err != nil {
			return 0, nil, err
		}
		if lb == nil {
			return 0, nil, badRequest("The network load balancer " + arn + " does not exist in account " + c.caller.Account)
		}
	}
	if err := validateTags(in.Tags); err != nil {
		return 0, nil, err
	}
	links, err := vpclinkstore.List(c.ctx, s.store, c.caller.Account)
	if err != nil {
		return 0, nil, err
	}
	n := 0
	for _, l := range links {
		if l.V1 != nil && l.V1.Status != apimodel.VpcLinkDeleting {
			n++
		}
	}
	if n >= maxVpcLinksV1 {
		return 0, nil, limitExceeded(fmt.Sprintf("The maximum number of VPC links (%d) for this account has been reached", maxVpcLinksV1))
	}
	rec := &apimodel.VpcLinkRecord{Account: c.caller.Account, Version: apimodel.VpcLinkVersion1, StatusDate: c.now,
		V1: &apimodel.VpcLink{Name: *in.Name, Description: in.Description, TargetArns: in.TargetArns,
			Status: apimodel.VpcLinkPending, Tags: in.Tags}}
	if err := vpclinkstore.Create(c.ctx, s.store, rec, func(id string) { rec.V1.ID = id }); err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, toVpcLinkWire(rec.V1), nil
}

// loadVpcLink returns the caller's link id (v1 or v2) settled, or nil when it does not
// exist (or has just been removed).
func (s *Server) loadVpcLink(c *call, id string) (*apimodel.VpcLinkRecord, error) {
	if !validID(id) {
		return nil, nil
	}
	rec, err := vpclinkstore.Load(c.ctx, s.store, c.caller.Account, id)
	if err != nil || rec == nil {
		return nil, err
	}
	return s.settleVpcLink(c, rec)
}

// vpcLinkVerdict decides a PENDING link's status.
func (s *Server) vpcLinkVerdict(c *call, rec *apimodel.VpcLinkRecord) (string, string, error) {
	if s.vpcLinkCheck != nil {
		st, msg := s.vpcLinkCheck(c.ctx, rec)
		return st, msg, nil
	}
	if rec.V1 != nil {
		for _, arn := range rec.V1.TargetArns {
			lb, err := s.loadNLB(c, arn)
			if err != nil {
				return "", "", err
			}
			if lb == nil {
				return apimodel.VpcLinkFailed, "NLB ARN " + arn + " could not be found", nil
			}
		}
	}
	return apimodel.VpcLinkAvailable, "", nil
}

// settleVpcLink advances a link's lifecycle (see the top of this file) and persists the
// change. It returns nil when the link is gone.
func (s *Server) settleVpcLink(c *call, rec *apimodel.VpcLinkRecord) (*apimodel.VpcLinkRecord, error) {
	if rec.Status() == apimodel.VpcLinkPending {
		defer s.lock(apimodel.BucketVpcLinks, apimodel.VpcLinkKey(rec.Account, rec.LinkID()))()
	}
	return vpclinkstore.Settle(c.ctx, s.store, rec, c.now, s.vpcLinkDeleteDelay, func() (string, string, error) {
		return s.vpcLinkVerdict(c, rec)
	})
}

// loadVpcLinkV1 returns the caller's v1 link or a NotFoundException.
func (s *Server) loadVpcLinkV1(c *call) (*apimodel.VpcLinkRecord, error) {
	rec, err := s.loadVpcLink(c, c.r.PathValue("vpclink_id"))
	if err != nil {
		return nil, err
	}
	if rec == nil || rec.V1 == nil {
		return nil, notFound(msgVpcLinkNotFound)
	}
	return rec, nil
}

func (s *Server) getVpcLink(c *call) (int, any, error) {
	rec, err := s.loadVpcLinkV1(c)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toVpcLinkWire(rec.V1), nil
}

func (s *Server) getVpcLinks(c *call) (int, any, error) {
	recs, err := vpclinkstore.List(c.ctx, s.store, c.caller.Account)
	if err != nil {
		return 0, nil, err
	}
	var links []*apimodel.VpcLink
	for _, rec := range recs {
		if rec.V1 == nil {
			continue
		}
		if rec, err = s.settleVpcLink(c, rec); err != nil {
			return 0, nil, err
		}
		if rec != nil {
			links = append(links, rec.V1)
		}
	}
	sort.Slice(links, func(i, j int) bool { return links[i].ID < links[j].ID })
	page, pos, err := paginate(c, links, func(l *apimodel.VpcLink) string { return l.ID })
	if err != nil {
		return 0, nil, err
	}
	out := list[vpcLinkWire]{Position: pos, Items: make([]vpcLinkWire, 0, len(page))}
	for _, l := range page {
		out.Items = append(out.Items, toVpcLinkWire(l))
	}
	return http.StatusOK, out, nil
}

func (s *Server) updateVpcLink(c *call) (int, any, error) {
	ops, err := decodePatch(c, "updateVpcLinkInput")
	if err != nil {
		return 0, nil, err
	}
	if _, err := s.loadVpcLinkV1(c); err != nil {
		return 0, nil, err
	}
	id := c.r.PathValue("vpclink_id")
	key := apimodel.VpcLinkKey(c.caller.Account, id)
	defer s.lock(apimodel.BucketVpcLinks, key)()
	var out *apimodel.VpcLink
	_, err = s.store.Modify(c.ctx, apimodel.BucketVpcLinks, key, func(cur []byte) ([]byte, error) {
		if cur == nil {
			return nil, notFound(msgVpcLinkNotFound)
		}
		var rec apimodel.VpcLinkRecord
		if err := json.Unmarshal(cur, &rec); err != nil {
			return nil, err
		}
		if rec.V1 == nil {
			return nil, notFound(msgVpcLinkNotFound)
		}
		for i := range ops {
			p := &ops[i]
			switch p.path() {
			case "/name":
				if err := allowOp(p.Op, opReplace); err != nil {
					return nil, err
				}
				if strings.TrimSpace(p.value()) == "" {
					return nil, badRequest("VPC link name must not be empty")
				}
				rec.V1.Name = p.value()
			case "/description":
				if err := allowOp(p.Op, opReplace, opAdd, opRemove); err != nil {
					return nil, err
				}
				rec.V1.Description = p.value()
				if p.Op == opRemove {
					rec.V1.Description = ""
				}
			default:
				return nil, errPatchPath(p.path())
			}
		}
		out = rec.V1
		return json.Marshal(&rec)
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toVpcLinkWire(out), nil
}

func (s *Server) deleteVpcLink(c *call) (int, any, error) {
	rec, err := s.loadVpcLinkV1(c)
	if err != nil {
		return 0, nil, err
	}
	if rec.V1.Status == apimodel.VpcLinkDeleting {
		return http.StatusAccepted, nil, nil
	}
	defer s.lock(apimodel.BucketVpcLinks, apimodel.VpcLinkKey(c.caller.Account, rec.V1.ID))()
	err = vpclinkstore.MarkDeleting(c.ctx, s.store, c.caller.Account, rec.V1.ID, c.now)
	if errors.Is(err, vpclinkstore.ErrNotFound) {
		return 0, nil, notFound(msgVpcLinkNotFound)
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, nil, nil
}

// deploymentVpcLinks returns the ids of the VPC links api's VPC_LINK integrations use,
// resolving ${stageVariables.x} connection ids with vars.
func deploymentVpcLinks(api *apimodel.API, vars map[string]string) []string {
	seen := map[string]bool{}
	var out []string
	for _, rid := range sortedKeys(api.Resources) {
		r := api.Resources[rid]
		for _, verb := range sortedKeys(r.ResourceMethods) {
			in := r.ResourceMethods[verb].MethodIntegration
			if in == nil || in.ConnectionType != connVPCLink || in.ConnectionID == "" {
				continue
			}
			id := in.ConnectionID
			if name, ok := strings.CutPrefix(id, "${stageVariables."); ok {
				name, ok = strings.CutSuffix(name, "}")
				if !ok || vars[name] == "" {
					continue
				}
				id = vars[name]
			}
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out
}

// awaitVpcLinks applies CreateDeployment's VPC link rules: wait while a link is PENDING,
// fail when one is DELETING or FAILED.
func (s *Server) awaitVpcLinks(c *call, api *apimodel.API, stageName string, vars map[string]string) error {
	if vars == nil && stageName != "" {
		st, err := s.loadStage(c, api.RestAPI.ID, stageName)
		switch {
		case err == nil:
			vars = st.Variables
		case !isNotFound(err):
			return err
		}
	}
	ids := deploymentVpcLinks(api, vars)
	if len(ids) == 0 {
		return nil
	}
	deadline := time.Now().Add(s.vpcLinkWait)
	for {
		pending := ""
		for _, id := range ids {
			rec, err := s.loadVpcLink(c, id)
			if err != nil {
				return err
			}
			if rec == nil {
				continue
			}
			switch rec.Status() {
			case apimodel.VpcLinkDeleting:
				return badRequest("VPC link " + id + " is being deleted and cannot be used by a deployment")
			case apimodel.VpcLinkFailed:
				msg := "VPC link " + id + " is in FAILED state"
				if m := vpcLinkStatusMessage(rec); m != "" {
					msg += ": " + m
				}
				return badRequest(msg)
			case apimodel.VpcLinkPending:
				pending = id
			}
		}
		if pending == "" {
			return nil
		}
		if !time.Now().Before(deadline) {
			return badRequest("VPC link " + pending + " is still PENDING; try again when it is AVAILABLE")
		}
		t := time.NewTimer(vpcLinkPollInterval)
		select {
		case <-c.ctx.Done():
			t.Stop()
			return c.ctx.Err()
		case <-t.C:
		}
		c.now = apimodel.Epoch(s.now().UTC().Truncate(time.Millisecond))
	}
}

func vpcLinkStatusMessage(rec *apimodel.VpcLinkRecord) string {
	if rec.V1 != nil {
		return rec.V1.StatusMessage
	}
	if rec.V2 != nil {
		return rec.V2.VpcLinkStatusMessage
	}
	return ""
}
