package config

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// MaxFileSize is the largest topology file Parse and Load accept, in bytes.
const MaxFileSize = 1 << 20

const (
	// maxNodes bounds the YAML values the decoder visits, counting a value
	// again each time an alias uses it, so anchors cannot multiply the work.
	// A file of MaxFileSize bytes without aliases has fewer values of any use.
	maxNodes = 1 << 18
	// maxPolicyBytes stops converting a YAML policy to JSON early; the
	// 20,480-character quota is checked by Validate.
	maxPolicyBytes = 4 * maxPolicyChars
	// maxPolicyDepth bounds the nesting of a policy given as YAML.
	maxPolicyDepth = 64
)

// defaultEndpointPort is an endpoint's TLS port when the file gives none.
const defaultEndpointPort = 8443

// Load reads and parses the topology file at path. Errors from the file's
// contents are *FieldError values carrying the file name.
func Load(path string) (*Topology, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	t, err := Parse(data)
	if err != nil {
		return nil, withFile(err, path)
	}
	return t, nil
}

// withFile sets File on every FieldError in err.
func withFile(err error, path string) error {
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else {
		list = []error{err}
	}
	for _, e := range list {
		if fe, ok := e.(*FieldError); ok {
			fe.File = path
		}
	}
	return err
}

// Parse decodes a topology from YAML, fills in defaults for absent keys and
// validates the result. It reports every problem it finds, each as a
// *FieldError naming the key path, joined with errors.Join.
func Parse(data []byte) (*Topology, error) {
	if len(data) > MaxFileSize {
		return nil, errors.Join(&FieldError{Msg: fmt.Sprintf("topology is larger than %d bytes", MaxFileSize)})
	}
	root, ferr := parseYAML(data)
	if ferr != nil {
		return nil, errors.Join(ferr)
	}
	d := &decoder{lines: map[string]int{}, failed: map[string]bool{}, budget: maxNodes}
	t, ingressSet := d.topology(root)
	if d.exhausted {
		// Everything after the budget ran out is missing: validation would
		// only add noise.
		return nil, d.errs.err()
	}
	applyDefaults(t, ingressSet)

	errs := d.errs
	for _, e := range t.validate() {
		if !d.failedUnder(e.Path) {
			errs.list = append(errs.list, e)
		}
	}
	if len(errs.list) == 0 {
		return t, nil
	}
	for _, e := range errs.list {
		if e.Line == 0 {
			e.Line = d.lineOf(e.Path)
		}
	}
	// Report in file order; problems with absent keys (line 0) first.
	slices.SortStableFunc(errs.list, func(a, b *FieldError) int { return cmp.Compare(a.Line, b.Line) })
	return nil, errs.err()
}

// parseYAML parses exactly one YAML document into a node tree. Aliases stay
// unexpanded in the tree.
func parseYAML(data []byte) (*yaml.Node, *FieldError) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &FieldError{Msg: "topology is empty"}
		}
		return nil, &FieldError{Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		line := extra.Line
		if err != nil {
			return nil, &FieldError{Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
		}
		return nil, &FieldError{Line: line, Msg: "more than one YAML document; a topology is one document"}
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		return doc.Content[0], nil
	}
	return &doc, nil
}

// applyDefaults fills defaults that depend on other parts of the topology.
// Defaults of single fields are set by the decoder before a value is read.
func applyDefaults(t *Topology, ingressSet []bool) {
	applyDNSDefaults(t)
	for i := range t.VPCEndpoints {
		e := &t.VPCEndpoints[i]
		if ingressSet[i] {
			continue
		}
		if v, ok := t.VPC(e.VPC); ok && v.CIDR.IsValid() {
			e.Ingress = []netip.Prefix{v.CIDR}
		}
	}
}

// decoder turns a YAML node tree into a Topology, strictly: unknown keys,
// duplicate keys and values of the wrong kind are errors at their path.
type decoder struct {
	errs fieldErrors
	// lines maps key paths to the line they were written on.
	lines map[string]int
	// failed holds the paths whose values could not be decoded; validation
	// errors at or below them are dropped as noise.
	failed map[string]bool
	// budget counts down the nodes still allowed to be visited.
	budget    int
	exhausted bool
}

// fail reports that the value at path could not be decoded.
func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	d.report(n, path, format, args...)
	d.failed[path] = true
}

