//go:build !(linux || darwin || freebsd || netbsd || openbsd)

package upstream

import "net"

func (c *conn) initProbe(net.Conn) {}

// alive cannot probe on this platform; retries cover idempotent requests.
func (c *conn) alive() bool { return true }
