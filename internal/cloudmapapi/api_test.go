package cloudmapapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sd "github.com/aws/aws-sdk-go-v2/service/servicediscovery"
	"github.com/aws/aws-sdk-go-v2/service/servicediscovery/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/config"
	"gatehouse/internal/store"
)

const (
	accountA = "111111111111"
	accountB = "222222222222"
	vpcA     = "vpc-0aaaaaaaaaaaaaaa1"
	vpcB     = "vpc-0bbbbbbbbbbbbbbb1"
)

const topology = `
region: us-east-1
controlPlane: {listen: 127.0.0.1:0}
publicListener: {listen: 127.0.0.1:0}
accounts:
  - {id: "111111111111", accessKeys: [{id: AKIAPROVIDER00000001, secret: s}]}
  - {id: "222222222222", accessKeys: [{id: AKIACONSUMER00000001, secret: s}]}
vpcs:
  - {id: vpc-0aaaaaaaaaaaaaaa1, account: "111111111111", cidr: 10.1.0.0/16}
  - {id: vpc-0bbbbbbbbbbbbbbb1, account: "222222222222", cidr: 10.1.0.0/16}
dnsPort: 0
`

type env struct {
	store *store.Store
	url   string
	a, b  *sd.Client
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

func newServer(t testing.TB, st *store.Store) *Server {
	t.Helper()
	topo, err := config.Parse([]byte(topology))
	if err != nil {
		t.Fatal(err)
	}
	return New(Options{Store: st, Topology: topo})
}

func serveAs(t testing.TB, s *Server, account string) string {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.ServeCloudMap(w, r, Caller{Account: account}, body)
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

// noHostPrefix keeps DiscoverInstances on the test server instead of data-127.0.0.1.
var noHostPrefix = middleware.InitializeMiddlewareFunc("noHostPrefix",
	func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		return next.HandleInitialize(smithyhttp.DisableEndpointHostPrefix(ctx, true), in)
	})

func sdkClient(url string) *sd.Client {
	return sd.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "")},
		func(o *sd.Options) {
			o.BaseEndpoint = aws.String(url)
			o.Retryer = aws.NopRetryer{}
			o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error { return s.Initialize.Add(noHostPrefix, middleware.Before) })
		})
}

