package controlplane

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"gatehouse/internal/apimodel"
)

const (
	nlbARN   = "arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/net/my-nlb/0123456789abcdef"
	nlbARN2  = "arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/net/other/0123456789abcde0"
	albARN   = "arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/app/my-alb/0123456789abcdea"
	nlbARNB  = "arn:aws:elasticloadbalancing:us-east-1:222222222222:loadbalancer/net/b-nlb/0123456789abcdef"
	missingN = "arn:aws:elasticloadbalancing:us-east-1:111111111111:loadbalancer/net/gone/0000000000000000"
)

// fakeClock is a settable clock.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }

// putNLB stores a load balancer document as the ELBv2 API would.
func putNLB(t testing.TB, e *env, account, arn string) {
	t.Helper()
	a, err := apimodel.ParseELBARN(arn)
	if err != nil {
		t.Fatal(err)
	}
	typ := apimodel.LoadBalancerNetwork
	if a.LBType == "app" {
		typ = apimodel.LoadBalancerApplication
	}
	b, _ := json.Marshal(apimodel.LoadBalancer{Account: account, LoadBalancerArn: arn, LoadBalancerName: a.Name, Type: typ,
		State: apimodel.LoadBalancerState{Code: "active"}})
	if _, err := e.store.Create(ctxT(t), apimodel.BucketELB, apimodel.LoadBalancerKey(account, a.ID), b); err != nil {
		t.Fatal(err)
	}
}

