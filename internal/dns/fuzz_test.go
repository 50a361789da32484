package dns

import (
	"context"
	"encoding/binary"
	"testing"

	mdns "github.com/miekg/dns"
)

// FuzzHandle feeds arbitrary bytes to the function every query goes
// through, in every horizon and over both transports. It must not panic;
// any response must parse, be a response with the query's id, and fit the
// UDP bound.
func FuzzHandle(f *testing.F) {
	topo := parseTopology(f, zonesTopology)
	srv, err := New(context.Background(), Options{Topology: topo, Logger: testLogger(), CacheSize: 64})
	if err != nil {
		f.Fatal(err)
	}
	defer srv.Close()

	seed := func(name string, qtype uint16, edit func(*mdns.Msg)) {
		m := new(mdns.Msg)
		m.SetQuestion(mdns.Fqdn(name), qtype)
		if edit != nil {
			edit(m)
		}
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(0), true)
		f.Add(b, uint8(1), false)
	}
	seed("www.example.com", mdns.TypeA, nil)
	seed("txt.example.com", mdns.TypeTXT, func(m *mdns.Msg) { m.SetEdns0(4096, true) })
	seed("abcdefghij.execute-api.us-east-1.amazonaws.com", mdns.TypeA, nil)
	seed("abcdefghij-vpce-0aaaaaaaaaaaaaaa1.execute-api.us-east-1.amazonaws.com", mdns.TypeAAAA, nil)
	seed("x.wild.example.com", mdns.TypeANY, nil)
	seed("host.sub.example.com", mdns.TypeNS, nil)
	seed("db.corp.internal", mdns.TypeA, func(m *mdns.Msg) { m.SetEdns0(512, false); m.IsEdns0().SetVersion(1) })
	seed("example.com", mdns.TypeSOA, func(m *mdns.Msg) { m.Opcode = mdns.OpcodeUpdate })
	f.Add([]byte{0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1}, uint8(2), true)
	f.Add([]byte{}, uint8(0), true)

	vpcs := []string{"", vpcA, vpcB}
	f.Fuzz(func(t *testing.T, raw []byte, horizon uint8, udp bool) {
		buf := make([]byte, mdns.MaxMsgSize)
		out, p := srv.handle(srv.view.Load(), vpcs[int(horizon)%len(vpcs)], raw, udp, buf)
		if p != nil {
			if p.req == nil || len(p.targets) == 0 {
				t.Fatalf("pending forward without a query or targets: %+v", p)
			}
			return
		}
		if out == nil {
			return
		}
		if udp && len(out) > maxUDPSize {
			t.Fatalf("%d-byte UDP response", len(out))
		}
		var m mdns.Msg
		if err := m.Unpack(out); err != nil {
			t.Fatalf("response does not parse: %v", err)
		}
		if !m.Response {
			t.Fatal("response without QR")
		}
		if len(raw) >= 2 && m.Id != binary.BigEndian.Uint16(raw) {
			t.Fatalf("response id %d, query id %d", m.Id, binary.BigEndian.Uint16(raw))
		}
	})
}

// BenchmarkHandleCached measures the in-process cost of a cached
// authoritative answer (no sockets).
func BenchmarkHandleCached(b *testing.B) {
	topo := parseTopology(b, zonesTopology)
	srv, err := New(context.Background(), Options{Topology: topo, Logger: testLogger()})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	m := new(mdns.Msg)
	m.SetQuestion("www.example.com.", mdns.TypeA)
	m.SetEdns0(1232, false)
	raw, _ := m.Pack()
	buf := make([]byte, mdns.MaxMsgSize)
	v := srv.view.Load()
	srv.handle(v, "", raw, true, buf) // fill the cache
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		out, _ := srv.handle(v, "", raw, true, buf)
		if len(out) == 0 {
			b.Fatal("no answer")
		}
	}
}

// BenchmarkHandleUncached measures a weighted answer, computed per query.
func BenchmarkHandleUncached(b *testing.B) {
	topo := parseTopology(b, weightedTopology)
	srv, err := New(context.Background(), Options{Topology: topo, Logger: testLogger()})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	m := new(mdns.Msg)
	m.SetQuestion("w.weighted.test.", mdns.TypeA)
	raw, _ := m.Pack()
	buf := make([]byte, mdns.MaxMsgSize)
	v := srv.view.Load()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		out, _ := srv.handle(v, "", raw, true, buf)
		if len(out) == 0 {
			b.Fatal("no answer")
		}
	}
}