func newEnv(t testing.TB) *env {
	t.Helper()
	st := openStore(t)
	s := newServer(t, st)
	e := &env{store: st, url: serveAs(t, s, accountA)}
	e.a = sdkClient(e.url)
	e.b = sdkClient(serveAs(t, s, accountB))
	return e
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

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

// namespace creates a private DNS namespace and returns its id (from GetOperation).
func (e *env) namespace(t *testing.T, name string) string {
	t.Helper()
	ctx := ctxT(t)
	out := mustT[*sd.CreatePrivateDnsNamespaceOutput](t)(e.a.CreatePrivateDnsNamespace(ctx, &sd.CreatePrivateDnsNamespaceInput{Name: aws.String(name), Vpc: aws.String(vpcA)}))
	op := mustT[*sd.GetOperationOutput](t)(e.a.GetOperation(ctx, &sd.GetOperationInput{OperationId: out.OperationId}))
	if op.Operation.Status != types.OperationStatusSuccess || op.Operation.Type != types.OperationTypeCreateNamespace {
		t.Fatalf("operation %+v", op.Operation)
	}
	return op.Operation.Targets["NAMESPACE"]
}

func TestNamespaces(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	id := e.namespace(t, "corp.internal")
	if !regexp.MustCompile(`^ns-[a-z0-9]{16}$`).MatchString(id) {
		t.Errorf("namespace id %q", id)
	}
	ns := mustT[*sd.GetNamespaceOutput](t)(e.a.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(id)})).Namespace
	if *ns.Name != "corp.internal" || ns.Type != types.NamespaceTypeDnsPrivate || *ns.Arn != "arn:aws:servicediscovery:us-east-1:111111111111:namespace/"+id ||
		*ns.Properties.HttpProperties.HttpName != "corp.internal" || *ns.Properties.DnsProperties.SOA.TTL != 15 ||
		!strings.HasPrefix(*ns.Properties.DnsProperties.HostedZoneId, "Z") || ns.CreateDate == nil || *ns.ServiceCount != 0 {
		t.Errorf("namespace %+v", ns)
	}
	// The ARN works as the id.
	mustT[*sd.GetNamespaceOutput](t)(e.a.GetNamespace(ctx, &sd.GetNamespaceInput{Id: ns.Arn}))
	httpOut := mustT[*sd.CreateHttpNamespaceOutput](t)(e.a.CreateHttpNamespace(ctx, &sd.CreateHttpNamespaceInput{Name: aws.String("apps")}))
	if httpOut.OperationId == nil {
		t.Fatal("no operation id")
	}

	tests := []struct {
		name string
		in   sd.CreatePrivateDnsNamespaceInput
		code string
		msg  string
	}{
		{"duplicate name", sd.CreatePrivateDnsNamespaceInput{Name: aws.String("corp.internal"), Vpc: aws.String(vpcA)}, "NamespaceAlreadyExists", "Namespace with name corp.internal already exists"},
		{"unknown VPC", sd.CreatePrivateDnsNamespaceInput{Name: aws.String("x.internal"), Vpc: aws.String("vpc-0123456789abcdef0")}, "InvalidInput",
			"VPC vpc-0123456789abcdef0 does not exist or does not belong to account 111111111111"},
		{"another account's VPC", sd.CreatePrivateDnsNamespaceInput{Name: aws.String("x.internal"), Vpc: aws.String(vpcB)}, "InvalidInput",
			"VPC " + vpcB + " does not exist or does not belong to account 111111111111"},
		{"invalid name", sd.CreatePrivateDnsNamespaceInput{Name: aws.String("bad name"), Vpc: aws.String(vpcA)}, "InvalidInput", "Namespace name bad name is not a valid domain name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.a.CreatePrivateDnsNamespace(ctx, &tt.in)
			wantCode(t, err, tt.code, tt.msg)
		})
	}
	t.Run("retry with the same CreatorRequestId", func(t *testing.T) {
		in := &sd.CreatePrivateDnsNamespaceInput{Name: aws.String("retry.internal"), Vpc: aws.String(vpcA), CreatorRequestId: aws.String("req-1")}
		a := mustT[*sd.CreatePrivateDnsNamespaceOutput](t)(e.a.CreatePrivateDnsNamespace(ctx, in))
		b := mustT[*sd.CreatePrivateDnsNamespaceOutput](t)(e.a.CreatePrivateDnsNamespace(ctx, in))
		if *a.OperationId != *b.OperationId {
			t.Errorf("operations %s, %s", *a.OperationId, *b.OperationId)
		}
	})
	t.Run("list and filter", func(t *testing.T) {
		all := mustT[*sd.ListNamespacesOutput](t)(e.a.ListNamespaces(ctx, &sd.ListNamespacesInput{}))
		if len(all.Namespaces) != 3 {
			t.Errorf("namespaces: %d", len(all.Namespaces))
		}
		typed := mustT[*sd.ListNamespacesOutput](t)(e.a.ListNamespaces(ctx, &sd.ListNamespacesInput{Filters: []types.NamespaceFilter{{Name: "TYPE", Values: []string{"HTTP"}}}}))
		if len(typed.Namespaces) != 1 || *typed.Namespaces[0].Name != "apps" {
			t.Errorf("HTTP namespaces %+v", typed.Namespaces)
		}
		paged := mustT[*sd.ListNamespacesOutput](t)(e.a.ListNamespaces(ctx, &sd.ListNamespacesInput{MaxResults: aws.Int32(2)}))
		if len(paged.Namespaces) != 2 || paged.NextToken == nil {
			t.Errorf("page: %d %v", len(paged.Namespaces), paged.NextToken)
		}
		other := mustT[*sd.ListNamespacesOutput](t)(e.b.ListNamespaces(ctx, &sd.ListNamespacesInput{}))
		if len(other.Namespaces) != 0 {
			t.Errorf("account B sees %d", len(other.Namespaces))
		}
	})
	t.Run("not found", func(t *testing.T) {
		_, err := e.b.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(id)})
		wantCode(t, err, "NamespaceNotFound", "Namespace not found: "+id)
		_, err = e.a.GetOperation(ctx, &sd.GetOperationInput{OperationId: aws.String("nope")})
		wantCode(t, err, "OperationNotFound", "No operation found with ID nope")
	})
}

