package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The policy language versions. Policy variables are substituted only in
// VersionCurrent documents; in the others "${...}" is literal text (IAM).
const (
	VersionCurrent = "2012-10-17"
	VersionLegacy  = "2008-10-17"
)

// ParseError describes why a policy document was rejected.
type ParseError struct {
	Statement int    // index of the offending statement, or -1 for the document level
	Sid       string // Sid of that statement, when it has one
	Field     string // element path inside the statement or document, e.g. `Condition.StringEquals."aws:SourceVpce"`
	Msg       string
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("policy: ")
	if e.Statement >= 0 {
		fmt.Fprintf(&b, "Statement[%d]", e.Statement)
		if e.Sid != "" {
			fmt.Fprintf(&b, " (Sid %q)", e.Sid)
		}
		if e.Field != "" {
			b.WriteString(" ")
		}
	}
	b.WriteString(e.Field)
	if e.Statement >= 0 || e.Field != "" {
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Parse compiles a policy document (an API Gateway resource policy or a VPC
// endpoint policy). Everything a request is later compared with (globs,
// CIDRs, numbers, dates, ARN patterns, principals) is compiled here, so
// Evaluate parses nothing. Errors are *ParseError values naming the
// statement, the element and the reason. Parse does not check
// MaxResourcePolicySize.
//
// Element names and condition operator names are case-sensitive, as in IAM;
// condition key names are not. Unknown elements are errors, so that a typo
// such as "Actions" is not silently ignored. A statement without Principal or
// NotPrincipal applies to every caller (the identity-policy reading, as for
// Lambda authorizer output).
func Parse(src []byte) (*Policy, error) {
	if !json.Valid(src) {
		var v any
		err := json.Unmarshal(src, &v)
		msg := "document is not valid JSON"
		if err != nil {
			msg += ": " + err.Error()
		}
		return nil, docErr("", msg)
	}
	if kindOf(src) != '{' {
		return nil, docErr("", "document must be a JSON object")
	}
	top, err := members(src)
	if err != nil {
		return nil, docErr("", err.Error())
	}
	p := &Policy{}
	var stmtRaw json.RawMessage
	for _, m := range top {
		switch m.name {
		case "Version":
			s, ok := jsonString(m.raw)
			if !ok {
				return nil, docErr("Version", "must be a string")
			}
			if s != VersionCurrent && s != VersionLegacy {
				return nil, docErr("Version", fmt.Sprintf("%q is not a policy language version (want %q or %q)", s, VersionCurrent, VersionLegacy))
			}
			p.version = s
		case "Id":
			s, ok := jsonString(m.raw)
			if !ok {
				return nil, docErr("Id", "must be a string")
			}
			p.id = s
		case "Statement":
			stmtRaw = m.raw
		default:
			return nil, docErr("", fmt.Sprintf("unknown element %q (want Version, Id, Statement)", m.name))
		}
	}
	if stmtRaw == nil {
		return nil, docErr("", "no Statement element")
	}
	var raws []json.RawMessage
	switch kindOf(stmtRaw) {
	case '{':
		raws = []json.RawMessage{stmtRaw}
	case '[':
		if err := json.Unmarshal(stmtRaw, &raws); err != nil {
			return nil, docErr("Statement", err.Error())
		}
		if len(raws) == 0 {
			return nil, docErr("Statement", "must contain at least one statement")
		}
	default:
		return nil, docErr("Statement", "must be an object or a list of objects")
	}
	vars := p.version == VersionCurrent
	stmts := make([]statement, 0, len(raws))
	for i, raw := range raws {
		s, err := parseStatement(i, raw, vars)
		if err != nil {
			return nil, err
		}
		stmts = append(stmts, s)
	}
	// Deny statements first: the first statement that applies then decides.
	p.stmts = make([]statement, 0, len(stmts))
	for _, s := range stmts {
		if s.effect == Deny {
			p.stmts = append(p.stmts, s)
		}
	}
	for _, s := range stmts {
		if s.effect == Allow {
			p.stmts = append(p.stmts, s)
		}
	}
	p.n = len(stmts)
	return p, nil
}

func docErr(field, msg string) error {
	return &ParseError{Statement: -1, Field: field, Msg: msg}
}

func parseStatement(idx int, raw json.RawMessage, vars bool) (statement, error) {
	st := statement{index: idx}
	fail := func(field, format string, args ...any) error {
		return &ParseError{Statement: idx, Sid: st.sid, Field: field, Msg: fmt.Sprintf(format, args...)}
	}
	if kindOf(raw) != '{' {
		return st, fail("", "must be a JSON object")
	}
	ms, err := members(raw)
	if err != nil {
		return st, fail("", "%s", err)
	}
	byName := make(map[string]json.RawMessage, len(ms))
	unknown := ""
	for _, m := range ms {
		switch m.name {
		case "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction",
			"Resource", "NotResource", "Condition":
			byName[m.name] = m.raw
		default:
			if unknown == "" {
				unknown = m.name
			}
		}
	}
	if v, ok := byName["Sid"]; ok {
		s, ok := jsonString(v)
		if !ok {
			return st, fail("Sid", "must be a string")
		}
		st.sid = s
	}
	if unknown != "" {
		return st, fail("", "unknown element %q (want Sid, Effect, Principal, NotPrincipal, Action, NotAction, Resource, NotResource, Condition)", unknown)
	}

	// Effect.
	v, ok := byName["Effect"]
	if !ok {
		return st, fail("", "Effect is missing")
	}
	switch s, _ := jsonString(v); s {
	case "Allow":
		st.effect = Allow
	case "Deny":
		st.effect = Deny
	default:
		return st, fail("Effect", "must be \"Allow\" or \"Deny\", not %s", compact(v))
	}

	// Principal / NotPrincipal.
	pr, hasP := byName["Principal"]
	npr, hasNP := byName["NotPrincipal"]
	switch {
	case hasP && hasNP:
		return st, fail("", "Principal and NotPrincipal cannot both be present")
	case hasP || hasNP:
		field := "Principal"
		if hasNP {
			field, pr, st.notPrincipal = "NotPrincipal", npr, true
		}
		st.hasPrincipal = true
		if err := parsePrincipal(&st.principals, pr); err != nil {
			return st, fail(field, "%s", err)
		}
	}

	// Action / NotAction.
	field, av, err := exactlyOne(byName, "Action", "NotAction")
	if err != nil {
		return st, fail("", "%s", err)
	}
	st.notAction = field == "NotAction"
	actions, err := stringList(av)
	if err != nil {
		return st, fail(field, "%s", err)
	}
	for _, a := range actions {
		if a != "*" && (!strings.Contains(a, ":") || strings.HasPrefix(a, ":")) {
			return st, fail(field, "%q is not \"*\" or \"service:action\"", a)
		}
		st.actions = append(st.actions, compilePattern(a, patternOpts{wildcards: true, fold: true}))
	}

	// Resource / NotResource.
	field, rv, err := exactlyOne(byName, "Resource", "NotResource")
	if err != nil {
		return st, fail("", "%s", err)
	}
	st.notResource = field == "NotResource"
	resources, err := stringList(rv)
	if err != nil {
		return st, fail(field, "%s", err)
	}
	for _, r := range resources {
		st.resources = append(st.resources, compilePattern(r, patternOpts{wildcards: true, vars: vars}))
	}

	// Condition.
	if cv, ok := byName["Condition"]; ok {
		conds, field, err := parseConditionBlock(cv, vars)
		if err != nil {
			return st, fail(field, "%s", err)
		}
		st.conds = conds
	}
	return st, nil
}

func parsePrincipal(ps *principalSet, raw json.RawMessage) error {
	switch kindOf(raw) {
	case '"':
		s, _ := jsonString(raw)
		if s != "*" {
			return fmt.Errorf("a string principal must be \"*\", not %q (use {\"AWS\": ...})", s)
		}
		ps.all = true
		return nil
	case '{':
	default:
		return errors.New("must be \"*\" or an object such as {\"AWS\": ...}")
	}
	ms, err := members(raw)
	if err != nil {
		return err
	}
	if len(ms) == 0 {
		return errors.New("must name at least one principal")
	}
	for _, m := range ms {
		vals, err := stringList(m.raw)
		if err != nil {
			return fmt.Errorf("%s: %w", m.name, err)
		}
		for _, v := range vals {
			switch m.name {
			case "AWS":
				err = ps.addAWS(v)
			case "Service":
				err = ps.addService(v)
			case "Federated", "CanonicalUser":
				if v == "" {
					err = errors.New("empty principal")
				}
			default:
				return fmt.Errorf("unknown principal type %q (want AWS, Service, Federated or CanonicalUser)", m.name)
			}
			if err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
		}
	}
	return nil
}

func parseConditionBlock(raw json.RawMessage, vars bool) ([]condition, string, error) {
	if kindOf(raw) != '{' {
		return nil, "Condition", errors.New("must be an object of condition operators")
	}
	ops, err := members(raw)
	if err != nil {
		return nil, "Condition", err
	}
	var conds []condition
	for _, om := range ops {
		field := "Condition." + om.name
		op, err := parseOperator(om.name)
		if err != nil {
			return nil, "Condition", err
		}
		if kindOf(om.raw) != '{' {
			return nil, field, errors.New("must be an object of condition keys")
		}
		keys, err := members(om.raw)
		if err != nil {
			return nil, field, err
		}
		if len(keys) == 0 {
			return nil, field, errors.New("must name at least one condition key")
		}
		for _, km := range keys {
			kfield := field + "." + strconv.Quote(km.name)
			if km.name == "" {
				return nil, kfield, errors.New("empty condition key")
			}
			vals, err := condValues(km.raw)
			if err != nil {
				return nil, kfield, err
			}
			c, err := compileCondition(om.name, op, km.name, vals, vars)
			if err != nil {
				return nil, kfield, err
			}
			conds = append(conds, c)
		}
	}
	return conds, "", nil
}

// condValues reads a condition value: a string, number or bool, or a
// non-empty list of them.
func condValues(raw json.RawMessage) ([]condValue, error) {
	if kindOf(raw) != '[' {
		v, err := condScalar(raw)
		if err != nil {
			return nil, err
		}
		return []condValue{v}, nil
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, err
	}
	if len(elems) == 0 {
		return nil, errors.New("value list is empty")
	}
	out := make([]condValue, 0, len(elems))
	for _, e := range elems {
		v, err := condScalar(e)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func condScalar(raw json.RawMessage) (condValue, error) {
	switch k := kindOf(raw); k {
	case '"':
		s, _ := jsonString(raw)
		return condValue{s: s}, nil
	case 't', 'f':
		return condValue{s: string(bytes.TrimSpace(raw)), isBool: true}, nil
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return condValue{s: string(bytes.TrimSpace(raw)), isNum: true}, nil
	case '[':
		return condValue{}, errors.New("value lists cannot be nested")
	case '{':
		return condValue{}, errors.New("value must be a string, number or bool, not an object")
	case 'n':
		return condValue{}, errors.New("value must be a string, number or bool, not null")
	}
	return condValue{}, errors.New("value must be a string, number or bool")
}

// exactlyOne returns whichever of the two elements is present, and an error
// when neither or both are.
func exactlyOne(byName map[string]json.RawMessage, a, b string) (string, json.RawMessage, error) {
	va, okA := byName[a]
	vb, okB := byName[b]
	switch {
	case okA && okB:
		return "", nil, fmt.Errorf("%s and %s cannot both be present", a, b)
	case okA:
		return a, va, nil
	case okB:
		return b, vb, nil
	}
	return "", nil, fmt.Errorf("one of %s or %s is required", a, b)
}

// stringList reads a string or a non-empty list of non-empty strings.
func stringList(raw json.RawMessage) ([]string, error) {
	switch kindOf(raw) {
	case '"':
		s, _ := jsonString(raw)
		if s == "" {
			return nil, errors.New("must not be empty")
		}
		return []string{s}, nil
	case '[':
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return nil, err
		}
		if len(elems) == 0 {
			return nil, errors.New("list must not be empty")
		}
		out := make([]string, 0, len(elems))
		for _, e := range elems {
			s, ok := jsonString(e)
			if !ok {
				return nil, fmt.Errorf("list elements must be strings, not %s", compact(e))
			}
			if s == "" {
				return nil, errors.New("list elements must not be empty")
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("must be a string or a list of strings, not %s", compact(raw))
}

// member is one name/value pair of a JSON object, in document order.
type member struct {
	name string
	raw  json.RawMessage
}

// members splits a JSON object into its members, rejecting duplicate names
// (encoding/json would silently keep the last one).
func members(raw []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	var out []member
	seen := make(map[string]bool)
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, ok := kt.(string)
		if !ok {
			return nil, errors.New("object key is not a string")
		}
		if seen[name] {
			return nil, fmt.Errorf("duplicate element %q", name)
		}
		seen[name] = true
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		out = append(out, member{name: name, raw: v})
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	return out, nil
}

// kindOf returns the first byte of a JSON value ('{', '[', '"', 't', 'f',
// 'n', or the first character of a number).
func kindOf(raw []byte) byte {
	raw = bytes.TrimLeft(raw, " \t\r\n")
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

func jsonString(raw []byte) (string, bool) {
	if kindOf(raw) != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// compact renders a JSON value for an error message, shortened.
func compact(raw []byte) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		b.Reset()
		b.Write(raw)
	}
	s := b.String()
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}
