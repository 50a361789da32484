package policy

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Key names a condition key that gatehouse carries as a typed field of [Context].
// Keys not listed here travel in [Context.Extra].
type Key uint8

// The typed condition keys. Their IAM names are case-insensitive
// ("aws:sourcevpce" is aws:SourceVpce).
const (
	keyNone             Key = iota
	KeySourceVpc            // aws:SourceVpc (string)
	KeySourceVpce           // aws:SourceVpce (string)
	KeyVpcSourceIp          // aws:VpcSourceIp (netip.Addr)
	KeySourceIp             // aws:SourceIp (netip.Addr)
	KeyCurrentTime          // aws:CurrentTime (time.Time)
	KeyEpochTime            // aws:EpochTime (int64 seconds)
	KeySecureTransport      // aws:SecureTransport (bool)
	KeyUserAgent            // aws:UserAgent (string)
	KeyReferer              // aws:Referer (string)
	KeyPrincipalAccount     // aws:PrincipalAccount (string)
	KeyPrincipalArn         // aws:PrincipalArn (string)
	KeyPrincipalOrgID       // aws:PrincipalOrgID (string)
	KeyUserID               // aws:userid (string)
	KeyUsername             // aws:username (string)
	KeyPrincipalType        // aws:PrincipalType (string)
	KeyViaDomainArn         // execute-api:viaDomainArn (string)
	numKeys
)

// String returns the canonical IAM spelling of k.
func (k Key) String() string {
	switch k {
	case KeySourceVpc:
		return "aws:SourceVpc"
	case KeySourceVpce:
		return "aws:SourceVpce"
	case KeyVpcSourceIp:
		return "aws:VpcSourceIp"
	case KeySourceIp:
		return "aws:SourceIp"
	case KeyCurrentTime:
		return "aws:CurrentTime"
	case KeyEpochTime:
		return "aws:EpochTime"
	case KeySecureTransport:
		return "aws:SecureTransport"
	case KeyUserAgent:
		return "aws:UserAgent"
	case KeyReferer:
		return "aws:Referer"
	case KeyPrincipalAccount:
		return "aws:PrincipalAccount"
	case KeyPrincipalArn:
		return "aws:PrincipalArn"
	case KeyPrincipalOrgID:
		return "aws:PrincipalOrgID"
	case KeyUserID:
		return "aws:userid"
	case KeyUsername:
		return "aws:username"
	case KeyPrincipalType:
		return "aws:PrincipalType"
	case KeyViaDomainArn:
		return "execute-api:viaDomainArn"
	}
	return "Key(" + strconv.Itoa(int(k)) + ")"
}

// LookupKey maps a condition key name (any case) to its typed [Key].
// ok is false for keys that live in [Context.Extra].
func LookupKey(name string) (k Key, ok bool) {
	k = lookupLower(strings.ToLower(name))
	return k, k != keyNone
}

// lookupLower maps an already lower-cased key name to its Key (keyNone if untyped).
func lookupLower(lower string) Key {
	switch lower {
	case "aws:sourcevpc":
		return KeySourceVpc
	case "aws:sourcevpce":
		return KeySourceVpce
	case "aws:vpcsourceip":
		return KeyVpcSourceIp
	case "aws:sourceip":
		return KeySourceIp
	case "aws:currenttime":
		return KeyCurrentTime
	case "aws:epochtime":
		return KeyEpochTime
	case "aws:securetransport":
		return KeySecureTransport
	case "aws:useragent":
		return KeyUserAgent
	case "aws:referer":
		return KeyReferer
	case "aws:principalaccount":
		return KeyPrincipalAccount
	case "aws:principalarn":
		return KeyPrincipalArn
	case "aws:principalorgid":
		return KeyPrincipalOrgID
	case "aws:userid":
		return KeyUserID
	case "aws:username":
		return KeyUsername
	case "aws:principaltype":
		return KeyPrincipalType
	case "execute-api:viadomainarn":
		return KeyViaDomainArn
	}
	return keyNone
}