func TestVpcLinkLifecycle(t *testing.T) {
	clock := newFakeClock()
	e := newEnv(t, func(o *Options) { o.Now = clock.now })
	ctx := ctxT(t)
	putNLB(t, e, accountA, nlbARN)
	putNLB(t, e, accountA, albARN)
	putNLB(t, e, accountB, nlbARNB)

	created := must[*apigateway.CreateVpcLinkOutput](t)(e.a.CreateVpcLink(ctx, &apigateway.CreateVpcLinkInput{
		Name: aws.String("link"), Description: aws.String("to the NLB"), TargetArns: []string{nlbARN}, Tags: map[string]string{"team": "a"}}))
	if created.Status != types.VpcLinkStatusPending || len(*created.Id) != 6 || created.TargetArns[0] != nlbARN || created.Tags["team"] != "a" {
		t.Errorf("created %+v", created)
	}
	got := must[*apigateway.GetVpcLinkOutput](t)(e.a.GetVpcLink(ctx, &apigateway.GetVpcLinkInput{VpcLinkId: created.Id}))
	if got.Status != types.VpcLinkStatusAvailable || *got.Name != "link" || *got.Description != "to the NLB" {
		t.Errorf("after settling %+v", got)
	}

	tests := []struct {
		name string
		in   apigateway.CreateVpcLinkInput
		code string
		msg  string
	}{
		{"empty name", apigateway.CreateVpcLinkInput{Name: aws.String(" "), TargetArns: []string{nlbARN}}, "BadRequestException", "VPC link name must not be empty"},
		{"no targets", apigateway.CreateVpcLinkInput{Name: aws.String("l"), TargetArns: []string{}}, "BadRequestException", "A VPC link must target exactly one network load balancer"},
		{"two targets", apigateway.CreateVpcLinkInput{Name: aws.String("l"), TargetArns: []string{nlbARN, nlbARN}}, "BadRequestException", "A VPC link must target exactly one network load balancer"},
		{"malformed ARN", apigateway.CreateVpcLinkInput{Name: aws.String("l"), TargetArns: []string{"nlb"}}, "BadRequestException", "NLB ARN is malformed: nlb"},
		{"target group ARN", apigateway.CreateVpcLinkInput{Name: aws.String("l"), TargetArns: []string{"arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/t/0123456789abcdef"}},
			"BadRequestException", "NLB ARN is malformed: arn:aws:elasticloadbalancing:us-east-1:111111111111:targetgroup/t/0123456789abcdef"},
		{"application load balancer", apigateway.CreateVpcLinkInput{Name: aws.String("l"), TargetArns: []string{albARN}}, "BadRequestException",
			"The target " + albARN + " is not a network load balancer"},
		{"unknown load balancer", apigateway.CreateVpcLinkInput{Name: aws.String("l"), TargetArns: []string{missingN}}, "BadRequestException",
			"The network load balancer " + missingN + " does not exist in account 111111111111"},
		{"another account's load balancer", apigateway.CreateVpcLinkInput{Name: aws.String("l"), TargetArns: []string{nlbARNB}}, "BadRequestException",
			"The network load balancer " + nlbARNB + " does not exist in account 111111111111"},
		{"reserved tag", apigateway.CreateVpcLinkInput{Name: aws.String("l"), TargetArns: []string{nlbARN}, Tags: map[string]string{"aws:x": "y"}}, "BadRequestException",
			"Tag keys starting with 'aws:' are reserved for AWS use"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.a.CreateVpcLink(ctx, &tt.in)
			wantAPIError(t, err, tt.code, tt.msg)
		})
	}
	t.Run("missing members", func(t *testing.T) {
		resp, err := http.Post(e.url+"/vpclinks", "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		want := `{"message":"2 validation errors detected: Value null at 'createVpcLinkInput.name' failed to satisfy constraint: Member must not be null; ` +
			`Value null at 'createVpcLinkInput.targetArns' failed to satisfy constraint: Member must not be null"}`
		if resp.StatusCode != 400 || resp.Header.Get("X-Amzn-Errortype") != "ValidationException" || string(b) != want {
			t.Errorf("got %d %s %s", resp.StatusCode, resp.Header.Get("X-Amzn-Errortype"), b)
		}
	})
	t.Run("other account cannot see it", func(t *testing.T) {
		_, err := e.b.GetVpcLink(ctx, &apigateway.GetVpcLinkInput{VpcLinkId: created.Id})
		wantAPIError(t, err, "NotFoundException", "Invalid VPC link identifier specified")
		out := must[*apigateway.GetVpcLinksOutput](t)(e.b.GetVpcLinks(ctx, &apigateway.GetVpcLinksInput{}))
		if len(out.Items) != 0 {
			t.Errorf("account B lists %d", len(out.Items))
		}
	})
	t.Run("update", func(t *testing.T) {
		out := must[*apigateway.UpdateVpcLinkOutput](t)(e.a.UpdateVpcLink(ctx, &apigateway.UpdateVpcLinkInput{VpcLinkId: created.Id,
			PatchOperations: []types.PatchOperation{patch(types.OpReplace, "/name", "renamed"), patch(types.OpRemove, "/description", "")}}))
		if *out.Name != "renamed" || out.Description != nil {
			t.Errorf("updated %+v", out)
		}
		_, err := e.a.UpdateVpcLink(ctx, &apigateway.UpdateVpcLinkInput{VpcLinkId: created.Id,
			PatchOperations: []types.PatchOperation{patch(types.OpReplace, "/targetArns", nlbARN)}})
		wantAPIError(t, err, "BadRequestException", "Invalid patch path /targetArns")
	})
	t.Run("list and paginate", func(t *testing.T) {
		must[*apigateway.CreateVpcLinkOutput](t)(e.a.CreateVpcLink(ctx, &apigateway.CreateVpcLinkInput{Name: aws.String("second"), TargetArns: []string{nlbARN}}))
		all := must[*apigateway.GetVpcLinksOutput](t)(e.a.GetVpcLinks(ctx, &apigateway.GetVpcLinksInput{}))
		if len(all.Items) != 2 || all.Items[0].Status != types.VpcLinkStatusAvailable || all.Items[1].Status != types.VpcLinkStatusAvailable {
			t.Errorf("links %+v", all.Items)
		}
		page := must[*apigateway.GetVpcLinksOutput](t)(e.a.GetVpcLinks(ctx, &apigateway.GetVpcLinksInput{Limit: aws.Int32(1)}))
		if len(page.Items) != 1 || page.Position == nil {
			t.Errorf("page %+v", page)
		}
	})
	t.Run("delete", func(t *testing.T) {
		out, err := e.a.DeleteVpcLink(ctx, &apigateway.DeleteVpcLinkInput{VpcLinkId: created.Id})
		if err != nil {
			t.Fatal(err)
		}
		_ = out
		got := must[*apigateway.GetVpcLinkOutput](t)(e.a.GetVpcLink(ctx, &apigateway.GetVpcLinkInput{VpcLinkId: created.Id}))
		if got.Status != types.VpcLinkStatusDeleting {
			t.Errorf("status after delete %s", got.Status)
		}
		clock.advance(3 * time.Second)
		_, err = e.a.GetVpcLink(ctx, &apigateway.GetVpcLinkInput{VpcLinkId: created.Id})
		wantAPIError(t, err, "NotFoundException", "Invalid VPC link identifier specified")
		if _, err := e.store.Get(ctx, apimodel.BucketVpcLinks, apimodel.VpcLinkKey(accountA, *created.Id)); err == nil {
			t.Error("deleted link still stored")
		}
		_, err = e.a.DeleteVpcLink(ctx, &apigateway.DeleteVpcLinkInput{VpcLinkId: created.Id})
		wantAPIError(t, err, "NotFoundException", "Invalid VPC link identifier specified")
	})
	t.Run("load balancer gone before settling", func(t *testing.T) {
		putNLB(t, e, accountA, nlbARN2)
		l := must[*apigateway.CreateVpcLinkOutput](t)(e.a.CreateVpcLink(ctx, &apigateway.CreateVpcLinkInput{Name: aws.String("l"), TargetArns: []string{nlbARN2}}))
		a, _ := apimodel.ParseELBARN(nlbARN2)
		if err := e.store.Delete(ctx, apimodel.BucketELB, apimodel.LoadBalancerKey(accountA, a.ID), 0); err != nil {
			t.Fatal(err)
		}
		got := must[*apigateway.GetVpcLinkOutput](t)(e.a.GetVpcLink(ctx, &apigateway.GetVpcLinkInput{VpcLinkId: l.Id}))
		if got.Status != types.VpcLinkStatusFailed || *got.StatusMessage != "NLB ARN "+nlbARN2+" could not be found" {
			t.Errorf("got %s %v", got.Status, got.StatusMessage)
		}
	})
}

