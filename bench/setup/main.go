// Command setup configures a running gatehouse for the benchmark through its control plane
// (aws-sdk-go-v2 apigateway), and makes the RS256 key and token the JWT peers verify.
//
//	setup apis  [flags]        create the mode (a), (b) and (b+log) APIs; print JSON
//	setup many  [flags] -n 99  create N more public APIs like mode (a)'s; print JSON
//	setup vpclinks [flags] NAME=NLB...  for each network load balancer of the topology, a
//	                           VPC link (v1) and a public API whose /{proxy+} goes through it;
//	                           print {"NAME": "api id"} (bench/vpclink)
//	setup jwt   -dir DIR       write DIR/jwt-pub.pem, DIR/jwks.json and DIR/jwt.token (RS256,
//	                           2048-bit, iss = -issuer)
//
// Modes (c) and (d) need authorizers, API keys and usage plans: "apis" first checks end to
// end that gatehouse enforces authorizers (probeAuthorizers), then sets up mode (c), a JWT
// authorizer (setupModeC), and mode (d), a cached Lambda authorizer run by gatehouse's
// function host (setupModeD; the function is bench/authorizer, declared in
// bench/topology.yaml). A mode that cannot be set up is listed under "unavailable" with the
// reason; bench/run measures every mode under "modes".
package main

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/smithy-go"
)

// options are the flags shared by the subcommands.
type options struct {
	controlPlane string // http://host:port
	region       string
	accessKey    string
	secret       string
	account      string
	backend      string // http://host:port of the origin
	vpce         string
	publicHTTP   string // host:port of the public plain-HTTP listener
	endpointHTTP string // host:port of the VPC endpoint's plain-HTTP listener
	source       string // a source address inside the VPC, for the readiness probe
	logGroup     string
	n            int
	dir          string
	issuer       string
}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "setup:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("usage: setup apis|many|jwt|vpclinks [flags]")
	}
	var o options
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.StringVar(&o.controlPlane, "cp", "http://127.0.0.1:18566", "control plane URL")
	fs.StringVar(&o.region, "region", "us-east-1", "region")
	fs.StringVar(&o.accessKey, "access-key", "AKIAPROVIDER00000001", "access key id")
	fs.StringVar(&o.secret, "secret", "provider-secret", "secret access key")
	fs.StringVar(&o.account, "account", "111111111111", "account id (for the log group ARN)")
	fs.StringVar(&o.backend, "backend", "http://127.0.0.1:18001", "backend URL")
	fs.StringVar(&o.vpce, "vpce", "vpce-0aaaaaaaaaaaaaaa1", "VPC endpoint the private API admits")
	fs.StringVar(&o.publicHTTP, "public-http", "127.0.0.1:18080", "public plain-HTTP listener")
	fs.StringVar(&o.endpointHTTP, "endpoint-http", "127.10.1.10:18081", "VPC endpoint plain-HTTP listener")
	fs.StringVar(&o.source, "src", "127.10.0.5", "source address inside the VPC")
	fs.StringVar(&o.logGroup, "log-group", "bench-access", "CloudWatch Logs log group of the logged stage")
	fs.IntVar(&o.n, "n", 99, "many: how many APIs to create")
	fs.StringVar(&o.dir, "dir", ".", "jwt: output directory; apis: where jwt.token is")
	fs.StringVar(&o.issuer, "issuer", "http://127.0.0.1:18002", "the OIDC issuer of the JWTs (bench/backend -issuer-listen)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	switch args[0] {
	case "apis":
		return setupAPIs(ctx, &o, stdout)
	case "many":
		return setupMany(ctx, &o, stdout)
	case "jwt":
		return makeJWT(o.dir, o.issuer)
	case "vpclinks":
		return setupVPCLinks(ctx, &o, fs.Args(), stdout)
	}
	return fmt.Errorf("unknown subcommand %q", args[0])
}

func (o *options) client() *apigateway.Client {
	return apigateway.New(apigateway.Options{
		Region:           o.region,
		BaseEndpoint:     aws.String(o.controlPlane),
		Credentials:      credentials.NewStaticCredentialsProvider(o.accessKey, o.secret, ""),
		RetryMaxAttempts: 3,
	})
}

