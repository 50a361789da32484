package dns

import (
	"net"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// dig runs dig (Debian's dnsutils) against addr and returns the status and
// the sorted +short-style answer data.
func dig(t *testing.T, addr, name, qtype string, extra ...string) (string, []string) {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	args := append([]string{"@" + host, "-p", port, name, qtype, "+time=2", "+tries=1", "+noall", "+comments", "+answer"}, extra...)
	out, err := exec.Command("dig", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("dig %v: %v\n%s", args, err, out)
	}
	status := ""
	var answers []string
	for _, line := range strings.Split(string(out), "\n") {
		if i := strings.Index(line, "status: "); i >= 0 {
			status = strings.TrimSuffix(strings.Fields(line[i+len("status: "):])[0], ",")
		}
		if line == "" || strings.HasPrefix(line, ";") {
			continue
		}
		f := strings.Fields(line)
		if len(f) >= 5 {
			answers = append(answers, strings.Join(f[3:], " "))
		}
	}
	slices.Sort(answers)
	return status, answers
}

// TestDig drives the resolvers with dig, as an operator would.
func TestDig(t *testing.T) {
	if _, err := exec.LookPath("dig"); err != nil {
		t.Skip("dig not installed (apt-get install dnsutils)")
	}
	e := startEnv(t, zonesTopology)
	e.putAPI("digpriv001", true, vpceA)
	e.putAPI("digpub0001", false)
	inA := e.addr("vpc:" + vpcA)
	inB := e.addr("vpc:" + vpcB)
	pub := e.addr("public:public")
	inbound := e.addr("inbound:" + rslvrA)
	epA := []string{"A 127.11.1.10", "A 127.11.3.10"}
	x, _ := e.topo.Endpoint(vpceA)
	vpceName := e.topo.EndpointPublicDNSName(x)
	if !eventually(t, 2*time.Second, func() bool {
		s, _ := dig(t, pub, "digpriv001.execute-api.us-east-1.amazonaws.com", "A")
		return s == "NXDOMAIN"
	}) {
		t.Fatal("APIs not visible")
	}
	tests := []struct {
		name, server, qname, status string
		want                        []string
	}{
		{"private DNS capture inside the VPC", inA, "digpriv001.execute-api.us-east-1.amazonaws.com", "NOERROR", epA},
		{"capture catches public APIs too", inA, "digpub0001.execute-api.us-east-1.amazonaws.com", "NOERROR", epA},
		{"inbound endpoint answers as the VPC", inbound, "digpriv001.execute-api.us-east-1.amazonaws.com", "NOERROR", epA},
		{"public answer elsewhere: private API", pub, "digpriv001.execute-api.us-east-1.amazonaws.com", "NXDOMAIN", nil},
		{"public answer elsewhere: public API", inB, "digpub0001.execute-api.us-east-1.amazonaws.com", "NOERROR", []string{"A 127.0.0.1"}},
		{"vpce name everywhere (public)", pub, vpceName, "NOERROR", epA},
		{"vpce name everywhere (other VPC)", inB, vpceName, "NOERROR", epA},
		{"alias everywhere (public)", pub, "digpriv001-" + vpceA + ".execute-api.us-east-1.amazonaws.com", "NOERROR", epA},
		{"alias everywhere (other VPC)", inB, "digpriv001-" + vpceA + ".execute-api.us-east-1.amazonaws.com", "NOERROR", epA},
		{"private zone inside its VPC", inA, "db.corp.internal", "NOERROR", []string{"A 127.11.9.9"}},
		{"private zone not elsewhere", inB, "db.corp.internal", "REFUSED", nil},
		{"private zone not publicly", pub, "db.corp.internal", "REFUSED", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, answers := dig(t, tc.server, tc.qname, "A")
			if status != tc.status || !slices.Equal(answers, tc.want) {
				t.Errorf("dig %s @%s: %s %v, want %s %v", tc.qname, tc.server, status, answers, tc.status, tc.want)
			}
		})
	}
	t.Run("dig +tcp", func(t *testing.T) {
		status, answers := dig(t, inA, "db.corp.internal", "A", "+tcp")
		if status != "NOERROR" || len(answers) != 1 {
			t.Errorf("%s %v", status, answers)
		}
	})
}
