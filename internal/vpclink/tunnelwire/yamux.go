package tunnelwire

import (
	"encoding/binary"
	"io"
	"net"
	"sync"
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

// Cork wraps the raw connection a tunnel's TLS session runs over. While a frame is
// being written (see FrameConn) the TLS records it becomes are gathered and leave in one
// write: a 256 KiB frame is sixteen 16 KiB records, which would otherwise be sixteen
// system calls. Outside a frame, writes (the handshake, alerts, key updates) go straight
// through.
func Cork(raw net.Conn) *CorkConn { return &CorkConn{Conn: raw} }

// CorkConn is a net.Conn whose writes can be held back and flushed as one (Cork).
type CorkConn struct {
	net.Conn
	mu     sync.Mutex
	corked bool
	buf    []byte
}

// maxCork bounds the bytes a corked connection holds; beyond it they are written at once.
const maxCork = 1 << 20

// Write implements net.Conn.
func (c *CorkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.corked {
		return c.Conn.Write(p)
	}
	if len(c.buf)+len(p) > maxCork {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
		if len(p) > maxCork {
			return c.Conn.Write(p)
		}
	}
	c.buf = append(c.buf, p...)
	return len(p), nil
}

func (c *CorkConn) cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

// uncork writes what was held back and lets later writes through.
func (c *CorkConn) uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = false
	return c.flushLocked()
}

func (c *CorkConn) flushLocked() error {
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.buf)
	if cap(c.buf) > maxCork/2 {
		c.buf = nil // a burst's buffer is not kept for an idle tunnel
	} else {
		c.buf = c.buf[:0]
	}
	return err
}

// FrameConn returns c (the tunnel's TLS session over cork, the raw connection wrapped
// by Cork; cork may be nil) for a yamux session, with each data frame's header and body
// written in one Write (yamux writes them separately), so that a frame becomes one TLS
// write rather than a 12-byte record and a body record, and its records one write to
// the raw connection. yamux writes from a single goroutine, which FrameConn relies on.
func FrameConn(c net.Conn, cork *CorkConn) net.Conn {
	return &frameConn{Conn: c, cork: cork}
}

type frameConn struct {
	net.Conn
	cork *CorkConn
	hdr  [headerSize]byte
	held bool
	buf  []byte
}

func (f *frameConn) Write(p []byte) (int, error) {
	if f.held {
		f.held = false
		f.buf = append(append(f.buf[:0], f.hdr[:]...), p...)
		if f.cork != nil {
			f.cork.cork()
		}
		n, err := f.Conn.Write(f.buf)
		if f.cork != nil {
			if ferr := f.cork.uncork(); err == nil && ferr != nil {
				err, n = ferr, 0
			}
		}
		if cap(f.buf) > maxCork/2 {
			f.buf = nil
		}
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