// report reports a problem with a key; the value at path is unaffected.
func (d *decoder) report(n *yaml.Node, path, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	d.errs.list = append(d.errs.list, &FieldError{Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// failedUnder reports whether path is, or is inside, a value that failed to
// decode.
func (d *decoder) failedUnder(path string) bool {
	for {
		if d.failed[path] {
			return true
		}
		if path == "" {
			return false
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			path = ""
		} else {
			path = path[:i]
		}
	}
}

// lineOf returns the line of path or of its closest ancestor that has one.
func (d *decoder) lineOf(path string) int {
	for path != "" {
		if l, ok := d.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

// visit resolves aliases and charges n against the node budget. It returns
// nil when the budget is exhausted.
func (d *decoder) visit(n *yaml.Node, path string) *yaml.Node {
	if d.exhausted {
		return nil
	}
	if d.budget--; d.budget < 0 {
		d.exhausted = true
		d.fail(n, path, "too many values (more than %d, counting an alias each time it is used)", maxNodes)
		return nil
	}
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names the kind of a node for error messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!int":
			return "an integer"
		case "!!float":
			return "a number"
		case "!!bool":
			return "a boolean"
		case "!!null":
			return "null"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

// fieldDecoder is one known key of a mapping and how to decode its value.
type fieldDecoder struct {
	key    string
	decode func(v *yaml.Node, path string)
}

// object decodes a mapping whose keys must all be in fields. A null value
// counts as an empty mapping.
func (d *decoder) object(n *yaml.Node, path string, fields []fieldDecoder) {
	if n = d.visit(n, path); n == nil || isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping, got %s", describe(n))
		return
	}
	if tag := n.ShortTag(); tag != "!!map" {
		d.fail(n, path, "unsupported tag %s", tag)
		return
	}
	seen := make(map[string]bool, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k = d.visit(k, path); k == nil {
			return
		}
		if k.Kind != yaml.ScalarNode {
			d.report(k, path, "keys must be strings, got %s", describe(k))
			continue
		}
		p := field(path, k.Value)
		if k.ShortTag() == "!!merge" {
			d.report(k, p, "YAML merge keys are not supported")
			continue
		}
		if seen[k.Value] {
			d.report(k, p, "duplicate key")
			continue
		}
		seen[k.Value] = true
		f, ok := lookupField(fields, k.Value)
		if !ok {
			d.report(k, p, "unknown key%s", suggest(fields, k.Value))
			continue
		}
		d.lines[p] = k.Line
		f.decode(v, p)
	}
}

func lookupField(fields []fieldDecoder, key string) (fieldDecoder, bool) {
	for _, f := range fields {
		if f.key == key {
			return f, true
		}
	}
	return fieldDecoder{}, false
}

// suggest proposes a known key that differs from key only in case, or
// lists the known keys.
func suggest(fields []fieldDecoder, key string) string {
	keys := make([]string, len(fields))
	for i, f := range fields {
		if strings.EqualFold(f.key, key) {
			return fmt.Sprintf(" (did you mean %q?)", f.key)
		}
		keys[i] = f.key
	}
	return " (known keys: " + strings.Join(keys, ", ") + ")"
}

// list decodes a sequence, calling each for every item. It reports whether
// the value was a list (null is not).
func (d *decoder) list(n *yaml.Node, path string, each func(item *yaml.Node, path string)) bool {
	if n = d.visit(n, path); n == nil || isNull(n) {
		return false
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "want a list, got %s", describe(n))
		return false
	}
	if tag := n.ShortTag(); tag != "!!seq" {
		d.fail(n, path, "unsupported tag %s", tag)
		return false
	}
	for i, item := range n.Content {
		if d.exhausted {
			break
		}
		p := index(path, i)
		d.lines[p] = item.Line
		each(item, p)
	}
	return true
}

// scalar resolves n to a scalar with a standard tag. It returns nil, and
// null=true without an error, for null.
func (d *decoder) scalar(n *yaml.Node, path string) (_ *yaml.Node, null bool) {
	if n = d.visit(n, path); n == nil {
		return nil, false
	}
	if isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "want a single value, got %s", describe(n))
		return nil, false
	}
	if tag := n.ShortTag(); !strings.HasPrefix(tag, "!!") || tag == "!!binary" {
		d.fail(n, path, "unsupported tag %s", tag)
		return nil, false
	}
	return n, false
}

// str decodes any scalar as its text, so unquoted digits such as an account
// id keep the digits as written. Null leaves dst unchanged.
func (d *decoder) str(dst *string) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		if n, _ = d.scalar(n, path); n != nil {
			*dst = n.Value
		}
	}
}

