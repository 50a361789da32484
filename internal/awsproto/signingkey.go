package awsproto

import (
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"sync"
)

// maxSigningKeys bounds the signing-key cache. A key is valid for one day,
// region and service, so a verifier sees about one entry per active access
// key per day.
const maxSigningKeys = 1024

type signingKeyID struct{ secret, date, region, service string }

// signingKeyCache caches derived SigV4 signing keys. The zero value is ready
// to use.
type signingKeyCache struct {
	mu   sync.Mutex
	keys map[signingKeyID][sha256.Size]byte
}

// get returns the signing key for (secret, date, region, service),
// deriving and caching it on a miss. A hit does not allocate.
func (c *signingKeyCache) get(secret, date, region, service string) [sha256.Size]byte {
	id := signingKeyID{secret, date, region, service}
	c.mu.Lock()
	k, ok := c.keys[id]
	c.mu.Unlock()
	if ok {
		return k
	}
	k = deriveSigningKey(secret, date, region, service)
	// Copy the strings: they may point into a request header.
	id = signingKeyID{strings.Clone(secret), strings.Clone(date), strings.Clone(region), strings.Clone(service)}
	c.mu.Lock()
	if c.keys == nil {
		c.keys = make(map[signingKeyID][sha256.Size]byte)
	}
	if len(c.keys) >= maxSigningKeys {
		for old := range c.keys { // evict an arbitrary entry
			delete(c.keys, old)
			break
		}
	}
	c.keys[id] = k
	c.mu.Unlock()
	return k
}

// deriveSigningKey computes
// HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request").
func deriveSigningKey(secret, date, region, service string) [sha256.Size]byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	k = hmacSHA256(k, "aws4_request")
	var out [sha256.Size]byte
	copy(out[:], k)
	return out
}

func hmacSHA256(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

// signWithKey returns hex(HMAC-SHA256(key, msg)) where buf holds 64 bytes of
// room followed by msg (buf[64:] is the message). It computes the HMAC with
// two sha256.Sum256 calls, so it does not allocate.
func signWithKey(key *[sha256.Size]byte, buf []byte) [2 * sha256.Size]byte {
	for i := range 64 {
		var k byte
		if i < len(key) {
			k = key[i]
		}
		buf[i] = k ^ 0x36
	}
	inner := sha256.Sum256(buf)
	var outer [64 + sha256.Size]byte
	for i := range 64 {
		var k byte
		if i < len(key) {
			k = key[i]
		}
		outer[i] = k ^ 0x5c
	}
	copy(outer[64:], inner[:])
	sum := sha256.Sum256(outer[:])
	var hx [2 * sha256.Size]byte
	for i, c := range sum {
		hx[2*i] = hexDigits[c>>4]
		hx[2*i+1] = hexDigits[c&15]
	}
	return hx
}
