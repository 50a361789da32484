package dns

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/config"
	"gatehouse/internal/dns/r53"
	"gatehouse/internal/store"
)

// state is what views are built from: the topology, its compiled zones,
// and what the store holds (zones, REST APIs, Cloud Map documents). Guarded
// by mu.
type state struct {
	topo      *config.Topology
	publicIPs []netip.Addr
	cacheSize int
	log       *slog.Logger
	topoZones []*zoneView

	mu    sync.Mutex
	zones map[string]*zoneView // stored zones by id
	apis  map[string]apiInfo
	// cloudMap holds the Cloud Map documents; cmZones are the zones
	// compiled from them, recompiled by build when cmDirty.
	cloudMap cloudMapDocs
	cmZones  []*zoneView
	cmDirty  bool
}

func newState(t *config.Topology, publicIPs []netip.Addr, cacheSize int, log *slog.Logger) (*state, error) {
	st := &state{topo: t, publicIPs: publicIPs, cacheSize: cacheSize, log: log,
		zones: map[string]*zoneView{}, apis: map[string]apiInfo{}, cloudMap: newCloudMapDocs()}
	for _, hz := range t.DNS.HostedZones {
		z := &r53.Zone{ID: hz.ID, Name: hz.Name, Account: hz.Account, Private: hz.Private, Records: hz.Records}
		for _, v := range hz.VPCs {
			z.VPCs = append(z.VPCs, r53.VPCRef{Region: t.Region, ID: v})
		}
		zv, err := compileZone(z, 0)
		if err != nil {
			return nil, fmt.Errorf("dns: topology: %w", err)
		}
		st.topoZones = append(st.topoZones, zv)
	}
	return st, nil
}

// build makes a view of the current state.
func (st *state) build() *view {
	st.mu.Lock()
	if st.cmDirty {
		var err error
		st.cmZones, err = compileCloudMap(st.cloudMap)
		st.cmDirty = false
		if err != nil {
			st.log.Warn("some Cloud Map records are not served", "err", err)
		}
	}
	zones := make([]*zoneView, 0, len(st.topoZones)+len(st.zones)+len(st.cmZones))
	zones = append(zones, st.topoZones...)
	for _, z := range st.zones {
		zones = append(zones, z)
	}
	zones = append(zones, st.cmZones...)
	apis := make(map[string]apiInfo, len(st.apis))
	for k, v := range st.apis {
		apis[k] = v
	}
	st.mu.Unlock()
	return buildView(viewInputs{topo: st.topo, publicIPs: st.publicIPs, apis: apis, zones: zones, cacheSize: st.cacheSize})
}

// storedAPI is the part of a stored REST API document DNS reads.
type storedAPI struct {
	RestAPI struct {
		ID                    string                          `json:"id"`
		EndpointConfiguration *apimodel.EndpointConfiguration `json:"endpointConfiguration"`
	} `json:"restApi"`
}

func decodeAPI(b []byte) (apiInfo, error) {
	var d storedAPI
	if err := json.Unmarshal(b, &d); err != nil {
		return apiInfo{}, err
	}
	r := apimodel.RestApi{EndpointConfiguration: d.RestAPI.EndpointConfiguration}
	info := apiInfo{private: r.IsPrivate()}
	if ec := d.RestAPI.EndpointConfiguration; ec != nil {
		info.vpces = ec.VpcEndpointIds
	}
	return info, nil
}

// bucketSync keeps one bucket's contents in step with the store.
type bucketSync struct {
	bucket string
	// reset replaces the bucket's contents with a full listing.
	reset func(entries map[string]store.Entry)
	// apply applies one later change.
	apply func(ev store.Event)
}

