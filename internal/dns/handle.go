package dns

import (
	"bytes"
	"net/netip"
	"strings"
	"sync"

	mdns "github.com/miekg/dns"
)

const (
	// maxUDPSize is the largest UDP response gatehouse sends, whatever
	// buffer size a client advertises (the DNS flag day 2020 value, which
	// avoids IP fragmentation). It is also the size gatehouse advertises.
	maxUDPSize = 1232
	// minUDPSize is the UDP limit for clients without EDNS0.
	minUDPSize = mdns.MinMsgSize
	// maxHops is how many gatehouse resolvers a forwarded query may pass
	// through before it is answered SERVFAIL (a forwarding loop).
	maxHops = 4
	// hopOption is the EDNS0 local option (RFC 6891 local/experimental
	// range) in which gatehouse counts forwarding hops.
	hopOption = 65001
)

// pending is a query that must be forwarded.
type pending struct {
	req     *mdns.Msg
	targets []netip.AddrPort
	limit   int
	hasOpt  bool
	hops    int
	ra      bool
}

// handle computes the response to the raw query raw, asked on a listener of
// horizon vpc over UDP (udp) or TCP. It returns the response (written into
// buf when it fits), or nil and no pending for "do not answer", or a pending
// forward. It does not recover panics; serve does.
func (s *Server) handle(v *view, vpc string, raw []byte, udp bool, buf []byte) ([]byte, *pending) {
	if len(raw) < 12 || raw[2]&0x80 != 0 {
		// Too short to answer, or a response: never answer those (no
		// reflection loops, no amplification).
		return nil, nil
	}
	h := v.horizons[vpc]
	if h == nil {
		h = v.publicView
	}
	req := new(mdns.Msg)
	if err := req.Unpack(raw); err != nil {
		return headerOnly(raw, mdns.RcodeFormatError), nil
	}
	if req.Opcode != mdns.OpcodeQuery {
		return s.reply(req, nil, mdns.RcodeNotImplemented, udp, buf), nil
	}
	if len(req.Question) != 1 || len(req.Answer) > 0 || len(req.Ns) > 0 {
		return s.reply(req, nil, mdns.RcodeFormatError, udp, buf), nil
	}
	var opt *mdns.OPT
	for _, rr := range req.Extra {
		o, ok := rr.(*mdns.OPT)
		if !ok {
			continue
		}
		if opt != nil || o.Hdr.Name != "." {
			return s.reply(req, nil, mdns.RcodeFormatError, udp, buf), nil
		}
		opt = o
	}
	if opt != nil && opt.Version() != 0 {
		return s.reply(req, nil, mdns.RcodeBadVers, udp, buf), nil
	}
	hops := 0
	if opt != nil {
		for _, o := range opt.Option {
			if l, ok := o.(*mdns.EDNS0_LOCAL); ok && l.Code == hopOption && len(l.Data) == 1 {
				hops = int(l.Data[0])
			}
		}
	}
	if hops >= maxHops {
		return s.reply(req, nil, mdns.RcodeServerFailure, udp, buf), nil
	}
	q := req.Question[0]
	switch {
	case q.Qclass != mdns.ClassINET:
		return s.reply(req, nil, mdns.RcodeRefused, udp, buf), nil
	case q.Qtype == mdns.TypeOPT || q.Qtype == mdns.TypeTSIG || q.Qtype == mdns.TypeTKEY || q.Qtype == mdns.TypeNone:
		return s.reply(req, nil, mdns.RcodeFormatError, udp, buf), nil
	case q.Qtype == mdns.TypeAXFR || q.Qtype == mdns.TypeIXFR || q.Qtype == mdns.TypeMAILA || q.Qtype == mdns.TypeMAILB:
		return s.reply(req, nil, mdns.RcodeRefused, udp, buf), nil
	}
	limit := responseLimit(udp, opt)
	qname := strings.ToLower(q.Name)
	key := cacheKey{name: qname, qtype: q.Qtype, opt: opt != nil}
	if cached := h.cache.get(key); cached != nil && len(cached) <= limit {
		if out, ok := patchCached(cached, raw, buf); ok {
			return out, nil
		}
	}

	r := resolver{v: v, health: s.health.healthy, randN: s.randN}
	var res result
	if q.Qtype == mdns.TypeANY {
		res = r.resolve(h, qname, mdns.TypeA)
		if res.forward == nil && res.rcode == mdns.RcodeSuccess {
			// RFC 8482: a minimal answer instead of everything.
			res.answer = []mdns.RR{&mdns.HINFO{
				Hdr: mdns.RR_Header{Name: q.Name, Rrtype: mdns.TypeHINFO, Class: mdns.ClassINET, Ttl: 3600},
				Cpu: "RFC8482",
			}}
			res.ns = nil
		}
	} else {
		res = r.resolve(h, qname, q.Qtype)
	}
	if res.forward != nil {
		return nil, &pending{req: req, targets: res.forward, limit: limit, hasOpt: opt != nil, hops: hops, ra: true}
	}

	m := new(mdns.Msg)
	m.SetReply(req)
	m.Authoritative = res.aa
	m.RecursionAvailable = len(h.upstreams) > 0
	m.Rcode = res.rcode
	m.Answer = res.answer
	m.Ns = res.ns
	if opt != nil {
		m.SetEdns0(maxUDPSize, false)
	}
	out, err := m.PackBuffer(buf)
	if err != nil {
		return headerOnly(raw, mdns.RcodeServerFailure), nil
	}
	if res.cacheable {
		h.cache.put(key, out)
	}
	if len(out) > limit {
		m.Truncate(limit)
		if out, err = m.PackBuffer(buf); err != nil {
			return headerOnly(raw, mdns.RcodeServerFailure), nil
		}
	}
	return out, nil
}

