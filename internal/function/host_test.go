package function

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// goFunction is the echo-go example packaged for provided.al2023.
func goFunction(t testing.TB, name string) Function {
	return Function{
		Name:    name,
		Account: testAccount,
		Runtime: RuntimeProvidedAL2023,
		Handler: "bootstrap",
		CodeDir: codeDir(t, built(t, "echo-go"), "bootstrap"),
	}
}

// faultyFunction is the faulty test program packaged for go1.x.
func faultyFunction(t testing.TB, name string) Function {
	return Function{
		Name:    name,
		Account: testAccount,
		Runtime: RuntimeGo1x,
		Handler: "faulty",
		CodeDir: codeDir(t, built(t, "faulty"), "faulty"),
	}
}

func TestGoHandlerRunsAndStaysWarm(t *testing.T) {
	h := newHost(t, HostOptions{Region: testRegion})
	if err := h.Put(goFunction(t, "echo"), 1); err != nil {
		t.Fatal(err)
	}
	event := map[string]any{"path": "/hello", "httpMethod": "GET"}
	var first []int
	for i := range 3 {
		res := invoke(t, h, "echo", event)
		if res.FunctionError != "" || res.StatusCode != 200 || res.ExecutedVersion != "$LATEST" {
			t.Fatalf("invoke %d: %+v", i, res)
		}
		var resp struct {
			StatusCode        int                 `json:"statusCode"`
			Headers           map[string]string   `json:"headers"`
			MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
			Body              string              `json:"body"`
		}
		mustJSON(t, res.Payload, &resp)
		if resp.StatusCode != 200 || resp.Headers["X-Echo"] != "echo-go" {
			t.Fatalf("response %s", res.Payload)
		}
		var got map[string]any
		mustJSON(t, []byte(resp.Body), &got)
		if got["path"] != "/hello" || got["httpMethod"] != "GET" {
			t.Fatalf("echoed event %s", resp.Body)
		}
		if i == 0 {
			first = pids(h)
		}
	}
	st, _ := h.Stats("echo")
	if st.Instances != 1 || st.Idle != 1 || st.Running != 0 {
		t.Fatalf("stats %+v, want one warm instance", st)
	}
	if now := pids(h); len(now) != 1 || now[0] != first[0] {
		t.Fatalf("instances %v then %v: the warm instance was not reused", first, now)
	}
	log := logOf(t, h, "echo")
	if n := strings.Count(log, "START RequestId: "); n != 3 {
		t.Fatalf("log has %d START lines:\n%s", n, log)
	}
	if !regexp.MustCompile(`REPORT RequestId: [0-9a-f-]{36}\tDuration: [0-9.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 128 MB\t`).MatchString(log) {
		t.Fatalf("no REPORT line:\n%s", log)
	}
	if !strings.Contains(log, "Init Duration: ") {
		t.Fatalf("the first REPORT has no Init Duration:\n%s", log)
	}
	if !strings.Contains(log, "for arn:aws:lambda:us-east-1:111111111111:function:echo") {
		t.Fatalf("the handler's own output is not in the log:\n%s", log)
	}
}

