package lambdaapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"gatehouse/internal/lambdaproxy"
)

// proxyInput is a private API request as the data plane would describe it.
func proxyInput() lambdaproxy.EventInput {
	return lambdaproxy.EventInput{
		Resource:   "/pets/{id}",
		Path:       "/pets/42",
		HTTPMethod: "GET",
		Headers: http.Header{
			"Accept":     {"application/json"},
			"Host":       {"abc1234567.execute-api.us-east-1.amazonaws.com"},
			"User-Agent": {"curl/8.0"},
			"X-Multi":    {"a", "b"},
		},
		RawQuery:       "q=1&q=2",
		PathParameters: map[string]string{"id": "42"},
		StageVariables: map[string]string{"env": "prod"},
		RequestContext: lambdaproxy.RequestContext{
			AccountID: accountA, APIID: "abc1234567", ResourceID: "res123", Stage: "prod", DeploymentID: "dep123",
			RequestID: "11111111-2222-3333-4444-555555555555", ExtendedRequestID: "QmOw7G1BIAMFYJQ=",
			RequestTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
			DomainName:  "abc1234567.execute-api.us-east-1.amazonaws.com",
			Identity: lambdaproxy.Identity{SourceIP: "127.10.0.5", UserAgent: "curl/8.0",
				VpcID: "vpc-0aaaaaaaaaaaaaaa1", VpceID: "vpce-0aaaaaaaaaaaaaaa1"},
		},
	}
}

// TestProxyRoundTrip runs the AWS_PROXY path with a real aws-lambda-go
// handler: permission check, BuildEvent, Invoke, ParseResponse. The handler
// echoes the event it decoded, so the event is checked as the function saw
// it.
func TestProxyRoundTrip(t *testing.T) {
	st, _ := openStore(t)
	n := newNode(t, st, nil)
	ctx := ctxT(t)
	created := createEcho(t, n.a, "api-echo")
	arn := aws.ToString(created.FunctionArn)
	sourceARN := "arn:aws:execute-api:us-east-1:111111111111:abc1234567/prod/GET/pets/42"
	if n.srv.AllowsInvoke(arn, "apigateway.amazonaws.com", sourceARN) {
		t.Fatal("allowed before AddPermission")
	}
	if _, err := n.a.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("api-echo"),
		StatementId: aws.String("apigw"), Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("apigateway.amazonaws.com"),
		SourceArn: aws.String("arn:aws:execute-api:us-east-1:111111111111:abc1234567/*/*/*")}); err != nil {
		t.Fatal(err)
	}
	if !n.srv.AllowsInvoke(arn, "apigateway.amazonaws.com", sourceARN) {
		t.Fatal("not allowed after AddPermission")
	}

	event, err := lambdaproxy.BuildEvent(proxyInput())
	if err != nil {
		t.Fatal(err)
	}
	res, err := n.host.Invoke(ctx, arn, event)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := lambdaproxy.ParseResponse(res.Payload, res.FunctionError)
	if err != nil {
		t.Fatalf("ParseResponse: %v (%s)", err, res.Payload)
	}
	if resp.StatusCode != 200 || resp.Headers.Get("X-Echo") != "echo-go" || resp.Headers.Get("Content-Type") != "application/json" ||
		len(resp.Headers.Values("Set-Cookie")) != 2 {
		t.Fatalf("response %+v", resp)
	}
	// The event as the Go handler decoded it (aws-lambda-go passes the raw
	// event to a json.RawMessage handler; decode it like events does).
	var got struct {
		Resource                        string              `json:"resource"`
		Path                            string              `json:"path"`
		HTTPMethod                      string              `json:"httpMethod"`
		Headers                         map[string]string   `json:"headers"`
		MultiValueHeaders               map[string][]string `json:"multiValueHeaders"`
		QueryStringParameters           map[string]string   `json:"queryStringParameters"`
		MultiValueQueryStringParameters map[string][]string `json:"multiValueQueryStringParameters"`
		PathParameters                  map[string]string   `json:"pathParameters"`
		StageVariables                  map[string]string   `json:"stageVariables"`
		Body                            *string             `json:"body"`
		IsBase64Encoded                 bool                `json:"isBase64Encoded"`
		RequestContext                  struct {
			AccountID, APIID, ResourceID, ResourcePath, Path, HTTPMethod, Stage, Protocol string
			RequestID, ExtendedRequestID, RequestTime, DomainName, DomainPrefix           string
			RequestTimeEpoch                                                              int64
			Identity                                                                      struct {
				SourceIP  string  `json:"sourceIp"`
				UserAgent string  `json:"userAgent"`
				VpcID     string  `json:"vpcId"`
				VpceID    string  `json:"vpceId"`
				Caller    *string `json:"caller"`
			} `json:"identity"`
		} `json:"requestContext"`
	}
	if err := json.Unmarshal([]byte(resp.Body), &got); err != nil {
		t.Fatalf("echoed event %q: %v", resp.Body, err)
	}
	rc := got.RequestContext
	checks := []struct {
		field     string
		got, want any
	}{
		{"resource", got.Resource, "/pets/{id}"},
		{"path", got.Path, "/pets/42"},
		{"httpMethod", got.HTTPMethod, "GET"},
		{"headers.X-Multi", got.Headers["X-Multi"], "b"},
		{"multiValueHeaders.X-Multi", len(got.MultiValueHeaders["X-Multi"]), 2},
		{"headers.x-amzn-vpce-id", got.Headers["X-Amzn-Vpce-Id"], "vpce-0aaaaaaaaaaaaaaa1"},
		{"queryStringParameters.q", got.QueryStringParameters["q"], "2"},
		{"multiValueQueryStringParameters.q", len(got.MultiValueQueryStringParameters["q"]), 2},
		{"pathParameters.id", got.PathParameters["id"], "42"},
		{"stageVariables.env", got.StageVariables["env"], "prod"},
		{"body", got.Body == nil, true},
		{"isBase64Encoded", got.IsBase64Encoded, false},
		{"requestContext.accountId", rc.AccountID, accountA},
		{"requestContext.apiId", rc.APIID, "abc1234567"},
		{"requestContext.resourceId", rc.ResourceID, "res123"},
		{"requestContext.resourcePath", rc.ResourcePath, "/pets/{id}"},
		{"requestContext.path", rc.Path, "/prod/pets/42"},
		{"requestContext.stage", rc.Stage, "prod"},
		{"requestContext.protocol", rc.Protocol, "HTTP/1.1"},
		{"requestContext.requestTime", rc.RequestTime, "02/Jan/2026:03:04:05 +0000"},
		{"requestContext.requestTimeEpoch", rc.RequestTimeEpoch, int64(1767323045000)},
		{"requestContext.domainPrefix", rc.DomainPrefix, "abc1234567"},
		{"requestContext.identity.sourceIp", rc.Identity.SourceIP, "127.10.0.5"},
		{"requestContext.identity.vpcId", rc.Identity.VpcID, "vpc-0aaaaaaaaaaaaaaa1"},
		{"requestContext.identity.vpceId", rc.Identity.VpceID, "vpce-0aaaaaaaaaaaaaaa1"},
		{"requestContext.identity.caller", rc.Identity.Caller == nil, true},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.field, c.got, c.want)
		}
	}
}

