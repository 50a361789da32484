package function

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Bucket is the store bucket that holds functions created through the Lambda
// control plane, one key per function (see StoreKey). The value is a JSON
// object whose fields include those of Function; the Host ignores the rest.
const Bucket = "functions"

// Runtime identifiers the built-in host can run. Python runtimes are any
// "python3.N".
const (
	RuntimeProvidedAL2023 = "provided.al2023"
	RuntimeProvidedAL2    = "provided.al2"
	RuntimeProvided       = "provided"
	RuntimeGo1x           = "go1.x"
)

// Defaults and limits, as in AWS Lambda.
const (
	// DefaultTimeout is a function's timeout when none is set (AWS: 3 s).
	DefaultTimeout = 3 * time.Second
	// MaxTimeout is the largest function timeout (AWS: 900 s).
	MaxTimeout = 900 * time.Second
	// DefaultMemorySize is the memory size in MB when none is set (AWS: 128).
	DefaultMemorySize = 128
	// MaxPayloadSize is the largest synchronous request or response payload
	// (AWS: 6 MB = 6,291,456 bytes).
	MaxPayloadSize = 6 << 20
	// LogTailSize is how much of an invocation's log LogType Tail returns.
	LogTailSize = 4 << 10
	// Version is the only function version gatehouse serves.
	Version = "$LATEST"
)

// Function is one Lambda function: where it runs and how. It is what the
// topology file's functions list and the Lambda control plane's CreateFunction
// produce, and what Host runs. Exactly one of Endpoint, Command or CodeDir
// says where the code is.
type Function struct {
	// Name is the function name, 1-64 characters of [a-zA-Z0-9-_].
	Name string `json:"name"`
	// Account is the owning 12-digit account id.
	Account string `json:"account"`
	// Region is the function's Region; empty means the Host's.
	Region string `json:"region,omitempty"`
	// Runtime is the Lambda runtime id: provided.al2023, provided.al2, go1.x
	// or python3.N. Optional for Command and Endpoint functions.
	Runtime string `json:"runtime,omitempty"`
	// Handler is the runtime's handler setting: the executable name for
	// go1.x, "module.function" for Python, free text for provided.*.
	Handler string `json:"handler,omitempty"`
	// Timeout is the invocation timeout in seconds; 0 means 3 (AWS's default).
	Timeout int `json:"timeout,omitempty"`
	// MemorySize is in MB; 0 means 128. Recorded and passed to the process
	// (AWS_LAMBDA_FUNCTION_MEMORY_SIZE); not enforced.
	MemorySize int `json:"memorySize,omitempty"`
	// Environment holds the function's environment variables.
	Environment map[string]string `json:"environment,omitempty"`
	// Concurrency is the most invocations that run at once (AWS: reserved
	// concurrency). 0 means the Host's default.
	Concurrency int `json:"concurrency,omitempty"`
	// VPC, when set, attaches the function to a VPC.
	VPC *VPC `json:"vpc,omitempty"`

	// Endpoint runs the function elsewhere, through the Lambda Invoke API.
	Endpoint *Endpoint `json:"endpoint,omitempty"`
	// Command runs a local executable as the function's runtime.
	Command *Command `json:"command,omitempty"`
	// CodeDir is the unpacked deployment package (LAMBDA_TASK_ROOT), run
	// with the Runtime's entry point: ./bootstrap for provided.*, ./Handler
	// for go1.x, the embedded Python runtime loop for python3.N.
	CodeDir string `json:"codeDir,omitempty"`
	// CodeSha256 identifies the deployment package (base64 SHA-256, as AWS
	// reports it). A change makes the Host replace warm instances.
	CodeSha256 string `json:"codeSha256,omitempty"`
}

// VPC is the network a function is attached to. The process gets its id,
// CIDR and resolver in GATEHOUSE_VPC_ID, GATEHOUSE_VPC_CIDR and
// GATEHOUSE_VPC_RESOLVER; running the process inside the VPC's network comes
// with a later issue.
type VPC struct {
	ID               string   `json:"id"`
	CIDR             string   `json:"cidr,omitempty"`
	Resolver         string   `json:"resolver,omitempty"`
	SubnetIDs        []string `json:"subnetIds,omitempty"`
	SecurityGroupIDs []string `json:"securityGroupIds,omitempty"`
}

