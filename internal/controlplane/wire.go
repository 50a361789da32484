package controlplane

import (
	"maps"
	"strings"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/gatewayresponse"
)

// This file shapes stored documents into AWS's response shapes. Wrappers embed the
// stored type and shadow the members AWS renders differently (the shallower JSON field
// wins in encoding/json).

// list is the shape of every paginated Get*s response: AWS names the list "item".
type list[T any] struct {
	Position string `json:"position,omitempty"`
	Items    []T    `json:"item"`
}

// restAPIWire is a RestApi as AWS returns it.
type restAPIWire struct {
	*apimodel.RestApi
	// Policy is the stored policy escaped the way API Gateway returns it.
	Policy string `json:"policy,omitempty"`
	// Tags is omitted when empty, except in UpdateRestApi's response, which always has it.
	Tags any `json:"tags,omitempty"`
}

func toRestAPIWire(r *apimodel.RestApi, alwaysTags bool) restAPIWire {
	cp := *r
	w := restAPIWire{RestApi: &cp, Policy: escapePolicy(r.Policy)}
	switch {
	case len(r.Tags) > 0:
		w.Tags = r.Tags
	case alwaysTags:
		w.Tags = map[string]string{}
	}
	return w
}

// escapePolicy renders a stored policy document the way API Gateway returns it:
// JSON-string-escaped once more, with '/' escaped too ({\"Version\":...\/*}). Terraform
// and other clients unescape it.
func escapePolicy(p string) string {
	if p == "" {
		return ""
	}
	b, err := marshal(p)
	if err != nil {
		return p
	}
	s := string(b[1 : len(b)-1])
	return strings.ReplaceAll(s, "/", `\/`)
}

// resourceWire is a Resource; ResourceMethods holds full methods with embed=methods and
// empty objects ({"GET":{}}) otherwise, as AWS does.
type resourceWire struct {
	ID              string         `json:"id"`
	ParentID        string         `json:"parentId,omitempty"`
	PathPart        string         `json:"pathPart,omitempty"`
	Path            string         `json:"path"`
	ResourceMethods map[string]any `json:"resourceMethods,omitempty"`
}

func toResourceWire(r *apimodel.Resource, embedMethods bool) resourceWire {
	w := resourceWire{ID: r.ID, ParentID: r.ParentID, PathPart: r.PathPart, Path: r.Path}
	if len(r.ResourceMethods) > 0 {
		w.ResourceMethods = make(map[string]any, len(r.ResourceMethods))
		for verb, m := range r.ResourceMethods {
			if embedMethods {
				w.ResourceMethods[verb] = toMethodWire(m)
			} else {
				w.ResourceMethods[verb] = struct{}{}
			}
		}
	}
	return w
}

// methodWire is a Method with its integration in AWS's shape.
type methodWire struct {
	*apimodel.Method
	MethodIntegration *integrationWire `json:"methodIntegration,omitempty"`
}

func toMethodWire(m *apimodel.Method) methodWire {
	cp := *m
	w := methodWire{Method: &cp}
	if m.MethodIntegration != nil {
		iw := toIntegrationWire(m.MethodIntegration)
		w.MethodIntegration = &iw
	}
	return w
}

// integrationWire is an Integration; cacheKeyParameters is always a list.
type integrationWire struct {
	*apimodel.Integration
	CacheKeyParameters []string `json:"cacheKeyParameters"`
}

func toIntegrationWire(in *apimodel.Integration) integrationWire {
	cp := *in
	keys := in.CacheKeyParameters
	if keys == nil {
		keys = []string{}
	}
	return integrationWire{Integration: &cp, CacheKeyParameters: keys}
}

// methodResponseWire is a MethodResponse with both maps always present, as
// PutMethodResponse and GetMethodResponse return it.
type methodResponseWire struct {
	StatusCode         string            `json:"statusCode"`
	ResponseParameters map[string]bool   `json:"responseParameters"`
	ResponseModels     map[string]string `json:"responseModels"`
}

func toMethodResponseWire(r *apimodel.MethodResponse) methodResponseWire {
	w := methodResponseWire{StatusCode: r.StatusCode, ResponseParameters: r.ResponseParameters,
		ResponseModels: r.ResponseModels}
	if w.ResponseParameters == nil {
		w.ResponseParameters = map[string]bool{}
	}
	if w.ResponseModels == nil {
		w.ResponseModels = map[string]string{}
	}
	return w
}

