package vpclink

import (
	"net/netip"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gatehouse/internal/apimodel"
)

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		fold, want bool
	}{
		{"/a/*", "/a/b/c", false, true},
		{"/a/*", "/a", false, false},
		{"/a*", "/a", false, true},
		{"*", "", false, true},
		{"", "", false, true},
		{"", "x", false, false},
		{"/img/?.png", "/img/1.png", false, true},
		{"/img/?.png", "/img/12.png", false, false},
		{"/A/*", "/a/b", false, false},
		{"*.example.com", "api.EXAMPLE.com", true, true},
		{"*.example.com", "example.com", true, false},
		{"a*b*c", "aXXbYYc", false, true},
		{"a*b*c", "aXXbYY", false, false},
		{"**x", "yyx", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+"~"+tt.s, func(t *testing.T) {
			if got := globMatch(tt.pattern, tt.s, tt.fold); got != tt.want {
				t.Fatalf("globMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
			}
		})
	}
}

// FuzzGlobMatch compares globMatch with a regular-expression reference.
func FuzzGlobMatch(f *testing.F) {
	f.Add("/a/*", "/a/b")
	f.Add("*.ex?mple.com", "api.example.com")
	f.Add("a*b*c*", "abcabc")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if len(pattern) > 64 || len(s) > 256 {
			return
		}
		var re strings.Builder
		re.WriteString(`(?s)\A`)
		for _, c := range []byte(pattern) {
			switch c {
			case '*':
				re.WriteString(`[\x00-\xff]*`)
			case '?':
				re.WriteString(`[\x00-\xff]`)
			default:
				re.WriteString(regexp.QuoteMeta(string([]byte{c})))
			}
		}
		re.WriteString(`\z`)
		// Compare bytewise: make both sides Latin-1 so the regexp sees bytes.
		want := regexp.MustCompile(latin1(re.String())).MatchString(latin1(s))
		if got := globMatch(pattern, s, false); got != want {
			t.Fatalf("globMatch(%q, %q) = %v, regexp says %v", pattern, s, got, want)
		}
	})
}

// latin1 maps each byte to the rune of the same value, so that regexp matches bytes.
func latin1(s string) string {
	r := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		r[i] = rune(s[i])
	}
	return string(r)
}

func TestRuleMatches(t *testing.T) {
	tests := []struct {
		name       string
		rule       ruleRT
		host, path string
		want       bool
	}{
		{"path", ruleRT{paths: []string{"/orders/*"}}, "x", "/orders/1", true},
		{"path miss", ruleRT{paths: []string{"/orders/*"}}, "x", "/users/1", false},
		{"any path", ruleRT{paths: []string{"/a", "/b*"}}, "x", "/bee", true},
		{"host", ruleRT{hosts: []string{"api.example.com"}}, "API.example.com:8443", "/", true},
		{"host miss", ruleRT{hosts: []string{"api.example.com"}}, "www.example.com", "/", false},
		{"both", ruleRT{paths: []string{"/v2/*"}, hosts: []string{"*.example.com"}}, "a.example.com", "/v2/x", true},
		{"both, one misses", ruleRT{paths: []string{"/v2/*"}, hosts: []string{"*.example.com"}}, "a.example.org", "/v2/x", false},
		{"ipv6 host", ruleRT{hosts: []string{"::1"}}, "[::1]:80", "/", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rule.matches(tt.host, tt.path); got != tt.want {
				t.Fatalf("matches(%q, %q) = %v", tt.host, tt.path, got)
			}
		})
	}
}

func TestMatcher(t *testing.T) {
	tests := []struct {
		matcher string
		code    int
		want    bool
	}{
		{"200", 200, true}, {"200", 201, false}, {"200,202", 202, true},
		{"200-299", 250, true}, {"200-299", 300, false}, {"200-399,404", 404, true},
	}
	for _, tt := range tests {
		t.Run(tt.matcher, func(t *testing.T) {
			if !validMatcher(tt.matcher) {
				t.Fatal("not valid")
			}
			if got := matchCode(tt.matcher, tt.code); got != tt.want {
				t.Fatalf("matchCode(%q, %d) = %v", tt.matcher, tt.code, got)
			}
		})
	}
	for _, bad := range []string{"", "2xx", "99", "300-200", "200-"} {
		if validMatcher(bad) {
			t.Errorf("validMatcher(%q) = true", bad)
		}
	}
}

