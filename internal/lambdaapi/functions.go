package lambdaapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gatehouse/internal/awsproto"
	"gatehouse/internal/function"
	"gatehouse/internal/store"
)

const functionNamePattern = `(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?`

var (
	roleRE   = regexp.MustCompile(`^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$`)
	envKeyRE = regexp.MustCompile(`^[a-zA-Z]([a-zA-Z0-9_])+$`)
)

type codeInput struct {
	ZipFile         []byte `json:"ZipFile"`
	S3Bucket        string `json:"S3Bucket"`
	S3Key           string `json:"S3Key"`
	S3ObjectVersion string `json:"S3ObjectVersion"`
	ImageURI        string `json:"ImageUri"`
}

type vpcConfigInput struct {
	SubnetIDs        []string `json:"SubnetIds"`
	SecurityGroupIDs []string `json:"SecurityGroupIds"`
}

type environmentInput struct {
	Variables map[string]string `json:"Variables"`
}

type createFunctionInput struct {
	FunctionName  string            `json:"FunctionName"`
	Runtime       string            `json:"Runtime"`
	Role          string            `json:"Role"`
	Handler       string            `json:"Handler"`
	Code          *codeInput        `json:"Code"`
	Description   string            `json:"Description"`
	Timeout       *int              `json:"Timeout"`
	MemorySize    *int              `json:"MemorySize"`
	VpcConfig     *vpcConfigInput   `json:"VpcConfig"`
	PackageType   string            `json:"PackageType"`
	Environment   *environmentInput `json:"Environment"`
	Tags          map[string]string `json:"Tags"`
	Layers        []string          `json:"Layers"`
	Architectures []string          `json:"Architectures"`
}

type updateConfigurationInput struct {
	Role        *string           `json:"Role"`
	Handler     *string           `json:"Handler"`
	Description *string           `json:"Description"`
	Timeout     *int              `json:"Timeout"`
	MemorySize  *int              `json:"MemorySize"`
	VpcConfig   *vpcConfigInput   `json:"VpcConfig"`
	Environment *environmentInput `json:"Environment"`
	Runtime     *string           `json:"Runtime"`
	RevisionID  string            `json:"RevisionId"`
	Layers      []string          `json:"Layers"`
}

type updateCodeInput struct {
	codeInput
	RevisionID string `json:"RevisionId"`
	DryRun     bool   `json:"DryRun"`
	Publish    bool   `json:"Publish"`
}

