package controlplane

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"regexp"
	"sort"
	"strconv"

	"gatehouse/internal/apimodel"
)

const modelIDLen = 6

// AWS's model and request validator messages (LocalStack's snapshot-verified texts;
// msgModelName, msgValidatorInUse and msgModelInResponse follow AWS's style, unrecorded).
const (
	msgModelNotFound     = "Invalid model name specified: %s"
	msgModelNameEmpty    = "Model name must be non-empty"
	msgModelName         = "Model name must be alphanumeric"
	msgModelExists       = "Model name already exists for this REST API"
	msgModelSchemaEmpty  = "Model schema must have at least 1 property or array items defined"
	msgModelSchema       = "Invalid model specified: Validation Result: warnings : [], errors : [Invalid model schema specified]"
	msgModelInUse        = "Cannot delete model '%s', is referenced in method request: %s"
	msgModelInResponse   = "Cannot delete model '%s', is referenced in method response: %s"
	msgValidatorNotFound = "Invalid Request Validator identifier specified"
	msgValidatorBlank    = "Request Validator name cannot be blank"
	msgValidatorInUse    = "Cannot delete request validator '%s', is referenced in method: %s"
	msgModelIdentifier   = "Invalid model identifier specified: "
)

var modelNameRe = regexp.MustCompile(`^[A-Za-z0-9]+$`)

// defaultModelIDs derives stable ids for an API's built-in models, so an API document
// written before models were stored shows the same ids on every read.
func defaultModelIDs(apiID string) (emptyID, errorID string) {
	id := func(name string) string {
		h := fnv.New64a()
		h.Write([]byte(apiID + "/" + name))
		s := strconv.FormatUint(h.Sum64(), 36)
		for len(s) < modelIDLen {
			s = "0" + s
		}
		return s[:modelIDLen]
	}
	return id(apimodel.ModelEmpty), id(apimodel.ModelError)
}

func defaultModelsFor(apiID string) map[string]*apimodel.Model {
	return apimodel.DefaultModels(defaultModelIDs(apiID))
}

// apiModels returns api's models (the defaults for a document that predates stored
// models). The result must not be modified.
func apiModels(api *apimodel.API) map[string]*apimodel.Model {
	if api.Models == nil {
		return defaultModelsFor(api.RestAPI.ID)
	}
	return api.Models
}

// ensureModels materializes api's models for writing.
func ensureModels(api *apimodel.API) map[string]*apimodel.Model {
	if api.Models == nil {
		api.Models = defaultModelsFor(api.RestAPI.ID)
	}
	return api.Models
}

// validateModels checks that every model a method (response) names exists in api.
func validateModels(api *apimodel.API, models map[string]string) error {
	have := apiModels(api)
	for _, ct := range sortedKeys(models) {
		if have[models[ct]] == nil {
			return badRequest(msgModelIdentifier + models[ct])
		}
	}
	return nil
}