func TestRuntimeEnvironment(t *testing.T) {
	h := newHost(t, HostOptions{Region: testRegion})
	fn := faultyFunction(t, "ctx")
	fn.Timeout = 7
	fn.MemorySize = 512
	fn.Environment = map[string]string{"GREETING": "hello", "AWS_REGION": "eu-west-1"}
	fn.VPC = &VPC{ID: "vpc-0aaaaaaaaaaaaaaa1", CIDR: "127.10.0.0/16", Resolver: "127.10.0.2"}
	if err := h.Put(fn, 1); err != nil {
		t.Fatal(err)
	}
	cc := base64.StdEncoding.EncodeToString([]byte(`{"custom":{"k":"v"}}`))
	res, err := h.InvokeWith(ctxT(t, time.Minute), "arn:aws:lambda:us-east-1:111111111111:function:ctx", []byte(`{"action":"context"}`),
		InvokeOptions{ClientContext: cc})
	if err != nil || res.FunctionError != "" {
		t.Fatalf("%v %+v %s", err, res, res.Payload)
	}
	var got struct {
		RequestID     string            `json:"requestId"`
		FunctionArn   string            `json:"functionArn"`
		RemainingMs   int64             `json:"remainingMs"`
		Cwd           string            `json:"cwd"`
		Env           map[string]string `json:"env"`
		ClientContext map[string]string `json:"clientContext"`
	}
	mustJSON(t, res.Payload, &got)
	if got.RequestID != res.RequestID {
		t.Errorf("runtime saw request id %q, result has %q", got.RequestID, res.RequestID)
	}
	if got.FunctionArn != "arn:aws:lambda:us-east-1:111111111111:function:ctx" {
		t.Errorf("function ARN %q", got.FunctionArn)
	}
	if got.RemainingMs < 5000 || got.RemainingMs > 7000 {
		t.Errorf("remaining time %d ms, want about 7000 (Lambda-Runtime-Deadline-Ms)", got.RemainingMs)
	}
	if got.Cwd != fn.CodeDir {
		t.Errorf("cwd %q, want the code directory %q", got.Cwd, fn.CodeDir)
	}
	if got.ClientContext["k"] != "v" {
		t.Errorf("client context %v", got.ClientContext)
	}
	want := map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        "ctx",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     "7",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/ctx",
		"AWS_REGION":                      "us-east-1", // reserved: the function's value is ignored
		"AWS_DEFAULT_REGION":              "us-east-1",
		"LAMBDA_TASK_ROOT":                fn.CodeDir,
		"_HANDLER":                        "faulty",
		"AWS_EXECUTION_ENV":               "AWS_Lambda_go1.x",
		"GREETING":                        "hello",
		"GATEHOUSE_VPC_ID":                "vpc-0aaaaaaaaaaaaaaa1",
		"GATEHOUSE_VPC_CIDR":              "127.10.0.0/16",
		"GATEHOUSE_VPC_RESOLVER":          "127.10.0.2",
		"TZ":                              ":UTC",
	}
	for k, v := range want {
		if got.Env[k] != v {
			t.Errorf("%s = %q, want %q", k, got.Env[k], v)
		}
	}
	if !regexp.MustCompile(`^\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}$`).MatchString(got.Env["AWS_LAMBDA_LOG_STREAM_NAME"]) {
		t.Errorf("log stream %q", got.Env["AWS_LAMBDA_LOG_STREAM_NAME"])
	}
	if !regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$`).MatchString(got.Env["_X_AMZN_TRACE_ID"]) {
		t.Errorf("trace id %q", got.Env["_X_AMZN_TRACE_ID"])
	}
}

func TestCommandFunction(t *testing.T) {
	h := newHost(t, HostOptions{Region: testRegion})
	dir := t.TempDir()
	fn := Function{Name: "cmd", Account: testAccount, Command: &Command{
		Path: built(t, "faulty"), Dir: dir, Env: map[string]string{"GREETING": "from-command"}}}
	if err := h.Put(fn, 0); err != nil {
		t.Fatal(err)
	}
	res := invoke(t, h, "111111111111:function:cmd", map[string]string{"action": "context"})
	var got struct {
		Cwd string            `json:"cwd"`
		Env map[string]string `json:"env"`
	}
	mustJSON(t, res.Payload, &got)
	if got.Cwd != dir || got.Env["GREETING"] != "from-command" || got.Env["AWS_LAMBDA_FUNCTION_NAME"] != "cmd" {
		t.Fatalf("command environment: %s", res.Payload)
	}
}

func TestFaults(t *testing.T) {
	h := newHost(t, HostOptions{Region: testRegion, InitTimeout: 2 * time.Second})
	fn := faultyFunction(t, "faulty")
	fn.Timeout = 1
	if err := h.Put(fn, 1); err != nil {
		t.Fatal(err)
	}
	initFn := func(name, mode string) {
		f := faultyFunction(t, name)
		f.Environment = map[string]string{"FAULTY_INIT": mode}
		if err := h.Put(f, 1); err != nil {
			t.Fatal(err)
		}
	}
	// Producing a 7 MB response takes longer than 1 s on a loaded machine under -race.
	big := faultyFunction(t, "faulty-big")
	big.Timeout = 30
	if err := h.Put(big, 1); err != nil {
		t.Fatal(err)
	}
	initFn("init-crash", "crash")
	initFn("init-hang", "hang")
	initFn("init-error", "error")

	tests := []struct {
		name, fn, action string
		bytes            int
		check            func(t *testing.T, res Result)
	}{
		{"crash is Runtime.ExitError", "faulty", "crash", 0, func(t *testing.T, res Result) {
			d := decodeError(t, res)
			want := "RequestId: " + res.RequestID + " Error: Runtime exited with error: exit status 3"
			if d.ErrorType != "Runtime.ExitError" || d.ErrorMessage != want {
				t.Fatalf("got %s", res.Payload)
			}
		}},
		{"panic is reported, then the process exits", "faulty", "panic", 0, func(t *testing.T, res Result) {
			d := decodeError(t, res)
			if d.ErrorMessage != "boom" || len(d.StackTrace) == 0 {
				t.Fatalf("got %s", res.Payload)
			}
		}},
		{"handler error", "faulty", "error", 0, func(t *testing.T, res Result) {
			d := decodeError(t, res)
			if d.ErrorMessage != "bad thing happened" || d.ErrorType != "errorString" {
				t.Fatalf("got %s", res.Payload)
			}
		}},
		{"garbage output passes through", "faulty", "garbage", 0, func(t *testing.T, res Result) {
			if res.FunctionError != "" || string(res.Payload) != "this is not json {" {
				t.Fatalf("got %+v %q", res, res.Payload)
			}
		}},
		{"hang past the timeout", "faulty", "hang", 0, func(t *testing.T, res Result) {
			d := decodeError(t, res)
			want := "RequestId: " + res.RequestID + " Error: Task timed out after 1.00 seconds"
			if d.ErrorType != "Sandbox.Timedout" || d.ErrorMessage != want {
				t.Fatalf("got %s", res.Payload)
			}
		}},
		{"response over 6 MB", "faulty-big", "big", 7 << 20, func(t *testing.T, res Result) {
			d := decodeError(t, res)
			if d.ErrorType != "Function.ResponseSizeTooLarge" ||
				!strings.HasSuffix(d.ErrorMessage, "exceeded maximum allowed payload size (6291456 bytes).") {
				t.Fatalf("got %s", res.Payload)
			}
		}},
		{"init crash", "init-crash", "", 0, func(t *testing.T, res Result) {
			d := decodeError(t, res)
			if d.ErrorType != "Runtime.ExitError" || !strings.HasSuffix(d.ErrorMessage, "Runtime exited with error: exit status 7") {
				t.Fatalf("got %s", res.Payload)
			}
		}},
		{"init hang past the init timeout", "init-hang", "", 0, func(t *testing.T, res Result) {
			d := decodeError(t, res)
			if d.ErrorType != "Sandbox.Timedout" || !strings.HasSuffix(d.ErrorMessage, "Task timed out after 2.00 seconds") {
				t.Fatalf("got %s", res.Payload)
			}
		}},
		{"init error document", "init-error", "", 0, func(t *testing.T, res Result) {
			d := decodeError(t, res)
			if d.ErrorType != "Runtime.ConfigError" || d.ErrorMessage != "cannot load config" {
				t.Fatalf("got %s", res.Payload)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := invoke(t, h, tt.fn, map[string]any{"action": tt.action, "bytes": tt.bytes})
			tt.check(t, res)
			if tt.fn != "faulty" {
				return
			}
			// The next call works.
			ok := invoke(t, h, "faulty", map[string]string{"hello": "again"})
			if ok.FunctionError != "" || string(ok.Payload) != `{"hello":"again"}` {
				t.Fatalf("the call after the fault: %+v %s", ok, ok.Payload)
			}
		})
	}
	log := logOf(t, h, "faulty")
	if !regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z [0-9a-f-]{36} Task timed out after 1.00 seconds\n`).MatchString(log) {
		t.Errorf("no timeout line in the log:\n%s", log)
	}
	if !strings.Contains(log, "crashing now") {
		t.Errorf("the crashing process's output is not in the log")
	}
}

