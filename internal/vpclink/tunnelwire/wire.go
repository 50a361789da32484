// Package tunnelwire is the link-agent tunnel's wire format, shared by gatehouse's tunnel
// listener (package vpclink) and the agent (package linkagent).
//
// An agent dials gatehouse's tunnel listener over TLS 1.3 (ALPN "gatehouse-link/1",
// gatehouse's certificate verified against gatehouse's CA, which the agent pins) and
// writes one Hello message carrying its token. gatehouse answers with one Welcome
// message: on success the VPC the token joins and that VPC's CIDR blocks; on refusal a
// code (UnknownToken, RevokedToken, ...) and the connection is closed. Messages are a
// 4-byte big-endian length followed by that many bytes of JSON, at most MaxMessage.
//
// After a successful Welcome the connection carries a yamux session (the agent is the
// yamux client, gatehouse the server). gatehouse opens one stream per TCP connection it
// wants in the agent's VPC and writes an Open header naming the address; the agent
// checks the address against its VPC's CIDR blocks and its allow-list, dials it and
// answers with a Reply; after ReplyOK the stream carries the connection's bytes both
// ways, and closing a stream's write side (yamux FIN) half-closes the TCP connection.
//
// Open:  version (1 byte, 1) | network (1 byte, 't' = tcp) | timeout ms (4 bytes BE) |
//
//	address length (2 bytes BE) | address (IP:port text)
//
// Reply: code (1 byte) | message length (2 bytes BE) | message (UTF-8 text)
package tunnelwire

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"time"
)

// ALPN is the TLS application protocol of the tunnel.
const ALPN = "gatehouse-link/1"

// Version is the protocol version in Hello and Open.
const Version = 1

// MaxMessage bounds a Hello or Welcome message, in bytes.
const MaxMessage = 16 << 10

// Welcome codes of a refused join.
const (
	// CodeUnknownToken: no VPC has this token.
	CodeUnknownToken = "UnknownToken"
	// CodeRevokedToken: the token was revoked.
	CodeRevokedToken = "RevokedToken"
	// CodeBadHello: the Hello could not be read or has an unsupported version.
	CodeBadHello = "BadHello"
	// CodeUnavailable: gatehouse cannot take the agent now (shutting down); retry later.
	CodeUnavailable = "Unavailable"
)

// Hello is an agent's first message.
type Hello struct {
	Version int    `json:"version"`
	Token   string `json:"token"`
	// Agent names the agent (by default its host name); used in metrics and logs.
	Agent string `json:"agent,omitempty"`
	// Instance identifies one running agent, which keeps several tunnel connections
	// (each with its own Hello) for throughput and resilience.
	Instance string `json:"instance,omitempty"`
}

