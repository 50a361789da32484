// Package certs is gatehouse's own certificate authority: it creates or loads the CA kept
// in the data directory and issues the TLS server certificates gatehouse presents on its
// listeners (execute-api hostnames, vpce hostnames, custom domains).
//
// Files (see [LoadOrCreateCA]):
//
//	{dir}/ca.pem      the CA certificate, PEM, mode 0644; hand it to clients to trust
//	{dir}/ca-key.pem  the CA private key, PKCS#8 PEM, mode 0600
//
// A new CA is ECDSA P-256, self-signed, valid 10 years, path length 0. Existing files are
// reused as they are, so an operator may drop in a CA of their own (ECDSA, RSA or
// Ed25519 key; PKCS#8, SEC1 or PKCS#1 PEM). Existing files are never overwritten: a
// missing half, an unparsable file, a key that does not belong to the certificate or a
// certificate that is not a CA is an error that names the file. Files are created through
// a temporary file and a hard link, so a crash never leaves a half-written file under the
// final name and two processes racing to create a CA cannot overwrite each other.
//
// Issued leaves are ECDSA P-256, valid one year (never beyond the CA), with the given DNS
// names (a leftmost "*" label is allowed) and IP addresses as subject alternative names,
// and both server and client authentication usages (the link agent uses the same CA for
// mutual TLS).
package certs
