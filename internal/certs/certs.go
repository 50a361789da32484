package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// File names inside the CA directory.
const (
	CertFile = "ca.pem"
	KeyFile  = "ca-key.pem"
)

// Validity periods.
const (
	CAValidity   = 10 * 365 * 24 * time.Hour
	LeafValidity = 365 * 24 * time.Hour
	// backdate allows for clock skew between gatehouse and its clients.
	backdate = time.Hour
	// renewBefore is how long before expiry ServerTLSConfig replaces its certificate.
	renewBefore = 30 * 24 * time.Hour
)

// CA is a loaded certificate authority. It is safe for concurrent use.
type CA struct {
	cert    *x509.Certificate
	certPEM []byte
	key     crypto.Signer
}

// LoadOrCreateCA loads the CA from dir/ca.pem and dir/ca-key.pem, or creates a new one
// (and dir) when neither file exists. It never overwrites an existing file.
func LoadOrCreateCA(dir string) (*CA, error) {
	certPath, keyPath := filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)
	certOK, err := exists(certPath)
	if err != nil {
		return nil, err
	}
	keyOK, err := exists(keyPath)
	if err != nil {
		return nil, err
	}
	switch {
	case certOK && keyOK:
		return loadCA(certPath, keyPath)
	case certOK:
		return nil, fmt.Errorf("certs: %s exists but %s does not; restore the key or remove both files to create a new CA", certPath, keyPath)
	case keyOK:
		return nil, fmt.Errorf("certs: %s exists but %s does not; restore the certificate or remove both files to create a new CA", keyPath, certPath)
	}
	ca, err := createCA(dir, certPath, keyPath)
	if errors.Is(err, fs.ErrExist) {
		// Another process created the CA between our checks and our writes.
		return loadCA(certPath, keyPath)
	}
	return ca, err
}

func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return false, fmt.Errorf("certs: %w", err)
}

func loadCA(certPath, keyPath string) (*CA, error) {
	certPEM, err := os.ReadFile(certPath)
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	block, rest := pem.Decode(certPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("certs: %s: no PEM CERTIFICATE block", certPath)
	}
	if len(strings.TrimSpace(string(rest))) != 0 {
		return nil, fmt.Errorf("certs: %s: unexpected data after the certificate (a chain is not supported)", certPath)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("certs: %s: %w", certPath, err)
	}
	if !cert.BasicConstraintsValid || !cert.IsCA {
		return nil, fmt.Errorf("certs: %s: certificate is not a CA (basic constraints CA:TRUE missing)", certPath)
	}
	if cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("certs: %s: certificate may not sign certificates (key usage lacks certSign)", certPath)
	}

	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("certs: %s: %w", keyPath, err)
	}
	if !publicKeysEqual(key.Public(), cert.PublicKey) {
		return nil, fmt.Errorf("certs: %s does not hold the private key of %s", keyPath, certPath)
	}
	return &CA{cert: cert, certPEM: certPEM, key: key}, nil
}

func parseKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	var (
		key any
		err error
	)
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("unsupported PEM block %q", block.Type)
	}
	if err != nil {
		return nil, err
	}
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		return k, nil
	case *rsa.PrivateKey:
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("unsupported private key type %T", key)
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := a.(equaler)
	return ok && e.Equal(b)
}

func createCA(dir, certPath, keyPath string) (*CA, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "gatehouse CA", Organization: []string{"gatehouse"}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(CAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})

	// Key first: a crash in between leaves a key without a certificate, which
	// LoadOrCreateCA reports instead of silently replacing.
	if err := createFile(keyPath, keyPEM, 0o600); err != nil {
		return nil, err
	}
	if err := createFile(certPath, certPEM, 0o644); err != nil {
		return nil, err
	}
	return &CA{cert: cert, certPEM: certPEM, key: key}, nil
}

// createFile writes data to path, which must not exist: through a temporary file in the
// same directory, then a hard link, so path appears complete or not at all. An existing
// path gives an error wrapping fs.ErrExist.
func createFile(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	name := tmp.Name()
	defer os.Remove(name)
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("certs: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("certs: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("certs: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	if err := os.Link(name, path); err != nil {
		return fmt.Errorf("certs: create %s: %w", path, err)
	}
	return nil
}

func randomSerial() (*big.Int, error) {
	s, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	return s.Add(s, big.NewInt(1)), nil // never zero
}

// CertPEM returns the CA certificate in PEM form, as stored in ca.pem.
func (c *CA) CertPEM() []byte { return append([]byte(nil), c.certPEM...) }

// Certificate returns the parsed CA certificate. Callers must not modify it.
func (c *CA) Certificate() *x509.Certificate { return c.cert }

// Pool returns a new pool holding only the CA certificate, for clients that trust it.
func (c *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.cert)
	return p
}

