package authorizer

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gatehouse/internal/policy"
)

// aws:PrincipalType values.
const (
	PrincipalTypeUser        = "User"
	PrincipalTypeAssumedRole = "AssumedRole"
	PrincipalTypeAccount     = "Account" // the account's root user
)

// Principal is an IAM identity that owns an access key.
type Principal struct {
	// Account is the 12-digit account id (aws:PrincipalAccount).
	Account string
	// ARN is the caller's ARN as AWS reports it in messages:
	// arn:aws:iam::ACCOUNT:user/PATH/NAME, arn:aws:iam::ACCOUNT:root, or
	// arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION for role sessions.
	ARN string
	// PrincipalARN is aws:PrincipalArn when it differs from ARN: the role's
	// ARN (arn:aws:iam::ACCOUNT:role/PATH/NAME) for a role session. Empty
	// means ARN.
	PrincipalARN string
	// UserID is aws:userid: the user's unique id (AIDA...), "ROLEID:SESSION"
	// for a role session, the account id for the root user.
	UserID string
	// Username is aws:username; set for IAM users only.
	Username string
	// Type is aws:PrincipalType: User, AssumedRole or Account.
	Type string
	// OrgID is aws:PrincipalOrgID; empty when the account is in no
	// organization.
	OrgID string
	// SessionToken is the token temporary credentials must present
	// (X-Amz-Security-Token); empty for long-term keys.
	SessionToken string
	// Expiration is when temporary credentials expire; zero for long-term
	// keys.
	Expiration time.Time
}

// PolicyARN returns the ARN identity policies are attached to and
// aws:PrincipalArn: PrincipalARN, or ARN when that is empty.
func (p *Principal) PolicyARN() string {
	if p.PrincipalARN != "" {
		return p.PrincipalARN
	}
	return p.ARN
}

// PrincipalDirectory is where IAM authorization finds callers: the owner and
// secret of an access key, and the identity policies of a principal. It is
// called on every AWS_IAM request and must be fast and safe for concurrent
// use. Directory is the in-memory implementation.
type PrincipalDirectory interface {
	// LookupAccessKey returns the principal owning access key akid and the
	// key's secret. Expired temporary credentials are still returned (with
	// their Expiration), so that callers can report EXPIRED_TOKEN.
	LookupAccessKey(akid string) (p Principal, secret string, ok bool)
	// IdentityPolicies returns the compiled identity policies of the
	// principal with the given ARN (Principal.PolicyARN: the role ARN for
	// role sessions). The slice is shared and must not be modified.
	IdentityPolicies(principalARN string) []*policy.Policy
}

// DirectoryConfig describes the IAM principals gatehouse knows, in the
// shape of the topology file.
type DirectoryConfig struct {
	// Partition is the ARN partition; "" means "aws".
	Partition string
	// Accounts are the accounts and their principals.
	Accounts []DirectoryAccount
}

// DirectoryAccount is one account.
type DirectoryAccount struct {
	// ID is the 12-digit account id.
	ID string
	// OrgID is the id of the organization the account is in (o-...), or "".
	OrgID string
	// AccessKeys are the root user's access keys (the topology's account
	// keys). The root user may do anything in its own account.
	AccessKeys []AccessKey
	// Users are IAM users.
	Users []DirectoryUser
	// Roles are IAM roles, which AssumeRole turns into temporary
	// credentials.
	Roles []DirectoryRole
}

// AccessKey is an access key id and its secret.
type AccessKey struct {
	ID     string
	Secret string
}

// String describes the key without its secret.
func (k AccessKey) String() string { return k.ID + "/<redacted>" }

// InlinePolicy is a named identity policy (PutUserPolicy/PutRolePolicy).
type InlinePolicy struct {
	Name     string
	Document []byte // IAM policy JSON
}

// DirectoryUser is an IAM user.
type DirectoryUser struct {
	// Name is the user name (aws:username).
	Name string
	// Path is the IAM path; "" means "/".
	Path string
	// UserID is the unique id (AIDA...); "" derives a stable one from the ARN.
	UserID string
	// AccessKeys are the user's long-term keys.
	AccessKeys []AccessKey
	// Policies are the user's identity policies.
	Policies []InlinePolicy
}

