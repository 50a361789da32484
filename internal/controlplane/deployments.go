package controlplane

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sort"
	"strconv"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/awsproto"
	"gatehouse/internal/store"
)

const (
	deploymentIDLen  = 6
	cacheClusterEnum = "0.5, 1.6, 6.1, 13.5, 28.4, 58.2, 118, 237"
)

var cacheClusterSizes = []string{"0.5", "1.6", "6.1", "13.5", "28.4", "58.2", "118", "237"}

type canaryInput struct {
	PercentTraffic         *float64          `json:"percentTraffic"`
	DeploymentID           string            `json:"deploymentId"`
	StageVariableOverrides map[string]string `json:"stageVariableOverrides"`
	UseStageCache          bool              `json:"useStageCache"`
}

type createDeploymentInput struct {
	StageName           *string           `json:"stageName"`
	StageDescription    *string           `json:"stageDescription"`
	Description         string            `json:"description"`
	CacheClusterEnabled *bool             `json:"cacheClusterEnabled"`
	CacheClusterSize    *string           `json:"cacheClusterSize"`
	Variables           map[string]string `json:"variables"`
	CanarySettings      *canaryInput      `json:"canarySettings"`
	TracingEnabled      *bool             `json:"tracingEnabled"`
}

// checkDeployable applies AWS's preconditions for deploying api.
func checkDeployable(api *apimodel.API) error {
	if api.RestAPI.IsPrivate() && api.RestAPI.Policy == "" {
		return badRequest(msgPrivateNoPolicy)
	}
	methods := 0
	for _, id := range sortedKeys(api.Resources) {
		r := api.Resources[id]
		for _, verb := range sortedKeys(r.ResourceMethods) {
			if r.ResourceMethods[verb].MethodIntegration == nil {
				return badRequest(msgNoIntegration)
			}
			methods++
		}
	}
	if methods == 0 {
		return badRequest(msgNoMethods)
	}
	return nil
}

// apiSummary is the Deployment's apiSummary: path → method → snapshot.
func apiSummary(api *apimodel.API) map[string]map[string]apimodel.MethodSnapshot {
	out := map[string]map[string]apimodel.MethodSnapshot{}
	for _, r := range api.Resources {
		for verb, m := range r.ResourceMethods {
			if out[r.Path] == nil {
				out[r.Path] = map[string]apimodel.MethodSnapshot{}
			}
			out[r.Path][verb] = apimodel.MethodSnapshot{AuthorizationType: m.AuthorizationType, APIKeyRequired: m.APIKeyRequired}
		}
	}
	return out
}