// Issue creates a leaf certificate and key for the given DNS names (a leftmost "*" label
// is allowed) and IP addresses. An IP address given as a name is treated as an IP. The
// chain in the result is leaf then CA.
func (c *CA) Issue(names []string, ips []netip.Addr) (*tls.Certificate, error) {
	return c.issue(names, ips, time.Now())
}

func (c *CA) issue(names []string, ips []netip.Addr, now time.Time) (*tls.Certificate, error) {
	var dnsNames []string
	var ipAddrs []net.IP
	for _, n := range names {
		if a, err := netip.ParseAddr(n); err == nil {
			ips = append(ips[:len(ips):len(ips)], a)
			continue
		}
		name, err := checkDNSName(n)
		if err != nil {
			return nil, err
		}
		dnsNames = append(dnsNames, name)
	}
	for _, a := range ips {
		if !a.IsValid() {
			return nil, errors.New("certs: invalid IP address")
		}
		if a.Zone() != "" {
			return nil, fmt.Errorf("certs: IP address %s has a zone; certificates cannot name one", a)
		}
		ipAddrs = append(ipAddrs, net.IP(a.Unmap().AsSlice()))
	}
	if len(dnsNames) == 0 && len(ipAddrs) == 0 {
		return nil, errors.New("certs: a certificate needs at least one DNS name or IP address")
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	cn := ""
	if len(dnsNames) > 0 {
		cn = dnsNames[0]
	} else {
		cn = ipAddrs[0].String()
	}
	notAfter := now.Add(LeafValidity)
	if notAfter.After(c.cert.NotAfter) {
		notAfter = c.cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"gatehouse"}},
		NotBefore:    now.Add(-backdate),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		DNSNames:     dnsNames,
		IPAddresses:  ipAddrs,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, key.Public(), c.key)
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	return &tls.Certificate{
		Certificate: [][]byte{der, c.cert.Raw},
		PrivateKey:  key,
		Leaf:        leaf,
	}, nil
}

// checkDNSName lower-cases a DNS name and checks its syntax. A wildcard is allowed only as
// the whole leftmost label of a name with at least two more labels.
func checkDNSName(name string) (string, error) {
	n := strings.ToLower(strings.TrimSuffix(name, "."))
	if n == "" || len(n) > 253 {
		return "", fmt.Errorf("certs: invalid DNS name %q", name)
	}
	labels := strings.Split(n, ".")
	for i, l := range labels {
		if l == "*" && i == 0 && len(labels) >= 3 {
			continue
		}
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "", fmt.Errorf("certs: invalid DNS name %q", name)
		}
		for j := 0; j < len(l); j++ {
			ch := l[j]
			if !(ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
				return "", fmt.Errorf("certs: invalid DNS name %q", name)
			}
		}
	}
	return n, nil
}

// ServerTLSConfig returns a server configuration presenting a certificate for names and
// ips: TLS 1.2 minimum, ALPN h2 and http/1.1. The certificate is issued now and replaced
// automatically when it comes within 30 days of expiry.
func (c *CA) ServerTLSConfig(names []string, ips []netip.Addr) (*tls.Config, error) {
	names, ips = append([]string(nil), names...), append([]netip.Addr(nil), ips...)
	first, err := c.Issue(names, ips)
	if err != nil {
		return nil, err
	}
	r := &renewer{ca: c, names: names, ips: ips, cert: first}
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		NextProtos:     []string{"h2", "http/1.1"},
		GetCertificate: r.get,
	}, nil
}

// renewer hands out the current certificate and replaces it before it expires.
type renewer struct {
	ca    *CA
	names []string
	ips   []netip.Addr

	mu   sync.Mutex // guards cert
	cert *tls.Certificate
}

func (r *renewer) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if now.Add(renewBefore).Before(r.cert.Leaf.NotAfter) || !r.cert.Leaf.NotAfter.Before(r.ca.cert.NotAfter) {
		// Still fresh, or already as long-lived as the CA allows.
		return r.cert, nil
	}
	next, err := r.ca.issue(r.names, r.ips, now)
	if err != nil {
		// Keep serving the old certificate while it is still valid.
		if now.Before(r.cert.Leaf.NotAfter) {
			return r.cert, nil
		}
		return nil, err
	}
	r.cert = next
	return next, nil
}

// IssueClientPEM issues a client certificate for cn (a DNS-name-shaped identifier) and
// returns it and its private key as PEM: what GenerateClientCertificate hands out for a
// stage to present to backends.
func (c *CA) IssueClientPEM(cn string) (certPEM, keyPEM []byte, err error) {
	cert, err := c.issue([]string{cn}, nil, time.Now())
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		return nil, nil, fmt.Errorf("certs: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return certPEM, keyPEM, nil
}
