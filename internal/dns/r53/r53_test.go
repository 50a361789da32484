package r53

import (
	"strings"
	"testing"

	mdns "github.com/miekg/dns"
)

func TestCanonicalName(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"WWW.Example.com", "www.example.com.", ""},
		{"www.example.com.", "www.example.com.", ""},
		{`\052.example.com`, "*.example.com.", ""},
		{"*.example.com", "*.example.com.", ""},
		{"_sip._tcp.example.com", "_sip._tcp.example.com.", ""},
		{"a..example.com", "", "DomainLabelEmpty"},
		{"", "", "DomainLabelEmpty"},
		{"a.*.example.com", "", "InvalidWildcard"},
		{"a b.example.com", "", "InvalidCharacterString"},
		{`a\9.example.com`, "", "invalid escape"},
		{strings.Repeat("a", 64) + ".com", "", "LabelTooLong"},
		{strings.Repeat("abcdefghi.", 26) + "com", "", "DomainNameTooLong"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := CanonicalName(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %q, %v; want error %s", got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if APIName("*.example.com.") != `\052.example.com.` {
		t.Error("APIName does not escape the wildcard")
	}
}

func TestParseValue(t *testing.T) {
	tests := []struct{ typ, value, want, err string }{
		{"A", "192.0.2.1", "192.0.2.1", ""},
		{"A", "1.2.3", "", "ARRDATAIllegalIPv4Address"},
		{"A", "::1", "", "ARRDATAIllegalIPv4Address"},
		{"AAAA", "2001:db8::1", "2001:db8::1", ""},
		{"AAAA", "192.0.2.1", "", "AAAARRDATAIllegalIPv6Address"},
		{"CNAME", "target.example.com", "target.example.com.", ""},
		{"MX", "10 mail.example.com", "10 mail.example.com.", ""},
		{"MX", "mail.example.com", "", "MXRRDATASyntaxError"},
		{"TXT", `"hello world" "two"`, `"hello world" "two"`, ""},
		{"SRV", "1 10 5060 sip.example.com", "1 10 5060 sip.example.com.", ""},
		{"CAA", `0 issue "amazon.com"`, `0 issue "amazon.com"`, ""},
		{"TXT", "a\nb", "", "control characters"},
		{"A", "", "", "Value is empty"},
		{"TXT", "$INCLUDE /etc/passwd", "", "TXTRRDATASyntaxError"},
	}
	for _, tc := range tests {
		t.Run(tc.typ+" "+tc.value, func(t *testing.T) {
			rr, err := ParseValue("x.example.com.", tc.typ, 60, tc.value)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("got %v, %v; want error %s", rr, err, tc.err)
				}
				if !strings.HasPrefix(err.Error(), "Invalid Resource Record: FATAL problem: ") {
					t.Errorf("message shape %q", err)
				}
				return
			}
			if err != nil || !strings.HasSuffix(rr.String(), "\t"+tc.want) {
				t.Fatalf("got %v, %v; want ...%s", rr, err, tc.want)
			}
		})
	}
}

func ttl(n int64) *int64 { return &n }

