package route53api

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"gatehouse/internal/config"
	"gatehouse/internal/dns/r53"
	"gatehouse/internal/store"
)

const (
	accountA = "111111111111"
	accountB = "222222222222"
	vpcA     = "vpc-0aaaaaaaaaaaaaaa1"
	vpcA2    = "vpc-0aaaaaaaaaaaaaaa3"
	vpcB     = "vpc-0bbbbbbbbbbbbbbb2"
)

const testTopology = `
region: us-east-1
controlPlane: {listen: 127.0.0.1:0}
publicListener: {listen: 127.0.0.1:0}
accounts:
  - {id: "111111111111", accessKeys: [{id: AKIAPROVIDER00000001, secret: s}]}
  - {id: "222222222222", accessKeys: [{id: AKIACONSUMER00000001, secret: s}]}
vpcs:
  - {id: vpc-0aaaaaaaaaaaaaaa1, account: "111111111111", cidr: 127.12.0.0/16}
  - {id: vpc-0aaaaaaaaaaaaaaa3, account: "111111111111", cidr: 127.13.0.0/16}
  - {id: vpc-0bbbbbbbbbbbbbbb2, account: "222222222222", cidr: 127.22.0.0/16}
vpcEndpoints:
  - {id: vpce-0aaaaaaaaaaaaaaa1, vpc: vpc-0aaaaaaaaaaaaaaa1, addresses: [127.12.1.10], port: 0}
dnsPort: 0
publicResolver: {listen: 127.0.0.1:0}
`

type env struct {
	t     testing.TB
	store *store.Store
	topo  *config.Topology
	srv   *Server
	urlA  string
	urlB  string
}

func newEnv(t testing.TB, status func(string) (r53.HealthObservation, bool)) *env {
	t.Helper()
	topo, err := config.Parse([]byte(testTopology))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	s := New(Options{Store: st, Topology: topo, HealthStatus: status})
	e := &env{t: t, store: st, topo: topo, srv: s}
	e.urlA = serveAs(t, s, accountA)
	e.urlB = serveAs(t, s, accountB)
	return e
}

func serveAs(t testing.TB, s *Server, account string) string {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.ServeRoute53(w, r, Caller{Account: account, AccessKeyID: "AKIDEXAMPLE"}, body)
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

// do sends a raw request and returns the status and body.
func (e *env) do(base, method, path, body string) (int, string) {
	e.t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// apiErr parses Route 53's ErrorResponse.
func apiErr(t testing.TB, body string) (typ, code, msg string) {
	t.Helper()
	var er struct {
		XMLName xml.Name `xml:"ErrorResponse"`
		Error   struct{ Type, Code, Message string }
		ReqID   string `xml:"RequestId"`
	}
	if err := xml.Unmarshal([]byte(body), &er); err != nil {
		t.Fatalf("not an ErrorResponse: %v\n%s", err, body)
	}
	if er.ReqID == "" {
		t.Errorf("ErrorResponse without RequestId: %s", body)
	}
	return er.Error.Type, er.Error.Code, er.Error.Message
}

// aws runs the aws CLI against base and returns its stdout, stderr and
// whether it succeeded.
func aws(t testing.TB, base string, args ...string) (map[string]any, string, bool) {
	t.Helper()
	cmd := exec.Command("aws", append(args, "--endpoint-url", base, "--output", "json")...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret",
		"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_MAX_ATTEMPTS=1", "AWS_PAGER=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var out map[string]any
	if stdout.Len() > 0 {
		if jerr := json.Unmarshal(stdout.Bytes(), &out); jerr != nil {
			t.Fatalf("aws %v: output is not JSON: %v\n%s", args, jerr, stdout.String())
		}
	}
	return out, stderr.String(), err == nil
}

func needAWS(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws CLI not installed")
	}
}

// path walks nested maps and lists: path(m, "HostedZone", "Id").
func path(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
