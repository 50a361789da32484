package e2e

// A measurement, not a timed test: requests/s and latency percentiles through a private
// API to a warm aws-lambda-go function (AWS_PROXY), next to a MOCK integration on the
// same API as the baseline. It runs only with GATEHOUSE_MEASURE=1 and never fails on a
// figure; it prints them:
//
//	GATEHOUSE_MEASURE=1 go test -count=1 -v -run TestMeasureLambdaThroughput ./e2e

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	lambdatypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"gatehouse/internal/gwtest"
)

const (
	measureRequests = 2000
	measureClients  = 16
)

// loadAvg is /proc/loadavg's first three fields ("" where there is none).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "n/a"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "n/a"
	}
	return strings.Join(f[:3], " ")
}

// vpcClient is an HTTP/1.1 client in VPC A (source inA) that dials addr and keeps up to
// measureClients connections alive (keepAlive) or opens a new TLS connection per request.
func vpcClient(gw *gwtest.Gateway, addr string, keepAlive bool) *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(inA)}}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
		TLSClientConfig:     &tls.Config{RootCAs: gw.CAPool},
		DisableKeepAlives:   !keepAlive,
		MaxIdleConnsPerHost: measureClients,
	}}
}

type measurement struct {
	n, errs, non200 int
	elapsed         time.Duration
	lat             []time.Duration // sorted
}

func (m measurement) pct(p float64) time.Duration {
	if len(m.lat) == 0 {
		return 0
	}
	return m.lat[min(len(m.lat)-1, int(float64(len(m.lat))*p))]
}

func (m measurement) String() string {
	return fmt.Sprintf("%d requests, %d clients: %.0f req/s, p50 %s, p99 %s, max %s (transport errors %d, non-200 %d)",
		m.n, measureClients, float64(m.n)/m.elapsed.Seconds(), m.pct(0.50).Round(10*time.Microsecond),
		m.pct(0.99).Round(10*time.Microsecond), m.lat[len(m.lat)-1].Round(10*time.Microsecond), m.errs, m.non200)
}

// drive sends n GETs to url from measureClients goroutines and records each latency.
func drive(c *http.Client, url string, n int) measurement {
	var next atomic.Int64
	lat := make([]time.Duration, n)
	var errs, non200 atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range measureClients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t0 := time.Now()
				resp, err := c.Get(url)
				if err != nil {
					errs.Add(1)
					lat[i] = time.Since(t0)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				lat[i] = time.Since(t0)
				if resp.StatusCode != http.StatusOK {
					non200.Add(1)
				}
			}
		})
	}
	wg.Wait()
	m := measurement{n: n, errs: int(errs.Load()), non200: int(non200.Load()), elapsed: time.Since(start), lat: lat}
	slices.Sort(m.lat)
	return m
}

