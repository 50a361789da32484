package controlplane

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/awsproto"
	"gatehouse/internal/policy"
	"gatehouse/internal/store"
)

const (
	restAPIIDLen      = 10
	rootResourceIDLen = 10
	maxPolicyChars    = 8192
	maxCompression    = 10485760
	ipv4              = "ipv4"
	dualstack         = "dualstack"
	endpointTypeEnum  = "PRIVATE, EDGE, REGIONAL"
	ipAddressTypeEnum = "ipv4, dualstack"
)

func itoa(n int) string { return strconv.Itoa(n) }

func validEndpointType(t string) bool {
	return t == apimodel.EndpointEdge || t == apimodel.EndpointRegional || t == apimodel.EndpointPrivate
}

type endpointConfigInput struct {
	Types          []string `json:"types"`
	IPAddressType  *string  `json:"ipAddressType"`
	VpcEndpointIds []string `json:"vpcEndpointIds"`
}

type createRestAPIInput struct {
	Name                      *string              `json:"name"`
	Description               *string              `json:"description"`
	Version                   string               `json:"version"`
	CloneFrom                 string               `json:"cloneFrom"`
	BinaryMediaTypes          []string             `json:"binaryMediaTypes"`
	MinimumCompressionSize    json.RawMessage      `json:"minimumCompressionSize"`
	APIKeySource              *string              `json:"apiKeySource"`
	EndpointConfiguration     *endpointConfigInput `json:"endpointConfiguration"`
	Policy                    *string              `json:"policy"`
	Tags                      map[string]string    `json:"tags"`
	DisableExecuteAPIEndpoint bool                 `json:"disableExecuteApiEndpoint"`
	SecurityPolicy            string               `json:"securityPolicy"`
	EndpointAccessMode        string               `json:"endpointAccessMode"`
}

// parseCompression reads minimumCompressionSize, which AWS accepts as a number (or a
// numeric string) in 0..10485760.
func parseCompression(raw json.RawMessage) (*int, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	s := string(raw)
	if s[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, badRequest(msgCompressionSize)
		}
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 || n > maxCompression {
		return nil, badRequest(msgCompressionSize)
	}
	return &n, nil
}

