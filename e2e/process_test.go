package e2e

// Tests of the real binary: `gatehouse serve` started, signalled and killed as a process.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"gatehouse/internal/gwtest"
)

// The binary tests use their own network, 127.40.0.0/16, so their fixed ports never meet
// the in-process tests' listeners.
const (
	procVPC    = "vpc-0eeeeeeeeeeeeeee5"
	procVpce   = "vpce-0eeeeeeeeeeeeeee5"
	procENI    = "127.40.1.10"
	procHost   = "127.40.0.5" // a host in procVPC
	procAcct   = "111111111111"
	procKey    = "AKIAPROVIDER00000001"
	procSecret = "provider-secret"
)

// procTopology is a one-VPC topology on the given control-plane, public and endpoint
// addresses.
func procTopology(controlPlane, public string, endpointPort int) string {
	return fmt.Sprintf(`region: us-east-1
dnsPort: 0
controlPlane: {listen: %q}
publicListener: {listen: %q}
accounts:
  - id: "%s"
    accessKeys: [{id: %s, secret: %s}]
vpcs:
  - {id: %s, account: "%s", cidr: 127.40.0.0/16}
vpcEndpoints:
  - {id: %s, vpc: %s, addresses: [%s], port: %d, privateDnsEnabled: true}
`, controlPlane, public, procAcct, procKey, procSecret, procVPC, procAcct, procVpce, procVPC, procENI, endpointPort)
}

// writeFile writes content to dir/name and returns the path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// sdkClient is an aws-sdk-go-v2 API Gateway client for a control plane at host:port.
func sdkClient(controlPlane, key, secret string) *apigateway.Client {
	return apigateway.New(apigateway.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String("http://" + controlPlane),
		Credentials:      credentials.NewStaticCredentialsProvider(key, secret, ""),
		RetryMaxAttempts: 1,
	})
}

// tlsClient is an HTTP client connecting from source to addr whatever the URL says,
// trusting the CA in caFile.
func tlsClient(t *testing.T, caFile, source, addr string) *http.Client {
	t.Helper()
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s", caFile)
	}
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(source)}}
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, addr)
			},
			TLSClientConfig:   &tls.Config{RootCAs: pool},
			DisableKeepAlives: true,
		},
	}
}

// deployProxyAPI creates and deploys (stage prod) a PRIVATE /{proxy+} → backend API
// that only procVpce may call.
func deployProxyAPI(t *testing.T, ctx context.Context, c *apigateway.Client, backend string) string {
	t.Helper()
	api := createProxyAPI(t, ctx, c, backend)
	if _, err := c.UpdateRestApi(ctx, &apigateway.UpdateRestApiInput{RestApiId: &api.id, PatchOperations: []types.PatchOperation{
		{Op: types.OpReplace, Path: aws.String("/policy"), Value: aws.String(policyOnlyFrom(procVpce))}}}); err != nil {
		t.Fatalf("UpdateRestApi: %v", err)
	}
	if _, err := c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: &api.id, StageName: aws.String("prod")}); err != nil {
		t.Fatalf("CreateDeployment: %v", err)
	}
	return api.id
}

func TestProcessRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the gatehouse binary")
	}
	t.Parallel()
	bin := buildGatehouse(t)
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	cpAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t, "127.0.0.1"))
	cfg := writeFile(t, dir, "topology.yaml", procTopology(cpAddr, fmt.Sprintf("127.0.0.1:%d", freePort(t, "127.0.0.1")), freePort(t, procENI)))
	args := []string{"serve", "--config", cfg, "--data-dir", dataDir, "--shutdown-grace", "5s", "--log-level", "warn"}
	ctx := context.Background()
	backend := echoBackend(t)

	// First life: create, deploy, call.
	p := startGatehouse(t, bin, true, args...)
	if p.banner.controlPlane != cpAddr {
		t.Fatalf("banner control plane %q, configured %q\n%s", p.banner.controlPlane, cpAddr, p)
	}
	epAddr := p.banner.endpoints[procVpce]
	cp := sdkClient(cpAddr, procKey, procSecret)
	apiID := deployProxyAPI(t, ctx, cp, backend.URL)
	host := apiID + ".execute-api.us-east-1.amazonaws.com"
	caFile := filepath.Join(dataDir, "ca.pem")
	status, _, before := get(t, tlsClient(t, caFile, procHost, epAddr), "https://"+host+"/prod/pets/7?q=1", nil, 200)
	if status != 200 {
		t.Fatalf("first life: %d %s", status, before)
	}
	caBefore, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("SIGTERM exits 0", func(t *testing.T) {
		start := time.Now()
		p.signal(t, syscall.SIGTERM)
		if code := p.wait(t, 6*time.Second); code != 0 { // the grace is 5s
			t.Fatalf("exit code %d after SIGTERM\n%s", code, p)
		}
		t.Logf("exited %s after SIGTERM", time.Since(start).Round(time.Millisecond))
		if !portFree(cpAddr) || !portFree(epAddr) {
			t.Errorf("a listener survived the process")
		}
	})

	t.Run("second life answers the same", func(t *testing.T) {
		p2 := startGatehouse(t, bin, true, args...)
		if got := p2.banner.endpoints[procVpce]; got != epAddr {
			t.Fatalf("endpoint moved from %s to %s", epAddr, got)
		}
		caAfter, err := os.ReadFile(caFile)
		if err != nil || string(caAfter) != string(caBefore) {
			t.Fatalf("the CA changed across the restart (err %v)", err)
		}
		got, err := cp.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: &apiID})
		if err != nil || aws.ToString(got.Id) != apiID {
			t.Fatalf("GetRestApi after restart: %+v, %v", got, err)
		}
		status, _, after := get(t, tlsClient(t, caFile, procHost, epAddr), "https://"+host+"/prod/pets/7?q=1", nil, 200)
		if status != 200 || after != before {
			t.Fatalf("after restart: %d %s\nbefore: %s", status, after, before)
		}
		p2.signal(t, syscall.SIGTERM)
		if code := p2.wait(t, 10*time.Second); code != 0 {
			t.Fatalf("exit code %d\n%s", code, p2)
		}
	})
}

// TestProcessKill9 kills gatehouse during a burst of control-plane writes and checks that
// every acknowledged write survived.
func TestProcessKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the gatehouse binary")
	}
	t.Parallel()
	bin := buildGatehouse(t)
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	cpAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t, "127.0.0.1"))
	cfg := writeFile(t, dir, "topology.yaml", procTopology(cpAddr, fmt.Sprintf("127.0.0.1:%d", freePort(t, "127.0.0.1")), freePort(t, procENI)))
	args := []string{"serve", "--config", cfg, "--data-dir", dataDir, "--log-level", "error"}
	ctx := context.Background()

	p := startGatehouse(t, bin, true, args...)
	cp := sdkClient(cpAddr, procKey, procSecret)
	api, err := cp.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("burst"),
		EndpointConfiguration: &types.EndpointConfiguration{Types: []types.EndpointType{types.EndpointTypePrivate}}})
	if err != nil {
		t.Fatal(err)
	}

	const writers, perWriter, killAfter = 4, 50, 100
	var (
		mu    sync.Mutex // guards acked
		acked = map[string]string{}
		n     atomic.Int32
		kill  = make(chan struct{})
		once  sync.Once
		wg    sync.WaitGroup
	)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				part := fmt.Sprintf("w%d-r%d", w, i)
				out, err := cp.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: api.RootResourceId, PathPart: aws.String(part)})
				if err != nil {
					return // the process is gone
				}
				mu.Lock()
				acked[aws.ToString(out.Id)] = "/" + part
				mu.Unlock()
				if n.Add(1) == killAfter {
					once.Do(func() { close(kill) })
				}
			}
		}()
	}
	select {
	case <-kill:
	case <-time.After(30 * time.Second):
		t.Fatalf("only %d writes acknowledged in 30s", n.Load())
	}
	p.signal(t, syscall.SIGKILL)
	if code := p.wait(t, 10*time.Second); code != -1 {
		t.Errorf("exit code %d after SIGKILL", code)
	}
	wg.Wait()
	t.Logf("%d of %d writes acknowledged before kill -9", len(acked), writers*perWriter)
	if len(acked) >= writers*perWriter {
		t.Errorf("the kill landed after the burst; nothing was in flight")
	}

	startGatehouse(t, bin, true, args...)
	stored := map[string]string{}
	var position *string
	for pages := 0; ; pages++ {
		page, err := cp.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: api.Id, Limit: aws.Int32(25), Position: position})
		if err != nil {
			t.Fatalf("GetResources after restart: %v", err)
		}
		for _, r := range page.Items {
			stored[aws.ToString(r.Id)] = aws.ToString(r.Path)
		}
		if len(page.Items) > 25 {
			t.Fatalf("page of %d items with limit 25", len(page.Items))
		}
		if page.Position == nil || pages > 100 {
			break
		}
		position = page.Position
	}
	var lost []string
	for id, path := range acked {
		if stored[id] != path {
			lost = append(lost, id+" "+path)
		}
	}
	slices.Sort(lost)
	if len(lost) > 0 {
		t.Fatalf("%d acknowledged resources lost after kill -9: %v", len(lost), lost)
	}
	if stored[aws.ToString(api.RootResourceId)] != "/" {
		t.Errorf("root resource lost")
	}
}

