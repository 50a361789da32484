// Package function owns Lambda functions as gatehouse runs them: the
// Function type, and the Host that invokes them — local code as processes
// under the Lambda Runtime API, remote functions through the Lambda Invoke
// API. It is the one piece every Lambda-backed feature calls (REST AWS_PROXY
// integrations, Lambda authorizers, the Lambda control plane's Invoke).
//
// # Functions
//
// A Function has a name, an account, and its ARN
// arn:aws:lambda:{region}:{account}:function:{name}; a runtime, handler,
// timeout (default 3 s, at most 900 s), memory size (default 128 MB,
// reported, not enforced), environment, concurrency limit and optional VPC.
// It runs in one of three ways:
//
//   - Endpoint: POST {url}/2015-03-31/functions/{name}/invocations on a
//     Lambda Invoke API (real AWS, or another emulator), SigV4-signed for
//     service "lambda" with the configured credentials (aws-sdk-go-v2's v4
//     signer). Remote errors come back as *awsproto.Error with the remote
//     code and message.
//   - Command: a local executable with args, env and working directory,
//     run as a custom runtime.
//   - CodeDir: an unpacked deployment package run by its Runtime:
//     provided.al2023 / provided.al2 / provided start ./bootstrap; go1.x
//     starts the executable named by Handler (under the Runtime API, which
//     aws-lambda-go uses whenever AWS_LAMBDA_RUNTIME_API is set); python3.N
//     starts gatehouse's Python runtime loop (below) with Handler
//     "module.function".
//
// Functions come from HostOptions.Functions (the topology file, see
// FromTopology), from Put/Remove (the Lambda control plane calls them after
// its writes), and from Sync, which follows the store's Bucket. Put and
// Remove carry the store revision, so a stale watch event never undoes a
// newer direct call.
//
// # The Runtime API
//
// Each instance (AWS's "execution environment") is one process with its own
// Runtime API listener on 127.0.0.1:{random port}, passed in
// AWS_LAMBDA_RUNTIME_API. The API is AWS's 2018-06-01 version:
//
//	GET  /2018-06-01/runtime/invocation/next          → 200, the event; headers
//	     Lambda-Runtime-Aws-Request-Id, Lambda-Runtime-Deadline-Ms,
//	     Lambda-Runtime-Invoked-Function-Arn, Lambda-Runtime-Trace-Id,
//	     Lambda-Runtime-Client-Context (when the caller sent one)
//	POST /2018-06-01/runtime/invocation/{id}/response → 202 (413 over 6 MB)
//	POST /2018-06-01/runtime/invocation/{id}/error    → 202
//	POST /2018-06-01/runtime/init/error               → 202 (403 after init)
//
// A response streamed with an error trailer (Lambda-Runtime-Function-Error-Type,
// as aws-lambda-go sends when its response reader fails) is a function error.
// An unknown or finished request id gets 400 InvalidRequestID.
//
// The process environment has AWS's variables: AWS_LAMBDA_RUNTIME_API,
// _HANDLER, AWS_REGION, AWS_DEFAULT_REGION, AWS_EXECUTION_ENV (go1.x and
// python), AWS_LAMBDA_FUNCTION_NAME, AWS_LAMBDA_FUNCTION_VERSION ($LATEST),
// AWS_LAMBDA_FUNCTION_MEMORY_SIZE, AWS_LAMBDA_FUNCTION_TIMEOUT,
// AWS_LAMBDA_LOG_GROUP_NAME (/aws/lambda/{name}), AWS_LAMBDA_LOG_STREAM_NAME,
// AWS_LAMBDA_INITIALIZATION_TYPE (on-demand), LAMBDA_TASK_ROOT,
// LAMBDA_RUNTIME_DIR, TZ=:UTC, LANG, and gatehouse's PATH; then the
// function's Environment (reserved names cannot be overridden), then a
// Command's Env. A function attached to a VPC also gets GATEHOUSE_VPC_ID,
// GATEHOUSE_VPC_CIDR and GATEHOUSE_VPC_RESOLVER; running it inside the VPC's
// network comes with a later issue. No execution-role credentials are
// passed.
//
// # Instances, concurrency, faults
//
//   - Warm instances are reused, most recently used first, and stopped after
//     HostOptions.IdleTimeout (10 minutes) without work. A changed function
//     (any field, including CodeSha256) replaces them.
//   - At most Concurrency invocations of a function run at once (default
//     HostOptions.DefaultConcurrency, 64). One more fails at once with
//     TooManyRequestsException "Rate Exceeded." (Reason
//     ReservedFunctionConcurrentInvocationLimitExceeded), as AWS does for
//     synchronous calls, or waits for a slot until its context ends with
//     InvokeOptions.Queue / HostOptions.QueueThrottled.
//   - The timeout kills the instance's whole process group (SIGKILL; the
//     processes run in their own group, and die with gatehouse through
//     PR_SET_PDEATHSIG) and the invocation returns, with FunctionError
//     "Unhandled", Lambda's document
//     {"errorType":"Sandbox.Timedout","errorMessage":"RequestId: {id} Error: Task timed out after 3.00 seconds"}.
//   - A process that exits during an invocation gives
//     {"errorType":"Runtime.ExitError","errorMessage":"RequestId: {id} Error: Runtime exited with error: exit status 2"}
//     ("... signal: killed", or "Runtime exited without providing a
//     reason" for status 0). One that exits between invocations (as
//     aws-lambda-go does after reporting a panic) is replaced and the next
//     invocation runs on a new instance. A runtime that cannot be started
//     gives Runtime.InvalidEntrypoint; init past HostOptions.InitTimeout
//     (10 s) gives Sandbox.Timedout; /init/error passes the runtime's
//     document through. None of these is an error of Invoke, and none
//     affects other functions or gatehouse.
//   - The caller's context ending does not stop the invocation (it runs to
//     its own timeout, as on AWS); the result is dropped.
//   - Close kills every instance, fails in-flight invocations with
//     ErrClosed and waits for every process and goroutine.
//
// # Logs
//
// A function's processes write stdout and stderr straight into
// {DataDir}/functions/{name}.log (opened O_APPEND and handed to the process,
// so nothing is copied and a crash loses nothing). The host adds Lambda's
// START, END and REPORT lines (Duration, Billed Duration, Memory Size, Init
// Duration on a cold start; not Max Memory Used) and the timeout line.
// InvokeOptions.LogTail returns the last 4 KB written between START and
// REPORT, base64-encoded (X-Amz-Log-Result); instances of one function
// running at once share the file, so a tail may include their lines too.
// The file is not rotated. Functions of the same name in two accounts share
// it.
//
// # Python
//
// The official AWS runtime interface client (awslambdaric) cannot be
// installed here: PyPI is unreachable from gatehouse's build machines. So
// python3.N functions run under runtime/python/bootstrap.py, a small runtime
// loop that uses only the Python standard library. It is embedded in the
// binary and written to {DataDir}/functions/runtime/python/bootstrap.py at
// start. It implements the Runtime API client, the context object
// (aws_request_id, function_name, memory_limit_in_mb,
// get_remaining_time_in_millis(), ...), logging in Lambda's format, and
// awslambdaric's error documents (Runtime.ImportModuleError,
// Runtime.HandlerNotFound, Runtime.UserCodeSyntaxError,
// Runtime.MalformedHandlerName, Runtime.UnmarshalError,
// Runtime.MarshalError; handler exceptions as {errorMessage, errorType,
// requestId, stackTrace}). The interpreter is HostOptions.Python, else
// python3.N, else python3, whichever runs first; a package's own
// bootstrap (provided.* runtime) can still use the official client.
//
// # Figures
//
// Measured with go test -bench -benchtime=5s on the project's 2-core
// machine (AMD EPYC, linux/amd64) while other sessions' builds and tests
// shared it (load average 8 to 16), with the echo-go example built by the
// test; two runs each:
//
//	BenchmarkWarmInvoke          warm round trip Invoke → /next → handler → /response:
//	                             243-252 µs/op mean, p50 183-206 µs (target ≤ 300 µs),
//	                             p99 0.8-1.4 ms; 79 allocations
//	BenchmarkWarmInvokeParallel  two callers, two warm instances: 207-228 µs/op
//	BenchmarkColdStart           new aws-lambda-go process to first result:
//	                             6.3-7.0 ms/op mean, p50 2.7-2.8 ms (target ≤ 50 ms),
//	                             p99 91-96 ms (scheduling stalls of the busy machine)
//
// The warm figure is the whole round trip, so it bounds the overhead the
// host adds; the handler's own work is a JSON echo. lambdaapi's
// BenchmarkProxyRoundTrip (permission check, BuildEvent, Invoke,
// ParseResponse) takes 370-447 µs, about 2,500 sequential AWS_PROXY
// requests/s to one warm Go function, before the data plane's own work.
package function
