package e2e

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/gwtest"
)

// TestBoto3Flow runs testdata/boto3_flow.py: the aws CLI flow of TestAWSCLIFlow with
// boto3 for the control plane and Python's http.client (bound to a VPC source address,
// trusting gatehouse's CA) for the data plane.
func TestBoto3Flow(t *testing.T) {
	if testing.Short() {
		t.Skip("runs python3 and boto3")
	}
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		t.Skipf("python3 with boto3 is not available (python3 -c 'import boto3': %v); skipping the boto3 flow", err)
	}
	t.Parallel()
	gw := gwtest.Start(t, gwtest.TwoVPCs, "")
	backend := echoBackend(t)

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	script, err := filepath.Abs(filepath.Join("testdata", "boto3_flow.py"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, "python3", script,
		"--endpoint-url", gw.ControlPlaneURL(),
		"--region", "us-east-1",
		"--account", "111111111111",
		"--ca", gw.CAFile(),
		"--backend", backend.URL,
		"--vpce-a", vpceA,
		"--vpce-a-addr", gw.EndpointTLS(vpceA),
		"--vpce-a-host", gw.EndpointHost(vpceA),
		"--source-a", inA,
		"--vpce-b-addr", gw.EndpointTLS(vpceB),
		"--source-b", inB,
		"--public-addr", gw.App.Addrs().Public,
	)
	cmd.Env = cleanEnv("AWS_ACCESS_KEY_ID=AKIAPROVIDER00000001", "AWS_SECRET_ACCESS_KEY=provider-secret", "PYTHONDONTWRITEBYTECODE=1")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("boto3_flow.py: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errOut.String())
	}
	for _, step := range []string{"create api", "deploy without policy", "deploy", "vpce-A", "vpce-B", "public", "alias", "missing authentication token"} {
		if !strings.Contains(out.String(), "PASS "+step+"\n") {
			t.Errorf("step %q did not pass\nstdout:\n%s", step, out.String())
		}
	}
}