func TestMissingEntrypoint(t *testing.T) {
	h := newHost(t, HostOptions{Region: testRegion})
	fn := Function{Name: "empty", Account: testAccount, Runtime: RuntimeProvidedAL2023, CodeDir: t.TempDir()}
	if err := h.Put(fn, 1); err != nil {
		t.Fatal(err)
	}
	res := invoke(t, h, "empty", map[string]string{})
	d := decodeError(t, res)
	want := "RequestId: " + res.RequestID + " Error: Couldn't find valid bootstrap(s): [" + filepath.Join(fn.CodeDir, "bootstrap") + "]"
	if d.ErrorType != "Runtime.InvalidEntrypoint" || d.ErrorMessage != want {
		t.Fatalf("got %s", res.Payload)
	}
	if st, _ := h.Stats("empty"); st.Running != 0 {
		t.Fatalf("a slot leaked: %+v", st)
	}
}

func TestTimeoutKillsProcessGroup(t *testing.T) {
	h := newHost(t, HostOptions{Region: testRegion})
	fn := faultyFunction(t, "spawner")
	fn.Timeout = 1
	if err := h.Put(fn, 1); err != nil {
		t.Fatal(err)
	}
	res := invoke(t, h, "spawner", map[string]string{"action": "spawn"})
	if d := decodeError(t, res); d.ErrorType != "Sandbox.Timedout" {
		t.Fatalf("got %s", res.Payload)
	}
	m := regexp.MustCompile(`child (\d+)`).FindStringSubmatch(logOf(t, h, "spawner"))
	if m == nil {
		t.Fatal("the function did not report its child")
	}
	child, _ := strconv.Atoi(m[1])
	waitGone(t, child)
}

