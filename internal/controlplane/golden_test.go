package controlplane

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/apigateway/types"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.txtar responses from the current output")

// goldenSetups prepares the state a golden request needs and returns the variables its
// request refers to as ${NAME}. Every golden file needs an entry (nil: no setup).
var goldenSetups = map[string]func(t *testing.T, e *env) map[string]string{
	"create_rest_api_private": nil,
	"create_deployment_private_without_policy": func(t *testing.T, e *env) map[string]string {
		f := e.deployable(t, &apigateway.CreateRestApiInput{Name: aws.String("private"),
			EndpointConfiguration: &types.EndpointConfiguration{Types: []types.EndpointType{types.EndpointTypePrivate}}})
		return map[string]string{"API_ID": f.apiID}
	},
	"get_gateway_responses": func(t *testing.T, e *env) map[string]string {
		return map[string]string{"API_ID": *e.newAPI(t, nil).Id}
	},
	"get_rest_api_with_policy": func(t *testing.T, e *env) map[string]string {
		api := e.newAPI(t, &apigateway.CreateRestApiInput{Name: aws.String("with-policy"), Policy: aws.String(allowAll),
			EndpointConfiguration: &types.EndpointConfiguration{Types: []types.EndpointType{types.EndpointTypePrivate},
				VpcEndpointIds: []string{"vpce-0123456789abcdef0"}}})
		return map[string]string{"API_ID": *api.Id}
	},
	"get_stage": func(t *testing.T, e *env) map[string]string {
		f := e.deployable(t, nil)
		must[*apigateway.CreateDeploymentOutput](t)(e.a.CreateDeployment(ctxT(t), &apigateway.CreateDeploymentInput{
			RestApiId: aws.String(f.apiID), StageName: aws.String("prod"), Variables: map[string]string{"host": "example.com"}}))
		return map[string]string{"API_ID": f.apiID}
	},
	"get_resources_embed_methods": func(t *testing.T, e *env) map[string]string {
		f := e.deployable(t, nil)
		return map[string]string{"API_ID": f.apiID, "ROOT_ID": f.rootID, "RES_ID": f.resID}
	},
	"update_rest_api_invalid_ops": func(t *testing.T, e *env) map[string]string { return map[string]string{"API_ID": *e.newAPI(t, nil).Id} },
	"unknown_operation":           nil,
	"create_api_key": func(t *testing.T, e *env) map[string]string {
		return map[string]string{"API_ID": e.staged(t).apiID}
	},
	"create_usage_plan": func(t *testing.T, e *env) map[string]string {
		return map[string]string{"API_ID": e.staged(t).apiID}
	},
	"get_authorizers": func(t *testing.T, e *env) map[string]string {
		api := *e.newAPI(t, nil).Id
		ctx := ctxT(t)
		e.tokenAuthorizer(t, api, "a-token")
		must[*apigateway.CreateAuthorizerOutput](t)(e.a.CreateAuthorizer(ctx, &apigateway.CreateAuthorizerInput{RestApiId: aws.String(api),
			Name: aws.String("b-request"), Type: types.AuthorizerTypeRequest, AuthorizerUri: aws.String(testLambdaURI),
			IdentitySource: aws.String("method.request.header.Auth, method.request.querystring.tenant"), AuthorizerResultTtlInSeconds: aws.Int32(0)}))
		must[*apigateway.CreateAuthorizerOutput](t)(e.a.CreateAuthorizer(ctx, &apigateway.CreateAuthorizerInput{RestApiId: aws.String(api),
			Name: aws.String("c-cognito"), Type: types.AuthorizerTypeCognitoUserPools, ProviderARNs: []string{testPoolARN},
			IdentitySource: aws.String("method.request.header.Authorization")}))
		return map[string]string{"API_ID": api}
	},
	"create_rest_api_malformed_json": nil,
}

var (
	uuidRe      = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	volatileIDs = regexp.MustCompile(`"(id|rootResourceId|deploymentId|cacheNamespace)":"[a-z0-9]{6,10}"`)
	volatileTS  = regexp.MustCompile(`"(createdDate|lastUpdatedDate)":[0-9.]+`)
)

// txtarFile is a minimal txtar archive: a comment and named sections.
type txtarFile struct {
	comment  string
	sections map[string]string
	order    []string
}

