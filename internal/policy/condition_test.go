package policy

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

// condHolds reports whether an Allow statement guarded only by the given
// Condition element applies to r.
func condHolds(t *testing.T, cond string, r *Request) bool {
	t.Helper()
	p := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":`+cond+`}}`)
	return p.Evaluate(r) == Allow
}

func withCtx(f func(c *Context)) *Request {
	r := &Request{Principal: Principal{Anonymous: true}, Action: "execute-api:Invoke", Resource: testAPIARN + "/prod/GET/", Context: &Context{}}
	f(r.Context)
	return r
}

func ctxString(k Key, v string) *Request {
	return withCtx(func(c *Context) { c.SetString(k, v) })
}

func ctxAddr(k Key, a string) *Request {
	return withCtx(func(c *Context) { c.SetAddr(k, netip.MustParseAddr(a)) })
}

func ctxEpoch(n int64) *Request {
	return withCtx(func(c *Context) { c.EpochTime = n; c.Present = c.Present.With(KeyEpochTime) })
}

func ctxTime(s string) *Request {
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return withCtx(func(c *Context) { c.CurrentTime = tm; c.Present = c.Present.With(KeyCurrentTime) })
}

func ctxBool(v bool) *Request {
	return withCtx(func(c *Context) { c.SetSecureTransport(v) })
}

func ctxExtra(name string, vs ...string) *Request {
	return withCtx(func(c *Context) { c.SetExtra(name, vs...) })
}

func ctxNone() *Request { return withCtx(func(*Context) {}) }

