// Command authorizer is the benchmark's Lambda TOKEN authorizer (mode (d)), run by
// gatehouse as a topology "command" function under the Lambda Runtime API. It allows the
// bench token (the file -token-file, with or without "Bearer ") for every method of the
// API's stage, so that API Gateway's cached result serves all the load's requests, and
// answers "Unauthorized" to anything else.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	tokenFile := flag.String("token-file", "bench/out/jwt.token", "the token to allow")
	flag.Parse()
	b, err := os.ReadFile(*tokenFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "authorizer:", err)
		os.Exit(1)
	}
	want := strings.TrimSpace(string(b))
	lambda.Start(func(_ context.Context, ev events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
		if strings.TrimPrefix(ev.AuthorizationToken, "Bearer ") != want {
			return events.APIGatewayCustomAuthorizerResponse{}, errors.New("Unauthorized")
		}
		// arn:aws:execute-api:region:account:api/stage/METHOD/path → api/stage/*
		resource := ev.MethodArn
		if parts := strings.SplitN(ev.MethodArn, "/", 3); len(parts) == 3 {
			resource = parts[0] + "/" + parts[1] + "/*"
		}
		return events.APIGatewayCustomAuthorizerResponse{
			PrincipalID: "bench-user",
			PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
				Version: "2012-10-17",
				Statement: []events.IAMPolicyStatement{{
					Action: []string{"execute-api:Invoke"}, Effect: "Allow", Resource: []string{resource},
				}},
			},
			Context: map[string]any{"tier": "bench"},
		}, nil
	})
}
