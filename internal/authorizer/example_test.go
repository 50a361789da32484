package authorizer_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"gatehouse/internal/authorizer"
	"gatehouse/internal/policy"
)

// invokerFunc adapts a function to authorizer.Invoker.
type invokerFunc func(ctx context.Context, arn string, payload []byte) ([]byte, string, error)

func (f invokerFunc) Invoke(ctx context.Context, arn string, payload []byte) ([]byte, string, error) {
	return f(ctx, arn, payload)
}

// The three steps the pipeline runs for a method with a Lambda (CUSTOM)
// authorizer: the resource policy's explicit-deny check, the authorizer,
// and the Table A combination.
func Example_lambdaPipeline() {
	fn := invokerFunc(func(ctx context.Context, arn string, payload []byte) ([]byte, string, error) {
		return []byte(`{"principalId":"user-1","context":{"tier":"gold","limit":10},
			"policyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"execute-api:Invoke",
			"Resource":"arn:aws:execute-api:us-east-1:111111111111:a1b2c3d4e5/prod/GET/*"}]}}`), "", nil
	})
	lambda, err := authorizer.NewLambda(authorizer.LambdaConfig{
		Type:           authorizer.TypeToken,
		FunctionARN:    "arn:aws:lambda:us-east-1:111111111111:function:auth",
		IdentitySource: "method.request.header.Authorization",
	}, fn)
	if err != nil {
		panic(err)
	}
	resourcePolicy, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":"*","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:111111111111:a1b2c3d4e5/*/GET/*"},
		{"Effect":"Deny","Principal":"*","Action":"execute-api:Invoke","Resource":"arn:aws:execute-api:us-east-1:111111111111:a1b2c3d4e5/*/DELETE/*"}]}`))
	if err != nil {
		panic(err)
	}

	for _, method := range []string{"GET", "DELETE", "PUT"} {
		r := httptest.NewRequest(method, "https://a1b2c3d4e5.execute-api.us-east-1.amazonaws.com/prod/pets/1", nil)
		r.Header.Set("Authorization", "token-123")
		methodARN := "arn:aws:execute-api:us-east-1:111111111111:a1b2c3d4e5/prod/" + method + "/pets/1"

		// 1. Phase 1: the resource policy for an anonymous caller; an
		// explicit Deny stops here without calling the function.
		d1 := resourcePolicy.Evaluate(&policy.Request{Principal: policy.Principal{Anonymous: true},
			Action: authorizer.ActionInvoke, Resource: methodARN})
		if d1 == policy.Deny {
			fmt.Println(method, authorizer.AccessDenied("anonymous", authorizer.MaskARN(methodARN), true).Message)
			continue
		}
		// 2. The authorizer (cached by token for 300 s).
		res, authz, f := lambda.Authorize(context.Background(), &authorizer.LambdaInput{HTTP: r, MethodARN: methodARN})
		if f != nil {
			fmt.Println(f.Status, f.Message)
			continue
		}
		// 3. Phase 2: Table A.
		if f := authorizer.AuthorizerVerdict(authz, d1); f != nil {
			fmt.Println(method, f.Status, f.Message)
			continue
		}
		fmt.Println(method, "allowed for", res.PrincipalID, "tier", res.Context["tier"], "limit", res.Context["limit"])
	}
	// Output:
	// GET allowed for user-1 tier gold limit 10
	// DELETE User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:********1111:a1b2c3d4e5/prod/DELETE/pets/1 with an explicit deny
	// PUT 403 User is not authorized to access this resource
}
