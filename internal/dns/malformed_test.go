package dns

import (
	"encoding/binary"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// bigTopology has a TXT record set of about 4 KB.
func bigTopology() string {
	var vals []string
	for i := range 40 {
		vals = append(vals, `'"`+strings.Repeat(string(rune('a'+i%26)), 90)+`"'`)
	}
	return baseTopology + `
hostedZones:
  - name: big.test
    records:
      - {name: txt, type: TXT, values: [` + strings.Join(vals, ", ") + `]}
      - {name: www, type: A, values: [192.0.2.1]}
`
}

// rawExchange sends b over UDP and returns the response, or nil when none
// comes within wait.
func rawExchange(t *testing.T, addr string, b []byte, wait time.Duration) []byte {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(wait))
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil
		}
		t.Fatal(err)
	}
	return buf[:n]
}

func packQuery(t *testing.T, name string, qtype uint16, edit func(*mdns.Msg)) []byte {
	t.Helper()
	m := new(mdns.Msg)
	m.SetQuestion(mdns.Fqdn(name), qtype)
	m.Id = 0x1234
	if edit != nil {
		edit(m)
	}
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMalformedAndBounded(t *testing.T) {
	e := startEnv(t, bigTopology())
	pub := e.addr("public:public")
	header := func(id uint16, flags uint16, qd, an, ns, ar uint16) []byte {
		b := make([]byte, 12)
		binary.BigEndian.PutUint16(b[0:], id)
		binary.BigEndian.PutUint16(b[2:], flags)
		binary.BigEndian.PutUint16(b[4:], qd)
		binary.BigEndian.PutUint16(b[6:], an)
		binary.BigEndian.PutUint16(b[8:], ns)
		binary.BigEndian.PutUint16(b[10:], ar)
		return b
	}
	valid := packQuery(t, "www.big.test", mdns.TypeA, nil)
	tests := []struct {
		name  string
		raw   []byte
		rcode int // -1: no response at all
	}{
		{"too short for a header", []byte{1, 2, 3, 4, 5}, -1},
		{"a response is never answered", func() []byte { b := append([]byte(nil), valid...); b[2] |= 0x80; return b }(), -1},
		{"no question", header(7, 0x0100, 0, 0, 0, 0), mdns.RcodeFormatError},
		{"question count but no question", header(7, 0x0100, 1, 0, 0, 0), mdns.RcodeFormatError},
		{"truncated question", valid[:len(valid)-3], mdns.RcodeFormatError},
		{"two questions", func() []byte {
			m := new(mdns.Msg)
			m.Id = 9
			m.Question = []mdns.Question{{Name: "a.big.test.", Qtype: mdns.TypeA, Qclass: mdns.ClassINET}, {Name: "b.big.test.", Qtype: mdns.TypeA, Qclass: mdns.ClassINET}}
			b, _ := m.Pack()
			return b
		}(), mdns.RcodeFormatError},
		{"compression loop in the question", append(header(7, 0x0100, 1, 0, 0, 0), 0xc0, 12, 0, 1, 0, 1), mdns.RcodeFormatError},
		{"label longer than the message", append(header(7, 0x0100, 1, 0, 0, 0), 60, 'a', 'b'), mdns.RcodeFormatError},
		{"answer section in a query", packQuery(t, "www.big.test", mdns.TypeA, func(m *mdns.Msg) {
			rr, _ := mdns.NewRR("www.big.test. 1 IN A 192.0.2.1")
			m.Answer = []mdns.RR{rr}
		}), mdns.RcodeFormatError},
		{"two OPT records", packQuery(t, "www.big.test", mdns.TypeA, func(m *mdns.Msg) {
			m.SetEdns0(1232, false)
			m.SetEdns0(1232, false)
			m.Extra = append(m.Extra, &mdns.OPT{Hdr: mdns.RR_Header{Name: ".", Rrtype: mdns.TypeOPT, Class: 512}})
		}), mdns.RcodeFormatError},
		{"UPDATE is not implemented", packQuery(t, "big.test", mdns.TypeSOA, func(m *mdns.Msg) { m.Opcode = mdns.OpcodeUpdate }), mdns.RcodeNotImplemented},
		{"NOTIFY is not implemented", packQuery(t, "big.test", mdns.TypeSOA, func(m *mdns.Msg) { m.Opcode = mdns.OpcodeNotify }), mdns.RcodeNotImplemented},
		{"CHAOS class is refused", packQuery(t, "version.bind", mdns.TypeTXT, func(m *mdns.Msg) { m.Question[0].Qclass = mdns.ClassCHAOS }), mdns.RcodeRefused},
		{"AXFR is refused", packQuery(t, "big.test", mdns.TypeAXFR, nil), mdns.RcodeRefused},
		{"OPT as a question type", packQuery(t, "big.test", mdns.TypeOPT, nil), mdns.RcodeFormatError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wait := 2 * time.Second
			if tc.rcode < 0 {
				wait = 200 * time.Millisecond
			}
			resp := rawExchange(t, pub, tc.raw, wait)
			if tc.rcode < 0 {
				if resp != nil {
					t.Fatalf("got a %d-byte response, want none", len(resp))
				}
				return
			}
			if resp == nil {
				t.Fatal("no response")
			}
			var m mdns.Msg
			if err := m.Unpack(resp); err != nil {
				t.Fatalf("unparsable response: %v", err)
			}
			if m.Rcode != tc.rcode || !m.Response {
				t.Fatalf("rcode %s, want %s", mdns.RcodeToString[m.Rcode], mdns.RcodeToString[tc.rcode])
			}
			if len(resp) > len(tc.raw)+64 && tc.rcode != mdns.RcodeSuccess {
				t.Errorf("error response of %d bytes for a %d-byte query", len(resp), len(tc.raw))
			}
			if m.Id != binary.BigEndian.Uint16(tc.raw[:2]) {
				t.Errorf("id %d", m.Id)
			}
		})
	}

	t.Run("EDNS version 1 gets BADVERS", func(t *testing.T) {
		raw := packQuery(t, "www.big.test", mdns.TypeA, func(m *mdns.Msg) {
			m.SetEdns0(1232, false)
			m.IsEdns0().SetVersion(1)
		})
		var m mdns.Msg
		if err := m.Unpack(rawExchange(t, pub, raw, 2*time.Second)); err != nil {
			t.Fatal(err)
		}
		if m.Rcode != mdns.RcodeBadVers || m.IsEdns0() == nil {
			t.Fatalf("rcode %d %v", m.Rcode, m.IsEdns0())
		}
	})

	sizes := []struct {
		name    string
		edns    uint16 // 0: none
		limit   int
		trunc   bool
		answers int
	}{
		{"no EDNS0: 512 bytes, TC", 0, 512, true, -1},
		{"EDNS0 4096: capped at 1232, TC", 4096, 1232, true, -1},
		{"EDNS0 below 512 counts as 512", 100, 512, true, -1},
	}
	for _, tc := range sizes {
		t.Run("UDP bounded: "+tc.name, func(t *testing.T) {
			raw := packQuery(t, "txt.big.test", mdns.TypeTXT, func(m *mdns.Msg) {
				if tc.edns > 0 {
					m.SetEdns0(tc.edns, false)
				}
			})
			resp := rawExchange(t, pub, raw, 2*time.Second)
			if len(resp) > tc.limit {
				t.Fatalf("%d-byte UDP response, limit %d", len(resp), tc.limit)
			}
			var m mdns.Msg
			if err := m.Unpack(resp); err != nil {
				t.Fatal(err)
			}
			if m.Truncated != tc.trunc {
				t.Errorf("TC=%v, want %v", m.Truncated, tc.trunc)
			}
		})
	}
	t.Run("TCP gets the whole answer", func(t *testing.T) {
		c := &mdns.Client{Net: "tcp", Timeout: 5 * time.Second}
		m := new(mdns.Msg)
		m.SetQuestion("txt.big.test.", mdns.TypeTXT)
		r, _, err := c.Exchange(m, e.addrs["public:public"].TCP)
		if err != nil {
			t.Fatal(err)
		}
		if r.Truncated || len(r.Answer) != 40 {
			t.Fatalf("TC=%v, %d answers", r.Truncated, len(r.Answer))
		}
	})
	t.Run("ANY gets RFC 8482's HINFO", func(t *testing.T) {
		m := query(t, pub, "txt.big.test", mdns.TypeANY)
		if len(m.Answer) != 1 || m.Answer[0].(*mdns.HINFO).Cpu != "RFC8482" {
			t.Fatalf("ANY answer %v", m.Answer)
		}
		want(t, query(t, pub, "nope.big.test", mdns.TypeANY), mdns.RcodeNameError)
	})
	t.Run("question case is echoed (0x20), also from the cache", func(t *testing.T) {
		for range 2 {
			m := query(t, pub, "WwW.BiG.TeSt", mdns.TypeA)
			if m.Question[0].Name != "WwW.BiG.TeSt." || len(m.Answer) != 1 {
				t.Fatalf("%v", m)
			}
		}
	})
	t.Run("TCP: zero length and garbage close the connection", func(t *testing.T) {
		c, err := net.Dial("tcp", e.addrs["public:public"].TCP)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, _ = c.Write([]byte{0, 5, 1, 2, 3, 4, 5}) // a 5-byte "message": no answer
		_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		var lb [2]byte
		if _, err := c.Read(lb[:]); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			return // closed: fine
		}
	})
}