func TestHealthDefaults(t *testing.T) {
	off := false
	tests := []struct {
		name string
		doc  apimodel.TargetGroup
		want healthConfig
	}{
		{"alb", apimodel.TargetGroup{Protocol: "HTTP"}, healthConfig{enabled: true, protocol: "HTTP", path: "/",
			interval: 30 * time.Second, timeout: 5 * time.Second, healthy: 5, unhealthy: 2, matcher: "200"}},
		{"nlb", apimodel.TargetGroup{Protocol: "TCP"}, healthConfig{enabled: true, protocol: "TCP", path: "/",
			interval: 30 * time.Second, timeout: 10 * time.Second, healthy: 5, unhealthy: 2, matcher: "200-399"}},
		{"nlb http check", apimodel.TargetGroup{Protocol: "TLS", HealthCheckProtocol: "HTTP", HealthCheckPath: "/h", HealthCheckPort: "9000"},
			healthConfig{enabled: true, protocol: "HTTP", path: "/h", port: 9000, interval: 30 * time.Second, timeout: 6 * time.Second,
				healthy: 5, unhealthy: 2, matcher: "200-399"}},
		{"disabled", apimodel.TargetGroup{Protocol: "HTTP", HealthCheckEnabled: &off, HealthCheckIntervalSeconds: 10,
			HealthyThresholdCount: 3, Matcher: &apimodel.Matcher{HTTPCode: "200-204"}},
			healthConfig{protocol: "HTTP", path: "/", interval: 10 * time.Second, timeout: 5 * time.Second, healthy: 3, unhealthy: 2, matcher: "200-204"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := healthFromDoc(&tt.doc)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
	if _, err := healthFromDoc(&apimodel.TargetGroup{Protocol: "HTTP", Matcher: &apimodel.Matcher{HTTPCode: "ok"}}); err == nil {
		t.Fatal("bad matcher accepted")
	}
}

func TestPick(t *testing.T) {
	m := &Manager{opts: Options{Now: time.Now}}
	mk := func(state string) *target {
		return newTarget(m, "g", "vpc", netip.MustParseAddrPort("10.0.0.1:80"), state)
	}
	a, b, c := mk(stateHealthy), mk(stateHealthy), mk(stateUnhealthy)
	var rr atomic.Uint64
	now := time.Now()
	t.Run("round robin spreads over healthy targets", func(t *testing.T) {
		seen := map[*target]int{}
		for range 100 {
			seen[pick([]*target{a, b, c}, false, &rr, now, nil)]++
		}
		if seen[a] != 50 || seen[b] != 50 || seen[c] != 0 {
			t.Fatalf("a %d b %d c %d", seen[a], seen[b], seen[c])
		}
	})
	t.Run("least outstanding", func(t *testing.T) {
		a.inflight.Store(3)
		b.inflight.Store(1)
		defer a.inflight.Store(0)
		defer b.inflight.Store(0)
		for range 10 {
			if got := pick([]*target{a, b, c}, true, &rr, now, nil); got != b {
				t.Fatal("did not pick the least loaded target")
			}
		}
	})
	t.Run("skip", func(t *testing.T) {
		for range 10 {
			if got := pick([]*target{a, b, c}, false, &rr, now, []*target{a}); got != b {
				t.Fatal("picked a skipped target")
			}
		}
	})
	t.Run("fail open when nothing is healthy", func(t *testing.T) {
		d, e := mk(stateUnhealthy), mk(stateInitial)
		seen := map[*target]int{}
		for range 10 {
			seen[pick([]*target{d, e}, false, &rr, now, nil)]++
		}
		if seen[d] != 5 || seen[e] != 5 {
			t.Fatalf("d %d e %d", seen[d], seen[e])
		}
	})
	t.Run("ejected and draining targets", func(t *testing.T) {
		d, e := mk(stateHealthy), mk(stateDraining)
		d.ejectedUntil = now.Add(time.Minute)
		if got := pick([]*target{d, e, c}, false, &rr, now, nil); got != c {
			t.Fatal("an unhealthy target should beat an ejected one")
		}
		if got := pick([]*target{d, e}, false, &rr, now, nil); got != d {
			t.Fatal("an ejected target is the last resort")
		}
		if got := pick([]*target{e}, false, &rr, now, nil); got != nil {
			t.Fatal("a draining target was picked")
		}
	})
}

func TestChooseWeighted(t *testing.T) {
	g1, g2 := &targetGroup{arn: "1"}, &targetGroup{arn: "2"}
	a := action{tgs: []weightedTG{{g1, 1}, {g2, 3}}}
	n := map[*targetGroup]int{}
	for i := range uint64(400) {
		n[a.choose(i)]++
	}
	if n[g1] != 100 || n[g2] != 300 {
		t.Fatalf("g1 %d g2 %d", n[g1], n[g2])
	}
}

func TestConnectionID(t *testing.T) {
	vars := map[string]string{"vpcLinkId": "abc123", "env": "prod"}
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"abc123", "abc123", true},
		{"${stageVariables.vpcLinkId}", "abc123", true},
		{"x-${stageVariables.env}-${stageVariables.vpcLinkId}", "x-prod-abc123", true},
		{"${stageVariables.missing}", "", false},
		{"${stageVariables.vpcLinkId", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ConnectionID(tt.in, vars)
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("ConnectionID(%q) = %q, %v", tt.in, got, err)
			}
		})
	}
}

