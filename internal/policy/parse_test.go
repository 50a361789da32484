package policy

import (
	"errors"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	// stmt wraps statement members into a valid document.
	stmt := func(members string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{` + members + `}]}`
	}
	const ok = `"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"*"`
	tests := []struct {
		name      string
		src       string
		statement int    // want ParseError.Statement
		want      string // substring of the error message
	}{
		{"not JSON", `{"Version":`, -1, "not valid JSON"},
		{"empty input", ``, -1, "not valid JSON"},
		{"trailing garbage", `{"Statement":[]} x`, -1, "not valid JSON"},
		{"not an object", `[]`, -1, "must be a JSON object"},
		{"no Statement", `{"Version":"2012-10-17"}`, -1, "no Statement"},
		{"null Statement", `{"Statement":null}`, -1, "Statement: must be an object or a list"},
		{"empty Statement list", `{"Statement":[]}`, -1, "at least one statement"},
		{"bad Version", `{"Version":"2012-10-18","Statement":{` + ok + `}}`, -1, `"2012-10-18" is not a policy language version`},
		{"Version not a string", `{"Version":2012,"Statement":{` + ok + `}}`, -1, "Version: must be a string"},
		{"unknown top-level element", `{"Statement":{` + ok + `},"Statements":[]}`, -1, `unknown element "Statements"`},
		{"duplicate element", `{"Statement":{` + ok + `},"Statement":{` + ok + `}}`, -1, `duplicate element "Statement"`},
		{"statement not an object", `{"Statement":["x"]}`, 0, "must be a JSON object"},
		{"Effect missing", stmt(`"Principal":"*","Action":"*","Resource":"*"`), 1, "Effect is missing"},
		{"Effect invalid", stmt(`"Effect":"allow","Principal":"*","Action":"*","Resource":"*"`), 1, `must be "Allow" or "Deny", not "allow"`},
		{"Effect not a string", stmt(`"Effect":true,"Principal":"*","Action":"*","Resource":"*"`), 1, `not true`},
		{"unknown statement element", stmt(`"Sid":"S1",` + ok + `,"Actions":"*"`), 1, `(Sid "S1"): unknown element "Actions"`},
		{"duplicate statement element", stmt(ok + `,"Effect":"Deny"`), 1, `duplicate element "Effect"`},
		{"Sid not a string", stmt(`"Sid":1,` + ok), 1, "Sid: must be a string"},
		{"neither Action nor NotAction", stmt(`"Effect":"Allow","Principal":"*","Resource":"*"`), 1, "one of Action or NotAction is required"},
		{"both Action and NotAction", stmt(ok + `,"NotAction":"*"`), 1, "Action and NotAction cannot both be present"},
		{"neither Resource nor NotResource", stmt(`"Effect":"Allow","Principal":"*","Action":"*"`), 1, "one of Resource or NotResource is required"},
		{"both Resource and NotResource", stmt(ok + `,"NotResource":"*"`), 1, "Resource and NotResource cannot both be present"},
		{"Action not string", stmt(`"Effect":"Allow","Principal":"*","Action":5,"Resource":"*"`), 1, "Action: must be a string or a list of strings, not 5"},
		{"Action empty list", stmt(`"Effect":"Allow","Principal":"*","Action":[],"Resource":"*"`), 1, "Action: list must not be empty"},
		{"Action list element not string", stmt(`"Effect":"Allow","Principal":"*","Action":["execute-api:Invoke",{}],"Resource":"*"`), 1, "list elements must be strings"},
		{"Action without service", stmt(`"Effect":"Allow","Principal":"*","Action":"Invoke","Resource":"*"`), 1, `"Invoke" is not "*" or "service:action"`},
		{"Action empty string", stmt(`"Effect":"Allow","Principal":"*","Action":"","Resource":"*"`), 1, "Action: must not be empty"},
		{"Resource empty element", stmt(`"Effect":"Allow","Principal":"*","Action":"*","Resource":["*",""]`), 1, "Resource: list elements must not be empty"},
		{"Principal and NotPrincipal", stmt(ok + `,"NotPrincipal":"*"`), 1, "Principal and NotPrincipal cannot both be present"},
		{"Principal bad string", stmt(`"Effect":"Allow","Principal":"123456789012","Action":"*","Resource":"*"`), 1, `Principal: a string principal must be "*"`},
		{"Principal empty object", stmt(`"Effect":"Allow","Principal":{},"Action":"*","Resource":"*"`), 1, "at least one principal"},
		{"Principal unknown type", stmt(`"Effect":"Allow","Principal":{"Users":"x"},"Action":"*","Resource":"*"`), 1, `unknown principal type "Users"`},
		{"Principal bad AWS value", stmt(`"Effect":"Allow","Principal":{"AWS":"alice"},"Action":"*","Resource":"*"`), 1, `"alice" must be "*", a 12-digit account id or an ARN`},
		{"Principal wildcard ARN", stmt(`"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/*"},"Action":"*","Resource":"*"`), 1, "wildcards are not allowed"},
		{"Principal short ARN", stmt(`"Effect":"Allow","Principal":{"AWS":"arn:aws:iam"},"Action":"*","Resource":"*"`), 1, "not a valid ARN"},
		{"Principal number", stmt(`"Effect":"Allow","Principal":{"AWS":123456789012},"Action":"*","Resource":"*"`), 1, "AWS: must be a string or a list of strings"},
		{"NotPrincipal bad", stmt(`"Effect":"Deny","NotPrincipal":7,"Action":"*","Resource":"*"`), 1, "NotPrincipal: must be"},
		{"Condition not object", stmt(ok + `,"Condition":[]`), 1, "Condition: must be an object of condition operators"},
		{"unknown operator", stmt(ok + `,"Condition":{"StringEqual":{"aws:SourceVpce":"x"}}`), 1, `unknown condition operator "StringEqual"`},
		{"operator wrong case", stmt(ok + `,"Condition":{"stringEquals":{"aws:SourceVpce":"x"}}`), 1, `unknown condition operator "stringEquals"`},
		{"NullIfExists", stmt(ok + `,"Condition":{"NullIfExists":{"aws:SourceVpce":"true"}}`), 1, "IfExists cannot be used with Null"},
		{"operator block not object", stmt(ok + `,"Condition":{"StringEquals":"x"}`), 1, "Condition.StringEquals: must be an object of condition keys"},
		{"operator block empty", stmt(ok + `,"Condition":{"StringEquals":{}}`), 1, "at least one condition key"},
		{"empty key", stmt(ok + `,"Condition":{"StringEquals":{"":"x"}}`), 1, "empty condition key"},
		{"value object", stmt(ok + `,"Condition":{"StringEquals":{"aws:SourceVpce":{"a":1}}}`), 1, `Condition.StringEquals."aws:SourceVpce": value must be a string, number or bool, not an object`},
		{"value null", stmt(ok + `,"Condition":{"StringEquals":{"aws:SourceVpce":null}}`), 1, "not null"},
		{"value nested list", stmt(ok + `,"Condition":{"StringEquals":{"aws:SourceVpce":[["x"]]}}`), 1, "cannot be nested"},
		{"value empty list", stmt(ok + `,"Condition":{"StringEquals":{"aws:SourceVpce":[]}}`), 1, "value list is empty"},
		{"bad CIDR", stmt(ok + `,"Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}`), 1, `"10.0.0.0/33" is not an IP address or CIDR block`},
		{"bad IP", stmt(ok + `,"Condition":{"NotIpAddress":{"aws:VpcSourceIp":["10.0.0.1","x"]}}`), 1, `"x" is not an IP address`},
		{"IP with zone", stmt(ok + `,"Condition":{"IpAddress":{"aws:SourceIp":"fe80::1%eth0"}}`), 1, "is not an IP address"},
		{"bad number", stmt(ok + `,"Condition":{"NumericLessThan":{"s3:max-keys":"ten"}}`), 1, `"ten" is not a number`},
		{"bad date", stmt(ok + `,"Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}`), 1, `"tomorrow" is not an ISO 8601`},
		{"bad bool", stmt(ok + `,"Condition":{"Bool":{"aws:SecureTransport":"yes"}}`), 1, `"yes" is not "true" or "false"`},
		{"bad Null", stmt(ok + `,"Condition":{"Null":{"aws:SourceVpce":1}}`), 1, `"1" is not "true" or "false"`},
		{"bad base64", stmt(ok + `,"Condition":{"BinaryEquals":{"k":"!!"}}`), 1, "is not base64"},
		{"duplicate condition key", stmt(ok + `,"Condition":{"StringEquals":{"k":"a","k":"b"}}`), 1, `duplicate element "k"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse([]byte(tt.src))
			if err == nil {
				t.Fatalf("Parse succeeded (%d statements), want error containing %q", p.Len(), tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not *ParseError", err)
			}
			if pe.Statement != tt.statement {
				t.Errorf("ParseError.Statement = %d, want %d (%v)", pe.Statement, tt.statement, err)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name string
		src  string
		n    int
	}{
		{"no Version", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}`, 1},
		{"legacy Version", `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}`, 1},
		{"Id and Sid", `{"Version":"2012-10-17","Id":"x","Statement":[{"Sid":"","Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}`, 1},
		{"all principal types", `{"Statement":{"Effect":"Allow","Principal":{"AWS":["*","123456789012","arn:aws:iam::123456789012:root","arn:aws-cn:iam::123456789012:role/a/b"],"Service":["lambda.amazonaws.com","*"],"Federated":"cognito-identity.amazonaws.com","CanonicalUser":"79a59df900b949e5"},"Action":"*","Resource":"*"}}`, 1},
		{"numbers and bools as condition values", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"StringEquals":{"k":[1,true,"x",-2.5e3]},"NumericLessThan":{"n":[1,"2"]},"Bool":{"b":[true,"FALSE"]},"DateLessThan":{"d":1704067200}}}}`, 1},
		{"unexpanded shorthand resource", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*"}}`, 1},
		{"whitespace around document", " \n{\"Statement\":{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}}\n ", 1},
		{"three statements", benchPolicy, 3},
		{"unknown variable is kept", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"arn:aws:s3:::b/${aws:nosuchkey}/${unclosed"}}`, 1},
		{"Bool variable", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"${aws:PrincipalTag/x}"}}}}`, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, tt.src)
			if p.Len() != tt.n {
				t.Errorf("Len = %d, want %d", p.Len(), tt.n)
			}
		})
	}
}

func TestParseErrorFormat(t *testing.T) {
	for _, tt := range []struct {
		e    ParseError
		want string
	}{
		{ParseError{Statement: -1, Msg: "no Statement element"}, "policy: no Statement element"},
		{ParseError{Statement: -1, Field: "Version", Msg: "must be a string"}, "policy: Version: must be a string"},
		{ParseError{Statement: 2, Msg: "Effect is missing"}, "policy: Statement[2]: Effect is missing"},
		{ParseError{Statement: 0, Sid: "A", Field: "Action", Msg: "m"}, `policy: Statement[0] (Sid "A") Action: m`},
	} {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

// TestBoolVariableRequiresCurrentVersion checks that a Bool policy variable
// in an older document is an ordinary (and so invalid) value.
func TestBoolVariableRequiresCurrentVersion(t *testing.T) {
	_, err := Parse([]byte(`{"Version":"2008-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"${aws:PrincipalTag/x}"}}}}`))
	if err == nil {
		t.Fatal("want error")
	}
}
