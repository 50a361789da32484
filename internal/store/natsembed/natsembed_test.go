package natsembed

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

func TestStartConnectShutdown(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv, err := Start(ctx, Config{StoreDir: dir, MaxPayload: 2 << 20})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	nc, err := nats.Connect("", nats.InProcessServer(srv))
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	if got, want := nc.MaxPayload(), int64(2<<20); got != want {
		t.Errorf("MaxPayload = %d, want %d", got, want)
	}
	js, err := nc.JetStream()
	if err != nil {
		t.Fatalf("JetStream: %v", err)
	}
	if _, err := js.AccountInfo(); err != nil {
		t.Fatalf("AccountInfo: %v", err)
	}
	if !srv.ns.JetStreamConfig().SyncAlways {
		t.Error("JetStream SyncAlways is off")
	}
	if addr := srv.ns.Addr(); addr != nil {
		t.Errorf("server listens on %v, want no listener", addr)
	}
	nc.Close()
	srv.Shutdown()
	srv.Shutdown() // idempotent

	// The directory is free again.
	srv2, err := Start(ctx, Config{StoreDir: dir})
	if err != nil {
		t.Fatalf("Start after Shutdown: %v", err)
	}
	srv2.Shutdown()
}

func TestStartErrors(t *testing.T) {
	ctx := context.Background()
	busy := t.TempDir()
	srv, err := Start(ctx, Config{StoreDir: busy})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(srv.Shutdown)

	canceled, cancel := context.WithCancel(ctx)
	cancel()

	tests := []struct {
		name    string
		ctx     context.Context
		cfg     Config
		wantErr string
	}{
		{name: "no store dir", ctx: ctx, cfg: Config{}, wantErr: "StoreDir is required"},
		{name: "negative payload", ctx: ctx, cfg: Config{StoreDir: t.TempDir(), MaxPayload: -1}, wantErr: "negative"},
		{name: "dir in use", ctx: ctx, cfg: Config{StoreDir: busy}, wantErr: "in use by another embedded server"},
		{name: "canceled", ctx: canceled, cfg: Config{StoreDir: t.TempDir()}, wantErr: "context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, err := Start(tt.ctx, tt.cfg)
			if err == nil {
				srv.Shutdown()
				t.Fatal("Start succeeded, want error")
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Start error = %q, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}
