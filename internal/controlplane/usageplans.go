package controlplane

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/awsproto"
	"gatehouse/internal/store"
)

const (
	usagePlanIDLen  = 6
	quotaPeriodEnum = "DAY, WEEK, MONTH"
	maxUsageDays    = 90
)

// Usage plan messages. msgUsagePlanNotFound, msgInvalidAPIStage and msgAPIStageNotFound
// are AWS's recorded texts (moto/LocalStack snapshots); the others follow AWS's style
// where no recording exists (listed in the report).
const (
	msgUsagePlanNotFound    = "Invalid Usage Plan ID specified"
	msgInvalidAPIStage      = "Invalid API Stage specified"
	msgAPIStageNotFound     = "Invalid API Stage {api: %s, stage: %s} specified for usageplan %s"
	msgUsagePlanName        = "Usage Plan name must be non-empty"
	msgUsagePlanKeyNotFound = "Invalid Usage Plan Key identifier specified"
	msgUsagePlanKeyExists   = "Usage Plan Key already exists"
	msgKeyType              = "Invalid key type specified. Valid options are API_KEY"
	msgStageInTwoPlans      = "Usage Plan %s cannot be added because API Key %s cannot reference multiple Usage Plans with the same API Stage: %s:%s"
	msgPlanHasStages        = "Cannot delete Usage Plan %s because it has API Stages associated with it. Remove the API Stages first."
	msgThrottleRate         = "Invalid throttle rate limit specified: %s. Must be a non-negative number"
	msgThrottleBurst        = "Invalid throttle burst limit specified: %s. Must be a non-negative integer"
	msgThrottlePath         = "Invalid throttle path specified: %s. Must be /{resourcePath}/{httpMethod}"
	msgQuotaLimit           = "Invalid quota limit specified: %s. Must be a positive integer"
	msgQuotaOffset          = "Invalid quota offset specified: %s. Must be between 0 and the quota limit"
	msgQuotaPeriod          = "Invalid quota period specified: %s. Valid options are DAY,WEEK,MONTH"
	msgUsageDate            = "Invalid date specified: %s. Dates must be yyyy-MM-dd"
	msgUsageRange           = "The end date must not be before the start date"
	msgUsageSpan            = "Usage data can be requested for at most 90 days"
)

func usagePlanOwner(p *apimodel.UsagePlan) string       { return p.Account }
func usagePlanKeyOwner(k *apimodel.UsagePlanKey) string { return k.Account }

// throttleKeyRe is a usage plan's per-method throttle key: /{resourcePath}/{httpMethod}.
var throttleKeyRe = regexp.MustCompile(`^/.*/(GET|PUT|POST|DELETE|PATCH|OPTIONS|HEAD|ANY|\*)$`)

type throttleInput struct {
	BurstLimit *int     `json:"burstLimit"`
	RateLimit  *float64 `json:"rateLimit"`
}

func (t *throttleInput) settings() *apimodel.ThrottleSettings {
	if t == nil {
		return nil
	}
	out := &apimodel.ThrottleSettings{}
	if t.BurstLimit != nil {
		out.BurstLimit = *t.BurstLimit
	}
	if t.RateLimit != nil {
		out.RateLimit = *t.RateLimit
	}
	return out
}

type quotaInput struct {
	Limit  *int    `json:"limit"`
	Offset *int    `json:"offset"`
	Period *string `json:"period"`
}

type apiStageInput struct {
	APIID    string                    `json:"apiId"`
	Stage    string                    `json:"stage"`
	Throttle map[string]*throttleInput `json:"throttle"`
}

type createUsagePlanInput struct {
	Name        *string           `json:"name"`
	Description string            `json:"description"`
	APIStages   []apiStageInput   `json:"apiStages"`
	Throttle    *throttleInput    `json:"throttle"`
	Quota       *quotaInput       `json:"quota"`
	Tags        map[string]string `json:"tags"`
}

func validQuotaPeriod(p string) bool {
	return p == apimodel.QuotaDay || p == apimodel.QuotaWeek || p == apimodel.QuotaMonth
}