// linkChecker is a VpcLinkChecker whose verdict a test sets; it counts calls.
type linkChecker struct {
	mu      sync.Mutex
	verdict map[string][2]string // link id → status, message
	calls   map[string]int
	// flipAfter makes a PENDING link AVAILABLE after that many checks (0: never).
	flipAfter int
}

func (l *linkChecker) check(_ context.Context, rec *apimodel.VpcLinkRecord) (string, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	id := rec.LinkID()
	l.calls[id]++
	if v, ok := l.verdict[id]; ok {
		return v[0], v[1]
	}
	if l.flipAfter > 0 && l.calls[id] >= l.flipAfter {
		return apimodel.VpcLinkAvailable, ""
	}
	return apimodel.VpcLinkPending, ""
}

func (l *linkChecker) set(id, status, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.verdict[id] = [2]string{status, msg}
}

// vpcLinkAPI creates a REST API whose GET /pets integration goes through connectionID.
func (e *env) vpcLinkAPI(t *testing.T, connectionID string) string {
	t.Helper()
	ctx := ctxT(t)
	f := e.deployable(t, nil)
	must[*apigateway.PutIntegrationOutput](t)(e.a.PutIntegration(ctx, &apigateway.PutIntegrationInput{
		RestApiId: aws.String(f.apiID), ResourceId: aws.String(f.resID), HttpMethod: aws.String("GET"), Type: types.IntegrationTypeHttpProxy,
		IntegrationHttpMethod: aws.String("GET"), Uri: aws.String("http://my-nlb.example.com/pets"),
		ConnectionType: types.ConnectionTypeVpcLink, ConnectionId: aws.String(connectionID)}))
	return f.apiID
}

