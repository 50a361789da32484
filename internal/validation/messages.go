package validation

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// AWS validates models with the java-json-tools (fge) json-schema-validator and puts its
// report in $context.error.validationErrorString as a Java list: "[msg1, msg2]". This
// file renders the library's errors as that validator's messages, in its order:
//
//   - At one instance location, messages come in keyword order (fge keeps a sorted map
//     of keyword validators; draft 4's exclusiveMinimum/exclusiveMaximum belong to
//     "minimum"/"maximum").
//   - fge validates a node's keywords, then, only if the whole report is still clean,
//     its children: object members in the order the request body has them (Jackson
//     keeps it; AWS's answer for {"type": "WOW", ..., "shares": 10000000} lists the
//     enum failure of "type" before the maximum failure of "shares", so its validator
//     does not sort members as later fge releases do), array items by index. So the
//     first failing node stops all descent, but its later siblings (and its
//     ancestors' later siblings) still have their own keywords checked.
//   - Composite keywords (allOf, anyOf, oneOf, not) report one message at their node.
//   - Values are printed as compact JSON (Jackson), numbers as written.

// fgeMessage is one rendered message at one instance location.
type fgeMessage struct {
	loc     []string
	keyword string
	text    string
}

// validationErrorString renders err for $context.error.validationErrorString.
func (m *Models) validationErrorString(body []byte, instance any, err *jsonschema.ValidationError) string {
	var msgs []fgeMessage
	m.collect(instance, err, &msgs)
	root := &msgNode{}
	for i := range msgs {
		n := root
		for _, tok := range msgs[i].loc {
			n = n.child(tok)
		}
		n.msgs = append(n.msgs, msgs[i])
	}
	var out []string
	root.walk(instance, "", memberOrder(body), &out)
	return "[" + strings.Join(out, ", ") + "]"
}

type msgNode struct {
	msgs     []fgeMessage
	children map[string]*msgNode
}

func (n *msgNode) child(tok string) *msgNode {
	if n.children == nil {
		n.children = map[string]*msgNode{}
	}
	c := n.children[tok]
	if c == nil {
		c = &msgNode{}
		n.children[tok] = c
	}
	return c
}

// walk emits the messages of n, then, if nothing failed so far, of its children.
// path identifies n in order (tokens joined by NUL).
func (n *msgNode) walk(val any, path string, order map[string][]string, out *[]string) {
	slices.SortStableFunc(n.msgs, func(a, b fgeMessage) int { return strings.Compare(a.keyword, b.keyword) })
	for _, msg := range n.msgs {
		*out = append(*out, msg.text)
	}
	if len(*out) > 0 || len(n.children) == 0 {
		return
	}
	if arr, ok := val.([]any); ok {
		keys := make([]string, 0, len(n.children))
		for k := range n.children {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int {
			x, _ := strconv.Atoi(a)
			y, _ := strconv.Atoi(b)
			return x - y
		})
		for _, k := range keys {
			var v any
			if i, err := strconv.Atoi(k); err == nil && i >= 0 && i < len(arr) {
				v = arr[i]
			}
			n.children[k].walk(v, path+"\x00"+k, order, out)
		}
		return
	}
	obj, _ := val.(map[string]any)
	seen := make(map[string]bool, len(n.children))
	visit := func(k string) {
		if c := n.children[k]; c != nil && !seen[k] {
			seen[k] = true
			c.walk(obj[k], path+"\x00"+k, order, out)
		}
	}
	for _, k := range order[path] {
		visit(k)
	}
	rest := make([]string, 0, len(n.children))
	for k := range n.children {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	for _, k := range rest {
		visit(k)
	}
}

// memberOrder records, for every object in a JSON document, its member names in
// document order (first occurrence), keyed by the object's path (tokens joined by NUL,
// "" for the root).
func memberOrder(body []byte) map[string][]string {
	order := map[string][]string{}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var walk func(path string) bool
	walk = func(path string) bool {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		d, ok := tok.(json.Delim)
		if !ok {
			return true
		}
		switch d {
		case '{':
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return false
				}
				k, _ := kt.(string)
				if !seen[k] {
					seen[k] = true
					order[path] = append(order[path], k)
				}
				if !walk(path + "\x00" + k) {
					return false
				}
			}
		case '[':
			for i := 0; dec.More(); i++ {
				if !walk(path + "\x00" + strconv.Itoa(i)) {
					return false
				}
			}
		}
		_, err = dec.Token() // the closing delimiter
		return err == nil
	}
	walk("")
	return order
}

