package deployment

import (
	"strings"

	"gatehouse/internal/accesslog"
	"gatehouse/internal/apimodel"
	"gatehouse/internal/authorizer"
)

// Snapshot is everything the data plane serves, compiled. It is immutable once built:
// the data plane swaps whole snapshots atomically and a request reads one from start to end.
type Snapshot struct {
	Region string
	APIs   map[string]*API
}

// API is a served REST API: its current endpoint configuration and its stages.
type API struct {
	ID                        string
	Account                   string
	Private                   bool
	DisableExecuteAPIEndpoint bool
	VpcEndpointIDs            []string
	Stages                    map[string]*Stage
}

// AllowsAlias reports whether vpce is associated with the API (alias hostnames).
func (a *API) AllowsAlias(vpce string) bool {
	for _, id := range a.VpcEndpointIDs {
		if id == vpce {
			return true
		}
	}
	return false
}

// Stage is a served stage.
type Stage struct {
	Name      string
	API       *API
	Compiled  *Compiled // nil when Err != nil
	Err       error     // compile failure: every request gets API_CONFIGURATION_ERROR
	Variables map[string]string
	// ClientCertificateID is presented to backends over VPC-link TLS.
	ClientCertificateID string
	AccessLog           *accesslog.Format
	LogWriter           *accesslog.Writer
	// ARNPrefix is "arn:aws:execute-api:{region}:{account}:{api}/{stage}/" and MaskedARNPrefix
	// the same with all but the last 4 digits of the account masked, as AWS prints it.
	ARNPrefix       string
	MaskedARNPrefix string
}

// Inputs are the stored documents a snapshot is built from, each with its store revision.
type Inputs struct {
	APIs        map[string]Versioned[apimodel.API]        // by api id
	Deployments map[string]Versioned[apimodel.Deployment] // by DeploymentKey
	Stages      map[string]Versioned[apimodel.Stage]      // by StageKey
}

// Versioned is a document with its store revision.
type Versioned[T any] struct {
	Value    T
	Revision uint64
}

// LogWriterFunc returns the writer for an access-log destination ARN.
type LogWriterFunc func(destinationARN string) (*accesslog.Writer, error)

// Builder builds snapshots, reusing compiled stages whose inputs did not change.
// It is not safe for concurrent use.
type Builder struct {
	Region    string
	LogWriter LogWriterFunc
	// Invoker calls Lambda authorizer functions; nil makes them fail (500).
	Invoker authorizer.Invoker
	cache   map[string]cached
}

type cached struct {
	depRev, stageRev uint64
	compiled         *Compiled
	err              error
}

// Build compiles the inputs into a new snapshot.
func (b *Builder) Build(in Inputs) *Snapshot {
	if b.cache == nil {
		b.cache = map[string]cached{}
	}
	snap := &Snapshot{Region: b.Region, APIs: make(map[string]*API, len(in.APIs))}
	for id, v := range in.APIs {
		ra := &v.Value.RestAPI
		a := &API{
			ID:                        id,
			Account:                   v.Value.Account,
			Private:                   ra.IsPrivate(),
			DisableExecuteAPIEndpoint: ra.DisableExecuteAPIEndpoint,
			Stages:                    map[string]*Stage{},
		}
		if ra.EndpointConfiguration != nil {
			a.VpcEndpointIDs = ra.EndpointConfiguration.VpcEndpointIds
		}
		snap.APIs[id] = a
	}
	seen := map[string]bool{}
	for key, sv := range in.Stages {
		st := sv.Value
		a := snap.APIs[st.APIID]
		if a == nil {
			continue
		}
		s := &Stage{
			Name:                st.StageName,
			API:                 a,
			Variables:           st.Variables,
			ClientCertificateID: st.ClientCertificateID,
			ARNPrefix:           "arn:aws:execute-api:" + b.Region + ":" + a.Account + ":" + a.ID + "/" + st.StageName + "/",
			MaskedARNPrefix:     "arn:aws:execute-api:" + b.Region + ":" + MaskAccount(a.Account) + ":" + a.ID + "/" + st.StageName + "/",
		}
		dv, ok := in.Deployments[apimodel.DeploymentKey(st.APIID, st.DeploymentID)]
		if !ok {
			continue // a stage without its deployment serves nothing, as on AWS
		}
		seen[key] = true
		c, hit := b.cache[key]
		if !hit || c.depRev != dv.Revision || c.stageRev != sv.Revision {
			dep := dv.Value
			comp, err := Compile(&dep, st.Variables, b.Invoker)
			c = cached{depRev: dv.Revision, stageRev: sv.Revision, compiled: comp, err: err}
			b.cache[key] = c
		}
		s.Compiled, s.Err = c.compiled, c.err
		if als := st.AccessLogSettings; als != nil && als.Format != "" && als.DestinationArn != "" && b.LogWriter != nil {
			if f, err := accesslog.Compile(als.Format); err == nil {
				if w, err := b.LogWriter(als.DestinationArn); err == nil {
					s.AccessLog, s.LogWriter = f, w
				}
			}
		}
		a.Stages[st.StageName] = s
	}
	for k := range b.cache {
		if !seen[k] {
			delete(b.cache, k)
		}
	}
	return snap
}

// MaskAccount masks all but the last 4 digits of an account id ("********2543").
func MaskAccount(acct string) string {
	if len(acct) <= 4 {
		return acct
	}
	return strings.Repeat("*", len(acct)-4) + acct[len(acct)-4:]
}
