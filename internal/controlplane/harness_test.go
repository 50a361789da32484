package controlplane

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/smithy-go"

	"gatehouse/internal/store"
)

const (
	accountA   = "111111111111"
	accountB   = "222222222222"
	testRegion = "us-east-1"
)

// env is one control plane on a real embedded store, reachable over HTTP as two
// accounts.
type env struct {
	store  *store.Store
	server *Server
	url    string // account A's endpoint
	a, b   *apigateway.Client
}

func testLogger() *slog.Logger {
	if os.Getenv("GW_TEST_LOG") == "debug" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
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

// serveAs exposes s over HTTP with every request attributed to account.
func serveAs(t testing.TB, s *Server, account string) string {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		s.ServeAPIGateway(w, r, Caller{Account: account, AccessKeyID: "AKIDEXAMPLE"}, body)
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

func sdkClient(url string) *apigateway.Client {
	cfg := aws.Config{
		Region:      testRegion,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	}
	return apigateway.NewFromConfig(cfg, func(o *apigateway.Options) {
		o.BaseEndpoint = aws.String(url)
		o.Retryer = aws.NopRetryer{}
	})
}

func newEnv(t testing.TB, opts ...func(*Options)) *env {
	t.Helper()
	st := openStore(t)
	o := Options{Store: st, Region: testRegion, Logger: testLogger()}
	for _, f := range opts {
		f(&o)
	}
	s := New(o)
	e := &env{store: st, server: s}
	e.url = serveAs(t, s, accountA)
	e.a = sdkClient(e.url)
	e.b = sdkClient(serveAs(t, s, accountB))
	return e
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// wantAPIError checks that err is an AWS error with the given code and message.
func wantAPIError(t testing.TB, err error, code, message string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got success, want %s %q", code, message)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %v, want an API error %s", err, code)
	}
	if ae.ErrorCode() != code || ae.ErrorMessage() != message {
		t.Fatalf("got %s %q\nwant %s %q", ae.ErrorCode(), ae.ErrorMessage(), code, message)
	}
}

// wantStatus checks err's HTTP status.
func wantStatus(t testing.TB, err error, status int) {
	t.Helper()
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) {
		t.Fatalf("error %v has no HTTP status", err)
	}
	if got := re.HTTPStatusCode(); got != status {
		t.Fatalf("HTTP status %d, want %d (%v)", got, status, err)
	}
}

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// fixture is a REST API with a resource and a method with a MOCK integration, ready
// to deploy.
type fixture struct {
	apiID, rootID, resID string
}

func (e *env) newAPI(t testing.TB, in *apigateway.CreateRestApiInput) *apigateway.CreateRestApiOutput {
	t.Helper()
	if in == nil {
		in = &apigateway.CreateRestApiInput{Name: aws.String("api")}
	}
	return must[*apigateway.CreateRestApiOutput](t)(e.a.CreateRestApi(ctxT(t), in))
}

func (e *env) deployable(t testing.TB, in *apigateway.CreateRestApiInput) fixture {
	t.Helper()
	ctx := ctxT(t)
	api := e.newAPI(t, in)
	res := must[*apigateway.CreateResourceOutput](t)(e.a.CreateResource(ctx, &apigateway.CreateResourceInput{
		RestApiId: api.Id, ParentId: api.RootResourceId, PathPart: aws.String("pets")}))
	must[*apigateway.PutMethodOutput](t)(e.a.PutMethod(ctx, &apigateway.PutMethodInput{
		RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("GET"), AuthorizationType: aws.String("NONE")}))
	must[*apigateway.PutIntegrationOutput](t)(e.a.PutIntegration(ctx, &apigateway.PutIntegrationInput{
		RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("GET"), Type: types.IntegrationTypeMock,
		RequestTemplates: map[string]string{"application/json": `{"statusCode": 200}`}}))
	return fixture{apiID: *api.Id, rootID: *api.RootResourceId, resID: *res.Id}
}

func patch(op types.Op, path, value string) types.PatchOperation {
	p := types.PatchOperation{Op: op, Path: aws.String(path)}
	if value != "" {
		p.Value = aws.String(value)
	}
	return p
}

type storeEntry = store.Entry

// bg is the context of calls made from helpers without a *testing.T.
func (e *env) bg() context.Context { return context.Background() }

// splitRaw splits a path on '/' without unescaping.
func splitRaw(p string) []string { return strings.Split(p, "/") }