// DirectoryRole is an IAM role.
type DirectoryRole struct {
	// Name is the role name.
	Name string
	// Path is the IAM path; "" means "/".
	Path string
	// RoleID is the unique id (AROA...); "" derives a stable one from the ARN.
	RoleID string
	// Policies are the role's identity policies; role sessions get them.
	Policies []InlinePolicy
	// TrustedPrincipals may assume the role: "*", account ids (every
	// principal of the account), or principal ARNs (arn:...:root is the
	// whole account). Empty means the role's own account.
	TrustedPrincipals []string
	// MaxSessionDuration caps AssumeRole's duration; 0 means 1 hour.
	MaxSessionDuration time.Duration
}

// Credentials are temporary credentials returned by AssumeRole.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
	// AssumedRoleARN is arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION.
	AssumedRoleARN string
	// AssumedRoleID is ROLEID:SESSION.
	AssumedRoleID string
}

// Directory is an in-memory PrincipalDirectory: users, roles and root keys
// loaded from a DirectoryConfig, plus temporary credentials issued by
// AssumeRole. Lookups take no lock for static keys; all methods are safe for
// concurrent use.
type Directory struct {
	now  func() time.Time
	rand io.Reader

	static atomic.Pointer[dirState] // replaced whole by Load

	mu       sync.RWMutex            // guards sessions
	sessions map[string]*sessionCred // by access key id
}

type dirState struct {
	partition string
	keys      map[string]*keyEntry        // access key id -> owner
	policies  map[string][]*policy.Policy // principal ARN -> identity policies
	roles     map[string]*roleEntry       // role ARN -> role
}

type keyEntry struct {
	p      Principal
	secret string
}

type roleEntry struct {
	account string
	orgID   string
	arn     string
	name    string
	id      string
	trusted []string
	maxDur  time.Duration
}

type sessionCred struct {
	p      Principal
	secret string
}

// DirectoryOption configures a Directory.
type DirectoryOption func(*Directory)

// WithClock sets the Directory's clock (default time.Now).
func WithClock(now func() time.Time) DirectoryOption {
	return func(d *Directory) { d.now = now }
}

// WithRandom sets the source of credential randomness (default crypto/rand).
func WithRandom(r io.Reader) DirectoryOption {
	return func(d *Directory) { d.rand = r }
}

// NewDirectory builds a Directory from cfg, compiling every identity policy.
func NewDirectory(cfg DirectoryConfig, opts ...DirectoryOption) (*Directory, error) {
	d := &Directory{now: time.Now, rand: rand.Reader, sessions: make(map[string]*sessionCred)}
	for _, o := range opts {
		o(d)
	}
	if err := d.Load(cfg); err != nil {
		return nil, err
	}
	return d, nil
}

// Load replaces the configured principals with cfg (for a topology
// reload). Temporary credentials already issued stay valid while their role
// still exists. On error nothing changes.
func (d *Directory) Load(cfg DirectoryConfig) error {
	st, err := buildDirState(cfg)
	if err != nil {
		return err
	}
	d.static.Store(st)
	d.mu.Lock()
	for k, s := range d.sessions {
		if _, ok := st.roles[s.p.PrincipalARN]; !ok {
			delete(d.sessions, k)
		}
	}
	d.mu.Unlock()
	return nil
}

