package dns

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/dns/r53"
)

func hostPort(t *testing.T, rawURL string) (string, int) {
	t.Helper()
	hp := strings.TrimPrefix(strings.TrimPrefix(rawURL, "http://"), "https://")
	h, p, err := net.SplitHostPort(hp)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return h, n
}

func TestHealthCheckTypes(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("all systems go")) })
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) })
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/late", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("x", 6000) + "needle"))
	})
	mux.HandleFunc("/host", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("host=" + r.Host)) })
	plain := httptest.NewServer(mux)
	defer plain.Close()
	tlsSrv := httptest.NewUnstartedServer(mux)
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	ph, pp := hostPort(t, plain.URL)
	th, tp := hostPort(t, tlsSrv.URL)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, cp := hostPort(t, "http://"+closed.Addr().String())
	closed.Close()

	hc := newHealthChecker(context.Background(), "us-east-1", func(int) time.Duration { return 10 * time.Millisecond }, testLogger())
	defer hc.stop()
	http := func(path string) r53.HealthCheckConfig {
		return r53.HealthCheckConfig{Type: r53.CheckHTTP, IPAddress: ph, Port: pp, ResourcePath: path, FailureThreshold: 1}
	}
	tests := []struct {
		name    string
		cfg     r53.HealthCheckConfig
		healthy bool
		status  string
	}{
		{"HTTP 200", http("/ok"), true, "Success: HTTP Status Code 200, OK"},
		{"HTTP 500", http("/fail"), false, "Failure: HTTP Status Code 500, Internal Server Error"},
		{"HTTP 3xx passes", http("/redirect"), true, "Success: HTTP Status Code 302, Found"},
		{"HTTPS, certificate not validated", r53.HealthCheckConfig{Type: r53.CheckHTTPS, IPAddress: th, Port: tp, ResourcePath: "/ok", FailureThreshold: 1},
			true, "Success: HTTP Status Code 200, OK"},
		{"HTTP_STR_MATCH found", r53.HealthCheckConfig{Type: r53.CheckHTTPStrMatch, IPAddress: ph, Port: pp, ResourcePath: "/ok", SearchString: "systems", FailureThreshold: 1},
			true, "Success: HTTP Status Code 200, OK"},
		{"HTTP_STR_MATCH beyond 5,120 bytes", r53.HealthCheckConfig{Type: r53.CheckHTTPStrMatch, IPAddress: ph, Port: pp, ResourcePath: "/late", SearchString: "needle", FailureThreshold: 1},
			false, "Failure: HTTP Status Code 200, OK. Failed to find the specified string in the response body."},
		{"HTTPS_STR_MATCH with FQDN as Host", r53.HealthCheckConfig{Type: r53.CheckHTTPSStrMatch, IPAddress: th, Port: tp, ResourcePath: "/host",
			FullyQualifiedDomainName: "api.example.com", EnableSNI: true, SearchString: "host=api.example.com", FailureThreshold: 1}, true, "Success: HTTP Status Code 200, OK"},
		{"TCP open", r53.HealthCheckConfig{Type: r53.CheckTCP, IPAddress: ph, Port: pp, FailureThreshold: 1}, true, "Success: TCP connection established"},
		{"TCP closed", r53.HealthCheckConfig{Type: r53.CheckTCP, IPAddress: "127.0.0.1", Port: cp, FailureThreshold: 1}, false, "Failure: Connection refused"},
		{"inverted healthy target", func() r53.HealthCheckConfig { c := http("/ok"); c.Inverted = true; return c }(), false, "Success: HTTP Status Code 200, OK"},
		{"inverted failing target", func() r53.HealthCheckConfig { c := http("/fail"); c.Inverted = true; return c }(), true, "Failure: HTTP Status Code 500"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := "check-" + strconv.Itoa(i)
			hc.upsert(id, tc.cfg)
			var obs r53.HealthObservation
			if !eventually(t, 5*time.Second, func() bool {
				obs, _ = hc.status(id)
				return !obs.CheckedTime.IsZero() && obs.Healthy == tc.healthy
			}) {
				t.Fatalf("status %+v, want healthy=%v", obs, tc.healthy)
			}
			if !strings.HasPrefix(obs.Status, tc.status) {
				t.Errorf("status text %q, want prefix %q", obs.Status, tc.status)
			}
			if obs.Region != "us-east-1" || obs.IPAddress != "127.0.0.1" {
				t.Errorf("observation %+v", obs)
			}
		})
	}

	t.Run("failure threshold", func(t *testing.T) {
		// Three failures in a row flip it; two do not.
		c := &check{cfg: r53.HealthCheckConfig{FailureThreshold: 3}, raw: true}
		seq := []struct {
			ok, healthy bool
		}{{false, true}, {false, true}, {true, true}, {false, true}, {false, true}, {false, false}, {true, false}, {true, false}, {true, true}}
		for i, s := range seq {
			if _, h := c.record(s.ok, "", "", "r"); h != s.healthy {
				t.Fatalf("probe %d (ok=%v): healthy=%v, want %v", i, s.ok, h, s.healthy)
			}
		}
	})
	t.Run("new check counts as healthy, inverted as unhealthy", func(t *testing.T) {
		idle := newHealthChecker(context.Background(), "us-east-1", func(int) time.Duration { return time.Hour }, testLogger())
		defer idle.stop()
		idle.upsert("a", r53.HealthCheckConfig{Type: r53.CheckTCP, IPAddress: "127.0.0.1", Port: cp, FailureThreshold: 1, Disabled: true})
		idle.upsert("b", r53.HealthCheckConfig{Type: r53.CheckCalculated, Inverted: true, ChildHealthChecks: []string{}})
		if !idle.healthy("a") {
			t.Error("disabled check is not healthy")
		}
		if idle.healthy("b") {
			t.Error("inverted calculated check with threshold 0 is healthy")
		}
		if !idle.healthy("unknown") {
			t.Error("an unknown check is not healthy")
		}
	})
	t.Run("calculated", func(t *testing.T) {
		hc.upsert("good", http("/ok"))
		hc.upsert("bad", http("/fail"))
		if !eventually(t, 5*time.Second, func() bool { return hc.healthy("good") && !hc.healthy("bad") }) {
			t.Fatal("children did not settle")
		}
		for _, tc := range []struct {
			threshold int
			healthy   bool
		}{{0, true}, {1, true}, {2, false}, {3, false}} {
			id := "calc-" + strconv.Itoa(tc.threshold)
			hc.upsert(id, r53.HealthCheckConfig{Type: r53.CheckCalculated, HealthThreshold: tc.threshold, ChildHealthChecks: []string{"good", "bad"}})
			if got := hc.healthy(id); got != tc.healthy {
				t.Errorf("threshold %d: healthy=%v, want %v", tc.threshold, got, tc.healthy)
			}
			obs, ok := hc.status(id)
			if !ok || obs.Healthy != tc.healthy {
				t.Errorf("threshold %d: status %+v", tc.threshold, obs)
			}
		}
	})
}
