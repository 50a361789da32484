package policy

import (
	"net/netip"
	"testing"
	"time"
)

// benchPolicy is the canonical private-API resource policy: allow everyone,
// deny anything not arriving through one VPC endpoint, and deny DELETE from
// outside one VPC CIDR.
const benchPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:111111111111:abc123defg/*"},{"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:111111111111:abc123defg/*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-0aaaaaaaaaaaaaaa1"}}},{"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:111111111111:abc123defg/*/DELETE/*","Condition":{"NotIpAddress":{"aws:VpcSourceIp":"127.10.0.0/16"}}}]}`

// benchRequests are the requests the benchmark cycles through, with the
// decision each must get.
func benchRequests() ([]*Request, []Decision) {
	mk := func(method, vpce, ip string) *Request {
		c := &Context{}
		c.SetString(KeySourceVpce, vpce)
		c.SetAddr(KeyVpcSourceIp, netip.MustParseAddr(ip))
		c.SetSecureTransport(true)
		return &Request{
			Principal: Principal{Anonymous: true},
			Action:    "execute-api:Invoke",
			Resource:  "arn:aws:execute-api:us-east-1:111111111111:abc123defg/prod/" + method + "/pets/1",
			Context:   c,
		}
	}
	return []*Request{
			mk("GET", "vpce-0aaaaaaaaaaaaaaa1", "10.0.0.1"),
			mk("DELETE", "vpce-0aaaaaaaaaaaaaaa1", "127.10.3.4"),
			mk("DELETE", "vpce-0aaaaaaaaaaaaaaa1", "10.0.0.1"),
			mk("GET", "vpce-0bbbbbbbbbbbbbbb2", "127.10.3.4"),
		}, []Decision{
			Allow, Allow, Deny, Deny,
		}
}

func BenchmarkEvaluateThreeStatements(b *testing.B) {
	p, err := Parse([]byte(benchPolicy))
	if err != nil {
		b.Fatal(err)
	}
	reqs, want := benchRequests()
	for i, r := range reqs {
		if got := p.Evaluate(r); got != want[i] {
			b.Fatalf("request %d: got %v, want %v", i, got, want[i])
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		p.Evaluate(reqs[i&3])
		i++
	}
}

// TestEvaluateDoesNotAllocate pins the hot-path contract outside benchmarks.
func TestEvaluateDoesNotAllocate(t *testing.T) {
	p, err := Parse([]byte(benchPolicy))
	if err != nil {
		t.Fatal(err)
	}
	reqs, _ := benchRequests()
	for i, r := range reqs {
		if n := testing.AllocsPerRun(100, func() { p.Evaluate(r) }); n != 0 {
			t.Errorf("request %d: %v allocs per Evaluate, want 0", i, n)
		}
	}
}

// TestEvaluateTypedOperatorsDoNotAllocate checks the zero-allocation contract
// for every operator family reading a key of its own type, including
// policy variables and multi-valued Extra keys.
func TestEvaluateTypedOperatorsDoNotAllocate(t *testing.T) {
	p, err := Parse([]byte(`{"Version":"2012-10-17","Statement":[
	  {"Effect":"Allow","Principal":{"AWS":["111111111111","arn:aws:iam::222222222222:role/app"]},"Action":"execute-api:*",
	   "Resource":"arn:aws:execute-api:*:*:abc123defg/*/GET/users/${aws:username}/*",
	   "Condition":{
	     "StringLike":{"aws:UserAgent":["curl/*","Mozilla/*"]},
	     "StringEqualsIgnoreCase":{"aws:PrincipalType":"assumedrole"},
	     "ArnLike":{"aws:PrincipalArn":"arn:aws:sts::${aws:PrincipalAccount}:assumed-role/*"},
	     "IpAddress":{"aws:VpcSourceIp":["10.0.0.0/8","fd00::/8"]},
	     "DateLessThan":{"aws:CurrentTime":"2099-01-01T00:00:00Z"},
	     "NumericGreaterThan":{"aws:EpochTime":1},
	     "Bool":{"aws:SecureTransport":"true"},
	     "Null":{"aws:Referer":"true"},
	     "ForAnyValue:StringEquals":{"aws:TagKeys":["b","z"]},
	     "ForAllValues:StringLike":{"aws:TagKeys":["?"]},
	     "StringNotEqualsIfExists":{"aws:SourceVpce":"vpce-bad"}
	   }}]}`))
	if err != nil {
		t.Fatal(err)
	}
	c := &Context{}
	c.SetString(KeyUserAgent, "curl/8.0")
	c.SetString(KeyPrincipalType, "AssumedRole")
	c.SetString(KeyUsername, "alice")
	c.SetAddr(KeyVpcSourceIp, netip.MustParseAddr("10.1.2.3"))
	c.SetTime(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	c.SetSecureTransport(true)
	c.SetExtra("aws:TagKeys", "a", "b")
	r := &Request{
		Principal: Principal{Account: "222222222222", ARN: "arn:aws:sts::222222222222:assumed-role/app/s1"},
		Action:    "execute-api:Invoke",
		Resource:  "arn:aws:execute-api:us-east-1:111111111111:abc123defg/prod/GET/users/alice/x",
		Context:   c,
	}
	if d := p.Evaluate(r); d != Allow {
		t.Fatalf("Evaluate = %v, want Allow", d)
	}
	if n := testing.AllocsPerRun(100, func() { p.Evaluate(r) }); n != 0 {
		t.Errorf("%v allocs per Evaluate, want 0", n)
	}
}