func (s *Server) createFunction(c *call) error {
	var in createFunctionInput
	if err := decode(c, &in); err != nil {
		return err
	}
	if !function.ValidName(in.FunctionName) {
		return errValidation(in.FunctionName, "functionName", "Member must satisfy regular expression pattern: "+functionNamePattern)
	}
	key := function.StoreKey(c.caller.Account, in.FunctionName)
	if _, ok := s.topo[key]; ok {
		return conflictExists(in.FunctionName)
	}
	if in.PackageType != "" && in.PackageType != "Zip" {
		return errInvalid("%s", unsupportedCodeSource)
	}
	if in.Role == "" || !roleRE.MatchString(in.Role) {
		return errValidation(in.Role, "role", `Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+`)
	}
	fn := function.Function{
		Name:    in.FunctionName,
		Account: c.caller.Account,
		Region:  s.region,
		Runtime: in.Runtime,
		Handler: in.Handler,
	}
	if err := s.applyCommon(c, &fn, in.Timeout, in.MemorySize, in.Environment, in.VpcConfig, in.Layers); err != nil {
		return err
	}
	if err := checkRuntime(&fn); err != nil {
		return err
	}
	if in.Code == nil || (len(in.Code.ZipFile) == 0 && in.Code.S3Bucket == "" && in.Code.ImageURI == "") {
		return errInvalid("%s", missingCodeMessage)
	}
	if len(in.Code.ZipFile) == 0 {
		return errInvalid("%s", unsupportedCodeSource)
	}
	code, err := s.unpack(in.FunctionName, in.Code.ZipFile)
	if err != nil {
		return err
	}
	fn.CodeDir, fn.CodeSha256 = code.Dir, code.Sha256
	rec := &record{
		Function:     fn,
		Description:  in.Description,
		Role:         in.Role,
		CodeSize:     code.ZipSize,
		LastModified: s.lastModified(),
		RevisionID:   awsproto.NewRequestID(),
		Tags:         in.Tags,
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	rev, err := s.store.Create(c.ctx, function.Bucket, key, b)
	if errors.Is(err, store.ErrExists) {
		return conflictExists(in.FunctionName)
	}
	if err != nil {
		return err
	}
	s.learn(rec, rev)
	return writeJSON(c.w, http.StatusCreated, rec.configuration())
}

func conflictExists(name string) *apiError {
	return &apiError{Status: http.StatusConflict, Code: codeResourceConflict, Message: "Function already exist: " + name}
}

// applyCommon validates and applies the settings CreateFunction and
// UpdateFunctionConfiguration share.
func (s *Server) applyCommon(c *call, fn *function.Function, timeout, memory *int, env *environmentInput, vpc *vpcConfigInput, layers []string) error {
	if timeout != nil {
		switch {
		case *timeout < 1:
			return errValidation(strconv.Itoa(*timeout), "timeout", "Member must have value greater than or equal to 1")
		case *timeout > 900:
			return errValidation(strconv.Itoa(*timeout), "timeout", "Member must have value less than or equal to 900")
		}
		fn.Timeout = *timeout
	}
	if memory != nil {
		switch {
		case *memory < 128:
			return errValidation(strconv.Itoa(*memory), "memorySize", "Member must have value greater than or equal to 128")
		case *memory > 10240:
			return errValidation(strconv.Itoa(*memory), "memorySize", "Member must have value less than or equal to 10240")
		}
		fn.MemorySize = *memory
	}
	if len(layers) > 0 {
		return errInvalid("Layers are not supported by gatehouse.")
	}
	if env != nil {
		var reserved []string
		size := 0
		for _, k := range sortedKeys(env.Variables) {
			if !envKeyRE.MatchString(k) {
				return errValidation(k, "environment.variables", "Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+")
			}
			if function.IsReservedEnv(k) {
				reserved = append(reserved, k)
			}
			size += len(k) + len(env.Variables[k])
		}
		if len(reserved) > 0 {
			return errInvalid(msgReservedEnvFmt, strings.Join(reserved, ","))
		}
		if size > maxEnvironmentBytes {
			b, _ := json.Marshal(env.Variables)
			return errInvalid(msgEnvTooLargeFmt, b)
		}
		fn.Environment = env.Variables
		if len(fn.Environment) == 0 {
			fn.Environment = nil
		}
	}
	if vpc != nil {
		if len(vpc.SubnetIDs) == 0 && len(vpc.SecurityGroupIDs) == 0 {
			fn.VPC = nil
		} else {
			v := &function.VPC{}
			if s.vpcOf != nil {
				got, err := s.vpcOf(c.caller.Account, vpc.SubnetIDs)
				if err != nil {
					return errInvalid("%v", err)
				}
				if got != nil {
					v = got
				}
			}
			v.SubnetIDs, v.SecurityGroupIDs = vpc.SubnetIDs, vpc.SecurityGroupIDs
			fn.VPC = v
		}
	}
	return nil
}

// checkRuntime checks that the host can run fn's code.
func checkRuntime(fn *function.Function) error {
	if !function.SupportedRuntime(fn.Runtime) {
		return errInvalid(unsupportedRuntimeFmt, fn.Runtime)
	}
	if (fn.Runtime == function.RuntimeGo1x || function.IsPython(fn.Runtime)) && fn.Handler == "" {
		return errInvalid(handlerRequiredFmt, fn.Runtime)
	}
	return nil
}

func (s *Server) unpack(name string, zipData []byte) (*unpackedCode, error) {
	if len(zipData) > MaxZipSize {
		return nil, &apiError{Status: http.StatusRequestEntityTooLarge, Code: codeEntityTooLarge,
			Message: fmt.Sprintf("Zipped size must be smaller than %d bytes", MaxZipSize)}
	}
	code, err := unpack(s.dataDir, name, zipData)
	switch {
	case errors.Is(err, errUnzippedLimit):
		return nil, errInvalid("%s", unzippedTooLargeMessage)
	case errors.Is(err, errBadZip):
		return nil, errInvalid("%s", msgUnzip)
	case err != nil:
		return nil, err
	}
	return code, nil
}

func (s *Server) lastModified() string {
	return s.now().UTC().Format(lastModifiedTimeFormat)
}

// target is a function named in a request path.
type target struct {
	key      string
	arn      string
	rec      *record
	rev      uint64 // 0 for topology functions
	topology bool
}

// resolve finds the function the path's {name} (a name, partial ARN or
// ARN, optionally qualified) names. Functions of another account are
// reachable only with allowCrossAccount (Invoke, whose permission the
// caller checks).
func (s *Server) resolve(c *call, allowCrossAccount bool) (*target, error) {
	raw := c.r.PathValue("name")
	ref, err := function.ParseRef(raw)
	if err != nil {
		return nil, errValidation(raw, "functionName", "Member must satisfy regular expression pattern: "+functionNamePattern)
	}
	if q := c.r.URL.Query().Get("Qualifier"); q != "" && ref.Qualifier == "" {
		ref.Qualifier = q
	}
	account := ref.Account
	if account == "" {
		account = c.caller.Account
	}
	arn := function.ARN(s.region, account, ref.Name)
	if ref.Qualifier != "" && ref.Qualifier != function.Version {
		return nil, errNotFound(arn + ":" + ref.Qualifier)
	}
	if ref.Region != "" && ref.Region != s.region {
		return nil, errNotFound(function.ARN(ref.Region, account, ref.Name))
	}
	if account != c.caller.Account && !allowCrossAccount {
		return nil, &apiError{Status: http.StatusForbidden, Code: codeAccessDenied,
			Message: fmt.Sprintf("User: arn:aws:iam::%s:root is not authorized to perform: lambda:%s on resource: %s because no resource-based policy allows the lambda:%s action",
				c.caller.Account, operationName(c.r), arn, operationName(c.r))}
	}
	key := function.StoreKey(account, ref.Name)
	e, err := s.store.Get(c.ctx, function.Bucket, key)
	switch {
	case errors.Is(err, store.ErrNotFound):
		if fn, ok := s.topo[key]; ok {
			return &target{key: key, arn: arn, rec: topologyRecord(fn), topology: true}, nil
		}
		return nil, errNotFound(arn)
	case err != nil:
		return nil, err
	}
	rec, err := decodeRecord(e.Value)
	if err != nil {
		return nil, err
	}
	return &target{key: key, arn: arn, rec: rec, rev: e.Revision}, nil
}

// operationName names the operation of a request, for AccessDenied messages.
func operationName(r *http.Request) string {
	switch {
	case strings.HasSuffix(r.URL.Path, "/invocations"):
		return "InvokeFunction"
	case strings.Contains(r.URL.Path, "/policy"):
		if r.Method == http.MethodGet {
			return "GetPolicy"
		}
		if r.Method == http.MethodDelete {
			return "RemovePermission"
		}
		return "AddPermission"
	case r.Method == http.MethodDelete:
		return "DeleteFunction"
	case r.Method == http.MethodPut:
		return "UpdateFunctionConfiguration"
	}
	return "GetFunction"
}

func (s *Server) getFunction(c *call) error {
	t, err := s.resolve(c, false)
	if err != nil {
		return err
	}
	out := map[string]any{
		"Configuration": t.rec.configuration(),
		"Code":          map[string]string{"RepositoryType": "S3", "Location": ""},
	}
	if len(t.rec.Tags) > 0 {
		out["Tags"] = t.rec.Tags
	}
	return writeJSON(c.w, http.StatusOK, out)
}

func (s *Server) getFunctionConfiguration(c *call) error {
	t, err := s.resolve(c, false)
	if err != nil {
		return err
	}
	return writeJSON(c.w, http.StatusOK, t.rec.configuration())
}

func (s *Server) listFunctions(c *call) error {
	q := c.r.URL.Query()
	limit := defaultListMaxItems
	if v := q.Get("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListMaxItems {
			return errValidation(v, "maxItems", "Member must have value between 1 and 10000")
		}
		limit = n
	}
	after, err := awsproto.DecodePosition(q.Get("Marker"))
	if err != nil {
		return errInvalid("Invalid marker: %s", q.Get("Marker"))
	}
	entries, err := s.store.List(c.ctx, function.Bucket, c.caller.Account+"/")
	if err != nil {
		return err
	}
	recs := make([]*record, 0, len(entries))
	seen := map[string]bool{}
	for _, e := range entries {
		rec, err := decodeRecord(e.Value)
		if err != nil {
			s.log.Error("bad stored function", "key", e.Key, "err", err)
			continue
		}
		recs = append(recs, rec)
		seen[rec.Name] = true
	}
	for _, fn := range s.topo {
		if fn.Account == c.caller.Account && !seen[fn.Name] {
			recs = append(recs, topologyRecord(fn))
		}
	}
	slices.SortFunc(recs, func(a, b *record) int { return strings.Compare(a.Name, b.Name) })
	out := struct {
		Functions  []functionConfiguration `json:"Functions"`
		NextMarker string                  `json:"NextMarker,omitempty"`
	}{Functions: []functionConfiguration{}}
	for _, rec := range recs {
		if after != "" && rec.Name <= after {
			continue
		}
		if len(out.Functions) == limit {
			out.NextMarker = awsproto.EncodePosition(out.Functions[len(out.Functions)-1].FunctionName)
			break
		}
		out.Functions = append(out.Functions, rec.configuration())
	}
	return writeJSON(c.w, http.StatusOK, out)
}

