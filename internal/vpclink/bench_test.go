package vpclink

import (
	"context"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// BenchmarkVPCLink compares a backend reached without gatehouse (baseline), through a
// VPC link to a routable VPC (direct), and through a VPC link whose VPC is reached by a
// link agent over the tunnel (agent). "small" is a short response (requests/s, with
// p50/p99 latency), "1MiB" a 1 MiB response (throughput).
//
//	go test -run '^$' -bench VPCLink -benchtime 3s ./internal/vpclink/
//
// Target: the agent path keeps at least 70% of the direct path's throughput.
func BenchmarkVPCLink(b *testing.B) {
	e := newEnv(b, testTopology, nil)
	direct := startBackend(b, "127.71.10.10", "direct")
	private := startBackend(b, "127.72.10.10", "private")
	e.update(merge(agentDocs(acct1, vpcA, "dlink", direct.addr), agentDocs(acct1, vpcB, "alink", private.addr)))
	a := e.startAgent(tokenB, "bench", nil)
	a.waitJoined(b)
	waitFor(b, "agent registered", func() bool { return len(e.m.Agents(vpcB)) == 1 })

	baseline := &http.Transport{MaxIdleConnsPerHost: 256, DisableCompression: true}
	b.Cleanup(baseline.CloseIdleConnections)
	paths := []struct {
		name string
		rt   http.RoundTripper
		host string
	}{
		{"baseline", baseline, direct.addr.String()},
		{"direct", e.resolve(acct1, "dlink", "", "").testTransport(TLSOptions{}), "nlb.internal"},
		{"agent", e.resolve(acct1, "alink", "", "").testTransport(TLSOptions{}), "nlb.internal"},
	}
	for _, size := range []struct {
		name, path string
		bytes      int64
	}{{"small", "/", 0}, {"1MiB", "/bulk", 1 << 20}} {
		for _, p := range paths {
			b.Run(size.name+"/"+p.name, func(b *testing.B) {
				if size.bytes > 0 {
					b.SetBytes(size.bytes)
				}
				var mu sync.Mutex
				var lat []time.Duration
				b.SetParallelism(4)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					local := make([]time.Duration, 0, 1024)
					for pb.Next() {
						start := time.Now()
						req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, "http://"+p.host+size.path, nil)
						resp, err := p.rt.RoundTrip(req)
						if err != nil {
							b.Error(err)
							return
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						local = append(local, time.Since(start))
					}
					mu.Lock()
					lat = append(lat, local...)
					mu.Unlock()
				})
				b.StopTimer()
				if len(lat) > 0 {
					slices.Sort(lat)
					b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
					b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
				}
			})
		}
	}
}

// BenchmarkAgentVsDirect alternates batches of parallel requests through the direct
// path and the agent path, so both see the same machine load, and reports the agent
// path's throughput as a percentage of the direct path's: "small" responses
// (requests/s) and 1 MiB responses (bytes/s).
func BenchmarkAgentVsDirect(b *testing.B) {
	e := newEnv(b, testTopology, nil)
	direct := startBackend(b, "127.71.10.11", "direct")
	private := startBackend(b, "127.72.10.11", "private")
	e.update(merge(agentDocs(acct1, vpcA, "dlink", direct.addr), agentDocs(acct1, vpcB, "alink", private.addr)))
	a := e.startAgent(tokenB, "bench", nil)
	a.waitJoined(b)
	waitFor(b, "agent registered", func() bool { return len(e.m.Agents(vpcB)) == 1 })
	rtDirect := e.resolve(acct1, "dlink", "", "").testTransport(TLSOptions{})
	rtAgent := e.resolve(acct1, "alink", "", "").testTransport(TLSOptions{})
	for _, size := range []struct {
		name, path string
		perWorker  int
	}{{"small", "/", 200}, {"1MiB", "/bulk", 4}} {
		b.Run(size.name, func(b *testing.B) {
			const parallel = 8
			batch := func(rt http.RoundTripper) time.Duration {
				start := time.Now()
				var wg sync.WaitGroup
				for range parallel {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for range size.perWorker {
							req, _ := http.NewRequest(http.MethodGet, "http://nlb.internal"+size.path, nil)
							resp, err := rt.RoundTrip(req)
							if err != nil {
								b.Error(err)
								return
							}
							io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
						}
					}()
				}
				wg.Wait()
				return time.Since(start)
			}
			batch(rtDirect)
			batch(rtAgent)
			var dDirect, dAgent time.Duration
			b.ResetTimer()
			for range b.N {
				dDirect += batch(rtDirect)
				dAgent += batch(rtAgent)
			}
			b.StopTimer()
			n := float64(b.N * parallel * size.perWorker)
			b.ReportMetric(n/dDirect.Seconds(), "direct-req/s")
			b.ReportMetric(n/dAgent.Seconds(), "agent-req/s")
			b.ReportMetric(100*dDirect.Seconds()/dAgent.Seconds(), "agent-%-of-direct")
		})
	}
}
