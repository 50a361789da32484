// Package network owns gatehouse's view of AWS networking on one host: listeners bound to
// VPC-endpoint "ENI" addresses and the public listener, and the security-group check that
// refuses connections from outside an endpoint's ingress CIDRs at accept time.
package network

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"sync/atomic"
)

// Listener wraps a TCP listener with a security-group check: connections whose source
// address is outside Allow are closed immediately and counted, and Accept moves on.
type Listener struct {
	net.Listener
	allow    []netip.Prefix
	refused  atomic.Uint64
	onRefuse func(src netip.Addr)
	log      *slog.Logger
}

// Listen binds addr. An empty allow list admits everyone (the public listener).
// onRefuse, if set, is called for each refused connection (metrics).
func Listen(ctx context.Context, addr string, allow []netip.Prefix, onRefuse func(netip.Addr), log *slog.Logger) (*Listener, error) {
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Listener{Listener: l, allow: allow, onRefuse: onRefuse, log: log}, nil
}

// Accept returns the next connection allowed by the security group.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.allowed(c.RemoteAddr()) {
			return c, nil
		}
		src := addrOf(c.RemoteAddr())
		l.refused.Add(1)
		if l.onRefuse != nil {
			l.onRefuse(src)
		}
		l.log.Debug("connection refused by security group", "listener", l.Addr().String(), "source", src.String())
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // RST, like a security group drop seen by the client as a reset
		}
		_ = c.Close()
	}
}

// Refused returns how many connections the security group refused.
func (l *Listener) Refused() uint64 { return l.refused.Load() }

func (l *Listener) allowed(a net.Addr) bool {
	if len(l.allow) == 0 {
		return true
	}
	ip := addrOf(a)
	for _, p := range l.allow {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func addrOf(a net.Addr) netip.Addr {
	if ta, ok := a.(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(ta.IP); ok {
			return ip.Unmap()
		}
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}