// keyType is the Go type a typed key is carried as.
type keyType uint8

const (
	typeString keyType = iota
	typeAddr
	typeTime
	typeInt
	typeBool
)

func (k Key) typ() keyType {
	switch k {
	case KeyVpcSourceIp, KeySourceIp:
		return typeAddr
	case KeyCurrentTime:
		return typeTime
	case KeyEpochTime:
		return typeInt
	case KeySecureTransport:
		return typeBool
	}
	return typeString
}

// KeySet is a set of typed keys: the present-flags of a [Context].
type KeySet uint32

// Has reports whether k is in s.
func (s KeySet) Has(k Key) bool { return s&(1<<k) != 0 }

// With returns s plus k.
func (s KeySet) With(k Key) KeySet { return s | 1<<k }

// Without returns s minus k.
func (s KeySet) Without(k Key) KeySet { return s &^ (1 << k) }

// Context carries the condition-key values of one request.
//
// A typed field counts only when its key is in Present; the Set* methods keep
// the two in step. A present string key whose value is "" is treated as absent
// (IAM: a value that "resolves to a null dataset, such as an empty string"),
// and so is an invalid netip.Addr or a zero time.Time.
//
// Extra holds every other key (aws:PrincipalTag/..., aws:SourceArn, ...) by its
// lower-cased name; a key with no values, or only empty strings, is absent.
// Multi-valued keys are what ForAnyValue:/ForAllValues: iterate over.
//
// aws:PrincipalAccount and aws:PrincipalArn fall back to [Request.Principal]
// (the account taken from its ARN when Account is empty) when not set here, and aws:CurrentTime and aws:EpochTime each fall back to the other.
//
// A Context is read-only during [Policy.Evaluate] and may be shared by
// concurrent evaluations.
type Context struct {
	SourceVpc        string
	SourceVpce       string
	VpcSourceIp      netip.Addr
	SourceIp         netip.Addr
	CurrentTime      time.Time
	EpochTime        int64
	SecureTransport  bool
	UserAgent        string
	Referer          string
	PrincipalAccount string
	PrincipalArn     string
	PrincipalOrgID   string
	UserID           string
	Username         string
	PrincipalType    string
	ViaDomainArn     string

	// Extra maps lower-cased key names to their values.
	Extra map[string][]string

	// Present flags the typed fields that carry a value.
	Present KeySet
}

// Has reports whether the typed key k is set.
func (c *Context) Has(k Key) bool { return c != nil && c.Present.Has(k) }

// Reset clears c for reuse, keeping the Extra map's storage.
func (c *Context) Reset() {
	extra := c.Extra
	clear(extra)
	*c = Context{Extra: extra}
}

// SetString sets a string-typed key and marks it present. It reports false, and
// changes nothing, when k is not string-typed.
func (c *Context) SetString(k Key, v string) bool {
	p := c.stringField(k)
	if p == nil {
		return false
	}
	*p = v
	c.Present = c.Present.With(k)
	return true
}

// SetAddr sets aws:SourceIp or aws:VpcSourceIp. It reports false for other keys.
func (c *Context) SetAddr(k Key, a netip.Addr) bool {
	switch k {
	case KeySourceIp:
		c.SourceIp = a
	case KeyVpcSourceIp:
		c.VpcSourceIp = a
	default:
		return false
	}
	c.Present = c.Present.With(k)
	return true
}

// SetTime sets aws:CurrentTime and aws:EpochTime from the request time.
func (c *Context) SetTime(t time.Time) {
	c.CurrentTime = t
	c.EpochTime = t.Unix()
	c.Present = c.Present.With(KeyCurrentTime).With(KeyEpochTime)
}

// SetSecureTransport sets aws:SecureTransport.
func (c *Context) SetSecureTransport(v bool) {
	c.SecureTransport = v
	c.Present = c.Present.With(KeySecureTransport)
}

