package accesslog

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Sink tuning. The values are fixed; tests in this package shrink them.
const (
	flushInterval  = 100 * time.Millisecond
	flushThreshold = 256 << 10 // bytes buffered in one Writer that trigger an early flush
	maxBuffered    = 64 << 20  // bytes buffered across all Writers before lines are dropped
	maxSpare       = 4 << 20   // a flushed buffer larger than this is not kept for reuse
)

// MsgInvalidARN is AWS's message for a malformed ARN in a stage update.
const MsgInvalidARN = "Invalid ARN specified in the request"

// ARNError reports a destination ARN Writer cannot use. Error returns AWS's message;
// Reason says what is wrong, for logs.
type ARNError struct {
	ARN    string
	Reason string
}

func (e *ARNError) Error() string { return MsgInvalidARN }

// ErrClosed is returned by Writer after Close.
var ErrClosed = errors.New("accesslog: sinks are closed")

// Sinks owns one file-backed Writer per CloudWatch Logs log group. It is safe for
// concurrent use.
type Sinks struct {
	dir    string // {dir}/logs holds the files
	logger *slog.Logger

	interval  time.Duration // flushInterval, shortened in tests
	threshold int           // flushThreshold
	max       int64         // maxBuffered
	onFlush   func()        // test hook, called after each flush attempt

	buffered atomic.Int64  // bytes in all Writers' buffers
	dropped  atomic.Uint64 // lines dropped (memory limit, write errors, writes after Close)

	mu      sync.Mutex // guards the following fields
	writers map[string]*Writer
	closed  bool

	closeOnce sync.Once
	closeErr  error
	wg        sync.WaitGroup
}

// NewSinks returns Sinks writing under dir/logs. Nothing touches the disk until the first
// flush. logger receives background write errors; nil discards them.
func NewSinks(dir string, logger *slog.Logger) *Sinks {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Sinks{
		dir:       dir,
		logger:    logger.With("component", "accesslog"),
		interval:  flushInterval,
		threshold: flushThreshold,
		max:       maxBuffered,
		writers:   make(map[string]*Writer),
	}
}

// Dropped reports how many lines were dropped: over the memory limit, lost to a disk
// error, or written after Close.
func (s *Sinks) Dropped() uint64 { return s.dropped.Load() }

