package r53

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Change actions.
const (
	ActionCreate = "CREATE"
	ActionDelete = "DELETE"
	ActionUpsert = "UPSERT"
)

// Limits Route 53 applies.
const (
	// MaxChanges is the most changes one ChangeResourceRecordSets accepts.
	MaxChanges = 1000
	// MaxRecordSets is the default quota of record sets per hosted zone.
	MaxRecordSets = 10000
	// MaxWeighted is the most weighted records of one name and type.
	MaxWeighted = 100
)

// Change is one entry of a change batch. Record.Name may be in any form
// CanonicalName accepts.
type Change struct {
	Action string
	Record RecordSet
}

// Error codes of a rejected change batch.
const (
	CodeInvalidChangeBatch = "InvalidChangeBatch"
	CodeInvalidInput       = "InvalidInput"
	CodeNoSuchHealthCheck  = "NoSuchHealthCheck"
)

// ChangeError is why a change batch was rejected: a Route 53 error code and
// its messages (InvalidChangeBatch reports every problem; the others one).
type ChangeError struct {
	Code     string
	Messages []string
}

func (e *ChangeError) Error() string {
	if len(e.Messages) == 1 && e.Code != CodeInvalidChangeBatch {
		return e.Messages[0]
	}
	return "[" + strings.Join(e.Messages, ", ") + "]"
}

// describe names a change the way Route 53's InvalidInput messages do.
func describe(action string, r *RecordSet) string {
	set := "null"
	if r.SetIdentifier != "" {
		set = r.SetIdentifier
	}
	return fmt.Sprintf("[Action=%s, Name=%s, Type=%s, SetIdentifier=%s]", action, r.Name, r.Type, set)
}

// rrsetRef names a record set the way Route 53's InvalidChangeBatch messages do.
func rrsetRef(r *RecordSet) string {
	s := fmt.Sprintf("[name='%s', type='%s'", APIName(r.Name), r.Type)
	if r.SetIdentifier != "" {
		s += fmt.Sprintf(", set-identifier='%s'", r.SetIdentifier)
	}
	return s + "]"
}

