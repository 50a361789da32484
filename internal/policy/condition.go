package policy

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// family groups condition operators by how they compare values.
type family uint8

const (
	famString  family = iota // StringEquals, StringNotEquals, ...IgnoreCase
	famLike                  // StringLike, StringNotLike
	famArn                   // ArnEquals, ArnLike, ArnNotEquals, ArnNotLike
	famIP                    // IpAddress, NotIpAddress
	famNumeric               // Numeric*
	famDate                  // Date*
	famBool                  // Bool
	famBinary                // BinaryEquals
	famNull                  // Null
)

type comparison uint8

const (
	cmpEq comparison = iota
	cmpLt
	cmpLe
	cmpGt
	cmpGe
)

type qualifier uint8

const (
	qualNone qualifier = iota
	qualAny            // ForAnyValue:
	qualAll            // ForAllValues:
)

// operator is a parsed condition operator name such as
// "ForAnyValue:StringNotLikeIfExists".
type operator struct {
	fam      family
	cmp      comparison
	negated  bool // StringNotEquals, ArnNotLike, NotIpAddress, NumericNotEquals, ...
	fold     bool // ...IgnoreCase
	ifExists bool
	qual     qualifier
}

// parseOperator parses a condition operator name. Names are case-sensitive:
// IAM rejects "stringEquals" with "Invalid Condition type".
func parseOperator(name string) (operator, error) {
	var op operator
	base := name
	switch {
	case strings.HasPrefix(base, "ForAnyValue:"):
		op.qual, base = qualAny, base[len("ForAnyValue:"):]
	case strings.HasPrefix(base, "ForAllValues:"):
		op.qual, base = qualAll, base[len("ForAllValues:"):]
	}
	if b, ok := strings.CutSuffix(base, "IfExists"); ok {
		op.ifExists, base = true, b
	}
	switch base {
	case "StringEquals":
		op.fam = famString
	case "StringNotEquals":
		op.fam, op.negated = famString, true
	case "StringEqualsIgnoreCase":
		op.fam, op.fold = famString, true
	case "StringNotEqualsIgnoreCase":
		op.fam, op.fold, op.negated = famString, true, true
	case "StringLike":
		op.fam = famLike
	case "StringNotLike":
		op.fam, op.negated = famLike, true
	case "ArnEquals", "ArnLike":
		op.fam = famArn
	case "ArnNotEquals", "ArnNotLike":
		op.fam, op.negated = famArn, true
	case "IpAddress":
		op.fam = famIP
	case "NotIpAddress":
		op.fam, op.negated = famIP, true
	case "Bool":
		op.fam = famBool
	case "BinaryEquals":
		op.fam = famBinary
	case "Null":
		op.fam = famNull
	case "NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
		"NumericGreaterThan", "NumericGreaterThanEquals":
		op.fam = famNumeric
		op.cmp, op.negated = parseComparison(base[len("Numeric"):])
	case "DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals",
		"DateGreaterThan", "DateGreaterThanEquals":
		op.fam = famDate
		op.cmp, op.negated = parseComparison(base[len("Date"):])
	default:
		return op, fmt.Errorf("unknown condition operator %q", name)
	}
	if op.fam == famNull {
		// IAM: "You can add IfExists to the end of any condition operator name
		// except the Null condition".
		if op.ifExists {
			return op, fmt.Errorf("condition operator %q: IfExists cannot be used with Null", name)
		}
		if op.qual != qualNone {
			return op, fmt.Errorf("condition operator %q: Null cannot be qualified with ForAnyValue/ForAllValues", name)
		}
	}
	return op, nil
}

func parseComparison(s string) (comparison, bool) {
	switch s {
	case "NotEquals":
		return cmpEq, true
	case "LessThan":
		return cmpLt, false
	case "LessThanEquals":
		return cmpLe, false
	case "GreaterThan":
		return cmpGt, false
	case "GreaterThanEquals":
		return cmpGe, false
	}
	return cmpEq, false
}

// condition is one compiled (operator, key, values) triple. A statement's
// conditions are ANDed; the values of one condition are ORed (IAM "Conditions
// with multiple context keys or values").
type condition struct {
	opName string
	op     operator
	key    keyRef

	pats  []pattern    // famString, famLike
	arns  []arnPattern // famArn
	nets  []netip.Prefix
	nums  []float64
	dates []policyDate
	bools []boolValue
	bins  []string // famBinary: base-64 text
	nulls []bool   // famNull: true = "key must be absent"
}

