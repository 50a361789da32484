// Package gwtest starts a whole gatehouse (embedded store, control plane, data plane,
// every listener on :0 ports) for end-to-end tests, and gives them real clients: an
// aws-sdk-go-v2 API Gateway client per account and HTTP clients that connect from a
// chosen source address (a host "inside" a VPC).
package gwtest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"

	"gatehouse/internal/app"
	"gatehouse/internal/config"
)

// TwoVPCs is a topology with two accounts, each with a VPC and one private-DNS endpoint,
// every listener on a free port. Clients in VPC A connect from 127.10.0.0/16, in VPC B
// from 127.20.0.0/16.
const TwoVPCs = `
region: us-east-1
dnsPort: 0
controlPlane: {listen: 127.0.0.1:0}
publicListener: {listen: 127.0.0.1:0, httpListen: 127.0.0.1:0}
accounts:
  - id: "111111111111"
    accessKeys: [{id: AKIAPROVIDER00000001, secret: provider-secret}]
  - id: "222222222222"
    accessKeys: [{id: AKIACONSUMER00000001, secret: consumer-secret}]
vpcs:
  - {id: vpc-0aaaaaaaaaaaaaaa1, account: "111111111111", cidr: 127.10.0.0/16}
  - {id: vpc-0bbbbbbbbbbbbbbb2, account: "222222222222", cidr: 127.20.0.0/16}
vpcEndpoints:
  - {id: vpce-0aaaaaaaaaaaaaaa1, vpc: vpc-0aaaaaaaaaaaaaaa1, addresses: [127.10.1.10], port: 0, privateDnsEnabled: true}
  - {id: vpce-0bbbbbbbbbbbbbbb2, vpc: vpc-0bbbbbbbbbbbbbbb2, addresses: [127.20.1.10], port: 0, privateDnsEnabled: true}
`

// Gateway is a running gatehouse.
type Gateway struct {
	App      *app.App
	Topology *config.Topology
	DataDir  string
	CAPool   *x509.CertPool
}

// Start parses topologyYAML and starts gatehouse in dataDir ("" = a new temp dir). It
// waits until the first snapshot is served and shuts down at test cleanup.
func Start(t testing.TB, topologyYAML, dataDir string) *Gateway {
	t.Helper()
	topo, err := config.Parse([]byte(topologyYAML))
	if err != nil {
		t.Fatalf("topology: %v", err)
	}
	return StartWith(t, topo, Options{DataDir: dataDir})
}

// Options are StartWith's settings beyond the topology; zero values are defaults.
type Options struct {
	// DataDir is the data directory; "" = a new temp dir.
	DataDir string
	// NATSURL, when set, uses that external NATS server instead of the embedded one.
	NATSURL string
	// ShutdownGrace bounds the drain at Shutdown; 0 = 5s.
	ShutdownGrace time.Duration
}

// StartWith starts gatehouse with an already parsed (or built) topology. It waits until
// the first snapshot is served and shuts down at test cleanup.
func StartWith(t testing.TB, topo *config.Topology, opts Options) *Gateway {
	t.Helper()
	dataDir := opts.DataDir
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	grace := opts.ShutdownGrace
	if grace == 0 {
		grace = 5 * time.Second
	}
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("GW_TEST_LOG") == "debug" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ctx := context.Background()
	a, err := app.New(ctx, app.Options{Topology: topo, DataDir: dataDir, NATSURL: opts.NATSURL, Logger: log, ShutdownGrace: grace})
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	if err := a.Start(ctx); err != nil {
		t.Fatalf("app.Start: %v", err)
	}
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := a.Shutdown(sctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	select {
	case <-a.Ready():
	case <-time.After(30 * time.Second):
		t.Fatal("gatehouse did not become ready")
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(a.CAPEM())
	return &Gateway{App: a, Topology: topo, DataDir: dataDir, CAPool: pool}
}

// Ephemeral returns a copy of topo with every port set to 0 (picked free at start), so a
// checked-in topology file can run next to other tests. The public plain-HTTP listener
// stays configured; endpoints' plain-HTTP ports are dropped (for them 0 means none).
func Ephemeral(topo *config.Topology) *config.Topology {
	c := *topo
	c.ControlPlane.Listen = withPort0(c.ControlPlane.Listen)
	c.PublicListener.Listen = withPort0(c.PublicListener.Listen)
	if c.PublicListener.HTTPListen != "" {
		c.PublicListener.HTTPListen = withPort0(c.PublicListener.HTTPListen)
	}
	c.DNS.Port = 0
	if c.DNS.PublicResolver.Listen != "" {
		c.DNS.PublicResolver.Listen = withPort0(c.DNS.PublicResolver.Listen)
	}
	c.VPCEndpoints = append([]config.VPCEndpoint(nil), topo.VPCEndpoints...)
	for i := range c.VPCEndpoints {
		e := &c.VPCEndpoints[i]
		if e.Port > 0 {
			e.Port = 0
		}
		e.HTTPPort = 0
	}
	return &c
}

func withPort0(hostport string) string {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport
	}
	return net.JoinHostPort(host, "0")
}

// ControlPlaneURL is the control plane's base URL.
func (g *Gateway) ControlPlaneURL() string { return "http://" + g.App.Addrs().ControlPlane }

// APIGateway returns an aws-sdk-go-v2 API Gateway client signed with the given key.
func (g *Gateway) APIGateway(accessKey, secret string) *apigateway.Client {
	return apigateway.New(apigateway.Options{
		Region:           g.Topology.Region,
		BaseEndpoint:     aws.String(g.ControlPlaneURL()),
		Credentials:      credentials.NewStaticCredentialsProvider(accessKey, secret, ""),
		RetryMaxAttempts: 1,
	})
}

// Client returns an HTTP client that connects from source (e.g. "127.10.0.5", a host in
// VPC A; "" = the default) to addr whatever the URL's host says (like curl --connect-to),
// trusting gatehouse's CA. The URL's host still sets Host and SNI.
func (g *Gateway) Client(source, addr string) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	if source != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(source)}
	}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
		TLSClientConfig:   &tls.Config{RootCAs: g.CAPool},
		DisableKeepAlives: true,
	}
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

// CAFile is the path of gatehouse's CA certificate (for curl --cacert and friends).
func (g *Gateway) CAFile() string { return g.App.CAFile() }

// EndpointTLS returns the TLS address of the first address of endpoint vpce.
func (g *Gateway) EndpointTLS(vpce string) string { return g.App.Addrs().Endpoints[vpce][0].TLS }

// EndpointHost is the endpoint's public DNS name.
func (g *Gateway) EndpointHost(vpce string) string {
	e, _ := g.Topology.Endpoint(vpce)
	return g.Topology.EndpointPublicDNSName(e)
}

// ExecuteAPIHost is "{api}.execute-api.{region}.amazonaws.com".
func (g *Gateway) ExecuteAPIHost(api string) string {
	return api + ".execute-api." + g.Topology.Region + ".amazonaws.com"
}

// Stop shuts the gateway down now (tests that restart on the same data dir).
func (g *Gateway) Stop(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := g.App.Shutdown(ctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}