func validateThrottle(t *apimodel.ThrottleSettings) error {
	if t == nil {
		return nil
	}
	if t.RateLimit < 0 || math.IsNaN(t.RateLimit) || math.IsInf(t.RateLimit, 0) {
		return badRequestf(msgThrottleRate, strconv.FormatFloat(t.RateLimit, 'f', -1, 64))
	}
	if t.BurstLimit < 0 {
		return badRequestf(msgThrottleBurst, itoa(t.BurstLimit))
	}
	return nil
}

func validateQuota(q *apimodel.QuotaSettings) error {
	if q == nil {
		return nil
	}
	if !validQuotaPeriod(q.Period) {
		p := q.Period
		if p == "" {
			p = "null"
		}
		return badRequestf(msgQuotaPeriod, p)
	}
	if q.Limit <= 0 {
		return badRequestf(msgQuotaLimit, itoa(q.Limit))
	}
	if q.Offset < 0 || q.Offset >= q.Limit {
		return badRequestf(msgQuotaOffset, itoa(q.Offset))
	}
	return nil
}

// validateAPIStage checks one API stage of plan planID: the stage exists in the caller's
// API, and its per-method throttle keys and settings are well formed.
func (s *Server) validateAPIStage(c *call, planID string, st *apimodel.APIStage) error {
	missing := notFound(fmt.Sprintf(msgAPIStageNotFound, st.APIID, st.Stage, planID))
	if st.APIID == "" || st.Stage == "" {
		return badRequest(msgInvalidAPIStage)
	}
	if _, err := s.loadAPI(c, st.APIID, missing); err != nil {
		return err
	}
	if _, err := s.loadStage(c, st.APIID, st.Stage); err != nil {
		if isNotFound(err) {
			return missing
		}
		return err
	}
	for _, k := range sortedKeys(st.Throttle) {
		if !throttleKeyRe.MatchString(k) {
			return badRequestf(msgThrottlePath, k)
		}
		if err := validateThrottle(st.Throttle[k]); err != nil {
			return err
		}
	}
	return nil
}

// usagePlanWire is a UsagePlan as AWS returns it.
type usagePlanWire struct {
	*apimodel.UsagePlan
	Account   string              `json:"account,omitempty"`
	APIStages []apimodel.APIStage `json:"apiStages"`
	Tags      any                 `json:"tags,omitempty"`
}

func toUsagePlanWire(p *apimodel.UsagePlan, alwaysTags bool) usagePlanWire {
	cp := *p
	w := usagePlanWire{UsagePlan: &cp, APIStages: p.APIStages}
	if w.APIStages == nil {
		w.APIStages = []apimodel.APIStage{}
	}
	switch {
	case len(p.Tags) > 0:
		w.Tags = p.Tags
	case alwaysTags:
		w.Tags = map[string]string{}
	}
	return w
}

func (s *Server) createUsagePlan(c *call) (int, any, error) {
	var in createUsagePlanInput
	if err := decodeBody(c, &in); err != nil {
		return 0, nil, err
	}
	var v validationErrors
	if in.Name == nil {
		v.add("Value null at 'createUsagePlanInput.name' failed to satisfy constraint: Member must not be null")
	}
	if in.Quota != nil && in.Quota.Period != nil && !validQuotaPeriod(*in.Quota.Period) {
		v.enum(*in.Quota.Period, "createUsagePlanInput.quota.period", quotaPeriodEnum)
	}
	if err := v.err(); err != nil {
		return 0, nil, err
	}
	if *in.Name == "" {
		return 0, nil, badRequest(msgUsagePlanName)
	}
	p := &apimodel.UsagePlan{
		Account:     c.caller.Account,
		ID:          awsproto.NewID(usagePlanIDLen),
		Name:        *in.Name,
		Description: in.Description,
		Throttle:    in.Throttle.settings(),
		Tags:        in.Tags,
		APIStages:   []apimodel.APIStage{},
	}
	if q := in.Quota; q != nil {
		p.Quota = &apimodel.QuotaSettings{}
		if q.Limit != nil {
			p.Quota.Limit = *q.Limit
		}
		if q.Offset != nil {
			p.Quota.Offset = *q.Offset
		}
		if q.Period != nil {
			p.Quota.Period = *q.Period
		}
	}
	if err := validateThrottle(p.Throttle); err != nil {
		return 0, nil, err
	}
	if err := validateQuota(p.Quota); err != nil {
		return 0, nil, err
	}
	if err := validateTags(in.Tags); err != nil {
		return 0, nil, err
	}
	for _, sin := range in.APIStages {
		st := apimodel.APIStage{APIID: sin.APIID, Stage: sin.Stage}
		for k, t := range sin.Throttle {
			if st.Throttle == nil {
				st.Throttle = map[string]*apimodel.ThrottleSettings{}
			}
			if t == nil {
				t = &throttleInput{}
			}
			st.Throttle[k] = t.settings()
		}
		if err := s.validateAPIStage(c, p.ID, &st); err != nil {
			return 0, nil, err
		}
		if slices.ContainsFunc(p.APIStages, func(o apimodel.APIStage) bool { return o.APIID == st.APIID && o.Stage == st.Stage }) {
			continue
		}
		p.APIStages = append(p.APIStages, st)
	}
	for attempt := 0; ; attempt++ {
		b, err := json.Marshal(p)
		if err != nil {
			return 0, nil, err
		}
		_, err = s.store.Create(c.ctx, apimodel.BucketUsagePlans, p.ID, b)
		if errors.Is(err, store.ErrExists) && attempt < 5 {
			p.ID = awsproto.NewID(usagePlanIDLen)
			continue
		}
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, toUsagePlanWire(p, false), nil
	}
}