// Welcome is gatehouse's answer to Hello.
type Welcome struct {
	OK      bool   `json:"ok"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	// VpcID, Account and CIDRs describe the joined VPC; the agent reaches only
	// addresses inside CIDRs.
	VpcID   string   `json:"vpcId,omitempty"`
	Account string   `json:"account,omitempty"`
	CIDRs   []string `json:"cidrs,omitempty"`
	// AgentID is gatehouse's id for this connection.
	AgentID string `json:"agentId,omitempty"`
}

// Permanent reports whether a refusal will not change by retrying.
func (w *Welcome) Permanent() bool {
	return !w.OK && (w.Code == CodeUnknownToken || w.Code == CodeRevokedToken || w.Code == CodeBadHello)
}

// WriteMessage writes v as one length-prefixed JSON message.
func WriteMessage(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if len(b) > MaxMessage {
		return fmt.Errorf("tunnelwire: message of %d bytes exceeds %d", len(b), MaxMessage)
	}
	buf := make([]byte, 4, 4+len(b))
	binary.BigEndian.PutUint32(buf, uint32(len(b)))
	_, err = w.Write(append(buf, b...))
	return err
}

// ReadMessage reads one length-prefixed JSON message into v.
func ReadMessage(r io.Reader, v any) error {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > MaxMessage {
		return fmt.Errorf("tunnelwire: message of %d bytes exceeds %d", n, MaxMessage)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return unexpected(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("tunnelwire: bad message: %w", err)
	}
	return nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Open asks the agent for a connection.
type Open struct {
	// Network is "tcp", the only network.
	Network string
	// Address is the IP:port to connect to.
	Address netip.AddrPort
	// Timeout bounds the agent's connect; 0 means the agent's default.
	Timeout time.Duration
}

// maxTimeout is the largest timeout Open carries.
const maxTimeout = time.Duration(1<<32-1) * time.Millisecond

// AppendOpen appends o's encoding to b.
func AppendOpen(b []byte, o Open) ([]byte, error) {
	if o.Network != "tcp" {
		return nil, fmt.Errorf("tunnelwire: unsupported network %q", o.Network)
	}
	if !o.Address.IsValid() {
		return nil, errors.New("tunnelwire: invalid address")
	}
	ms := o.Timeout.Milliseconds()
	if o.Timeout > 0 && ms == 0 {
		ms = 1
	}
	if o.Timeout < 0 || o.Timeout > maxTimeout {
		return nil, fmt.Errorf("tunnelwire: timeout %v out of range", o.Timeout)
	}
	addr := o.Address.String()
	b = append(b, Version, 't')
	b = binary.BigEndian.AppendUint32(b, uint32(ms))
	b = binary.BigEndian.AppendUint16(b, uint16(len(addr)))
	return append(b, addr...), nil
}

// maxAddress bounds the address text of an Open ("[v6%zone]:65535" fits easily).
const maxAddress = 256

// ReadOpen reads an Open header.
func ReadOpen(r io.Reader) (Open, error) {
	var hdr [8]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return Open{}, err
	}
	if hdr[0] != Version {
		return Open{}, fmt.Errorf("tunnelwire: unsupported version %d", hdr[0])
	}
	if hdr[1] != 't' {
		return Open{}, fmt.Errorf("tunnelwire: unsupported network %q", hdr[1])
	}
	ms := binary.BigEndian.Uint32(hdr[2:6])
	n := binary.BigEndian.Uint16(hdr[6:8])
	if n == 0 || n > maxAddress {
		return Open{}, fmt.Errorf("tunnelwire: address length %d", n)
	}
	a := make([]byte, n)
	if _, err := io.ReadFull(r, a); err != nil {
		return Open{}, unexpected(err)
	}
	ap, err := netip.ParseAddrPort(string(a))
	if err != nil {
		return Open{}, fmt.Errorf("tunnelwire: bad address %q", a)
	}
	return Open{Network: "tcp", Address: ap, Timeout: time.Duration(ms) * time.Millisecond}, nil
}

// Reply codes.
const (
	// ReplyOK: connected; the stream now carries the connection.
	ReplyOK byte = 0
	// ReplyForbidden: the address is outside the agent's VPC or allow-list.
	ReplyForbidden byte = 1
	// ReplyRefused: the target refused the connection.
	ReplyRefused byte = 2
	// ReplyUnreachable: the connect failed otherwise (no route, reset, ...).
	ReplyUnreachable byte = 3
	// ReplyTimeout: the connect timed out.
	ReplyTimeout byte = 4
	// ReplyBadRequest: the Open header could not be read.
	ReplyBadRequest byte = 5
)

// Reply is the agent's answer to Open.
type Reply struct {
	Code    byte
	Message string
}

// maxReplyMessage bounds a Reply's message.
const maxReplyMessage = 1024

// AppendReply appends r's encoding to b; a long message is cut.
func AppendReply(b []byte, r Reply) []byte {
	msg := r.Message
	if len(msg) > maxReplyMessage {
		msg = msg[:maxReplyMessage]
	}
	b = append(b, r.Code)
	b = binary.BigEndian.AppendUint16(b, uint16(len(msg)))
	return append(b, msg...)
}

// ReadReply reads a Reply.
func ReadReply(r io.Reader) (Reply, error) {
	var hdr [3]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return Reply{}, err
	}
	n := binary.BigEndian.Uint16(hdr[1:3])
	if n > maxReplyMessage {
		return Reply{}, fmt.Errorf("tunnelwire: reply message length %d", n)
	}
	if hdr[0] > ReplyBadRequest {
		return Reply{}, fmt.Errorf("tunnelwire: unknown reply code %d", hdr[0])
	}
	msg := make([]byte, n)
	if _, err := io.ReadFull(r, msg); err != nil {
		return Reply{}, unexpected(err)
	}
	return Reply{Code: hdr[0], Message: string(msg)}, nil
}
