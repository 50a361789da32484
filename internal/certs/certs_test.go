package certs

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var gatewayNames = []string{
	"*.execute-api.us-east-1.amazonaws.com",
	"*.execute-api.us-east-1.vpce.amazonaws.com",
}

func newCA(t *testing.T) (*CA, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "ca")
	ca, err := LoadOrCreateCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	return ca, dir
}

func TestCreateCA(t *testing.T) {
	ca, dir := newCA(t)
	for _, f := range []struct {
		name string
		mode os.FileMode
	}{{CertFile, 0o644}, {KeyFile, 0o600}} {
		st, err := os.Stat(filepath.Join(dir, f.name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != f.mode {
			t.Errorf("%s mode %v, want %v", f.name, st.Mode().Perm(), f.mode)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("dir holds %d entries, want 2 (temporary files left?)", len(entries))
	}
	onDisk, err := os.ReadFile(filepath.Join(dir, CertFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(onDisk, ca.CertPEM()) {
		t.Fatal("CertPEM differs from ca.pem")
	}
	c := ca.Certificate()
	if !c.IsCA || !c.MaxPathLenZero || c.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Fatalf("not a CA: IsCA=%v MaxPathLenZero=%v usage=%v", c.IsCA, c.MaxPathLenZero, c.KeyUsage)
	}
	pub, ok := c.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		t.Fatalf("CA key is %T, want ECDSA P-256", c.PublicKey)
	}
	if life := c.NotAfter.Sub(c.NotBefore); life < CAValidity || life > CAValidity+2*time.Hour {
		t.Fatalf("CA validity %v, want about 10 years", life)
	}
}

func TestReloadGivesSameCA(t *testing.T) {
	ca1, dir := newCA(t)
	ca2, err := LoadOrCreateCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ca1.CertPEM(), ca2.CertPEM()) {
		t.Fatal("reload changed the CA certificate")
	}
	if !ca1.key.Public().(*ecdsa.PublicKey).Equal(ca2.key.Public()) {
		t.Fatal("reload changed the CA key")
	}
	// A leaf from the reloaded CA verifies against the original pool.
	leaf, err := ca2.Issue([]string{"x.example.com"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Leaf.Verify(x509.VerifyOptions{DNSName: "x.example.com", Roots: ca1.Pool()}); err != nil {
		t.Fatal(err)
	}
}

func TestLoadErrors(t *testing.T) {
	// A second CA's files, for mismatch cases.
	other, otherDir := newCA(t)
	_ = other
	otherKey, err := os.ReadFile(filepath.Join(otherDir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	leafCert, leafKey := nonCA(t)

	tests := []struct {
		name    string
		mutate  func(t *testing.T, dir string)
		wantErr string
	}{
		{name: "corrupt certificate", mutate: write(CertFile, []byte("not a pem")), wantErr: "no PEM CERTIFICATE block"},
		{name: "truncated certificate", mutate: truncate(CertFile), wantErr: CertFile},
		{name: "corrupt key", mutate: write(KeyFile, []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")), wantErr: KeyFile},
		{name: "key of another CA", mutate: write(KeyFile, otherKey), wantErr: "does not hold the private key"},
		{name: "missing key", mutate: remove(KeyFile), wantErr: "restore the key"},
		{name: "missing certificate", mutate: remove(CertFile), wantErr: "restore the certificate"},
		{name: "not a CA", mutate: func(t *testing.T, dir string) {
			write(CertFile, leafCert)(t, dir)
			write(KeyFile, leafKey)(t, dir)
		}, wantErr: "not a CA"},
		{name: "trailing data", mutate: func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, CertFile))
			write(CertFile, append(b, b...))(t, dir)
		}, wantErr: "unexpected data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, dir := newCA(t)
			tt.mutate(t, dir)
			before := snapshot(t, dir)
			_, err := LoadOrCreateCA(dir)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
			}
			if after := snapshot(t, dir); after != before {
				t.Fatal("LoadOrCreateCA changed the directory after an error")
			}
		})
	}
}

func write(name string, data []byte) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func truncate(name string) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode(b)
		block.Bytes = block.Bytes[:len(block.Bytes)/2]
		write(name, pem.EncodeToMemory(block))(t, dir)
	}
}

func remove(name string) func(*testing.T, string) {
	return func(t *testing.T, dir string) {
		t.Helper()
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
}

// snapshot summarises a directory's file names and contents.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range entries {
		data, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		b.WriteString(e.Name() + "\x00" + string(data) + "\x00")
	}
	return b.String()
}

// nonCA returns a self-signed leaf certificate and its key, in PEM.
func nonCA(t testing.TB) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: "leaf"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

func TestCreateNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := createFile(path, []byte("new"), 0o600)
	if !errors.Is(err, os.ErrExist) {
		t.Fatalf("err = %v, want ErrExist", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "keep" {
		t.Fatalf("file overwritten: %q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("temporary file left behind: %d entries", len(entries))
	}
}

func TestIssue(t *testing.T) {
	ca, _ := newCA(t)
	tests := []struct {
		name    string
		names   []string
		ips     []netip.Addr
		wantDNS []string
		wantIPs []string
		wantErr bool
	}{
		{name: "wildcards", names: gatewayNames, wantDNS: gatewayNames},
		{name: "names and ips", names: []string{"Gatehouse.Local."}, ips: []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}, wantDNS: []string{"gatehouse.local"}, wantIPs: []string{"127.0.0.1", "::1"}},
		{name: "ip given as name", names: []string{"10.0.0.5"}, wantIPs: []string{"10.0.0.5"}},
		{name: "mapped ipv4", ips: []netip.Addr{netip.MustParseAddr("::ffff:10.1.2.3")}, wantIPs: []string{"10.1.2.3"}},
		{name: "nothing", wantErr: true},
		{name: "empty name", names: []string{""}, wantErr: true},
		{name: "space", names: []string{"a b.com"}, wantErr: true},
		{name: "wildcard not leftmost", names: []string{"a.*.com"}, wantErr: true},
		{name: "partial wildcard", names: []string{"a*.example.com"}, wantErr: true},
		{name: "bare wildcard tld", names: []string{"*.com"}, wantErr: true},
		{name: "leading hyphen", names: []string{"-a.example.com"}, wantErr: true},
		{name: "invalid ip", ips: []netip.Addr{{}}, wantErr: true},
		{name: "zoned ip", ips: []netip.Addr{netip.MustParseAddr("fe80::1%eth0")}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ca.Issue(tt.names, tt.ips)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Issue succeeded: %v %v", c.Leaf.DNSNames, c.Leaf.IPAddresses)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			leaf := c.Leaf
			if strings.Join(leaf.DNSNames, ",") != strings.Join(tt.wantDNS, ",") {
				t.Errorf("DNSNames = %v, want %v", leaf.DNSNames, tt.wantDNS)
			}
			var ips []string
			for _, ip := range leaf.IPAddresses {
				ips = append(ips, ip.String())
			}
			if strings.Join(ips, ",") != strings.Join(tt.wantIPs, ",") {
				t.Errorf("IPAddresses = %v, want %v", ips, tt.wantIPs)
			}
			if life := leaf.NotAfter.Sub(leaf.NotBefore); life < LeafValidity || life > LeafValidity+2*time.Hour {
				t.Errorf("leaf validity %v, want about one year", life)
			}
			if len(c.Certificate) != 2 || !bytes.Equal(c.Certificate[1], ca.Certificate().Raw) {
				t.Error("chain is not leaf + CA")
			}
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: ca.Pool(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
				t.Errorf("leaf does not verify: %v", err)
			}
		})
	}
}

