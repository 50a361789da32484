package policy

import (
	"net/netip"
	"testing"
	"time"
)

const (
	testAPIARN = "arn:aws:execute-api:us-east-1:111111111111:abc123defg"
	vpceA      = "vpce-0aaaaaaaaaaaaaaa1"
	vpceB      = "vpce-0bbbbbbbbbbbbbbb2"
)

func mustParse(t testing.TB, src string) *Policy {
	t.Helper()
	p, err := Parse([]byte(src))
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, src)
	}
	return p
}

// req builds an anonymous execute-api:Invoke request for method and path
// on the test API's prod stage.
func req(method, path string, opts ...func(*Request)) *Request {
	r := &Request{
		Principal: Principal{Anonymous: true},
		Action:    "execute-api:Invoke",
		Resource:  testAPIARN + "/prod/" + method + path,
		Context:   &Context{},
	}
	for _, o := range opts {
		o(r)
	}
	return r
}

func viaVpce(id string) func(*Request) {
	return func(r *Request) { r.Context.SetString(KeySourceVpce, id) }
}

func fromVpcIP(ip string) func(*Request) {
	return func(r *Request) { r.Context.SetAddr(KeyVpcSourceIp, netip.MustParseAddr(ip)) }
}

func fromSourceIP(ip string) func(*Request) {
	return func(r *Request) { r.Context.SetAddr(KeySourceIp, netip.MustParseAddr(ip)) }
}

func as(p Principal) func(*Request) {
	return func(r *Request) { r.Principal = p }
}

func action(a string) func(*Request) {
	return func(r *Request) { r.Action = a }
}

func resource(res string) func(*Request) {
	return func(r *Request) { r.Resource = res }
}

func noContext(r *Request) { r.Context = nil }

