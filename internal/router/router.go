package router

import (
	"fmt"
	"strings"
)

// MaxParams is the most path variables one resource template may hold; [Params] has room
// for exactly this many.
const MaxParams = 16

// AWS error messages Build reports, as the apigateway control plane words them.
const (
	// MsgInvalidPathPart is AWS's CreateResource message for a malformed path part
	// (moto and LocalStack quote it; real AWS also accepts ':' in literals).
	MsgInvalidPathPart = "Resource's path part only allow a-zA-Z0-9._- and curly braces at the beginning and the end and an optional plus sign before the closing brace."
	// MsgGreedyChildFormat is the message for a resource below a greedy variable
	// (LocalStack wording); %s is the greedy part, e.g. "{proxy+}".
	MsgGreedyChildFormat = "Cannot create a child of a resource with a greedy path variable: %s"
	// MsgVariableSiblingFormat is AWS's message for a second variable child of one parent;
	// %s is the existing sibling's part, e.g. "{id}".
	MsgVariableSiblingFormat = "A sibling (%s) of this resource already has a variable path part -- only one is allowed"
	// MsgMethodExists is AWS's PutMethod ConflictException message.
	MsgMethodExists = "Method already exists for this resource"
	// MsgInvalidMethod is AWS's PutMethod message for an unknown verb.
	MsgInvalidMethod = "Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY"
	// MsgInvalidPath is gatehouse's own message for a path that is not "/" or "/part…".
	MsgInvalidPath = "Resource path must be / or begin with / followed by non-empty path parts"
	// MsgTooManyParams is gatehouse's own limit, see MaxParams.
	MsgTooManyParams = "Resource path has more than 16 path variables"
)

// Method slots. The seven verbs AWS supports, then ANY.
const (
	slotAny   = 7
	slotCount = 8
	noSlot    = -1
	anyMethod = "ANY"
)

// methodSlot maps a request verb to its slot, or noSlot. Verbs are case-sensitive.
func methodSlot(m string) int {
	switch m {
	case "GET":
		return 0
	case "POST":
		return 1
	case "PUT":
		return 2
	case "DELETE":
		return 3
	case "PATCH":
		return 4
	case "HEAD":
		return 5
	case "OPTIONS":
		return 6
	}
	return noSlot
}

// Route is one method on one resource, as Build takes it.
type Route[T any] struct {
	// Path is the resource path template, e.g. "/pets/{petId}/toys/{proxy+}".
	Path string
	// Method is GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS or ANY.
	Method string
	// Value is what Match returns for this route.
	Value T
}

// BuildError reports a route Build refused. Message carries AWS's wording where AWS has
// one (see the Msg constants).
type BuildError struct {
	Path    string
	Method  string
	Message string
}

func (e *BuildError) Error() string {
	return fmt.Sprintf("router: %s %s: %s", e.Method, e.Path, e.Message)
}

// Tree is an immutable, compiled resource tree. It is safe for concurrent use.
type Tree[T any] struct {
	root   *node[T]
	routes int
}

type node[T any] struct {
	path     string              // full resource path template, returned by Match
	part     string              // this node's path part as written: "pets", "{id}", "{proxy+}"
	name     string              // variable name for {name} and {name+} nodes
	literals map[string]*node[T] // literal children by part
	param    *node[T]            // {name} child
	greedy   *node[T]            // {name+} child
	has      [slotCount]bool
	vals     [slotCount]T
}

// Len reports how many routes (resource + method pairs) the tree holds.
func (t *Tree[T]) Len() int { return t.routes }

// Build validates routes and compiles them into a Tree. It reports the first invalid
// route as a *BuildError. Input order only matters for which sibling an error names.
func Build[T any](routes []Route[T]) (*Tree[T], error) {
	t := &Tree[T]{root: &node[T]{path: "/"}}
	for i := range routes {
		r := &routes[i]
		if err := t.add(r); err != nil {
			return nil, err
		}
	}
	t.routes = len(routes)
	return t, nil
}

func (t *Tree[T]) add(r *Route[T]) error {
	fail := func(msg string) error { return &BuildError{Path: r.Path, Method: r.Method, Message: msg} }

	slot := methodSlot(r.Method)
	if r.Method == anyMethod {
		slot = slotAny
	}
	if slot == noSlot {
		return fail(MsgInvalidMethod)
	}
	if r.Path == "" || r.Path[0] != '/' {
		return fail(MsgInvalidPath)
	}

	n := t.root
	vars := 0
	if r.Path != "/" {
		rest := r.Path[1:]
		for {
			part, tail, more := strings.Cut(rest, "/")
			if part == "" {
				return fail(MsgInvalidPath)
			}
			kind, name := parsePart(part)
			if kind == partInvalid {
				return fail(MsgInvalidPathPart)
			}
			if kind != partLiteral {
				vars++
				if vars > MaxParams {
					return fail(MsgTooManyParams)
				}
			}
			child, err := n.child(part, kind, name)
			if err != "" {
				return fail(err)
			}
			n = child
			if !more {
				break
			}
			if kind == partGreedy {
				return fail(fmt.Sprintf(MsgGreedyChildFormat, part))
			}
			rest = tail
		}
	}
	if n.has[slot] {
		return fail(MsgMethodExists)
	}
	n.has[slot] = true
	n.vals[slot] = r.Value
	return nil
}

