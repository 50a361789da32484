package vpclinkstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"gatehouse/internal/apimodel"
	"gatehouse/internal/store"
)

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestLifecycle(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	t0 := apimodel.Epoch(time.Unix(1_700_000_000, 0))
	v1 := &apimodel.VpcLinkRecord{Account: "111111111111", Version: apimodel.VpcLinkVersion1, StatusDate: t0,
		V1: &apimodel.VpcLink{Name: "a", Status: apimodel.VpcLinkPending}}
	v2 := &apimodel.VpcLinkRecord{Account: "111111111111", Version: apimodel.VpcLinkVersion2, StatusDate: t0,
		V2: &apimodel.VpcLinkV2{Name: "b", VpcLinkStatus: apimodel.VpcLinkPending}}
	if err := Create(ctx, st, v1, func(id string) { v1.V1.ID = id }); err != nil {
		t.Fatal(err)
	}
	if err := Create(ctx, st, v2, func(id string) { v2.V2.VpcLinkID = id }); err != nil {
		t.Fatal(err)
	}
	if len(v1.LinkID()) != IDLen || v1.LinkID() == v2.LinkID() {
		t.Fatalf("ids %q %q", v1.LinkID(), v2.LinkID())
	}
	if l, err := List(ctx, st, "111111111111"); err != nil || len(l) != 2 {
		t.Fatalf("List: %d, %v", len(l), err)
	}
	if l, err := List(ctx, st, "222222222222"); err != nil || len(l) != 0 {
		t.Fatalf("List of another account: %d, %v", len(l), err)
	}

	t1 := apimodel.Epoch(time.Time(t0).Add(time.Second))
	verdict := func(status, msg string) func() (string, string, error) {
		return func() (string, string, error) { return status, msg, nil }
	}
	tests := []struct {
		name       string
		rec        *apimodel.VpcLinkRecord
		now        apimodel.Epoch
		verdict    func() (string, string, error)
		wantStatus string // "" = gone
		wantErr    bool
	}{
		{"no verdict yet stays pending", v1, t1, verdict("", ""), apimodel.VpcLinkPending, false},
		{"a failed verdict is stored with its message", v1, t1, verdict(apimodel.VpcLinkFailed, "no NLB"), apimodel.VpcLinkFailed, false},
		{"an available verdict", v2, t1, verdict(apimodel.VpcLinkAvailable, ""), apimodel.VpcLinkAvailable, false},
		{"a verdict error is returned", &apimodel.VpcLinkRecord{Account: "111111111111", V1: &apimodel.VpcLink{ID: "x", Status: apimodel.VpcLinkPending}},
			t1, func() (string, string, error) { return "", "", errors.New("boom") }, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Settle(ctx, st, tt.rec, tt.now, time.Minute, tt.verdict)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err %v", err)
			}
			if tt.wantErr {
				return
			}
			if got == nil || got.Status() != tt.wantStatus {
				t.Fatalf("got %+v, want %s", got, tt.wantStatus)
			}
			stored, err := Load(ctx, st, tt.rec.Account, tt.rec.LinkID())
			if err != nil || stored.Status() != tt.wantStatus {
				t.Fatalf("stored %+v, %v", stored, err)
			}
		})
	}
	if v1s, _ := Load(ctx, st, "111111111111", v1.LinkID()); v1s.V1.StatusMessage != "no NLB" || !v1s.StatusDate.Time().Equal(t1.Time()) {
		t.Fatalf("failed link %+v", v1s.V1)
	}

	t.Run("deleting links go after the delay", func(t *testing.T) {
		if err := MarkDeleting(ctx, st, "111111111111", v2.LinkID(), t1); err != nil {
			t.Fatal(err)
		}
		rec, _ := Load(ctx, st, "111111111111", v2.LinkID())
		if rec.Status() != apimodel.VpcLinkDeleting {
			t.Fatalf("status %s", rec.Status())
		}
		never := func() (string, string, error) { t.Fatal("verdict asked for a deleting link"); return "", "", nil }
		if got, err := Settle(ctx, st, rec, apimodel.Epoch(time.Time(t1).Add(time.Second)), time.Minute, never); err != nil || got == nil {
			t.Fatalf("before the delay: %v, %v", got, err)
		}
		if got, err := Settle(ctx, st, rec, apimodel.Epoch(time.Time(t1).Add(time.Minute)), time.Minute, never); err != nil || got != nil {
			t.Fatalf("after the delay: %v, %v", got, err)
		}
		if rec, err := Load(ctx, st, "111111111111", v2.LinkID()); err != nil || rec != nil {
			t.Fatalf("still stored: %v, %v", rec, err)
		}
		if err := MarkDeleting(ctx, st, "111111111111", v2.LinkID(), t1); !errors.Is(err, ErrNotFound) {
			t.Fatalf("MarkDeleting a gone link: %v", err)
		}
	})
}