func TestEvaluate(t *testing.T) {
	// aws-reference §12 case 2: Allow execute-api:/* (stored expanded) and
	// Deny when StringNotEquals aws:SourceVpce vpce-A.
	const sourceVpcePolicy = `{
	  "Version": "2012-10-17",
	  "Statement": [
	    {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "` + testAPIARN + `/*"},
	    {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "` + testAPIARN + `/*",
	     "Condition": {"StringNotEquals": {"aws:SourceVpce": "` + vpceA + `"}}}
	  ]
	}`
	// §12 case 3: only a conditional Allow.
	const conditionalAllow = `{
	  "Version": "2012-10-17",
	  "Statement": {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "` + testAPIARN + `/*",
	    "Condition": {"StringEquals": {"aws:SourceVpc": "vpc-11111111"}}}
	}`
	// §12 case 5: deny a VPC CIDR by aws:VpcSourceIp.
	const vpcSourceIPDeny = `{
	  "Version": "2012-10-17",
	  "Statement": [
	    {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "` + testAPIARN + `/*"},
	    {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "` + testAPIARN + `/*",
	     "Condition": {"IpAddress": {"aws:VpcSourceIp": "10.0.0.0/24"}}}
	  ]
	}`
	const sourceIPDeny = `{
	  "Version": "2012-10-17",
	  "Statement": [
	    {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "` + testAPIARN + `/*"},
	    {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "` + testAPIARN + `/*",
	     "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/24"}}}
	  ]
	}`
	const accountPrincipals = `{
	  "Version": "2012-10-17",
	  "Statement": [
	    {"Effect": "Allow", "Principal": {"AWS": ["222222222222", "arn:aws:iam::333333333333:root",
	        "arn:aws:iam::444444444444:user/alice", "arn:aws:iam::555555555555:role/team/app"]},
	     "Action": "execute-api:Invoke", "Resource": "` + testAPIARN + `/*"}
	  ]
	}`
	const awsStar = `{"Statement": {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "execute-api:Invoke", "Resource": "*"}}`
	const servicePrincipal = `{"Statement": {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "execute-api:Invoke", "Resource": "*"}}`
	const notPrincipal = `{
	  "Version": "2012-10-17",
	  "Statement": [
	    {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "*"},
	    {"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::222222222222:user/admin"}, "Action": "execute-api:Invoke",
	     "Resource": "` + testAPIARN + `/*/DELETE/*"}
	  ]
	}`
	const notAction = `{
	  "Version": "2012-10-17",
	  "Statement": [
	    {"Effect": "Allow", "Principal": "*", "NotAction": "execute-api:InvalidateCache", "Resource": "*"}
	  ]
	}`
	const notResource = `{
	  "Version": "2012-10-17",
	  "Statement": [
	    {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "*"},
	    {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "NotResource": ["` + testAPIARN + `/prod/GET/*", "` + testAPIARN + `/prod/OPTIONS/*"]}
	  ]
	}`
	const noPrincipal = `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "` + testAPIARN + `/prod/GET/*"}]}`
	glob := func(res string) string {
		return `{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "execute-api:*", "Resource": "` + res + `"}}`
	}
	const actionGlobs = `{"Statement": {"Effect": "Allow", "Principal": "*", "Action": ["EXECUTE-API:inv?ke", "s3:Get*"], "Resource": "*"}}`
	const conditionalAllowOnlyGET = `{
	  "Version": "2012-10-17",
	  "Statement": [
	    {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "` + testAPIARN + `/*/GET/*"},
	    {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "` + testAPIARN + `/*/POST/*",
	     "Condition": {"StringEquals": {"aws:SourceVpce": "` + vpceA + `"}}}
	  ]
	}`
	const variables = `{
	  "Version": "2012-10-17",
	  "Statement": [
	    {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
	     "Resource": "` + testAPIARN + `/prod/GET/users/${aws:username}/*"},
	    {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
	     "Resource": "` + testAPIARN + `/prod/GET/vpce/${aws:SourceVpce, 'none'}"},
	    {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
	     "Resource": "` + testAPIARN + `/prod/GET/literal/${*}"}
	  ]
	}`
	const variablesLegacy = `{
	  "Version": "2008-10-17",
	  "Statement": [
	    {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke",
	     "Resource": "` + testAPIARN + `/prod/GET/users/${aws:username}/*"}
	  ]
	}`

	tests := []struct {
		name   string
		policy string
		req    *Request
		want   Decision
	}{
		// §12 case 2.
		{"sourcevpce/via vpce-A", sourceVpcePolicy, req("GET", "/pets", viaVpce(vpceA)), Allow},
		{"sourcevpce/via vpce-B", sourceVpcePolicy, req("GET", "/pets", viaVpce(vpceB)), Deny},
		{"sourcevpce/no vpce key: negated operator on absent key is true", sourceVpcePolicy, req("GET", "/pets"), Deny},
		{"sourcevpce/nil context", sourceVpcePolicy, req("GET", "/pets", noContext), Deny},
		{"sourcevpce/empty vpce value counts as absent", sourceVpcePolicy, req("GET", "/pets", viaVpce("")), Deny},
		{"sourcevpce/other API", sourceVpcePolicy, req("GET", "/pets", viaVpce(vpceA),
			resource("arn:aws:execute-api:us-east-1:111111111111:zzzzzzzzzz/prod/GET/pets")), NotApplicable},
		// §12 case 3.
		{"conditional allow/no match", conditionalAllow, req("GET", "/", viaVpce(vpceA)), NotApplicable},
		{"conditional allow/match", conditionalAllow, req("GET", "/", func(r *Request) { r.Context.SetString(KeySourceVpc, "vpc-11111111") }), Allow},
		{"conditional allow/only GET unconditional", conditionalAllowOnlyGET, req("GET", "/x", viaVpce(vpceB)), Allow},
		{"conditional allow/POST needs vpce-A", conditionalAllowOnlyGET, req("POST", "/x", viaVpce(vpceB)), NotApplicable},
		{"conditional allow/POST via vpce-A", conditionalAllowOnlyGET, req("POST", "/x", viaVpce(vpceA)), Allow},
		// §12 case 5.
		{"vpcsourceip/in denied CIDR", vpcSourceIPDeny, req("GET", "/", fromVpcIP("10.0.0.5")), Deny},
		{"vpcsourceip/outside CIDR", vpcSourceIPDeny, req("GET", "/", fromVpcIP("10.0.1.5")), Allow},
		{"vpcsourceip/absent", vpcSourceIPDeny, req("GET", "/"), Allow},
		{"sourceip/is not the client IP", sourceIPDeny, req("GET", "/", fromVpcIP("10.0.0.5"), fromSourceIP("192.0.2.10")), Allow},
		{"sourceip/absent behind endpoint", sourceIPDeny, req("GET", "/", fromVpcIP("10.0.0.5")), Allow},
		// Benchmark policy.
		{"bench/GET via vpce-A", benchPolicy, req("GET", "/pets/1", viaVpce(vpceA), fromVpcIP("10.9.9.9")), Allow},
		{"bench/DELETE inside CIDR", benchPolicy, req("DELETE", "/pets/1", viaVpce(vpceA), fromVpcIP("127.10.200.1")), Allow},
		{"bench/DELETE outside CIDR", benchPolicy, req("DELETE", "/pets/1", viaVpce(vpceA), fromVpcIP("127.11.0.1")), Deny},
		{"bench/DELETE without VpcSourceIp", benchPolicy, req("DELETE", "/pets/1", viaVpce(vpceA)), Deny},
		{"bench/IPv4-mapped IPv6 client inside CIDR", benchPolicy, req("DELETE", "/pets/1", viaVpce(vpceA), fromVpcIP("::ffff:127.10.0.1")), Allow},
		{"bench/IPv6 client", benchPolicy, req("DELETE", "/pets/1", viaVpce(vpceA), fromVpcIP("2001:db8::1")), Deny},
		{"bench/wrong vpce", benchPolicy, req("GET", "/pets/1", viaVpce(vpceB)), Deny},
		{"bench/other action", benchPolicy, req("GET", "/pets/1", viaVpce(vpceA), action("execute-api:InvalidateCache")), NotApplicable},
		{"bench/action case-insensitive", benchPolicy, req("GET", "/pets/1", viaVpce(vpceA), action("Execute-API:invoke")), Allow},
		// Principals.
		{"principal/account id", accountPrincipals, req("GET", "/", as(Principal{Account: "222222222222", ARN: "arn:aws:iam::222222222222:user/bob"})), Allow},
		{"principal/root ARN means the account", accountPrincipals, req("GET", "/", as(Principal{Account: "333333333333", ARN: "arn:aws:sts::333333333333:assumed-role/x/y"})), Allow},
		{"principal/user ARN", accountPrincipals, req("GET", "/", as(Principal{Account: "444444444444", ARN: "arn:aws:iam::444444444444:user/alice"})), Allow},
		{"principal/other user same account", accountPrincipals, req("GET", "/", as(Principal{Account: "444444444444", ARN: "arn:aws:iam::444444444444:user/mallory"})), NotApplicable},
		{"principal/role session", accountPrincipals, req("GET", "/", as(Principal{Account: "555555555555", ARN: "arn:aws:sts::555555555555:assumed-role/app/i-0abc"})), Allow},
		{"principal/other role session", accountPrincipals, req("GET", "/", as(Principal{Account: "555555555555", ARN: "arn:aws:sts::555555555555:assumed-role/app2/i-0abc"})), NotApplicable},
		{"principal/account taken from ARN", accountPrincipals, req("GET", "/", as(Principal{ARN: "arn:aws:iam::222222222222:user/bob"})), Allow},
		{"principal/anonymous vs account list", accountPrincipals, req("GET", "/"), NotApplicable},
		{"principal/other account", accountPrincipals, req("GET", "/", as(Principal{Account: "999999999999", ARN: "arn:aws:iam::999999999999:user/alice"})), NotApplicable},
		{"principal/AWS star matches anonymous", awsStar, req("GET", "/"), Allow},
		{"principal/AWS star matches IAM", awsStar, req("GET", "/", as(Principal{Account: "222222222222", ARN: "arn:aws:iam::222222222222:user/a"})), Allow},
		{"principal/AWS star is not a service", awsStar, req("GET", "/", as(Principal{Service: "lambda.amazonaws.com"})), NotApplicable},
		{"principal/service", servicePrincipal, req("GET", "/", as(Principal{Service: "lambda.amazonaws.com"})), Allow},
		{"principal/service vs anonymous", servicePrincipal, req("GET", "/"), NotApplicable},
		{"principal/absent element applies to all", noPrincipal, req("GET", "/a"), Allow},
		// NotPrincipal.
		{"notprincipal/anonymous is denied", notPrincipal, req("DELETE", "/x"), Deny},
		{"notprincipal/other user denied", notPrincipal, req("DELETE", "/x", as(Principal{Account: "222222222222", ARN: "arn:aws:iam::222222222222:user/bob"})), Deny},
		{"notprincipal/listed user exempt", notPrincipal, req("DELETE", "/x", as(Principal{Account: "222222222222", ARN: "arn:aws:iam::222222222222:user/admin"})), Allow},
		{"notprincipal/GET unaffected", notPrincipal, req("GET", "/x"), Allow},
		// NotAction.
		{"notaction/Invoke allowed", notAction, req("GET", "/"), Allow},
		{"notaction/excluded action", notAction, req("GET", "/", action("execute-api:InvalidateCache")), NotApplicable},
		{"notaction/excluded action any case", notAction, req("GET", "/", action("EXECUTE-API:invalidatecache")), NotApplicable},
		// NotResource.
		{"notresource/GET allowed", notResource, req("GET", "/pets"), Allow},
		{"notresource/OPTIONS allowed", notResource, req("OPTIONS", "/pets"), Allow},
		{"notresource/POST denied", notResource, req("POST", "/pets"), Deny},
		{"notresource/other stage denied", notResource, req("GET", "/pets", resource(testAPIARN+"/dev/GET/pets")), Deny},
		// Resource globbing.
		{"glob/arn:aws:execute-api:*:*:*", glob("arn:aws:execute-api:*:*:*"), req("GET", "/a/b"), Allow},
		{"glob/arn:aws:execute-api:* spans colons", glob("arn:aws:execute-api:*"), req("GET", "/a"), Allow},
		{"glob/*/GET/* leading star", glob("*/GET/*"), req("GET", "/a"), Allow},
		{"glob/*/GET/* other method", glob("*/GET/*"), req("POST", "/a"), NotApplicable},
		{"glob/stage wildcard", glob(testAPIARN + "/*/GET/pets"), req("GET", "/pets"), Allow},
		{"glob/stage wildcard exact path", glob(testAPIARN + "/*/GET/pets"), req("GET", "/pets/1"), NotApplicable},
		{"glob/star spans slashes", glob(testAPIARN + "/*/pets/*"), req("GET", "/pets/1/toys"), Allow},
		{"glob/question mark one char", glob(testAPIARN + "/prod/???/*"), req("GET", "/x"), Allow},
		{"glob/question mark not two", glob(testAPIARN + "/prod/???/*"), req("POST", "/x"), NotApplicable},
		{"glob/case-sensitive resource", glob(testAPIARN + "/prod/get/*"), req("GET", "/x"), NotApplicable},
		{"glob/root path trailing slash", glob(testAPIARN + "/prod/GET/"), req("GET", "/"), Allow},
		{"glob/star matches empty", glob(testAPIARN + "/prod/GET/*"), req("GET", "/"), Allow},
		{"glob/other region", glob("arn:aws:execute-api:us-west-2:*"), req("GET", "/"), NotApplicable},
		{"glob/resource star", glob("*"), req("GET", "/"), Allow},
		{"action glob/?", actionGlobs, req("GET", "/", action("execute-api:Invoke")), Allow},
		{"action glob/prefix other service", actionGlobs, req("GET", "/", action("s3:GetObject")), Allow},
		{"action glob/no match", actionGlobs, req("GET", "/", action("s3:PutObject")), NotApplicable},
		// Policy variables.
		{"vars/username", variables, req("GET", "/users/alice/x", func(r *Request) { r.Context.SetString(KeyUsername, "alice") }), Allow},
		{"vars/other username", variables, req("GET", "/users/bob/x", func(r *Request) { r.Context.SetString(KeyUsername, "alice") }), NotApplicable},
		{"vars/absent variable matches nothing", variables, req("GET", "/users//x"), NotApplicable},
		{"vars/value is literal, not a glob", variables, req("GET", "/users/alice/x", func(r *Request) { r.Context.SetString(KeyUsername, "*") }), NotApplicable},
		{"vars/default value", variables, req("GET", "/vpce/none"), Allow},
		{"vars/present value beats default", variables, req("GET", "/vpce/"+vpceA, viaVpce(vpceA)), Allow},
		{"vars/present value, default path", variables, req("GET", "/vpce/none", viaVpce(vpceA)), NotApplicable},
		{"vars/${*} is a literal star", variables, req("GET", "/literal/*"), Allow},
		{"vars/${*} is not a wildcard", variables, req("GET", "/literal/x"), NotApplicable},
		{"vars/legacy version is literal", variablesLegacy, req("GET", "/users/${aws:username}/x"), Allow},
		{"vars/legacy version does not substitute", variablesLegacy, req("GET", "/users/alice/x", func(r *Request) { r.Context.SetString(KeyUsername, "alice") }), NotApplicable},
		// Nil inputs.
		{"nil request", benchPolicy, nil, NotApplicable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, tt.policy)
			if got := p.Evaluate(tt.req); got != tt.want {
				t.Errorf("Evaluate = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDecideReportsStatement(t *testing.T) {
	p := mustParse(t, benchPolicy)
	d, i := p.Decide(req("DELETE", "/pets", viaVpce(vpceA), fromVpcIP("10.0.0.1")))
	if d != Deny || i != 2 {
		t.Errorf("Decide = %v, %d; want Deny, 2", d, i)
	}
	d, i = p.Decide(req("GET", "/pets", viaVpce(vpceA)))
	if d != Allow || i != 0 {
		t.Errorf("Decide = %v, %d; want Allow, 0", d, i)
	}
	d, i = p.Decide(req("GET", "/pets", viaVpce(vpceA), action("s3:GetObject")))
	if d != NotApplicable || i != -1 {
		t.Errorf("Decide = %v, %d; want NotApplicable, -1", d, i)
	}
	if p.Len() != 3 {
		t.Errorf("Len = %d, want 3", p.Len())
	}
	var nilPolicy *Policy
	if nilPolicy.Evaluate(req("GET", "/")) != NotApplicable || nilPolicy.Len() != 0 {
		t.Error("nil policy must be NotApplicable with Len 0")
	}
}

func TestPolicyAccessors(t *testing.T) {
	p := mustParse(t, `{"Version":"2012-10-17","Id":"pid","Statement":[
	  {"Sid":"A","Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},
	  {"Sid":"D","Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}`)
	if p.Version() != VersionCurrent || p.ID() != "pid" || p.Sid(0) != "A" || p.Sid(1) != "D" || p.Sid(2) != "" {
		t.Errorf("accessors: version %q id %q sids %q %q", p.Version(), p.ID(), p.Sid(0), p.Sid(1))
	}
	if got := p.Evaluate(req("GET", "/")); got != Deny {
		t.Errorf("Evaluate = %v, want Deny (deny wins regardless of order)", got)
	}
}

func TestDecisionString(t *testing.T) {
	for d, want := range map[Decision]string{NotApplicable: "NotApplicable", Allow: "Allow", Deny: "Deny", 9: "Decision(?)"} {
		if got := d.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", d, got, want)
		}
	}
}

func TestContextSetters(t *testing.T) {
	var c Context
	c.SetExtra("AWS:SourceVpce", vpceA)
	c.SetExtra("aws:VpcSourceIp", "10.1.2.3")
	c.SetExtra("aws:SecureTransport", "TRUE")
	c.SetExtra("aws:EpochTime", "1700000000")
	c.SetExtra("aws:PrincipalTag/Team", "blue", "green")
	if c.SourceVpce != vpceA || !c.Has(KeySourceVpce) {
		t.Errorf("SourceVpce = %q (present %v)", c.SourceVpce, c.Has(KeySourceVpce))
	}
	if c.VpcSourceIp != netip.MustParseAddr("10.1.2.3") || !c.Has(KeyVpcSourceIp) {
		t.Errorf("VpcSourceIp = %v", c.VpcSourceIp)
	}
	if !c.SecureTransport || !c.Has(KeySecureTransport) {
		t.Error("SecureTransport not set")
	}
	if c.EpochTime != 1700000000 || !c.Has(KeyEpochTime) {
		t.Errorf("EpochTime = %d", c.EpochTime)
	}
	if got := c.Extra["aws:principaltag/team"]; len(got) != 2 {
		t.Errorf("Extra = %v", c.Extra)
	}
	c.SetExtra("aws:VpcSourceIp", "not-an-ip")
	if c.Has(KeyVpcSourceIp) {
		t.Error("an unparsable value must leave the key absent")
	}
	if c.SetString(KeySourceIp, "x") || c.SetAddr(KeyUsername, netip.Addr{}) {
		t.Error("setters must refuse keys of another type")
	}
	c.SetTime(time.Unix(1700000000, 0))
	if !c.Has(KeyCurrentTime) || !c.Has(KeyEpochTime) {
		t.Error("SetTime must set both time keys")
	}
	c.Reset()
	if c.Present != 0 || len(c.Extra) != 0 || c.SourceVpce != "" {
		t.Errorf("Reset left %+v", c)
	}
	for k := KeySourceVpc; k < numKeys; k++ {
		got, ok := LookupKey(k.String())
		if !ok || got != k {
			t.Errorf("LookupKey(%q) = %v, %v", k.String(), got, ok)
		}
	}
	if _, ok := LookupKey("aws:PrincipalTag/x"); ok {
		t.Error("LookupKey must not know aws:PrincipalTag/x")
	}
}