func (s *Server) getUsagePlan(c *call) (int, any, error) {
	p, _, err := loadOwned(s, c, apimodel.BucketUsagePlans, c.r.PathValue("usageplan_id"), usagePlanOwner, notFound(msgUsagePlanNotFound))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toUsagePlanWire(p, true), nil
}

// planKeys returns the caller's usage plan memberships: all, or of one plan.
func (s *Server) planKeys(c *call, planID string) ([]*apimodel.UsagePlanKey, error) {
	prefix := ""
	if planID != "" {
		prefix = planID + "."
	}
	return listOwned(s, c, apimodel.BucketUsagePlanKeys, prefix, usagePlanKeyOwner)
}

func (s *Server) getUsagePlans(c *call) (int, any, error) {
	plans, err := listOwned(s, c, apimodel.BucketUsagePlans, "", usagePlanOwner)
	if err != nil {
		return 0, nil, err
	}
	if keyID := c.r.URL.Query().Get("keyId"); keyID != "" {
		members, err := s.planKeys(c, "")
		if err != nil {
			return 0, nil, err
		}
		in := map[string]bool{}
		for _, m := range members {
			if m.KeyID == keyID {
				in[m.UsagePlanID] = true
			}
		}
		plans = slices.DeleteFunc(plans, func(p *apimodel.UsagePlan) bool { return !in[p.ID] })
	}
	page, pos, err := paginate(c, plans, func(p *apimodel.UsagePlan) string { return p.ID })
	if err != nil {
		return 0, nil, err
	}
	out := list[usagePlanWire]{Position: pos, Items: make([]usagePlanWire, 0, len(page))}
	for _, p := range page {
		out.Items = append(out.Items, toUsagePlanWire(p, false))
	}
	return http.StatusOK, out, nil
}

// checkKeyStages refuses a key being in two of the caller's usage plans that share an
// API stage (the data plane must find exactly one plan for a key and a stage). plan is
// the plan about to hold key with stages.
func (s *Server) checkKeyStages(c *call, planID, keyID string, stages []apimodel.APIStage, members []*apimodel.UsagePlanKey) error {
	for _, m := range members {
		if m.KeyID != keyID || m.UsagePlanID == planID {
			continue
		}
		other, _, err := loadOwned(s, c, apimodel.BucketUsagePlans, m.UsagePlanID, usagePlanOwner, notFound(msgUsagePlanNotFound))
		if isNotFound(err) {
			continue
		}
		if err != nil {
			return err
		}
		for _, st := range stages {
			for _, ost := range other.APIStages {
				if st.APIID == ost.APIID && st.Stage == ost.Stage {
					return conflict(fmt.Sprintf(msgStageInTwoPlans, planID, keyID, st.APIID, st.Stage))
				}
			}
		}
	}
	return nil
}