// integer decodes an integer. Null leaves dst unchanged (the default).
func (d *decoder) integer(dst *int) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		if n, _ = d.scalar(n, path); n == nil {
			return
		}
		var v int64
		if n.ShortTag() != "!!int" || n.Decode(&v) != nil {
			d.fail(n, path, "want an integer, got %s", describe(n))
			return
		}
		if v < math.MinInt32 || v > math.MaxInt32 {
			d.fail(n, path, "%s is out of range", n.Value)
			return
		}
		*dst = int(v)
	}
}

// boolean decodes true or false. Null leaves dst unchanged (the default).
func (d *decoder) boolean(dst *bool) func(*yaml.Node, string) {
	return func(n *yaml.Node, path string) {
		if n, _ = d.scalar(n, path); n == nil {
			return
		}
		var v bool
		if n.ShortTag() != "!!bool" || n.Decode(&v) != nil {
			d.fail(n, path, "want true or false, got %s", describe(n))
			return
		}
		*dst = v
	}
}

// addr decodes an IP address; null is an error.
func (d *decoder) addr(n *yaml.Node, path string) netip.Addr {
	s, null := d.scalar(n, path)
	if null {
		d.fail(n, path, "want an IP address, got null")
	}
	if s == nil {
		return netip.Addr{}
	}
	a, err := netip.ParseAddr(s.Value)
	if err != nil {
		d.fail(s, path, "invalid IP address %q", s.Value)
		return netip.Addr{}
	}
	return a
}

// prefix decodes a CIDR block. Null is an error if nullOK is false and the
// zero Prefix otherwise.
func (d *decoder) prefix(n *yaml.Node, path string, nullOK bool) netip.Prefix {
	s, null := d.scalar(n, path)
	if null && !nullOK {
		d.fail(n, path, "want a CIDR block, got null")
	}
	if s == nil {
		return netip.Prefix{}
	}
	p, err := netip.ParsePrefix(s.Value)
	if err != nil {
		d.fail(s, path, "invalid CIDR block %q", s.Value)
		return netip.Prefix{}
	}
	return p
}

// topology decodes the document root. ingressSet[i] reports whether
// vpcEndpoints[i] had an ingress list.
func (d *decoder) topology(root *yaml.Node) (t *Topology, ingressSet []bool) {
	t = &Topology{}
	d.object(root, "", append([]fieldDecoder{
		{"region", d.str(&t.Region)},
		{"controlPlane", func(n *yaml.Node, path string) {
			d.object(n, path, []fieldDecoder{
				{"listen", d.str(&t.ControlPlane.Listen)},
			})
		}},
		{"publicListener", func(n *yaml.Node, path string) {
			d.object(n, path, []fieldDecoder{
				{"listen", d.str(&t.PublicListener.Listen)},
				{"httpListen", d.str(&t.PublicListener.HTTPListen)},
			})
		}},
		{"accounts", func(n *yaml.Node, path string) {
			d.list(n, path, func(n *yaml.Node, path string) {
				t.Accounts = append(t.Accounts, d.account(n, path))
			})
		}},
		{"vpcs", func(n *yaml.Node, path string) {
			d.list(n, path, func(n *yaml.Node, path string) {
				t.VPCs = append(t.VPCs, d.vpc(n, path))
			})
		}},
		{"vpcEndpoints", func(n *yaml.Node, path string) {
			d.list(n, path, func(n *yaml.Node, path string) {
				e, set := d.endpoint(n, path)
				t.VPCEndpoints = append(t.VPCEndpoints, e)
				ingressSet = append(ingressSet, set)
			})
		}},
		{"functions", func(n *yaml.Node, path string) {
			d.list(n, path, func(n *yaml.Node, path string) {
				t.Functions = append(t.Functions, d.function(n, path))
			})
		}},
	}, slices.Concat(d.dnsFields(t), d.vpcLinkFields(t), d.instanceFields(t))...))
	return t, ingressSet
}

