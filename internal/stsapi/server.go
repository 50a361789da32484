// Package stsapi serves the part of AWS Security Token Service (query protocol, version
// 2011-06-15) that gatehouse's IAM principals need: AssumeRole, which turns a role of the
// topology into temporary credentials (access key, secret, session token, expiration)
// issued by the shared authorizer.Directory, and GetCallerIdentity.
//
// Requests arrive with their SigV4 signature already verified (service "sts"); the caller
// is resolved from its access key through the Directory, so IAM users and role sessions
// (role chaining) may call STS as well as account root keys. Errors use STS's XML shape:
// <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>.
//
// Not supported: session policies (Policy, PolicyArns), session tags, MFA, external ids
// and source identities; a request with Policy or PolicyArns is refused rather than
// silently granted the role's full permissions.
package stsapi

import (
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"gatehouse/internal/authorizer"
	"gatehouse/internal/awsproto"
)

// Namespace is STS's XML namespace.
const Namespace = "https://sts.amazonaws.com/doc/2011-06-15/"

// Version is the only API version served.
const Version = "2011-06-15"

// AssumeRole's bounds on DurationSeconds, and the cap for role chaining.
const (
	minDuration   = 900
	maxDuration   = 43200
	chainDuration = 3600
)

// Options configures New.
type Options struct {
	// Directory issues and resolves credentials. Required; it must be the same Directory
	// the data plane's AWS_IAM authorizer uses, or issued credentials are unknown there.
	Directory *authorizer.Directory
	// Logger receives internal errors. Nil discards.
	Logger *slog.Logger
	// Now is the clock for expiry checks; nil means time.Now.
	Now func() time.Time
}

// Caller is the verified identity of a request.
type Caller struct {
	Account, AccessKeyID string
}

// Server serves STS. It is safe for concurrent use.
type Server struct {
	dir *authorizer.Directory
	log *slog.Logger
	now func() time.Time
}

// New returns a Server.
func New(opts Options) *Server {
	s := &Server{dir: opts.Directory, log: opts.Logger, now: opts.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// apiError is an STS error.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func validation(msg string) *apiError {
	return &apiError{http.StatusBadRequest, "ValidationError", msg}
}

type errorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

type credentialsXML struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

type assumeRoleResponse struct {
	XMLName          xml.Name         `xml:"AssumeRoleResponse"`
	Xmlns            string           `xml:"xmlns,attr"`
	Credentials      credentialsXML   `xml:"AssumeRoleResult>Credentials"`
	AssumedRoleArn   string           `xml:"AssumeRoleResult>AssumedRoleUser>Arn"`
	AssumedRoleID    string           `xml:"AssumeRoleResult>AssumedRoleUser>AssumedRoleId"`
	ResponseMetadata responseMetadata `xml:"ResponseMetadata"`
}

type getCallerIdentityResponse struct {
	XMLName          xml.Name         `xml:"GetCallerIdentityResponse"`
	Xmlns            string           `xml:"xmlns,attr"`
	Arn              string           `xml:"GetCallerIdentityResult>Arn"`
	UserID           string           `xml:"GetCallerIdentityResult>UserId"`
	Account          string           `xml:"GetCallerIdentityResult>Account"`
	ResponseMetadata responseMetadata `xml:"ResponseMetadata"`
}

// ServeSTS handles one STS query-protocol request whose SigV4 signature was already
// verified. body is the full (form-encoded) request body; parameters in the URL query
// are read too (GET requests).
func (s *Server) ServeSTS(w http.ResponseWriter, r *http.Request, caller Caller, body []byte) {
	reqID := awsproto.NewRequestID()
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("panic in STS handler", "panic", v, "stack", string(debug.Stack()))
			writeError(w, &apiError{http.StatusInternalServerError, "InternalFailure", "An internal error has occurred."}, reqID)
		}
	}()
	params, err := url.ParseQuery(string(body))
	if err != nil {
		writeError(w, &apiError{http.StatusBadRequest, "MalformedQueryString", "The request body is not a valid form: " + err.Error()}, reqID)
		return
	}
	if r.URL != nil {
		for k, v := range r.URL.Query() {
			if _, ok := params[k]; !ok {
				params[k] = v
			}
		}
	}
	var out any
	action := params.Get("Action")
	switch {
	case action == "":
		err = &apiError{http.StatusBadRequest, "MissingAction", "Missing Action"}
	case params.Get("Version") != Version:
		err = &apiError{http.StatusBadRequest, "InvalidAction", fmt.Sprintf("Could not find operation %s for version %s", action, params.Get("Version"))}
	default:
		var p authorizer.Principal
		p, err = s.principal(caller)
		if err != nil {
			break
		}
		switch action {
		case "AssumeRole":
			out, err = s.assumeRole(p, params, reqID)
		case "GetCallerIdentity":
			out = getCallerIdentityResponse{Xmlns: Namespace, Arn: p.ARN, UserID: p.UserID, Account: p.Account,
				ResponseMetadata: responseMetadata{reqID}}
		default:
			err = &apiError{http.StatusBadRequest, "InvalidAction", fmt.Sprintf("Could not find operation %s for version %s", action, Version)}
		}
	}
	if err != nil {
		writeError(w, err, reqID)
		return
	}
	writeXML(w, http.StatusOK, out, reqID)
}