// stageWire is a Stage as AWS returns it: without gatehouse's owner fields, and with
// methodSettings and cacheClusterStatus always present.
type stageWire struct {
	*apimodel.Stage
	Account string `json:"account,omitempty"`
	APIID   string `json:"apiId,omitempty"`
	// AuthorizerCacheGeneration hides gatehouse's flush counter (always zero here).
	AuthorizerCacheGeneration uint64                             `json:"authorizerCacheGeneration,omitempty"`
	MethodSettings            map[string]*apimodel.MethodSetting `json:"methodSettings"`
	CacheClusterStatus        string                             `json:"cacheClusterStatus"`
}

func toStageWire(st *apimodel.Stage) stageWire {
	cp := *st
	w := stageWire{Stage: &cp, MethodSettings: st.MethodSettings, CacheClusterStatus: st.CacheClusterStatus}
	if w.MethodSettings == nil {
		w.MethodSettings = map[string]*apimodel.MethodSetting{}
	}
	if w.CacheClusterStatus == "" {
		w.CacheClusterStatus = "NOT_AVAILABLE"
	}
	return w
}

// deploymentWire renders a deployment; apiSummary only with embed=apisummary.
func deploymentWire(d *apimodel.DeploymentMeta, summary bool) apimodel.DeploymentMeta {
	out := *d
	if !summary {
		out.APISummary = nil
	}
	return out
}

// gatewayResponseWire is a GatewayResponse with both maps always present.
type gatewayResponseWire struct {
	ResponseType       string            `json:"responseType"`
	StatusCode         string            `json:"statusCode,omitempty"`
	ResponseParameters map[string]string `json:"responseParameters"`
	ResponseTemplates  map[string]string `json:"responseTemplates"`
	DefaultResponse    bool              `json:"defaultResponse"`
}

// defaultTemplates is the body template of every gateway response AWS has not been
// told otherwise about.
func defaultTemplates() map[string]string {
	return map[string]string{"application/json": gatewayresponse.DefaultTemplate}
}

// effectiveGatewayResponse renders type t of api: the user's response if put (with
// AWS's defaults filled in), else the built-in default, inheriting a user's
// DEFAULT_4XX/DEFAULT_5XX the way AWS does.
func effectiveGatewayResponse(api *apimodel.API, t gatewayresponse.Type) gatewayResponseWire {
	def, _ := gatewayresponse.Lookup(t)
	w := gatewayResponseWire{ResponseType: string(t), DefaultResponse: true}
	if def.Status != 0 {
		w.StatusCode = itoa(def.Status)
	}
	if gr := api.GatewayResponses[string(t)]; gr != nil {
		w.DefaultResponse = false
		if gr.StatusCode != "" {
			w.StatusCode = gr.StatusCode
		}
		w.ResponseParameters = maps.Clone(gr.ResponseParameters)
		w.ResponseTemplates = maps.Clone(gr.ResponseTemplates)
	} else if parent := inheritedParent(api, t, def.Status); parent != nil {
		if parent.StatusCode != "" {
			w.StatusCode = parent.StatusCode
		}
		w.ResponseParameters = maps.Clone(parent.ResponseParameters)
		w.ResponseTemplates = maps.Clone(parent.ResponseTemplates)
	}
	if w.ResponseParameters == nil {
		w.ResponseParameters = map[string]string{}
	}
	if len(w.ResponseTemplates) == 0 {
		w.ResponseTemplates = defaultTemplates()
	}
	return w
}

// inheritedParent returns the user's DEFAULT_4XX or DEFAULT_5XX that an unset type
// with default status inherits from, or nil.
func inheritedParent(api *apimodel.API, t gatewayresponse.Type, status int) *apimodel.GatewayResponse {
	if t == gatewayresponse.Default4XX || t == gatewayresponse.Default5XX {
		return nil
	}
	switch {
	case status >= 400 && status < 500:
		return api.GatewayResponses[string(gatewayresponse.Default4XX)]
	case status >= 500:
		return api.GatewayResponses[string(gatewayresponse.Default5XX)]
	}
	return nil
}
