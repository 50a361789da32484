package function

import (
	"context"
	"slices"
	"testing"
	"time"
)

// BenchmarkWarmInvoke is a round trip through the Runtime API to a warm
// aws-lambda-go function that echoes its event: Invoke → /next → handler →
// /response → Result. Everything it measures is overhead the host adds.
func BenchmarkWarmInvoke(b *testing.B) {
	h := newHost(b, HostOptions{Region: testRegion})
	if err := h.Put(goFunction(b, "echo"), 1); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	payload := []byte(`{"httpMethod":"GET","path":"/bench","headers":{"Accept":"*/*"}}`)
	if _, err := h.Invoke(ctx, "echo", payload); err != nil { // cold start outside the loop
		b.Fatal(err)
	}
	b.ReportAllocs()
	var lat []time.Duration
	for b.Loop() {
		start := time.Now()
		res, err := h.Invoke(ctx, "echo", payload)
		lat = append(lat, time.Since(start))
		if err != nil || res.FunctionError != "" {
			b.Fatalf("%v %s", err, res.Payload)
		}
	}
	reportLatency(b, lat)
}

// reportLatency adds the median and 99th percentile latency, which say more
// than the mean on a busy machine.
func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkWarmInvokeParallel is BenchmarkWarmInvoke from several
// goroutines, one warm instance each.
func BenchmarkWarmInvokeParallel(b *testing.B) {
	h := newHost(b, HostOptions{Region: testRegion, QueueThrottled: true})
	if err := h.Put(goFunction(b, "echo"), 1); err != nil {
		b.Fatal(err)
	}
	payload := []byte(`{"path":"/bench"}`)
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if _, err := h.Invoke(ctx, "echo", payload); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkColdStart is an invocation that starts a new instance of an
// aws-lambda-go binary: fork/exec, the Go runtime's start, the runtime's
// first /next, the invocation.
func BenchmarkColdStart(b *testing.B) {
	h := newHost(b, HostOptions{Region: testRegion})
	if err := h.Put(goFunction(b, "echo"), 1); err != nil {
		b.Fatal(err)
	}
	p, err := h.lookup("echo")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	payload := []byte(`{"path":"/cold"}`)
	var lat []time.Duration
	for b.Loop() {
		b.StopTimer()
		p.dropIdle()
		for {
			if st, _ := h.Stats("echo"); st.Instances == 0 {
				break
			}
			time.Sleep(100 * time.Microsecond)
		}
		b.StartTimer()
		start := time.Now()
		if res, err := h.Invoke(ctx, "echo", payload); err != nil || res.FunctionError != "" {
			b.Fatalf("%v %s", err, res.Payload)
		}
		lat = append(lat, time.Since(start))
	}
	reportLatency(b, lat)
}
