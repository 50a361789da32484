package apigwv2api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	v2 "github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"
	"github.com/aws/smithy-go"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/config"
	"gatehouse/internal/store"
)

const (
	accountA = "111111111111"
	accountB = "222222222222"
	subnetA1 = "subnet-0aaaaaaaaaaaaaaa1"
	subnetA2 = "subnet-0aaaaaaaaaaaaaaa2"
	subnetC1 = "subnet-0ccccccccccccccc1"
	subnetB1 = "subnet-0bbbbbbbbbbbbbbb1"
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
`

type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) advance(d time.Duration) { c.ns.Add(int64(d)) }

type env struct {
	store *store.Store
	url   string
	a, b  *v2.Client
	clock *clock
}

func newEnv(t testing.TB, opts ...func(*Options)) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := store.Open(ctx, store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	topo, err := config.Parse([]byte(topology))
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{}
	clk.ns.Store(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC).UnixNano())
	o := Options{Store: st, Topology: topo, Now: clk.now}
	for _, f := range opts {
		f(&o)
	}
	s := New(o)
	serve := func(account string) string {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			s.ServeAPIGatewayV2(w, r, Caller{Account: account}, body)
		}))
		t.Cleanup(ts.Close)
		return ts.URL
	}
	client := func(url string) *v2.Client {
		return v2.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "s", "")},
			func(o *v2.Options) { o.BaseEndpoint = aws.String(url); o.Retryer = aws.NopRetryer{} })
	}
	e := &env{store: st, url: serve(accountA), clock: clk}
	e.a, e.b = client(e.url), client(serve(accountB))
	return e
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func wantErr(t testing.TB, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want %s", err, code)
	}
	if ae.ErrorCode() != code || ae.ErrorMessage() != msg {
		t.Fatalf("got %s %q, want %s %q", ae.ErrorCode(), ae.ErrorMessage(), code, msg)
	}
}

func TestVpcLinkV2(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	out, err := e.a.CreateVpcLink(ctx, &v2.CreateVpcLinkInput{Name: aws.String("link"), SubnetIds: []string{subnetA1, subnetA2},
		SecurityGroupIds: []string{"sg-0123"}, Tags: map[string]string{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	if out.VpcLinkStatus != types.VpcLinkStatusPending || out.VpcLinkVersion != types.VpcLinkVersionV2 || len(*out.VpcLinkId) != 6 ||
		!out.CreatedDate.Equal(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)) || out.SecurityGroupIds[0] != "sg-0123" || out.Tags["k"] != "v" {
		t.Errorf("created %+v", out)
	}
	got, err := e.a.GetVpcLink(ctx, &v2.GetVpcLinkInput{VpcLinkId: out.VpcLinkId})
	if err != nil {
		t.Fatal(err)
	}
	if got.VpcLinkStatus != types.VpcLinkStatusAvailable || len(got.SubnetIds) != 2 {
		t.Errorf("settled %+v", got)
	}
	// Stored as a V2 record in the shared bucket.
	ent, err := e.store.Get(ctx, apimodel.BucketVpcLinks, apimodel.VpcLinkKey(accountA, *out.VpcLinkId))
	if err != nil {
		t.Fatal(err)
	}
	var rec apimodel.VpcLinkRecord
	if err := json.Unmarshal(ent.Value, &rec); err != nil || rec.Version != "V2" || rec.V2 == nil || rec.V1 != nil || rec.Account != accountA {
		t.Errorf("stored %s (%v)", ent.Value, err)
	}

	tests := []struct {
		name string
		in   v2.CreateVpcLinkInput
		msg  string
	}{
		{"no subnets", v2.CreateVpcLinkInput{Name: aws.String("l"), SubnetIds: []string{}}, "SubnetIds must contain at least one subnet"},
		{"unknown subnet", v2.CreateVpcLinkInput{Name: aws.String("l"), SubnetIds: []string{"subnet-0123456789abcdef0"}}, "Invalid subnet identifier specified: subnet-0123456789abcdef0"},
		{"another account's subnet", v2.CreateVpcLinkInput{Name: aws.String("l"), SubnetIds: []string{subnetB1}}, "Invalid subnet identifier specified: " + subnetB1},
		{"two VPCs", v2.CreateVpcLinkInput{Name: aws.String("l"), SubnetIds: []string{subnetA1, subnetC1}}, "All subnets of a VPC link must belong to the same VPC"},
		{"repeated subnet", v2.CreateVpcLinkInput{Name: aws.String("l"), SubnetIds: []string{subnetA1, subnetA1}}, "Subnet " + subnetA1 + " is specified more than once"},
		{"bad security group", v2.CreateVpcLinkInput{Name: aws.String("l"), SubnetIds: []string{subnetA1}, SecurityGroupIds: []string{"web"}}, "Invalid security group identifier specified: web"},
		{"long name", v2.CreateVpcLinkInput{Name: aws.String(strings.Repeat("n", 129)), SubnetIds: []string{subnetA1}}, "Name is required and must be between 1 and 128 characters"},
		{"too many subnets", v2.CreateVpcLinkInput{Name: aws.String("l"), SubnetIds: repeat(subnetA1, 11)}, "A VPC link can have at most 10 subnets"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.a.CreateVpcLink(ctx, &tt.in)
			wantErr(t, err, "BadRequestException", tt.msg)
		})
	}
	t.Run("other account", func(t *testing.T) {
		_, err := e.b.GetVpcLink(ctx, &v2.GetVpcLinkInput{VpcLinkId: out.VpcLinkId})
		wantErr(t, err, "NotFoundException", "Invalid VpcLink identifier specified "+*out.VpcLinkId)
	})
	t.Run("v1 links are not v2 links", func(t *testing.T) {
		b, _ := json.Marshal(apimodel.VpcLinkRecord{Account: accountA, Version: "V1", V1: &apimodel.VpcLink{ID: "v1link", Status: "AVAILABLE"}})
		if _, err := e.store.Create(ctx, apimodel.BucketVpcLinks, apimodel.VpcLinkKey(accountA, "v1link"), b); err != nil {
			t.Fatal(err)
		}
		_, err := e.a.GetVpcLink(ctx, &v2.GetVpcLinkInput{VpcLinkId: aws.String("v1link")})
		wantErr(t, err, "NotFoundException", "Invalid VpcLink identifier specified v1link")
	})
	t.Run("update and list", func(t *testing.T) {
		up, err := e.a.UpdateVpcLink(ctx, &v2.UpdateVpcLinkInput{VpcLinkId: out.VpcLinkId, Name: aws.String("renamed")})
		if err != nil || *up.Name != "renamed" {
			t.Fatalf("update: %+v %v", up, err)
		}
		if _, err := e.a.CreateVpcLink(ctx, &v2.CreateVpcLinkInput{Name: aws.String("second"), SubnetIds: []string{subnetC1}}); err != nil {
			t.Fatal(err)
		}
		page, err := e.a.GetVpcLinks(ctx, &v2.GetVpcLinksInput{MaxResults: aws.String("1")})
		if err != nil || len(page.Items) != 1 || page.NextToken == nil {
			t.Fatalf("page 1: %+v %v", page, err)
		}
		page2, err := e.a.GetVpcLinks(ctx, &v2.GetVpcLinksInput{MaxResults: aws.String("1"), NextToken: page.NextToken})
		if err != nil || len(page2.Items) != 1 || page2.NextToken != nil || *page2.Items[0].VpcLinkId == *page.Items[0].VpcLinkId {
			t.Fatalf("page 2: %+v %v", page2, err)
		}
	})
	t.Run("delete", func(t *testing.T) {
		if _, err := e.a.DeleteVpcLink(ctx, &v2.DeleteVpcLinkInput{VpcLinkId: out.VpcLinkId}); err != nil {
			t.Fatal(err)
		}
		got, err := e.a.GetVpcLink(ctx, &v2.GetVpcLinkInput{VpcLinkId: out.VpcLinkId})
		if err != nil || got.VpcLinkStatus != types.VpcLinkStatusDeleting {
			t.Fatalf("after delete: %+v %v", got, err)
		}
		e.clock.advance(3 * time.Second)
		_, err = e.a.GetVpcLink(ctx, &v2.GetVpcLinkInput{VpcLinkId: out.VpcLinkId})
		wantErr(t, err, "NotFoundException", "Invalid VpcLink identifier specified "+*out.VpcLinkId)
		_, err = e.a.DeleteVpcLink(ctx, &v2.DeleteVpcLinkInput{VpcLinkId: out.VpcLinkId})
		wantErr(t, err, "NotFoundException", "Invalid VpcLink identifier specified "+*out.VpcLinkId)
	})
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func TestVpcLinkV2Check(t *testing.T) {
	verdict := atomic.Value{}
	verdict.Store([2]string{apimodel.VpcLinkPending, ""})
	e := newEnv(t, func(o *Options) {
		o.Check = func(context.Context, *apimodel.VpcLinkRecord) (string, string) {
			v := verdict.Load().([2]string)
			return v[0], v[1]
		}
	})
	ctx := ctxT(t)
	out, err := e.a.CreateVpcLink(ctx, &v2.CreateVpcLinkInput{Name: aws.String("l"), SubnetIds: []string{subnetA1}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := e.a.GetVpcLink(ctx, &v2.GetVpcLinkInput{VpcLinkId: out.VpcLinkId})
	if got.VpcLinkStatus != types.VpcLinkStatusPending {
		t.Errorf("still pending: %s", got.VpcLinkStatus)
	}
	verdict.Store([2]string{apimodel.VpcLinkFailed, "no route to subnet"})
	got, _ = e.a.GetVpcLink(ctx, &v2.GetVpcLinkInput{VpcLinkId: out.VpcLinkId})
	if got.VpcLinkStatus != types.VpcLinkStatusFailed || *got.VpcLinkStatusMessage != "no route to subnet" {
		t.Errorf("failed: %s %v", got.VpcLinkStatus, got.VpcLinkStatusMessage)
	}
}

func TestQuotaAndUnknownRoutes(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	for i := 0; i < maxVpcLinks; i++ {
		if _, err := e.a.CreateVpcLink(ctx, &v2.CreateVpcLinkInput{Name: aws.String("l"), SubnetIds: []string{subnetA1}}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.a.CreateVpcLink(ctx, &v2.CreateVpcLinkInput{Name: aws.String("l"), SubnetIds: []string{subnetA1}})
	wantErr(t, err, "LimitExceededException", "The maximum number of VPC links (10) for this account has been reached")
	resp, err := http.Get(e.url + "/v2/apis")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 || resp.Header.Get("X-Amzn-Errortype") != "UnknownOperationException" {
		t.Errorf("unknown route: %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"))
	}
}

func FuzzServe(f *testing.F) {
	for _, seed := range []string{`{"name":"l","subnetIds":["subnet-0aaaaaaaaaaaaaaa1"]}`, `{`, `{"name":""}`, `{"subnetIds":[1]}`, ``} {
		f.Add("POST", "/v2/vpclinks", seed)
		f.Add("PATCH", "/v2/vpclinks/abc", seed)
	}
	f.Add("GET", "/v2/vpclinks?maxResults=0&nextToken=%%", "")
	st, err := store.Open(context.Background(), store.Options{DataDir: f.TempDir()})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = st.Close() })
	topo, _ := config.Parse([]byte(topology))
	s := New(Options{Store: st, Topology: topo})
	f.Fuzz(func(t *testing.T, method, path, body string) {
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " \r\n\t") {
			return
		}
		r, err := http.NewRequest(method, "http://x"+path, strings.NewReader(body))
		if err != nil {
			return
		}
		w := httptest.NewRecorder()
		s.ServeAPIGatewayV2(w, r, Caller{Account: accountA}, []byte(body))
		if w.Code >= 500 {
			t.Fatalf("%d for %s %s %q: %s", w.Code, method, path, body, w.Body.String())
		}
		if w.Body.Len() > 0 && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("invalid JSON: %s", w.Body.String())
		}
	})
}