// watch follows the store buckets in the background: every change updates
// the state, and a single goroutine rebuilds and publishes views, coalescing
// bursts. ready is called once every bucket has been listed.
func (st *state) watch(ctx context.Context, w Watcher, hc *healthChecker, publish func(*view), ready func(), wg *sync.WaitGroup) error {
	dirty := make(chan struct{}, 1)
	notify := func() {
		select {
		case dirty <- struct{}{}:
		default:
		}
	}
	storedChecks := map[string]bool{}
	var checksMu sync.Mutex
	syncs := []bucketSync{
		{
			bucket: r53.BucketZones,
			reset: func(entries map[string]store.Entry) {
				zones := map[string]*zoneView{}
				st.mu.Lock()
				old := st.zones
				st.mu.Unlock()
				for k, e := range entries {
					if z := st.compileStored(k, e, old[k]); z != nil {
						zones[k] = z
					}
				}
				st.mu.Lock()
				st.zones = zones
				st.mu.Unlock()
			},
			apply: func(ev store.Event) {
				st.mu.Lock()
				old := st.zones[ev.Key]
				st.mu.Unlock()
				var z *zoneView
				if !ev.Deleted {
					z = st.compileStored(ev.Key, ev.Entry, old)
				}
				st.mu.Lock()
				if z == nil {
					delete(st.zones, ev.Key)
				} else {
					st.zones[ev.Key] = z
				}
				st.mu.Unlock()
			},
		},
		{
			bucket: apimodel.BucketRestAPIs,
			reset: func(entries map[string]store.Entry) {
				apis := map[string]apiInfo{}
				for k, e := range entries {
					if info, err := decodeAPI(e.Value); err == nil {
						apis[k] = info
					} else {
						st.log.Error("bad stored REST API", "key", k, "err", err)
					}
				}
				st.mu.Lock()
				st.apis = apis
				st.mu.Unlock()
			},
			apply: func(ev store.Event) {
				var info apiInfo
				var err error
				if !ev.Deleted {
					if info, err = decodeAPI(ev.Value); err != nil {
						st.log.Error("bad stored REST API", "key", ev.Key, "err", err)
					}
				}
				st.mu.Lock()
				if ev.Deleted || err != nil {
					delete(st.apis, ev.Key)
				} else {
					st.apis[ev.Key] = info
				}
				st.mu.Unlock()
			},
		},
		{
			bucket: apimodel.BucketCloudMap,
			reset: func(entries map[string]store.Entry) {
				docs := newCloudMapDocs()
				for k, e := range entries {
					if err := docs.put(k, e.Value); err != nil {
						st.log.Error("bad stored Cloud Map document", "key", k, "err", err)
					}
				}
				st.mu.Lock()
				st.cloudMap = docs
				st.cmDirty = true
				st.mu.Unlock()
			},
			apply: func(ev store.Event) {
				st.mu.Lock()
				defer st.mu.Unlock()
				if ev.Deleted {
					st.cloudMap.remove(ev.Key)
				} else if err := st.cloudMap.put(ev.Key, ev.Value); err != nil {
					st.log.Error("bad stored Cloud Map document", "key", ev.Key, "err", err)
				}
				st.cmDirty = true
			},
		},
		{
			bucket: r53.BucketHealthChecks,
			reset: func(entries map[string]store.Entry) {
				checksMu.Lock()
				defer checksMu.Unlock()
				for id := range storedChecks {
					if _, ok := entries[id]; !ok {
						hc.remove(id)
						delete(storedChecks, id)
					}
				}
				for id, e := range entries {
					if st.applyCheck(hc, id, e.Value) {
						storedChecks[id] = true
					}
				}
			},
			apply: func(ev store.Event) {
				checksMu.Lock()
				defer checksMu.Unlock()
				if ev.Deleted {
					hc.remove(ev.Key)
					delete(storedChecks, ev.Key)
					return
				}
				if st.applyCheck(hc, ev.Key, ev.Value) {
					storedChecks[ev.Key] = true
				}
			},
		},
	}

	var readyMu sync.Mutex
	listed := map[string]bool{}
	markListed := func(bucket string) {
		readyMu.Lock()
		defer readyMu.Unlock()
		listed[bucket] = true
		if len(listed) == len(syncs) {
			ready()
		}
	}
	// Open every watch before returning, so that a store problem fails Start.
	chans := make([]<-chan store.Event, len(syncs))
	for i, bs := range syncs {
		ch, err := w.Watch(ctx, bs.bucket)
		if err != nil {
			return fmt.Errorf("dns: watch %s: %w", bs.bucket, err)
		}
		chans[i] = ch
	}
	for i, bs := range syncs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st.follow(ctx, w, bs, chans[i], notify, markListed)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-ctx.Done():
				return
			case <-dirty:
				publish(st.build())
			}
		}
	}()
	return nil
}

// follow consumes one bucket's watch, and watches again (the listing is
// replayed) when the watch ends before ctx does.
func (st *state) follow(ctx context.Context, w Watcher, bs bucketSync, ch <-chan store.Event, notify func(), listed func(string)) {
	backoff := 50 * time.Millisecond
	for {
		if ch != nil {
			entries := map[string]store.Entry{}
			initial := true
			for ev := range ch {
				switch {
				case ev.InitialDone:
					bs.reset(entries)
					initial = false
					listed(bs.bucket)
					notify()
				case initial:
					if ev.Deleted {
						delete(entries, ev.Key)
					} else {
						entries[ev.Key] = ev.Entry
					}
				default:
					bs.apply(ev)
					notify()
				}
			}
		}
		if ctx.Err() != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
		var err error
		ch, err = w.Watch(ctx, bs.bucket)
		if err != nil {
			st.log.Warn("watch failed; retrying", "bucket", bs.bucket, "err", err)
			ch = nil
			continue
		}
		backoff = 50 * time.Millisecond
	}
}

// compileStored compiles a stored zone document, reusing old when the
// revision is unchanged.
func (st *state) compileStored(key string, e store.Entry, old *zoneView) *zoneView {
	if old != nil && old.rev == e.Revision {
		return old
	}
	var z r53.Zone
	if err := json.Unmarshal(e.Value, &z); err != nil {
		st.log.Error("bad stored hosted zone", "key", key, "err", err)
		return nil
	}
	zv, err := compileZone(&z, e.Revision)
	if err != nil {
		st.log.Warn("hosted zone has bad records", "key", key, "err", err)
	}
	return zv
}

// applyCheck starts or updates a stored health check; it reports whether
// the document was valid.
func (st *state) applyCheck(hc *healthChecker, id string, b []byte) bool {
	var h r53.HealthCheck
	if err := json.Unmarshal(b, &h); err != nil {
		st.log.Error("bad stored health check", "key", id, "err", err)
		return false
	}
	hc.upsert(id, h.Config)
	return true
}