// TestOperators is the cross product: every operator, against a request whose
// key matches, one whose key does not, and one without the key; and the same
// for the operator's IfExists form.
func TestOperators(t *testing.T) {
	const (
		t0    = "2024-01-01T00:00:00Z"
		epoch = 1704067200 // t0
	)
	rows := []struct {
		op, key, value string
		hit, miss      *Request
		absent         bool // result when the key is absent (without IfExists)
	}{
		{"StringEquals", "aws:SourceVpce", `"vpce-1"`, ctxString(KeySourceVpce, "vpce-1"), ctxString(KeySourceVpce, "VPCE-1"), false},
		{"StringNotEquals", "aws:SourceVpce", `"vpce-1"`, ctxString(KeySourceVpce, "vpce-2"), ctxString(KeySourceVpce, "vpce-1"), true},
		{"StringEqualsIgnoreCase", "aws:username", `"Alice"`, ctxString(KeyUsername, "aLICE"), ctxString(KeyUsername, "bob"), false},
		{"StringNotEqualsIgnoreCase", "aws:username", `"Alice"`, ctxString(KeyUsername, "bob"), ctxString(KeyUsername, "ALICE"), true},
		{"StringLike", "aws:UserAgent", `"curl/*"`, ctxString(KeyUserAgent, "curl/8.5.0"), ctxString(KeyUserAgent, "Curl/8"), false},
		{"StringNotLike", "aws:UserAgent", `"curl/*"`, ctxString(KeyUserAgent, "Wget/1.21"), ctxString(KeyUserAgent, "curl/8"), true},
		{"ArnEquals", "aws:PrincipalArn", `"arn:aws:iam::111111111111:user/*"`, ctxString(KeyPrincipalArn, "arn:aws:iam::111111111111:user/alice"), ctxString(KeyPrincipalArn, "arn:aws:iam::222222222222:user/alice"), false},
		{"ArnLike", "aws:PrincipalArn", `"arn:aws:iam::111111111111:user/*"`, ctxString(KeyPrincipalArn, "arn:aws:iam::111111111111:user/alice"), ctxString(KeyPrincipalArn, "arn:aws:iam::111111111111:role/alice"), false},
		{"ArnNotEquals", "aws:PrincipalArn", `"arn:aws:iam::111111111111:user/*"`, ctxString(KeyPrincipalArn, "arn:aws:iam::222222222222:user/alice"), ctxString(KeyPrincipalArn, "arn:aws:iam::111111111111:user/alice"), true},
		{"ArnNotLike", "execute-api:viaDomainArn", `"arn:aws:execute-api:*:111111111111:/domainnames/*"`, ctxString(KeyViaDomainArn, "arn:aws:execute-api:us-west-2:222222222222:/domainnames/x+1"), ctxString(KeyViaDomainArn, "arn:aws:execute-api:us-west-2:111111111111:/domainnames/x+1"), true},
		{"IpAddress", "aws:SourceIp", `"203.0.113.0/24"`, ctxAddr(KeySourceIp, "203.0.113.7"), ctxAddr(KeySourceIp, "198.51.100.1"), false},
		{"IpAddress", "aws:VpcSourceIp", `"203.0.113.7"`, ctxAddr(KeyVpcSourceIp, "203.0.113.7"), ctxAddr(KeyVpcSourceIp, "203.0.113.8"), false},
		{"IpAddress", "aws:SourceIp", `["10.0.0.0/8", "2001:DB8:1234:5678::/64"]`, ctxAddr(KeySourceIp, "2001:db8:1234:5678::1"), ctxAddr(KeySourceIp, "2001:db8:1234:5679::1"), false},
		{"NotIpAddress", "aws:VpcSourceIp", `"127.10.0.0/16"`, ctxAddr(KeyVpcSourceIp, "127.11.0.1"), ctxAddr(KeyVpcSourceIp, "127.10.9.9"), true},
		{"NumericEquals", "aws:EpochTime", `1700000000`, ctxEpoch(1700000000), ctxEpoch(1700000001), false},
		{"NumericNotEquals", "aws:EpochTime", `"1700000000"`, ctxEpoch(1700000001), ctxEpoch(1700000000), true},
		{"NumericLessThan", "aws:EpochTime", `1700000000`, ctxEpoch(1699999999), ctxEpoch(1700000000), false},
		{"NumericLessThanEquals", "aws:EpochTime", `1700000000`, ctxEpoch(1700000000), ctxEpoch(1700000001), false},
		{"NumericGreaterThan", "aws:EpochTime", `1700000000`, ctxEpoch(1700000001), ctxEpoch(1700000000), false},
		{"NumericGreaterThanEquals", "aws:EpochTime", `1.7e9`, ctxEpoch(1700000000), ctxEpoch(1699999999), false},
		{"NumericEquals", "s3:max-keys", `"10"`, ctxExtra("s3:max-keys", "10.0"), ctxExtra("s3:max-keys", "ten"), false},
		{"DateEquals", "aws:CurrentTime", `"` + t0 + `"`, ctxTime("2024-01-01T00:00:00.5Z"), ctxTime("2024-01-01T00:00:01Z"), false},
		{"DateNotEquals", "aws:CurrentTime", `"` + t0 + `"`, ctxTime("2024-01-01T00:00:01Z"), ctxTime(t0), true},
		{"DateLessThan", "aws:CurrentTime", `"` + t0 + `"`, ctxTime("2023-12-31T23:59:59Z"), ctxTime(t0), false},
		{"DateLessThanEquals", "aws:CurrentTime", `"` + t0 + `"`, ctxTime(t0), ctxTime("2024-01-01T00:00:01Z"), false},
		{"DateGreaterThan", "aws:CurrentTime", `"2024-01-01"`, ctxTime("2024-01-01T00:00:01Z"), ctxTime(t0), false},
		{"DateGreaterThanEquals", "aws:CurrentTime", `"2024-01-01T01:00:00+01:00"`, ctxTime(t0), ctxTime("2023-12-31T23:59:59Z"), false},
		{"DateEquals", "aws:CurrentTime", `"1704067200"`, ctxTime(t0), ctxTime("2024-01-01T00:00:01Z"), false},
		{"DateEquals", "aws:CurrentTime", `1704067200`, ctxTime(t0), ctxTime("2024-01-01T00:00:01Z"), false},
		{"DateLessThan", "aws:EpochTime", `"2024"`, ctxEpoch(epoch - 1), ctxEpoch(epoch), false},
		{"DateEquals", "aws:TokenIssueTime", `"` + t0 + `"`, ctxExtra("aws:TokenIssueTime", t0), ctxExtra("aws:TokenIssueTime", "yesterday"), false},
		{"Bool", "aws:SecureTransport", `"false"`, ctxBool(false), ctxBool(true), false},
		{"Bool", "aws:SecureTransport", `true`, ctxBool(true), ctxBool(false), false},
		{"Bool", "aws:MultiFactorAuthPresent", `"true"`, ctxExtra("aws:MultiFactorAuthPresent", "true"), ctxExtra("aws:MultiFactorAuthPresent", "false"), false},
		{"BinaryEquals", "key", `"QmluYXJ5VmFsdWVJbkJhc2U2NA=="`, ctxExtra("key", "QmluYXJ5VmFsdWVJbkJhc2U2NA=="), ctxExtra("key", "ASIAIOSFODNN7EXAMPLE"), false},
	}
	for _, row := range rows {
		for _, ifExists := range []bool{false, true} {
			op := row.op
			absent := row.absent
			if ifExists {
				op += "IfExists"
				absent = true
			}
			cond := `{"` + op + `":{"` + row.key + `":` + row.value + `}}`
			t.Run(op+"/"+row.key+"/"+row.value, func(t *testing.T) {
				if !condHolds(t, cond, row.hit) {
					t.Errorf("%s: want true for matching key", cond)
				}
				if condHolds(t, cond, row.miss) {
					t.Errorf("%s: want false for non-matching key", cond)
				}
				if got := condHolds(t, cond, ctxNone()); got != absent {
					t.Errorf("%s: absent key gives %v, want %v", cond, got, absent)
				}
				r := ctxNone()
				r.Context = nil
				if got := condHolds(t, cond, r); got != absent {
					t.Errorf("%s: nil context gives %v, want %v", cond, got, absent)
				}
			})
		}
	}
}

