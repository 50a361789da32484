package controlplane

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"gatehouse/internal/store"
)

// Account-level documents (API keys, usage plans, usage plan keys) are stored one per
// key with their owner inside, as REST APIs are. These helpers read and write them with
// the owner check: another account's document answers as missing.

// validKey reports whether key is a store key made of '.'-joined valid ids.
func validKey(key string) bool {
	for _, part := range strings.Split(key, ".") {
		if !validID(part) {
			return false
		}
	}
	return true
}

// loadOwned reads bucket/key as a T owned by the caller. missing is returned when it is
// absent, unreadable as an id, or another account's.
func loadOwned[T any](s *Server, c *call, bucket, key string, owner func(*T) string, missing error) (*T, store.Entry, error) {
	if !validKey(key) {
		return nil, store.Entry{}, missing
	}
	e, err := s.store.Get(c.ctx, bucket, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, store.Entry{}, missing
	}
	if err != nil {
		return nil, store.Entry{}, err
	}
	var v T
	if err := json.Unmarshal(e.Value, &v); err != nil {
		return nil, store.Entry{}, fmt.Errorf("decode stored %s/%s: %w", bucket, key, err)
	}
	if owner(&v) != c.caller.Account {
		return nil, store.Entry{}, missing
	}
	return &v, e, nil
}

// listOwned returns every T in bucket (under prefix) owned by the caller, in key order.
func listOwned[T any](s *Server, c *call, bucket, prefix string, owner func(*T) string) ([]*T, error) {
	entries, err := s.store.List(c.ctx, bucket, prefix)
	if err != nil {
		return nil, err
	}
	out := make([]*T, 0, len(entries))
	for _, e := range entries {
		var v T
		if err := json.Unmarshal(e.Value, &v); err != nil {
			return nil, fmt.Errorf("decode stored %s/%s: %w", bucket, e.Key, err)
		}
		if owner(&v) == c.caller.Account {
			out = append(out, &v)
		}
	}
	return out, nil
}

// modifyOwned applies fn to the caller's T at bucket/key with an optimistic
// read-modify-write and returns the document as written. fn may run more than once.
func modifyOwned[T any](s *Server, c *call, bucket, key string, owner func(*T) string, missing error, fn func(*T) error) (*T, error) {
	if !validKey(key) {
		return nil, missing
	}
	defer s.lock(bucket, key)()
	var out *T
	_, err := s.store.Modify(c.ctx, bucket, key, func(cur []byte) ([]byte, error) {
		if cur == nil {
			return nil, missing
		}
		var v T
		if err := json.Unmarshal(cur, &v); err != nil {
			return nil, fmt.Errorf("decode stored %s/%s: %w", bucket, key, err)
		}
		if owner(&v) != c.caller.Account {
			return nil, missing
		}
		if err := fn(&v); err != nil {
			return nil, err
		}
		b, err := json.Marshal(&v)
		if err != nil {
			return nil, err
		}
		out = &v
		return b, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// deleteOwned deletes the caller's T at bucket/key, conditionally on the revision it
// checked the owner at. check, when not nil, may refuse the deletion.
func deleteOwned[T any](s *Server, c *call, bucket, key string, owner func(*T) string, missing error, check func(*T) error) (*T, error) {
	if !validKey(key) {
		return nil, missing
	}
	defer s.lock(bucket, key)()
	for attempt := 0; ; attempt++ {
		v, e, err := loadOwned(s, c, bucket, key, owner, missing)
		if err != nil {
			return nil, err
		}
		if check != nil {
			if err := check(v); err != nil {
				return nil, err
			}
		}
		err = s.store.Delete(c.ctx, bucket, key, e.Revision)
		switch {
		case err == nil:
			return v, nil
		case errors.Is(err, store.ErrConflict) && attempt < 10:
			continue // written meanwhile: check again
		case errors.Is(err, store.ErrNotFound):
			return nil, missing
		}
		return nil, err
	}
}

// deleteIgnoringMissing deletes bucket/key at its current revision; a missing key or a
// lost race is not an error (used for cleanup of dependent documents).
func (s *Server) deleteIgnoringMissing(c *call, bucket, key string) error {
	e, err := s.store.Get(c.ctx, bucket, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	err = s.store.Delete(c.ctx, bucket, key, e.Revision)
	if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConflict) {
		return err
	}
	return nil
}