// Writer returns the Writer for a CloudWatch Logs log-group ARN,
// arn:{partition}:logs:{region}:{account}:log-group:{name}[:*]. The log group's file is
// {dir}/logs/{name}.log, with the name's '/' separating directories. Every ARN naming the
// same group (with or without ":*") shares one Writer. An unusable ARN gives *ARNError.
func (s *Sinks) Writer(logGroupARN string) (*Writer, error) {
	name, err := parseLogGroupARN(logGroupARN)
	if err != nil {
		return nil, err
	}
	rel, err := logGroupFile(name)
	if err != nil {
		return nil, &ARNError{ARN: logGroupARN, Reason: err.Error()}
	}
	root := filepath.Join(s.dir, "logs")
	path := filepath.Join(root, rel)
	if r, err := filepath.Rel(root, path); err != nil || r == ".." || strings.HasPrefix(r, ".."+string(filepath.Separator)) {
		return nil, &ARNError{ARN: logGroupARN, Reason: "log group name escapes the log directory"}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if w := s.writers[path]; w != nil {
		return w, nil
	}
	w := &Writer{
		s:    s,
		path: path,
		kick: make(chan struct{}, 1),
		stop: make(chan struct{}),
	}
	s.writers[path] = w
	s.wg.Add(1)
	go w.run()
	return w, nil
}

// Close flushes every Writer, closes the files and stops the goroutines. It returns the
// errors of that final flush. It is idempotent; later calls return the same result.
func (s *Sinks) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		writers := make([]*Writer, 0, len(s.writers))
		for _, w := range s.writers {
			writers = append(writers, w)
		}
		s.mu.Unlock()

		for _, w := range writers {
			w.mu.Lock()
			w.closed = true
			w.mu.Unlock()
			close(w.stop)
		}
		s.wg.Wait()
		var errs []error
		for _, w := range writers {
			if w.closeErr != nil {
				errs = append(errs, w.closeErr)
			}
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// parseLogGroupARN returns the log group name of a CloudWatch Logs log-group ARN.
func parseLogGroupARN(arn string) (string, error) {
	bad := func(reason string) error { return &ARNError{ARN: arn, Reason: reason} }
	if !strings.HasPrefix(arn, "arn:") {
		return "", bad("an ARN starts with arn:")
	}
	// arn:partition:service:region:account:resource
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 {
		return "", bad("an ARN has six colon-separated fields")
	}
	partition, service, region, account, resource := parts[1], parts[2], parts[3], parts[4], parts[5]
	if partition == "" || !strings.HasPrefix(partition, "aws") {
		return "", bad("unknown partition " + partition)
	}
	switch service {
	case "logs":
	case "firehose":
		return "", bad("Firehose destinations are not supported; use a CloudWatch Logs log group")
	default:
		return "", bad("not a CloudWatch Logs ARN")
	}
	if region == "" {
		return "", bad("region is empty")
	}
	if len(account) != 12 || strings.Trim(account, "0123456789") != "" {
		return "", bad("account must be 12 digits")
	}
	name, ok := strings.CutPrefix(resource, "log-group:")
	if !ok {
		return "", bad("resource must be log-group:{name}")
	}
	name = strings.TrimSuffix(name, ":*")
	if name == "" || len(name) > 512 {
		return "", bad("log group name must be 1 to 512 characters")
	}
	for i := 0; i < len(name); i++ {
		if !logGroupByte(name[i]) {
			return "", bad(fmt.Sprintf("log group name has invalid character %q", name[i]))
		}
	}
	return name, nil
}

// logGroupByte reports whether CloudWatch Logs allows c in a log group name
// ([\.\-_/#A-Za-z0-9]).
func logGroupByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '-' || c == '_' || c == '/' || c == '#'
}

// logGroupFile maps a valid log group name to a relative file path. '/' separates
// directories; empty segments are dropped (so "/aws/x" and "aws/x" share a file); a
// segment made only of dots is percent-encoded ("..", which CloudWatch allows, becomes
// "%2E%2E") so no name can leave the directory.
func logGroupFile(name string) (string, error) {
	segs := strings.Split(name, "/")
	out := segs[:0]
	for _, seg := range segs {
		if seg == "" {
			continue
		}
		if strings.Trim(seg, ".") == "" {
			seg = strings.Repeat("%2E", len(seg))
		}
		out = append(out, seg)
	}
	if len(out) == 0 {
		return "", errors.New("log group name has no path segment")
	}
	return filepath.Join(out...) + ".log", nil
}

// Writer buffers lines for one log group. Write never blocks on disk.
type Writer struct {
	s    *Sinks
	path string
	kick chan struct{} // capacity 1: asks run to flush now
	stop chan struct{} // closed by Sinks.Close

	mu     sync.Mutex // guards buf and closed
	buf    []byte
	closed bool

	// Owned by the run goroutine.
	spare    []byte
	file     *os.File
	failing  bool  // the last write failed; logged once per failure streak
	closeErr error // result of the final flush, read by Close after wg.Wait
}

// Write appends line and a newline to the buffer and returns at once. The line is dropped
// (and counted) when the Sinks' memory limit is reached or after Close. Write does not
// retain line.
func (w *Writer) Write(line []byte) {
	n := int64(len(line) + 1)
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		w.s.dropped.Add(1)
		return
	}
	if w.s.buffered.Add(n) > w.s.max {
		w.s.buffered.Add(-n)
		w.mu.Unlock()
		w.s.dropped.Add(1)
		return
	}
	w.buf = append(w.buf, line...)
	w.buf = append(w.buf, '\n')
	full := len(w.buf) >= w.s.threshold
	w.mu.Unlock()
	if full {
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
}

// Path returns the file the Writer appends to.
func (w *Writer) Path() string { return w.path }

func (w *Writer) run() {
	defer w.s.wg.Done()
	t := time.NewTicker(w.s.interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-w.kick:
		case <-w.stop:
			err := w.flush()
			if w.file != nil {
				if cerr := w.file.Close(); cerr != nil && err == nil {
					err = cerr
				}
			}
			if err != nil {
				w.closeErr = fmt.Errorf("accesslog: %s: %w", w.path, err)
			}
			return
		}
		if err := w.flush(); err != nil {
			if !w.failing {
				w.s.logger.Error("access log write failed; dropping lines", "file", w.path, "err", err)
			}
			w.failing = true
		} else if w.failing {
			w.s.logger.Info("access log writes recovered", "file", w.path)
			w.failing = false
		}
	}
}

// flush writes the buffered lines to the file. Lines that cannot be written are dropped
// and counted.
func (w *Writer) flush() error {
	w.mu.Lock()
	empty := len(w.buf) == 0
	w.mu.Unlock()
	if empty {
		return nil
	}
	if cap(w.spare) < 2*w.s.threshold {
		// Give Write room past the early-flush point, so that appends rarely have to
		// grow (and copy) the buffer under the lock. Idle Writers keep no such buffer.
		w.spare = make([]byte, 0, 2*w.s.threshold)
	}
	w.mu.Lock()
	b := w.buf
	w.buf = w.spare[:0]
	w.mu.Unlock()
	defer func() {
		if w.s.onFlush != nil {
			w.s.onFlush()
		}
	}()
	err := w.write(b)
	if err != nil {
		w.s.dropped.Add(uint64(bytes.Count(b, []byte{'\n'})))
	}
	w.s.buffered.Add(-int64(len(b)))
	if cap(b) > maxSpare {
		b = nil
	}
	w.spare = b[:0]
	return err
}

func (w *Writer) write(b []byte) error {
	if w.file == nil {
		if err := os.MkdirAll(filepath.Dir(w.path), 0o755); err != nil {
			return err
		}
		f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return err
		}
		w.file = f
	}
	_, err := w.file.Write(b)
	return err
}
