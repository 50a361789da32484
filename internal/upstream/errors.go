package upstream

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// Kinds of failure, for errors.Is on the *Error that Do and Response.Read return.
var (
	// ErrTimeout: the request's Deadline (or the context's deadline, or the dial timeout)
	// passed before the exchange finished. An error of this kind also matches
	// os.ErrDeadlineExceeded.
	ErrTimeout = errors.New("upstream: timeout")
	// ErrConnRefused: the backend refused the TCP connection. It also matches
	// syscall.ECONNREFUSED.
	ErrConnRefused = errors.New("upstream: connection refused")
	// ErrMalformedResponse: the backend's status line, header fields, framing or chunk
	// encoding is not valid HTTP/1.x.
	ErrMalformedResponse = errors.New("upstream: malformed response")
	// ErrHeaderTooLarge: the response head exceeds Options.MaxResponseHeaderBytes.
	ErrHeaderTooLarge = errors.New("upstream: response header too large")
	// ErrConnClosed: the backend closed the connection before a complete response (or
	// before the end of a response body whose length was known).
	ErrConnClosed = errors.New("upstream: connection closed by backend")
	// ErrInvalidRequest: the Request cannot be written (bad method, host, header field,
	// scheme or body length). Nothing was sent.
	ErrInvalidRequest = errors.New("upstream: invalid request")
	// ErrRequestBody: reading Request.Body failed, or it ended before ContentLength
	// bytes. The body's own error (for example *http.MaxBytesError) is wrapped too.
	ErrRequestBody = errors.New("upstream: reading request body")
	// ErrTLS: the TLS handshake with the backend failed (certificate, protocol).
	ErrTLS = errors.New("upstream: tls handshake")
)

// Error is the error type of this package: what was being done (Op), with which backend
// (Addr), the kind of failure (Kind, one of the Err* values or a context error) and the
// underlying error. errors.Is matches both Kind and anything Err wraps.
type Error struct {
	Op   string // "dial", "tls", "write", "read", "body"
	Addr string // backend host:port
	Kind error
	Err  error
}

func (e *Error) Error() string {
	s := "upstream: " + e.Op
	if e.Addr != "" {
		s += " " + e.Addr
	}
	if e.Err != nil {
		return s + ": " + e.Err.Error()
	}
	if e.Kind != nil {
		return s + ": " + e.Kind.Error()
	}
	return s
}

// Unwrap returns the kind and the underlying error.
func (e *Error) Unwrap() []error {
	switch {
	case e.Kind == nil:
		return []error{e.Err}
	case e.Err == nil:
		return []error{e.Kind}
	}
	return []error{e.Kind, e.Err}
}

// Is makes every timeout match os.ErrDeadlineExceeded, whatever its cause.
func (e *Error) Is(target error) bool {
	return target == os.ErrDeadlineExceeded && e.Kind == ErrTimeout
}

// Timeout reports whether the error is a timeout (net.Error).
func (e *Error) Timeout() bool { return e.Kind == ErrTimeout }

// Temporary is part of net.Error; it reports the same as Timeout.
func (e *Error) Temporary() bool { return e.Kind == ErrTimeout }

var _ net.Error = (*Error)(nil)

func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// classify turns an I/O error on the connection into an *Error. A cancelled context shows
// on the socket as an expired deadline, so the context is looked at first.
func classify(ctx context.Context, op, addr string, err error) error {
	if ue, ok := err.(*Error); ok {
		return ue
	}
	e := &Error{Op: op, Addr: addr, Err: err}
	switch {
	case ctx != nil && ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded):
		e.Kind = ctx.Err()
	case isTimeout(err) || (ctx != nil && ctx.Err() != nil):
		e.Kind = ErrTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Kind = ErrConnRefused
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		e.Kind = ErrConnClosed
	}
	return e
}

func malformed(addr, what string) error {
	return &Error{Op: "read", Addr: addr, Kind: ErrMalformedResponse, Err: errors.New(what)}
}
