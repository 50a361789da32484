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

// maxPending bounds the frames FrameConn holds for its writer; a yamux write past it
// waits (yamux's ConnectionWriteTimeout then bounds the wait).
const maxPending = 1 << 20

// closeFlushTimeout bounds how long Close waits for pending frames to be written.
const closeFlushTimeout = time.Second

// directFrame is the body size from which a data frame is written by the yamux send
// goroutine itself, after what is queued, instead of being copied into the queue.
const directFrame = 32 << 10

// FrameConn returns c (the tunnel's TLS session over cork, the raw connection wrapped by
// Cork; cork may be nil) for a yamux session. yamux writes every frame from its send
// goroutine and waits for each write; FrameConn instead queues small frames and returns,
// and its own writer goroutine sends whatever has queued up since its last write as one
// TLS write, whose records leave in one write to the raw connection (cork). Under load the
// frames of many streams share a record and a system call; an idle tunnel pays one
// goroutine hand-off per frame. A data frame's header and body, which yamux writes
// separately, always go together; a large body (bulk transfer) is not copied: the send
// goroutine writes the queue, the header and the body itself, in one corked write.
//
// A failed write is returned by every later Write and closes c. Close writes what is
// queued (for at most a second) and closes c.
func FrameConn(c net.Conn, cork *CorkConn) net.Conn {
	f := &frameConn{Conn: c, cork: cork, kick: make(chan struct{}, 1), done: make(chan struct{})}
	f.cond = sync.NewCond(&f.mu)
	go f.writer()
	return f
}

type frameConn struct {
	net.Conn
	cork *CorkConn
	kick chan struct{}
	done chan struct{} // closed when the writer returns

	// hdr and held are used by the (single) yamux send goroutine only.
	hdr  [headerSize]byte
	held bool

	// wmu serializes writes to Conn (the writer goroutine and direct frames).
	wmu sync.Mutex

	mu      sync.Mutex
	cond    *sync.Cond // signalled when pending shrinks or err is set
	pending []byte
	spare   []byte
	err     error
	closing bool
	once    sync.Once
}

func (f *frameConn) Write(p []byte) (int, error) {
	if !f.held && len(p) == headerSize && p[1] == typeData && binary.BigEndian.Uint32(p[8:12]) > 0 {
		copy(f.hdr[:], p)
		f.held = true
		return headerSize, nil
	}
	if f.held && len(p) >= directFrame {
		f.held = false
		f.wmu.Lock()
		err := f.send(f.hdr[:], p)
		f.wmu.Unlock()
		if err != nil {
			return 0, err
		}
		return len(p), nil
	}
	f.mu.Lock()
	for f.err == nil && !f.closing && len(f.pending) > 0 && len(f.pending)+len(p) > maxPending {
		f.cond.Wait()
	}
	if err := f.err; err != nil || f.closing {
		f.mu.Unlock()
		f.held = false
		if err == nil {
			err = net.ErrClosed
		}
		return 0, err
	}
	if f.held {
		f.held = false
		f.pending = append(f.pending, f.hdr[:]...)
	}
	f.pending = append(f.pending, p...)
	f.mu.Unlock()
	select {
	case f.kick <- struct{}{}:
	default:
	}
	return len(p), nil
}

// send writes the queued frames and then extra as one corked write. The caller holds
// wmu. A failure is kept for every later Write and closes the connection.
func (f *frameConn) send(extra ...[]byte) error {
	f.mu.Lock()
	if f.err != nil {
		err := f.err
		f.mu.Unlock()
		return err
	}
	buf := f.pending
	f.pending, f.spare = f.spare[:0], nil
	f.mu.Unlock()
	if len(buf) == 0 && len(extra) == 0 {
		f.mu.Lock()
		f.spare = buf
		f.mu.Unlock()
		return nil
	}
	if f.cork != nil {
		f.cork.cork()
	}
	var err error
	if len(buf) > 0 {
		_, err = f.Conn.Write(buf)
	}
	for _, b := range extra {
		if err == nil {
			_, err = f.Conn.Write(b)
		}
	}
	if f.cork != nil {
		if ferr := f.cork.uncork(); err == nil {
			err = ferr
		}
	}
	f.mu.Lock()
	if cap(buf) <= maxPending {
		f.spare = buf[:0]
	}
	if err != nil && f.err == nil {
		f.err = err
	}
	err = f.err
	f.cond.Broadcast()
	f.mu.Unlock()
	if err != nil {
		f.Conn.Close()
	}
	return err
}

// writer sends queued frames until the connection fails or is closed.
func (f *frameConn) writer() {
	defer close(f.done)
	for {
		<-f.kick
		f.wmu.Lock()
		err := f.send()
		f.wmu.Unlock()
		f.mu.Lock()
		closing, more := f.closing, len(f.pending) > 0
		f.mu.Unlock()
		switch {
		case err != nil:
			return
		case more:
			select {
			case f.kick <- struct{}{}:
			default:
			}
		case closing:
			return
		}
	}
}

// Close writes the queued frames (for at most closeFlushTimeout) and closes the
// connection.
func (f *frameConn) Close() error {
	f.once.Do(func() {
		f.mu.Lock()
		f.closing = true
		f.cond.Broadcast()
		f.mu.Unlock()
		select {
		case f.kick <- struct{}{}:
		default:
		}
		_ = f.Conn.SetWriteDeadline(time.Now().Add(closeFlushTimeout))
		select {
		case <-f.done:
		case <-time.After(closeFlushTimeout):
		}
	})
	return f.Conn.Close()
}
