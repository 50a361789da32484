package elbv2api

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// Query-protocol parameter access. Lists arrive as Name.member.1, Name.member.2, ...;
// structures as Name.Field; maps as Name.entry.N.key / .value.

// maxListLen bounds how many members of one list are read.
const maxListLen = 1000

// has reports whether any parameter is name or begins with name + ".".
func has(p url.Values, name string) bool {
	if _, ok := p[name]; ok {
		return true
	}
	for k := range p {
		if strings.HasPrefix(k, name+".") {
			return true
		}
	}
	return false
}

// str returns a scalar parameter and whether it was present.
func str(p url.Values, name string) (string, bool) {
	v, ok := p[name]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// strList returns the values of a list of scalars: name.member.1, name.member.2, ...
// A list sent as the empty "name=" gives an empty, non-nil slice.
func strList(p url.Values, name string) []string {
	var out []string
	for i := 1; i <= maxListLen; i++ {
		v, ok := str(p, name+".member."+strconv.Itoa(i))
		if !ok {
			break
		}
		out = append(out, v)
	}
	if out == nil {
		if _, ok := p[name]; ok {
			return []string{}
		}
	}
	return out
}

// structList returns the prefixes (name.member.1, ...) of the members of a list of
// structures that are present.
func structList(p url.Values, name string) []string {
	var out []string
	for i := 1; i <= maxListLen; i++ {
		prefix := name + ".member." + strconv.Itoa(i)
		if !has(p, prefix) {
			break
		}
		out = append(out, prefix)
	}
	return out
}

// intParam parses an integer parameter. present is false when absent; a value that is
// not an integer is a ValidationError.
func intParam(p url.Values, name, at string) (n int, present bool, err error) {
	v, ok := str(p, name)
	if !ok {
		return 0, false, nil
	}
	n64, perr := strconv.ParseInt(strings.TrimSpace(v), 10, 32)
	if perr != nil {
		return 0, true, validationf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must be an integer", v, at)
	}
	return int(n64), true, nil
}

// enumParam reads the optional parameter name, recording a violation of the enum set
// ("A, B, C") at at in v when it is present with another value.
func (v *validationErrors) enumParam(p url.Values, name, at, set string) (string, bool) {
	val, ok := str(p, name)
	if ok && !slices.Contains(strings.Split(set, ", "), val) {
		v.enum(val, at, set)
	}
	return val, ok
}

// rangeParam reads the optional integer parameter name (as intParam), recording in v
// a violation at at when it is present and outside [lo, hi].
func (v *validationErrors) rangeParam(p url.Values, name, at string, lo, hi int) (n int, present bool, err error) {
	n, present, err = intParam(p, name, at)
	if err == nil && present {
		v.rangeInt(n, at, lo, hi)
	}
	return n, present, err
}

// boolParam parses a boolean parameter.
func boolParam(p url.Values, name, at string) (b, present bool, err error) {
	v, ok := str(p, name)
	if !ok {
		return false, false, nil
	}
	switch strings.ToLower(v) {
	case "true":
		return true, true, nil
	case "false":
		return false, true, nil
	}
	return false, true, validationf("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must be a boolean", v, at)
}

// tags reads Tags.member.N.Key/Value: at most 50, keys unique.
func tags(p url.Values) (map[string]string, error) {
	members := structList(p, "Tags")
	if len(members) == 0 {
		return nil, nil
	}
	if len(members) > 50 {
		return nil, newErr(codeTooManyTags, "The quota for the number of tags that can be assigned to a load balancer has been reached")
	}
	out := make(map[string]string, len(members))
	for _, m := range members {
		k, ok := str(p, m+".Key")
		if !ok || k == "" || len(k) > 128 {
			return nil, validationf("Tag keys must be between 1 and 128 characters")
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return nil, validationf("Tag keys cannot start with 'aws:'")
		}
		if _, dup := out[k]; dup {
			return nil, newErr(codeDuplicateTagKeys, "Tag key was specified more than once: %s", k)
		}
		v, _ := str(p, m+".Value")
		if len(v) > 256 {
			return nil, validationf("Tag values must be at most 256 characters")
		}
		out[k] = v
	}
	return out, nil
}

// page applies Marker (an index, opaque to clients) and PageSize (1–400) to n items.
func page(p url.Values, n int) (start, end int, next string, err error) {
	if m, ok := str(p, "Marker"); ok && m != "" {
		start, err = strconv.Atoi(m)
		if err != nil || start < 0 || start > n {
			return 0, 0, "", validationf("Invalid marker '%s'", m)
		}
	}
	size, present, err := intParam(p, "PageSize", "pageSize")
	if err != nil {
		return 0, 0, "", err
	}
	end = n
	if present {
		var v validationErrors
		v.rangeInt(size, "pageSize", 1, 400)
		if err := v.err(); err != nil {
			return 0, 0, "", err
		}
		if start+size < n {
			end = start + size
			next = strconv.Itoa(end)
		}
	}
	return start, end, next, nil
}