func (d *decoder) account(n *yaml.Node, path string) Account {
	var a Account
	d.object(n, path, []fieldDecoder{
		{"id", d.str(&a.ID)},
		{"accessKeys", func(n *yaml.Node, path string) {
			d.list(n, path, func(n *yaml.Node, path string) {
				var k AccessKey
				d.object(n, path, []fieldDecoder{
					{"id", d.str(&k.ID)},
					{"secret", d.str(&k.Secret)},
				})
				a.AccessKeys = append(a.AccessKeys, k)
			})
		}},
		{"orgId", d.str(&a.OrgID)},
		{"users", func(n *yaml.Node, path string) {
			d.list(n, path, func(n *yaml.Node, path string) {
				var u User
				d.object(n, path, []fieldDecoder{
					{"name", d.str(&u.Name)},
					{"accessKeys", func(n *yaml.Node, path string) {
						d.list(n, path, func(n *yaml.Node, path string) {
							var k AccessKey
							d.object(n, path, []fieldDecoder{
								{"id", d.str(&k.ID)},
								{"secret", d.str(&k.Secret)},
							})
							u.AccessKeys = append(u.AccessKeys, k)
						})
					}},
					{"policies", func(n *yaml.Node, path string) {
						d.list(n, path, func(n *yaml.Node, path string) {
							var ip IdentityPolicy
							d.object(n, path, []fieldDecoder{
								{"name", d.str(&ip.Name)},
								{"document", func(n *yaml.Node, path string) { ip.Document = d.policy(n, path) }},
							})
							u.Policies = append(u.Policies, ip)
						})
					}},
				})
				a.Users = append(a.Users, u)
			})
		}},
		{"roles", func(n *yaml.Node, path string) {
			d.list(n, path, func(n *yaml.Node, path string) {
				var r Role
				d.object(n, path, []fieldDecoder{
					{"name", d.str(&r.Name)},
					{"trust", d.strings(&r.Trust)},
					{"policies", func(n *yaml.Node, path string) {
						d.list(n, path, func(n *yaml.Node, path string) {
							var ip IdentityPolicy
							d.object(n, path, []fieldDecoder{
								{"name", d.str(&ip.Name)},
								{"document", func(n *yaml.Node, path string) { ip.Document = d.policy(n, path) }},
							})
							r.Policies = append(r.Policies, ip)
						})
					}},
				})
				a.Roles = append(a.Roles, r)
			})
		}},
		{"throttle", func(n *yaml.Node, path string) {
			d.object(n, path, []fieldDecoder{
				{"rateLimit", d.integer(&a.Throttle.RateLimit)},
				{"burstLimit", d.integer(&a.Throttle.BurstLimit)},
			})
		}},
	})
	return a
}

func (d *decoder) vpc(n *yaml.Node, path string) VPC {
	v := VPC{EnableDNSSupport: true, EnableDNSHostnames: true}
	d.object(n, path, append([]fieldDecoder{
		{"id", d.str(&v.ID)},
		{"account", d.str(&v.Account)},
		{"cidr", func(n *yaml.Node, path string) { v.CIDR = d.prefix(n, path, true) }},
		{"enableDnsSupport", d.boolean(&v.EnableDNSSupport)},
		{"enableDnsHostnames", d.boolean(&v.EnableDNSHostnames)},
	}, append(d.vpcDNSFields(&v), d.vpcLinkVPCFields(&v)...)...))
	return v
}

func (d *decoder) endpoint(n *yaml.Node, path string) (e VPCEndpoint, ingressSet bool) {
	e = VPCEndpoint{Port: defaultEndpointPort, PrivateDNSEnabled: true}
	d.object(n, path, []fieldDecoder{
		{"id", d.str(&e.ID)},
		{"vpc", d.str(&e.VPC)},
		{"addresses", func(n *yaml.Node, path string) {
			d.list(n, path, func(n *yaml.Node, path string) {
				e.Addresses = append(e.Addresses, d.addr(n, path))
			})
		}},
		{"port", d.integer(&e.Port)},
		{"httpPort", d.integer(&e.HTTPPort)},
		{"privateDnsEnabled", d.boolean(&e.PrivateDNSEnabled)},
		{"ingress", func(n *yaml.Node, path string) {
			e.Ingress = []netip.Prefix{}
			ingressSet = d.list(n, path, func(n *yaml.Node, path string) {
				e.Ingress = append(e.Ingress, d.prefix(n, path, false))
			})
			if !ingressSet {
				e.Ingress = nil
			}
		}},
		{"policy", func(n *yaml.Node, path string) { e.Policy = d.policy(n, path) }},
	})
	return e, ingressSet
}

// policy decodes an endpoint policy given as a YAML mapping or a JSON string
// into compact JSON text; nil for null.
func (d *decoder) policy(n *yaml.Node, path string) []byte {
	if n = d.visit(n, path); n == nil || isNull(n) {
		return nil
	}
	switch {
	case n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str":
		var buf bytes.Buffer
		if err := json.Compact(&buf, []byte(n.Value)); err != nil {
			d.fail(n, path, "not valid JSON: %v", err)
			return nil
		}
		return buf.Bytes()
	case n.Kind == yaml.MappingNode:
		enc := policyEncoder{active: map[*yaml.Node]bool{}}
		if err := enc.value(n, 0); err != nil {
			d.fail(n, path, "%v", err)
			return nil
		}
		return enc.buf
	}
	d.fail(n, path, "want a mapping or a JSON string, got %s", describe(n))
	return nil
}

