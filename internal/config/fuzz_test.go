package config

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, that it reports problems only
// as *FieldError values, and that whatever it accepts is valid and decoded
// the same way every time.
func FuzzParse(f *testing.F) {
	f.Add(DefaultYAML())
	f.Add([]byte(baseYAML))
	f.Add([]byte("region: us-east-1\n" + billionLaughs("")))
	f.Add([]byte(edit(f, "httpPort: 8080\n", "httpPort: 8080\n    policy:\n"+billionLaughs("      ")+"      Statement: *i\n")))
	f.Add([]byte(edit(f, "httpPort: 8080\n", "httpPort: 8080\n    policy: &p {Statement: [*p]}\n")))
	f.Add([]byte(edit(f, "httpPort: 8080\n", "httpPort: 8080\n    policy: '{\"Statement\": [], \"Version\": \"2012-10-17\"}'\n")))
	f.Add([]byte(edit(f, "  - id: vpc-0bbbbbbbbbbbbbbb2\n", "  - <<: {enableDnsSupport: true}\n    id: vpc-0bbbbbbbbbbbbbbb2\n")))
	for _, c := range invalidCases(f) {
		f.Add([]byte(c.yaml))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		topo, err := Parse(data)
		if err != nil {
			if topo != nil {
				t.Fatal("Parse returned a topology and an error")
			}
			checkFieldErrors(t, err)
			return
		}
		if err := topo.Validate(); err != nil {
			t.Fatalf("Parse accepted a topology that Validate rejects: %v", err)
		}
		again, err := Parse(data)
		if err != nil || !reflect.DeepEqual(topo, again) {
			t.Fatalf("Parse is not deterministic: %v", err)
		}
		for i := range topo.VPCEndpoints {
			e := &topo.VPCEndpoints[i]
			if name := topo.EndpointPublicDNSName(e); !strings.HasPrefix(name, e.ID+"-") {
				t.Fatalf("public DNS name %q", name)
			}
			if e.Policy != nil && checkPolicy(e.Policy) != "" {
				t.Fatalf("accepted policy %s", e.Policy)
			}
		}
	})
}