func parseTxtar(b []byte) txtarFile {
	f := txtarFile{sections: map[string]string{}}
	cur := ""
	var buf strings.Builder
	flush := func() {
		if cur == "" {
			f.comment = buf.String()
		} else {
			f.sections[cur] = buf.String()
			f.order = append(f.order, cur)
		}
		buf.Reset()
	}
	for _, line := range strings.SplitAfter(string(b), "\n") {
		trimmed := strings.TrimRight(line, "\n")
		if strings.HasPrefix(trimmed, "-- ") && strings.HasSuffix(trimmed, " --") && len(trimmed) > 6 {
			flush()
			cur = trimmed[3 : len(trimmed)-3]
			continue
		}
		buf.WriteString(line)
	}
	flush()
	return f
}

func (f txtarFile) format() []byte {
	var b bytes.Buffer
	b.WriteString(f.comment)
	for _, name := range f.order {
		fmt.Fprintf(&b, "-- %s --\n", name)
		s := f.sections[name]
		b.WriteString(s)
		if !strings.HasSuffix(s, "\n") {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// runGoldenRequest sends a raw request ("METHOD PATH HTTP/1.1", headers, blank line,
// body) straight to the server as account A and renders the normalized response.
func runGoldenRequest(t *testing.T, e *env, raw string, vars map[string]string) string {
	t.Helper()
	for k, v := range vars {
		raw = strings.ReplaceAll(raw, "${"+k+"}", v)
	}
	head, body, _ := strings.Cut(raw, "\n\n")
	lines := strings.Split(head, "\n")
	parts := strings.Fields(lines[0])
	if len(parts) < 2 {
		t.Fatalf("bad request line %q", lines[0])
	}
	body = strings.TrimSuffix(body, "\n")
	req := httptest.NewRequestWithContext(context.Background(), parts[0], parts[1], strings.NewReader(body))
	for _, h := range lines[1:] {
		if k, v, ok := strings.Cut(h, ":"); ok {
			req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
		}
	}
	rec := httptest.NewRecorder()
	e.server.ServeAPIGateway(rec, req, Caller{Account: accountA, AccessKeyID: "AKIDEXAMPLE"}, []byte(body))

	var out strings.Builder
	fmt.Fprintf(&out, "HTTP %d\n", rec.Code)
	var names []string
	for k := range rec.Header() {
		switch k {
		case "Content-Type", "X-Amzn-Errortype", "X-Amzn-Requestid":
			names = append(names, k)
		}
	}
	sort.Strings(names)
	for _, k := range names {
		v := rec.Header().Get(k)
		if k == "X-Amzn-Requestid" {
			if !uuidRe.MatchString(v) {
				t.Errorf("request id %q is not a UUID", v)
			}
			v = "<request-id>"
		}
		fmt.Fprintf(&out, "%s: %s\n", k, v)
	}
	respBody := rec.Body.String()
	for k, v := range vars {
		respBody = strings.ReplaceAll(respBody, v, "${"+k+"}")
	}
	respBody = volatileIDs.ReplaceAllString(respBody, `"$1":"<id>"`)
	respBody = volatileTS.ReplaceAllString(respBody, `"$1":<date>`)
	fmt.Fprintf(&out, "\n%s\n", respBody)
	return out.String()
}

// TestGolden replays testdata/golden/*.txtar: each holds a raw HTTP request and the
// expected status, headers and body (volatile ids and dates normalized). Run with
// -update to rewrite the responses.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no golden files")
	}
	e := newEnv(t)
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txtar")
		t.Run(name, func(t *testing.T) {
			setup, ok := goldenSetups[name]
			if !ok {
				t.Fatalf("no goldenSetups entry for %s", name)
			}
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			ar := parseTxtar(b)
			req, ok := ar.sections["request"]
			if !ok {
				t.Fatal("no request section")
			}
			var vars map[string]string
			if setup != nil {
				vars = setup(t, e)
			}
			got := runGoldenRequest(t, e, req, vars)
			if *update {
				if _, ok := ar.sections["response"]; !ok {
					ar.order = append(ar.order, "response")
				}
				ar.sections["response"] = got
				if err := os.WriteFile(file, ar.format(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if want := ar.sections["response"]; got != want {
				t.Errorf("response mismatch (run with -update to accept)\n--- got ---\n%s--- want ---\n%s", got, want)
			}
		})
	}
}