func (s *Server) createDeployment(c *call) (int, any, error) {
	apiID := c.r.PathValue("restapi_id")
	var in createDeploymentInput
	if err := decodeBody(c, &in); err != nil {
		return 0, nil, err
	}
	var v validationErrors
	if in.CacheClusterSize != nil && !slices.Contains(cacheClusterSizes, *in.CacheClusterSize) {
		v.enum(*in.CacheClusterSize, "createDeploymentInput.cacheClusterSize", cacheClusterEnum)
	}
	if err := v.err(); err != nil {
		return 0, nil, err
	}
	api, err := s.loadAPI(c, apiID, nil)
	if err != nil {
		return 0, nil, err
	}
	stageName := ""
	if in.StageName != nil {
		stageName = *in.StageName
	}
	if stageName != "" && !validStageName(stageName) {
		return 0, nil, badRequest(msgStageName)
	}
	if err := validateVariables(in.Variables); err != nil {
		return 0, nil, err
	}
	if in.CanarySettings != nil {
		if stageName == "" {
			shown := "null"
			if in.StageName != nil {
				shown = ""
			}
			return 0, nil, badRequest("Invalid deployment content specified.Non null and non empty stageName must be provided for canary deployment. Provided value is " + shown)
		}
		if _, err := s.loadStage(c, apiID, stageName); err != nil {
			if isNotFound(err) {
				return 0, nil, badRequest("Invalid deployment content specified.Stage " + stageName + " must already be created before making a canary release deployment")
			}
			return 0, nil, err
		}
		if err := validateVariables(in.CanarySettings.StageVariableOverrides); err != nil {
			return 0, nil, err
		}
		if p := in.CanarySettings.PercentTraffic; p != nil && (*p < 0 || *p > 100) {
			return 0, nil, badRequest("Canary traffic percentage must be between 0.0 and 100.0")
		}
	}
	if err := checkDeployable(api); err != nil {
		return 0, nil, err
	}
	if err := s.awaitVpcLinks(c, api, stageName, in.Variables); err != nil {
		return 0, nil, err
	}

	var meta apimodel.DeploymentMeta
	for attempt := 0; ; attempt++ {
		meta = apimodel.DeploymentMeta{
			ID:          awsproto.NewID(deploymentIDLen),
			Description: in.Description,
			CreatedDate: c.now,
			APISummary:  apiSummary(api),
		}
		d := apimodel.Deployment{DeploymentMeta: meta, Account: c.caller.Account, APIID: apiID, API: *api.Clone()}
		b, err := json.Marshal(&d)
		if err != nil {
			return 0, nil, err
		}
		_, err = s.store.Create(c.ctx, apimodel.BucketDeployments, apimodel.DeploymentKey(apiID, meta.ID), b)
		if errors.Is(err, store.ErrExists) && attempt < 5 {
			continue
		}
		if err != nil {
			return 0, nil, err
		}
		break
	}
	if stageName != "" {
		if err := s.deployToStage(c, apiID, stageName, meta.ID, &in); err != nil {
			return 0, nil, err
		}
	}
	return http.StatusCreated, deploymentWire(&meta, false), nil
}

// deployToStage points stage name at deployment depID (creating the stage when it does
// not exist), or at its canary when the request has canarySettings.
func (s *Server) deployToStage(c *call, apiID, name, depID string, in *createDeploymentInput) error {
	key := apimodel.StageKey(apiID, name)
	defer s.lock(apimodel.BucketStages, key)()
	_, err := s.store.Modify(c.ctx, apimodel.BucketStages, key, func(cur []byte) ([]byte, error) {
		st := &apimodel.Stage{Account: c.caller.Account, APIID: apiID, StageName: name, CreatedDate: c.now,
			CacheClusterStatus: "NOT_AVAILABLE"}
		if cur != nil {
			var err error
			if st, err = decodeStage(cur); err != nil {
				return nil, err
			}
		}
		st.LastUpdatedDate = c.now
		if cs := in.CanarySettings; cs != nil {
			canary := &apimodel.CanarySettings{DeploymentID: depID, StageVariableOverrides: cs.StageVariableOverrides,
				UseStageCache: cs.UseStageCache}
			if cs.PercentTraffic != nil {
				canary.PercentTraffic = *cs.PercentTraffic
			}
			st.CanarySettings = canary
		} else {
			st.DeploymentID = depID
			st.CanarySettings = nil
		}
		if in.StageDescription != nil {
			st.Description = *in.StageDescription
		}
		if in.Variables != nil {
			st.Variables = in.Variables
		}
		if in.CacheClusterEnabled != nil {
			st.CacheClusterEnabled = *in.CacheClusterEnabled
		}
		if in.CacheClusterSize != nil {
			st.CacheClusterSize = *in.CacheClusterSize
		}
		if in.TracingEnabled != nil {
			st.TracingEnabled = *in.TracingEnabled
		}
		return json.Marshal(st)
	})
	return err
}

func deploymentSortKey(d *apimodel.DeploymentMeta) string {
	return strconv.FormatInt(d.CreatedDate.Time().UnixMilli(), 36) + "." + d.ID
}

