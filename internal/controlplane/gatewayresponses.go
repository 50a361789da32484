package controlplane

import (
	"maps"
	"net/http"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/gatewayresponse"
)

// gatewayResponseTypeEnum is the enum as AWS prints it in ValidationExceptions.
const gatewayResponseTypeEnum = "REQUEST_TOO_LARGE, RESOURCE_NOT_FOUND, AUTHORIZER_CONFIGURATION_ERROR, " +
	"MISSING_AUTHENTICATION_TOKEN, BAD_REQUEST_BODY, INVALID_SIGNATURE, INVALID_API_KEY, BAD_REQUEST_PARAMETERS, " +
	"AUTHORIZER_FAILURE, UNAUTHORIZED, INTEGRATION_TIMEOUT, ACCESS_DENIED, DEFAULT_4XX, DEFAULT_5XX, WAF_FILTERED, " +
	"QUOTA_EXCEEDED, THROTTLED, API_CONFIGURATION_ERROR, UNSUPPORTED_MEDIA_TYPE, INTEGRATION_FAILURE, EXPIRED_TOKEN"

func checkResponseType(t string) error {
	if _, ok := gatewayresponse.Lookup(gatewayresponse.Type(t)); ok {
		return nil
	}
	var v validationErrors
	v.enum(t, "responseType", gatewayResponseTypeEnum)
	return v.err()
}

func (s *Server) getGatewayResponse(c *call) (int, any, error) {
	api, err := s.loadAPI(c, c.r.PathValue("restapi_id"), nil)
	if err != nil {
		return 0, nil, err
	}
	t := c.r.PathValue("response_type")
	if err := checkResponseType(t); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, effectiveGatewayResponse(api, gatewayresponse.Type(t)), nil
}

func (s *Server) getGatewayResponses(c *call) (int, any, error) {
	api, err := s.loadAPI(c, c.r.PathValue("restapi_id"), nil)
	if err != nil {
		return 0, nil, err
	}
	types := gatewayresponse.Types()
	page, pos, err := paginate(c, types, func(t gatewayresponse.Type) string { return string(t) })
	if err != nil {
		return 0, nil, err
	}
	out := list[gatewayResponseWire]{Position: pos, Items: make([]gatewayResponseWire, 0, len(page))}
	for _, t := range page {
		out.Items = append(out.Items, effectiveGatewayResponse(api, t))
	}
	return http.StatusOK, out, nil
}

func (s *Server) putGatewayResponse(c *call) (int, any, error) {
	apiID, t := c.r.PathValue("restapi_id"), c.r.PathValue("response_type")
	var in struct {
		StatusCode         *string           `json:"statusCode"`
		ResponseParameters map[string]string `json:"responseParameters"`
		ResponseTemplates  map[string]string `json:"responseTemplates"`
	}
	if err := decodeBody(c, &in); err != nil {
		return 0, nil, err
	}
	if _, err := s.loadAPI(c, apiID, nil); err != nil {
		return 0, nil, err
	}
	if err := checkResponseType(t); err != nil {
		return 0, nil, err
	}
	if in.StatusCode != nil && !statusCodeRe.MatchString(*in.StatusCode) {
		var v validationErrors
		v.add("Value '" + *in.StatusCode + "' at 'putGatewayResponseInput.statusCode' failed to satisfy constraint: " +
			"Member must satisfy regular expression pattern: [1-5]\\d\\d")
		return 0, nil, v.err()
	}
	api, err := s.modifyAPI(c, apiID, nil, func(api *apimodel.API) error {
		gr := &apimodel.GatewayResponse{ResponseType: t, ResponseParameters: in.ResponseParameters,
			ResponseTemplates: in.ResponseTemplates}
		if in.StatusCode != nil {
			gr.StatusCode = *in.StatusCode
		}
		if api.GatewayResponses == nil {
			api.GatewayResponses = map[string]*apimodel.GatewayResponse{}
		}
		api.GatewayResponses[t] = gr
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, effectiveGatewayResponse(api, gatewayresponse.Type(t)), nil
}

func (s *Server) updateGatewayResponse(c *call) (int, any, error) {
	apiID, t := c.r.PathValue("restapi_id"), c.r.PathValue("response_type")
	ops, err := decodePatch(c, "updateGatewayResponseInput")
	if err != nil {
		return 0, nil, err
	}
	if _, err := s.loadAPI(c, apiID, nil); err != nil {
		return 0, nil, err
	}
	if err := checkResponseType(t); err != nil {
		return 0, nil, err
	}
	api, err := s.modifyAPI(c, apiID, nil, func(api *apimodel.API) error {
		gr := api.GatewayResponses[t]
		if gr == nil {
			// Updating an unset type starts from what GetGatewayResponse shows.
			eff := effectiveGatewayResponse(api, gatewayresponse.Type(t))
			gr = &apimodel.GatewayResponse{ResponseType: t, StatusCode: eff.StatusCode,
				ResponseParameters: maps.Clone(eff.ResponseParameters), ResponseTemplates: maps.Clone(eff.ResponseTemplates)}
		}
		if err := patchGatewayResponse(gr, ops); err != nil {
			return err
		}
		if api.GatewayResponses == nil {
			api.GatewayResponses = map[string]*apimodel.GatewayResponse{}
		}
		api.GatewayResponses[t] = gr
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, effectiveGatewayResponse(api, gatewayresponse.Type(t)), nil
}

// patchGatewayResponse applies UpdateGatewayResponse's patch operations.
func patchGatewayResponse(gr *apimodel.GatewayResponse, ops []patchOp) error {
	for i := range ops {
		p := &ops[i]
		path := p.path()
		segs := splitPatchPath(path)
		switch {
		case path == "/statusCode":
			if p.Op != opReplace {
				return errPatchPath(path)
			}
			if !statusCodeRe.MatchString(p.value()) {
				return badRequest("Invalid status code specified: " + p.value())
			}
			gr.StatusCode = p.value()
		case len(segs) == 2 && (segs[0] == "responseParameters" || segs[0] == "responseTemplates"):
			m := &gr.ResponseParameters
			if segs[0] == "responseTemplates" {
				m = &gr.ResponseTemplates
			}
			switch p.Op {
			case opAdd, opReplace:
				if p.Op == opReplace {
					if _, ok := (*m)[segs[1]]; !ok {
						return notFound(msgInvalidParameterName)
					}
				}
				if p.Value == nil {
					return badRequest("Invalid null or empty value in " + segs[0])
				}
			case opRemove:
			default:
				return errPatchOp(opAdd, opRemove, opReplace)
			}
			if err := patchStringMap(m, p.Op, segs[1], p.Value, ""); err != nil {
				return err
			}
		default:
			return errPatchPath(path)
		}
	}
	return nil
}

func (s *Server) deleteGatewayResponse(c *call) (int, any, error) {
	apiID, t := c.r.PathValue("restapi_id"), c.r.PathValue("response_type")
	if _, err := s.loadAPI(c, apiID, nil); err != nil {
		return 0, nil, err
	}
	if err := checkResponseType(t); err != nil {
		return 0, nil, err
	}
	_, err := s.modifyAPI(c, apiID, nil, func(api *apimodel.API) error {
		if api.GatewayResponses[t] == nil {
			return notFound(msgGatewayRespNotSet)
		}
		delete(api.GatewayResponses, t)
		if len(api.GatewayResponses) == 0 {
			api.GatewayResponses = nil
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, nil, nil
}