// CheckRecordSet validates one record set on its own (not against the rest of
// the zone) and canonicalizes its name, in place. It returns a *ChangeError
// with code InvalidInput for a structural problem (missing or conflicting
// fields) and InvalidChangeBatch for bad names and values.
func CheckRecordSet(zoneName, action string, r *RecordSet) *ChangeError {
	input := func(format string, args ...any) *ChangeError {
		return &ChangeError{Code: CodeInvalidInput, Messages: []string{"Invalid request: " + fmt.Sprintf(format, args...)}}
	}
	batch := func(msg string) *ChangeError {
		return &ChangeError{Code: CodeInvalidChangeBatch, Messages: []string{msg}}
	}
	name, err := CanonicalName(r.Name)
	if err != nil {
		return batch(err.Error())
	}
	r.Name = name
	if !IsRecordType(r.Type) {
		return input("Expected one of [SOA, A, TXT, NS, CNAME, MX, NAPTR, PTR, SRV, SPF, AAAA, CAA, DS, TLSA, SSHFP, SVCB, HTTPS], but found '%s' in Change with %s", r.Type, describe(action, r))
	}
	hasValues := r.TTL != nil || len(r.Values) > 0
	switch {
	case r.Alias != nil && hasValues:
		return input("Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found more than one in Change with %s", describe(action, r))
	case r.Alias == nil && (r.TTL == nil || len(r.Values) == 0):
		return input("Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in Change with %s", describe(action, r))
	}
	policies := 0
	if r.Weight != nil {
		policies++
	}
	if r.Failover != "" {
		policies++
	}
	if r.MultiValueAnswer != nil {
		policies++
	}
	switch {
	case policies > 1:
		return input("Expected exactly one of [Weight, Region, Failover, GeoLocation, MultiValueAnswer, GeoProximityLocation, or CidrRoutingConfig], but found more than one in Change with %s", describe(action, r))
	case policies == 1 && r.SetIdentifier == "":
		return input("Missing field 'SetIdentifier' in Change with %s", describe(action, r))
	case policies == 0 && r.SetIdentifier != "":
		return input("Expected exactly one of [Weight, Region, Failover, GeoLocation, MultiValueAnswer, GeoProximityLocation, or CidrRoutingConfig], but found none in Change with %s", describe(action, r))
	}
	if r.Weight != nil && (*r.Weight < 0 || *r.Weight > 255) {
		return input("Weight must be between 0 and 255 in Change with %s", describe(action, r))
	}
	if r.Failover != "" && r.Failover != FailoverPrimary && r.Failover != FailoverSecondary {
		return input("Failover must be PRIMARY or SECONDARY in Change with %s", describe(action, r))
	}
	if r.MultiValueAnswer != nil && r.Alias != nil {
		return input("MultiValueAnswer is not supported for alias records in Change with %s", describe(action, r))
	}
	if r.TTL != nil && (*r.TTL < 0 || *r.TTL > 2147483647) {
		return input("TTL must be between 0 and 2147483647 in Change with %s", describe(action, r))
	}
	if !InZone(r.Name, zoneName) {
		return batch(fmt.Sprintf("RRSet with DNS name %s is not permitted in zone %s", APIName(r.Name), zoneName))
	}
	if r.Type == "SOA" && r.Name != zoneName {
		return batch(fmt.Sprintf("RRSet of type SOA with DNS name %s is not permitted because only the zone apex %s may have an SOA record", APIName(r.Name), zoneName))
	}
	if r.Type == "CNAME" && r.Name == zoneName {
		return batch(fmt.Sprintf("RRSet of type CNAME with DNS name %s is not permitted at apex in zone %s", APIName(r.Name), zoneName))
	}
	if r.Alias != nil {
		target, err := CanonicalName(r.Alias.DNSName)
		if err != nil {
			return batch(err.Error())
		}
		r.Alias.DNSName = target
		if r.Alias.HostedZoneID == "" {
			return input("Missing field 'HostedZoneId' in AliasTarget in Change with %s", describe(action, r))
		}
		return nil
	}
	if (r.Type == "CNAME" || r.Type == "SOA") && len(r.Values) > 1 {
		return batch(fmt.Sprintf("RRSet of type %s with DNS name %s has more than one value", r.Type, APIName(r.Name)))
	}
	var msgs []string
	for _, v := range r.Values {
		if _, err := ParseValue(r.Name, r.Type, uint32(*r.TTL), v); err != nil {
			msgs = append(msgs, err.Error())
		}
	}
	if len(msgs) > 0 {
		return &ChangeError{Code: CodeInvalidChangeBatch, Messages: msgs}
	}
	return nil
}

// ApplyChanges applies a change batch to zone's records as Route 53 does:
// every change is checked, then applied in order (CREATE fails if the record
// set exists, DELETE if it is absent or differs, UPSERT creates or replaces),
// then the resulting zone is checked as a whole. Either all changes apply and
// the new record list is returned (z is not modified), or none do and the
// error says why. healthCheckExists reports whether a referenced health check
// exists.
func ApplyChanges(z *Zone, changes []Change, healthCheckExists func(id string) bool) ([]RecordSet, *ChangeError) {
	if len(changes) == 0 {
		return nil, &ChangeError{Code: CodeInvalidInput, Messages: []string{"Invalid request: Expected at least one Change in ChangeBatch"}}
	}
	if len(changes) > MaxChanges {
		return nil, &ChangeError{Code: CodeInvalidChangeBatch, Messages: []string{fmt.Sprintf("Number of records limit of %d exceeded.", MaxChanges)}}
	}
	for i := range changes {
		c := &changes[i]
		switch c.Action {
		case ActionCreate, ActionDelete, ActionUpsert:
		default:
			return nil, &ChangeError{Code: CodeInvalidInput, Messages: []string{
				fmt.Sprintf("Invalid request: Expected one of [CREATE, DELETE, UPSERT], but found '%s' in Change", c.Action)}}
		}
		if err := CheckRecordSet(z.Name, c.Action, &c.Record); err != nil {
			return nil, err
		}
		if id := c.Record.HealthCheckID; id != "" && c.Action != ActionDelete && healthCheckExists != nil && !healthCheckExists(id) {
			return nil, &ChangeError{Code: CodeNoSuchHealthCheck, Messages: []string{"No health check found with id: " + id}}
		}
	}

	records := slices.Clone(z.Records)
	index := func(k Key) int {
		return slices.IndexFunc(records, func(r RecordSet) bool { return r.Key() == k })
	}
	var msgs []string
	touched := map[string]bool{}
	for _, c := range changes {
		r := c.Record
		i := index(r.Key())
		touched[r.Name] = true
		switch c.Action {
		case ActionCreate:
			if i >= 0 {
				msgs = append(msgs, fmt.Sprintf("Tried to create resource record set %s but it already exists", rrsetRef(&r)))
				continue
			}
			records = append(records, r)
		case ActionDelete:
			switch {
			case i < 0:
				msgs = append(msgs, fmt.Sprintf("Tried to delete resource record set %s but it was not found", rrsetRef(&r)))
				continue
			case !SameRecordSet(&records[i], &r):
				msgs = append(msgs, fmt.Sprintf("Tried to delete resource record set %s but the values provided do not match the current values", rrsetRef(&r)))
				continue
			}
			records = slices.Delete(records, i, i+1)
		case ActionUpsert:
			if i >= 0 {
				records[i] = r
			} else {
				records = append(records, r)
			}
		}
	}
	if len(msgs) > 0 {
		return nil, &ChangeError{Code: CodeInvalidChangeBatch, Messages: msgs}
	}
	msgs = checkZone(z, records, touched)
	if len(msgs) > 0 {
		return nil, &ChangeError{Code: CodeInvalidChangeBatch, Messages: msgs}
	}
	SortRecords(records)
	return records, nil
}

