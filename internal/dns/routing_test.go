package dns

import (
	"math"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"gatehouse/internal/dns/r53"
)

const weightedTopology = baseTopology + `
healthChecks:
  - {id: dead, type: TCP, ipAddress: 127.0.0.1, port: 1, requestInterval: 10, failureThreshold: 1}
hostedZones:
  - name: weighted.test
    records:
      - {name: w, type: A, ttl: 60, setIdentifier: one, weight: 1, values: [192.0.2.1]}
      - {name: w, type: A, ttl: 60, setIdentifier: three, weight: 3, values: [192.0.2.3]}
      - {name: w, type: A, ttl: 60, setIdentifier: zero, weight: 0, values: [192.0.2.99]}
      - {name: z, type: A, ttl: 60, setIdentifier: a, weight: 0, values: [192.0.2.1]}
      - {name: z, type: A, ttl: 60, setIdentifier: b, weight: 0, values: [192.0.2.2]}
      - {name: z, type: A, ttl: 60, setIdentifier: c, weight: 0, values: [192.0.2.3]}
      - {name: h, type: A, ttl: 60, setIdentifier: sick, weight: 5, healthCheck: dead, values: [192.0.2.5]}
      - {name: h, type: A, ttl: 60, setIdentifier: spare, weight: 0, values: [192.0.2.6]}
      - {name: mv, type: A, ttl: 60, setIdentifier: m1, multiValueAnswer: true, values: [192.0.2.11]}
      - {name: mv, type: A, ttl: 60, setIdentifier: m2, multiValueAnswer: true, values: [192.0.2.12]}
      - {name: mv, type: A, ttl: 60, setIdentifier: m3, multiValueAnswer: true, healthCheck: dead, values: [192.0.2.13]}
`

// distribution asks n times and returns the share of each answer.
func distribution(t *testing.T, addr, name string, n int) map[string]float64 {
	t.Helper()
	conn, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := &mdns.Conn{Conn: conn}
	counts := map[string]int{}
	m := new(mdns.Msg)
	m.SetQuestion(name, mdns.TypeA)
	for i := range n {
		m.Id = uint16(i)
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		if err := c.WriteMsg(m); err != nil {
			t.Fatal(err)
		}
		r, err := c.ReadMsg()
		if err != nil {
			t.Fatalf("query %d: %v", i, err)
		}
		if len(r.Answer) != 1 {
			t.Fatalf("query %d: %d answers, want 1: %v", i, len(r.Answer), r)
		}
		counts[r.Answer[0].(*mdns.A).A.String()]++
	}
	shares := map[string]float64{}
	for k, v := range counts {
		shares[k] = 100 * float64(v) / float64(n)
	}
	return shares
}

func TestWeighted(t *testing.T) {
	e := startEnv(t, weightedTopology)
	pub := e.addr("public:public")
	const n = 10000
	within := func(t *testing.T, shares map[string]float64, ip string, wantPct float64) {
		t.Helper()
		if got := shares[ip]; math.Abs(got-wantPct) > 3 {
			t.Errorf("%s: %.2f%% of answers, want %.0f%% ± 3 points (all: %v)", ip, got, wantPct, shares)
		}
	}
	t.Run("1:3 over 10,000 queries, weight 0 never", func(t *testing.T) {
		shares := distribution(t, pub, "w.weighted.test.", n)
		t.Logf("shares: %v", shares)
		within(t, shares, "192.0.2.1", 25)
		within(t, shares, "192.0.2.3", 75)
		if shares["192.0.2.99"] != 0 {
			t.Errorf("the weight-0 record was returned: %v", shares)
		}
	})
	t.Run("all weights 0: equally likely", func(t *testing.T) {
		shares := distribution(t, pub, "z.weighted.test.", n)
		for _, ip := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"} {
			within(t, shares, ip, 100.0/3)
		}
	})
	t.Run("unhealthy non-zero: the weight-0 record answers", func(t *testing.T) {
		if !eventually(t, 5*time.Second, func() bool { return !e.srv.health.healthy("dead") }) {
			t.Fatal("health check 'dead' never became unhealthy")
		}
		shares := distribution(t, pub, "h.weighted.test.", 200)
		if shares["192.0.2.6"] != 100 {
			t.Errorf("shares %v, want only the weight-0 record", shares)
		}
	})
	t.Run("multivalue: healthy records only", func(t *testing.T) {
		m := query(t, pub, "mv.weighted.test", mdns.TypeA)
		want(t, m, 0, "A 192.0.2.11", "A 192.0.2.12")
	})
}

// flappingServer is an HTTP server on a fixed address that can be stopped
// and started again.
type flappingServer struct {
	t    *testing.T
	addr string
	srv  *http.Server
}

func newFlappingServer(t *testing.T) *flappingServer {
	f := &flappingServer{t: t}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = l.Addr().String()
	f.serve(l)
	t.Cleanup(func() { f.stop() })
	return f
}

