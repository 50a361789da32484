package tunnelwire

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestMessageRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   any
		out  any
	}{
		{"hello", &Hello{Version: 1, Token: "tok", Agent: "a"}, &Hello{}},
		{"welcome", &Welcome{OK: true, VpcID: "vpc-1", CIDRs: []string{"10.0.0.0/16"}, AgentID: "x"}, &Welcome{}},
		{"refusal", &Welcome{Code: CodeRevokedToken, Message: "revoked"}, &Welcome{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteMessage(&buf, tt.in); err != nil {
				t.Fatal(err)
			}
			if err := ReadMessage(&buf, tt.out); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(tt.in, tt.out) {
				t.Fatalf("got %+v, want %+v", tt.out, tt.in)
			}
		})
	}
}

func TestReadMessageErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "EOF"},
		{"short body", []byte{0, 0, 0, 5, '{'}, "unexpected EOF"},
		{"too big", []byte{0, 1, 0, 0}, "exceeds"},
		{"not json", []byte{0, 0, 0, 1, 'x'}, "bad message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Hello
			err := ReadMessage(bytes.NewReader(tt.in), &h)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err %v, want %q", err, tt.want)
			}
		})
	}
}

func TestOpenRoundTrip(t *testing.T) {
	tests := []Open{
		{Network: "tcp", Address: netip.MustParseAddrPort("10.0.0.1:80"), Timeout: 3 * time.Second},
		{Network: "tcp", Address: netip.MustParseAddrPort("[fd00::1]:443")},
		{Network: "tcp", Address: netip.MustParseAddrPort("10.0.0.1:1"), Timeout: time.Microsecond},
	}
	for _, o := range tests {
		t.Run(o.Address.String(), func(t *testing.T) {
			b, err := AppendOpen(nil, o)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ReadOpen(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			want := o
			if o.Timeout > 0 && o.Timeout < time.Millisecond {
				want.Timeout = time.Millisecond
			}
			if got != want {
				t.Fatalf("got %+v, want %+v", got, want)
			}
		})
	}
	if _, err := AppendOpen(nil, Open{Network: "udp", Address: netip.MustParseAddrPort("1.2.3.4:5")}); err == nil {
		t.Fatal("udp accepted")
	}
}

func TestReplyRoundTrip(t *testing.T) {
	for _, r := range []Reply{{Code: ReplyOK}, {Code: ReplyRefused, Message: "connection refused"}, {Code: ReplyForbidden, Message: strings.Repeat("x", 5000)}} {
		got, err := ReadReply(bytes.NewReader(AppendReply(nil, r)))
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Message) > maxReplyMessage {
			r.Message = r.Message[:maxReplyMessage]
		}
		if got != r {
			t.Fatalf("got %+v, want %+v", got, r)
		}
	}
	if _, err := ReadReply(bytes.NewReader([]byte{9, 0, 0})); err == nil {
		t.Fatal("unknown code accepted")
	}
	if _, err := ReadReply(bytes.NewReader([]byte{0, 0, 3, 'a'})); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("short reply: %v", err)
	}
}

func FuzzReadOpen(f *testing.F) {
	b, _ := AppendOpen(nil, Open{Network: "tcp", Address: netip.MustParseAddrPort("10.1.2.3:8080"), Timeout: time.Second})
	f.Add(b)
	f.Add([]byte{1, 't', 0, 0, 0, 0, 0, 3, 'a', 'b', 'c'})
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := ReadOpen(bytes.NewReader(data))
		if err != nil {
			return
		}
		again, err := AppendOpen(nil, o)
		if err != nil {
			t.Fatalf("re-encode %+v: %v", o, err)
		}
		o2, err := ReadOpen(bytes.NewReader(again))
		if err != nil || o2 != o {
			t.Fatalf("round trip %+v → %+v %v", o, o2, err)
		}
	})
}

func FuzzReadReply(f *testing.F) {
	f.Add(AppendReply(nil, Reply{Code: ReplyTimeout, Message: "i/o timeout"}))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ReadReply(bytes.NewReader(data))
		if err != nil {
			return
		}
		r2, err := ReadReply(bytes.NewReader(AppendReply(nil, r)))
		if err != nil || r2 != r {
			t.Fatalf("round trip %+v → %+v %v", r, r2, err)
		}
	})
}

func FuzzReadMessage(f *testing.F) {
	var buf bytes.Buffer
	_ = WriteMessage(&buf, &Hello{Version: 1, Token: "t"})
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		var h Hello
		if err := ReadMessage(bytes.NewReader(data), &h); err != nil {
			return
		}
		var out bytes.Buffer
		if err := WriteMessage(&out, &h); err != nil {
			t.Fatal(err)
		}
	})
}