func TestServicesAndInstances(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	nsID := e.namespace(t, "corp.internal")
	svc := mustT[*sd.CreateServiceOutput](t)(e.a.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("orders"), NamespaceId: aws.String(nsID),
		DnsConfig:               &types.DnsConfig{DnsRecords: []types.DnsRecord{{Type: types.RecordTypeSrv, TTL: aws.Int64(10)}}},
		HealthCheckCustomConfig: &types.HealthCheckCustomConfig{}})).Service
	if svc.Type != types.ServiceTypeDnsHttp || svc.DnsConfig.RoutingPolicy != types.RoutingPolicyMultivalue || !strings.HasPrefix(*svc.Id, "srv-") {
		t.Errorf("service %+v", svc)
	}
	plain := mustT[*sd.CreateServiceOutput](t)(e.a.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("plain"), NamespaceId: aws.String(nsID), Type: types.ServiceTypeOptionHttp})).Service

	serviceTests := []struct {
		name string
		in   sd.CreateServiceInput
		code string
		msg  string
	}{
		{"duplicate name", sd.CreateServiceInput{Name: aws.String("orders"), NamespaceId: aws.String(nsID)}, "ServiceAlreadyExists", "Service already exists"},
		{"unknown namespace", sd.CreateServiceInput{Name: aws.String("x"), NamespaceId: aws.String("ns-0000000000000000")}, "NamespaceNotFound", "Namespace not found: ns-0000000000000000"},
		{"route 53 health checks", sd.CreateServiceInput{Name: aws.String("x"), NamespaceId: aws.String(nsID), HealthCheckConfig: &types.HealthCheckConfig{Type: "HTTP"}}, "InvalidInput",
			"HealthCheckConfig (Route 53 health checks) is supported only for public DNS namespaces; use HealthCheckCustomConfig"},
		{"CNAME with multivalue", sd.CreateServiceInput{Name: aws.String("x"), NamespaceId: aws.String(nsID), DnsConfig: &types.DnsConfig{DnsRecords: []types.DnsRecord{{Type: "CNAME", TTL: aws.Int64(1)}}}},
			"InvalidInput", "CNAME records require the WEIGHTED routing policy"},
		{"invalid name", sd.CreateServiceInput{Name: aws.String("-x-"), NamespaceId: aws.String(nsID)}, "InvalidInput", "Service name -x- is not valid"},
	}
	for _, tt := range serviceTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.a.CreateService(ctx, &tt.in)
			wantCode(t, err, tt.code, tt.msg)
		})
	}

	register := func(svcID, id string, attrs map[string]string) error {
		_, err := e.a.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: aws.String(svcID), InstanceId: aws.String(id), Attributes: attrs})
		return err
	}
	for _, in := range []struct {
		id    string
		attrs map[string]string
	}{
		{"i-1", map[string]string{"AWS_INSTANCE_IPV4": "10.1.1.1", "AWS_INSTANCE_PORT": "8080", "stage": "prod", "deployment": "blue"}},
		{"i-2", map[string]string{"AWS_INSTANCE_IPV4": "10.1.1.2", "AWS_INSTANCE_PORT": "8080", "stage": "prod", "deployment": "green"}},
		{"i-3", map[string]string{"AWS_INSTANCE_IPV4": "10.1.1.3", "AWS_INSTANCE_PORT": "8080", "stage": "dev", "AWS_INIT_HEALTH_STATUS": "UNHEALTHY"}},
	} {
		if err := register(*svc.Id, in.id, in.attrs); err != nil {
			t.Fatal(err)
		}
	}
	attrTests := []struct {
		name  string
		svc   string
		attrs map[string]string
		msg   string
	}{
		{"SRV without a port", *svc.Id, map[string]string{"AWS_INSTANCE_IPV4": "10.1.1.9"}, "AWS_INSTANCE_PORT is required for services with an SRV record"},
		{"invalid IPv4", *svc.Id, map[string]string{"AWS_INSTANCE_IPV4": "10.1.1", "AWS_INSTANCE_PORT": "1"}, "AWS_INSTANCE_IPV4 10.1.1 is not a valid IPv4 address"},
		{"invalid port", *svc.Id, map[string]string{"AWS_INSTANCE_IPV4": "10.1.1.9", "AWS_INSTANCE_PORT": "70000"}, "AWS_INSTANCE_PORT 70000 is not a valid port: use an integer from 0 to 65535"},
		{"init health without custom checks", *plain.Id, map[string]string{"AWS_INIT_HEALTH_STATUS": "HEALTHY"}, "AWS_INIT_HEALTH_STATUS can be specified only for services with a custom health check"},
		{"bad init health", *svc.Id, map[string]string{"AWS_INSTANCE_IPV4": "10.1.1.9", "AWS_INSTANCE_PORT": "1", "AWS_INIT_HEALTH_STATUS": "MAYBE"}, "AWS_INIT_HEALTH_STATUS must be HEALTHY or UNHEALTHY"},
	}
	for _, tt := range attrTests {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, register(tt.svc, "i-x", tt.attrs), "InvalidInput", tt.msg) })
	}
	t.Run("invalid instance id", func(t *testing.T) {
		wantCode(t, register(*plain.Id, "bad id", map[string]string{}), "InvalidInput", "InstanceId bad id is not valid: use 1 to 64 characters of [0-9a-zA-Z_/:.@-]")
	})
	t.Run("unknown service", func(t *testing.T) {
		_, err := e.b.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: svc.Id, InstanceId: aws.String("i"), Attributes: map[string]string{}})
		wantCode(t, err, "ServiceNotFound", "Service not found: "+*svc.Id)
	})

	discover := func(in *sd.DiscoverInstancesInput) []string {
		t.Helper()
		in.NamespaceName, in.ServiceName = aws.String("corp.internal"), aws.String("orders")
		out := mustT[*sd.DiscoverInstancesOutput](t)(e.a.DiscoverInstances(ctx, in))
		var ids []string
		for _, i := range out.Instances {
			ids = append(ids, *i.InstanceId+":"+string(i.HealthStatus))
		}
		sort.Strings(ids)
		return ids
	}
	discoverTests := []struct {
		name string
		in   sd.DiscoverInstancesInput
		want string
	}{
		{"healthy by default", sd.DiscoverInstancesInput{}, "i-1:HEALTHY,i-2:HEALTHY"},
		{"all", sd.DiscoverInstancesInput{HealthStatus: types.HealthStatusFilterAll}, "i-1:HEALTHY,i-2:HEALTHY,i-3:UNHEALTHY"},
		{"unhealthy", sd.DiscoverInstancesInput{HealthStatus: types.HealthStatusFilterUnhealthy}, "i-3:UNHEALTHY"},
		{"query parameters", sd.DiscoverInstancesInput{QueryParameters: map[string]string{"stage": "prod", "deployment": "green"}}, "i-2:HEALTHY"},
		{"query matches nothing", sd.DiscoverInstancesInput{QueryParameters: map[string]string{"stage": "qa"}}, ""},
		{"optional parameters narrow", sd.DiscoverInstancesInput{OptionalParameters: map[string]string{"deployment": "blue"}}, "i-1:HEALTHY"},
		{"unmatched optional parameters are ignored", sd.DiscoverInstancesInput{OptionalParameters: map[string]string{"deployment": "red"}}, "i-1:HEALTHY,i-2:HEALTHY"},
		{"healthy or else all", sd.DiscoverInstancesInput{QueryParameters: map[string]string{"stage": "dev"}, HealthStatus: types.HealthStatusFilterHealthyOrElseAll}, "i-3:UNHEALTHY"},
		{"max results", sd.DiscoverInstancesInput{HealthStatus: types.HealthStatusFilterAll, MaxResults: aws.Int32(1)}, "i-1:HEALTHY"},
	}
	for _, tt := range discoverTests {
		t.Run("discover "+tt.name, func(t *testing.T) {
			if got := strings.Join(discover(&tt.in), ","); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("discover errors", func(t *testing.T) {
		_, err := e.a.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("nope"), ServiceName: aws.String("orders")})
		wantCode(t, err, "NamespaceNotFound", "Namespace not found: nope")
		_, err = e.a.DiscoverInstances(ctx, &sd.DiscoverInstancesInput{NamespaceName: aws.String("corp.internal"), ServiceName: aws.String("nope")})
		wantCode(t, err, "ServiceNotFound", "Service not found: nope")
	})

	t.Run("custom health", func(t *testing.T) {
		mustT[*sd.UpdateInstanceCustomHealthStatusOutput](t)(e.a.UpdateInstanceCustomHealthStatus(ctx, &sd.UpdateInstanceCustomHealthStatusInput{
			ServiceId: svc.Id, InstanceId: aws.String("i-1"), Status: types.CustomHealthStatusUnhealthy}))
		st := mustT[*sd.GetInstancesHealthStatusOutput](t)(e.a.GetInstancesHealthStatus(ctx, &sd.GetInstancesHealthStatusInput{ServiceId: svc.Id}))
		want := map[string]types.HealthStatus{"i-1": "UNHEALTHY", "i-2": "HEALTHY", "i-3": "UNHEALTHY"}
		if b1, b2 := mustJSON(st.Status), mustJSON(want); b1 != b2 {
			t.Errorf("status %s, want %s", b1, b2)
		}
		if got := strings.Join(discover(&sd.DiscoverInstancesInput{}), ","); got != "i-2:HEALTHY" {
			t.Errorf("healthy after update: %s", got)
		}
		_, err := e.a.UpdateInstanceCustomHealthStatus(ctx, &sd.UpdateInstanceCustomHealthStatusInput{ServiceId: svc.Id, InstanceId: aws.String("nope"), Status: "HEALTHY"})
		wantCode(t, err, "InstanceNotFound", "No instance found with ID nope")
		if err := register(*plain.Id, "p-1", map[string]string{"k": "v"}); err != nil {
			t.Fatal(err)
		}
		_, err = e.a.UpdateInstanceCustomHealthStatus(ctx, &sd.UpdateInstanceCustomHealthStatusInput{ServiceId: plain.Id, InstanceId: aws.String("p-1"), Status: "HEALTHY"})
		wantCode(t, err, "CustomHealthNotFound", "Service "+*plain.Id+" does not have a custom health check configured")
		st = mustT[*sd.GetInstancesHealthStatusOutput](t)(e.a.GetInstancesHealthStatus(ctx, &sd.GetInstancesHealthStatusInput{ServiceId: plain.Id}))
		if st.Status["p-1"] != "UNKNOWN" {
			t.Errorf("no health check: %v", st.Status)
		}
		_, err = e.a.GetInstancesHealthStatus(ctx, &sd.GetInstancesHealthStatusInput{ServiceId: svc.Id, Instances: []string{"i-1", "zz"}})
		wantCode(t, err, "InstanceNotFound", "No instance found with ID zz")
	})

	t.Run("list, deregister and delete", func(t *testing.T) {
		list := mustT[*sd.ListInstancesOutput](t)(e.a.ListInstances(ctx, &sd.ListInstancesInput{ServiceId: svc.Id}))
		if len(list.Instances) != 3 || list.Instances[0].Attributes["stage"] != "prod" {
			t.Errorf("instances %+v", list.Instances)
		}
		got := mustT[*sd.GetServiceOutput](t)(e.a.GetService(ctx, &sd.GetServiceInput{Id: svc.Id})).Service
		if *got.InstanceCount != 3 {
			t.Errorf("instance count %d", *got.InstanceCount)
		}
		ns := mustT[*sd.GetNamespaceOutput](t)(e.a.GetNamespace(ctx, &sd.GetNamespaceInput{Id: aws.String(nsID)})).Namespace
		if *ns.ServiceCount != 2 {
			t.Errorf("service count %d", *ns.ServiceCount)
		}
		_, err := e.a.DeleteService(ctx, &sd.DeleteServiceInput{Id: svc.Id})
		wantCode(t, err, "ResourceInUse", "Service "+*svc.Id+" has registered instances; deregister them first")
		_, err = e.a.DeleteNamespace(ctx, &sd.DeleteNamespaceInput{Id: aws.String(nsID)})
		wantCode(t, err, "ResourceInUse", "Namespace "+nsID+" has associated services; delete them first")
		for _, id := range []string{"i-1", "i-2", "i-3"} {
			op := mustT[*sd.DeregisterInstanceOutput](t)(e.a.DeregisterInstance(ctx, &sd.DeregisterInstanceInput{ServiceId: svc.Id, InstanceId: aws.String(id)}))
			got := mustT[*sd.GetOperationOutput](t)(e.a.GetOperation(ctx, &sd.GetOperationInput{OperationId: op.OperationId}))
			if got.Operation.Type != types.OperationTypeDeregisterInstance || got.Operation.Targets["INSTANCE"] != id {
				t.Errorf("operation %+v", got.Operation)
			}
		}
		_, err = e.a.DeregisterInstance(ctx, &sd.DeregisterInstanceInput{ServiceId: svc.Id, InstanceId: aws.String("i-1")})
		wantCode(t, err, "InstanceNotFound", "No instance found with ID i-1")
		mustT[*sd.DeleteServiceOutput](t)(e.a.DeleteService(ctx, &sd.DeleteServiceInput{Id: svc.Id}))
		_, err = e.a.GetService(ctx, &sd.GetServiceInput{Id: svc.Id})
		wantCode(t, err, "ServiceNotFound", "Service not found: "+*svc.Id)
		services := mustT[*sd.ListServicesOutput](t)(e.a.ListServices(ctx, &sd.ListServicesInput{Filters: []types.ServiceFilter{{Name: "NAMESPACE_ID", Values: []string{nsID}}}}))
		if len(services.Services) != 1 || *services.Services[0].Name != "plain" {
			t.Errorf("services %+v", services.Services)
		}
	})
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestStoredInstance(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	nsID := e.namespace(t, "corp.internal")
	svc := mustT[*sd.CreateServiceOutput](t)(e.a.CreateService(ctx, &sd.CreateServiceInput{Name: aws.String("s"), NamespaceId: aws.String(nsID)})).Service
	mustT[*sd.RegisterInstanceOutput](t)(e.a.RegisterInstance(ctx, &sd.RegisterInstanceInput{ServiceId: svc.Id, InstanceId: aws.String("arn:x/y@z"),
		Attributes: map[string]string{"AWS_INSTANCE_IPV4": "10.1.1.1", "AWS_INSTANCE_PORT": "80"}}))
	ent, err := e.store.Get(ctx, apimodel.BucketCloudMap, apimodel.InstanceKey(accountA, *svc.Id, "arn:x/y@z"))
	if err != nil {
		t.Fatal(err)
	}
	var inst apimodel.Instance
	if err := json.Unmarshal(ent.Value, &inst); err != nil {
		t.Fatal(err)
	}
	if inst.ID != "arn:x/y@z" || inst.ServiceID != *svc.Id || inst.Attributes["AWS_INSTANCE_PORT"] != "80" || inst.HealthStatus != "" {
		t.Errorf("stored %+v", inst)
	}
}

func TestWire(t *testing.T) {
	e := newEnv(t)
	post := func(target, body string) (int, http.Header, map[string]string) {
		req, _ := http.NewRequest(http.MethodPost, e.url, strings.NewReader(body))
		req.Header.Set("X-Amz-Target", target)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]string
		b, _ := io.ReadAll(resp.Body)
		_ = json.Unmarshal(b, &out)
		return resp.StatusCode, resp.Header, out
	}
	tests := []struct {
		name, target, body string
		status             int
		code               string
	}{
		{"unknown operation", "Route53AutoNaming_v20170314.CreatePublicDnsNamespace", "{}", 400, "UnknownOperationException"},
		{"wrong prefix", "Other.GetNamespace", "{}", 400, "UnknownOperationException"},
		{"malformed JSON", "Route53AutoNaming_v20170314.GetNamespace", "{", 400, "SerializationException"},
		{"missing id", "Route53AutoNaming_v20170314.GetNamespace", "{}", 400, "InvalidInput"},
		{"id with bad characters", "Route53AutoNaming_v20170314.GetNamespace", `{"Id":"a.b*"}`, 400, "NamespaceNotFound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, out := post(tt.target, tt.body)
			if status != tt.status || out["__type"] != tt.code || h.Get("X-Amzn-Errortype") != tt.code || h.Get("Content-Type") != "application/x-amz-json-1.1" {
				t.Errorf("got %d %v %v", status, out, h)
			}
		})
	}
}