// SameRecordSet reports whether two record sets are equal in every field a
// DELETE must match (values in any order).
func SameRecordSet(a, b *RecordSet) bool {
	if a.Key() != b.Key() || a.Failover != b.Failover || a.HealthCheckID != b.HealthCheckID ||
		!eqPtr(a.Weight, b.Weight) || !eqPtr(a.TTL, b.TTL) || !eqPtr(a.MultiValueAnswer, b.MultiValueAnswer) {
		return false
	}
	if (a.Alias == nil) != (b.Alias == nil) || a.Alias != nil && *a.Alias != *b.Alias {
		return false
	}
	if len(a.Values) != len(b.Values) {
		return false
	}
	av, bv := slices.Clone(a.Values), slices.Clone(b.Values)
	slices.Sort(av)
	slices.Sort(bv)
	return slices.Equal(av, bv)
}

func eqPtr[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// CheckZone validates a whole record list of zone z (as the topology file
// gives it) and returns Route 53's InvalidChangeBatch messages.
func CheckZone(z *Zone) []string {
	touched := map[string]bool{}
	for _, r := range z.Records {
		touched[r.Name] = true
	}
	touched[z.Name] = true
	return checkZone(z, z.Records, touched)
}

// checkZone checks the rules that involve more than one record set, for the
// names in touched.
func checkZone(z *Zone, records []RecordSet, touched map[string]bool) []string {
	var msgs []string
	if len(records) > MaxRecordSets {
		msgs = append(msgs, fmt.Sprintf("The hosted zone has more than %d resource record sets.", MaxRecordSets))
	}
	byName := map[string][]*RecordSet{}
	for i := range records {
		byName[records[i].Name] = append(byName[records[i].Name], &records[i])
	}
	if touched[z.Name] {
		soa, ns := 0, 0
		for _, r := range byName[z.Name] {
			switch r.Type {
			case "SOA":
				soa++
			case "NS":
				ns++
			}
		}
		if soa != 1 {
			msgs = append(msgs, "A HostedZone must contain exactly one SOA record.")
		}
		if ns == 0 {
			msgs = append(msgs, "A HostedZone must contain at least one NS record for the zone itself.")
		}
	}
	names := make([]string, 0, len(touched))
	for n := range touched {
		names = append(names, n)
	}
	slices.SortFunc(names, CompareNames)
	for _, name := range names {
		rs := byName[name]
		hasCNAME := slices.ContainsFunc(rs, func(r *RecordSet) bool { return r.Type == "CNAME" })
		if hasCNAME && slices.ContainsFunc(rs, func(r *RecordSet) bool { return r.Type != "CNAME" }) {
			msgs = append(msgs, fmt.Sprintf("RRSet of type CNAME with DNS name %s is not permitted as it conflicts with other records with the same DNS name in zone %s", APIName(name), z.Name))
		}
		groups := map[string][]*RecordSet{}
		var types []string
		for _, r := range rs {
			if groups[r.Type] == nil {
				types = append(types, r.Type)
			}
			groups[r.Type] = append(groups[r.Type], r)
		}
		slices.Sort(types)
		for _, t := range types {
			msgs = append(msgs, checkGroup(groups[t])...)
		}
		for _, r := range rs {
			if r.Alias != nil && r.Alias.HostedZoneID == z.ID {
				msgs = append(msgs, checkAliasTarget(z, byName, r)...)
			}
		}
	}
	return msgs
}

// checkGroup checks the record sets of one name and type.
func checkGroup(g []*RecordSet) []string {
	if len(g) == 1 {
		return nil
	}
	slices.SortFunc(g, func(a, b *RecordSet) int { return cmp.Compare(a.SetIdentifier, b.SetIdentifier) })
	first := g[0]
	var msgs []string
	policy := ""
	for _, r := range g {
		if r.SetIdentifier == "" {
			msgs = append(msgs, fmt.Sprintf("RRSet with DNS name %s, type %s cannot be created as other RRSets exist with the same name and type.", APIName(r.Name), r.Type))
			return msgs
		}
		if policy == "" {
			policy = r.Policy()
		} else if r.Policy() != policy {
			msgs = append(msgs, fmt.Sprintf("RRSet with DNS name %s, type %s, SetIdentifier %s cannot be created as a non-%s set exists with the same name and type.", APIName(r.Name), r.Type, r.SetIdentifier, r.Policy()))
			return msgs
		}
	}
	switch policy {
	case "weighted":
		if len(g) > MaxWeighted {
			msgs = append(msgs, fmt.Sprintf("RRSet with DNS name %s, type %s has more than %d weighted records.", APIName(first.Name), first.Type, MaxWeighted))
		}
		for _, r := range g[1:] {
			if r.Alias == nil && first.Alias == nil && !eqPtr(r.TTL, first.TTL) {
				msgs = append(msgs, fmt.Sprintf("RRSet with DNS name %s, type %s, SetIdentifier %s has TTL %d, but other weighted RRSets with the same name and type have TTL %d.",
					APIName(r.Name), r.Type, r.SetIdentifier, *r.TTL, *first.TTL))
			}
		}
	case "failover":
		seen := map[string]string{}
		for _, r := range g {
			if other, dup := seen[r.Failover]; dup {
				msgs = append(msgs, fmt.Sprintf("RRSet with DNS name %s, type %s, SetIdentifier %s cannot be created because a %s failover RRSet (SetIdentifier %s) already exists with the same name and type.",
					APIName(r.Name), r.Type, r.SetIdentifier, r.Failover, other))
				continue
			}
			seen[r.Failover] = r.SetIdentifier
		}
	}
	return msgs
}

// checkAliasTarget checks an alias that targets a record of its own zone.
func checkAliasTarget(z *Zone, byName map[string][]*RecordSet, r *RecordSet) []string {
	target := r.Alias.DNSName
	prefix := fmt.Sprintf("Tried to create an alias that targets %s, type %s in zone %s", APIName(target), r.Type, z.ID)
	if !InZone(target, z.Name) {
		return []string{prefix + ", but the alias target name does not lie within the target zone"}
	}
	if target == r.Name {
		return []string{prefix + ", but the alias target is the record itself"}
	}
	found := slices.ContainsFunc(byName[target], func(t *RecordSet) bool {
		return t.Type == r.Type || t.Type == "CNAME"
	})
	if !found {
		return []string{prefix + ", but that target was not found"}
	}
	return nil
}

func sortRecords(rs []RecordSet) {
	slices.SortStableFunc(rs, func(a, b RecordSet) int {
		if c := CompareNames(a.Name, b.Name); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Type, b.Type); c != 0 {
			return c
		}
		return cmp.Compare(a.SetIdentifier, b.SetIdentifier)
	})
}

// TTLText formats a TTL pointer for messages.
func TTLText(t *int64) string {
	if t == nil {
		return "null"
	}
	return strconv.FormatInt(*t, 10)
}
