package dns

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/config"
	"gatehouse/internal/dns/r53"
	"gatehouse/internal/store"
)

const (
	vpcA   = "vpc-0aaaaaaaaaaaaaaa1"
	vpcB   = "vpc-0bbbbbbbbbbbbbbb2"
	vpceA  = "vpce-0aaaaaaaaaaaaaaa1"
	vpceB  = "vpce-0bbbbbbbbbbbbbbb2"
	rslvrA = "rslvr-in-0aaaaaaaaaaaaaaa1"
)

// baseTopology has two VPCs: A with a private-DNS endpoint in two subnets
// (two availability zones) and an inbound resolver endpoint, B with an
// endpoint whose private DNS is off; a public resolver; every port free.
const baseTopology = `
region: us-east-1
controlPlane: {listen: 127.0.0.1:0}
publicListener: {listen: 127.0.0.1:0}
accounts:
  - id: "111111111111"
    accessKeys: [{id: AKIAPROVIDER00000001, secret: s}]
vpcs:
  - id: vpc-0aaaaaaaaaaaaaaa1
    account: "111111111111"
    cidr: 127.11.0.0/16
    subnets:
      - {id: subnet-0aaaaaaaaaaaaaaa1, cidr: 127.11.1.0/24}
      - {id: subnet-0aaaaaaaaaaaaaaa2, cidr: 127.11.3.0/24}
  - {id: vpc-0bbbbbbbbbbbbbbb2, account: "111111111111", cidr: 127.21.0.0/16}
vpcEndpoints:
  - {id: vpce-0aaaaaaaaaaaaaaa1, vpc: vpc-0aaaaaaaaaaaaaaa1, addresses: [127.11.1.10, 127.11.3.10], port: 0}
  - {id: vpce-0bbbbbbbbbbbbbbb2, vpc: vpc-0bbbbbbbbbbbbbbb2, addresses: [127.21.1.10], port: 0, privateDnsEnabled: false}
dnsPort: 0
publicResolver: {listen: 127.0.0.1:0}
resolverEndpoints:
  - {id: rslvr-in-0aaaaaaaaaaaaaaa1, vpc: vpc-0aaaaaaaaaaaaaaa1, addresses: [127.11.2.10]}
`

func testLogger() *slog.Logger {
	if os.Getenv("GW_TEST_LOG") == "debug" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

func openStore(t testing.TB) *store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func parseTopology(t testing.TB, yaml string) *config.Topology {
	t.Helper()
	topo, err := config.Parse([]byte(yaml))
	if err != nil {
		t.Fatalf("topology: %v", err)
	}
	return topo
}

// env is a started DNS server on a real store.
type env struct {
	t     testing.TB
	srv   *Server
	store *store.Store
	topo  *config.Topology
	addrs map[string]Listener // by Kind+":"+ID
}

func startEnv(t testing.TB, topoYAML string, opts ...func(*Options)) *env {
	t.Helper()
	topo := parseTopology(t, topoYAML)
	st := openStore(t)
	o := Options{Topology: topo, Store: st, Logger: testLogger(),
		HealthInterval: func(s int) time.Duration { return time.Duration(s) * 2 * time.Millisecond }}
	for _, f := range opts {
		f(&o)
	}
	ctx := context.Background()
	srv, err := New(ctx, o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	if err := srv.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	select {
	case <-srv.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("dns server not ready")
	}
	e := &env{t: t, srv: srv, store: st, topo: topo, addrs: map[string]Listener{}}
	for _, l := range srv.Listeners() {
		e.addrs[l.Kind+":"+l.ID] = l
	}
	return e
}

// addr returns the UDP address of a listener: "vpc:<id>", "inbound:<id>",
// "public:public".
func (e *env) addr(key string) string {
	e.t.Helper()
	l, ok := e.addrs[key]
	if !ok {
		e.t.Fatalf("no listener %s (have %v)", key, e.addrs)
	}
	return l.UDP
}

func (e *env) putAPI(id string, private bool, vpces ...string) {
	e.t.Helper()
	types := []string{apimodel.EndpointRegional}
	if private {
		types = []string{apimodel.EndpointPrivate}
	}
	doc := apimodel.API{Account: "111111111111", RestAPI: apimodel.RestApi{ID: id, Name: id,
		EndpointConfiguration: &apimodel.EndpointConfiguration{Types: types, VpcEndpointIds: vpces}}}
	e.put(apimodel.BucketRestAPIs, id, doc)
}

func (e *env) put(bucket, key string, v any) {
	e.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.store.Modify(context.Background(), bucket, key, func([]byte) ([]byte, error) { return b, nil }); err != nil {
		e.t.Fatalf("store put %s/%s: %v", bucket, key, err)
	}
}

func (e *env) putZone(z *r53.Zone) {
	e.t.Helper()
	if z.Records == nil {
		z.Records = r53.InitialRecords(z.Name, z.ID, z.Private)
	}
	e.put(r53.BucketZones, z.ID, z)
}

// query asks addr (UDP) one question.
func query(t testing.TB, addr, name string, qtype uint16) *mdns.Msg {
	t.Helper()
	m := new(mdns.Msg)
	m.SetQuestion(mdns.Fqdn(name), qtype)
	c := &mdns.Client{Net: "udp", Timeout: 5 * time.Second}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("query %s %s @%s: %v", name, mdns.TypeToString[qtype], addr, err)
	}
	return r
}

// answerStrings returns the answer section's data in sorted presentation
// form without owner and TTL, e.g. "A 127.0.0.1".
func answerStrings(m *mdns.Msg) []string {
	var out []string
	for _, rr := range m.Answer {
		f := strings.Fields(rr.String())
		out = append(out, strings.Join(append([]string{f[3]}, f[4:]...), " "))
	}
	sort.Strings(out)
	return out
}

// want checks a response's rcode and answers.
func want(t testing.TB, m *mdns.Msg, rcode int, answers ...string) {
	t.Helper()
	got := answerStrings(m)
	sort.Strings(answers)
	if m.Rcode != rcode || !slices.Equal(got, answers) {
		t.Errorf("got %s %v, want %s %v\n%v", mdns.RcodeToString[m.Rcode], got, mdns.RcodeToString[rcode], answers, m)
	}
}

// eventually polls cond until it holds or d passes.
func eventually(t testing.TB, d time.Duration, cond func() bool) bool {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		<-tick.C
	}
}

func ptr[T any](v T) *T { return &v }
