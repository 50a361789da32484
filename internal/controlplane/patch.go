package controlplane

import (
	"fmt"
	"strconv"
	"strings"
)

// Patch operation names (AWS's Op enum, in the order AWS lists them in messages).
const (
	opAdd     = "add"
	opRemove  = "remove"
	opReplace = "replace"
	opMove    = "move"
	opCopy    = "copy"
	opTest    = "test"
)

const opEnum = "add, remove, move, test, replace, copy"

// patchOp is AWS's PatchOperation. path, value and from are pointers so that an absent
// member ("null" in AWS's messages) differs from an empty string.
type patchOp struct {
	Op    string  `json:"op"`
	Path  *string `json:"path"`
	Value *string `json:"value"`
	From  *string `json:"from"`
}

// path returns the op's path as AWS prints it ("null" when absent).
func (p *patchOp) path() string {
	if p.Path == nil {
		return "null"
	}
	return *p.Path
}

// value returns the op's value ("" when absent).
func (p *patchOp) value() string {
	if p.Value == nil {
		return ""
	}
	return *p.Value
}

// from returns the op's from ("" when absent).
func (p *patchOp) from() string {
	if p.From == nil {
		return ""
	}
	return *p.From
}

// decodePatch reads {"patchOperations": [...]} and validates every op against AWS's
// Op enum, reporting all bad ones in one ValidationException as AWS does. input is the
// operation's input shape name in camel case (e.g. "updateRestApiInput").
func decodePatch(c *call, input string) ([]patchOp, error) {
	var req struct {
		PatchOperations []patchOp `json:"patchOperations"`
	}
	if err := decodeBody(c, &req); err != nil {
		return nil, err
	}
	var v validationErrors
	for i, p := range req.PatchOperations {
		switch p.Op {
		case opAdd, opRemove, opReplace, opMove, opCopy, opTest, "":
		default:
			v.enum(p.Op, fmt.Sprintf("%s.patchOperations.%d.member.op", input, i+1), opEnum)
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	return req.PatchOperations, nil
}

// splitPatchPath splits a patch path into its segments, unescaping each one the
// JSON-Pointer way ("~1" is '/', "~0" is '~'). "/a/b~1c" gives ["a", "b/c"].
func splitPatchPath(path string) []string {
	path = strings.TrimPrefix(path, "/")
	if path == "" {
		return nil
	}
	parts := strings.Split(path, "/")
	for i, p := range parts {
		parts[i] = unescapePointer(p)
	}
	return parts
}

func unescapePointer(s string) string {
	if !strings.Contains(s, "~") {
		return s
	}
	return strings.NewReplacer("~1", "/", "~0", "~").Replace(s)
}

// errPatchPath is AWS's generic "Invalid patch path" BadRequestException.
func errPatchPath(path string) error { return badRequest("Invalid patch path " + path) }

// errPatchOp is AWS's "Invalid patch operation specified. Must be one of: [...]".
func errPatchOp(allowed ...string) error {
	return badRequest("Invalid patch operation specified. Must be one of: [" + strings.Join(allowed, ", ") + "]")
}

// errPatchPathFor is the wording some AWS handlers (Resource, Model, RequestValidator)
// use for an unsupported path: note AWS's double space.
func errPatchPathFor(path, op string, valid string) error {
	return badRequestf("Invalid patch path  '%s' specified for op '%s'. Must be one of: [%s]", path, op, valid)
}

// errPatchOpFor is the same handlers' wording for a path that does not support op.
func errPatchOpFor(path, op string) error {
	return badRequestf("Invalid patch path  '%s' specified for op '%s'. Please choose supported operations", path, op)
}

// allowOp returns errPatchOp(allowed...) unless op is one of allowed.
func allowOp(op string, allowed ...string) error {
	for _, a := range allowed {
		if op == a {
			return nil
		}
	}
	return errPatchOp(allowed...)
}

// patchBool parses a patch value as a boolean the lenient way AWS does: "true" in any
// case is true, anything else false.
func patchBool(v string) bool { return strings.EqualFold(strings.TrimSpace(v), "true") }

// patchInt parses a patch value as an integer.
func patchInt(field, v string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return 0, badRequestf("Invalid %s value specified: %s", field, v)
	}
	return n, nil
}

// patchStringMap applies add/replace/remove of one key of a string map. replace of an
// absent key and remove of an absent key are NotFoundExceptions with notFoundMsg.
func patchStringMap(m *map[string]string, op, key string, value *string, notFoundMsg string) error {
	switch op {
	case opAdd, opReplace:
		if op == opReplace && notFoundMsg != "" {
			if _, ok := (*m)[key]; !ok {
				return notFound(notFoundMsg)
			}
		}
		if *m == nil {
			*m = map[string]string{}
		}
		v := ""
		if value != nil {
			v = *value
		}
		(*m)[key] = v
	case opRemove:
		if _, ok := (*m)[key]; !ok && notFoundMsg != "" {
			return notFound(notFoundMsg)
		}
		delete(*m, key)
		if len(*m) == 0 {
			*m = nil
		}
	default:
		return errPatchOp(opAdd, opRemove, opReplace)
	}
	return nil
}

// patchBoolMap is patchStringMap for the string→bool maps (requestParameters,
// responseParameters of methods): the value parses leniently, absent means false.
func patchBoolMap(m *map[string]bool, op, key string, value *string, notFoundMsg string) error {
	switch op {
	case opAdd, opReplace:
		if op == opReplace && notFoundMsg != "" {
			if _, ok := (*m)[key]; !ok {
				return notFound(notFoundMsg)
			}
		}
		if *m == nil {
			*m = map[string]bool{}
		}
		(*m)[key] = value != nil && patchBool(*value)
	case opRemove:
		if _, ok := (*m)[key]; !ok && notFoundMsg != "" {
			return notFound(notFoundMsg)
		}
		delete(*m, key)
		if len(*m) == 0 {
			*m = nil
		}
	default:
		return errPatchOp(opAdd, opRemove, opReplace)
	}
	return nil
}