func (s *Server) updateUsagePlan(c *call) (int, any, error) {
	ops, err := decodePatch(c, "updateUsagePlanInput")
	if err != nil {
		return 0, nil, err
	}
	planID := c.r.PathValue("usageplan_id")
	p, err := modifyOwned(s, c, apimodel.BucketUsagePlans, planID, usagePlanOwner, notFound(msgUsagePlanNotFound),
		func(p *apimodel.UsagePlan) error {
			before := slices.Clone(p.APIStages)
			if err := s.patchUsagePlan(c, p, ops); err != nil {
				return err
			}
			if err := validateThrottle(p.Throttle); err != nil {
				return err
			}
			if err := validateQuota(p.Quota); err != nil {
				return err
			}
			var added []apimodel.APIStage
			for _, st := range p.APIStages {
				if !slices.ContainsFunc(before, func(o apimodel.APIStage) bool { return o.APIID == st.APIID && o.Stage == st.Stage }) {
					added = append(added, st)
				}
			}
			if len(added) == 0 {
				return nil
			}
			members, err := s.planKeys(c, p.ID)
			if err != nil {
				return err
			}
			all, err := s.planKeys(c, "")
			if err != nil {
				return err
			}
			for _, m := range members {
				if err := s.checkKeyStages(c, p.ID, m.KeyID, added, all); err != nil {
					return err
				}
			}
			return nil
		})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toUsagePlanWire(p, true), nil
}

// parseAPIStageID splits "{apiId}:{stage}".
func parseAPIStageID(s string) (apiID, stage string, ok bool) {
	apiID, stage, ok = strings.Cut(s, ":")
	if !ok || apiID == "" || stage == "" || strings.Contains(stage, ":") {
		return "", "", false
	}
	return apiID, stage, true
}

// patchUsagePlan applies UpdateUsagePlan's patch operations to p (validated as a whole
// afterwards).
func (s *Server) patchUsagePlan(c *call, p *apimodel.UsagePlan, ops []patchOp) error {
	for i := range ops {
		op := &ops[i]
		path := op.path()
		switch {
		case path == "/name" || path == "/description" || path == "/productCode":
			if err := allowOp(op.Op, opReplace); err != nil {
				return err
			}
			switch path {
			case "/name":
				if op.value() == "" {
					return badRequest(msgUsagePlanName)
				}
				p.Name = op.value()
			case "/description":
				p.Description = op.value()
			default:
				p.ProductCode = op.value()
			}
		case path == "/apiStages":
			if err := s.patchPlanStages(c, p, op); err != nil {
				return err
			}
		case strings.HasPrefix(path, "/apiStages/"):
			if err := patchStageThrottle(p, op, strings.TrimPrefix(path, "/apiStages/")); err != nil {
				return err
			}
		case path == "/throttle" || strings.HasPrefix(path, "/throttle/"):
			if err := patchPlanThrottle(&p.Throttle, op, strings.TrimPrefix(path, "/throttle")); err != nil {
				return err
			}
		case path == "/quota" || strings.HasPrefix(path, "/quota/"):
			if err := patchPlanQuota(p, op, strings.TrimPrefix(path, "/quota")); err != nil {
				return err
			}
		default:
			return errPatchPath(path)
		}
	}
	return nil
}

// patchPlanStages handles add/remove of /apiStages with the value "{apiId}:{stage}".
func (s *Server) patchPlanStages(c *call, p *apimodel.UsagePlan, op *patchOp) error {
	if err := allowOp(op.Op, opAdd, opRemove); err != nil {
		return err
	}
	apiID, stage, ok := parseAPIStageID(op.value())
	if !ok {
		return badRequest(msgInvalidAPIStage)
	}
	idx := slices.IndexFunc(p.APIStages, func(o apimodel.APIStage) bool { return o.APIID == apiID && o.Stage == stage })
	if op.Op == opRemove {
		if idx < 0 {
			return notFound(fmt.Sprintf(msgAPIStageNotFound, apiID, stage, p.ID))
		}
		p.APIStages = slices.Delete(p.APIStages, idx, idx+1)
		return nil
	}
	st := apimodel.APIStage{APIID: apiID, Stage: stage}
	if err := s.validateAPIStage(c, p.ID, &st); err != nil {
		return err
	}
	if idx < 0 {
		p.APIStages = append(p.APIStages, st)
	}
	return nil
}

