package controlplane

import (
	"bytes"
	"crypto/rand"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/awsproto"
	"gatehouse/internal/store"
)

const (
	apiKeyIDLen          = 10
	apiKeyValueLen       = 40 // the length of the values AWS generates
	minAPIKeyValueLen    = 20
	maxAPIKeyValueLen    = 128
	maxAPIKeyNameLen     = 1024
	maxAPIKeyDescription = 125000
	valueAlphabet        = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// AWS's API key messages (LocalStack's snapshot-verified texts; msgInvalidStageKey is
// moto's).
const (
	msgAPIKeyNotFound    = "Invalid API Key identifier specified"
	msgAPIKeyExists      = "API Key already exists"
	msgAPIKeyValueShort  = "API Key value should be at least 20 characters"
	msgAPIKeyValueLong   = "API Key value exceeds maximum size of 128 characters"
	msgAPIKeyName        = "Invalid API Key name, can be at most 1024 characters."
	msgAPIKeyDescription = "Invalid API Key description specified."
	msgInvalidStageKey   = "Invalid stage identifier specified"
)

func apiKeyOwner(k *apimodel.APIKey) string { return k.Account }

// newAPIKeyValue draws a 40-character [A-Za-z0-9] value, as AWS generates them.
func newAPIKeyValue() string {
	out := make([]byte, 0, apiKeyValueLen)
	var pool [64]byte
	for len(out) < apiKeyValueLen {
		rand.Read(pool[:])
		for _, b := range pool {
			if b < 248 && len(out) < apiKeyValueLen { // 248 = 4*62: no modulo bias
				out = append(out, valueAlphabet[int(b)%len(valueAlphabet)])
			}
		}
	}
	return string(out)
}

// validateAPIKeyValue applies AWS's length rules to a user-supplied key value.
func validateAPIKeyValue(v string) error {
	switch n := utf8.RuneCountInString(v); {
	case n > maxAPIKeyValueLen:
		return badRequest(msgAPIKeyValueLong)
	case n < minAPIKeyValueLen:
		return badRequest(msgAPIKeyValueShort)
	}
	return nil
}

// apiKeyWire is an ApiKey as AWS returns it: without the owner, with the value only
// when asked for, stageKeys always a list.
type apiKeyWire struct {
	*apimodel.APIKey
	Account   string   `json:"account,omitempty"`
	Value     string   `json:"value,omitempty"`
	StageKeys []string `json:"stageKeys"`
	Tags      any      `json:"tags,omitempty"`
}

func toAPIKeyWire(k *apimodel.APIKey, withValue, alwaysTags bool) apiKeyWire {
	cp := *k
	w := apiKeyWire{APIKey: &cp, StageKeys: k.StageKeys}
	if withValue {
		w.Value = k.Value
	}
	if w.StageKeys == nil {
		w.StageKeys = []string{}
	}
	switch {
	case len(k.Tags) > 0:
		w.Tags = k.Tags
	case alwaysTags:
		w.Tags = map[string]string{}
	}
	return w
}

type stageKeyInput struct {
	RestAPIID string `json:"restApiId"`
	StageName string `json:"stageName"`
}

type createAPIKeyInput struct {
	Name               *string           `json:"name"`
	Description        string            `json:"description"`
	Enabled            bool              `json:"enabled"`
	GenerateDistinctID bool              `json:"generateDistinctId"`
	Value              *string           `json:"value"`
	StageKeys          []stageKeyInput   `json:"stageKeys"`
	CustomerID         string            `json:"customerId"`
	Tags               map[string]string `json:"tags"`
}

// checkStageKey verifies that "{apiId}/{stage}" names a stage of the caller.
func (s *Server) checkStageKey(c *call, apiID, stage string) error {
	if _, err := s.loadAPI(c, apiID, badRequest(msgInvalidStageKey)); err != nil {
		return err
	}
	if _, err := s.loadStage(c, apiID, stage); err != nil {
		if isNotFound(err) {
			return badRequest(msgInvalidStageKey)
		}
		return err
	}
	return nil
}

func (s *Server) createAPIKey(c *call) (int, any, error) {
	if c.r.URL.Query().Get("mode") == "import" {
		return s.importAPIKeys(c)
	}
	var in createAPIKeyInput
	if err := decodeBody(c, &in); err != nil {
		return 0, nil, err
	}
	k := &apimodel.APIKey{
		Account:     c.caller.Account,
		Description: in.Description,
		Enabled:     in.Enabled,
		CustomerID:  in.CustomerID,
		Tags:        in.Tags,
		StageKeys:   []string{},
	}
	if in.Name != nil {
		if utf8.RuneCountInString(*in.Name) > maxAPIKeyNameLen {
			return 0, nil, badRequest(msgAPIKeyName)
		}
		k.Name = *in.Name
	}
	if in.Value != nil && *in.Value != "" {
		if err := validateAPIKeyValue(*in.Value); err != nil {
			return 0, nil, err
		}
		k.Value = *in.Value
	} else {
		k.Value = newAPIKeyValue()
	}
	if utf8.RuneCountInString(in.Description) > maxAPIKeyDescription {
		return 0, nil, badRequest(msgAPIKeyDescription)
	}
	if err := validateTags(in.Tags); err != nil {
		return 0, nil, err
	}
	for _, sk := range in.StageKeys {
		if err := s.checkStageKey(c, sk.RestAPIID, sk.StageName); err != nil {
			return 0, nil, err
		}
		if id := sk.RestAPIID + "/" + sk.StageName; !slices.Contains(k.StageKeys, id) {
			k.StageKeys = append(k.StageKeys, id)
		}
	}
	if err := s.storeNewAPIKey(c, k); err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, toAPIKeyWire(k, true, false), nil
}

// storeNewAPIKey assigns k an id and dates and stores it with its value index. The
// index is written first, so a value is never used twice within an account; an index
// left behind by an interrupted create (naming no key) is taken over.
func (s *Server) storeNewAPIKey(c *call, k *apimodel.APIKey) error {
	k.CreatedDate, k.LastUpdatedDate = c.now, c.now
	idxKey := apimodel.APIKeyValueKey(k.Account, k.Value)
	defer s.lock(apimodel.BucketAPIKeyValues, idxKey)()
	for attempt := 0; ; attempt++ {
		k.ID = awsproto.NewID(apiKeyIDLen)
		idx, err := json.Marshal(apimodel.APIKeyValue{Account: k.Account, KeyID: k.ID})
		if err != nil {
			return err
		}
		_, err = s.store.Modify(c.ctx, apimodel.BucketAPIKeyValues, idxKey, func(cur []byte) ([]byte, error) {
			if cur != nil {
				var old apimodel.APIKeyValue
				if json.Unmarshal(cur, &old) == nil && old.KeyID != "" {
					if _, err := s.store.Get(c.ctx, apimodel.BucketAPIKeys, old.KeyID); err == nil {
						return nil, conflict(msgAPIKeyExists)
					} else if !errors.Is(err, store.ErrNotFound) {
						return nil, err
					}
				}
			}
			return idx, nil
		})
		if err != nil {
			return err
		}
		b, err := json.Marshal(k)
		if err != nil {
			return err
		}
		_, err = s.store.Create(c.ctx, apimodel.BucketAPIKeys, k.ID, b)
		if errors.Is(err, store.ErrExists) && attempt < 5 {
			continue // id collision: draw another (the index is rewritten)
		}
		return err
	}
}

func (s *Server) getAPIKey(c *call) (int, any, error) {
	k, _, err := loadOwned(s, c, apimodel.BucketAPIKeys, c.r.PathValue("api_key"), apiKeyOwner, notFound(msgAPIKeyNotFound))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toAPIKeyWire(k, patchBool(c.r.URL.Query().Get("includeValue")), false), nil
}

// apiKeySortKey orders API keys by creation time, then id.
func apiKeySortKey(k *apimodel.APIKey) string {
	return fmt.Sprintf("%013d.%s", k.CreatedDate.Time().UnixMilli(), k.ID)
}

func (s *Server) getAPIKeys(c *call) (int, any, error) {
	keys, err := listOwned(s, c, apimodel.BucketAPIKeys, "", apiKeyOwner)
	if err != nil {
		return 0, nil, err
	}
	q := c.r.URL.Query()
	name, customer := q.Get("name"), q.Get("customerId")
	keys = slices.DeleteFunc(keys, func(k *apimodel.APIKey) bool {
		return name != "" && !strings.HasPrefix(k.Name, name) || customer != "" && k.CustomerID != customer
	})
	sort.Slice(keys, func(i, j int) bool { return apiKeySortKey(keys[i]) < apiKeySortKey(keys[j]) })
	page, pos, err := paginate(c, keys, apiKeySortKey)
	if err != nil {
		return 0, nil, err
	}
	withValues := patchBool(q.Get("includeValues"))
	out := list[apiKeyWire]{Position: pos, Items: make([]apiKeyWire, 0, len(page))}
	for _, k := range page {
		out.Items = append(out.Items, toAPIKeyWire(k, withValues, false))
	}
	return http.StatusOK, out, nil
}

func (s *Server) updateAPIKey(c *call) (int, any, error) {
	ops, err := decodePatch(c, "updateApiKeyInput")
	if err != nil {
		return 0, nil, err
	}
	// Stage keys are checked before the write (the check reads other documents).
	for i := range ops {
		p := &ops[i]
		if p.path() == "/stages" && p.Op == opAdd {
			apiID, stage, _ := strings.Cut(p.value(), "/")
			if err := s.checkStageKey(c, apiID, stage); err != nil {
				return 0, nil, err
			}
		}
	}
	k, err := modifyOwned(s, c, apimodel.BucketAPIKeys, c.r.PathValue("api_key"), apiKeyOwner, notFound(msgAPIKeyNotFound),
		func(k *apimodel.APIKey) error {
			if err := patchAPIKey(k, ops); err != nil {
				return err
			}
			k.LastUpdatedDate = c.now
			return nil
		})
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, toAPIKeyWire(k, false, true), nil
}

// patchAPIKey applies UpdateApiKey's patch operations.
func patchAPIKey(k *apimodel.APIKey, ops []patchOp) error {
	for i := range ops {
		p := &ops[i]
		switch path := p.path(); path {
		case "/stages":
			if err := allowOp(p.Op, opAdd, opRemove); err != nil {
				return err
			}
			if p.Op == opAdd {
				if !slices.Contains(k.StageKeys, p.value()) {
					k.StageKeys = append(k.StageKeys, p.value())
				}
			} else {
				k.StageKeys = slices.DeleteFunc(k.StageKeys, func(sk string) bool { return sk == p.value() })
			}
		case "/name", "/description", "/customerId", "/enabled":
			if err := allowOp(p.Op, opReplace); err != nil {
				return err
			}
			switch path {
			case "/name":
				if utf8.RuneCountInString(p.value()) > maxAPIKeyNameLen {
					return badRequest(msgAPIKeyName)
				}
				k.Name = p.value()
			case "/description":
				if utf8.RuneCountInString(p.value()) > maxAPIKeyDescription {
					return badRequest(msgAPIKeyDescription)
				}
				k.Description = p.value()
			case "/customerId":
				k.CustomerID = p.value()
			case "/enabled":
				k.Enabled = patchBool(p.value())
			}
		default:
			return errPatchPath(path)
		}
	}
	if k.StageKeys == nil {
		k.StageKeys = []string{}
	}
	return nil
}

func (s *Server) deleteAPIKey(c *call) (int, any, error) {
	k, err := deleteOwned(s, c, apimodel.BucketAPIKeys, c.r.PathValue("api_key"), apiKeyOwner, notFound(msgAPIKeyNotFound), nil)
	if err != nil {
		return 0, nil, err
	}
	if err := s.removeAPIKeyDependents(c, k); err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, nil, nil
}

// removeAPIKeyDependents removes a deleted key's value index (if it still names the
// key) and its usage plan memberships.
func (s *Server) removeAPIKeyDependents(c *call, k *apimodel.APIKey) error {
	idxKey := apimodel.APIKeyValueKey(k.Account, k.Value)
	if e, err := s.store.Get(c.ctx, apimodel.BucketAPIKeyValues, idxKey); err == nil {
		var idx apimodel.APIKeyValue
		if json.Unmarshal(e.Value, &idx) == nil && idx.KeyID == k.ID {
			if err := s.store.Delete(c.ctx, apimodel.BucketAPIKeyValues, idxKey, e.Revision); err != nil &&
				!errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConflict) {
				return err
			}
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	memberships, err := listOwned(s, c, apimodel.BucketUsagePlanKeys, "", usagePlanKeyOwner)
	if err != nil {
		return err
	}
	for _, m := range memberships {
		if m.KeyID == k.ID {
			if err := s.deleteIgnoringMissing(c, apimodel.BucketUsagePlanKeys, apimodel.UsagePlanKeyKey(m.UsagePlanID, m.KeyID)); err != nil {
				return err
			}
		}
	}
	return nil
}

// importAPIKeys is ImportApiKeys: a CSV file with a header naming the columns Key
// (required), Name, Description, Enabled and UsagePlanIds (any order, any case; several
// usage plan ids separated by ':' or ';'). Rows that cannot be imported become warnings;
// with failonwarnings=true any warning fails the whole import before anything is
// written.
func (s *Server) importAPIKeys(c *call) (int, any, error) {
	q := c.r.URL.Query()
	var v validationErrors
	switch f := q.Get("format"); {
	case !q.Has("format"):
		v.add("Value null at 'importApiKeysInput.format' failed to satisfy constraint: Member must not be null")
	case f != "csv":
		v.enum(f, "importApiKeysInput.format", "csv")
	}
	if err := v.err(); err != nil {
		return 0, nil, err
	}
	failOnWarnings := patchBool(q.Get("failonwarnings"))
	rows, err := parseAPIKeyCSV(c.body)
	if err != nil {
		return 0, nil, err
	}
	type row struct {
		key   *apimodel.APIKey
		plans []string
	}
	var ok []row
	var warnings []string
	for _, r := range rows {
		if r.warning != "" {
			warnings = append(warnings, r.warning)
			continue
		}
		k := &apimodel.APIKey{Account: c.caller.Account, Name: r.name, Description: r.description,
			Enabled: r.enabled, Value: r.value, StageKeys: []string{}}
		var bad string
		for _, id := range r.plans {
			if _, _, err := loadOwned(s, c, apimodel.BucketUsagePlans, id, usagePlanOwner, notFound(msgUsagePlanNotFound)); err != nil {
				if !isNotFound(err) {
					return 0, nil, err
				}
				bad = fmt.Sprintf("Invalid usage plan id %s at line %d", id, r.line)
				break
			}
		}
		if bad != "" {
			warnings = append(warnings, bad)
			continue
		}
		ok = append(ok, row{key: k, plans: r.plans})
	}
	if failOnWarnings && len(warnings) > 0 {
		return 0, nil, badRequest(warnings[0])
	}
	out := struct {
		IDs      []string `json:"ids"`
		Warnings []string `json:"warnings,omitempty"`
	}{IDs: []string{}}
	for _, r := range ok {
		if err := s.storeNewAPIKey(c, r.key); err != nil {
			if isConflict(err) {
				warnings = append(warnings, msgAPIKeyExists+": "+r.key.Name)
				continue
			}
			return 0, nil, err
		}
		out.IDs = append(out.IDs, r.key.ID)
		for _, plan := range r.plans {
			if err := s.addUsagePlanKey(c, plan, r.key); err != nil && !isConflict(err) && !isNotFound(err) {
				return 0, nil, err
			}
		}
	}
	out.Warnings = warnings
	return http.StatusCreated, out, nil
}

type csvKeyRow struct {
	line                     int
	name, description, value string
	enabled                  bool
	plans                    []string
	warning                  string
}

// parseAPIKeyCSV reads ImportApiKeys' CSV body.
func parseAPIKeyCSV(body []byte) ([]csvKeyRow, error) {
	r := csv.NewReader(bytes.NewReader(body))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if err != nil {
		return nil, badRequest("Invalid API key file: the header row is missing")
	}
	cols := map[string]int{}
	for i, h := range header {
		cols[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	keyCol, hasKey := cols["key"]
	if !hasKey {
		return nil, badRequest("Invalid API key file: the header row has no Key column")
	}
	cell := func(rec []string, name string) string {
		if i, ok := cols[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var out []csvKeyRow
	for line := 2; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, badRequest("Invalid API key file: " + err.Error())
		}
		row := csvKeyRow{line: line, name: cell(rec, "name"), description: cell(rec, "description")}
		if keyCol < len(rec) {
			row.value = strings.TrimSpace(rec[keyCol])
		}
		row.enabled, _ = strconv.ParseBool(cell(rec, "enabled"))
		for _, id := range strings.FieldsFunc(cell(rec, "usageplanids"), func(r rune) bool { return r == ':' || r == ';' }) {
			if id = strings.TrimSpace(id); id != "" {
				row.plans = append(row.plans, id)
			}
		}
		if err := validateAPIKeyValue(row.value); err != nil {
			var ae *awsproto.Error
			if errors.As(err, &ae) {
				row.warning = fmt.Sprintf("%s at line %d", ae.Message, line)
			}
		}
		out = append(out, row)
	}
	return out, nil
}

// isConflict reports whether err is a ConflictException.
func isConflict(err error) bool {
	var ae *awsproto.Error
	return errors.As(err, &ae) && ae.Code == awsproto.CodeConflict
}