type policyDate struct {
	t       time.Time
	subSecs bool // the policy value has sub-second precision
}

type boolValue struct {
	v   bool
	pat *pattern // non-nil: a policy variable, resolved per request
}

// condValue is one raw value from the policy: JSON strings, numbers and bools
// are all carried as their string text (IAM reads "10", 10 and true alike).
type condValue struct {
	s      string
	isBool bool
	isNum  bool
}

// compileCondition builds a condition from its operator, key and values.
func compileCondition(opName string, op operator, key string, values []condValue, vars bool) (condition, error) {
	c := condition{opName: opName, op: op, key: newKeyRef(key)}
	for _, v := range values {
		switch op.fam {
		case famString:
			c.pats = append(c.pats, compilePattern(v.s, patternOpts{vars: vars, fold: op.fold}))
		case famLike:
			c.pats = append(c.pats, compilePattern(v.s, patternOpts{vars: vars, wildcards: true}))
		case famArn:
			c.arns = append(c.arns, compileArnPattern(v.s, patternOpts{vars: vars}))
		case famIP:
			p, err := parseCIDR(v.s)
			if err != nil {
				return c, err
			}
			c.nets = append(c.nets, p)
		case famNumeric:
			n, ok := parseNumber(v.s)
			if !ok {
				return c, fmt.Errorf("%q is not a number", v.s)
			}
			c.nums = append(c.nums, n)
		case famDate:
			d, ok := parseDate(v.s)
			if !ok {
				return c, fmt.Errorf("%q is not an ISO 8601 (W3C) date or epoch seconds", v.s)
			}
			c.dates = append(c.dates, d)
		case famBool:
			if b, ok := parseBoolString(v.s); ok {
				c.bools = append(c.bools, boolValue{v: b})
				continue
			}
			if vars && strings.Contains(v.s, "${") {
				p := compilePattern(v.s, patternOpts{vars: true, fold: true})
				if p.kind == patTokens {
					c.bools = append(c.bools, boolValue{pat: &p})
					continue
				}
			}
			return c, fmt.Errorf("%q is not \"true\" or \"false\"", v.s)
		case famBinary:
			// IAM compares the request value with the base-64 text in the
			// policy; the text must be valid base-64.
			if _, err := base64.StdEncoding.DecodeString(v.s); err != nil {
				return c, fmt.Errorf("%q is not base64", v.s)
			}
			c.bins = append(c.bins, v.s)
		case famNull:
			b, ok := parseBoolString(v.s)
			if !ok {
				return c, fmt.Errorf("%q is not \"true\" or \"false\"", v.s)
			}
			c.nulls = append(c.nulls, b)
		}
	}
	return c, nil
}

// parseCIDR reads an IpAddress value: CIDR notation, or a bare address, which
// IAM reads with "the default prefix value of /32" (/128 for IPv6).
func parseCIDR(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR block", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR block", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// parseNumber accepts plain decimal numbers (optionally signed, with fraction
// and exponent). Go-only spellings (hex, "Inf", "NaN", underscores) are refused.
func parseNumber(s string) (float64, bool) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && isDigit(s[i]) {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && isDigit(s[i]) {
			i++
			exp++
		}
		if exp == 0 {
			return 0, false
		}
	}
	if i != len(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// parseDate reads a date condition value. IAM: "You must specify date/time
// values with one of the W3C implementations of the ISO 8601 date formats or
// in epoch (UNIX) time." A four-digit string is read as a W3C year (YYYY);
// any other all-digit string is epoch seconds. Date-times without a zone
// designator are read as UTC.
func parseDate(s string) (policyDate, bool) {
	if s == "" {
		return policyDate{}, false
	}
	allDigits := true
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			allDigits = false
			break
		}
	}
	if allDigits && len(s) != 4 {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return policyDate{}, false
		}
		return policyDate{t: time.Unix(n, 0).UTC()}, true
	}
	for _, layout := range [...]string{
		"2006",
		"2006-01",
		"2006-01-02",
		"2006-01-02T15:04Z07:00",
		"2006-01-02T15:04:05Z07:00",
		"2006-01-02T15:04:05.999999999Z07:00",
		"2006-01-02T15:04",
		"2006-01-02T15:04:05",
		"2006-01-02T15:04:05.999999999",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return policyDate{t: t, subSecs: t.Nanosecond() != 0}, true
		}
	}
	return policyDate{}, false
}