// TestMeasureLambdaThroughput measures a warm Go function behind AWS_PROXY on a private
// API (GATEHOUSE_MEASURE=1 only).
func TestMeasureLambdaThroughput(t *testing.T) {
	if os.Getenv("GATEHOUSE_MEASURE") != "1" {
		t.Skip("a measurement: set GATEHOUSE_MEASURE=1 to run it")
	}
	ctx := context.Background()
	gw := gwtest.Start(t, gwtest.TwoVPCs, "")
	lc := lambdaClient(gw)
	fn, err := lc.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("echo"), Runtime: lambdatypes.RuntimeProvidedal2023,
		Handler: aws.String("bootstrap"), Role: aws.String("arn:aws:iam::111111111111:role/echo"), Code: &lambdatypes.FunctionCode{ZipFile: buildEchoGo(t)}})
	if err != nil {
		t.Fatalf("CreateFunction: %v", err)
	}
	cp := gw.APIGateway("AKIAPROVIDER00000001", "provider-secret")
	api, err := cp.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("measure"),
		EndpointConfiguration: &types.EndpointConfiguration{Types: []types.EndpointType{types.EndpointTypePrivate}},
		Policy:                aws.String(policyOnlyFrom(vpceA))})
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range []string{"fn", "mock"} {
		res, err := cp.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: api.RootResourceId, PathPart: aws.String(part)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cp.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("GET"),
			AuthorizationType: aws.String("NONE")}); err != nil {
			t.Fatal(err)
		}
		in := &apigateway.PutIntegrationInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("GET"),
			Type: types.IntegrationTypeAwsProxy, IntegrationHttpMethod: aws.String("POST"), Uri: aws.String(lambdaURI(*fn.FunctionArn))}
		if part == "mock" {
			in = &apigateway.PutIntegrationInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("GET"),
				Type: types.IntegrationTypeMock, RequestTemplates: map[string]string{"application/json": `{"statusCode": 200}`}}
		}
		if _, err := cp.PutIntegration(ctx, in); err != nil {
			t.Fatal(err)
		}
		if part == "mock" {
			if _, err := cp.PutMethodResponse(ctx, &apigateway.PutMethodResponseInput{RestApiId: api.Id, ResourceId: res.Id,
				HttpMethod: aws.String("GET"), StatusCode: aws.String("200")}); err != nil {
				t.Fatal(err)
			}
			if _, err := cp.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{RestApiId: api.Id, ResourceId: res.Id,
				HttpMethod: aws.String("GET"), StatusCode: aws.String("200"),
				ResponseTemplates: map[string]string{"application/json": `{"ok":true}`}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := cp.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id, StageName: aws.String("prod")}); err != nil {
		t.Fatal(err)
	}
	if _, err := lc.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("echo"), StatementId: aws.String("apigw"),
		Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("apigateway.amazonaws.com"),
		SourceArn: aws.String("arn:aws:execute-api:us-east-1:111111111111:" + *api.Id + "/*")}); err != nil {
		t.Fatal(err)
	}

	base := "https://" + gw.ExecuteAPIHost(*api.Id) + "/prod"
	keep := vpcClient(gw, gw.EndpointTLS(vpceA), true)
	fresh := vpcClient(gw, gw.EndpointTLS(vpceA), false)
	// Wait for the deployment, then warm measureClients instances (concurrent requests
	// start one instance each) and the connections.
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, _, body := do(t, fresh, "GET", base+"/fn", nil, "")
		if status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready: %d %s", status, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if w := drive(keep, base+"/fn", 20*measureClients); w.errs+w.non200 > 0 {
		t.Fatalf("warm-up: %s", w)
	}
	_ = drive(keep, base+"/mock", 20*measureClients)

	logFile := filepath.Join(gw.DataDir, "functions", "echo.log")
	before := countStarts(t, logFile)
	load0 := loadAvg()
	results := []struct {
		name string
		m    measurement
	}{
		{"AWS_PROXY → warm Go function, keep-alive", drive(keep, base+"/fn", measureRequests)},
		{"MOCK baseline, keep-alive", drive(keep, base+"/mock", measureRequests)},
		{"AWS_PROXY → warm Go function, new TLS connection per request", drive(fresh, base+"/fn", measureRequests)},
	}
	load1 := loadAvg()
	invoked := countStarts(t, logFile) - before
	out := fmt.Sprintf("lambda throughput through a private API (vpce %s, from %s), %d CPUs, GOMAXPROCS %d\n",
		vpceA, inA, runtime.NumCPU(), runtime.GOMAXPROCS(0))
	for _, r := range results {
		out += fmt.Sprintf("  %-62s %s\n", r.name+":", r.m)
	}
	out += fmt.Sprintf("  function invocations logged during the runs: %d (want %d)\n", invoked, 2*measureRequests)
	out += fmt.Sprintf("  load average before: %s, after: %s\n", load0, load1)
	t.Log("\n" + out)
	for _, r := range results {
		if r.m.errs > 0 || r.m.non200 > 0 {
			t.Errorf("%s: %d transport errors, %d non-200", r.name, r.m.errs, r.m.non200)
		}
	}
}