// patchStageThrottle handles /apiStages/{apiId}:{stage}/throttle[/{resourcePath}/{httpMethod}[/rateLimit|/burstLimit]].
// The method key may be written raw ("/apiStages/a:s/throttle//pets/GET/rateLimit", as
// Terraform sends it) or ~1-escaped.
func patchStageThrottle(p *apimodel.UsagePlan, op *patchOp, rest string) error {
	stageID, rest, _ := strings.Cut(rest, "/")
	apiID, stage, ok := parseAPIStageID(unescapePointer(stageID))
	if !ok {
		return badRequest(msgInvalidAPIStage)
	}
	idx := slices.IndexFunc(p.APIStages, func(o apimodel.APIStage) bool { return o.APIID == apiID && o.Stage == stage })
	if idx < 0 {
		return notFound(fmt.Sprintf(msgAPIStageNotFound, apiID, stage, p.ID))
	}
	st := &p.APIStages[idx]
	if rest == "throttle" {
		if err := allowOp(op.Op, opRemove); err != nil {
			return err
		}
		st.Throttle = nil
		return nil
	}
	key, ok := strings.CutPrefix(rest, "throttle/")
	if !ok || key == "" {
		return errPatchPath(op.path())
	}
	field := ""
	for _, f := range []string{"/rateLimit", "/burstLimit"} {
		if k, cut := strings.CutSuffix(key, f); cut {
			key, field = k, f[1:]
			break
		}
	}
	key = unescapePointer(key)
	if !strings.HasPrefix(key, "/") {
		key = "/" + key
	}
	if !throttleKeyRe.MatchString(key) {
		return badRequestf(msgThrottlePath, key)
	}
	if field == "" {
		if err := allowOp(op.Op, opRemove); err != nil {
			return err
		}
		delete(st.Throttle, key)
		if len(st.Throttle) == 0 {
			st.Throttle = nil
		}
		return nil
	}
	if err := allowOp(op.Op, opAdd, opReplace); err != nil {
		return err
	}
	if st.Throttle == nil {
		st.Throttle = map[string]*apimodel.ThrottleSettings{}
	}
	t := st.Throttle[key]
	if t == nil {
		t = &apimodel.ThrottleSettings{}
		st.Throttle[key] = t
	}
	if err := setThrottleField(t, field, op.value()); err != nil {
		return err
	}
	return validateThrottle(t)
}

// setThrottleField sets rateLimit or burstLimit from a patch value.
func setThrottleField(t *apimodel.ThrottleSettings, field, value string) error {
	v := strings.TrimSpace(value)
	if field == "rateLimit" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return badRequestf(msgThrottleRate, value)
		}
		t.RateLimit = f
		return nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return badRequestf(msgThrottleBurst, value)
	}
	t.BurstLimit = n
	return nil
}

// patchPlanThrottle handles /throttle (remove) and /throttle/{rateLimit,burstLimit}.
func patchPlanThrottle(t **apimodel.ThrottleSettings, op *patchOp, sub string) error {
	if sub == "" {
		if err := allowOp(op.Op, opRemove); err != nil {
			return err
		}
		*t = nil
		return nil
	}
	if sub != "/rateLimit" && sub != "/burstLimit" {
		return errPatchPath(op.path())
	}
	if err := allowOp(op.Op, opAdd, opReplace); err != nil {
		return err
	}
	if *t == nil {
		*t = &apimodel.ThrottleSettings{}
	}
	return setThrottleField(*t, sub[1:], op.value())
}

