// Package lambdaapi is the subset of the AWS Lambda control plane
// (REST-JSON, botocore model lambda/2015-03-31) that gatehouse serves, so
// that `aws lambda ... --endpoint-url` and the SDKs' Lambda clients work, and
// the resource-policy check API Gateway makes before an AWS_PROXY call.
//
// # Operations
//
//	CreateFunction               POST   /2015-03-31/functions                       201
//	ListFunctions                GET    /2015-03-31/functions/                      200 (MaxItems, Marker)
//	GetFunction                  GET    /2015-03-31/functions/{name}                200
//	GetFunctionConfiguration     GET    /2015-03-31/functions/{name}/configuration  200
//	UpdateFunctionConfiguration  PUT    /2015-03-31/functions/{name}/configuration  200
//	UpdateFunctionCode           PUT    /2015-03-31/functions/{name}/code           200
//	DeleteFunction               DELETE /2015-03-31/functions/{name}                204
//	Invoke                       POST   /2015-03-31/functions/{name}/invocations    200 / 202 Event / 204 DryRun
//	AddPermission                POST   /2015-03-31/functions/{name}/policy         201
//	GetPolicy                    GET    /2015-03-31/functions/{name}/policy         200
//	RemovePermission             DELETE /2015-03-31/functions/{name}/policy/{sid}  204
//
// {name} is a name, a partial ARN ({account}:function:{name}) or an ARN, with
// an optional :$LATEST qualifier (no versions or aliases). Functions are per
// account; Invoke also reaches another account's function when its policy
// allows the caller's account.
//
// Code is accepted as ZipFile only (S3 and container images are refused),
// at most 50 MB zipped (the request at most 70,167,211 bytes) and 262,144,000
// bytes unpacked, counted as written. It is unpacked under
// {DataDir}/functions/code/{name}/{hex sha256}/, content-addressed, refusing
// entries outside that directory (absolute, "..", backslashes, drive
// letters) and links that are absolute or contain "..". Entries keep their
// Unix modes; entries without Unix modes get 0755.
//
// Runtimes are those package function runs: provided.al2023, provided.al2,
// provided, go1.x and python3.N; others are refused with
// InvalidParameterValueException. The function record (function.Function's
// fields plus role, description, code size, LastModified, RevisionId, tags
// and the resource policy's statements) is stored in bucket function.Bucket
// under "{account}/{name}"; the Host runs it as soon as it is written here,
// and on other nodes through Sync.
//
// Invoke: RequestResponse returns the payload with X-Amz-Executed-Version,
// X-Amz-Function-Error and, with X-Amz-Log-Type: Tail, X-Amz-Log-Result
// (base64 of the invocation's last 4 KB of log). An empty payload is sent as
// {}; a payload that is not JSON is refused (InvalidRequestContentException).
// Event returns 202 and runs the invocation in the background, waiting for a
// concurrency slot (payload at most 1 MB; 1,024 may be pending; no retries
// on function errors, no destinations or DLQ). DryRun returns 204.
//
// Errors use Lambda's shapes: x-amzn-ErrorType and a body
// {"Type":"User","message":...}; for example ResourceNotFoundException 404
// "Function not found: arn:aws:lambda:us-east-1:111111111111:function:f",
// ResourceConflictException 409 "Function already exist: f",
// InvalidParameterValueException 400, ValidationException 400 ("1 validation
// error detected: Value '0' at 'timeout' failed to satisfy constraint: ..."),
// PreconditionFailedException 412 for a stale RevisionId,
// TooManyRequestsException 429 with Reason
// ReservedFunctionConcurrentInvocationLimitExceeded.
//
// # Permissions
//
// AddPermission stores statements as Lambda writes them:
//
//	{"Sid":"apigw","Effect":"Allow","Principal":{"Service":"apigateway.amazonaws.com"},
//	 "Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:...:function:f",
//	 "Condition":{"ArnLike":{"AWS:SourceArn":"arn:aws:execute-api:...:api/*/GET/*"}}}
//
// (SourceAccount becomes StringEquals AWS:SourceAccount; an account principal
// becomes {"AWS":"arn:aws:iam::{account}:root"}). GetPolicy returns them in a
// {"Version":"2012-10-17","Id":"default","Statement":[...]} document.
// AllowsInvoke evaluates that document with package policy (IAM semantics:
// wildcards in ArnLike, explicit Deny, ...) from memory, so the data plane
// can call it per request. Functions defined in the topology file have no
// statements but are always invocable by API Gateway APIs of their own
// account.
//
// Topology functions are listed, readable and invocable through the API,
// and refused (InvalidParameterValueException) by the operations that would
// change them; their names cannot be taken by CreateFunction.
package lambdaapi
