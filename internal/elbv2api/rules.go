package elbv2api

import (
	"errors"
	"regexp"
	"sort"
	"strconv"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/store"
)

const (
	maxRulesPerListener = 100
	maxConditionValues  = 5
	maxPatternLen       = 128
	conditionFieldList  = "http-header, http-request-method, host-header, path-pattern, query-string, source-ip"
)

var (
	pathPatternRe = regexp.MustCompile(`^[A-Za-z0-9_\-.$/~"'@:+&*?]+$`)
	hostPatternRe = regexp.MustCompile(`^[A-Za-z0-9\-.*?]+$`)
)

type xRule struct {
	RuleArn    string
	Priority   string
	Conditions []xCondition `xml:"Conditions>member"`
	Actions    []xAction    `xml:"Actions>member"`
	IsDefault  bool
}

type xCondition struct {
	Field             string
	Values            []string `xml:"Values>member"`
	HostHeaderConfig  *xValues `xml:",omitempty"`
	PathPatternConfig *xValues `xml:",omitempty"`
}

type xValues struct {
	Values []string `xml:"Values>member"`
}

func toXRule(r *apimodel.Rule) xRule {
	x := xRule{RuleArn: r.RuleArn, Priority: r.Priority, Actions: toXActions(r.Actions), IsDefault: r.IsDefault,
		Conditions: []xCondition{}}
	for i := range r.Conditions {
		cond := &r.Conditions[i]
		xc := xCondition{Field: cond.Field, Values: cond.Patterns()}
		switch cond.Field {
		case apimodel.ConditionPathPattern:
			xc.PathPatternConfig = &xValues{Values: cond.Patterns()}
		case apimodel.ConditionHostHeader:
			xc.HostHeaderConfig = &xValues{Values: cond.Patterns()}
		}
		x.Conditions = append(x.Conditions, xc)
	}
	return x
}

type ruleList struct {
	Rules      []xRule `xml:"Rules>member"`
	NextMarker string  `xml:",omitempty"`
}

// checkPattern validates one path-pattern or host-header value.
func checkPattern(field, value string) error {
	switch {
	case value == "":
		return validationf("A condition value cannot be empty")
	case len(value) > maxPatternLen:
		return validationf("The '%s' condition value '%s' cannot be longer than %d characters", field, value, maxPatternLen)
	case field == apimodel.ConditionPathPattern && !pathPatternRe.MatchString(value):
		return validationf("The path-pattern condition value '%s' contains invalid characters", value)
	case field == apimodel.ConditionHostHeader && !hostPatternRe.MatchString(value):
		return validationf("The host-header condition value '%s' contains invalid characters", value)
	}
	return nil
}

// parseConditions reads Conditions.member.N (path-pattern and host-header).
func parseConditions(c *call) ([]apimodel.RuleCondition, error) {
	members := structList(c.p, "Conditions")
	if len(members) == 0 {
		var v validationErrors
		v.null("conditions")
		return nil, v.err()
	}
	var out []apimodel.RuleCondition
	seen := map[string]bool{}
	total := 0
	for _, m := range members {
		field, _ := str(c.p, m+".Field")
		var cond apimodel.RuleCondition
		cond.Field = field
		values := strList(c.p, m+".Values")
		var cfgValues []string
		hasCfg := false
		switch field {
		case apimodel.ConditionPathPattern:
			if hasCfg = has(c.p, m+".PathPatternConfig"); hasCfg {
				cfgValues = strList(c.p, m+".PathPatternConfig.Values")
				cond.PathPatternConfig = &apimodel.PathPatternConditionConfig{Values: cfgValues}
			}
		case apimodel.ConditionHostHeader:
			if hasCfg = has(c.p, m+".HostHeaderConfig"); hasCfg {
				cfgValues = strList(c.p, m+".HostHeaderConfig.Values")
				cond.HostHeaderConfig = &apimodel.HostHeaderConditionConfig{Values: cfgValues}
			}
		case "http-header", "http-request-method", "query-string", "source-ip":
			return nil, newErr(codeInvalidConfig, "Condition field '%s' is not supported by gatehouse; use path-pattern or host-header", field)
		default:
			return nil, validationf("Condition field '%s' must be one of '[%s]'", field, conditionFieldList)
		}
		if has(c.p, m+".RegexValues") || has(c.p, m+".PathPatternConfig.RegexValues") || has(c.p, m+".HostHeaderConfig.RegexValues") {
			return nil, newErr(codeInvalidConfig, "Regular expression condition values are not supported by gatehouse")
		}
		if len(values) > 0 && hasCfg {
			return nil, validationf("You cannot specify both 'Values' and '%s' for condition '%s'", map[string]string{
				apimodel.ConditionPathPattern: "PathPatternConfig", apimodel.ConditionHostHeader: "HostHeaderConfig"}[field], field)
		}
		cond.Values = values
		all := values
		if hasCfg {
			all = cfgValues
		}
		if len(all) == 0 {
			return nil, validationf("A condition value must be specified for condition '%s'", field)
		}
		for _, val := range all {
			if err := checkPattern(field, val); err != nil {
				return nil, err
			}
		}
		if seen[field] {
			return nil, validationf("A rule can only have one '%s' condition", field)
		}
		seen[field] = true
		total += len(all)
		out = append(out, cond)
	}
	if total > maxConditionValues {
		return nil, validationf("A rule can only have '%d' condition values", maxConditionValues)
	}
	return out, nil
}

