package elbv2api

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/smithy-go"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/config"
	"gatehouse/internal/store"
)

const (
	accountA = "111111111111"
	accountB = "222222222222"

	vpcA     = "vpc-0aaaaaaaaaaaaaaa1"
	vpcA2    = "vpc-0aaaaaaaaaaaaaaa2"
	vpcB     = "vpc-0bbbbbbbbbbbbbbb1"
	subnetA1 = "subnet-0aaaaaaaaaaaaaaa1" // us-east-1a
	subnetA2 = "subnet-0aaaaaaaaaaaaaaa2" // us-east-1b
	subnetA3 = "subnet-0aaaaaaaaaaaaaaa3" // us-east-1a (explicit)
	subnetC1 = "subnet-0ccccccccccccccc1" // in vpcA2
	subnetB1 = "subnet-0bbbbbbbbbbbbbbb1" // account B

	instRunning  = "i-0aaaaaaaaaaaaaaa1" // vpcA, 10.1.1.21
	instStopped  = "i-0aaaaaaaaaaaaaaa2" // vpcA, 10.1.2.22
	instRunning2 = "i-0aaaaaaaaaaaaaaa3" // vpcA, 10.1.1.23
	instOtherVPC = "i-0ccccccccccccccc1" // vpcA2, 10.2.1.21
	instAccountB = "i-0bbbbbbbbbbbbbbb1" // account B's vpcB, 10.1.1.21
)

const topology = `
region: us-east-1
controlPlane: {listen: 127.0.0.1:0}
publicListener: {listen: 127.0.0.1:0}
accounts:
  - {id: "111111111111", accessKeys: [{id: AKIAPROVIDER00000001, secret: s}]}
  - {id: "222222222222", accessKeys: [{id: AKIACONSUMER00000001, secret: s}]}
vpcs:
  - id: vpc-0aaaaaaaaaaaaaaa1
    account: "111111111111"
    cidr: 10.1.0.0/16
    subnets:
      - {id: subnet-0aaaaaaaaaaaaaaa1, cidr: 10.1.1.0/24}
      - {id: subnet-0aaaaaaaaaaaaaaa2, cidr: 10.1.2.0/24}
      - {id: subnet-0aaaaaaaaaaaaaaa3, cidr: 10.1.3.0/24, availabilityZone: us-east-1a}
  - id: vpc-0aaaaaaaaaaaaaaa2
    account: "111111111111"
    cidr: 10.2.0.0/16
    subnets:
      - {id: subnet-0ccccccccccccccc1, cidr: 10.2.1.0/24}
  - id: vpc-0bbbbbbbbbbbbbbb1
    account: "222222222222"
    cidr: 10.1.0.0/16
    subnets:
      - {id: subnet-0bbbbbbbbbbbbbbb1, cidr: 10.1.1.0/24}
dnsPort: 0
instances:
  - {id: i-0aaaaaaaaaaaaaaa1, subnet: subnet-0aaaaaaaaaaaaaaa1, privateIp: 10.1.1.21, name: web-1}
  - {id: i-0aaaaaaaaaaaaaaa2, subnet: subnet-0aaaaaaaaaaaaaaa2, privateIp: 10.1.2.22, state: stopped}
  - {id: i-0aaaaaaaaaaaaaaa3, subnet: subnet-0aaaaaaaaaaaaaaa1, privateIp: 10.1.1.23}
  - {id: i-0ccccccccccccccc1, subnet: subnet-0ccccccccccccccc1, privateIp: 10.2.1.21}
  - {id: i-0bbbbbbbbbbbbbbb1, subnet: subnet-0bbbbbbbbbbbbbbb1, privateIp: 10.1.1.21}
`

// fakeHealth is a HealthSource with settable answers.
type fakeHealth struct {
	mu sync.Mutex
	m  map[string][]apimodel.TargetHealthDescription
}

func (f *fakeHealth) TargetHealth(arn string) []apimodel.TargetHealthDescription {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.m[arn]
}

func (f *fakeHealth) set(arn string, d ...apimodel.TargetHealthDescription) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string][]apimodel.TargetHealthDescription{}
	}
	f.m[arn] = d
}

type env struct {
	store  *store.Store
	server *Server
	health *fakeHealth
	urlA   string
	a, b   *elb.Client
}

func openStore(t testing.TB) *store.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

func parseTopology(t testing.TB) *config.Topology {
	t.Helper()
	topo, err := config.Parse([]byte(topology))
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

func serveAs(t testing.TB, s *Server, account string) string {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.ServeELBv2(w, r, Caller{Account: account, AccessKeyID: "AKIDEXAMPLE"}, body)
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

func sdkClient(url string) *elb.Client {
	return elb.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	}, func(o *elb.Options) {
		o.BaseEndpoint = aws.String(url)
		o.Retryer = aws.NopRetryer{}
	})
}

func newEnv(t testing.TB, opts ...func(*Options)) *env {
	t.Helper()
	st := openStore(t)
	h := &fakeHealth{}
	o := Options{Store: st, Topology: parseTopology(t), Health: h}
	for _, f := range opts {
		f(&o)
	}
	s := New(o)
	e := &env{store: st, server: s, health: h}
	e.urlA = serveAs(t, s, accountA)
	e.a = sdkClient(e.urlA)
	e.b = sdkClient(serveAs(t, s, accountB))
	return e
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// wantCode checks that err is an API error with code (and, when msg != "", message).
func wantCode(t testing.TB, err error, code, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got success, want %s", code)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want API error %s", err, code)
	}
	if ae.ErrorCode() != code || (msg != "" && ae.ErrorMessage() != msg) {
		t.Fatalf("got %s %q, want %s %q", ae.ErrorCode(), ae.ErrorMessage(), code, msg)
	}
}

func mustT[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// fixture creation helpers.

func (e *env) nlb(t *testing.T, name string, subnets ...string) types.LoadBalancer {
	t.Helper()
	if len(subnets) == 0 {
		subnets = []string{subnetA1}
	}
	out := mustT[*elb.CreateLoadBalancerOutput](t)(e.a.CreateLoadBalancer(ctxT(t), &elb.CreateLoadBalancerInput{
		Name: aws.String(name), Type: types.LoadBalancerTypeEnumNetwork, Scheme: types.LoadBalancerSchemeEnumInternal, Subnets: subnets,
	}))
	return out.LoadBalancers[0]
}

func (e *env) alb(t *testing.T, name string) types.LoadBalancer {
	t.Helper()
	out := mustT[*elb.CreateLoadBalancerOutput](t)(e.a.CreateLoadBalancer(ctxT(t), &elb.CreateLoadBalancerInput{
		Name: aws.String(name), Scheme: types.LoadBalancerSchemeEnumInternal, Subnets: []string{subnetA1, subnetA2},
	}))
	return out.LoadBalancers[0]
}

func (e *env) tg(t *testing.T, name string, proto types.ProtocolEnum, port int32) types.TargetGroup {
	t.Helper()
	out := mustT[*elb.CreateTargetGroupOutput](t)(e.a.CreateTargetGroup(ctxT(t), &elb.CreateTargetGroupInput{
		Name: aws.String(name), Protocol: proto, Port: aws.Int32(port), VpcId: aws.String(vpcA), TargetType: types.TargetTypeEnumIp,
	}))
	return out.TargetGroups[0]
}

func forward(tgARN string) []types.Action {
	return []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(tgARN)}}
}