func TestDeploymentWaitsForVpcLinks(t *testing.T) {
	clock := newFakeClock()
	lc := &linkChecker{verdict: map[string][2]string{}, calls: map[string]int{}, flipAfter: 3}
	e := newEnv(t, func(o *Options) {
		o.Now = clock.now
		o.VpcLinkCheck = lc.check
		o.VpcLinkWait = 10 * time.Second
	})
	ctx := ctxT(t)
	putNLB(t, e, accountA, nlbARN)
	link := func() string {
		return *must[*apigateway.CreateVpcLinkOutput](t)(e.a.CreateVpcLink(ctx, &apigateway.CreateVpcLinkInput{Name: aws.String("l"), TargetArns: []string{nlbARN}})).Id
	}

	t.Run("pending link is waited for", func(t *testing.T) {
		id := link()
		apiID := e.vpcLinkAPI(t, id)
		must[*apigateway.CreateDeploymentOutput](t)(e.a.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: aws.String(apiID), StageName: aws.String("prod")}))
		lc.mu.Lock()
		calls := lc.calls[id]
		lc.mu.Unlock()
		if calls < 3 {
			t.Errorf("check called %d times", calls)
		}
		got := must[*apigateway.GetVpcLinkOutput](t)(e.a.GetVpcLink(ctx, &apigateway.GetVpcLinkInput{VpcLinkId: aws.String(id)}))
		if got.Status != types.VpcLinkStatusAvailable {
			t.Errorf("status %s", got.Status)
		}
	})
	t.Run("failed link fails the deployment", func(t *testing.T) {
		id := link()
		lc.set(id, apimodel.VpcLinkFailed, "NLB has no healthy targets")
		apiID := e.vpcLinkAPI(t, id)
		_, err := e.a.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: aws.String(apiID), StageName: aws.String("prod")})
		wantAPIError(t, err, "BadRequestException", "VPC link "+id+" is in FAILED state: NLB has no healthy targets")
		got := must[*apigateway.GetVpcLinkOutput](t)(e.a.GetVpcLink(ctx, &apigateway.GetVpcLinkInput{VpcLinkId: aws.String(id)}))
		if got.Status != types.VpcLinkStatusFailed || *got.StatusMessage != "NLB has no healthy targets" {
			t.Errorf("link %s %v", got.Status, got.StatusMessage)
		}
	})
	t.Run("deleting link fails the deployment", func(t *testing.T) {
		id := link()
		apiID := e.vpcLinkAPI(t, id)
		if _, err := e.a.DeleteVpcLink(ctx, &apigateway.DeleteVpcLinkInput{VpcLinkId: aws.String(id)}); err != nil {
			t.Fatal(err)
		}
		_, err := e.a.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: aws.String(apiID), StageName: aws.String("prod")})
		wantAPIError(t, err, "BadRequestException", "VPC link "+id+" is being deleted and cannot be used by a deployment")
	})
	t.Run("link that never settles", func(t *testing.T) {
		id := link()
		lc.set(id, apimodel.VpcLinkPending, "")
		e2 := newEnv(t, func(o *Options) { o.VpcLinkCheck = lc.check; o.VpcLinkWait = 300 * time.Millisecond })
		// The second environment has its own store: copy the link and the NLB there.
		putNLB(t, e2, accountA, nlbARN)
		ent, err := e.store.Get(ctx, apimodel.BucketVpcLinks, apimodel.VpcLinkKey(accountA, id))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e2.store.Create(ctx, apimodel.BucketVpcLinks, ent.Key, ent.Value); err != nil {
			t.Fatal(err)
		}
		apiID := e2.vpcLinkAPI(t, id)
		_, err = e2.a.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: aws.String(apiID)})
		wantAPIError(t, err, "BadRequestException", "VPC link "+id+" is still PENDING; try again when it is AVAILABLE")
	})
	t.Run("stage variable connection id", func(t *testing.T) {
		id := link()
		lc.set(id, apimodel.VpcLinkFailed, "bad")
		apiID := e.vpcLinkAPI(t, "${stageVariables.vpcLinkId}")
		// Without the variable there is nothing to check.
		must[*apigateway.CreateDeploymentOutput](t)(e.a.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: aws.String(apiID)}))
		_, err := e.a.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: aws.String(apiID), StageName: aws.String("prod"),
			Variables: map[string]string{"vpcLinkId": id}})
		wantAPIError(t, err, "BadRequestException", "VPC link "+id+" is in FAILED state: bad")
	})
	t.Run("unknown link ids are left to the data plane", func(t *testing.T) {
		apiID := e.vpcLinkAPI(t, "nolink")
		must[*apigateway.CreateDeploymentOutput](t)(e.a.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: aws.String(apiID), StageName: aws.String("prod")}))
	})
}

func TestVpcLinkQuota(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	putNLB(t, e, accountA, nlbARN)
	for i := 0; i < maxVpcLinksV1; i++ {
		must[*apigateway.CreateVpcLinkOutput](t)(e.a.CreateVpcLink(ctx, &apigateway.CreateVpcLinkInput{Name: aws.String("l"), TargetArns: []string{nlbARN}}))
	}
	_, err := e.a.CreateVpcLink(ctx, &apigateway.CreateVpcLinkInput{Name: aws.String("l"), TargetArns: []string{nlbARN}})
	wantAPIError(t, err, "LimitExceededException", "The maximum number of VPC links (20) for this account has been reached")
}