// validateSchema checks a model schema: present, and a JSON object.
func validateSchema(schema string) error {
	b := bytes.TrimSpace([]byte(schema))
	if len(b) == 0 {
		return badRequest(msgModelSchemaEmpty)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil || obj == nil {
		return badRequest(msgModelSchema)
	}
	return nil
}

type createModelInput struct {
	Name        *string `json:"name"`
	Description string  `json:"description"`
	Schema      *string `json:"schema"`
	ContentType *string `json:"contentType"`
}

func (s *Server) createModel(c *call) (int, any, error) {
	var in createModelInput
	if err := decodeBody(c, &in); err != nil {
		return 0, nil, err
	}
	var v validationErrors
	if in.Name == nil {
		v.add("Value null at 'createModelInput.name' failed to satisfy constraint: Member must not be null")
	}
	if in.ContentType == nil {
		v.add("Value null at 'createModelInput.contentType' failed to satisfy constraint: Member must not be null")
	}
	if err := v.err(); err != nil {
		return 0, nil, err
	}
	var out apimodel.Model
	_, err := s.modifyAPI(c, c.r.PathValue("restapi_id"), nil, func(api *apimodel.API) error {
		switch {
		case *in.Name == "":
			return badRequest(msgModelNameEmpty)
		case !modelNameRe.MatchString(*in.Name):
			return badRequest(msgModelName)
		}
		models := ensureModels(api)
		if models[*in.Name] != nil {
			return conflict(msgModelExists)
		}
		schema := ""
		if in.Schema != nil {
			schema = *in.Schema
		}
		if err := validateSchema(schema); err != nil {
			return err
		}
		ids := map[string]bool{}
		for _, m := range models {
			ids[m.ID] = true
		}
		m := &apimodel.Model{ID: newChildID(ids, modelIDLen), Name: *in.Name, Description: in.Description,
			Schema: schema, ContentType: *in.ContentType}
		models[m.Name] = m
		out = *m
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, &out, nil
}

func (s *Server) getModel(c *call) (int, any, error) {
	name := c.r.PathValue("model_name")
	api, err := s.loadAPI(c, c.r.PathValue("restapi_id"), nil)
	if err != nil {
		return 0, nil, err
	}
	m := apiModels(api)[name]
	if m == nil {
		return 0, nil, notFound(fmt.Sprintf(msgModelNotFound, name))
	}
	return http.StatusOK, m, nil
}

func (s *Server) getModels(c *call) (int, any, error) {
	api, err := s.loadAPI(c, c.r.PathValue("restapi_id"), nil)
	if err != nil {
		return 0, nil, err
	}
	models := apiModels(api)
	items := make([]*apimodel.Model, 0, len(models))
	for _, name := range sortedKeys(models) {
		items = append(items, models[name])
	}
	page, pos, err := paginate(c, items, func(m *apimodel.Model) string { return m.Name })
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, list[*apimodel.Model]{Position: pos, Items: page}, nil
}

func (s *Server) updateModel(c *call) (int, any, error) {
	name := c.r.PathValue("model_name")
	ops, err := decodePatch(c, "updateModelInput")
	if err != nil {
		return 0, nil, err
	}
	var out apimodel.Model
	_, err = s.modifyAPI(c, c.r.PathValue("restapi_id"), nil, func(api *apimodel.API) error {
		models := ensureModels(api)
		cur := models[name]
		if cur == nil {
			return notFound(fmt.Sprintf(msgModelNotFound, name))
		}
		m := *cur
		for i := range ops {
			p := &ops[i]
			if p.Op != opReplace {
				return errPatchOpFor(p.path(), p.Op)
			}
			switch p.path() {
			case "/schema":
				if err := validateSchema(p.value()); err != nil {
					return err
				}
				m.Schema = p.value()
			case "/description":
				m.Description = p.value()
			default:
				return errPatchPathFor(p.path(), opReplace, "/description, /schema")
			}
		}
		models[name] = &m
		out = m
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, &out, nil
}

func (s *Server) deleteModel(c *call) (int, any, error) {
	name := c.r.PathValue("model_name")
	_, err := s.modifyAPI(c, c.r.PathValue("restapi_id"), nil, func(api *apimodel.API) error {
		models := ensureModels(api)
		if models[name] == nil {
			return notFound(fmt.Sprintf(msgModelNotFound, name))
		}
		if err := modelInUse(api, name); err != nil {
			return err
		}
		delete(models, name)
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, nil, nil
}

// modelInUse refuses deleting a model a method request or method response names.
func modelInUse(api *apimodel.API, name string) error {
	var req, resp []string
	for _, r := range api.Resources {
		for verb, m := range r.ResourceMethods {
			for _, mn := range m.RequestModels {
				if mn == name {
					req = append(req, r.Path+"/"+verb)
				}
			}
			for _, mr := range m.MethodResponses {
				for _, mn := range mr.ResponseModels {
					if mn == name {
						resp = append(resp, r.Path+"/"+verb)
					}
				}
			}
		}
	}
	sort.Strings(req)
	sort.Strings(resp)
	switch {
	case len(req) > 0:
		return conflict(fmt.Sprintf(msgModelInUse, name, req[0]))
	case len(resp) > 0:
		return conflict(fmt.Sprintf(msgModelInResponse, name, resp[0]))
	}
	return nil
}

// Request validators.

const validatorIDLen = 6

type createValidatorInput struct {
	Name                      *string `json:"name"`
	ValidateRequestBody       bool    `json:"validateRequestBody"`
	ValidateRequestParameters bool    `json:"validateRequestParameters"`
}

func (s *Server) createRequestValidator(c *call) (int, any, error) {
	var in createValidatorInput
	if err := decodeBody(c, &in); err != nil {
		return 0, nil, err
	}
	var out apimodel.RequestValidator
	_, err := s.modifyAPI(c, c.r.PathValue("restapi_id"), nil, func(api *apimodel.API) error {
		if in.Name != nil && *in.Name == "" {
			return badRequest(msgValidatorBlank)
		}
		rv := &apimodel.RequestValidator{ID: newChildID(api.RequestValidators, validatorIDLen),
			ValidateRequestBody: in.ValidateRequestBody, ValidateRequestParameters: in.ValidateRequestParameters}
		if in.Name != nil {
			rv.Name = *in.Name
		}
		if api.RequestValidators == nil {
			api.RequestValidators = map[string]*apimodel.RequestValidator{}
		}
		api.RequestValidators[rv.ID] = rv
		out = *rv
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, &out, nil
}

func (s *Server) getRequestValidator(c *call) (int, any, error) {
	api, err := s.loadAPI(c, c.r.PathValue("restapi_id"), nil)
	if err != nil {
		return 0, nil, err
	}
	rv := api.RequestValidators[c.r.PathValue("requestvalidator_id")]
	if rv == nil {
		return 0, nil, notFound(msgValidatorNotFound)
	}
	return http.StatusOK, rv, nil
}

func (s *Server) getRequestValidators(c *call) (int, any, error) {
	api, err := s.loadAPI(c, c.r.PathValue("restapi_id"), nil)
	if err != nil {
		return 0, nil, err
	}
	items := make([]*apimodel.RequestValidator, 0, len(api.RequestValidators))
	for _, id := range sortedKeys(api.RequestValidators) {
		items = append(items, api.RequestValidators[id])
	}
	page, pos, err := paginate(c, items, func(rv *apimodel.RequestValidator) string { return rv.ID })
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, list[*apimodel.RequestValidator]{Position: pos, Items: page}, nil
}

func (s *Server) updateRequestValidator(c *call) (int, any, error) {
	id := c.r.PathValue("requestvalidator_id")
	ops, err := decodePatch(c, "updateRequestValidatorInput")
	if err != nil {
		return 0, nil, err
	}
	var out apimodel.RequestValidator
	_, err = s.modifyAPI(c, c.r.PathValue("restapi_id"), nil, func(api *apimodel.API) error {
		cur := api.RequestValidators[id]
		if cur == nil {
			return notFound(msgValidatorNotFound)
		}
		rv := *cur
		for i := range ops {
			p := &ops[i]
			if p.Op != opReplace {
				return errPatchOpFor(p.path(), p.Op)
			}
			switch p.path() {
			case "/name":
				if p.value() == "" {
					return badRequest(msgValidatorBlank)
				}
				rv.Name = p.value()
			case "/validateRequestBody":
				rv.ValidateRequestBody = patchBool(p.value())
			case "/validateRequestParameters":
				rv.ValidateRequestParameters = patchBool(p.value())
			default:
				return errPatchPathFor(p.path(), opReplace, "/name, /validateRequestParameters, /validateRequestBody")
			}
		}
		api.RequestValidators[id] = &rv
		out = rv
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, &out, nil
}

func (s *Server) deleteRequestValidator(c *call) (int, any, error) {
	id := c.r.PathValue("requestvalidator_id")
	_, err := s.modifyAPI(c, c.r.PathValue("restapi_id"), nil, func(api *apimodel.API) error {
		if api.RequestValidators[id] == nil {
			return notFound(msgValidatorNotFound)
		}
		var users []string
		for _, r := range api.Resources {
			for verb, m := range r.ResourceMethods {
				if m.RequestValidatorID == id {
					users = append(users, verb+"/"+r.Path)
				}
			}
		}
		if len(users) > 0 {
			sort.Strings(users)
			return conflict(fmt.Sprintf(msgValidatorInUse, id, users[0]))
		}
		delete(api.RequestValidators, id)
		if len(api.RequestValidators) == 0 {
			api.RequestValidators = nil
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, nil, nil
}
