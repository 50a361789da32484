package validation

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Models are one API's models, compiled. A *Models is immutable and safe for concurrent
// use.
type Models struct {
	apiID   string
	schemas map[string]*jsonschema.Schema // by model name
	docs    map[string]any                // decoded schema documents, by ModelURL
}

// ModelError reports a model that does not compile.
type ModelError struct {
	Model string
	Err   error
}

func (e *ModelError) Error() string { return "model " + e.Model + ": " + e.Err.Error() }
func (e *ModelError) Unwrap() error { return e.Err }

// ErrModelsTooLarge is returned when an API's schemas exceed MaxModelsSize.
var ErrModelsTooLarge = errors.New("validation: models exceed 400 KB")

// formatNames are the "format" values the library asserts for draft 4; they are
// registered as no-ops because API Gateway does not check formats (a model with
// "format": "email" accepts any string).
var formatNames = []string{
	"date-time", "date", "time", "duration", "period", "email", "idn-email", "hostname",
	"idn-hostname", "ipv4", "ipv6", "uri", "uri-reference", "iri", "iri-reference",
	"uri-template", "json-pointer", "relative-json-pointer", "uuid", "semver",
}

// refuseLoader refuses every URL that is not one of the API's own models: a model may
// reference only its siblings, never the network or the file system.
type refuseLoader struct{ apiID string }

func (l refuseLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("reference to %s: only models of API %s can be referenced (%s)", url, l.apiID, ModelURL(l.apiID, "{name}"))
}

// CompileModels compiles all models of an API. Every model is compiled, so a broken
// model fails the deployment even when no method uses it, as AWS refuses it at
// CreateModel. A model may reference another with
// {"$ref": "https://apigateway.amazonaws.com/restapis/{apiId}/models/{name}"}. Schemas
// without "$schema" are draft 4.
func CompileModels(apiID string, models []Model) (*Models, error) {
	total := 0
	for i := range models {
		total += len(models[i].Schema)
	}
	if total > MaxModelsSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrModelsTooLarge, total)
	}
	ms := &Models{apiID: apiID, schemas: make(map[string]*jsonschema.Schema, len(models)), docs: make(map[string]any, len(models))}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	c.UseLoader(refuseLoader{apiID})
	for _, name := range formatNames {
		c.RegisterFormat(&jsonschema.Format{Name: name, Validate: func(any) error { return nil }})
	}
	names := make([]string, 0, len(models))
	for i := range models {
		m := &models[i]
		if m.Name == "" {
			return nil, &ModelError{Model: m.Name, Err: errors.New("no name")}
		}
		src := m.Schema
		if strings.TrimSpace(src) == "" {
			src = "{}"
		}
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(src))
		if err != nil {
			return nil, &ModelError{Model: m.Name, Err: fmt.Errorf("invalid JSON: %w", err)}
		}
		url := ModelURL(apiID, m.Name)
		if err := c.AddResource(url, doc); err != nil {
			return nil, &ModelError{Model: m.Name, Err: err}
		}
		ms.docs[url] = doc
		names = append(names, m.Name)
	}
	slices.Sort(names)
	for _, name := range names {
		s, err := compile(c, ModelURL(apiID, name))
		if err != nil {
			return nil, &ModelError{Model: name, Err: err}
		}
		ms.schemas[name] = s
	}
	return ms, nil
}

// compile guards against a panic in the library on a hostile schema: a bad model must
// fail its deployment, not the process.
func compile(c *jsonschema.Compiler, url string) (s *jsonschema.Schema, err error) {
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("schema compiler failed: %v", r)
		}
	}()
	return c.Compile(url)
}

// Has reports whether the API has a model of that name.
func (m *Models) Has(name string) bool {
	if m == nil {
		return false
	}
	_, ok := m.schemas[name]
	return ok
}