// patchPlanQuota handles /quota (remove) and /quota/{limit,offset,period}.
func patchPlanQuota(p *apimodel.UsagePlan, op *patchOp, sub string) error {
	if sub == "" {
		if err := allowOp(op.Op, opRemove); err != nil {
			return err
		}
		p.Quota = nil
		return nil
	}
	if sub != "/limit" && sub != "/offset" && sub != "/period" {
		return errPatchPath(op.path())
	}
	if err := allowOp(op.Op, opAdd, opReplace); err != nil {
		return err
	}
	if p.Quota == nil {
		p.Quota = &apimodel.QuotaSettings{}
	}
	v := strings.TrimSpace(op.value())
	switch sub {
	case "/period":
		if !validQuotaPeriod(v) {
			return badRequestf(msgQuotaPeriod, op.value())
		}
		p.Quota.Period = v
	case "/limit":
		n, err := strconv.Atoi(v)
		if err != nil {
			return badRequestf(msgQuotaLimit, op.value())
		}
		p.Quota.Limit = n
	default:
		n, err := strconv.Atoi(v)
		if err != nil {
			return badRequestf(msgQuotaOffset, op.value())
		}
		p.Quota.Offset = n
	}
	return nil
}

func (s *Server) deleteUsagePlan(c *call) (int, any, error) {
	planID := c.r.PathValue("usageplan_id")
	_, err := deleteOwned(s, c, apimodel.BucketUsagePlans, planID, usagePlanOwner, notFound(msgUsagePlanNotFound),
		func(p *apimodel.UsagePlan) error {
			if len(p.APIStages) > 0 {
				return badRequestf(msgPlanHasStages, p.ID)
			}
			return nil
		})
	if err != nil {
		return 0, nil, err
	}
	// The plan's key memberships and usage counters go with it.
	members, err := s.planKeys(c, planID)
	if err != nil {
		return 0, nil, err
	}
	for _, m := range members {
		if err := s.deleteIgnoringMissing(c, apimodel.BucketUsagePlanKeys, apimodel.UsagePlanKeyKey(m.UsagePlanID, m.KeyID)); err != nil {
			return 0, nil, err
		}
	}
	counters, err := s.store.List(c.ctx, apimodel.BucketUsage, planID+".")
	if err != nil {
		return 0, nil, err
	}
	for _, e := range counters {
		if err := s.deleteIgnoringMissing(c, apimodel.BucketUsage, e.Key); err != nil {
			return 0, nil, err
		}
	}
	return http.StatusAccepted, nil, nil
}

// Usage plan keys.

// usagePlanKeyWire is AWS's UsagePlanKey shape.
type usagePlanKeyWire struct {
	ID    string `json:"id"`
	Type  string `json:"type"`
	Value string `json:"value"`
	Name  string `json:"name,omitempty"`
}

func toUsagePlanKeyWire(k *apimodel.APIKey) usagePlanKeyWire {
	return usagePlanKeyWire{ID: k.ID, Type: apimodel.UsagePlanKeyTypeAPIKey, Value: k.Value, Name: k.Name}
}

func (s *Server) createUsagePlanKey(c *call) (int, any, error) {
	var in struct {
		KeyID   *string `json:"keyId"`
		KeyType *string `json:"keyType"`
	}
	if err := decodeBody(c, &in); err != nil {
		return 0, nil, err
	}
	var v validationErrors
	if in.KeyID == nil {
		v.add("Value null at 'createUsagePlanKeyInput.keyId' failed to satisfy constraint: Member must not be null")
	}
	if in.KeyType == nil {
		v.add("Value null at 'createUsagePlanKeyInput.keyType' failed to satisfy constraint: Member must not be null")
	}
	if err := v.err(); err != nil {
		return 0, nil, err
	}
	if *in.KeyType != apimodel.UsagePlanKeyTypeAPIKey {
		return 0, nil, badRequest(msgKeyType)
	}
	k, _, err := loadOwned(s, c, apimodel.BucketAPIKeys, *in.KeyID, apiKeyOwner, notFound(msgAPIKeyNotFound))
	if err != nil {
		return 0, nil, err
	}
	if err := s.addUsagePlanKey(c, c.r.PathValue("usageplan_id"), k); err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, toUsagePlanKeyWire(k), nil
}