// child finds or creates n's child for part. It returns an AWS message on conflict.
func (n *node[T]) child(part string, kind partKind, name string) (*node[T], string) {
	path := n.path + "/" + part
	if n.path == "/" {
		path = "/" + part
	}
	switch kind {
	case partLiteral:
		if c := n.literals[part]; c != nil {
			return c, ""
		}
		if n.literals == nil {
			n.literals = make(map[string]*node[T])
		}
		c := &node[T]{path: path, part: part}
		n.literals[part] = c
		return c, ""
	case partParam:
		if n.param != nil {
			if n.param.part == part {
				return n.param, ""
			}
			return nil, fmt.Sprintf(MsgVariableSiblingFormat, n.param.part)
		}
		if n.greedy != nil {
			return nil, fmt.Sprintf(MsgVariableSiblingFormat, n.greedy.part)
		}
		n.param = &node[T]{path: path, part: part, name: name}
		return n.param, ""
	default: // partGreedy
		if n.greedy != nil {
			if n.greedy.part == part {
				return n.greedy, ""
			}
			return nil, fmt.Sprintf(MsgVariableSiblingFormat, n.greedy.part)
		}
		if n.param != nil {
			return nil, fmt.Sprintf(MsgVariableSiblingFormat, n.param.part)
		}
		n.greedy = &node[T]{path: path, part: part, name: name}
		return n.greedy, ""
	}
}

type partKind int

const (
	partInvalid partKind = iota
	partLiteral
	partParam
	partGreedy
)

// parsePart classifies one path part and returns the variable name for variables.
func parsePart(part string) (partKind, string) {
	if part[0] != '{' {
		for i := 0; i < len(part); i++ {
			if !literalByte(part[i]) {
				return partInvalid, ""
			}
		}
		return partLiteral, ""
	}
	if len(part) < 3 || part[len(part)-1] != '}' {
		return partInvalid, ""
	}
	name := part[1 : len(part)-1]
	kind := partParam
	if name[len(name)-1] == '+' {
		kind = partGreedy
		name = name[:len(name)-1]
	}
	if name == "" {
		return partInvalid, ""
	}
	for i := 0; i < len(name); i++ {
		if !nameByte(name[i]) {
			return partInvalid, ""
		}
	}
	return kind, name
}

func nameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}

func literalByte(c byte) bool { return nameByte(c) || c == ':' }

// Params holds the path variables of one match, in path order, without allocating.
// The zero value is empty; Match resets it.
type Params struct {
	n      int
	names  [MaxParams]string
	values [MaxParams]string
}

// Get returns the value of the named variable (still escaped). If a template repeats a
// name, the first occurrence wins.
func (p *Params) Get(name string) (string, bool) {
	for i := 0; i < p.n; i++ {
		if p.names[i] == name {
			return p.values[i], true
		}
	}
	return "", false
}

// Len reports how many variables the match bound.
func (p *Params) Len() int { return p.n }

// At returns the i'th variable. It panics if i is out of range [0, Len()).
func (p *Params) At(i int) (name, value string) {
	if i < 0 || i >= p.n {
		panic(fmt.Sprintf("router: Params.At(%d) out of range [0,%d)", i, p.n))
	}
	return p.names[i], p.values[i]
}

// Reset empties p.
func (p *Params) Reset() { p.n = 0 }

func (p *Params) push(name, value string) {
	if p == nil || p.n == MaxParams {
		return
	}
	p.names[p.n] = name
	p.values[p.n] = value
	p.n++
}

func (p *Params) truncate(n int) {
	if p != nil {
		p.n = n
	}
}

func (p *Params) len() int {
	if p == nil {
		return 0
	}
	return p.n
}

// Match finds the route for method and path. path is the request path after the stage,
// in raw (escaped) form, beginning with "/". params may be nil; otherwise it is reset and
// filled with the matched template's variables.
//
// It returns the route's value and resource path template. ok is false when no resource
// both matches the path and has the method or ANY; AWS answers every such request with 403
// MISSING_AUTHENTICATION_TOKEN. See the package documentation for precedence.
func (t *Tree[T]) Match(method, path string, params *Params) (v T, resourcePath string, ok bool) {
	params.truncate(0)
	if t == nil || t.root == nil {
		return v, "", false
	}
	mslot := methodSlot(method)
	if mslot == noSlot || path == "" || path[0] != '/' {
		return v, "", false
	}
	end := len(path)
	for end > 1 && path[end-1] == '/' {
		end--
	}
	n, slot := t.root.match(path[:end], 1, mslot, params)
	if n == nil {
		return v, "", false
	}
	return n.vals[slot], n.path, true
}

// slot returns the slot serving mslot on n: the exact method, else ANY, else noSlot.
func (n *node[T]) slot(mslot int) int {
	if n.has[mslot] {
		return mslot
	}
	if n.has[slotAny] {
		return slotAny
	}
	return noSlot
}

// match resolves path[start:] below n. It returns the serving node and slot, or nil.
func (n *node[T]) match(path string, start, mslot int, p *Params) (*node[T], int) {
	if start >= len(path) {
		if s := n.slot(mslot); s != noSlot {
			return n, s
		}
		return nil, noSlot
	}
	end := strings.IndexByte(path[start:], '/')
	if end < 0 {
		end = len(path)
	} else {
		end += start
	}
	seg := path[start:end]
	if seg == "" {
		// An empty segment ("//") matches nothing: not a literal, not a {param},
		// and a greedy variable must start with a non-empty segment.
		return nil, noSlot
	}
	if c := n.literals[seg]; c != nil {
		if r, s := c.match(path, end+1, mslot, p); r != nil {
			return r, s
		}
	}
	if c := n.param; c != nil {
		mark := p.len()
		p.push(c.name, seg)
		if r, s := c.match(path, end+1, mslot, p); r != nil {
			return r, s
		}
		p.truncate(mark)
	}
	if c := n.greedy; c != nil {
		if s := c.slot(mslot); s != noSlot {
			p.push(c.name, path[start:])
			return c, s
		}
	}
	return nil, noSlot
}