// SetExtra sets a key by name. Names of typed keys are routed to their typed
// field (IP, time, epoch and bool values are parsed; an unparsable value
// leaves the key absent). Any other name is stored lower-cased in Extra.
func (c *Context) SetExtra(name string, values ...string) {
	lower := strings.ToLower(name)
	if k := lookupLower(lower); k != keyNone {
		c.Present = c.Present.Without(k)
		if len(values) == 0 {
			return
		}
		v := values[0]
		switch k.typ() {
		case typeString:
			c.SetString(k, v)
		case typeAddr:
			if a, ok := parseAddr(v); ok {
				c.SetAddr(k, a)
			}
		case typeTime:
			if d, ok := parseDate(v); ok {
				c.CurrentTime = d.t
				c.Present = c.Present.With(KeyCurrentTime)
			}
		case typeInt:
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				c.EpochTime = n
				c.Present = c.Present.With(KeyEpochTime)
			}
		case typeBool:
			if b, ok := parseBoolString(v); ok {
				c.SetSecureTransport(b)
			}
		}
		return
	}
	if c.Extra == nil {
		c.Extra = make(map[string][]string)
	}
	c.Extra[lower] = values
}

func (c *Context) stringField(k Key) *string {
	switch k {
	case KeySourceVpc:
		return &c.SourceVpc
	case KeySourceVpce:
		return &c.SourceVpce
	case KeyUserAgent:
		return &c.UserAgent
	case KeyReferer:
		return &c.Referer
	case KeyPrincipalAccount:
		return &c.PrincipalAccount
	case KeyPrincipalArn:
		return &c.PrincipalArn
	case KeyPrincipalOrgID:
		return &c.PrincipalOrgID
	case KeyUserID:
		return &c.UserID
	case KeyUsername:
		return &c.Username
	case KeyPrincipalType:
		return &c.PrincipalType
	case KeyViaDomainArn:
		return &c.ViaDomainArn
	}
	return nil
}

// keyRef is a compiled reference to a condition key: typed, or by lower-cased
// name into Context.Extra.
type keyRef struct {
	known Key
	name  string // lower-cased name (Extra lookup) when known == keyNone
	orig  string // as written in the policy, for messages
}

func newKeyRef(name string) keyRef {
	lower := strings.ToLower(name)
	return keyRef{known: lookupLower(lower), name: lower, orig: name}
}

// The accessors below read a key's values for one request. count returns how
// many values are present (0 = absent); the typed getters return value i.
// None of them allocates, except str on a non-string typed key, which must
// format the value (a rare, type-mismatched use such as StringEquals on
// aws:SourceIp).

func (r *Request) stringKey(k Key) string {
	c := r.Context
	if c != nil && c.Present.Has(k) {
		if p := c.stringField(k); p != nil && *p != "" {
			return *p
		}
	}
	if !r.Principal.Anonymous {
		switch k {
		case KeyPrincipalAccount:
			return r.Principal.account()
		case KeyPrincipalArn:
			return r.Principal.ARN
		}
	}
	return ""
}

func (r *Request) epoch() (int64, bool) {
	c := r.Context
	if c == nil {
		return 0, false
	}
	if c.Present.Has(KeyEpochTime) {
		return c.EpochTime, true
	}
	if c.Present.Has(KeyCurrentTime) && !c.CurrentTime.IsZero() {
		return c.CurrentTime.Unix(), true
	}
	return 0, false
}

func (r *Request) currentTime() (time.Time, bool) {
	c := r.Context
	if c == nil {
		return time.Time{}, false
	}
	if c.Present.Has(KeyCurrentTime) && !c.CurrentTime.IsZero() {
		return c.CurrentTime, true
	}
	if c.Present.Has(KeyEpochTime) {
		return time.Unix(c.EpochTime, 0), true
	}
	return time.Time{}, false
}