func (s *Server) getDeployment(c *call) (int, any, error) {
	apiID := c.r.PathValue("restapi_id")
	if _, err := s.loadAPI(c, apiID, nil); err != nil {
		return 0, nil, err
	}
	d, _, err := s.loadDeployment(c, apiID, c.r.PathValue("deployment_id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, deploymentWire(&d.DeploymentMeta, embeds(c, "apisummary")), nil
}

func (s *Server) getDeployments(c *call) (int, any, error) {
	apiID := c.r.PathValue("restapi_id")
	if _, err := s.loadAPI(c, apiID, nil); err != nil {
		return 0, nil, err
	}
	entries, err := s.store.List(c.ctx, apimodel.BucketDeployments, apiID+".")
	if err != nil {
		return 0, nil, err
	}
	metas := make([]*apimodel.DeploymentMeta, 0, len(entries))
	for _, e := range entries {
		d, err := decodeDeployment(e.Value)
		if err != nil {
			return 0, nil, err
		}
		if d.APIID == apiID && d.Account == c.caller.Account {
			metas = append(metas, &d.DeploymentMeta)
		}
	}
	sort.Slice(metas, func(i, j int) bool { return deploymentSortKey(metas[i]) < deploymentSortKey(metas[j]) })
	page, pos, err := paginate(c, metas, deploymentSortKey)
	if err != nil {
		return 0, nil, err
	}
	out := list[apimodel.DeploymentMeta]{Position: pos, Items: make([]apimodel.DeploymentMeta, 0, len(page))}
	for _, m := range page {
		out.Items = append(out.Items, deploymentWire(m, false))
	}
	return http.StatusOK, out, nil
}

func (s *Server) updateDeployment(c *call) (int, any, error) {
	apiID, id := c.r.PathValue("restapi_id"), c.r.PathValue("deployment_id")
	ops, err := decodePatch(c, "updateDeploymentInput")
	if err != nil {
		return 0, nil, err
	}
	if _, err := s.loadAPI(c, apiID, nil); err != nil {
		return 0, nil, err
	}
	if !validID(id) {
		return 0, nil, notFound(msgDeploymentNotFound)
	}
	key := apimodel.DeploymentKey(apiID, id)
	defer s.lock(apimodel.BucketDeployments, key)()
	var out apimodel.DeploymentMeta
	_, err = s.store.Modify(c.ctx, apimodel.BucketDeployments, key, func(cur []byte) ([]byte, error) {
		if cur == nil {
			return nil, notFound(msgDeploymentNotFound)
		}
		d, err := decodeDeployment(cur)
		if err != nil {
			return nil, err
		}
		if d.Account != c.caller.Account {
			return nil, notFound(msgDeploymentNotFound)
		}
		for i := range ops {
			p := &ops[i]
			if p.path() != "/description" {
				return nil, errPatchPath(p.path())
			}
			if err := allowOp(p.Op, opReplace); err != nil {
				return nil, err
			}
			d.Description = p.value()
		}
		out = d.DeploymentMeta
		return json.Marshal(d)
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, deploymentWire(&out, false), nil
}

func (s *Server) deleteDeployment(c *call) (int, any, error) {
	apiID, id := c.r.PathValue("restapi_id"), c.r.PathValue("deployment_id")
	if _, err := s.loadAPI(c, apiID, nil); err != nil {
		return 0, nil, err
	}
	_, e, err := s.loadDeployment(c, apiID, id)
	if err != nil {
		return 0, nil, err
	}
	stages, err := s.listStages(c, apiID)
	if err != nil {
		return 0, nil, err
	}
	for _, st := range stages {
		if st.DeploymentID == id || st.CanarySettings != nil && st.CanarySettings.DeploymentID == id {
			return 0, nil, badRequest(msgActiveStages)
		}
	}
	err = s.store.Delete(c.ctx, apimodel.BucketDeployments, e.Key, e.Revision)
	if errors.Is(err, store.ErrNotFound) {
		return 0, nil, notFound(msgDeploymentNotFound)
	}
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, nil, nil
}
