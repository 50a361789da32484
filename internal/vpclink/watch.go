package vpclink

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/store"
)

// Watcher is the part of the store Run needs (*store.Store has it).
type Watcher interface {
	Watch(ctx context.Context, bucket string) (<-chan store.Event, error)
}

// watchedBuckets are the buckets Run follows.
var watchedBuckets = []string{
	apimodel.BucketELB, apimodel.BucketCloudMap, apimodel.BucketVpcLinks,
	apimodel.BucketClientCerts, apimodel.BucketAgentTokens,
}

// Run follows the store's private-integration buckets (elb, cloudmap, vpclinks,
// clientcerts, agenttokens) and applies every change with Update, until ctx ends (it
// then returns nil). The first Update happens once every bucket's current contents
// are read; later changes arriving together are applied as one. A watch that ends
// (store reconnecting) is restarted.
func (m *Manager) Run(ctx context.Context, w Watcher) error {
	type event struct {
		bucket string
		ev     store.Event
		closed bool
	}
	events := make(chan event)
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	contents := map[string]map[string][]byte{}
	ready := map[string]bool{}
	start := func(bucket string) error {
		ch, err := w.Watch(ctx, bucket)
		if err != nil {
			return fmt.Errorf("vpclink: watch %s: %w", bucket, err)
		}
		contents[bucket] = map[string][]byte{}
		ready[bucket] = false
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case ev, ok := <-ch:
					if !ok {
						select {
						case events <- event{bucket: bucket, closed: true}:
						case <-ctx.Done():
						}
						return
					}
					select {
					case events <- event{bucket: bucket, ev: ev}:
					case <-ctx.Done():
						return
					}
				case <-ctx.Done():
					return
				}
			}
		}()
		return nil
	}
	for _, b := range watchedBuckets {
		if err := start(b); err != nil {
			return err
		}
	}
	lastErr := ""
	apply := func() {
		for _, b := range watchedBuckets {
			if !ready[b] {
				return
			}
		}
		err := m.Update(decodeDocuments(contents, m))
		if msg := fmt.Sprint(err); err != nil && msg != lastErr {
			m.log.Warn("some private-integration documents are not usable", "err", err)
			lastErr = msg
		} else if err == nil {
			lastErr = ""
		}
	}
	handle := func(e event) error {
		switch {
		case e.closed:
			if ctx.Err() != nil {
				return nil
			}
			t := time.NewTimer(time.Second)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
			return start(e.bucket)
		case e.ev.InitialDone:
			ready[e.bucket] = true
		case e.ev.Deleted:
			delete(contents[e.bucket], e.ev.Key)
		default:
			contents[e.bucket][e.ev.Key] = e.ev.Value
		}
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case e := <-events:
			if err := handle(e); err != nil {
				return err
			}
		}
		// Take whatever else is already waiting, then rebuild once.
	drain:
		for {
			select {
			case e := <-events:
				if err := handle(e); err != nil {
					return err
				}
			default:
				break drain
			}
		}
		if ctx.Err() != nil {
			return nil
		}
		apply()
	}
}

// decodeDocuments decodes the buckets' contents; undecodable values are logged and
// left out.
func decodeDocuments(contents map[string]map[string][]byte, m *Manager) Documents {
	var d Documents
	dec := func(bucket, key string, v []byte, dst any) bool {
		if err := json.Unmarshal(v, dst); err != nil {
			m.log.Warn("undecodable document", "bucket", bucket, "key", key, "err", err)
			return false
		}
		return true
	}
	for key, v := range contents[apimodel.BucketELB] {
		switch apimodel.KeyKind(key) {
		case "lb":
			var x apimodel.LoadBalancer
			if dec(apimodel.BucketELB, key, v, &x) {
				d.LoadBalancers = append(d.LoadBalancers, x)
			}
		case "listener":
			var x apimodel.Listener
			if dec(apimodel.BucketELB, key, v, &x) {
				d.Listeners = append(d.Listeners, x)
			}
		case "rule":
			var x apimodel.Rule
			if dec(apimodel.BucketELB, key, v, &x) {
				d.Rules = append(d.Rules, x)
			}
		case "tg":
			var x apimodel.TargetGroup
			if dec(apimodel.BucketELB, key, v, &x) {
				d.TargetGroups = append(d.TargetGroups, x)
			}
		}
	}
	for key, v := range contents[apimodel.BucketCloudMap] {
		switch apimodel.KeyKind(key) {
		case "ns":
			var x apimodel.Namespace
			if dec(apimodel.BucketCloudMap, key, v, &x) {
				d.Namespaces = append(d.Namespaces, x)
			}
		case "srv":
			var x apimodel.Service
			if dec(apimodel.BucketCloudMap, key, v, &x) {
				d.Services = append(d.Services, x)
			}
		case "inst":
			var x apimodel.Instance
			if dec(apimodel.BucketCloudMap, key, v, &x) {
				d.Instances = append(d.Instances, x)
			}
		}
	}
	for key, v := range contents[apimodel.BucketVpcLinks] {
		var x apimodel.VpcLinkRecord
		if dec(apimodel.BucketVpcLinks, key, v, &x) {
			d.Links = append(d.Links, x)
		}
	}
	for key, v := range contents[apimodel.BucketClientCerts] {
		var x apimodel.ClientCertificateRecord
		if dec(apimodel.BucketClientCerts, key, v, &x) {
			d.ClientCerts = append(d.ClientCerts, x)
		}
	}
	for key, v := range contents[apimodel.BucketAgentTokens] {
		var x apimodel.AgentToken
		if dec(apimodel.BucketAgentTokens, key, v, &x) {
			if x.TokenSHA256 == "" {
				x.TokenSHA256 = key
			}
			d.AgentTokens = append(d.AgentTokens, x)
		}
	}
	return d
}
