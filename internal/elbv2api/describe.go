package elbv2api

import (
	"net/url"
	"slices"
	"sort"
	"strings"

	"gatehouse/internal/apimodel"
)

// Shared shapes of loading one object by ARN and of the Describe* actions, generic
// over the object kind (load balancer, listener, rule, target group).

// badARN returns the ValidationError for arn when it is not a well-formed ELB ARN
// ("'%s' is not a valid {what} ARN"), else nil.
func badARN(arn, what string) error {
	if _, err := apimodel.ParseELBARN(arn); err != nil {
		return validationf("'%s' is not a valid %s ARN", arn, what)
	}
	return nil
}

// loadStored returns the caller's stored object with ARN arn, of ARN resource type
// kind and store key key(account, id). A malformed ARN is badARN's ValidationError;
// one that names nothing the caller has stored is notFound.
func loadStored[T any](c *call, s *Server, arn, kind, what string, key func(account, id string) string,
	arnOf func(*T) string, notFound error) (*T, error) {
	a, ok := s.parseARN(c, arn, kind)
	if !ok {
		if err := badARN(arn, what); err != nil {
			return nil, err
		}
		return nil, notFound
	}
	v := new(T)
	found, err := s.load(c.ctx, key(c.caller.Account, a.ID), v)
	if err != nil {
		return nil, err
	}
	if !found || arnOf(v) != arn {
		return nil, notFound
	}
	return v, nil
}

// pickByARNOrParent selects for DescribeListeners and DescribeRules: either the
// objects with ARNs arns (each loaded with load, in order, stopping at the first error)
// or, byParent, the children of one parent. Giving both is a ValidationError with
// message both, giving neither one with message neither.
func pickByARNOrParent[T any](c *call, arns []string, byParent bool, load func(c *call, arn string) (*T, error),
	children func() ([]*T, error), both, neither string) ([]*T, error) {
	switch {
	case len(arns) > 0 && byParent:
		return nil, validationf("%s", both)
	case len(arns) == 0 && !byParent:
		return nil, validationf("%s", neither)
	case byParent:
		return children()
	}
	var out []*T
	for _, arn := range arns {
		v, err := load(c, arn)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// sortByName orders objects by name, then by ARN.
func sortByName[T any](all []*T, nameOf, arnOf func(*T) string) {
	sort.Slice(all, func(i, j int) bool {
		if nameOf(all[i]) != nameOf(all[j]) {
			return nameOf(all[i]) < nameOf(all[j])
		}
		return arnOf(all[i]) < arnOf(all[j])
	})
}

// pickByARN returns the objects of all with ARNs arns, in that order. The first ARN
// that names none fails: with badARN's ValidationError when malformed, else notFound.
func pickByARN[T any](all []*T, arns []string, arnOf func(*T) string, what string, notFound error) ([]*T, error) {
	var sel []*T
	for _, arn := range arns {
		i := slices.IndexFunc(all, func(v *T) bool { return arnOf(v) == arn })
		if i < 0 {
			if err := badARN(arn, what); err != nil {
				return nil, err
			}
			return nil, notFound
		}
		sel = append(sel, all[i])
	}
	return sel, nil
}

// pickByName returns the objects of all called names, in that order. Names that name
// none fail together with notFound("a, b").
func pickByName[T any](all []*T, names []string, nameOf func(*T) string, notFound func(missing string) error) ([]*T, error) {
	var sel []*T
	var missing []string
	for _, n := range names {
		i := slices.IndexFunc(all, func(v *T) bool { return nameOf(v) == n })
		if i < 0 {
			missing = append(missing, n)
			continue
		}
		sel = append(sel, all[i])
	}
	if len(missing) > 0 {
		return nil, notFound(strings.Join(missing, ", "))
	}
	return sel, nil
}

// pageOf applies the request's Marker and PageSize to sel and renders that page with
// toX; next is the NextMarker ("" on the last page).
func pageOf[T, X any](p url.Values, sel []*T, toX func(*T) X) (items []X, next string, err error) {
	start, end, next, err := page(p, len(sel))
	if err != nil {
		return nil, "", err
	}
	items = make([]X, 0, end-start)
	for _, v := range sel[start:end] {
		items = append(items, toX(v))
	}
	return items, next, nil
}
