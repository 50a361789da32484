package route53api

import (
	"cmp"
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"reflect"
	"slices"
	"strconv"

	"gatehouse/internal/awsproto"
	"gatehouse/internal/dns/r53"
	"gatehouse/internal/store"
)

// healthCheckConfigXML is Route 53's HealthCheckConfig.
type healthCheckConfigXML struct {
	IPAddress                    string    `xml:"IPAddress,omitempty"`
	Port                         int       `xml:",omitempty"`
	Type                         string    `xml:"Type"`
	ResourcePath                 string    `xml:",omitempty"`
	FullyQualifiedDomainName     string    `xml:",omitempty"`
	SearchString                 string    `xml:",omitempty"`
	RequestInterval              int       `xml:",omitempty"`
	FailureThreshold             int       `xml:",omitempty"`
	MeasureLatency               *bool     `xml:",omitempty"`
	Inverted                     *bool     `xml:",omitempty"`
	Disabled                     *bool     `xml:",omitempty"`
	HealthThreshold              *int      `xml:",omitempty"`
	ChildHealthChecks            []string  `xml:"ChildHealthChecks>ChildHealthCheck,omitempty"`
	EnableSNI                    *bool     `xml:",omitempty"`
	Regions                      []string  `xml:"Regions>Region,omitempty"`
	AlarmIdentifier              *presence `xml:",omitempty"`
	InsufficientDataHealthStatus string    `xml:",omitempty"`
	RoutingControlArn            string    `xml:",omitempty"`
}

type healthCheckXML struct {
	ID                 string `xml:"Id"`
	CallerReference    string
	HealthCheckConfig  healthCheckConfigXML
	HealthCheckVersion int64
}

func toConfig(x *healthCheckConfigXML) r53.HealthCheckConfig {
	c := r53.HealthCheckConfig{Type: x.Type, IPAddress: x.IPAddress, Port: x.Port, ResourcePath: x.ResourcePath,
		FullyQualifiedDomainName: x.FullyQualifiedDomainName, SearchString: x.SearchString, RequestInterval: x.RequestInterval,
		FailureThreshold: x.FailureThreshold, ChildHealthChecks: x.ChildHealthChecks, Regions: x.Regions}
	deref := func(b *bool) bool { return b != nil && *b }
	c.MeasureLatency, c.Inverted, c.Disabled, c.EnableSNI = deref(x.MeasureLatency), deref(x.Inverted), deref(x.Disabled), deref(x.EnableSNI)
	if x.HealthThreshold != nil {
		c.HealthThreshold = *x.HealthThreshold
	}
	return c
}

func fromConfig(c *r53.HealthCheckConfig) healthCheckConfigXML {
	f := false
	x := healthCheckConfigXML{Type: c.Type, IPAddress: c.IPAddress, Port: c.Port, ResourcePath: c.ResourcePath,
		FullyQualifiedDomainName: c.FullyQualifiedDomainName, SearchString: c.SearchString,
		RequestInterval: c.RequestInterval, FailureThreshold: c.FailureThreshold,
		MeasureLatency: &c.MeasureLatency, Inverted: &c.Inverted, Disabled: &c.Disabled,
		ChildHealthChecks: c.ChildHealthChecks, Regions: c.Regions}
	switch c.Type {
	case r53.CheckCalculated:
		x.HealthThreshold = &c.HealthThreshold
		x.MeasureLatency = nil
	case r53.CheckHTTPS, r53.CheckHTTPSStrMatch:
		x.EnableSNI = &c.EnableSNI
	}
	if x.Disabled == nil {
		x.Disabled = &f
	}
	return x
}

func checkXML(h *r53.HealthCheck) healthCheckXML {
	return healthCheckXML{ID: h.ID, CallerReference: h.CallerReference, HealthCheckConfig: fromConfig(&h.Config), HealthCheckVersion: h.Version}
}