// collect flattens the library's error tree into fge messages.
func (m *Models) collect(instance any, e *jsonschema.ValidationError, out *[]fgeMessage) {
	add := func(keyword, text string) {
		*out = append(*out, fgeMessage{loc: e.InstanceLocation, keyword: keyword, text: text})
	}
	val := valueAt(instance, e.InstanceLocation)
	switch k := e.ErrorKind.(type) {
	case *kind.Schema, *kind.Group, *kind.Reference:
		for _, c := range e.Causes {
			m.collect(instance, c, out)
		}
	case *kind.Format:
		// API Gateway does not assert formats.
	case *kind.Type:
		want := slices.Clone(k.Want)
		slices.Sort(want)
		add("type", fmt.Sprintf("instance type (%s) does not match any allowed primitive type (allowed: %s)", fgeType(val), jsonText(want)))
	case *kind.Enum:
		add("enum", fmt.Sprintf("instance value (%s) not found in enum (possible values: %s)", jsonText(val), jsonText(k.Want)))
	case *kind.Required:
		missing := slices.Clone(k.Missing)
		slices.Sort(missing)
		add("required", fmt.Sprintf("object has missing required properties (%s)", jsonText(missing)))
	case *kind.AdditionalProperties:
		props := slices.Clone(k.Properties)
		slices.Sort(props)
		add("additionalProperties", fmt.Sprintf("object instance has properties which are not allowed by the schema: %s", jsonText(props)))
	case *kind.AdditionalItems:
		n := 0
		if arr, ok := val.([]any); ok {
			n = len(arr)
		}
		add("additionalItems", fmt.Sprintf("schema only allows %d elements in array but instance has %d elements", n-k.Count, n))
	case *kind.MinItems:
		add("minItems", fmt.Sprintf("array is too short: must have at least %d elements but instance has %d elements", k.Want, k.Got))
	case *kind.MaxItems:
		add("maxItems", fmt.Sprintf("array is too long: must have at most %d elements but instance has %d elements", k.Want, k.Got))
	case *kind.UniqueItems:
		add("uniqueItems", "array must not contain duplicate elements")
	case *kind.MinProperties:
		add("minProperties", fmt.Sprintf("object has too few properties (found %d but schema requires at least %d)", k.Got, k.Want))
	case *kind.MaxProperties:
		add("maxProperties", fmt.Sprintf("object has too many properties (found %d but schema requires at most %d)", k.Got, k.Want))
	case *kind.MinLength:
		add("minLength", fmt.Sprintf("string \"%s\" is too short (length: %d, required minimum: %d)", fgeString(val), k.Got, k.Want))
	case *kind.MaxLength:
		add("maxLength", fmt.Sprintf("string \"%s\" is too long (length: %d, maximum allowed: %d)", fgeString(val), k.Got, k.Want))
	case *kind.Pattern:
		add("pattern", fmt.Sprintf("ECMA 262 regex \"%s\" does not match input string \"%s\"", k.Want, k.Got))
	case *kind.Minimum:
		add("minimum", fmt.Sprintf("numeric instance is lower than the required minimum (minimum: %s, found: %s)", m.schemaNum(e.SchemaURL, "minimum", k.Want), numText(val, k.Got)))
	case *kind.ExclusiveMinimum:
		add("minimum", fmt.Sprintf("numeric instance is not strictly greater than the required minimum %s", m.schemaNum(e.SchemaURL, "minimum", k.Want)))
	case *kind.Maximum:
		add("maximum", fmt.Sprintf("numeric instance is greater than the required maximum (maximum: %s, found: %s)", m.schemaNum(e.SchemaURL, "maximum", k.Want), numText(val, k.Got)))
	case *kind.ExclusiveMaximum:
		add("maximum", fmt.Sprintf("numeric instance is not strictly lower than the required maximum %s", m.schemaNum(e.SchemaURL, "maximum", k.Want)))
	case *kind.MultipleOf:
		add("multipleOf", fmt.Sprintf("remainder of division is not zero (%s / %s)", numText(val, k.Got), m.schemaNum(e.SchemaURL, "multipleOf", k.Want)))
	case *kind.Dependency:
		missing := slices.Clone(k.Missing)
		slices.Sort(missing)
		var requires any = k.Missing
		if deps, ok := m.schemaAt(e.SchemaURL).(map[string]any)["dependencies"].(map[string]any); ok {
			requires = deps[k.Prop]
		}
		add("dependencies", fmt.Sprintf("property \"%s\" of object has missing property dependencies (schema requires %s; missing: %s)", k.Prop, jsonText(requires), jsonText(missing)))
	case *kind.AllOf:
		total := m.schemaArrayLen(e.SchemaURL, "allOf")
		add("allOf", fmt.Sprintf("instance failed to match all required schemas (matched only %d out of %d)", max(total-len(e.Causes), 0), total))
	case *kind.AnyOf:
		add("anyOf", fmt.Sprintf("instance failed to match at least one required schema among %d", m.schemaArrayLen(e.SchemaURL, "anyOf")))
	case *kind.OneOf:
		add("oneOf", fmt.Sprintf("instance failed to match exactly one schema (matched %d out of %d)", len(k.Subschemas), m.schemaArrayLen(e.SchemaURL, "oneOf")))
	case *kind.Not:
		add("not", "instance matched a schema which it should not have")
	case *kind.FalseSchema:
		add("", "instance matched a schema which it should not have")
	default:
		kw := ""
		if p := e.ErrorKind.KeywordPath(); len(p) > 0 {
			kw = p[0]
		}
		add(kw, e.ErrorKind.LocalizedString(message.NewPrinter(language.English)))
	}
}