func buildDirState(cfg DirectoryConfig) (*dirState, error) {
	part := cfg.Partition
	if part == "" {
		part = "aws"
	}
	st := &dirState{
		partition: part,
		keys:      make(map[string]*keyEntry),
		policies:  make(map[string][]*policy.Policy),
		roles:     make(map[string]*roleEntry),
	}
	addKey := func(k AccessKey, p Principal) error {
		if !validAccessKeyID(k.ID) {
			return fmt.Errorf("access key id %q: want 16 to 128 characters of A-Z and 0-9", k.ID)
		}
		if k.Secret == "" {
			return fmt.Errorf("access key %s: empty secret", k.ID)
		}
		if _, dup := st.keys[k.ID]; dup {
			return fmt.Errorf("access key %s is listed twice", k.ID)
		}
		st.keys[k.ID] = &keyEntry{p: p, secret: k.Secret}
		return nil
	}
	compile := func(owner string, ps []InlinePolicy) ([]*policy.Policy, error) {
		out := make([]*policy.Policy, 0, len(ps))
		for _, ip := range ps {
			pol, err := policy.Parse(ip.Document)
			if err != nil {
				return nil, fmt.Errorf("%s: policy %q: %w", owner, ip.Name, err)
			}
			out = append(out, pol)
		}
		return out, nil
	}
	seenAcct := make(map[string]bool)
	for _, a := range cfg.Accounts {
		if !isAccountID(a.ID) {
			return nil, fmt.Errorf("account id %q: want 12 digits", a.ID)
		}
		if seenAcct[a.ID] {
			return nil, fmt.Errorf("account %s is listed twice", a.ID)
		}
		seenAcct[a.ID] = true
		root := Principal{
			Account: a.ID,
			ARN:     "arn:" + part + ":iam::" + a.ID + ":root",
			UserID:  a.ID,
			Type:    PrincipalTypeAccount,
			OrgID:   a.OrgID,
		}
		for _, k := range a.AccessKeys {
			if err := addKey(k, root); err != nil {
				return nil, fmt.Errorf("account %s: %w", a.ID, err)
			}
		}
		for _, u := range a.Users {
			path, err := iamPath(u.Path)
			if err != nil {
				return nil, fmt.Errorf("account %s: user %q: %w", a.ID, u.Name, err)
			}
			if !validIAMName(u.Name) {
				return nil, fmt.Errorf("account %s: user name %q is not valid", a.ID, u.Name)
			}
			arn := "arn:" + part + ":iam::" + a.ID + ":user" + path + u.Name
			if _, dup := st.policies[arn]; dup {
				return nil, fmt.Errorf("account %s: user %q is listed twice", a.ID, u.Name)
			}
			id := u.UserID
			if id == "" {
				id = derivedID("AIDA", arn)
			}
			p := Principal{Account: a.ID, ARN: arn, UserID: id, Username: u.Name, Type: PrincipalTypeUser, OrgID: a.OrgID}
			for _, k := range u.AccessKeys {
				if err := addKey(k, p); err != nil {
					return nil, fmt.Errorf("account %s: user %s: %w", a.ID, u.Name, err)
				}
			}
			pols, err := compile("user "+u.Name, u.Policies)
			if err != nil {
				return nil, fmt.Errorf("account %s: %w", a.ID, err)
			}
			st.policies[arn] = pols
		}
		for _, r := range a.Roles {
			path, err := iamPath(r.Path)
			if err != nil {
				return nil, fmt.Errorf("account %s: role %q: %w", a.ID, r.Name, err)
			}
			if !validIAMName(r.Name) {
				return nil, fmt.Errorf("account %s: role name %q is not valid", a.ID, r.Name)
			}
			arn := "arn:" + part + ":iam::" + a.ID + ":role" + path + r.Name
			if _, dup := st.roles[arn]; dup {
				return nil, fmt.Errorf("account %s: role %q is listed twice", a.ID, r.Name)
			}
			id := r.RoleID
			if id == "" {
				id = derivedID("AROA", arn)
			}
			maxDur := r.MaxSessionDuration
			if maxDur == 0 {
				maxDur = time.Hour
			}
			if maxDur < 15*time.Minute || maxDur > 12*time.Hour {
				return nil, fmt.Errorf("account %s: role %s: maxSessionDuration must be 15 minutes to 12 hours", a.ID, r.Name)
			}
			trusted := r.TrustedPrincipals
			if len(trusted) == 0 {
				trusted = []string{a.ID}
			}
			st.roles[arn] = &roleEntry{account: a.ID, orgID: a.OrgID, arn: arn, name: r.Name, id: id,
				trusted: trusted, maxDur: maxDur}
			pols, err := compile("role "+r.Name, r.Policies)
			if err != nil {
				return nil, fmt.Errorf("account %s: %w", a.ID, err)
			}
			st.policies[arn] = pols
		}
	}
	return st, nil
}

// LookupAccessKey implements PrincipalDirectory.
func (d *Directory) LookupAccessKey(akid string) (Principal, string, bool) {
	if e, ok := d.static.Load().keys[akid]; ok {
		return e.p, e.secret, true
	}
	d.mu.RLock()
	s, ok := d.sessions[akid]
	d.mu.RUnlock()
	if !ok {
		return Principal{}, "", false
	}
	return s.p, s.secret, true
}

// IdentityPolicies implements PrincipalDirectory.
func (d *Directory) IdentityPolicies(principalARN string) []*policy.Policy {
	return d.static.Load().policies[principalARN]
}

// ErrAccessDenied is returned by AssumeRole when the caller may not assume
// the role.
var ErrAccessDenied = errors.New("not authorized to perform sts:AssumeRole")