type createHealthCheckRequest struct {
	XMLName           xml.Name `xml:"CreateHealthCheckRequest"`
	CallerReference   string
	HealthCheckConfig *healthCheckConfigXML
}

type healthCheckResponse struct {
	XMLName     xml.Name
	Xmlns       string         `xml:"xmlns,attr"`
	HealthCheck healthCheckXML `xml:"HealthCheck"`
}

func (s *Server) createHealthCheck(c *call) (int, any, error) {
	var req createHealthCheckRequest
	if err := c.decode("CreateHealthCheckRequest", &req); err != nil {
		return 0, nil, err
	}
	if req.CallerReference == "" || len(req.CallerReference) > 64 {
		return 0, nil, invalidInput("Invalid request: CallerReference must be 1 to 64 characters")
	}
	if req.HealthCheckConfig == nil {
		return 0, nil, invalidInput("Invalid request: Missing field 'HealthCheckConfig' in CreateHealthCheckRequest")
	}
	x := req.HealthCheckConfig
	if x.AlarmIdentifier != nil || x.InsufficientDataHealthStatus != "" || x.RoutingControlArn != "" {
		return 0, nil, invalidInput("Invalid request: CloudWatch alarm and Application Recovery Controller health checks are not supported by gatehouse")
	}
	cfg := toConfig(x).WithDefaults()
	if msg := r53.ValidateHealthCheck(cfg); msg != "" {
		return 0, nil, invalidInput("%s", msg)
	}
	for _, child := range cfg.ChildHealthChecks {
		if _, _, err := s.loadCheck(c, child); err != nil {
			return 0, nil, invalidInput("Invalid request: child health check %s does not exist", child)
		}
	}
	key := refKey("hc", c.caller.Account, req.CallerReference)
	h := &r53.HealthCheck{ID: awsproto.NewRequestID(), Account: c.caller.Account, CallerReference: req.CallerReference,
		Config: cfg, Version: 1, Created: s.now().UTC()}
	if _, err := s.store.Create(c.ctx, refsBucket, key, []byte(h.ID)); err != nil {
		if !errors.Is(err, store.ErrExists) {
			return 0, nil, s.storeErr("create health check ref", err)
		}
		// Same reference: the same settings return the existing check.
		e, gerr := s.store.Get(c.ctx, refsBucket, key)
		if gerr != nil {
			return 0, nil, s.storeErr("get health check ref", gerr)
		}
		old, _, lerr := s.loadCheck(c, string(e.Value))
		if lerr != nil || !reflect.DeepEqual(old.Config, cfg) {
			return 0, nil, errf(http.StatusConflict, "HealthCheckAlreadyExists",
				"A health check with the caller reference %s already exists with different settings.", req.CallerReference)
		}
		h = old
	} else {
		b, _ := json.Marshal(h)
		if _, err := s.store.Create(c.ctx, r53.BucketHealthChecks, h.ID, b); err != nil {
			_ = s.store.Delete(c.ctx, refsBucket, key, 0)
			return 0, nil, s.storeErr("create health check", err)
		}
	}
	c.w.Header().Set("Location", "https://route53.amazonaws.com/2013-04-01/healthcheck/"+h.ID)
	return http.StatusCreated, healthCheckResponse{XMLName: xml.Name{Local: "CreateHealthCheckResponse"}, Xmlns: Namespace, HealthCheck: checkXML(h)}, nil
}

// loadCheck returns the caller's health check id.
func (s *Server) loadCheck(c *call, id string) (*r53.HealthCheck, uint64, error) {
	if id == "" || store.ValidateKey(id) != nil {
		return nil, 0, noSuchHealthCheck(id)
	}
	e, err := s.store.Get(c.ctx, r53.BucketHealthChecks, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, 0, noSuchHealthCheck(id)
	}
	if err != nil {
		return nil, 0, s.storeErr("get health check", err)
	}
	var h r53.HealthCheck
	if err := json.Unmarshal(e.Value, &h); err != nil || h.Account != c.caller.Account {
		return nil, 0, noSuchHealthCheck(id)
	}
	return &h, e.Revision, nil
}