func FuzzServe(f *testing.F) {
	for _, seed := range []string{`{}`, `{"Name":"a.b","Vpc":"vpc-0aaaaaaaaaaaaaaa1"}`, `{"Id":"ns-x"}`,
		`{"ServiceId":"srv-1","InstanceId":"i","Attributes":{"AWS_INSTANCE_IPV4":"1.2.3.4"}}`,
		`{"NamespaceName":"a","ServiceName":"b","QueryParameters":{"a":"b"},"MaxResults":0}`, `[`, `{"Filters":[{"Name":"TYPE","Values":[],"Condition":"EQ"}]}`} {
		for _, op := range []string{"CreatePrivateDnsNamespace", "GetNamespace", "RegisterInstance", "DiscoverInstances", "ListNamespaces"} {
			f.Add(op, seed)
		}
	}
	st := openStore(f)
	s := newServer(f, st)
	f.Fuzz(func(t *testing.T, op, body string) {
		r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		r.Header.Set("X-Amz-Target", TargetPrefix+op)
		w := httptest.NewRecorder()
		s.ServeCloudMap(w, r, Caller{Account: accountA}, []byte(body))
		if w.Code == http.StatusInternalServerError {
			t.Fatalf("500 for %s %q: %s", op, body, w.Body.String())
		}
		if !json.Valid(w.Body.Bytes()) {
			t.Fatalf("invalid JSON for %s %q: %s", op, body, w.Body.String())
		}
	})
}

