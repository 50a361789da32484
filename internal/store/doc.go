// Package store is gatehouse's state: versioned key-value buckets on NATS
// JetStream, shared by the control plane (which writes) and every node's
// data plane (which watches and recompiles).
//
// # Modes
//
// With Options.URL empty, Open starts an embedded nats-server (package
// natsembed) that listens on no TCP port and keeps its JetStream files in
// {DataDir}/nats. JetStream runs with SyncAlways: a write is fsynced before
// it is acknowledged, so every write whose call returned successfully
// survives a SIGKILL of the process, and an OS crash or power loss as far
// as the disk honours fsync. Only one embedded server may use a data
// directory at a time (an flock on {DataDir}/nats/gatehouse.lock).
//
// With Options.URL set, Open connects to an external NATS deployment with
// JetStream enabled (typically a 3+ server cluster with Replicas 3); the
// gatehouse nodes are then stateless. The client reconnects forever.
//
// # Data model
//
// A bucket is a JetStream key-value bucket, created on first use with
// history 1 (only the latest value is kept), file storage and the
// configured replica count. If a bucket already exists with a different
// configuration it is used as it is. Bucket names match [a-zA-Z0-9_-]+.
//
// Keys match [-/_=.a-zA-Z0-9]+ and must not begin or end with '.' or
// contain "..": '.' separates subject tokens in NATS, so prefer '/' as the
// separator in key names. Invalid keys and bucket names fail with
// ErrInvalidKey and ErrInvalidBucket before anything is sent.
//
// Values are opaque bytes of at most MaxValueSize (8 MiB); larger values
// fail with ErrTooLarge. (The buckets' own MaxValueSize is 4 KiB higher,
// because JetStream counts the KV headers against it, and the embedded
// server's max_payload is 8 MiB + 64 KiB.) An external server's max_payload (1 MiB by
// default) may impose a lower limit, also reported as ErrTooLarge. A
// present key's value is never nil (an empty value is an empty slice).
//
// # Revisions and optimistic concurrency
//
// Every write returns the entry's new revision (the JetStream stream
// sequence, increasing per bucket). Update and Delete take the revision the
// caller last read and fail with ErrConflict if the key has been written
// since, so two writers never silently overwrite each other. Modify wraps
// this in a bounded read-modify-write retry loop (ModifyExisting for keys
// that must already exist). Deleted keys read as ErrNotFound.
//
// # Errors
//
// Errors wrap the sentinels ErrNotFound, ErrExists, ErrConflict,
// ErrInvalidKey, ErrInvalidBucket, ErrTooLarge and ErrClosed; test them with
// errors.Is. Other errors (timeouts, connection loss) come from NATS and are
// wrapped with the operation, bucket and key. Nothing is logged that is
// also returned.
//
// # Watching
//
// Watch streams a bucket's current entries (not its deleted keys), then an
// InitialDone marker,
// then every later write and delete in order, until its context ends, the
// store is closed, or the connection fails (the channel is then closed;
// call Watch again to resume from a fresh snapshot).
//
// # Messaging
//
// Conn exposes the store's NATS connection for cross-node traffic on plain
// subjects (WebSocket @connections, cache invalidation).
//
// # Concurrency
//
// A Store is safe for concurrent use. Close drains the connection, stops
// watches and shuts the embedded server down; it is idempotent, and every
// operation after it fails with ErrClosed.
package store
