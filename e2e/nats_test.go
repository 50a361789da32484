package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/nats-io/nats.go"

	"gatehouse/internal/config"
	"gatehouse/internal/gwtest"
)

// startNATSServer builds nats-server (the version in go.mod) and runs it with JetStream
// on a free port until the test ends. It skips the test if the build fails.
func startNATSServer(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "nats-server")
	build := exec.Command(goTool, "build", "-o", bin, "github.com/nats-io/nats-server/v2")
	build.Dir = moduleRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Skipf("cannot build nats-server, skipping the external NATS test: %v\n%s", err, out)
	}
	var lastErr error
	for range 3 { // the free port may be taken before the server binds it
		port := freePort(t, "127.0.0.1")
		url := "nats://127.0.0.1:" + strconv.Itoa(port)
		cmd := exec.Command(bin, "-js", "-sd", t.TempDir(), "-a", "127.0.0.1", "-p", strconv.Itoa(port))
		logs := &syncBuffer{}
		cmd.Stdout, cmd.Stderr = logs, logs
		if err := cmd.Start(); err != nil {
			t.Fatalf("start nats-server: %v", err)
		}
		exited := make(chan struct{})
		go func() {
			_ = cmd.Wait()
			close(exited)
		}()
		stop := func() {
			_ = cmd.Process.Kill()
			<-exited
		}
		if err := waitNATS(url, exited, 20*time.Second); err != nil {
			lastErr = fmt.Errorf("%w\n%s", err, logs.String())
			stop()
			continue
		}
		t.Cleanup(stop)
		return url
	}
	t.Fatalf("nats-server did not start: %v", lastErr)
	return ""
}

// waitNATS polls until a client can connect to url, the server exits or d passes.
func waitNATS(url string, exited <-chan struct{}, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		nc, err := nats.Connect(url, nats.Timeout(500*time.Millisecond), nats.NoReconnect())
		if err == nil {
			nc.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s: %w", d, err)
		}
		select {
		case <-exited:
			return fmt.Errorf("nats-server exited: %w", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestExternalNATS runs gatehouse on an external nats-server: create, deploy and call;
// then a second gatehouse with a fresh data dir on the same server serves the same API.
func TestExternalNATS(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs nats-server")
	}
	t.Parallel()
	url := startNATSServer(t)
	topo, err := config.Parse([]byte(gwtest.TwoVPCs))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	backend := echoBackend(t)

	gw := gwtest.StartWith(t, topo, gwtest.Options{NATSURL: url})
	cp := gw.APIGateway("AKIAPROVIDER00000001", "provider-secret")
	api := createProxyAPI(t, ctx, cp, backend.URL)
	must(t)(cp.UpdateRestApi(ctx, &apigateway.UpdateRestApiInput{RestApiId: &api.id, PatchOperations: []types.PatchOperation{
		{Op: types.OpReplace, Path: aws.String("/policy"), Value: aws.String(policyOnlyFrom(vpceA))}}}))
	must(t)(cp.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: &api.id, StageName: aws.String("prod")}))
	status, _, first := get(t, gw.Client(inA, gw.EndpointTLS(vpceA)), "https://"+gw.ExecuteAPIHost(api.id)+"/prod/nats", nil, 200)
	if status != 200 {
		t.Fatalf("through the first gatehouse: %d %s", status, first)
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := gw.App.Shutdown(sctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}

	gw2 := gwtest.StartWith(t, topo, gwtest.Options{NATSURL: url})
	got, err := gw2.APIGateway("AKIAPROVIDER00000001", "provider-secret").GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: &api.id})
	if err != nil || aws.ToString(got.Name) != "private-proxy" {
		t.Fatalf("GetRestApi through the second gatehouse: %+v %v", got, err)
	}
	status, _, second := get(t, gw2.Client(inA, gw2.EndpointTLS(vpceA)), "https://"+gw2.ExecuteAPIHost(api.id)+"/prod/nats", nil, 200)
	if status != 200 || second != first {
		t.Fatalf("through the second gatehouse: %d %s\nfirst: %s", status, second, first)
	}
}