func (s *Server) getHealthCheck(c *call) (int, any, error) {
	h, _, err := s.loadCheck(c, c.r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, healthCheckResponse{XMLName: xml.Name{Local: "GetHealthCheckResponse"}, Xmlns: Namespace, HealthCheck: checkXML(h)}, nil
}

type listHealthChecksResponse struct {
	XMLName      xml.Name         `xml:"ListHealthChecksResponse"`
	Xmlns        string           `xml:"xmlns,attr"`
	HealthChecks []healthCheckXML `xml:"HealthChecks>HealthCheck"`
	Marker       string
	IsTruncated  bool
	NextMarker   string `xml:",omitempty"`
	MaxItems     string
}

func (s *Server) listHealthChecks(c *call) (int, any, error) {
	limit, err := maxItems(c, 100, 1000)
	if err != nil {
		return 0, nil, err
	}
	entries, err := s.store.List(c.ctx, r53.BucketHealthChecks, "")
	if err != nil {
		return 0, nil, s.storeErr("list health checks", err)
	}
	var checks []*r53.HealthCheck
	for _, e := range entries {
		var h r53.HealthCheck
		if json.Unmarshal(e.Value, &h) == nil && h.Account == c.caller.Account {
			checks = append(checks, &h)
		}
	}
	slices.SortFunc(checks, func(a, b *r53.HealthCheck) int { return cmp.Compare(a.ID, b.ID) })
	marker := c.r.URL.Query().Get("marker")
	out := listHealthChecksResponse{Xmlns: Namespace, Marker: marker, MaxItems: strconv.Itoa(limit), HealthChecks: []healthCheckXML{}}
	for _, h := range checks {
		if marker != "" && h.ID < marker {
			continue
		}
		if len(out.HealthChecks) == limit {
			out.IsTruncated = true
			out.NextMarker = h.ID
			break
		}
		out.HealthChecks = append(out.HealthChecks, checkXML(h))
	}
	return http.StatusOK, out, nil
}

type deleteHealthCheckResponse struct {
	XMLName xml.Name `xml:"DeleteHealthCheckResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
}

func (s *Server) deleteHealthCheck(c *call) (int, any, error) {
	h, rev, err := s.loadCheck(c, c.r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	if err := s.store.Delete(c.ctx, r53.BucketHealthChecks, h.ID, rev); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return 0, nil, noSuchHealthCheck(h.ID)
		}
		return 0, nil, s.storeErr("delete health check", err)
	}
	return http.StatusOK, deleteHealthCheckResponse{Xmlns: Namespace}, nil
}

type statusReportXML struct {
	Status      string
	CheckedTime string
}

type observationXML struct {
	Region       string
	IPAddress    string `xml:"IPAddress"`
	StatusReport statusReportXML
}

type healthCheckStatusResponse struct {
	XMLName                 xml.Name         `xml:"GetHealthCheckStatusResponse"`
	Xmlns                   string           `xml:"xmlns,attr"`
	HealthCheckObservations []observationXML `xml:"HealthCheckObservations>HealthCheckObservation"`
}

func (s *Server) getHealthCheckStatus(c *call) (int, any, error) {
	h, _, err := s.loadCheck(c, c.r.PathValue("id"))
	if err != nil {
		return 0, nil, err
	}
	out := healthCheckStatusResponse{Xmlns: Namespace, HealthCheckObservations: []observationXML{}}
	if obs, ok := s.status(h.ID); ok && !obs.CheckedTime.IsZero() {
		out.HealthCheckObservations = append(out.HealthCheckObservations, observationXML{
			Region: obs.Region, IPAddress: obs.IPAddress,
			StatusReport: statusReportXML{Status: obs.Status, CheckedTime: timestamp(obs.CheckedTime)},
		})
	}
	return http.StatusOK, out, nil
}
