package throttle

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"gatehouse/internal/apimodel"
)

// Inputs are the stored documents a Plans snapshot is compiled from, as the control
// plane writes them (see apimodel's storage layout): the usageplans, apikeys and
// usageplankeys buckets, and the stages.
type Inputs struct {
	Plans    []apimodel.UsagePlan
	Keys     []apimodel.APIKey
	PlanKeys []apimodel.UsagePlanKey
	// Stages supply the per-method throttles (Stage.methodSettings). Only APIID,
	// StageName, Account and MethodSettings are read.
	Stages []apimodel.Stage
}

// Plans is the compiled, immutable form of the usage plans, API keys, usage-plan keys and
// stage method throttles. Build it with Compile (control-plane speed: maps are built,
// nothing is parsed later) and hand it to Limiter.SetPlans. It holds no counters: the
// Limiter owns all mutable state and carries it over from one Plans to the next.
type Plans struct {
	stages map[stageRef]*stageConf
	plans  map[string]*planConf
	keys   map[string]*keyConf // by key id
}

type stageRef struct{ api, stage string }

// methodRef names an API method: its resource path ("/pets/{id}") and its HTTP method
// as configured ("GET", "ANY").
type methodRef struct{ path, method string }

// optLimit is a Limit that may be unset (then the next level decides).
type optLimit struct {
	Limit
	set bool
}

type stageConf struct {
	ref     stageRef
	account string
	// def is methodSettings["*/*"]; methods holds the per-method entries. A negative
	// value in an entry means "inherit" (field by field), as AWS stores -1.
	def     apimodel.MethodSetting
	hasDef  bool
	methods map[methodRef]apimodel.MethodSetting
	keys    map[string]*binding // by key value
}

type planConf struct {
	id       string
	account  string
	throttle optLimit
	quota    *quotaConf // nil = no quota
}

// quotaConf is a usage plan's quota: at most limit requests per period (apimodel.QuotaDay,
// QuotaWeek or QuotaMonth; see apimodel.QuotaPeriodStart).
type quotaConf struct {
	limit  int64
	period string
}

type keyConf struct {
	id, value string
	enabled   bool
	account   string
}

// binding is one API key in one usage plan, seen from one API stage of that plan.
type binding struct {
	plan *planConf
	key  *keyConf
	// methods are the plan's per-method overrides for this stage ("/pets/GET");
	// stageWide is a "/*/*" override, if the plan has one.
	methods   map[methodRef]Limit
	stageWide optLimit
}

// Compile builds a Plans snapshot. It never fails as a whole: entries that cannot be
// served (a usage-plan key naming an unknown key or plan, a key bound to two plans on
// the same stage, an invalid quota, a malformed method key) are left out, and the
// returned error lists them; the *Plans is usable either way.
//
// QuotaSettings.Offset is not applied: the stored usage plan has no creation date to
// tell its initial period, and GetUsage (the control plane) reports remaining quota as
// limit less the period's counted requests. Enforcement and GetUsage agree on that.
func Compile(in Inputs) (*Plans, error) {
	p := &Plans{
		stages: map[stageRef]*stageConf{},
		plans:  make(map[string]*planConf, len(in.Plans)),
		keys:   make(map[string]*keyConf, len(in.Keys)),
	}
	var errs []error
	for i := range in.Stages {
		st := &in.Stages[i]
		sc := p.stage(stageRef{st.APIID, st.StageName})
		sc.account = st.Account
		for k, ms := range st.MethodSettings {
			if ms == nil {
				continue
			}
			if k == "*/*" {
				sc.def, sc.hasDef = *ms, true
				continue
			}
			ref, ok := parseStageMethodKey(k)
			if !ok {
				errs = append(errs, fmt.Errorf("stage %s/%s: method setting %q: not {resourcePath}/{httpMethod}", st.APIID, st.StageName, k))
				continue
			}
			sc.methods[ref] = *ms
		}
	}
	for i := range in.Keys {
		k := &in.Keys[i]
		if k.ID == "" || k.Value == "" {
			errs = append(errs, fmt.Errorf("api key %q: no id or value", k.ID))
			continue
		}
		p.keys[k.ID] = &keyConf{id: k.ID, value: k.Value, enabled: k.Enabled, account: k.Account}
	}
	for i := range in.Plans {
		up := &in.Plans[i]
		pc := &planConf{id: up.ID, account: up.Account}
		if t := up.Throttle; t != nil {
			pc.throttle = optLimit{Limit{Rate: t.RateLimit, Burst: t.BurstLimit}, true}
		}
		if q := up.Quota; q != nil {
			if err := checkQuota(q); err != nil {
				errs = append(errs, fmt.Errorf("usage plan %s: %w", up.ID, err))
			} else {
				pc.quota = &quotaConf{limit: int64(q.Limit), period: q.Period}
			}
		}
		p.plans[up.ID] = pc
	}
	// Bind keys to stages, in a stable order so that conflicts resolve the same way on
	// every node.
	pks := slices.Clone(in.PlanKeys)
	slices.SortFunc(pks, func(a, b apimodel.UsagePlanKey) int {
		return cmp.Or(strings.Compare(a.UsagePlanID, b.UsagePlanID), strings.Compare(a.KeyID, b.KeyID))
	})
	plansByID := map[string]*apimodel.UsagePlan{}
	for i := range in.Plans {
		plansByID[in.Plans[i].ID] = &in.Plans[i]
	}
	for _, pk := range pks {
		up, pc, kc := plansByID[pk.UsagePlanID], p.plans[pk.UsagePlanID], p.keys[pk.KeyID]
		if up == nil || kc == nil {
			errs = append(errs, fmt.Errorf("usage plan key %s/%s: unknown usage plan or api key", pk.UsagePlanID, pk.KeyID))
			continue
		}
		for _, as := range up.APIStages {
			sc := p.stage(stageRef{as.APIID, as.Stage})
			if prev := sc.keys[kc.value]; prev != nil {
				errs = append(errs, fmt.Errorf("api key %s is in usage plans %s and %s, both on stage %s/%s; using %s",
					kc.id, prev.plan.id, pc.id, as.APIID, as.Stage, prev.plan.id))
				continue
			}
			b := &binding{plan: pc, key: kc}
			for mk, ts := range as.Throttle {
				if ts == nil {
					continue
				}
				l := Limit{Rate: ts.RateLimit, Burst: ts.BurstLimit}
				if mk == planStageWideKey {
					b.stageWide = optLimit{l, true}
					continue
				}
				ref, ok := parsePlanMethodKey(mk)
				if !ok {
					errs = append(errs, fmt.Errorf("usage plan %s stage %s/%s: throttle key %q: not {resourcePath}/{httpMethod}", pc.id, as.APIID, as.Stage, mk))
					continue
				}
				if b.methods == nil {
					b.methods = map[methodRef]Limit{}
				}
				b.methods[ref] = l
			}
			sc.keys[kc.value] = b
		}
	}
	return p, errors.Join(errs...)
}

