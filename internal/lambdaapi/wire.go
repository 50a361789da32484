package lambdaapi

import (
	"encoding/json"
	"log/slog"
	"sort"

	"gatehouse/internal/function"
	"gatehouse/internal/policy"
)

// record is a function as stored in function.Bucket: the fields the Host
// runs (function.Function, inlined) and what only the API reports.
type record struct {
	function.Function
	Description  string            `json:"description,omitempty"`
	Role         string            `json:"role"`
	CodeSize     int64             `json:"codeSize"`
	LastModified string            `json:"lastModified"`
	RevisionID   string            `json:"revisionId"`
	Tags         map[string]string `json:"tags,omitempty"`
	// Statements is the resource policy, one raw JSON statement each, in
	// the order they were added.
	Statements []json.RawMessage `json:"statements,omitempty"`
}

func decodeRecord(b []byte) (*record, error) {
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// policyDocument is the resource policy as GetPolicy returns it.
func (r *record) policyDocument() []byte {
	var b []byte
	b = append(b, `{"Version":"2012-10-17","Id":"default","Statement":[`...)
	for i, st := range r.Statements {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, st...)
	}
	return append(b, "]}"...)
}

// compiledPolicy parses the resource policy; nil when there is none (or it
// does not parse, which AddPermission prevents).
func (r *record) compiledPolicy(log *slog.Logger) *policy.Policy {
	if len(r.Statements) == 0 {
		return nil
	}
	p, err := policy.Parse(r.policyDocument())
	if err != nil {
		log.Error("stored resource policy does not parse", "function", r.Name, "err", err)
		return nil
	}
	return p
}

// functionConfiguration is the API's FunctionConfiguration shape (botocore
// lambda 2015-03-31).
type functionConfiguration struct {
	FunctionName     string            `json:"FunctionName"`
	FunctionArn      string            `json:"FunctionArn"`
	Runtime          string            `json:"Runtime,omitempty"`
	Role             string            `json:"Role"`
	Handler          string            `json:"Handler,omitempty"`
	CodeSize         int64             `json:"CodeSize"`
	Description      string            `json:"Description"`
	Timeout          int               `json:"Timeout"`
	MemorySize       int               `json:"MemorySize"`
	LastModified     string            `json:"LastModified"`
	CodeSha256       string            `json:"CodeSha256"`
	Version          string            `json:"Version"`
	VpcConfig        *vpcConfigOut     `json:"VpcConfig,omitempty"`
	Environment      *environmentOut   `json:"Environment,omitempty"`
	TracingConfig    map[string]string `json:"TracingConfig"`
	RevisionID       string            `json:"RevisionId"`
	State            string            `json:"State"`
	LastUpdateStatus string            `json:"LastUpdateStatus"`
	PackageType      string            `json:"PackageType"`
	Architectures    []string          `json:"Architectures"`
	EphemeralStorage map[string]int    `json:"EphemeralStorage"`
	LoggingConfig    map[string]string `json:"LoggingConfig"`
}

type vpcConfigOut struct {
	SubnetIDs        []string `json:"SubnetIds"`
	SecurityGroupIDs []string `json:"SecurityGroupIds"`
	VpcID            string   `json:"VpcId"`
}

type environmentOut struct {
	Variables map[string]string `json:"Variables"`
}

// configuration renders r as a FunctionConfiguration.
func (r *record) configuration() functionConfiguration {
	fn := &r.Function
	c := functionConfiguration{
		FunctionName:     fn.Name,
		FunctionArn:      function.ARN(fn.Region, fn.Account, fn.Name),
		Runtime:          fn.Runtime,
		Role:             r.Role,
		Handler:          fn.Handler,
		CodeSize:         r.CodeSize,
		Description:      r.Description,
		Timeout:          int(fn.TimeoutDuration().Seconds()),
		MemorySize:       fn.Memory(),
		LastModified:     r.LastModified,
		CodeSha256:       fn.CodeSha256,
		Version:          function.Version,
		TracingConfig:    map[string]string{"Mode": "PassThrough"},
		RevisionID:       r.RevisionID,
		State:            "Active",
		LastUpdateStatus: "Successful",
		PackageType:      "Zip",
		Architectures:    []string{"x86_64"},
		EphemeralStorage: map[string]int{"Size": 512},
		LoggingConfig:    map[string]string{"LogFormat": "Text", "LogGroup": "/aws/lambda/" + fn.Name},
	}
	if v := fn.VPC; v != nil {
		c.VpcConfig = &vpcConfigOut{SubnetIDs: nonNil(v.SubnetIDs), SecurityGroupIDs: nonNil(v.SecurityGroupIDs), VpcID: v.ID}
	}
	if len(fn.Environment) > 0 {
		c.Environment = &environmentOut{Variables: fn.Environment}
	}
	return c
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// topologyRecord presents a topology function through the API.
func topologyRecord(fn function.Function) *record {
	return &record{Function: fn, Role: "arn:aws:iam::" + fn.Account + ":role/gatehouse-topology",
		LastModified: "1970-01-01T00:00:00.000+0000", RevisionID: "topology"}
}

// sortedKeys returns m's keys in order.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