// principal resolves the caller's access key through the Directory.
func (s *Server) principal(c Caller) (authorizer.Principal, error) {
	if s.dir == nil {
		return authorizer.Principal{}, &apiError{http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid."}
	}
	p, _, ok := s.dir.LookupAccessKey(c.AccessKeyID)
	if !ok {
		return authorizer.Principal{}, &apiError{http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid."}
	}
	if !p.Expiration.IsZero() && !s.now().Before(p.Expiration) {
		return authorizer.Principal{}, &apiError{http.StatusForbidden, "ExpiredToken", "The security token included in the request is expired"}
	}
	return p, nil
}

// assumeRole validates the parameters in STS's order and messages, then asks the
// Directory for credentials.
func (s *Server) assumeRole(caller authorizer.Principal, params url.Values, reqID string) (any, error) {
	var problems []string
	roleARN, hasARN := param(params, "RoleArn")
	session, hasSession := param(params, "RoleSessionName")
	switch {
	case !hasARN:
		problems = append(problems, "Value null at 'roleArn' failed to satisfy constraint: Member must not be null")
	case len(roleARN) < 20:
		problems = append(problems, fmt.Sprintf("Value '%s' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20", roleARN))
	case len(roleARN) > 2048:
		problems = append(problems, fmt.Sprintf("Value '%s' at 'roleArn' failed to satisfy constraint: Member must have length less than or equal to 2048", roleARN))
	}
	switch {
	case !hasSession:
		problems = append(problems, "Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null")
	case len(session) < 2:
		problems = append(problems, fmt.Sprintf("Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2", session))
	case len(session) > 64:
		problems = append(problems, fmt.Sprintf("Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64", session))
	case !validSessionName(session):
		problems = append(problems, fmt.Sprintf(`Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*`, session))
	}
	duration := 0
	if d, ok := param(params, "DurationSeconds"); ok {
		n, err := strconv.Atoi(d)
		switch {
		case err != nil:
			return nil, &apiError{http.StatusBadRequest, "MalformedInput", fmt.Sprintf("Invalid value for parameter DurationSeconds: %q is not an integer", d)}
		case n < minDuration:
			problems = append(problems, fmt.Sprintf("Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to %d", n, minDuration))
		case n > maxDuration:
			problems = append(problems, fmt.Sprintf("Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to %d", n, maxDuration))
		}
		duration = n
	}
	if len(problems) > 0 {
		word := "error"
		if len(problems) > 1 {
			word = "errors"
		}
		return nil, validation(fmt.Sprintf("%d validation %s detected: %s", len(problems), word, strings.Join(problems, "; ")))
	}
	if _, ok := params["Policy"]; ok || hasListParam(params, "PolicyArns.member") {
		return nil, validation("Session policies (Policy, PolicyArns) are not supported by gatehouse")
	}
	if caller.Type == authorizer.PrincipalTypeAssumedRole && duration > chainDuration {
		return nil, validation("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	creds, err := s.dir.AssumeRole(caller, roleARN, session, time.Duration(duration)*time.Second)
	if err != nil {
		return nil, s.assumeRoleError(caller, roleARN, err)
	}
	return assumeRoleResponse{
		Xmlns: Namespace,
		Credentials: credentialsXML{
			AccessKeyID:     creds.AccessKeyID,
			SecretAccessKey: creds.SecretAccessKey,
			SessionToken:    creds.SessionToken,
			Expiration:      creds.Expiration.UTC().Format("2006-01-02T15:04:05Z"),
		},
		AssumedRoleArn:   creds.AssumedRoleARN,
		AssumedRoleID:    creds.AssumedRoleID,
		ResponseMetadata: responseMetadata{reqID},
	}, nil
}

// assumeRoleError maps Directory.AssumeRole's errors. Session name and duration range
// were checked before, so what remains is: unknown role or untrusted caller (both
// AccessDenied on AWS, which does not reveal whether a role exists), a duration beyond
// the role's MaxSessionDuration, or a failure to generate credentials.
func (s *Server) assumeRoleError(caller authorizer.Principal, roleARN string, err error) error {
	msg := err.Error()
	switch {
	case errors.Is(err, authorizer.ErrAccessDenied), strings.HasSuffix(msg, " does not exist"):
		return &apiError{http.StatusForbidden, "AccessDenied",
			fmt.Sprintf("User: %s is not authorized to perform: sts:AssumeRole on resource: %s", caller.ARN, roleARN)}
	case strings.HasPrefix(msg, "durationSeconds"):
		return validation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	default:
		s.log.Error("AssumeRole failed", "role", roleARN, "err", err)
		return &apiError{http.StatusInternalServerError, "InternalFailure", "An internal error has occurred."}
	}
}

// param returns a parameter and whether it was given at all.
func param(params url.Values, name string) (string, bool) {
	v, ok := params[name]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

func hasListParam(params url.Values, prefix string) bool {
	for k := range params {
		if strings.HasPrefix(k, prefix+".") {
			return true
		}
	}
	return false
}

// validSessionName reports whether s matches [\w+=,.@-]*.
func validSessionName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_+=,.@-", c) >= 0) {
			return false
		}
	}
	return true
}

// WriteError writes an STS XML error, for failures found before ServeSTS runs (SigV4
// verification). Control-plane JSON codes are translated to STS's: an unknown key or bad
// token is InvalidClientTokenId, a bad signature SignatureDoesNotMatch.
func WriteError(w http.ResponseWriter, status int, code, message, requestID string) {
	writeError(w, &apiError{status, awsproto.QueryAuthCode(code), message}, requestID)
}

func writeError(w http.ResponseWriter, err error, reqID string) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{http.StatusInternalServerError, "InternalFailure", "An internal error has occurred."}
	}
	typ := "Sender"
	if ae.status >= 500 {
		typ = "Receiver"
	}
	writeXML(w, ae.status, errorResponse{Xmlns: Namespace, Type: typ, Code: ae.code, Message: ae.msg, RequestID: reqID}, reqID)
}

func writeXML(w http.ResponseWriter, status int, v any, reqID string) {
	b, err := xml.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("X-Amzn-Requestid", reqID)
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