// TestProxyFaults: what the data plane sees from a failing function. Every
// case is a ParseResponse error (502), and the next call works.
func TestProxyFaults(t *testing.T) {
	st, _ := openStore(t)
	n := newNode(t, st, nil)
	ctx := ctxT(t)
	if _, err := n.a.CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: aws.String("faulty"), Runtime: types.RuntimeProvidedal2023,
		Role: aws.String(role), Timeout: aws.Int32(1), Code: &types.FunctionCode{ZipFile: zipOf(t, "faulty", "bootstrap")}}); err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:lambda:us-east-1:111111111111:function:faulty"
	for _, action := range []string{"crash", "hang", "garbage", "error", "panic"} {
		t.Run(action, func(t *testing.T) {
			res, err := n.host.Invoke(ctx, arn, []byte(`{"action":"`+action+`"}`))
			if err != nil {
				t.Fatal(err)
			}
			_, err = lambdaproxy.ParseResponse(res.Payload, res.FunctionError)
			var pe *lambdaproxy.Error
			if !errors.As(err, &pe) {
				t.Fatalf("ParseResponse accepted %s: %s", action, res.Payload)
			}
			// The next call works: a valid proxy response passes.
			ok, err := n.host.Invoke(ctx, arn, []byte(`{"statusCode":201,"body":"fine"}`))
			if err != nil {
				t.Fatal(err)
			}
			r, err := lambdaproxy.ParseResponse(ok.Payload, ok.FunctionError)
			if err != nil || r.StatusCode != 201 || r.Body != "fine" {
				t.Fatalf("after %s: %v %+v", action, err, r)
			}
		})
	}
	// The integration timeout expiring before the function answers: the
	// caller's context ends (the data plane answers 504).
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if _, err := n.host.Invoke(short, arn, []byte(`{"action":"sleep","millis":600}`)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("integration timeout: %v", err)
	}
}

// BenchmarkProxyRoundTrip is the function side of a REST AWS_PROXY request
// to a warm aws-lambda-go function: AllowsInvoke, BuildEvent, Invoke,
// ParseResponse.
func BenchmarkProxyRoundTrip(b *testing.B) {
	st, _ := openStore(b)
	n := newNode(b, st, nil)
	ctx := context.Background()
	created := createEcho(b, n.a, "bench")
	arn := aws.ToString(created.FunctionArn)
	if _, err := n.a.AddPermission(ctx, &lambda.AddPermissionInput{FunctionName: aws.String("bench"),
		StatementId: aws.String("apigw"), Action: aws.String("lambda:InvokeFunction"), Principal: aws.String("apigateway.amazonaws.com"),
		SourceArn: aws.String("arn:aws:execute-api:us-east-1:111111111111:abc1234567/*")}); err != nil {
		b.Fatal(err)
	}
	in := proxyInput()
	source := "arn:aws:execute-api:us-east-1:111111111111:abc1234567/prod/GET/pets/42"
	b.ReportAllocs()
	for b.Loop() {
		if !n.srv.AllowsInvoke(arn, "apigateway.amazonaws.com", source) {
			b.Fatal("not allowed")
		}
		event, err := lambdaproxy.BuildEvent(in)
		if err != nil {
			b.Fatal(err)
		}
		res, err := n.host.Invoke(ctx, arn, event)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := lambdaproxy.ParseResponse(res.Payload, res.FunctionError); err != nil {
			b.Fatal(err)
		}
	}
}