func (s *Server) createRule(c *call) (any, error) {
	p := c.p
	var v validationErrors
	listenerARN, ok := str(p, "ListenerArn")
	if !ok {
		v.null("listenerArn")
	}
	if !has(p, "Conditions") {
		v.null("conditions")
	}
	if !has(p, "Actions") {
		v.null("actions")
	}
	prio, hasPrio, err := v.rangeParam(p, "Priority", "priority", 1, 50000)
	if err != nil {
		return nil, err
	}
	if !hasPrio {
		v.null("priority")
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	conds, err := parseConditions(c)
	if err != nil {
		return nil, err
	}
	if err := s.readOnly(c, "Listener", listenerARN); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.loadListener(c, listenerARN)
	if err != nil {
		return nil, err
	}
	lb, err := s.loadLB(c, l.LoadBalancerArn)
	if err != nil {
		return nil, err
	}
	if lb.Type != apimodel.LoadBalancerApplication {
		return nil, newErr(codeUnsupportedProtocol, "Listener rules are not supported for listeners with the %s protocol", l.Protocol)
	}
	actions, err := s.parseActions(c, "Actions", "actions", lb, l.Protocol)
	if err != nil {
		return nil, err
	}
	rules, err := s.listenerRules(c, l.ListenerArn)
	if err != nil {
		return nil, err
	}
	prioStr := strconv.Itoa(prio)
	n := 0
	for _, r := range rules {
		if r.IsDefault {
			continue
		}
		n++
		if r.Priority == prioStr {
			return nil, newErr(codePriorityInUse, "Priority '%d' is currently in use", prio)
		}
	}
	if n >= maxRulesPerListener {
		return nil, newErr(codeTooManyRules, "You've reached the limit on the number of rules per load balancer")
	}
	la, _ := apimodel.ParseELBARN(l.ListenerArn)
	id := newID()
	r := &apimodel.Rule{
		Account: c.caller.Account, ListenerArn: l.ListenerArn,
		RuleArn:  s.arnPrefix(c.caller.Account) + "listener-rule/" + la.LBType + "/" + la.Name + "/" + la.LBID + "/" + la.ListenerID + "/" + id,
		Priority: prioStr, Conditions: conds, Actions: actions,
	}
	if err := s.save(c.ctx, apimodel.RuleKey(c.caller.Account, id), r); err != nil {
		return nil, err
	}
	if err := s.syncAssociations(c); err != nil {
		return nil, err
	}
	return ruleList{Rules: []xRule{toXRule(r)}}, nil
}

// listenerRules returns the rules of a listener (declared or stored), ordered by
// priority with the default rule last.
func (s *Server) listenerRules(c *call, listenerARN string) ([]*apimodel.Rule, error) {
	all, err := s.allRules(c)
	if err != nil {
		return nil, err
	}
	var out []*apimodel.Rule
	for _, r := range all {
		if r.ListenerArn == listenerARN {
			out = append(out, r)
		}
	}
	sortRules(out)
	return out, nil
}

func sortRules(rules []*apimodel.Rule) {
	key := func(r *apimodel.Rule) int {
		if r.IsDefault {
			return 1 << 30
		}
		n, _ := strconv.Atoi(r.Priority)
		return n
	}
	sort.SliceStable(rules, func(i, j int) bool { return key(rules[i]) < key(rules[j]) })
}

// loadRule returns the caller's rule with ARN arn (declared or stored), or RuleNotFound.
func (s *Server) loadRule(c *call, arn string) (*apimodel.Rule, error) {
	if r, ok := s.declared.rule(c.caller.Account, arn); ok {
		return r, nil
	}
	return loadStored(c, s, arn, "listener-rule", "listener rule", apimodel.RuleKey, ruleARNOf,
		newErr(codeRuleNotFound, "One or more rules not found"))
}

func (s *Server) describeRules(c *call) (any, error) {
	arns := strList(c.p, "RuleArns")
	listenerARN, byListener := str(c.p, "ListenerArn")
	sel, err := pickByARNOrParent(c, arns, byListener, s.loadRule, func() ([]*apimodel.Rule, error) {
		if _, err := s.loadListener(c, listenerARN); err != nil {
			return nil, err
		}
		return s.listenerRules(c, listenerARN)
	}, "Listener ARN and rule ARNs cannot be specified at the same time",
		"You must specify either listener rule ARNs or a listener ARN")
	if err != nil {
		return nil, err
	}
	items, next, err := pageOf(c.p, sel, toXRule)
	if err != nil {
		return nil, err
	}
	return ruleList{Rules: items, NextMarker: next}, nil
}

func (s *Server) deleteRule(c *call) (any, error) {
	arn, err := s.writableARN(c, "RuleArn", "ruleArn", "Rule")
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.loadRule(c, arn)
	if err != nil {
		return nil, err
	}
	if r.IsDefault {
		return nil, newErr(codeOperationNotPermitted, "Default rule '%s' cannot be deleted", arn)
	}
	a, _ := apimodel.ParseELBARN(arn)
	if err := s.store.Delete(c.ctx, apimodel.BucketELB, apimodel.RuleKey(c.caller.Account, a.ID), 0); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	return nil, s.syncAssociations(c)
}
