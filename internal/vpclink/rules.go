package vpclink

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	"gatehouse/internal/apimodel"
)

// ruleRT is a compiled application load balancer listener rule: every condition must
// match (each by any of its patterns).
type ruleRT struct {
	priority int
	paths    []string // path-pattern values; nil means no such condition
	hosts    []string // host-header values, lowercased
	act      action
}

// action is what a rule or a listener's default does: forward to weighted target
// groups, or answer with a fixed response.
type action struct {
	tgs   []weightedTG
	fixed *apimodel.FixedResponseActionConfig
}

type weightedTG struct {
	tg     *targetGroup
	weight int
}

// compileRule compiles a stored rule; tgs resolves target group ARNs.
func compileRule(r *apimodel.Rule, tgs func(string) *targetGroup) (ruleRT, error) {
	p, err := strconv.Atoi(r.Priority)
	if err != nil || p < 1 || p > 50000 {
		return ruleRT{}, fmt.Errorf("rule %s: priority %q", r.RuleArn, r.Priority)
	}
	rt := ruleRT{priority: p}
	for _, c := range r.Conditions {
		switch c.Field {
		case apimodel.ConditionPathPattern:
			rt.paths = append(rt.paths, c.Patterns()...)
		case apimodel.ConditionHostHeader:
			for _, h := range c.Patterns() {
				rt.hosts = append(rt.hosts, strings.ToLower(h))
			}
		default:
			return ruleRT{}, fmt.Errorf("rule %s: condition %q is not supported (path-pattern, host-header)", r.RuleArn, c.Field)
		}
	}
	if rt.paths == nil && rt.hosts == nil {
		return ruleRT{}, fmt.Errorf("rule %s has no conditions", r.RuleArn)
	}
	rt.act, err = compileActions(r.Actions, tgs)
	if err != nil {
		return ruleRT{}, fmt.Errorf("rule %s: %w", r.RuleArn, err)
	}
	return rt, nil
}

// compileActions compiles a rule's (or a listener's default) actions: the forward or
// fixed-response action with the lowest order.
func compileActions(acts []apimodel.Action, tgs func(string) *targetGroup) (action, error) {
	acts = slices.Clone(acts)
	slices.SortStableFunc(acts, func(a, b apimodel.Action) int { return a.Order - b.Order })
	for _, a := range acts {
		switch a.Type {
		case apimodel.ActionForward:
			var out action
			for _, w := range a.ForwardTargetGroups() {
				tg := tgs(w.TargetGroupArn)
				if tg == nil {
					return action{}, fmt.Errorf("unknown target group %s", w.TargetGroupArn)
				}
				weight := 1
				if w.Weight != nil {
					weight = *w.Weight
				}
				if weight > 0 {
					out.tgs = append(out.tgs, weightedTG{tg: tg, weight: weight})
				}
			}
			if len(out.tgs) == 0 {
				return action{}, fmt.Errorf("forward action without target groups")
			}
			return out, nil
		case apimodel.ActionFixedResponse:
			if a.FixedResponseConfig == nil {
				return action{}, fmt.Errorf("fixed-response action without its configuration")
			}
			return action{fixed: a.FixedResponseConfig}, nil
		}
	}
	return action{}, fmt.Errorf("no forward or fixed-response action")
}

// matches reports whether the rule matches a request for host and path.
func (r *ruleRT) matches(host, path string) bool {
	if r.paths != nil && !slices.ContainsFunc(r.paths, func(p string) bool { return globMatch(p, path, false) }) {
		return false
	}
	if r.hosts != nil {
		h := hostOnly(host)
		if !slices.ContainsFunc(r.hosts, func(p string) bool { return globMatch(p, h, true) }) {
			return false
		}
	}
	return true
}

// hostOnly strips a port from a Host header value.
func hostOnly(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
}

// globMatch reports whether s matches pattern, where '*' matches any run of characters
// (including none) and '?' exactly one; fold compares ASCII case-insensitively. It runs
// in O(len(pattern)·len(s)) at worst.
func globMatch(pattern, s string, fold bool) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && (pattern[p] == '?' || eqByte(pattern[p], s[i], fold)):
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

func eqByte(a, b byte, fold bool) bool {
	if a == b {
		return true
	}
	if !fold {
		return false
	}
	if 'A' <= a && a <= 'Z' {
		a += 'a' - 'A'
	}
	if 'A' <= b && b <= 'Z' {
		b += 'a' - 'A'
	}
	return a == b
}

// choose picks one of the action's target groups by weight; n is a rotating counter.
func (a *action) choose(n uint64) *targetGroup {
	if len(a.tgs) == 1 {
		return a.tgs[0].tg
	}
	total := 0
	for _, w := range a.tgs {
		total += w.weight
	}
	x := int(n % uint64(total))
	for _, w := range a.tgs {
		if x < w.weight {
			return w.tg
		}
		x -= w.weight
	}
	return a.tgs[len(a.tgs)-1].tg
}
