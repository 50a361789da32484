package tunnelwire

import (
	"encoding/binary"
	"io"
	"net"
	"time"

	"github.com/hashicorp/yamux"
)

// Session tuning shared by both ends.
const (
	// KeepAliveInterval is how often each end pings; a tunnel whose peer vanished
	// without closing the connection fails within about this interval plus
	// ConnectionWriteTimeout.
	KeepAliveInterval = 5 * time.Second
	// ConnectionWriteTimeout bounds one write on the tunnel connection.
	ConnectionWriteTimeout = 10 * time.Second
	// StreamWindow is a stream's largest receive window.
	StreamWindow = 4 << 20
	// StreamOpenTimeout bounds the wait for the agent to acknowledge a new stream
	// (it does on reading the Open header, before connecting); past it the session is
	// considered dead and closed.
	StreamOpenTimeout = 15 * time.Second
	// StreamCloseTimeout bounds a half-closed stream's wait for the peer's close.
	StreamCloseTimeout = 2 * time.Minute
	// AcceptBacklog is the agent's backlog of streams not yet accepted.
	AcceptBacklog = 1024
)

// YamuxConfig returns the yamux configuration of both ends of a tunnel.
func YamuxConfig() *yamux.Config {
	c := yamux.DefaultConfig()
	c.AcceptBacklog = AcceptBacklog
	c.EnableKeepAlive = true
	c.KeepAliveInterval = KeepAliveInterval
	c.ConnectionWriteTimeout = ConnectionWriteTimeout
	c.MaxStreamWindowSize = StreamWindow
	c.StreamOpenTimeout = StreamOpenTimeout
	c.StreamCloseTimeout = StreamCloseTimeout
	c.LogOutput = io.Discard
	return c
}

// yamux frame header layout (yamux spec): version, type, flags (2), stream id (4),
// length (4).
const (
	headerSize = 12
	typeData   = 0
)

// FrameConn returns c for a yamux session, with each data frame's header and body
// written in one Write (yamux writes them separately), so that a frame becomes one TLS
// write rather than a 12-byte record and a body record. yamux writes from a single
// goroutine, which FrameConn relies on.
func FrameConn(c net.Conn) net.Conn {
	return &frameConn{Conn: c}
}

type frameConn struct {
	net.Conn
	hdr  [headerSize]byte
	held bool
	buf  []byte
}

func (f *frameConn) Write(p []byte) (int, error) {
	if f.held {
		f.held = false
		f.buf = append(append(f.buf[:0], f.hdr[:]...), p...)
		n, err := f.Conn.Write(f.buf)
		n -= headerSize
		if n < 0 {
			n = 0
		}
		return n, err
	}
	if len(p) == headerSize && p[1] == typeData && binary.BigEndian.Uint32(p[8:12]) > 0 {
		copy(f.hdr[:], p)
		f.held = true
		return headerSize, nil
	}
	return f.Conn.Write(p)
}