func TestConcurrencyLimit(t *testing.T) {
	h := newHost(t, HostOptions{Region: testRegion})
	fn := faultyFunction(t, "limited")
	fn.Concurrency = 2
	if err := h.Put(fn, 1); err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t, time.Minute)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			res, err := h.Invoke(ctx, "limited", []byte(`{"action":"sleep","millis":800}`))
			if err != nil || res.FunctionError != "" {
				t.Errorf("slow invoke: %v %s", err, res.Payload)
			}
		})
	}
	// Wait until both slots are taken.
	for {
		st, _ := h.Stats("limited")
		if st.Running == 2 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	_, err := h.Invoke(ctx, "limited", []byte(`{}`))
	wantAWSError(t, err, CodeTooManyRequests, "Rate Exceeded.")

	start := time.Now()
	res, err := h.InvokeWith(ctx, "limited", []byte(`{"queued":true}`), InvokeOptions{Queue: true})
	if err != nil || string(res.Payload) != `{"queued":true}` {
		t.Fatalf("queued invoke: %v %s", err, res.Payload)
	}
	if time.Since(start) < 100*time.Millisecond {
		t.Errorf("the queued invoke did not wait for a slot")
	}
	short, cancel := context.WithTimeout(ctx, 0)
	defer cancel()
	wg.Wait()
	if st, _ := h.Stats("limited"); st.Instances > 2 || st.Running != 0 {
		t.Fatalf("stats after: %+v", st)
	}
	// Queued with a context that has already ended.
	for range 2 {
		wg.Go(func() { _, _ = h.Invoke(ctx, "limited", []byte(`{"action":"sleep","millis":300}`)) })
	}
	for {
		st, _ := h.Stats("limited")
		if st.Running == 2 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := h.InvokeWith(short, "limited", []byte(`{}`), InvokeOptions{Queue: true}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("queued past its deadline: %v", err)
	}
	wg.Wait()
	if st, _ := h.Stats("limited"); st.Running != 0 {
		t.Fatalf("slots leaked: %+v", st)
	}
}

func TestLogTail(t *testing.T) {
	h := newHost(t, HostOptions{Region: testRegion})
	if err := h.Put(faultyFunction(t, "logger"), 1); err != nil {
		t.Fatal(err)
	}
	res, err := h.InvokeWith(ctxT(t, time.Minute), "logger", []byte(`{"action":"log","bytes":10}`), InvokeOptions{LogTail: true})
	if err != nil {
		t.Fatal(err)
	}
	tail, err := base64.StdEncoding.DecodeString(res.LogResult)
	if err != nil {
		t.Fatal(err)
	}
	s := string(tail)
	for _, want := range []string{"START RequestId: " + res.RequestID + " Version: $LATEST\n", "LLLLLLLLLL\n", "END RequestId: " + res.RequestID + "\n", "REPORT RequestId: " + res.RequestID} {
		if !strings.Contains(s, want) {
			t.Errorf("tail lacks %q:\n%s", want, s)
		}
	}
	// Only the last 4 KB.
	res, err = h.InvokeWith(ctxT(t, time.Minute), "logger", []byte(`{"action":"log","bytes":10000}`), InvokeOptions{LogTail: true})
	if err != nil {
		t.Fatal(err)
	}
	tail, _ = base64.StdEncoding.DecodeString(res.LogResult)
	if len(tail) != LogTailSize || !strings.HasPrefix(string(tail), "LLL") || !strings.Contains(string(tail), "REPORT RequestId: "+res.RequestID) {
		t.Fatalf("tail of %d bytes:\n%s", len(tail), tail)
	}
	// Without LogTail, no LogResult.
	if res := invoke(t, h, "logger", map[string]any{}); res.LogResult != "" {
		t.Fatalf("LogResult without LogTail: %q", res.LogResult)
	}
}

func TestUpdateAndRemove(t *testing.T) {
	h := newHost(t, HostOptions{Region: testRegion})
	fn := faultyFunction(t, "changing")
	fn.Environment = map[string]string{"GREETING": "one"}
	if err := h.Put(fn, 5); err != nil {
		t.Fatal(err)
	}
	greeting := func() string {
		var got struct {
			Env map[string]string `json:"env"`
		}
		mustJSON(t, invoke(t, h, "changing", map[string]string{"action": "context"}).Payload, &got)
		return got.Env["GREETING"]
	}
	if g := greeting(); g != "one" {
		t.Fatalf("greeting %q", g)
	}
	old := pids(h)
	fn.Environment = map[string]string{"GREETING": "two"}
	if err := h.Put(fn, 4); err != nil { // older revision: ignored
		t.Fatal(err)
	}
	if g := greeting(); g != "one" {
		t.Fatalf("an older revision replaced the function: %q", g)
	}
	if err := h.Put(fn, 6); err != nil {
		t.Fatal(err)
	}
	if g := greeting(); g != "two" {
		t.Fatalf("greeting after the update %q", g)
	}
	waitGone(t, old...)

	h.Remove(testAccount, "changing", 7)
	_, err := h.Invoke(ctxT(t, time.Minute), "changing", []byte(`{}`))
	wantAWSError(t, err, CodeResourceNotFound, "Function not found: arn:aws:lambda:us-east-1:000000000000:function:changing")
	_, err = h.Invoke(ctxT(t, time.Minute), "arn:aws:lambda:us-east-1:111111111111:function:changing", []byte(`{}`))
	wantAWSError(t, err, CodeResourceNotFound, "Function not found: arn:aws:lambda:us-east-1:111111111111:function:changing")
	// A late write of an older revision does not bring it back.
	if err := h.Put(fn, 6); err != nil {
		t.Fatal(err)
	}
	if _, ok := h.Function("111111111111:function:changing"); ok {
		t.Fatal("a stale Put resurrected a removed function")
	}
}

func TestLookup(t *testing.T) {
	h := newHost(t, HostOptions{Region: testRegion, Functions: []Function{
		{Name: "same", Account: "111111111111", Command: &Command{Path: "/bin/true"}},
		{Name: "same", Account: "222222222222", Command: &Command{Path: "/bin/true"}},
		{Name: "only", Account: "222222222222", Command: &Command{Path: "/bin/true"}},
	}})
	tests := []struct {
		ref     string
		account string // "" = not found
	}{
		{"only", "222222222222"},
		{"only:$LATEST", "222222222222"},
		{"222222222222:function:only", "222222222222"},
		{"arn:aws:lambda:us-east-1:222222222222:function:only", "222222222222"},
		{"arn:aws:lambda:us-east-1:222222222222:function:only:$LATEST", "222222222222"},
		{"arn:aws:lambda:us-east-1:111111111111:function:same", "111111111111"},
		{"same", ""}, // ambiguous
		{"only:v2", ""},
		{"arn:aws:lambda:eu-west-1:222222222222:function:only", ""},
		{"arn:aws:lambda:us-east-1:111111111111:function:only", ""},
		{"bad name!", ""},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			fn, ok := h.Function(tt.ref)
			if ok != (tt.account != "") || ok && fn.Account != tt.account {
				t.Fatalf("Function(%q) = %v %v", tt.ref, fn.Account, ok)
			}
		})
	}
}

