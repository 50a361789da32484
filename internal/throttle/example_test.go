package throttle_test

import (
	"context"
	"fmt"
	"net/http"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/throttle"
)

// Example shows the data plane's use: compile the stored documents, install them, and
// ask for each request after the authorizer phase.
func Example() {
	ctx := context.Background()
	plans, err := throttle.Compile(throttle.Inputs{
		Plans: []apimodel.UsagePlan{{
			Account: "111111111111", ID: "plan1", APIStages: []apimodel.APIStage{{APIID: "api1", Stage: "prod"}},
			Throttle: &apimodel.ThrottleSettings{RateLimit: 1, BurstLimit: 1},
			Quota:    &apimodel.QuotaSettings{Limit: 1000, Period: apimodel.QuotaDay},
		}},
		Keys: []apimodel.APIKey{{Account: "111111111111", ID: "key1", Value: "k-0123456789abcdefghij", Enabled: true}},
		PlanKeys: []apimodel.UsagePlanKey{{Account: "111111111111", UsagePlanID: "plan1", KeyID: "key1",
			Type: apimodel.UsagePlanKeyTypeAPIKey}},
		Stages: []apimodel.Stage{{APIID: "api1", StageName: "prod", Account: "111111111111"}},
	})
	if err != nil {
		fmt.Println("skipped:", err)
	}
	l := throttle.New(throttle.Options{}) // Store: st to persist quotas
	defer l.Close(ctx)
	if err := l.SetPlans(ctx, plans); err != nil {
		fmt.Println(err)
	}

	h := http.Header{"X-Api-Key": {"k-0123456789abcdefghij"}}
	for range 2 {
		o, _ := l.Allow(ctx, throttle.Check{
			Account: "111111111111", APIID: "api1", Stage: "prod",
			ResourcePath: "/pets", Method: "GET",
			APIKey:      throttle.KeyFromRequest(throttle.KeySourceHeader, h, ""),
			KeyRequired: true,
		})
		if o.Result != throttle.Allowed {
			fmt.Println(o.ResponseType(), o.Message())
			continue
		}
		fmt.Println("allowed for key", o.APIKeyID)
	}
	// Output:
	// allowed for key key1
	// THROTTLED Too Many Requests
}
