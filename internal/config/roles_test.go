package config

import (
	"reflect"
	"strings"
	"testing"
)

// TestParseAuthRoles covers accounts[].roles: names, trust lists and inline policies.
func TestParseAuthRoles(t *testing.T) {
	const acct = `
    accessKeys: [{id: AKIAPROVIDER00000001, secret: provider-secret}]`
	t.Run("valid", func(t *testing.T) {
		topo, err := Parse([]byte(edit(t, acct, acct+`
    roles:
      - name: invoker
        trust: ["222222222222", "arn:aws:iam::111111111111:user/alice", "*"]
        policies: [{name: invoke, document: {Version: "2012-10-17", Statement: [{Effect: Allow, Action: "execute-api:Invoke", Resource: "*"}]}}]
      - name: plain`)))
		if err != nil {
			t.Fatal(err)
		}
		roles := topo.Accounts[0].Roles
		if len(roles) != 2 || roles[0].Name != "invoker" || roles[1].Name != "plain" {
			t.Fatalf("roles = %+v", roles)
		}
		if want := []string{"222222222222", "arn:aws:iam::111111111111:user/alice", "*"}; !reflect.DeepEqual(roles[0].Trust, want) {
			t.Errorf("trust = %q, want %q", roles[0].Trust, want)
		}
		if len(roles[0].Policies) != 1 || roles[0].Policies[0].Name != "invoke" || !strings.Contains(string(roles[0].Policies[0].Document), "execute-api:Invoke") {
			t.Errorf("policies = %+v", roles[0].Policies)
		}
		if roles[1].Trust != nil || roles[1].Policies != nil {
			t.Errorf("plain role = %+v", roles[1])
		}
	})
	invalid := []struct {
		name, roles, path, msg string
	}{
		{"no name", `[{trust: ["*"]}]`, "accounts[0].roles[0].name", "required"},
		{"duplicate name", `[{name: r}, {name: r}]`, "accounts[0].roles[1].name", "duplicate role name"},
		{"bad trust", `[{name: r, trust: [bob]}]`, "accounts[0].roles[0].trust[0]", "want"},
		{"unknown field", `[{name: r, trusted: ["*"]}]`, "accounts[0].roles[0].trusted", ""},
		{"empty policy", `[{name: r, policies: [{name: p}]}]`, "accounts[0].roles[0].policies[0].document", "required"},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(edit(t, acct, acct+"\n    roles: "+tt.roles)))
			if err == nil {
				t.Fatal("Parse succeeded")
			}
			checkFieldErrors(t, err)
			if !hasError(err, tt.path, tt.msg) {
				t.Errorf("no error at %q containing %q; got:\n%v", tt.path, tt.msg, err)
			}
		})
	}
}
