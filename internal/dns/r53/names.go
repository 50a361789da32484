package r53

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	mdns "github.com/miekg/dns"
)

// MaxNameLength is the longest name in presentation form (without the final
// dot) that DNS allows.
const MaxNameLength = 253

// CanonicalName turns a name as Route 53 accepts it ("WWW.Example.com",
// "www.example.com.", "\052.example.com") into the canonical form: lowercase,
// fully qualified, "*" for a wildcard label. Route 53 escapes are three octal
// digits ("\052" is "*"). Allowed characters are letters, digits, '-', '_'
// and a leftmost "*" label. The error is Route 53's InvalidChangeBatch text.
func CanonicalName(s string) (string, error) {
	var b strings.Builder
	b.Grow(len(s) + 1)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' {
			if i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
				v, _ := strconv.ParseUint(s[i+1:i+4], 8, 8)
				c = byte(v)
				i += 3
			} else {
				return "", fmt.Errorf("FATAL problem: InvalidCharacterString (Value contains an invalid escape sequence) encountered with '%s'", s)
			}
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	name := b.String()
	if name == "." || name == "" {
		return "", fmt.Errorf("FATAL problem: DomainLabelEmpty (Domain label is empty) encountered with '%s'", s)
	}
	name = strings.TrimSuffix(name, ".")
	if len(name) > MaxNameLength {
		return "", fmt.Errorf("FATAL problem: DomainNameTooLong (Domain name is longer than 255 bytes) encountered with '%s'", s)
	}
	labels := strings.Split(name, ".")
	for i, l := range labels {
		if l == "" {
			return "", fmt.Errorf("FATAL problem: DomainLabelEmpty (Domain label is empty) encountered with '%s'", s)
		}
		if len(l) > 63 {
			return "", fmt.Errorf("FATAL problem: LabelTooLong (Domain label is too long) encountered with '%s'", s)
		}
		if l == "*" {
			if i != 0 {
				return "", fmt.Errorf("FATAL problem: InvalidWildcard (A wildcard must be the leftmost label) encountered with '%s'", s)
			}
			continue
		}
		for j := 0; j < len(l); j++ {
			c := l[j]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return "", fmt.Errorf("FATAL problem: InvalidCharacterString (Value contains invalid characters) encountered with '%s'", s)
			}
		}
	}
	return name + ".", nil
}

func isOctal(c byte) bool { return '0' <= c && c <= '7' }

// APIName writes a canonical name as Route 53's API shows it: a wildcard
// label as "\052".
func APIName(name string) string {
	if strings.HasPrefix(name, "*.") {
		return `\052` + name[1:]
	}
	return name
}

// InZone reports whether canonical name is zone or below it.
func InZone(name, zone string) bool {
	return name == zone || strings.HasSuffix(name, "."+zone)
}

// ParseValue parses one Route 53 record value of type typ into a DNS record
// owned by name with the given TTL. The error is Route 53's
// InvalidChangeBatch text ("Invalid Resource Record: FATAL problem: ...").
func ParseValue(name, typ string, ttl uint32, value string) (mdns.RR, error) {
	bad := func(code, what string) error {
		return fmt.Errorf("Invalid Resource Record: FATAL problem: %s (%s) encountered with '%s'", code, what, value)
	}
	if value == "" {
		return nil, bad(typ+"RRDATAEmpty", "Value is empty")
	}
	for i := 0; i < len(value); i++ {
		if value[i] < 0x20 || value[i] == 0x7f {
			return nil, bad("InvalidCharacterString", "Value contains control characters")
		}
	}
	switch typ {
	case "A":
		a, err := netip.ParseAddr(value)
		if err != nil || !a.Is4() {
			return nil, bad("ARRDATAIllegalIPv4Address", "Value is not a valid IPv4 address")
		}
		return &mdns.A{Hdr: hdr(name, mdns.TypeA, ttl), A: a.AsSlice()}, nil
	case "AAAA":
		a, err := netip.ParseAddr(value)
		if err != nil || !a.Is6() || a.Zone() != "" {
			return nil, bad("AAAARRDATAIllegalIPv6Address", "Value is not a valid IPv6 address")
		}
		return &mdns.AAAA{Hdr: hdr(name, mdns.TypeAAAA, ttl), AAAA: a.AsSlice()}, nil
	}
	if strings.HasPrefix(strings.TrimSpace(value), "$") {
		return nil, bad(typ+"RRDATASyntaxError", "Value is not valid "+typ+" data")
	}
	wantType, ok := mdns.StringToType[typ]
	if !ok {
		return nil, bad("UnknownType", "Unsupported record type")
	}
	text := mdns.Fqdn(name) + " " + strconv.FormatUint(uint64(ttl), 10) + " IN " + typ + " " + value
	zp := mdns.NewZoneParser(strings.NewReader(text), ".", "")
	rr, ok := zp.Next()
	if !ok || zp.Err() != nil || rr == nil || rr.Header().Rrtype != wantType {
		return nil, bad(typ+"RRDATASyntaxError", "Value is not valid "+typ+" data")
	}
	if _, more := zp.Next(); more {
		return nil, bad(typ+"RRDATASyntaxError", "Value holds more than one record")
	}
	return rr, nil
}

func hdr(name string, t uint16, ttl uint32) mdns.RR_Header {
	return mdns.RR_Header{Name: name, Rrtype: t, Class: mdns.ClassINET, Ttl: ttl}
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}