func (f *flappingServer) serve(l net.Listener) {
	f.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok"))
	})}
	go func() { _ = f.srv.Serve(l) }()
}

func (f *flappingServer) stop() {
	if f.srv != nil {
		_ = f.srv.Close()
		f.srv = nil
	}
}

func (f *flappingServer) start() {
	f.t.Helper()
	var l net.Listener
	var err error
	if !eventually(f.t, 5*time.Second, func() bool {
		l, err = net.Listen("tcp", f.addr)
		return err == nil
	}) {
		f.t.Fatalf("listen again on %s: %v", f.addr, err)
	}
	f.serve(l)
}

func TestFailoverWithHealthCheck(t *testing.T) {
	// RequestInterval 10 runs every 50 ms here; FailureThreshold 3.
	const interval = 50 * time.Millisecond
	const threshold = 3
	e := startEnv(t, baseTopology, func(o *Options) {
		o.HealthInterval = func(s int) time.Duration { return time.Duration(s) * interval / 10 }
	})
	target := newFlappingServer(t)
	host, port, _ := net.SplitHostPort(target.addr)
	hcID := "6d8a4a3c-1111-4b4b-8c8c-000000000001"
	e.put(r53.BucketHealthChecks, hcID, r53.HealthCheck{ID: hcID, Account: "111111111111", CallerReference: "x",
		Config: r53.HealthCheckConfig{Type: r53.CheckHTTP, IPAddress: host, Port: atoi(port), ResourcePath: "/health",
			RequestInterval: 10, FailureThreshold: threshold}})
	z := &r53.Zone{ID: "ZFAILOVER00000000001", Name: "failover.test.", Account: "111111111111"}
	z.Records = append(r53.InitialRecords(z.Name, z.ID, false),
		r53.RecordSet{Name: "api.failover.test.", Type: "A", TTL: ptr(int64(10)), SetIdentifier: "primary",
			Failover: r53.FailoverPrimary, HealthCheckID: hcID, Values: []string{"192.0.2.1"}},
		r53.RecordSet{Name: "api.failover.test.", Type: "A", TTL: ptr(int64(10)), SetIdentifier: "secondary",
			Failover: r53.FailoverSecondary, Values: []string{"192.0.2.2"}},
	)
	e.putZone(z)
	pub := e.addr("public:public")
	answer := func() string {
		a := answerStrings(query(t, pub, "api.failover.test", mdns.TypeA))
		return strings.Join(a, ",")
	}
	if !eventually(t, 2*time.Second, func() bool {
		obs, ok := e.srv.HealthCheckStatus(hcID)
		return ok && !obs.CheckedTime.IsZero() && answer() == "A 192.0.2.1"
	}) {
		t.Fatalf("primary not answered while healthy: %s", answer())
	}
	obs, _ := e.srv.HealthCheckStatus(hcID)
	if !obs.Healthy || obs.Status != "Success: HTTP Status Code 200, OK" {
		t.Errorf("status %+v", obs)
	}

	target.stop()
	stopped := time.Now()
	if !eventually(t, 5*time.Second, func() bool { return answer() == "A 192.0.2.2" }) {
		t.Fatal("answers never moved to the secondary")
	}
	took := time.Since(stopped)
	t.Logf("moved to the secondary after %v (interval %v × threshold %d = %v)", took, interval, threshold, interval*threshold)
	if took < (threshold-1)*interval {
		t.Errorf("moved after %v, before %d failed probes were possible", took, threshold)
	}
	if took > interval*threshold+time.Second {
		t.Errorf("moved after %v, want about interval × threshold = %v", took, interval*threshold)
	}
	obs, _ = e.srv.HealthCheckStatus(hcID)
	if obs.Healthy || !strings.HasPrefix(obs.Status, "Failure: Connection refused") {
		t.Errorf("status after stop %+v", obs)
	}

	target.start()
	healed := time.Now()
	if !eventually(t, 5*time.Second, func() bool { return answer() == "A 192.0.2.1" }) {
		t.Fatal("answers never came back to the primary")
	}
	t.Logf("back to the primary after %v", time.Since(healed))

	// Both unhealthy: the primary. (The secondary gets a failing check.)
	hc2 := "6d8a4a3c-1111-4b4b-8c8c-000000000002"
	e.put(r53.BucketHealthChecks, hc2, r53.HealthCheck{ID: hc2, Account: "111111111111", CallerReference: "y",
		Config: r53.HealthCheckConfig{Type: r53.CheckTCP, IPAddress: "127.0.0.1", Port: 1, RequestInterval: 10, FailureThreshold: 1}})
	z.Records[3].HealthCheckID = hc2
	e.putZone(z)
	target.stop()
	if !eventually(t, 5*time.Second, func() bool {
		return !e.srv.health.healthy(hcID) && !e.srv.health.healthy(hc2)
	}) {
		t.Fatal("checks did not both fail")
	}
	if got := answer(); got != "A 192.0.2.1" {
		t.Errorf("both unhealthy: got %s, want the primary", got)
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}
