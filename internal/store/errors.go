package store

import "errors"

// The sentinels carry no "store:" prefix; every error the package returns
// wraps them with one, and with the operation, bucket and key.

var (
	// ErrNotFound means the key does not exist or has been deleted.
	ErrNotFound = errors.New("key not found")
	// ErrExists means Create found the key already present.
	ErrExists = errors.New("key already exists")
	// ErrConflict means the key changed since the revision the caller
	// read (Update, Delete), or Modify gave up retrying.
	ErrConflict = errors.New("revision conflict")
	// ErrInvalidKey means a key or list prefix uses characters or a shape
	// NATS KV does not allow.
	ErrInvalidKey = errors.New("invalid key")
	// ErrInvalidBucket means a bucket name is not [a-zA-Z0-9_-]+.
	ErrInvalidBucket = errors.New("invalid bucket name")
	// ErrTooLarge means a value exceeds MaxValueSize or the NATS server's
	// maximum payload.
	ErrTooLarge = errors.New("value too large")
	// ErrClosed means the Store has been closed.
	ErrClosed = errors.New("store closed")
)
