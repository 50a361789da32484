package config

import (
	"net/url"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// Function is a Lambda function defined in the topology (YAML list
// functions). It runs in one of three ways: endpoint (forwarded to a Lambda
// Invoke API), command (a local executable run under the Lambda Runtime API)
// or code (a directory holding an unpacked deployment package, run with the
// runtime's entry point). Exactly one of them is required.
//
// Functions of the topology are always allowed to be invoked by API Gateway
// APIs of the same account, without an AddPermission statement.
type Function struct {
	// Name is 1-64 characters of [a-zA-Z0-9-_], unique per account.
	Name string
	// Account is the owning account id; it must be listed in accounts.
	Account string
	// Runtime is provided.al2023, provided.al2, provided, go1.x or
	// python3.N. Required with code; optional otherwise.
	Runtime string
	// Handler is required with code for go1.x (the executable's name) and
	// python3.N (module.function).
	Handler string
	// Timeout is in seconds, 1 to 900. Default 3.
	Timeout int
	// MemorySize is in MB, 128 to 10240. Default 128. YAML key memorySize.
	MemorySize int
	// Environment are the function's environment variables.
	Environment map[string]string
	// Concurrency limits concurrent invocations (reserved concurrency);
	// 0 (the default) means the host's default.
	Concurrency int
	// VPC is the id of a VPC of the same account the function is attached
	// to; "" for none.
	VPC string
	// Endpoint forwards invocations to a Lambda Invoke API.
	Endpoint *FunctionEndpoint
	// Command is a local executable run as the function's runtime.
	Command *FunctionCommand
	// Code is a directory holding the unpacked deployment package.
	Code string
}

// FunctionEndpoint is a Lambda Invoke API (YAML key endpoint).
type FunctionEndpoint struct {
	// URL is the API's base URL (http or https). Required.
	URL string
	// FunctionName is the name or ARN there. Default: the function's name.
	// YAML key functionName.
	FunctionName string
	// Region signs requests; default: the topology's Region.
	Region string
	// AccessKeyID and SecretAccessKey sign requests with SigV4; both or
	// neither. YAML keys accessKeyId, secretAccessKey.
	AccessKeyID     string
	SecretAccessKey string
}

// String describes the endpoint without its secret.
func (e FunctionEndpoint) String() string { return e.URL + " (" + e.AccessKeyID + "/<redacted>)" }

// FunctionCommand is a local executable (YAML key command).
type FunctionCommand struct {
	// Path is the executable. Required.
	Path string
	// Args are its arguments.
	Args []string
	// Env are extra environment variables.
	Env map[string]string
	// Dir is the working directory.
	Dir string
}

// Function returns the function of account with the given name.
func (t *Topology) Function(account, name string) (*Function, bool) {
	for i := range t.Functions {
		if t.Functions[i].Account == account && t.Functions[i].Name == name {
			return &t.Functions[i], true
		}
	}
	return nil, false
}

func (d *decoder) function(n *yaml.Node, path string) Function {
	var f Function
	d.object(n, path, []fieldDecoder{
		{"name", d.str(&f.Name)},
		{"account", d.str(&f.Account)},
		{"runtime", d.str(&f.Runtime)},
		{"handler", d.str(&f.Handler)},
		{"timeout", d.integer(&f.Timeout)},
		{"memorySize", d.integer(&f.MemorySize)},
		{"environment", d.stringMap(&f.Environment)},
		{"concurrency", d.integer(&f.Concurrency)},
		{"vpc", d.str(&f.VPC)},
		{"code", d.str(&f.Code)},
		{"endpoint", func(n *yaml.Node, path string) {
			e := &FunctionEndpoint{}
			d.object(n, path, []fieldDecoder{
				{"url", d.str(&e.URL)},
				{"functionName", d.str(&e.FunctionName)},
				{"region", d.str(&e.Region)},
				{"accessKeyId", d.str(&e.AccessKeyID)},
				{"secretAccessKey", d.str(&e.SecretAccessKey)},
			})
			f.Endpoint = e
		}},
		{"command", func(n *yaml.Node, path string) {
			c := &FunctionCommand{}
			d.object(n, path, []fieldDecoder{
				{"path", d.str(&c.Path)},
				{"args", func(n *yaml.Node, path string) {
					d.list(n, path, func(n *yaml.Node, path string) {
						var s string
						d.str(&s)(n, path)
						c.Args = append(c.Args, s)
					})
				}},
				{"env", d.stringMap(&c.Env)},
				{"dir", d.str(&c.Dir)},
			})
			f.Command = c
		}},
	})
	return f
}

// stringMap decodes a mapping of scalar keys to scalar values. Null leaves
// dst unchanged.
func (d *decoder) stringMap(dst *map[string]string) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		if n = d.visit(n, path); n == nil || isNull(n) {
			return
		}
		if n.Kind != yaml.MappingNode || n.ShortTag() != "!!map" {
			d.fail(n, path, "want a mapping, got %s", describe(n))
			return
		}
		m := make(map[string]string, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := d.visit(n.Content[i], path)
			if k == nil {
				return
			}
			if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
				d.report(k, path, "keys must be strings, got %s", describe(k))
				continue
			}
			p := field(path, k.Value)
			if _, dup := m[k.Value]; dup {
				d.report(k, p, "duplicate key")
				continue
			}
			d.lines[p] = k.Line
			var v string
			d.str(&v)(n.Content[i+1], p)
			m[k.Value] = v
		}
		*dst = m
	}
}