// TestCLI drives the aws CLI; DiscoverInstances needs AWS_DISABLE_HOST_PREFIX_INJECTION
// (or a resolvable data-{host} name) because botocore sends it to data-{endpoint host}.
func TestCLI(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws CLI not installed")
	}
	e := newEnv(t)
	run := func(args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command("aws", append(args, "--endpoint-url", e.url, "--output", "json")...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY=secret", "AWS_DEFAULT_REGION=us-east-1",
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_MAX_ATTEMPTS=1", "AWS_DISABLE_HOST_PREFIX_INJECTION=true")
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, stderr.String())
		}
		var out map[string]any
		if stdout.Len() > 0 {
			if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
				t.Fatalf("aws %v output %q: %v", args, stdout.String(), err)
			}
		}
		return out
	}
	op := run("servicediscovery", "create-http-namespace", "--name", "apps")
	got := run("servicediscovery", "get-operation", "--operation-id", op["OperationId"].(string))
	nsID := got["Operation"].(map[string]any)["Targets"].(map[string]any)["NAMESPACE"].(string)
	svc := run("servicediscovery", "create-service", "--name", "orders", "--namespace-id", nsID)
	svcID := svc["Service"].(map[string]any)["Id"].(string)
	run("servicediscovery", "register-instance", "--service-id", svcID, "--instance-id", "i-1",
		"--attributes", "AWS_INSTANCE_IPV4=10.1.1.1,AWS_INSTANCE_PORT=8080,stage=prod")
	run("servicediscovery", "register-instance", "--service-id", svcID, "--instance-id", "i-2",
		"--attributes", "AWS_INSTANCE_IPV4=10.1.1.2,AWS_INSTANCE_PORT=8080,stage=dev")
	out := run("servicediscovery", "discover-instances", "--namespace-name", "apps", "--service-name", "orders", "--query-parameters", "stage=prod")
	insts := out["Instances"].([]any)
	if len(insts) != 1 || insts[0].(map[string]any)["InstanceId"] != "i-1" || insts[0].(map[string]any)["Attributes"].(map[string]any)["AWS_INSTANCE_PORT"] != "8080" {
		t.Errorf("discover-instances: %v", out)
	}
}
