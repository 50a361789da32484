package throttle

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/controlplane"
	"gatehouse/internal/store"
)

// TestGetUsageReadsWhatThrottleCounts is the contract between the two halves: the usage
// plan, key and membership are created through the control plane's API (AWS SDK over
// HTTP), compiled from the documents it stored, enforced by limiters on the same store,
// and GetUsage reports exactly the requests the limiters counted — and the remaining
// quota they enforce, before and after SetRemaining.
func TestGetUsageReadsWhatThrottleCounts(t *testing.T) {
	st := openStore(t, t.TempDir())
	t.Cleanup(func() { st.Close() })
	ctx := testCtx(t)
	clk := newClock(day(13).Add(10 * time.Hour)) // Monday 2024-05-13
	cp := controlplane.New(controlplane.Options{Store: st, Region: "us-east-1", Now: clk.Now})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		cp.ServeAPIGateway(w, r, controlplane.Caller{Account: acct, AccessKeyID: "AKIDEXAMPLE"}, body)
	}))
	t.Cleanup(ts.Close)
	sdk := apigateway.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	}, func(o *apigateway.Options) {
		o.BaseEndpoint = aws.String(ts.URL)
		o.Retryer = aws.NopRetryer{}
	})
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	// The control plane side: an API with a key-required GET /pets on stage prod, a key,
	// and a usage plan with a WEEK quota of 5 holding the key.
	api, err := sdk.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("pets")})
	must(api, err)
	res, err := sdk.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: api.RootResourceId, PathPart: aws.String("pets")})
	must(res, err)
	must(sdk.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("GET"),
		AuthorizationType: aws.String("NONE"), ApiKeyRequired: true}))
	must(sdk.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("GET"),
		Type: types.IntegrationTypeMock, RequestTemplates: map[string]string{"application/json": `{"statusCode": 200}`}}))
	must(sdk.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id, StageName: aws.String(stage)}))
	key, err := sdk.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("k"), Enabled: true, Value: aws.String(keyValue)})
	must(key, err)
	plan, err := sdk.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{Name: aws.String("gold"),
		ApiStages: []types.ApiStage{{ApiId: api.Id, Stage: aws.String(stage)}},
		Quota:     &types.QuotaSettings{Limit: 5, Period: types.QuotaPeriodTypeWeek}})
	must(plan, err)
	must(sdk.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: plan.Id, KeyId: key.Id, KeyType: aws.String("API_KEY")}))

	// The data plane side: compile what the control plane stored.
	var in Inputs
	in.Plans = listDocs[apimodel.UsagePlan](t, st, apimodel.BucketUsagePlans)
	in.Keys = listDocs[apimodel.APIKey](t, st, apimodel.BucketAPIKeys)
	in.PlanKeys = listDocs[apimodel.UsagePlanKey](t, st, apimodel.BucketUsagePlanKeys)
	in.Stages = listDocs[apimodel.Stage](t, st, apimodel.BucketStages)
	p, err := Compile(in)
	if err != nil {
		t.Fatalf("Compile of the control plane's documents: %v", err)
	}
	req := Check{Account: acct, APIID: *api.Id, Stage: stage, ResourcePath: "/pets", Method: "GET", APIKey: keyValue, KeyRequired: true}
	node := func() *Limiter {
		l := New(Options{Store: st, Now: clk.Now})
		t.Cleanup(func() { _ = l.Close(ctx) })
		if err := l.SetPlans(ctx, p); err != nil {
			t.Fatal(err)
		}
		return l
	}
	send := func(l *Limiter, n int) []Result {
		var out []Result
		for range n {
			o := allow(t, l, req)
			if o.Result == Allowed && (o.APIKeyID != *key.Id || o.UsagePlanID != *plan.Id) {
				t.Fatalf("identity %s/%s, want %s/%s", o.APIKeyID, o.UsagePlanID, *key.Id, *plan.Id)
			}
			out = append(out, o.Result)
		}
		return out
	}
	usage := func() string {
		t.Helper()
		u, err := sdk.GetUsage(ctx, &apigateway.GetUsageInput{UsagePlanId: plan.Id,
			StartDate: aws.String("2024-05-12"), EndDate: aws.String("2024-05-15")})
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(u.Items[*key.Id])
	}

	// Monday: node a admits 3 and writes them back.
	a := node()
	if got := fmt.Sprint(send(a, 3)); got != "[Allowed Allowed Allowed]" {
		t.Fatalf("Monday: %s", got)
	}
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := usage(), "[[0 5] [3 2] [0 2] [0 2]]"; got != want {
		t.Fatalf("GetUsage after Monday = %s, want %s", got, want)
	}

	// Tuesday: node b starts (loading the week so far) and is refused once GetUsage's
	// remaining reaches 0.
	clk.Set(day(14).Add(9 * time.Hour))
	b := node()
	if got := fmt.Sprint(send(b, 4)); got != "[Allowed Allowed QuotaExceeded QuotaExceeded]" {
		t.Fatalf("Tuesday: %s", got)
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := usage(), "[[0 5] [3 2] [2 0] [0 0]]"; got != want {
		t.Fatalf("GetUsage after Tuesday = %s, want %s", got, want)
	}

	// UpdateUsage's remaining=3: GetUsage shows 3 left today, and b admits exactly 3.
	if err := b.SetRemaining(ctx, *plan.Id, *key.Id, 3); err != nil {
		t.Fatal(err)
	}
	if got, want := usage(), "[[0 5] [2 3] [0 3] [0 3]]"; got != want {
		t.Fatalf("GetUsage after SetRemaining = %s, want %s", got, want)
	}
	if got := fmt.Sprint(send(b, 4)); got != "[Allowed Allowed Allowed QuotaExceeded]" {
		t.Fatalf("after SetRemaining: %s", got)
	}
	if err := b.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if got, want := usage(), "[[0 5] [2 3] [3 0] [0 0]]"; got != want {
		t.Fatalf("GetUsage at the end = %s, want %s", got, want)
	}
}

// listDocs reads every document of a bucket.
func listDocs[T any](t *testing.T, st *store.Store, bucket string) []T {
	t.Helper()
	entries, err := st.List(testCtx(t), bucket, "")
	if err != nil {
		t.Fatal(err)
	}
	out := make([]T, 0, len(entries))
	for _, e := range entries {
		var v T
		if err := json.Unmarshal(e.Value, &v); err != nil {
			t.Fatalf("%s/%s: %v", bucket, e.Key, err)
		}
		out = append(out, v)
	}
	return out
}
