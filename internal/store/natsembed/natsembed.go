// Package natsembed runs a nats-server with JetStream inside the gatehouse
// process, for single-node deployments that need nothing installed.
//
// The server never opens a TCP port (DontListen); clients reach it through
// an in-process pipe connection (Server satisfies nats.InProcessConnProvider,
// so pass it to nats.InProcessServer). JetStream writes under StoreDir and
// fsyncs every write before acknowledging it (SyncAlways), so an
// acknowledged write survives the process being killed with SIGKILL.
//
// The lifecycle is deliberately boring: Start (construct, start, wait
// ready), InProcessConn, Shutdown.
package natsembed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// DefaultReadyTimeout bounds how long Start waits for the server to become
// ready when ctx has no deadline.
const DefaultReadyTimeout = 30 * time.Second

// Config configures an embedded server.
type Config struct {
	// StoreDir is the JetStream file store directory. Required. It is
	// created if missing and locked against a second embedded server
	// (in this or another process) for the server's lifetime.
	StoreDir string
	// MaxPayload is the largest message (headers and body) a client may
	// publish. Zero means the nats-server default (1 MiB).
	MaxPayload int32
	// Logger receives the server's log lines. Nil discards them.
	Logger *slog.Logger
}

// Server is a running embedded nats-server with JetStream.
type Server struct {
	ns   *server.Server
	lock *dirLock

	shutdownOnce sync.Once
}

// Start starts an embedded server and waits until it accepts in-process
// connections with JetStream enabled. It fails if ctx ends first.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.StoreDir == "" {
		return nil, errors.New("natsembed: StoreDir is required")
	}
	if cfg.MaxPayload < 0 {
		return nil, fmt.Errorf("natsembed: MaxPayload %d is negative", cfg.MaxPayload)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("natsembed: %w", err)
	}
	dir, err := filepath.Abs(cfg.StoreDir)
	if err != nil {
		return nil, fmt.Errorf("natsembed: store dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("natsembed: store dir: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, fmt.Errorf("natsembed: %w", err)
	}

	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	opts := &server.Options{
		ServerName: "gatehouse-embedded",
		DontListen: true,
		NoSigs:     true,
		JetStream:  true,
		StoreDir:   dir,
		// Fsync every write before it is acknowledged (the config file
		// spelling is `jetstream { sync_interval: always }`).
		SyncAlways: true,
		MaxPayload: cfg.MaxPayload,
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		lock.release()
		return nil, fmt.Errorf("natsembed: new server: %w", err)
	}
	sl := &slogAdapter{l: logger}
	ns.SetLoggerV2(sl, logger.Enabled(ctx, slog.LevelDebug), false, false)
	ns.Start()

	s := &Server{ns: ns, lock: lock}
	// Start reports fatal problems (JetStream cannot use the store dir, …)
	// through the logger and returns; it does not exit the process.
	if ferr := sl.fatalErr(); ferr != nil {
		s.Shutdown()
		return nil, fmt.Errorf("natsembed: start: %w", ferr)
	}
	if err := s.waitReady(ctx); err != nil {
		s.Shutdown()
		return nil, err
	}
	if !ns.JetStreamEnabled() {
		err := errors.New("JetStream is not enabled")
		if ferr := sl.fatalErr(); ferr != nil {
			err = ferr
		}
		s.Shutdown()
		return nil, fmt.Errorf("natsembed: start: %w", err)
	}
	return s, nil
}

func (s *Server) waitReady(ctx context.Context) error {
	timeout := DefaultReadyTimeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	done := make(chan bool, 1)
	go func() { done <- s.ns.ReadyForConnections(timeout) }()
	select {
	case ok := <-done:
		if !ok {
			return fmt.Errorf("natsembed: server not ready after %s", timeout)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("natsembed: waiting for server: %w", ctx.Err())
	}
}

// InProcessConn returns a new in-process connection to the server. It makes
// Server a nats.InProcessConnProvider.
func (s *Server) InProcessConn() (net.Conn, error) {
	return s.ns.InProcessConn()
}

// Shutdown stops the server, waits until it has stopped and releases the
// store directory. It is safe to call more than once.
func (s *Server) Shutdown() {
	s.shutdownOnce.Do(func() {
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
		s.lock.release()
	})
}