func (p *Plans) stage(ref stageRef) *stageConf {
	sc := p.stages[ref]
	if sc == nil {
		sc = &stageConf{ref: ref, methods: map[methodRef]apimodel.MethodSetting{}, keys: map[string]*binding{}}
		p.stages[ref] = sc
	}
	return sc
}

func checkQuota(q *apimodel.QuotaSettings) error {
	switch q.Period {
	case apimodel.QuotaDay, apimodel.QuotaWeek, apimodel.QuotaMonth:
	default:
		return fmt.Errorf("quota period %q is not DAY, WEEK or MONTH", q.Period)
	}
	if q.Limit < 0 {
		return fmt.Errorf("quota limit %d is negative", q.Limit)
	}
	return nil
}

// planStageWideKey is the ApiStage.throttle key of a limit on every method of the stage.
const planStageWideKey = "/*/*"

// parseStageMethodKey reads a Stage.methodSettings key: the resource path without its
// leading slash, then the method ("pets/{id}/GET"; "/GET" for the root resource).
func parseStageMethodKey(k string) (methodRef, bool) {
	i := strings.LastIndexByte(k, '/')
	if i < 0 || i == len(k)-1 {
		return methodRef{}, false
	}
	return methodRef{path: "/" + strings.TrimPrefix(k[:i], "/"), method: k[i+1:]}, true
}

// parsePlanMethodKey reads an ApiStage.throttle key: the resource path, then the method
// ("/pets/GET"; "//GET" for the root resource).
func parsePlanMethodKey(k string) (methodRef, bool) {
	i := strings.LastIndexByte(k, '/')
	if i <= 0 || i == len(k)-1 || k[0] != '/' {
		return methodRef{}, false
	}
	path := k[:i]
	if path != "/" && strings.HasSuffix(path, "/") {
		return methodRef{}, false
	}
	return methodRef{path: path, method: k[i+1:]}, true
}

// stageLimit resolves the stage-level limit of one method: its own entry, field by field
// falling back to "*/*" where the entry holds a negative ("inherit") value. The result
// is unset when neither level sets both fields.
func (sc *stageConf) stageLimit(m methodRef) optLimit {
	rate, burst := -1.0, -1
	if sc.hasDef {
		rate, burst = sc.def.ThrottlingRateLimit, sc.def.ThrottlingBurstLimit
	}
	if ms, ok := sc.methods[m]; ok {
		if ms.ThrottlingRateLimit >= 0 {
			rate = ms.ThrottlingRateLimit
		}
		if ms.ThrottlingBurstLimit >= 0 {
			burst = ms.ThrottlingBurstLimit
		}
	}
	if rate < 0 || burst < 0 {
		return optLimit{}
	}
	return optLimit{Limit{Rate: rate, Burst: burst}, true}
}

// sameStageLimits reports whether two stage configurations throttle identically (so
// their buckets can be carried over).
func sameStageLimits(a, b *stageConf) bool {
	if a.hasDef != b.hasDef || len(a.methods) != len(b.methods) {
		return false
	}
	if a.hasDef && (a.def.ThrottlingRateLimit != b.def.ThrottlingRateLimit || a.def.ThrottlingBurstLimit != b.def.ThrottlingBurstLimit) {
		return false
	}
	for k, x := range a.methods {
		y, ok := b.methods[k]
		if !ok || x.ThrottlingRateLimit != y.ThrottlingRateLimit || x.ThrottlingBurstLimit != y.ThrottlingBurstLimit {
			return false
		}
	}
	return true
}
