// Command faulty is a test function built with aws-lambda-go that misbehaves
// on request: the event {"action": "..."} picks what it does.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type event struct {
	Action string `json:"action"`
	Millis int    `json:"millis"`
	Bytes  int    `json:"bytes"`
}

func handle(ctx context.Context, raw json.RawMessage) (any, error) {
	var ev event
	_ = json.Unmarshal(raw, &ev)
	switch ev.Action {
	case "sleep":
		time.Sleep(time.Duration(ev.Millis) * time.Millisecond)
		return map[string]int{"slept": ev.Millis}, nil
	case "hang":
		time.Sleep(time.Hour)
	case "crash":
		fmt.Println("crashing now")
		os.Exit(3)
	case "panic":
		panic("boom")
	case "error":
		return nil, errors.New("bad thing happened")
	case "garbage":
		return strings.NewReader("this is not json {"), nil
	case "big":
		return strings.NewReader(`"` + strings.Repeat("x", ev.Bytes) + `"`), nil
	case "log":
		fmt.Print(strings.Repeat("L", ev.Bytes) + "\n")
		return "logged", nil
	case "spawn":
		cmd := exec.Command("sleep", "300")
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		fmt.Printf("child %d\n", cmd.Process.Pid)
		time.Sleep(time.Hour)
	case "context":
		lc, _ := lambdacontext.FromContext(ctx)
		dl, _ := ctx.Deadline()
		cwd, _ := os.Getwd()
		env := map[string]string{}
		for _, k := range []string{"AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
			"AWS_LAMBDA_FUNCTION_TIMEOUT", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "AWS_REGION",
			"AWS_DEFAULT_REGION", "LAMBDA_TASK_ROOT", "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_EXECUTION_ENV", "GREETING",
			"GATEHOUSE_VPC_ID", "GATEHOUSE_VPC_CIDR", "GATEHOUSE_VPC_RESOLVER", "TZ"} {
			env[k] = os.Getenv(k)
		}
		return map[string]any{
			"requestId":     lc.AwsRequestID,
			"functionArn":   lc.InvokedFunctionArn,
			"remainingMs":   time.Until(dl).Milliseconds(),
			"cwd":           cwd,
			"env":           env,
			"clientContext": lc.ClientContext.Custom,
		}, nil
	}
	return raw, nil
}

func main() {
	switch os.Getenv("FAULTY_INIT") {
	case "crash":
		fmt.Fprintln(os.Stderr, "init failed hard")
		os.Exit(7)
	case "hang":
		time.Sleep(time.Hour)
	case "error":
		body := `{"errorMessage":"cannot load config","errorType":"Runtime.ConfigError"}`
		resp, err := http.Post("http://"+os.Getenv("AWS_LAMBDA_RUNTIME_API")+"/2018-06-01/runtime/init/error", "application/json", strings.NewReader(body))
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		os.Exit(1)
	case "slow":
		time.Sleep(200 * time.Millisecond)
	}
	lambda.Start(handle)
}
