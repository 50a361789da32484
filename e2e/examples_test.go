package e2e

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/config"
	"gatehouse/internal/gwtest"
)

// TestExamplesBasic runs examples/basic/run.sh (the whitepaper's Basic and Cross-account
// architectures) against a gatehouse started from examples/basic/topology.yaml, with every
// port made ephemeral and passed to the script through its environment.
func TestExamplesBasic(t *testing.T) {
	needAWSCLI(t)
	needCurl(t)
	for _, tool := range []string{"bash", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not on PATH", tool)
		}
	}
	t.Parallel()
	dir := filepath.Join(moduleRoot(t), "examples", "basic")
	topo, err := config.Load(filepath.Join(dir, "topology.yaml"))
	if err != nil {
		t.Fatalf("examples/basic/topology.yaml: %v", err)
	}
	gw := gwtest.StartWith(t, gwtest.Ephemeral(topo), gwtest.Options{})
	addrs := gw.App.Addrs()
	env := cleanEnv(
		"GATEHOUSE_ENDPOINT_URL="+gw.ControlPlaneURL(),
		"GATEHOUSE_CA="+gw.CAFile(),
		"GATEHOUSE_PUBLIC="+addrs.Public,
		"GATEHOUSE_PROVIDER_VPCE="+gw.EndpointTLS("vpce-0aaaaaaaaaaaaaaa1"),
		"GATEHOUSE_CONSUMER_VPCE="+gw.EndpointTLS("vpce-0ccccccccccccccc3"),
	)

	tests := []struct {
		scenario string
		want     []string // PASS lines (prefixes) the script must print
	}{
		{"basic", []string{
			"PASS basic: from the VPC through vpce-0aaaaaaaaaaaaaaa1 (private DNS) -> 200",
			"PASS basic: from the VPC through the endpoint's own DNS name + x-apigw-api-id -> 200",
			"PASS basic: from another VPC through its own endpoint -> 403 {\"Message\":\"User: anonymous is not authorized",
			"PASS basic: from the internet (public listener) -> 403 {\"message\":\"Forbidden\"}",
		}},
		{"cross-account", []string{
			"PASS cross-account: from the consumer's VPC through vpce-0ccccccccccccccc3 (private DNS) -> 200",
			"PASS cross-account: from the consumer's VPC through the endpoint's own DNS name + Host -> 200",
			"PASS cross-account: from the provider's own VPC through vpce-0aaaaaaaaaaaaaaa1 -> 403",
			"PASS cross-account: from the provider's VPC to the consumer's endpoint (security group) -> 000",
			"PASS cross-account: from the internet (public listener) -> 403",
			"PASS cross-account: the consumer account does not see the provider's API",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.scenario, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, "bash", filepath.Join(dir, "run.sh"), tt.scenario)
			cmd.Env = env
			var out, errOut bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errOut
			if err := cmd.Run(); err != nil {
				t.Fatalf("run.sh %s: %v\nstdout:\n%s\nstderr:\n%s", tt.scenario, err, out.String(), errOut.String())
			}
			text := out.String()
			for _, w := range tt.want {
				if !strings.Contains(text, "\n"+w) {
					t.Errorf("missing %q in\n%s", w, text)
				}
			}
			if strings.Contains(text, "FAIL") || !strings.HasSuffix(text, "all checks passed\n") {
				t.Errorf("output:\n%s", text)
			}
		})
	}
}