func TestProcessInvalidTopology(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the gatehouse binary")
	}
	t.Parallel()
	bin := buildGatehouse(t)
	tests := []struct {
		name string
		// edit turns a valid topology into an invalid one.
		edit func(string) string
		key  string // must appear in stderr
	}{
		{"unknown key", func(s string) string { return s + "frobnicate: true\n" }, "frobnicate"},
		{"bad cidr", func(s string) string { return strings.Replace(s, "127.40.0.0/16", "127.40.0.0/33", 1) }, "vpcs[0].cidr"},
		{"address outside the vpc", func(s string) string {
			return strings.Replace(s, "addresses: ["+procENI+"]", "addresses: [127.99.1.10]", 1)
		}, "vpcEndpoints[0].addresses[0]"},
		{"unknown vpc", func(s string) string { return strings.Replace(s, "vpc: "+procVPC, "vpc: vpc-0fffffffffffffff9", 1) }, "vpcEndpoints[0].vpc"},
		{"bad endpoint policy", func(s string) string {
			return strings.Replace(s, "privateDnsEnabled: true}", `privateDnsEnabled: true, policy: "{\"Statement\": 7}"}`, 1)
		}, "vpcEndpoints[0].policy"},
		{"bad account id", func(s string) string { return strings.Replace(s, `- id: "111111111111"`, `- id: "1111"`, 1) }, "accounts[0].id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cpAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t, "127.0.0.1"))
			topo := tt.edit(procTopology(cpAddr, "127.0.0.1:0", 0))
			cfg := writeFile(t, dir, "topology.yaml", topo)
			dataDir := filepath.Join(dir, "data")
			p := startGatehouse(t, bin, false, "serve", "--config", cfg, "--data-dir", dataDir)
			if code := p.wait(t, 20*time.Second); code != 2 {
				t.Fatalf("exit code %d, want 2\n%s", code, p)
			}
			if !strings.Contains(p.stderr.String(), tt.key) {
				t.Errorf("stderr does not name %q:\n%s", tt.key, p.stderr.String())
			}
			if strings.Contains(p.stdout.String(), "ready") {
				t.Errorf("the banner was printed:\n%s", p.stdout.String())
			}
			if !portFree(cpAddr) {
				t.Errorf("control-plane port %s is in use", cpAddr)
			}
			if _, err := os.Stat(dataDir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("data dir was created (err %v)", err)
			}
		})
	}
}

