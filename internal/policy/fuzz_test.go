package policy

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fuzzRequests are the requests every fuzzed policy is evaluated against.
func fuzzRequests() []*Request {
	full := &Context{}
	full.SetString(KeySourceVpce, vpceA)
	full.SetString(KeySourceVpc, "vpc-1")
	full.SetAddr(KeyVpcSourceIp, netip.MustParseAddr("10.1.2.3"))
	full.SetAddr(KeySourceIp, netip.MustParseAddr("2001:db8::1"))
	full.SetTime(time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC))
	full.SetSecureTransport(true)
	full.SetString(KeyUserAgent, "curl/8.0")
	full.SetString(KeyUsername, "alice")
	full.SetExtra("aws:TagKeys", "a", "b")
	full.SetExtra("aws:PrincipalTag/team", "blue")
	return []*Request{
		{Principal: Principal{Anonymous: true}, Action: "execute-api:Invoke", Resource: testAPIARN + "/prod/GET/pets"},
		{Principal: Principal{Account: "111111111111", ARN: "arn:aws:sts::111111111111:assumed-role/app/s"},
			Action: "execute-api:Invoke", Resource: testAPIARN + "/prod/DELETE/pets/1", Context: full},
		{Principal: Principal{Service: "lambda.amazonaws.com"}, Action: "", Resource: "", Context: &Context{}},
	}
}

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "policies", "*.json"))
	for _, file := range files {
		if src, err := os.ReadFile(file); err == nil {
			f.Add(src)
		}
	}
	for _, s := range []string{
		benchPolicy,
		`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:role/r"},"NotAction":"s3:*","NotResource":"arn:aws:s3:::b/${aws:username}/*"}]}`,
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"ForAllValues:StringLike":{"aws:TagKeys":["a*"]},"DateLessThan":{"aws:CurrentTime":"2030"},"NumericGreaterThan":{"aws:EpochTime":1},"IpAddress":{"aws:SourceIp":"::/0"},"Null":{"x":"true"}}}}`,
		`{"Statement":[]}`,
		`[]`,
		`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NullIfExists":{"k":"true"}}}}`,
	} {
		f.Add([]byte(s))
	}
	reqs := fuzzRequests()
	f.Fuzz(func(t *testing.T, src []byte) {
		p, err := Parse(src)
		if err != nil {
			if p != nil {
				t.Fatal("Parse returned a policy and an error")
			}
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("error %T is not *ParseError: %v", err, err)
			}
			return
		}
		for _, r := range reqs {
			d, i := p.Decide(r)
			if d > Deny || (d == NotApplicable) != (i == -1) || i >= p.Len() {
				t.Fatalf("Decide = %v, %d with %d statements", d, i, p.Len())
			}
			if p.Evaluate(r) != d {
				t.Fatal("Evaluate and Decide disagree")
			}
		}
		// Expanding the shorthand only rewrites non-empty Resource strings,
		// so a valid policy stays valid with the same number of statements.
		exp, err := ExpandShorthand(src, "us-east-1", "111111111111", "abc123defg")
		if err != nil {
			t.Fatalf("ExpandShorthand of a valid policy: %v", err)
		}
		p2, err := Parse(exp)
		if err != nil {
			t.Fatalf("expanded policy does not parse: %v\n%s", err, exp)
		}
		if p2.Len() != p.Len() {
			t.Fatalf("expanded policy has %d statements, want %d", p2.Len(), p.Len())
		}
	})
}