func TestRequestTooLarge(t *testing.T) {
	h := newHost(t, HostOptions{Region: testRegion, Functions: []Function{
		{Name: "f", Account: testAccount, Command: &Command{Path: "/bin/true"}}}})
	_, err := h.Invoke(ctxT(t, time.Minute), "f", make([]byte, MaxPayloadSize+1))
	wantAWSError(t, err, CodeRequestTooLarge, "Request must be smaller than 6291456 bytes for the InvokeFunction operation")
}

func TestIdleInstancesStop(t *testing.T) {
	h := newHost(t, HostOptions{Region: testRegion, IdleTimeout: 100 * time.Millisecond})
	if err := h.Put(goFunction(t, "idle"), 1); err != nil {
		t.Fatal(err)
	}
	invoke(t, h, "idle", map[string]string{})
	ps := pids(h)
	waitGone(t, ps...)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if st, _ := h.Stats("idle"); st.Instances == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the idle instance was not forgotten")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if res := invoke(t, h, "idle", map[string]string{}); res.FunctionError != "" {
		t.Fatalf("after the idle stop: %s", res.Payload)
	}
}

// TestNoLeaks runs every kind of invocation, closes the host, and checks
// that no goroutine and no process is left.
func TestNoLeaks(t *testing.T) {
	var all []int
	checkGoroutines(t, func() {
		h, err := NewHost(HostOptions{Region: testRegion, DataDir: t.TempDir(), InitTimeout: time.Second, Logger: testLogger()})
		if err != nil {
			t.Fatal(err)
		}
		fn := faultyFunction(t, "leaky")
		fn.Timeout = 1
		fn.Concurrency = 3
		if err := h.Put(fn, 1); err != nil {
			t.Fatal(err)
		}
		hang := faultyFunction(t, "init-hang")
		hang.Environment = map[string]string{"FAULTY_INIT": "hang"}
		if err := h.Put(hang, 1); err != nil {
			t.Fatal(err)
		}
		ctx := ctxT(t, time.Minute)
		var wg sync.WaitGroup
		for _, a := range []string{"echo", "crash", "panic", "error", "garbage", "hang", "spawn", "sleep"} {
			wg.Go(func() {
				_, _ = h.InvokeWith(ctx, "leaky", []byte(`{"action":"`+a+`","millis":50}`), InvokeOptions{Queue: true})
			})
		}
		wg.Go(func() { _, _ = h.Invoke(ctx, "init-hang", []byte(`{}`)) })
		wg.Wait()
		// An invocation in flight when Close comes ends with ErrClosed.
		done := make(chan error, 1)
		go func() {
			_, err := h.Invoke(ctx, "leaky", []byte(`{"action":"sleep","millis":5000}`))
			done <- err
		}()
		for {
			if st, _ := h.Stats("leaky"); st.Running == 1 {
				break
			}
			time.Sleep(time.Millisecond)
		}
		all = pids(h)
		if err := h.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; !errors.Is(err, ErrClosed) {
			t.Fatalf("in-flight invoke at Close: %v", err)
		}
		if _, err := h.Invoke(ctx, "leaky", []byte(`{}`)); !errors.Is(err, ErrClosed) {
			t.Fatalf("invoke after Close: %v", err)
		}
	})
	waitGone(t, all...)
}