func (s *Server) createRestAPI(c *call) (int, any, error) {
	var in createRestAPIInput
	if err := decodeBody(c, &in); err != nil {
		return 0, nil, err
	}
	var v validationErrors
	if in.Name == nil {
		v.add("Value null at 'createRestApiInput.name' failed to satisfy constraint: Member must not be null")
	}
	if ec := in.EndpointConfiguration; ec != nil {
		for _, t := range ec.Types {
			if !validEndpointType(t) {
				v.add("Value '[" + strings.Join(ec.Types, ", ") + "]' at 'createRestApiInput.endpointConfiguration.types' " +
					"failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [" +
					endpointTypeEnum + "]]")
				break
			}
		}
		if ec.IPAddressType != nil && *ec.IPAddressType != ipv4 && *ec.IPAddressType != dualstack {
			v.enum(*ec.IPAddressType, "createRestApiInput.endpointConfiguration.ipAddressType", ipAddressTypeEnum)
		}
	}
	if in.APIKeySource != nil && *in.APIKeySource != "HEADER" && *in.APIKeySource != "AUTHORIZER" {
		v.enum(*in.APIKeySource, "createRestApiInput.apiKeySource", "HEADER, AUTHORIZER")
	}
	if in.EndpointAccessMode != "" && in.EndpointAccessMode != "BASIC" && in.EndpointAccessMode != "STRICT" {
		v.enum(in.EndpointAccessMode, "createRestApiInput.endpointAccessMode", "BASIC, STRICT")
	}
	if err := v.err(); err != nil {
		return 0, nil, err
	}
	if *in.Name == "" {
		return 0, nil, badRequest("Invalid REST API name specified")
	}
	if in.Description != nil && *in.Description == "" {
		return 0, nil, badRequest(msgEmptyDescription)
	}
	ec := &apimodel.EndpointConfiguration{Types: []string{apimodel.EndpointEdge}}
	if in.EndpointConfiguration != nil {
		if in.EndpointConfiguration.Types != nil {
			ec.Types = slices.Clone(in.EndpointConfiguration.Types)
		}
		if in.EndpointConfiguration.IPAddressType != nil {
			ec.IPAddressType = *in.EndpointConfiguration.IPAddressType
		}
		ec.VpcEndpointIds = dedup(in.EndpointConfiguration.VpcEndpointIds)
	}
	if ec.IPAddressType == "" {
		ec.IPAddressType = ipv4
		if len(ec.Types) == 1 && ec.Types[0] == apimodel.EndpointPrivate {
			ec.IPAddressType = dualstack
		}
	}
	if err := s.validateEndpointConfig(ec); err != nil {
		return 0, nil, err
	}
	compression, err := parseCompression(in.MinimumCompressionSize)
	if err != nil {
		return 0, nil, err
	}
	if err := validateTags(in.Tags); err != nil {
		return 0, nil, err
	}
	var clone *apimodel.API
	if in.CloneFrom != "" {
		if clone, err = s.loadAPI(c, in.CloneFrom, nil); err != nil {
			return 0, nil, err
		}
	}
	apiKeySource := "HEADER"
	if in.APIKeySource != nil {
		apiKeySource = *in.APIKeySource
	}

	for attempt := 0; ; attempt++ {
		apiID := awsproto.NewID(restAPIIDLen)
		pol := ""
		if in.Policy != nil {
			if pol, err = s.preparePolicy(c, apiID, *in.Policy); err != nil {
				return 0, nil, err
			}
		}
		rootID := awsproto.NewID(rootResourceIDLen)
		doc := &apimodel.API{
			Account: c.caller.Account,
			RestAPI: apimodel.RestApi{
				ID:                        apiID,
				Name:                      *in.Name,
				CreatedDate:               c.now,
				Version:                   in.Version,
				BinaryMediaTypes:          dedup(in.BinaryMediaTypes),
				MinimumCompressionSize:    compression,
				APIKeySource:              apiKeySource,
				EndpointConfiguration:     ec,
				Policy:                    pol,
				Tags:                      in.Tags,
				DisableExecuteAPIEndpoint: in.DisableExecuteAPIEndpoint,
				RootResourceID:            rootID,
				SecurityPolicy:            in.SecurityPolicy,
				EndpointAccessMode:        in.EndpointAccessMode,
			},
			Resources: map[string]*apimodel.Resource{rootID: {ID: rootID, Path: "/"}},
			Models:    defaultModelsFor(apiID),
		}
		if in.Description != nil {
			doc.RestAPI.Description = *in.Description
		}
		if clone != nil {
			cloneInto(doc, clone)
		}
		b, err := json.Marshal(doc)
		if err != nil {
			return 0, nil, err
		}
		_, err = s.store.Create(c.ctx, apimodel.BucketRestAPIs, apiID, b)
		if errors.Is(err, store.ErrExists) && attempt < 5 {
			continue // id collision: draw another
		}
		if err != nil {
			return 0, nil, err
		}
		return http.StatusCreated, toRestAPIWire(&doc.RestAPI, false), nil
	}
}

// cloneInto copies src's resource tree (with fresh resource ids), gateway responses,
// authorizers, request validators and models into dst, whose root resource it reuses.
func cloneInto(dst, src *apimodel.API) {
	src = src.Clone()
	ids := map[string]string{src.RestAPI.RootResourceID: dst.RestAPI.RootResourceID}
	for id := range src.Resources {
		if _, ok := ids[id]; !ok {
			ids[id] = newResourceID(dst)
			dst.Resources[ids[id]] = &apimodel.Resource{} // reserve the id
		}
	}
	for id, r := range src.Resources {
		r.ID = ids[id]
		if r.ParentID != "" {
			r.ParentID = ids[r.ParentID]
		}
		for _, m := range r.ResourceMethods {
			if m.MethodIntegration != nil && m.MethodIntegration.CacheNamespace == id {
				m.MethodIntegration.CacheNamespace = r.ID
			}
		}
		dst.Resources[r.ID] = r
	}
	dst.GatewayResponses = src.GatewayResponses
	dst.Authorizers = src.Authorizers
	dst.RequestValidators = src.RequestValidators
	dst.Models = src.Models
	if dst.Models == nil {
		dst.Models = defaultModelsFor(dst.RestAPI.ID)
	}
	if dst.RestAPI.BinaryMediaTypes == nil {
		dst.RestAPI.BinaryMediaTypes = src.RestAPI.BinaryMediaTypes
	}
}

// validateEndpointConfig applies AWS's endpoint-configuration rules to a final
// configuration (after defaults, or after a patch).
func (s *Server) validateEndpointConfig(ec *apimodel.EndpointConfiguration) error {
	switch {
	case len(ec.Types) == 0:
		return badRequest(msgNoTypes)
	case len(ec.Types) > 1:
		return badRequest(msgMultipleTypes)
	}
	private := ec.Types[0] == apimodel.EndpointPrivate
	if private && ec.IPAddressType == ipv4 {
		return badRequest(msgDualstackOnly)
	}
	if len(ec.VpcEndpointIds) > 0 && !private {
		return badRequest(msgVPCEOnlyPrivate)
	}
	for _, id := range ec.VpcEndpointIds {
		if !strings.HasPrefix(id, "vpce-") || (s.knownVPCE != nil && !s.knownVPCE(id)) {
			return badRequest("Invalid VPC Endpoint identifier specified: " + id)
		}
	}
	return nil
}

