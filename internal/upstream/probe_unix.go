//go:build linux || darwin || freebsd || netbsd || openbsd

package upstream

import (
	"net"
	"syscall"
)

// initProbe prepares the liveness probe on the TCP connection beneath nc.
func (c *conn) initProbe(tcp net.Conn) {
	sc, ok := tcp.(syscall.Conn)
	if !ok {
		return
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return
	}
	c.raw = raw
	c.peekFn = func(fd uintptr) bool {
		c.peekN, _, c.peekErr = syscall.Recvfrom(int(fd), c.peekBuf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return true
	}
}

// alive probes an idle connection without blocking (one recvfrom with MSG_PEEK): it is
// dead when the backend closed it (EOF, reset) or sent bytes nobody asked for.
func (c *conn) alive() bool {
	if c.raw == nil {
		return true
	}
	if err := c.raw.Read(c.peekFn); err != nil {
		return true // e.g. the deadline has passed: the request fails on its own
	}
	switch {
	case c.peekErr == syscall.EAGAIN || c.peekErr == syscall.EWOULDBLOCK:
		return true
	case c.peekErr != nil, c.peekN == 0:
		return false
	}
	return false // unsolicited data (on TLS perhaps a late record): not worth the risk
}
