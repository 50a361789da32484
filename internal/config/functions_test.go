package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseFunctions(t *testing.T) {
	doc := baseYAML + `functions:
  - name: echo
    account: "111111111111"
    runtime: go1.x
    handler: echo
    code: /srv/fn/echo
    timeout: 10
    memorySize: 256
    concurrency: 4
    vpc: vpc-0aaaaaaaaaaaaaaa1
    environment: {GREETING: hello, COUNT: 3}
  - name: local
    account: "111111111111"
    command: {path: /usr/local/bin/handler, args: [--fast, "1"], env: {A: b}, dir: /tmp}
  - name: remote
    account: "222222222222"
    endpoint:
      url: https://lambda.us-east-1.amazonaws.com
      functionName: real-fn
      region: us-east-1
      accessKeyId: AKIAREMOTE0000000001
      secretAccessKey: s3cret
`
	topo, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := []Function{
		{Name: "echo", Account: "111111111111", Runtime: "go1.x", Handler: "echo", Code: "/srv/fn/echo",
			Timeout: 10, MemorySize: 256, Concurrency: 4, VPC: "vpc-0aaaaaaaaaaaaaaa1",
			Environment: map[string]string{"GREETING": "hello", "COUNT": "3"}},
		{Name: "local", Account: "111111111111", Command: &FunctionCommand{
			Path: "/usr/local/bin/handler", Args: []string{"--fast", "1"}, Env: map[string]string{"A": "b"}, Dir: "/tmp"}},
		{Name: "remote", Account: "222222222222", Endpoint: &FunctionEndpoint{
			URL: "https://lambda.us-east-1.amazonaws.com", FunctionName: "real-fn", Region: "us-east-1",
			AccessKeyID: "AKIAREMOTE0000000001", SecretAccessKey: "s3cret"}},
	}
	if !reflect.DeepEqual(topo.Functions, want) {
		t.Fatalf("functions:\n got %+v\nwant %+v", topo.Functions, want)
	}
	if f, ok := topo.Function("222222222222", "remote"); !ok || f.Endpoint.FunctionName != "real-fn" {
		t.Fatalf("Function lookup: %v %v", f, ok)
	}
	if s := want[2].Endpoint.String(); strings.Contains(s, "s3cret") {
		t.Fatalf("String leaks the secret: %s", s)
	}
}

func TestParseFunctionErrors(t *testing.T) {
	tests := []struct {
		name, functions, want string
	}{
		{"no kind", `[{name: f, account: "111111111111"}]`, "functions[0]: want exactly one of endpoint, command and code"},
		{"two kinds", `[{name: f, account: "111111111111", code: /x, runtime: provided.al2023, command: {path: /bin/true}}]`, "functions[0]: want exactly one of endpoint, command and code"},
		{"bad name", `[{name: "a b", account: "111111111111", command: {path: /bin/true}}]`, `functions[0].name: "a b" is not a function name`},
		{"duplicate", `[{name: f, account: "111111111111", command: {path: /a}}, {name: f, account: "111111111111", command: {path: /b}}]`, `functions[1].name: duplicate function "f"`},
		{"unknown account", `[{name: f, account: "333333333333", command: {path: /a}}]`, `functions[0].account: unknown account "333333333333"`},
		{"timeout", `[{name: f, account: "111111111111", command: {path: /a}, timeout: 901}]`, "functions[0].timeout: 901: want 1 to 900 seconds"},
		{"memory", `[{name: f, account: "111111111111", command: {path: /a}, memorySize: 64}]`, "functions[0].memorySize: 64: want 128 to 10240 MB"},
		{"runtime", `[{name: f, account: "111111111111", code: /a, runtime: nodejs20.x}]`, `functions[0].runtime: "nodejs20.x" is not a runtime gatehouse runs`},
		{"handler", `[{name: f, account: "111111111111", code: /a, runtime: python3.12}]`, "functions[0].handler: required for runtime python3.12"},
		{"code without runtime", `[{name: f, account: "111111111111", code: /a}]`, "functions[0].runtime: required with code"},
		{"vpc of another account", `[{name: f, account: "111111111111", command: {path: /a}, vpc: vpc-0bbbbbbbbbbbbbbb2}]`, "functions[0].vpc: vpc-0bbbbbbbbbbbbbbb2 belongs to account 222222222222"},
		{"endpoint url", `[{name: f, account: "111111111111", endpoint: {url: "ftp://x"}}]`, `functions[0].endpoint.url: "ftp://x" is not an http or https URL`},
		{"endpoint keys", `[{name: f, account: "111111111111", endpoint: {url: "http://x", accessKeyId: AKIA0000000000000001}}]`, "functions[0].endpoint: accessKeyId and secretAccessKey go together"},
		{"command path", `[{name: f, account: "111111111111", command: {args: [x]}}]`, "functions[0].command.path: required"},
		{"env name", `[{name: f, account: "111111111111", command: {path: /a}, environment: {"1x": y}}]`, `functions[0].environment.1x: "1x" is not an environment variable name`},
		{"unknown key", `[{name: f, account: "111111111111", command: {path: /a}, memory: 1}]`, "functions[0].memory: unknown key"},
		{"env not a map", `[{name: f, account: "111111111111", command: {path: /a}, environment: [a]}]`, "functions[0].environment: want a mapping, got a list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(baseYAML + "functions: " + tt.functions + "\n"))
			if err == nil {
				t.Fatalf("Parse succeeded, want %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q\ndoes not contain %q", err, tt.want)
			}
		})
	}
}
