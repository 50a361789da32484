// Command echo-go is a Lambda function written with aws-lambda-go, unchanged
// from what would run on AWS: behind an API Gateway Lambda proxy integration
// it answers 200 with the event it received as its JSON body, so callers can
// see exactly what API Gateway sent.
//
// Build it for gatehouse's provided.al2023 runtime (the file must be called
// bootstrap), zip it and create the function:
//
//	GOOS=linux CGO_ENABLED=0 go build -tags lambda.norpc -o bootstrap ./examples/functions/echo-go
//	zip echo.zip bootstrap
//	aws lambda create-function --endpoint-url http://127.0.0.1:4566 \
//	    --function-name echo --runtime provided.al2023 --handler bootstrap \
//	    --role arn:aws:iam::111111111111:role/echo --zip-file fileb://echo.zip
package main

import (
	"context"
	"encoding/json"
	"log"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

func handle(ctx context.Context, event json.RawMessage) (events.APIGatewayProxyResponse, error) {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		log.Printf("request %s for %s", lc.AwsRequestID, lc.InvokedFunctionArn)
	}
	return events.APIGatewayProxyResponse{
		StatusCode: 200,
		Headers:    map[string]string{"Content-Type": "application/json", "X-Echo": "echo-go"},
		MultiValueHeaders: map[string][]string{
			"Set-Cookie": {"a=1", "b=2"},
		},
		Body: string(event),
	}, nil
}

func main() {
	lambda.Start(handle)
}