// addUsagePlanKey makes key k a member of the caller's plan planID.
func (s *Server) addUsagePlanKey(c *call, planID string, k *apimodel.APIKey) error {
	defer s.lock(apimodel.BucketUsagePlans, planID)()
	p, _, err := loadOwned(s, c, apimodel.BucketUsagePlans, planID, usagePlanOwner, notFound(msgUsagePlanNotFound))
	if err != nil {
		return err
	}
	all, err := s.planKeys(c, "")
	if err != nil {
		return err
	}
	if err := s.checkKeyStages(c, p.ID, k.ID, p.APIStages, all); err != nil {
		return err
	}
	b, err := json.Marshal(apimodel.UsagePlanKey{Account: c.caller.Account, UsagePlanID: p.ID, KeyID: k.ID,
		Type: apimodel.UsagePlanKeyTypeAPIKey})
	if err != nil {
		return err
	}
	_, err = s.store.Create(c.ctx, apimodel.BucketUsagePlanKeys, apimodel.UsagePlanKeyKey(p.ID, k.ID), b)
	if errors.Is(err, store.ErrExists) {
		return conflict(msgUsagePlanKeyExists)
	}
	return err
}

// loadPlanKey reads the caller's plan, its membership of keyID and the key.
func (s *Server) loadPlanKey(c *call, planID, keyID string) (*apimodel.APIKey, error) {
	if _, _, err := loadOwned(s, c, apimodel.BucketUsagePlans, planID, usagePlanOwner, notFound(msgUsagePlanNotFound)); err != nil {
		return nil, err
	}
	missing := notFound(msgUsagePlanKeyNotFound)
	if !validID(keyID) {
		return nil, missing
	}
	if _, _, err := loadOwned(s, c, apimodel.BucketUsagePlanKeys, apimodel.UsagePlanKeyKey(planID, keyID), usagePlanKeyOwner, missing); err != nil {
		return nil, err
	}
	k, _, err := loadOwned(s, c, apimodel.BucketAPIKeys, keyID, apiKeyOwner, missing)
	return k, err
}

