package controlplane

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"

	"gatehouse/internal/apimodel"
)

// FuzzPatchOperations sends arbitrary patch documents to every Update* operation of one
// API. Invariants: no panic (no 500), and the stored documents stay valid: JSON that
// decodes, with a consistent resource tree.
func FuzzPatchOperations(f *testing.F) {
	e := newEnv(f)
	ctx := context.Background()
	fx := e.deployable(f, nil)
	must[*apigateway.PutMethodResponseOutput](f)(e.a.PutMethodResponse(ctx, &apigateway.PutMethodResponseInput{RestApiId: aws.String(fx.apiID),
		ResourceId: aws.String(fx.resID), HttpMethod: aws.String("GET"), StatusCode: aws.String("200")}))
	must[*apigateway.PutIntegrationResponseOutput](f)(e.a.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{RestApiId: aws.String(fx.apiID),
		ResourceId: aws.String(fx.resID), HttpMethod: aws.String("GET"), StatusCode: aws.String("200")}))
	dep := must[*apigateway.CreateDeploymentOutput](f)(e.a.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: aws.String(fx.apiID),
		StageName: aws.String("prod")}))
	base := "/restapis/" + fx.apiID
	targets := []string{
		base,
		base + "/resources/" + fx.resID,
		base + "/resources/" + fx.resID + "/methods/GET",
		base + "/resources/" + fx.resID + "/methods/GET/integration",
		base + "/resources/" + fx.resID + "/methods/GET/responses/200",
		base + "/resources/" + fx.resID + "/methods/GET/integration/responses/200",
		base + "/stages/prod",
		base + "/gatewayresponses/DEFAULT_4XX",
		base + "/deployments/" + *dep.Id,
	}

	seeds := []string{
		`{"patchOperations":[{"op":"replace","path":"/name","value":"x"}]}`,
		`{"patchOperations":[{"op":"add","path":"/binaryMediaTypes/image~1png"},{"op":"replace","path":"/endpointConfiguration/types/EDGE","value":"PRIVATE"}]}`,
		`{"patchOperations":[{"op":"add","path":"/endpointConfiguration/vpcEndpointIds","value":"vpce-1,vpce-2"}]}`,
		`{"patchOperations":[{"op":"replace","path":"/policy","value":"{\"Version\":\"2012-10-17\",\"Statement\":[]}"}]}`,
		`{"patchOperations":[{"op":"replace","path":"/pathPart","value":"{proxy+}"},{"op":"replace","path":"/parentId","value":"` + fx.rootID + `"}]}`,
		`{"patchOperations":[{"op":"add","path":"/requestParameters/method.request.path.id","value":"true"}]}`,
		`{"patchOperations":[{"op":"replace","path":"/timeoutInMillis","value":"100"},{"op":"add","path":"/requestTemplates/application~1json","value":"{}"}]}`,
		`{"patchOperations":[{"op":"replace","path":"/*/*/throttling/rateLimit","value":"5"},{"op":"remove","path":"/*/*"}]}`,
		`{"patchOperations":[{"op":"copy","from":"/canarySettings/deploymentId","path":"/deploymentId"}]}`,
		`{"patchOperations":[{"op":"replace","path":"/statusCode","value":"444"},{"op":"add","path":"/responseParameters/x","value":"'y'"}]}`,
		`{"patchOperations":[{"op":"move","path":"/a/b/c/d/e"},{"op":"test"},{}]}`,
		`{"patchOperations":null}`, `{}`, `[]`, `{"patchOperations":[{"op":1}]}`, "",
	}
	for i, s := range seeds {
		f.Add(uint8(i%len(targets)), s)
	}
	f.Fuzz(func(t *testing.T, target uint8, doc string) {
		path := targets[int(target)%len(targets)]
		req := httptest.NewRequestWithContext(ctx, "PATCH", path, strings.NewReader(doc))
		rec := httptest.NewRecorder()
		e.server.ServeAPIGateway(rec, req, Caller{Account: accountA}, []byte(doc))
		if rec.Code >= 500 {
			t.Fatalf("PATCH %s %q: %d %s", path, doc, rec.Code, rec.Body.String())
		}
		if !json.Valid(rec.Body.Bytes()) && rec.Body.Len() > 0 {
			t.Fatalf("response is not JSON: %q", rec.Body.String())
		}
		checkStoredAPI(t, e, fx.apiID)
		entry, err := e.store.Get(ctx, apimodel.BucketStages, apimodel.StageKey(fx.apiID, "prod"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := decodeStage(entry.Value); err != nil {
			t.Fatal(err)
		}
	})
}

// checkStoredAPI verifies the stored REST API decodes and its resource tree is
// consistent: every path follows from its parent's and there is no cycle.
func checkStoredAPI(t *testing.T, e *env, apiID string) {
	t.Helper()
	entry, err := e.store.Get(context.Background(), apimodel.BucketRestAPIs, apiID)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(entry.Value) {
		t.Fatalf("stored API is not JSON")
	}
	api, err := decodeAPI(entry.Value)
	if err != nil {
		t.Fatal(err)
	}
	root := api.Resources[api.RestAPI.RootResourceID]
	if root == nil || root.Path != "/" {
		t.Fatalf("root resource lost: %+v", root)
	}
	for id, r := range api.Resources {
		if id == root.ID {
			continue
		}
		parent := api.Resources[r.ParentID]
		if parent == nil {
			t.Fatalf("resource %s has no parent %s", id, r.ParentID)
		}
		if want := joinPath(parent.Path, r.PathPart); r.Path != want {
			t.Fatalf("resource %s path %q, want %q", id, r.Path, want)
		}
		if !isDescendant(api, id, root.ID) {
			t.Fatalf("resource %s is not below the root", id)
		}
	}
}