func TestPythonHandler(t *testing.T) {
	py, err := (&Host{}).python("python3.12")
	if err != nil {
		t.Skipf("no Python: %v", err)
	}
	t.Logf("python: %s", py)
	h := newHost(t, HostOptions{Region: testRegion})
	src, err := os.ReadFile("../../examples/functions/echo-python/handler.py")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "handler.py"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "pkg"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pkg", "broken.py"), []byte("def handler(:\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	put := func(name, handler string) {
		t.Helper()
		if err := h.Put(Function{Name: name, Account: testAccount, Runtime: "python3.12", Handler: handler, CodeDir: dir, MemorySize: 256}, 1); err != nil {
			t.Fatal(err)
		}
	}
	put("py", "handler.handler")
	put("py-nomodule", "nope.handler")
	put("py-nohandler", "handler.missing")
	put("py-malformed", "handler")
	put("py-syntax", "pkg/broken.handler")

	for i := range 2 {
		res := invoke(t, h, "py", map[string]string{"path": "/p"})
		if res.FunctionError != "" {
			t.Fatalf("invoke %d: %s", i, res.Payload)
		}
		var resp struct {
			StatusCode int               `json:"statusCode"`
			Headers    map[string]string `json:"headers"`
			Body       string            `json:"body"`
		}
		mustJSON(t, res.Payload, &resp)
		var body struct {
			Event        map[string]string `json:"event"`
			FunctionName string            `json:"functionName"`
			Memory       string            `json:"memoryLimitInMB"`
			Remaining    int               `json:"remainingMillis"`
		}
		mustJSON(t, []byte(resp.Body), &body)
		if resp.StatusCode != 200 || resp.Headers["X-Echo"] != "echo-python" || body.Event["path"] != "/p" ||
			body.FunctionName != "py" || body.Memory != "256" || body.Remaining <= 0 || body.Remaining > 3000 {
			t.Fatalf("response %s / %s", res.Payload, resp.Body)
		}
	}
	if st, _ := h.Stats("py"); st.Instances != 1 {
		t.Fatalf("python instance not reused: %+v", st)
	}
	res := invoke(t, h, "py", map[string]string{"action": "fail"})
	d := decodeError(t, res)
	if d.ErrorType != "ValueError" || d.ErrorMessage != "asked to fail" || d.RequestID == nil || *d.RequestID != res.RequestID || len(d.StackTrace) == 0 {
		t.Fatalf("handler exception: %s", res.Payload)
	}
	if !strings.Contains(logOf(t, h, "py"), "[INFO]\t") {
		t.Errorf("the handler's logging output is not in the log:\n%s", logOf(t, h, "py"))
	}

	tests := []struct{ fn, errType, msg string }{
		{"py-nomodule", "Runtime.ImportModuleError", "Unable to import module 'nope': No module named 'nope'"},
		{"py-nohandler", "Runtime.HandlerNotFound", "Handler 'missing' missing on module 'handler'"},
		{"py-malformed", "Runtime.MalformedHandlerName", "Bad handler 'handler': not enough values to unpack (expected 2, got 1)"},
		{"py-syntax", "Runtime.UserCodeSyntaxError", ""},
	}
	for _, tt := range tests {
		t.Run(tt.fn, func(t *testing.T) {
			res := invoke(t, h, tt.fn, map[string]string{})
			d := decodeError(t, res)
			if d.ErrorType != tt.errType || (tt.msg != "" && d.ErrorMessage != tt.msg) {
				t.Fatalf("got %s", res.Payload)
			}
		})
	}
}

func TestParseRef(t *testing.T) {
	tests := []struct {
		in   string
		want Ref
		bad  bool
	}{
		{in: "f", want: Ref{Name: "f"}},
		{in: "f:$LATEST", want: Ref{Name: "f", Qualifier: "$LATEST"}},
		{in: "123456789012:function:f", want: Ref{Account: "123456789012", Name: "f"}},
		{in: "123456789012:function:f:1", want: Ref{Account: "123456789012", Name: "f", Qualifier: "1"}},
		{in: "arn:aws:lambda:us-west-2:123456789012:function:my-fn", want: Ref{Region: "us-west-2", Account: "123456789012", Name: "my-fn"}},
		{in: "arn:aws:lambda:us-west-2:123456789012:function:my-fn:prod", want: Ref{Region: "us-west-2", Account: "123456789012", Name: "my-fn", Qualifier: "prod"}},
		{in: "", bad: true},
		{in: "a:b:c", bad: true},
		{in: "12345:function:f", bad: true},
		{in: "arn:aws:s3:::bucket", bad: true},
		{in: strings.Repeat("x", 65), bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRef(tt.in)
			if tt.bad {
				if err == nil {
					t.Fatalf("ParseRef(%q) = %+v, want an error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseRef(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestEventShapeJSON(t *testing.T) {
	// The error payloads are byte-exact AWS shapes.
	if got := string(timedOutPayload("id-1", 3*time.Second)); got != `{"errorType":"Sandbox.Timedout","errorMessage":"RequestId: id-1 Error: Task timed out after 3.00 seconds"}` {
		t.Fatal(got)
	}
	if got := string(exitPayload("id-2", nil)); got != `{"errorType":"Runtime.ExitError","errorMessage":"RequestId: id-2 Error: Runtime exited without providing a reason"}` {
		t.Fatal(got)
	}
	var v map[string]string
	if err := json.Unmarshal(errorPayload("a<b>", "x&y\"z"), &v); err != nil || v["errorMessage"] != "x&y\"z" {
		t.Fatal(v, err)
	}
}

func FuzzParseRef(f *testing.F) {
	for _, s := range []string{"f", "f:$LATEST", "123456789012:function:f", "arn:aws:lambda:us-west-2:123456789012:function:my-fn:prod", "a:b:c:d:e:f:g:h:i", ":::", "arn:aws:lambda:::function:"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRef(s)
		if err != nil {
			return
		}
		if !ValidName(r.Name) || (r.Account != "" && !isAccountID(r.Account)) {
			t.Fatalf("ParseRef(%q) accepted %+v", s, r)
		}
	})
}