func (s *Server) getUsagePlanKey(c *call) (int, any, error) {
	k, err := s.loadPlanKey(c, c.r.PathValue("usageplan_id"), c.r.PathValue("key_id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toUsagePlanKeyWire(k), nil
}

func (s *Server) getUsagePlanKeys(c *call) (int, any, error) {
	planID := c.r.PathValue("usageplan_id")
	if _, _, err := loadOwned(s, c, apimodel.BucketUsagePlans, planID, usagePlanOwner, notFound(msgUsagePlanNotFound)); err != nil {
		return 0, nil, err
	}
	members, err := s.planKeys(c, planID)
	if err != nil {
		return 0, nil, err
	}
	name := c.r.URL.Query().Get("name")
	var keys []*apimodel.APIKey
	for _, m := range members {
		k, _, err := loadOwned(s, c, apimodel.BucketAPIKeys, m.KeyID, apiKeyOwner, notFound(msgAPIKeyNotFound))
		if isNotFound(err) {
			continue // deleted meanwhile
		}
		if err != nil {
			return 0, nil, err
		}
		if name == "" || strings.HasPrefix(k.Name, name) {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].ID < keys[j].ID })
	page, pos, err := paginate(c, keys, func(k *apimodel.APIKey) string { return k.ID })
	if err != nil {
		return 0, nil, err
	}
	out := list[usagePlanKeyWire]{Position: pos, Items: make([]usagePlanKeyWire, 0, len(page))}
	for _, k := range page {
		out.Items = append(out.Items, toUsagePlanKeyWire(k))
	}
	return http.StatusOK, out, nil
}

func (s *Server) deleteUsagePlanKey(c *call) (int, any, error) {
	planID, keyID := c.r.PathValue("usageplan_id"), c.r.PathValue("key_id")
	if _, _, err := loadOwned(s, c, apimodel.BucketUsagePlans, planID, usagePlanOwner, notFound(msgUsagePlanNotFound)); err != nil {
		return 0, nil, err
	}
	missing := notFound(msgUsagePlanKeyNotFound)
	if !validID(keyID) {
		return 0, nil, missing
	}
	_, err := deleteOwned(s, c, apimodel.BucketUsagePlanKeys, apimodel.UsagePlanKeyKey(planID, keyID), usagePlanKeyOwner, missing, nil)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, nil, nil
}

// Usage.

// usageWire is AWS's Usage shape; the per-key daily [used, remaining] lists are
// "values" on the wire.
type usageWire struct {
	UsagePlanID string                `json:"usagePlanId"`
	StartDate   string                `json:"startDate"`
	EndDate     string                `json:"endDate"`
	Position    string                `json:"position,omitempty"`
	Items       map[string][][2]int64 `json:"values"`
}

// getUsage is GetUsage: for every key of the plan (or keyId), one [used, remaining]
// pair per day from startDate to endDate (UTC, inclusive). used is the day's counter in
// the usage bucket; remaining is the plan's quota limit less the requests of the quota
// period up to and including that day (0 when the plan has no quota).
func (s *Server) getUsage(c *call) (int, any, error) {
	planID := c.r.PathValue("usageplan_id")
	q := c.r.URL.Query()
	var v validationErrors
	if !q.Has("startDate") {
		v.add("Value null at 'getUsageInput.startDate' failed to satisfy constraint: Member must not be null")
	}
	if !q.Has("endDate") {
		v.add("Value null at 'getUsageInput.endDate' failed to satisfy constraint: Member must not be null")
	}
	if err := v.err(); err != nil {
		return 0, nil, err
	}
	p, _, err := loadOwned(s, c, apimodel.BucketUsagePlans, planID, usagePlanOwner, notFound(msgUsagePlanNotFound))
	if err != nil {
		return 0, nil, err
	}
	start, err := time.Parse(apimodel.UsageDayLayout, q.Get("startDate"))
	if err != nil {
		return 0, nil, badRequestf(msgUsageDate, q.Get("startDate"))
	}
	end, err := time.Parse(apimodel.UsageDayLayout, q.Get("endDate"))
	if err != nil {
		return 0, nil, badRequestf(msgUsageDate, q.Get("endDate"))
	}
	if end.Before(start) {
		return 0, nil, badRequest(msgUsageRange)
	}
	if end.Sub(start) >= maxUsageDays*24*time.Hour {
		return 0, nil, badRequest(msgUsageSpan)
	}
	members, err := s.planKeys(c, planID)
	if err != nil {
		return 0, nil, err
	}
	var keys []string
	keyFilter := q.Get("keyId")
	for _, m := range members {
		if keyFilter == "" || m.KeyID == keyFilter {
			keys = append(keys, m.KeyID)
		}
	}
	sort.Strings(keys)
	page, pos, err := paginate(c, keys, func(k string) string { return k })
	if err != nil {
		return 0, nil, err
	}
	counters, err := s.usageCounters(c, planID)
	if err != nil {
		return 0, nil, err
	}
	out := usageWire{UsagePlanID: planID, StartDate: q.Get("startDate"), EndDate: q.Get("endDate"), Position: pos,
		Items: make(map[string][][2]int64, len(page))}
	for _, keyID := range page {
		days := counters[keyID]
		series := [][2]int64{}
		for d := start; !d.After(end); d = d.AddDate(0, 0, 1) {
			used := days[d.Format(apimodel.UsageDayLayout)]
			var remaining int64
			if p.Quota != nil {
				var inPeriod int64
				for pd := apimodel.QuotaPeriodStart(p.Quota.Period, d); !pd.After(d); pd = pd.AddDate(0, 0, 1) {
					inPeriod += days[pd.Format(apimodel.UsageDayLayout)]
				}
				remaining = max(0, int64(p.Quota.Limit)-inPeriod)
			}
			series = append(series, [2]int64{used, remaining})
		}
		out.Items[keyID] = series
	}
	return http.StatusOK, out, nil
}

// usageCounters reads every daily usage counter of planID: key id → day → count.
// Counters that do not parse (written by something else) count as zero.
func (s *Server) usageCounters(c *call, planID string) (map[string]map[string]int64, error) {
	entries, err := s.store.List(c.ctx, apimodel.BucketUsage, planID+".")
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]int64{}
	for _, e := range entries {
		rest := strings.TrimPrefix(e.Key, planID+".")
		keyID, day, ok := strings.Cut(rest, ".")
		if !ok {
			continue
		}
		var n float64
		if json.Unmarshal(e.Value, &n) != nil || n < 0 || math.IsNaN(n) || n > math.MaxInt64/2 {
			continue
		}
		if out[keyID] == nil {
			out[keyID] = map[string]int64{}
		}
		out[keyID][day] = int64(n)
	}
	return out, nil
}