// Result is what "apis" prints.
type Result struct {
	Public      string            `json:"public"`      // mode (a): REGIONAL, no auth, HTTP_PROXY
	Private     string            `json:"private"`     // mode (b): PRIVATE, 3-statement policy; stage "prod"
	LoggedStage string            `json:"loggedStage"` // mode (b+log): the same API, stage with accessLogSettings
	LogFile     string            `json:"logFile"`     // the access log, relative to gatehouse's data dir
	Unavailable map[string]string `json:"unavailable"` // mode → why it cannot be set up yet
	Modes       map[string]Mode   `json:"modes"`       // modes (c) and (d), when set up
}

// Mode is a mode set up by a hook: its API, stage, the headers a call needs and its
// access log (relative to gatehouse's data dir).
type Mode struct {
	API     string   `json:"api"`
	Stage   string   `json:"stage"`
	Headers []string `json:"headers"` // "Name: value"
	LogFile string   `json:"logFile"`
}

// privatePolicy is mode (b)'s resource policy: allow everything, deny every other
// endpoint, and deny a quarantined subnet of the VPC.
func privatePolicy(vpce string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*"},
 {"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*",
  "Condition":{"StringNotEquals":{"aws:SourceVpce":%q}}},
 {"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"execute-api:/*",
  "Condition":{"IpAddress":{"aws:VpcSourceIp":"127.10.200.0/24"}}}]}`, vpce)
}

// accessLogFormat is AWS's documented JSON access-log format.
const accessLogFormat = `{ "requestId":"$context.requestId", "ip": "$context.identity.sourceIp", "caller":"$context.identity.caller", "user":"$context.identity.user", "requestTime":"$context.requestTime", "httpMethod":"$context.httpMethod", "resourcePath":"$context.resourcePath", "status":"$context.status", "protocol":"$context.protocol", "responseLength":"$context.responseLength" }`

func setupAPIs(ctx context.Context, o *options, stdout io.Writer) error {
	c := o.client()
	res := Result{LoggedStage: "logged", Unavailable: map[string]string{}, Modes: map[string]Mode{}}

	pub, err := createProxyAPI(ctx, c, "bench-public", types.EndpointTypeRegional, "", o.backend)
	if err != nil {
		return fmt.Errorf("mode (a): %w", err)
	}
	if _, err := c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: &pub, StageName: aws.String("prod")}); err != nil {
		return fmt.Errorf("mode (a) deployment: %w", err)
	}
	res.Public = pub

	priv, err := createProxyAPI(ctx, c, "bench-private", types.EndpointTypePrivate, privatePolicy(o.vpce), o.backend)
	if err != nil {
		return fmt.Errorf("mode (b): %w", err)
	}
	if _, err := c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: &priv, StageName: aws.String("prod")}); err != nil {
		return fmt.Errorf("mode (b) deployment: %w", err)
	}
	// Mode (b+log): a second stage of the same deployment with the access log on.
	deps, err := c.GetDeployments(ctx, &apigateway.GetDeploymentsInput{RestApiId: &priv})
	if err != nil || len(deps.Items) == 0 {
		return fmt.Errorf("mode (b+log): listing deployments: %v", err)
	}
	if _, err := c.CreateStage(ctx, &apigateway.CreateStageInput{RestApiId: &priv, StageName: aws.String(res.LoggedStage), DeploymentId: deps.Items[0].Id}); err != nil {
		return fmt.Errorf("mode (b+log) stage: %w", err)
	}
	arn := fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", o.region, o.account, o.logGroup)
	if _, err := c.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: &priv, StageName: aws.String(res.LoggedStage),
		PatchOperations: []types.PatchOperation{
			{Op: types.OpReplace, Path: aws.String("/accessLogSettings/destinationArn"), Value: aws.String(arn)},
			{Op: types.OpReplace, Path: aws.String("/accessLogSettings/format"), Value: aws.String(accessLogFormat)},
		}}); err != nil {
		return fmt.Errorf("mode (b+log) access log: %w", err)
	}
	res.Private = priv
	res.LogFile = filepath.Join("logs", o.logGroup+".log")

	// Wait until the data plane serves all three.
	host := func(id string) string { return id + ".execute-api." + o.region + ".amazonaws.com" }
	if err := waitOK(ctx, "", o.publicHTTP, host(pub), "/prod/ready"); err != nil {
		return fmt.Errorf("mode (a) not served: %w", err)
	}
	if err := waitOK(ctx, o.source, o.endpointHTTP, host(priv), "/prod/ready"); err != nil {
		return fmt.Errorf("mode (b) not served: %w", err)
	}
	if err := waitOK(ctx, o.source, o.endpointHTTP, host(priv), "/"+res.LoggedStage+"/ready"); err != nil {
		return fmt.Errorf("mode (b+log) not served: %w", err)
	}

	authz := probeAuthorizers(ctx, c, o)
	for _, m := range []struct {
		name string
		fn   func(context.Context, *apigateway.Client, *options, string) (Mode, error)
	}{{"c", setupModeC}, {"d", setupModeD}} {
		mode, err := m.fn(ctx, c, o, authz)
		if err != nil {
			res.Unavailable[m.name] = err.Error()
			continue
		}
		res.Modes[m.name] = mode
	}
	return json.NewEncoder(stdout).Encode(res)
}

// setupModeC sets up mode (c): mode (b)'s PRIVATE API and resource policy, plus a
// COGNITO_USER_POOLS authorizer whose provider is the benchmark's OIDC issuer (an issuer
// URL, a gatehouse extension: JWKS fetched once and cached, verified tokens cached until
// expiry), an API key required on the method with a usage plan whose throttle is far above
// the load (evaluated on every request, never hit), and the access log on the stage.
// authz is probeAuthorizers' verdict: not "" means gatehouse cannot enforce authorizers.
func setupModeC(ctx context.Context, c *apigateway.Client, o *options, authz string) (Mode, error) {
	if authz != "" {
		return Mode{}, errors.New(authz)
	}
	return setupAuthorized(ctx, c, o, "c", "COGNITO_USER_POOLS", &apigateway.CreateAuthorizerInput{
		Name: aws.String("bench-jwt"), Type: types.AuthorizerTypeCognitoUserPools,
		ProviderARNs: []string{o.issuer}, IdentitySource: aws.String("method.request.header.Authorization"),
	})
}

// setupModeD sets up mode (d): mode (c) with a Lambda TOKEN authorizer instead of the JWT
// one — the topology's "bench-authorizer" function (bench/authorizer), which allows the
// bench token for the whole stage — whose result is cached for 300 s.
func setupModeD(ctx context.Context, c *apigateway.Client, o *options, authz string) (Mode, error) {
	if authz != "" {
		return Mode{}, errors.New(authz)
	}
	fn := fmt.Sprintf("arn:aws:lambda:%s:%s:function:bench-authorizer", o.region, o.account)
	return setupAuthorized(ctx, c, o, "d", "CUSTOM", &apigateway.CreateAuthorizerInput{
		Name: aws.String("bench-lambda"), Type: types.AuthorizerTypeToken,
		AuthorizerUri:                aws.String(fmt.Sprintf("arn:aws:apigateway:%s:lambda:path/2015-03-31/functions/%s/invocations", o.region, fn)),
		IdentitySource:               aws.String("method.request.header.Authorization"),
		AuthorizerResultTtlInSeconds: aws.Int32(300),
	})
}

// setupAuthorized creates mode (b)'s API with the authorizer az on its method
// (authorizationType authType), an API key required with a usage plan throttle far above
// the load, and the access log on the stage; it waits until a call with the bench token and
// key is served.
func setupAuthorized(ctx context.Context, c *apigateway.Client, o *options, mode, authType string, az *apigateway.CreateAuthorizerInput) (Mode, error) {
	if why := probeUsagePlans(ctx, c); why != "" {
		return Mode{}, errors.New(why)
	}
	token, err := os.ReadFile(filepath.Join(o.dir, "jwt.token"))
	if err != nil {
		return Mode{}, fmt.Errorf("the bench token (setup jwt): %w", err)
	}
	id, err := createProxyAPI(ctx, c, "bench-private-"+mode, types.EndpointTypePrivate, privatePolicy(o.vpce), o.backend)
	if err != nil {
		return Mode{}, err
	}
	az.RestApiId = &id
	created, err := c.CreateAuthorizer(ctx, az)
	if err != nil {
		return Mode{}, fmt.Errorf("CreateAuthorizer: %s", short(err))
	}
	resID, err := proxyResource(ctx, c, id)
	if err != nil {
		return Mode{}, err
	}
	if _, err := c.UpdateMethod(ctx, &apigateway.UpdateMethodInput{RestApiId: &id, ResourceId: resID, HttpMethod: aws.String("ANY"),
		PatchOperations: []types.PatchOperation{
			{Op: types.OpReplace, Path: aws.String("/authorizationType"), Value: aws.String(authType)},
			{Op: types.OpReplace, Path: aws.String("/authorizerId"), Value: created.Id},
			{Op: types.OpReplace, Path: aws.String("/apiKeyRequired"), Value: aws.String("true")},
		}}); err != nil {
		return Mode{}, fmt.Errorf("UpdateMethod: %s", short(err))
	}
	if _, err := c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: &id, StageName: aws.String("prod")}); err != nil {
		return Mode{}, fmt.Errorf("CreateDeployment: %s", short(err))
	}
	logGroup := o.logGroup + "-" + mode
	if _, err := c.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: &id, StageName: aws.String("prod"),
		PatchOperations: []types.PatchOperation{
			{Op: types.OpReplace, Path: aws.String("/accessLogSettings/destinationArn"),
				Value: aws.String(fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s", o.region, o.account, logGroup))},
			{Op: types.OpReplace, Path: aws.String("/accessLogSettings/format"), Value: aws.String(accessLogFormat)},
		}}); err != nil {
		return Mode{}, fmt.Errorf("UpdateStage (access log): %s", short(err))
	}
	keyValue := "benchApiKey0123456789abcdef-" + mode
	key, err := c.CreateApiKey(ctx, &apigateway.CreateApiKeyInput{Name: aws.String("bench-" + mode), Enabled: true, Value: aws.String(keyValue)})
	if err != nil {
		return Mode{}, fmt.Errorf("CreateApiKey: %s", short(err))
	}
	plan, err := c.CreateUsagePlan(ctx, &apigateway.CreateUsagePlanInput{
		Name:      aws.String("bench-" + mode),
		ApiStages: []types.ApiStage{{ApiId: &id, Stage: aws.String("prod")}},
		Throttle:  &types.ThrottleSettings{RateLimit: 1e6, BurstLimit: 1000000},
	})
	if err != nil {
		return Mode{}, fmt.Errorf("CreateUsagePlan: %s", short(err))
	}
	if _, err := c.CreateUsagePlanKey(ctx, &apigateway.CreateUsagePlanKeyInput{UsagePlanId: plan.Id, KeyId: key.Id, KeyType: aws.String("API_KEY")}); err != nil {
		return Mode{}, fmt.Errorf("CreateUsagePlanKey: %s", short(err))
	}
	hdr := []string{"Authorization", "Bearer " + strings.TrimSpace(string(token)), "X-API-Key", keyValue}
	if err := waitOK(ctx, o.source, o.endpointHTTP, id+".execute-api."+o.region+".amazonaws.com", "/prod/ready", hdr...); err != nil {
		return Mode{}, fmt.Errorf("not served: %w", err)
	}
	return Mode{API: id, Stage: "prod", LogFile: filepath.Join("logs", logGroup+".log"),
		Headers: []string{hdr[0] + ": " + hdr[1], hdr[2] + ": " + hdr[3]}}, nil
}

// proxyResource returns the id of the API's /{proxy+} resource.
func proxyResource(ctx context.Context, c *apigateway.Client, api string) (*string, error) {
	res, err := c.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: &api})
	if err != nil {
		return nil, fmt.Errorf("GetResources: %s", short(err))
	}
	for _, r := range res.Items {
		if aws.ToString(r.PathPart) == "{proxy+}" {
			return r.Id, nil
		}
	}
	return nil, errors.New("no {proxy+} resource")
}

// probeAuthorizers tells whether gatehouse enforces a method authorizer end to end: on a
// throw-away public API it creates a COGNITO_USER_POOLS authorizer (trusting the bench's
// loopback issuer, so that nothing is fetched from outside), puts it on the method,
// deploys, and calls without a token. "" means the call was refused with 401; otherwise
// the result says which step is missing.
func probeAuthorizers(ctx context.Context, c *apigateway.Client, o *options) string {
	id, err := createProxyAPI(ctx, c, "bench-probe-authorizer", types.EndpointTypeRegional, "", o.backend)
	if err != nil {
		return "probe API: " + short(err)
	}
	defer func() {
		_, _ = c.DeleteRestApi(context.WithoutCancel(ctx), &apigateway.DeleteRestApiInput{RestApiId: &id})
	}()
	az, err := c.CreateAuthorizer(ctx, &apigateway.CreateAuthorizerInput{
		RestApiId:      &id,
		Name:           aws.String("bench-jwt"),
		Type:           types.AuthorizerTypeCognitoUserPools,
		ProviderARNs:   []string{o.issuer}, // on loopback: gatehouse may fetch its keys
		IdentitySource: aws.String("method.request.header.Authorization"),
	})
	if err != nil {
		return "authorizers are not available in the control plane (CreateAuthorizer: " + short(err) + ")"
	}
	proxyID, err := proxyResource(ctx, c, id)
	if err != nil {
		return "probe: " + err.Error()
	}
	if _, err := c.UpdateMethod(ctx, &apigateway.UpdateMethodInput{RestApiId: &id, ResourceId: proxyID, HttpMethod: aws.String("ANY"),
		PatchOperations: []types.PatchOperation{
			{Op: types.OpReplace, Path: aws.String("/authorizationType"), Value: aws.String("COGNITO_USER_POOLS")},
			{Op: types.OpReplace, Path: aws.String("/authorizerId"), Value: az.Id},
		}}); err != nil {
		return "a method cannot use an authorizer yet (UpdateMethod: " + short(err) + ")"
	}
	if _, err := c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: &id, StageName: aws.String("prod")}); err != nil {
		return "probe deployment: " + short(err)
	}
	status, err := firstAnswer(ctx, o.publicHTTP, id+".execute-api."+o.region+".amazonaws.com", "/prod/probe")
	switch {
	case err != nil:
		return "probe call: " + err.Error()
	case status == http.StatusUnauthorized:
		return ""
	case status == http.StatusOK:
		return "the control plane accepts authorizers but the data plane does not enforce them yet (a call without a token reached the backend)"
	}
	return fmt.Sprintf("the data plane answered a call without a token with %d, not 401", status)
}

// firstAnswer polls until the deployment is served (anything but the unknown-stage 403)
// and returns that status.
func firstAnswer(ctx context.Context, addr, host, path string) (int, error) {
	cl := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(5 * time.Second)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
		if err != nil {
			return 0, err
		}
		req.Host = host
		resp, err := cl.Do(req)
		if err != nil {
			return 0, err
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		unknownStage := resp.StatusCode == http.StatusForbidden && strings.Contains(string(b), `"Forbidden"`)
		if !unknownStage || time.Now().After(deadline) {
			return resp.StatusCode, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// probeUsagePlans returns "" if GetUsagePlans works, or why not.
func probeUsagePlans(ctx context.Context, c *apigateway.Client) string {
	if _, err := c.GetUsagePlans(ctx, &apigateway.GetUsagePlansInput{}); err != nil {
		return "usage plans are not available in the control plane (GetUsagePlans: " + short(err) + ")"
	}
	return ""
}

func short(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + " " + ae.ErrorMessage()
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return fmt.Sprintf("HTTP %d", re.HTTPStatusCode())
	}
	return err.Error()
}

// ManyResult is what "many" prints.
type ManyResult struct {
	IDs []string `json:"ids"`
}

func setupMany(ctx context.Context, o *options, stdout io.Writer) error {
	c := o.client()
	var out ManyResult
	for i := range o.n {
		id, err := createProxyAPI(ctx, c, fmt.Sprintf("bench-many-%03d", i), types.EndpointTypeRegional, "", o.backend)
		if err != nil {
			return fmt.Errorf("API %d: %w", i, err)
		}
		if _, err := c.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: &id, StageName: aws.String("prod")}); err != nil {
			return fmt.Errorf("API %d deployment: %w", i, err)
		}
		out.IDs = append(out.IDs, id)
	}
	if len(out.IDs) > 0 {
		last := out.IDs[len(out.IDs)-1]
		if err := waitOK(ctx, "", o.publicHTTP, last+".execute-api."+o.region+".amazonaws.com", "/prod/ready"); err != nil {
			return fmt.Errorf("API %s not served: %w", last, err)
		}
	}
	return json.NewEncoder(stdout).Encode(out)
}

// createProxyAPI creates an API with /{proxy+} ANY → HTTP_PROXY backend/{proxy}.
func createProxyAPI(ctx context.Context, c *apigateway.Client, name string, typ types.EndpointType, policy, backend string, opts ...func(*apigateway.PutIntegrationInput)) (string, error) {
	in := &apigateway.CreateRestApiInput{
		Name:                  aws.String(name),
		EndpointConfiguration: &types.EndpointConfiguration{Types: []types.EndpointType{typ}},
	}
	if policy != "" {
		in.Policy = aws.String(policy)
	}
	api, err := c.CreateRestApi(ctx, in)
	if err != nil {
		return "", fmt.Errorf("CreateRestApi: %w", err)
	}
	res, err := c.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: api.RootResourceId, PathPart: aws.String("{proxy+}")})
	if err != nil {
		return "", fmt.Errorf("CreateResource: %w", err)
	}
	if _, err := c.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("ANY"),
		AuthorizationType: aws.String("NONE"), RequestParameters: map[string]bool{"method.request.path.proxy": true}}); err != nil {
		return "", fmt.Errorf("PutMethod: %w", err)
	}
	integ := &apigateway.PutIntegrationInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("ANY"),
		Type: types.IntegrationTypeHttpProxy, IntegrationHttpMethod: aws.String("ANY"), Uri: aws.String(backend + "/{proxy}"),
		RequestParameters: map[string]string{"integration.request.path.proxy": "method.request.path.proxy"}}
	for _, o := range opts {
		o(integ)
	}
	if _, err := c.PutIntegration(ctx, integ); err != nil {
		return "", fmt.Errorf("PutIntegration: %w", err)
	}
	return *api.Id, nil
}

// waitOK polls http://addr{path} with Host host (from source, if set) until it answers
// 200 with the backend's body; the data plane applies deployments asynchronously.
func waitOK(ctx context.Context, source, addr, host, path string, hdr ...string) error {
	d := &net.Dialer{Timeout: 2 * time.Second}
	if source != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(source)}
	}
	cl := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
		DisableKeepAlives: true,
	}}
	var last string
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
		if err != nil {
			return err
		}
		req.Host = host
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := cl.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Contains(string(b), "bench backend") {
				return nil
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, b)
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last answer: %s)", ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// makeJWT writes an RSA-2048 public key and an RS256 token valid for a year, for the
// peers (and, later, gatehouse) that verify JWTs.
func makeJWT(dir, issuer string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return err
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	enc := base64.RawURLEncoding
	now := time.Now().Unix()
	header := enc.EncodeToString([]byte(`{"alg":"RS256","typ":"JWT","kid":"bench"}`))
	claims, err := json.Marshal(map[string]any{
		"iss": issuer, "sub": "bench-user", "aud": "bench", "token_use": "id",
		"iat": now, "exp": now + 365*24*3600, "scope": "pets/read",
	})
	if err != nil {
		return err
	}
	signing := header + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return err
	}
	token := signing + "." + enc.EncodeToString(sig)
	jwks, err := json.Marshal(map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": "bench", "use": "sig", "alg": "RS256",
		"n": enc.EncodeToString(key.PublicKey.N.Bytes()),
		"e": enc.EncodeToString(big.NewInt(int64(key.PublicKey.E)).Bytes()),
	}}})
	if err != nil {
		return err
	}
	for name, b := range map[string][]byte{"jwt-pub.pem": pubPEM, "jwks.json": jwks, "jwt.token": []byte(token)} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}
