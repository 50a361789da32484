package controlplane

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/awsproto"
)

const resourceIDLen = 6

var pathPartRe = regexp.MustCompile(`^(\{[a-zA-Z0-9._-]+\+?\}|[a-zA-Z0-9._-]+)$`)

func isVariablePart(pp string) bool { return strings.HasPrefix(pp, "{") && strings.HasSuffix(pp, "}") }
func isGreedyPart(pp string) bool   { return strings.HasPrefix(pp, "{") && strings.HasSuffix(pp, "+}") }

// newResourceID draws a resource id not yet used in api.
func newResourceID(api *apimodel.API) string {
	for {
		id := awsproto.NewID(resourceIDLen)
		if _, taken := api.Resources[id]; !taken && id != api.RestAPI.RootResourceID {
			return id
		}
	}
}

func joinPath(parent, part string) string {
	if parent == "/" || parent == "" {
		return "/" + part
	}
	return parent + "/" + part
}

// children returns the direct children of resource id.
func children(api *apimodel.API, id string) []*apimodel.Resource {
	var out []*apimodel.Resource
	for _, r := range api.Resources {
		if r.ParentID == id && r.ID != id {
			out = append(out, r)
		}
	}
	return out
}

// isDescendant reports whether candidate is id or lies below it.
func isDescendant(api *apimodel.API, candidate, id string) bool {
	for seen := 0; candidate != "" && seen <= len(api.Resources); seen++ {
		if candidate == id {
			return true
		}
		r := api.Resources[candidate]
		if r == nil {
			return false
		}
		candidate = r.ParentID
	}
	return false
}

// checkPlacement validates putting a resource named pathPart under parent: AWS's
// path-part syntax, greedy-parent, variable-sibling and duplicate-name rules. self is
// the resource being moved or renamed ("" when creating).
func checkPlacement(api *apimodel.API, parent *apimodel.Resource, pathPart, self string) error {
	if !pathPartRe.MatchString(pathPart) {
		return badRequest(msgPathPart)
	}
	if isGreedyPart(parent.PathPart) {
		return badRequestf(msgGreedyParent, parent.PathPart)
	}
	siblings := children(api, parent.ID)
	sort.Slice(siblings, func(i, j int) bool { return siblings[i].Path < siblings[j].Path })
	for _, sib := range siblings {
		if sib.ID == self {
			continue
		}
		if isVariablePart(pathPart) && isVariablePart(sib.PathPart) && sib.PathPart != pathPart {
			return badRequestf(msgVariableSibling, sib.PathPart)
		}
		if sib.PathPart == pathPart {
			return conflict(fmt.Sprintf(msgSiblingName, pathPart))
		}
	}
	return nil
}

// recomputePaths rewrites the path of resource id and of everything below it.
func recomputePaths(api *apimodel.API, id string) {
	r := api.Resources[id]
	if r == nil {
		return
	}
	if parent := api.Resources[r.ParentID]; parent != nil {
		r.Path = joinPath(parent.Path, r.PathPart)
	}
	for _, ch := range children(api, id) {
		recomputePaths(api, ch.ID)
	}
}

func (s *Server) createResource(c *call) (int, any, error) {
	apiID, parentID := c.r.PathValue("restapi_id"), c.r.PathValue("parent_id")
	var in struct {
		PathPart *string `json:"pathPart"`
	}
	if err := decodeBody(c, &in); err != nil {
		return 0, nil, err
	}
	if in.PathPart == nil {
		var v validationErrors
		v.add("Value null at 'createResourceInput.pathPart' failed to satisfy constraint: Member must not be null")
		return 0, nil, v.err()
	}
	var created apimodel.Resource
	_, err := s.modifyAPI(c, apiID, nil, func(api *apimodel.API) error {
		parent := api.Resources[parentID]
		if parent == nil {
			return notFound(msgResourceNotFound)
		}
		if err := checkPlacement(api, parent, *in.PathPart, ""); err != nil {
			return err
		}
		id := newResourceID(api)
		r := &apimodel.Resource{ID: id, ParentID: parent.ID, PathPart: *in.PathPart, Path: joinPath(parent.Path, *in.PathPart)}
		api.Resources[id] = r
		created = *r
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, toResourceWire(&created, false), nil
}

// embeds reports whether the request's embed query parameter lists name.
func embeds(c *call, name string) bool {
	for _, v := range c.r.URL.Query()["embed"] {
		for _, e := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(e), name) {
				return true
			}
		}
	}
	return false
}

