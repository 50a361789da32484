package controlplane

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"gatehouse/internal/accesslog"
	"gatehouse/internal/apimodel"
	"gatehouse/internal/awsproto"
	"gatehouse/internal/store"
)

const (
	maxStageNameLen     = 128
	maxStageVariables   = 100
	maxStageVarValueLen = 512
)

var (
	stageNameRe     = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	stageVarNameRe  = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)
	stageVarValueRe = regexp.MustCompile(`^[A-Za-z0-9\-._~:/?#&=,]+$`)
	logGroupARNRe   = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:logs:([a-z0-9-]+):(\d{12}):log-group:([\w./#-]+?)(:\*)?$`)
	firehoseARNRe   = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:firehose:([a-z0-9-]+):(\d{12}):deliverystream/amazon-apigateway-[\w.-]+$`)
)

func validStageName(name string) bool {
	return len(name) <= maxStageNameLen && stageNameRe.MatchString(name)
}

// validateVariables applies AWS's stage-variable rules: at most 100, names
// [A-Za-z0-9_]{1,64}, values [A-Za-z0-9-._~:/?#&=,]+ of at most 512 characters.
func validateVariables(vars map[string]string) error {
	if len(vars) > maxStageVariables {
		return badRequestf("A stage can have at most %d stage variables", maxStageVariables)
	}
	for _, name := range sortedKeys(vars) {
		if err := validateVariable(name, vars[name]); err != nil {
			return err
		}
	}
	return nil
}

func validateVariable(name, value string) error {
	if !stageVarNameRe.MatchString(name) {
		return badRequest("Invalid stage variable name specified: " + name +
			". Stage variable names must be 1 to 64 alphanumeric or underscore characters.")
	}
	if len(value) > maxStageVarValueLen || !stageVarValueRe.MatchString(value) {
		return badRequest("Invalid stage variable value specified for " + name +
			". Stage variable values must be 1 to 512 characters matching [A-Za-z0-9-._~:/?#&=,]+.")
	}
	return nil
}

// validateAccessLog checks a stage's access log settings: the format with the access
// log compiler, the destination as a CloudWatch Logs group (or amazon-apigateway-
// Firehose stream) of this region and account.
func (s *Server) validateAccessLog(c *call, al *apimodel.AccessLogSettings) error {
	if al == nil {
		return nil
	}
	if al.Format != "" {
		if _, err := accesslog.Compile(al.Format); err != nil {
			var ae *awsproto.Error
			if errors.As(err, &ae) {
				return ae
			}
			return badRequest(err.Error())
		}
	}
	if al.DestinationArn != "" {
		m := logGroupARNRe.FindStringSubmatch(al.DestinationArn)
		if m == nil {
			m = firehoseARNRe.FindStringSubmatch(al.DestinationArn)
		}
		if m == nil || m[1] != s.region || m[2] != c.caller.Account {
			return badRequest(msgInvalidARN)
		}
	}
	return nil
}

type createStageInput struct {
	StageName            *string           `json:"stageName"`
	DeploymentID         *string           `json:"deploymentId"`
	Description          string            `json:"description"`
	CacheClusterEnabled  bool              `json:"cacheClusterEnabled"`
	CacheClusterSize     *string           `json:"cacheClusterSize"`
	Variables            map[string]string `json:"variables"`
	DocumentationVersion string            `json:"documentationVersion"`
	CanarySettings       *canaryInput      `json:"canarySettings"`
	TracingEnabled       bool              `json:"tracingEnabled"`
	Tags                 map[string]string `json:"tags"`
}

func (s *Server) createStage(c *call) (int, any, error) {
	apiID := c.r.PathValue("restapi_id")
	var in createStageInput
	if err := decodeBody(c, &in); err != nil {
		return 0, nil, err
	}
	var v validationErrors
	if in.StageName == nil {
		v.add("Value null at 'createStageInput.stageName' failed to satisfy constraint: Member must not be null")
	}
	if in.DeploymentID == nil {
		v.add("Value null at 'createStageInput.deploymentId' failed to satisfy constraint: Member must not be null")
	}
	if in.CacheClusterSize != nil && !slices.Contains(cacheClusterSizes, *in.CacheClusterSize) {
		v.enum(*in.CacheClusterSize, "createStageInput.cacheClusterSize", cacheClusterEnum)
	}
	if err := v.err(); err != nil {
		return 0, nil, err
	}
	if _, err := s.loadAPI(c, apiID, nil); err != nil {
		return 0, nil, err
	}
	if !validStageName(*in.StageName) {
		return 0, nil, badRequest(msgStageName)
	}
	if err := validateVariables(in.Variables); err != nil {
		return 0, nil, err
	}
	if err := validateTags(in.Tags); err != nil {
		return 0, nil, err
	}
	if ok, err := s.deploymentExists(c, apiID, *in.DeploymentID); err != nil {
		return 0, nil, err
	} else if !ok {
		return 0, nil, notFound(msgDeploymentNotFound)
	}
	st := &apimodel.Stage{
		Account:              c.caller.Account,
		APIID:                apiID,
		DeploymentID:         *in.DeploymentID,
		StageName:            *in.StageName,
		Description:          in.Description,
		CacheClusterEnabled:  in.CacheClusterEnabled,
		CacheClusterStatus:   "NOT_AVAILABLE",
		Variables:            in.Variables,
		DocumentationVersion: in.DocumentationVersion,
		TracingEnabled:       in.TracingEnabled,
		Tags:                 in.Tags,
		CreatedDate:          c.now,
		LastUpdatedDate:      c.now,
	}
	if in.CacheClusterSize != nil {
		st.CacheClusterSize = *in.CacheClusterSize
	}
	if cs := in.CanarySettings; cs != nil {
		canary := &apimodel.CanarySettings{DeploymentID: cs.DeploymentID, StageVariableOverrides: cs.StageVariableOverrides,
			UseStageCache: cs.UseStageCache}
		if cs.PercentTraffic != nil {
			canary.PercentTraffic = *cs.PercentTraffic
		}
		if canary.DeploymentID == "" {
			canary.DeploymentID = st.DeploymentID
		} else if ok, err := s.deploymentExists(c, apiID, canary.DeploymentID); err != nil {
			return 0, nil, err
		} else if !ok {
			return 0, nil, badRequest(msgDeploymentIDNotExist)
		}
		if err := validateVariables(canary.StageVariableOverrides); err != nil {
			return 0, nil, err
		}
		st.CanarySettings = canary
	}
	b, err := json.Marshal(st)
	if err != nil {
		return 0, nil, err
	}
	_, err = s.store.Create(c.ctx, apimodel.BucketStages, apimodel.StageKey(apiID, st.StageName), b)
	if errors.Is(err, store.ErrExists) {
		return 0, nil, conflict(msgStageExists)
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, toStageWire(st), nil
}

func (s *Server) getStage(c *call) (int, any, error) {
	apiID := c.r.PathValue("restapi_id")
	if _, err := s.loadAPI(c, apiID, nil); err != nil {
		return 0, nil, err
	}
	st, err := s.loadStage(c, apiID, c.r.PathValue("stage_name"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toStageWire(st), nil
}

func (s *Server) getStages(c *call) (int, any, error) {
	apiID := c.r.PathValue("restapi_id")
	if _, err := s.loadAPI(c, apiID, nil); err != nil {
		return 0, nil, err
	}
	stages, err := s.listStages(c, apiID)
	if err != nil {
		return 0, nil, err
	}
	depID := c.r.URL.Query().Get("deploymentId")
	sort.Slice(stages, func(i, j int) bool { return stages[i].StageName < stages[j].StageName })
	out := struct {
		Item []stageWire `json:"item"`
	}{Item: []stageWire{}}
	for _, st := range stages {
		if st.APIID != "" && st.APIID != apiID || depID != "" && st.DeploymentID != depID {
			continue
		}
		out.Item = append(out.Item, toStageWire(st))
	}
	return http.StatusOK, out, nil
}

func (s *Server) deleteStage(c *call) (int, any, error) {
	apiID, name := c.r.PathValue("restapi_id"), c.r.PathValue("stage_name")
	if _, err := s.loadAPI(c, apiID, nil); err != nil {
		return 0, nil, err
	}
	if !validID(name) {
		return 0, nil, notFound(msgStageNotFound)
	}
	key := apimodel.StageKey(apiID, name)
	defer s.lock(apimodel.BucketStages, key)()
	for attempt := 0; ; attempt++ {
		e, err := s.store.Get(c.ctx, apimodel.BucketStages, key)
		if errors.Is(err, store.ErrNotFound) {
			return 0, nil, notFound(msgStageNotFound)
		}
		if err != nil {
			return 0, nil, err
		}
		err = s.store.Delete(c.ctx, apimodel.BucketStages, key, e.Revision)
		switch {
		case err == nil:
			return http.StatusAccepted, nil, nil
		case errors.Is(err, store.ErrConflict) && attempt < 10:
			continue
		case errors.Is(err, store.ErrNotFound):
			return 0, nil, notFound(msgStageNotFound)
		default:
			return 0, nil, err
		}
	}
}

// stageUpdatePaths are UpdateStage's paths as AWS lists them in its error message.
var stageUpdatePaths = []string{
	"/deploymentId",
	"/description",
	"/cacheClusterEnabled",
	"/cacheClusterSize",
	"/clientCertificateId",
	"/accessLogSettings",
	"/accessLogSettings/destinationArn",
	"/accessLogSettings/format",
	"/{resourcePath}/{httpMethod}/metrics/enabled",
	"/{resourcePath}/{httpMethod}/logging/dataTrace",
	"/{resourcePath}/{httpMethod}/logging/loglevel",
	"/{resourcePath}/{httpMethod}/throttling/burstLimit",
	"/{resourcePath}/{httpMethod}/throttling/rateLimit",
	"/{resourcePath}/{httpMethod}/caching/ttlInSeconds",
	"/{resourcePath}/{httpMethod}/caching/enabled",
	"/{resourcePath}/{httpMethod}/caching/dataEncrypted",
	"/{resourcePath}/{httpMethod}/caching/requireAuthorizationForCacheControl",
	"/{resourcePath}/{httpMethod}/caching/unauthorizedCacheControlHeaderStrategy",
	"/*/*/metrics/enabled",
	"/*/*/logging/dataTrace",
	"/*/*/logging/loglevel",
	"/*/*/throttling/burstLimit",
	"/*/*/throttling/rateLimit",
	"/*/*/caching/ttlInSeconds",
	"/*/*/caching/enabled",
	"/*/*/caching/dataEncrypted",
	"/*/*/caching/requireAuthorizationForCacheControl",
	"/*/*/caching/unauthorizedCacheControlHeaderStrategy",
	"/variables/{variable_name}",
	"/tracingEnabled",
}

// errStagePath is AWS's message for an unknown UpdateStage path, including the
// irregular separators AWS prints between some of the listed paths.
func errStagePath(path string) error {
	valid := "[" + strings.Join(stageUpdatePaths, ", ") + "]"
	valid = strings.Replace(valid,
		"/{resourcePath}/{httpMethod}/throttling/burstLimit, /{resourcePath}/{httpMethod}/throttling/rateLimit, /{resourcePath}/{httpMethod}/caching/ttlInSeconds",
		"/{resourcePath}/{httpMethod}/throttling/burstLimit/{resourcePath}/{httpMethod}/throttling/rateLimit/{resourcePath}/{httpMethod}/caching/ttlInSeconds", 1)
	valid = strings.ReplaceAll(valid, "/burstLimit, /", "/burstLimit /")
	valid = strings.ReplaceAll(valid, "/rateLimit, /", "/rateLimit /")
	return badRequest("Invalid method setting path: " + path + ". Must be one of: " + valid)
}

// methodSettingNames are the {setting} suffixes of method-setting patch paths.
var methodSettingNames = []string{
	"metrics/enabled", "logging/dataTrace", "logging/loglevel", "throttling/burstLimit", "throttling/rateLimit",
	"caching/ttlInSeconds", "caching/enabled", "caching/dataEncrypted", "caching/requireAuthorizationForCacheControl",
	"caching/unauthorizedCacheControlHeaderStrategy",
}

// newMethodSetting is a method setting as AWS creates it on first touch.
func newMethodSetting() *apimodel.MethodSetting {
	return &apimodel.MethodSetting{
		LoggingLevel:                           "OFF",
		ThrottlingBurstLimit:                   5000,
		ThrottlingRateLimit:                    10000,
		CacheTTLInSeconds:                      300,
		RequireAuthorizationForCacheControl:    true,
		UnauthorizedCacheControlHeaderStrategy: "SUCCEED_WITH_RESPONSE_HEADER",
	}
}

// methodSettingKey turns the raw {resourcePath}/{httpMethod} segments of a patch path
// into the methodSettings key: "*/*", or the resource path without its leading slash
// and the method ("pets/{id}/GET"). resourcePath may be ~1-escaped or raw.
func methodSettingKey(rawSegs []string) (string, bool) {
	if len(rawSegs) < 2 {
		return "", false
	}
	verb := rawSegs[len(rawSegs)-1]
	res := unescapePointer(strings.Join(rawSegs[:len(rawSegs)-1], "/"))
	res = strings.TrimPrefix(res, "/")
	if verb == "" || res == "" && verb != "*" {
		return "", false
	}
	if res == "*" && verb == "*" {
		return "*/*", true
	}
	if verb != "*" && !slices.Contains(httpMethods, verb) {
		return "", false
	}
	return res + "/" + verb, true
}

func (s *Server) updateStage(c *call) (int, any, error) {
	apiID, name := c.r.PathValue("restapi_id"), c.r.PathValue("stage_name")
	ops, err := decodePatch(c, "updateStageInput")
	if err != nil {
		return 0, nil, err
	}
	if _, err := s.loadAPI(c, apiID, nil); err != nil {
		return 0, nil, err
	}
	if err := s.checkStageClientCertificates(c, ops); err != nil {
		return 0, nil, err
	}
	// Deployment ids named by the patch are checked before the read-modify-write.
	for i := range ops {
		p := &ops[i]
		if (p.path() == "/deploymentId" || p.path() == "/canarySettings/deploymentId") && p.Op != opCopy {
			if ok, err := s.deploymentExists(c, apiID, p.value()); err != nil {
				return 0, nil, err
			} else if !ok {
				return 0, nil, badRequest(msgDeploymentIDNotExist)
			}
		}
	}
	st, err := s.modifyStage(c, apiID, name, func(st *apimodel.Stage) error {
		if err := patchStage(st, ops); err != nil {
			return err
		}
		if err := validateVariables(st.Variables); err != nil {
			return err
		}
		if err := s.validateAccessLog(c, st.AccessLogSettings); err != nil {
			return err
		}
		st.LastUpdatedDate = c.now
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toStageWire(st), nil
}

// patchStage applies UpdateStage's patch operations to st.
func patchStage(st *apimodel.Stage, ops []patchOp) error {
	for i := range ops {
		p := &ops[i]
		path := p.path()
		if p.Op == opCopy {
			if err := copyCanary(st, path, p.from()); err != nil {
				return err
			}
			continue
		}
		if strings.HasPrefix(path, "/canarySettings") {
			if err := patchCanary(st, p); err != nil {
				return err
			}
			continue
		}
		var err error
		switch path {
		case "/deploymentId":
			if err = allowOp(p.Op, opReplace); err == nil {
				st.DeploymentID = p.value()
			}
		case "/description":
			if err = allowOp(p.Op, opReplace, opAdd, opRemove); err == nil {
				st.Description = p.value()
				if p.Op == opRemove {
					st.Description = ""
				}
			}
		case "/cacheClusterEnabled":
			if err = allowOp(p.Op, opReplace); err == nil {
				st.CacheClusterEnabled = patchBool(p.value())
			}
		case "/cacheClusterSize":
			if err = allowOp(p.Op, opReplace); err == nil {
				if !slices.Contains(cacheClusterSizes, p.value()) {
					return badRequest("Invalid cache cluster size specified: " + p.value() +
						". Valid options are 0.5,1.6,6.1,13.5,28.4,58.2,118,237")
				}
				st.CacheClusterSize = p.value()
			}
		case "/clientCertificateId":
			if err = allowOp(p.Op, opReplace, opRemove); err == nil {
				st.ClientCertificateID = p.value()
				if p.Op == opRemove {
					st.ClientCertificateID = ""
				}
			}
		case "/tracingEnabled":
			if err = allowOp(p.Op, opReplace); err == nil {
				st.TracingEnabled = patchBool(p.value())
			}
		case "/accessLogSettings":
			if err = allowOp(p.Op, opRemove); err == nil {
				st.AccessLogSettings = nil
			}
		case "/accessLogSettings/format", "/accessLogSettings/destinationArn":
			if err = allowOp(p.Op, opReplace, opAdd, opRemove); err == nil {
				if st.AccessLogSettings == nil {
					st.AccessLogSettings = &apimodel.AccessLogSettings{}
				}
				v := p.value()
				if p.Op == opRemove {
					v = ""
				}
				if path == "/accessLogSettings/format" {
					st.AccessLogSettings.Format = v
				} else {
					st.AccessLogSettings.DestinationArn = v
				}
				if *st.AccessLogSettings == (apimodel.AccessLogSettings{}) {
					st.AccessLogSettings = nil
				}
			}
		default:
			err = patchStageVarOrSetting(st, p)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// patchStageVarOrSetting handles /variables/{name} and the method-setting paths.
func patchStageVarOrSetting(st *apimodel.Stage, p *patchOp) error {
	path := p.path()
	raw := strings.Split(strings.TrimPrefix(path, "/"), "/")
	if len(raw) == 2 && raw[0] == "variables" {
		name := unescapePointer(raw[1])
		switch p.Op {
		case opAdd, opReplace:
			if err := validateVariable(name, p.value()); err != nil {
				return err
			}
			if st.Variables == nil {
				st.Variables = map[string]string{}
			}
			st.Variables[name] = p.value()
		case opRemove:
			delete(st.Variables, name)
			if len(st.Variables) == 0 {
				st.Variables = nil
			}
		default:
			return errPatchOp(opAdd, opRemove, opReplace)
		}
		return nil
	}
	// Removing a whole method setting: /{resourcePath}/{httpMethod}.
	if p.Op == opRemove {
		key, ok := methodSettingKey(raw)
		if !ok {
			return errStagePath(path)
		}
		if st.MethodSettings[key] == nil {
			return badRequest("Cannot remove method setting " + key + " because there is no method setting for this method ")
		}
		delete(st.MethodSettings, key)
		if len(st.MethodSettings) == 0 {
			st.MethodSettings = nil
		}
		return nil
	}
	if len(raw) < 4 {
		return errStagePath(path)
	}
	setting := raw[len(raw)-2] + "/" + raw[len(raw)-1]
	key, ok := methodSettingKey(raw[:len(raw)-2])
	if !ok || !slices.Contains(methodSettingNames, setting) {
		return errStagePath(path)
	}
	if err := allowOp(p.Op, opReplace, opAdd); err != nil {
		return err
	}
	if st.MethodSettings == nil {
		st.MethodSettings = map[string]*apimodel.MethodSetting{}
	}
	ms := st.MethodSettings[key]
	if ms == nil {
		ms = newMethodSetting()
		st.MethodSettings[key] = ms
	}
	return applyMethodSetting(ms, setting, p.value())
}

func applyMethodSetting(ms *apimodel.MethodSetting, setting, v string) error {
	var err error
	switch setting {
	case "metrics/enabled":
		ms.MetricsEnabled = patchBool(v)
	case "logging/dataTrace":
		ms.DataTraceEnabled = patchBool(v)
	case "logging/loglevel":
		lvl := strings.ToUpper(v)
		if lvl != "OFF" && lvl != "ERROR" && lvl != "INFO" {
			return badRequest("Invalid logging level specified: " + v + ". Valid options are OFF,ERROR,INFO")
		}
		ms.LoggingLevel = lvl
	case "throttling/burstLimit":
		ms.ThrottlingBurstLimit, err = patchInt("burstLimit", v)
		if err == nil && ms.ThrottlingBurstLimit < 0 {
			err = badRequest("Invalid burstLimit value specified: " + v)
		}
	case "throttling/rateLimit":
		var f float64
		f, err = strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || f < 0 {
			return badRequest("Invalid rateLimit value specified: " + v)
		}
		ms.ThrottlingRateLimit = f
	case "caching/ttlInSeconds":
		ms.CacheTTLInSeconds, err = patchInt("ttlInSeconds", v)
		if err == nil && (ms.CacheTTLInSeconds < 0 || ms.CacheTTLInSeconds > 3600) {
			err = badRequest("Invalid ttlInSeconds value specified: " + v + ". It must be between 0 and 3600")
		}
	case "caching/enabled":
		ms.CachingEnabled = patchBool(v)
	case "caching/dataEncrypted":
		ms.CacheDataEncrypted = patchBool(v)
	case "caching/requireAuthorizationForCacheControl":
		ms.RequireAuthorizationForCacheControl = patchBool(v)
	case "caching/unauthorizedCacheControlHeaderStrategy":
		switch v {
		case "FAIL_WITH_403", "SUCCEED_WITH_RESPONSE_HEADER", "SUCCEED_WITHOUT_RESPONSE_HEADER":
			ms.UnauthorizedCacheControlHeaderStrategy = v
		default:
			return badRequest("Invalid unauthorizedCacheControlHeaderStrategy specified: " + v +
				". Valid options are FAIL_WITH_403,SUCCEED_WITH_RESPONSE_HEADER,SUCCEED_WITHOUT_RESPONSE_HEADER")
		}
	}
	return err
}

var canaryPathRe = regexp.MustCompile(`^/canarySettings/(percentTraffic|deploymentId|useStageCache|stageVariableOverrides/.+)$`)

// patchCanary handles the /canarySettings paths. Touching a sub-path of an absent canary
// creates it with AWS's defaults.
func patchCanary(st *apimodel.Stage, p *patchOp) error {
	path := p.path()
	if path == "/canarySettings" && p.Op == opRemove {
		st.CanarySettings = nil
		return nil
	}
	matches := canaryPathRe.MatchString(path)
	if p.Op != opReplace && !(p.Op == opRemove && strings.HasPrefix(path, "/canarySettings/stageVariableOverrides/")) {
		if matches {
			return badRequestf("Invalid %s operation with path: %s", p.Op, path)
		}
		return badRequestf("Cannot %s method setting %s because there is no method setting for this method ", p.Op, strings.TrimPrefix(path, "/"))
	}
	if !matches {
		return errStagePath(path)
	}
	if st.CanarySettings == nil {
		st.CanarySettings = &apimodel.CanarySettings{DeploymentID: st.DeploymentID}
	}
	cs := st.CanarySettings
	switch {
	case path == "/canarySettings/percentTraffic":
		f, err := strconv.ParseFloat(strings.TrimSpace(p.value()), 64)
		if err != nil || f < 0 || f > 100 {
			return badRequest("Canary traffic percentage must be between 0.0 and 100.0")
		}
		cs.PercentTraffic = f
	case path == "/canarySettings/deploymentId":
		cs.DeploymentID = p.value()
	case path == "/canarySettings/useStageCache":
		cs.UseStageCache = patchBool(p.value())
	default:
		name := unescapePointer(strings.TrimPrefix(path, "/canarySettings/stageVariableOverrides/"))
		if p.Op == opRemove {
			delete(cs.StageVariableOverrides, name)
			if len(cs.StageVariableOverrides) == 0 {
				cs.StageVariableOverrides = nil
			}
			return nil
		}
		if err := validateVariable(name, p.value()); err != nil {
			return err
		}
		if cs.StageVariableOverrides == nil {
			cs.StageVariableOverrides = map[string]string{}
		}
		cs.StageVariableOverrides[name] = p.value()
	}
	return nil
}

// copyCanary handles the copy operations that promote a canary: /deploymentId from
// /canarySettings/deploymentId and /variables from /canarySettings/stageVariableOverrides.
func copyCanary(st *apimodel.Stage, path, from string) error {
	okPath := path == "/deploymentId" || path == "/variables"
	okFrom := from == "/canarySettings/deploymentId" || from == "/canarySettings/stageVariableOverrides"
	if !okPath || !okFrom {
		return badRequest(fmt.Sprintf("Invalid copy operation with path: %s and from %s. Valid copy:path are [/deploymentId, /variables] and valid copy:from are [/canarySettings/deploymentId, /canarySettings/stageVariableOverrides]", path, from))
	}
	if st.CanarySettings == nil {
		return badRequest("Promotion not available. Canary does not exist.")
	}
	if path == "/variables" {
		if st.Variables == nil {
			st.Variables = map[string]string{}
		}
		for k, v := range st.CanarySettings.StageVariableOverrides {
			st.Variables[k] = v
		}
		return nil
	}
	st.DeploymentID = st.CanarySettings.DeploymentID
	return nil
}