// Endpoint is a Lambda Invoke API to forward invocations to: real AWS (SigV4
// signed with the given credentials) or another emulator.
type Endpoint struct {
	// URL is the API's base URL, e.g. https://lambda.us-east-1.amazonaws.com.
	URL string `json:"url"`
	// FunctionName is the function's name or ARN there; empty means Name.
	FunctionName string `json:"functionName,omitempty"`
	// Region signs the requests; empty means the function's Region.
	Region string `json:"region,omitempty"`
	// AccessKeyID and SecretAccessKey sign the requests with SigV4 (service
	// "lambda"). Empty means unsigned.
	AccessKeyID     string `json:"accessKeyId,omitempty"`
	SecretAccessKey string `json:"secretAccessKey,omitempty"`
	SessionToken    string `json:"sessionToken,omitempty"`
}

// Command is a local executable run as the function's runtime under the
// Lambda Runtime API.
type Command struct {
	Path string            `json:"path"`
	Args []string          `json:"args,omitempty"`
	Env  map[string]string `json:"env,omitempty"`
	Dir  string            `json:"dir,omitempty"`
}

// String describes the endpoint without its secret.
func (e Endpoint) String() string { return e.URL + " (" + e.AccessKeyID + "/<redacted>)" }

var nameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// ValidName reports whether name is a valid function name.
func ValidName(name string) bool { return nameRE.MatchString(name) }

// IsPython reports whether runtime is a python3.N runtime.
func IsPython(runtime string) bool {
	v, ok := strings.CutPrefix(runtime, "python3.")
	if !ok || v == "" {
		return false
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// SupportedRuntime reports whether the built-in host can run code packages
// of runtime.
func SupportedRuntime(runtime string) bool {
	switch runtime {
	case RuntimeProvidedAL2023, RuntimeProvidedAL2, RuntimeProvided, RuntimeGo1x:
		return true
	}
	return IsPython(runtime)
}

// ARN returns arn:aws:lambda:{region}:{account}:function:{name}.
func ARN(region, account, name string) string {
	return "arn:aws:lambda:" + region + ":" + account + ":function:" + name
}

// StoreKey is the key of a function in Bucket: "{account}/{name}".
func StoreKey(account, name string) string { return account + "/" + name }

// TimeoutDuration returns the function's timeout (DefaultTimeout when unset).
func (f *Function) TimeoutDuration() time.Duration {
	if f.Timeout <= 0 {
		return DefaultTimeout
	}
	return time.Duration(f.Timeout) * time.Second
}

// Memory returns the memory size in MB (DefaultMemorySize when unset).
func (f *Function) Memory() int {
	if f.MemorySize <= 0 {
		return DefaultMemorySize
	}
	return f.MemorySize
}

// fingerprint identifies everything about f that a running instance depends
// on; instances of another fingerprint are replaced.
func (f *Function) fingerprint() string {
	b, _ := json.Marshal(f) // a Function always marshals
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// Ref is a parsed function reference: a name, a partial ARN
// ("{account}:function:{name}") or a full ARN, each with an optional
// ":{qualifier}".
type Ref struct {
	Region, Account, Name, Qualifier string
}

// ParseRef parses a FunctionName as the Lambda API accepts it: "my-function",
// "my-function:v1", "123456789012:function:my-function",
// "arn:aws:lambda:us-west-2:123456789012:function:my-function" and that
// with ":qualifier".
func ParseRef(s string) (Ref, error) {
	var r Ref
	parts := strings.Split(s, ":")
	switch {
	case len(parts) >= 7 && parts[0] == "arn" && strings.HasPrefix(parts[1], "aws") && parts[2] == "lambda" && parts[5] == "function":
		if len(parts) > 8 {
			return r, fmt.Errorf("invalid function ARN %q", s)
		}
		r = Ref{Region: parts[3], Account: parts[4], Name: parts[6]}
		if len(parts) == 8 {
			r.Qualifier = parts[7]
		}
	case len(parts) >= 3 && parts[1] == "function":
		if len(parts) > 4 {
			return r, fmt.Errorf("invalid function name %q", s)
		}
		r = Ref{Account: parts[0], Name: parts[2]}
		if len(parts) == 4 {
			r.Qualifier = parts[3]
		}
	case len(parts) <= 2:
		r.Name = parts[0]
		if len(parts) == 2 {
			r.Qualifier = parts[1]
		}
	default:
		return r, fmt.Errorf("invalid function name %q", s)
	}
	if !ValidName(r.Name) {
		return r, fmt.Errorf("invalid function name %q", s)
	}
	if r.Account != "" && !isAccountID(r.Account) {
		return r, fmt.Errorf("invalid account id in %q", s)
	}
	if r.Qualifier != "" && r.Qualifier != Version {
		if len(r.Qualifier) > 128 || strings.ContainsAny(r.Qualifier, "/ ") {
			return r, fmt.Errorf("invalid qualifier in %q", s)
		}
	}
	return r, nil
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