func TestLeafNeverOutlivesCA(t *testing.T) {
	ca, _ := newCA(t)
	c, err := ca.issue([]string{"late.example.com"}, nil, ca.Certificate().NotAfter.Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Leaf.NotAfter.Equal(ca.Certificate().NotAfter) {
		t.Fatalf("leaf NotAfter %v, CA NotAfter %v", c.Leaf.NotAfter, ca.Certificate().NotAfter)
	}
}

// TestTLSHandshake runs real handshakes over loopback with a client that trusts only
// ca.pem as read from disk.
func TestTLSHandshake(t *testing.T) {
	ca, dir := newCA(t)
	cfg, err := ca.ServerTLSConfig(gatewayNames, []netip.Addr{netip.MustParseAddr("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS12 {
		t.Fatalf("MinVersion = %x", cfg.MinVersion)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				if conn.(*tls.Conn).Handshake() == nil {
					io.Copy(io.Discard, conn) // hold the connection until the client closes
				}
			}()
		}
	}()

	pemBytes, err := os.ReadFile(filepath.Join(dir, CertFile))
	if err != nil {
		t.Fatal(err)
	}
	trusted := x509.NewCertPool()
	if !trusted.AppendCertsFromPEM(pemBytes) {
		t.Fatal("ca.pem holds no certificate")
	}
	stranger, _ := newCA(t)

	tests := []struct {
		name       string
		serverName string
		roots      *x509.CertPool
		maxVersion uint16
		protos     []string
		wantProto  string
		wantErr    bool
	}{
		{name: "execute-api host", serverName: "abc.execute-api.us-east-1.amazonaws.com", roots: trusted, protos: []string{"h2", "http/1.1"}, wantProto: "h2"},
		{name: "vpce host", serverName: "vpce-0123-abcd.execute-api.us-east-1.vpce.amazonaws.com", roots: trusted, protos: []string{"http/1.1"}, wantProto: "http/1.1"},
		{name: "alias host", serverName: "abc-vpce-0123.execute-api.us-east-1.amazonaws.com", roots: trusted},
		{name: "ip address", serverName: "127.0.0.1", roots: trusted},
		{name: "TLS 1.2 client", serverName: "abc.execute-api.us-east-1.amazonaws.com", roots: trusted, maxVersion: tls.VersionTLS12},
		{name: "other region", serverName: "abc.execute-api.us-west-2.amazonaws.com", roots: trusted, wantErr: true},
		{name: "two labels under wildcard", serverName: "a.b.execute-api.us-east-1.amazonaws.com", roots: trusted, wantErr: true},
		{name: "untrusted CA", serverName: "abc.execute-api.us-east-1.amazonaws.com", roots: stranger.Pool(), wantErr: true},
		{name: "TLS 1.1 client", serverName: "abc.execute-api.us-east-1.amazonaws.com", roots: trusted, maxVersion: tls.VersionTLS11, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", ln.Addr().String(), &tls.Config{
				ServerName: tt.serverName,
				RootCAs:    tt.roots,
				MaxVersion: tt.maxVersion,
				NextProtos: tt.protos,
			})
			if tt.wantErr {
				if err == nil {
					conn.Close()
					t.Fatal("handshake succeeded")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			st := conn.ConnectionState()
			if st.Version < tls.VersionTLS12 {
				t.Errorf("version %x", st.Version)
			}
			if st.NegotiatedProtocol != tt.wantProto {
				t.Errorf("ALPN = %q, want %q", st.NegotiatedProtocol, tt.wantProto)
			}
		})
	}
}

func TestServerTLSConfigRenews(t *testing.T) {
	ca, _ := newCA(t)
	cfg, err := ca.ServerTLSConfig([]string{"r.example.com"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	first, err := cfg.GetCertificate(&tls.ClientHelloInfo{})
	if err != nil {
		t.Fatal(err)
	}
	again, _ := cfg.GetCertificate(&tls.ClientHelloInfo{})
	if again != first {
		t.Fatal("fresh certificate was replaced")
	}
	// Age the certificate to within the renewal window.
	old, err := ca.issue([]string{"r.example.com"}, nil, time.Now().Add(-LeafValidity+renewBefore/2))
	if err != nil {
		t.Fatal(err)
	}
	r := &renewer{ca: ca, names: []string{"r.example.com"}, cert: old}
	got, err := r.get(nil)
	if err != nil {
		t.Fatal(err)
	}
	if got == old || !got.Leaf.NotAfter.After(old.Leaf.NotAfter) {
		t.Fatal("certificate near expiry was not renewed")
	}
}

func TestServerTLSConfigRejectsBadNames(t *testing.T) {
	ca, _ := newCA(t)
	if _, err := ca.ServerTLSConfig([]string{"bad name"}, nil); err == nil {
		t.Fatal("accepted an invalid name")
	}
}

func TestPoolIsIndependent(t *testing.T) {
	ca, _ := newCA(t)
	p := ca.Pool()
	other, _ := newCA(t)
	p.AddCert(other.Certificate())
	leaf, err := other.Issue([]string{"x.example.com"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Leaf.Verify(x509.VerifyOptions{Roots: ca.Pool()}); err == nil {
		t.Fatal("mutating one pool changed the CA's trust")
	}
}

func TestLoadForeignRSACA(t *testing.T) {
	// An operator-provided CA in PKCS#1 is reused as is.
	dir := t.TempDir()
	key, certPEM := rsaCA(t)
	write(CertFile, certPEM)(t, dir)
	write(KeyFile, key)(t, dir)
	ca, err := LoadOrCreateCA(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ca.CertPEM(), certPEM) {
		t.Fatal("foreign CA not reused")
	}
	leaf, err := ca.Issue([]string{"svc.internal"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Leaf.Verify(x509.VerifyOptions{DNSName: "svc.internal", Roots: ca.Pool()}); err != nil {
		t.Fatal(err)
	}
}

// rsaCA returns a PKCS#1 RSA key and a self-signed CA certificate for it, in PEM.
func rsaCA(t *testing.T) (keyPEM, certPEM []byte) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(99),
		Subject:               pkix.Name{CommonName: "operator CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(48 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
