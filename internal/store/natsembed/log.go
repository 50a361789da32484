package natsembed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
)

// slogAdapter implements the nats-server Logger interface on a
// *slog.Logger. Fatalf does not exit the process: the message is logged at
// Error level and remembered so Start can report it as an error.
type slogAdapter struct {
	l *slog.Logger

	mu    sync.Mutex // guards fatal
	fatal error
}

func (a *slogAdapter) logf(level slog.Level, format string, v []any) {
	ctx := context.Background()
	if !a.l.Enabled(ctx, level) {
		return
	}
	a.l.Log(ctx, level, fmt.Sprintf(format, v...))
}

func (a *slogAdapter) Noticef(format string, v ...any) { a.logf(slog.LevelDebug, format, v) } // the banner is noise for gatehouse users
func (a *slogAdapter) Warnf(format string, v ...any) {
	level := slog.LevelWarn
	if strings.HasPrefix(format, "Maximum payloads over") {
		level = slog.LevelDebug // gatehouse chose 8 MB values on purpose (large REST API documents)
	}
	a.logf(level, format, v)
}
func (a *slogAdapter) Errorf(format string, v ...any) { a.logf(slog.LevelError, format, v) }
func (a *slogAdapter) Debugf(format string, v ...any) { a.logf(slog.LevelDebug, format, v) }
func (a *slogAdapter) Tracef(format string, v ...any) { a.logf(slog.LevelDebug-4, format, v) }

func (a *slogAdapter) Fatalf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	a.l.Error(msg, "fatal", true)
	a.mu.Lock()
	if a.fatal == nil {
		a.fatal = errors.New(msg)
	}
	a.mu.Unlock()
}

func (a *slogAdapter) fatalErr() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.fatal
}