// preparePolicy validates a resource policy and returns it as stored: compact JSON with
// the execute-api:/ shorthand expanded for apiID. "" means no policy.
func (s *Server) preparePolicy(c *call, apiID, src string) (string, error) {
	if strings.TrimSpace(src) == "" {
		return "", nil
	}
	if n := utf8.RuneCountInString(src); n > maxPolicyChars {
		return "", badRequestf("Invalid policy document. The policy is %d characters long; the maximum is %d.", n, maxPolicyChars)
	}
	expanded, err := policy.ExpandShorthand([]byte(src), s.region, c.caller.Account, apiID)
	if err != nil {
		return "", badRequest(msgInvalidPolicy)
	}
	if _, err := policy.Parse(expanded); err != nil {
		return "", badRequest(msgInvalidPolicy)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, expanded); err != nil {
		return "", badRequest(msgInvalidPolicy)
	}
	return buf.String(), nil
}

func (s *Server) getRestAPI(c *call) (int, any, error) {
	api, err := s.loadAPI(c, c.r.PathValue("restapi_id"), nil)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toRestAPIWire(&api.RestAPI, false), nil
}

func (s *Server) getRestAPIs(c *call) (int, any, error) {
	entries, err := s.store.List(c.ctx, apimodel.BucketRestAPIs, "")
	if err != nil {
		return 0, nil, err
	}
	var apis []*apimodel.RestApi
	for _, e := range entries {
		api, err := decodeAPI(e.Value)
		if err != nil {
			return 0, nil, err
		}
		if api.Account == c.caller.Account {
			apis = append(apis, &api.RestAPI)
		}
	}
	sort.Slice(apis, func(i, j int) bool { return restAPISortKey(apis[i]) < restAPISortKey(apis[j]) })
	page, pos, err := paginate(c, apis, restAPISortKey)
	if err != nil {
		return 0, nil, err
	}
	out := list[restAPIWire]{Position: pos, Items: make([]restAPIWire, 0, len(page))}
	for _, a := range page {
		out.Items = append(out.Items, toRestAPIWire(a, false))
	}
	return http.StatusOK, out, nil
}

// restAPISortKey orders REST APIs by creation time (AWS lists them oldest first).
func restAPISortKey(a *apimodel.RestApi) string {
	return strconv.FormatInt(a.CreatedDate.Time().UnixMilli(), 36) + "." + a.ID
}

func (s *Server) deleteRestAPI(c *call) (int, any, error) {
	apiID := c.r.PathValue("restapi_id")
	if err := s.deleteAPIDocument(c, apiID); err != nil {
		return 0, nil, err
	}
	// The API is gone; its deployments and stages go with it.
	for _, bucket := range []string{apimodel.BucketStages, apimodel.BucketDeployments} {
		entries, err := s.store.List(c.ctx, bucket, apiID+".")
		if err != nil {
			return 0, nil, err
		}
		for _, e := range entries {
			if err := s.store.Delete(c.ctx, bucket, e.Key, e.Revision); err != nil &&
				!errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConflict) {
				return 0, nil, err
			}
		}
	}
	return http.StatusAccepted, nil, nil
}

// deleteAPIDocument deletes the caller's REST API document, conditionally on the
// revision it checked the owner at.
func (s *Server) deleteAPIDocument(c *call, apiID string) error {
	missing := apiNotFound(c.caller.Account, apiID)
	if !validID(apiID) {
		return missing
	}
	defer s.lock(apimodel.BucketRestAPIs, apiID)()
	for attempt := 0; ; attempt++ {
		e, err := s.store.Get(c.ctx, apimodel.BucketRestAPIs, apiID)
		if errors.Is(err, store.ErrNotFound) {
			return missing
		}
		if err != nil {
			return err
		}
		api, err := decodeAPI(e.Value)
		if err != nil {
			return err
		}
		if api.Account != c.caller.Account {
			return missing
		}
		err = s.store.Delete(c.ctx, apimodel.BucketRestAPIs, apiID, e.Revision)
		switch {
		case errors.Is(err, store.ErrConflict) && attempt < 10:
			continue // written meanwhile: check the owner again
		case errors.Is(err, store.ErrNotFound):
			return missing
		}
		return err
	}
}

