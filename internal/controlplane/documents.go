package controlplane

import (
	"encoding/json"
	"errors"
	"fmt"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/store"
)

// validID reports whether s can be an identifier we issued (REST API, resource,
// deployment ids) or a stage name, and so a valid store key component. Anything else
// cannot exist and is answered with the operation's NotFoundException.
func validID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func decodeAPI(b []byte) (*apimodel.API, error) {
	var api apimodel.API
	if err := json.Unmarshal(b, &api); err != nil {
		return nil, fmt.Errorf("decode stored REST API: %w", err)
	}
	if api.Resources == nil {
		api.Resources = map[string]*apimodel.Resource{}
	}
	return &api, nil
}

// loadAPI reads the caller's REST API. missing is returned when it does not exist or
// belongs to another account (nil means AWS's "Invalid API identifier specified").
func (s *Server) loadAPI(c *call, apiID string, missing error) (*apimodel.API, error) {
	if missing == nil {
		missing = apiNotFound(c.caller.Account, apiID)
	}
	if !validID(apiID) {
		return nil, missing
	}
	e, err := s.store.Get(c.ctx, apimodel.BucketRestAPIs, apiID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, missing
	}
	if err != nil {
		return nil, err
	}
	api, err := decodeAPI(e.Value)
	if err != nil {
		return nil, err
	}
	if api.Account != c.caller.Account {
		return nil, missing
	}
	return api, nil
}

// modifyAPI applies fn to the caller's REST API with an optimistic read-modify-write
// and returns the document as written. fn may run more than once (on a lost race) and
// must only change the document it is given. missing is as for loadAPI.
func (s *Server) modifyAPI(c *call, apiID string, missing error, fn func(api *apimodel.API) error) (*apimodel.API, error) {
	if missing == nil {
		missing = apiNotFound(c.caller.Account, apiID)
	}
	if !validID(apiID) {
		return nil, missing
	}
	defer s.lock(apimodel.BucketRestAPIs, apiID)()
	var out *apimodel.API
	_, err := s.store.Modify(c.ctx, apimodel.BucketRestAPIs, apiID, func(cur []byte) ([]byte, error) {
		if cur == nil {
			return nil, missing
		}
		api, err := decodeAPI(cur)
		if err != nil {
			return nil, err
		}
		if api.Account != c.caller.Account {
			return nil, missing
		}
		if err := fn(api); err != nil {
			return nil, err
		}
		b, err := json.Marshal(api)
		if err != nil {
			return nil, err
		}
		out = api
		return b, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func decodeStage(b []byte) (*apimodel.Stage, error) {
	var st apimodel.Stage
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("decode stored stage: %w", err)
	}
	return &st, nil
}

// loadStage reads one stage of an API the caller owns (the API was checked by the caller).
func (s *Server) loadStage(c *call, apiID, name string) (*apimodel.Stage, error) {
	if !validID(name) {
		return nil, notFound(msgStageNotFound)
	}
	e, err := s.store.Get(c.ctx, apimodel.BucketStages, apimodel.StageKey(apiID, name))
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound(msgStageNotFound)
	}
	if err != nil {
		return nil, err
	}
	st, err := decodeStage(e.Value)
	if err != nil {
		return nil, err
	}
	if st.Account != "" && st.Account != c.caller.Account {
		return nil, notFound(msgStageNotFound)
	}
	return st, nil
}

// listStages returns every stage of apiID.
func (s *Server) listStages(c *call, apiID string) ([]*apimodel.Stage, error) {
	entries, err := s.store.List(c.ctx, apimodel.BucketStages, apiID+".")
	if err != nil {
		return nil, err
	}
	out := make([]*apimodel.Stage, 0, len(entries))
	for _, e := range entries {
		st, err := decodeStage(e.Value)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

// modifyStage applies fn to an existing stage (optimistic read-modify-write).
func (s *Server) modifyStage(c *call, apiID, name string, fn func(st *apimodel.Stage) error) (*apimodel.Stage, error) {
	if !validID(name) {
		return nil, notFound(msgStageNotFound)
	}
	key := apimodel.StageKey(apiID, name)
	defer s.lock(apimodel.BucketStages, key)()
	var out *apimodel.Stage
	_, err := s.store.Modify(c.ctx, apimodel.BucketStages, key, func(cur []byte) ([]byte, error) {
		if cur == nil {
			return nil, notFound(msgStageNotFound)
		}
		st, err := decodeStage(cur)
		if err != nil {
			return nil, err
		}
		if err := fn(st); err != nil {
			return nil, err
		}
		b, err := json.Marshal(st)
		if err != nil {
			return nil, err
		}
		out = st
		return b, nil
	})
	return out, err
}

func decodeDeployment(b []byte) (*apimodel.Deployment, error) {
	var d apimodel.Deployment
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, fmt.Errorf("decode stored deployment: %w", err)
	}
	return &d, nil
}

// loadDeployment reads one deployment of an API the caller owns.
func (s *Server) loadDeployment(c *call, apiID, id string) (*apimodel.Deployment, store.Entry, error) {
	if !validID(id) {
		return nil, store.Entry{}, notFound(msgDeploymentNotFound)
	}
	e, err := s.store.Get(c.ctx, apimodel.BucketDeployments, apimodel.DeploymentKey(apiID, id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, store.Entry{}, notFound(msgDeploymentNotFound)
	}
	if err != nil {
		return nil, store.Entry{}, err
	}
	d, err := decodeDeployment(e.Value)
	if err != nil {
		return nil, store.Entry{}, err
	}
	if d.Account != c.caller.Account {
		return nil, store.Entry{}, notFound(msgDeploymentNotFound)
	}
	return d, e, nil
}

// deploymentExists reports whether apiID has deployment id.
func (s *Server) deploymentExists(c *call, apiID, id string) (bool, error) {
	_, _, err := s.loadDeployment(c, apiID, id)
	if err == nil {
		return true, nil
	}
	if isNotFound(err) {
		return false, nil
	}
	return false, err
}