// policyEncoder writes a YAML node tree as compact JSON, keeping key order.
type policyEncoder struct {
	buf []byte
	// active holds the alias targets being written, to catch an alias
	// inside its own anchor.
	active map[*yaml.Node]bool
}

func (e *policyEncoder) value(n *yaml.Node, depth int) error {
	if len(e.buf) > maxPolicyBytes {
		return fmt.Errorf("policy is longer than %d characters", maxPolicyChars)
	}
	if depth > maxPolicyDepth {
		return fmt.Errorf("policy is nested deeper than %d levels", maxPolicyDepth)
	}
	if n.Kind == yaml.AliasNode {
		target := n.Alias
		if target == nil || e.active[target] {
			return fmt.Errorf("alias *%s refers to a value that contains it", n.Value)
		}
		e.active[target] = true
		err := e.value(target, depth)
		delete(e.active, target)
		return err
	}
	tag := n.ShortTag()
	switch n.Kind {
	case yaml.MappingNode:
		if tag != "!!map" {
			return fmt.Errorf("unsupported tag %s at line %d", tag, n.Line)
		}
		e.buf = append(e.buf, '{')
		seen := make(map[string]bool, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind == yaml.AliasNode && k.Alias != nil {
				k = k.Alias
			}
			// Keys are taken as written: the IAM condition operator Null
			// is a YAML null, and "true" or "1" may be keys too.
			if k.Kind != yaml.ScalarNode {
				return fmt.Errorf("policy keys must be strings (line %d)", k.Line)
			}
			if k.ShortTag() == "!!merge" {
				return fmt.Errorf("YAML merge keys are not supported (line %d)", k.Line)
			}
			if seen[k.Value] {
				return fmt.Errorf("duplicate key %q (line %d)", k.Value, k.Line)
			}
			seen[k.Value] = true
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			e.buf = appendJSONString(e.buf, k.Value)
			e.buf = append(e.buf, ':')
			if err := e.value(n.Content[i+1], depth+1); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, '}')
	case yaml.SequenceNode:
		if tag != "!!seq" {
			return fmt.Errorf("unsupported tag %s at line %d", tag, n.Line)
		}
		e.buf = append(e.buf, '[')
		for i, item := range n.Content {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			if err := e.value(item, depth+1); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, ']')
	case yaml.ScalarNode:
		return e.scalar(n, tag)
	default:
		return fmt.Errorf("unexpected YAML node at line %d", n.Line)
	}
	return nil
}

func (e *policyEncoder) scalar(n *yaml.Node, tag string) error {
	switch tag {
	case "!!null":
		e.buf = append(e.buf, "null"...)
	case "!!bool":
		var v bool
		if err := n.Decode(&v); err != nil {
			return fmt.Errorf("invalid boolean %q at line %d", n.Value, n.Line)
		}
		e.buf = strconv.AppendBool(e.buf, v)
	case "!!int", "!!float":
		var v any
		if err := n.Decode(&v); err != nil {
			return fmt.Errorf("invalid number %q at line %d", n.Value, n.Line)
		}
		switch v := v.(type) {
		case int:
			e.buf = strconv.AppendInt(e.buf, int64(v), 10)
		case int64:
			e.buf = strconv.AppendInt(e.buf, v, 10)
		case uint64:
			e.buf = strconv.AppendUint(e.buf, v, 10)
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("%s at line %d cannot be written in JSON", n.Value, n.Line)
			}
			b, err := json.Marshal(v)
			if err != nil {
				return fmt.Errorf("%s at line %d cannot be written in JSON", n.Value, n.Line)
			}
			e.buf = append(e.buf, b...)
		default:
			return fmt.Errorf("invalid number %q at line %d", n.Value, n.Line)
		}
	case "!!str", "!!timestamp":
		// An unquoted date such as Version: 2012-10-17 is a YAML timestamp;
		// IAM wants the text.
		e.buf = appendJSONString(e.buf, n.Value)
	default:
		return fmt.Errorf("unsupported tag %s at line %d", tag, n.Line)
	}
	return nil
}

// appendJSONString appends s as a JSON string without HTML escaping.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
