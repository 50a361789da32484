package lambdaapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"gatehouse/internal/function"
	"gatehouse/internal/policy"
)

var (
	sidRE    = regexp.MustCompile(`^[a-zA-Z0-9-_.]{1,100}$`)
	actionRE = regexp.MustCompile(`^(lambda:[*]|lambda:[a-zA-Z]+|[*])$`)
)

type addPermissionInput struct {
	StatementID      string `json:"StatementId"`
	Action           string `json:"Action"`
	Principal        string `json:"Principal"`
	SourceArn        string `json:"SourceArn"`
	SourceAccount    string `json:"SourceAccount"`
	EventSourceToken string `json:"EventSourceToken"`
	RevisionID       string `json:"RevisionId"`
	PrincipalOrgID   string `json:"PrincipalOrgID"`
}

// statement is one resource policy statement, in the key order Lambda
// writes: Sid, Effect, Principal, Action, Resource, Condition.
type statement struct {
	Sid       string                       `json:"Sid"`
	Effect    string                       `json:"Effect"`
	Principal any                          `json:"Principal"`
	Action    string                       `json:"Action"`
	Resource  string                       `json:"Resource"`
	Condition map[string]map[string]string `json:"Condition,omitempty"`
}

// principalElement is how Lambda writes AddPermission's Principal: "*",
// {"AWS": "arn:aws:iam::ACCOUNT:root"} for an account id, {"AWS": arn} for
// an IAM ARN, {"Service": name} for a service.
func principalElement(p string) any {
	switch {
	case p == "*":
		return "*"
	case len(p) == 12 && strings.Trim(p, "0123456789") == "":
		return map[string]string{"AWS": "arn:aws:iam::" + p + ":root"}
	case strings.HasPrefix(p, "arn:"):
		return map[string]string{"AWS": p}
	}
	return map[string]string{"Service": p}
}