func TestApplyChanges(t *testing.T) {
	z := &Zone{ID: "ZTEST", Name: "example.com."}
	z.Records = InitialRecords(z.Name, z.ID, false)
	a := RecordSet{Name: "www.example.com", Type: "A", TTL: ttl(60), Values: []string{"192.0.2.1"}}
	records, err := ApplyChanges(z, []Change{{ActionCreate, a}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	z.Records = records
	tests := []struct {
		name    string
		changes []Change
		code    string
		msg     string
	}{
		{"create existing", []Change{{ActionCreate, a}}, CodeInvalidChangeBatch,
			"Tried to create resource record set [name='www.example.com.', type='A'] but it already exists"},
		{"delete absent", []Change{{ActionDelete, RecordSet{Name: "x.example.com", Type: "A", TTL: ttl(60), Values: []string{"192.0.2.1"}}}}, CodeInvalidChangeBatch,
			"Tried to delete resource record set [name='x.example.com.', type='A'] but it was not found"},
		{"delete with other values", []Change{{ActionDelete, RecordSet{Name: "www.example.com", Type: "A", TTL: ttl(60), Values: []string{"192.0.2.9"}}}}, CodeInvalidChangeBatch,
			"Tried to delete resource record set [name='www.example.com.', type='A'] but the values provided do not match the current values"},
		{"weighted beside simple", []Change{{ActionCreate, RecordSet{Name: "www.example.com", Type: "A", SetIdentifier: "w", Weight: ttl(1), TTL: ttl(60), Values: []string{"192.0.2.2"}}}},
			CodeInvalidChangeBatch, "RRSet with DNS name www.example.com., type A cannot be created as other RRSets exist with the same name and type."},
		{"two primaries", []Change{
			{ActionCreate, RecordSet{Name: "f.example.com", Type: "A", SetIdentifier: "a", Failover: "PRIMARY", TTL: ttl(60), Values: []string{"192.0.2.2"}}},
			{ActionCreate, RecordSet{Name: "f.example.com", Type: "A", SetIdentifier: "b", Failover: "PRIMARY", TTL: ttl(60), Values: []string{"192.0.2.3"}}},
		}, CodeInvalidChangeBatch, "a PRIMARY failover RRSet (SetIdentifier a) already exists"},
		{"weighted TTLs differ", []Change{
			{ActionCreate, RecordSet{Name: "w.example.com", Type: "A", SetIdentifier: "a", Weight: ttl(1), TTL: ttl(60), Values: []string{"192.0.2.2"}}},
			{ActionCreate, RecordSet{Name: "w.example.com", Type: "A", SetIdentifier: "b", Weight: ttl(1), TTL: ttl(30), Values: []string{"192.0.2.3"}}},
		}, CodeInvalidChangeBatch, "has TTL"},
		{"alias to a missing record", []Change{{ActionCreate, RecordSet{Name: "al.example.com", Type: "A", Alias: &AliasTarget{HostedZoneID: "ZTEST", DNSName: "nope.example.com"}}}},
			CodeInvalidChangeBatch, "Tried to create an alias that targets nope.example.com., type A in zone ZTEST, but that target was not found"},
		{"policy without set identifier", []Change{{ActionCreate, RecordSet{Name: "w.example.com", Type: "A", Weight: ttl(1), TTL: ttl(60), Values: []string{"192.0.2.2"}}}},
			CodeInvalidInput, "Invalid request: Missing field 'SetIdentifier' in Change with [Action=CREATE, Name=w.example.com., Type=A, SetIdentifier=null]"},
		{"unsupported type", []Change{{ActionCreate, RecordSet{Name: "w.example.com", Type: "WKS", TTL: ttl(60), Values: []string{"x"}}}},
			CodeInvalidInput, "but found 'WKS'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ApplyChanges(z, tc.changes, nil)
			if err == nil || err.Code != tc.code || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v, want %s ...%s...", err, tc.code, tc.msg)
			}
		})
	}
	t.Run("delete then create in one batch", func(t *testing.T) {
		b := a
		b.Values = []string{"192.0.2.7"}
		records, err := ApplyChanges(z, []Change{{ActionDelete, a}, {ActionCreate, b}}, nil)
		if err != nil || len(records) != 3 {
			t.Fatalf("%v %v", err, records)
		}
		if z.Records[2].Values[0] != "192.0.2.1" {
			t.Error("ApplyChanges modified the zone")
		}
	})
	t.Run("upsert replaces", func(t *testing.T) {
		b := a
		b.TTL = ttl(5)
		records, err := ApplyChanges(z, []Change{{ActionUpsert, b}}, nil)
		if err != nil || *records[2].TTL != 5 {
			t.Fatalf("%v %+v", err, records)
		}
	})
}

// FuzzParseValue: parsing any value of any type never panics, and a value
// that parses gives a record of that type.
func FuzzParseValue(f *testing.F) {
	for _, s := range []string{"A 192.0.2.1", "MX 10 mail.example.com", `TXT "a" "b"`, "SRV 1 2 3 x.", `CAA 0 issue "x"`, "NS ns1.example.com", "SOA a. b. 1 2 3 4 5"} {
		typ, val, _ := strings.Cut(s, " ")
		f.Add(typ, val, "x.example.com")
	}
	f.Fuzz(func(t *testing.T, typ, value, name string) {
		if !IsRecordType(typ) {
			return
		}
		cn, err := CanonicalName(name)
		if err != nil {
			return
		}
		rr, err := ParseValue(cn, typ, 60, value)
		if err != nil {
			return
		}
		if got := rr.Header().Rrtype; TypeName(got) != typ {
			t.Fatalf("%s value %q parsed as type %d", typ, value, got)
		}
	})
}

// TypeName names a DNS type number.
func TypeName(t uint16) string { return mdns.TypeToString[t] }