func (s *Server) deleteFunction(c *call) error {
	for attempt := 0; ; attempt++ {
		t, err := s.resolve(c, false)
		if err != nil {
			return err
		}
		if t.topology {
			return errInvalid(msgTopologyFunctionFmt, t.rec.Name)
		}
		err = s.store.Delete(c.ctx, function.Bucket, t.key, t.rev)
		if errors.Is(err, store.ErrConflict) && attempt < 5 {
			continue
		}
		if errors.Is(err, store.ErrNotFound) {
			return errNotFound(t.arn)
		}
		if err != nil {
			return err
		}
		s.forget(t.rec.Account, t.rec.Name, t.rev)
		s.removeCodeIfUnused(c, t.rec.CodeDir)
		c.w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// removeCodeIfUnused deletes an unpacked package no stored function uses.
func (s *Server) removeCodeIfUnused(c *call, dir string) {
	if dir == "" {
		return
	}
	entries, err := s.store.List(c.ctx, function.Bucket, "")
	if err != nil {
		return
	}
	for _, e := range entries {
		if rec, err := decodeRecord(e.Value); err == nil && rec.CodeDir == dir {
			return
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		s.log.Warn("remove function code", "dir", dir, "err", err)
	}
}

// modify applies fn to the stored record of t, checking revisionID when
// set, and publishes the result.
func (s *Server) modify(c *call, t *target, revisionID string, fn func(rec *record) error) (*record, error) {
	if t.topology {
		return nil, errInvalid(msgTopologyFunctionFmt, t.rec.Name)
	}
	var out *record
	rev, err := s.store.ModifyExisting(c.ctx, function.Bucket, t.key, func(cur []byte) ([]byte, error) {
		rec, err := decodeRecord(cur)
		if err != nil {
			return nil, err
		}
		if revisionID != "" && revisionID != rec.RevisionID {
			return nil, &apiError{Status: http.StatusPreconditionFailed, Code: codePreconditionFailed, Message: msgRevisionMismatch}
		}
		if err := fn(rec); err != nil {
			return nil, err
		}
		rec.RevisionID = awsproto.NewRequestID()
		out = rec
		return json.Marshal(rec)
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNotFound(t.arn)
	}
	if err != nil {
		return nil, err
	}
	s.learn(out, rev)
	return out, nil
}

func (s *Server) updateFunctionCode(c *call) error {
	var in updateCodeInput
	if err := decode(c, &in); err != nil {
		return err
	}
	t, err := s.resolve(c, false)
	if err != nil {
		return err
	}
	if t.topology {
		return errInvalid(msgTopologyFunctionFmt, t.rec.Name)
	}
	if len(in.ZipFile) == 0 {
		if in.S3Bucket != "" || in.ImageURI != "" {
			return errInvalid("%s", unsupportedCodeSource)
		}
		return errInvalid("%s", missingCodeMessage)
	}
	code, err := s.unpack(t.rec.Name, in.ZipFile)
	if err != nil {
		return err
	}
	if in.DryRun {
		rec := *t.rec
		rec.CodeDir, rec.CodeSha256, rec.CodeSize = code.Dir, code.Sha256, code.ZipSize
		return writeJSON(c.w, http.StatusOK, rec.configuration())
	}
	rec, err := s.modify(c, t, in.RevisionID, func(rec *record) error {
		rec.CodeDir, rec.CodeSha256, rec.CodeSize = code.Dir, code.Sha256, code.ZipSize
		rec.LastModified = s.lastModified()
		return nil
	})
	if err != nil {
		return err
	}
	return writeJSON(c.w, http.StatusOK, rec.configuration())
}

func (s *Server) updateFunctionConfiguration(c *call) error {
	var in updateConfigurationInput
	if err := decode(c, &in); err != nil {
		return err
	}
	t, err := s.resolve(c, false)
	if err != nil {
		return err
	}
	if in.Role != nil && !roleRE.MatchString(*in.Role) {
		return errValidation(*in.Role, "role", `Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+`)
	}
	rec, err := s.modify(c, t, in.RevisionID, func(rec *record) error {
		fn := rec.Function
		if err := s.applyCommon(c, &fn, in.Timeout, in.MemorySize, in.Environment, in.VpcConfig, in.Layers); err != nil {
			return err
		}
		if in.Runtime != nil {
			fn.Runtime = *in.Runtime
		}
		if in.Handler != nil {
			fn.Handler = *in.Handler
		}
		if err := checkRuntime(&fn); err != nil {
			return err
		}
		rec.Function = fn
		if in.Role != nil {
			rec.Role = *in.Role
		}
		if in.Description != nil {
			rec.Description = *in.Description
		}
		rec.LastModified = s.lastModified()
		return nil
	})
	if err != nil {
		return err
	}
	return writeJSON(c.w, http.StatusOK, rec.configuration())
}