func (s *Server) addPermission(c *call) error {
	var in addPermissionInput
	if err := decode(c, &in); err != nil {
		return err
	}
	switch {
	case !sidRE.MatchString(in.StatementID):
		return errValidation(in.StatementID, "statementId", "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_.]+)")
	case !actionRE.MatchString(in.Action):
		return errValidation(in.Action, "action", "Member must satisfy regular expression pattern: (lambda:[*]|lambda:[a-zA-Z]+|[*])")
	case in.Principal == "" || strings.ContainsAny(in.Principal, " \t\n"):
		return errValidation(in.Principal, "principal", `Member must satisfy regular expression pattern: [^\s]+`)
	case in.SourceAccount != "" && (len(in.SourceAccount) != 12 || strings.Trim(in.SourceAccount, "0123456789") != ""):
		return errValidation(in.SourceAccount, "sourceAccount", `Member must satisfy regular expression pattern: \d{12}`)
	}
	t, err := s.resolve(c, false)
	if err != nil {
		return err
	}
	st := statement{
		Sid:       in.StatementID,
		Effect:    "Allow",
		Principal: principalElement(in.Principal),
		Action:    in.Action,
		Resource:  t.arn,
	}
	cond := map[string]map[string]string{}
	if in.SourceAccount != "" {
		cond["StringEquals"] = map[string]string{"AWS:SourceAccount": in.SourceAccount}
	}
	if in.PrincipalOrgID != "" {
		if cond["StringEquals"] == nil {
			cond["StringEquals"] = map[string]string{}
		}
		cond["StringEquals"]["aws:PrincipalOrgID"] = in.PrincipalOrgID
	}
	if in.SourceArn != "" {
		cond["ArnLike"] = map[string]string{"AWS:SourceArn": in.SourceArn}
	}
	if in.EventSourceToken != "" {
		if cond["StringEquals"] == nil {
			cond["StringEquals"] = map[string]string{}
		}
		cond["StringEquals"]["lambda:EventSourceToken"] = in.EventSourceToken
	}
	if len(cond) > 0 {
		st.Condition = cond
	}
	raw, err := marshalCompact(st)
	if err != nil {
		return err
	}
	_, err = s.modify(c, t, in.RevisionID, func(rec *record) error {
		for _, old := range rec.Statements {
			var o struct{ Sid string }
			if json.Unmarshal(old, &o) == nil && o.Sid == in.StatementID {
				return &apiError{Status: http.StatusConflict, Code: codeResourceConflict, Message: msgSidExists}
			}
		}
		rec.Statements = append(rec.Statements, raw)
		doc := rec.policyDocument()
		if len(doc) > maxPolicyBytes {
			return &apiError{Status: http.StatusBadRequest, Code: codePolicyLength,
				Message: fmt.Sprintf("The final policy size (%d) is bigger than the limit (%d).", len(doc), maxPolicyBytes)}
		}
		if _, err := policy.Parse(doc); err != nil {
			return errInvalid("The policy statement is not valid: %v", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return writeJSON(c.w, http.StatusCreated, map[string]string{"Statement": string(raw)})
}

func marshalCompact(v any) (json.RawMessage, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

func (s *Server) getPolicy(c *call) error {
	t, err := s.resolve(c, false)
	if err != nil {
		return err
	}
	if len(t.rec.Statements) == 0 {
		return &apiError{Status: http.StatusNotFound, Code: codeResourceNotFound, Message: msgPolicyNotFound}
	}
	return writeJSON(c.w, http.StatusOK, map[string]string{
		"Policy":     string(t.rec.policyDocument()),
		"RevisionId": t.rec.RevisionID,
	})
}

func (s *Server) removePermission(c *call) error {
	sid := c.r.PathValue("sid")
	t, err := s.resolve(c, false)
	if err != nil {
		return err
	}
	_, err = s.modify(c, t, c.r.URL.Query().Get("RevisionId"), func(rec *record) error {
		for i, old := range rec.Statements {
			var o struct{ Sid string }
			if json.Unmarshal(old, &o) == nil && o.Sid == sid {
				rec.Statements = append(rec.Statements[:i:i], rec.Statements[i+1:]...)
				return nil
			}
		}
		return &apiError{Status: http.StatusNotFound, Code: codeResourceNotFound,
			Message: fmt.Sprintf("Statement %s is not found in resource policy.", sid)}
	})
	if err != nil {
		return err
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// AllowsInvoke reports whether principal may invoke the function
// functionARN for a call from sourceARN, by the function's resource policy
// (AddPermission statements: Principal, Action lambda:InvokeFunction or a
// wildcard, Condition ArnLike/ArnEquals AWS:SourceArn with wildcards,
// StringEquals AWS:SourceAccount). principal is a service
// ("apigateway.amazonaws.com") or a 12-digit account id. sourceARN is, for
// API Gateway, the execute-api ARN of the method
// (arn:aws:execute-api:{region}:{account}:{api}/{stage}/{METHOD}/{path}); its
// account is aws:SourceAccount.
//
// Functions of the topology file are always invocable by API Gateway APIs of
// their own account (a sourceARN in that account), without a statement.
//
// API Gateway calling without permission gets 500 {"message": "Internal
// server error"} from the data plane, as on AWS. AllowsInvoke reads only
// memory: this server's writes and what Sync brought in.
func (s *Server) AllowsInvoke(functionARN, principal, sourceARN string) bool {
	ref, err := function.ParseRef(functionARN)
	if err != nil || ref.Account == "" || (ref.Qualifier != "" && ref.Qualifier != function.Version) {
		return false
	}
	if ref.Region != "" && ref.Region != s.region {
		return false
	}
	sourceAccount := arnAccount(sourceARN)
	key := function.StoreKey(ref.Account, ref.Name)
	if _, ok := s.topo[key]; ok {
		if principal == apigatewayPrincipal && sourceAccount == ref.Account {
			return true
		}
	}
	s.mu.RLock()
	e, ok := s.policies[key]
	s.mu.RUnlock()
	if !ok || e.policy == nil {
		return false
	}
	ctx := &policy.Context{}
	if sourceARN != "" {
		ctx.SetExtra("aws:SourceArn", sourceARN)
	}
	if sourceAccount != "" {
		ctx.SetExtra("aws:SourceAccount", sourceAccount)
	}
	req := &policy.Request{
		Action:   invokeAction,
		Resource: function.ARN(s.region, ref.Account, ref.Name),
		Context:  ctx,
	}
	if len(principal) == 12 && strings.Trim(principal, "0123456789") == "" {
		req.Principal = policy.Principal{Account: principal, ARN: "arn:aws:iam::" + principal + ":root"}
	} else {
		req.Principal = policy.Principal{Service: principal}
	}
	return e.policy.Evaluate(req) == policy.Allow
}

// arnAccount returns the account field of an ARN, or "".
func arnAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return ""
	}
	return parts[4]
}