func (s *Server) getResource(c *call) (int, any, error) {
	api, err := s.loadAPI(c, c.r.PathValue("restapi_id"), notFound(msgResourceNotFound))
	if err != nil {
		return 0, nil, err
	}
	r := api.Resources[c.r.PathValue("resource_id")]
	if r == nil {
		return 0, nil, notFound(msgResourceNotFound)
	}
	return http.StatusOK, toResourceWire(r, embeds(c, "methods")), nil
}

func resourceSortKey(r *apimodel.Resource) string { return r.Path + "\x00" + r.ID }

func (s *Server) getResources(c *call) (int, any, error) {
	api, err := s.loadAPI(c, c.r.PathValue("restapi_id"), nil)
	if err != nil {
		return 0, nil, err
	}
	all := make([]*apimodel.Resource, 0, len(api.Resources))
	for _, r := range api.Resources {
		all = append(all, r)
	}
	sort.Slice(all, func(i, j int) bool { return resourceSortKey(all[i]) < resourceSortKey(all[j]) })
	page, pos, err := paginate(c, all, resourceSortKey)
	if err != nil {
		return 0, nil, err
	}
	embed := embeds(c, "methods")
	out := list[resourceWire]{Position: pos, Items: make([]resourceWire, 0, len(page))}
	for _, r := range page {
		out.Items = append(out.Items, toResourceWire(r, embed))
	}
	return http.StatusOK, out, nil
}

func (s *Server) updateResource(c *call) (int, any, error) {
	apiID, id := c.r.PathValue("restapi_id"), c.r.PathValue("resource_id")
	ops, err := decodePatch(c, "updateResourceInput")
	if err != nil {
		return 0, nil, err
	}
	var updated apimodel.Resource
	_, err = s.modifyAPI(c, apiID, notFound(msgResourceNotFound), func(api *apimodel.API) error {
		r := api.Resources[id]
		if r == nil {
			return notFound(msgResourceNotFound)
		}
		for i := range ops {
			p := &ops[i]
			path := p.path()
			if path != "/pathPart" && path != "/parentId" {
				return errPatchPathFor(path, p.Op, "/parentId, /pathPart")
			}
			if p.Op != opReplace {
				return errPatchOpFor(path, p.Op)
			}
			if r.ID == api.RestAPI.RootResourceID || r.ParentID == "" {
				return badRequest("Root resource cannot update its " + strings.TrimPrefix(path, "/") + ".")
			}
			switch path {
			case "/parentId":
				parent := api.Resources[p.value()]
				if parent == nil {
					return notFound(msgResourceNotFound)
				}
				if isDescendant(api, parent.ID, r.ID) {
					return badRequest(msgCyclical)
				}
				if err := checkPlacement(api, parent, r.PathPart, r.ID); err != nil {
					return err
				}
				r.ParentID = parent.ID
			case "/pathPart":
				if err := checkPlacement(api, api.Resources[r.ParentID], p.value(), r.ID); err != nil {
					return err
				}
				r.PathPart = p.value()
			}
			recomputePaths(api, r.ID)
		}
		updated = *r
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toResourceWire(&updated, false), nil
}

func (s *Server) deleteResource(c *call) (int, any, error) {
	apiID, id := c.r.PathValue("restapi_id"), c.r.PathValue("resource_id")
	_, err := s.modifyAPI(c, apiID, notFound(msgResourceNotFound), func(api *apimodel.API) error {
		r := api.Resources[id]
		if r == nil {
			return notFound(msgResourceNotFound)
		}
		if r.ID == api.RestAPI.RootResourceID || r.ParentID == "" {
			return badRequest("Cannot delete the root resource")
		}
		doomed := []string{id}
		for i := 0; i < len(doomed); i++ {
			for _, ch := range children(api, doomed[i]) {
				if !slices.Contains(doomed, ch.ID) {
					doomed = append(doomed, ch.ID)
				}
			}
		}
		for _, d := range doomed {
			delete(api.Resources, d)
		}
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, nil, nil
}