func (s *Server) updateRestAPI(c *call) (int, any, error) {
	apiID := c.r.PathValue("restapi_id")
	ops, err := decodePatch(c, "updateRestApiInput")
	if err != nil {
		return 0, nil, err
	}
	api, err := s.modifyAPI(c, apiID, nil, func(api *apimodel.API) error {
		return s.patchRestAPI(c, api, ops)
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toRestAPIWire(&api.RestAPI, true), nil
}

// patchRestAPI applies UpdateRestApi's patch operations to api.RestAPI and validates
// the result.
func (s *Server) patchRestAPI(c *call, api *apimodel.API, ops []patchOp) error {
	r := &api.RestAPI
	if r.EndpointConfiguration == nil {
		r.EndpointConfiguration = &apimodel.EndpointConfiguration{Types: []string{apimodel.EndpointEdge}, IPAddressType: ipv4}
	}
	ec := r.EndpointConfiguration
	wasPrivate := r.IsPrivate()
	ipTouched := false
	for i := range ops {
		p := &ops[i]
		path := p.path()
		segs := splitPatchPath(path)
		switch {
		case path == "/name":
			if err := allowOp(p.Op, opReplace); err != nil {
				return err
			}
			if p.value() == "" {
				return badRequest("Invalid REST API name specified")
			}
			r.Name = p.value()
		case path == "/description":
			if err := allowOp(p.Op, opAdd, opRemove, opReplace); err != nil {
				return err
			}
			r.Description = p.value()
			if p.Op == opRemove {
				r.Description = ""
			}
		case path == "/version":
			if err := allowOp(p.Op, opAdd, opRemove, opReplace); err != nil {
				return err
			}
			r.Version = p.value()
			if p.Op == opRemove {
				r.Version = ""
			}
		case path == "/policy":
			if err := allowOp(p.Op, opAdd, opRemove, opReplace); err != nil {
				return err
			}
			pol := ""
			if p.Op != opRemove {
				var err error
				if pol, err = s.preparePolicy(c, r.ID, p.value()); err != nil {
					return err
				}
			}
			r.Policy = pol
		case path == "/apiKeySource":
			if err := allowOp(p.Op, opReplace); err != nil {
				return err
			}
			if v := p.value(); v != "HEADER" && v != "AUTHORIZER" {
				return badRequest("Invalid apiKeySource specified. Valid options are HEADER,AUTHORIZER")
			}
			r.APIKeySource = p.value()
		case path == "/minimumCompressionSize":
			if err := allowOp(p.Op, opReplace); err != nil {
				return err
			}
			if p.value() == "" {
				r.MinimumCompressionSize = nil
				continue
			}
			n, err := strconv.Atoi(p.value())
			if err != nil || n < 0 || n > maxCompression {
				return badRequest(msgCompressionSize)
			}
			r.MinimumCompressionSize = &n
		case path == "/disableExecuteApiEndpoint":
			if err := allowOp(p.Op, opReplace); err != nil {
				return err
			}
			r.DisableExecuteAPIEndpoint = patchBool(p.value())
		case len(segs) == 2 && segs[0] == "binaryMediaTypes":
			if err := patchBinaryMediaType(r, p.Op, segs[1], p.value()); err != nil {
				return err
			}
		case len(segs) == 3 && segs[0] == "endpointConfiguration" && segs[1] == "types":
			if err := patchEndpointType(ec, p.Op, segs[2], p.value(), path); err != nil {
				return err
			}
		case path == "/endpointConfiguration/ipAddressType":
			if err := allowOp(p.Op, opReplace); err != nil {
				return err
			}
			if v := p.value(); v != ipv4 && v != dualstack {
				return badRequest(msgIPAddressType)
			}
			ec.IPAddressType = p.value()
			ipTouched = true
		case len(segs) >= 2 && segs[0] == "endpointConfiguration" && segs[1] == "vpcEndpointIds" && len(segs) <= 3:
			pathID := ""
			if len(segs) == 3 {
				pathID = segs[2]
			}
			if err := patchVPCEndpointIDs(ec, p.Op, pathID, p.value()); err != nil {
				return err
			}
		default:
			return errPatchPath(path)
		}
	}
	if !wasPrivate && r.IsPrivate() && !ipTouched {
		ec.IPAddressType = dualstack // a private API is dual-stack unless told otherwise
	}
	if wasPrivate && len(ec.Types) == 1 && ec.Types[0] == apimodel.EndpointEdge {
		return badRequest("Cannot update an api from PRIVATE to EDGE. Valid options are PRIVATE,REGIONAL")
	}
	return s.validateEndpointConfig(ec)
}

// patchBinaryMediaType handles /binaryMediaTypes/{type} (type with '/' as "~1").
// replace removes the old type and appends the new one, as AWS does.
func patchBinaryMediaType(r *apimodel.RestApi, op, mediaType, value string) error {
	switch op {
	case opAdd:
		if !slices.Contains(r.BinaryMediaTypes, mediaType) {
			r.BinaryMediaTypes = append(r.BinaryMediaTypes, mediaType)
		}
	case opRemove:
		r.BinaryMediaTypes = slices.DeleteFunc(r.BinaryMediaTypes, func(t string) bool { return t == mediaType })
	case opReplace:
		if !slices.Contains(r.BinaryMediaTypes, mediaType) {
			return badRequest("Invalid patch path /binaryMediaTypes/" + strings.ReplaceAll(mediaType, "/", "~1"))
		}
		r.BinaryMediaTypes = slices.DeleteFunc(r.BinaryMediaTypes, func(t string) bool { return t == mediaType })
		if value != "" && !slices.Contains(r.BinaryMediaTypes, value) {
			r.BinaryMediaTypes = append(r.BinaryMediaTypes, value)
		}
	default:
		return errPatchOp(opAdd, opRemove, opReplace)
	}
	if len(r.BinaryMediaTypes) == 0 {
		r.BinaryMediaTypes = nil
	}
	return nil
}

// patchEndpointType handles /endpointConfiguration/types/{OLD} (OLD is the current type
// name, or its index).
func patchEndpointType(ec *apimodel.EndpointConfiguration, op, old, value, path string) error {
	if op != opAdd && op != opRemove && op != opReplace {
		return badRequest("Invalid patch operation specified. Must be 'add'|'remove'|'replace'")
	}
	idx := slices.Index(ec.Types, old)
	if n, err := strconv.Atoi(old); err == nil && idx < 0 && n >= 0 && n < len(ec.Types) {
		idx = n
	}
	switch op {
	case opAdd:
		t := value
		if t == "" {
			t = old
		}
		if !validEndpointType(t) {
			return badRequest(msgInvalidTypes)
		}
		if !slices.Contains(ec.Types, t) {
			ec.Types = append(ec.Types, t)
		}
	case opRemove:
		if idx < 0 {
			return errPatchPath(path)
		}
		ec.Types = slices.Delete(ec.Types, idx, idx+1)
	case opReplace:
		if !validEndpointType(value) {
			return badRequest(msgInvalidTypes)
		}
		if idx < 0 {
			if !validEndpointType(old) {
				return badRequest(msgInvalidTypes)
			}
			return errPatchPath(path)
		}
		ec.Types[idx] = value
	}
	return nil
}

// patchVPCEndpointIDs handles /endpointConfiguration/vpcEndpointIds (value is one id or
// a comma-separated list) and /endpointConfiguration/vpcEndpointIds/{id}.
func patchVPCEndpointIDs(ec *apimodel.EndpointConfiguration, op, pathID, value string) error {
	var ids []string
	for _, v := range strings.Split(value, ",") {
		if v = strings.TrimSpace(v); v != "" {
			ids = append(ids, v)
		}
	}
	switch op {
	case opAdd:
		if pathID != "" {
			ids = append(ids, pathID)
		}
		if len(ids) == 0 {
			return badRequest("Invalid patch value: a VPC endpoint id is required")
		}
		ec.VpcEndpointIds = dedup(append(ec.VpcEndpointIds, ids...))
	case opRemove:
		if pathID != "" {
			ids = append(ids, pathID)
		}
		if len(ids) == 0 { // remove the whole list
			ec.VpcEndpointIds = nil
			return nil
		}
		ec.VpcEndpointIds = slices.DeleteFunc(ec.VpcEndpointIds, func(id string) bool { return slices.Contains(ids, id) })
	case opReplace:
		if pathID == "" {
			ec.VpcEndpointIds = dedup(ids)
			break
		}
		i := slices.Index(ec.VpcEndpointIds, pathID)
		if i < 0 {
			return errPatchPath("/endpointConfiguration/vpcEndpointIds/" + pathID)
		}
		ec.VpcEndpointIds = slices.Delete(ec.VpcEndpointIds, i, i+1)
		ec.VpcEndpointIds = dedup(append(ec.VpcEndpointIds, ids...))
	default:
		return errPatchOp(opAdd, opRemove, opReplace)
	}
	if len(ec.VpcEndpointIds) == 0 {
		ec.VpcEndpointIds = nil
	}
	return nil
}

// dedup returns ss without duplicates and empty strings, in first-seen order.
func dedup(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
