package controlplane

import (
	"maps"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"gatehouse/internal/apimodel"
)

const (
	maxTags        = 50
	maxTagKeyLen   = 128
	maxTagValueLen = 256
)

// taggableARNRe matches the ARNs TagResource accepts here:
// arn:aws:apigateway:{region}::/restapis/{id} and .../restapis/{id}/stages/{name}.
var taggableARNRe = regexp.MustCompile(`^arn:aws[a-zA-Z-]*:apigateway:([a-z0-9-]+)::/restapis/([^/]+)(?:/stages/([^/]+))?$`)

// validateTags applies AWS's tag limits.
func validateTags(tags map[string]string) error {
	if len(tags) > maxTags {
		return badRequestf("Too many tags: a resource can have at most %d tags", maxTags)
	}
	for _, k := range sortedKeys(tags) {
		if k == "" || utf8.RuneCountInString(k) > maxTagKeyLen {
			return badRequestf("Tag keys must be between 1 and %d characters long", maxTagKeyLen)
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return badRequest("Tag keys starting with 'aws:' are reserved for AWS use")
		}
		if utf8.RuneCountInString(tags[k]) > maxTagValueLen {
			return badRequestf("Tag values must be at most %d characters long", maxTagValueLen)
		}
	}
	return nil
}

// taggable is the resource a tag ARN names.
type taggable struct {
	apiID, stage string
}

// parseTagARN resolves a resource ARN of this region; an ARN of another region names
// nothing here.
func (s *Server) parseTagARN(c *call) (taggable, error) {
	arn := c.r.PathValue("resource_arn")
	m := taggableARNRe.FindStringSubmatch(arn)
	if m == nil {
		return taggable{}, badRequest("Invalid resource ARN specified: " + arn)
	}
	if m[1] != s.region {
		return taggable{}, apiNotFound(c.caller.Account, m[2])
	}
	return taggable{apiID: m[2], stage: m[3]}, nil
}

// modifyTags applies fn to the tags of the resource the request's ARN names.
func (s *Server) modifyTags(c *call, fn func(tags map[string]string) (map[string]string, error)) (map[string]string, error) {
	t, err := s.parseTagARN(c)
	if err != nil {
		return nil, err
	}
	if t.stage == "" {
		api, err := s.modifyAPI(c, t.apiID, nil, func(api *apimodel.API) error {
			tags, err := fn(clone(api.RestAPI.Tags))
			api.RestAPI.Tags = tags
			return err
		})
		if err != nil {
			return nil, err
		}
		return api.RestAPI.Tags, nil
	}
	if _, err := s.loadAPI(c, t.apiID, nil); err != nil {
		return nil, err
	}
	st, err := s.modifyStage(c, t.apiID, t.stage, func(st *apimodel.Stage) error {
		tags, err := fn(clone(st.Tags))
		st.Tags = tags
		return err
	})
	if err != nil {
		return nil, err
	}
	return st.Tags, nil
}

// clone copies m; the copy is never nil.
func clone(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return maps.Clone(m)
}

func (s *Server) tagResource(c *call) (int, any, error) {
	var in struct {
		Tags map[string]string `json:"tags"`
	}
	if err := decodeBody(c, &in); err != nil {
		return 0, nil, err
	}
	if in.Tags == nil {
		var v validationErrors
		v.add("Value null at 'tagResourceInput.tags' failed to satisfy constraint: Member must not be null")
		return 0, nil, v.err()
	}
	_, err := s.modifyTags(c, func(tags map[string]string) (map[string]string, error) {
		for k, v := range in.Tags {
			tags[k] = v
		}
		return tags, validateTags(tags)
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

func (s *Server) untagResource(c *call) (int, any, error) {
	keys := c.r.URL.Query()["tagKeys"]
	_, err := s.modifyTags(c, func(tags map[string]string) (map[string]string, error) {
		for _, k := range keys {
			delete(tags, k)
		}
		if len(tags) == 0 {
			return nil, nil
		}
		return tags, nil
	})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusNoContent, nil, nil
}

func (s *Server) getTags(c *call) (int, any, error) {
	t, err := s.parseTagARN(c)
	if err != nil {
		return 0, nil, err
	}
	api, err := s.loadAPI(c, t.apiID, nil)
	if err != nil {
		return 0, nil, err
	}
	tags := api.RestAPI.Tags
	if t.stage != "" {
		st, err := s.loadStage(c, t.apiID, t.stage)
		if err != nil {
			return 0, nil, err
		}
		tags = st.Tags
	}
	if tags == nil {
		tags = map[string]string{}
	}
	return http.StatusOK, struct {
		Tags map[string]string `json:"tags"`
	}{tags}, nil
}
