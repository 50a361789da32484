package controlplane

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
)

func TestPagination(t *testing.T) {
	// A clock that ticks one second per request orders the APIs by creation.
	var mu sync.Mutex
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	e := newEnv(t, func(o *Options) {
		o.Now = func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			clock = clock.Add(time.Second)
			return clock
		}
	})
	ctx := ctxT(t)

	var created []string
	for i := range 7 {
		created = append(created, *e.newAPI(t, &apigateway.CreateRestApiInput{Name: aws.String(fmt.Sprint("api", i))}).Id)
	}

	t.Run("rest apis by pages of 3", func(t *testing.T) {
		var got []string
		var sizes []int
		p := apigateway.NewGetRestApisPaginator(e.a, &apigateway.GetRestApisInput{Limit: aws.Int32(3)})
		for p.HasMorePages() {
			page := must[*apigateway.GetRestApisOutput](t)(p.NextPage(ctx))
			sizes = append(sizes, len(page.Items))
			for _, it := range page.Items {
				got = append(got, *it.Id)
			}
		}
		if fmt.Sprint(sizes) != "[3 3 1]" || fmt.Sprint(got) != fmt.Sprint(created) {
			t.Fatalf("pages %v, ids %v, want creation order %v", sizes, got, created)
		}
	})

	// 30 resources: the default page is 25.
	api := e.newAPI(t, nil)
	for i := range 29 {
		must[*apigateway.CreateResourceOutput](t)(e.a.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id,
			ParentId: api.RootResourceId, PathPart: aws.String(fmt.Sprintf("r%02d", i))}))
	}
	t.Run("resources default limit", func(t *testing.T) {
		first := must[*apigateway.GetResourcesOutput](t)(e.a.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: api.Id}))
		if len(first.Items) != 25 || first.Position == nil {
			t.Fatalf("first page: %d items, position %v", len(first.Items), first.Position)
		}
		second := must[*apigateway.GetResourcesOutput](t)(e.a.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: api.Id, Position: first.Position}))
		if len(second.Items) != 5 || second.Position != nil || *second.Items[0].Path != "/r24" {
			t.Fatalf("second page: %d items, position %v", len(second.Items), second.Position)
		}
	})
	t.Run("limit above 500 is clamped", func(t *testing.T) {
		all := must[*apigateway.GetResourcesOutput](t)(e.a.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: api.Id, Limit: aws.Int32(1000)}))
		if len(all.Items) != 30 || all.Position != nil {
			t.Fatalf("%d items", len(all.Items))
		}
	})
	t.Run("gateway responses by 10", func(t *testing.T) {
		var sizes []int
		var pos *string
		for {
			page := must[*apigateway.GetGatewayResponsesOutput](t)(e.a.GetGatewayResponses(ctx, &apigateway.GetGatewayResponsesInput{
				RestApiId: api.Id, Limit: aws.Int32(10), Position: pos}))
			sizes = append(sizes, len(page.Items))
			if pos = page.Position; pos == nil {
				break
			}
		}
		if fmt.Sprint(sizes) != "[10 10 1]" {
			t.Fatalf("pages %v", sizes)
		}
	})
	t.Run("deployments by 1", func(t *testing.T) {
		f := e.deployable(t, nil)
		for range 3 {
			must[*apigateway.CreateDeploymentOutput](t)(e.a.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: aws.String(f.apiID)}))
		}
		n := 0
		p := apigateway.NewGetDeploymentsPaginator(e.a, &apigateway.GetDeploymentsInput{RestApiId: aws.String(f.apiID), Limit: aws.Int32(1)})
		for p.HasMorePages() {
			if len(must[*apigateway.GetDeploymentsOutput](t)(p.NextPage(ctx)).Items) != 1 {
				t.Fatal("page of one expected")
			}
			n++
		}
		if n != 3 {
			t.Fatalf("%d pages", n)
		}
	})
	t.Run("invalid position", func(t *testing.T) {
		_, err := e.a.GetRestApis(ctx, &apigateway.GetRestApisInput{Position: aws.String("!!!")})
		wantAPIError(t, err, "BadRequestException", "Invalid position parameter")
	})
	t.Run("invalid limit", func(t *testing.T) {
		_, err := e.a.GetRestApis(ctx, &apigateway.GetRestApisInput{Limit: aws.Int32(0)})
		wantAPIError(t, err, "BadRequestException", "Invalid limit: 0. The limit must be at least 1")
	})
	t.Run("stable across deletes", func(t *testing.T) {
		first := must[*apigateway.GetRestApisOutput](t)(e.a.GetRestApis(ctx, &apigateway.GetRestApisInput{Limit: aws.Int32(2)}))
		// Deleting an item already returned does not shift the next page.
		must[*apigateway.DeleteRestApiOutput](t)(e.a.DeleteRestApi(ctx, &apigateway.DeleteRestApiInput{RestApiId: first.Items[0].Id}))
		next := must[*apigateway.GetRestApisOutput](t)(e.a.GetRestApis(ctx, &apigateway.GetRestApisInput{Limit: aws.Int32(2), Position: first.Position}))
		if *next.Items[0].Id != created[2] {
			t.Fatalf("next page starts at %s, want %s", *next.Items[0].Id, created[2])
		}
	})
}
