package awsproto

import (
	"crypto/rand"
	"encoding/base64"
)

const hexDigits = "0123456789abcdef"

// NewRequestID returns a random (version 4) UUID in its 36-character text
// form, e.g. "3f0c1a52-7d4e-4b8a-9c61-0e2f5d8b7a10", as AWS uses for
// x-amzn-RequestId. It allocates only the returned string.
func NewRequestID() string {
	var u [16]byte
	rand.Read(u[:]) // never returns an error; it crashes the program on failure
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var b [36]byte
	j := 0
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j] = hexDigits[c>>4]
		b[j+1] = hexDigits[c&0x0f]
		j += 2
	}
	return string(b[:])
}

const idAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// NewID returns a random string of n characters from [a-z0-9], the shape of
// API Gateway identifiers (REST API ids are 10 characters, resource ids 6-10,
// deployment ids 6). It returns "" when n <= 0. Each character is uniform
// (rejection sampling, no modulo bias).
func NewID(n int) string {
	if n <= 0 {
		return ""
	}
	var small [32]byte
	out := small[:0]
	if n <= len(small) {
		out = small[:n]
	} else {
		out = make([]byte, n)
	}
	var pool [64]byte
	avail := 0
	for i := 0; i < n; {
		if avail == 0 {
			rand.Read(pool[:])
			avail = len(pool)
		}
		avail--
		c := pool[avail]
		if c >= 252 { // 252 = 7*36: keep the distribution uniform
			continue
		}
		out[i] = idAlphabet[c%36]
		i++
	}
	return string(out)
}

// NewExtendedRequestID returns a 16-character base64 string ending in "=",
// the shape of API Gateway's x-amz-apigw-id header (e.g. "HUqD5FMeIAMF7xw=").
func NewExtendedRequestID() string {
	var raw [11]byte
	rand.Read(raw[:])
	var b [16]byte
	base64.StdEncoding.Encode(b[:], raw[:])
	return string(b[:])
}