func TestURIPort(t *testing.T) {
	tests := []struct {
		uri  string
		want int
	}{
		{"", 80}, {"http://nlb.example.com", 80}, {"https://nlb.example.com/x", 443},
		{"http://nlb.example.com:8080/x", 8080}, {"HTTPS://h:9443", 9443},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			if got, err := uriPort(tt.uri); err != nil || got != tt.want {
				t.Fatalf("uriPort = %d, %v", got, err)
			}
		})
	}
	if _, err := uriPort("http://h:0"); err == nil {
		t.Fatal("port 0 accepted")
	}
}

func TestParseELBARN(t *testing.T) {
	tests := []struct {
		arn  string
		want apimodel.ELBARN
	}{
		{"arn:aws:elasticloadbalancing:us-east-2:123456789012:listener/app/my-load-balancer/50dc6c495c0c9188/0467ef3c8400ae65",
			apimodel.ELBARN{Partition: "aws", Region: "us-east-2", Account: "123456789012", Kind: "listener", LBType: "app",
				Name: "my-load-balancer", LBID: "50dc6c495c0c9188", ListenerID: "0467ef3c8400ae65", ID: "0467ef3c8400ae65"}},
		{"arn:aws:elasticloadbalancing:us-east-2:123456789012:loadbalancer/net/my-nlb/1234567890123456",
			apimodel.ELBARN{Partition: "aws", Region: "us-east-2", Account: "123456789012", Kind: "loadbalancer", LBType: "net",
				Name: "my-nlb", LBID: "1234567890123456", ID: "1234567890123456"}},
		{"arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-tg/73e2d6bc24d8a067",
			apimodel.ELBARN{Partition: "aws", Region: "us-east-2", Account: "123456789012", Kind: "targetgroup",
				Name: "my-tg", ID: "73e2d6bc24d8a067"}},
	}
	for _, tt := range tests {
		t.Run(tt.want.Kind, func(t *testing.T) {
			got, err := apimodel.ParseELBARN(tt.arn)
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v", got, err)
			}
		})
	}
	for _, bad := range []string{"", "arn:aws:s3:::b", "arn:aws:elasticloadbalancing:r:a:listener/app/x", "arn:aws:elasticloadbalancing:r:a:loadbalancer/gwy/x/1"} {
		if _, err := apimodel.ParseELBARN(bad); err == nil {
			t.Errorf("ParseELBARN(%q) succeeded", bad)
		}
	}
}

func FuzzParseARNs(f *testing.F) {
	f.Add("arn:aws:elasticloadbalancing:us-east-2:123456789012:listener/app/my-load-balancer/50dc6c495c0c9188/0467ef3c8400ae65")
	f.Add("arn:aws:servicediscovery:us-east-2:123456789012:service/srv-id?stage=prod&deployment=green")
	f.Add("arn:aws:elasticloadbalancing:r:a:listener-rule/app/n/1/2/3")
	f.Fuzz(func(t *testing.T, s string) {
		if a, err := apimodel.ParseELBARN(s); err == nil {
			if a.ID == "" || a.Kind == "" || strings.Contains(a.ID, "/") {
				t.Fatalf("parsed %q as %+v", s, a)
			}
		}
		arn, q, _ := strings.Cut(s, "?")
		if a, err := apimodel.ParseCloudMapARN(arn); err == nil && (a.ID == "" || strings.Contains(a.ID, "/")) {
			t.Fatalf("parsed %q as %+v", arn, a)
		}
		_, _ = parseFilter(q)
		if e := apimodel.KeyEscape(s); strings.ContainsAny(e, ".:/ ") {
			t.Fatalf("KeyEscape(%q) = %q", s, e)
		}
	})
}

func FuzzConnectionID(f *testing.F) {
	f.Add("${stageVariables.vpcLinkId}")
	f.Add("a${stageVariables.x}b${")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ConnectionID(s, map[string]string{"vpcLinkId": "abc", "x": "y"})
		if err == nil && strings.Contains(got, "${stageVariables.") && !strings.Contains(s, "abc") && !strings.Contains(s, "y") {
			t.Fatalf("ConnectionID(%q) left a variable: %q", s, got)
		}
	})
}