var (
	functionNameRE = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)
	envKeyRE       = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]*$`)
)

// functionRuntimes are the runtimes gatehouse's function host runs, besides
// python3.N.
var functionRuntimes = []string{"provided.al2023", "provided.al2", "provided", "go1.x"}

func validFunctionRuntime(r string) bool {
	for _, k := range functionRuntimes {
		if r == k {
			return true
		}
	}
	v, ok := strings.CutPrefix(r, "python3.")
	return ok && v != "" && strings.Trim(v, "0123456789") == ""
}

func (t *Topology) validateFunctions(errs *fieldErrors) {
	nameAt := map[string]string{}
	for i, f := range t.Functions {
		p := index("functions", i)
		switch {
		case f.Name == "":
			errs.add(p+".name", "required")
		case !functionNameRE.MatchString(f.Name):
			errs.add(p+".name", "%q is not a function name: want 1 to 64 characters of a-z, A-Z, 0-9, - and _", f.Name)
		case nameAt[f.Account+"/"+f.Name] != "":
			errs.add(p+".name", "duplicate function %q in account %s (also %s)", f.Name, f.Account, nameAt[f.Account+"/"+f.Name])
		default:
			nameAt[f.Account+"/"+f.Name] = p + ".name"
		}
		if f.Account == "" {
			errs.add(p+".account", "required")
		} else if _, ok := t.Account(f.Account); !ok {
			errs.add(p+".account", "unknown account %q", f.Account)
		}
		if f.Timeout != 0 && (f.Timeout < 1 || f.Timeout > 900) {
			errs.add(p+".timeout", "%d: want 1 to 900 seconds", f.Timeout)
		}
		if f.MemorySize != 0 && (f.MemorySize < 128 || f.MemorySize > 10240) {
			errs.add(p+".memorySize", "%d: want 128 to 10240 MB", f.MemorySize)
		}
		if f.Concurrency < 0 {
			errs.add(p+".concurrency", "%d: want 0 or more", f.Concurrency)
		}
		for k := range f.Environment {
			if !envKeyRE.MatchString(k) {
				errs.add(field(p+".environment", k), "%q is not an environment variable name", k)
			}
		}
		if f.VPC != "" {
			if v, ok := t.VPC(f.VPC); !ok {
				errs.add(p+".vpc", "unknown VPC %q", f.VPC)
			} else if f.Account != "" && v.Account != f.Account {
				errs.add(p+".vpc", "%s belongs to account %s, not %s", f.VPC, v.Account, f.Account)
			}
		}
		if f.Runtime != "" && !validFunctionRuntime(f.Runtime) {
			errs.add(p+".runtime", "%q is not a runtime gatehouse runs: want one of %s or python3.N", f.Runtime, strings.Join(functionRuntimes, ", "))
		}
		kinds := 0
		if f.Endpoint != nil {
			kinds++
			ep := p + ".endpoint"
			if u, err := url.Parse(f.Endpoint.URL); f.Endpoint.URL == "" {
				errs.add(ep+".url", "required")
			} else if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				errs.add(ep+".url", "%q is not an http or https URL", f.Endpoint.URL)
			}
			if (f.Endpoint.AccessKeyID == "") != (f.Endpoint.SecretAccessKey == "") {
				errs.add(ep, "accessKeyId and secretAccessKey go together")
			}
			if f.Endpoint.Region != "" && !isRegion(f.Endpoint.Region) {
				errs.add(ep+".region", "%q is not a Region name like us-east-1", f.Endpoint.Region)
			}
		}
		if f.Command != nil {
			kinds++
			if f.Command.Path == "" {
				errs.add(p+".command.path", "required")
			}
			for k := range f.Command.Env {
				if !envKeyRE.MatchString(k) {
					errs.add(field(p+".command.env", k), "%q is not an environment variable name", k)
				}
			}
		}
		if f.Code != "" {
			kinds++
			switch {
			case f.Runtime == "":
				errs.add(p+".runtime", "required with code")
			case (f.Runtime == "go1.x" || strings.HasPrefix(f.Runtime, "python3.")) && f.Handler == "":
				errs.add(p+".handler", "required for runtime %s", f.Runtime)
			}
		}
		if kinds != 1 {
			errs.add(p, "want exactly one of endpoint, command and code")
		}
	}
}
