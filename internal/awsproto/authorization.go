package awsproto

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
)

// Algorithm is the only SigV4 signing algorithm this package verifies.
const Algorithm = "AWS4-HMAC-SHA256"

// Authorization holds the parameters of a SigV4 Authorization header,
// "AWS4-HMAC-SHA256 Credential=AKID/20200211/us-east-1/execute-api/aws4_request,
// SignedHeaders=host;x-amz-date, Signature=...". The strings are the raw
// values (substrings of the header); nothing is validated beyond the
// key=value syntax and the presence of the three parameters.
type Authorization struct {
	Algorithm     string // text before the first space, e.g. "AWS4-HMAC-SHA256"
	Credential    string // "AKID/yyyymmdd/region/service/aws4_request"
	SignedHeaders string // "host;x-amz-date", as sent
	Signature     string // lowercase hex HMAC
}

// Scope is a parsed credential "AKID/yyyymmdd/region/service/terminator".
type Scope struct {
	AccessKeyID string
	Date        string
	Region      string
	Service     string
	Terminator  string
}

// String returns the credential scope without the access key id:
// "yyyymmdd/region/service/terminator".
func (s Scope) String() string {
	return s.Date + "/" + s.Region + "/" + s.Service + "/" + s.Terminator
}

// ParseCredential splits a credential on '/'. Like AWS (Java String.split)
// it ignores trailing empty elements, then requires exactly five.
func ParseCredential(c string) (Scope, bool) {
	c = strings.TrimRight(c, "/")
	var p [5]string
	for i := range 4 {
		j := strings.IndexByte(c, '/')
		if j < 0 {
			return Scope{}, false
		}
		p[i], c = c[:j], c[j+1:]
	}
	if strings.IndexByte(c, '/') >= 0 {
		return Scope{}, false
	}
	p[4] = c
	return Scope{p[0], p[1], p[2], p[3], p[4]}, true
}

// SignedHeaderList splits SignedHeaders on ';'.
func (a Authorization) SignedHeaderList() []string {
	if a.SignedHeaders == "" {
		return nil
	}
	return strings.Split(a.SignedHeaders, ";")
}

// Messages of IncompleteSignatureException, as API Gateway sends them.
const (
	msgRequiresCredential    = "Authorization header requires 'Credential' parameter. "
	msgRequiresSignature     = "Authorization header requires 'Signature' parameter. "
	msgRequiresSignedHeaders = "Authorization header requires 'SignedHeaders' parameter. "
	msgRequiresDate          = "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. "
)

// ParseAuthorization parses a SigV4 Authorization header value. The text up
// to the first space is the algorithm (not checked here); the rest is a
// comma-separated list of key=value pairs. It returns an
// IncompleteSignatureException (*Error, 403) when a pair has no '=', e.g.
// for "Bearer x":
//
//	'x' not a valid key=value pair (missing equal-sign) in Authorization header: 'Bearer x'.
//
// or when Credential, Signature or SignedHeaders is missing:
//
//	Authorization header requires 'Credential' parameter. ... Authorization=<header>
//
// Verify also reports a missing X-Amz-Date/Date header in that message; this
// function does not see the other headers.
func ParseAuthorization(h string) (Authorization, error) {
	a, missing, err := parseAuthorization(h, false)
	if err != nil {
		return a, err
	}
	if missing != 0 {
		return a, missingParamsError(h, missing, false, false)
	}
	return a, nil
}

const (
	missingCredential = 1 << iota
	missingSignature
	missingSignedHeaders
)

// parseAuthorization parses h and reports which required parameters are
// absent. Empty Credential and Signature values count as absent; an empty
// SignedHeaders value does not (the host check rejects it later). With
// hashed, the error message carries base64(SHA-256(h)) instead of h.
func parseAuthorization(h string, hashed bool) (Authorization, int, *Error) {
	var a Authorization
	s := strings.TrimSpace(h)
	rest := ""
	if i := strings.IndexByte(s, ' '); i >= 0 {
		a.Algorithm, rest = s[:i], s[i+1:]
	} else {
		a.Algorithm = s
	}
	haveSignedHeaders := false
	for rest != "" {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		eq := strings.IndexByte(part, '=')
		if eq < 0 {
			msg := "'" + part + "' not a valid key=value pair (missing equal-sign) in Authorization header: '" + h + "'."
			if hashed {
				msg = "Invalid key=value pair (missing equal-sign) in Authorization header (hashed with SHA-256 and encoded with Base64): '" + hashHeader(h) + "'."
			}
			return a, 0, &Error{http.StatusForbidden, CodeIncompleteSignature, msg}
		}
		key, val := strings.TrimSpace(part[:eq]), strings.TrimSpace(part[eq+1:])
		switch key {
		case "Credential":
			a.Credential = val
		case "Signature":
			a.Signature = val
		case "SignedHeaders":
			a.SignedHeaders = val
			haveSignedHeaders = true
		}
	}
	missing := 0
	if a.Credential == "" {
		missing |= missingCredential
	}
	if a.Signature == "" {
		missing |= missingSignature
	}
	if !haveSignedHeaders {
		missing |= missingSignedHeaders
	}
	return a, missing, nil
}

func missingParamsError(h string, missing int, missingDate, hashed bool) *Error {
	var b strings.Builder
	if missing&missingCredential != 0 {
		b.WriteString(msgRequiresCredential)
	}
	if missing&missingSignature != 0 {
		b.WriteString(msgRequiresSignature)
	}
	if missing&missingSignedHeaders != 0 {
		b.WriteString(msgRequiresSignedHeaders)
	}
	if missingDate {
		b.WriteString(msgRequiresDate)
	}
	if hashed {
		b.WriteString("(Hashed with SHA-256 and encoded with Base64) Authorization=")
		b.WriteString(hashHeader(h))
	} else {
		b.WriteString("Authorization=")
		b.WriteString(h)
	}
	return &Error{http.StatusForbidden, CodeIncompleteSignature, b.String()}
}

// hashHeader returns base64(SHA-256(h)), how API Gateway has quoted the
// Authorization header in error messages since it stopped echoing it.
func hashHeader(h string) string {
	sum := sha256.Sum256([]byte(h))
	return base64.StdEncoding.EncodeToString(sum[:])
}
