package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExpandShorthand(t *testing.T) {
	const arn = "arn:aws:execute-api:us-east-1:111111111111:abc123defg"
	tests := []struct {
		name   string
		region string
		in     string
		want   string
	}{
		{
			name: "single resource, formatting kept",
			in: `{
  "Version": "2012-10-17",
  "Statement": [ {
      "Effect":"Allow", "Principal": "*",
      "Action": "execute-api:Invoke",
      "Resource":   "execute-api:/*"
  } ]
}`,
			want: `{
  "Version": "2012-10-17",
  "Statement": [ {
      "Effect":"Allow", "Principal": "*",
      "Action": "execute-api:Invoke",
      "Resource":   "` + arn + `/*"
  } ]
}`,
		},
		{
			name: "list with full ARNs and star untouched",
			in:   `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":["execute-api:/prod/GET/pets","arn:aws:execute-api:us-east-1:222222222222:zzz/*","*","execute-api:/*/POST/pets/*"]}]}`,
			want: `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":["` + arn + `/prod/GET/pets","arn:aws:execute-api:us-east-1:222222222222:zzz/*","*","` + arn + `/*/POST/pets/*"]}]}`,
		},
		{
			name: "NotResource and single statement object",
			in:   `{"Statement":{"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","NotResource":"execute-api:/prod/GET/health"}}`,
			want: `{"Statement":{"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","NotResource":"` + arn + `/prod/GET/health"}}`,
		},
		{
			name: "conditions, actions and Sids untouched",
			in:   `{"Statement":[{"Sid":"execute-api:/x","Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*","Condition":{"ArnLike":{"aws:SourceArn":"execute-api:/*"}}}]}`,
			want: `{"Statement":[{"Sid":"execute-api:/x","Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"` + arn + `/*","Condition":{"ArnLike":{"aws:SourceArn":"execute-api:/*"}}}]}`,
		},
		{
			name: "no shorthand is byte-identical",
			in:   "{\"Statement\" : [ {\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"arn:aws:execute-api:*\"} ]}\n",
			want: "{\"Statement\" : [ {\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"arn:aws:execute-api:*\"} ]}\n",
		},
		{
			name: "escaped slash is decoded and rewritten",
			in:   `{"Statement":{"Effect":"Allow","Action":"*","Resource":"execute-api:\/prod\/*"}}`,
			want: `{"Statement":{"Effect":"Allow","Action":"*","Resource":"` + arn + `/prod/*"}}`,
		},
		{
			name: "missing slash gets one",
			in:   `{"Statement":{"Effect":"Allow","Action":"*","Resource":"execute-api:*"}}`,
			want: `{"Statement":{"Effect":"Allow","Action":"*","Resource":"` + arn + `/*"}}`,
		},
		{
			name: "HTML characters are not escaped",
			in:   `{"Statement":{"Effect":"Allow","Action":"*","Resource":"execute-api:/prod/GET/a&b<c>"}}`,
			want: `{"Statement":{"Effect":"Allow","Action":"*","Resource":"` + arn + `/prod/GET/a&b<c>"}}`,
		},
		{
			name:   "China partition",
			region: "cn-north-1",
			in:     `{"Statement":{"Effect":"Allow","Action":"*","Resource":"execute-api:/*"}}`,
			want:   `{"Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws-cn:execute-api:cn-north-1:111111111111:abc123defg/*"}}`,
		},
		{
			name:   "GovCloud partition",
			region: "us-gov-west-1",
			in:     `{"Statement":{"Effect":"Allow","Action":"*","Resource":"execute-api:/*"}}`,
			want:   `{"Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws-us-gov:execute-api:us-gov-west-1:111111111111:abc123defg/*"}}`,
		},
		{
			name: "other top-level elements and non-string resources left alone",
			in:   `{"Id":"execute-api:/x","Statement":[{"Resource":7},"junk",{"Resource":["execute-api:/a",null]}]}`,
			want: `{"Id":"execute-api:/x","Statement":[{"Resource":7},"junk",{"Resource":["` + arn + `/a",null]}]}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			region := tt.region
			if region == "" {
				region = "us-east-1"
			}
			got, err := ExpandShorthand([]byte(tt.in), region, "111111111111", "abc123defg")
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestExpandShorthandErrors(t *testing.T) {
	for _, tt := range []struct {
		name, in, region, account, api string
	}{
		{"not JSON", `{"Statement":`, "us-east-1", "111111111111", "abc"},
		{"not an object", `["execute-api:/*"]`, "us-east-1", "111111111111", "abc"},
		{"no region", `{}`, "", "111111111111", "abc"},
		{"no account", `{}`, "us-east-1", "", "abc"},
		{"no API id", `{}`, "us-east-1", "111111111111", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ExpandShorthand([]byte(tt.in), tt.region, tt.account, tt.api); err == nil {
				t.Error("want error")
			}
		})
	}
}

func TestExpandShorthandPrivateDomain(t *testing.T) {
	src := []byte(`{"Statement":{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*"}}`)
	got, err := ExpandShorthand(src, "us-west-2", "111122223333", "/domainnames/private.example.com+abcd1234")
	if err != nil {
		t.Fatal(err)
	}
	want := `"Resource":"arn:aws:execute-api:us-west-2:111122223333:/domainnames/private.example.com+abcd1234/*"`
	if !strings.Contains(string(got), want) {
		t.Errorf("got %s, want it to contain %s", got, want)
	}
}

// TestRealPolicies expands, parses and evaluates the policies in
// testdata/policies (API Gateway and VPC endpoint policy examples).
func TestRealPolicies(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "policies", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata policies: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if len(src) > MaxResourcePolicySize {
				t.Fatalf("%d bytes is over MaxResourcePolicySize", len(src))
			}
			exp, err := ExpandShorthand(src, "us-east-1", "111111111111", "abc123defg")
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(exp), `"execute-api:/`) {
				t.Errorf("shorthand left after expansion:\n%s", exp)
			}
			p := mustParse(t, string(exp))
			p.Evaluate(req("GET", "/pets"))
		})
	}

	// The AWS example: Allow execute-api:/*, Deny unless aws:sourceVpce.
	src, err := os.ReadFile(filepath.Join("testdata", "policies", "source-vpce.json"))
	if err != nil {
		t.Fatal(err)
	}
	exp, err := ExpandShorthand(src, "us-east-1", "111111111111", "abc123defg")
	if err != nil {
		t.Fatal(err)
	}
	p := mustParse(t, string(exp))
	for _, tt := range []struct {
		vpce string
		want Decision
	}{{"vpce-1a2b3c4d", Allow}, {"vpce-99999999", Deny}, {"", Deny}} {
		if got := p.Evaluate(req("GET", "/pets", viaVpce(tt.vpce))); got != tt.want {
			t.Errorf("via %q: %v, want %v", tt.vpce, got, tt.want)
		}
	}
	// Unexpanded, the shorthand matches no real method ARN.
	if got := mustParse(t, string(src)).Evaluate(req("GET", "/pets", viaVpce("vpce-1a2b3c4d"))); got != NotApplicable {
		t.Errorf("unexpanded policy: %v, want NotApplicable", got)
	}
}
