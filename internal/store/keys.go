package store

import (
	"fmt"
	"strings"
)

// ValidateKey reports whether key is a valid key: one or more of
// [-/_=.a-zA-Z0-9], not beginning or ending with '.', without "..".
// The error wraps ErrInvalidKey.
func ValidateKey(key string) error {
	if key == "" {
		return fmt.Errorf("store: %w: empty key", ErrInvalidKey)
	}
	if err := checkKeyChars(key); err != nil {
		return err
	}
	if key[0] == '.' || key[len(key)-1] == '.' {
		return fmt.Errorf("store: %w: %q begins or ends with '.'", ErrInvalidKey, key)
	}
	if strings.Contains(key, "..") {
		return fmt.Errorf("store: %w: %q contains \"..\"", ErrInvalidKey, key)
	}
	return nil
}

// validatePrefix checks a List prefix: empty, or the beginning of some
// valid key (so it may end with '.').
func validatePrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if err := checkKeyChars(prefix); err != nil {
		return err
	}
	if prefix[0] == '.' {
		return fmt.Errorf("store: %w: prefix %q begins with '.'", ErrInvalidKey, prefix)
	}
	if strings.Contains(prefix, "..") {
		return fmt.Errorf("store: %w: prefix %q contains \"..\"", ErrInvalidKey, prefix)
	}
	return nil
}

func checkKeyChars(s string) error {
	for i := 0; i < len(s); i++ {
		if !keyChar(s[i]) {
			return fmt.Errorf("store: %w: %q has character %q at offset %d; allowed are [-/_=.a-zA-Z0-9]",
				ErrInvalidKey, s, s[i], i)
		}
	}
	return nil
}

func keyChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	case c == '-', c == '/', c == '_', c == '=', c == '.':
		return true
	}
	return false
}

// validateBucket checks a bucket name: one or more of [a-zA-Z0-9_-].
func validateBucket(name string) error {
	if name == "" {
		return fmt.Errorf("store: %w: empty bucket name", ErrInvalidBucket)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-'
		if !ok {
			return fmt.Errorf("store: %w: %q has character %q at offset %d; allowed are [a-zA-Z0-9_-]",
				ErrInvalidBucket, name, c, i)
		}
	}
	return nil
}

// prefixFilter returns the KV key filter (a NATS subject pattern relative
// to the bucket) that List uses on the server for prefix. NATS filters
// match whole '.'-separated tokens, so only the tokens before the last '.'
// in prefix narrow the filter; the rest is matched on the client. Every
// valid key with the prefix matches the filter.
func prefixFilter(prefix string) string {
	i := strings.LastIndexByte(prefix, '.')
	if i < 0 {
		return ">"
	}
	return prefix[:i+1] + ">"
}
