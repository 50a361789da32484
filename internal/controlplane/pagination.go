package controlplane

import (
	"sort"

	"gatehouse/internal/awsproto"
)

// paginate returns the page of items (sorted ascending by key) that the request's
// position and limit select, and the position of the next page ("" on the last).
// Positions name the last key returned, so pages stay stable while items come and go.
func paginate[T any](c *call, items []T, key func(T) string) ([]T, string, error) {
	q := c.r.URL.Query()
	limit, err := awsproto.ParseLimit(q.Get("limit"))
	if err != nil {
		return nil, "", err
	}
	after, err := awsproto.DecodePosition(q.Get("position"))
	if err != nil {
		return nil, "", err
	}
	start := 0
	if after != "" {
		start = sort.Search(len(items), func(i int) bool { return key(items[i]) > after })
	}
	end := min(start+limit, len(items))
	page := items[start:end]
	pos := ""
	if end < len(items) {
		pos = awsproto.EncodePosition(key(items[end-1]))
	}
	return page, pos, nil
}