// eval evaluates the condition for r. The rules, from the IAM User Guide
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html):
//
//   - "If the key that you specify in a policy condition is not present in the
//     request context, the values do not match and the condition is false. If
//     the policy condition requires that the key is not matched, such as
//     StringNotLike or ArnNotLike, and the right key is not present, the
//     condition is true. This logic applies to all condition operators except
//     ...IfExists and Null check."
//   - ...IfExists: "If the key is not present, evaluate the condition element
//     as true."
//   - "The ForAllValues qualifier returns true if there are no context keys in
//     the request or if the context key value resolves to a null dataset"; for
//     ForAnyValue, "For no matching context key or a null dataset, the
//     condition returns false" (reference_policies_condition-single-vs-multi-
//     valued-context-keys.html).
//   - Multiple policy values for one key are ORed, and for a negated operator
//     NORed (reference_policies_multi-value-conditions.html).
func (c *condition) eval(r *Request) bool {
	n := r.count(&c.key)
	if c.op.fam == famNull {
		absent := n == 0
		for _, want := range c.nulls {
			if want == absent {
				return true
			}
		}
		return false
	}
	if n == 0 {
		switch {
		case c.op.ifExists:
			return true
		case c.op.qual == qualAll:
			return true
		case c.op.qual == qualAny:
			return false
		}
		return c.op.negated
	}
	switch c.op.qual {
	case qualAny:
		for i := 0; i < n; i++ {
			if c.matchAny(r, i) != c.op.negated {
				return true
			}
		}
		return false
	case qualAll:
		for i := 0; i < n; i++ {
			if c.matchAny(r, i) == c.op.negated {
				return false
			}
		}
		return true
	}
	// An unqualified operator over a multi-valued key: the positive operator
	// matches when any request value matches, the negated one when none does.
	for i := 0; i < n; i++ {
		if c.matchAny(r, i) {
			return !c.op.negated
		}
	}
	return c.op.negated
}

// matchAny reports whether request value i of the key matches any policy
// value under the positive (un-negated) form of the operator.
func (c *condition) matchAny(r *Request, i int) bool {
	switch c.op.fam {
	case famString, famLike:
		s := r.str(&c.key, i)
		for k := range c.pats {
			if c.pats[k].match(s, r) {
				return true
			}
		}
	case famArn:
		s := r.str(&c.key, i)
		for k := range c.arns {
			if c.arns[k].match(s, r) {
				return true
			}
		}
	case famIP:
		a, ok := r.addr(&c.key, i)
		if !ok {
			return false
		}
		a = a.Unmap()
		for _, p := range c.nets {
			if p.Contains(a) {
				return true
			}
		}
	case famNumeric:
		v, ok := r.num(&c.key, i)
		if !ok {
			return false
		}
		for _, p := range c.nums {
			if compareFloat(v, p, c.op.cmp) {
				return true
			}
		}
	case famDate:
		t, ok := r.date(&c.key, i)
		if !ok {
			return false
		}
		for _, p := range c.dates {
			rt := t
			if !p.subSecs {
				rt = rt.Truncate(time.Second)
			}
			if compareTime(rt, p.t, c.op.cmp) {
				return true
			}
		}
	case famBool:
		v, ok := r.boolean(&c.key, i)
		if !ok {
			return false
		}
		for _, p := range c.bools {
			if p.pat == nil {
				if p.v == v {
					return true
				}
				continue
			}
			if (v && p.pat.match("true", r)) || (!v && p.pat.match("false", r)) {
				return true
			}
		}
	case famBinary:
		s := r.str(&c.key, i)
		for _, b := range c.bins {
			if s == b {
				return true
			}
		}
	}
	return false
}

func compareFloat(v, p float64, c comparison) bool {
	switch c {
	case cmpLt:
		return v < p
	case cmpLe:
		return v <= p
	case cmpGt:
		return v > p
	case cmpGe:
		return v >= p
	}
	return v == p
}

func compareTime(v, p time.Time, c comparison) bool {
	switch c {
	case cmpLt:
		return v.Before(p)
	case cmpLe:
		return !v.After(p)
	case cmpGt:
		return v.After(p)
	case cmpGe:
		return !v.Before(p)
	}
	return v.Equal(p)
}