// valueAt returns the instance value at a location ("" tokens are object members).
func valueAt(v any, loc []string) any {
	for _, tok := range loc {
		switch x := v.(type) {
		case map[string]any:
			v = x[tok]
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// schemaAt returns the raw schema document node at an absolute schema location
// ("https://…/models/Pet#/properties/age").
func (m *Models) schemaAt(loc string) any {
	base, frag, _ := strings.Cut(loc, "#")
	v := m.docs[base]
	if frag == "" {
		return v
	}
	if f, err := url.PathUnescape(frag); err == nil {
		frag = f
	}
	for _, tok := range strings.Split(strings.TrimPrefix(frag, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		v = valueAt(v, []string{tok})
	}
	return v
}

func (m *Models) schemaArrayLen(loc, keyword string) int {
	obj, _ := m.schemaAt(loc).(map[string]any)
	arr, _ := obj[keyword].([]any)
	return len(arr)
}

// schemaNum prints a schema's numeric keyword as written, falling back to the value the
// library parsed.
func (m *Models) schemaNum(loc, keyword string, parsed *big.Rat) string {
	obj, _ := m.schemaAt(loc).(map[string]any)
	if n, ok := obj[keyword].(json.Number); ok {
		return n.String()
	}
	return ratText(parsed)
}

func numText(v any, parsed *big.Rat) string {
	if n, ok := v.(json.Number); ok {
		return n.String()
	}
	return ratText(parsed)
}

func ratText(r *big.Rat) string {
	if r == nil {
		return "null"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// fgeType names a JSON value's type as fge does: numbers without a fraction or
// exponent are "integer".
func fgeType(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case json.Number:
		if strings.ContainsAny(string(x), ".eE") {
			return "number"
		}
		return "integer"
	}
	return "number"
}

func fgeString(v any) string {
	s, _ := v.(string)
	return s
}

// jsonText is compact JSON without HTML escaping, as Jackson prints it.
func jsonText(v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}