func (r *Request) count(k *keyRef) int {
	if k.known == keyNone {
		if r.Context == nil {
			return 0
		}
		vs := r.Context.Extra[k.name]
		for _, v := range vs {
			if v != "" {
				return len(vs)
			}
		}
		return 0
	}
	switch k.known.typ() {
	case typeString:
		if r.stringKey(k.known) != "" {
			return 1
		}
	case typeAddr:
		if a, ok := r.addrKey(k.known); ok && a.IsValid() {
			return 1
		}
	case typeTime:
		if _, ok := r.currentTime(); ok {
			return 1
		}
	case typeInt:
		if _, ok := r.epoch(); ok {
			return 1
		}
	case typeBool:
		if r.Context.Has(KeySecureTransport) {
			return 1
		}
	}
	return 0
}

func (r *Request) addrKey(k Key) (netip.Addr, bool) {
	c := r.Context
	if c == nil || !c.Present.Has(k) {
		return netip.Addr{}, false
	}
	if k == KeySourceIp {
		return c.SourceIp, c.SourceIp.IsValid()
	}
	return c.VpcSourceIp, c.VpcSourceIp.IsValid()
}

// str returns value i of k as a string.
func (r *Request) str(k *keyRef, i int) string {
	if k.known == keyNone {
		if r.Context == nil {
			return ""
		}
		vs := r.Context.Extra[k.name]
		if i >= len(vs) {
			return ""
		}
		return vs[i]
	}
	switch k.known.typ() {
	case typeString:
		return r.stringKey(k.known)
	case typeAddr:
		a, _ := r.addrKey(k.known)
		return a.String()
	case typeTime:
		t, _ := r.currentTime()
		return t.UTC().Format(time.RFC3339)
	case typeInt:
		n, _ := r.epoch()
		return strconv.FormatInt(n, 10)
	case typeBool:
		return strconv.FormatBool(r.Context != nil && r.Context.SecureTransport)
	}
	return ""
}

func (r *Request) addr(k *keyRef, i int) (netip.Addr, bool) {
	if k.known != keyNone && k.known.typ() == typeAddr {
		return r.addrKey(k.known)
	}
	if k.known != keyNone && k.known.typ() != typeString {
		return netip.Addr{}, false
	}
	return parseAddr(r.str(k, i))
}

func (r *Request) num(k *keyRef, i int) (float64, bool) {
	if k.known != keyNone {
		switch k.known.typ() {
		case typeInt:
			n, ok := r.epoch()
			return float64(n), ok
		case typeString:
		default:
			return 0, false
		}
	}
	return parseNumber(r.str(k, i))
}

func (r *Request) date(k *keyRef, i int) (time.Time, bool) {
	if k.known != keyNone {
		switch k.known.typ() {
		case typeTime, typeInt:
			return r.currentTime()
		case typeString:
		default:
			return time.Time{}, false
		}
	}
	d, ok := parseDate(r.str(k, i))
	return d.t, ok
}

func (r *Request) boolean(k *keyRef, i int) (bool, bool) {
	if k.known != keyNone {
		switch k.known.typ() {
		case typeBool:
			if !r.Context.Has(KeySecureTransport) {
				return false, false
			}
			return r.Context.SecureTransport, true
		case typeString:
		default:
			return false, false
		}
	}
	return parseBoolString(r.str(k, i))
}

// varValue resolves a policy variable such as ${aws:SourceVpce}. Multi-valued
// keys cannot be policy variables (IAM), so an Extra key resolves only when it
// has exactly one value.
func (r *Request) varValue(k *keyRef) (string, bool) {
	if k.known == keyNone {
		if r.Context == nil {
			return "", false
		}
		vs := r.Context.Extra[k.name]
		if len(vs) != 1 || vs[0] == "" {
			return "", false
		}
		return vs[0], true
	}
	if r.count(k) == 0 {
		return "", false
	}
	return r.str(k, 0), true
}

func parseAddr(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a, true
}

func parseBoolString(s string) (bool, bool) {
	switch {
	case strings.EqualFold(s, "true"):
		return true, true
	case strings.EqualFold(s, "false"):
		return false, true
	}
	return false, false
}
