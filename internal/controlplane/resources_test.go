package controlplane

import (
	"fmt"
	"regexp"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
)

var resourceIDRe = regexp.MustCompile(`^[a-z0-9]{6,10}$`)

func TestResourceLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	api := e.newAPI(t, nil)
	create := func(parent, part string) *apigateway.CreateResourceOutput {
		t.Helper()
		return must[*apigateway.CreateResourceOutput](t)(e.a.CreateResource(ctx, &apigateway.CreateResourceInput{
			RestApiId: api.Id, ParentId: aws.String(parent), PathPart: aws.String(part)}))
	}
	pets := create(*api.RootResourceId, "pets")
	if !resourceIDRe.MatchString(*pets.Id) || *pets.Path != "/pets" || *pets.ParentId != *api.RootResourceId {
		t.Fatalf("CreateResource = %+v", pets)
	}
	petID := create(*pets.Id, "{petId}")
	toys := create(*petID.Id, "toys")
	if *toys.Path != "/pets/{petId}/toys" {
		t.Fatalf("nested path %q", *toys.Path)
	}
	proxy := create(*api.RootResourceId, "{proxy+}")

	// GetResources lists by path, and embeds methods on request.
	must[*apigateway.PutMethodOutput](t)(e.a.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api.Id,
		ResourceId: pets.Id, HttpMethod: aws.String("GET"), AuthorizationType: aws.String("NONE")}))
	all := must[*apigateway.GetResourcesOutput](t)(e.a.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: api.Id}))
	var paths []string
	for _, r := range all.Items {
		paths = append(paths, *r.Path)
	}
	if fmt.Sprint(paths) != "[/ /pets /pets/{petId} /pets/{petId}/toys /{proxy+}]" {
		t.Fatalf("paths %v", paths)
	}
	if m, ok := all.Items[1].ResourceMethods["GET"]; !ok || m.HttpMethod != nil {
		t.Fatalf("without embed, methods are empty objects: %+v", all.Items[1].ResourceMethods)
	}
	embedded := must[*apigateway.GetResourceOutput](t)(e.a.GetResource(ctx, &apigateway.GetResourceInput{RestApiId: api.Id,
		ResourceId: pets.Id, Embed: []string{"methods"}}))
	if m := embedded.ResourceMethods["GET"]; m.HttpMethod == nil || *m.AuthorizationType != "NONE" {
		t.Fatalf("embedded method %+v", m)
	}

	// Renaming and moving rewrite every path below.
	upd := must[*apigateway.UpdateResourceOutput](t)(e.a.UpdateResource(ctx, &apigateway.UpdateResourceInput{
		RestApiId: api.Id, ResourceId: pets.Id, PatchOperations: []types.PatchOperation{patch(types.OpReplace, "/pathPart", "dogs")}}))
	if *upd.Path != "/dogs" {
		t.Fatalf("renamed path %q", *upd.Path)
	}
	got := must[*apigateway.GetResourceOutput](t)(e.a.GetResource(ctx, &apigateway.GetResourceInput{RestApiId: api.Id, ResourceId: toys.Id}))
	if *got.Path != "/dogs/{petId}/toys" {
		t.Fatalf("descendant path %q", *got.Path)
	}
	moved := must[*apigateway.UpdateResourceOutput](t)(e.a.UpdateResource(ctx, &apigateway.UpdateResourceInput{
		RestApiId: api.Id, ResourceId: toys.Id, PatchOperations: []types.PatchOperation{patch(types.OpReplace, "/parentId", *api.RootResourceId)}}))
	if *moved.Path != "/toys" || *moved.ParentId != *api.RootResourceId {
		t.Fatalf("moved %+v", moved)
	}

	// Deleting removes the subtree.
	if _, err := e.a.DeleteResource(ctx, &apigateway.DeleteResourceInput{RestApiId: api.Id, ResourceId: pets.Id}); err != nil {
		t.Fatal(err)
	}
	_, err := e.a.GetResource(ctx, &apigateway.GetResourceInput{RestApiId: api.Id, ResourceId: petID.Id})
	wantAPIError(t, err, "NotFoundException", msgResourceNotFound)
	_, err = e.a.DeleteResource(ctx, &apigateway.DeleteResourceInput{RestApiId: api.Id, ResourceId: pets.Id})
	wantAPIError(t, err, "NotFoundException", msgResourceNotFound)
	left := must[*apigateway.GetResourcesOutput](t)(e.a.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: api.Id}))
	if len(left.Items) != 3 { // /, /toys, /{proxy+}
		t.Fatalf("left %d resources", len(left.Items))
	}
	_ = proxy
}

// TestConcurrentCreateResource creates 20 resources on one API at once: the
// read-modify-write must not lose any of them.
func TestConcurrentCreateResource(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	api := e.newAPI(t, nil)
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A client per goroutine, as independent callers would be.
			c := sdkClient(e.url)
			_, err := c.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id,
				ParentId: api.RootResourceId, PathPart: aws.String(fmt.Sprintf("r%02d", i))})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	all := must[*apigateway.GetResourcesOutput](t)(e.a.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: api.Id, Limit: aws.Int32(500)}))
	if len(all.Items) != n+1 {
		t.Fatalf("got %d resources, want %d", len(all.Items), n+1)
	}
}

// TestConcurrentWritersAcrossServers runs the same race with two Server instances on one
// store (two nodes): only the store's revisions keep them consistent.
func TestConcurrentWritersAcrossServers(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	other := New(Options{Store: e.store, Region: testRegion, Logger: testLogger()})
	urls := []string{e.url, serveAs(t, other, accountA)}
	api := e.newAPI(t, nil)
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := sdkClient(urls[i%2]).CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id,
				ParentId: api.RootResourceId, PathPart: aws.String(fmt.Sprintf("n%02d", i))})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	all := must[*apigateway.GetResourcesOutput](t)(e.a.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: api.Id, Limit: aws.Int32(500)}))
	if len(all.Items) != n+1 {
		t.Fatalf("got %d resources, want %d", len(all.Items), n+1)
	}
}