// AssumeRole issues temporary credentials for roleARN to caller, as STS
// AssumeRole does: the caller must be trusted by the role, sessionName must
// be 2 to 64 characters of [\w+=,.@-], and duration (0 means 1 hour) must
// be 15 minutes up to the role's maximum session duration. Expired
// credentials are kept for a day (so that they are reported as expired) and
// then forgotten.
func (d *Directory) AssumeRole(caller Principal, roleARN, sessionName string, duration time.Duration) (Credentials, error) {
	st := d.static.Load()
	role, ok := st.roles[roleARN]
	if !ok {
		return Credentials{}, fmt.Errorf("role %s does not exist", roleARN)
	}
	if !roleTrusts(role, &caller) {
		return Credentials{}, fmt.Errorf("User: %s is %w on resource: %s", caller.ARN, ErrAccessDenied, roleARN)
	}
	if n := len(sessionName); n < 2 || n > 64 || !validIAMName(sessionName) {
		return Credentials{}, fmt.Errorf("roleSessionName %q: want 2 to 64 characters of [\\w+=,.@-]", sessionName)
	}
	if duration == 0 {
		duration = time.Hour
	}
	if duration < 15*time.Minute || duration > role.maxDur {
		return Credentials{}, fmt.Errorf("durationSeconds %d: must be 900 to %d", int64(duration/time.Second), int64(role.maxDur/time.Second))
	}
	akid, err := d.randomString("ASIA", 16, base32Upper)
	if err != nil {
		return Credentials{}, err
	}
	secret, err := d.randomBase64(30)
	if err != nil {
		return Credentials{}, err
	}
	token, err := d.randomBase64(120)
	if err != nil {
		return Credentials{}, err
	}
	now := d.now()
	exp := now.Add(duration).UTC().Truncate(time.Second)
	sessARN := "arn:" + st.partition + ":sts::" + role.account + ":assumed-role/" + role.name + "/" + sessionName
	p := Principal{
		Account:      role.account,
		ARN:          sessARN,
		PrincipalARN: role.arn,
		UserID:       role.id + ":" + sessionName,
		Type:         PrincipalTypeAssumedRole,
		OrgID:        role.orgID,
		SessionToken: token,
		Expiration:   exp,
	}
	d.mu.Lock()
	for k, s := range d.sessions {
		if now.Sub(s.p.Expiration) > 24*time.Hour {
			delete(d.sessions, k)
		}
	}
	d.sessions[akid] = &sessionCred{p: p, secret: secret}
	d.mu.Unlock()
	return Credentials{
		AccessKeyID:     akid,
		SecretAccessKey: secret,
		SessionToken:    token,
		Expiration:      exp,
		AssumedRoleARN:  sessARN,
		AssumedRoleID:   p.UserID,
	}, nil
}

func roleTrusts(r *roleEntry, caller *Principal) bool {
	if caller.Account == "" && caller.ARN == "" {
		return false
	}
	for _, t := range r.trusted {
		switch {
		case t == "*":
			return true
		case t == caller.Account:
			return true
		case strings.HasSuffix(t, ":root") && strings.HasPrefix(t, "arn:"):
			if accountOfARN(t) == caller.Account {
				return true
			}
		case t == caller.ARN || t == caller.PrincipalARN:
			return true
		}
	}
	return false
}

// accountOfARN returns the fifth colon-separated component of an ARN.
func accountOfARN(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

const base32Upper = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

func (d *Directory) randomString(prefix string, n int, alphabet string) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(d.rand, b); err != nil {
		return "", fmt.Errorf("generate credentials: %w", err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return prefix + string(b), nil
}

func (d *Directory) randomBase64(n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(d.rand, b); err != nil {
		return "", fmt.Errorf("generate credentials: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// derivedID makes a stable 21-character unique id (prefix + 17 characters
// of A-Z2-7) from an ARN, the shape of AWS's user and role ids.
func derivedID(prefix, arn string) string {
	sum := sha256.Sum256([]byte(arn))
	return prefix + base32.StdEncoding.EncodeToString(sum[:])[:17]
}

func iamPath(p string) (string, error) {
	if p == "" {
		return "/", nil
	}
	if !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/") || len(p) > 512 {
		return "", fmt.Errorf("path %q must begin and end with '/' (at most 512 characters)", p)
	}
	return p, nil
}

// validIAMName reports whether s is 1 to 64 characters of [\w+=,.@-].
func validIAMName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("_+=,.@-", c) >= 0) {
			return false
		}
	}
	return true
}

func validAccessKeyID(s string) bool {
	if len(s) < 16 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
