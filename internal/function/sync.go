package function

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gatehouse/internal/config"
	"gatehouse/internal/store"
)

// Watcher is the part of the store Sync reads. *store.Store satisfies it.
type Watcher interface {
	Watch(ctx context.Context, bucket string) (<-chan store.Event, error)
}

var _ Watcher = (*store.Store)(nil)

// Sync keeps the host's functions equal to the store's Bucket until ctx
// ends: every function written there (by the Lambda control plane, on any
// node) becomes invocable, and deleted ones go away. It re-watches when the
// watch ends early. It returns ctx's error, or ErrClosed after Close.
func (h *Host) Sync(ctx context.Context, st Watcher) error {
	for {
		if err := h.syncOnce(ctx, st); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-h.done:
			return ErrClosed
		case <-time.After(time.Second):
		}
	}
}

// Synced is closed once Sync has applied the store's contents for the first
// time.
func (h *Host) Synced() <-chan struct{} { return h.synced }

// syncOnce runs one watch. It returns nil when the watch ended on its own.
func (h *Host) syncOnce(ctx context.Context, st Watcher) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-h.done:
			cancel()
		case <-wctx.Done():
		}
	}()
	ch, err := st.Watch(wctx, Bucket)
	if err != nil {
		h.log.Warn("watch functions", "err", err)
		return nil
	}
	seen := map[string]bool{}
	initial := true
	for ev := range ch {
		switch {
		case ev.InitialDone:
			initial = false
			h.dropUnseen(seen)
			h.syncedOnce.Do(func() { close(h.synced) })
		case ev.Deleted:
			account, name, ok := strings.Cut(ev.Key, "/")
			if ok {
				h.Remove(account, name, ev.Revision)
			}
		default:
			var fn Function
			if err := json.Unmarshal(ev.Value, &fn); err != nil {
				h.log.Error("bad stored function", "key", ev.Key, "err", err)
				continue
			}
			if initial {
				seen[StoreKey(fn.Account, fn.Name)] = true
			}
			if err := h.Put(fn, ev.Revision); err != nil {
				h.log.Error("stored function not loaded", "key", ev.Key, "err", err)
			}
		}
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-h.done:
		return ErrClosed
	default:
		return nil
	}
}

// dropUnseen removes stored functions that were not in a fresh watch's
// initial snapshot (deleted while no watch was running).
func (h *Host) dropUnseen(seen map[string]bool) {
	h.mu.Lock()
	var gone []*pool
	for key, p := range h.pools {
		if !p.static && p.rev > 0 && !seen[key] {
			gone = append(gone, p)
			delete(h.pools, key)
		}
	}
	h.mu.Unlock()
	for _, p := range gone {
		p.remove()
	}
}

// FromTopology returns the topology's functions as the Host runs them. A
// function attached to a VPC gets the VPC's CIDR and, as its resolver, the
// VPC's base address plus two (where AWS puts the Amazon-provided DNS).
func FromTopology(t *config.Topology) []Function {
	out := make([]Function, 0, len(t.Functions))
	for _, f := range t.Functions {
		fn := Function{
			Name:        f.Name,
			Account:     f.Account,
			Region:      t.Region,
			Runtime:     f.Runtime,
			Handler:     f.Handler,
			Timeout:     f.Timeout,
			MemorySize:  f.MemorySize,
			Environment: f.Environment,
			Concurrency: f.Concurrency,
			CodeDir:     f.Code,
		}
		if e := f.Endpoint; e != nil {
			fn.Endpoint = &Endpoint{URL: e.URL, FunctionName: e.FunctionName, Region: e.Region,
				AccessKeyID: e.AccessKeyID, SecretAccessKey: e.SecretAccessKey}
		}
		if c := f.Command; c != nil {
			fn.Command = &Command{Path: c.Path, Args: c.Args, Env: c.Env, Dir: c.Dir}
		}
		if f.VPC != "" {
			if tv, ok := t.VPC(f.VPC); ok {
				fn.VPC = vpcOf(tv)
			} else {
				fn.VPC = &VPC{ID: f.VPC}
			}
		}
		out = append(out, fn)
	}
	return out
}

// vpcOf describes a topology VPC: id, CIDR and resolver (its DNS address,
// by default the base address plus two).
func vpcOf(tv *config.VPC) *VPC {
	v := &VPC{ID: tv.ID}
	if tv.CIDR.IsValid() {
		v.CIDR = tv.CIDR.String()
	}
	switch {
	case tv.DNSAddress.IsValid():
		v.Resolver = tv.DNSAddress.String()
	case tv.CIDR.IsValid():
		v.Resolver = config.DefaultDNSAddress(tv.CIDR).String()
	}
	return v
}

// VPCResolver returns a lookup of the VPC that subnets of the topology
// belong to, for lambdaapi.Options.VPCOf: every subnet must exist, be in one
// VPC, and that VPC must belong to account.
func VPCResolver(t *config.Topology) func(account string, subnetIDs []string) (*VPC, error) {
	return func(account string, subnetIDs []string) (*VPC, error) {
		var found *config.VPC
		for _, id := range subnetIDs {
			var in *config.VPC
			for i := range t.VPCs {
				for _, s := range t.VPCs[i].Subnets {
					if s.ID == id {
						in = &t.VPCs[i]
					}
				}
			}
			if in == nil || in.Account != account {
				return nil, fmt.Errorf("Error occurred while DescribeSubnets. EC2 Error Code: InvalidSubnetID.NotFound. EC2 Error Message: The subnet ID '%s' does not exist", id)
			}
			if found != nil && found.ID != in.ID {
				return nil, fmt.Errorf("Subnets %s and %s are in different VPCs", subnetIDs[0], id)
			}
			found = in
		}
		if found == nil {
			return nil, nil
		}
		return vpcOf(found), nil
	}
}