// reply packs a response to req with rcode and answer, bounded by the
// transport's limit.
func (s *Server) reply(req *mdns.Msg, answer []mdns.RR, rcode int, udp bool, buf []byte) []byte {
	m := new(mdns.Msg)
	m.SetRcode(req, rcode)
	m.Answer = answer
	var opt *mdns.OPT
	if o := req.IsEdns0(); o != nil {
		opt = o
		m.SetEdns0(maxUDPSize, false)
	}
	if rcode == mdns.RcodeFormatError {
		// Echo nothing of a malformed question.
		m.Question = nil
	}
	out, err := m.PackBuffer(buf)
	if err != nil {
		return headerOnly(nil, mdns.RcodeServerFailure)
	}
	if limit := responseLimit(udp, opt); len(out) > limit {
		m.Truncate(limit)
		out, _ = m.PackBuffer(buf)
	}
	return out
}

// headerOnly builds a 12-byte response carrying raw's id and opcode (if raw
// has a header) and rcode.
func headerOnly(raw []byte, rcode int) []byte {
	out := make([]byte, 12)
	if len(raw) >= 4 {
		copy(out[0:2], raw[0:2])
		out[2] = raw[2]&0x79 | 0x80 // QR, keep opcode and RD
	} else {
		out[2] = 0x80
	}
	out[3] = byte(rcode & 0x0f)
	return out
}

// responseLimit is the largest response the client can take.
func responseLimit(udp bool, opt *mdns.OPT) int {
	if !udp {
		return mdns.MaxMsgSize
	}
	if opt == nil {
		return minUDPSize
	}
	return min(max(int(opt.UDPSize()), minUDPSize), maxUDPSize)
}

// patchCached makes a cached response answer raw: its id, RD and CD flags
// and the case of its question name. It fails when raw's question is not
// laid out like the cached one's.
func patchCached(cached, raw, buf []byte) ([]byte, bool) {
	n := len(cached)
	if len(raw) < 12 || n < 12 {
		return nil, false
	}
	qlen := nameLen(cached, 12)
	if qlen < 0 || 12+qlen > len(raw) || !bytes.EqualFold(cached[12:12+qlen], raw[12:12+qlen]) {
		return nil, false
	}
	var out []byte
	if cap(buf) >= n {
		out = buf[:n]
	} else {
		out = make([]byte, n)
	}
	copy(out, cached)
	copy(out[0:2], raw[0:2])
	out[2] = out[2]&^0x01 | raw[2]&0x01 // RD
	out[3] = out[3]&^0x10 | raw[3]&0x10 // CD
	copy(out[12:12+qlen], raw[12:12+qlen])
	return out, true
}

// nameLen returns the wire length of the uncompressed name at off in msg,
// or -1.
func nameLen(msg []byte, off int) int {
	start := off
	for off < len(msg) {
		l := int(msg[off])
		if l == 0 {
			return off + 1 - start
		}
		if l&0xc0 != 0 {
			return -1
		}
		off += l + 1
	}
	return -1
}

// cacheKey identifies a cached response within a horizon.
type cacheKey struct {
	name  string
	qtype uint16
	opt   bool
}

// respCache holds packed responses of one horizon and one view; a new view
// starts with empty caches, so entries never outlive the data they came
// from. It stops accepting entries when full.
type respCache struct {
	mu  sync.RWMutex
	m   map[cacheKey][]byte
	max int
}

func newRespCache(max int) *respCache {
	return &respCache{m: make(map[cacheKey][]byte), max: max}
}

func (c *respCache) get(k cacheKey) []byte {
	c.mu.RLock()
	b := c.m[k]
	c.mu.RUnlock()
	return b
}

func (c *respCache) put(k cacheKey, b []byte) {
	c.mu.Lock()
	if len(c.m) < c.max {
		if _, ok := c.m[k]; !ok {
			c.m[k] = bytes.Clone(b)
		}
	}
	c.mu.Unlock()
}

// hopOptionFor returns the EDNS0 option carrying a hop count.
func hopOptionFor(hops int) *mdns.EDNS0_LOCAL {
	return &mdns.EDNS0_LOCAL{Code: hopOption, Data: []byte{byte(min(hops, 255))}}
}