func TestConditionSemantics(t *testing.T) {
	principal := func(acct, arn string) *Request {
		r := ctxNone()
		r.Principal = Principal{Account: acct, ARN: arn}
		return r
	}
	tests := []struct {
		name string
		cond string
		req  *Request
		want bool
	}{
		// Null.
		{"Null true/absent", `{"Null":{"aws:SourceVpce":"true"}}`, ctxNone(), true},
		{"Null true/present", `{"Null":{"aws:SourceVpce":"true"}}`, ctxString(KeySourceVpce, vpceA), false},
		{"Null false/present", `{"Null":{"aws:SourceVpce":false}}`, ctxString(KeySourceVpce, vpceA), true},
		{"Null false/absent", `{"Null":{"aws:SourceVpce":"false"}}`, ctxNone(), false},
		{"Null false/empty string is null", `{"Null":{"aws:Referer":"false"}}`, ctxString(KeyReferer, ""), false},
		{"Null true/extra key absent", `{"Null":{"aws:PrincipalTag/team":"true"}}`, ctxNone(), true},
		{"Null false/bool key present even when false", `{"Null":{"aws:SecureTransport":"false"}}`, ctxBool(false), true},
		// Values OR, negated NOR; keys and operators AND.
		{"values OR", `{"StringEquals":{"aws:SourceVpce":["vpce-1","vpce-2"]}}`, ctxString(KeySourceVpce, "vpce-2"), true},
		{"negated values NOR/one matches", `{"StringNotEquals":{"aws:SourceVpce":["vpce-1","vpce-2"]}}`, ctxString(KeySourceVpce, "vpce-2"), false},
		{"negated values NOR/none matches", `{"StringNotEquals":{"aws:SourceVpce":["vpce-1","vpce-2"]}}`, ctxString(KeySourceVpce, "vpce-3"), true},
		{"keys AND/both", `{"StringEquals":{"aws:SourceVpce":"vpce-1","aws:SourceVpc":"vpc-1"}}`,
			withCtx(func(c *Context) { c.SetString(KeySourceVpce, "vpce-1"); c.SetString(KeySourceVpc, "vpc-1") }), true},
		{"keys AND/one", `{"StringEquals":{"aws:SourceVpce":"vpce-1","aws:SourceVpc":"vpc-1"}}`, ctxString(KeySourceVpce, "vpce-1"), false},
		{"operators AND/both", `{"StringEquals":{"aws:SourceVpce":"vpce-1"},"Bool":{"aws:SecureTransport":"true"}}`,
			withCtx(func(c *Context) { c.SetString(KeySourceVpce, "vpce-1"); c.SetSecureTransport(true) }), true},
		{"operators AND/one", `{"StringEquals":{"aws:SourceVpce":"vpce-1"},"Bool":{"aws:SecureTransport":"true"}}`, ctxString(KeySourceVpce, "vpce-1"), false},
		{"key names are case-insensitive", `{"StringEquals":{"AWS:SOURCEVPCE":"vpce-1"}}`, ctxString(KeySourceVpce, "vpce-1"), true},
		{"extra key names are case-insensitive", `{"StringEquals":{"aws:PrincipalTag/Team":"blue"}}`, ctxExtra("AWS:principaltag/team", "blue"), true},
		// Set operators over a multi-valued key.
		{"ForAnyValue/one matches", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["a","b"]}}`, ctxExtra("aws:TagKeys", "c", "a"), true},
		{"ForAnyValue/none matches", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["a","b"]}}`, ctxExtra("aws:TagKeys", "c", "d"), false},
		{"ForAnyValue/absent is false", `{"ForAnyValue:StringEquals":{"aws:TagKeys":["a","b"]}}`, ctxNone(), false},
		{"ForAnyValue/IfExists absent is true", `{"ForAnyValue:StringEqualsIfExists":{"aws:TagKeys":["a","b"]}}`, ctxNone(), true},
		{"ForAllValues/all match", `{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}`, ctxExtra("aws:TagKeys", "b", "a"), true},
		{"ForAllValues/one does not", `{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}`, ctxExtra("aws:TagKeys", "a", "c"), false},
		{"ForAllValues/absent is true", `{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}`, ctxNone(), true},
		{"ForAllValues/null dataset is true", `{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}`, ctxExtra("aws:TagKeys", ""), true},
		{"ForAllValues/empty list is true", `{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}`, ctxExtra("aws:TagKeys"), true},
		{"ForAnyValue negated/one outside", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["a","b"]}}`, ctxExtra("aws:TagKeys", "a", "c"), true},
		{"ForAnyValue negated/all inside", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["a","b"]}}`, ctxExtra("aws:TagKeys", "a", "b"), false},
		{"ForAnyValue negated/absent", `{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["a","b"]}}`, ctxNone(), false},
		{"ForAllValues negated/none inside", `{"ForAllValues:StringNotLike":{"aws:TagKeys":["a*"]}}`, ctxExtra("aws:TagKeys", "x", "y"), true},
		{"ForAllValues negated/one inside", `{"ForAllValues:StringNotLike":{"aws:TagKeys":["a*"]}}`, ctxExtra("aws:TagKeys", "x", "ab"), false},
		{"ForAllValues negated/absent", `{"ForAllValues:StringNotLike":{"aws:TagKeys":["a*"]}}`, ctxNone(), true},
		{"ForAllValues like", `{"ForAllValues:StringLike":{"aws:TagKeys":["a*","b?"]}}`, ctxExtra("aws:TagKeys", "abc", "bx"), true},
		{"ForAnyValue on a single-valued key", `{"ForAnyValue:StringEquals":{"aws:SourceVpce":"vpce-1"}}`, ctxString(KeySourceVpce, "vpce-1"), true},
		{"ForAnyValue ArnLike", `{"ForAnyValue:ArnLike":{"aws:PrincipalServiceNamesList":"arn:aws:iam::*:role/x"}}`, ctxExtra("aws:PrincipalServiceNamesList", "a", "arn:aws:iam::1:role/x"), true},
		{"ForAllValues Bool", `{"ForAllValues:Bool":{"k":"true"}}`, ctxExtra("k", "true", "TRUE"), true},
		{"unqualified positive over multi-valued key", `{"StringEquals":{"aws:TagKeys":"a"}}`, ctxExtra("aws:TagKeys", "x", "a"), true},
		{"unqualified negated over multi-valued key", `{"StringNotEquals":{"aws:TagKeys":"a"}}`, ctxExtra("aws:TagKeys", "x", "a"), false},
		// ARN operators compare component by component.
		{"ArnLike star stays in its component", `{"ArnLike":{"aws:SourceArn":"arn:aws:execute-api:us-east-1:*:abc/*"}}`,
			ctxExtra("aws:SourceArn", "arn:aws:execute-api:us-east-1:111:222:abc/x"), false},
		{"ArnLike resource keeps colons", `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:111111111111:topic:*"}}`,
			ctxExtra("aws:SourceArn", "arn:aws:sns:us-east-1:111111111111:topic:sub"), true},
		{"ArnLike short pattern is a whole glob", `{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*"}}`,
			ctxExtra("aws:SourceArn", "arn:aws:sns:us-east-1:111111111111:topic"), true},
		{"ArnLike value with too few components", `{"ArnLike":{"aws:SourceArn":"arn:*:*:*:*:*"}}`, ctxExtra("aws:SourceArn", "arn:aws:sns"), false},
		{"ArnEquals is case-sensitive", `{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-1:111111111111:Topic"}}`,
			ctxExtra("aws:SourceArn", "arn:aws:sns:us-east-1:111111111111:topic"), false},
		// Principal keys fall back to the request principal.
		{"PrincipalAccount from principal", `{"StringEquals":{"aws:PrincipalAccount":"222222222222"}}`, principal("222222222222", "arn:aws:iam::222222222222:user/a"), true},
		{"PrincipalArn from principal", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::222222222222:user/*"}}`, principal("222222222222", "arn:aws:iam::222222222222:user/a"), true},
		{"PrincipalAccount anonymous", `{"StringEquals":{"aws:PrincipalAccount":"222222222222"}}`, ctxNone(), false},
		// Policy variables in condition values.
		{"variable in StringEquals", `{"StringEquals":{"aws:PrincipalArn":"arn:aws:iam::${aws:PrincipalAccount}:user/a"}}`, principal("222222222222", "arn:aws:iam::222222222222:user/a"), true},
		{"variable in ArnLike account component", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::${aws:PrincipalAccount}:user/*"}}`, principal("222222222222", "arn:aws:iam::222222222222:user/a"), true},
		{"variable in ArnLike mismatch", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::${aws:PrincipalAccount}:user/*"}}`, principal("333333333333", "arn:aws:iam::222222222222:user/a"), false},
		{"variable in StringLike", `{"StringLike":{"aws:Referer":"https://${aws:SourceVpce}.example/*"}}`,
			withCtx(func(c *Context) {
				c.SetString(KeyReferer, "https://vpce-1.example/x")
				c.SetString(KeySourceVpce, "vpce-1")
			}), true},
		{"variable from extra key", `{"StringEquals":{"aws:username":"${aws:PrincipalTag/login}"}}`,
			withCtx(func(c *Context) { c.SetString(KeyUsername, "al"); c.SetExtra("aws:PrincipalTag/login", "al") }), true},
		{"variable in Bool", `{"Bool":{"aws:SecureTransport":"${aws:PrincipalTag/tls}"}}`,
			withCtx(func(c *Context) { c.SetSecureTransport(true); c.SetExtra("aws:PrincipalTag/tls", "True") }), true},
		{"unresolved variable matches nothing", `{"StringEquals":{"aws:username":"${aws:PrincipalTag/login}"}}`, ctxString(KeyUsername, ""), false},
		{"escape ${$}", `{"StringEquals":{"aws:Referer":"${$}{x}"}}`, ctxString(KeyReferer, "${x}"), true},
		{"escape ${?} in StringLike", `{"StringLike":{"aws:Referer":"a${?}"}}`, ctxString(KeyReferer, "a?"), true},
		{"escape ${?} is not a wildcard", `{"StringLike":{"aws:Referer":"a${?}"}}`, ctxString(KeyReferer, "ab"), false},
		{"StringEquals stars are literal", `{"StringEquals":{"aws:Referer":"a*"}}`, ctxString(KeyReferer, "abc"), false},
		{"unclosed variable is literal", `{"StringEquals":{"aws:Referer":"${aws:username"}}`, ctxString(KeyReferer, "${aws:username"), true},
		// Operators on keys of another type.
		{"StringEquals on an IP key", `{"StringEquals":{"aws:SourceIp":"10.0.0.1"}}`, ctxAddr(KeySourceIp, "10.0.0.1"), true},
		{"StringLike on a bool key", `{"StringLike":{"aws:SecureTransport":"tr*"}}`, ctxBool(true), true},
		{"IpAddress on an extra string key", `{"IpAddress":{"x:ip":"10.0.0.0/8"}}`, ctxExtra("x:ip", "10.1.2.3"), true},
		{"IpAddress on an unparsable value", `{"IpAddress":{"x:ip":"10.0.0.0/8"}}`, ctxExtra("x:ip", "ten"), false},
		{"NotIpAddress on an unparsable value", `{"NotIpAddress":{"x:ip":"10.0.0.0/8"}}`, ctxExtra("x:ip", "ten"), true},
		{"IpAddress on a bool key", `{"IpAddress":{"aws:SecureTransport":"10.0.0.0/8"}}`, ctxBool(true), false},
		{"NumericEquals on an IP key", `{"NumericEquals":{"aws:SourceIp":"1"}}`, ctxAddr(KeySourceIp, "10.0.0.1"), false},
		{"Bool on a string key", `{"Bool":{"aws:Referer":"true"}}`, ctxString(KeyReferer, "TRUE"), true},
		{"DateLessThan from EpochTime via CurrentTime", `{"NumericLessThan":{"aws:EpochTime":"1704067200"}}`, ctxTime("2023-06-01T00:00:00Z"), true},
		{"IpAddress IPv6 rule vs IPv4 client", `{"IpAddress":{"aws:SourceIp":"::/0"}}`, ctxAddr(KeySourceIp, "10.0.0.1"), false},
		{"IpAddress IPv4-mapped client", `{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`, ctxAddr(KeySourceIp, "::ffff:10.0.0.1"), true},
		{"IpAddress host bits in CIDR", `{"IpAddress":{"aws:SourceIp":"10.0.0.77/24"}}`, ctxAddr(KeySourceIp, "10.0.0.1"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := condHolds(t, tt.cond, tt.req); got != tt.want {
				t.Errorf("%s = %v, want %v", tt.cond, got, tt.want)
			}
		})
	}
}

func TestParseOperatorNames(t *testing.T) {
	good := []string{
		"StringEquals", "ForAnyValue:StringLike", "ForAllValues:ArnNotLikeIfExists", "NumericLessThanEqualsIfExists",
		"DateGreaterThanEquals", "BoolIfExists", "BinaryEqualsIfExists", "Null", "NotIpAddressIfExists",
	}
	for _, name := range good {
		if _, err := parseOperator(name); err != nil {
			t.Errorf("parseOperator(%q): %v", name, err)
		}
	}
	bad := []string{"stringEquals", "StringEqual", "NullIfExists", "ForAnyValue:Null", "ForSomeValues:StringLike", "IfExists", "StringLikeIgnoreCase", ""}
	for _, name := range bad {
		if _, err := parseOperator(name); err == nil {
			t.Errorf("parseOperator(%q): want error", name)
		}
	}
}

func TestParseDate(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string // RFC 3339 in UTC, "" = invalid
	}{
		{"2024", "2024-01-01T00:00:00Z"},
		{"2024-03", "2024-03-01T00:00:00Z"},
		{"2024-03-05", "2024-03-05T00:00:00Z"},
		{"2024-03-05T10:20+02:00", "2024-03-05T08:20:00Z"},
		{"2024-03-05T10:20:30Z", "2024-03-05T10:20:30Z"},
		{"2024-03-05T10:20:30.25Z", "2024-03-05T10:20:30.25Z"},
		{"2024-03-05T10:20:30", "2024-03-05T10:20:30Z"},
		{"1704067200", "2024-01-01T00:00:00Z"},
		{"0", "1970-01-01T00:00:00Z"},
		{"", ""},
		{"yesterday", ""},
		{"2024-13-01", ""},
		{"99999999999999999999", ""},
	} {
		d, ok := parseDate(tt.in)
		got := ""
		if ok {
			got = d.t.UTC().Format(time.RFC3339Nano)
		}
		if got != tt.want {
			t.Errorf("parseDate(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseNumber(t *testing.T) {
	for in, want := range map[string]bool{
		"10": true, "-1": true, "+1.5": true, ".5": true, "5.": true, "1e3": true, "1E-3": true,
		"": false, "Inf": false, "NaN": false, "0x10": false, "1_000": false, "1e": false, "--1": false, ".": false, "1e400": false,
	} {
		if _, ok := parseNumber(in); ok != want {
			t.Errorf("parseNumber(%q) ok = %v, want %v", in, ok, want)
		}
	}
}

func TestStringValueForTypedKeys(t *testing.T) {
	r := withCtx(func(c *Context) {
		c.SetTime(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))
	})
	for key, want := range map[string]string{
		"aws:CurrentTime": "2024-01-02T03:04:05Z",
		"aws:EpochTime":   "1704164645",
	} {
		k := newKeyRef(key)
		if got := r.str(&k, 0); got != want {
			t.Errorf("str(%s) = %q, want %q", key, got, want)
		}
	}
	if !strings.Contains(Key(200).String(), "200") {
		t.Error("unknown Key must print its number")
	}
}