// slowBackend answers /slow after delay (started receives one value as each such request
// arrives) and anything else at once.
func slowBackend(t *testing.T, delay time.Duration) (url string, started <-chan struct{}) {
	t.Helper()
	ch := make(chan struct{}, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			ch <- struct{}{}
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		_, _ = io.WriteString(w, `{"slow":true}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, ch
}

// drainCheck starts a slow request through client, calls stop once the backend has it,
// and checks that the request still completes with 200 while new connections to every
// address in refused are refused.
func drainCheck(t *testing.T, client *http.Client, url string, started <-chan struct{}, stop func(), refused ...string) {
	t.Helper()
	type result struct {
		status int
		body   string
		err    error
		at     time.Time
	}
	done := make(chan result, 1)
	go func() {
		resp, err := client.Get(url)
		if err != nil {
			done <- result{err: err, at: time.Now()}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- result{status: resp.StatusCode, body: string(b), err: err, at: time.Now()}
	}()
	select {
	case <-started:
	case r := <-done:
		t.Fatalf("the request ended before reaching the backend: %+v", r)
	case <-time.After(10 * time.Second):
		t.Fatal("the request never reached the backend")
	}
	stopAt := time.Now()
	stop()

	// New connections are refused once shutdown has begun (poll: the signal is async).
	var refusedAt time.Time
	for _, addr := range refused {
		deadline := time.Now().Add(time.Second)
		for {
			c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
			if err != nil {
				break
			}
			c.Close()
			if time.Now().After(deadline) {
				t.Errorf("%s still accepts connections 1s after shutdown began", addr)
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		refusedAt = time.Now()
	}

	select {
	case r := <-done:
		if r.err != nil || r.status != 200 || r.body != `{"slow":true}` {
			t.Fatalf("in-flight request: %+v", r)
		}
		if !refusedAt.IsZero() && r.at.Before(refusedAt) {
			t.Errorf("the in-flight request finished before new connections were refused; the drain was not observed")
		}
		t.Logf("in-flight request completed %s after shutdown began", r.at.Sub(stopAt).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Fatal("the in-flight request did not complete")
	}
}

func TestGracefulDrainProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the gatehouse binary")
	}
	t.Parallel()
	bin := buildGatehouse(t)
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	cpAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t, "127.0.0.1"))
	cfg := writeFile(t, dir, "topology.yaml", procTopology(cpAddr, fmt.Sprintf("127.0.0.1:%d", freePort(t, "127.0.0.1")), freePort(t, procENI)))
	p := startGatehouse(t, bin, true, "serve", "--config", cfg, "--data-dir", dataDir, "--shutdown-grace", "10s", "--log-level", "warn")
	ctx := context.Background()
	backendURL, started := slowBackend(t, 1500*time.Millisecond)
	apiID := deployProxyAPI(t, ctx, sdkClient(cpAddr, procKey, procSecret), backendURL)
	epAddr := p.banner.endpoints[procVpce]
	client := tlsClient(t, filepath.Join(dataDir, "ca.pem"), procHost, epAddr)
	url := "https://" + apiID + ".execute-api.us-east-1.amazonaws.com/prod/slow"
	// Wait for the deployment to reach the data plane with a quick path first.
	waitDeployed(t, client, url)

	drainCheck(t, client, url, started, func() { p.signal(t, syscall.SIGTERM) }, epAddr, cpAddr)
	if code := p.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM with a request in flight\n%s", code, p)
	}
}

// TestGraceIsBounded: a request longer than --shutdown-grace does not hold the process:
// it exits 0 once the grace has passed.
func TestGraceIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the gatehouse binary")
	}
	t.Parallel()
	bin := buildGatehouse(t)
	dir := t.TempDir()
	dataDir := filepath.Join(dir, "data")
	cpAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t, "127.0.0.1"))
	cfg := writeFile(t, dir, "topology.yaml", procTopology(cpAddr, fmt.Sprintf("127.0.0.1:%d", freePort(t, "127.0.0.1")), freePort(t, procENI)))
	const grace = 300 * time.Millisecond
	p := startGatehouse(t, bin, true, "serve", "--config", cfg, "--data-dir", dataDir, "--shutdown-grace", grace.String(), "--log-level", "error")
	backendURL, started := slowBackend(t, 20*time.Second)
	apiID := deployProxyAPI(t, context.Background(), sdkClient(cpAddr, procKey, procSecret), backendURL)
	client := tlsClient(t, filepath.Join(dataDir, "ca.pem"), procHost, p.banner.endpoints[procVpce])
	url := "https://" + apiID + ".execute-api.us-east-1.amazonaws.com/prod/slow"
	waitDeployed(t, client, url)

	done := make(chan error, 1)
	go func() {
		resp, err := client.Get(url)
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		done <- err
	}()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the request never reached the backend")
	}
	start := time.Now()
	p.signal(t, syscall.SIGTERM)
	if code := p.wait(t, grace+5*time.Second); code != 0 {
		t.Fatalf("exit code %d\n%s", code, p)
	}
	took := time.Since(start)
	if took < grace {
		t.Errorf("exited %s after SIGTERM, before the %s grace, with a request in flight", took, grace)
	}
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the cut-off request still hangs after the process exited")
	}
	t.Logf("exited %s after SIGTERM (grace %s)", took.Round(time.Millisecond), grace)
}

// TestGracefulDrainInProcess drains through App.Shutdown, with access logging on: the
// request that finishes during the drain is still logged.
func TestGracefulDrainInProcess(t *testing.T) {
	t.Parallel()
	gw := gwtest.Start(t, gwtest.TwoVPCs, "")
	ctx := context.Background()
	backendURL, started := slowBackend(t, 1500*time.Millisecond)
	cp := gw.APIGateway("AKIAPROVIDER00000001", "provider-secret")
	api := createProxyAPI(t, ctx, cp, backendURL)
	must(t)(cp.UpdateRestApi(ctx, &apigateway.UpdateRestApiInput{RestApiId: &api.id, PatchOperations: []types.PatchOperation{
		{Op: types.OpReplace, Path: aws.String("/policy"), Value: aws.String(policyOnlyFrom(vpceA))}}}))
	must(t)(cp.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: &api.id, StageName: aws.String("prod")}))
	must(t)(cp.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: &api.id, StageName: aws.String("prod"), PatchOperations: []types.PatchOperation{
		{Op: types.OpReplace, Path: aws.String("/accessLogSettings/destinationArn"), Value: aws.String("arn:aws:logs:us-east-1:111111111111:log-group:drain")},
		{Op: types.OpReplace, Path: aws.String("/accessLogSettings/format"), Value: aws.String(`$context.requestId $context.path $context.status`)},
	}}))
	client := gw.Client(inA, gw.EndpointTLS(vpceA))
	url := "https://" + gw.ExecuteAPIHost(api.id) + "/prod/slow"
	// Logging is live once a /ping line reaches the file (sinks flush every 100 ms).
	logFile := filepath.Join(gw.DataDir, "logs", "drain.log")
	deadline := time.Now().Add(5 * time.Second)
	for {
		waitDeployed(t, client, url)
		if b, _ := os.ReadFile(logFile); strings.Contains(string(b), "/prod/ping 200") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("access logging never became live")
		}
		time.Sleep(50 * time.Millisecond)
	}

	shutdownErr := make(chan error, 1)
	drainCheck(t, client, url, started, func() {
		go func() {
			sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			shutdownErr <- gw.App.Shutdown(sctx)
		}()
	}, gw.EndpointTLS(vpceA), gw.App.Addrs().ControlPlane)
	select {
	case err := <-shutdownErr:
		if err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Shutdown did not return")
	}
	b, err := os.ReadFile(logFile)
	if err != nil || !strings.Contains(string(b), " /prod/slow 200\n") {
		t.Fatalf("the drained request is not in the access log (err %v):\n%s", err, b)
	}
}

// waitDeployed polls url's /ping sibling until the deployment answers.
func waitDeployed(t *testing.T, client *http.Client, url string) {
	t.Helper()
	ping := strings.TrimSuffix(url, "/slow") + "/ping"
	if status, _, body := get(t, client, ping, nil, 200); status != 200 {
		t.Fatalf("deployment not served: %d %s", status, body)
	}
}

// TestProcessPortInUse: a listener that cannot bind is a clear start-up error (exit 1,
// naming the key), not a crash, and leaves nothing listening.
func TestProcessPortInUse(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the gatehouse binary")
	}
	t.Parallel()
	bin := buildGatehouse(t)
	tests := []struct {
		name string
		key  string
		// topology returns a topology whose listener at busy cannot bind.
		topology func(busy string) string
		busyIP   string
	}{
		{"control plane", "controlPlane.listen", func(busy string) string { return procTopology(busy, "127.0.0.1:0", 0) }, "127.0.0.1"},
		{"public listener", "publicListener.listen", func(busy string) string { return procTopology("127.0.0.1:0", busy, 0) }, "127.0.0.1"},
		{"endpoint", procVpce, func(busy string) string {
			_, port, _ := net.SplitHostPort(busy)
			n, _ := strconv.Atoi(port)
			return procTopology("127.0.0.1:0", "127.0.0.1:0", n)
		}, procENI},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			busy, err := net.Listen("tcp", net.JoinHostPort(tt.busyIP, "0"))
			if err != nil {
				t.Fatal(err)
			}
			defer busy.Close()
			dir := t.TempDir()
			cfg := writeFile(t, dir, "topology.yaml", tt.topology(busy.Addr().String()))
			p := startGatehouse(t, bin, false, "serve", "--config", cfg, "--data-dir", filepath.Join(dir, "data"))
			code := p.wait(t, 20*time.Second)
			if strings.Contains(p.stderr.String(), "panic") || code != 1 || !strings.Contains(p.stderr.String(), tt.key) {
				t.Fatalf("exit code %d, want 1 and an error naming %s\n%s", code, tt.key, p)
			}
		})
	}
}
