package awsproto

import (
	"crypto/sha256"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Key is an access key known to the verifier.
type Key struct {
	AccessKeyID  string
	Secret       string
	Account      string
	SessionToken string // "" for long-term keys; temporary keys must present it
}

// DefaultSkew is the clock skew AWS allows between the signing time and the
// server's clock, in both directions.
const DefaultSkew = 5 * time.Minute

// Verifier checks AWS Signature Version 4 on incoming requests, in the header
// form (Authorization: AWS4-HMAC-SHA256 ...) and the presigned query-string
// form (X-Amz-Algorithm=...&X-Amz-Signature=...).
//
// Set the exported fields before the first Verify and do not change them
// afterwards; Verify is safe for concurrent use. A Verifier must not be
// copied after first use (it holds a signing-key cache and a buffer pool).
type Verifier struct {
	// Lookup returns the key for an access key id. nil means no key is known.
	Lookup func(accessKeyID string) (Key, bool)
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Skew is the allowed clock skew; 0 means DefaultSkew (5 minutes).
	Skew time.Duration

	// Service, when not empty, is the only service accepted in the
	// credential scope ("execute-api" for the data plane, "apigateway" for
	// the control plane). Empty accepts any service.
	Service string
	// Region, when not empty, is the only region accepted in the credential
	// scope. Empty accepts any region.
	Region string
	// HashAuthorization makes the IncompleteSignatureException messages
	// quote base64(SHA-256(Authorization header)) instead of the header
	// itself, as API Gateway has done since about 2021:
	//   Invalid key=value pair (missing equal-sign) in Authorization header
	//   (hashed with SHA-256 and encoded with Base64): '<hash>'.
	// What exactly AWS hashes is unconfirmed (here: the whole header value).
	// false keeps the older, widely documented texts that echo the header.
	HashAuthorization bool
	// InvalidKeyCode is the error code for an unknown access key or a
	// missing or wrong security token. "" means UnrecognizedClientException,
	// what AWS control planes send; the API Gateway data plane sends
	// AccessDeniedException (CodeAccessDenied). The message is "The security
	// token included in the request is invalid." either way.
	InvalidKeyCode string

	keys signingKeyCache
	pool sync.Pool // *scratch
}

// Identity is the result of a successful verification. Key is the key
// Lookup returned, secret included: do not log it whole.
type Identity struct {
	Key           Key
	Service       string    // service of the credential scope
	Region        string    // region of the credential scope
	Date          string    // date of the credential scope, yyyymmdd
	SignedHeaders []string  // lowercase names, as signed
	Time          time.Time // signing time (X-Amz-Date or Date), UTC
	Presigned     bool      // signature came in the query string
}

// Messages sent by AWS.
const (
	msgMissingAuthToken  = "Missing Authentication Token"
	msgInvalidToken      = "The security token included in the request is invalid."
	msgFoundBoth         = "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."
	msgHostNotSigned     = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
	msgSignatureMismatch = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgReexamineQuery = "Re-examine the query-string parameters."
	isoBasic          = "20060102T150405Z"
)

type scratch struct {
	canon []byte      // canonical request
	sts   []byte      // 64 bytes of HMAC pad, then the string to sign
	ph    []byte      // payload hash
	pairs []queryPair // query parameters
}

// sigParams are the signature parameters of a request, from either form.
type sigParams struct {
	algorithm     string
	credential    string
	signedHeaders string
	signature     string
	amzDate       string // timestamp for the string to sign, yyyymmddThhmmssZ
	t             time.Time
	token         string
	hasToken      bool
	expires       time.Duration // presigned X-Amz-Expires; 0 = not given
	contentSHA    string        // presigned X-Amz-Content-Sha256
	presigned     bool
}

// Verify checks the SigV4 signature of r. body is the whole request body,
// already read (nil means empty); it is hashed unless the request carries
// X-Amz-Content-Sha256 (which may be UNSIGNED-PAYLOAD). On failure the error
// is an *Error with AWS's status, code and message:
//
//   - no Authorization header and no X-Amz-Algorithm query parameter:
//     403 MissingAuthenticationTokenException "Missing Authentication Token"
//   - malformed header, missing parameters or date, bad date format, bad
//     algorithm, malformed credential: 403 IncompleteSignatureException
//   - clock skew beyond Skew, scope not matching Service/Region/date, Host not
//     signed, wrong signature: 403 InvalidSignatureException
//   - unknown access key, missing or wrong security token: 403
//     InvalidKeyCode (UnrecognizedClientException by default)
//
// The checks run in AWS's order: syntax, date format, expiry, signed host,
// algorithm, credential shape, credential scope, access key, signature,
// security token.
func (v *Verifier) Verify(r *http.Request, body []byte) (*Identity, error) {
	id, err := v.verify(r, body)
	if err != nil {
		return nil, err
	}
	return id, nil
}

func (v *Verifier) verify(r *http.Request, body []byte) (*Identity, *Error) {
	rawQuery := ""
	if r.URL != nil {
		rawQuery = r.URL.RawQuery
	}
	authz := firstValue(r.Header["Authorization"])
	presigned := queryHasKey(rawQuery, "X-Amz-Algorithm")
	var p sigParams
	switch {
	case authz != "" && presigned:
		return nil, invalidSignature(msgFoundBoth)
	case presigned:
		if err := parsePresigned(rawQuery, &p); err != nil {
			return nil, err
		}
		if !p.hasToken {
			p.token = firstValue(r.Header["X-Amz-Security-Token"])
			p.hasToken = p.token != ""
		}
	case authz != "":
		if err := parseHeaderForm(r, authz, v.HashAuthorization, &p); err != nil {
			return nil, err
		}
	default:
		return nil, &Error{http.StatusForbidden, CodeMissingAuthenticationToken, msgMissingAuthToken}
	}

	if err := v.checkTime(&p); err != nil {
		return nil, err
	}
	if !signsHost(p.signedHeaders) {
		return nil, invalidSignature(msgHostNotSigned)
	}
	if p.algorithm != Algorithm {
		return nil, incompleteSignature("Unsupported AWS 'algorithm': '" + p.algorithm + "' (only AWS4-HMAC-SHA256 for now). ")
	}
	scope, ok := ParseCredential(p.credential)
	if !ok {
		return nil, incompleteSignature("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '" + p.credential + "'")
	}
	if err := v.checkScope(scope, p.amzDate); err != nil {
		return nil, err
	}
	var key Key
	if v.Lookup != nil {
		key, ok = v.Lookup(scope.AccessKeyID)
	} else {
		ok = false
	}
	if !ok {
		return nil, v.invalidKey()
	}
	if err := v.checkSignature(r, body, &p, scope, &key); err != nil {
		return nil, err
	}
	if key.SessionToken != "" || p.hasToken {
		if !constantTimeEqual(key.SessionToken, p.token) {
			return nil, v.invalidKey()
		}
	}
	return &Identity{
		Key:           key,
		Service:       scope.Service,
		Region:        scope.Region,
		Date:          scope.Date,
		SignedHeaders: strings.Split(p.signedHeaders, ";"),
		Time:          p.t,
		Presigned:     p.presigned,
	}, nil
}

// parseHeaderForm fills p from the Authorization header and the date and
// token headers.
func parseHeaderForm(r *http.Request, authz string, hashed bool, p *sigParams) *Error {
	a, missing, err := parseAuthorization(authz, hashed)
	if err != nil {
		return err
	}
	dateStr := firstValue(r.Header["X-Amz-Date"])
	useDateHeader := false
	if dateStr == "" {
		dateStr = firstValue(r.Header["Date"])
		useDateHeader = dateStr != ""
	}
	if missing != 0 || dateStr == "" {
		return missingParamsError(authz, missing, dateStr == "", hashed)
	}
	p.algorithm, p.credential, p.signedHeaders, p.signature = a.Algorithm, a.Credential, a.SignedHeaders, a.Signature
	if useDateHeader {
		t, ok := parseHTTPDate(dateStr)
		if !ok {
			return badDateFormat(dateStr)
		}
		p.t = t
		p.amzDate = p.t.Format(isoBasic)
	} else {
		t, ok := parseISOBasic(dateStr)
		if !ok {
			return badDateFormat(dateStr)
		}
		p.t, p.amzDate = t, dateStr
	}
	p.token = firstValue(r.Header["X-Amz-Security-Token"])
	p.hasToken = p.token != ""
	return nil
}

// parsePresigned fills p from the X-Amz-* query parameters (the first
// occurrence of each).
func parsePresigned(rawQuery string, p *sigParams) *Error {
	p.presigned = true
	var seen [8]bool
	var expires string
	for rest := rawQuery; rest != ""; {
		var part string
		part, rest, _ = strings.Cut(rest, "&")
		k, val, _ := strings.Cut(part, "=")
		if !strings.HasPrefix(k, "X-Amz-") {
			continue
		}
		var dst *string
		var i int
		switch k[len("X-Amz-"):] {
		case "Algorithm":
			i, dst = 0, &p.algorithm
		case "Credential":
			i, dst = 1, &p.credential
		case "Signature":
			i, dst = 2, &p.signature
		case "SignedHeaders":
			i, dst = 3, &p.signedHeaders
		case "Date":
			i, dst = 4, &p.amzDate
		case "Expires":
			i, dst = 5, &expires
		case "Security-Token":
			i, dst = 6, &p.token
		case "Content-Sha256":
			i, dst = 7, &p.contentSHA
		default:
			continue
		}
		if !seen[i] {
			seen[i] = true
			*dst = queryUnescape(val)
		}
	}
	p.hasToken = p.token != ""
	var msg strings.Builder
	for _, m := range []struct {
		v    string
		name string
	}{
		{p.algorithm, "X-Amz-Algorithm"},
		{p.credential, "X-Amz-Credential"},
		{p.signature, "X-Amz-Signature"},
		{p.signedHeaders, "X-Amz-SignedHeaders"},
		{p.amzDate, "X-Amz-Date"},
	} {
		if m.v == "" {
			msg.WriteString("AWS query-string parameters must include '" + m.name + "'. ")
		}
	}
	if msg.Len() > 0 {
		msg.WriteString(msgReexamineQuery)
		return incompleteSignature(msg.String())
	}
	t, ok := parseISOBasic(p.amzDate)
	if !ok {
		return badDateFormat(p.amzDate)
	}
	p.t = t
	if seen[5] {
		n, err := strconv.ParseInt(expires, 10, 64)
		switch {
		case err != nil:
			return incompleteSignature("X-Amz-Expires should be a number. " + msgReexamineQuery)
		case n < 0:
			return incompleteSignature("X-Amz-Expires must be non-negative. " + msgReexamineQuery)
		case n > 604800:
			return incompleteSignature("X-Amz-Expires must be less than a week (in seconds) that is 604800. " + msgReexamineQuery)
		}
		p.expires = time.Duration(n) * time.Second
	}
	return nil
}

// checkTime rejects a signing time outside the allowed window: Skew on
// both sides, or for presigned URLs with X-Amz-Expires, [t-Skew, t+Expires].
func (v *Verifier) checkTime(p *sigParams) *Error {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	n := now().UTC().Truncate(time.Second)
	skew := v.Skew
	if skew <= 0 {
		skew = DefaultSkew
	}
	past := skew
	if p.presigned && p.expires > 0 {
		past = p.expires
	}
	if p.t.Before(n.Add(-past)) {
		return invalidSignature("Signature expired: " + p.amzDate + " is now earlier than " +
			n.Add(-past).Format(isoBasic) + " (" + n.Format(isoBasic) + " - " + durationText(past) + ".)")
	}
	if p.t.After(n.Add(skew)) {
		return invalidSignature("Signature not yet current: " + p.amzDate + " is still later than " +
			n.Add(skew).Format(isoBasic) + " (" + n.Format(isoBasic) + " + " + durationText(skew) + ".)")
	}
	return nil
}

// durationText renders a window the way AWS does ("5 min"; seconds when not
// a whole number of minutes).
func durationText(d time.Duration) string {
	if d%time.Minute == 0 {
		return strconv.FormatInt(int64(d/time.Minute), 10) + " min"
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + " sec"
}

// checkScope compares the credential scope with the configured service and
// region and the signing date. All failures are reported together, as AWS
// does.
func (v *Verifier) checkScope(s Scope, amzDate string) *Error {
	var msg string
	if v.Region != "" && s.Region != v.Region {
		msg += "Credential should be scoped to a valid region. "
	}
	if v.Service != "" && s.Service != v.Service {
		msg += "Credential should be scoped to correct service: '" + v.Service + "'. "
	}
	if s.Terminator != "aws4_request" {
		msg += "Credential should be scoped with a valid terminator: 'aws4_request', not '" + s.Terminator + "'. "
	}
	if s.Date != amzDate[:8] {
		msg += "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '" +
			s.Date + "' != '" + amzDate[:8] + "', from '" + amzDate + "'."
	}
	if msg != "" {
		return invalidSignature(msg)
	}
	return nil
}

// checkSignature computes the expected signature and compares it with the
// one sent. The canonical path is first the normalized path (dot segments
// and repeated slashes removed, as botocore and the SigV4 specification do);
// when that differs from the raw path and does not match, the raw path is
// tried too (the Go SDK signs it unnormalized).
func (v *Verifier) checkSignature(r *http.Request, body []byte, p *sigParams, scope Scope, key *Key) *Error {
	sc, _ := v.pool.Get().(*scratch)
	if sc == nil {
		sc = &scratch{canon: make([]byte, 0, 1024), sts: make([]byte, 0, 256), ph: make([]byte, 0, 64)}
	}
	defer v.putScratch(sc)

	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	raw := rawPath(r)
	in := canonicalInput{
		r:             r,
		method:        method,
		path:          normalizePath(raw),
		presigned:     p.presigned,
		signedHeaders: p.signedHeaders,
	}
	if r.URL != nil {
		in.rawQuery = r.URL.RawQuery
	}
	sc.ph = sc.ph[:0]
	if h := firstValue(r.Header["X-Amz-Content-Sha256"]); h != "" {
		sc.ph = append(sc.ph, h...)
	} else if p.contentSHA != "" {
		sc.ph = append(sc.ph, p.contentSHA...)
	} else {
		sum := sha256.Sum256(body)
		for _, c := range sum {
			sc.ph = append(sc.ph, hexDigits[c>>4], hexDigits[c&15])
		}
	}
	in.payloadHash = sc.ph
	signingKey := v.keys.get(key.Secret, scope.Date, scope.Region, scope.Service)

	if v.matches(sc, &in, p, scope, &signingKey) {
		return nil
	}
	canon, sts := string(sc.canon), string(sc.sts[64:])
	if raw != in.path && raw != "" {
		in.path = raw
		if v.matches(sc, &in, p, scope, &signingKey) {
			return nil
		}
	}
	return invalidSignature(msgSignatureMismatch +
		"\n\nThe Canonical String for this request should have been\n'" + canon +
		"'\n\nThe String-to-Sign should have been\n'" + sts + "'\n")
}

// matches builds the canonical request and string to sign into sc and
// reports whether p.signature is the right signature.
func (v *Verifier) matches(sc *scratch, in *canonicalInput, p *sigParams, scope Scope, signingKey *[sha256.Size]byte) bool {
	sc.canon = sc.canon[:0]
	sc.canon, sc.pairs = appendCanonicalRequest(sc.canon, in, sc.pairs)
	hash := sha256.Sum256(sc.canon)

	sts := append(sc.sts[:0], make([]byte, 64)...) // room for the HMAC pad
	sts = append(sts, Algorithm...)
	sts = append(sts, '\n')
	sts = append(sts, p.amzDate...)
	sts = append(sts, '\n')
	sts = append(sts, scope.Date...)
	sts = append(sts, '/')
	sts = append(sts, scope.Region...)
	sts = append(sts, '/')
	sts = append(sts, scope.Service...)
	sts = append(sts, '/')
	sts = append(sts, scope.Terminator...)
	sts = append(sts, '\n')
	for _, c := range hash {
		sts = append(sts, hexDigits[c>>4], hexDigits[c&15])
	}
	sc.sts = sts
	want := signWithKey(signingKey, sts)
	return constantTimeEqualBytes(want[:], p.signature)
}

func (v *Verifier) putScratch(sc *scratch) {
	if cap(sc.canon) > 64<<10 || cap(sc.pairs) > 256 {
		return // do not keep unusually large buffers
	}
	clear(sc.pairs[:cap(sc.pairs)]) // drop references to request strings
	v.pool.Put(sc)
}

func (v *Verifier) invalidKey() *Error {
	code := v.InvalidKeyCode
	if code == "" {
		code = CodeUnrecognizedClient
	}
	return &Error{http.StatusForbidden, code, msgInvalidToken}
}

func invalidSignature(msg string) *Error {
	return &Error{http.StatusForbidden, CodeInvalidSignature, msg}
}

func incompleteSignature(msg string) *Error {
	return &Error{http.StatusForbidden, CodeIncompleteSignature, msg}
}

func badDateFormat(got string) *Error {
	return incompleteSignature("Date must be in ISO-8601 'basic format'. Got '" + got + "'. See http://en.wikipedia.org/wiki/ISO_8601")
}

func firstValue(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// signsHost reports whether the semicolon-separated list names host (in any
// case).
func signsHost(signedHeaders string) bool {
	for rest := signedHeaders; rest != ""; {
		var name string
		name, rest, _ = strings.Cut(rest, ";")
		if strings.EqualFold(name, "host") || name == ":authority" {
			return true
		}
	}
	return false
}

// queryHasKey reports whether the raw query has a parameter named key.
func queryHasKey(rawQuery, key string) bool {
	if !strings.Contains(rawQuery, key) {
		return false
	}
	for rest := rawQuery; rest != ""; {
		var part string
		part, rest, _ = strings.Cut(rest, "&")
		if k, _, _ := strings.Cut(part, "="); k == key {
			return true
		}
	}
	return false
}

// parseHTTPDate parses a Date header: RFC 1123 with a zone name or a
// numeric zone (botocore sends "Tue, 05 Mar 2024 12:34:56 -0000"), RFC 850
// or ANSI C asctime.
func parseHTTPDate(s string) (time.Time, bool) {
	for _, layout := range []string{http.TimeFormat, time.RFC1123Z, time.RFC1123, time.RFC850, time.ANSIC} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// parseISOBasic parses "yyyymmddThhmmssZ".
func parseISOBasic(s string) (time.Time, bool) {
	if len(s) != len(isoBasic) || s[8] != 'T' || s[15] != 'Z' {
		return time.Time{}, false
	}
	num := func(a, b int) (int, bool) {
		n := 0
		for i := a; i < b; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	y, ok1 := num(0, 4)
	mo, ok2 := num(4, 6)
	d, ok3 := num(6, 8)
	h, ok4 := num(9, 11)
	mi, ok5 := num(11, 13)
	se, ok6 := num(13, 15)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59 {
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, se, 0, time.UTC)
	if t.Day() != d { // e.g. February 30
		return time.Time{}, false
	}
	return t, true
}

func constantTimeEqual(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var d byte
	for i := 0; i < len(a); i++ {
		d |= a[i] ^ b[i]
	}
	return d == 0
}

func constantTimeEqualBytes(a []byte, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var d byte
	for i := range a {
		d |= a[i] ^ b[i]
	}
	return d == 0
}
