package vpclink

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/store"
)

// fakeWatcher hands out one channel per bucket.
type fakeWatcher struct {
	mu    sync.Mutex
	chans map[string]chan store.Event
}

func (f *fakeWatcher) Watch(ctx context.Context, bucket string) (<-chan store.Event, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan store.Event, 16)
	f.chans[bucket] = ch
	return ch, nil
}

func (f *fakeWatcher) send(bucket string, ev store.Event) {
	f.mu.Lock()
	ch := f.chans[bucket]
	f.mu.Unlock()
	ch <- ev
}

func (f *fakeWatcher) put(tb testing.TB, bucket, key string, v any) {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	f.send(bucket, store.Event{Entry: store.Entry{Key: key, Value: b}})
}

func TestRunFollowsTheStore(t *testing.T) {
	leakCheck(t)
	e := newEnv(t, testTopology, nil)
	b := startBackend(t, "127.71.9.10", "stored")
	w := &fakeWatcher{chans: map[string]chan store.Event{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.m.Run(ctx, w) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	waitFor(t, "watches started", func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return len(w.chans) == len(watchedBuckets)
	})
	d := agentDocs(acct1, vpcA, "stlink", b.addr)
	tg, nlb, l, link := d.TargetGroups[0], d.LoadBalancers[0], d.Listeners[0], d.Links[0]
	w.put(t, apimodel.BucketELB, apimodel.TargetGroupKey(acct1, "tg1"), tg)
	w.put(t, apimodel.BucketELB, apimodel.LoadBalancerKey(acct1, "lb1"), nlb)
	w.put(t, apimodel.BucketELB, apimodel.ListenerKey(acct1, "l1"), l)
	w.send(apimodel.BucketELB, store.Event{Entry: store.Entry{Key: "111111111111.tg.bad", Value: []byte("{")}})
	w.put(t, apimodel.BucketVpcLinks, apimodel.VpcLinkKey(acct1, "stlink"), link)
	for _, bk := range watchedBuckets[:len(watchedBuckets)-1] {
		w.send(bk, store.Event{InitialDone: true})
	}
	// Nothing applies before every bucket is read.
	if _, err := e.m.Resolve(Request{Account: acct1, ConnectionID: "stlink"}); !errors.Is(err, ErrLinkNotFound) {
		t.Fatalf("before the last bucket: %v", err)
	}
	w.send(apimodel.BucketAgentTokens, store.Event{InitialDone: true})
	waitFor(t, "link applied", func() bool {
		_, err := e.m.Resolve(Request{Account: acct1, ConnectionID: "stlink"})
		return err == nil
	})
	if body, err := get(context.Background(), e.resolve(acct1, "stlink", "", ""), TLSOptions{}, "http://x/s"); err != nil || body[:6] != "stored" {
		t.Fatalf("got %q, %v", body, err)
	}
	w.put(t, apimodel.BucketAgentTokens, apimodel.AgentTokenHash("stored-token-0123456789"),
		apimodel.AgentToken{Account: acct1, VpcID: vpcA, TokenID: "t"})
	waitFor(t, "a VPC with an issued agent token is no longer routable by default", func() bool { return !e.m.Routable(vpcA) })
	w.send(apimodel.BucketVpcLinks, store.Event{Entry: store.Entry{Key: apimodel.VpcLinkKey(acct1, "stlink")}, Deleted: true})
	waitFor(t, "link deleted", func() bool {
		_, err := e.m.Resolve(Request{Account: acct1, ConnectionID: "stlink"})
		return errors.Is(err, ErrLinkNotFound)
	})
}
